//! What a feed route asks the pipeline for: papers or a digest (or an RSSHub path), in which
//! format, for which topic.

use crate::common::format::Format;
use crate::query::params::QueryKind;
use crate::query::topics::Topic;

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
