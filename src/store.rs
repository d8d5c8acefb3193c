//! The daily-list store: one [`DailyList`] per date, kept in memory (moka), fresh for a time
//! that depends on the list's age, served stale while one background refresh per date runs,
//! and never replaced by a failed refresh.
//!
//! A cold date is loaded with moka's `try_get_with`, so any number of concurrent requests for
//! it make one upstream fetch. After a failure a date cools down for a while (or until a 429's
//! `Retry-After` passes), during which requests are answered from what is cached, without
//! asking upstream again.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::join_all;
use moka::future::Cache;

use crate::clock::Clock;
use crate::config::CacheSettings;
use crate::daily_list::DailyList;
use crate::metrics::{Lookup, Metrics};
use crate::storage::{Storage, StoredRead};
use crate::upstream::client::{FetchedDay, UpstreamClient, UpstreamError};

/// How long a date is left alone after a failed fetch, unless upstream said how long.
const FAILURE_COOLDOWN: Duration = Duration::from_secs(30);
/// Dates cooling down at most: past that, a failed date is not remembered (the upstream
/// budget and the 429 gate still hold every date back).
const MAX_COOLDOWNS: usize = 1024;

/// Why a date has no list to serve.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("the last fetch failed; not asking upstream again before {until}")]
    CoolingDown { until: DateTime<Utc> },
}

impl StoreError {
    /// When asking again may help.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            StoreError::Upstream(e) => e.retry_at(),
            StoreError::CoolingDown { until } => Some(*until),
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
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for list in &self.lists {
            hasher.update(&list.date.to_string().into_bytes());
            hasher.update(&list.content_hash.to_le_bytes());
            hasher.update(&list.changed_at.timestamp().to_le_bytes());
        }
        hasher.digest()
    }

    /// The earliest moment a missing date may be worth asking for again.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        self.missing.iter().filter_map(|(_, e)| e.retry_at()).min()
    }
}

/// What [`Store::backfill`] did with a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backfilled {
    /// A fresh copy was stored already; upstream was not asked.
    Stored,
    /// Fetched and written, with this many papers.
    Fetched { papers: usize },
}

/// Why [`Store::backfill`] could not bring a date in.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackfillError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("could not write it to the data directory: {0}")]
    Storage(String),
}

impl BackfillError {
    /// When asking upstream again may help, if it said so (or the budget does).
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            BackfillError::Upstream(e) => e.retry_at(),
            BackfillError::Storage(_) => None,
        }
    }
}

#[derive(Debug, Default)]
struct RefreshState {
    in_flight: HashSet<NaiveDate>,
    cooldown: HashMap<NaiveDate, DateTime<Utc>>,
}

/// The daily lists, cached.
#[derive(Debug)]
pub struct Store {
    lists: Cache<NaiveDate, Arc<DailyList>>,
    upstream: Arc<UpstreamClient>,
    clock: Arc<dyn Clock>,
    settings: CacheSettings,
    refresh: Mutex<RefreshState>,
    /// Moves whenever any list is put in the cache: what was derived from the lists before a
    /// move may be out of date.
    generation: AtomicU64,
    /// Where every successful fetch is written, when storage is on.
    storage: Option<Arc<Storage>>,
    metrics: Metrics,
}

impl Store {
    /// A store counting lookups and refreshes in `metrics`.
    pub fn new(
        settings: CacheSettings,
        upstream: Arc<UpstreamClient>,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> Self {
        let lists = Cache::builder()
            .max_capacity(settings.max_papers)
            .weigher(|_: &NaiveDate, list: &Arc<DailyList>| {
                u32::try_from(list.papers.len() + 1).unwrap_or(u32::MAX)
            })
            .build();
        Self {
            lists,
            upstream,
            clock,
            settings,
            refresh: Mutex::new(RefreshState::default()),
            generation: AtomicU64::new(0),
            storage: None,
            metrics,
        }
    }

    /// Writes every successfully fetched list to `storage` (from now on).
    pub fn with_storage(mut self, storage: Option<Arc<Storage>>) -> Self {
        self.storage = storage;
        self
    }

    pub fn upstream(&self) -> &UpstreamClient {
        &self.upstream
    }

    /// How long a list of `date` stays fresh, judged today.
    pub fn ttl(&self, date: NaiveDate) -> Duration {
        let age_days = (self.clock.today() - date).num_days();
        if age_days <= 1 {
            self.settings.recent_ttl
        } else if age_days <= 7 {
            self.settings.week_ttl
        } else {
            self.settings.old_ttl
        }
    }

    /// When `list` stops being fresh.
    pub fn fresh_until(&self, list: &DailyList) -> DateTime<Utc> {
        let ttl = chrono::Duration::from_std(self.ttl(list.date)).unwrap_or(chrono::Duration::MAX);
        list.fetched_at
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn is_fresh(&self, list: &DailyList) -> bool {
        self.clock.now() < self.fresh_until(list)
    }

    /// A number that moves whenever a list is put in the cache. Read it *before* reading
    /// lists: anything derived from them is current while the number has not moved.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn bump_generation(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The cached list of `date`, if any, fresh or not, without side effects.
    pub async fn cached(&self, date: NaiveDate) -> Option<Arc<DailyList>> {
        self.lists.get(&date).await
    }

    /// The `days` lists ending at `newest`, fetched concurrently, newest first.
    /// No date before `earliest_date` is asked for: a window reaching back past it stops there.
    pub async fn window(self: &Arc<Self>, newest: NaiveDate, days: u32) -> Window {
        let earliest = self.upstream.earliest();
        let dates: Vec<NaiveDate> = newest
            .iter_days()
            .rev()
            .take(days as usize)
            .take_while(|d| *d >= earliest)
            .collect();
        // Cached lists first, one after the other (a lookup does not wait); then the others,
        // loaded concurrently. Joining every date's `get` would allocate room for 30 loads
        // (large futures) on every request.
        let mut slots = Vec::with_capacity(dates.len());
        let mut to_load = Vec::new();
        for date in &dates {
            let list = self.lookup(*date).await;
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

    /// The list of `date`: the cached copy (refreshed in the background when stale), or a
    /// fetch shared by every concurrent caller.
    pub async fn get(self: &Arc<Self>, date: NaiveDate) -> Result<Arc<DailyList>, StoreError> {
        match self.lookup(date).await {
            Some(list) => Ok(list),
            None => self.load(date).await,
        }
    }

    /// The cached list of `date`, if there is one (a stale one is refreshed in the
    /// background); counted as a hit, a stale hit or a miss.
    async fn lookup(self: &Arc<Self>, date: NaiveDate) -> Option<Arc<DailyList>> {
        let Some(list) = self.lists.get(&date).await else {
            self.metrics.lookup(Lookup::Miss);
            return None;
        };
        if self.is_fresh(&list) {
            self.metrics.lookup(Lookup::Hit);
        } else {
            self.metrics.lookup(Lookup::Stale);
            self.spawn_refresh(list.clone());
        }
        Some(list)
    }

    /// Loads a date that is not cached, from the data directory if it is there (fresh or
    /// not: a stale copy is served and refreshed in the background), else from upstream, sharing
    /// the load with every concurrent caller.
    async fn load(self: &Arc<Self>, date: NaiveDate) -> Result<Arc<DailyList>, StoreError> {
        if let Some(stored) = self.read_stored(date).await {
            let list = self.lists.entry(date).or_insert(stored).await.into_value();
            self.bump_generation();
            if !self.is_fresh(&list) {
                self.spawn_refresh(list.clone());
            }
            return Ok(list);
        }
        if let Some(until) = self.cooling_down(date) {
            return Err(StoreError::CoolingDown { until });
        }
        let this = self.clone();
        self.lists
            .try_get_with(date, async move {
                let fetched = this.upstream.fetch_day(date).await;
                match fetched.and_then(|f| this.list_from(f, None)) {
                    Ok(list) => Ok(list),
                    Err(e) => {
                        this.cool_down(date, &e);
                        Err(e)
                    }
                }
            })
            .await
            .inspect(|_| self.bump_generation())
            .map_err(|e| StoreError::Upstream((*e).clone()))
    }

    /// The stored copy of `date`, read off the async threads; `None` without storage.
    async fn read_stored(&self, date: NaiveDate) -> Option<Arc<DailyList>> {
        let storage = self.storage.clone()?;
        let now = self.clock.now();
        match tokio::task::spawn_blocking(move || storage.read(date, now))
            .await
            .ok()?
        {
            StoredRead::Read(list) => Some(Arc::new(list)),
            // The file is left in place (and logged by the storage); served as if missing.
            StoredRead::Failed(e) => {
                tracing::debug!(%date, error = %e, "the stored list cannot be read now");
                None
            }
            StoredRead::Missing | StoredRead::SetAside => None,
        }
    }

    /// A fetched day as a list, stored in the background; an error when upstream sent items
    /// but not one of them is a usable paper (a schema change must not empty a good day).
    fn list_from(
        &self,
        fetched: FetchedDay,
        previous: Option<&DailyList>,
    ) -> Result<Arc<DailyList>, UpstreamError> {
        let list = self.usable_list(&fetched, previous)?;
        self.persist(fetched, list.clone());
        Ok(list)
    }

    /// A fetched day as a list, unless upstream sent items but not one usable paper.
    fn usable_list(
        &self,
        fetched: &FetchedDay,
        previous: Option<&DailyList>,
    ) -> Result<Arc<DailyList>, UpstreamError> {
        let list = DailyList::from_fetch(fetched, self.clock.now(), previous);
        if list.papers.is_empty() && (!fetched.items.is_empty() || fetched.skipped > 0) {
            return Err(UpstreamError::Body(format!(
                "none of the {} items of {} is a usable paper",
                fetched.items.len() + fetched.skipped,
                fetched.date
            )));
        }
        Ok(Arc::new(list))
    }

    /// Back-fill (`paperboy fetch`, `paperboy export`): makes sure the data directory (or,
    /// without one, memory) holds a fresh list of `date`. A stored copy that is fresh is kept (unless `force`); otherwise the
    /// date is fetched through the same client, budget and retries as any other, and written
    /// before this returns, so that a list counted as fetched is on disk. The list is put in
    /// memory too. A failed fetch keeps the stored copy, and cools the date down as a failed
    /// refresh does.
    pub async fn backfill(
        self: &Arc<Self>,
        date: NaiveDate,
        force: bool,
    ) -> Result<Backfilled, BackfillError> {
        let stored = self.read_stored(date).await;
        if let Some(list) = stored.as_ref().filter(|l| !force && self.is_fresh(l)) {
            if self
                .lists
                .entry(date)
                .or_insert(list.clone())
                .await
                .is_fresh()
            {
                self.bump_generation();
            }
            return Ok(Backfilled::Stored);
        }
        let fetched = self.upstream.fetch_day(date).await;
        let list = fetched.and_then(|f| {
            let list = self.usable_list(&f, stored.as_deref())?;
            Ok((f, list))
        });
        let (fetched, list) = match list {
            Ok(done) => done,
            Err(e) => {
                self.cool_down(date, &e);
                return Err(BackfillError::Upstream(e));
            }
        };
        if let Some(storage) = self.storage.clone() {
            let written = list.clone();
            let saved = tokio::task::spawn_blocking(move || storage.save(&fetched, &written))
                .await
                .map_err(|e| BackfillError::Storage(e.to_string()))?;
            self.metrics.storage_write(saved.is_ok());
            saved.map_err(|e| BackfillError::Storage(e.to_string()))?;
        }
        let papers = list.papers.len();
        self.lists.insert(date, list).await;
        self.bump_generation();
        Ok(Backfilled::Fetched { papers })
    }

    /// Puts a list in the cache directly (start-up from storage, tests).
    pub async fn insert(&self, list: DailyList) {
        self.lists.insert(list.date, Arc::new(list)).await;
        self.bump_generation();
    }

    /// Puts a list in the cache unless its date is there already: a stored copy read at
    /// start-up must not replace one that a reader's request fetched meanwhile.
    pub async fn insert_if_absent(&self, list: DailyList) -> bool {
        let inserted = self
            .lists
            .entry(list.date)
            .or_insert(Arc::new(list))
            .await
            .is_fresh();
        if inserted {
            self.bump_generation();
        }
        inserted
    }

    /// Brings `date` up to date and waits for it: fetches it when it is not cached, refreshes
    /// it when it is stale (unless a refresh of it is running or it is cooling down after a
    /// failure), does nothing when it is fresh. For warm-up and the refresh timer, so that
    /// readers rarely wait on upstream.
    pub async fn ensure_fresh(self: &Arc<Self>, date: NaiveDate) {
        match self.lists.get(&date).await {
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
        self.lists.iter().map(|(_, list)| list.fetched_at).max()
    }

    /// How many daily lists are in memory. Counted, rather than moka's `entry_count`, which
    /// lags until the cache's next maintenance and so reads 0 on a quiet instance.
    pub fn lists_cached(&self) -> u64 {
        self.lists.iter().count() as u64
    }

    /// Writes a fetched list to storage in the background; a failure is counted (and logged
    /// once by the storage), and the list is served from memory all the same.
    fn persist(&self, fetched: FetchedDay, list: Arc<DailyList>) {
        let Some(storage) = self.storage.clone() else {
            return;
        };
        let metrics = self.metrics.clone();
        tokio::task::spawn_blocking(move || {
            metrics.storage_write(storage.save(&fetched, &list).is_ok());
        });
    }

    /// Marks a refresh of `date` as running, until the returned guard is dropped (also when
    /// the refresh is cancelled); `None` when one already runs.
    fn begin_refresh(&self, date: NaiveDate) -> Option<RefreshGuard<'_>> {
        let mut state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        // `then`, not `then_some`: a guard built eagerly for a date already in flight would be
        // dropped here, under the lock its `drop` takes (a deadlock), unmarking the other
        // refresh on the way.
        state
            .in_flight
            .insert(date)
            .then(|| RefreshGuard { store: self, date })
    }

    /// Dates being refreshed right now.
    pub fn refreshes_in_flight(&self) -> usize {
        let state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        state.in_flight.len()
    }

    /// Dates cooling down after a failure (expired ones included until they are met).
    pub fn cooldowns(&self) -> usize {
        let state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        state.cooldown.len()
    }

    fn cooling_down(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        let mut state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        match state.cooldown.get(&date) {
            Some(until) if *until > now => Some(*until),
            Some(_) => {
                state.cooldown.remove(&date);
                None
            }
            None => None,
        }
    }

    fn cool_down(&self, date: NaiveDate, error: &UpstreamError) {
        // Refusals that hold for every date are no reason to remember this one.
        if matches!(
            error,
            UpstreamError::OverBudget { .. } | UpstreamError::OutOfRange(_)
        ) {
            return;
        }
        let fallback =
            chrono::Duration::from_std(FAILURE_COOLDOWN).unwrap_or(chrono::Duration::zero());
        let until = error.retry_at().unwrap_or(self.clock.now() + fallback);
        let mut state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        // Old entries are dropped as they are met; this keeps the map bounded all the same.
        if state.cooldown.len() >= MAX_COOLDOWNS {
            let now = self.clock.now();
            state.cooldown.retain(|_, until| *until > now);
        }
        if state.cooldown.len() < MAX_COOLDOWNS || state.cooldown.contains_key(&date) {
            state.cooldown.insert(date, until);
        }
    }

    /// Starts one background refresh of `stale`'s date unless one is running or the date is
    /// cooling down after a failure. The stale copy stays in service until a fetch succeeds.
    fn spawn_refresh(self: &Arc<Self>, stale: Arc<DailyList>) {
        let date = stale.date;
        if self.cooling_down(date).is_some() || self.refresh_running(date) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Some(_running) = this.begin_refresh(date) {
                this.refresh(stale).await;
            }
        });
    }

    fn refresh_running(&self, date: NaiveDate) -> bool {
        let state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        state.in_flight.contains(&date)
    }

    /// Fetches `stale`'s date again and replaces it on success; keeps it on failure.
    pub async fn refresh(&self, stale: Arc<DailyList>) {
        let fetched = self.upstream.fetch_day(stale.date).await;
        match fetched.and_then(|f| self.list_from(f, Some(&stale))) {
            Ok(list) => {
                if list.changed_at != stale.changed_at {
                    tracing::info!(date = %list.date, "daily list changed");
                }
                self.metrics.refresh(true);
                self.lists.insert(list.date, list).await;
                self.bump_generation();
            }
            Err(e) => {
                self.metrics.refresh(false);
                tracing::warn!(date = %stale.date, error = %e, "refresh failed; keeping the cached list");
                self.cool_down(stale.date, &e);
            }
        }
    }
}

/// A refresh marked as running; unmarks it when dropped, however the refresh ended.
struct RefreshGuard<'a> {
    store: &'a Store,
    date: NaiveDate,
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.store.refresh.lock().unwrap_or_else(|e| e.into_inner());
        state.in_flight.remove(&self.date);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::config::{CacheSettings, UpstreamSettings};

    fn store() -> Store {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let metrics = Metrics::new().unwrap();
        let upstream = UpstreamClient::new(
            &UpstreamSettings::default(),
            NaiveDate::from_ymd_opt(2023, 5, 1).unwrap(),
            clock.clone(),
            metrics.clone(),
        )
        .unwrap();
        Store::new(CacheSettings::default(), Arc::new(upstream), clock, metrics)
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
}
