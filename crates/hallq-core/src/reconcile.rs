//! Start-up after hall.toml changed in the middle of a service day.
//!
//! The log keeps the ids it was written with; hall.toml may since have lost a window, a
//! queue or an item that today's records name. `apply` replays such records without the
//! missing window (the ticket's side of each event still applies), and then this decides,
//! once, what the change means for today's unfinished tickets:
//!
//! - a ticket tied to a window hall.toml no longer has (held, parked or sent there) goes
//!   back to its queue at its place — as if an admin had force-closed the window;
//! - a ticket waiting in a queue hall.toml no longer has moves to the queue of its items
//!   (`window_admin::home_queue`), keeping its place and number;
//! - a removed item alone changes nothing: its tickets still wait in their queue, which
//!   calls them like any other (their expected minutes fall back to the default).
//!
//! Where no queue of the new hall.toml can serve a ticket (its queue and its items are all
//! gone, or a later step of its bundle waits in a removed queue), the start is refused
//! with the key to restore, rather than leave the ticket stranded for the rest of the day.
//! Like every change, the returns are events in the log: a later start replays them.

use super::command::Rejection;
use super::event::Event;
use super::hall::HallState;
use super::model::{Ticket, TicketStatus};
use super::window_admin::home_queue;

/// The returns today's unfinished tickets need under the state's hall.toml, or why the
/// start must be refused.
pub fn decide(state: &HallState) -> Result<Vec<Event>, Rejection> {
    let mut events = Vec::new();
    // In issue order, so that the log reads like the hall's day.
    let mut open: Vec<&Ticket> = state.tickets.values().filter(|t| !t.status.is_final()).collect();
    open.sort_by_key(|t| t.issue_seq);
    for t in open {
        refuse_lost_steps(state, t)?;
        let tied = match t.status {
            TicketStatus::Called | TicketStatus::Serving | TicketStatus::Parked => t.window,
            TicketStatus::Waiting => t.target_window,
            TicketStatus::Done | TicketStatus::NoShow | TicketStatus::Cancelled | TicketStatus::Expired => None,
        };
        let lost_window = tied.filter(|w| state.window(w).is_none());
        let queue_gone = state.setup.queue(&t.queue).is_none();
        // A ticket at a window that is still there stays with its clerk, whatever its
        // queue: they finish it, or transfer it.
        let at_window = t.status != TicketStatus::Waiting && lost_window.is_none();
        if (lost_window.is_none() && !queue_gone) || at_window {
            continue;
        }
        let queue = home_queue(&state.setup, t).ok_or_else(|| {
            Rejection::ConfigRemoved(format!(
                "hall.toml no longer has queue {q} ([[queue]] id = \"{q}\"), and none of its items, but today's \
                 ticket {n} waits in it; put the queue back until the day is over, or add the ticket's items to \
                 another queue",
                q = t.queue,
                n = t.number,
            ))
        })?;
        events.push(Event::TicketReturned { id: t.id, window: lost_window, queue });
    }
    Ok(events)
}

/// Refuses when a later step of `t`'s bundle waits in a queue hall.toml no longer has:
/// finishing the current step would strand the ticket there.
fn refuse_lost_steps(state: &HallState, t: &Ticket) -> Result<(), Rejection> {
    let later = t.steps.iter().skip(t.step + 1);
    match later.map(|s| s.queue).find(|q| state.setup.queue(q).is_none()) {
        Some(q) => Err(Rejection::ConfigRemoved(format!(
            "hall.toml no longer has queue {q} ([[queue]] id = \"{q}\"), but a later step of today's bundle \
             ticket {n} waits in it; put the queue back until the day is over",
            n = t.number,
        ))),
        None => Ok(()),
    }
}
