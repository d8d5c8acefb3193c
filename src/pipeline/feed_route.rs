//! What a feed route asks the pipeline for: papers or a digest (or an RSSHub path), in which
//! format, for which topic.

use crate::common::format::Format;
use crate::common::text::clean_inline;
use crate::http::problem::Problem;
use crate::query::params::QueryKind;
use crate::query::topics::{Topic, Topics};

use super::cycle::Cycle;

/// What a feed route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One item per paper: `/feed*`, `/topics/{name}.*`.
    Papers,
    /// One item per period: `/digest.*`, `/topics/{name}/digest.*`.
    Digest,
    /// `/huggingface/daily-papers[/{cycle}[/{votes}]]`: the path's days and minimum upvotes.
    RssHub { cycle: Cycle, votes: Option<u64> },
}

/// A feed route: what it serves, in which format, for which topic.
#[derive(Debug, Clone, Copy)]
pub struct FeedRoute<'a> {
    pub scope: Scope,
    /// The format the path names; `None` where `format=` says it (default RSS).
    pub format: Option<Format>,
    pub topic: Option<&'a Topic>,
}

impl<'a> FeedRoute<'a> {
    pub fn papers(format: Option<Format>, topic: Option<&'a Topic>) -> Self {
        Self {
            scope: Scope::Papers,
            format,
            topic,
        }
    }

    pub fn digest(format: Format, topic: Option<&'a Topic>) -> Self {
        Self {
            scope: Scope::Digest,
            format: Some(format),
            topic,
        }
    }

    /// The RSSHub path `/huggingface/daily-papers[/{cycle}[/{votes}]]` with these segments.
    pub fn rsshub(cycle: Option<&str>, votes: Option<&str>) -> Result<Self, Problem> {
        let cycle = match cycle {
            None => Cycle::Date,
            Some(name) => Cycle::from_name(name).ok_or_else(|| {
                let shown: String = clean_inline(name).chars().take(40).collect();
                Problem::bad_parameter(
                    "cycle",
                    format!(
                        "The cycle {shown:?} is not known; use /huggingface/daily-papers/date, /week or /month."
                    ),
                )
            })?,
        };
        let votes = votes.map(parse_votes).transpose()?;
        Ok(Self {
            scope: Scope::RssHub { cycle, votes },
            format: None,
            topic: None,
        })
    }

    /// The feed route at `path` (a path of this instance, without its query), for the hub,
    /// which is given feeds as URLs: `None` when no feed is there. The routes' own table is
    /// `crate::routes`; a test holds the two together.
    pub fn of_path(path: &str, topics: &'a Topics) -> Option<Result<Self, Problem>> {
        let format = |name: &str| Format::from_name(name);
        if path == "/feed" {
            return Some(Ok(Self::papers(None, None)));
        }
        if let Some(name) = path.strip_prefix("/feed.") {
            return format(name).map(|f| Ok(Self::papers(Some(f), None)));
        }
        if let Some(name) = path.strip_prefix("/digest.") {
            return format(name).map(|f| Ok(Self::digest(f, None)));
        }
        if let Some(rest) = path.strip_prefix("/huggingface/daily-papers") {
            let mut segments = rest.split('/').skip(1);
            let (cycle, votes) = (segments.next(), segments.next());
            if !(rest.is_empty() || rest.starts_with('/')) || segments.next().is_some() {
                return None;
            }
            return Some(Self::rsshub(cycle, votes));
        }
        let rest = path.strip_prefix("/topics/")?;
        let (stem, ext) = rest.rsplit_once('.')?;
        let (name, digest) = match stem.strip_suffix("/digest") {
            Some(name) => (name, true),
            None => (stem, false),
        };
        let format = format(ext)?;
        let topic = topics.get(name)?;
        Some(Ok(if digest {
            Self::digest(format, Some(topic))
        } else {
            Self::papers(Some(format), Some(topic))
        }))
    }

    pub(crate) fn kind(&self) -> QueryKind {
        match self.scope {
            Scope::Papers => QueryKind::Feed,
            Scope::Digest => QueryKind::Digest,
            Scope::RssHub { .. } => QueryKind::RssHub,
        }
    }

    /// The render key's route: the path without its format.
    pub(crate) fn name(&self) -> String {
        let topic = self.topic.map(|t| format!("/topics/{}", t.name));
        match (self.scope, topic) {
            (Scope::Papers, Some(topic)) => topic,
            (Scope::Papers, None) => "/feed".to_owned(),
            (Scope::Digest, Some(topic)) => format!("{topic}/digest"),
            (Scope::Digest, None) => "/digest".to_owned(),
            (Scope::RssHub { .. }, _) => "/huggingface/daily-papers".to_owned(),
        }
    }
}

/// The minimum of upvotes an RSSHub path names: a whole number of at most 12 digits.
fn parse_votes(votes: &str) -> Result<u64, Problem> {
    let parsed = (votes.len() <= 12 && votes.bytes().all(|b| b.is_ascii_digit()))
        .then(|| votes.parse::<u64>().ok())
        .flatten();
    parsed.ok_or_else(|| {
        let shown: String = clean_inline(votes).chars().take(40).collect();
        Problem::bad_parameter(
            "votes",
            format!(
                "The minimum of upvotes in the path must be a whole number of 0 or more, not {shown:?}."
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_are_whole_numbers() {
        assert_eq!(parse_votes("0").unwrap(), 0);
        assert_eq!(parse_votes("25").unwrap(), 25);
        for bad in ["-1", "1.5", "ten", "", "9999999999999"] {
            let problem = parse_votes(bad).unwrap_err();
            assert_eq!(problem.parameter.as_deref(), Some("votes"), "{bad}");
        }
    }

    #[test]
    fn feed_paths_are_routes() {
        let settings = crate::app::settings::Settings::default();
        let topics = settings.parsed_topics().unwrap();
        let name = topics.iter().next().unwrap().name.clone();
        let route = |path: &str| FeedRoute::of_path(path, &topics).map(|r| r.map(|r| r.name()));
        assert_eq!(route("/feed").unwrap().unwrap(), "/feed");
        assert_eq!(route("/feed.atom").unwrap().unwrap(), "/feed");
        assert_eq!(route("/digest.json").unwrap().unwrap(), "/digest");
        let topic = format!("/topics/{name}");
        assert_eq!(route(&format!("{topic}.rss")).unwrap().unwrap(), topic);
        assert_eq!(
            route(&format!("{topic}/digest.atom")).unwrap().unwrap(),
            format!("{topic}/digest")
        );
        for rsshub in [
            "/huggingface/daily-papers",
            "/huggingface/daily-papers/week",
            "/huggingface/daily-papers/month/10",
        ] {
            assert_eq!(route(rsshub).unwrap().unwrap(), "/huggingface/daily-papers");
        }
        assert!(route("/huggingface/daily-papers/year").unwrap().is_err());
        assert!(route("/huggingface/daily-papers/week/x").unwrap().is_err());
        for not_a_feed in [
            "/",
            "/feed.xml",
            "/feeds.rss",
            "/topics/nope.rss",
            "/topics/x/y.rss",
            "/topics.opml",
            "/huggingface/daily-papersx",
            "/huggingface/daily-papers/week/1/2",
            "/websub",
            "/preview",
        ] {
            assert!(route(not_a_feed).is_none(), "{not_a_feed}");
        }
    }
}
