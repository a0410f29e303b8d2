//! Prometheus figures of one daemon, kept in a registry of its own (no global recorder,
//! so several daemons in one test process never mix their counts).

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::core::facts::{Fact, What};
use crate::core::HallState;

pub struct Metrics {
    registry: Registry,
    /// Commands answered, by result: `ok` or the rejection code.
    pub commands: IntCounterVec,
    /// Reads answered by the engine task (each one waits its turn beside the commands).
    pub engine_queries: IntCounter,
    pub tickets_issued: IntCounter,
    pub calls: IntCounter,
    pub waiting: IntGaugeVec,
    pub batch_size: Histogram,
    pub flush_seconds: Histogram,
    pub displays: IntGauge,
    pub display_resyncs: IntCounter,
    /// Call-outs rendered to audio by espeak-ng (a cached one is not rendered again).
    pub voice_renders: IntCounter,
    pub voice_render_failures: IntCounter,
    /// Wait from issue to first call, by queue (observed at the first call).
    pub wait_seconds: HistogramVec,
    /// Service time from `serve` to `done`, by queue (observed at `done`).
    pub service_seconds: HistogramVec,
    /// |expected wait told at issue − wait got|, in minutes, by queue (at the first call
    /// of a ticket that kept a promise), and whether the wait fell inside the range told.
    pub eta_abs_error_minutes: HistogramVec,
    pub eta_within_range: IntCounterVec,
    /// From the feed's publishing of a message (right after the flush) to its write to a
    /// display's socket: one observation per write to one display.
    pub fanout_seconds: Histogram,
    /// Alert webhook notices, by result: `delivered`, `retried` (an attempt failed),
    /// `failed` (given up), `dropped` (the outbox was full).
    pub webhook_deliveries: IntCounterVec,
    /// The log position of the last record flushed (set before its batch is answered).
    pub log_position: IntGauge,
    /// The district link's figures (issue 18).
    pub district: DistrictMetrics,
    /// The kiosk's per-person refusals (issue 17 follow-up point 4), by reason:
    /// `daily_limit` or `must_wait`. A refusal logs nothing, so only the edge can count it.
    pub person_refusals: IntCounterVec,
}

/// Buckets of waits and service times, in seconds: half a minute to two hours, the range
/// a hall's service level (15 minutes) and its aging cap (30) sit in.
const MINUTES_BUCKETS: [f64; 12] =
    [30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0];

/// Registers `metric` with `registry` and hands it back.
fn reg<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> Result<M, prometheus::Error> {
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn counter(r: &Registry, name: &str, help: &str) -> Result<IntCounter, prometheus::Error> {
    reg(r, IntCounter::new(name, help)?)
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec, prometheus::Error> {
    reg(r, IntCounterVec::new(Opts::new(name, help), labels)?)
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: Vec<f64>) -> Result<Histogram, prometheus::Error> {
    reg(r, Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))?)
}

fn histogram_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> Result<HistogramVec, prometheus::Error> {
    reg(r, HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)?)
}

/// Buckets of the absolute error of a promised wait, in minutes.
const ETA_ERROR_BUCKETS: [f64; 13] = [0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 120.0];
/// Buckets of an engine batch's size, in jobs (up to `engine::BATCH_MAX`).
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let r = Registry::new_custom(Some("hallq".into()), None)?;
        let seconds = prometheus::exponential_buckets(0.000_1, 2.0, 16)?;
        let minutes = MINUTES_BUCKETS.to_vec();
        Ok(Self {
            commands: counter_vec(&r, "commands_total", "Commands answered, by result", &["result"])?,
            engine_queries: counter(&r, "engine_queries_total", "Reads answered by the engine task")?,
            tickets_issued: counter(&r, "tickets_issued_total", "Tickets issued")?,
            calls: counter(&r, "calls_total", "Call-outs, recalls included")?,
            waiting: reg(&r, IntGaugeVec::new(Opts::new("waiting", "Tickets waiting, by queue"), &["queue"])?)?,
            batch_size: histogram(&r, "engine_batch_size", "Jobs decided per engine batch", BATCH_BUCKETS.to_vec())?,
            flush_seconds: histogram(
                &r,
                "log_flush_seconds",
                "Time to write and flush one batch to the event log",
                seconds.clone(),
            )?,
            displays: reg(&r, IntGauge::new("display_connections", "Displays connected to the feed")?)?,
            display_resyncs: counter(
                &r,
                "display_resyncs_total",
                "Displays resynced with a fresh snapshot after falling behind",
            )?,
            voice_renders: counter(&r, "voice_renders_total", "Call-outs rendered to audio by espeak-ng")?,
            voice_render_failures: counter(
                &r,
                "voice_render_failures_total",
                "Call-out renders that failed or timed out",
            )?,
            wait_seconds: histogram_vec(
                &r,
                "ticket_wait_seconds",
                "Wait from issue to first call, by queue",
                &["queue"],
                minutes.clone(),
            )?,
            service_seconds: histogram_vec(
                &r,
                "ticket_service_seconds",
                "Service time from serve to done, by queue",
                &["queue"],
                minutes,
            )?,
            eta_abs_error_minutes: histogram_vec(
                &r,
                "eta_abs_error_minutes",
                "Absolute error of the expected wait told at issue against the wait got, by queue",
                &["queue"],
                ETA_ERROR_BUCKETS.to_vec(),
            )?,
            eta_within_range: counter_vec(
                &r,
                "eta_within_range_total",
                "Tickets called with a promise, by queue and whether the wait fell inside the range told",
                &["queue", "within"],
            )?,
            fanout_seconds: histogram(
                &r,
                "feed_fanout_seconds",
                "From a feed message's publishing to its write to a display",
                seconds,
            )?,
            webhook_deliveries: counter_vec(
                &r,
                "webhook_deliveries_total",
                "Alert webhook notices and attempts, by result",
                &["result"],
            )?,
            log_position: reg(&r, IntGauge::new("log_position", "Log position of the last record flushed")?)?,
            district: DistrictMetrics::new(&r)?,
            person_refusals: counter_vec(
                &r,
                "person_refusals_total",
                "Kiosk tickets refused under the per-person limits, by reason",
                &["reason"],
            )?,
            registry: r,
        })
    }

    /// Counts what a flushed batch did, from its facts (`core::facts`).
    pub fn observe_facts(&self, state: &HallState, facts: &[Fact]) {
        for fact in facts {
            match &fact.what {
                What::Issued { .. } => self.tickets_issued.inc(),
                What::Called { .. } | What::Recalled { .. } => self.calls.inc(),
                _ => {}
            }
            self.observe_times(&fact.what);
        }
        for q in &state.setup.queues {
            let n = i64::try_from(state.waiting(&q.id)).unwrap_or(i64::MAX);
            self.waiting.with_label_values(&[q.id.as_str()]).set(n);
        }
    }

    /// A ticket's wait at its first call (from its issue: the first line it waits in)
    /// and its service time when it is done (a bundle's steps are not services here).
    fn observe_times(&self, what: &What) {
        match what {
            What::Called { ticket, step: 0, waited_ms: Some(ms), promised, .. } => {
                let queue = ticket.queue.as_str();
                let s = *ms as f64 / 1000.0;
                self.wait_seconds.with_label_values(&[queue]).observe(s);
                // The same measure as the day's figures (`stats::EtaError`).
                if let Some(p) = promised {
                    let got = s / 60.0;
                    let error = (got - f64::from(p.minutes)).abs();
                    self.eta_abs_error_minutes.with_label_values(&[queue]).observe(error);
                    let within = (f64::from(p.low)..=f64::from(p.high)).contains(&got.round());
                    self.eta_within_range.with_label_values(&[queue, if within { "yes" } else { "no" }]).inc();
                }
            }
            What::Finished { outcome: Some(_), served_ms, queue, .. } => {
                let s = served_ms.unwrap_or(0) as f64 / 1000.0;
                self.service_seconds.with_label_values(&[queue.as_str()]).observe(s);
            }
            _ => {}
        }
    }

    /// The Prometheus text exposition of every figure.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// The district link (issue 18): records flushed here but not yet acknowledged by the
/// hall's JetStream stream and the age of the oldest of them, the position acknowledged,
/// records published, whether the link is up, and why sessions ended.
pub struct DistrictMetrics {
    pub lag_records: IntGauge,
    pub lag_seconds: Gauge,
    /// The log position of the last record the stream acknowledged.
    pub acked_position: IntGauge,
    pub published: IntCounter,
    pub connected: IntGauge,
    /// Sessions with the district's NATS that ended, by why: `connect`, `stream`,
    /// `publish`, `store`, or `foreign` (the stream holds another hall's history).
    pub failures: IntCounterVec,
}

impl DistrictMetrics {
    fn new(r: &Registry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            lag_records: reg(
                r,
                IntGauge::new("district_lag_records", "Records not yet acknowledged by the district's stream")?,
            )?,
            lag_seconds: reg(
                r,
                Gauge::new(
                    "district_lag_seconds",
                    "Age of the oldest record not yet acknowledged by the district's stream",
                )?,
            )?,
            acked_position: reg(
                r,
                IntGauge::new(
                    "district_acked_position",
                    "Log position of the last record the district's stream acknowledged",
                )?,
            )?,
            published: counter(r, "district_published_total", "Records acknowledged by the district's stream")?,
            connected: reg(r, IntGauge::new("district_connected", "1 while the district link is up")?)?,
            failures: counter_vec(
                r,
                "district_failures_total",
                "District link sessions that ended, by why",
                &["reason"],
            )?,
        })
    }
}
