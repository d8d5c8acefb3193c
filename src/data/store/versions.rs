//! The data versions per date that cached answers are valid for.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;

/// Dates with a version slot of their own, from `feeds.earliest_date` on (about 22 years);
/// later dates share one.
pub(super) const VERSION_SLOTS: usize = 8192;

/// A counter per date that moves when the date's list changes content.
#[derive(Debug)]
pub(super) struct Versions {
    first: NaiveDate,
    slots: Box<[AtomicU64]>,
    /// Dates before `first` (never asked for) and beyond the slots share this one.
    rest: AtomicU64,
    /// How many changes there were, for those who wait for the next one (the hub).
    changes: tokio::sync::watch::Sender<u64>,
}

impl Versions {
    pub(super) fn new(first: NaiveDate) -> Versions {
        Versions {
            first,
            slots: (0..VERSION_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            rest: AtomicU64::new(0),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// A receiver that sees every change after it is made.
    pub(super) fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub(super) fn slot(&self, date: NaiveDate) -> &AtomicU64 {
        usize::try_from((date - self.first).num_days())
            .ok()
            .and_then(|i| self.slots.get(i))
            .unwrap_or(&self.rest)
    }

    pub(super) fn bump(&self, date: NaiveDate) {
        self.slot(date).fetch_add(1, Ordering::AcqRel);
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
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
