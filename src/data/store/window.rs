//! A window of lists, newest first, with the dates that could not be had and why, and the
//! version of the data it holds.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::data::daily_list::DailyList;
use crate::data::upstream::client::UpstreamError;

/// Why a date has no list to serve.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("the last fetch failed; not asking upstream again before {until}")]
    CoolingDown { until: DateTime<Utc> },
    #[error("loading the list stopped unexpectedly")]
    Interrupted,
}

impl StoreError {
    /// When asking again may help.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            StoreError::Upstream(e) => e.retry_at(),
            StoreError::CoolingDown { until } => Some(*until),
            StoreError::Interrupted => None,
        }
    }
}

/// The lists of a window of dates, newest first, and what could not be had.
#[derive(Debug, Default)]
pub struct Window {
    pub lists: Vec<Arc<DailyList>>,
    pub missing: Vec<(NaiveDate, StoreError)>,
}

impl Window {
    /// The latest moment any included list changed.
    pub fn last_changed(&self) -> Option<DateTime<Utc>> {
        self.lists.iter().map(|l| l.changed_at).max()
    }

    /// Whether the window asked for no date at all: it lies wholly before the first Daily
    /// Papers (a digest's periods may), and is an empty feed, not an outage.
    pub fn is_before_the_first_list(&self) -> bool {
        self.lists.is_empty() && self.missing.is_empty()
    }

    /// A version of the data this window holds: it changes whenever a list of the window
    /// changes content, or a date goes missing or comes back.
    pub fn data_version(&self) -> u64 {
        data_version(
            self.lists
                .iter()
                .map(|l| (l.date, l.content_hash, l.changed_at)),
        )
    }

    /// The earliest moment a missing date may be worth asking for again.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        self.missing.iter().filter_map(|(_, e)| e.retry_at()).min()
    }
}

/// The version of the data of lists given newest first as (date, content hash, changed at).
pub(super) fn data_version(lists: impl Iterator<Item = (NaiveDate, u64, DateTime<Utc>)>) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for (date, content_hash, changed_at) in lists {
        hasher.update(&date.to_string().into_bytes());
        hasher.update(&content_hash.to_le_bytes());
        hasher.update(&changed_at.timestamp().to_le_bytes());
    }
    hasher.digest()
}
