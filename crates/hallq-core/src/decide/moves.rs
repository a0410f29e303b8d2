//! The clerk's moves of issue 17 §4 (`core::clerk_moves`), as `decide` takes them:
//! arming store-next, `done` and `next` as one command, the store-next call that follows a
//! finish (`follow_up`, asked by `HallState::step`), a walk-direct, and a kiosk ticket
//! under the per-person limits.

use super::{done, idle, signed_in, ticket, window};
use crate::clerk_moves::WALK_DIRECT_PER_DAY_MAX;
use crate::command::{Command, Rejection, Reply};
use crate::event::Event;
use crate::hall::{Decision, HallState};
use crate::model::{CallRule, Outcome, TicketId, Ts, UserName, WindowId, WindowState};

/// The clerk arms or disarms store-next; as it already is, nothing changes.
pub(super) fn arm(state: &HallState, window: &WindowId, clerk: &UserName, armed: bool) -> Result<Decision, Rejection> {
    let w = signed_in(state, window, clerk)?;
    let events = if w.store_next == armed { Vec::new() } else { vec![Event::StoreNextSet { window: *window, armed }] };
    done(events, Reply::Window(*window))
}

/// `done` and `next` as one command: the finish here, the call in `follow_up`.
pub(super) fn done_and_next(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    outcome: Outcome,
) -> Result<Decision, Rejection> {
    window::finish(state, window, clerk, outcome)
}

/// The store-next call that follows a command the step has just applied, if any: after a
/// command that let the window's ticket go, at a window armed (or after `DoneAndNext`)
/// and now open and idle, the dispatch's choice for it, marked by `StoreNextFired`. Nothing
/// when nobody waits: the window idles until its clerk calls. Runs in the same step as
/// the finish, so that no other command comes between them.
pub(crate) fn follow_up(state: &HallState, command: &Command, now: Ts) -> Vec<Event> {
    let (window, clerk, always) = match command {
        Command::DoneAndNext { window, clerk, .. } => (window, clerk, true),
        Command::Done { window, clerk, .. }
        | Command::NoShow { window, clerk }
        | Command::Transfer { window, clerk, .. }
        | Command::Park { window, clerk }
        | Command::Escalate { window, clerk, .. }
        | Command::Refer { window, clerk, .. } => (window, clerk, false),
        _ => return Vec::new(),
    };
    let Some(w) = state.window(window) else { return Vec::new() };
    if !(always || w.store_next) || w.state != WindowState::Open || w.ticket.is_some() {
        return Vec::new();
    }
    fire(state, window, clerk, now)
}

/// The dispatch's choice for `window`, marked by `StoreNextFired`; nothing when nobody
/// it serves waits.
fn fire(state: &HallState, window: &WindowId, clerk: &UserName, now: Ts) -> Vec<Event> {
    match window::call_next(state, window, clerk, now) {
        Ok(d) if !d.events.is_empty() => {
            let mut events = vec![Event::StoreNextFired { window: *window }];
            events.extend(d.events);
            events
        }
        Ok(_) | Err(_) => Vec::new(),
    }
}

// Store-next must not idle (issue 17, the follow-up's point 1).

/// The windows armed, open and idle under a clerk, in id order: after any step, each calls
/// what it can (`call_armed`), so that a ticket issued, checked in, rejoined, transferred
/// or back from a park while an armed window idles is called there in its own step, and
/// an armed window never idles while a ticket it serves waits. `HallState::step` asks.
pub(crate) fn armed_idle(state: &HallState) -> Vec<WindowId> {
    let idle = |w: &&crate::model::Window| w.store_next && w.state == WindowState::Open && w.ticket.is_none();
    state.windows.values().filter(idle).filter(|w| w.clerk.is_some()).map(|w| w.id).collect()
}

/// The store-next call at an armed idle window (`armed_idle`), if it has one to make.
pub(crate) fn call_armed(state: &HallState, window: &WindowId, now: Ts) -> Vec<Event> {
    match state.window(window) {
        Some(w) if w.store_next && w.state == WindowState::Open && w.ticket.is_none() => match &w.clerk {
            Some(clerk) => fire(state, window, clerk, now),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// A walk-up's ticket issued to the clerk's own idle window and called there at once:
/// never ahead of a ticket the window serves that has waited past the hall's
/// `max_wait_min` (the clerk calls that one first), at most `WALK_DIRECT_PER_DAY_MAX` a
/// day, and only for a queue the window serves.
pub(super) fn walk_direct(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    id: &TicketId,
    service: &str,
    now: Ts,
) -> Result<Decision, Rejection> {
    let w = signed_in(state, window, clerk)?;
    idle(w)?;
    if w.walk_direct_today >= WALK_DIRECT_PER_DAY_MAX {
        return Err(Rejection::WalkDirectLimit(window.to_string(), WALK_DIRECT_PER_DAY_MAX));
    }
    if let Some((aged, CallRule::Aged { waited_min, max_min })) = state.index.aged(&state.setup, w, now) {
        let number = state.ticket(&aged).map_or_else(String::new, |t| t.number.to_string());
        return Err(Rejection::WalkDirectBehindAged { number, waited_min, max_min });
    }
    let issued = ticket::issue_event(state, id, (service, None, false), "walk-direct", Some(*window), now)?;
    if let Event::TicketIssued { queue, .. } = &issued {
        if !w.queues.contains(queue) {
            return Err(Rejection::WalkDirectNotServed(window.to_string(), queue.to_string()));
        }
    }
    let marked = Event::WalkDirect { window: *window, id: *id };
    let called = Event::TicketCalled { window: *window, id: *id, rule: CallRule::TransferredHere };
    done(vec![issued, marked, called], Reply::Ticket(*id))
}

/// A kiosk ticket for the person whose ID number has the keyed hash `person`, within the
/// hall's per-person limits: the day's tickets, and the wait after the no-shows.
pub(super) fn issue_for_person(
    state: &HallState,
    id: &TicketId,
    (service, priority, remote): (&str, Option<&str>, bool),
    kiosk: &str,
    person: &str,
    now: Ts,
) -> Result<Decision, Rejection> {
    let limits = state.setup.person_limits;
    let day = state.persons.of(person);
    if let Some(max) = limits.tickets_per_day.filter(|max| day.tickets >= *max) {
        return Err(Rejection::PersonDailyLimit(max));
    }
    if let (Some(n), Some(last)) = (limits.no_shows_before_wait, day.last_no_show) {
        let until = Ts(last.0.saturating_add(i64::from(limits.no_show_wait_min) * 60_000));
        if day.no_shows >= n && now < until {
            return Err(Rejection::PersonMustWait { no_shows: day.no_shows, until: local_hm(state, until) });
        }
    }
    let issued = ticket::issue_event(state, id, (service, priority, remote), kiosk, None, now)?;
    let taken = Event::PersonTicket { id: *id, person: person.to_string() };
    done(vec![issued, taken], Reply::Ticket(*id))
}

/// `at` as the hall's local time of day, `14:05`.
fn local_hm(state: &HallState, at: Ts) -> String {
    use chrono::TimeZone;
    let local = state.setup.timezone.timestamp_millis_opt(at.0).single();
    local.map_or_else(|| "later today".to_string(), |t| t.format("%H:%M").to_string())
}
