//! The daily-list store: one [`DailyList`] per date, fresh for a time that depends on the
//! list's age, served stale while one background refresh per date runs, and never replaced by
//! a failed refresh, nor by one that would drop most of a past day (the shrink rule).
//!
//! Memory depends on the settings, not on the history stored: the lists of the last
//! `feeds.max_days` days are kept in memory; older ones are read from the data directory when
//! a request needs them and kept as far as their share of `cache.max_memory` allows, weighed
//! in bytes (papers, rendered items, word index).
//!
//! A date that is not in memory is loaded once however many requests want it at that moment:
//! one task reads the stored copy, or, when there is none, asks upstream, and every request
//! waits for it. After a failure a date cools down for a while (or until a 429's
//! `Retry-After` passes), during which requests are answered from what is cached, without
//! asking upstream again.
//!
//! Each date has a version that moves when its list's content changes, so that what was
//! derived from a window of dates stays valid until a list of that window changes
//! ([`Store::window_version`]), whatever happens to other dates.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, join_all};
use tracing::Instrument;

use crate::common::clock::Clock;
use crate::data::daily_list::DailyList;
use crate::data::disk::{Storage, StoredRead};
use crate::data::upstream::client::{FetchedDay, UpstreamClient, UpstreamError};
use crate::telemetry::metrics::{Lookup, Metrics};

mod cache_settings;
mod load;
mod refresh;
mod shared;
mod versions;
mod window;

pub use cache_settings::CacheSettings;

use versions::{VERSION_SLOTS, Versions};
use window::data_version;
pub use window::{StoreError, Window};

/// How long a date is left alone after a failed fetch, unless upstream said how long.
const FAILURE_COOLDOWN: Duration = Duration::from_secs(30);
/// Dates cooling down at most: past that, a failed date is not remembered (the upstream
/// budget and the 429 gate still hold every date back).
const MAX_COOLDOWNS: usize = 1024;
/// What [`Store::backfill`] did with a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backfilled {
    /// A fresh copy was stored already; upstream was not asked.
    Stored,
    /// Fetched and written, with this many papers.
    Fetched { papers: usize },
    /// Fetched, but the answer would have removed more than half of the stored papers of a
    /// past day: the stored list is kept (`--force` replaces it).
    Shrunk { stored: usize, fetched: usize },
}

/// Why [`Store::backfill`] could not bring a date in.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackfillError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("could not write it to the data directory: {0}")]
    Storage(String),
    #[error("the stored copy cannot be read ({0}); it is left as it is")]
    Unreadable(String),
}

impl BackfillError {
    /// When asking upstream again may help, if it said so (or the budget does).
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            BackfillError::Upstream(e) => e.retry_at(),
            BackfillError::Storage(_) | BackfillError::Unreadable(_) => None,
        }
    }
}

#[derive(Debug, Default)]
struct RefreshState {
    in_flight: HashSet<NaiveDate>,
    cooldown: HashMap<NaiveDate, DateTime<Utc>>,
}

/// What is known of a date's list without holding it: enough to tell whether it changed,
/// whether it is fresh, and the window's data version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListMeta {
    pub content_hash: u64,
    pub changed_at: DateTime<Utc>,
    pub fetched_at: DateTime<Utc>,
}

impl ListMeta {
    fn of(list: &DailyList) -> ListMeta {
        ListMeta {
            content_hash: list.content_hash,
            changed_at: list.changed_at,
            fetched_at: list.fetched_at,
        }
    }
}

/// A load of one date, shared by every request that wants it meanwhile.
type Loading = Shared<BoxFuture<'static, Result<Arc<DailyList>, StoreError>>>;

/// The daily lists, cached.
#[derive(Debug)]
pub struct Store {
    /// The lists of the last `recent_days` days: kept whatever the memory budget.
    recent: RwLock<HashMap<NaiveDate, Arc<DailyList>>>,
    /// Older lists, kept as far as their byte budget allows.
    older: moka::sync::Cache<NaiveDate, Arc<DailyList>>,
    recent_days: u32,
    /// Dates being loaded, each by one task.
    loads: Mutex<HashMap<NaiveDate, Loading>>,
    /// Per date that was ever put in memory: what its list was.
    meta: Mutex<HashMap<NaiveDate, ListMeta>>,
    versions: Versions,
    upstream: Arc<UpstreamClient>,
    clock: Arc<dyn Clock>,
    settings: CacheSettings,
    refresh: Mutex<RefreshState>,
    /// Where every successful fetch is written, when storage is on.
    storage: Option<Arc<Storage>>,
    /// Where loads, reads and refreshes run: the low-priority runtime when serving (so that
    /// the HTTP workers never parse a page or read a file), else the caller's.
    runtime: Option<tokio::runtime::Handle>,
    /// The server shared with other instances, when `cluster.url` is set.
    cluster: Option<Arc<crate::data::cluster::Cluster>>,
    metrics: Metrics,
}

impl Store {
    /// A store keeping the lists of the last `recent_days` days in memory and older ones up
    /// to `older_bytes`, counting lookups and refreshes in `metrics`.
    pub fn new(
        settings: CacheSettings,
        recent_days: u32,
        older_bytes: u64,
        upstream: Arc<UpstreamClient>,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> Self {
        let older = moka::sync::Cache::builder()
            .max_capacity(older_bytes)
            .weigher(|_: &NaiveDate, list: &Arc<DailyList>| {
                let weight = list.weight();
                list.weighed.store(weight, Ordering::Relaxed);
                older_weight(weight)
            })
            .build();
        Self {
            recent: RwLock::new(HashMap::new()),
            older,
            recent_days: recent_days.max(1),
            loads: Mutex::new(HashMap::new()),
            meta: Mutex::new(HashMap::new()),
            versions: Versions::new(upstream.earliest()),
            upstream,
            clock,
            settings,
            refresh: Mutex::new(RefreshState::default()),
            storage: None,
            runtime: None,
            cluster: None,
            metrics,
        }
    }

    /// With storage: lists not in memory are read from it, fetched lists written to it.
    pub fn with_storage(mut self, storage: Option<Arc<Storage>>) -> Self {
        self.storage = storage;
        self
    }

    /// Loads, reads and refreshes run on `runtime` (the low-priority one).
    pub fn with_runtime(mut self, runtime: Option<tokio::runtime::Handle>) -> Self {
        self.runtime = runtime;
        self
    }

    pub fn upstream(&self) -> &UpstreamClient {
        &self.upstream
    }

    /// How long a list of `date` stays fresh, judged today.
    pub fn ttl(&self, date: NaiveDate) -> Duration {
        self.settings.ttl((self.clock.today() - date).num_days())
    }

    /// When a list of `date` fetched at `fetched_at` stops being fresh.
    fn fresh_until_at(&self, date: NaiveDate, fetched_at: DateTime<Utc>) -> DateTime<Utc> {
        let ttl = chrono::Duration::from_std(self.ttl(date)).unwrap_or(chrono::Duration::MAX);
        fetched_at
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// When `list` stops being fresh.
    pub fn fresh_until(&self, list: &DailyList) -> DateTime<Utc> {
        self.fresh_until_at(list.date, list.fetched_at)
    }

    fn is_fresh(&self, list: &DailyList) -> bool {
        self.clock.now() < self.fresh_until(list)
    }

    /// Whether `date` is one of the last `feeds.max_days` days, whose lists stay in memory.
    fn is_recent(&self, date: NaiveDate) -> bool {
        (self.clock.today() - date).num_days() < i64::from(self.recent_days)
    }

    /// Moves whenever a list changes content (any date): what the hub waits on.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.versions.changes()
    }

    /// A number that moves whenever the content of a list of `oldest..=newest` changes (and
    /// only then: reading a list again, from disk or after it left memory, does not move it).
    /// Read it *before* reading the lists: anything derived from them is current while it
    /// has not moved.
    pub fn window_version(&self, oldest: NaiveDate, newest: NaiveDate) -> u64 {
        self.versions.sum(oldest, newest)
    }

    /// What is known of the list of `date` without holding it, if it was ever in memory.
    pub fn meta(&self, date: NaiveDate) -> Option<ListMeta> {
        let meta = self.meta.lock().unwrap_or_else(|e| e.into_inner());
        meta.get(&date).copied()
    }

    /// The data version ([`Window::data_version`]) the window `first..=last` would have,
    /// known without reading its lists: when every date of it (from `feeds.earliest_date`)
    /// was seen before and is still fresh; `None` otherwise, and the window must be read.
    pub fn known_version(&self, first: NaiveDate, last: NaiveDate) -> Option<u64> {
        let first = first.max(self.upstream.earliest());
        let now = self.clock.now();
        let meta = self.meta.lock().unwrap_or_else(|e| e.into_inner());
        let mut known = Vec::new();
        for date in first.iter_days().take_while(|d| *d <= last) {
            let m = meta.get(&date)?;
            if now >= self.fresh_until_at(date, m.fetched_at) {
                return None;
            }
            known.push((date, m.content_hash, m.changed_at));
        }
        drop(meta);
        Some(data_version(known.into_iter().rev()))
    }

    /// The list of `date` in memory, if any, fresh or not, without side effects.
    pub async fn cached(&self, date: NaiveDate) -> Option<Arc<DailyList>> {
        self.in_memory(date)
    }

    /// [`Store::cached`], for synchronous callers.
    pub fn in_memory(&self, date: NaiveDate) -> Option<Arc<DailyList>> {
        let recent = self.recent.read().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = recent.get(&date) {
            return Some(list.clone());
        }
        drop(recent);
        self.older.get(&date)
    }

    /// Puts `list` in memory (replacing what was there), moving its date's version when its
    /// content differs from what that date held before.
    fn put(&self, list: Arc<DailyList>) -> Arc<DailyList> {
        self.put_with(list, true)
    }

    /// Puts `list` in memory unless its date is there already; the list that is there.
    fn put_if_absent(&self, list: Arc<DailyList>) -> (Arc<DailyList>, bool) {
        if let Some(there) = self.in_memory(list.date) {
            return (there, false);
        }
        (self.put_with(list, false), true)
    }

    fn put_with(&self, list: Arc<DailyList>, replace: bool) -> Arc<DailyList> {
        let date = list.date;
        if self.is_recent(date) {
            let mut recent = self.recent.write().unwrap_or_else(|e| e.into_inner());
            if !replace && let Some(there) = recent.get(&date) {
                return there.clone();
            }
            recent.insert(date, list.clone());
            drop(recent);
            self.older.invalidate(&date);
        } else {
            self.older.insert(date, list.clone());
        }
        let new = ListMeta::of(&list);
        let previous = {
            let mut meta = self.meta.lock().unwrap_or_else(|e| e.into_inner());
            meta.insert(date, new)
        };
        let changed = previous
            .is_none_or(|p| p.content_hash != new.content_hash || p.changed_at != new.changed_at);
        if changed {
            self.versions.bump(date);
        }
        list
    }

    /// Moves the lists that are no longer recent (the day moved on) to the older lists,
    /// where the memory budget weighs them.
    pub fn demote_old(&self) {
        let demoted: Vec<Arc<DailyList>> = {
            let mut recent = self.recent.write().unwrap_or_else(|e| e.into_inner());
            let old: Vec<NaiveDate> = recent
                .keys()
                .copied()
                .filter(|d| !self.is_recent(*d))
                .collect();
            old.iter().filter_map(|d| recent.remove(d)).collect()
        };
        for list in demoted {
            self.older.insert(list.date, list);
        }
    }

    /// Weighs again the older lists among `lists` that grew since they were weighed (items
    /// rendered, an index built), so that the budget sees what they hold now.
    /// A list grown past the whole share is let go rather than weighed again: kept, it would
    /// push every other older list out before being dropped itself.
    pub fn reweigh(&self, lists: &[Arc<DailyList>]) {
        let share = self.older.policy().max_capacity().unwrap_or(u64::MAX);
        for list in lists {
            let weight = list.weight();
            let grown = weight > list.weighed.load(Ordering::Relaxed) + 1024;
            if grown
                && !self.is_recent(list.date)
                && self
                    .older
                    .get(&list.date)
                    .is_some_and(|kept| Arc::ptr_eq(&kept, list))
            {
                if u64::from(older_weight(weight)) > share {
                    self.older.invalidate(&list.date);
                } else {
                    self.older.insert(list.date, list.clone());
                }
            }
        }
    }

    /// Bytes held by the recent lists (not budgeted) and by the older ones.
    pub fn memory(&self) -> (u64, u64) {
        let recent: usize = {
            let recent = self.recent.read().unwrap_or_else(|e| e.into_inner());
            recent.values().map(|l| l.weight()).sum()
        };
        self.older.run_pending_tasks();
        (recent as u64, self.older.weighted_size())
    }

    /// Applies what the older lists' cache has pending: above all its evictions, so that
    /// lists over their share are let go (the application runs it every second: `AppState::upkeep`).
    pub fn run_pending_tasks(&self) {
        self.older.run_pending_tasks();
    }

    /// Bytes the older lists' cache holds now as it weighed them, evictions it has pending
    /// included (those [`Store::memory`] applies first).
    pub fn older_held_bytes(&self) -> u64 {
        self.older
            .iter()
            .map(|(_, list)| u64::from(older_weight(list.weighed.load(Ordering::Relaxed))))
            .sum()
    }

    /// Bytes of the store's own tables (per-date versions and what is known of each date).
    pub fn table_bytes(&self) -> u64 {
        let meta = self.meta.lock().unwrap_or_else(|e| e.into_inner()).len();
        (VERSION_SLOTS * 8 + meta * (std::mem::size_of::<(NaiveDate, ListMeta)>() + 8)) as u64
    }

    /// The `days` lists ending at `newest`, loaded concurrently, newest first.
    /// No date before `earliest_date` is asked for: a window reaching back past it stops there.
    pub async fn window(self: &Arc<Self>, newest: NaiveDate, days: u32) -> Window {
        let earliest = self.upstream.earliest();
        let dates: Vec<NaiveDate> = newest
            .iter_days()
            .rev()
            .take(days as usize)
            .take_while(|d| *d >= earliest)
            .collect();
        // Lists in memory first (a lookup does not wait); then the others, loaded
        // concurrently.
        let mut slots = Vec::with_capacity(dates.len());
        let mut to_load = Vec::new();
        for date in &dates {
            let list = self.lookup(*date);
            if list.is_none() {
                to_load.push(*date);
            }
            slots.push(list.map(Ok));
        }
        let loaded = join_all(to_load.iter().map(|d| self.load(*d))).await;
        for (slot, result) in slots.iter_mut().filter(|s| s.is_none()).zip(loaded) {
            *slot = Some(result);
        }
        let mut window = Window::default();
        for (date, slot) in dates.into_iter().zip(slots) {
            match slot {
                Some(Ok(list)) => window.lists.push(list),
                Some(Err(e)) => window.missing.push((date, e)),
                None => {}
            }
        }
        window
    }

    /// The list of `date`: the copy in memory (refreshed in the background when stale), or a
    /// load shared by every concurrent caller.
    pub async fn get(self: &Arc<Self>, date: NaiveDate) -> Result<Arc<DailyList>, StoreError> {
        match self.lookup(date) {
            Some(list) => Ok(list),
            None => self.load(date).await,
        }
    }

    /// Puts a list in memory directly (tests).
    pub async fn insert(&self, list: DailyList) {
        self.put(Arc::new(list));
    }

    /// Puts a list in memory unless its date is there already: a stored copy read at
    /// start-up must not replace one that a reader's request fetched meanwhile.
    pub async fn insert_if_absent(&self, list: DailyList) -> bool {
        self.put_if_absent(Arc::new(list)).1
    }

    /// Brings `date` up to date and waits for it: loads it when it is not in memory,
    /// refreshes it when it is stale (unless a refresh of it is running or it is cooling down
    /// after a failure), does nothing when it is fresh. For warm-up and the refresh timer, so
    /// that readers rarely wait on upstream.
    pub async fn ensure_fresh(self: &Arc<Self>, date: NaiveDate) {
        match self.in_memory(date) {
            None => {
                let _ = self.load(date).await;
            }
            Some(list) if !self.is_fresh(&list) => {
                if self.cooling_down(date).is_some() {
                    return;
                }
                if let Some(_running) = self.begin_refresh(date) {
                    self.refresh(list).await;
                }
            }
            Some(_) => {}
        }
    }

    /// When the most recently fetched list in memory was fetched.
    pub fn newest_fetched_at(&self) -> Option<DateTime<Utc>> {
        let recent = self.recent.read().unwrap_or_else(|e| e.into_inner());
        recent
            .values()
            .map(|list| list.fetched_at)
            .chain(self.older.iter().map(|(_, list)| list.fetched_at))
            .max()
    }

    /// How many daily lists are in memory. Counted, rather than moka's `entry_count`, which
    /// lags until the cache's next maintenance.
    pub fn lists_cached(&self) -> u64 {
        let recent = self.recent.read().unwrap_or_else(|e| e.into_inner()).len();
        (recent + self.older.iter().count()) as u64
    }
}

/// What an older list of `weight` bytes counts against its share: the list's weight counts
/// its struct; its `Arc` and the cache's entry add the rest.
fn older_weight(weight: usize) -> u32 {
    crate::telemetry::memory::entry_weight(weight + crate::telemetry::memory::ARC_OVERHEAD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::clock::SystemClock;
    use crate::common::format::Format;
    use crate::data::upstream::UpstreamSettings;

    fn store() -> Store {
        store_keeping(8 << 20)
    }

    /// A store keeping older lists up to `older_bytes`.
    fn store_keeping(older_bytes: u64) -> Store {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let metrics = Metrics::new().unwrap();
        let upstream = UpstreamClient::new(
            &UpstreamSettings::default(),
            NaiveDate::from_ymd_opt(2023, 5, 1).unwrap(),
            clock.clone(),
            metrics.clone(),
        )
        .unwrap();
        Store::new(
            CacheSettings::default(),
            30,
            older_bytes,
            Arc::new(upstream),
            clock,
            metrics,
        )
    }

    /// Found when the whole test suite hung: a second refresh of a date already in flight
    /// built its guard eagerly and dropped it under the lock the guard's `drop` takes.
    #[test]
    fn a_second_refresh_of_a_date_in_flight_is_refused_without_unmarking_the_first() {
        let store = store();
        let date = NaiveDate::from_ymd_opt(2026, 8, 14).unwrap();
        let first = store.begin_refresh(date).expect("the first refresh runs");
        assert!(store.begin_refresh(date).is_none(), "one refresh per date");
        assert_eq!(store.refreshes_in_flight(), 1, "the first is still marked");
        drop(first);
        assert_eq!(store.refreshes_in_flight(), 0);
        assert!(store.begin_refresh(date).is_some());
    }

    /// An older list of two papers, of `date` (long past, so never recent).
    fn older_list(date: &str) -> Arc<DailyList> {
        let items = ["2401.00001", "2401.00002"]
            .iter()
            .map(|id| {
                serde_json::from_value(serde_json::json!({"paper": {"id": id, "title": id}}))
                    .unwrap()
            })
            .collect();
        let fetched = FetchedDay {
            date: date.parse().unwrap(),
            items,
            raw: Vec::new(),
            skipped: 0,
        };
        Arc::new(DailyList::from_fetch(&fetched, Utc::now(), None))
    }

    /// Found when an API test saw no older list kept: a list rendered past the whole share,
    /// weighed again, pushed every other list out and was then dropped itself.
    #[test]
    fn a_list_grown_past_the_whole_share_is_let_go_and_the_others_stay() {
        let store = store_keeping(16 << 10);
        let dates = ["2024-01-02", "2024-01-03", "2024-01-04"];
        let lists: Vec<_> = dates.iter().map(|d| store.put(older_list(d))).collect();
        let (_, before) = store.memory();
        assert!(before > 0 && before < 16 << 10, "all three fit: {before}");
        // A small growth is weighed again, and kept.
        lists[1].papers[0]
            .items
            .keep(Format::Atom, vec![b'x'; 2 << 10]);
        store.reweigh(&lists);
        let (_, grown) = store.memory();
        assert!(grown > before + (2 << 10), "{grown} after {before}");
        // The first list grows past the share: let go, the others kept.
        lists[0].papers[0]
            .items
            .keep(Format::Atom, vec![b'x'; 32 << 10]);
        store.reweigh(&lists);
        let (_, after) = store.memory();
        assert!(store.in_memory(lists[0].date).is_none(), "let go");
        for list in &lists[1..] {
            assert!(store.in_memory(list.date).is_some(), "{} kept", list.date);
        }
        assert!(after > 0 && after <= 16 << 10, "{after}");
    }
}
