//! A district run's figures, the medians over repeated runs, and how they are printed: a
//! table for people, JSON for machines (the same names).

use std::fmt::Write as _;

use serde::Serialize;

use super::super::report::Summary;
use super::options::DistrictOptions;

/// One run at one hall count.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunFigures {
    pub halls: usize,
    /// How much faster than real time the halls replayed their day.
    pub speed: f64,
    /// Records per second one hall logs at its peak (the busiest ten minutes of its
    /// simulated day), and what the halls logged per second in all while measured.
    pub hall_peak_per_sec: f64,
    pub offered_per_sec: f64,
    /// Records before the first ticket, published and drained before the clock started.
    pub records_prefix: u64,
    /// Records published while measured, and those the district acknowledged.
    pub records: u64,
    pub records_acked: u64,
    /// Measured records per second from the start to the last acknowledgement.
    pub ingest_per_sec: f64,
    /// From each record's due time to the district's acknowledgement of it.
    pub lag: Summary,
    /// From each record's due time to the server's acknowledgement of its publication:
    /// the part of `lag` spent before the district could have it.
    pub sent: Summary,
    /// From the end of the load until the district had acknowledged everything.
    pub drain_s: f64,
    pub publish_errors: u64,
    pub first_error: Option<String>,
    pub district: Process,
    /// The NATS server's, when the benchmark started it.
    pub nats: Option<Process>,
    /// `GET /api/v1/district` during the run (a supervisor's dashboard at this size).
    pub api_read: Summary,
    pub api_failures: u64,
    /// The highest `lag_seconds` the district reported for a hall while polled.
    pub claimed_lag_max_s: f64,
    /// Tickets the halls published, and those the district's day figures count.
    pub tickets_published: u64,
    pub tickets_in_district: u64,
    /// Halls whose district figures differ from what they published, or which the
    /// district says it has records of not yet applied, at the end.
    pub halls_mismatched: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Process {
    /// Resident memory when the measured phase started (every hall's setup loaded, the
    /// prefix applied), at its end, and the peak until then (VmHWM), all before the check
    /// reads the day's figures of every hall.
    pub rss_start_kib: u64,
    pub rss_end_kib: u64,
    pub rss_peak_kib: u64,
    /// The peak once the check has read `GET /api/v1/district/stats` (every hall's day
    /// figures in one answer: a large transient allocation at a thousand halls).
    pub rss_peak_after_check_kib: u64,
    /// CPU over the measured phase, in percent of one core.
    pub cpu_percent: f64,
}

/// Every run, and per hall count the medians of its runs.
#[derive(Debug, Serialize)]
pub struct DistrictReport {
    pub options: DistrictOptions,
    pub runs: Vec<RunFigures>,
    pub medians: Vec<Median>,
}

/// The median of each figure over the runs at one hall count.
#[derive(Clone, Debug, Serialize)]
pub struct Median {
    pub halls: usize,
    pub runs: usize,
    pub offered_per_sec: f64,
    pub ingest_per_sec: f64,
    pub lag_p50_ms: f64,
    pub lag_p99_ms: f64,
    pub lag_max_ms: f64,
    pub sent_p99_ms: f64,
    pub rss_peak_mib: f64,
    pub rss_end_mib: f64,
    pub cpu_percent: f64,
    pub api_read_p50_ms: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl DistrictReport {
    pub fn new(options: DistrictOptions, runs: Vec<RunFigures>) -> Self {
        let mut counts: Vec<usize> = runs.iter().map(|r| r.halls).collect();
        counts.dedup();
        let medians = counts
            .iter()
            .map(|&n| {
                let of: Vec<&RunFigures> = runs.iter().filter(|r| r.halls == n).collect();
                let m = |f: &dyn Fn(&RunFigures) -> f64| median(of.iter().map(|r| f(r)).collect());
                let mib = |kib: u64| kib as f64 / 1024.0;
                Median {
                    halls: n,
                    runs: of.len(),
                    offered_per_sec: m(&|r| r.offered_per_sec),
                    ingest_per_sec: m(&|r| r.ingest_per_sec),
                    lag_p50_ms: m(&|r| r.lag.p50_ms),
                    lag_p99_ms: m(&|r| r.lag.p99_ms),
                    lag_max_ms: m(&|r| r.lag.max_ms),
                    sent_p99_ms: m(&|r| r.sent.p99_ms),
                    rss_peak_mib: m(&|r| mib(r.district.rss_peak_kib)),
                    rss_end_mib: m(&|r| mib(r.district.rss_end_kib)),
                    cpu_percent: m(&|r| r.district.cpu_percent),
                    api_read_p50_ms: m(&|r| r.api_read.p50_ms),
                }
            })
            .collect();
        Self { options, runs, medians }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn table(&self) -> String {
        let mut s = String::new();
        let o = &self.options;
        let _ = writeln!(
            s,
            "hallq bench --district: {}s measured per run, drain up to {}s, {} run(s) per hall count",
            o.duration_s, o.drain_s, o.repeat
        );
        let _ = writeln!(
            s,
            "\n{:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>8}",
            "halls",
            "speed",
            "offer/s",
            "ingest/s",
            "lag p50",
            "lag p99",
            "lag max",
            "sent p99",
            "RSS peak",
            "RSS end",
            "chk peak",
            "CPU %",
            "NATS %",
            "API p50",
            "checked"
        );
        for r in &self.runs {
            let checked = if r.records_acked == r.records && r.halls_mismatched == 0 && r.publish_errors == 0 {
                "ok".to_string()
            } else {
                format!("{} bad", r.halls_mismatched + u64::from(r.records_acked != r.records))
            };
            let _ = writeln!(
                s,
                "{:>6} {:>6.2} {:>9.1} {:>9.1} {:>7.0}ms {:>7.0}ms {:>7.0}ms {:>7.0}ms {:>6.0}MiB {:>6.0}MiB {:>6.0}MiB {:>8.0} {:>8} {:>7.0}ms {:>8}",
                r.halls,
                r.speed,
                r.offered_per_sec,
                r.ingest_per_sec,
                r.lag.p50_ms,
                r.lag.p99_ms,
                r.lag.max_ms,
                r.sent.p99_ms,
                r.district.rss_peak_kib as f64 / 1024.0,
                r.district.rss_end_kib as f64 / 1024.0,
                r.district.rss_peak_after_check_kib as f64 / 1024.0,
                r.district.cpu_percent,
                r.nats.as_ref().map_or("-".to_string(), |n| format!("{:.0}", n.cpu_percent)),
                r.api_read.p50_ms,
                checked
            );
            if let Some(e) = &r.first_error {
                let _ = writeln!(s, "       first error: {e}");
            }
        }
        if self.runs.len() > self.medians.len() {
            let _ = writeln!(s, "\nmedians:");
            for m in &self.medians {
                let _ = writeln!(
                    s,
                    "{:>6} halls ({} runs): ingest {:.1}/s, lag p50 {:.0} ms, p99 {:.0} ms (sent p99 {:.0} ms), RSS peak {:.0} MiB, CPU {:.0} %",
                    m.halls, m.runs, m.ingest_per_sec, m.lag_p50_ms, m.lag_p99_ms, m.sent_p99_ms, m.rss_peak_mib, m.cpu_percent
                );
            }
        }
        s
    }
}
