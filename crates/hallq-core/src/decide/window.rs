//! A clerk's side of `decide`: signing in at a window, calling (next or by number),
//! recalling, serving, finishing, no-shows, transfers, parking, pausing and closing. Only
//! the clerk signed in at a window acts there.

use super::{by_number, done, held, idle, signed_in};
use crate::command::{Rejection, Reply, CALL_REASON_CHARS_MAX};
use crate::event::Event;
use crate::hall::{Decision, HallState};
use crate::model::{CallRule, Outcome, TicketId, TransferTarget, Ts, UserName, WindowId, WindowState};
use crate::transitions::TicketAction;

/// `clerk` signs in at `window`: again at their own window is a no-op; a window another
/// holds, or a second window, is refused.
pub(super) fn open(state: &HallState, window: &WindowId, clerk: &UserName) -> Result<Decision, Rejection> {
    let w = state.window(window).ok_or_else(|| Rejection::UnknownWindow(window.to_string()))?;
    match &w.clerk {
        Some(c) if c == clerk => return done(Vec::new(), Reply::Window(*window)),
        Some(_) => return Err(Rejection::WindowTaken(window.to_string())),
        None => {}
    }
    if let Some(other) = state.windows.values().find(|o| o.clerk.as_ref() == Some(clerk)) {
        return Err(Rejection::ClerkElsewhere(other.id.to_string()));
    }
    let event = Event::WindowOpened { window: *window, clerk: clerk.clone() };
    done(vec![event], Reply::Window(*window))
}

/// The dispatch's choice for the window now, or nothing when no ticket may be called.
pub(super) fn call_next(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    now: Ts,
) -> Result<Decision, Rejection> {
    let w = signed_in(state, window, clerk)?;
    idle(w)?;
    match state.index.choose(&state.setup, w, now) {
        Some((id, rule)) => {
            let event = Event::TicketCalled { window: *window, id, rule };
            done(vec![event], Reply::MaybeTicket(Some(id)))
        }
        None => done(Vec::new(), Reply::MaybeTicket(None)),
    }
}

/// A ticket called out of turn by its number, with the clerk's reason (kept in the log).
pub(super) fn call_number(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    number: &str,
    reason: &str,
) -> Result<Decision, Rejection> {
    let w = signed_in(state, window, clerk)?;
    idle(w)?;
    let id = by_number(state, window, number)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > CALL_REASON_CHARS_MAX {
        return Err(Rejection::CallReasonRequired);
    }
    let rule = CallRule::ByNumber { clerk: clerk.clone(), reason: reason.to_string() };
    let event = Event::TicketCalled { window: *window, id, rule };
    done(vec![event], Reply::MaybeTicket(Some(id)))
}

pub(super) fn recall(state: &HallState, window: &WindowId, clerk: &UserName) -> Result<Decision, Rejection> {
    let id = held(state, window, clerk, TicketAction::Recall)?;
    let max = state.setup.dispatch.recall_max;
    if state.ticket(&id).is_some_and(|t| t.recalls >= max) {
        return Err(Rejection::RecallLimit(max));
    }
    done(vec![Event::TicketRecalled { window: *window, id }], Reply::Ticket(id))
}

pub(super) fn serve(state: &HallState, window: &WindowId, clerk: &UserName) -> Result<Decision, Rejection> {
    let id = held(state, window, clerk, TicketAction::Serve)?;
    done(vec![Event::TicketServing { window: *window, id }], Reply::Ticket(id))
}

/// The ticket is finished, or (a bundle with steps left, completed) goes on to its next
/// step.
pub(super) fn finish(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    outcome: Outcome,
) -> Result<Decision, Rejection> {
    let id = held(state, window, clerk, TicketAction::Finish)?;
    let more_steps = state.ticket(&id).is_some_and(|t| t.step + 1 < t.steps.len());
    let event = if more_steps && outcome == Outcome::Completed {
        Event::TicketStepDone { window: *window, id }
    } else {
        Event::TicketDone { window: *window, id, outcome }
    };
    done(vec![event], Reply::Ticket(id))
}

pub(super) fn no_show(state: &HallState, window: &WindowId, clerk: &UserName) -> Result<Decision, Rejection> {
    let id = held(state, window, clerk, TicketAction::NoShow)?;
    done(vec![Event::TicketNoShow { window: *window, id }], Reply::Ticket(id))
}

pub(super) fn transfer(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    to: &TransferTarget,
) -> Result<Decision, Rejection> {
    let id = held(state, window, clerk, TicketAction::Transfer)?;
    match to {
        TransferTarget::Queue(q) if state.setup.queue(q).is_none() => {
            return Err(Rejection::UnknownQueue(q.to_string()));
        }
        TransferTarget::Window(w) if state.window(w).is_none() => {
            return Err(Rejection::UnknownWindow(w.to_string()));
        }
        TransferTarget::Window(w) if w == window => return Err(Rejection::TransferToSelf),
        // A ticket sent to a closed window would wait for it all day: send it to a
        // queue instead, or open that window first.
        TransferTarget::Window(w) if state.window(w).is_some_and(|t| t.state == WindowState::Closed) => {
            return Err(Rejection::WindowClosed(w.to_string()));
        }
        TransferTarget::Queue(_) | TransferTarget::Window(_) => {}
    }
    let event = Event::TicketTransferred { window: *window, id, to: to.clone() };
    done(vec![event], Reply::Ticket(id))
}

pub(super) fn park(state: &HallState, window: &WindowId, clerk: &UserName) -> Result<Decision, Rejection> {
    let id = held(state, window, clerk, TicketAction::Park)?;
    let max = state.setup.dispatch.park_max;
    if state.window(window).is_some_and(|w| w.parked.len() >= max as usize) {
        return Err(Rejection::ParkFull(window.to_string(), max));
    }
    done(vec![Event::TicketParked { window: *window, id }], Reply::Ticket(id))
}

/// A ticket parked at this window is called back to it.
pub(super) fn unpark(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    id: &TicketId,
) -> Result<Decision, Rejection> {
    let w = signed_in(state, window, clerk)?;
    if !w.parked.contains(id) {
        return Err(Rejection::NotParkedHere(window.to_string()));
    }
    idle(w)?;
    let event = Event::TicketCalled { window: *window, id: *id, rule: CallRule::Unparked };
    done(vec![event], Reply::Ticket(*id))
}

/// The clerk pauses the idle window, with a reason from the hall's list or none.
pub(super) fn pause(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    reason: Option<&str>,
) -> Result<Decision, Rejection> {
    let w = signed_in(state, window, clerk)?;
    if let Some(code) = reason {
        if !state.setup.pause_reasons.iter().any(|r| r.code == code) {
            return Err(Rejection::UnknownReason(code.chars().take(40).collect()));
        }
    }
    if w.state == WindowState::Paused {
        return done(Vec::new(), Reply::Window(*window));
    }
    idle(w)?;
    let reason = reason.map(str::to_string);
    done(vec![Event::WindowPaused { window: *window, reason }], Reply::Window(*window))
}

pub(super) fn resume(state: &HallState, window: &WindowId, clerk: &UserName) -> Result<Decision, Rejection> {
    let w = signed_in(state, window, clerk)?;
    if w.state != WindowState::Paused {
        return Err(Rejection::NotPaused(window.to_string()));
    }
    done(vec![Event::WindowResumed { window: *window }], Reply::Window(*window))
}

/// The clerk closes an idle window with nothing parked; tickets sent here by name would
/// wait all day for a closed window, so they go back to their queues, at their places.
pub(super) fn close(state: &HallState, window: &WindowId, clerk: &UserName) -> Result<Decision, Rejection> {
    let w = signed_in(state, window, clerk)?;
    if w.ticket.is_some() {
        return Err(Rejection::WindowBusy(window.to_string()));
    }
    if !w.parked.is_empty() {
        return Err(Rejection::ParkedTickets(window.to_string()));
    }
    let mut events = crate::window_admin::untie(state, w, false);
    events.push(Event::WindowClosed { window: *window });
    done(events, Reply::Window(*window))
}
