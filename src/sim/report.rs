//! A simulation's results: the `Report` (serialised for `--json`) and its readable
//! table, alone or two side by side for `--compare`.
//!
//! Waits are from issue to first call, in minutes; they count only tickets issued within
//! the measured part of each day (all of it for a hall with opening hours, after the
//! warm-up for a hall open always). A bundle ticket's later steps wait again, in the next
//! step's queue: those waits count in that queue's figures and in the step waits, not in
//! the overall waits (one per ticket, from issue) nor the expected-wait error. The wait of
//! a missed number that rejoined is counted nowhere: it is the visitor's second go.
//!
//! A remote ticket's wait runs from its visitor's check-in, not from its issue: the time
//! before, the visitor was at home or on the way, and the wait is what they spend in the
//! hall. A booked visitor's ticket waits from the check-in like any other; its figure for
//! the hall director is apart: how long after the slot's start the visitor was called.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::core::model::WindowId;

/// Counts of what happened to the visitors.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tickets {
    /// Visitors who came to a kiosk or took a number remotely (once each).
    pub arrivals: u64,
    pub issued: u64,
    /// Refusals by the core's code (e.g. `unknown_service`, `hall_closed`).
    pub rejected: BTreeMap<String, u64>,
    /// Issued within the measured part of a day.
    pub measured: u64,
    /// Of those, called (their waits are the figures below).
    pub measured_called: u64,
    /// Finished (done), bundle tickets after their last step.
    pub served: u64,
    /// Marked no-show; a ticket that rejoins and is then served counts here and in
    /// `served`, so `issued + rejoined = served + no_show + abandoned + expired`.
    pub no_show: u64,
    /// Missed numbers taken back in line (`--rejoin`).
    pub rejoined: u64,
    /// Tickets parked while their visitor fetched a document (`--park`).
    pub parked: u64,
    /// Bundle steps done before a bundle ticket's last step.
    pub steps_done: u64,
    /// Left before their call (`--abandon-after`).
    pub abandoned: u64,
    /// Unfinished at midnight, expired by the core's new day.
    pub expired: u64,
}

/// Visitors who booked a slot or took their number remotely (`--appointments`,
/// `--remote`), and how they fared.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Channels {
    /// Bookings the core accepted.
    pub booked: u64,
    /// Booked visitors who checked in within the grace: appointment tickets, due at their
    /// slot's start.
    pub on_time: u64,
    /// ... and after it: ordinary tickets of their service's queue.
    pub late: u64,
    /// Visitors who meant to book but found their slot full (or none left that day), and
    /// came as walk-ins.
    pub slot_full: u64,
    /// Numbers taken remotely.
    pub remote: u64,
    /// Of those, checked in on arrival; their waits count from then.
    pub remote_checked_in: u64,
    /// The hall's grace, in minutes: `slot_wait.within_sla` is the share called within it.
    pub grace_min: u64,
    /// Appointment tickets called before their slot began (their `slot_wait` is 0).
    pub called_before_slot: u64,
    /// How long after their slot's start appointment tickets were called; `within_sla` is
    /// the share called within the grace.
    pub slot_wait: WaitStats,
    /// How long appointment tickets waited from the later of their slot's start and their
    /// check-in: the wait the hall, not the visitor's own lateness, made.
    pub ready_wait: WaitStats,
    /// Waits of remote tickets from their check-in.
    pub remote_wait: WaitStats,
}

/// Wait figures of one group of tickets, in minutes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WaitStats {
    pub tickets: u64,
    pub mean_min: f64,
    pub p50_min: f64,
    pub p95_min: f64,
    pub max_min: f64,
    /// Share of these called within the service level.
    pub within_sla: f64,
}

impl WaitStats {
    /// No wait was measured.
    pub fn is_empty(&self) -> bool {
        self.tickets == 0
    }

    /// Figures of `waits_ms` (sorted in place).
    pub fn of(waits_ms: &mut [u32], sla_ms: u64) -> WaitStats {
        let n = waits_ms.len();
        if n == 0 {
            return WaitStats::default();
        }
        waits_ms.sort_unstable();
        let min = |ms: u32| f64::from(ms) / 60_000.0;
        let rank = |p: f64| waits_ms[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        let sum: u64 = waits_ms.iter().map(|&w| u64::from(w)).sum();
        let within = waits_ms.partition_point(|&w| u64::from(w) <= sla_ms);
        WaitStats {
            tickets: n as u64,
            mean_min: sum as f64 / n as f64 / 60_000.0,
            p50_min: min(rank(0.50)),
            p95_min: min(rank(0.95)),
            max_min: min(waits_ms[n - 1]),
            within_sla: within as f64 / n as f64,
        }
    }
}

/// The calls one rule of the dispatch policy chose (`CallRule`, by its log name).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleCalls {
    pub rule: String,
    pub calls: u64,
    /// Share of all calls (0 when there were none).
    pub share: f64,
}

/// How much one window worked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowUse {
    pub window: String,
    /// Services finished here: tickets done and bundle steps done.
    pub served: u64,
    pub no_show: u64,
    /// Hours holding a ticket (from call to done or no-show).
    pub busy_h: f64,
    /// Hours a clerk was signed in and not on a break (see `--staffing`).
    pub staffed_h: f64,
    /// Busy hours over staffed hours (0 for a window never staffed).
    pub utilisation: f64,
}

impl WindowUse {
    pub fn of(id: &WindowId, busy_ms: i64, staffed_ms: i64, served: u64, no_show: u64) -> WindowUse {
        let h = |ms: i64| ms as f64 / 3_600_000.0;
        let utilisation = if staffed_ms > 0 { busy_ms as f64 / staffed_ms as f64 } else { 0.0 };
        WindowUse { window: id.to_string(), served, no_show, busy_h: h(busy_ms), staffed_h: h(staffed_ms), utilisation }
    }
}

/// The expected wait told at issue against the wait that followed, in minutes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EtaError {
    pub tickets: u64,
    /// Mean absolute error.
    pub mae_min: f64,
    /// Mean of (told − actual): positive means visitors were told too long.
    pub bias_min: f64,
    /// Median and 90th percentile of |told − actual| (half-minute steps).
    pub median_abs_min: f64,
    pub p90_abs_min: f64,
    /// Share of tickets whose wait fell inside the range told at issue.
    pub within_range_rate: f64,
}

/// Everything one simulation found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub hall: String,
    pub days: u32,
    pub sla_min: u64,
    pub tickets: Tickets,
    pub wait: WaitStats,
    pub by_queue: BTreeMap<String, WaitStats>,
    pub by_class: BTreeMap<String, WaitStats>,
    /// Waits of bundle tickets for their later steps, from the step before's end.
    pub step_wait: WaitStats,
    /// 办不成事 (`--escalate`): escalated tickets' waits in the escalation queue, from the
    /// first counter's end; absent without escalations.
    #[serde(skip_serializing_if = "WaitStats::is_empty")]
    pub escalation_wait: WaitStats,
    /// Every call (first calls, calls of later steps and of rejoined and unparked
    /// tickets) by the rule that chose it, in the order `CallRule` declares them.
    pub calls_by_rule: Vec<RuleCalls>,
    pub channels: Channels,
    pub windows: Vec<WindowUse>,
    pub eta: EtaError,
    /// 全程领办: what the guides did (`--guided`); absent when no guide took a number.
    #[serde(skip_serializing_if = "super::GuidesReport::is_empty")]
    pub guides: super::GuidesReport,
    /// 办不成事 (`--escalate`): matters escalated, as the core's figures count them, and
    /// those of them called again at the escalation window.
    #[serde(skip_serializing_if = "is_zero")]
    pub escalated: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub escalated_served: u64,
    /// Mean number waiting in each five-minute bin of the local day (for the chart).
    #[serde(skip)]
    pub waiting_by_5min: Vec<f64>,
}

impl Report {
    /// Mean utilisation over all windows that were staffed.
    pub fn utilisation(&self) -> f64 {
        let (busy, staffed) = self.windows.iter().fold((0.0, 0.0), |(b, s), w| (b + w.busy_h, s + w.staffed_h));
        if staffed > 0.0 {
            busy / staffed
        } else {
            0.0
        }
    }

    /// Hours staffed over all windows and days.
    pub fn staffed_h(&self) -> f64 {
        self.windows.iter().map(|w| w.staffed_h).sum()
    }

    /// The readable table.
    pub fn table(&self) -> String {
        side_by_side(&[self])
    }
}

/// One or more reports as columns of one table.
pub fn side_by_side(reports: &[&Report]) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, f: &dyn Fn(&Report) -> String| {
        rows.push((label.to_string(), reports.iter().map(|r| f(r)).collect()));
    };
    row("hall", &|r| r.hall.clone());
    row("days", &|r| r.days.to_string());
    row("arrivals", &|r| r.tickets.arrivals.to_string());
    row("tickets issued", &|r| r.tickets.issued.to_string());
    row("rejected", &|r| rejected(&r.tickets.rejected));
    row("served / no-show", &|r| format!("{} / {}", r.tickets.served, r.tickets.no_show));
    row("abandoned / expired", &|r| format!("{} / {}", r.tickets.abandoned, r.tickets.expired));
    row("rejoined / parked", &|r| format!("{} / {}", r.tickets.rejoined, r.tickets.parked));
    row("bundle steps done", &|r| r.tickets.steps_done.to_string());
    row("measured waits", &|r| r.tickets.measured_called.to_string());
    row("wait mean/p50/p95/max", &|r| wait(&r.wait));
    row("called within SLA", &|r| format!("{:.1}% (≤{} min)", r.wait.within_sla * 100.0, r.sla_min));
    row("window utilisation", &|r| format!("{:.1}% of staffed time", r.utilisation() * 100.0));
    row("staffed hours a day", &|r| format!("{:.1} h", r.staffed_h() / f64::from(r.days.max(1))));
    row("eta error mae / bias", &|r| format!("{:.1} / {:+.1} min", r.eta.mae_min, r.eta.bias_min));
    row("eta error median / p90", &|r| format!("{:.1} / {:.1} min", r.eta.median_abs_min, r.eta.p90_abs_min));
    row("wait within range told", &|r| format!("{:.1}%", r.eta.within_range_rate * 100.0));
    for q in keys(reports, |r| &r.by_queue) {
        row(&format!("queue {q}"), &|r| r.by_queue.get(&q).map_or_else(|| "-".into(), wait));
    }
    for c in keys(reports, |r| &r.by_class) {
        row(&format!("class {c}"), &|r| r.by_class.get(&c).map_or_else(|| "-".into(), wait));
    }
    if reports.iter().any(|r| r.step_wait.tickets > 0) {
        row("later bundle steps", &|r| wait(&r.step_wait));
    }
    channel_rows(reports, &mut row);
    for rule in rules_called(reports) {
        let calls = |r: &Report| match r.calls_by_rule.iter().find(|c| c.rule == rule) {
            Some(c) => format!("{} ({:.1}%)", c.calls, c.share * 100.0),
            None => "-".into(),
        };
        row(&format!("calls {rule}"), &calls);
    }
    let mut windows: Vec<&str> = Vec::new();
    for w in reports.iter().flat_map(|r| &r.windows) {
        if !windows.contains(&w.window.as_str()) {
            windows.push(&w.window);
        }
    }
    for id in windows {
        let use_of = |r: &Report| match r.windows.iter().find(|w| w.window == id) {
            None => "-".to_string(),
            Some(w) if w.staffed_h == 0.0 => "never staffed".to_string(),
            Some(w) => {
                let per_day = w.staffed_h / f64::from(r.days.max(1));
                format!("{} served, {:.1}% of {per_day:.1} h/day", w.served, w.utilisation * 100.0)
            }
        };
        row(&format!("window {id}"), &use_of);
    }
    render(&rows)
}

/// Rows for booked and remote visitors, if some report has any.
fn channel_rows(reports: &[&Report], mut row: impl FnMut(&str, &dyn Fn(&Report) -> String)) {
    if reports.iter().any(|r| r.channels.booked + r.channels.slot_full > 0) {
        row("booked on time / late", &|r| {
            let c = &r.channels;
            format!("{} / {} of {} booked", c.on_time, c.late, c.booked)
        });
        row("slot full, walked in", &|r| r.channels.slot_full.to_string());
        row("booked, called after slot", &|r| {
            let c = &r.channels;
            let within = c.slot_wait.within_sla * 100.0;
            format!("{}, {within:.1}% ≤{} min, {} before it", wait(&c.slot_wait), c.grace_min, c.called_before_slot)
        });
        row("booked, from slot or check-in", &|r| {
            let c = &r.channels;
            format!("{}, {:.1}% ≤{} min", wait(&c.ready_wait), c.ready_wait.within_sla * 100.0, c.grace_min)
        });
    }
    if reports.iter().any(|r| r.channels.remote > 0) {
        row("remote taken / checked in", &|r| format!("{} / {}", r.channels.remote, r.channels.remote_checked_in));
        row("remote, wait from check-in", &|r| wait(&r.channels.remote_wait));
    }
    if reports.iter().any(|r| r.escalated > 0) {
        row("escalated (办不成事) / served again", &|r| format!("{} / {}", r.escalated, r.escalated_served));
        row("escalated, wait at the escalation window", &|r| wait(&r.escalation_wait));
    }
    if reports.iter().any(|r| !r.guides.is_empty()) {
        row("guided: assisted / escorted", &|r| format!("{} / {}", r.guides.assisted, r.guides.escorted));
        row("escorted, wait mean", &|r| {
            format!("{} × {:.1} min", r.guides.escorted_waits, r.guides.escorted_wait_mean_min)
        });
    }
}

fn wait(w: &WaitStats) -> String {
    format!("{} × {:.1}/{:.1}/{:.1}/{:.1} min", w.tickets, w.mean_min, w.p50_min, w.p95_min, w.max_min)
}

fn rejected(r: &BTreeMap<String, u64>) -> String {
    if r.is_empty() {
        return "0".into();
    }
    r.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
}

/// The rules that chose at least one call in some report, in `CallRule`'s order (every
/// report lists every rule in that order).
fn rules_called(reports: &[&Report]) -> Vec<String> {
    let Some(first) = reports.first() else { return Vec::new() };
    let called = |rule: &str| reports.iter().flat_map(|r| &r.calls_by_rule).any(|c| c.rule == rule && c.calls > 0);
    first.calls_by_rule.iter().map(|c| c.rule.clone()).filter(|rule| called(rule)).collect()
}

fn keys(reports: &[&Report], f: impl Fn(&Report) -> &BTreeMap<String, WaitStats>) -> Vec<String> {
    let mut all: Vec<String> = reports.iter().flat_map(|r| f(r).keys().cloned()).collect();
    all.sort();
    all.dedup();
    all
}

fn render(rows: &[(String, Vec<String>)]) -> String {
    let label_w = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
    let cols = rows.first().map_or(0, |(_, v)| v.len());
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().map(|(_, v)| v[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (label, values) in rows {
        let _ = write!(out, "{label:<label_w$}");
        for (v, w) in values.iter().zip(&widths) {
            let pad = w.saturating_sub(v.chars().count());
            let _ = write!(out, "  {v}{}", " ".repeat(pad));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
