//! One service day replayed from its stored records: a row per ticket and the day's
//! figures per queue, window and clerk, with every wait and service time kept (so that
//! percentiles can be taken), arrivals per hour and the waiting count per minute.
//!
//! It folds the facts the core's own `apply` yields for the day's records (a
//! `DayReader`), so it counts as the hall's figures (`core::stats`) count: wait is from
//! issue (or a bundle step's start) to the first call in that line, service time from
//! the last `serve` to `done` or the step's end, and each figure goes to the queue the
//! ticket is in and the window that acted, with the clerk signed in there, when it
//! happens. A record of what an earlier day left (an old booking or case) yields nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::core::day_reader::DayReader;
use crate::core::event::Record;
use crate::core::facts::{Desk, Fact, Subject, What};
use crate::core::model::{CallRule, Outcome, PriorityClass, QueueId, ServiceCode, TicketId, Ts, UserName, WindowId};
use crate::core::scorecard::{ClerkDay, Scorecards};
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
    /// Applies `f` to the day's, the queue's and, when a window acted, the window's and
    /// its clerk's figures.
    fn record(&mut self, queue: QueueId, desk: Option<&Desk>, f: impl Fn(&mut Group)) {
        f(&mut self.total);
        f(self.queues.entry(queue).or_default());
        if let Some(d) = desk {
            f(self.windows.entry(d.window).or_default());
            if let Some(c) = &d.clerk {
                f(self.clerks.entry(c.clone()).or_default());
            }
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
    /// Each clerk's day at the windows (考勤考核), up to the day's end: the next day's
    /// opening, or the day's last record while it is today.
    pub scorecards: BTreeMap<UserName, ClerkDay>,
    /// Issue 17 §2: the matters escalated or left incomplete, per item.
    pub stuck: super::stuck::StuckDay,
    /// What windows open over midnight ran on past the day's end: the next day's
    /// (`ClerkDay::take_carry`).
    pub scorecards_carry: BTreeMap<UserName, ClerkDay>,
}

/// Replays the records of one day, `start` being local midnight (in ms) and `minutes` the
/// day's length. A record of a later day ends it (its `DayOpened` expires what was left).
pub struct Replay<'a> {
    reader: DayReader,
    service_level_ms: Box<dyn Fn(&QueueId) -> u64 + 'a>,
    start: Ts,
    day: Day,
    /// Each ticket's row.
    rows: BTreeMap<TicketId, usize>,
    waiting_now: BTreeMap<QueueId, u32>,
    /// Per queue and minute: the most waiting during the minute and the count at its end.
    changes: BTreeMap<QueueId, Vec<Option<(u32, u32)>>>,
    last_minute: usize,
    minutes: usize,
    scorecards: Scorecards,
    /// The time of the day's last record folded.
    last_at: Ts,
    /// When the next day opened (and so closed every window), once seen.
    closed_at: Option<Ts>,
}

impl<'a> Replay<'a> {
    pub fn new(setup: Arc<Setup>, service_level_ms: impl Fn(&QueueId) -> u64 + 'a, start: Ts, minutes: usize) -> Self {
        Self {
            reader: DayReader::new(setup),
            service_level_ms: Box::new(service_level_ms),
            start,
            day: Day::default(),
            rows: BTreeMap::new(),
            waiting_now: BTreeMap::new(),
            changes: BTreeMap::new(),
            last_minute: 0,
            minutes: minutes.max(1),
            scorecards: Scorecards::until(Ts(start.0 + i64::try_from(minutes).unwrap_or(24 * 60) * 60_000)),
            last_at: start,
            closed_at: None,
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

    /// Applies the record at `seq`, the day's own from its opening on. Returns false at
    /// the first record of a later day (after counting its expiries): the day is over.
    pub fn record(&mut self, seq: u64, rec: &Record, own_day: bool) -> bool {
        for fact in self.reader.read(seq, rec) {
            if matches!(fact.what, What::DayOpened { .. }) && !own_day {
                self.day.closed = true;
                self.closed_at = Some(fact.at);
                return false;
            }
            self.scorecards.observe(&fact);
            self.last_at = self.last_at.max(fact.at);
            self.fold(&fact);
        }
        self.scorecards.observe_sign(rec.at, &rec.event);
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
        let end = self.closed_at.unwrap_or(self.last_at);
        (self.day.scorecards, self.day.scorecards_carry) = std::mem::take(&mut self.scorecards).finish(end);
        self.day
    }

    /// One fact of the day. One arm per fact the report counts, each a call.
    fn fold(&mut self, fact: &Fact) {
        let at = fact.at;
        match &fact.what {
            What::Issued { ticket, services, priority, .. } => self.issue(ticket, services, priority, at),
            What::Joined { ticket, .. } => self.waiting_step(ticket.queue, at, true),
            What::Left { ticket, .. } => self.waiting_step(ticket.queue, at, false),
            What::Called { ticket, desk, rule, step, waited_ms, .. } => {
                self.call(ticket, desk, rule, waited_ms.filter(|_| *step == 0), *waited_ms, at)
            }
            What::Serving { ticket, .. } => self.serve(ticket, at),
            What::Finished { ticket, desk, outcome, served_ms, queue, .. } => {
                self.done(ticket, desk, *queue, *outcome, served_ms.unwrap_or(0), at)
            }
            What::NoShow { ticket, desk } => self.ended(ticket, Some(desk), Fate::NoShow, at, |g| g.no_show += 1),
            What::Parked { ticket, desk } => self.moved(ticket, Some(desk), Fate::Parked, |g| g.parked += 1),
            What::Transferred { ticket, desk, .. } => {
                self.moved(ticket, Some(desk), Fate::Waiting, |g| g.transferred += 1)
            }
            What::Returned { ticket, .. } => self.moved(ticket, None, Fate::Waiting, |_| {}),
            What::Escalated { ticket, desk, services, reason, .. } => self.escalated(ticket, desk, services, reason),
            What::Rejoined { ticket } => self.rejoin(ticket),
            What::Cancelled { ticket, waited_ms, called } => {
                self.abandoned(ticket, *waited_ms, *called);
                self.ended(ticket, None, Fate::Cancelled, at, |g| g.cancelled += 1)
            }
            What::Expired { ticket, desk, waited_ms, called } => {
                self.abandoned(ticket, *waited_ms, *called);
                self.ended(ticket, desk.as_ref(), Fate::Expired, at, |g| g.expired += 1)
            }
            What::Rated { ticket, desk, score, .. } => self.rate(ticket, desk.as_ref(), *score),
            What::DayOpened { .. }
            | What::Recalled { .. }
            | What::CheckedIn { .. }
            | What::CaseRectified { .. }
            | What::EscalationResolved { .. }
            | What::WindowOpened { .. }
            | What::WindowPaused { .. }
            | What::WindowResumed { .. }
            | What::WindowClosed { .. }
            | What::AlertRaised { .. }
            | What::AlertCleared { .. }
            | What::AlertEnded { .. }
            // Counted per guide in the day's figures (`stats.rs`), which guides.csv reads.
            | What::Guided { .. }
            // Issue 17 §4: counted in the day's figures (`stats.rs`), not per ticket row.
            | What::StoreNextSet { .. }
            | What::StoreNextFired { .. }
            | What::WalkDirect { .. }
            | What::PersonTicket { .. }
            // 跨中心转办 (issue 18): counted in the day's figures, which referrals.csv reads.
            | What::Referred { .. }
            | What::ReferralTaken { .. }
            | What::ReferralWithdrawn { .. } => {}
        }
    }

    fn row(&mut self, ticket: &Subject) -> Option<&mut TicketRow> {
        let i = *self.rows.get(&ticket.id)?;
        self.day.tickets.get_mut(i)
    }

    fn issue(&mut self, ticket: &Subject, services: &[ServiceCode], priority: &Option<PriorityClass>, at: Ts) {
        let queue = ticket.queue;
        self.rows.insert(ticket.id, self.day.tickets.len());
        self.day.tickets.push(TicketRow {
            number: ticket.number.to_string(),
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
        let hour = usize::try_from(at.since_ms(self.start) / 3_600_000).unwrap_or(23).min(23);
        self.day.arrivals.entry(queue).or_insert([0; 24])[hour] += 1;
        for code in services {
            *self.day.items.entry(code.clone()).or_default() += 1;
        }
        self.day.groups.record(queue, None, |g| g.issued += 1);
    }

    /// A ticket given up on before its first call counts against the service level if it
    /// had waited past the target.
    fn abandoned(&mut self, ticket: &Subject, waited_ms: u64, called: bool) {
        if !called && waited_ms > (self.service_level_ms)(&ticket.queue) {
            self.day.groups.record(ticket.queue, None, |g| g.sl_of += 1);
        }
    }

    /// The ticket's end (missed, cancelled, expired), counted by `f`.
    fn ended(&mut self, ticket: &Subject, desk: Option<&Desk>, fate: Fate, at: Ts, f: impl Fn(&mut Group)) {
        if let Some(row) = self.row(ticket) {
            row.fate = fate;
            row.ended_at = Some(at);
        }
        self.day.groups.record(ticket.queue, desk, f);
    }

    /// The ticket moved (parked, transferred, returned), counted by `f`.
    fn moved(&mut self, ticket: &Subject, desk: Option<&Desk>, fate: Fate, f: impl Fn(&mut Group)) {
        if let Some(row) = self.row(ticket) {
            row.fate = fate;
        }
        self.day.groups.record(ticket.queue, desk, f);
    }

    /// 办不成事: the ticket moves to the escalation queue, and its items count as stuck.
    fn escalated(&mut self, ticket: &Subject, desk: &Desk, services: &[ServiceCode], reason: &str) {
        self.day.stuck.escalated(services, reason);
        self.moved(ticket, Some(desk), Fate::Waiting, |_| {});
    }

    fn rate(&mut self, ticket: &Subject, desk: Option<&Desk>, score: u8) {
        if let Some(row) = self.row(ticket) {
            row.rating = Some(score);
        }
        let i = usize::from(score.clamp(1, 5) - 1);
        self.day.groups.record(ticket.queue, desk, |g| g.ratings[i] += 1);
    }

    fn rejoin(&mut self, ticket: &Subject) {
        if let Some(row) = self.row(ticket) {
            row.fate = Fate::Waiting;
            row.ended_at = None;
        }
        self.day.groups.record(ticket.queue, None, |g| g.rejoined += 1);
    }

    /// A call: `first_wait` is the wait of a first call of the ticket's first line (the
    /// row's wait and the service level's), `line_wait` of a first call in any line.
    fn call(
        &mut self,
        ticket: &Subject,
        desk: &Desk,
        rule: &CallRule,
        first_wait: Option<u64>,
        line_wait: Option<u64>,
        at: Ts,
    ) {
        if let Some(row) = self.row(ticket) {
            row.window = Some(desk.window);
            row.clerk = desk.clerk.clone();
            row.fate = Fate::Called;
            row.called_at.get_or_insert(at);
            if first_wait.is_some() {
                row.wait_ms = first_wait;
            }
        }
        if *rule == CallRule::Unparked {
            return;
        }
        let within = first_wait.is_some_and(|ms| ms <= (self.service_level_ms)(&ticket.queue));
        self.day.groups.record(ticket.queue, Some(desk), |g| {
            g.called += 1;
            if let Some(ms) = line_wait {
                g.wait_ms.push(ms);
            }
            if first_wait.is_some() {
                g.sl_of += 1;
                g.sl_within += u64::from(within);
            }
        });
    }

    fn serve(&mut self, ticket: &Subject, at: Ts) {
        if let Some(row) = self.row(ticket) {
            row.serving_at.get_or_insert(at);
            row.fate = Fate::Serving;
        }
    }

    /// `done` (with its outcome) or a bundle step's end (`None`): a service time is
    /// measured, in the queue `queue` it was served in.
    fn done(&mut self, ticket: &Subject, desk: &Desk, queue: QueueId, outcome: Option<Outcome>, service: u64, at: Ts) {
        if let Some(row) = self.row(ticket) {
            row.service_ms = Some(row.service_ms.unwrap_or(0).saturating_add(service));
            match outcome {
                Some(o) => {
                    row.fate = if o == Outcome::Completed { Fate::Completed } else { Fate::Incomplete };
                    row.ended_at = Some(at);
                }
                None => row.fate = Fate::Waiting,
            }
        }
        let completed = outcome == Some(Outcome::Completed);
        let incomplete = outcome == Some(Outcome::Incomplete);
        if incomplete {
            let services = self.row(ticket).map(|r| r.services.clone()).unwrap_or_default();
            self.day.stuck.incomplete(&services);
        }
        self.day.groups.record(queue, Some(desk), |g| {
            g.service_ms.push(service);
            g.completed += u64::from(completed);
            g.incomplete += u64::from(incomplete);
        });
    }
}
