//! Work beside the server: the start-up warm-up, then a timer that keeps today's and
//! yesterday's lists fresh, so that a reader's request rarely waits on upstream.
//!
//! Warm-up runs after the listener is bound (the server answers `/healthz` at once, `/readyz`
//! says 503 until warm-up is over): it reads the stored lists from disk, then brings the last
//! `feeds.default_days` days up to date from upstream as their freshness requires. Readiness
//! never depends on upstream being up: an upstream failure ends warm-up all the same, and the
//! stored (or no) copies are served.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::common::clock::Clock;
use crate::data::disk::Storage;
use crate::data::store::Store;

/// Whether an application runs warm-up and the refresh timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// Warm-up, then the refresh timer: what `paperboy serve` runs.
    On,
    /// Neither: for tests that count upstream requests and drive the store themselves. The
    /// application is ready at once.
    Off,
}

/// Whether start-up warm-up has finished.
#[derive(Debug, Default)]
pub struct Readiness {
    ready: AtomicBool,
}

impl Readiness {
    pub fn new(ready: bool) -> Self {
        Self {
            ready: AtomicBool::new(ready),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }
}

/// The running background task; dropping it stops it (so it ends with the server).
#[derive(Debug)]
pub struct BackgroundTask {
    handle: JoinHandle<()>,
}

impl BackgroundTask {
    /// Runs `work` on `runtime` (backstage), else the current one, until dropped.
    pub fn start<F>(work: F, runtime: Option<tokio::runtime::Handle>) -> BackgroundTask
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let handle = match runtime {
            Some(runtime) => runtime.spawn(work),
            None => tokio::spawn(work),
        };
        BackgroundTask { handle }
    }
}

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// What the background task needs.
#[derive(Debug, Clone)]
pub struct BackgroundContext {
    pub store: Arc<Store>,
    pub storage: Option<Arc<Storage>>,
    pub clock: Arc<dyn Clock>,
    pub readiness: Arc<Readiness>,
    /// Days brought up to date at start-up (`feeds.default_days`).
    pub warm_days: u32,
    /// The days whose lists stay in memory (`feeds.max_days`): their stored copies are read
    /// at start-up; older ones only when a request needs them.
    pub recent_days: u32,
    /// Time between two refresh-timer ticks.
    pub period: Duration,
}

/// Starts warm-up, then the refresh timer, on `runtime` (backstage), else the current one.
pub fn spawn(ctx: BackgroundContext, runtime: Option<tokio::runtime::Handle>) -> BackgroundTask {
    let work = async move {
        warm_up(&ctx).await;
        let mut timer =
            tokio::time::interval_at(tokio::time::Instant::now() + ctx.period, ctx.period);
        timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            timer.tick().await;
            ctx.store.demote_old();
            refresh_recent(&ctx.store, ctx.clock.as_ref()).await;
        }
    };
    BackgroundTask::start(work, runtime)
}

/// The refresh timer's period: a quarter of `cache.recent_ttl` (at least a second), so that
/// today's list is refreshed at most a quarter TTL after it goes stale, usually before a
/// reader finds it stale.
pub fn refresh_period(recent_ttl: Duration) -> Duration {
    (recent_ttl / 4).max(Duration::from_secs(1))
}

/// Reads the stored lists of the recent days, brings the last `warm_days` days up to date,
/// and marks the application ready, whatever upstream said.
pub async fn warm_up(ctx: &BackgroundContext) {
    let started = Instant::now();
    let mut from_disk = 0;
    if let Some(storage) = ctx.storage.clone() {
        let now = ctx.clock.now();
        let dates: Vec<_> = ctx
            .clock
            .today()
            .iter_days()
            .rev()
            .take(ctx.recent_days as usize)
            .collect();
        match tokio::task::spawn_blocking(move || storage.load_dates(dates, now)).await {
            Ok(loaded) => {
                if loaded.failed > 0 {
                    tracing::warn!(
                        files = loaded.failed,
                        "some stored daily lists could not be read (left in place; read again when a request needs them)"
                    );
                }
                for list in loaded.lists {
                    if ctx.store.insert_if_absent(list).await {
                        from_disk += 1;
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the stored daily lists failed"),
        }
    }
    let today = ctx.clock.today();
    let dates = today.iter_days().rev().take(ctx.warm_days as usize);
    join_all(dates.map(|date| ctx.store.ensure_fresh(date))).await;
    ctx.readiness.set_ready();
    tracing::info!(
        from_disk,
        days = ctx.warm_days,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "warm-up finished; ready"
    );
}

/// One tick of the refresh timer: refreshes today's and yesterday's lists if they are stale
/// (or missing). Public so that tests with a pinned clock can drive it.
pub async fn refresh_recent(store: &Arc<Store>, clock: &dyn Clock) {
    let today = clock.today();
    let dates = today.iter_days().rev().take(2);
    join_all(dates.map(|date| store.ensure_fresh(date))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timer_ticks_four_times_per_recent_ttl_and_at_most_once_a_second() {
        assert_eq!(
            refresh_period(Duration::from_secs(600)),
            Duration::from_secs(150)
        );
        assert_eq!(
            refresh_period(Duration::from_secs(2)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn readiness_starts_as_told_and_stays_ready() {
        let r = Readiness::new(false);
        assert!(!r.is_ready());
        r.set_ready();
        assert!(r.is_ready());
        assert!(Readiness::new(true).is_ready());
    }
}
