//! Reads what the core logged during a simulation and keeps the figures of the report:
//! waits per queue and priority class, window use, expected-wait error and the number
//! waiting over the day.
//!
//! It folds the core's facts rather than the simulator's intentions, so what it counts is
//! what the real core did: a ticket's wait ends at the call the core decided, and each
//! call is counted under the `CallRule` the core gave it. Bookings (from their events),
//! check-ins and remote tickets are counted from what the core logged too; only a booking refused for a full
//! slot, which logs nothing, is told by the simulator.

use std::collections::{BTreeMap, HashMap};

use crate::core::event::{Event, Record};
use crate::core::facts::{Fact, What};
use crate::core::model::{TicketId, Ts, WindowId};

use super::call_rules::{rule_ix, RULES};
use super::report::{Channels, EtaError, Report, RuleCalls, Tickets, WaitStats, WindowUse};

/// Width of one bin of the waiting-over-the-day chart, in ms (five minutes).
pub const BIN_MS: i64 = 5 * 60_000;
/// Bins in one day.
pub const BINS: usize = (24 * 3_600_000 / BIN_MS) as usize;

/// Which wait of a ticket is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// From issue to the first call: the wait the figures and the expected wait are about.
    Issued,
    /// A bundle ticket's wait for a later step.
    Step,
    /// A missed number's wait after it rejoined.
    Rejoined,
    /// 办不成事: the wait in the escalation queue, from the first counter's end.
    Escalated,
}

/// How the visitor of a ticket came in, for the waits of booked and remote visitors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Came {
    /// At a kiosk, or checked in for a booking after its grace (an ordinary ticket).
    WalkIn,
    /// Checked in for a booking within its grace: an appointment ticket due at this slot
    /// start.
    Booked(Ts),
    /// With a number taken remotely, checked in on arrival.
    Remote,
}

/// What the collector keeps of one issued ticket.
#[derive(Clone, Copy, Debug)]
struct Kept {
    /// When its running wait began: its issue, a bundle step's end or its rejoin.
    since: Ts,
    measured: bool,
    /// The queue it waits in now.
    queue: usize,
    class: usize,
    /// The wait told at issue: (minutes, low, high).
    eta: Option<(u32, u32, u32)>,
    waiting: bool,
    phase: Phase,
    came: Came,
}

/// Figures of one window.
#[derive(Clone, Debug, Default)]
struct WinFig {
    busy_since: Option<Ts>,
    /// Since when a clerk is signed in and not on a break, if one is.
    staffed_since: Option<Ts>,
    busy_ms: i64,
    staffed_ms: i64,
    served: u64,
    no_show: u64,
}

/// The running figures of one simulation.
pub struct Collector {
    sla_ms: u64,
    /// The hall's appointment grace (0 without appointments), in ms.
    grace_ms: u64,
    tickets: Vec<Option<Kept>>,
    queues: Vec<String>,
    classes: Vec<String>,
    waits_all: Vec<u32>,
    waits_queue: Vec<Vec<u32>>,
    waits_class: Vec<Vec<u32>>,
    waits_step: Vec<u32>,
    /// Waits of escalated tickets in the escalation queue (`--escalate`).
    waits_escalated: Vec<u32>,
    /// Waits of appointment tickets after their slot's start (0 if called before it).
    waits_slot: Vec<u32>,
    /// Waits of remote tickets from their check-in.
    waits_remote: Vec<u32>,
    /// Waits of appointment tickets from the later of their slot's start and check-in.
    waits_ready: Vec<u32>,
    channels: Channels,
    calls: [u64; RULES.len()],
    window_ix: HashMap<WindowId, usize>,
    window_ids: Vec<WindowId>,
    windows: Vec<WinFig>,
    counts: Tickets,
    eta_abs_sum: f64,
    eta_sum: f64,
    eta_n: u64,
    /// The same errors as the daemon's figures keep them (median, p90, within the range).
    eta_error: crate::core::stats::EtaError,
    waiting: i64,
    level_at: Ts,
    day_start: Ts,
    area: Vec<f64>,
    days: u32,
}

impl Collector {
    /// A collector for a hall of `window_ids`, with a service level of `sla_min` and an
    /// appointment grace of `grace_min` minutes.
    pub fn new(window_ids: Vec<WindowId>, sla_min: u32, grace_min: u32) -> Collector {
        let window_ix = window_ids.iter().enumerate().map(|(i, w)| (*w, i)).collect();
        Collector {
            sla_ms: u64::from(sla_min) * 60_000,
            grace_ms: u64::from(grace_min) * 60_000,
            tickets: Vec::new(),
            queues: Vec::new(),
            classes: Vec::new(),
            waits_all: Vec::new(),
            waits_queue: Vec::new(),
            waits_class: Vec::new(),
            waits_step: Vec::new(),
            waits_escalated: Vec::new(),
            waits_slot: Vec::new(),
            waits_remote: Vec::new(),
            waits_ready: Vec::new(),
            channels: Channels { grace_min: u64::from(grace_min), ..Channels::default() },
            calls: [0; RULES.len()],
            windows: vec![WinFig::default(); window_ids.len()],
            window_ix,
            window_ids,
            counts: Tickets::default(),
            eta_abs_sum: 0.0,
            eta_sum: 0.0,
            eta_n: 0,
            eta_error: Default::default(),
            waiting: 0,
            level_at: Ts(0),
            day_start: Ts(0),
            area: vec![0.0; BINS],
            days: 0,
        }
    }

    /// A day begins at local midnight `start`.
    pub fn start_day(&mut self, start: Ts) {
        self.day_start = start;
        self.level_at = start;
        self.days += 1;
    }

    /// The day ends at `end`: close the chart's area and the staffed time of windows
    /// still signed in (the core's new day signs their clerks out).
    pub fn end_day(&mut self, end: Ts) {
        self.level(end);
        for w in &mut self.windows {
            if let Some(since) = w.staffed_since.take() {
                w.staffed_ms += end.0 - since.0;
            }
        }
    }

    pub fn arrival(&mut self) {
        self.counts.arrivals += 1;
    }

    pub fn rejected(&mut self, code: &str) {
        *self.counts.rejected.entry(code.to_string()).or_default() += 1;
    }

    /// A ticket the core issued: `ix` is the simulator's number for it.
    pub fn issued(
        &mut self,
        ix: usize,
        at: Ts,
        queue: &str,
        class: Option<&str>,
        eta: Option<(u32, u32, u32)>,
        measured: bool,
    ) {
        self.level(at);
        self.waiting += 1;
        self.counts.issued += 1;
        self.counts.measured += u64::from(measured);
        let queue = slot(&mut self.queues, &mut self.waits_queue, queue);
        let class = slot(&mut self.classes, &mut self.waits_class, class.unwrap_or("none"));
        if self.tickets.len() <= ix {
            self.tickets.resize(ix + 1, None);
        }
        let (phase, came) = (Phase::Issued, Came::WalkIn);
        self.tickets[ix] = Some(Kept { since: at, measured, queue, class, eta, waiting: true, phase, came });
    }

    /// How the visitor of the issued ticket `ix` came in.
    pub fn came(&mut self, ix: usize, came: Came) {
        if let Some(k) = self.tickets.get_mut(ix).and_then(Option::as_mut) {
            k.came = came;
        }
    }

    /// A visitor could not book: their slot was full, or no slot was left that day.
    pub fn slot_full(&mut self) {
        self.channels.slot_full += 1;
    }

    /// Whether the simulator's ticket `ix` still waits for its first call.
    pub fn waits_since_issue(&self, ix: usize) -> bool {
        self.tickets.get(ix).and_then(Option::as_ref).is_some_and(|k| k.waiting && k.phase == Phase::Issued)
    }

    /// The simulator's ticket `ix`, a bundle, finished a step at `at` and now waits in
    /// `queue` for the next.
    pub fn next_step(&mut self, ix: usize, at: Ts, queue: &str) {
        let queue = slot(&mut self.queues, &mut self.waits_queue, queue);
        self.wait_again(ix, at, Phase::Step, Some(queue));
    }

    /// The simulator's ticket `ix` was escalated at `at` and now waits in `queue`, the
    /// escalation queue: a wait of its own, not a bundle's later step.
    pub fn escalated(&mut self, ix: usize, at: Ts, queue: &str) {
        let queue = slot(&mut self.queues, &mut self.waits_queue, queue);
        self.wait_again(ix, at, Phase::Escalated, Some(queue));
    }

    /// Ticket `ix` waits again from `at`, in `queue` if given.
    fn wait_again(&mut self, ix: usize, at: Ts, phase: Phase, queue: Option<usize>) {
        let Some(k) = self.tickets.get_mut(ix).and_then(Option::as_mut) else { return };
        k.waiting = true;
        k.since = at;
        k.phase = phase;
        k.queue = queue.unwrap_or(k.queue);
        self.level(at);
        self.waiting += 1;
    }

    /// Takes in what one step logged: the core's facts of it (`core::facts`), and the
    /// booking events, which yield none.
    pub fn observe(&mut self, records: &[(u64, Record)], facts: &[Fact]) {
        for (_, r) in records {
            match r.event {
                Event::AppointmentBooked { .. } => self.channels.booked += 1,
                Event::AppointmentCheckedIn { late: false, .. } => self.channels.on_time += 1,
                Event::AppointmentCheckedIn { late: true, .. } => self.channels.late += 1,
                _ => {}
            }
        }
        for f in facts {
            self.fact(f.at, &f.what);
        }
    }

    fn fact(&mut self, at: Ts, what: &What) {
        // The simulator needs only these facts; others (ratings, transfers) it never
        // causes, and new kinds must not break it, hence the catch-all.
        match what {
            What::Expired { ticket, .. } => {
                self.counts.expired += 1;
                self.stop_waiting(at, &ticket.id);
            }
            What::DayOpened { .. } => self.day_opened(at),
            What::Issued { remote: true, .. } => self.channels.remote += 1,
            What::CheckedIn { .. } => self.channels.remote_checked_in += 1,
            What::WindowOpened { desk } | What::WindowResumed { desk } => {
                if let Some(w) = self.win(&desk.window) {
                    w.staffed_since = Some(at);
                }
            }
            What::WindowPaused { desk, .. } | What::WindowClosed { desk, .. } => {
                if let Some(w) = self.win(&desk.window) {
                    if let Some(since) = w.staffed_since.take() {
                        w.staffed_ms += at.0 - since.0;
                    }
                }
            }
            What::Called { ticket, desk, rule, .. } => {
                self.calls[rule_ix(rule)] += 1;
                self.called(at, &desk.window, &ticket.id);
            }
            What::Cancelled { ticket, .. } if self.stop_waiting(at, &ticket.id).is_some() => self.counts.abandoned += 1,
            What::Finished { desk, outcome, .. } => {
                if outcome.is_some() {
                    self.counts.served += 1;
                } else {
                    self.counts.steps_done += 1;
                }
                if let Some(w) = self.release(at, &desk.window) {
                    w.served += 1;
                }
            }
            What::NoShow { desk, .. } => {
                self.counts.no_show += 1;
                if let Some(w) = self.release(at, &desk.window) {
                    w.no_show += 1;
                }
            }
            What::Parked { desk, .. } => {
                self.counts.parked += 1;
                self.release(at, &desk.window);
            }
            What::Rejoined { ticket } => {
                self.counts.rejoined += 1;
                if let Some(ix) = super::run::ticket_index(&ticket.id) {
                    self.wait_again(ix, at, Phase::Rejoined, None);
                }
            }
            _ => {}
        }
    }

    /// A new day: the old day's tickets expired just before (`What::Expired`); every
    /// window's busy time ends.
    fn day_opened(&mut self, at: Ts) {
        for w in &mut self.windows {
            if let Some(since) = w.busy_since.take() {
                w.busy_ms += at.0 - since.0;
            }
        }
    }

    fn called(&mut self, at: Ts, window: &WindowId, id: &TicketId) {
        if let Some(w) = self.win(window) {
            w.busy_since = Some(at);
        }
        let Some(k) = self.stop_waiting(at, id) else { return };
        if !k.measured {
            return;
        }
        let wait_ms = at.since_ms(k.since);
        let wait = u32::try_from(wait_ms).unwrap_or(u32::MAX);
        match k.phase {
            Phase::Issued => {}
            Phase::Step | Phase::Escalated => {
                self.waits_queue[k.queue].push(wait);
                let again = if k.phase == Phase::Step { &mut self.waits_step } else { &mut self.waits_escalated };
                again.push(wait);
                return;
            }
            Phase::Rejoined => return,
        }
        match k.came {
            Came::WalkIn => {}
            Came::Booked(due) => {
                self.channels.called_before_slot += u64::from(at < due);
                self.waits_slot.push(u32::try_from(at.since_ms(due)).unwrap_or(u32::MAX));
                self.waits_ready.push(u32::try_from(at.since_ms(due.max(k.since))).unwrap_or(u32::MAX));
            }
            Came::Remote => self.waits_remote.push(wait),
        }
        self.waits_all.push(wait);
        self.waits_queue[k.queue].push(wait);
        self.waits_class[k.class].push(wait);
        if let Some((minutes, low, high)) = k.eta {
            let err_min = f64::from(minutes) - wait_ms as f64 / 60_000.0;
            self.eta_sum += err_min;
            self.eta_abs_sum += err_min.abs();
            self.eta_n += 1;
            self.eta_error.add(minutes, low, high, wait_ms);
        }
    }

    /// Marks a waiting ticket as no longer waiting and hands back what was kept of it;
    /// `None` if it was not waiting (say, a called ticket expiring at midnight).
    fn stop_waiting(&mut self, at: Ts, id: &TicketId) -> Option<Kept> {
        let ix = super::run::ticket_index(id)?;
        let k = self.tickets.get_mut(ix)?.as_mut()?;
        if !k.waiting {
            return None;
        }
        k.waiting = false;
        let kept = *k;
        self.level(at);
        self.waiting -= 1;
        Some(kept)
    }

    /// Window `window` let its ticket go at `at`: its busy time ends. Hands back its
    /// figures to count what it did.
    fn release(&mut self, at: Ts, window: &WindowId) -> Option<&mut WinFig> {
        let w = self.win(window)?;
        if let Some(since) = w.busy_since.take() {
            w.busy_ms += at.0 - since.0;
        }
        Some(w)
    }

    fn win(&mut self, id: &WindowId) -> Option<&mut WinFig> {
        let ix = *self.window_ix.get(id)?;
        self.windows.get_mut(ix)
    }

    /// Adds the number waiting since the last change, up to `at`, to the chart's bins.
    fn level(&mut self, at: Ts) {
        let mut from = self.level_at.0.max(self.day_start.0);
        let to = at.0;
        while from < to {
            let offset = from - self.day_start.0;
            let bin = usize::try_from(offset / BIN_MS).unwrap_or(0);
            let bin_end = self.day_start.0 + (offset / BIN_MS + 1) * BIN_MS;
            let until = to.min(bin_end);
            if let Some(a) = self.area.get_mut(bin) {
                *a += self.waiting as f64 * (until - from) as f64;
            }
            from = until;
        }
        self.level_at = self.level_at.max(at);
    }

    /// The report, sorting the kept waits.
    pub fn finish(mut self, hall: &str, days: u32) -> Report {
        let sla = self.sla_ms;
        let stats = |w: &mut Vec<u32>| WaitStats::of(w, sla);
        let by_queue: BTreeMap<String, WaitStats> =
            self.queues.iter().zip(self.waits_queue.iter_mut()).map(|(q, w)| (q.clone(), stats(w))).collect();
        let by_class: BTreeMap<String, WaitStats> =
            self.classes.iter().zip(self.waits_class.iter_mut()).map(|(c, w)| (c.clone(), stats(w))).collect();
        let windows = self
            .window_ids
            .iter()
            .zip(&self.windows)
            .map(|(id, w)| WindowUse::of(id, w.busy_ms, w.staffed_ms, w.served, w.no_show));
        let n = self.eta_n.max(1) as f64;
        let eta = EtaError {
            tickets: self.eta_n,
            mae_min: self.eta_abs_sum / n,
            bias_min: self.eta_sum / n,
            median_abs_min: self.eta_error.quantile_min(0.5).unwrap_or(0.0),
            p90_abs_min: self.eta_error.quantile_min(0.9).unwrap_or(0.0),
            within_range_rate: self.eta_error.within_rate().unwrap_or(0.0),
        };
        let per_day = f64::from(self.days.max(1)) * BIN_MS as f64;
        let waiting_by_5min = self.area.iter().map(|a| a / per_day).collect();
        let mut counts = self.counts.clone();
        counts.measured_called = self.waits_all.len() as u64;
        let all_calls: u64 = self.calls.iter().sum();
        let calls_by_rule = RULES
            .iter()
            .zip(self.calls)
            .map(|(rule, calls)| {
                let share = if all_calls > 0 { calls as f64 / all_calls as f64 } else { 0.0 };
                RuleCalls { rule: rule.to_string(), calls, share }
            })
            .collect();
        let mut channels = self.channels.clone();
        channels.slot_wait = WaitStats::of(&mut self.waits_slot, self.grace_ms);
        channels.remote_wait = stats(&mut self.waits_remote);
        channels.ready_wait = WaitStats::of(&mut self.waits_ready, self.grace_ms);
        Report {
            guides: Default::default(),
            escalated: 0,
            escalated_served: 0,
            hall: hall.to_string(),
            days,
            sla_min: sla / 60_000,
            tickets: counts,
            wait: stats(&mut self.waits_all),
            by_queue,
            by_class,
            step_wait: stats(&mut self.waits_step),
            escalation_wait: stats(&mut self.waits_escalated),
            calls_by_rule,
            channels,
            windows: windows.collect(),
            eta,
            waiting_by_5min,
        }
    }
}

/// The index of `name` in `names`, adding it (with an empty list of waits) if new.
fn slot(names: &mut Vec<String>, waits: &mut Vec<Vec<u32>>, name: &str) -> usize {
    if let Some(i) = names.iter().position(|n| n == name) {
        return i;
    }
    names.push(name.to_string());
    waits.push(Vec::new());
    names.len() - 1
}
