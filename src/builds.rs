//! Where feeds are built: selecting, rendering and compressing a feed that is not in the render
//! cache runs on blocking threads, at most `server.max_builds` at once, so that the HTTP
//! workers stay free for cached feeds, 304s and health checks whatever a flood of one-off
//! searches asks for. A build that cannot start within [`BUILD_WAIT`] is shed: the caller
//! answers 503 with `Retry-After: 1`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tracing::Instrument;

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

/// The bounded pool of feed builds.
#[derive(Debug)]
pub struct Builds {
    slots: Arc<Semaphore>,
    size: usize,
    wait: Duration,
    shed: AtomicU64,
}

impl Builds {
    /// A pool running at most `slots` builds at once.
    pub fn new(slots: usize) -> Self {
        Self::with_wait(slots, BUILD_WAIT)
    }

    /// Like [`Builds::new`], shedding after `wait` (tests shorten it).
    pub fn with_wait(slots: usize, wait: Duration) -> Self {
        let size = slots.max(1);
        Self {
            slots: Arc::new(Semaphore::new(size)),
            size,
            wait,
            shed: AtomicU64::new(0),
        }
    }

    /// Runs `job` on a blocking thread once a slot is free, within the caller's tracing span.
    pub async fn run<T, F>(&self, job: F) -> Result<T, BuildError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) | Err(_) => {
                self.shed.fetch_add(1, Ordering::Relaxed);
                return Err(BuildError::Overloaded);
            }
        };
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            span.in_scope(job)
        })
        .instrument(tracing::Span::current())
        .await
        .map_err(|e| BuildError::Failed(e.to_string()))
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
