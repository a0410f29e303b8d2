//! `hallq bench --district --halls N`: one district fed by N simulated halls at their peak,
//! through a real NATS JetStream, into the real `hallq district` as a child process.
//!
//! A run: start `nats-server -js` (or use `--nats`); write a district of N copies of the
//! example hall (`dir`); simulate a few weekdays of that hall with the real core
//! (`logs`); make each hall's stream and connection (`halls`); start the district; publish
//! every hall's records up to its first ticket and wait until the district has them (its
//! start, unmeasured); then for `--duration` seconds each hall publishes its records when
//! its replayed day logs them, while this process hears every acknowledgement the district
//! sends (`acks`: the lag, measured at the edge), reads the district's memory and CPU from
//! /proc, and reads its API as a supervisor (`api`); then it waits for the district to
//! drain and checks that every ticket published is in the district's figures.
//!
//! - `options.rs` — the command line; `report.rs` — figures, medians, table, JSON;
//! - `svg.rs` — the curve of lag and memory against the hall count;
//! - `nats.rs` — the NATS server child.

mod acks;
mod api;
mod dir;
mod halls;
mod logs;
mod measure;
mod nats;
mod options;
mod report;
mod svg;

pub use options::DistrictBenchArgs;
pub use report::DistrictReport;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::child::Child;
use super::{procstat, BenchError};
use report::RunFigures;

/// Open files beyond two per hall (its connection here, and its connection and stream
/// files in a NATS server started as a child, which inherits the limit).
const FILES_SLACK: u64 = 1024;

/// Runs every hall count of `args` (`--repeat` times each) and returns the report.
pub fn run(args: &DistrictBenchArgs, duration_s: f64) -> Result<DistrictReport, BenchError> {
    let opts = args.check(duration_s)?;
    let most = opts.halls.iter().copied().max().unwrap_or(1) as u64;
    procstat::raise_nofile(4 * most + FILES_SLACK)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-district")
        .enable_all()
        .build()
        .map_err(|e| BenchError::new(format!("cannot start the async runtime: {e}")))?;
    let exe = std::env::current_exe().map_err(|e| BenchError::new(format!("cannot find the hallq binary: {e}")))?;
    let runs = runtime.block_on(async {
        let mut runs = Vec::new();
        for &n in &opts.halls {
            for _ in 0..opts.repeat {
                runs.push(run_once(&opts, n, &exe).await?);
            }
        }
        Ok::<_, BenchError>(runs)
    })?;
    let report = DistrictReport::new(opts, runs);
    if let Some(path) = &report.options.svg {
        std::fs::write(path, svg::curve(&report.medians))
            .map_err(|e| BenchError::new(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(report)
}

/// One run at `n` halls, on a NATS store and a district of its own.
async fn run_once(opts: &options::DistrictOptions, n: usize, exe: &Path) -> Result<RunFigures, BenchError> {
    let server = match &opts.nats {
        Some(_) => None,
        None => Some(nats::NatsServer::start().await?),
    };
    let url = server.as_ref().map_or_else(|| opts.nats.clone().unwrap_or_default(), |s| s.url.clone());
    let tag = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let dir = dir::write(n, &url, &tag)?;
    let first = dir.first_hall();
    let hall_setup = crate::config::load_dir(&first)
        .map_err(|e| BenchError::new(format!("the generated hall does not load: {e}")))?
        .setup;
    let logs = tokio::task::spawn_blocking(move || logs::simulate(&first, n.min(logs::SEEDS_MAX)))
        .await
        .map_err(|e| BenchError::new(format!("the simulation stopped: {e}")))??;
    let logs: Vec<Arc<logs::SimLog>> = logs.into_iter().map(Arc::new).collect();
    let ledger = acks::Ledger::new(&dir.hall_ids);
    let listener = acks::listen(&url, ledger.clone()).await?;
    let halls = halls::connect(&url, &dir.hall_ids, &logs).await?;
    let mut district = Child::start_district(exe, dir.path()).await?;
    let setup = measure::Setup {
        opts,
        halls: halls.into_iter().map(Arc::new).collect(),
        logs,
        ledger,
        hall_setup: Arc::new(hall_setup),
        district_pid: district.pid(),
        district_url: district.url(),
        nats_pid: server.as_ref().map(nats::NatsServer::pid),
    };
    let figures = measure::run(setup).await;
    let stopped = district.stop(Duration::from_secs(60)).await;
    listener.abort();
    if let Some(s) = server {
        s.stop().await;
    }
    let figures = figures.map_err(|e| district.explain(e))?;
    stopped?;
    Ok(figures)
}
