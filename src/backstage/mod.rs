//! Where the work of an answer that is not cached runs: below the HTTP workers' scheduling
//! priority, so that a flood of new searches, long digests or sweeps over stored dates cannot
//! take the CPU from cached feeds, 304s and health checks.
//!
//! Two kinds of threads run it, both lowered to [`NICE`] as they start (on Linux a thread's
//! nice value is its own, `setpriority(PRIO_PROCESS, gettid(), n)`):
//! - the backstage runtime (a small tokio runtime of its own, with its blocking pool): a miss
//!   is handed to it whole (parsing the query and compiling its patterns, planning, waiting
//!   for the store, which reads stored days and turns fetched pages into lists there too);
//! - the build pool ([`crate::backstage::builds`]): selecting, rendering and compressing.
//!
//! The HTTP workers answer from the caches, and only wait for what backstage hands back.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub mod builds;

/// The nice value of backstage and build threads: the lowest priority short of `SCHED_IDLE`,
/// so that they get the CPU the workers leave, and little of what the workers want.
pub const NICE: i32 = 19;

/// Lowers the calling thread's scheduling priority to [`NICE`] (Linux; elsewhere nothing).
/// A failure (not expected: lowering needs no privilege) is logged and otherwise ignored.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority only read and change the calling thread's
        // scheduling attributes.
        let result = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE)
        };
        if result != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "cannot lower a backstage thread's priority");
        }
    }
}

/// The nice value of the thread `tid` of this process (Linux), for tests and diagnostics.
pub fn nice_of(tid: i32) -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
        // After the command name in parentheses: state is field 3; nice is field 19.
        let after = &stat[stat.rfind(')')? + 1..];
        after.split_whitespace().nth(16)?.parse().ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = tid;
        None
    }
}

/// The backstage runtime, or none (the commands, which serve no HTTP: their work runs where
/// they run).
#[derive(Debug)]
pub struct Backstage {
    runtime: Option<tokio::runtime::Runtime>,
    /// Misses in progress at most: each holds the lists of its window until it is built, so
    /// their number bounds that memory whatever the number of connections.
    admission: Arc<Semaphore>,
    /// How long a miss may wait to be admitted before it is refused (a 503).
    wait: Duration,
}

/// Why a miss was not worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Every admission slot stayed taken for the whole wait.
    Busy,
    /// The task was lost (the runtime shut down, or it panicked).
    Lost,
}

impl Backstage {
    /// A runtime of `threads` worker threads (and a blocking pool of at most
    /// `blocking_threads`, for reading stored days), all lowered to [`NICE`], working on at
    /// most `misses` misses at once; a miss that cannot start within `wait` is refused.
    pub fn start(
        threads: usize,
        blocking_threads: usize,
        misses: usize,
        wait: Duration,
    ) -> std::io::Result<Backstage> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .max_blocking_threads(blocking_threads.max(1))
            .thread_name("paperboy-backstage")
            .on_thread_start(lower_this_thread)
            .enable_all()
            .build()?;
        Ok(Backstage {
            runtime: Some(runtime),
            admission: Arc::new(Semaphore::new(misses.max(1))),
            wait,
        })
    }

    /// No runtime: work runs on the caller's, one miss at a time.
    pub fn inline() -> Backstage {
        Backstage {
            runtime: None,
            admission: Arc::new(Semaphore::new(1)),
            wait: Duration::MAX,
        }
    }

    /// Runs the miss `task` backstage once one of the admission slots is free (waiting at
    /// most the backstage's wait), and waits for its result.
    pub async fn admit<F>(&self, task: F) -> Result<F::Output, Refused>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if self.runtime.is_none() {
            return Ok(task.await);
        }
        let permit = match self.admission.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => tokio::time::timeout(self.wait, self.admission.clone().acquire_owned())
                .await
                .map_err(|_| Refused::Busy)?
                .map_err(|_| Refused::Lost)?,
        };
        self.run(async move {
            let output = task.await;
            drop(permit);
            output
        })
        .await
        .ok_or(Refused::Lost)
    }

    /// The runtime's handle, if there is one.
    pub fn handle(&self) -> Option<tokio::runtime::Handle> {
        self.runtime.as_ref().map(|r| r.handle().clone())
    }

    /// Runs `task` backstage and waits for its result (on the caller's runtime when there is
    /// no backstage); `None` if the task was lost (the runtime shut down, or it panicked).
    pub async fn run<F>(&self, task: F) -> Option<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.runtime {
            Some(runtime) => runtime
                .spawn(tracing::Instrument::instrument(
                    task,
                    tracing::Span::current(),
                ))
                .await
                .ok(),
            None => Some(task.await),
        }
    }
}

impl Drop for Backstage {
    fn drop(&mut self) {
        // Dropping a runtime blocks until its tasks end, which an async context may not do.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn backstage_threads_run_below_the_callers_priority() {
        // SAFETY: gettid has no preconditions.
        let mine = nice_of(unsafe { libc::gettid() }).unwrap();
        let backstage = Backstage::start(1, 1, 1, Duration::from_secs(1)).unwrap();
        let runtime = backstage.handle().unwrap();
        let theirs = runtime
            .block_on(async { tokio::spawn(async { nice_of(unsafe { libc::gettid() }) }).await })
            .unwrap()
            .unwrap();
        let blocking = runtime
            .block_on(runtime.spawn_blocking(|| nice_of(unsafe { libc::gettid() })))
            .unwrap()
            .unwrap();
        assert!(mine < NICE, "the test itself runs at {mine}");
        assert_eq!(theirs, NICE);
        assert_eq!(blocking, NICE);
    }

    #[tokio::test]
    async fn a_miss_that_cannot_be_admitted_in_time_is_refused() {
        let backstage = Arc::new(Backstage::start(1, 1, 1, Duration::from_millis(50)).unwrap());
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (started, wait_started) = tokio::sync::oneshot::channel::<()>();
        let busy = {
            let backstage = backstage.clone();
            tokio::spawn(async move {
                backstage
                    .admit(async move {
                        let _ = started.send(());
                        let _ = released.await;
                        1
                    })
                    .await
            })
        };
        wait_started.await.unwrap();
        assert_eq!(backstage.admit(async { 2 }).await, Err(Refused::Busy));
        release.send(()).unwrap();
        assert_eq!(busy.await.unwrap(), Ok(1));
        assert_eq!(backstage.admit(async { 3 }).await, Ok(3));
        // Dropped in an async context without blocking.
        drop(backstage);
    }
}
