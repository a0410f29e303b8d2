//! The hall's state, `decide` (command → events, or a rejection) and `apply`
//! (event → new state).
//!
//! `decide` only reads; `apply` only writes and accepts every event `decide` can produce,
//! so replaying the log never fails. `step` runs both for one command the way the engine,
//! the simulator and the tests all do.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;

use super::alerts::Alerts;
use super::appointments::{Appointment, AppointmentState, Appointments};
use super::command::{Envelope, Rejection, Reply};
use super::decide::decide;
use super::dispatch::DispatchIndex;
use super::event::{Event, IdemEntry, Record, RECORD_VERSION};
use super::fingerprint::{fingerprint, KeyedAnswer};
use super::forecast::{forecast, Forecast, ForecastCache};
use super::model::{
    AtCounter, BundleId, BundleStep, CallRule, Prefix, PriorityClass, Promise, QueueId, ServiceCode, StepTimes, Ticket,
    TicketId, TicketNo, TicketStatus, TransferTarget, Ts, UserName, Window, WindowId, WindowState,
};
use super::rating::{Callback, Case, CaseOpening, Ratings, Rectification};
use super::service_times::ServiceTimes;
use super::setup::Setup;
use super::staff::Staff;
use super::stats::{DayStats, Stats};
use super::transitions::{next_status, TicketAction};

/// Everything the hall knows now. A projection of the log: `replay(log) == state`.
#[derive(Clone, Debug, PartialEq)]
pub struct HallState {
    pub setup: Arc<Setup>,
    pub day: Option<NaiveDate>,
    /// The log position of the last applied record (0 before the first).
    pub last_seq: u64,
    /// The time of the last applied record; the core's clock never goes back past it.
    pub last_at: Ts,
    /// Today's tickets; a new day drops the old day's (they stay in the log).
    pub tickets: BTreeMap<TicketId, Ticket>,
    /// The last number given today, per queue.
    pub numbers: BTreeMap<QueueId, u32>,
    pub windows: BTreeMap<WindowId, Window>,
    /// Today's commands that carried an idempotency key: by key, the command's fingerprint
    /// and its answer.
    pub idem: BTreeMap<String, KeyedAnswer>,
    pub index: DispatchIndex,
    pub stats: Stats,
    /// Bookings of today and the days ahead.
    pub appointments: Appointments,
    /// Typical counter minutes per queue, derived once from the setup for the estimates.
    pub minutes_by_queue: BTreeMap<QueueId, u32>,
    /// Per queue, the queues sharing a window with it (itself first), derived once from the
    /// setup for the estimates.
    pub competing: BTreeMap<QueueId, Vec<QueueId>>,
    /// Per queue, which windows serve it, in the order of `windows` (derived once, so the
    /// estimates compare no queue ids per window).
    pub serving: BTreeMap<QueueId, Vec<bool>>,
    /// Today's expected and measured counter minutes, for the expected wait.
    pub service_times: ServiceTimes,
    /// Bad-rating cases (kept across days) and each window's last finished ticket.
    pub ratings: Ratings,
    /// Users an admin disabled; kept across days (and in the day's snapshot).
    pub staff: Staff,
    /// Supervision alerts: today's and past days', and since when each window is in its
    /// state.
    pub alerts: Alerts,
    /// The last forecast (`forecast.rs`), by the log position it was run at. Not part of
    /// the state: a clone starts without it and equality ignores it.
    pub forecast_cache: ForecastCache,
}

/// How long after midnight a new service day waits, at most, for windows still serving
/// the old day's visitors, in ms: a late event's last visitors are served by 03:00, and a
/// window left serving overnight must not keep yesterday's numbers into the morning.
pub const ROLLOVER_WAIT_MAX_MS: i64 = 3 * 3_600_000;

/// What an issue event says: `apply` makes the ticket from it, and `decide` makes the
/// same ticket before it exists, to run the forecast with it (the kiosk's promise).
pub(crate) struct NewTicket<'a> {
    pub id: &'a TicketId,
    pub queue: &'a QueueId,
    pub n: u32,
    pub services: &'a [ServiceCode],
    pub bundle: &'a Option<BundleId>,
    pub priority: &'a Option<PriorityClass>,
    pub steps: &'a [BundleStep],
    pub due: Option<Ts>,
    pub target_window: Option<WindowId>,
    pub remote: bool,
    pub promise: Option<Promise>,
}

/// What `decide` concluded: the events to log and the answer for the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub events: Vec<Event>,
    pub reply: Reply,
    /// True when an idempotency key matched an earlier command: nothing new happens.
    pub repeated: bool,
}

/// What one `step` did: the records it appended (with their log positions) and the
/// caller's answer.
#[derive(Debug)]
pub struct Step {
    pub records: Vec<(u64, Record)>,
    pub result: Result<Decision, Rejection>,
}

impl HallState {
    pub fn new(setup: Arc<Setup>) -> Self {
        let windows: BTreeMap<WindowId, Window> = setup
            .windows
            .iter()
            .map(|w| {
                let window = Window {
                    id: w.id,
                    name: w.name.clone(),
                    queues: w.queues.clone(),
                    state: WindowState::Closed,
                    ticket: None,
                    clerk: None,
                    ordinary_owed: 0,
                    parked: Vec::new(),
                    prefer: w.prefer.clone(),
                    at_counter: None,
                };
                (w.id, window)
            })
            .collect();
        let serving = setup
            .queues
            .iter()
            .map(|q| (q.id, windows.values().map(|w: &Window| w.queues.contains(&q.id)).collect()))
            .collect();
        Self {
            day: None,
            last_seq: 0,
            last_at: Ts(0),
            tickets: BTreeMap::new(),
            numbers: BTreeMap::new(),
            windows,
            idem: BTreeMap::new(),
            index: DispatchIndex::default(),
            stats: Stats::new(),
            appointments: Appointments::default(),
            minutes_by_queue: setup.typical_minutes(),
            competing: setup.queues.iter().map(|q| (q.id, setup.competing_queues(&q.id))).collect(),
            serving,
            service_times: ServiceTimes::default(),
            ratings: Ratings::default(),
            staff: Staff::default(),
            alerts: Alerts::default(),
            forecast_cache: ForecastCache::default(),
            setup,
        }
    }

    /// Every waiting ticket's place and call time, run once per log position.
    pub fn forecast(&self) -> Arc<Forecast> {
        self.forecast_cache.get(self.last_seq, self.last_at, || forecast(self))
    }

    /// Decides one command at `now` and applies what it decided. A new service day is
    /// opened first if the date has changed, even when the command itself is refused.
    pub fn step(&mut self, env: &Envelope, now: Ts) -> Step {
        let now = now.max(self.last_at);
        let mut records = Vec::new();
        if let Some(event) = self.rollover(now) {
            records.push(self.append(now, None, event));
        }
        let mut result = decide(self, env, now);
        if let Ok(decision) = &mut result {
            if decision.events.is_empty() && env.idempotency_key.is_some() && !decision.repeated {
                decision.events.push(Event::NoChange);
            }
            let n = decision.events.len();
            for (i, event) in decision.events.iter().enumerate() {
                let idem = match (&env.idempotency_key, i + 1 == n) {
                    (Some(key), true) => Some(IdemEntry {
                        key: key.clone(),
                        reply: decision.reply.clone(),
                        command: fingerprint(&env.command),
                    }),
                    _ => None,
                };
                records.push(self.append(now, idem, event.clone()));
            }
        }
        Step { records, result }
    }

    fn append(&mut self, at: Ts, idem: Option<IdemEntry>, event: Event) -> (u64, Record) {
        let record = Record { v: RECORD_VERSION, at, idem, event };
        let seq = self.last_seq + 1;
        self.apply(seq, &record);
        (seq, record)
    }

    /// The event that opens a new service day, if `now` falls after the current one and no
    /// clerk is still serving one of its visitors (`serving_past_midnight`).
    fn rollover(&self, now: Ts) -> Option<Event> {
        let today = self.setup.day_of(now);
        if self.day.is_some_and(|d| d >= today) || self.serving_past_midnight(today, now) {
            return None;
        }
        let expired = self.tickets.values().filter(|t| !t.status.is_final()).map(|t| t.id).collect();
        Some(Event::DayOpened { day: today, expired })
    }

    /// Whether the new day `today` waits for a window still serving a visitor of the day
    /// before, in a hall with opening hours: a clerk working past midnight (a late event) finishes, and the ticket counts
    /// in the day it was issued. The day opens at the first command or tick after the last
    /// such window lets its ticket go, and at the latest [`ROLLOVER_WAIT_MAX_MS`] after
    /// midnight, when what is left expires as ever.
    fn serving_past_midnight(&self, today: NaiveDate, now: Ts) -> bool {
        // An always-open hall (no `hours`) serves round the clock: a day that waited for
        // its clerks would never close, so it opens at midnight as ever.
        if self.setup.hours.is_empty() || self.day.and_then(|d| d.succ_opt()) != Some(today) {
            return false;
        }
        let midnight = super::appointments::local_ts(&self.setup, today, chrono::NaiveTime::MIN);
        now.0 < midnight.0.saturating_add(ROLLOVER_WAIT_MAX_MS)
            && self.windows.values().any(|w| w.state == WindowState::Serving)
    }

    pub fn ticket(&self, id: &TicketId) -> Option<&Ticket> {
        self.tickets.get(id)
    }

    pub fn window(&self, id: &WindowId) -> Option<&Window> {
        self.windows.get(id)
    }

    /// Tickets waiting in `queue`, including those sent to one window by name.
    pub fn waiting(&self, queue: &QueueId) -> usize {
        self.index.waiting(queue)
    }

    fn day_stats(&mut self) -> &mut DayStats {
        let day = self.day.unwrap_or_default();
        self.stats.entry(day).or_default()
    }

    /// Applies one logged record. Panics on a record that breaks an invariant: that is a
    /// bug in `decide` (or a corrupt log), and going on would spread it.
    pub fn apply(&mut self, seq: u64, record: &Record) {
        assert!(seq > self.last_seq, "log position {seq} after {}", self.last_seq);
        let before = self.last_seq;
        self.last_seq = seq;
        self.last_at = self.last_at.max(record.at);
        let at = record.at;
        self.service_times.observe(&self.setup, &self.tickets, at, &record.event);
        match &record.event {
            Event::DayOpened { day, expired } => self.open_day(*day, expired),
            Event::TicketIssued {
                id,
                queue,
                n,
                services,
                bundle,
                priority,
                kiosk: _,
                steps,
                due,
                target_window,
                remote,
                promise,
            } => {
                let new = NewTicket {
                    id,
                    queue,
                    n: *n,
                    services,
                    bundle,
                    priority,
                    steps,
                    due: *due,
                    target_window: *target_window,
                    remote: *remote,
                    promise: *promise,
                };
                self.issue(seq, at, &new);
                self.forecast_cache.promote(before, seq, id, self.last_at);
            }
            Event::TicketCheckedIn { id } => {
                let t = self.tickets.get_mut(id).expect("checked-in ticket exists");
                assert!(!t.checked_in, "ticket checked in twice");
                t.checked_in = true;
                let ticket = t.clone();
                self.index.insert(&self.setup, &ticket);
            }
            Event::AppointmentBooked { code, service, day, slot, phone_hash, addr_hash, window } => {
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
            Event::AppointmentCancelled { code } => {
                let a = self.appointments.by_code.get_mut(code).expect("cancelled booking exists");
                a.state = AppointmentState::Cancelled;
            }
            Event::AppointmentCheckedIn { code, ticket, late } => {
                let a = self.appointments.by_code.get_mut(code).expect("checked-in booking exists");
                a.state = AppointmentState::CheckedIn { ticket: *ticket, late: *late };
            }
            Event::TicketRejoined { id } => self.rejoin(seq, at, id),
            Event::TicketCancelled { id } => {
                let queue = self.cancel(id);
                self.day_stats().record(&queue, None, |f| f.cancelled += 1);
            }
            Event::TicketRated { id, score, comment, reason, case } => {
                self.rate(at, id, *score, comment, reason, case.as_ref());
            }
            Event::WindowOpened { window, clerk } => self.set_window(window, WindowState::Open, Some(clerk.clone())),
            Event::TicketCalled { window, id, rule } => self.call(at, window, id, rule),
            Event::TicketRecalled { window, id } => {
                let t = self.move_ticket(id, TicketAction::Recall);
                assert_eq!(t.window.as_ref(), Some(window), "recall at another window");
                t.calls += 1;
                t.recalls += 1;
                t.called_at = Some(at);
            }
            Event::TicketServing { window, id } => {
                let clerk = self.windows.get(window).and_then(|w| w.clerk.clone());
                let t = self.move_ticket(id, TicketAction::Serve);
                t.serving_at = Some(at);
                t.served_by = clerk;
                if let Some(times) = t.step_times.get_mut(t.step) {
                    times.serving_at = Some(at);
                }
                if let Some(w) = self.window_mut(window) {
                    w.state = WindowState::Serving;
                    if let Some(c) = &mut w.at_counter {
                        c.serving_since = Some(at);
                    }
                }
            }
            Event::TicketDone { window, id, outcome } => {
                let t = self.move_ticket(id, TicketAction::Finish);
                t.finished_at = Some(at);
                t.outcome = Some(*outcome);
                if let Some(times) = t.step_times.get_mut(t.step) {
                    times.done_at = Some(at);
                }
                let service_ms = at.since_ms(t.serving_at.unwrap_or(at));
                let queue = t.queue;
                self.release_window(window, id);
                self.ratings.last_done.insert(*window, (*id, at));
                let completed = *outcome == super::model::Outcome::Completed;
                self.day_stats().record(&queue, Some(window), |f| {
                    if completed {
                        f.completed += 1;
                    } else {
                        f.incomplete += 1;
                    }
                    f.service.add(service_ms);
                });
            }
            Event::TicketNoShow { window, id } => {
                let t = self.move_ticket(id, TicketAction::NoShow);
                t.finished_at = Some(at);
                let queue = t.queue;
                self.release_window(window, id);
                self.day_stats().record(&queue, Some(window), |f| f.no_show += 1);
            }
            Event::TicketStepDone { window, id } => self.next_step(at, window, id),
            Event::TicketParked { window, id } => {
                self.move_ticket(id, TicketAction::Park);
                self.release_window(window, id);
                if let Some(w) = self.window_mut(window) {
                    w.parked.push(*id);
                }
                let queue = self.tickets.get(id).map(|t| t.queue).expect("parked ticket exists");
                self.day_stats().record(&queue, Some(window), |f| f.parked += 1);
            }
            Event::TicketTransferred { window, id, to } => self.transfer(window, id, to),
            Event::TicketReturned { id, window, queue } => self.return_ticket(id, window.as_ref(), queue),
            Event::WindowPaused { window } => self.set_state(window, WindowState::Paused),
            Event::WindowResumed { window } => self.set_state(window, WindowState::Open),
            Event::WindowClosed { window } => self.set_window(window, WindowState::Closed, None),
            Event::NumbersRaised { day, floors } => {
                if self.day == Some(*day) {
                    for (queue, floor) in floors {
                        let last = self.numbers.entry(*queue).or_insert(0);
                        *last = (*last).max(*floor);
                    }
                }
            }
            Event::NoChange
            | Event::AlertRaised { .. }
            | Event::AlertCleared { .. }
            | Event::AlertAcknowledged { .. } => {}
            Event::CaseCallback { case, by, reached, note } => {
                let c = self.ratings.cases.get_mut(case).expect("called-back case exists");
                assert!(c.rectified.is_none(), "call-back of a closed case {case}");
                c.callbacks.push(Callback { at, by: by.clone(), reached: *reached, note: note.clone() });
            }
            Event::CaseRectified { case, by, note } => {
                let c = self.ratings.cases.get_mut(case).expect("rectified case exists");
                assert!(c.rectified.is_none(), "case {case} rectified twice");
                c.rectified = Some(Rectification { at, by: by.clone(), note: note.clone() });
                let (day, queue, window) = (c.day, c.queue, c.window);
                // Counted on the day of the rating: 差评整改率 is of that day's bad ratings.
                self.stats.entry(day).or_default().record(&queue, window.as_ref(), |f| f.bad_rectified += 1);
            }
            Event::UserLoggedIn { .. } | Event::UserLoggedOut { .. } => {}
            Event::UserDisabled { name, .. } => {
                self.staff.disabled.insert(name.clone());
            }
            Event::UserEnabled { name, .. } => {
                self.staff.disabled.remove(name);
            }
            Event::UserAdded { name, role, password_hash, .. } => {
                assert!(self.staff.added.insert(name.clone(), *role).is_none(), "user {name} added twice");
                self.staff.passwords.insert(name.clone(), password_hash.clone());
            }
            Event::PasswordReset { name, password_hash, .. } => {
                self.staff.passwords.insert(name.clone(), password_hash.clone());
            }
            Event::WindowQueuesSet { window, queues, .. } => self.set_window_queues(window, queues),
            Event::WindowForceClosed { window, .. } => {
                if let Some(w) = self.window_mut(window) {
                    assert!(w.parked.is_empty(), "window {window} force-closed with parked tickets");
                }
                self.set_window(window, WindowState::Closed, None);
            }
        }
        self.alerts.apply(self.day, at, &record.event, &self.windows);
        if let Some(entry) = &record.idem {
            let keyed = KeyedAnswer { command: entry.command.clone(), reply: entry.reply.clone() };
            self.idem.insert(entry.key.clone(), keyed);
        }
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

    fn call(&mut self, at: Ts, window: &WindowId, id: &TicketId, rule: &CallRule) {
        // Borrowed, not cloned: a call is the commonest change, and a ticket is many strings.
        let ticket = self.tickets.get(id).expect("called ticket exists");
        let unpark = *rule == CallRule::Unparked;
        if !unpark {
            self.index.remove(&self.setup, ticket);
        }
        let at_counter = AtCounter { minutes: ticket.minutes, queue: ticket.queue, serving_since: None };
        let ordinary = ticket.priority.is_none();
        if let Some(w) = self.window_mut(window) {
            assert!(w.ticket.is_none(), "window {window} called a second ticket");
            if unpark {
                let before = w.parked.len();
                w.parked.retain(|p| p != id);
                assert!(w.parked.len() < before, "window {window} resumed a ticket it had not parked");
            }
            w.ticket = Some(*id);
            w.state = WindowState::Calling;
            w.at_counter = Some(at_counter);
            w.ordinary_owed = owed_after(w.ordinary_owed, rule, ordinary);
        }
        let t = self.move_ticket(id, if unpark { TicketAction::Unpark } else { TicketAction::Call });
        t.window = Some(*window);
        t.target_window = None;
        t.recent_call = None;
        // A clerk called it (by number, before its check-in): from here on it is in the
        // hall's hands, so a rejoin after a no-show puts it back in line like any other.
        t.checked_in = true;
        t.calls += 1;
        t.recalls = 0;
        t.called_at = Some(at);
        t.call_rule = Some(rule.clone());
        if unpark {
            return;
        }
        // Wait is counted once per line the ticket waits in: from issue to its first call,
        // and for each later bundle step from the step's start to the step's first call.
        let (first_call, wait_ms) = match t.step_times.get_mut(t.step) {
            Some(times) if t.step > 0 => {
                let first = times.first_called_at.is_none();
                (first, at.since_ms(times.queued_at))
            }
            _ => (t.first_called_at.is_none(), at.since_ms(t.issued_at)),
        };
        if let Some(times) = t.step_times.get_mut(t.step) {
            times.first_called_at.get_or_insert(at);
            times.window = Some(*window);
        }
        // The promise was of the first call of the first step.
        let promised = t.promise.filter(|_| t.first_called_at.is_none());
        t.first_called_at.get_or_insert(at);
        let queue = t.queue;
        self.day_stats().record(&queue, Some(window), |f| {
            f.called += 1;
            if first_call {
                f.wait.add(wait_ms);
            }
            if let Some(p) = promised {
                f.eta.add(p.minutes, p.low, p.high, wait_ms);
            }
        });
    }

    /// A missed number goes to the back of its queue: its place is this record's position.
    fn rejoin(&mut self, seq: u64, at: Ts, id: &TicketId) {
        let t = self.move_ticket(id, TicketAction::Rejoin);
        t.recent_call = t.window.take().zip(t.called_at);
        t.due = None;
        t.issue_seq = seq;
        t.queued_at = at;
        t.called_at = None;
        t.serving_at = None;
        t.finished_at = None;
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
        self.day_stats().record(&ticket.queue, None, |f| f.rejoined += 1);
    }

    /// A bundle step is done: the ticket leaves the window and waits in its next step's
    /// queue, keeping its place by issue time.
    fn next_step(&mut self, at: Ts, window: &WindowId, id: &TicketId) {
        self.release_window(window, id);
        let setup = self.setup.clone();
        let t = self.move_ticket(id, TicketAction::NextStep);
        let service_ms = at.since_ms(t.serving_at.unwrap_or(at));
        let done_queue = t.queue;
        if let Some(times) = t.step_times.get_mut(t.step) {
            times.done_at = Some(at);
        }
        t.step += 1;
        t.due = None;
        let step = t.steps.get(t.step).expect("a next step exists");
        t.queue = step.queue;
        t.minutes = setup.expected_minutes(&step.services);
        t.window = None;
        t.target_window = None;
        t.called_at = None;
        t.serving_at = None;
        t.recalls = 0;
        t.step_times.push(StepTimes { queued_at: at, ..StepTimes::default() });
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
        self.day_stats().record(&done_queue, Some(window), |f| {
            f.steps_done += 1;
            f.service.add(service_ms);
        });
    }

    fn transfer(&mut self, window: &WindowId, id: &TicketId, to: &TransferTarget) {
        self.release_window(window, id);
        let t = self.move_ticket(id, TicketAction::Transfer);
        t.window = None;
        t.due = None;
        t.serving_at = None;
        match to {
            TransferTarget::Queue(q) => {
                t.queue = *q;
                t.target_window = None;
            }
            TransferTarget::Window(w) => t.target_window = Some(*w),
        }
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
        self.day_stats().record(&ticket.queue, Some(window), |f| f.transferred += 1);
    }

    /// Moves a ticket along the transition table and hands it back for further changes.
    fn move_ticket(&mut self, id: &TicketId, action: TicketAction) -> &mut Ticket {
        let t = self.tickets.get_mut(id).expect("ticket of an event exists");
        t.status = next_status(t.status, action)
            .unwrap_or_else(|| panic!("illegal {action:?} of a {} ticket", t.status.as_str()));
        t
    }

    /// Cancels a waiting ticket and returns its queue.
    fn cancel(&mut self, id: &TicketId) -> QueueId {
        let ticket = self.tickets.get(id).expect("ticket of an event exists");
        self.index.remove(&self.setup, ticket);
        self.move_ticket(id, TicketAction::Cancel).queue
    }

    fn release_window(&mut self, window: &WindowId, id: &TicketId) {
        if let Some(w) = self.window_mut(window) {
            assert_eq!(w.ticket.as_ref(), Some(id), "window {window} does not hold that ticket");
            w.ticket = None;
            w.at_counter = None;
            w.state = WindowState::Open;
        }
    }

    fn set_window(&mut self, window: &WindowId, state: WindowState, clerk: Option<UserName>) {
        if let Some(w) = self.window_mut(window) {
            assert!(w.ticket.is_none(), "window {window} changes sign-in while holding a ticket");
            w.state = state;
            w.clerk = clerk;
        }
    }

    fn set_state(&mut self, window: &WindowId, state: WindowState) {
        if let Some(w) = self.window_mut(window) {
            w.state = state;
        }
    }

    /// The window an event names, or `None` when hall.toml no longer has it (it was
    /// removed after the event was logged, and the daemon restarted the same day). The
    /// ticket's side of such an event still applies; start-up then returns to their queues
    /// the tickets still tied to the window (`reconcile`). A window `decide` names is
    /// always in the state, so live steps never take the `None` path.
    fn window_mut(&mut self, id: &WindowId) -> Option<&mut Window> {
        self.windows.get_mut(id)
    }

    /// Ticket `id`, untied from `window` if given, waits in `queue` at its old place.
    fn return_ticket(&mut self, id: &TicketId, window: Option<&WindowId>, queue: &QueueId) {
        let t = self.tickets.get(id).expect("returned ticket exists");
        let status = t.status;
        match status {
            TicketStatus::Waiting => {
                if window.is_some() {
                    assert_eq!(t.target_window.as_ref(), window, "ticket returned from a window it was not sent to");
                }
                self.index.remove(&self.setup, t);
            }
            TicketStatus::Called | TicketStatus::Serving | TicketStatus::Parked => {
                assert!(
                    window.is_some() && t.window.as_ref() == window,
                    "ticket returned from a window not holding it"
                );
            }
            TicketStatus::Done | TicketStatus::NoShow | TicketStatus::Cancelled | TicketStatus::Expired => {}
        }
        if let Some(w) = window {
            match status {
                TicketStatus::Called | TicketStatus::Serving => self.release_window(w, id),
                TicketStatus::Parked => {
                    if let Some(win) = self.window_mut(w) {
                        let before = win.parked.len();
                        win.parked.retain(|p| p != id);
                        assert!(win.parked.len() < before, "window {w} returned a ticket it had not parked");
                    }
                }
                TicketStatus::Waiting
                | TicketStatus::Done
                | TicketStatus::NoShow
                | TicketStatus::Cancelled
                | TicketStatus::Expired => {}
            }
        }
        let t = self.move_ticket(id, TicketAction::Return);
        if window.is_some() {
            t.window = None;
            t.target_window = None;
        }
        t.queue = *queue;
        t.serving_at = None;
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
    }
}

impl NewTicket<'_> {
    /// The ticket this issue makes, logged at `seq` and `at`.
    pub(crate) fn ticket(&self, setup: &Setup, seq: u64, at: Ts) -> Ticket {
        // A queue's prefix is checked when the config loads (1 or 2 letters); a queue the
        // config no longer has numbers with its id.
        let prefix = setup.queue(self.queue).and_then(|q| Prefix::parse(&q.prefix).ok());
        let prefix = prefix.unwrap_or_else(|| Prefix::from(*self.queue));
        let steps = self.steps;
        Ticket {
            id: *self.id,
            number: TicketNo { prefix, n: self.n },
            queue: *self.queue,
            services: self.services.to_vec(),
            bundle: self.bundle.clone(),
            priority: self.priority.clone(),
            status: TicketStatus::Waiting,
            window: None,
            served_by: None,
            target_window: self.target_window,
            issued_at: at,
            issue_seq: seq,
            queued_at: at,
            recent_call: None,
            first_called_at: None,
            called_at: None,
            serving_at: None,
            finished_at: None,
            calls: 0,
            recalls: 0,
            steps: steps.to_vec(),
            step: 0,
            minutes: setup.expected_minutes(steps.first().map_or(self.services, |s| &s.services)),
            due: self.due,
            checked_in: !self.remote,
            step_times: if steps.is_empty() {
                Vec::new()
            } else {
                vec![StepTimes { queued_at: at, ..StepTimes::default() }]
            },
            call_rule: None,
            outcome: None,
            rating: None,
            promise: self.promise,
        }
    }
}

/// A window's debt of ordinary calls after it called a ticket by `rule`: a priority call
/// that counted against the ratio opens a debt of `per_ordinary` calls, and each call of
/// an ordinary ticket (a ticket with no priority class, whatever the rule) pays one.
pub(crate) fn owed_after(owed: u32, rule: &CallRule, ordinary: bool) -> u32 {
    match rule {
        CallRule::Priority { per_ordinary, .. } if *per_ordinary > 0 => *per_ordinary,
        // A clerk's own choice neither opens nor pays the window's debt.
        CallRule::Priority { .. } | CallRule::ByNumber { .. } | CallRule::Unparked => owed,
        CallRule::Preferred { .. }
        | CallRule::AppointmentDue { .. }
        | CallRule::TransferredHere
        | CallRule::Aged { .. }
        | CallRule::OrdinaryTurn { .. }
        | CallRule::EarliestIssued => {
            if ordinary {
                owed.saturating_sub(1)
            } else {
                owed
            }
        }
    }
}
