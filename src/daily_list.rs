//! One date's list of papers as the store keeps it: the normalized papers, when the copy was
//! fetched, and when its content last changed. The store caches these and storage writes them;
//! neither depends on the other for it.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::paper::Paper;
use crate::upstream::client::FetchedDay;

/// One date's list of papers, as last fetched.
#[derive(Debug, Clone)]
pub struct DailyList {
    pub date: NaiveDate,
    /// In upstream order (most upvoted first).
    pub papers: Vec<Paper>,
    /// When this copy was fetched.
    pub fetched_at: DateTime<Utc>,
    /// When the content last changed, as far as paperboy can tell (see [`initial_changed_at`]).
    pub changed_at: DateTime<Utc>,
    /// A hash of the normalized papers: equal hashes, equal feeds.
    pub content_hash: u64,
}

impl DailyList {
    /// Builds a list from a fetch; `previous` is the copy it replaces, if any.
    pub fn from_fetch(
        fetched: &FetchedDay,
        fetched_at: DateTime<Utc>,
        previous: Option<&DailyList>,
    ) -> DailyList {
        let papers: Vec<Paper> = fetched
            .items
            .iter()
            .filter_map(|item| match Paper::from_raw(item, fetched.date) {
                Ok(paper) => Some(paper),
                Err(e) => {
                    tracing::warn!(date = %fetched.date, error = %e, "skipped an unusable paper");
                    None
                }
            })
            .collect();
        let content_hash = content_hash(&papers);
        let changed_at = match previous {
            Some(prev) if prev.content_hash == content_hash => prev.changed_at,
            Some(_) => fetched_at,
            None => initial_changed_at(fetched.date, &papers, fetched_at),
        };
        DailyList {
            date: fetched.date,
            papers,
            fetched_at,
            changed_at,
            content_hash,
        }
    }
}

/// The "changed" time of a list seen for the first time: the latest moment a paper entered it
/// that is not after the fetch (or the list's day at 00:00 UTC). Instances that fetch the same
/// list agree on it, it is never simply "now", and it moves later only when a refresh brings
/// different content.
pub fn initial_changed_at(
    date: NaiveDate,
    papers: &[Paper],
    fetched_at: DateTime<Utc>,
) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN).and_utc();
    papers
        .iter()
        .map(|p| p.date)
        .filter(|d| *d <= fetched_at)
        .fold(midnight, DateTime::max)
        .min(fetched_at)
}

fn content_hash(papers: &[Paper]) -> u64 {
    match serde_json::to_vec(papers) {
        Ok(bytes) => xxhash_rust::xxh3::xxh3_64(&bytes),
        // Not expected for plain data; a fresh hash then just counts as "changed".
        Err(_) => rand::random(),
    }
}
