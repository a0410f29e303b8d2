//! The benchmark's command line and its limits. Every number has a ceiling, named here
//! with why; a bad combination is refused before anything starts.

use serde::Serialize;

use super::BenchError;

/// The benchmark's clerks are clerk N at window N, from 1 up: the example hall's windows
/// 1-11 serve the comprehensive queue A, and window 12 only Z.
pub const CLERKS_MAX: usize = 11;
/// Kiosks held open at once: each is a connection and a task of this process.
pub const KIOSKS_MAX: usize = 4096;
/// Displays: the daemon's own limit (`http::ws::DISPLAYS_MAX`) less room for the storm.
pub const DISPLAYS_MAX: usize = 16_000;
/// Calls per second across all clerks; each call is three requests of one clerk.
pub const CALLS_PER_SEC_MAX: f64 = 200.0;
/// Longest measured phase, in seconds.
pub const DURATION_S_MAX: f64 = 600.0;
/// Linux nice levels run from 0 (an ordinary process) to 19 (the lowest priority).
pub const NICE_MAX: i32 = 19;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Kiosks issuing tickets in a closed loop (each sends its next request when the last
    /// is answered).
    #[arg(long, default_value_t = 64)]
    kiosks: usize,
    /// Displays connected to the feed for the whole run.
    #[arg(long, default_value_t = 100)]
    displays: usize,
    /// Clerks calling (clerk N at window N of the example hall, 1 to 11).
    #[arg(long, default_value_t = 2)]
    clerks: usize,
    /// Calls per second across all clerks: each call is `next`, then `serve` and `done`.
    #[arg(long, default_value_t = 2.0)]
    calls_per_sec: f64,
    /// Seconds each phase (hallq, then the baseline) runs its load.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Drive a daemon already running at this URL (e.g. http://127.0.0.1:8080) instead of
    /// starting one. It must run the example hall's demo credentials, with --always-open.
    #[arg(long)]
    target: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Measure hallq only, without the raw baseline (and so without ratios).
    #[arg(long)]
    no_baseline: bool,
    /// After the run, restart the daemon and have this many displays reconnect at once.
    #[arg(long, default_value_t = 0)]
    reconnect_storm: usize,
    /// Run this process's display clients at this nice level (0 to 19). The displays stand
    /// for screens and phones that are other machines in a hall; on one machine, reading
    /// thousands of sockets takes CPU from the daemon under test. At 19 they take what is
    /// idle, and call-out latencies then include their waiting for it.
    #[arg(long, default_value_t = 0)]
    displays_nice: i32,
    /// `--district` and its options: the district's benchmark instead of a hall's.
    #[command(flatten)]
    pub district: super::district::DistrictBenchArgs,
}

/// The checked options.
#[derive(Clone, Debug, Serialize)]
pub struct Options {
    pub kiosks: usize,
    pub displays: usize,
    pub clerks: usize,
    pub calls_per_sec: f64,
    pub duration_s: f64,
    pub target: Option<String>,
    #[serde(skip)]
    pub json: bool,
    pub no_baseline: bool,
    pub reconnect_storm: usize,
    pub displays_nice: i32,
}

impl BenchArgs {
    pub fn json(&self) -> bool {
        self.json
    }

    /// Seconds each measured phase runs (`--duration`), unchecked.
    pub fn duration_s(&self) -> f64 {
        self.duration
    }

    /// The options, or an error naming the option at fault and its range.
    pub fn check(self) -> Result<Options, BenchError> {
        let bad = |m: String| Err(BenchError::new(m));
        if self.kiosks > KIOSKS_MAX {
            return bad(format!("--kiosks must be 0 to {KIOSKS_MAX}"));
        }
        if self.displays > DISPLAYS_MAX || self.reconnect_storm > DISPLAYS_MAX {
            return bad(format!("--displays and --reconnect-storm must be 0 to {DISPLAYS_MAX}"));
        }
        if !(1..=CLERKS_MAX).contains(&self.clerks) {
            return bad(format!("--clerks must be 1 to {CLERKS_MAX} (the example hall's windows serving queue A)"));
        }
        if !(self.calls_per_sec.is_finite() && self.calls_per_sec > 0.0 && self.calls_per_sec <= CALLS_PER_SEC_MAX) {
            return bad(format!("--calls-per-sec must be above 0 and at most {CALLS_PER_SEC_MAX}"));
        }
        if !(self.duration.is_finite() && self.duration >= 1.0 && self.duration <= DURATION_S_MAX) {
            return bad(format!("--duration must be 1 to {DURATION_S_MAX} seconds"));
        }
        if !(0..=NICE_MAX).contains(&self.displays_nice) {
            return bad(format!("--displays-nice must be 0 to {NICE_MAX}"));
        }
        if let Some(url) = &self.target {
            if !url.starts_with("http://") {
                return bad(format!("--target must be an http:// URL such as http://127.0.0.1:8080, not {url:?}"));
            }
        }
        Ok(Options {
            kiosks: self.kiosks,
            displays: self.displays,
            clerks: self.clerks,
            calls_per_sec: self.calls_per_sec,
            duration_s: self.duration,
            target: self.target.map(|u| u.trim_end_matches('/').to_string()),
            json: self.json,
            no_baseline: self.no_baseline,
            reconnect_storm: self.reconnect_storm,
            displays_nice: self.displays_nice,
        })
    }
}
