//! How visitors come in: at a kiosk on arrival, with a booked slot (`--appointments`) or
//! with a number taken remotely (`--remote`). Each day's plan says what every visitor does
//! when; each act is a command to the real core.
//!
//! A booked visitor books at the start of the simulated day, before the hall opens: the
//! core refuses a slot that has begun, and booking the evening before would fail in a hall
//! whose `days_ahead` is 0. They book the slot their drawn arrival time falls in (or the
//! next one that day, if it falls between slots), so the day's load keeps its shape, and
//! come within `BOOKED_SPREAD_MS` of its start (no sooner than that part of the day
//! opens: they wait at the door) to check in. A check-in after the grace gets an ordinary
//! ticket: the core decides. A full slot sends them to the kiosk as walk-ins at their
//! drawn time, counted. A booking carries no priority class: the core's check-in takes none.
//!
//! A remote visitor takes the number in the app a drawn while before arriving (no sooner
//! than the opening of the part of the day they arrive in: the app issues only while the
//! hall does) and checks in on arrival. The ticket keeps its place meanwhile; its wait,
//! its expected wait and its patience run from the check-in, when the visitor is there.

use crate::core::appointments::{local_ts, slots};
use crate::core::event::Event;
use crate::core::model::Ts;
use crate::core::{Command, Envelope, Rejection};
use crate::sim::arrivals::{Arrivals, Channel, Visitor};
use crate::sim::collect::Came;
use crate::sim::SimError;

use super::rules::bundle_ms_per_min;
use super::{refused, ticket_id, Ev, Fate, Sim};

/// What a visitor does at a time of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Act {
    /// Takes a ticket at a kiosk.
    WalkIn,
    /// Checks in for booking number `n` (its code is `n` in hex).
    CheckIn(u64),
    /// Takes the number in the app.
    TakeRemote,
    /// Arrives with a remote number and checks in.
    ArriveRemote,
}

/// One act of one of the day's visitors (an index into them).
pub(super) struct Visit {
    pub at_ms: i64,
    pub visitor: usize,
    pub act: Act,
}

impl Sim<'_> {
    /// Books the slots of the day starting at `start` and lists every visitor's acts in
    /// time order (a visitor's own acts in the order they happen).
    pub(super) fn plan_day(
        &mut self,
        start: i64,
        visitors: &[Visitor],
        arrivals: &Arrivals,
    ) -> Result<Vec<Visit>, SimError> {
        self.remote_ticket.clear();
        self.remote_ticket.resize(visitors.len(), None);
        let mut plan = Vec::with_capacity(visitors.len());
        for (i, v) in visitors.iter().enumerate() {
            let visit = |at_ms: i64, act: Act| Visit { at_ms, visitor: i, act };
            match v.channel {
                Channel::WalkIn => plan.push(visit(v.at_ms, Act::WalkIn)),
                Channel::Booked { offset_ms } => match self.book(start, v, arrivals)? {
                    Some((n, slot_at)) => {
                        let at = (slot_at + offset_ms).max(self.opened(start, slot_at));
                        plan.push(visit(at, Act::CheckIn(n)));
                    }
                    None => plan.push(visit(v.at_ms, Act::WalkIn)),
                },
                Channel::Remote { lead_ms } => {
                    plan.push(visit((v.at_ms - lead_ms).max(self.opened(start, v.at_ms)), Act::TakeRemote));
                    plan.push(visit(v.at_ms, Act::ArriveRemote));
                }
            }
        }
        plan.sort_by_key(|p| p.at_ms);
        Ok(plan)
    }

    /// When the part of the day holding `at` opened (`at` itself if none holds it).
    fn opened(&self, start: i64, at: i64) -> i64 {
        let spans = &self.hall.plan.arrival_spans;
        spans
            .iter()
            .map(|&(from, to)| (start + from, start + to))
            .find(|s| (s.0..s.1).contains(&at))
            .map_or(at, |s| s.0)
    }

    /// Visitor `v` books, at the day's start `start`, the slot holding their drawn arrival
    /// or the next: the booking's number and its slot's start; `None` if they must walk
    /// in: their slot was full (counted) or none is left today, or the hall does not offer
    /// what they came for (the kiosk will refuse them too).
    fn book(&mut self, start: i64, v: &Visitor, arrivals: &Arrivals) -> Result<Option<(u64, i64)>, SimError> {
        let setup = &self.hall.setup;
        let Some(policy) = setup.appointments.as_ref() else { return Ok(None) };
        let day = setup.day_of(Ts(start));
        let slot_ms = i64::from(policy.slot_min) * 60_000;
        let starts = slots(setup, policy).into_iter().map(|s| (s, local_ts(setup, day, s).0));
        let Some((slot, slot_at)) = starts.filter(|&(_, at)| at > start && at + slot_ms > v.at_ms).min_by_key(|s| s.1)
        else {
            self.rec.slot_full();
            return Ok(None);
        };
        self.bookings += 1;
        let n = self.bookings;
        let service = arrivals.services.get(v.service).cloned().unwrap_or_default();
        let phone_hash = format!("sim-phone-{n:x}");
        let code = format!("{n:x}");
        let command = Command::BookAppointment { code, service, day, slot, phone_hash, addr_hash: None, window: None };
        match self.exec(command, start) {
            Ok(_) => Ok(Some((n, slot_at))),
            Err(Rejection::SlotFull) => {
                self.rec.slot_full();
                Ok(None)
            }
            Err(Rejection::UnknownService(_)) => Ok(None),
            Err(r) => Err(refused("book", &r)),
        }
    }

    /// One of the day's visitors does what `visit` says, at its time.
    pub(super) fn act(
        &mut self,
        visit: &Visit,
        visitors: &[Visitor],
        arrivals: &Arrivals,
        day_start: i64,
    ) -> Result<(), SimError> {
        let Some(v) = visitors.get(visit.visitor) else { return Ok(()) };
        let now = visit.at_ms;
        if visit.act != Act::ArriveRemote {
            return self.arrive(v, visit, arrivals, day_start);
        }
        // A visitor the app refused (an item the hall does not offer) does not come.
        let Some(t) = self.remote_ticket.get(visit.visitor).copied().flatten() else { return Ok(()) };
        let id = ticket_id(t)?;
        self.exec(Command::CheckInTicket { id }, now).map_err(|r| refused("check-in", &r))?;
        self.register(t, now, day_start, Came::Remote)
    }

    /// A visitor takes a ticket at a kiosk, checks in for their booking, or takes a number
    /// in the app; the core may refuse (counted by its code).
    fn arrive(&mut self, v: &Visitor, visit: &Visit, arrivals: &Arrivals, day_start: i64) -> Result<(), SimError> {
        self.rec.arrival();
        let now = visit.at_ms;
        let t = self.fates.len();
        let service = arrivals.services.get(v.service).cloned().unwrap_or_default();
        let priority = v.priority.and_then(|p| arrivals.classes.get(p)).cloned();
        let minutes = self.opts.service.minutes(v.draw, self.minutes.get(v.service).copied().unwrap_or(0.0));
        let id = ticket_id(t)?;
        let command = match visit.act {
            Act::CheckIn(n) => Command::CheckInAppointment { code: format!("{n:x}"), id, kiosk: "sim".into() },
            Act::TakeRemote => Command::IssueTicket { id, service, priority, kiosk: "sim-online".into(), remote: true },
            Act::WalkIn if v.guided => {
                match super::super::guides::guide_for(&self.state, self.guided, self.opts.guides) {
                    Some((guide, escort)) => {
                        self.guided += 1;
                        Command::IssueAssisted { id, service, priority, guide, escort }
                    }
                    None => Command::IssueTicket { id, service, priority, kiosk: "sim".into(), remote: false },
                }
            }
            Act::WalkIn | Act::ArriveRemote => {
                Command::IssueTicket { id, service, priority, kiosk: "sim".into(), remote: false }
            }
        };
        let step = self.state.step(&Envelope { command, idempotency_key: None }, Ts(now));
        self.observe(&step);
        if let Err(r) = &step.result {
            self.rec.rejected(r.code());
            return Ok(());
        }
        let steps = step.records.iter().find_map(|(_, r)| match &r.event {
            Event::TicketIssued { steps, .. } => Some(steps),
            _ => None,
        });
        let total_ms = (minutes * 60_000.0).round() as i64;
        let mut fate = Fate {
            service_ms: total_ms,
            ms_per_min: 0.0,
            rejoin_after_ms: v.rejoin_after_ms,
            park_away_ms: v.park_away_ms,
            steps_left: 1,
            no_show: v.no_show,
            escalates: v.escalates,
            escalated: false,
        };
        if let Some(steps) = steps.filter(|s| s.len() > 1) {
            fate.steps_left = u8::try_from(steps.len()).unwrap_or(u8::MAX);
            let first = self.state.ticket(&id).map_or(0, |tk| tk.minutes);
            fate.ms_per_min = bundle_ms_per_min(total_ms, &self.state, steps);
            fate.service_ms = (f64::from(fate.ms_per_min) * f64::from(first)).round() as i64;
        }
        self.fates.push(fate);
        match visit.act {
            Act::TakeRemote => {
                if let Some(slot) = self.remote_ticket.get_mut(visit.visitor) {
                    *slot = Some(t);
                }
                Ok(())
            }
            Act::CheckIn(_) => {
                // A check-in after the grace is an ordinary ticket, without a slot.
                let due = self.state.ticket(&id).and_then(|tk| tk.due);
                self.register(t, now, day_start, due.map_or(Came::WalkIn, Came::Booked))
            }
            Act::WalkIn | Act::ArriveRemote => self.register(t, now, day_start, Came::WalkIn),
        }
    }

    /// Ticket `t`'s visitor is in the hall from `now` and waits: count the ticket and its
    /// expected wait, start their patience, and wake the idle windows of its queue.
    fn register(&mut self, t: usize, now: i64, day_start: i64, came: Came) -> Result<(), SimError> {
        let id = ticket_id(t)?;
        let Some(tk) = self.state.ticket(&id) else { return Ok(()) };
        // What the kiosk told at issue (none for a remote ticket and where no window served).
        let told = tk.promise.map(|p| (p.minutes, p.low, p.high));
        let (queue, class) = (tk.queue, tk.priority.clone());
        let (from, to) = self.hall.plan.measure;
        let measured = (day_start + from..day_start + to).contains(&now);
        self.rec.issued(t, Ts(now), queue.as_str(), class.as_ref().map(|c| c.as_str()), told, measured);
        self.rec.came(t, came);
        if let Some(after_min) = self.opts.abandon_after_min {
            self.push(now + i64::from(after_min) * 60_000, Ev::Abandon(t));
        }
        match self.hall.setup.queues.iter().position(|q| q.id == queue) {
            Some(q) => self.wake(q, now),
            None => Ok(()),
        }
    }
}
