//! The discrete-event loop: visitors take tickets, clerks call, serve and finish, all as
//! commands to the real `HallState::step`, at simulated times taken from a heap.
//!
//! The simulator holds no copy of the policy: which ticket a window gets is whatever the
//! core's `CallNext` decides. It only plays the people: a clerk signs in (`OpenWindow`) or
//! comes back from a break (`Resume`) when a shift of the rota starts, and at its end
//! finishes the visitor at the counter, then pauses (a later shift follows) or closes the
//! window; a window that is idle calls when a ticket is issued (the one idle longest
//! first); a called visitor walks to the counter and is served for their drawn time, or
//! misses the call and is recalled, then marked no-show; a visitor who has waited
//! `abandon_after` leaves. What the hall's rules add around a call (recall limit, rejoin,
//! park, bundle steps) is played in `rules`; how visitors come in (walk-in, booked,
//! remote) in `visits`.

mod react;
mod rules;
mod visits;

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use crate::core::event::Record;
use crate::core::model::{TicketId, Ts, UserName, WindowId};
use crate::core::{Command, Envelope, HallState, Rejection, Reply, Step};

use super::arrivals::Arrivals;
use super::collect::Collector;
use super::hall::{day_start, SimHall};
use super::report::Report;
use super::staffing::{Shift, ShiftEnd};
use super::{Options, SimError};

/// A called visitor who does not come is recalled after this long, in ms, and again this
/// long after each recall, up to the hall's `recall_max` recalls (the core refuses more).
pub const RECALL_AFTER_MS: i64 = 60_000;
/// ... and marked no-show this long after the last recall.
pub const NO_SHOW_AFTER_RECALL_MS: i64 = 60_000;
/// A clerk finds a missing document this far into the service (or at its end, if
/// shorter), in ms: checking the materials is the first thing done at the counter.
pub const PARK_FOUND_AFTER_MS: i64 = 2 * 60_000;

/// What happens at a simulated time, besides arrivals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    ShiftStart(usize),
    ShiftEnd(usize, Leave),
    Serve(usize),
    Done(usize),
    /// The called visitor at a window has not come: recall, or give up.
    Recall(usize),
    NoShow(usize),
    /// The clerk at a window finds a document missing.
    Park(usize),
    /// The visitor of ticket (second) parked at window (first) is back.
    Back(usize, usize),
    /// A visitor who missed the call takes the ticket back in line.
    Rejoin(usize),
    /// Idle windows serving a queue look again (a rejoined ticket's cooldown is over).
    Wake(usize),
    Abandon(usize),
    /// The clerk at a window has reacted after letting a ticket go (`react.rs`).
    Ready(usize),
}

/// What a clerk does when a shift ends, once the visitor at the counter is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Leave {
    /// A break: another shift follows today.
    Pause,
    /// The day's last shift.
    Close,
    /// The hall has closed: go on calling until nothing is waiting, then close.
    Drain,
}

/// A window as the simulator plays it.
struct Clerk {
    window: WindowId,
    clerk: UserName,
    /// Whether it serves each queue of the setup, by the queue's place there.
    serves: Vec<bool>,
    /// Its shifts of every day, sorted.
    shifts: Vec<Shift>,
    /// The simulator's number of the ticket it holds.
    holding: Option<usize>,
    /// Recalls of the ticket it holds.
    recalls: u32,
    /// Tickets parked here, in the order parked, each with whether its visitor is back.
    parked: Vec<(usize, bool)>,
    /// Since when it is idle, if it is (its key in `Sim::idle`).
    idle_since: Option<i64>,
    signed_in: bool,
    paused: bool,
    /// The shift is over: what to do once the visitor at the counter is done.
    leaving: Option<Leave>,
    /// Between letting a ticket go and calling the next (`SimHall::react_ms`).
    reacting: bool,
}

/// The visitor behind each ticket: what the simulator needs when the ticket is called.
struct Fate {
    /// Counter time of the current step, or what is left of it after a park, in ms.
    service_ms: i64,
    /// A bundle's counter time per expected minute, to time each step.
    ms_per_min: f32,
    /// Drawn at arrival (see `Visitor`); cleared once played.
    rejoin_after_ms: u32,
    park_away_ms: u32,
    /// Steps still to go, the current one included (1 for a ticket of one item).
    steps_left: u8,
    /// Misses the next call; cleared once the visitor has come to a counter or rejoined.
    no_show: bool,
    /// The first clerk cannot finish it (`--escalate`); cleared once escalated.
    escalates: bool,
    escalated: bool,
}

struct Sim<'a> {
    hall: &'a SimHall,
    opts: &'a Options,
    state: HallState,
    heap: BinaryHeap<Reverse<(i64, u64, Ev)>>,
    seq: u64,
    clerks: Vec<Clerk>,
    /// Idle windows by the time they became idle.
    idle: BTreeSet<(i64, usize)>,
    fates: Vec<Fate>,
    /// Expected counter minutes of each of `Arrivals::services`.
    minutes: Vec<f64>,
    /// The hall's `recall_max`, `park_max`, `rejoin_min` and `call_cooldown_min`.
    recall_max: u32,
    park_max: usize,
    rejoin_ms: i64,
    cooldown_ms: i64,
    /// Bookings made so far: the next booking's number (and code).
    bookings: u64,
    /// The ticket each of the day's visitors took remotely, by their place in the day.
    remote_ticket: Vec<Option<usize>>,
    /// Guided visitors so far: whose guide's turn it is.
    guided: u64,
    /// Escalated tickets (`--escalate`) served again at the escalation window.
    escalated_served: u64,
    rec: Collector,
    /// Every record logged, when the caller asked for the log.
    log: Option<Vec<(u64, Record)>>,
}

/// The simulator's ticket ids carry its own ticket number in their first 8 bytes, least
/// significant byte first (so a `ticket_index` is a read, not a search).
fn ticket_id(ix: usize) -> Result<TicketId, SimError> {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(ix as u64).to_le_bytes());
    Ok(TicketId::from_bytes(bytes))
}

/// The simulator's number of a ticket it issued.
pub fn ticket_index(id: &TicketId) -> Option<usize> {
    let bytes = id.to_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(&bytes[..8]);
    usize::try_from(u64::from_le_bytes(low)).ok()
}

/// Runs `opts.days` days of `hall` with the visitors `arrivals` makes, its windows staffed
/// by `shifts` (one list per window of the setup); with `keep_log`, also every record the
/// core logged, with its log position (the district benchmark publishes them).
pub fn simulate(
    hall: &SimHall,
    opts: &Options,
    shifts: Vec<Vec<Shift>>,
    arrivals: &mut Arrivals,
    keep_log: bool,
) -> Result<(Report, Vec<(u64, Record)>), SimError> {
    let queues = &hall.setup.queues;
    let clerks = hall
        .setup
        .windows
        .iter()
        .zip(shifts)
        .map(|(w, shifts)| {
            let clerk = UserName::parse(&format!("sim-{}", w.id)).map_err(|e| SimError::Input(e.to_string()))?;
            Ok(Clerk {
                window: w.id,
                clerk,
                serves: queues.iter().map(|q| w.queues.contains(&q.id)).collect(),
                shifts,
                holding: None,
                recalls: 0,
                parked: Vec::new(),
                idle_since: None,
                signed_in: false,
                paused: false,
                leaving: None,
                reacting: false,
            })
        })
        .collect::<Result<Vec<_>, SimError>>()?;
    let ids = clerks.iter().map(|c| c.window).collect();
    let rules = &hall.setup.dispatch;
    let grace_min = hall.setup.appointments.as_ref().map_or(0, |p| p.grace_min);
    let mut sim = Sim {
        hall,
        opts,
        state: HallState::new(hall.setup.clone()),
        heap: BinaryHeap::new(),
        seq: 0,
        clerks,
        idle: BTreeSet::new(),
        fates: Vec::new(),
        minutes: arrivals.services.iter().map(|s| hall.expected_min(s)).collect(),
        recall_max: rules.recall_max,
        park_max: rules.park_max as usize,
        rejoin_ms: i64::from(rules.rejoin_min) * 60_000,
        cooldown_ms: i64::from(rules.call_cooldown_min) * 60_000,
        bookings: 0,
        remote_ticket: Vec::new(),
        guided: 0,
        escalated_served: 0,
        rec: Collector::new(ids, opts.sla_min, grace_min),
        log: keep_log.then(Vec::new),
    };
    for d in 0..opts.days {
        let (start, end) = (day_start(hall, d)?, day_start(hall, d + 1)?);
        sim.day(start, end, arrivals)?;
    }
    // The core's next day expires what is left, so that it is counted.
    let last = day_start(hall, opts.days)?;
    sim.exec(Command::Tick, last).map_err(|r| refused("tick", &r))?;
    let mut report = sim.rec.finish(&hall.name, opts.days);
    report.guides = super::GuidesReport::of(&sim.state.stats);
    report.escalated = sim.state.stats.values().map(|d| d.total.escalated).sum();
    report.escalated_served = sim.escalated_served;
    Ok((report, sim.log.unwrap_or_default()))
}

fn refused(what: &str, r: &Rejection) -> SimError {
    SimError::Refused { command: what.to_string(), reason: r.to_string() }
}

impl Sim<'_> {
    fn exec(&mut self, command: Command, now: i64) -> Result<Reply, Rejection> {
        let step = self.state.step(&Envelope { command, idempotency_key: None }, Ts(now));
        self.observe(&step);
        step.result.map(|d| d.reply)
    }

    /// What a step logged, to the collector and, when asked for, to the log.
    fn observe(&mut self, step: &Step) {
        self.rec.observe(&step.records, &step.facts);
        if let Some(log) = &mut self.log {
            log.extend(step.records.iter().cloned());
        }
    }

    fn push(&mut self, at: i64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, ev)));
    }

    fn day(&mut self, start: i64, end: i64, arrivals: &mut Arrivals) -> Result<(), SimError> {
        self.rec.start_day(Ts(start));
        self.exec(Command::Tick, start).map_err(|r| refused("tick", &r))?;
        self.plan_shifts(start);
        let visitors = arrivals.day(start, &self.hall.plan.arrival_spans);
        let plan = self.plan_day(start, &visitors, arrivals)?;
        let mut next = plan.iter().peekable();
        loop {
            let heap_at = self.heap.peek().map(|Reverse((t, _, _))| *t);
            let arrival_at = next.peek().map(|v| v.at_ms);
            match (heap_at, arrival_at) {
                (Some(h), a) if h < end && a.is_none_or(|a| h <= a) => {
                    if let Some(Reverse((t, _, ev))) = self.heap.pop() {
                        self.event(t, ev)?;
                    }
                }
                (_, Some(a)) if a < end => {
                    if let Some(visit) = next.next() {
                        self.act(visit, &visitors, arrivals, start)?;
                    }
                }
                _ => break,
            }
        }
        self.rec.end_day(Ts(end));
        // What was still to happen belongs to a day the core is about to close, which
        // also signs every clerk out.
        self.heap.clear();
        self.idle.clear();
        for c in &mut self.clerks {
            (c.holding, c.idle_since, c.leaving, c.reacting) = (None, None, None, false);
            (c.signed_in, c.paused) = (false, false);
            c.parked.clear();
        }
        Ok(())
    }

    /// Puts the starts and ends of the day's shifts on the heap; a `drain` shift ends when
    /// the hall closes at the earliest.
    fn plan_shifts(&mut self, day_start: i64) {
        let close_ms = self.hall.plan.close_ms;
        for w in 0..self.clerks.len() {
            let n = self.clerks[w].shifts.len();
            for i in 0..n {
                let s = self.clerks[w].shifts[i];
                self.push(day_start + s.from_ms, Ev::ShiftStart(w));
                let (at, leave) = match s.to {
                    ShiftEnd::At(t) if i + 1 < n => (t, Leave::Pause),
                    ShiftEnd::At(t) => (t, Leave::Close),
                    ShiftEnd::Drain => (s.from_ms.max(close_ms), Leave::Drain),
                };
                self.push(day_start + at, Ev::ShiftEnd(w, leave));
            }
        }
    }

    fn event(&mut self, now: i64, ev: Ev) -> Result<(), SimError> {
        match ev {
            Ev::ShiftStart(w) => self.shift_start(w, now)?,
            Ev::ShiftEnd(w, leave) => self.shift_end(w, now, leave)?,
            Ev::Serve(w) => self.serve(w, now)?,
            Ev::Done(w) => self.done(w, now)?,
            Ev::Recall(w) => self.not_come(w, now)?,
            Ev::NoShow(w) => self.no_show(w, now)?,
            Ev::Park(w) => self.park(w, now)?,
            Ev::Back(w, t) => self.back(w, t, now)?,
            Ev::Rejoin(t) => self.rejoin(t, now)?,
            Ev::Wake(q) => self.wake(q, now)?,
            Ev::Ready(w) => self.ready(w, now)?,
            Ev::Abandon(t) => {
                // Patience runs from the issue: a visitor waiting again (a later bundle
                // step, a rejoin) has come too far to leave now.
                if self.rec.waits_since_issue(t) {
                    let id = ticket_id(t)?;
                    self.exec(Command::CancelTicket { id }, now).map_err(|r| refused("cancel", &r))?;
                }
            }
        }
        Ok(())
    }

    fn clerk_cmd(
        &mut self,
        w: usize,
        now: i64,
        what: &str,
        make: impl FnOnce(WindowId, UserName) -> Command,
    ) -> Result<Reply, SimError> {
        let c = &self.clerks[w];
        let command = make(c.window, c.clerk.clone());
        self.exec(command, now).map_err(|r| refused(what, &r))
    }

    /// A clerk's shift starts: sign in, or come back from a break, and call. A clerk still
    /// finishing a visitor from before simply stays; one who stayed for parked visitors
    /// calls again.
    fn shift_start(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        let c = &mut self.clerks[w];
        c.leaving = None;
        if c.reacting {
            return Ok(());
        }
        if c.signed_in && !c.paused && c.holding.is_none() && c.idle_since.is_none() {
            return self.call_or_idle(w, now);
        }
        if !c.signed_in {
            let (window, clerk) = (c.window, c.clerk.clone());
            self.exec(Command::OpenWindow { window, clerk }, now).map_err(|r| refused("open", &r))?;
            self.clerks[w].signed_in = true;
        } else if c.paused {
            self.clerk_cmd(w, now, "resume", |window, clerk| Command::Resume { window, clerk })?;
            self.clerks[w].paused = false;
        } else {
            return Ok(());
        }
        self.call_or_idle(w, now)
    }

    /// A clerk's shift ends: an idle one leaves now; a busy one once its visitor is done.
    fn shift_end(&mut self, w: usize, now: i64, leave: Leave) -> Result<(), SimError> {
        let c = &mut self.clerks[w];
        if !c.signed_in || c.paused {
            return Ok(());
        }
        if c.holding.is_some() || c.reacting {
            c.leaving = Some(leave);
            return Ok(());
        }
        if let Some(since) = c.idle_since.take() {
            self.idle.remove(&(since, w));
        }
        if leave == Leave::Drain && self.call(w, now)? {
            self.clerks[w].leaving = Some(leave);
            return Ok(());
        }
        self.leave(w, now, leave)
    }

    /// Window `w` let its ticket go: after the clerk's reaction time (`react.rs`), resume
    /// a parked visitor who is back, else call the next, or leave if the shift is over.
    fn released(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        self.clerks[w].holding = None;
        self.react(w, now)
    }

    /// Window `w`'s clerk, free, acts: see `released`.
    fn free(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        if self.unpark_returned(w, now)? {
            return Ok(());
        }
        match self.clerks[w].leaving {
            None => self.call_or_idle(w, now),
            Some(Leave::Drain) => {
                if self.call(w, now)? {
                    return Ok(());
                }
                self.leave(w, now, Leave::Drain)
            }
            Some(leave) => self.leave(w, now, leave),
        }
    }

    /// Pauses (a break) or closes the idle window `w`. A window with parked tickets cannot
    /// close: its clerk stays, calling no one new, until their visitors are back and done.
    fn leave(&mut self, w: usize, now: i64, leave: Leave) -> Result<(), SimError> {
        if leave != Leave::Pause && !self.clerks[w].parked.is_empty() {
            self.clerks[w].leaving = Some(leave);
            return Ok(());
        }
        self.clerks[w].leaving = None;
        match leave {
            Leave::Pause => {
                self.clerk_cmd(w, now, "pause", |window, clerk| Command::Pause { window, clerk, reason: None })?;
                self.clerks[w].paused = true;
            }
            Leave::Close | Leave::Drain => {
                self.clerk_cmd(w, now, "close", |window, clerk| Command::Close { window, clerk })?;
                self.clerks[w].signed_in = false;
            }
        }
        Ok(())
    }

    fn call_or_idle(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        if !self.call(w, now)? {
            self.idle.insert((now, w));
            self.clerks[w].idle_since = Some(now);
        }
        Ok(())
    }

    /// Window `w` resumes a parked visitor who is back, or calls its next ticket; false if
    /// nothing was there for it.
    fn call(&mut self, w: usize, now: i64) -> Result<bool, SimError> {
        if self.unpark_returned(w, now)? {
            return Ok(true);
        }
        let reply = self.clerk_cmd(w, now, "call", |window, clerk| Command::CallNext { window, clerk })?;
        let Reply::MaybeTicket(Some(id)) = reply else { return Ok(false) };
        self.take(w, &id, now)?;
        Ok(true)
    }

    /// Window `w` called ticket `id`: its visitor walks to the counter, or misses the call.
    fn take(&mut self, w: usize, id: &TicketId, now: i64) -> Result<(), SimError> {
        let t = ticket_index(id).ok_or_else(|| SimError::Input(format!("ticket {id} is not the simulator's")))?;
        self.clerks[w].holding = Some(t);
        self.clerks[w].recalls = 0;
        if self.fates.get(t).is_some_and(|f| f.no_show) {
            let ev = if self.recall_max > 0 { Ev::Recall(w) } else { Ev::NoShow(w) };
            self.push(now + RECALL_AFTER_MS, ev);
        } else {
            self.push(now + self.hall.walk_ms, Ev::Serve(w));
        }
        Ok(())
    }

    /// A ticket joined the setup's queue number `queue`: the idle windows serving it
    /// call, longest idle first, until one gets a ticket.
    fn wake(&mut self, queue: usize, now: i64) -> Result<(), SimError> {
        let mut after = (i64::MIN, 0);
        loop {
            let serves = |&&(_, w): &&(i64, usize)| self.clerks[w].serves.get(queue) == Some(&true);
            let Some(&c) = self.idle.range(after..).find(serves) else { return Ok(()) };
            self.idle.remove(&c);
            self.clerks[c.1].idle_since = None;
            if self.call(c.1, now)? {
                return Ok(());
            }
            self.idle.insert(c);
            self.clerks[c.1].idle_since = Some(c.0);
            after = (c.0, c.1 + 1);
        }
    }
}
