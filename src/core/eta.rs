//! A waiting ticket's position and expected wait (first estimate).
//!
//! `ahead` counts the waiting tickets that dispatch would call before this one at the
//! windows that serve its queue: those ranking before it in its own queue and in every
//! queue sharing a window with it. The expected wait spreads their typical counter time
//! over the windows open for its queue.

use super::hall::HallState;
use super::model::{Ticket, TicketStatus, WindowState};

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
    let serving: Vec<_> = state.windows.values().filter(|w| w.queues.contains(&t.queue)).collect();
    let open = serving.iter().filter(|w| w.state != WindowState::Closed).count();
    let windows = if t.target_window.is_some() { 1 } else { open.max(1) };
    let minutes_each = state.minutes_by_queue.get(&t.queue).copied().unwrap_or(10);
    let ahead_u32 = u32::try_from(ahead).unwrap_or(u32::MAX);
    let windows_u32 = u32::try_from(windows).unwrap_or(1);
    let minutes = ahead_u32.saturating_mul(minutes_each).div_ceil(windows_u32);
    Some(Eta { ahead, minutes })
}
