//! Prometheus figures of one daemon, kept in a registry of its own (no global recorder,
//! so several daemons in one test process never mix their counts).

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::core::event::{Event, Record};
use crate::core::HallState;

pub struct Metrics {
    registry: Registry,
    /// Commands answered, by result: `ok` or the rejection code.
    pub commands: IntCounterVec,
    pub tickets_issued: IntCounter,
    pub calls: IntCounter,
    pub waiting: IntGaugeVec,
    pub batch_size: Histogram,
    pub flush_seconds: Histogram,
    pub displays: IntGauge,
    pub display_resyncs: IntCounter,
    /// Alert webhook notices, by result: `delivered`, `retried` (an attempt failed),
    /// `failed` (given up), `dropped` (the outbox was full).
    pub webhook_deliveries: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("hallq".into()), None)?;
        let commands = IntCounterVec::new(Opts::new("commands_total", "Commands answered, by result"), &["result"])?;
        let tickets_issued = IntCounter::new("tickets_issued_total", "Tickets issued")?;
        let calls = IntCounter::new("calls_total", "Call-outs, recalls included")?;
        let waiting = IntGaugeVec::new(Opts::new("waiting", "Tickets waiting, by queue"), &["queue"])?;
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("engine_batch_size", "Jobs decided per engine batch")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]),
        )?;
        let flush_seconds = Histogram::with_opts(
            HistogramOpts::new("log_flush_seconds", "Time to write and flush one batch to the event log")
                .buckets(prometheus::exponential_buckets(0.000_1, 2.0, 16)?),
        )?;
        let displays = IntGauge::new("display_connections", "Displays connected to the feed")?;
        let display_resyncs =
            IntCounter::new("display_resyncs_total", "Displays resynced with a fresh snapshot after falling behind")?;
        registry.register(Box::new(commands.clone()))?;
        registry.register(Box::new(tickets_issued.clone()))?;
        registry.register(Box::new(calls.clone()))?;
        registry.register(Box::new(waiting.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(flush_seconds.clone()))?;
        registry.register(Box::new(displays.clone()))?;
        registry.register(Box::new(display_resyncs.clone()))?;
        let webhook_deliveries = IntCounterVec::new(
            Opts::new("webhook_deliveries_total", "Alert webhook notices and attempts, by result"),
            &["result"],
        )?;
        registry.register(Box::new(webhook_deliveries.clone()))?;
        Ok(Self {
            registry,
            commands,
            tickets_issued,
            calls,
            waiting,
            batch_size,
            flush_seconds,
            displays,
            display_resyncs,
            webhook_deliveries,
        })
    }

    /// Counts what a flushed batch did.
    pub fn observe_records(&self, state: &HallState, records: &[(u64, Record)]) {
        for (_, r) in records {
            match r.event {
                Event::TicketIssued { .. } => self.tickets_issued.inc(),
                Event::TicketCalled { .. } | Event::TicketRecalled { .. } => self.calls.inc(),
                _ => {}
            }
        }
        for q in &state.setup.queues {
            let n = i64::try_from(state.waiting(&q.id)).unwrap_or(i64::MAX);
            self.waiting.with_label_values(&[q.id.as_str()]).set(n);
        }
    }

    /// The Prometheus text exposition of every figure.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
