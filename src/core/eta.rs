//! A waiting ticket's position and expected wait (first estimate).
//!
//! `ahead` counts the waiting tickets that dispatch would call before this one: those
//! ranking before it in its own queue and in every queue that shares a window with it
//! (the pooled line of no-difference full-service).
//!
//! The expected wait is the counter time of that work ahead, shared over the windows open
//! for the ticket's queue. Tickets of another queue count only for the part of that queue
//! that this queue's windows will take: a queue served by eleven windows, one of which also
//! serves this queue, adds a eleventh of its line here. The dispatch issue brings a
//! measured estimate (v2).

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
    if let Some(w) = &t.target_window {
        // Sent to one window by name: only the tickets sent there before it are ahead.
        let ahead = state.index.ahead_at_window(w, t.issue_seq);
        let minutes = work_minutes(state, &t.queue, ahead as f64);
        return Some(Eta { ahead, minutes: round_up(minutes) });
    }
    let place = (state.setup.priority_rank(t.priority.as_ref()), t.issue_seq);
    Some(estimate(state, &t.queue, |q| state.index.ahead_in_queue(q, place)))
}

/// What a ticket taken now in `queue` (with no priority class) would be told.
pub fn for_queue(state: &HallState, queue: &QueueId) -> Eta {
    estimate(state, queue, |q| state.index.queue_len(q))
}

/// Sums `before(q)` over the queues competing with `queue`, and their work shared over
/// `queue`'s open windows.
fn estimate(state: &HallState, queue: &QueueId, before: impl Fn(&QueueId) -> usize) -> Eta {
    let mut ahead = 0;
    let mut work = 0.0;
    for q in state.setup.competing_queues(queue) {
        let n = before(&q);
        ahead += n;
        work += share(state, &q, queue) * work_minutes(state, &q, n as f64);
    }
    let open = open_windows(state, queue) as f64;
    Eta { ahead, minutes: round_up(work / open) }
}

/// The part of `other`'s line that the windows serving `queue` take: windows serving both
/// over windows serving `other`.
fn share(state: &HallState, other: &QueueId, queue: &QueueId) -> f64 {
    let serving_other = state.windows.values().filter(|w| w.queues.contains(other));
    let (both, all) =
        serving_other.fold((0u32, 0u32), |(both, all), w| (both + u32::from(w.queues.contains(queue)), all + 1));
    if all == 0 {
        0.0
    } else {
        f64::from(both) / f64::from(all)
    }
}

/// Counter minutes of `n` typical tickets of `queue`.
fn work_minutes(state: &HallState, queue: &QueueId, n: f64) -> f64 {
    n * f64::from(state.minutes_by_queue.get(queue).copied().unwrap_or(10))
}

/// Windows not closed that serve `queue`, at least one (a closed hall still gives an
/// estimate as if one window were open).
fn open_windows(state: &HallState, queue: &QueueId) -> usize {
    let open = state.windows.values().filter(|w| w.queues.contains(queue) && w.state != WindowState::Closed).count();
    open.max(1)
}

fn round_up(minutes: f64) -> u32 {
    // Saturating float-to-int conversion; estimates are far below u32::MAX minutes.
    minutes.ceil() as u32
}
