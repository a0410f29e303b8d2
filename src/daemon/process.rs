//! What a daemon process sets up about itself before `serve`: the allocator's mapping
//! threshold and the signals that stop it gracefully. Used by `hallq serve` (main.rs).

/// Blocks of 1 MiB and more get their own mapping, returned to the system when freed.
/// glibc's default threshold adapts upwards after such a block is freed, so that the
/// argon2 work areas (19 MiB for each password checked at start and at every login) then
/// stay resident in its arenas: the daemon idled at about 200 MiB instead of 12 MiB
/// (BENCHMARKS.md, `hallq bench`). A fixed threshold keeps it from adapting.
pub fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; no allocation is in flight
    // on another thread this early.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Installs the Ctrl-C and SIGTERM handlers now (inside the runtime) and returns a future
/// that resolves on either. Installing them only when the future is first polled, as
/// `tokio::signal::ctrl_c()` would, leaves a window after start-up in which SIGTERM still
/// has its default action and kills the daemon on the spot.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C (there is no SIGTERM off Unix).
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}
