//! One date's list of papers as the store keeps it: the normalized papers, when the copy was
//! fetched, and when its content last changed. The store caches these and storage writes them;
//! neither depends on the other for it.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use std::sync::OnceLock;
use std::sync::atomic::AtomicUsize;

use crate::data::paper::Paper;
use crate::data::upstream::client::FetchedDay;
use crate::data::word_index::WordIndex;

/// One date's list of papers, as last fetched.
#[derive(Debug)]
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
    /// Which papers a query can match, built the first time a feed selects from this list.
    pub index: OnceLock<WordIndex>,
    /// Heap bytes of the papers themselves (text, folded words), counted once when the list
    /// is made; what is rendered or indexed later is counted by [`DailyList::weight`].
    papers_bytes: usize,
    /// The weight the memory budget last gave it ([`DailyList::weight`] then).
    pub weighed: AtomicUsize,
}

impl DailyList {
    /// A list of `papers` with the times and hash given.
    pub fn new(
        date: NaiveDate,
        mut papers: Vec<Paper>,
        fetched_at: DateTime<Utc>,
        changed_at: DateTime<Utc>,
        content_hash: u64,
    ) -> DailyList {
        papers.shrink_to_fit();
        crate::data::paper::pack(&mut papers);
        let papers_bytes = papers.capacity() * std::mem::size_of::<Paper>()
            // The one block their text is packed in, and the one pool of their lists.
            + 2 * crate::telemetry::memory::ARC_OVERHEAD
            + papers.iter().map(Paper::heap_bytes).sum::<usize>();
        DailyList {
            date,
            papers,
            fetched_at,
            changed_at,
            content_hash,
            index: OnceLock::new(),
            papers_bytes,
            weighed: AtomicUsize::new(0),
        }
    }

    /// The list's word index ([`WordIndex`]), built on first use.
    pub fn word_index(&self) -> &WordIndex {
        self.index.get_or_init(|| WordIndex::build(&self.papers))
    }

    /// Bytes this list holds now: its papers, their rendered items and its word index, as
    /// far as they are made. Grows as feeds render items of its papers; the memory budget
    /// weighs a list again when it has grown ([`crate::data::store::Store::reweigh`]).
    pub fn weight(&self) -> usize {
        let items: usize = self.papers.iter().map(|p| p.items.bytes()).sum();
        let index = self.index.get().map_or(0, WordIndex::bytes);
        std::mem::size_of::<DailyList>() + self.papers_bytes + items + index
    }

    /// The same list, fetched at `fetched_at` (a refresh that brought nothing to keep). Its
    /// papers share this list's packed text, so nothing is packed or weighed again.
    pub fn refetched(&self, fetched_at: DateTime<Utc>) -> DailyList {
        DailyList {
            date: self.date,
            papers: self.papers.clone(),
            fetched_at,
            changed_at: self.changed_at,
            content_hash: self.content_hash,
            index: self.index.clone(),
            papers_bytes: self.papers_bytes,
            weighed: AtomicUsize::new(0),
        }
    }

    /// Builds a list from a fetch; `previous` is the copy it replaces, if any.
    pub fn from_fetch(
        fetched: &FetchedDay,
        fetched_at: DateTime<Utc>,
        previous: Option<&DailyList>,
    ) -> DailyList {
        let mut papers: Vec<Paper> = fetched
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
        if let Some(previous) = previous {
            keep_rendered_items(&mut papers, previous);
        }
        let content_hash = content_hash(&papers);
        let changed_at = match previous {
            Some(prev) if prev.content_hash == content_hash => prev.changed_at,
            Some(_) => fetched_at,
            None => initial_changed_at(fetched.date, &papers, fetched_at),
        };
        DailyList::new(fetched.date, papers, fetched_at, changed_at, content_hash)
    }

    /// How many of `self`'s papers `newer` no longer lists.
    pub fn removed_by(&self, newer: &DailyList) -> usize {
        let kept: std::collections::HashSet<&str> =
            newer.papers.iter().map(|p| p.id.as_str()).collect();
        self.papers
            .iter()
            .filter(|p| !kept.contains(p.id.as_str()))
            .count()
    }
}

/// Gives each paper that a refresh left unchanged the items rendered for its previous copy,
/// so that only a paper whose content changed is rendered again.
fn keep_rendered_items(papers: &mut [Paper], previous: &DailyList) {
    let before: std::collections::HashMap<&str, &Paper> =
        previous.papers.iter().map(|p| (p.id.as_str(), p)).collect();
    for paper in papers {
        if let Some(old) = before.get(paper.id.as_str())
            && **old == *paper
        {
            paper.items = old.items.clone();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::format::Format;
    use crate::render::parts;

    fn fetched(titles: &[(&str, &str)]) -> FetchedDay {
        let items = titles
            .iter()
            .map(|(id, title)| {
                serde_json::from_value(serde_json::json!({
                    "paper": {"id": id, "title": title, "upvotes": 3}
                }))
                .unwrap()
            })
            .collect();
        FetchedDay {
            date: NaiveDate::from_ymd_opt(2026, 8, 14).unwrap(),
            items,
            raw: Vec::new(),
            skipped: 0,
        }
    }

    /// A first fetch of `titles`, at `now`.
    fn list_of(titles: &[(&str, &str)], now: DateTime<Utc>) -> DailyList {
        DailyList::from_fetch(&fetched(titles), now, None)
    }

    #[test]
    fn a_refresh_renders_again_only_the_papers_that_changed() {
        let now = Utc::now();
        let first = list_of(&[("2608.00001", "Same"), ("2608.00002", "Old title")], now);
        for paper in &first.papers {
            parts::item(Format::Atom, paper).unwrap();
        }
        let second = DailyList::from_fetch(
            &fetched(&[("2608.00001", "Same"), ("2608.00002", "New title")]),
            now,
            Some(&first),
        );
        assert!(second.papers[0].items.shares(&first.papers[0].items));
        assert!(
            second.papers[0].items.get(Format::Atom).is_some(),
            "kept, not rendered again"
        );
        assert!(!second.papers[1].items.shares(&first.papers[1].items));
        assert!(
            second.papers[1].items.get(Format::Atom).is_none(),
            "to be rendered anew"
        );
        let item = parts::item(Format::Atom, &second.papers[1]).unwrap();
        assert!(String::from_utf8_lossy(item).contains("New title"));
    }

    #[test]
    fn a_list_is_packed_once_and_a_refetched_copy_shares_its_text_and_weight() {
        let now = Utc::now();
        let list = list_of(&[("2608.00001", "One"), ("2608.00002", "Two")], now);
        let (first, second) = (&list.papers[0], &list.papers[1]);
        assert!(
            first.title.shares_block(&second.id),
            "one block for the list"
        );
        let again = list.refetched(now + chrono::Duration::minutes(10));
        assert_eq!(again.papers, list.papers);
        assert_eq!(again.fetched_at, now + chrono::Duration::minutes(10));
        assert!(
            again.papers[1].title.shares_block(&first.title),
            "the copy is not packed again"
        );
        assert_eq!(again.weight(), list.weight());
    }
}
