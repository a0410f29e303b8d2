//! A waiting ticket's position and expected wait (first estimate).
//!
//! `ahead` counts the waiting tickets that dispatch would call before this one at the
//! windows that serve its queue: those ranking before it in its own queue and in every
//! queue sharing a window with it. The expected wait spreads their typical counter time
//! over the windows open for its queue.

use super::hall::HallState;
use super::model::{QueueId, Ticket, TicketStatus, WindowState};

/// Position and expected wait of one ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Eta {
    pub ahead: usize,
    pub minutes: u32,
}

/// `None` unless the ticket is waiting.
pub fn eta(state: &HallState, t: &Ticket) -> Option<Eta> {
    if t.status != TicketStatus::Waiting {
        return None;
    }
    let setup = &state.setup;
    let ahead = match &t.target_window {
        Some(w) => state.index.ahead_at_window(w, t.issue_seq),
        None => {
            let place = (setup.priority_rank(t.priority.as_ref()), t.issue_seq);
            setup.competing_queues(&t.queue).iter().map(|q| state.index.ahead_in_queue(q, place)).sum()
        }
    };
    let windows = if t.target_window.is_some() { 1 } else { open_windows(state, &t.queue) };
    Some(Eta { ahead, minutes: minutes(state, &t.queue, ahead, windows) })
}

/// What a ticket taken now in `queue` would be told: every waiting ticket in the queues
/// that share its windows is ahead of it (a new ticket of no priority class is last).
pub fn for_queue(state: &HallState, queue: &QueueId) -> Eta {
    let ahead = state.setup.competing_queues(queue).iter().map(|q| state.index.queue_len(q)).sum();
    Eta { ahead, minutes: minutes(state, queue, ahead, open_windows(state, queue)) }
}

/// Windows not closed that serve `queue`, at least one (a closed hall still gives an
/// estimate as if one window were open).
fn open_windows(state: &HallState, queue: &QueueId) -> usize {
    let open = state.windows.values().filter(|w| w.queues.contains(queue) && w.state != WindowState::Closed).count();
    open.max(1)
}

fn minutes(state: &HallState, queue: &QueueId, ahead: usize, windows: usize) -> u32 {
    let minutes_each = state.minutes_by_queue.get(queue).copied().unwrap_or(10);
    let ahead = u32::try_from(ahead).unwrap_or(u32::MAX);
    let windows = u32::try_from(windows).unwrap_or(1);
    ahead.saturating_mul(minutes_each).div_ceil(windows)
}
