//! Start-up against log size: the example hall's log grown to 10⁴ … 10⁶ events (working
//! days of 2,000 tickets each, written by the real core and store), then the release
//! binary started on it three times; the time from spawning the process to the first
//! answer of `/healthz`, which comes only after the whole log is replayed. Prints a
//! Markdown table and writes the plot to `target/bench-startup.svg`.
//!
//! `cargo bench --bench startup` (about two minutes; `-- 10000 100000` for chosen sizes)

mod support;

use std::path::Path;
use std::time::Instant;

use hallq::core::model::Ts;
use support::{median, Daemon, LogWriter, DAY_MS};

/// 2026-01-05 09:00 in Asia/Shanghai: the log's first working day.
const FIRST_DAY: Ts = Ts(1_767_574_800_000);
const RUNS: usize = 3;
const TICKETS_PER_DAY: usize = 2_000;

fn main() {
    let sizes: Vec<usize> = {
        let asked: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
        // (cargo bench passes --bench; anything else that is not a number is ignored)
        if asked.is_empty() {
            vec![0, 10_000, 100_000, 300_000, 1_000_000]
        } else {
            asked
        }
    };
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config");
    let setup = support::setup(&config);
    let mut rows = Vec::new();
    println!("| events in the log | log on disk | runs (spawn → /healthz) | median |");
    println!("| --- | --- | --- | --- |");
    for size in sizes {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut log = LogWriter::new(setup.clone(), dir.path());
        let mut day = 0;
        while log.written < size {
            log.day(Ts(FIRST_DAY.0 + day * DAY_MS), 500, 8, TICKETS_PER_DAY, TICKETS_PER_DAY);
            day += 1;
        }
        let events = log.finish();
        let bytes = dir_bytes(dir.path());
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            let mut daemon = Daemon::start(&config, dir.path());
            times.push(daemon.until_serving(started).as_secs_f64());
            stop(&mut daemon);
        }
        let shown: Vec<String> = times.iter().map(|t| format!("{t:.2} s")).collect();
        let mid = median(&mut times);
        println!("| {events} | {:.0} MiB | {} | {mid:.2} s |", bytes as f64 / 1_048_576.0, shown.join(" / "));
        rows.push((events, mid));
    }
    let svg = plot(&rows);
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-startup.svg");
    match std::fs::write(&out, svg) {
        Ok(()) => println!("\nplot: {}", out.display()),
        Err(e) => eprintln!("cannot write {}: {e}", out.display()),
    }
}

/// A clean stop (SIGTERM), as for a planned restart, so the next start finds a log that
/// was shut down properly.
fn stop(daemon: &mut Daemon) {
    let _ = std::process::Command::new("kill").arg(daemon.child.id().to_string()).status();
    let _ = daemon.child.wait();
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Start-up seconds against events, as a line chart of fixed size.
fn plot(rows: &[(usize, f64)]) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 360.0, 60.0, 40.0, 30.0, 20.0);
    let max_x = rows.iter().map(|r| r.0).max().unwrap_or(1).max(1) as f64;
    let max_y = rows.iter().map(|r| r.1).fold(0.5, f64::max) * 1.15;
    let x = |e: usize| left + (w - left - right) * e as f64 / max_x;
    let y = |s: f64| h - bottom - (h - bottom - top) * s / max_y;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"18\" font-size=\"14\">hallq start-up (spawn to first /healthz answer) against log size</text>\n\
         <line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>\n\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#333\"/>\n",
        h - bottom,
        w - right,
        h - bottom,
        h - bottom
    );
    for i in 0..=4 {
        let s = max_y * f64::from(i) / 4.0;
        svg += &format!("<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{s:.1} s</text>\n", left - 6.0, y(s) + 4.0);
        let e = (max_x * f64::from(i) / 4.0) as usize;
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}k</text>\n",
            x(e),
            h - bottom + 16.0,
            e / 1000
        );
    }
    let points: Vec<String> = rows.iter().map(|&(e, s)| format!("{:.1},{:.1}", x(e), y(s))).collect();
    svg +=
        &format!("<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{}\"/>\n", points.join(" "));
    for &(e, s) in rows {
        svg += &format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#c0392b\"/>\n", x(e), y(s));
    }
    svg += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">events in the log</text>\n</svg>\n",
        left + (w - left - right) / 2.0,
        h - 6.0
    );
    svg
}
