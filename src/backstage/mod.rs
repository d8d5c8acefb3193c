//! Where the work of an answer that is not cached runs: below the HTTP workers' scheduling
//! priority, so that a flood of new searches, long digests or sweeps over stored dates cannot
//! take the CPU from cached feeds, 304s and health checks.
//!
//! Two kinds of threads run it, both lowered as they start to `SCHED_IDLE` (on Linux a
//! thread's scheduling policy and nice value are its own: `sched_setscheduler(0, ..)`,
//! `setpriority(PRIO_PROCESS, gettid(), n)`), and to [`NICE`] should that policy be refused:
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

/// The nice value of backstage and build threads: the lowest. It is what holds if `SCHED_IDLE`
/// is refused (a seccomp profile may); under that policy the kernel ignores it.
pub const NICE: i32 = 19;

/// The scheduling policy of backstage and build threads (Linux's `SCHED_IDLE`, 5): a weight
/// of 3 against the workers' 1,024 (nice 19 weighs 15), and a worker that wakes takes the CPU
/// from them at once and counts a core running only them as idle when it looks for one.
pub const POLICY: i32 = 5;

/// The scheduling policy of the workers, which keep the one they started with (`SCHED_OTHER`).
pub const WORKERS_POLICY: i32 = 0;

// The numbers above are Linux's, spelled out so that they exist (for tests and diagnostics)
// where libc has no such constants.
#[cfg(target_os = "linux")]
const _: () = assert!(POLICY == libc::SCHED_IDLE && WORKERS_POLICY == libc::SCHED_OTHER);

/// Lowers the calling thread to [`POLICY`] and [`NICE`] (Linux; elsewhere nothing). A
/// failure (not expected: lowering needs no privilege) is logged and otherwise ignored.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority only read and change the calling thread's
        // scheduling attributes.
        let niced = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE)
        };
        if niced != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "cannot lower a backstage thread's nice value");
        }
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `param` lives across the call.
        let idled = unsafe { libc::sched_setscheduler(0, POLICY, &param) };
        if idled != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "cannot put a backstage thread under SCHED_IDLE");
        }
    }
}

/// The nice value of the thread `tid` of this process (Linux), for tests and diagnostics.
pub fn nice_of(tid: i32) -> Option<i32> {
    stat_field(tid, 19)
}

/// The scheduling policy of the thread `tid` of this process (Linux: 0 is `SCHED_OTHER`, 5
/// `SCHED_IDLE`), for tests and diagnostics.
pub fn policy_of(tid: i32) -> Option<i32> {
    stat_field(tid, 41)
}

/// Field `field` (numbered from 1, as in proc(5)) of `/proc/self/task/<tid>/stat`, a number.
fn stat_field(tid: i32, field: usize) -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
        // The command name, in parentheses, is field 2 and may hold spaces: count after it.
        let after = &stat[stat.rfind(')')? + 1..];
        after
            .split_whitespace()
            .nth(field.checked_sub(3)?)?
            .parse()
            .ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (tid, field);
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
    /// `blocking_threads`, for reading stored days), all lowered ([`lower_this_thread`]),
    /// working on at most `misses` misses at once; a miss that cannot start within `wait` is
    /// refused.
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
        fn here() -> (i32, i32) {
            // SAFETY: gettid has no preconditions.
            let tid = unsafe { libc::gettid() };
            (nice_of(tid).unwrap(), policy_of(tid).unwrap())
        }
        let mine = here();
        let backstage = Backstage::start(1, 1, 1, Duration::from_secs(1)).unwrap();
        let runtime = backstage.handle().unwrap();
        let theirs = runtime
            .block_on(async { tokio::spawn(async { here() }).await })
            .unwrap();
        let blocking = runtime.block_on(runtime.spawn_blocking(here)).unwrap();
        assert!(mine.0 < NICE, "the test itself runs at {mine:?}");
        assert_eq!(mine.1, WORKERS_POLICY);
        assert_eq!(theirs, (NICE, POLICY));
        assert_eq!(blocking, (NICE, POLICY));
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
