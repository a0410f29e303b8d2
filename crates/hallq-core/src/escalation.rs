//! 办不成事请找我: a matter a clerk could not finish goes to the hall's escalation queue,
//! and a case opens that ends in an answer.
//!
//! The clerk finishes the ticket `not_done` with a reason from the hall's list
//! (`[hall.escalation]`). The ticket then waits in the escalation queue with its number and
//! its place by issue time (as a transfer keeps them), so the visitor is the next of the
//! day's stuck matters, not the last of the hall's line. The case names the hall's handler
//! (the person behind the window's promise), its deadline in working days on the hall's
//! calendar (the one rule bad-rating cases use, `rating::due_after`), the call-backs, and
//! how it ended: answered and closed, or referred on to a department. Like bad-rating cases,
//! cases outlive the day (in the snapshot) and keep no handle on the visitor's ticket once
//! the day is over; `by_ticket` is today's alone.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::case_book::{self, Filed};
use super::command::{Rejection, Reply};
use super::event::Event;
use super::hall::{Decision, HallState};
use super::model::{QueueId, ServiceCode, TicketId, Ts, UserName, WindowId};
use super::rating::{self, trim_invisible, Callback, CaseStatus, CALLBACKS_MAX};
use super::setup::Setup;
use super::transitions::TicketAction;

/// Most escalation cases one service day opens: the case id has three digits, and a hall
/// that escalates more than this in a day has a problem no case list solves.
pub const ESCALATIONS_PER_DAY_MAX: usize = 999;
/// Longest department a case is referred to, in characters.
pub const DEPARTMENT_CHARS_MAX: usize = 64;

/// One reason a clerk may give for a matter not done (`[[hall.escalation.reason]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationReason {
    pub code: String,
    pub name: String,
}

/// `[hall.escalation]`: where stuck matters go, who answers for them, and by when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationPolicy {
    /// The escalation queue (the example hall's Z, 办不成事请找我).
    pub queue: QueueId,
    /// Working days a case has before it is overdue.
    pub case_days: u32,
    /// The named person who answers for every case (a staff user).
    pub handler: UserName,
    pub reasons: Vec<EscalationReason>,
}

impl EscalationPolicy {
    pub const DEFAULT_CASE_DAYS: u32 = 5;

    pub fn reason(&self, code: &str) -> Option<&EscalationReason> {
        self.reasons.iter().find(|r| r.code == code)
    }

    /// The reasons most halls list.
    pub fn default_reasons() -> Vec<EscalationReason> {
        let reason = |code: &str, name: &str| EscalationReason { code: code.to_string(), name: name.to_string() };
        vec![
            reason("policy", "政策理解偏差"),
            reason("cross_department", "跨部门协调"),
            reason("missing_materials", "材料缺失"),
            reason("system_fault", "系统故障"),
            reason("other", "其他"),
        ]
    }
}

/// What a `not_done` record says of the case it opens, decided then, so that a later change
/// of the calendar or the handler does not move what was already given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationOpening {
    pub id: String,
    /// The last working day of the case.
    pub due: NaiveDate,
    pub handler: UserName,
    /// The escalation queue the ticket waits in from now.
    pub queue: QueueId,
}

/// How a case ended: answered (closed) or referred on to a department.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub at: Ts,
    pub by: UserName,
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_to: Option<String>,
}

/// An escalation case. Like a bad-rating case it keeps what a supervisor needs after the
/// ticket has left the state, never the ticket's id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub id: String,
    /// The service day it was opened; its figures count the case's end.
    pub day: NaiveDate,
    pub opened_at: Ts,
    pub due: NaiveDate,
    pub number: String,
    /// The queue the matter was in when the clerk could not finish it.
    pub queue: QueueId,
    pub window: WindowId,
    /// The clerk who could not finish it (staff only).
    pub clerk: Option<UserName>,
    pub services: Vec<ServiceCode>,
    pub reason: String,
    pub note: Option<String>,
    pub handler: UserName,
    pub callbacks: Vec<Callback>,
    pub resolution: Option<Resolution>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscalationStatus {
    Open,
    Overdue,
    Closed,
    Referred,
}

impl EscalationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationStatus::Open => "open",
            EscalationStatus::Overdue => "overdue",
            EscalationStatus::Closed => "closed",
            EscalationStatus::Referred => "referred",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Overdue, Self::Closed, Self::Referred].into_iter().find(|x| x.as_str() == s)
    }
}

impl Escalation {
    /// Open until answered or referred; overdue once `today` is past its last working day.
    pub fn status(&self, today: NaiveDate) -> EscalationStatus {
        match (&self.resolution, rating::status_on(self.resolution.is_some(), self.due, today)) {
            (Some(r), _) if r.referred_to.is_some() => EscalationStatus::Referred,
            (_, CaseStatus::Closed) => EscalationStatus::Closed,
            (_, CaseStatus::Overdue) => EscalationStatus::Overdue,
            (_, CaseStatus::Open) => EscalationStatus::Open,
        }
    }
}

impl Filed for Escalation {
    type Status = EscalationStatus;
    fn day(&self) -> NaiveDate {
        self.day
    }
    fn ended(&self) -> bool {
        self.resolution.is_some()
    }
    fn status(&self, today: NaiveDate) -> EscalationStatus {
        Escalation::status(self, today)
    }
}

/// Every case not yet forgotten, by id; and today's escalated tickets, by ticket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Escalations {
    pub cases: BTreeMap<String, Escalation>,
    pub by_ticket: BTreeMap<TicketId, String>,
}

impl Escalations {
    /// A new day: the old day's tickets are gone; ended cases opened more than `kept_days`
    /// ago go too (open ones are always kept).
    pub fn open_day(&mut self, day: NaiveDate, kept_days: u32) {
        self.by_ticket.clear();
        case_book::forget_ended(&mut self.cases, day, kept_days);
    }

    /// Cases with `status` (any when `None`) opened on `day` (any when `None`), newest
    /// first, at most `limit`.
    pub fn list(
        &self,
        today: NaiveDate,
        status: Option<EscalationStatus>,
        day: Option<NaiveDate>,
        limit: usize,
    ) -> Vec<Escalation> {
        case_book::list(&self.cases, today, status, day, limit)
    }

    /// The case today's ticket `id` opened, if it was escalated.
    pub fn of_ticket(&self, id: &TicketId) -> Option<&Escalation> {
        self.cases.get(self.by_ticket.get(id)?)
    }
}

/// A free text of at most [`rating::NOTE_CHARS_MAX`] characters, trimmed and masked; none if empty.
fn optional_note(text: Option<&str>) -> Result<Option<String>, Rejection> {
    match text.map(trim_invisible).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => rating::note(t).map(Some),
    }
}

/// The clerk at `window` could not finish its ticket: it goes to the escalation queue and
/// a case opens.
pub(crate) fn decide_escalate(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    reason: &str,
    note: Option<&str>,
    now: Ts,
) -> Result<Decision, Rejection> {
    let id = super::decide::held(state, window, clerk, TicketAction::Transfer)?;
    let policy = state.setup.escalation.as_ref().ok_or(Rejection::NoEscalation)?;
    let t = state.ticket(&id).ok_or(Rejection::UnknownTicket)?;
    // The escalation window gives the answer: it does not pass a matter on to itself.
    if state.escalations.by_ticket.contains_key(&id) || t.queue == policy.queue {
        return Err(Rejection::AlreadyEscalated);
    }
    let code = reason.trim();
    policy.reason(code).ok_or_else(|| Rejection::UnknownEscalationReason(code.chars().take(40).collect()))?;
    let note = optional_note(note)?;
    let day = state.setup.day_of(now);
    let prefix = format!("E{}-", day.format("%Y%m%d"));
    if state.escalations.cases.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).count()
        >= ESCALATIONS_PER_DAY_MAX
    {
        return Err(Rejection::EscalationsFull(ESCALATIONS_PER_DAY_MAX));
    }
    let case = EscalationOpening {
        id: case_book::next_id(&state.escalations.cases, 'E', day),
        due: rating::due_after(&state.setup, day, policy.case_days),
        handler: policy.handler.clone(),
        queue: policy.queue,
    };
    let event = Event::TicketEscalated { window: *window, id, reason: code.to_string(), note, case };
    Ok(Decision { events: vec![event], reply: Reply::Ticket(id), repeated: false })
}

/// An open case, or why it cannot be worked on.
fn open_case<'a>(state: &'a HallState, case: &str) -> Result<&'a Escalation, Rejection> {
    let c = state.escalations.cases.get(case).ok_or(Rejection::UnknownCase)?;
    if c.resolution.is_some() {
        return Err(Rejection::CaseClosed);
    }
    Ok(c)
}

/// The handler (or a supervisor) called the visitor back.
pub(crate) fn decide_callback(
    state: &HallState,
    case: &str,
    by: &UserName,
    reached: bool,
    text: &str,
) -> Result<Decision, Rejection> {
    let c = open_case(state, case)?;
    if c.callbacks.len() >= CALLBACKS_MAX {
        return Err(Rejection::CallbacksFull(CALLBACKS_MAX));
    }
    let event = Event::EscalationCallback { case: c.id.clone(), by: by.clone(), reached, note: rating::note(text)? };
    Ok(Decision { events: vec![event], reply: Reply::Escalation(c.id.clone()), repeated: false })
}

/// The case ends: answered (closed), or referred on to `refer_to`, a department.
pub(crate) fn decide_resolve(
    state: &HallState,
    case: &str,
    by: &UserName,
    text: &str,
    refer_to: Option<&str>,
) -> Result<Decision, Rejection> {
    let c = open_case(state, case)?;
    let referred_to = match refer_to.map(trim_invisible) {
        None => None,
        Some(d) if d.is_empty() || d.chars().count() > DEPARTMENT_CHARS_MAX => {
            return Err(Rejection::DepartmentRequired(DEPARTMENT_CHARS_MAX));
        }
        Some(d) => Some(rating::mask_numbers(d)),
    };
    let event =
        Event::EscalationResolved { case: c.id.clone(), by: by.clone(), note: rating::note(text)?, referred_to };
    Ok(Decision { events: vec![event], reply: Reply::Escalation(c.id.clone()), repeated: false })
}

/// Cases counted by their status on a day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub open: u64,
    pub overdue: u64,
    pub closed: u64,
    pub referred: u64,
}

impl Counts {
    fn add(&mut self, status: EscalationStatus) {
        self.total += 1;
        match status {
            EscalationStatus::Open => self.open += 1,
            EscalationStatus::Overdue => self.overdue += 1,
            EscalationStatus::Closed => self.closed += 1,
            EscalationStatus::Referred => self.referred += 1,
        }
    }
}

/// Where matters get stuck: cases counted in all and by item, by the items' departments, by
/// reason and by the clerk who could not finish them (`""` where there was none). A case
/// of two items counts once under each, and once under each of their departments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub all: Counts,
    pub by_item: BTreeMap<String, Counts>,
    pub by_department: BTreeMap<String, Counts>,
    pub by_reason: BTreeMap<String, Counts>,
    pub by_clerk: BTreeMap<String, Counts>,
}

impl Summary {
    pub fn of<'a>(setup: &Setup, today: NaiveDate, cases: impl IntoIterator<Item = &'a Escalation>) -> Self {
        let mut s = Summary::default();
        for c in cases {
            let status = c.status(today);
            s.all.add(status);
            let mut departments = std::collections::BTreeSet::new();
            for item in &c.services {
                s.by_item.entry(item.to_string()).or_default().add(status);
                departments.insert(setup.item(item.as_str()).map_or("", |i| i.department.as_str()));
            }
            for d in departments {
                s.by_department.entry(d.to_string()).or_default().add(status);
            }
            s.by_reason.entry(c.reason.clone()).or_default().add(status);
            let clerk = c.clerk.as_ref().map_or("", UserName::as_str);
            s.by_clerk.entry(clerk.to_string()).or_default().add(status);
        }
        s
    }
}
