//! Digests' rankings of ended periods without filters, kept: an unfiltered digest (the
//! default `/digest.*`) of twelve months would otherwise read and rank a year of daily lists
//! for every format, `top` and spelling of its URL. A period's ranking is computed once per
//! data version (the version of its days' lists, known without reading them while they are
//! fresh: [`crate::data::store::Store::known_version`]) and kept, weighed in bytes against its share
//! of `cache.max_memory`.

use std::sync::Arc;

use crate::data::daily_list::DailyList;
use crate::query::period::Period;

/// A period's top papers, as one list dated the period's last day, and how many were asked
/// for when it was ranked (a list shorter than that holds every paper of the period).
#[derive(Debug)]
struct Ranked {
    list: Arc<DailyList>,
    top: usize,
}

/// The kept rankings.
#[derive(Debug)]
pub struct Rankings {
    kept: moka::sync::Cache<(Period, u64), Arc<Ranked>>,
}

impl Rankings {
    /// Rankings of at most `bytes`.
    pub fn new(bytes: u64) -> Rankings {
        Rankings {
            kept: moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(|_: &(Period, u64), ranked: &Arc<Ranked>| {
                    use crate::telemetry::memory::{ARC_OVERHEAD, arc_bytes, entry_weight};
                    entry_weight(ranked.list.weight() + ARC_OVERHEAD + arc_bytes::<Ranked>())
                })
                .build(),
        }
    }

    /// The ranking of `period` at data `version` with at least its `top` papers, if kept.
    pub fn get(&self, period: Period, version: u64, top: usize) -> Option<Arc<DailyList>> {
        let ranked = self.kept.get(&(period, version))?;
        (ranked.top >= top || ranked.list.papers.len() < ranked.top).then(|| ranked.list.clone())
    }

    /// Keeps `list`, the `top` papers of `period` at data `version`.
    pub fn put(&self, period: Period, version: u64, top: usize, list: Arc<DailyList>) {
        self.kept
            .insert((period, version), Arc::new(Ranked { list, top }));
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.run_pending_tasks();
        self.kept.weighted_size()
    }

    /// Applies the cache's pending inserts and evictions.
    pub fn run_pending_tasks(&self) {
        self.kept.run_pending_tasks();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::period::Unit;
    use chrono::{NaiveDate, Utc};

    fn list(papers: usize) -> Arc<DailyList> {
        let date = NaiveDate::from_ymd_opt(2026, 8, 31).unwrap();
        let items: Vec<_> = (0..papers)
            .map(|i| {
                let item: crate::data::paper::raw::RawItem = serde_json::from_value(
                    serde_json::json!({"paper": {"id": format!("2608.{i:05}"), "title": "T"}}),
                )
                .unwrap();
                crate::data::paper::Paper::from_raw(&item, date).unwrap()
            })
            .collect();
        Arc::new(DailyList::new(date, items, Utc::now(), Utc::now(), 1))
    }

    #[test]
    fn a_kept_ranking_weighs_its_list_and_the_cache_s_bookkeeping() {
        let rankings = Rankings::new(1 << 20);
        let august = Period::containing(Unit::Month, NaiveDate::from_ymd_opt(2026, 8, 3).unwrap());
        let ranked = list(10);
        let bytes = ranked.weight() + crate::telemetry::memory::CACHE_ENTRY_BYTES;
        rankings.put(august, 7, 10, ranked);
        assert!(rankings.bytes() >= bytes as u64);
    }

    #[test]
    fn a_ranking_serves_a_smaller_top_and_a_complete_one_any_top() {
        let rankings = Rankings::new(1 << 20);
        let august = Period::containing(Unit::Month, NaiveDate::from_ymd_opt(2026, 8, 3).unwrap());
        rankings.put(august, 7, 10, list(10));
        assert!(rankings.get(august, 7, 10).is_some());
        assert!(rankings.get(august, 7, 5).is_some());
        assert!(rankings.get(august, 7, 20).is_none(), "ten may not be all");
        assert!(rankings.get(august, 8, 5).is_none(), "another data version");
        rankings.put(august, 9, 10, list(3));
        assert!(
            rankings.get(august, 9, 100).is_some(),
            "three of ten asked: all there is"
        );
        assert!(rankings.bytes() > 0);
    }
}
