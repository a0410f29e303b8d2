//! The district process's allocator: fewer arenas, and free memory handed back to the
//! system now and then. A district at a thousand halls allocates from many threads (the
//! runtime's workers, the blocking pool that replays the replicas at start, sled's and
//! the replica's threads), and glibc keeps what a thread freed in that thread's arena;
//! its resident memory then stands well above what it holds (BENCHMARKS.md, the district
//! at scale). Linux with glibc only; elsewhere these do nothing.

use std::time::Duration;

use tokio::sync::watch;

/// glibc arenas at most. Its default is eight per core; the district's threads mostly
/// wait on the runtime, so two arenas cost little contention and keep fewer half-empty
/// heaps resident.
const ARENAS_MAX: i32 = 2;
/// How often free memory is handed back (`malloc_trim`): often enough that a burst's
/// garbage does not stay resident for long, rarely enough that walking the heaps (a few
/// milliseconds, on the blocking pool) costs nothing that shows.
const TRIM_EVERY: Duration = Duration::from_secs(10);

/// Sets the arena limit; call before the runtime starts its threads.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; no allocation is in flight
    // on another thread this early.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS_MAX);
    }
}

/// Hands free memory back to the system every `TRIM_EVERY` until `stop`.
pub async fn trim(mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TRIM_EVERY) => {}
            _ = stop.changed() => return,
        }
        let _ = tokio::task::spawn_blocking(release).await;
    }
}

fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's heaps to the system;
    // it takes the allocator's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
