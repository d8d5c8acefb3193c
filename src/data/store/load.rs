//! Loading a date that is not in memory: the stored copy first, else upstream, once however
//! many requests want it (single flight), and the shrink rule for what replaces a stored day.

use super::shared::Turn;
use super::*;

impl Store {
    /// The list of `date` in memory, if there is one (a stale one is refreshed in the
    /// background); counted as a hit, a stale hit or a miss.
    pub(super) fn lookup(self: &Arc<Self>, date: NaiveDate) -> Option<Arc<DailyList>> {
        let Some(list) = self.in_memory(date) else {
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

    /// Runs `task` on the store's runtime (or the caller's).
    pub(super) fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.runtime {
            Some(runtime) => runtime.spawn(task),
            None => tokio::spawn(task),
        }
    }

    /// Loads a date that is not in memory: one task per date, whose result every concurrent
    /// caller shares.
    pub(super) async fn load(
        self: &Arc<Self>,
        date: NaiveDate,
    ) -> Result<Arc<DailyList>, StoreError> {
        let loading = {
            let mut loads = self.loads.lock().unwrap_or_else(|e| e.into_inner());
            match loads.get(&date) {
                Some(loading) => loading.clone(),
                None => {
                    // In the span of the request that started it, so its log lines say whose.
                    let task = self.spawn(
                        self.clone()
                            .load_now(date)
                            .instrument(tracing::Span::current()),
                    );
                    let loading: Loading =
                        async move { task.await.unwrap_or(Err(StoreError::Interrupted)) }
                            .boxed()
                            .shared();
                    loads.insert(date, loading.clone());
                    loading
                }
            }
        };
        loading.await
    }

    /// The one load of `date`: the stored copy if there is one (fresh or not: a stale copy is
    /// served and refreshed in the background), else upstream's.
    pub(super) async fn load_now(
        self: Arc<Self>,
        date: NaiveDate,
    ) -> Result<Arc<DailyList>, StoreError> {
        let _done = LoadDone { store: &self, date };
        if let Some(list) = self.in_memory(date) {
            return Ok(list);
        }
        match self.read_stored(date).await {
            Some(StoredRead::Read(list)) => {
                self.metrics.storage_read("ok");
                let list = self.put(Arc::new(list));
                if !self.is_fresh(&list) {
                    self.spawn_refresh(list.clone());
                }
                return Ok(list);
            }
            // The file stays as it is (no write replaces a file that cannot be opened), and
            // the next load reads it again; meanwhile upstream's copy is served from memory.
            Some(StoredRead::Failed(e)) => {
                self.metrics.storage_read("failed");
                tracing::debug!(%date, error = %e, "the stored copy cannot be read; asking upstream");
            }
            Some(StoredRead::SetAside) => self.metrics.storage_read("set_aside"),
            Some(StoredRead::Missing) | None => {}
        }
        if let Some(until) = self.cooling_down(date) {
            return Err(StoreError::CoolingDown { until });
        }
        let mut lock = None;
        if let Some(cluster) = self.cluster.clone() {
            if let Some(shared) = self.shared_list(&cluster, date).await {
                return Ok(self.keep_shared(shared));
            }
            match self.take_turn(&cluster, date).await {
                Turn::Theirs(list) => return Ok(list),
                Turn::TheirsFailed => {
                    return Err(StoreError::Upstream(UpstreamError::Transport(
                        "another instance's fetch of this date failed".into(),
                    )));
                }
                Turn::Mine(taken) => lock = taken,
            }
        }
        let fetched = self.upstream.fetch_day(date).await;
        let list = fetched.and_then(|f| Ok((self.usable_list(&f, None)?, f)));
        match list {
            Ok((list, fetched)) => {
                self.keep_fetched(&fetched, &list, lock).await;
                Ok(self.put(list))
            }
            Err(e) => {
                self.give_up_turn(date, lock).await;
                self.cool_down(date, &e);
                Err(StoreError::Upstream(e))
            }
        }
    }

    /// The stored copy of `date`, read on a blocking thread of the store's runtime; `None`
    /// without storage.
    pub(super) async fn read_stored(&self, date: NaiveDate) -> Option<StoredRead> {
        let storage = self.storage.clone()?;
        let now = self.clock.now();
        let read = move || storage.read(date, now);
        let task = match &self.runtime {
            Some(runtime) => runtime.spawn_blocking(read),
            None => tokio::task::spawn_blocking(read),
        };
        task.await.ok()
    }

    /// A fetched day as a list, unless upstream sent items but not one usable paper (a schema
    /// change must not empty a good day).
    pub(super) fn usable_list(
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

    /// The shrink rule: a new copy of a list older than yesterday that would remove more
    /// than half of the papers of the copy it replaces is not taken.
    pub(super) fn shrinks(&self, previous: &DailyList, new: &DailyList) -> bool {
        let past = (self.clock.today() - previous.date).num_days() > 1;
        past && previous.removed_by(new) * 2 > previous.papers.len()
    }

    /// Keeps `stored` instead of `refused`, which would have shrunk it: logged, counted,
    /// and the kept copy counted as fetched now, so that it is not asked for again at once.
    pub(super) fn keep_unshrunk(&self, stored: &DailyList, refused: &DailyList) -> Arc<DailyList> {
        tracing::warn!(
            date = %stored.date,
            stored = stored.papers.len(),
            fetched = refused.papers.len(),
            removed = stored.removed_by(refused),
            "upstream's copy of a past day would remove more than half of its papers; keeping the stored list (paperboy fetch --force replaces it)"
        );
        self.metrics.refresh_outcome("shrunk");
        self.put(Arc::new(stored.refetched(self.clock.now())))
    }

    /// Back-fill (`paperboy fetch`, `paperboy export`): makes sure the data directory (or,
    /// without one, memory) holds a fresh list of `date`. A stored copy that is fresh is kept
    /// (unless `force`); otherwise the date is fetched through the same client, budget and
    /// retries as any other, and written before this returns, so that a list counted as
    /// fetched is on disk. Without `force` the shrink rule holds; a stored copy that cannot
    /// be read is left alone. The list is put in memory too. A failed fetch keeps the stored
    /// copy, and cools the date down as a failed refresh does.
    pub async fn backfill(
        self: &Arc<Self>,
        date: NaiveDate,
        force: bool,
    ) -> Result<Backfilled, BackfillError> {
        let stored = match self.read_stored(date).await {
            Some(StoredRead::Read(list)) => Some(Arc::new(list)),
            Some(StoredRead::Failed(e)) => {
                self.metrics.storage_read("failed");
                return Err(BackfillError::Unreadable(e.to_string()));
            }
            Some(StoredRead::SetAside) => {
                self.metrics.storage_read("set_aside");
                None
            }
            Some(StoredRead::Missing) | None => None,
        };
        if let Some(list) = stored.as_ref().filter(|l| !force && self.is_fresh(l)) {
            self.put_if_absent(list.clone());
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
        if let Some(stored) = stored.as_ref().filter(|s| !force && self.shrinks(s, &list)) {
            self.keep_unshrunk(stored, &list);
            return Ok(Backfilled::Shrunk {
                stored: stored.papers.len(),
                fetched: list.papers.len(),
            });
        }
        let bytes = crate::data::disk::encode_day(&fetched, &list)
            .map_err(|e| BackfillError::Storage(e.to_string()))?;
        self.publish(date, &bytes).await;
        if let Some(storage) = self.storage.clone() {
            let (date, fetched_at) = (list.date, list.fetched_at);
            let save = move || storage.save_encoded(date, fetched_at, &bytes);
            let saved = tokio::task::spawn_blocking(save)
                .await
                .map_err(|e| BackfillError::Storage(e.to_string()))?;
            self.metrics.storage_write(saved.is_ok());
            saved.map_err(|e| BackfillError::Storage(e.to_string()))?;
        }
        let papers = list.papers.len();
        self.put(list);
        Ok(Backfilled::Fetched { papers })
    }
}

/// A load of a date that is over (or was dropped): later requests start another.
pub(super) struct LoadDone<'a> {
    store: &'a Store,
    date: NaiveDate,
}

impl Drop for LoadDone<'_> {
    fn drop(&mut self) {
        let mut loads = self.store.loads.lock().unwrap_or_else(|e| e.into_inner());
        loads.remove(&self.date);
    }
}
