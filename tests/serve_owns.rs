//! `serve` owns what it starts: once its future has returned from a graceful stop (the
//! shutdown future the in-process tests hand it, `support::Daemon`), no task it spawned is
//! alive on its runtime, none of its threads runs (the displays' thread, the password
//! checks'), and the data directory's lock is free: the log opens again at once, as the
//! next start of an in-process restart does.
//!
//! The daemon runs on a runtime of its own, so that the runtime's count of live tasks is
//! the daemon's alone; the clients run on another. The test runs in a process of its own
//! (this test binary again, with only this test), so that no other test's daemon shares
//! its threads.

use crate::support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hallq::config::{Config, PrinterDef, WebhookConfig};
use hallq::daemon::{serve, Options};
use hallq::store::Store;
use support::{guard, Api, HANG_GUARD, KIOSK};
use tokio::net::TcpListener;

/// Set in the process that runs the daemon.
const CHILD: &str = "HALLQ_SERVE_OWNS_CHILD";
/// What the daemon's threads are named after.
const THREAD_PREFIX: &str = "hallq-";

#[test]
fn nothing_serve_started_outlives_it() {
    if std::env::var_os(CHILD).is_some() {
        return serve_and_check();
    }
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let name = format!("{module}::nothing_serve_started_outlives_it");
    let out = tempfile::NamedTempFile::new().expect("a temp file");
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdin(Stdio::null())
        .stdout(out.reopen().expect("the temp file"))
        .stderr(out.reopen().expect("the temp file"))
        .spawn()
        .expect("the test binary runs again");
    // The child guards each of its own waits; this only keeps a hung child from hanging
    // the suite.
    let until = Instant::now() + 3 * HANG_GUARD;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            break status;
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hang guard: the child did not end; its output:\n{}", text_of(out.path()));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = text_of(out.path());
    assert!(status.success(), "the child failed ({status:?}); its output:\n{text}");
    assert!(text.contains("1 passed"), "the child did not run the test; its output:\n{text}");
}

fn text_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("(unreadable: {e})"))
}

/// The example hall with a printer and the alert webhook (each a task of the daemon's),
/// both at a loopback port nobody listens on.
fn config() -> Config {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let kiosk = config.kiosks.iter_mut().find(|k| k.token == KIOSK).expect("kiosk1");
    kiosk.printer =
        Some(PrinterDef { host: "127.0.0.1".into(), port: 1, timeout_ms: 1_000, width_chars: 42, probe_s: 1 });
    config.webhook = Some(WebhookConfig {
        url: "http://127.0.0.1:1/hook".into(),
        secret: "a secret".into(),
        timeout_ms: 1_000,
        attempts: 3,
        backoff_ms: 20,
        outbox: 100,
    });
    config
}

/// Runs a daemon, uses what it starts (HTTP, a sign-in, the engine, a display on the
/// displays' thread, still connected at the stop), stops it, and checks what is left.
fn serve_and_check() {
    let data = tempfile::tempdir().expect("a temp dir");
    let daemon = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let clients = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let listener = daemon.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind an ephemeral port");
    let addr = listener.local_addr().expect("a local address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = Options { data_dir: data.path().to_path_buf(), always_open: true, clock: None };
    let serving = daemon.spawn(serve(listener, config(), options, async move {
        let _ = stopped.await;
    }));
    clients.block_on(async {
        let api = Api::new(addr);
        let health = api.get("/healthz", None).await;
        assert_eq!(health.status, 200, "{}", health.text);
        let mut display = api.display(None).await;
        display.until("snapshot", |s| s["seq"].as_u64().is_some_and(|n| n >= 1)).await;
        let clerk = api.login("clerk1").await;
        api.window_ok(&clerk, "1", "open", None).await;
        let (item, _) = api.items().await.into_iter().next().expect("an item");
        api.issue(&item).await;
        api.call_next(&clerk, "1").await;
        let _ = stop.send(());
        let ended = guard("serve returning", serving).await;
        assert!(matches!(ended, Ok(Ok(()))), "serve ended with {ended:?}");
        display.close().await;
    });
    let left = until_settled(|| threads_named(THREAD_PREFIX));
    assert!(left.is_empty(), "threads of the daemon still running after serve returned: {left:?}");
    let alive = until_settled(|| daemon.metrics().num_alive_tasks());
    assert_eq!(alive, 0, "tasks of the daemon still alive after serve returned");
    // No retry: sled's lock must be free now.
    let reopened = Store::open(data.path()).map(drop).map_err(|e| e.to_string());
    assert_eq!(reopened, Ok(()), "the log did not open at once after serve returned");
    daemon.shutdown_timeout(HANG_GUARD);
}

/// `probe` once it reads empty (zero), or as it reads after the hang guard. The counts
/// settle a moment after `serve` returns, not at that instant: a finished task leaves the
/// runtime's count just after its `JoinHandle` wakes, and a joined thread leaves
/// `/proc/self/task` just after its join returns.
fn until_settled<T: Default + PartialEq>(probe: impl Fn() -> T) -> T {
    let until = Instant::now() + HANG_GUARD;
    loop {
        let now = probe();
        if now == T::default() || Instant::now() >= until {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The names of this process's threads that start with `prefix`.
fn threads_named(prefix: &str) -> Vec<String> {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task lists this process's threads");
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_string())
        .filter(|name| name.starts_with(prefix))
        .collect()
}
