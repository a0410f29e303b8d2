//! One run's phases once everything is up: the prefix (unmeasured), the paced load with
//! the district's memory, CPU and API read alongside, the drain, and the check of the
//! district's figures against what was published.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::super::report::Summary;
use super::super::{procstat, BenchError};
use super::acks::Ledger;
use super::api::{DistrictApi, Polls};
use super::halls::SimulatedHall;
use super::logs::SimLog;
use super::options::DistrictOptions;
use super::report::{Process, RunFigures};

/// Halls publishing their prefix at once.
const PREFIX_PARALLEL: usize = 64;
/// The least time the district gets to start and take every hall's prefix: it makes a
/// consumer per hall and flushes each record.
const PREFIX_WAIT_MIN: Duration = Duration::from_secs(120);
/// How often the district's API is read during the load (a dashboard refreshes so).
const POLL_EVERY: Duration = Duration::from_secs(2);
/// How often the drain looks at the acknowledgements.
const DRAIN_POLL: Duration = Duration::from_millis(50);

pub struct Setup<'a> {
    pub opts: &'a DistrictOptions,
    pub halls: Vec<Arc<SimulatedHall>>,
    pub logs: Vec<Arc<SimLog>>,
    pub ledger: Arc<Ledger>,
    /// The halls' setup as the district loads it (the oracle replays with it).
    pub hall_setup: Arc<crate::core::setup::Setup>,
    pub district_pid: u32,
    pub district_url: String,
    pub nats_pid: Option<u32>,
}

/// Publishes, measures, drains and checks.
pub async fn run(s: Setup<'_>) -> Result<RunFigures, BenchError> {
    let prefix = publish_prefix(&s).await?;
    let api = DistrictApi::login(&s.district_url).await?;
    let mut f = RunFigures { halls: s.halls.len(), records_prefix: prefix, ..Default::default() };
    let (peak, opening) = s.logs.first().map_or((0.0, 0.0), |l| l.rates());
    f.hall_peak_per_sec = peak;
    f.speed = s.opts.speed.unwrap_or(if opening > 0.0 { (peak / opening).max(1.0) } else { 1.0 });
    let district_start = procstat::memory(s.district_pid).unwrap_or_default();
    let nats_start = s.nats_pid.and_then(procstat::memory).unwrap_or_default();
    let meters = (procstat::CpuMeter::start(s.district_pid), s.nats_pid.and_then(procstat::CpuMeter::start));
    let duration = Duration::from_secs_f64(s.opts.duration_s);
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = JoinSet::new();
    for hall in &s.halls {
        let (hall, ledger, speed) = (hall.clone(), s.ledger.clone(), f.speed);
        tasks.spawn(async move { hall.run(start, duration, speed, ledger).await });
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(poll(api, stop_rx));
    while let Some(done) = tasks.join_next().await {
        let failed = match done {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(format!("a hall's task ended: {e}")),
        };
        if let Some(e) = failed {
            f.publish_errors += 1;
            f.first_error.get_or_insert(e);
        }
    }
    let cpu = (meters.0.and_then(|m| m.percent()), meters.1.and_then(|m| m.percent()));
    let load_end = Instant::now();
    let published: u64 = s.halls.iter().map(|h| h.published.load(Ordering::SeqCst)).sum();
    let drained = wait_acked(&s.ledger, published, Duration::from_secs_f64(s.opts.drain_s)).await;
    f.drain_s = if drained { load_end.elapsed().as_secs_f64() } else { s.opts.drain_s };
    stop_tx.send_replace(true);
    let (api, polls) = poller.await.map_err(|e| BenchError::new(format!("the district's reader stopped: {e}")))?;
    f.records = published - prefix;
    f.records_acked = s.ledger.acked().saturating_sub(prefix);
    f.offered_per_sec = f.records as f64 / s.opts.duration_s;
    let (mut lags, last_ack) = s.ledger.lags();
    f.lag = Summary::of(&mut lags);
    f.sent = Summary::of(&mut s.ledger.sent_lags());
    let ingest_s = last_ack.map_or(0.0, |t| t.saturating_duration_since(start.into_std()).as_secs_f64());
    f.ingest_per_sec = if ingest_s > 0.0 { f.records_acked as f64 / ingest_s } else { 0.0 };
    f.api_read = Summary::of(&mut polls.read_us.clone());
    f.api_failures = polls.failures;
    f.claimed_lag_max_s = polls.claimed_lag_max_s;
    // Memory is read before the check: its read of every hall's day figures is one large
    // answer, whose transient allocation is reported apart (`rss_peak_after_check_kib`).
    let loaded = (procstat::memory(s.district_pid), s.nats_pid.and_then(procstat::memory));
    check(&s, &api, &mut f).await?;
    f.district = process(district_start, loaded.0, cpu.0);
    f.district.rss_peak_after_check_kib = procstat::memory(s.district_pid).map_or(0, |m| m.peak_kib);
    f.nats = s.nats_pid.map(|_| process(nats_start, loaded.1, cpu.1));
    Ok(f)
}

fn process(start: procstat::Memory, end: Option<procstat::Memory>, cpu: Option<f64>) -> Process {
    let end = end.unwrap_or_default();
    Process {
        rss_start_kib: start.rss_kib,
        rss_end_kib: end.rss_kib,
        rss_peak_kib: end.peak_kib.max(start.peak_kib),
        rss_peak_after_check_kib: 0,
        cpu_percent: cpu.unwrap_or(0.0),
    }
}

/// Every hall's records before its first ticket, then the wait until the district has
/// acknowledged them all: its start, with a consumer per hall, is not what is measured.
async fn publish_prefix(s: &Setup<'_>) -> Result<u64, BenchError> {
    use futures_util::StreamExt;
    let results: Vec<Result<u64, BenchError>> = futures_util::stream::iter(s.halls.iter())
        .map(|h| h.publish_prefix())
        .buffer_unordered(PREFIX_PARALLEL)
        .collect()
        .await;
    let mut total = 0;
    for r in results {
        total += r?;
    }
    let wait = PREFIX_WAIT_MIN.max(Duration::from_secs_f64(s.opts.drain_s));
    if !wait_acked(&s.ledger, total, wait).await {
        return Err(BenchError::new(format!(
            "the district acknowledged {} of the {total} records before the first tickets within {wait:?}",
            s.ledger.acked()
        )));
    }
    Ok(total)
}

/// Waits until the district has acknowledged `want` records in all; false at `within`.
async fn wait_acked(ledger: &Ledger, want: u64, within: Duration) -> bool {
    let until = Instant::now() + within;
    while ledger.acked() < want {
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
    true
}

/// Reads the district every `POLL_EVERY` until `stop`.
async fn poll(api: DistrictApi, mut stop: tokio::sync::watch::Receiver<bool>) -> (DistrictApi, Polls) {
    let mut polls = Polls::default();
    while !*stop.borrow() {
        api.poll(&mut polls).await;
        tokio::select! {
            _ = tokio::time::sleep(POLL_EVERY) => {}
            _ = stop.changed() => {}
        }
    }
    (api, polls)
}

/// The district's day figures against what each hall published: the same figures as the
/// core gives for the records published (every count, not only the tickets), and nothing
/// left unapplied.
async fn check(s: &Setup<'_>, api: &DistrictApi, f: &mut RunFigures) -> Result<(), BenchError> {
    let day = s.logs.first().and_then(|l| l.day()).map(|d| d.to_string()).unwrap_or_default();
    let counts = api.counts(&day).await?;
    // Halls on the same simulated day that published as far have the same figures.
    let mut expected = std::collections::HashMap::new();
    for hall in &s.halls {
        let published = hall.published.load(Ordering::SeqCst);
        let key = (Arc::as_ptr(&hall.log), published);
        let want = expected.entry(key).or_insert_with(|| hall.log.figures_upto(&s.hall_setup, published));
        let (got, unapplied) = counts.get(&hall.id).cloned().unwrap_or((serde_json::Value::Null, u64::MAX));
        let issued = |v: &serde_json::Value| v["issued"].as_u64().unwrap_or(0);
        f.tickets_published += issued(want);
        f.tickets_in_district += issued(&got);
        if !same_figures(&got, want) || unapplied != 0 || s.ledger.acked_of(hall.index) != published {
            f.halls_mismatched += 1;
            if f.first_error.is_none() {
                f.first_error =
                    Some(format!("hall {}: the district has {got}, the records published make {want}", hall.id));
            }
        }
    }
    Ok(())
}

/// Whether two figures' JSON are the same, rates to within a billionth: the district reads
/// each record back from JSON, and serde_json's parser (without `float_roundtrip`) may
/// return a record's fractions one unit in the last place off, which moves a derived
/// rate's last digits.
fn same_figures(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => false,
        },
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_figures(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_figures(v, w)),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::same_figures;

    #[test]
    fn figures_match_to_the_rates_last_digits_and_no_further() {
        let a = json!({"issued": 92, "eta_error": {"within_range_rate": 0.9420289855072465}, "mean_score": null});
        let b = json!({"issued": 92, "eta_error": {"within_range_rate": 0.9420289855072463}, "mean_score": null});
        assert!(same_figures(&a, &b));
        assert!(!same_figures(
            &a,
            &json!({"issued": 91, "eta_error": {"within_range_rate": 0.9420289855072465}, "mean_score": null})
        ));
        assert!(!same_figures(
            &a,
            &json!({"issued": 92, "eta_error": {"within_range_rate": 0.95}, "mean_score": null})
        ));
        assert!(!same_figures(&a, &json!({"issued": 92, "eta_error": {}, "mean_score": null})));
    }
}
