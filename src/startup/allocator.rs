//! Memory goes back to the system after a burst.
//!
//! glibc's malloc, left alone, keeps what a burst of renders used: each thread that allocates
//! may get an arena of its own (up to 8 per core), large buffers that are freed raise the
//! threshold above which later ones are mapped (so they land in arenas instead, and stay), and
//! free pages inside a heap are returned only by `malloc_trim`. Measured with `bench/run.sh`
//! (BENCHMARKS.md): a miss flood left 120 to 300 MB resident. So, at start-up: a fixed mmap
//! threshold of 16 KiB (bodies, render buffers and a daily list's packed text, 20 to 100 KB,
//! are mapped and unmapped whole), a heap's free top handed back from 16 KiB with no extra
//! kept above it, and a thread that trims the heaps every few seconds; the build pool keeps
//! the threads, and so the arenas, few. (64 KiB and glibc's 128 KiB top left 0.1 to 0.2 times
//! more resident above what is weighed after a flood of month digests over a long archive,
//! at the same request rate: BENCHMARKS.md, issue 21.) mimalloc and jemalloc were measured
//! too, and kept more; limiting glibc to two arenas made the HTTP workers contend for them
//! (hot and miss throughput fell).
//!
//! And no per-thread caches of freed chunks (glibc's tcache, up to 7 chunks of each of 64
//! sizes per thread): with a long archive, a sweep over the stored dates left 3 to 6 MB more
//! resident with them, at the same request rate (BENCHMARKS.md, issue 21). glibc reads that
//! setting only from `GLIBC_TUNABLES` when a program starts, so [`tune`] starts the program
//! again (`exec`, same process id) with `glibc.malloc.tcache_count=0` added, unless
//! `GLIBC_TUNABLES` already sets `tcache_count`: an operator's own value is kept.

use std::time::Duration;

/// How often free heap pages are handed back.
pub const TRIM_PERIOD: Duration = Duration::from_secs(2);

/// Allocations of this size and more get pages of their own, given back when freed.
pub const MMAP_THRESHOLD: i32 = 16 * 1024;

/// A heap's free top is handed back once it is this large, down to the last page in use.
pub const TRIM_THRESHOLD: i32 = 16 * 1024;

/// The glibc tunable that turns the per-thread caches off.
pub const NO_THREAD_CACHES: &str = "glibc.malloc.tcache_count=0";

/// `GLIBC_TUNABLES` as it should be for paperboy, given its value now; `None` when it is
/// right already (it sets `glibc.malloc.tcache_count`, whatever its value).
pub fn tunables(current: Option<&str>) -> Option<String> {
    let current = current.unwrap_or("");
    let sets_tcache = current
        .split(':')
        .any(|tunable| tunable.trim().starts_with("glibc.malloc.tcache_count="));
    match (sets_tcache, current.is_empty()) {
        (true, _) => None,
        (false, true) => Some(NO_THREAD_CACHES.to_owned()),
        (false, false) => Some(format!("{current}:{NO_THREAD_CACHES}")),
    }
}

/// Starts the program again with [`tunables`] when they differ from the environment's; returns
/// only when it did not (or could not: then it says why on stderr and goes on as it is).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn restart_without_thread_caches() {
    use std::os::unix::process::CommandExt;

    let current = std::env::var_os("GLIBC_TUNABLES");
    let Some(wanted) = tunables(current.as_deref().and_then(|v| v.to_str())) else {
        return;
    };
    if current.as_deref().is_some_and(|v| v.to_str().is_none()) {
        // Not text: left alone rather than guessed at.
        return;
    }
    let mut args = std::env::args_os();
    let Some(arg0) = args.next() else {
        return;
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!(
                "paperboy: cannot find its own executable ({e}); malloc keeps its per-thread caches"
            );
            return;
        }
    };
    // exec replaces this process; it returns only on failure.
    let e = std::process::Command::new(&exe)
        .arg0(arg0)
        .args(args)
        .env("GLIBC_TUNABLES", wanted)
        .exec();
    eprintln!(
        "paperboy: cannot start {} again with {NO_THREAD_CACHES} ({e}); malloc keeps its per-thread caches",
        exe.display()
    );
}

/// Tunes the allocator (glibc on Linux; elsewhere nothing) and starts the trimming thread.
/// Call once, first thing in `main`, before any other thread exists: it may start the
/// program again ([`tunables`]).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        restart_without_thread_caches();
        // SAFETY: mallopt only changes allocator parameters; called before other threads
        // exist, with values glibc documents.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            libc::mallopt(libc::M_TOP_PAD, 0);
        }
        let spawned = std::thread::Builder::new()
            .name("paperboy-trim".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(TRIM_PERIOD);
                    // SAFETY: malloc_trim only returns free memory to the system.
                    unsafe {
                        libc::malloc_trim(0);
                    }
                }
            });
        if let Err(e) = spawned {
            eprintln!("paperboy: cannot start the memory trimming thread: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcache_is_turned_off_unless_the_operator_set_it() {
        assert_eq!(tunables(None).as_deref(), Some(NO_THREAD_CACHES));
        assert_eq!(tunables(Some("")).as_deref(), Some(NO_THREAD_CACHES));
        assert_eq!(
            tunables(Some("glibc.malloc.arena_max=2")).as_deref(),
            Some("glibc.malloc.arena_max=2:glibc.malloc.tcache_count=0")
        );
        assert_eq!(tunables(Some(NO_THREAD_CACHES)), None, "no second restart");
        assert_eq!(
            tunables(Some("glibc.malloc.arena_max=2:glibc.malloc.tcache_count=7")),
            None,
            "the operator's own value is kept"
        );
        assert_eq!(
            tunables(Some("glibc.malloc.tcache_max=0")).as_deref(),
            Some("glibc.malloc.tcache_max=0:glibc.malloc.tcache_count=0"),
            "another tcache tunable is not tcache_count"
        );
    }
}
