//! One service day replayed from its stored records: a row per ticket and the day's
//! figures per queue, window and clerk, with every wait and service time kept (so that
//! percentiles can be taken), arrivals per hour and the waiting count per minute.
//!
//! It follows the core's own counting (`core::stats`): wait is from issue (or a bundle
//! step's start) to the first call in that line, service time from the last `serve` to
//! `done` or the step's end, and each figure goes to the queue the ticket is in and the
//! window that acted, when the event happens. The clerk is the one signed in at that
//! window then (`WindowOpened` names them). It reads records only: a record it does not
//! expect (a ticket of another day) is skipped, never a panic.

use std::collections::BTreeMap;

use crate::core::event::{Event, Record};
use crate::core::model::{
    BundleStep, CallRule, Outcome, PriorityClass, QueueId, ServiceCode, TicketId, TransferTarget, Ts, UserName,
    WindowId,
};
use crate::core::setup::Setup;

pub use super::fate::Fate;

/// One ticket of the day. No ticket id (a secret capability) and no personal data.
#[derive(Clone, Debug)]
pub struct TicketRow {
    pub number: String,
    /// The queue it was issued in.
    pub queue: QueueId,
    pub services: Vec<ServiceCode>,
    pub priority: Option<PriorityClass>,
    pub issued_at: Ts,
    pub called_at: Option<Ts>,
    pub serving_at: Option<Ts>,
    /// When it ended: done, no-show, cancelled or expired.
    pub ended_at: Option<Ts>,
    /// From issue to its first call.
    pub wait_ms: Option<u64>,
    /// Every measured service of the ticket, added up (a bundle has one per step).
    pub service_ms: Option<u64>,
    /// The window and clerk that called it last.
    pub window: Option<WindowId>,
    pub clerk: Option<UserName>,
    pub fate: Fate,
    pub rating: Option<u8>,
}

/// Counts and samples of one queue, window, clerk or the whole day.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub issued: u64,
    pub called: u64,
    pub completed: u64,
    pub incomplete: u64,
    pub no_show: u64,
    pub cancelled: u64,
    pub expired: u64,
    pub transferred: u64,
    pub parked: u64,
    pub rejoined: u64,
    pub wait_ms: Vec<u64>,
    pub service_ms: Vec<u64>,
    /// First calls within the service level, and all that count for it: first calls, and
    /// tickets given up on (cancelled or expired uncalled) after waiting past the target.
    pub sl_within: u64,
    pub sl_of: u64,
    /// Ratings by score: `ratings[0]` counts score 1 (非常不满意) … `ratings[4]` score 5.
    pub ratings: [u64; 5],
}

#[derive(Clone, Debug, Default)]
pub struct Groups {
    pub total: Group,
    pub queues: BTreeMap<QueueId, Group>,
    pub windows: BTreeMap<WindowId, Group>,
    pub clerks: BTreeMap<UserName, Group>,
}

impl Groups {
    fn record(&mut self, queue: QueueId, window: Option<&WindowId>, clerk: Option<&UserName>, f: impl Fn(&mut Group)) {
        f(&mut self.total);
        f(self.queues.entry(queue).or_default());
        if let Some(w) = window {
            f(self.windows.entry(*w).or_default());
        }
        if let Some(c) = clerk {
            f(self.clerks.entry(c.clone()).or_default());
        }
    }
}

/// The day, replayed.
#[derive(Clone, Debug, Default)]
pub struct Day {
    pub tickets: Vec<TicketRow>,
    pub groups: Groups,
    /// Tickets issued per local hour (0–23), per queue.
    pub arrivals: BTreeMap<QueueId, [u64; 24]>,
    /// Tickets waiting per minute of the day, per queue (the most at any moment of that
    /// minute), up to the last record.
    pub waiting: BTreeMap<QueueId, Vec<u32>>,
    /// Tickets that asked for each item.
    pub items: BTreeMap<ServiceCode, u64>,
    /// Whether the next day's opening was seen: every ticket's end is known.
    pub closed: bool,
}

/// A ticket while the day is replayed.
struct Live {
    row: usize,
    queue: QueueId,
    steps: Vec<BundleStep>,
    step: usize,
    line_start: Ts,
    line_called: bool,
    serving_at: Option<Ts>,
    window: Option<WindowId>,
    clerk: Option<UserName>,
    waiting: bool,
}

/// Replays the records of one day, `start` being local midnight (in ms) and `minutes` the
/// day's length. A record of a later day ends it (its `DayOpened` expires what was left).
pub struct Replay<'a> {
    setup: &'a Setup,
    service_level_ms: Box<dyn Fn(&QueueId) -> u64 + 'a>,
    start: Ts,
    day: Day,
    live: BTreeMap<TicketId, Live>,
    clerks: BTreeMap<WindowId, UserName>,
    waiting_now: BTreeMap<QueueId, u32>,
    /// Per queue and minute: the most waiting during the minute and the count at its end.
    changes: BTreeMap<QueueId, Vec<Option<(u32, u32)>>>,
    last_minute: usize,
    minutes: usize,
}

impl<'a> Replay<'a> {
    pub fn new(setup: &'a Setup, service_level_ms: impl Fn(&QueueId) -> u64 + 'a, start: Ts, minutes: usize) -> Self {
        Self {
            setup,
            service_level_ms: Box::new(service_level_ms),
            start,
            day: Day::default(),
            live: BTreeMap::new(),
            clerks: BTreeMap::new(),
            waiting_now: BTreeMap::new(),
            changes: BTreeMap::new(),
            last_minute: 0,
            minutes: minutes.max(1),
        }
    }

    fn minute(&self, at: Ts) -> usize {
        let m = usize::try_from(at.since_ms(self.start) / 60_000).unwrap_or(usize::MAX);
        m.min(self.minutes - 1)
    }

    /// Moves the waiting count of `queue` by one at `at`.
    fn waiting_step(&mut self, queue: QueueId, at: Ts, up: bool) {
        let m = self.minute(at);
        self.last_minute = self.last_minute.max(m);
        let n = self.waiting_now.entry(queue).or_default();
        *n = if up { n.saturating_add(1) } else { n.saturating_sub(1) };
        let n = *n;
        let minutes = self.minutes;
        let series = self.changes.entry(queue).or_insert_with(|| vec![None; minutes]);
        let slot = &mut series[m];
        *slot = Some(match *slot {
            Some((peak, _)) => (peak.max(n), n),
            None => (n, n),
        });
    }

    /// Applies one record of the day. Returns false at the first record of a later day
    /// (after applying its expiries): the day is over.
    pub fn record(&mut self, rec: &Record, own_day: bool) -> bool {
        let at = rec.at;
        match &rec.event {
            Event::DayOpened { expired, .. } => {
                if !own_day {
                    for id in expired {
                        self.expire(id, at);
                    }
                    self.day.closed = true;
                    return false;
                }
            }
            Event::TicketIssued { id, queue, n, services, priority, steps, .. } => {
                self.issue(*id, *queue, *n, services, priority, steps, at)
            }
            Event::TicketCancelled { id } => self.cancel(id, at),
            Event::TicketRated { id, score, .. } => self.rate(id, *score),
            Event::TicketRejoined { id } => self.rejoin(id, at),
            Event::WindowOpened { window, clerk } => {
                self.clerks.insert(*window, clerk.clone());
            }
            Event::WindowClosed { window } | Event::WindowForceClosed { window, .. } => {
                self.clerks.remove(window);
            }
            Event::TicketCalled { window, id, rule } => self.call(window, id, rule, at),
            Event::TicketServing { id, .. } => self.serve(id, at),
            Event::TicketDone { window, id, outcome } => self.done(window, id, Some(*outcome), at),
            Event::TicketStepDone { window, id } => self.done(window, id, None, at),
            Event::TicketNoShow { window, id } => self.no_show(window, id, at),
            Event::TicketParked { window, id } => self.park(window, id),
            Event::TicketTransferred { window, id, to } => self.transfer(window, id, to, at),
            Event::TicketReturned { id, queue, .. } => self.returned(id, *queue, at),
            Event::TicketRecalled { .. }
            | Event::TicketCheckedIn { .. }
            | Event::AppointmentBooked { .. }
            | Event::AppointmentCancelled { .. }
            | Event::AppointmentCheckedIn { .. }
            | Event::WindowPaused { .. }
            | Event::WindowResumed { .. }
            | Event::CaseCallback { .. }
            | Event::CaseRectified { .. }
            | Event::UserLoggedIn { .. }
            | Event::UserLoggedOut { .. }
            | Event::UserDisabled { .. }
            | Event::UserEnabled { .. }
            | Event::UserAdded { .. }
            | Event::PasswordReset { .. }
            | Event::WindowQueuesSet { .. }
            | Event::AlertRaised { .. }
            | Event::AlertCleared { .. }
            | Event::AlertAcknowledged { .. }
            | Event::NumbersRaised { .. }
            | Event::NoChange => {}
        }
        true
    }

    /// The day as replayed; the waiting series end at the last record's minute.
    pub fn finish(mut self) -> Day {
        let end = (self.last_minute + 1).min(self.minutes);
        for (queue, changes) in std::mem::take(&mut self.changes) {
            let mut carried = 0;
            let series = changes[..end]
                .iter()
                .map(|c| match c {
                    Some((peak, last)) => {
                        carried = *last;
                        *peak
                    }
                    None => carried,
                })
                .collect();
            self.day.waiting.insert(queue, series);
        }
        self.day
    }

    #[allow(clippy::too_many_arguments)]
    fn issue(
        &mut self,
        id: TicketId,
        queue: QueueId,
        n: u32,
        services: &[ServiceCode],
        priority: &Option<PriorityClass>,
        steps: &[BundleStep],
        at: Ts,
    ) {
        let prefix = self.setup.queue(&queue).map_or(queue.as_str(), |q| q.prefix.as_str());
        self.day.tickets.push(TicketRow {
            number: format!("{prefix}{n:03}"),
            queue,
            services: services.to_vec(),
            priority: priority.clone(),
            issued_at: at,
            called_at: None,
            serving_at: None,
            ended_at: None,
            wait_ms: None,
            service_ms: None,
            window: None,
            clerk: None,
            fate: Fate::Waiting,
            rating: None,
        });
        let live = Live {
            row: self.day.tickets.len() - 1,
            queue,
            steps: steps.to_vec(),
            step: 0,
            line_start: at,
            line_called: false,
            serving_at: None,
            window: None,
            clerk: None,
            waiting: true,
        };
        self.live.insert(id, live);
        let hour = usize::try_from(at.since_ms(self.start) / 3_600_000).unwrap_or(23).min(23);
        self.day.arrivals.entry(queue).or_insert([0; 24])[hour] += 1;
        for code in services {
            *self.day.items.entry(code.clone()).or_default() += 1;
        }
        self.day.groups.record(queue, None, None, |g| g.issued += 1);
        self.waiting_step(queue, at, true);
    }

    /// Leaves the waiting line (called, cancelled, expired) if it was in it.
    fn leave_line(&mut self, id: &TicketId, at: Ts) {
        let Some(t) = self.live.get_mut(id) else { return };
        if t.waiting {
            t.waiting = false;
            let q = t.queue;
            self.waiting_step(q, at, false);
        }
    }

    fn join_line(&mut self, id: &TicketId, at: Ts) {
        let Some(t) = self.live.get_mut(id) else { return };
        if !t.waiting {
            t.waiting = true;
            let q = t.queue;
            self.waiting_step(q, at, true);
        }
    }

    /// A ticket given up on before its first call counts against the service level if it
    /// had waited past the target.
    fn abandoned(&mut self, id: &TicketId, at: Ts) {
        let Some(t) = self.live.get(id) else { return };
        let row = &self.day.tickets[t.row];
        if row.called_at.is_none() && at.since_ms(row.issued_at) > (self.service_level_ms)(&t.queue) {
            self.day.groups.record(t.queue, None, None, |g| g.sl_of += 1);
        }
    }

    fn cancel(&mut self, id: &TicketId, at: Ts) {
        self.leave_line(id, at);
        self.abandoned(id, at);
        let Some(t) = self.live.get(id) else { return };
        let row = &mut self.day.tickets[t.row];
        row.fate = Fate::Cancelled;
        row.ended_at = Some(at);
        self.day.groups.record(t.queue, None, None, |g| g.cancelled += 1);
    }

    fn expire(&mut self, id: &TicketId, at: Ts) {
        self.leave_line(id, at);
        self.abandoned(id, at);
        let Some(t) = self.live.get(id) else { return };
        let row = &mut self.day.tickets[t.row];
        row.fate = Fate::Expired;
        row.ended_at = Some(at);
        self.day.groups.record(t.queue, t.window.as_ref(), t.clerk.as_ref(), |g| g.expired += 1);
    }

    fn rate(&mut self, id: &TicketId, score: u8) {
        let Some(t) = self.live.get(id) else { return };
        self.day.tickets[t.row].rating = Some(score);
        let i = usize::from(score.clamp(1, 5) - 1);
        self.day.groups.record(t.queue, t.window.as_ref(), t.clerk.as_ref(), |g| g.ratings[i] += 1);
    }

    fn rejoin(&mut self, id: &TicketId, at: Ts) {
        self.join_line(id, at);
        let Some(t) = self.live.get_mut(id) else { return };
        t.serving_at = None;
        let row = &mut self.day.tickets[t.row];
        row.fate = Fate::Waiting;
        row.ended_at = None;
        self.day.groups.record(t.queue, None, None, |g| g.rejoined += 1);
    }

    fn call(&mut self, window: &WindowId, id: &TicketId, rule: &CallRule, at: Ts) {
        let unpark = *rule == CallRule::Unparked;
        if !unpark {
            self.leave_line(id, at);
        }
        let clerk = self.clerks.get(window).cloned();
        let target = self.live.get(id).map(|t| (self.service_level_ms)(&t.queue));
        let Some(t) = self.live.get_mut(id) else { return };
        t.window = Some(*window);
        t.clerk = clerk.clone();
        let row = &mut self.day.tickets[t.row];
        row.window = Some(*window);
        row.clerk = clerk.clone();
        row.fate = Fate::Called;
        row.called_at.get_or_insert(at);
        if unpark {
            return;
        }
        let first = !t.line_called;
        t.line_called = true;
        let wait = at.since_ms(t.line_start);
        let first_line = t.step == 0;
        if first && first_line {
            row.wait_ms = Some(wait);
        }
        let within = first && first_line && target.is_some_and(|ms| wait <= ms);
        let counts_sl = first && first_line;
        self.day.groups.record(t.queue, Some(window), clerk.as_ref(), |g| {
            g.called += 1;
            if first {
                g.wait_ms.push(wait);
            }
            if counts_sl {
                g.sl_of += 1;
                g.sl_within += u64::from(within);
            }
        });
    }

    fn serve(&mut self, id: &TicketId, at: Ts) {
        let Some(t) = self.live.get_mut(id) else { return };
        t.serving_at = Some(at);
        let row = &mut self.day.tickets[t.row];
        row.serving_at.get_or_insert(at);
        row.fate = Fate::Serving;
    }

    /// `done` (with its outcome) or a bundle step's end (`None`): a service time is measured.
    fn done(&mut self, window: &WindowId, id: &TicketId, outcome: Option<Outcome>, at: Ts) {
        let Some(t) = self.live.get_mut(id) else { return };
        let service = at.since_ms(t.serving_at.unwrap_or(at));
        let (queue, clerk) = (t.queue, t.clerk.clone());
        let row = &mut self.day.tickets[t.row];
        row.service_ms = Some(row.service_ms.unwrap_or(0).saturating_add(service));
        match outcome {
            Some(o) => {
                row.fate = if o == Outcome::Completed { Fate::Completed } else { Fate::Incomplete };
                row.ended_at = Some(at);
            }
            None => {
                row.fate = Fate::Waiting;
                t.step += 1;
                if let Some(step) = t.steps.get(t.step) {
                    t.queue = step.queue;
                }
                t.line_start = at;
                t.line_called = false;
                t.serving_at = None;
                t.window = None;
            }
        }
        let completed = outcome == Some(Outcome::Completed);
        let incomplete = outcome == Some(Outcome::Incomplete);
        self.day.groups.record(queue, Some(window), clerk.as_ref(), |g| {
            g.service_ms.push(service);
            g.completed += u64::from(completed);
            g.incomplete += u64::from(incomplete);
        });
        if outcome.is_none() {
            self.join_line(id, at);
        }
    }

    fn no_show(&mut self, window: &WindowId, id: &TicketId, at: Ts) {
        let Some(t) = self.live.get(id) else { return };
        let row = &mut self.day.tickets[t.row];
        row.fate = Fate::NoShow;
        row.ended_at = Some(at);
        self.day.groups.record(t.queue, Some(window), t.clerk.as_ref(), |g| g.no_show += 1);
    }

    fn park(&mut self, window: &WindowId, id: &TicketId) {
        let Some(t) = self.live.get(id) else { return };
        self.day.tickets[t.row].fate = Fate::Parked;
        self.day.groups.record(t.queue, Some(window), t.clerk.as_ref(), |g| g.parked += 1);
    }

    /// Its window closed (or its queue left hall.toml): it waits in `queue` again.
    fn returned(&mut self, id: &TicketId, queue: QueueId, at: Ts) {
        self.leave_line(id, at);
        let Some(t) = self.live.get_mut(id) else { return };
        t.queue = queue;
        t.serving_at = None;
        t.window = None;
        self.day.tickets[t.row].fate = Fate::Waiting;
        self.join_line(id, at);
    }

    fn transfer(&mut self, window: &WindowId, id: &TicketId, to: &TransferTarget, at: Ts) {
        let Some(t) = self.live.get_mut(id) else { return };
        let clerk = t.clerk.clone();
        if let TransferTarget::Queue(q) = to {
            t.queue = *q;
        }
        t.serving_at = None;
        t.window = None;
        let queue = t.queue;
        self.day.tickets[t.row].fate = Fate::Waiting;
        self.day.groups.record(queue, Some(window), clerk.as_ref(), |g| g.transferred += 1);
        self.join_line(id, at);
    }
}
