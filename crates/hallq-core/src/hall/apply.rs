//! `HallState::apply`: one logged record changes the state. The ticket's moves between
//! windows and lines are in `moves.rs`; the day, issues, bookings, ratings, cases and
//! staff here.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{line_of, HallState, NewTicket, Out};
use crate::appointments::{Appointment, AppointmentState};
use crate::event::{Event, Record};
use crate::facts::{Desk, Fact, Subject, What};
use crate::fingerprint::KeyedAnswer;
use crate::model::{QueueId, TicketId, TicketStatus, Ts, UserName, WindowId, WindowState};
use crate::rating::{Callback, Case, CaseOpening, Rectification};
use crate::transitions::TicketAction;

impl HallState {
    /// Applies one logged record and returns what it meant (`facts.rs`), which the day's
    /// figures and the pace of service have already folded. Panics on a record that
    /// breaks an invariant: that is a bug in `decide` (or a corrupt log), and going on
    /// would spread it. One arm per event, each a call: a ticket's moves are in
    /// `moves.rs`, the rest below.
    pub fn apply(&mut self, seq: u64, record: &Record) -> Vec<Fact> {
        assert!(seq > self.last_seq, "log position {seq} after {}", self.last_seq);
        let before = self.last_seq;
        let day_before = self.day;
        self.last_seq = seq;
        self.last_at = self.last_at.max(record.at);
        let at = record.at;
        let out = &mut Out { seq, at, facts: Vec::new() };
        match &record.event {
            Event::DayOpened { day, expired } => self.open_day(out, *day, expired),
            issued @ Event::TicketIssued { .. } => self.issued(out, before, issued),
            Event::TicketCheckedIn { id } => self.checked_in(out, id),
            booked @ Event::AppointmentBooked { .. } => self.booked(booked),
            Event::AppointmentCancelled { code } => self.booking_is(code, AppointmentState::Cancelled),
            Event::AppointmentCheckedIn { code, ticket, late } => {
                self.booking_is(code, AppointmentState::CheckedIn { ticket: *ticket, late: *late })
            }
            Event::TicketRejoined { id } => self.rejoin(out, id),
            Event::TicketCancelled { id } => self.cancel(out, id),
            Event::TicketRated { id, score, comment, reason, case } => {
                self.rate(out, id, *score, comment, reason, case.as_ref())
            }
            Event::WindowOpened { window, clerk } => self.window_opened(out, window, clerk),
            Event::TicketCalled { window, id, rule } => self.call(out, window, id, rule),
            Event::TicketRecalled { window, id } => self.recalled(out, window, id),
            Event::TicketServing { window, id } => self.serving(out, window, id),
            Event::TicketDone { window, id, outcome } => self.done(out, window, id, *outcome),
            Event::TicketNoShow { window, id } => self.no_show(out, window, id),
            Event::TicketStepDone { window, id } => self.next_step(out, window, id),
            Event::TicketParked { window, id } => self.parked(out, window, id),
            Event::TicketTransferred { window, id, to } => self.transfer(out, window, id, to),
            Event::TicketReturned { id, window, queue } => self.return_ticket(out, id, window.as_ref(), queue),
            Event::WindowPaused { window, reason } => self.paused(out, window, reason.clone()),
            Event::WindowResumed { window } => self.resumed(out, window),
            Event::WindowClosed { window } => self.window_closed(out, window, false),
            Event::NumbersRaised { day, floors } => self.numbers_raised(*day, floors),
            Event::NoChange
            | Event::AlertRaised { .. }
            | Event::AlertCleared { .. }
            | Event::AlertAcknowledged { .. }
            | Event::UserLoggedIn { .. }
            | Event::UserLoggedOut { .. } => {}
            Event::CaseCallback { case, by, reached, note } => self.case_callback(at, case, by, *reached, note),
            Event::CaseRectified { case, by, note } => self.case_rectified(out, case, by, note),
            Event::UserDisabled { name, .. } => self.staff.apply_disabled(name, true),
            Event::UserEnabled { name, .. } => self.staff.apply_disabled(name, false),
            Event::UserAdded { name, role, password_hash, .. } => self.staff.apply_added(name, *role, password_hash),
            Event::PasswordReset { name, password_hash, .. } => self.staff.apply_password(name, password_hash),
            Event::WindowQueuesSet { window, queues, .. } => self.set_window_queues(window, queues),
            Event::WindowForceClosed { window, .. } => self.force_closed(out, window),
            escalated @ Event::TicketEscalated { .. } => self.escalated(out, escalated),
            Event::EscalationCallback { case, by, reached, note } => {
                self.escalation_callback(at, case, by, *reached, note)
            }
            Event::EscalationResolved { case, by, note, referred_to } => {
                self.escalation_resolved(out, case, by, note, referred_to)
            }
            Event::TicketAssisted { id, guide } => self.assisted(out, id, guide),
            Event::TicketEscorted { id, guide, priority } => self.escorted(out, id, guide, priority),
            Event::EscortReleased { id, guide } => self.escort_released(out, id, guide),
            // Issue 17 §4, the clerk's moves (`clerk.rs`).
            Event::StoreNextSet { window, armed } => self.store_next_set(out, window, *armed),
            Event::StoreNextFired { window } => out.push(What::StoreNextFired { desk: self.desk(window) }),
            Event::WalkDirect { window, id } => self.walk_direct(out, window, id),
            Event::PersonTicket { id, person } => self.person_ticket(out, id, person),
            // 助企服务 (issue 17 §3).
            Event::EnterpriseTicketIssued { id, enterprise, specialist, window } => {
                self.enterprises.apply_ticket(self.day, id, (enterprise, specialist, *window))
            }
            Event::EnterpriseAdded { enterprise, .. } => self.enterprises.apply_added(enterprise),
            Event::SpecialistSet { enterprise, specialist, .. } => {
                self.enterprises.apply_specialist(enterprise, specialist)
            }
            Event::FollowUpAdded { enterprise, kind, date, note, by } => {
                self.enterprises.apply_follow_up(enterprise, (*kind, *date), note, by, at)
            }
            // 跨中心转办 (issue 18, `refer.rs`).
            Event::TicketReferred { window, id, to } => self.referred(out, window, id, to),
            Event::ReferralAccepted { id, origin } => self.referral_accepted(out, id, origin),
            Event::ReferralWithdrawn { id } => self.referral_withdrawn(out, id),
        }
        self.escort_moments(out);
        self.alerts.apply(self.day, at, &record.event, &self.windows);
        self.alert_changed(out, &record.event);
        if let Some(entry) = &record.idem {
            let keyed = KeyedAnswer { command: entry.command.clone(), reply: entry.reply.clone() };
            self.idem.insert(entry.key.clone(), keyed);
        }
        let facts = std::mem::take(&mut out.facts);
        self.fold(day_before, &facts);
        facts
    }

    /// The day's figures and the pace of service take in the record's facts, in order;
    /// facts before a `DayOpened` (the old day's expiries) count in the old day.
    fn fold(&mut self, mut day: Option<NaiveDate>, facts: &[Fact]) {
        for fact in facts {
            let counted_on = match &fact.what {
                What::DayOpened { day: opened } => {
                    day = Some(*opened);
                    *opened
                }
                // Counted on the day of the rating: 差评整改率 is of that day's bad ratings.
                What::CaseRectified { day: rated, .. } => *rated,
                What::EscalationResolved { day: opened, .. } => *opened,
                _ => day.unwrap_or_default(),
            };
            self.stats.entry(counted_on).or_default().fold(&fact.what);
            self.service_times.fold(&fact.what);
            self.enterprises.fold(counted_on, fact.at, &fact.what);
        }
    }

    /// A ticket issued: numbered, in line, counted; the promise's forecast run, kept as
    /// the forecast of the state before, becomes this state's.
    fn issued(&mut self, out: &mut Out, before: u64, event: &Event) {
        if let Some(new) = NewTicket::of_event(event) {
            self.issue(out, &new);
            self.forecast_cache.promote(before, out.seq, new.id, self.last_at);
        }
    }

    fn checked_in(&mut self, out: &mut Out, id: &TicketId) {
        let t = self.tickets.get_mut(id).expect("checked-in ticket exists");
        assert!(!t.checked_in, "ticket checked in twice");
        t.checked_in = true;
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
        out.push(What::CheckedIn { ticket: Subject::of(&ticket) });
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

    fn case_rectified(&mut self, out: &mut Out, case: &str, by: &UserName, note: &str) {
        let c = self.ratings.cases.get_mut(case).expect("rectified case exists");
        assert!(c.rectified.is_none(), "case {case} rectified twice");
        c.rectified = Some(Rectification { at: out.at, by: by.clone(), note: note.to_string() });
        out.push(What::CaseRectified { day: c.day, queue: c.queue, window: c.window });
    }

    fn window_opened(&mut self, out: &mut Out, window: &WindowId, clerk: &UserName) {
        self.set_window(window, WindowState::Open, Some(clerk.clone()));
        out.push(What::WindowOpened { desk: Desk { window: *window, clerk: Some(clerk.clone()) } });
    }

    /// A window's clerk paused it, with a reason or none.
    fn paused(&mut self, out: &mut Out, window: &WindowId, reason: Option<String>) {
        self.set_state(window, WindowState::Paused);
        out.push(What::WindowPaused { desk: self.desk(window), reason });
    }

    /// A window's clerk resumed it.
    fn resumed(&mut self, out: &mut Out, window: &WindowId) {
        self.set_state(window, WindowState::Open);
        out.push(What::WindowResumed { desk: self.desk(window) });
    }

    fn window_closed(&mut self, out: &mut Out, window: &WindowId, forced: bool) {
        let desk = self.desk(window);
        self.set_window(window, WindowState::Closed, None);
        out.push(What::WindowClosed { desk, forced });
    }

    fn force_closed(&mut self, out: &mut Out, window: &WindowId) {
        if let Some(w) = self.window_mut(window) {
            assert!(w.parked.is_empty(), "window {window} force-closed with parked tickets");
        }
        self.window_closed(out, window, true);
    }

    /// A rating: the ticket's score, and for a bad one its case.
    fn rate(
        &mut self,
        out: &mut Out,
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
                opened_at: out.at,
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
        let desk = window.map(|window| Desk { window, clerk: t.called_by.clone() });
        out.push(What::Rated { ticket: Subject::of(t), desk, score, reason: reason.clone() });
    }

    fn open_day(&mut self, out: &mut Out, day: NaiveDate, expired: &[TicketId]) {
        for id in expired {
            self.expire(out, id);
        }
        self.day = Some(day);
        self.appointments.drop_before(day);
        self.ratings.open_day(day, self.setup.rating.closed_kept_days);
        self.escalations.open_day(day, self.setup.rating.closed_kept_days);
        self.guides.open_day();
        self.tickets.clear();
        self.persons.clear();
        self.referrals.open_day();
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
            w.store_next = false;
            w.walk_direct_today = 0;
        }
        self.stats.entry(day).or_default();
        for alert in self.alerts.end_day(out.at) {
            out.push(What::AlertEnded { alert });
        }
        out.push(What::DayOpened { day });
    }

    /// An alert raised or cleared, as the change (filed by `alerts.apply`) left it. An
    /// acknowledgement is no fact: nobody folds it.
    fn alert_changed(&self, out: &mut Out, event: &Event) {
        if let Event::AlertRaised { id, .. } | Event::AlertCleared { id, .. } = event {
            let alert = self.alerts.get(*id).expect("an alert just filed exists").clone();
            let raised = matches!(event, Event::AlertRaised { .. });
            out.push(if raised { What::AlertRaised { alert } } else { What::AlertCleared { alert } });
        }
    }

    /// An unfinished ticket of the day that closed: out of its line, if it waited in one.
    fn expire(&mut self, out: &mut Out, id: &TicketId) {
        let t = self.tickets.get(id).expect("expired ticket exists");
        let waiting = t.status == TicketStatus::Waiting;
        let line = waiting.then(|| line_of(t));
        let desk = t.window.map(|w| self.desk(&w));
        let t = self.move_ticket(id, TicketAction::Expire);
        let (ticket, minutes) = (Subject::of(t), t.minutes);
        let waited_ms = out.at.since_ms(t.issued_at);
        let called = t.first_called_at.is_some();
        if let Some(line) = line {
            out.push(What::Left { ticket: ticket.clone(), line, minutes });
        }
        out.push(What::Expired { ticket, desk, waited_ms, called });
    }

    fn issue(&mut self, out: &mut Out, new: &NewTicket) {
        let (queue, n) = (new.queue, new.n);
        let last = self.numbers.entry(*queue).or_insert(0);
        assert!(n > *last, "number {n} in queue {queue} repeats or goes back (last {last})");
        *last = n;
        let ticket = new.ticket(&self.setup, out.seq, out.at);
        self.index.insert(&self.setup, &ticket);
        let subject = Subject::of(&ticket);
        let (line, minutes) = (line_of(&ticket), ticket.minutes);
        out.push(What::Issued {
            ticket: subject.clone(),
            services: ticket.services.clone(),
            priority: ticket.priority.clone(),
            remote: new.remote,
        });
        out.push(What::Joined { ticket: subject, line, minutes });
        assert!(self.tickets.insert(*new.id, ticket).is_none(), "ticket id issued twice");
    }
}
