//! Where the work of an answer that is not cached runs: below the HTTP workers' scheduling
//! priority, so that a flood of new searches, long digests or sweeps over stored dates cannot
//! take the CPU from cached feeds, 304s and health checks.
//!
//! Two kinds of threads run it, both lowered to [`NICE`] as they start (on Linux a thread's
//! nice value is its own, `setpriority(PRIO_PROCESS, gettid(), n)`):
//! - the backstage runtime (a small tokio runtime of its own, with its blocking pool): a miss
//!   is handed to it whole (parsing the query and compiling its patterns, planning, waiting
//!   for the store, which reads stored days and turns fetched pages into lists there too);
//! - the build pool ([`crate::builds`]): selecting, rendering and compressing.
//!
//! The HTTP workers answer from the caches, and only wait for what backstage hands back.

use std::future::Future;

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
}

impl Backstage {
    /// A runtime of `threads` worker threads (and a blocking pool of at most
    /// `blocking_threads`, for reading stored days), all lowered to [`NICE`].
    pub fn start(threads: usize, blocking_threads: usize) -> std::io::Result<Backstage> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .max_blocking_threads(blocking_threads.max(1))
            .thread_name("paperboy-backstage")
            .on_thread_start(lower_this_thread)
            .enable_all()
            .build()?;
        Ok(Backstage {
            runtime: Some(runtime),
        })
    }

    /// No runtime: work runs on the caller's.
    pub fn inline() -> Backstage {
        Backstage { runtime: None }
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
                .spawn(tracing::Instrument::instrument(task, tracing::Span::current()))
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
        let backstage = Backstage::start(1, 1).unwrap();
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
}
