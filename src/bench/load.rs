//! One measured phase: connect the displays, then run the kiosks and the clerks for the
//! set time against hallq or the baseline, and turn what everyone saw into figures.
//!
//! Kiosks issue in a closed loop: each sends its next request when the last is answered.
//! Clerks call at a fixed rate; each call's `next` is timed from the moment it is sent,
//! and every display notes when the call arrived, matched by number and window.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::display::{self, Counters, DisplayLog};
use super::options::Options;
use super::procstat::{self, CpuMeter};
use super::report::{Callout, Issuance, Phase, Resources, Summary};
use super::BenchError;

/// The example hall's kiosk token and demo password (the daemon warns while they are used).
pub const KIOSK_TOKEN: &str = "demo-kiosk-1";
pub const PASSWORD: &str = "demo";
/// Displays connecting at the same time while a phase is set up (a storm is another
/// matter: there they all come at once).
const CONNECT_WAVE: usize = 250;
/// How long after the load the displays may take to receive the last calls.
const DELIVERY_GRACE: Duration = Duration::from_secs(3);
/// Latency samples kept per kiosk (far more than a kiosk answers in the longest run).
const SAMPLES_PER_KIOSK_MAX: usize = 1_000_000;
/// Any single request of the benchmark, before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a phase sends its requests and where its displays connect.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub http: String,
    /// The feed's WebSocket URL, without query.
    pub ws: String,
}

impl Endpoints {
    pub fn of_hallq(url: &str) -> Result<Self, BenchError> {
        let host =
            url.strip_prefix("http://").ok_or_else(|| BenchError::new(format!("not an http:// URL: {url:?}")))?;
        Ok(Self { http: url.to_string(), ws: format!("ws://{host}/ws/feed") })
    }

    pub fn of_baseline(http: &str, ws: String) -> Result<Self, BenchError> {
        if !http.starts_with("http://") || !ws.starts_with("ws://") {
            return Err(BenchError::new(format!("the baseline reported odd addresses: {http:?} {ws:?}")));
        }
        Ok(Self { http: http.to_string(), ws })
    }
}

/// What is measured: the daemon (kiosks issue an item of queue A; clerks sign in and open
/// their windows) or the raw baseline.
pub enum Flavor {
    Hallq { service: String },
    Baseline,
}

pub fn client() -> Result<reqwest::Client, BenchError> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(super::options::KIOSKS_MAX)
        .build()
        .map_err(|e| BenchError::new(format!("cannot make an HTTP client: {e}")))
}

async fn json_of(resp: reqwest::Response) -> Result<(StatusCode, Value), reqwest::Error> {
    let status = resp.status();
    let bytes = resp.bytes().await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

impl Flavor {
    /// Reads the daemon's catalogue and picks an item of queue A, which every clerk's
    /// window serves.
    pub async fn hallq(ep: &Endpoints) -> Result<Self, BenchError> {
        let unreachable = |e: reqwest::Error| BenchError::new(format!("cannot reach hallq at {}: {e}", ep.http));
        let resp = client()?.get(format!("{}/api/v1/services", ep.http)).send().await.map_err(unreachable)?;
        let (status, catalog) = json_of(resp).await.map_err(unreachable)?;
        let items = catalog["items"].as_array().filter(|_| status.is_success());
        let item = items.and_then(|items| items.iter().find(|i| i["queue"] == "A"));
        let service = item.and_then(|i| i["code"].as_str()).ok_or_else(|| {
            BenchError::new(format!("{} has no item of queue A in its catalogue; run the example hall", ep.http))
        })?;
        Ok(Flavor::Hallq { service: service.to_string() })
    }

    /// The request every kiosk sends, built once and cloned for each send.
    pub fn issue_request(&self, client: &reqwest::Client, ep: &Endpoints) -> Result<reqwest::Request, BenchError> {
        let builder = match self {
            Flavor::Hallq { service } => client
                .post(format!("{}/api/v1/tickets", ep.http))
                .bearer_auth(KIOSK_TOKEN)
                .header("content-type", "application/json")
                .body(Bytes::from(serde_json::json!({ "service": service }).to_string())),
            Flavor::Baseline => client
                .post(format!("{}/tickets", ep.http))
                .header("content-type", "application/json")
                .body(Bytes::from_static(b"{\"service\":\"SC-0001\"}")),
        };
        builder.build().map_err(|e| BenchError::new(format!("cannot build the kiosk's request: {e}")))
    }
}

/// What a kiosk saw.
#[derive(Default)]
struct KioskLog {
    /// (answered at, latency in µs) of each 201.
    answers: Vec<(Instant, u32)>,
    errors: u64,
    first_error: Option<String>,
}

/// Says why an answer was not a 201; `true` when the hall is full for the day.
async fn refusal(resp: reqwest::Response) -> (String, bool) {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let full = body.contains("\"day_full\"");
    (format!("a kiosk got {status}: {}", body.chars().take(200).collect::<String>()), full)
}

async fn kiosk(
    client: reqwest::Client,
    request: reqwest::Request,
    deadline: Instant,
    full: Arc<AtomicBool>,
) -> (KioskLog, Option<Instant>) {
    let mut log = KioskLog::default();
    let mut day_full_at = None;
    while Instant::now() < deadline && !full.load(Ordering::Relaxed) && log.answers.len() < SAMPLES_PER_KIOSK_MAX {
        let Some(req) = request.try_clone() else { break };
        let sent = Instant::now();
        let outcome = match client.execute(req).await {
            Ok(resp) if resp.status() == StatusCode::CREATED => resp.bytes().await.map(|_| None),
            Ok(resp) => Ok(Some(refusal(resp).await)),
            Err(e) => Ok(Some((format!("a kiosk's request failed: {e}"), false))),
        };
        let done = Instant::now();
        match outcome {
            Ok(None) => log.answers.push((done, micros(done - sent))),
            Ok(Some((why, is_full))) => {
                if is_full {
                    full.store(true, Ordering::Relaxed);
                    day_full_at = Some(sent);
                } else {
                    log.errors += 1;
                    log.first_error.get_or_insert(why);
                }
            }
            Err(e) => {
                log.errors += 1;
                log.first_error.get_or_insert(format!("a kiosk could not read an answer: {e}"));
            }
        }
    }
    (log, day_full_at)
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Connects `n` displays to `url`, a wave at a time, and waits until each has its first
/// message. The tasks read until `stop` flips and then hand back their logs.
pub async fn connect_displays(
    url: &str,
    n: usize,
    counters: &Arc<Counters>,
    stop: &watch::Receiver<bool>,
    runtime: &Handle,
) -> Result<Vec<JoinHandle<DisplayLog>>, BenchError> {
    let mut tasks = Vec::with_capacity(n);
    while tasks.len() < n {
        let wave = CONNECT_WAVE.min(n - tasks.len());
        for _ in 0..wave {
            tasks.push(runtime.spawn(display::run(url.to_string(), counters.clone(), stop.clone())));
        }
        let until = Instant::now() + display::CONNECT_TIMEOUT;
        while counters.ready.load(Ordering::Relaxed) < tasks.len() {
            if let Some(failed) = tasks.iter_mut().find(|t| t.is_finished()) {
                let log = failed.await.unwrap_or_default();
                let why = log.ended.unwrap_or_else(|| "a display ended early".into());
                return Err(BenchError::new(format!("{why} (after {} displays connected)", tasks.len() - wave)));
            }
            if Instant::now() > until {
                return Err(BenchError::new(format!("displays did not connect within {:?}", display::CONNECT_TIMEOUT)));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Ok(tasks)
}

/// Issues `n` tickets one after another, so that the clerks find someone waiting.
async fn pre_issue(client: &reqwest::Client, request: &reqwest::Request, n: usize) -> Result<(), BenchError> {
    for _ in 0..n {
        let req = request.try_clone().ok_or_else(|| BenchError::new("the kiosk's request cannot be repeated"))?;
        let resp = client.execute(req).await.map_err(|e| BenchError::new(format!("issuing a ticket failed: {e}")))?;
        if resp.status() != StatusCode::CREATED {
            return Err(BenchError::new(refusal(resp).await.0));
        }
    }
    Ok(())
}

/// The phase's clerks, signed in at their windows.
async fn clerks(
    opts: &Options,
    client: &reqwest::Client,
    ep: &Endpoints,
    flavor: &Flavor,
) -> Result<Vec<super::clerk::Clerk>, BenchError> {
    let mut clerks = Vec::with_capacity(opts.clerks);
    for n in 1..=opts.clerks {
        clerks.push(match flavor {
            Flavor::Hallq { .. } => super::clerk::Clerk::hallq(client, ep, n).await?,
            Flavor::Baseline => super::clerk::Clerk::baseline(n),
        });
    }
    Ok(clerks)
}

/// Runs one phase against `ep` and returns its figures; `pid` is the measured process's,
/// when it is a child of ours.
/// Displays run on `displays`, a runtime of their own.
pub async fn run_phase(
    opts: &Options,
    ep: &Endpoints,
    flavor: &Flavor,
    pid: Option<u32>,
    displays: &Handle,
) -> Result<Phase, BenchError> {
    let client = client()?;
    // The hall first (clerks at their windows, people waiting, the day opened), so that
    // the displays' memory is measured alone and their feed carries only the run's news.
    let request = flavor.issue_request(&client, ep)?;
    let clerks = clerks(opts, &client, ep, flavor).await?;
    if matches!(flavor, Flavor::Hallq { .. }) {
        // Enough for every call even without kiosks.
        let calls = (opts.calls_per_sec * opts.duration_s).ceil() as usize;
        pre_issue(&client, &request, calls + opts.clerks).await?;
    }
    let mem_start = pid.and_then(procstat::memory);
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let display_tasks = connect_displays(&ep.ws, opts.displays, &counters, &stop_rx, displays).await?;
    // Let the daemon's allocations settle after the handshakes before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mem_displays = pid.and_then(procstat::memory);

    let cpu = pid.and_then(CpuMeter::start);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(opts.duration_s);
    let full = Arc::new(AtomicBool::new(false));
    let kiosks: Vec<_> = (0..opts.kiosks)
        .map(|_| {
            let req = request.try_clone().ok_or_else(|| BenchError::new("the kiosk's request cannot be repeated"));
            req.map(|req| tokio::spawn(kiosk(client.clone(), req, deadline, full.clone())))
        })
        .collect::<Result<_, _>>()?;
    let period = Duration::from_secs_f64(opts.clerks as f64 / opts.calls_per_sec);
    let clerk_tasks: Vec<_> = clerks
        .into_iter()
        .enumerate()
        .map(|(i, clerk)| {
            let first = start + Duration::from_secs_f64(i as f64 / opts.calls_per_sec);
            tokio::spawn(clerk.run(client.clone(), ep.clone(), first, period, deadline))
        })
        .collect();
    let mut kiosk_logs = Vec::with_capacity(kiosks.len());
    for k in kiosks {
        kiosk_logs.push(k.await.map_err(|e| BenchError::new(format!("a kiosk task failed: {e}")))?);
    }
    let mut clerk_logs = Vec::with_capacity(clerk_tasks.len());
    for c in clerk_tasks {
        clerk_logs.push(c.await.map_err(|e| BenchError::new(format!("a clerk task failed: {e}")))?);
    }
    let cpu_percent = cpu.and_then(|c| c.percent());

    // The last calls may still be on their way to the displays.
    let calls: u64 = clerk_logs.iter().map(|c| c.calls.len() as u64).sum();
    let expected = calls * opts.displays as u64;
    let grace = Instant::now() + DELIVERY_GRACE;
    while counters.calls.load(Ordering::Relaxed) < expected && Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop_tx.send(true);
    let mut display_logs = Vec::with_capacity(display_tasks.len());
    for d in display_tasks {
        display_logs.push(d.await.map_err(|e| BenchError::new(format!("a display task failed: {e}")))?);
    }
    let mem_end = pid.and_then(procstat::memory);

    let issuance = issuance_figures(start, deadline, kiosk_logs);
    let callout = callout_figures(&clerk_logs, &display_logs);
    let resources = resources(opts, pid, [mem_start, mem_displays, mem_end], cpu_percent);
    Ok(Phase { issuance, callout, resources })
}

/// The measured process's memory at the start, with the displays connected and at the
/// end, and its CPU use, when all were read.
fn resources(
    opts: &Options,
    pid: Option<u32>,
    memory: [Option<procstat::Memory>; 3],
    cpu_percent: Option<f64>,
) -> Option<Resources> {
    let (pid, [Some(a), Some(b), Some(c)]) = (pid?, memory) else { return None };
    Some(Resources {
        pid,
        rss_start_kib: a.rss_kib,
        rss_displays_kib: b.rss_kib,
        rss_end_kib: c.rss_kib,
        rss_peak_kib: c.peak_kib,
        rss_per_display_kib: (opts.displays > 0).then(|| (b.rss_kib as f64 - a.rss_kib as f64) / opts.displays as f64),
        cpu_percent: cpu_percent.unwrap_or(0.0),
    })
}

fn issuance_figures(start: Instant, deadline: Instant, logs: Vec<(KioskLog, Option<Instant>)>) -> Issuance {
    let full_at = logs.iter().filter_map(|(_, at)| *at).min();
    let end = full_at.map_or(deadline, |f| f.min(deadline));
    let mut samples = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    for (log, _) in logs {
        samples.extend(log.answers.iter().filter(|(at, _)| *at <= end).map(|(_, us)| *us));
        errors += log.errors;
        first_error = first_error.or(log.first_error);
    }
    let seconds = (end - start).as_secs_f64();
    let tickets = samples.len() as u64;
    Issuance {
        tickets,
        seconds,
        per_sec: if seconds > 0.0 { tickets as f64 / seconds } else { 0.0 },
        latency: Summary::of(&mut samples),
        errors,
        first_error,
        day_full: full_at.is_some(),
    }
}

fn callout_figures(clerks: &[super::clerk::ClerkLog], displays: &[DisplayLog]) -> Callout {
    let sent: HashMap<(&str, &str), Instant> =
        clerks.iter().flat_map(|c| &c.calls).map(|c| ((c.number.as_str(), c.window.as_str()), c.sent)).collect();
    let mut samples = Vec::new();
    let mut complete = 0;
    for d in displays {
        let mut got = HashSet::new();
        for seen in &d.calls {
            if let Some(at) = sent.get(&(&*seen.number, &*seen.window)) {
                if got.insert((&*seen.number, &*seen.window)) {
                    samples.push(micros(seen.at.saturating_duration_since(*at)));
                }
            }
        }
        if got.len() == sent.len() {
            complete += 1;
        }
    }
    let ended: Vec<_> = displays.iter().filter_map(|d| d.ended.clone()).collect();
    Callout {
        calls: sent.len() as u64,
        empty_calls: clerks.iter().map(|c| c.empty).sum(),
        errors: clerks.iter().map(|c| c.errors).sum(),
        first_error: clerks.iter().find_map(|c| c.first_error.clone()),
        latency: Summary::of(&mut samples),
        displays: displays.len() as u64,
        displays_complete: complete,
        complete_share: if displays.is_empty() { 1.0 } else { complete as f64 / displays.len() as f64 },
        resyncs: displays.iter().map(|d| u64::from(d.resyncs)).sum(),
        disconnected: ended.len() as u64,
        first_disconnect: ended.into_iter().next(),
    }
}
