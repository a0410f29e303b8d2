//! The reconnect storm: the daemon restarts (as after an update) and N displays come back
//! at the same moment. Half resume from the last `seq` they saw before the restart and
//! must get what they missed; half come fresh and must get a snapshot. Served means the
//! first message arrived; the figures are the times from the storm's start to each.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::watch;

use super::child::Child;
use super::display::{self, Counters};
use super::load::{client, Endpoints, Flavor};
use super::options::Options;
use super::report::{Storm, Summary};
use super::BenchError;

/// How long the storm may take before the displays not yet served count as failed.
const STORM_TIMEOUT: Duration = Duration::from_secs(30);

/// The `seq` a display sees on connecting now: the head of the feed.
async fn head_seq(ep: &Endpoints, runtime: &Handle) -> Result<u64, BenchError> {
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let probe = runtime.spawn(display::run(ep.ws.clone(), counters.clone(), stop_rx));
    let until = Instant::now() + display::CONNECT_TIMEOUT;
    while counters.ready.load(Ordering::Relaxed) == 0 && !probe.is_finished() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop_tx.send(true);
    let log = probe.await.map_err(|e| BenchError::new(format!("the probe display failed: {e}")))?;
    match log.first {
        Some(_) => Ok(log.last_seq),
        None => Err(BenchError::new(log.ended.unwrap_or_else(|| "the probe display got no snapshot".into()))),
    }
}

/// Restarts `daemon` (when it is ours), then lets the storm loose.
/// The displays run on `runtime`.
pub async fn run(
    opts: &Options,
    ep: &Endpoints,
    daemon: Option<&mut Child>,
    runtime: &Handle,
) -> Result<Storm, BenchError> {
    let head = head_seq(ep, runtime).await?;
    let restarted = daemon.is_some();
    if let Some(d) = daemon {
        d.restart().await?;
    }
    // One ticket after the restart: the resuming displays have something to replay.
    let flavor = Flavor::hallq(ep).await?;
    let client = client()?;
    let request = flavor.issue_request(&client, ep)?;
    let resp = client.execute(request).await.map_err(|e| BenchError::new(format!("issuing a ticket failed: {e}")))?;
    if !resp.status().is_success() {
        return Err(BenchError::new(format!("issuing a ticket after the restart answered {}", resp.status())));
    }

    let n = opts.reconnect_storm;
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let start = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let url = if i % 2 == 0 { format!("{}?after={head}", ep.ws) } else { ep.ws.clone() };
            runtime.spawn(display::run(url, counters.clone(), stop_rx.clone()))
        })
        .collect();
    let until = start + STORM_TIMEOUT;
    while counters.ready.load(Ordering::Relaxed) < n
        && Instant::now() < until
        && !tasks.iter().all(tokio::task::JoinHandle::is_finished)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop_tx.send(true);
    let mut storm = Storm { displays: n as u64, restarted, ..Storm::default() };
    let mut samples = Vec::with_capacity(n);
    for (i, t) in tasks.into_iter().enumerate() {
        let log = t.await.map_err(|e| BenchError::new(format!("a storm display failed: {e}")))?;
        let resumed = i % 2 == 0;
        match log.first {
            Some((kind, at)) if kind == "snapshot" || resumed => {
                storm.served += 1;
                if kind == "snapshot" {
                    storm.snapshots += 1;
                } else {
                    storm.replays += 1;
                }
                samples.push(u32::try_from((at - start).as_micros()).unwrap_or(u32::MAX));
            }
            Some((kind, _)) => {
                storm
                    .first_failure
                    .get_or_insert(format!("a fresh display's first message was {kind}, not a snapshot"));
            }
            None => {
                let why = log.ended.unwrap_or_else(|| format!("no first message within {STORM_TIMEOUT:?}"));
                storm.first_failure.get_or_insert(why);
            }
        }
    }
    storm.latency = Summary::of(&mut samples);
    Ok(storm)
}
