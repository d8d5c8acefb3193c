//! The store with a shared server (contract section 15): lists read from it before upstream
//! is asked, one fetch of a date for the whole cluster (the others wait for its announcement),
//! fetched lists written to it, and lists other instances fetched taken as they are
//! announced. Whatever the shared server does, the store goes on alone.

use tokio::sync::broadcast::error::RecvError;

use super::*;
use crate::data::cluster::{Change, Cluster, Lock};
use crate::data::disk::{ReadLimits, encode_day, parse_stored_day};

/// Whose turn it is to fetch a date.
pub(super) enum Turn {
    /// Another instance fetched it meanwhile: its list, in memory now.
    Theirs(Arc<DailyList>),
    /// Another instance's fetch failed.
    TheirsFailed,
    /// This instance fetches, holding the cluster's lock when it got one (none when the
    /// shared server cannot say, or another instance did not announce in time).
    Mine(Option<Lock>),
}

/// How often a waiter for another instance's fetch looks for its list when no announcement
/// came (a safety net: announcements are what it waits for).
const CHECK_WHILE_WAITING: std::time::Duration = std::time::Duration::from_secs(1);

/// What a waiter heard of the fetch of its date.
enum Heard {
    /// A list (or announcements were missed: look for it).
    Listed,
    Failed,
}

/// The next announcement about `date`.
async fn announcement(
    changes: &mut tokio::sync::broadcast::Receiver<Change>,
    date: NaiveDate,
) -> Heard {
    loop {
        match changes.recv().await {
            Ok(Change::Day(d)) if d == date => return Heard::Listed,
            Ok(Change::Failed(d)) if d == date => return Heard::Failed,
            Ok(_) => {}
            Err(RecvError::Lagged(_) | RecvError::Closed) => return Heard::Listed,
        }
    }
}

impl Store {
    /// With a shared server: lists are read from it before upstream, fetched ones written to
    /// it, and the ones other instances announce taken (start [`Store::follow_cluster`]).
    pub fn with_cluster(mut self, cluster: Option<Arc<Cluster>>) -> Self {
        self.cluster = cluster;
        self
    }

    /// The shared server, when one is set.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.as_ref()
    }

    fn read_limits(&self) -> ReadLimits {
        self.storage
            .as_ref()
            .map_or_else(ReadLimits::default, |s| s.limits())
    }

    /// `date`'s list as the shared server holds it, if it does (and it reads as a list), with
    /// its bytes.
    pub(super) async fn shared_list(
        &self,
        cluster: &Cluster,
        date: NaiveDate,
    ) -> Option<(DailyList, Vec<u8>)> {
        let limits = self.read_limits();
        let bytes = cluster.day(date, limits.max_bytes).await?;
        if bytes.len() as u64 > limits.max_bytes {
            tracing::warn!(%date, limit = limits.max_bytes, "the shared server's list is larger than upstream.max_body; not taken");
            return None;
        }
        match parse_stored_day(&bytes, date, self.clock.now(), limits.max_items) {
            Ok(list) => Some((list, bytes)),
            Err(e) => {
                tracing::warn!(%date, error = %e, "the shared server's list cannot be read; not taken");
                None
            }
        }
    }

    /// Takes a list read from the shared server: in memory, and written to the data directory
    /// in the background.
    pub(super) fn keep_shared(&self, (list, bytes): (DailyList, Vec<u8>)) -> Arc<DailyList> {
        let list = self.put(Arc::new(list));
        self.persist(Some(bytes), list.clone());
        list
    }

    /// Takes the cluster's lock on fetching `date` (refreshes included): `Some(Some(lock))`
    /// when taken, `Some(None)` when another instance holds it, `None` when the server cannot
    /// say.
    async fn lock_fetch(&self, cluster: &Cluster, date: NaiveDate) -> Option<Option<Lock>> {
        cluster
            .lock(&format!("fetch:{date}"), self.upstream.fetch_bound())
            .await
    }

    /// Whose turn it is to fetch `date`: this instance's when it takes the cluster's lock;
    /// otherwise it waits for the holder's announcement (at most `upstream.timeout`), and
    /// takes the holder's list.
    pub(super) async fn take_turn(&self, cluster: &Cluster, date: NaiveDate) -> Turn {
        // Listening before asking for the lock: no announcement falls between the two.
        let mut changes = cluster.changes();
        match self.lock_fetch(cluster, date).await {
            Some(Some(lock)) => {
                // The instance that held it before may have finished between the read and
                // the lock.
                if let Some(shared) = self.shared_list(cluster, date).await {
                    cluster.unlock(lock).await;
                    return Turn::Theirs(self.keep_shared(shared));
                }
                return Turn::Mine(Some(lock));
            }
            None => return Turn::Mine(None),
            Some(None) => {}
        }
        // Waiting for the holder is waiting for upstream: as long as one fetch may take.
        let deadline = tokio::time::Instant::now() + self.upstream.timeout();
        loop {
            // First at once: the holder may have announced its list before this instance
            // listened, and not released the lock yet.
            if let Some(shared) = self.shared_list(cluster, date).await {
                return Turn::Theirs(self.keep_shared(shared));
            }
            if cluster.is_down() || tokio::time::Instant::now() >= deadline {
                tracing::debug!(%date, "no list from the instance fetching it; fetching here");
                return Turn::Mine(None);
            }
            let heard = tokio::time::timeout(CHECK_WHILE_WAITING, announcement(&mut changes, date));
            // Nothing in a second: the server may have lost an announcement (a restart) or be
            // gone; the list is looked for all the same.
            if let Ok(Heard::Failed) = heard.await {
                return Turn::TheirsFailed;
            }
        }
    }

    /// Keeps a fetched list beyond memory: encoded once, written to the shared server and
    /// announced (before `lock` is released, so that an instance that takes the lock next
    /// finds the list), and written to the data directory in the background.
    pub(super) async fn keep_fetched(
        &self,
        fetched: &FetchedDay,
        list: &Arc<DailyList>,
        lock: Option<Lock>,
    ) {
        let bytes = encode_day(fetched, list).ok();
        if let Some(bytes) = &bytes {
            self.publish(list.date, bytes).await;
        }
        if let (Some(cluster), Some(lock)) = (&self.cluster, lock) {
            cluster.unlock(lock).await;
        }
        self.persist(bytes, list.clone());
    }

    /// Writes `bytes` (a fetched list) to the shared server, when there is one, and announces
    /// it.
    pub(super) async fn publish(&self, date: NaiveDate, bytes: &[u8]) {
        if let Some(cluster) = &self.cluster {
            cluster.put_day(date, bytes).await;
        }
    }

    /// Ends a turn that fetched nothing: waiters are told, and the lock released.
    pub(super) async fn give_up_turn(&self, date: NaiveDate, lock: Option<Lock>) {
        let (Some(cluster), Some(lock)) = (&self.cluster, lock) else {
            return;
        };
        cluster.fetch_failed(date).await;
        cluster.unlock(lock).await;
    }

    /// Whether this instance refreshes `stale`, and with which lock: not (`None`) when
    /// another instance refreshed it already (its fresh copy is taken) or refreshes it now
    /// (it announces what it gets); otherwise the cluster's lock when one was taken.
    pub(super) async fn refresh_turn(&self, stale: &DailyList) -> Option<Option<Lock>> {
        let Some(cluster) = self.cluster.clone() else {
            return Some(None);
        };
        let refreshed = async || {
            self.newer_shared(stale)
                .await
                .is_some_and(|newer| self.is_fresh(&newer))
        };
        if refreshed().await {
            return None;
        }
        match self.lock_fetch(&cluster, stale.date).await {
            Some(None) => None,
            // Refreshed by the instance that held the lock before?
            Some(Some(lock)) if refreshed().await => {
                cluster.unlock(lock).await;
                None
            }
            Some(taken) => Some(taken),
            None => Some(None),
        }
    }

    /// A copy of `held`'s date newer than `held` in the shared server, taken: put in memory
    /// and written to the data directory.
    pub(super) async fn newer_shared(&self, held: &DailyList) -> Option<Arc<DailyList>> {
        let cluster = self.cluster.as_ref()?;
        let shared = self.shared_list(cluster, held.date).await?;
        (shared.0.fetched_at > held.fetched_at).then(|| self.keep_shared(shared))
    }

    /// Takes, as long as the store lives, the lists other instances announce: a date held in
    /// memory is replaced by a newer shared copy within a second of its announcement; after
    /// an outage every date held is compared.
    pub fn follow_cluster(self: &Arc<Self>) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let mut changes = cluster.changes();
        let store = Arc::downgrade(self);
        drop(self.spawn(async move {
            loop {
                let change = changes.recv().await;
                let Some(store) = store.upgrade() else {
                    return;
                };
                match change {
                    Ok(Change::Day(date)) => store.take_announced(date).await,
                    Ok(Change::Failed(_)) => {}
                    Ok(Change::Resync) | Err(RecvError::Lagged(_)) => store.resync().await,
                    Err(RecvError::Closed) => return,
                }
            }
        }));
    }

    /// Takes the shared copy of `date` if it is newer than the one held (none held: nothing
    /// to do; the date is read from the shared server when it is asked for).
    async fn take_announced(&self, date: NaiveDate) {
        if let Some(held) = self.in_memory(date) {
            self.newer_shared(&held).await;
        }
    }

    /// Compares every recent date held with the shared server's copy.
    async fn resync(&self) {
        let held: Vec<Arc<DailyList>> = {
            let recent = self.recent.read().unwrap_or_else(|e| e.into_inner());
            recent.values().cloned().collect()
        };
        for list in held {
            self.newer_shared(&list).await;
        }
    }
}
