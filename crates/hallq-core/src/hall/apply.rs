//! `HallState::apply`: one logged record changes the state. The ticket's moves between
//! windows and lines are in `moves.rs`; the day, issues, bookings, ratings, cases and
//! staff here.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{HallState, NewTicket};
use crate::appointments::{Appointment, AppointmentState};
use crate::event::{Event, Record};
use crate::fingerprint::KeyedAnswer;
use crate::model::{QueueId, TicketId, Ts, UserName, WindowId, WindowState};
use crate::rating::{Callback, Case, CaseOpening, Rectification};
use crate::stats::DayStats;
use crate::transitions::{next_status, TicketAction};

impl HallState {
    pub(super) fn day_stats(&mut self) -> &mut DayStats {
        let day = self.day.unwrap_or_default();
        self.stats.entry(day).or_default()
    }

    /// Applies one logged record. Panics on a record that breaks an invariant: that is a
    /// bug in `decide` (or a corrupt log), and going on would spread it. One arm per event,
    /// each a call: a ticket's moves are in `moves.rs`, the rest below.
    pub fn apply(&mut self, seq: u64, record: &Record) {
        assert!(seq > self.last_seq, "log position {seq} after {}", self.last_seq);
        let before = self.last_seq;
        self.last_seq = seq;
        self.last_at = self.last_at.max(record.at);
        let at = record.at;
        self.service_times.observe(&self.setup, &self.tickets, at, &record.event);
        match &record.event {
            Event::DayOpened { day, expired } => self.open_day(*day, expired),
            issued @ Event::TicketIssued { .. } => self.issued(seq, before, at, issued),
            Event::TicketCheckedIn { id } => self.checked_in(id),
            booked @ Event::AppointmentBooked { .. } => self.booked(booked),
            Event::AppointmentCancelled { code } => self.booking_is(code, AppointmentState::Cancelled),
            Event::AppointmentCheckedIn { code, ticket, late } => {
                self.booking_is(code, AppointmentState::CheckedIn { ticket: *ticket, late: *late })
            }
            Event::TicketRejoined { id } => self.rejoin(seq, at, id),
            Event::TicketCancelled { id } => self.cancel(id),
            Event::TicketRated { id, score, comment, reason, case } => {
                self.rate(at, id, *score, comment, reason, case.as_ref())
            }
            Event::WindowOpened { window, clerk } => self.set_window(window, WindowState::Open, Some(clerk.clone())),
            Event::TicketCalled { window, id, rule } => self.call(at, window, id, rule),
            Event::TicketRecalled { window, id } => self.recalled(at, window, id),
            Event::TicketServing { window, id } => self.serving(at, window, id),
            Event::TicketDone { window, id, outcome } => self.done(at, window, id, *outcome),
            Event::TicketNoShow { window, id } => self.no_show(at, window, id),
            Event::TicketStepDone { window, id } => self.next_step(at, window, id),
            Event::TicketParked { window, id } => self.parked(window, id),
            Event::TicketTransferred { window, id, to } => self.transfer(window, id, to),
            Event::TicketReturned { id, window, queue } => self.return_ticket(id, window.as_ref(), queue),
            Event::WindowPaused { window } => self.set_state(window, WindowState::Paused),
            Event::WindowResumed { window } => self.set_state(window, WindowState::Open),
            Event::WindowClosed { window } => self.set_window(window, WindowState::Closed, None),
            Event::NumbersRaised { day, floors } => self.numbers_raised(*day, floors),
            Event::NoChange
            | Event::AlertRaised { .. }
            | Event::AlertCleared { .. }
            | Event::AlertAcknowledged { .. }
            | Event::UserLoggedIn { .. }
            | Event::UserLoggedOut { .. } => {}
            Event::CaseCallback { case, by, reached, note } => self.case_callback(at, case, by, *reached, note),
            Event::CaseRectified { case, by, note } => self.case_rectified(at, case, by, note),
            Event::UserDisabled { name, .. } => self.staff.apply_disabled(name, true),
            Event::UserEnabled { name, .. } => self.staff.apply_disabled(name, false),
            Event::UserAdded { name, role, password_hash, .. } => self.staff.apply_added(name, *role, password_hash),
            Event::PasswordReset { name, password_hash, .. } => self.staff.apply_password(name, password_hash),
            Event::WindowQueuesSet { window, queues, .. } => self.set_window_queues(window, queues),
            Event::WindowForceClosed { window, .. } => self.force_closed(window),
        }
        self.alerts.apply(self.day, at, &record.event, &self.windows);
        if let Some(entry) = &record.idem {
            let keyed = KeyedAnswer { command: entry.command.clone(), reply: entry.reply.clone() };
            self.idem.insert(entry.key.clone(), keyed);
        }
    }

    /// A ticket issued: numbered, in line, counted; the promise's forecast run, kept as
    /// the forecast of the state before, becomes this state's.
    fn issued(&mut self, seq: u64, before: u64, at: Ts, event: &Event) {
        if let Some(new) = NewTicket::of_event(event) {
            self.issue(seq, at, &new);
            self.forecast_cache.promote(before, seq, new.id, self.last_at);
        }
    }

    fn checked_in(&mut self, id: &TicketId) {
        let t = self.tickets.get_mut(id).expect("checked-in ticket exists");
        assert!(!t.checked_in, "ticket checked in twice");
        t.checked_in = true;
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
    }

    fn booked(&mut self, event: &Event) {
        if let Event::AppointmentBooked { code, service, day, slot, phone_hash, addr_hash, window } = event {
            let a = Appointment {
                code: code.clone(),
                service: service.clone(),
                day: *day,
                slot: *slot,
                phone_hash: phone_hash.clone(),
                addr_hash: addr_hash.clone(),
                window: *window,
                state: AppointmentState::Booked,
            };
            assert!(self.appointments.by_code.insert(code.clone(), a).is_none(), "booking code {code} twice");
        }
    }

    fn booking_is(&mut self, code: &str, state: AppointmentState) {
        let a = self.appointments.by_code.get_mut(code).expect("the event's booking exists");
        a.state = state;
    }

    /// `hallq recover` raised today's numbers above the highest seen anywhere.
    fn numbers_raised(&mut self, day: NaiveDate, floors: &BTreeMap<QueueId, u32>) {
        if self.day == Some(day) {
            for (queue, floor) in floors {
                let last = self.numbers.entry(*queue).or_insert(0);
                *last = (*last).max(*floor);
            }
        }
    }

    fn case_callback(&mut self, at: Ts, case: &str, by: &UserName, reached: bool, note: &str) {
        let c = self.ratings.cases.get_mut(case).expect("called-back case exists");
        assert!(c.rectified.is_none(), "call-back of a closed case {case}");
        c.callbacks.push(Callback { at, by: by.clone(), reached, note: note.to_string() });
    }

    fn case_rectified(&mut self, at: Ts, case: &str, by: &UserName, note: &str) {
        let c = self.ratings.cases.get_mut(case).expect("rectified case exists");
        assert!(c.rectified.is_none(), "case {case} rectified twice");
        c.rectified = Some(Rectification { at, by: by.clone(), note: note.to_string() });
        let (day, queue, window) = (c.day, c.queue, c.window);
        // Counted on the day of the rating: 差评整改率 is of that day's bad ratings.
        self.stats.entry(day).or_default().record(&queue, window.as_ref(), |f| f.bad_rectified += 1);
    }

    fn force_closed(&mut self, window: &WindowId) {
        if let Some(w) = self.window_mut(window) {
            assert!(w.parked.is_empty(), "window {window} force-closed with parked tickets");
        }
        self.set_window(window, WindowState::Closed, None);
    }

    /// A rating: the ticket's score, the day's figures, and for a bad one its case.
    fn rate(
        &mut self,
        at: Ts,
        id: &TicketId,
        score: u8,
        comment: &Option<String>,
        reason: &Option<String>,
        case: Option<&CaseOpening>,
    ) {
        let day = self.day.unwrap_or_default();
        let t = self.tickets.get_mut(id).expect("rated ticket exists");
        assert!(t.rating.is_none(), "ticket rated twice");
        t.rating = Some(score);
        let (queue, window) = (t.queue, t.window);
        if let Some(opening) = case {
            let c = Case {
                id: opening.id.clone(),
                day,
                opened_at: at,
                due: opening.due,
                number: t.number.to_string(),
                queue,
                window,
                clerk: opening.clerk.clone(),
                services: t.services.clone(),
                score,
                reason: reason.clone().unwrap_or_default(),
                comment: comment.clone(),
                callbacks: Vec::new(),
                rectified: None,
            };
            assert!(self.ratings.cases.insert(opening.id.clone(), c).is_none(), "case {} opened twice", opening.id);
        }
        self.day_stats().record(&queue, window.as_ref(), |f| {
            f.rated += 1;
            f.score_sum += u64::from(score);
            if let Some(n) = (score as usize).checked_sub(1).and_then(|i| f.scores.get_mut(i)) {
                *n += 1;
            }
            if let Some(r) = reason {
                *f.bad_reasons.entry(r.clone()).or_default() += 1;
            }
        });
    }

    fn open_day(&mut self, day: NaiveDate, expired: &[TicketId]) {
        for id in expired {
            let t = self.tickets.get_mut(id).expect("expired ticket exists");
            t.status = next_status(t.status, TicketAction::Expire).expect("only unfinished tickets expire");
            let (queue, window) = (t.queue, t.window);
            self.day_stats().record(&queue, window.as_ref(), |f| f.expired += 1);
        }
        self.day = Some(day);
        self.appointments.drop_before(day);
        self.ratings.open_day(day, self.setup.rating.closed_kept_days);
        self.tickets.clear();
        self.numbers.clear();
        self.idem.clear();
        self.index.clear();
        for w in self.windows.values_mut() {
            w.state = WindowState::Closed;
            w.ticket = None;
            w.at_counter = None;
            w.clerk = None;
            w.ordinary_owed = 0;
            w.parked.clear();
        }
        self.stats.entry(day).or_default();
    }

    fn issue(&mut self, seq: u64, at: Ts, new: &NewTicket) {
        let (queue, n) = (new.queue, new.n);
        let last = self.numbers.entry(*queue).or_insert(0);
        assert!(n > *last, "number {n} in queue {queue} repeats or goes back (last {last})");
        *last = n;
        let ticket = new.ticket(&self.setup, seq, at);
        self.index.insert(&self.setup, &ticket);
        assert!(self.tickets.insert(*new.id, ticket).is_none(), "ticket id issued twice");
        self.day_stats().record(queue, None, |f| f.issued += 1);
    }
}
