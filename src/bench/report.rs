//! The benchmark's figures, their ratios hallq / baseline, and how they are printed: a
//! table for people, JSON for machines (the same figures, the same names).

use std::fmt::Write as _;

use serde::Serialize;

use super::options::Options;

/// Latencies of a kind, in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    /// The summary of `samples_us` (microseconds), which it sorts.
    pub fn of(samples_us: &mut [u32]) -> Self {
        samples_us.sort_unstable();
        let n = samples_us.len();
        let at = |q: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            f64::from(samples_us[rank - 1]) / 1000.0
        };
        Self { count: n as u64, p50_ms: at(0.50), p99_ms: at(0.99), max_ms: at(1.0) }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Issuance {
    /// Tickets answered 201 (on disk) within the measured time.
    pub tickets: u64,
    pub seconds: f64,
    pub per_sec: f64,
    pub latency: Summary,
    /// Answers other than 201, and the first of them.
    pub errors: u64,
    pub first_error: Option<String>,
    /// The hall's tickets-per-day limit was reached; the measured time ends there.
    pub day_full: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Callout {
    /// Calls made (a `next` that called a ticket).
    pub calls: u64,
    /// `next` answered with nobody waiting.
    pub empty_calls: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// From the clerk's `next` being sent to each display receiving the call.
    pub latency: Summary,
    pub displays: u64,
    /// Displays that received every call made.
    pub displays_complete: u64,
    pub complete_share: f64,
    /// Snapshots sent to displays after their first (resyncs of lagging displays).
    pub resyncs: u64,
    /// Displays whose connection ended during the run.
    pub disconnected: u64,
    pub first_disconnect: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Resources {
    pub pid: u32,
    /// Resident memory after start, before any display connected.
    pub rss_start_kib: u64,
    /// With every display connected, before the load.
    pub rss_displays_kib: u64,
    pub rss_end_kib: u64,
    pub rss_peak_kib: u64,
    /// (with displays − before displays) / displays.
    pub rss_per_display_kib: Option<f64>,
    /// CPU over the load, as a share of one core.
    pub cpu_percent: f64,
}

/// The figures of one phase: hallq's or the baseline's.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Phase {
    pub issuance: Issuance,
    pub callout: Callout,
    pub resources: Option<Resources>,
}

/// Displays reconnecting at once after a restart of the daemon.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Storm {
    pub displays: u64,
    /// The daemon was restarted first (not with --target).
    pub restarted: bool,
    /// Served: connected and got a snapshot, or resumed and got the messages it missed.
    pub served: u64,
    pub snapshots: u64,
    pub replays: u64,
    /// From the storm's start to each display's first message.
    pub latency: Summary,
    pub first_failure: Option<String>,
}

/// hallq / baseline: above 1 for times and memory means hallq is slower or bigger; for
/// throughput, below 1 means hallq is slower.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Ratios {
    pub issuance_per_sec: Option<f64>,
    pub issuance_p50: Option<f64>,
    pub issuance_p99: Option<f64>,
    pub callout_p50: Option<f64>,
    pub callout_p99: Option<f64>,
    pub rss_per_display: Option<f64>,
    pub cpu: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub options: Options,
    pub hallq: Option<Phase>,
    pub baseline: Option<Phase>,
    pub ratios: Option<Ratios>,
    pub reconnect_storm: Option<Storm>,
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0 && a.is_finite()).then(|| a / b)
}

impl Report {
    pub fn new(options: &Options) -> Self {
        Self { options: options.clone(), hallq: None, baseline: None, ratios: None, reconnect_storm: None }
    }

    pub fn compute_ratios(&mut self) {
        let (Some(h), Some(b)) = (&self.hallq, &self.baseline) else { return };
        let (hi, bi, hc, bc) = (&h.issuance, &b.issuance, &h.callout, &b.callout);
        let res = |f: fn(&Resources) -> Option<f64>| match (&h.resources, &b.resources) {
            (Some(x), Some(y)) => ratio(f(x)?, f(y)?),
            _ => None,
        };
        let calls = hc.latency.count > 0 && bc.latency.count > 0;
        self.ratios = Some(Ratios {
            issuance_per_sec: ratio(hi.per_sec, bi.per_sec),
            issuance_p50: ratio(hi.latency.p50_ms, bi.latency.p50_ms),
            issuance_p99: ratio(hi.latency.p99_ms, bi.latency.p99_ms),
            callout_p50: ratio(hc.latency.p50_ms, bc.latency.p50_ms).filter(|_| calls),
            callout_p99: ratio(hc.latency.p99_ms, bc.latency.p99_ms).filter(|_| calls),
            rss_per_display: res(|r| r.rss_per_display_kib),
            cpu: res(|r| Some(r.cpu_percent)),
        });
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The report as a table: one row a figure, columns hallq, baseline and the ratio.
    pub fn table(&self) -> String {
        let o = &self.options;
        let mut out = String::new();
        let target = o.target.as_deref().unwrap_or("a fresh daemon (child process)");
        let _ = writeln!(
            out,
            "hallq bench: {} kiosks, {} displays, {} clerks at {} calls/s, {} s per phase, against {target}\n",
            o.kiosks, o.displays, o.clerks, o.calls_per_sec, o.duration_s
        );
        let _ = writeln!(out, "{:<34} {:>12} {:>12} {:>8}", "", "hallq", "baseline", "ratio");
        for row in self.rows() {
            let cell = |v: Option<f64>, d: usize| v.map_or_else(|| "-".to_string(), |v| format!("{v:.d$}"));
            let _ = writeln!(
                out,
                "{:<34} {:>12} {:>12} {:>8}",
                row.name,
                cell(row.hallq, row.decimals),
                cell(row.baseline, row.decimals),
                cell(row.ratio, 2)
            );
        }
        self.notes(&mut out);
        out
    }

    fn rows(&self) -> Vec<Row> {
        let h = self.hallq.as_ref();
        let b = self.baseline.as_ref();
        let r = self.ratios.clone().unwrap_or_default();
        let pick = |p: Option<&Phase>, f: &dyn Fn(&Phase) -> Option<f64>| p.and_then(f);
        let row = |name: &'static str, decimals, f: &dyn Fn(&Phase) -> Option<f64>, ratio| Row {
            name,
            decimals,
            hallq: pick(h, f),
            baseline: pick(b, f),
            ratio,
        };
        let rss = |p: &Phase, f: fn(&Resources) -> Option<f64>| p.resources.as_ref().and_then(f);
        vec![
            row("issuance: tickets/s", 0, &|p| Some(p.issuance.per_sec), r.issuance_per_sec),
            row("issuance: p50 ms", 2, &|p| Some(p.issuance.latency.p50_ms), r.issuance_p50),
            row("issuance: p99 ms", 2, &|p| Some(p.issuance.latency.p99_ms), r.issuance_p99),
            row("issuance: max ms", 2, &|p| Some(p.issuance.latency.max_ms), None),
            row("issuance: errors", 0, &|p| Some(p.issuance.errors as f64), None),
            row("call-out: calls", 0, &|p| Some(p.callout.calls as f64), None),
            row("call-out: p50 ms", 2, &|p| Some(p.callout.latency.p50_ms), r.callout_p50),
            row("call-out: p99 ms", 2, &|p| Some(p.callout.latency.p99_ms), r.callout_p99),
            row("call-out: max ms", 2, &|p| Some(p.callout.latency.max_ms), None),
            row("call-out: displays with every call %", 1, &|p| Some(100.0 * p.callout.complete_share), None),
            row("call-out: resyncs", 0, &|p| Some(p.callout.resyncs as f64), None),
            row("RSS at start MiB", 1, &|p| rss(p, |r| Some(r.rss_start_kib as f64 / 1024.0)), None),
            row("RSS with displays MiB", 1, &|p| rss(p, |r| Some(r.rss_displays_kib as f64 / 1024.0)), None),
            row("RSS peak MiB", 1, &|p| rss(p, |r| Some(r.rss_peak_kib as f64 / 1024.0)), None),
            row("RSS per display KiB", 1, &|p| rss(p, |r| r.rss_per_display_kib), r.rss_per_display),
            row("CPU % of one core", 0, &|p| rss(p, |r| Some(r.cpu_percent)), r.cpu),
        ]
    }

    fn notes(&self, out: &mut String) {
        for (who, phase) in [("hallq", &self.hallq), ("baseline", &self.baseline)] {
            let Some(p) = phase else { continue };
            if p.issuance.day_full {
                let _ = writeln!(
                    out,
                    "{who}: the hall's tickets-per-day limit was reached after {:.1} s; the issuance figures end there",
                    p.issuance.seconds
                );
            }
            for e in
                [&p.issuance.first_error, &p.callout.first_error, &p.callout.first_disconnect].into_iter().flatten()
            {
                let _ = writeln!(out, "{who}: {e}");
            }
        }
        if let Some(s) = &self.reconnect_storm {
            let how = if s.restarted { "after a restart" } else { "at once" };
            let _ = writeln!(
                out,
                "\nreconnect storm {how}: {} of {} displays served ({} snapshots, {} replays); first message p50 {:.0} ms, p99 {:.0} ms, all by {:.0} ms",
                s.served, s.displays, s.snapshots, s.replays, s.latency.p50_ms, s.latency.p99_ms, s.latency.max_ms
            );
            if let Some(e) = &s.first_failure {
                let _ = writeln!(out, "reconnect storm: {e}");
            }
        }
    }
}

struct Row {
    name: &'static str,
    decimals: usize,
    hallq: Option<f64>,
    baseline: Option<f64>,
    ratio: Option<f64>,
}
