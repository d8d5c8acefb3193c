//! Keeping lists fresh: background refreshes (one per date at a time), cool-downs after
//! upstream failures, and writing fetched lists to storage.

use super::*;

impl Store {
    /// Writes a fetched list (`bytes`, [`crate::data::disk::encode_day`]) to storage in the
    /// background; a failure is counted (and logged once by the storage), and the list is
    /// served from memory all the same. No bytes (the list could not be encoded): a failed
    /// write.
    pub(super) fn persist(&self, bytes: Option<Vec<u8>>, list: Arc<DailyList>) {
        let Some(storage) = self.storage.clone() else {
            return;
        };
        let metrics = self.metrics.clone();
        let write = move || {
            let saved = bytes.is_some_and(|bytes| {
                storage
                    .save_encoded(list.date, list.fetched_at, &bytes)
                    .is_ok()
            });
            metrics.storage_write(saved);
        };
        match &self.runtime {
            Some(runtime) => drop(runtime.spawn_blocking(write)),
            None => drop(tokio::task::spawn_blocking(write)),
        }
    }

    /// Marks a refresh of `date` as running, until the returned guard is dropped (also when
    /// the refresh is cancelled); `None` when one already runs.
    pub(super) fn begin_refresh(&self, date: NaiveDate) -> Option<RefreshGuard<'_>> {
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

    pub(super) fn cooling_down(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
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

    pub(super) fn cool_down(&self, date: NaiveDate, error: &UpstreamError) {
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
    pub(super) fn spawn_refresh(self: &Arc<Self>, stale: Arc<DailyList>) {
        let date = stale.date;
        if self.cooling_down(date).is_some() || self.refresh_running(date) {
            return;
        }
        let this = self.clone();
        drop(self.spawn(async move {
            if let Some(_running) = this.begin_refresh(date) {
                this.refresh(stale).await;
            }
        }));
    }

    pub(super) fn refresh_running(&self, date: NaiveDate) -> bool {
        let state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        state.in_flight.contains(&date)
    }

    /// Fetches `stale`'s date again and replaces it on success; keeps it on failure, and when
    /// the new copy would shrink a past day (the shrink rule).
    pub async fn refresh(&self, stale: Arc<DailyList>) {
        let Some(lock) = self.refresh_turn(&stale).await else {
            return;
        };
        let fetched = self.upstream.fetch_day(stale.date).await;
        let list = fetched.and_then(|f| Ok((self.usable_list(&f, Some(&stale))?, f)));
        match list {
            Ok((list, _)) if self.shrinks(&stale, &list) => {
                self.give_up_turn(stale.date, lock).await;
                self.keep_unshrunk(&stale, &list);
            }
            Ok((list, fetched)) => {
                if list.changed_at != stale.changed_at {
                    tracing::info!(date = %list.date, "daily list changed");
                }
                self.keep_fetched(&fetched, &list, lock).await;
                self.metrics.refresh(true);
                self.put(list);
            }
            Err(e) => {
                self.give_up_turn(stale.date, lock).await;
                self.metrics.refresh(false);
                tracing::warn!(date = %stale.date, error = %e, "refresh failed; keeping the cached list");
                self.cool_down(stale.date, &e);
            }
        }
    }
}

/// A refresh marked as running; unmarks it when dropped, however the refresh ended.
pub(super) struct RefreshGuard<'a> {
    store: &'a Store,
    date: NaiveDate,
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.store.refresh.lock().unwrap_or_else(|e| e.into_inner());
        state.in_flight.remove(&self.date);
    }
}
