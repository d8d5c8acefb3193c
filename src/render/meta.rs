//! What a feed says about itself (title, self link, dates, icons), the constants every format
//! writes, and the error of a writer.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::common::text::{clean_inline, is_xml_char};
use crate::query::params::FeedQuery;
use crate::query::topics::Topic;

/// The link of every feed: the Daily Papers page.
/// The Media RSS namespace: `media:thumbnail` in RSS and Atom items (contract section 6).
pub const MEDIA_NAMESPACE: &str = "http://search.yahoo.com/mrss/";

pub const HOME_PAGE: &str = "https://huggingface.co/papers";
/// The base feed title; topics and filters append ` — ...`.
pub const BASE_TITLE: &str = "Hugging Face Daily Papers";
/// The feed-level description.
pub const DESCRIPTION: &str =
    "New AI papers from Hugging Face Daily Papers, as upvoted by the research community.";

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
    /// The WebSub hub the feed names (`<public_url>/websub`), when `websub.enabled`.
    pub hub: Option<String>,
}

impl FeedMeta {
    /// The title, cleaned like upstream text: callers build it from query values, which may
    /// hold characters XML 1.0 forbids.
    pub(super) fn clean_title(&self) -> String {
        clean_inline(&self.title)
    }

    /// The 512 px PNG icon.
    pub(super) fn icon_url(&self) -> String {
        format!("{}/icon.png", self.public_url)
    }

    /// The 32 px ICO icon.
    pub(super) fn favicon_url(&self) -> String {
        format!("{}/favicon.ico", self.public_url)
    }

    /// The hub's URL, without characters XML 1.0 forbids.
    pub(super) fn clean_hub(&self) -> Option<String> {
        self.hub.as_deref().map(clean_inline)
    }

    /// The self URL without characters XML 1.0 forbids.
    pub(super) fn clean_self_url(&self) -> String {
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
