//! Memory of a busy day: the large hall (90 windows, 629 items) with 20,000 tickets issued
//! today, 12,000 of them done, 60 windows open each holding one, the rest waiting; the
//! release binary started on that log, then 100 displays connected to the feed. Prints
//! the daemon's resident memory (VmRSS) at each stage, three runs, and the same hall with
//! an empty log as the baseline.
//!
//! `cargo bench --bench memory`; with `HALLQ_BUSY_LOG=DIR` it only writes the busy day's
//! log into DIR (for profiling the daemon on it, e.g. with heaptrack) and stops.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hallq::core::model::Ts;
use support::{median, Daemon, LogWriter};

const RUNS: usize = 3;
const TICKETS: usize = 20_000;
const DONE: usize = 12_000;
const WINDOWS: usize = 60;
const DISPLAYS: usize = 100;
/// Commands 10 ms apart: the whole day's log spans under ten minutes before now, so it
/// is today's in the hall's time zone (run it after 00:15 local time).
const STEP_MS: i64 = 10;

fn main() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/large");
    let setup = support::setup(&config);
    if let Some(dir) = std::env::var_os("HALLQ_BUSY_LOG") {
        let mut log = LogWriter::new(setup.clone(), Path::new(&dir));
        let now = hallq::time::wall_clock();
        log.day(Ts(now.0 - STEP_MS * (TICKETS as i64 + 4 * DONE as i64 + 200)), STEP_MS, WINDOWS, TICKETS, DONE);
        println!("{} events written to {}", log.finish(), Path::new(&dir).display());
        return;
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut empty = Vec::new();
    let (mut loaded, mut displays) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        let blank = tempfile::tempdir().expect("a temp dir");
        let mut daemon = Daemon::start(&config, blank.path());
        daemon.until_serving(Instant::now());
        settle();
        empty.push(daemon.rss_kib() as f64);
        drop(daemon);

        let dir = tempfile::tempdir().expect("a temp dir");
        let mut log = LogWriter::new(setup.clone(), dir.path());
        let now = hallq::time::wall_clock();
        let start = Ts(now.0 - STEP_MS * (TICKETS as i64 + 4 * DONE as i64 + 200));
        log.day(start, STEP_MS, WINDOWS, TICKETS, DONE);
        let state = log.state();
        let waiting = state.tickets.values().filter(|t| t.status.as_str() == "waiting").count();
        let at_windows = state.windows.values().filter(|w| w.ticket.is_some()).count();
        let state_day = state.day;
        let events = log.finish();
        let mut daemon = Daemon::start(&config, dir.path());
        daemon.until_serving(Instant::now());
        let hall = runtime.block_on(hall_waiting(daemon.port));
        assert!(
            hall > 0,
            "the daemon holds no waiting tickets ({waiting} in the log, day {:?}): the log's day is not today's \
             (run after 00:15 local)",
            state_day
        );
        settle();
        let rss = daemon.rss_kib() as f64;
        loaded.push(rss);
        let conns = runtime.block_on(connect(daemon.port, DISPLAYS));
        let with = daemon.rss_kib() as f64;
        displays.push(with);
        drop(conns);
        println!(
            "run {}: {events} events, {waiting} waiting, {at_windows} at windows (daemon reports {hall} waiting); \
             RSS empty {:.1} MiB, busy day {:.1} MiB, + {DISPLAYS} displays {:.1} MiB",
            run + 1,
            empty[run] / 1024.0,
            rss / 1024.0,
            with / 1024.0
        );
    }
    let show = |xs: &[f64]| xs.iter().map(|k| format!("{:.1}", k / 1024.0)).collect::<Vec<_>>().join(" / ");
    println!("\n| stage | RSS (MiB, {RUNS} runs) | median |");
    println!("| --- | --- | --- |");
    for (name, xs) in [
        ("large hall, empty log", &mut empty),
        ("busy day in state (20,000 tickets, 60 windows open)", &mut loaded),
        ("busy day + 100 displays connected", &mut displays),
    ] {
        let shown = show(xs);
        println!("| {name} | {shown} | {:.1} MiB |", median(xs) / 1024.0);
    }
}

/// Lets start-up's work beside serving end (the demo-password check: an argon2 hash per
/// user, 19 MiB of work area each while it runs) before memory is read.
fn settle() {
    std::thread::sleep(Duration::from_secs(2));
}

/// Waiting tickets the daemon reports, summed over the queues of `/api/v1/hall`.
async fn hall_waiting(port: u16) -> u64 {
    let url = format!("http://127.0.0.1:{port}/api/v1/hall");
    let hall: serde_json::Value = reqwest::get(&url).await.expect("GET /api/v1/hall").json().await.expect("hall JSON");
    hall["queues"].as_array().map(|qs| qs.iter().filter_map(|q| q["waiting"].as_u64()).sum()).unwrap_or(0)
}

type Display = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `n` displays on the feed, each having read its snapshot.
async fn connect(port: u16, n: usize) -> Vec<Display> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws/feed"))
            .await
            .expect("connect a display");
        let first = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
        assert!(matches!(first, Ok(Some(Ok(_)))), "a display got no snapshot");
        out.push(ws);
    }
    out
}
