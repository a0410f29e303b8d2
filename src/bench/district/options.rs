//! `hallq bench --district`'s command line and its limits, checked before anything starts.

use serde::Serialize;

use super::super::BenchError;

/// Most halls in one run: the district's own limit (`config::district_file::MAX_HALLS`).
pub const HALLS_MAX: usize = 4_096;
/// Most hall counts in one sweep (`--halls 10,100,1000`).
pub const SWEEP_MAX: usize = 8;
/// Most runs per hall count (`--repeat`): the figures shown are their medians.
pub const REPEAT_MAX: usize = 9;
/// Fastest replay of the simulated day (`--speed`): at 60 a simulated minute passes in a
/// second, far beyond any hall's peak.
pub const SPEED_MAX: f64 = 60.0;
/// Longest measured phase and longest drain, in seconds.
pub const DURATION_S_MAX: f64 = 600.0;

#[derive(clap::Args, Debug, Default)]
pub struct DistrictBenchArgs {
    /// Measure the district instead of a hall: simulated halls publish their logs through
    /// a real NATS JetStream into a real `hallq district` child process.
    #[arg(long)]
    pub district: bool,
    /// With --district: how many halls, or a sweep of counts (e.g. 10,100,1000), each run
    /// on a fresh NATS store and district.
    #[arg(long, value_delimiter = ',', default_value = "10")]
    pub halls: Vec<usize>,
    /// With --district: the NATS server to publish through (nats://host:port); without it
    /// the benchmark starts `nats-server -js` on a loopback port with a temporary store.
    /// A run's streams (`HALLQ_b<run>-<n>`, ids of its own) are left on that server.
    #[arg(long)]
    pub nats: Option<String>,
    /// With --district: runs per hall count; the report shows each run and the medians.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// With --district: how much faster than real time each hall replays its simulated day
    /// from its first ticket. Without it, real time, unless the first ten minutes log
    /// fewer records than the day's busiest ten: then fast enough to match them (the
    /// example hall's opening is its busiest, so 1).
    #[arg(long)]
    pub speed: Option<f64>,
    /// With --district: seconds to wait after the load for the district to catch up.
    #[arg(long, default_value_t = 60.0)]
    pub drain: f64,
    /// With --district: write the curve of lag and memory against the hall count here.
    #[arg(long)]
    pub svg: Option<std::path::PathBuf>,
}

/// The checked options of a district run.
#[derive(Clone, Debug, Serialize)]
pub struct DistrictOptions {
    pub halls: Vec<usize>,
    pub duration_s: f64,
    pub drain_s: f64,
    pub repeat: usize,
    pub speed: Option<f64>,
    pub nats: Option<String>,
    #[serde(skip)]
    pub svg: Option<std::path::PathBuf>,
}

impl DistrictBenchArgs {
    /// The options, or an error naming the option at fault and its range.
    pub fn check(&self, duration_s: f64) -> Result<DistrictOptions, BenchError> {
        let bad = |m: String| Err(BenchError::new(m));
        if self.halls.is_empty() || self.halls.len() > SWEEP_MAX {
            return bad(format!("--halls takes 1 to {SWEEP_MAX} counts, e.g. --halls 10,100,1000"));
        }
        if self.halls.iter().any(|&n| !(1..=HALLS_MAX).contains(&n)) {
            return bad(format!("--halls: each count must be 1 to {HALLS_MAX}"));
        }
        if !(1..=REPEAT_MAX).contains(&self.repeat) {
            return bad(format!("--repeat must be 1 to {REPEAT_MAX}"));
        }
        if let Some(s) = self.speed {
            if !(s.is_finite() && s > 0.0 && s <= SPEED_MAX) {
                return bad(format!("--speed must be above 0 and at most {SPEED_MAX}"));
            }
        }
        if !(self.drain.is_finite() && self.drain >= 1.0 && self.drain <= DURATION_S_MAX) {
            return bad(format!("--drain must be 1 to {DURATION_S_MAX} seconds"));
        }
        if let Some(url) = &self.nats {
            // The district's own loader checks the rest when it reads the generated file.
            if !url.starts_with("nats://") {
                return bad(format!("--nats must be a nats://host:port URL, not {url:?}"));
            }
        }
        Ok(DistrictOptions {
            halls: self.halls.clone(),
            duration_s,
            drain_s: self.drain,
            repeat: self.repeat,
            speed: self.speed,
            nats: self.nats.clone(),
            svg: self.svg.clone(),
        })
    }
}
