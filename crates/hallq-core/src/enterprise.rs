//! 助企服务 one-to-one: enterprises with a specialist (专属服务专员), their personal line to
//! the specialist's window, and each enterprise's follow-up log.
//!
//! The registry is hall.toml's `[enterprises]` CSV (`EnterprisePolicy::seed`) joined with
//! what admins added or changed since, which is state (`Enterprises`, carried by the day's
//! snapshot). An enterprise is known to the core by its id and by a keyed hash of its
//! unified social credit code, made by the shell; the code itself never reaches the core,
//! so no record, snapshot or answer built from the state can hold it.
//!
//! An enterprise's walk-in ticket waits for its specialist's window when the specialist is
//! signed in there and the window is not closed or paused — sent to it by name, like a
//! booking for a window, so a close returns it to the enterprise queue at its place
//! (`window_admin::untie`) — and in the enterprise queue otherwise. A pause longer than
//! the hall's `personal_hold_min` returns it there too (`paused_returns`, at the engine's
//! tick), so nobody waits for a specialist who is away. Each such ticket done
//! is a visit in the enterprise's log; referrals and milestones are added by staff.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::command::{Rejection, Reply};
use crate::decide::issue_to;
use crate::event::Event;
use crate::facts::What;
use crate::hall::{Decision, HallState};
pub use crate::ids::EnterpriseId;
use crate::model::{QueueId, TicketId, TicketNo, Ts, UserName, WindowId, WindowState};
use crate::rating;
use crate::setup::Setup;

/// The most enterprises a hall's registry holds, hall.toml's and added ones together: a
/// district centre serves a few hundred key enterprises one-to-one; the bound keeps the
/// state and the kiosk's look-up (a scan) small.
pub const ENTERPRISES_MAX: usize = 5_000;
/// The longest enterprise name kept, in characters (the longest registered names are
/// about 60).
pub const ENTERPRISE_NAME_CHARS_MAX: usize = 100;
/// The most referrals and milestones one enterprise's log keeps; then an admin starts a
/// new enterprise record. Years of monthly notes.
pub const FOLLOW_UPS_MAX: usize = 1_000;
/// The visits one enterprise's log keeps; the oldest go first (the day figures keep the
/// counts).
pub const VISITS_KEPT_MAX: usize = 1_000;
/// The days whose enterprise figures are kept: a year and more, like the alerts.
pub const FIGURE_DAYS_KEPT: usize = 400;
/// How far ahead a milestone's date may lie, in days: a planned 投产 within the year.
pub const FOLLOW_UP_DAYS_AHEAD_MAX: u64 = 366;
/// The longest keyed hash of a credit code the core accepts, in characters (the shell's
/// are 32 hex digits).
pub const CODE_HASH_CHARS_MAX: usize = 64;

/// How long a personal line waits for its specialist's paused window by default, in
/// minutes: a short break, not the lunch hour (issue 17 follow-up point 2).
pub const PERSONAL_HOLD_MIN_DEFAULT: u32 = 10;
/// The longest hold a hall may set, in minutes: past half a day the visitor has gone home.
pub const PERSONAL_HOLD_MIN_MAX: u32 = 240;

/// `[enterprises]` of hall.toml: the queue an enterprise's ticket waits in when its
/// specialist's window is not open, and the registry's enterprises from the CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct EnterprisePolicy {
    pub queue: QueueId,
    pub seed: Vec<EnterpriseDef>,
    /// `personal_hold_minutes`: how long a personal line waits for its specialist's paused
    /// window before its tickets go back to `queue` (`paused_returns`).
    pub personal_hold_min: u32,
}

/// One enterprise: its id, its name (staff pages only), the keyed hash of its credit code
/// and its specialist (a clerk).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseDef {
    pub id: EnterpriseId,
    pub name: String,
    pub code_hash: String,
    pub specialist: UserName,
}

/// What a follow-up records: a referral (转介) or one of the project's milestones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpKind {
    Referral,
    /// 立项
    Project,
    /// 审批
    Approval,
    /// 开工
    Construction,
    /// 投产
    Production,
}

impl FollowUpKind {
    pub const ALL: [FollowUpKind; 5] = [
        FollowUpKind::Referral,
        FollowUpKind::Project,
        FollowUpKind::Approval,
        FollowUpKind::Construction,
        FollowUpKind::Production,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpKind::Referral => "referral",
            FollowUpKind::Project => "project",
            FollowUpKind::Approval => "approval",
            FollowUpKind::Construction => "construction",
            FollowUpKind::Production => "production",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A referral or milestone, as staff recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub kind: FollowUpKind,
    /// The day it happened (or is planned), as staff gave it.
    pub date: NaiveDate,
    pub note: String,
    pub by: UserName,
    /// When it was recorded.
    pub at: Ts,
}

/// A visit: one of the enterprise's tickets done at a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub at: Ts,
    pub day: NaiveDate,
    pub number: TicketNo,
    pub window: WindowId,
    pub clerk: Option<UserName>,
    /// Served by the enterprise's specialist (its personal line).
    pub personal: bool,
}

/// One enterprise's log: staff's follow-ups and the visits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    pub follow_ups: Vec<FollowUp>,
    pub visits: Vec<Visit>,
}

/// One day's enterprise figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseDay {
    /// Enterprise tickets sent to the specialist's window at issue.
    pub personal: u32,
    /// Enterprise tickets that waited in the enterprise queue from issue.
    pub queue: u32,
    /// Enterprise tickets done, by the enterprise's specialist at issue.
    pub visits: BTreeMap<UserName, u32>,
}

/// One of today's enterprise tickets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tagged {
    pub enterprise: EnterpriseId,
    pub specialist: UserName,
    /// The specialist's window it was sent to at issue; `None`: the enterprise queue.
    pub window: Option<WindowId>,
}

/// The registry's changes since hall.toml, the logs, the figures, and today's enterprise
/// tickets. All but the tickets outlive the day (in the day's snapshot).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprises {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub added: BTreeMap<EnterpriseId, EnterpriseDef>,
    /// Specialists an admin set, overriding hall.toml's or the one added with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub specialists: BTreeMap<EnterpriseId, UserName>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub logs: BTreeMap<EnterpriseId, Log>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub days: BTreeMap<NaiveDate, EnterpriseDay>,
    /// Today's enterprise tickets; a day's opening empties it.
    #[serde(skip)]
    pub tickets: BTreeMap<TicketId, Tagged>,
}

impl Enterprises {
    /// Every enterprise, hall.toml's first, each with its specialist now.
    pub fn all(&self, setup: &Setup) -> Vec<EnterpriseDef> {
        let seed = setup.enterprises.iter().flat_map(|p| p.seed.iter());
        seed.chain(self.added.values()).map(|e| self.current(e)).collect()
    }

    /// Enterprise `id`, with its specialist now.
    pub fn find(&self, setup: &Setup, id: &EnterpriseId) -> Option<EnterpriseDef> {
        let seed = setup.enterprises.iter().flat_map(|p| p.seed.iter()).find(|e| e.id == *id);
        seed.or_else(|| self.added.get(id)).map(|e| self.current(e))
    }

    /// The enterprise whose credit code has keyed hash `hash`. A scan of at most
    /// `ENTERPRISES_MAX`, for a look-up the shell rate-limits per kiosk.
    pub fn by_hash(&self, setup: &Setup, hash: &str) -> Option<EnterpriseDef> {
        let seed = setup.enterprises.iter().flat_map(|p| p.seed.iter());
        seed.chain(self.added.values()).find(|e| e.code_hash == hash).map(|e| self.current(e))
    }

    fn current(&self, e: &EnterpriseDef) -> EnterpriseDef {
        let specialist = self.specialists.get(&e.id).unwrap_or(&e.specialist).clone();
        EnterpriseDef { specialist, ..e.clone() }
    }

    /// Enterprise `id`'s log (empty when nothing happened yet).
    pub fn log(&self, id: &EnterpriseId) -> Option<&Log> {
        self.logs.get(id)
    }

    /// `apply` of `EnterpriseTicketIssued`: the ticket is tagged and counted.
    pub(crate) fn apply_ticket(
        &mut self,
        day: Option<NaiveDate>,
        id: &TicketId,
        tag: (&EnterpriseId, &UserName, Option<WindowId>),
    ) {
        let tag = Tagged { enterprise: tag.0.clone(), specialist: tag.1.clone(), window: tag.2 };
        let figures = self.day_mut(day.unwrap_or_default());
        if tag.window.is_some() {
            figures.personal += 1;
        } else {
            figures.queue += 1;
        }
        self.tickets.insert(*id, tag);
    }

    pub(crate) fn apply_added(&mut self, e: &EnterpriseDef) {
        self.added.insert(e.id.clone(), e.clone());
    }

    pub(crate) fn apply_specialist(&mut self, id: &EnterpriseId, specialist: &UserName) {
        self.specialists.insert(id.clone(), specialist.clone());
    }

    /// `apply` of `FollowUpAdded`, recorded at `at`.
    pub(crate) fn apply_follow_up(
        &mut self,
        id: &EnterpriseId,
        what: (FollowUpKind, NaiveDate),
        note: &str,
        by: &UserName,
        at: Ts,
    ) {
        let follow_up = FollowUp { kind: what.0, date: what.1, note: note.to_owned(), by: by.clone(), at };
        self.logs.entry(id.clone()).or_default().follow_ups.push(follow_up);
    }

    /// Takes in one of `apply`'s facts counted on `day`: an enterprise ticket done is a
    /// visit; a day's opening ends today's tickets.
    pub(crate) fn fold(&mut self, day: NaiveDate, at: Ts, what: &What) {
        match what {
            What::DayOpened { .. } => self.tickets.clear(),
            What::Finished { ticket, desk, outcome: Some(_), .. } => {
                let Some(tag) = self.tickets.remove(&ticket.id) else { return };
                let personal = desk.clerk.as_ref() == Some(&tag.specialist);
                *self.day_mut(day).visits.entry(tag.specialist).or_default() += 1;
                let visits = &mut self.logs.entry(tag.enterprise).or_default().visits;
                if visits.len() >= VISITS_KEPT_MAX {
                    visits.remove(0);
                }
                let (number, window, clerk) = (ticket.number.clone(), desk.window, desk.clerk.clone());
                visits.push(Visit { at, day, number, window, clerk, personal });
            }
            _ => {}
        }
    }

    fn day_mut(&mut self, day: NaiveDate) -> &mut EnterpriseDay {
        if !self.days.contains_key(&day) && self.days.len() >= FIGURE_DAYS_KEPT {
            self.days.pop_first();
        }
        self.days.entry(day).or_default()
    }
}

/// The window where `specialist` is signed in and which may take a ticket now (not closed
/// or paused).
pub fn specialist_window(state: &HallState, specialist: &UserName) -> Option<WindowId> {
    let usable = |s: WindowState| !matches!(s, WindowState::Closed | WindowState::Paused);
    state.windows.values().find(|w| w.clerk.as_ref() == Some(specialist) && usable(w.state)).map(|w| w.id)
}

/// An enterprise's walk-in ticket for `service`: to its specialist's window when that is
/// open, else to the enterprise queue; either way the enterprise queue is its queue, where
/// a close of the window returns it.
pub fn decide_issue(
    state: &HallState,
    id: &TicketId,
    service: &str,
    kiosk: &str,
    enterprise: &EnterpriseId,
    now: Ts,
) -> Result<Decision, Rejection> {
    let policy = state.setup.enterprises.as_ref().ok_or(Rejection::NoEnterprises)?;
    let e = state.enterprises.find(&state.setup, enterprise).ok_or(Rejection::UnknownEnterprise)?;
    let window = specialist_window(state, &e.specialist);
    let issued = issue_to(state, id, service, kiosk, policy.queue, window, now)?;
    let tagged = Event::EnterpriseTicketIssued { id: *id, enterprise: e.id, specialist: e.specialist, window };
    Ok(Decision { events: vec![issued, tagged], reply: Reply::Ticket(*id), repeated: false })
}

/// An admin adds an enterprise; the shell has checked the specialist is a clerk and made
/// the code's hash.
pub fn decide_add(state: &HallState, e: &EnterpriseDef, by: &UserName) -> Result<Decision, Rejection> {
    state.setup.enterprises.as_ref().ok_or(Rejection::NoEnterprises)?;
    let name = rating::trim_invisible(&e.name);
    if name.is_empty() || name.chars().count() > ENTERPRISE_NAME_CHARS_MAX {
        return Err(Rejection::BadEnterpriseName(ENTERPRISE_NAME_CHARS_MAX));
    }
    let hash_ok = !e.code_hash.is_empty() && e.code_hash.len() <= CODE_HASH_CHARS_MAX;
    assert!(hash_ok, "the shell's hash of a credit code is 1 to {CODE_HASH_CHARS_MAX} characters");
    let all = state.enterprises.all(&state.setup);
    if all.iter().any(|x| x.id == e.id || x.code_hash == e.code_hash) {
        return Err(Rejection::EnterpriseExists);
    }
    if all.len() >= ENTERPRISES_MAX {
        return Err(Rejection::EnterprisesFull(ENTERPRISES_MAX));
    }
    let enterprise = EnterpriseDef { name: name.to_string(), ..e.clone() };
    let event = Event::EnterpriseAdded { enterprise, by: by.clone() };
    Ok(Decision { events: vec![event], reply: Reply::Nothing, repeated: false })
}

/// An admin names another specialist for an enterprise.
pub fn decide_specialist(
    state: &HallState,
    enterprise: &EnterpriseId,
    specialist: &UserName,
    by: &UserName,
) -> Result<Decision, Rejection> {
    state.setup.enterprises.as_ref().ok_or(Rejection::NoEnterprises)?;
    state.enterprises.find(&state.setup, enterprise).ok_or(Rejection::UnknownEnterprise)?;
    let event = Event::SpecialistSet { enterprise: enterprise.clone(), specialist: specialist.clone(), by: by.clone() };
    Ok(Decision { events: vec![event], reply: Reply::Nothing, repeated: false })
}

/// The specialist or a supervisor (the shell checks which) adds a referral or milestone.
pub fn decide_follow_up(
    state: &HallState,
    enterprise: &EnterpriseId,
    (kind, date): (FollowUpKind, NaiveDate),
    note: &str,
    by: &UserName,
    now: Ts,
) -> Result<Decision, Rejection> {
    state.setup.enterprises.as_ref().ok_or(Rejection::NoEnterprises)?;
    state.enterprises.find(&state.setup, enterprise).ok_or(Rejection::UnknownEnterprise)?;
    let latest = state.setup.day_of(now) + chrono::Days::new(FOLLOW_UP_DAYS_AHEAD_MAX);
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    if date < earliest || date > latest {
        return Err(Rejection::BadFollowUpDate(FOLLOW_UP_DAYS_AHEAD_MAX));
    }
    let note = rating::note(note)?;
    let kept = state.enterprises.log(enterprise).map_or(0, |l| l.follow_ups.len());
    if kept >= FOLLOW_UPS_MAX {
        return Err(Rejection::FollowUpsFull(FOLLOW_UPS_MAX));
    }
    let event = Event::FollowUpAdded { enterprise: enterprise.clone(), kind, date, note, by: by.clone() };
    Ok(Decision { events: vec![event], reply: Reply::Nothing, repeated: false })
}

// The paused specialist's window (issue 17 follow-up point 2).

/// The returns of the enterprise tickets waiting for a specialist's window paused longer
/// than the hall's `personal_hold_min` at `now`: each goes back to its queue (the
/// enterprise queue) at its place by issue time, its number unchanged. Asked at every
/// tick; a close returns them at once (`window_admin::untie`). Tickets sent to the window
/// otherwise (a booking for it, a transfer) keep waiting for it, as before.
pub fn paused_returns(state: &HallState, now: Ts) -> Vec<Event> {
    let Some(policy) = &state.setup.enterprises else { return Vec::new() };
    let hold_ms = u64::from(policy.personal_hold_min) * 60_000;
    let mut events = Vec::new();
    for w in state.windows.values().filter(|w| w.state == WindowState::Paused) {
        let paused_at = state.alerts.since.get(&w.id).filter(|(s, _)| *s == WindowState::Paused).map(|(_, at)| *at);
        if paused_at.is_none_or(|at| now.since_ms(at) < hold_ms) {
            continue;
        }
        for id in state.index.sent_to(&w.id) {
            if !state.enterprises.tickets.contains_key(&id) {
                continue;
            }
            let Some(t) = state.ticket(&id) else { continue };
            let queue = crate::window_admin::home_queue(&state.setup, t).unwrap_or(t.queue);
            events.push(Event::TicketReturned { id, window: Some(w.id), queue });
        }
    }
    events
}
