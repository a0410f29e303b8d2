//! 跨中心转办 (一窗通办 / 跨省通办, issue 18): a clerk refers the visitor at their window to
//! another hall of the district, and that hall takes the matter in.
//!
//! Two halls, two logs, two decisions. The target hall decides first (`AcceptReferral`,
//! sent by the origin's daemon over the district's NATS): a remote ticket for the referred
//! service, not called until the visitor checks in there, tagged with where it came from
//! (`ReferralAccepted` after its `TicketIssued`, as a guide's or an enterprise's issue is
//! tagged). Only once the target has answered does the origin decide `Refer`: the ticket
//! leaves the window finished `incomplete` (the matter was not handled here; a new
//! outcome would change what every fold of `Outcome` means, while the referral is told
//! by its own fact) with the target's number on it (`TicketReferred`). Neither hall's
//! core knows of the other: the shell carries the answer across.
//!
//! Both are today's: a new day forgets them as it forgets the tickets (the log keeps
//! them, and the day's figures count them by target, origin and reason).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::command::{Rejection, Reply};
use super::decide::{held, issue_event};
use super::event::Event;
use super::hall::{Decision, HallState};
use super::model::{TicketId, Ts, UserName, WindowId};
use super::transitions::{next_status, TicketAction};

/// The channel a referred ticket is issued through (its `TicketIssued`'s `kiosk`).
pub const REFERRAL_CHANNEL: &str = "referral";
/// Longest hall id or hall name carried, in characters (a hall id is at most 64).
pub const HALL_CHARS_MAX: usize = 64;
/// Longest reason, in characters: one of the origin hall's short reasons.
pub const REASON_CHARS_MAX: usize = 32;
/// Longest note the clerk adds, in characters.
pub const NOTE_CHARS_MAX: usize = 200;
/// Longest reference, number or key carried, in characters (an id is 32 hex digits).
const TOKEN_CHARS_MAX: usize = 64;

/// Where a referred matter came from, as the target keeps it on its ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The origin hall's id (its `[district] hall_id`).
    pub hall: String,
    pub name: String,
    /// The origin's ticket (its id), the referral's reference in both logs.
    pub reference: String,
    /// The origin ticket's number, for the target's clerk.
    pub number: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a referred ticket went, as the origin keeps it: the target's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The target hall's id and name.
    pub hall: String,
    pub name: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The target's ticket: its number, its id, and the visitor's key to it (for the
    /// visitor's link; shown only to the holder of the origin ticket's own key).
    pub number: String,
    pub ticket: TicketId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Today's referrals of the hall: sent away (by the origin ticket) and taken in (by the
/// ticket issued for them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Referrals {
    pub sent: BTreeMap<TicketId, Sent>,
    pub received: BTreeMap<TicketId, Origin>,
}

impl Referrals {
    /// A new day forgets the old day's, as it forgets their tickets.
    pub fn open_day(&mut self) {
        self.sent.clear();
        self.received.clear();
    }
}

/// Whether `s` is 1 to `max` characters, not all blank.
fn within(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max
}

fn bad(why: &'static str) -> Rejection {
    Rejection::BadReferral(why)
}

fn check_note(note: Option<&str>) -> Result<(), Rejection> {
    match note {
        Some(n) if n.chars().count() > NOTE_CHARS_MAX => Err(bad("a note is at most 200 characters")),
        _ => Ok(()),
    }
}

/// The origin: the clerk at `window` refers its called or serving ticket to the hall the
/// target's answer (`to`) names. The shell has asked the target first.
pub(crate) fn decide_refer(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    to: &Sent,
) -> Result<Decision, Rejection> {
    let id = held(state, window, clerk, TicketAction::Refer)?;
    if !within(&to.hall, HALL_CHARS_MAX) || !within(&to.name, HALL_CHARS_MAX) {
        return Err(bad("a hall's id and name are 1 to 64 characters"));
    }
    if !within(&to.reason, REASON_CHARS_MAX) {
        return Err(bad("a referral needs a reason of 1 to 32 characters"));
    }
    if !within(&to.number, TOKEN_CHARS_MAX) || to.key.as_deref().is_some_and(|k| !within(k, TOKEN_CHARS_MAX)) {
        return Err(bad("the target's number and key are 1 to 64 characters"));
    }
    check_note(to.note.as_deref())?;
    let event = Event::TicketReferred { window: *window, id, to: to.clone() };
    Ok(Decision { events: vec![event], reply: Reply::Ticket(id), repeated: false })
}

/// The target: a remote ticket `id` of `service` for the visitor referred from `origin`,
/// waiting for its check-in like a number taken online.
pub(crate) fn decide_accept(
    state: &HallState,
    id: &TicketId,
    (service, priority): (&str, Option<&str>),
    origin: &Origin,
    now: Ts,
) -> Result<Decision, Rejection> {
    if !within(&origin.hall, HALL_CHARS_MAX) || !within(&origin.name, HALL_CHARS_MAX) {
        return Err(bad("a hall's id and name are 1 to 64 characters"));
    }
    if !within(&origin.reason, REASON_CHARS_MAX) {
        return Err(bad("a referral needs a reason of 1 to 32 characters"));
    }
    if !within(&origin.reference, TOKEN_CHARS_MAX) || !within(&origin.number, TOKEN_CHARS_MAX) {
        return Err(bad("a referral's reference and number are 1 to 64 characters"));
    }
    check_note(origin.note.as_deref())?;
    let issued = issue_event(state, id, (service, priority, true), REFERRAL_CHANNEL, None, now)?;
    let tagged = Event::ReferralAccepted { id: *id, origin: origin.clone() };
    Ok(Decision { events: vec![issued, tagged], reply: Reply::Ticket(*id), repeated: false })
}

/// The target: the origin hall `from_hall` withdraws `ticket`, issued here for its
/// referral `reference`, because the origin could not record the referral. Only the
/// referral's own origin may (the hall and the reference the ticket was taken in with),
/// and only before its visitor checked in: a visitor standing in this hall keeps their
/// number. The ticket is cancelled and no longer counts as taken in.
pub(crate) fn decide_withdraw(
    state: &HallState,
    from_hall: &str,
    reference: &str,
    ticket: Option<&TicketId>,
) -> Result<Decision, Rejection> {
    let own = |o: &Origin| o.hall == from_hall && o.reference == reference;
    // Taken in once per origin ticket (the origin's idempotency key), so at most one.
    let ticket = match ticket {
        Some(id) => state.referrals.received.get(id).filter(|o| own(o)).map(|_| id),
        None => state.referrals.received.iter().find(|(_, o)| own(o)).map(|(id, _)| id),
    };
    let ticket = ticket.ok_or(Rejection::UnknownTicket)?;
    let t = state.ticket(ticket).ok_or(Rejection::UnknownTicket)?;
    if t.checked_in {
        return Err(Rejection::AlreadyCheckedIn);
    }
    next_status(t.status, TicketAction::Cancel).ok_or(Rejection::NotWaiting(t.status.as_str()))?;
    let events = vec![Event::TicketCancelled { id: *ticket }, Event::ReferralWithdrawn { id: *ticket }];
    Ok(Decision { events, reply: Reply::Ticket(*ticket), repeated: false })
}
