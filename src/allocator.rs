//! Memory goes back to the system after a burst.
//!
//! glibc's malloc, left alone, keeps what a burst of renders used: each thread that allocates
//! may get an arena of its own (up to 8 per core), large buffers that are freed raise the
//! threshold above which later ones are mapped (so they land in arenas instead, and stay), and
//! free pages inside a heap are returned only by `malloc_trim`. Measured with `bench/run.sh`
//! (BENCHMARKS.md): a miss flood left 120 to 300 MB resident. So, at start-up: a fixed mmap
//! threshold of 64 KiB (bodies and render buffers are mapped and unmapped whole), and a
//! thread that trims the heaps every few seconds; the build pool keeps the threads, and so the
//! arenas, few. mimalloc and jemalloc were measured too, and kept more; limiting glibc to two
//! arenas made the HTTP workers contend for them (hot and miss throughput fell).

use std::time::Duration;

/// How often free heap pages are handed back.
pub const TRIM_PERIOD: Duration = Duration::from_secs(2);

/// Tunes the allocator (glibc on Linux; elsewhere nothing) and starts the trimming thread.
/// Call once, first thing in `main`.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; called before other threads
        // exist, with values glibc documents.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
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
