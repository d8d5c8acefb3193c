//! Topics: named, saved queries (`[[topics]]` in the settings) served at
//! `/topics/<name>.rss|.atom|.json`, listed on the home page and in `/topics.opml`.
//!
//! A topic's query is a query string of the feeds, parsed by [`FeedQuery::parse`], so a topic
//! can say exactly what a URL can, and a broken one stops start-up instead of answering 400s.

use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::common::format::Format;
use crate::common::text::clean_inline;
use crate::query::limits::FeedSettings;
use crate::query::params::{FeedQuery, ParseContext};

/// The longest topic name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// The longest title, in characters.
const MAX_TITLE_CHARS: usize = 120;
/// The longest description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 500;

/// The settings file shipped with paperboy. Its `[[topics]]` are the starter set, and the
/// built-in default when no file is read, so that the binary alone (a container without the
/// `config/` folder) still offers them and the two never drift apart.
const DEFAULT_SETTINGS_FILE: &str = include_str!("../../config/default.toml");

/// One `[[topics]]` table as written in the settings.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TopicSettings {
    /// The URL name: `[a-z0-9-]{1,64}`, unique.
    pub name: String,
    /// Shown on the home page, in OPML, and in the feed title.
    pub title: String,
    /// One or two sentences for the home page and OPML.
    #[serde(default)]
    pub description: String,
    /// A query string of the feeds, e.g. `q=diffusion OR "flow matching"&min_upvotes=5`.
    #[serde(default)]
    pub query: String,
}

/// The starter topics: the `[[topics]]` of the shipped `config/default.toml`.
///
/// Empty only if that file stops parsing, which a unit test rules out.
pub fn starter_topics() -> Vec<TopicSettings> {
    config::Config::builder()
        .add_source(config::File::from_str(
            DEFAULT_SETTINGS_FILE,
            config::FileFormat::Toml,
        ))
        .build()
        .and_then(|c| c.get::<Vec<TopicSettings>>("topics"))
        .unwrap_or_default()
}

/// A validated topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    pub title: String,
    pub description: String,
    /// The query, parsed.
    pub query: FeedQuery,
    /// The query as written in the settings (cleaned), for people to read.
    pub query_text: String,
    /// The query as a canonical, percent-encoded query string (empty values dropped), for
    /// links to `/preview`.
    pub query_string: String,
}

impl Topic {
    /// `/topics/<name>.<rss|atom|json>`.
    pub fn feed_path(&self, format: Format) -> String {
        format!("/topics/{}.{}", self.name, format.name())
    }
}

/// Why a topic cannot be used: `topics[<index>] (<name>): <problem>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TopicError {
    /// The topic's position in the settings, from 0.
    pub index: usize,
    pub name: String,
    pub problem: String,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "topics[{}] ({}): {}",
            self.index, self.name, self.problem
        )
    }
}

/// Every topic of an instance, in settings order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topics(Vec<Topic>);

impl Topics {
    /// Validates the settings' topics: names, titles, and queries parsed as feed queries
    /// (`format` and `date` refused: the path names the format, and a topic follows today).
    pub fn parse(topics: &[TopicSettings], feeds: &FeedSettings) -> Result<Topics, TopicError> {
        let ctx = ParseContext {
            // No date reaches the future check: `date` is refused below.
            today: NaiveDate::MAX,
            feeds,
            allow_format: false,
            kind: crate::query::params::QueryKind::Feed,
        };
        let mut parsed: Vec<Topic> = Vec::with_capacity(topics.len());
        for (index, raw) in topics.iter().enumerate() {
            let name = raw.name.trim();
            let error = |problem: String| TopicError {
                index,
                name: clean_inline(name)
                    .chars()
                    .take(MAX_NAME_CHARS + 8)
                    .collect(),
                problem,
            };
            check_name(name).map_err(&error)?;
            if parsed.iter().any(|t| t.name == name) {
                return Err(error(format!(
                    "the name {name} is used by an earlier topic; names must be unique"
                )));
            }
            let title = clean_inline(&raw.title);
            if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
                return Err(error(format!(
                    "title must be 1 to {MAX_TITLE_CHARS} characters"
                )));
            }
            let description = clean_inline(&raw.description);
            if description.chars().count() > MAX_DESCRIPTION_CHARS {
                return Err(error(format!(
                    "description must be at most {MAX_DESCRIPTION_CHARS} characters"
                )));
            }
            let query = FeedQuery::parse(raw.query.trim(), &ctx)
                .map_err(|e| error(format!("query: {}", e.detail)))?;
            if query.date.is_some() {
                return Err(error(
                    "query: date cannot be saved in a topic; a topic feed ends today unless \
                     its request gives date"
                        .to_owned(),
                ));
            }
            if let Some(span) = query.span {
                let name = span.unit().name();
                return Err(error(format!(
                    "query: {name} cannot be saved in a topic; a topic feed ends today unless \
                     its request gives {name}"
                )));
            }
            parsed.push(Topic {
                name: name.to_owned(),
                title,
                description,
                query_string: query.to_query_string(),
                query,
                query_text: clean_inline(raw.query.trim()),
            });
        }
        Ok(Topics(parsed))
    }

    /// The topic named `name`.
    pub fn get(&self, name: &str) -> Option<&Topic> {
        self.0.iter().find(|t| t.name == name)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Topic> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters of a-z, 0-9 and -"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str, query: &str) -> TopicSettings {
        TopicSettings {
            name: name.into(),
            title: format!("Title of {name}"),
            description: String::new(),
            query: query.into(),
        }
    }

    fn parse(topics: &[TopicSettings]) -> Result<Topics, TopicError> {
        Topics::parse(topics, &FeedSettings::default())
    }

    #[test]
    fn the_starter_set_parses() {
        let starter = starter_topics();
        assert!(starter.len() >= 10, "{starter:?}");
        let topics = parse(&starter).unwrap();
        assert!(topics.get("agents").is_some());
        assert!(topics.iter().all(|t| !t.description.is_empty()));
    }

    #[test]
    fn the_readme_table_shows_the_starter_set_as_shipped() {
        let readme = include_str!("../../README.md");
        for t in starter_topics() {
            let row = format!("| `{}` | {} | `{}` |", t.name, t.title, t.query);
            assert!(readme.contains(&row), "README lacks {row}");
        }
    }

    #[test]
    fn a_topic_query_is_a_feed_query() {
        let topics = parse(&[topic(
            "diffusion",
            "q=diffusion OR \"flow matching\"&min_upvotes=5",
        )])
        .unwrap();
        let t = topics.get("diffusion").unwrap();
        assert_eq!(t.query.q[0].0, "diffusion OR \"flow matching\"");
        assert_eq!(t.query.min_upvotes, Some(5));
        assert_eq!(
            t.query_string,
            "q=diffusion+OR+%22flow+matching%22&min_upvotes=5"
        );
        assert_eq!(t.feed_path(Format::Atom), "/topics/diffusion.atom");
        assert_eq!(
            crate::render::title(&FeedQuery::default(), Some(t)),
            "Hugging Face Daily Papers — Title of diffusion"
        );
    }

    #[test]
    fn invalid_topics_are_named_with_their_problem() {
        for (topics, expected) in [
            (
                vec![topic("Bad Name", "")],
                "topics[0] (Bad Name): name must be",
            ),
            (vec![topic("", "")], "topics[0] (): name must be"),
            (
                vec![topic("a", ""), topic("a", "")],
                "topics[1] (a): the name a is used",
            ),
            (
                vec![topic("a", "q=\"open")],
                "topics[0] (a): query: The search expression q is invalid",
            ),
            (
                vec![topic("a", "days=99")],
                "topics[0] (a): query: days must",
            ),
            (
                vec![topic("a", "format=rss")],
                "topics[0] (a): query: The parameter format",
            ),
            (
                vec![topic("a", "date=2026-08-01")],
                "topics[0] (a): query: date cannot",
            ),
            (
                vec![topic("a", "week=2024-W10")],
                "topics[0] (a): query: week cannot",
            ),
            (
                vec![topic("a", "month=2024-03")],
                "topics[0] (a): query: month cannot",
            ),
            (
                vec![topic("a", "color=red")],
                "topics[0] (a): query: Unknown",
            ),
            (
                vec![TopicSettings {
                    title: " ".into(),
                    ..topic("a", "")
                }],
                "topics[0] (a): title must",
            ),
        ] {
            let err = parse(&topics).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
        }
    }

    /// Loads settings from a TOML text written to a file of its own.
    fn load_file(name: &str, toml: &str) -> Result<crate::app::settings::Settings, String> {
        let dir = std::env::temp_dir().join(format!("paperboy-topics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, toml).unwrap();
        let overrides = crate::app::settings::Overrides {
            config_file: Some(path.clone()),
            ..Default::default()
        };
        let result = crate::app::settings::Settings::load(&overrides, Vec::new());
        std::fs::remove_file(&path).unwrap();
        result.map_err(|e| e.to_string())
    }

    #[test]
    fn the_shipped_file_and_the_built_in_default_have_the_same_topics() {
        let overrides = crate::app::settings::Overrides {
            config_file: Some("config/default.toml".into()),
            ..Default::default()
        };
        let from_file = crate::app::settings::Settings::load(&overrides, Vec::new()).unwrap();
        assert_eq!(
            from_file.topics,
            crate::app::settings::Settings::default().topics
        );
        assert_eq!(from_file.topics, starter_topics());
    }

    #[test]
    fn a_file_with_topics_replaces_the_starter_set_and_one_without_keeps_it() {
        let own = load_file(
            "own.toml",
            "[[topics]]\nname = \"mine\"\ntitle = \"Mine\"\nquery = 'q=\"world model\"'\n",
        )
        .unwrap();
        assert_eq!(own.topics.len(), 1);
        assert_eq!(own.topics[0].query, "q=\"world model\"");
        assert_eq!(own.parsed_topics().unwrap().iter().count(), 1);

        let none = load_file("none.toml", "topics = []\n").unwrap();
        assert!(none.topics.is_empty());

        let other = load_file("other.toml", "[server]\nport = 9000\n").unwrap();
        assert_eq!(other.topics, starter_topics());
    }

    #[test]
    fn an_invalid_topic_in_a_file_is_a_settings_error_naming_it() {
        let err = load_file(
            "bad.toml",
            "[[topics]]\nname = \"ok\"\ntitle = \"Ok\"\n\n\
             [[topics]]\nname = \"broken\"\ntitle = \"Broken\"\nquery = \"top=0\"\n",
        )
        .unwrap_err();
        assert!(
            err.starts_with("invalid setting topics[1] (broken): query: top must be"),
            "{err}"
        );
        let unknown_key = load_file(
            "typo.toml",
            "[[topics]]\nname = \"a\"\ntitle = \"A\"\nquerry = \"q=x\"\n",
        )
        .unwrap_err();
        assert!(unknown_key.contains("querry"), "{unknown_key}");
    }
}
