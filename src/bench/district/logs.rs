//! What the simulated halls publish: logs written by the real core. The simulator
//! (`sim::simulate_logged`) runs the district's own hall setup through one weekday of the
//! example trace (tests/data/arrivals-weekday.csv, ~2,400 visitors) and hands back every
//! record with its log position. A few seeds give a few different days; the halls take
//! them in turn, each with its own start offset, so that no two publish in step.
//!
//! Each log is cut at its first ticket: the records before it (the day's opening, the
//! clerks signing in at the opening, the same instant) are the prefix, published before the clock starts; the rest is paced, each
//! record at its simulated time after the first ticket, divided by the replay speed.

use std::sync::Arc;

use crate::core::event::{Event, Record};
use crate::core::setup::Setup;
use crate::core::HallState;
use crate::sim::{self, ServiceModel, SimHall, Source, Trace};

use super::super::BenchError;

/// The weekday trace, compiled in so that the benchmark runs from the binary alone, like
/// the embedded example hall.
const WEEKDAY_TRACE: &str = include_str!("../../../tests/data/arrivals-weekday.csv");
/// Different simulated days the halls take in turn (each simulation takes a moment).
pub const SEEDS_MAX: usize = 8;
/// The span over which a hall's peak rate is found, in ms.
const PEAK_SPAN_MS: i64 = 10 * 60_000;
/// Called visitors who do not come (the recalls and no-shows make records too).
const NO_SHOW: f64 = 0.05;

/// One simulated day's log, cut at the first ticket.
pub struct SimLog {
    /// Records before the first ticket, in log order (log positions 1, 2, ...).
    pub prefix: Vec<(u64, Record)>,
    /// The rest: each record's simulated time after the first ticket (ms), its position
    /// and the record.
    pub paced: Vec<(i64, u64, Record)>,
}

impl SimLog {
    /// Records per second over the day's busiest `PEAK_SPAN_MS`, and over the same span
    /// from the first ticket.
    pub fn rates(&self) -> (f64, f64) {
        let span_s = PEAK_SPAN_MS as f64 / 1000.0;
        let mut bins = std::collections::BTreeMap::<i64, u64>::new();
        for (at, _, _) in &self.paced {
            *bins.entry(at / PEAK_SPAN_MS).or_default() += 1;
        }
        let peak = bins.values().copied().max().unwrap_or(0) as f64 / span_s;
        let opening = bins.get(&0).copied().unwrap_or(0) as f64 / span_s;
        (peak, opening)
    }

    /// The service day the log opens (what the district's day figures are asked for).
    pub fn day(&self) -> Option<chrono::NaiveDate> {
        self.prefix.iter().find_map(|(_, r)| match &r.event {
            Event::DayOpened { day, .. } => Some(*day),
            _ => None,
        })
    }

    /// The day's figures (`stats.total`, as the API writes them) of the records up to log
    /// position `upto`, applied by the core to a fresh state of `setup`: what the
    /// district's figures for the hall must be once it has those records.
    pub fn figures_upto(&self, setup: &Arc<Setup>, upto: u64) -> serde_json::Value {
        let mut state = HallState::new(setup.clone());
        let records = self.prefix.iter().map(|(s, r)| (*s, r)).chain(self.paced.iter().map(|(_, s, r)| (*s, r)));
        for (seq, record) in records.take_while(|(s, _)| *s <= upto) {
            state.apply(seq, record);
        }
        let total = self.day().and_then(|d| state.stats.get(&d)).map(|s| s.total.clone()).unwrap_or_default();
        serde_json::to_value(crate::http::dto::FiguresDto::from(&total)).unwrap_or_default()
    }
}

/// Simulates `seeds` weekdays of the hall whose configuration is in `hall_dir`.
pub fn simulate(hall_dir: &std::path::Path, seeds: usize) -> Result<Vec<SimLog>, BenchError> {
    let config = crate::config::load_dir(hall_dir)
        .map_err(|e| BenchError::new(format!("the generated hall does not load: {e}")))?;
    let hall = SimHall::from_config("benchmark hall", config, 20_000, sim::DEFAULT_WARMUP_MS);
    let trace = Trace::parse("arrivals-weekday.csv", WEEKDAY_TRACE)
        .map_err(|e| BenchError::new(format!("the embedded trace does not read: {e}")))?;
    (0..seeds.clamp(1, SEEDS_MAX) as u64)
        .map(|seed| {
            let opts = sim::Options {
                source: Source::Trace(trace.clone()),
                service: ServiceModel::Items,
                days: 1,
                seed: seed + 1,
                no_show: NO_SHOW,
                rejoin: 0.0,
                park: 0.0,
                bundles: 0.0,
                appointments: 0.0,
                remote: 0.0,
                guided: 0.0,
                guides: 0,
                escalate: 0.0,
                abandon_after_min: None,
                sla_min: 15,
                sample: 1.0,
                staffing: None,
            };
            let (_, log) = sim::simulate_logged(&hall, &opts)
                .map_err(|e| BenchError::new(format!("simulating a hall's day failed: {e}")))?;
            cut(log)
        })
        .collect()
}

/// Splits a log at its first ticket, checking that positions run 1, 2, 3, ... as the
/// stream sequences will (each hall's stream holds its records alone, from the first).
fn cut(log: Vec<(u64, Record)>) -> Result<SimLog, BenchError> {
    if log.iter().enumerate().any(|(i, (seq, _))| *seq != i as u64 + 1) {
        return Err(BenchError::new("the simulated log's positions do not run 1, 2, 3, ..."));
    }
    let first = log.iter().position(|(_, r)| matches!(r.event, Event::TicketIssued { .. }));
    let Some(first) = first else {
        return Err(BenchError::new("the simulated day issued no ticket"));
    };
    let mut paced = log;
    let prefix: Vec<(u64, Record)> = paced.drain(..first).collect();
    let t0 = paced.first().map_or(0, |(_, r)| r.at.0);
    let paced = paced.into_iter().map(|(seq, record)| (record.at.0 - t0, seq, record)).collect();
    Ok(SimLog { prefix, paced })
}
