//! The visitors of each simulated day: when they take a ticket, what for, their priority
//! class, and everything random about them (service-time draw, whether they miss their
//! call), all drawn at arrival from one seeded generator.
//!
//! Drawing a visitor's fate at arrival, from a generator of its own, is what makes
//! `--compare` fair: both halls see exactly the same people, who would take exactly as
//! long at any counter (common random numbers).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::input::{unit_exp, Rate, ServiceModel, Trace};

/// Where arrivals come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// Poisson arrivals at a constant rate within the hall's arrival spans, each asking
    /// for an item drawn uniformly from the hall's catalogue.
    Poisson(Rate),
    /// The same recorded day, every simulated day.
    Trace(Trace),
}

/// One person who comes to take a ticket.
#[derive(Clone, Debug, PartialEq)]
pub struct Visitor {
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    /// Index into `Arrivals::services`.
    pub service: usize,
    /// Index into `Arrivals::classes`.
    pub priority: Option<usize>,
    /// The service model's draw for this visitor (see `ServiceModel::draw`).
    pub draw: f64,
    /// Whether they will miss their call.
    pub no_show: bool,
}

/// Makes each day's visitors, deterministically from a seed.
pub struct Arrivals {
    source: Source,
    model: ServiceModel,
    no_show_p: f64,
    sample_p: f64,
    rng: StdRng,
    /// Service codes visitors ask for.
    pub services: Vec<String>,
    /// Priority class ids visitors name.
    pub classes: Vec<String>,
    trace_ix: Vec<(usize, Option<usize>)>,
}

impl Arrivals {
    /// `catalogue` lists the item codes Poisson visitors choose from. `sample_p` keeps
    /// each arrival with that probability (to fit a recorded day to a smaller hall).
    pub fn new(
        source: Source,
        catalogue: &[String],
        model: ServiceModel,
        no_show_p: f64,
        sample_p: f64,
        seed: u64,
    ) -> Arrivals {
        let mut services: Vec<String> = catalogue.to_vec();
        let mut classes: Vec<String> = Vec::new();
        let mut trace_ix = Vec::new();
        if let Source::Trace(trace) = &source {
            services.clear();
            for row in &trace.rows {
                let s = index_of(&mut services, &row.service);
                let p = row.priority.as_ref().map(|p| index_of(&mut classes, p));
                trace_ix.push((s, p));
            }
        }
        let rng = StdRng::seed_from_u64(seed);
        Arrivals { source, model, no_show_p, sample_p, rng, services, classes, trace_ix }
    }

    /// The visitors of the day that starts (local midnight) at `day_start_ms`, arriving
    /// within `spans` (ms after midnight), in time order.
    pub fn day(&mut self, day_start_ms: i64, spans: &[(i64, i64)]) -> Vec<Visitor> {
        let times: Vec<(i64, usize, Option<usize>)> = match &self.source {
            Source::Poisson(rate) => {
                let per_ms = rate.per_hour / 3_600_000.0;
                let n = self.services.len().max(1);
                let mut out = Vec::new();
                for &(from, to) in spans {
                    let mut t = from as f64;
                    loop {
                        t += unit_exp(&mut self.rng) / per_ms;
                        if t >= to as f64 {
                            break;
                        }
                        out.push((t.round() as i64, self.rng.gen_range(0..n), None));
                    }
                }
                out
            }
            Source::Trace(trace) => trace.rows.iter().zip(&self.trace_ix).map(|(r, &(s, p))| (r.at_ms, s, p)).collect(),
        };
        let mut out = Vec::with_capacity(times.len());
        for (t, service, priority) in times {
            // Every draw is made for every arrival, kept or not, so that the stream of
            // visitors does not depend on which were thinned out.
            let keep = self.rng.gen::<f64>() < self.sample_p;
            let draw = self.model.draw(&mut self.rng);
            let no_show = self.rng.gen::<f64>() < self.no_show_p;
            if keep {
                out.push(Visitor { at_ms: day_start_ms + t, service, priority, draw, no_show });
            }
        }
        out
    }
}

fn index_of(list: &mut Vec<String>, s: &str) -> usize {
    match list.iter().position(|x| x == s) {
        Some(i) => i,
        None => {
            list.push(s.to_string());
            list.len() - 1
        }
    }
}
