//! Feed rendering: a list of papers and the feed's metadata in, the bytes of an RSS 2.0,
//! Atom 1.0 or JSON Feed 1.1 document out.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::paper::Paper;
use crate::query::params::FeedQuery;
use crate::text::{clean_inline, is_xml_char};
use crate::topics::Topic;

mod atom;
mod content;
pub mod digest;
mod json;
pub mod parts;
mod rss;

pub use content::item_html;
pub use digest::DigestItem;

pub use crate::format::Format;

/// The link of every feed: the Daily Papers page.
pub const HOME_PAGE: &str = "https://huggingface.co/papers";
/// The base feed title; topics and filters append ` — ...`.
pub const BASE_TITLE: &str = "Hugging Face Daily Papers";
/// The feed-level description.
pub const DESCRIPTION: &str =
    "New AI papers from Hugging Face Daily Papers, as upvoted by the research community.";

/// How feeds of papers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Writing {
    /// Assembled from the items kept with the papers, and gzipped by stitching their
    /// compressed copies ([`parts`]): what paperboy serves.
    #[default]
    Assembled,
    /// Written whole by the feed writers and compressed whole, as before items were kept with
    /// the papers: the reference the tests check assembled and stitched feeds against, byte
    /// for byte ([`crate::startup::Application::build_writing`]).
    Whole,
}

/// What a feed says about itself.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    /// The whole feed title, e.g. `Hugging Face Daily Papers — q: diffusion`.
    pub title: String,
    /// `<public_url><path>?<query as received>`: the self link, and the Atom feed id.
    pub self_url: String,
    /// The feed's `Last-Modified`: RSS `lastBuildDate`, Atom `updated`.
    pub updated: DateTime<Utc>,
    /// `server.max_age`: RSS `ttl` in minutes.
    pub max_age: Duration,
    /// `server.public_url`: the icons are `<public_url>/icon.png` and `/favicon.ico`.
    pub public_url: String,
}

impl FeedMeta {
    /// The title, cleaned like upstream text: callers build it from query values, which may
    /// hold characters XML 1.0 forbids.
    fn clean_title(&self) -> String {
        clean_inline(&self.title)
    }

    /// The 512 px PNG icon.
    fn icon_url(&self) -> String {
        format!("{}/icon.png", self.public_url)
    }

    /// The 32 px ICO icon.
    fn favicon_url(&self) -> String {
        format!("{}/favicon.ico", self.public_url)
    }

    /// The self URL without characters XML 1.0 forbids.
    fn clean_self_url(&self) -> String {
        self.self_url.chars().filter(|&c| is_xml_char(c)).collect()
    }
}

/// The feed title: the base title (`— daily digest` after it for a digest), then the topic's
/// title with the request's own filters in parentheses (so two narrowed copies of a topic are
/// told apart in a reader), or else the request's filters: `Hugging Face Daily Papers — q:
/// diffusion, min_upvotes: 10`. `request` is the query as the request gave it.
pub fn title(request: &FeedQuery, topic: Option<&Topic>) -> String {
    let mut title = BASE_TITLE.to_owned();
    if let Some(digest) = request.digest {
        title.push_str(&format!(" — {} digest", digest.unit.adjective()));
    }
    match (topic, request.filter_summary()) {
        (Some(topic), Some(summary)) => format!("{title} — {} ({summary})", topic.title),
        (Some(topic), None) => format!("{title} — {}", topic.title),
        (None, Some(summary)) => format!("{title} — {summary}"),
        (None, None) => title,
    }
}

/// Why a feed could not be written. Not expected with cleaned input; reported as a 500.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("failed to write the XML feed: {0}")]
    Xml(String),
    #[error("failed to write the JSON feed: {0}")]
    Json(#[from] serde_json::Error),
}

/// The generator string: `paperboy <version>`.
pub fn generator() -> String {
    format!("paperboy {}", env!("CARGO_PKG_VERSION"))
}

/// Renders `papers`, in the given order, as a feed in `format`.
pub fn render(format: Format, meta: &FeedMeta, papers: &[&Paper]) -> Result<Vec<u8>, RenderError> {
    match format {
        Format::Rss => rss::render(meta, papers),
        Format::Atom => atom::render(meta, papers),
        Format::Json => json::render(meta, papers),
    }
}

/// Renders digest `items`, in the given order, as a feed in `format`.
pub fn render_digest(
    format: Format,
    meta: &FeedMeta,
    items: &[DigestItem],
) -> Result<Vec<u8>, RenderError> {
    match format {
        Format::Rss => rss::render_digest(meta, items),
        Format::Atom => atom::render_digest(meta, items),
        Format::Json => json::render_digest(meta, items),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::feed::content::tests::{bare, markup, unicode};

    fn meta(title: &str) -> FeedMeta {
        FeedMeta {
            title: title.to_owned(),
            self_url: "https://feeds.example/feed?q=a%20b&sort=date".to_owned(),
            updated: Utc.with_ymd_and_hms(2026, 8, 3, 9, 30, 0).unwrap(),
            max_age: Duration::from_secs(300),
            public_url: "https://feeds.example".to_owned(),
        }
    }

    fn parse_all(meta: &FeedMeta, papers: &[&Paper]) -> Vec<feed_rs::model::Feed> {
        Format::ALL
            .into_iter()
            .map(|format| {
                let bytes = render(format, meta, papers).unwrap();
                feed_rs::parser::parse(bytes.as_slice()).unwrap()
            })
            .collect()
    }

    #[test]
    fn the_three_formats_agree_on_ids_links_dates_and_order() {
        let papers = [unicode(), bare(), markup()];
        let refs: Vec<&Paper> = papers.iter().collect();
        let feeds = parse_all(&meta(BASE_TITLE), &refs);
        for feed in &feeds {
            assert_eq!(feed.title.as_ref().unwrap().content, BASE_TITLE);
            assert_eq!(feed.entries.len(), papers.len());
            for (entry, paper) in feed.entries.iter().zip(&papers) {
                assert_eq!(entry.id, paper.hf_url());
                assert_eq!(entry.links[0].href, paper.hf_url());
                assert_eq!(entry.title.as_ref().unwrap().content, paper.title);
                // RSS dates have whole seconds.
                assert_eq!(entry.published.unwrap().timestamp(), paper.date.timestamp());
                let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
                assert_eq!(terms, paper.keywords);
            }
        }
    }

    #[test]
    fn forbidden_characters_in_meta_never_reach_the_document() {
        let meta = FeedMeta {
            self_url: "https://feeds.example/feed?q=\u{1}x".to_owned(),
            ..meta("Hugging Face Daily Papers — q: a\u{0}b\u{FFFE}")
        };
        for feed in parse_all(&meta, &[&markup()]) {
            assert_eq!(
                feed.title.unwrap().content,
                "Hugging Face Daily Papers — q: ab"
            );
        }
        let rss = render(Format::Rss, &meta, &[]).unwrap();
        let channel = ::rss::Channel::read_from(rss.as_slice()).unwrap();
        let self_link = &channel.atom_ext().unwrap().links()[0];
        assert_eq!(self_link.href(), "https://feeds.example/feed?q=x");
    }

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::from_name(format.name()), Some(format));
        }
        assert_eq!(Format::from_name("xml"), None);
        assert!(generator().starts_with("paperboy "));
    }
}
