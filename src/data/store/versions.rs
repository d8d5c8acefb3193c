//! A window of lists and the data versions per date that cached answers are valid for.

use super::*;

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

/// A counter per date that moves when the date's list changes content.
#[derive(Debug)]
pub(super) struct Versions {
    first: NaiveDate,
    slots: Box<[AtomicU64]>,
    /// Dates before `first` (never asked for) and beyond the slots share this one.
    rest: AtomicU64,
}

impl Versions {
    pub(super) fn new(first: NaiveDate) -> Versions {
        Versions {
            first,
            slots: (0..VERSION_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            rest: AtomicU64::new(0),
        }
    }

    pub(super) fn slot(&self, date: NaiveDate) -> &AtomicU64 {
        usize::try_from((date - self.first).num_days())
            .ok()
            .and_then(|i| self.slots.get(i))
            .unwrap_or(&self.rest)
    }

    pub(super) fn bump(&self, date: NaiveDate) {
        self.slot(date).fetch_add(1, Ordering::AcqRel);
    }

    /// The sum of the versions of `oldest..=newest`: the counters only grow, so the sum moves
    /// exactly when one of them does.
    pub(super) fn sum(&self, oldest: NaiveDate, newest: NaiveDate) -> u64 {
        let (Ok(from), Ok(to)) = (
            usize::try_from((oldest - self.first).num_days().max(0)),
            usize::try_from((newest - self.first).num_days()),
        ) else {
            return self.rest.load(Ordering::Acquire);
        };
        let mut sum = self.rest.load(Ordering::Acquire);
        if let Some(slots) = self.slots.get(from..=to.min(VERSION_SLOTS - 1)) {
            for slot in slots {
                sum = sum.wrapping_add(slot.load(Ordering::Acquire));
            }
        }
        sum
    }
}
