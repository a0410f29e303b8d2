//! The hall's state, `decide` (command → events, or a rejection) and `apply`
//! (event → new state).
//!
//! `decide` only reads; `apply` only writes and accepts every event `decide` can produce,
//! so replaying the log never fails. `step` runs both for one command the way the engine,
//! the simulator and the tests all do.

mod apply;
mod clerk;
mod escalate;
mod guide;
mod moves;
mod refer;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;

use super::alerts::Alerts;
use super::appointments::Appointments;
use super::command::{Envelope, Rejection, Reply};
use super::decide::decide;
use super::dispatch::DispatchIndex;
use super::event::{Event, IdemEntry, Record, RECORD_VERSION};
use super::facts::{Desk, Fact, Line, Subject, What};
use super::fingerprint::{fingerprint, KeyedAnswer};
use super::forecast::{forecast, Forecast, ForecastCache};
use super::model::{
    BundleId, BundleStep, CallRule, Prefix, PriorityClass, Promise, QueueId, ServiceCode, StepTimes, Ticket, TicketId,
    TicketNo, TicketStatus, Ts, Window, WindowId, WindowState,
};
use super::rating::Ratings;
use super::service_times::ServiceTimes;
use super::setup::Setup;
use super::staff::Staff;
use super::stats::Stats;

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
    /// 办不成事 cases (kept across days) and today's escalated tickets.
    pub escalations: super::escalation::Escalations,
    /// 全程领办: today's assisted and escorted tickets.
    pub guides: super::guide::Guides,
    /// Today's persons under the kiosk's per-person limits, by the keyed hash of their ID
    /// number (issue 17 §4).
    pub persons: super::clerk_moves::Persons,
    /// 助企服务: the registry's changes since hall.toml, the follow-up logs, the figures
    /// (kept across days) and today's enterprise tickets.
    pub enterprises: super::enterprise::Enterprises,
    /// Supervision alerts: today's and past days', and since when each window is in its
    /// state.
    pub alerts: Alerts,
    /// 跨中心转办 (issue 18): today's referrals sent to and taken in from other halls.
    pub referrals: super::referral::Referrals,
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

/// What one `step` did: the records it appended (with their log positions), what they
/// meant (`facts.rs`, in log order) and the caller's answer.
#[derive(Debug)]
pub struct Step {
    pub records: Vec<(u64, Record)>,
    pub facts: Vec<Fact>,
    pub result: Result<Decision, Rejection>,
}

/// The facts one record yields, as `apply` works them out.
pub(crate) struct Out {
    pub seq: u64,
    pub at: Ts,
    pub facts: Vec<Fact>,
}

impl Out {
    pub fn push(&mut self, what: What) {
        self.facts.push(Fact { seq: self.seq, at: self.at, what });
    }
}

impl Subject {
    /// Ticket `t` as a fact names it.
    pub(crate) fn of(t: &Ticket) -> Self {
        Subject { id: t.id, number: t.number.clone(), queue: t.queue }
    }
}

/// The line a waiting ticket is in: its window's, when sent to one by name, else its
/// queue's.
pub(crate) fn line_of(t: &Ticket) -> Line {
    match t.target_window {
        Some(w) => Line::Window(w),
        None => Line::Queue(t.queue),
    }
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
                    store_next: false,
                    walk_direct_today: 0,
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
            escalations: Default::default(),
            guides: Default::default(),
            persons: Default::default(),
            enterprises: Default::default(),
            alerts: Alerts::default(),
            referrals: Default::default(),
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
        let mut facts = Vec::new();
        if let Some(event) = self.rollover(now) {
            records.push(self.append(now, None, event, &mut facts));
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
                records.push(self.append(now, idem, event.clone(), &mut facts));
            }
            // Store-next (issue 17 §4): the call that follows a finish, in this step. The
            // key's answer is the finish's; a repeat is answered from it and calls nobody.
            if !decision.repeated {
                for event in super::decide::follow_up(self, &env.command, now) {
                    records.push(self.append(now, None, event, &mut facts));
                }
                // And at every armed window left idle, whatever the command made wait.
                for window in super::decide::armed_idle(self) {
                    for event in super::decide::call_armed(self, &window, now) {
                        records.push(self.append(now, None, event, &mut facts));
                    }
                }
            }
        }
        Step { records, facts, result }
    }

    fn append(&mut self, at: Ts, idem: Option<IdemEntry>, event: Event, facts: &mut Vec<Fact>) -> (u64, Record) {
        let record = Record { v: RECORD_VERSION, at, idem, event };
        let seq = self.last_seq + 1;
        let applied = self.apply(seq, &record);
        // Most steps log one record: its facts are the step's, with no copy.
        if facts.is_empty() {
            *facts = applied;
        } else {
            facts.extend(applied);
        }
        (seq, record)
    }

    /// Window `window` and who is signed in there now.
    pub(crate) fn desk(&self, window: &WindowId) -> Desk {
        Desk { window: *window, clerk: self.windows.get(window).and_then(|w| w.clerk.clone()) }
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
}

impl<'a> NewTicket<'a> {
    /// The issue an event records, if it is one.
    pub(crate) fn of_event(event: &'a Event) -> Option<Self> {
        let Event::TicketIssued {
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
        } = event
        else {
            return None;
        };
        Some(NewTicket {
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
        })
    }

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
            called_by: None,
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
