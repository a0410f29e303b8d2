//! 全程领办 (导办, VIP全程领办, 我陪群众走流程): guides who take a ticket for a visitor who
//! has no phone or cannot use the kiosk (assisted issuance), and who walk visitors through
//! every step of their matter (escort).
//!
//! An assisted ticket is an ordinary ticket whose issue is followed by `TicketAssisted`,
//! naming the guide, so the audit trail names who acted. An escort is a fact of the
//! ticket: `TicketEscorted` binds it to one guide until `EscortReleased`. A guide escorts
//! at most `escorts_max` live tickets at once: a guide walks beside each visitor, and one
//! with twenty visitors walks beside none. The escort of a released ticket is kept (as
//! released) for the day, so that a rating given after the guide let go still counts to
//! the guide who walked the visitor through.
//!
//! `apply` names the guide in the facts of an escorted visitor's moments (the wait at each
//! first call in a line, the rating), so the figures fold guides' waits and ratings from
//! facts like everything else (`hall/guide.rs`).

use std::collections::BTreeMap;

use super::command::{Rejection, Reply};
use super::event::Event;
use super::hall::{Decision, HallState};
use super::model::{PriorityClass, Ticket, TicketId, TicketStatus, Ts, UserName};

/// Live escorted tickets a guide may hold when hall.toml does not say, in tickets.
pub const ESCORTS_PER_GUIDE_DEFAULT: usize = 5;
/// The most hall.toml may allow (`[hall.guides] escorts_max`): a guide's page lists every
/// escorted visitor, and a guide walks beside each one.
pub const ESCORTS_PER_GUIDE_MAX: usize = 20;
/// The longest ticket number a guide's request may name, in characters (a real one is a
/// prefix and three or four digits).
pub const NUMBER_CHARS_MAX: usize = 16;
/// The channel an assisted ticket is issued through, in place of a kiosk's id.
pub const GUIDE_CHANNEL: &str = "guide";

/// `[hall.guides]`: how many live tickets one guide may escort, and the priority class an
/// escorted ticket gets (if it has none), if the hall gives one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuidePolicy {
    pub escorts_max: usize,
    pub escort_priority: Option<PriorityClass>,
}

impl Default for GuidePolicy {
    fn default() -> Self {
        Self { escorts_max: ESCORTS_PER_GUIDE_DEFAULT, escort_priority: None }
    }
}

/// A ticket's escort: the guide, since when, and whether the guide has let go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escort {
    pub guide: UserName,
    pub since: Ts,
    pub released: bool,
}

/// Today's assisted and escorted tickets; a new day empties both, as it drops the tickets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Guides {
    /// Each ticket's last escort (released ones kept, for the ratings).
    pub escorts: BTreeMap<TicketId, Escort>,
    /// Tickets a guide issued, with the guide.
    pub assisted: BTreeMap<TicketId, UserName>,
}

impl Guides {
    /// The guide escorting ticket `id` now, if any.
    pub fn guide_of(&self, id: &TicketId) -> Option<&UserName> {
        self.escorts.get(id).filter(|e| !e.released).map(|e| &e.guide)
    }

    /// The guide who escorted ticket `id` last, released or not.
    pub fn last_guide_of(&self, id: &TicketId) -> Option<&UserName> {
        self.escorts.get(id).map(|e| &e.guide)
    }

    /// The tickets `guide` escorts now, in the order of their ids.
    pub fn escorted_by<'a>(&'a self, guide: &'a UserName) -> impl Iterator<Item = (&'a TicketId, &'a Escort)> + 'a {
        self.escorts.iter().filter(move |(_, e)| !e.released && &e.guide == guide)
    }

    pub(crate) fn open_day(&mut self) {
        self.escorts.clear();
        self.assisted.clear();
    }
}

/// Whether a ticket is still in the hall's hands: a guide's escort of it counts against
/// the guide's bound.
pub fn live(status: TicketStatus) -> bool {
    match status {
        TicketStatus::Waiting | TicketStatus::Called | TicketStatus::Serving | TicketStatus::Parked => true,
        TicketStatus::Done | TicketStatus::NoShow | TicketStatus::Cancelled | TicketStatus::Expired => false,
    }
}

/// A guide issues a ticket for a visitor (with `escort`, under the guide's escort at once,
/// with the hall's escort priority if the guide gave none).
pub(crate) fn decide_assisted(
    state: &HallState,
    id: &TicketId,
    (service, priority): (&str, Option<&str>),
    guide: &UserName,
    escort: bool,
    now: Ts,
) -> Result<Decision, Rejection> {
    if escort {
        room_for(state, guide)?;
    }
    let hall_class = state.setup.guides.escort_priority.as_ref().filter(|_| escort).map(|p| p.as_str());
    let issued =
        super::decide::issue_event(state, id, (service, priority.or(hall_class), false), GUIDE_CHANNEL, None, now)?;
    let mut events = vec![issued, Event::TicketAssisted { id: *id, guide: guide.clone() }];
    if escort {
        events.push(Event::TicketEscorted { id: *id, guide: guide.clone(), priority: None });
    }
    Ok(Decision { events, reply: Reply::Ticket(*id), repeated: false })
}

/// A guide takes today's ticket `number` under escort. Theirs already: answered with no
/// change; another guide's: refused until that guide lets go.
pub(crate) fn decide_escort(state: &HallState, number: &str, guide: &UserName) -> Result<Decision, Rejection> {
    let t = by_number(state, number)?;
    if !live(t.status) {
        return Err(Rejection::NotEscortable(t.status.as_str()));
    }
    let events = match state.guides.guide_of(&t.id) {
        Some(g) if g == guide => Vec::new(),
        Some(_) => return Err(Rejection::EscortedByOther),
        None => {
            room_for(state, guide)?;
            let priority = state.setup.guides.escort_priority.clone().filter(|_| t.priority.is_none());
            vec![Event::TicketEscorted { id: t.id, guide: guide.clone(), priority }]
        }
    };
    Ok(Decision { events, reply: Reply::Ticket(t.id), repeated: false })
}

/// A guide lets go of ticket `number`, which they escort. A priority class the escort gave
/// stays: the ticket may already have been called ahead on it.
pub(crate) fn decide_release(state: &HallState, number: &str, guide: &UserName) -> Result<Decision, Rejection> {
    let t = by_number(state, number)?;
    if state.guides.guide_of(&t.id) != Some(guide) {
        return Err(Rejection::NotEscorted);
    }
    let events = vec![Event::EscortReleased { id: t.id, guide: guide.clone() }];
    Ok(Decision { events, reply: Reply::Ticket(t.id), repeated: false })
}

/// Refuses when `guide` escorts as many live tickets as the hall allows.
fn room_for(state: &HallState, guide: &UserName) -> Result<(), Rejection> {
    let max = state.setup.guides.escorts_max;
    let live_now =
        state.guides.escorted_by(guide).filter(|(id, _)| state.ticket(id).is_some_and(|t| live(t.status))).count();
    if live_now >= max {
        return Err(Rejection::EscortsFull(max));
    }
    Ok(())
}

/// Today's ticket numbered `number` (`a012` reads as `A012`). A guide's rare action, so a
/// scan of today's tickets is fine here.
fn by_number<'a>(state: &'a HallState, number: &str) -> Result<&'a Ticket, Rejection> {
    let wanted = number.trim().to_ascii_uppercase();
    let shown = || wanted.chars().take(NUMBER_CHARS_MAX).collect::<String>();
    if wanted.chars().count() > NUMBER_CHARS_MAX {
        return Err(Rejection::UnknownNumber(shown()));
    }
    state.tickets.values().find(|t| t.number.to_string() == wanted).ok_or_else(|| Rejection::UnknownNumber(shown()))
}
