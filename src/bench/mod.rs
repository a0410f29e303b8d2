//! `hallq bench`: the daemon measured as a client sees it, beside a raw baseline.
//!
//! Like `redis-benchmark`, it is part of the product. It starts the daemon as a child
//! process on a fresh data directory (or drives one at `--target URL`), connects C
//! displays to the feed, and runs K kiosks issuing tickets in a closed loop and W clerks
//! calling at a set rate, for a set time. Then it runs the same load against a raw baseline
//! (`hallq bench-baseline`, another child: a bare axum handler doing a sled insert and a
//! group-committed flush, and a bare tokio-tungstenite broadcast) and prints both with
//! their ratios. The ratios are what we track: the machine is shared, absolute times move.
//!
//! - `options.rs` — the command line, its limits and their checks;
//! - `load.rs` — kiosks, clerks and the run of one phase; `display.rs` — display clients;
//! - `child.rs` — starting and stopping the child processes;
//! - `baseline.rs` — the raw baseline server;
//! - `procstat.rs` — RSS and CPU from /proc, and the open-file limit;
//! - `report.rs` — figures, ratios, the table and the JSON;
//! - `district/` — `--district`: simulated halls into a district over NATS JetStream.

mod baseline;
mod child;
mod clerk;
mod display;
pub mod district;
mod load;
mod options;
mod procstat;
mod report;
mod storm;

pub use baseline::{serve_baseline, BaselineArgs};
pub use options::BenchArgs;
pub use report::Report;

use std::time::Duration;

use tokio::runtime::Handle;

use child::Child;
use load::{Endpoints, Flavor};

/// Everything that can stop a benchmark, in words that say what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BenchError(String);

impl BenchError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Open files the benchmark needs beyond one per display: the kiosks' and clerks'
/// connections, the runtime, the children's pipes, some slack.
const FILES_SLACK: u64 = 512;

/// Runs the benchmark and returns its report (the caller prints it).
pub fn run(args: BenchArgs) -> Result<Report, BenchError> {
    let opts = args.check()?;
    let displays = opts.displays.max(opts.reconnect_storm) as u64;
    // One socket per display in this process and one in the daemon, which inherits this
    // limit as a child.
    procstat::raise_nofile(displays + opts.kiosks as u64 + FILES_SLACK)?;
    // Displays get threads of their own: with thousands of them in the kiosks' runtime,
    // every feed message queued thousands of display tasks ahead of the kiosks, and the
    // benchmark measured its own scheduler (10,000 displays: 180 tickets/s with the daemon
    // at 60 % of a core). Separate threads leave the sharing to the kernel.
    let nice = opts.displays_nice;
    let displays = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-displays")
        .on_thread_start(move || {
            if !crate::thread_nice::set(nice) {
                tracing::warn!(nice, "cannot lower the display clients' priority");
            }
        })
        .enable_all()
        .build()
        .map_err(|e| BenchError::new(format!("cannot start the async runtime: {e}")))?;
    let main = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench")
        .enable_all()
        .build()
        .map_err(|e| BenchError::new(format!("cannot start the async runtime: {e}")))?;
    let report = main.block_on(run_all(opts, displays.handle().clone()));
    drop(main);
    drop(displays);
    report
}

async fn run_all(opts: options::Options, displays: Handle) -> Result<Report, BenchError> {
    let exe = std::env::current_exe().map_err(|e| BenchError::new(format!("cannot find the hallq binary: {e}")))?;
    let mut report = Report::new(&opts);
    // hallq first, then the baseline: each phase has the machine to itself.
    match &opts.target {
        Some(url) => {
            let endpoints = Endpoints::of_hallq(url)?;
            let flavor = Flavor::hallq(&endpoints).await?;
            report.hallq = Some(load::run_phase(&opts, &endpoints, &flavor, None, &displays).await?);
            if opts.reconnect_storm > 0 {
                report.reconnect_storm = Some(storm::run(&opts, &endpoints, None, &displays).await?);
            }
        }
        None => {
            let mut daemon = Child::start_hallq(&exe).await?;
            let endpoints = Endpoints::of_hallq(&daemon.url())?;
            let flavor = Flavor::hallq(&endpoints).await?;
            let figures = load::run_phase(&opts, &endpoints, &flavor, Some(daemon.pid()), &displays).await;
            let figures = match figures {
                Ok(f) => f,
                Err(e) => return Err(daemon.explain(e)),
            };
            report.hallq = Some(figures);
            if opts.reconnect_storm > 0 {
                report.reconnect_storm = Some(storm::run(&opts, &endpoints, Some(&mut daemon), &displays).await?);
            }
            daemon.stop(Duration::from_secs(30)).await?;
        }
    }
    if !opts.no_baseline {
        let mut baseline = Child::start_baseline(&exe).await?;
        let endpoints = Endpoints::of_baseline(&baseline.url(), baseline.ws_url())?;
        let figures = load::run_phase(&opts, &endpoints, &Flavor::Baseline, Some(baseline.pid()), &displays).await;
        let figures = match figures {
            Ok(f) => f,
            Err(e) => return Err(baseline.explain(e)),
        };
        report.baseline = Some(figures);
        baseline.stop(Duration::from_secs(30)).await?;
    }
    report.compute_ratios();
    Ok(report)
}
