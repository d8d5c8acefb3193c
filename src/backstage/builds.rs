//! Where feeds are built: selecting, rendering and compressing a feed that is not in the render
//! cache runs on a pool of `server.max_builds` threads of its own, so that the HTTP workers
//! stay free for cached feeds, 304s and health checks whatever a flood of one-off searches
//! asks for. A build that cannot start within [`BUILD_WAIT`] is shed: the caller answers 503
//! with `Retry-After: 1`.
//!
//! A fixed set of threads rather than tokio's blocking pool: that pool starts a new thread
//! whenever none is idle at the very moment a job arrives, and every new thread may get a
//! malloc arena of its own that keeps the high-water mark of the renders it ran. A fixed pool
//! keeps the threads, and so the memory, as few as the builds allowed at once.
//!
//! The threads run below the HTTP workers' priority ([`crate::backstage::POLICY`]), so that a
//! flood of builds takes the CPU the workers leave, not what cached answers need.
//!
//! The threads share one crossbeam channel, each waiting on it directly. (They first took
//! turns on a mutex around a std receiver: every job then woke the thread holding the mutex
//! and, through the mutex, the next one in line, two futex wake-ups and context switches per
//! build, with the kernel's share of a miss's CPU at a third.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

/// How long a build may wait for a free slot before it is shed.
pub const BUILD_WAIT: Duration = Duration::from_secs(2);

/// Why a build did not run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BuildError {
    #[error("every build slot stayed busy for {} s", BUILD_WAIT.as_secs())]
    Overloaded,
    #[error("the build stopped unexpectedly: {0}")]
    Failed(String),
}

type Job = Box<dyn FnOnce() + Send>;

/// The bounded pool of feed builds.
#[derive(Debug)]
pub struct Builds {
    /// One permit per thread: a job holds one from before it is queued until it has run, so
    /// that the queue never holds more jobs than there are threads.
    slots: Arc<Semaphore>,
    size: usize,
    wait: Duration,
    shed: AtomicU64,
    /// Where jobs go; the threads end when this is dropped.
    jobs: crossbeam_channel::Sender<Job>,
}

impl Builds {
    /// A pool running at most `slots` builds at once.
    pub fn new(slots: usize) -> Self {
        Self::with_wait(slots, BUILD_WAIT)
    }

    /// Like [`Builds::new`], shedding after `wait` (tests shorten it).
    pub fn with_wait(slots: usize, wait: Duration) -> Self {
        let size = slots.max(1);
        let (sender, receiver) = crossbeam_channel::unbounded::<Job>();
        for i in 0..size {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("paperboy-build-{i}"))
                .spawn(move || {
                    crate::backstage::lower_this_thread();
                    // Ends when the pool (the sender) is dropped.
                    while let Ok(job) = receiver.recv() {
                        job();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a build thread");
            }
        }
        Self {
            slots: Arc::new(Semaphore::new(size)),
            size,
            wait,
            shed: AtomicU64::new(0),
            jobs: sender,
        }
    }

    /// Runs `job` on a blocking thread once a slot is free, within the caller's tracing span.
    pub async fn run<T, F>(&self, job: F) -> Result<T, BuildError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        // A free slot is taken at once; only a wait for one sets a timer.
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) | Err(_) => {
                        self.shed.fetch_add(1, Ordering::Relaxed);
                        return Err(BuildError::Overloaded);
                    }
                }
            }
        };
        let span = tracing::Span::current();
        let (done, result) = tokio::sync::oneshot::channel();
        let wrapped: Job = Box::new(move || {
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| span.in_scope(job)));
            // The slot is free before the caller hears of the result.
            drop(permit);
            let _ = done.send(outcome.map_err(|_| "a build panicked".to_owned()));
        });
        self.jobs
            .send(wrapped)
            .map_err(|_| BuildError::Failed("the build threads are gone".into()))?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(BuildError::Failed(e)),
            Err(_) => Err(BuildError::Failed("the build was dropped".into())),
        }
    }

    /// Builds shed since start-up.
    pub fn shed_count(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    /// Builds running right now.
    pub fn running(&self) -> usize {
        self.size.saturating_sub(self.slots.available_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_build_runs_and_returns_its_value() {
        let builds = Builds::new(1);
        assert_eq!(builds.run(|| 6 * 7).await.unwrap(), 42);
    }

    #[tokio::test]
    async fn a_build_that_cannot_start_in_time_is_shed() {
        let builds = Arc::new(Builds::with_wait(1, Duration::from_millis(50)));
        assert_eq!(builds.running(), 0);
        let (started, wait_started) = tokio::sync::oneshot::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let busy = {
            let builds = builds.clone();
            tokio::spawn(async move {
                builds
                    .run(move || {
                        let _ = started.send(());
                        let _ = released.recv();
                    })
                    .await
            })
        };
        wait_started.await.unwrap();
        assert!(matches!(
            builds.run(|| ()).await,
            Err(BuildError::Overloaded)
        ));
        assert_eq!(builds.shed_count(), 1);
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        builds.run(|| ()).await.unwrap();
    }
}
