//! The place and expected wait of a ticket in a line too long to run forward
//! (`forecast::FORECAST_WAITING_MAX`): counted and estimated from what the state keeps up
//! to date, in a time that does not grow with the line.
//!
//! The forecast (`forecast.rs`) runs the hall's dispatch over every waiting ticket; that
//! is exact, and linear in the line. A real hall's peak is a few hundred waiting, far
//! below the bound; a hall past it (a line left from a fault, a load test) must still
//! issue at full speed, so its answers come from here instead:
//!
//! - `ahead` counts the waiting tickets that rank before this one in its own queue and in
//!   every queue that shares a window with it (`Setup`'s competing queues; the index
//!   counts from the nearer end of each line, so a ticket just issued costs nothing);
//! - the expected wait is when a window serving the queue is first free for it: the
//!   expected minutes of the tickets ahead at today's pace (`ServiceTimes::factor`; a
//!   line's count and sum of minutes are kept, the ones ahead of a ticket in the middle
//!   count at the line's mean), the other queues' share taken by the windows serving both,
//!   spread over the windows open now from what each still has to do (`first_free`).
//!
//! As in the forecast, a ticket no open window may call has no wait (`minutes: None`).

use super::dispatch::Place;
use super::eta::Eta;
use super::forecast::{free_at, serves_now};
use super::hall::HallState;
use super::model::{QueueId, Ticket, Window};

/// A waiting ticket's estimate.
pub fn ticket(state: &HallState, t: &Ticket) -> Eta {
    let own = t.minutes;
    if let Some(w) = &t.target_window {
        // Sent to one window by name: only the tickets sent there before it are ahead,
        // and that window takes them before anything else.
        let ahead = state.index.ahead_at_window(w, t.issue_seq);
        let Some(window) = state.windows.get(w).filter(|w| serves_now(w)) else {
            return Eta { ahead, minutes: None, booked_only: false };
        };
        let per = mean_minutes(state.service_times.sent_to(w), Some(own), typical(state, &t.queue));
        let work = ahead as f64 * per * state.service_times.factor(&t.queue);
        return Eta { ahead, minutes: Some(round_up(residual(state, window) + work)), booked_only: false };
    }
    let place: Place = (state.setup.priority_rank(t.priority.as_ref()), t.issue_seq);
    estimate(state, &t.queue, |q| state.index.ahead_in_queue(q, place), Some(own))
}

/// What a ticket taken now in `queue` (with no priority class) would be told.
pub fn queue(state: &HallState, queue: &QueueId) -> Eta {
    estimate(state, queue, |q| state.index.queue_len(q), None)
}

/// Sums `before(q)` over the queues competing with `queue`, their work shared over
/// `queue`'s windows open now, and when one of those windows is free after that work.
/// `own` is the expected minutes of the ticket asked about, if it waits in `queue`.
fn estimate(state: &HallState, queue: &QueueId, before: impl Fn(&QueueId) -> usize, own: Option<u32>) -> Eta {
    let no_mask = Vec::new();
    let mask = state.serving.get(queue).unwrap_or(&no_mask);
    let open: Vec<&Window> =
        state.windows.values().zip(mask).filter(|(w, s)| **s && serves_now(w)).map(|(w, _)| w).collect();
    let mut ahead = 0;
    let (mut work, mut tickets) = (0.0, 0.0);
    let competing = state.competing.get(queue).map_or(&[][..], Vec::as_slice);
    for q in competing {
        let n = before(q);
        ahead += n;
        if n == 0 || open.is_empty() {
            continue;
        }
        let share = share(state, q, queue);
        let line = state.service_times.line(q);
        let per = mean_minutes(line, if q == queue { own } else { None }, typical(state, q));
        work += share * n as f64 * per * state.service_times.factor(q);
        tickets += share * n as f64;
    }
    if open.is_empty() {
        return Eta { ahead, minutes: None, booked_only: false };
    }
    let free_at: Vec<f64> = open.iter().map(|w| residual(state, w)).collect();
    Eta { ahead, minutes: Some(round_up(first_free(free_at, work, tickets))), booked_only: false }
}

/// The part of `other`'s line that the open windows serving `queue` take: open windows
/// serving both over open windows serving `other`.
fn share(state: &HallState, other: &QueueId, queue: &QueueId) -> f64 {
    let (Some(serves_other), Some(serves_queue)) = (state.serving.get(other), state.serving.get(queue)) else {
        return 0.0;
    };
    let windows = state.windows.values().zip(serves_other.iter().zip(serves_queue));
    let (both, all) = windows
        .filter(|(w, (o, _))| **o && serves_now(w))
        .fold((0u32, 0u32), |(both, all), (_, (_, q))| (both + u32::from(*q), all + 1));
    if all == 0 {
        0.0
    } else {
        f64::from(both) / f64::from(all)
    }
}

/// Mean expected minutes of the tickets in `line`, leaving out `own` (the ticket asked
/// about, which is in the line); `fallback` when no other ticket is there.
fn mean_minutes(line: super::service_times::Line, own: Option<u32>, fallback: f64) -> f64 {
    let (count, minutes) = match own {
        Some(m) => (line.count.saturating_sub(1), line.minutes.saturating_sub(u64::from(m))),
        None => (line.count, line.minutes),
    };
    if count == 0 {
        fallback
    } else {
        minutes as f64 / count as f64
    }
}

/// Typical minutes of a ticket of `queue`: the mean of its configured items.
fn typical(state: &HallState, queue: &QueueId) -> f64 {
    f64::from(state.minutes_by_queue.get(queue).copied().unwrap_or(super::service_times::UNKNOWN_TICKET_MINUTES))
}

/// Minutes until window `w` has done with what it holds, as the forecast reckons it.
fn residual(state: &HallState, w: &Window) -> f64 {
    free_at(state, w).since_ms(state.last_at) as f64 / 60_000.0
}

/// When the first window is free for a ticket behind `work` minutes of `tickets` tickets,
/// with each window free after `free_at` minutes. The first tickets, up to one per
/// window, go one by one to the window free first; the rest are shared as a fluid, less
/// the half ticket that the other windows are on average still on when one frees.
///
/// The one-by-one part needs no heap: the windows are sorted once, and the times at which
/// they free again after a ticket come out in order too (each ticket goes to the soonest
/// window, so the soonest never goes back), so the next window is the sooner of the two
/// lines' heads.
fn first_free(mut free_at: Vec<f64>, work: f64, tickets: f64) -> f64 {
    free_at.sort_unstable_by(f64::total_cmp);
    let soonest = free_at.first().copied().unwrap_or(0.0);
    if tickets <= 0.0 || work <= 0.0 {
        return soonest;
    }
    let per = work / tickets;
    let c = free_at.len();
    let one_by_one = (tickets.floor() as usize).min(c);
    let mut again: Vec<f64> = Vec::with_capacity(one_by_one);
    let (mut first, mut head) = (0, 0);
    for _ in 0..one_by_one {
        let take_first = match (free_at.get(first), again.get(head)) {
            (Some(f), Some(a)) => f <= a,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let t = if take_first {
            first += 1;
            free_at[first - 1]
        } else {
            head += 1;
            again[head - 1]
        };
        again.push(t + per);
    }
    let next = match (free_at.get(first), again.get(head)) {
        (Some(f), Some(a)) => f.min(*a),
        (Some(f), None) => *f,
        (None, Some(a)) => *a,
        (None, None) => 0.0,
    };
    let rest = tickets - one_by_one as f64;
    if rest <= 0.0 {
        return next;
    }
    let c = c as f64;
    let busy = free_at.iter().sum::<f64>() + one_by_one as f64 * per;
    let fluid = (busy + rest * per) / c - (c - 1.0) / (2.0 * c) * per;
    fluid.max(next)
}

/// Float sums of whole minutes may come out a hair above the whole number; that must not
/// add a minute.
const ROUNDING_SLACK_MIN: f64 = 1e-6;

fn round_up(minutes: f64) -> u32 {
    // Saturating float-to-int conversion; estimates are far below u32::MAX minutes.
    (minutes - ROUNDING_SLACK_MIN).ceil().max(0.0) as u32
}
#[cfg(test)]
mod tests {
    use super::first_free;
    use proptest::prelude::*;

    /// The plain reading of `first_free`'s rule: each of the first tickets goes to the
    /// window free soonest, found by a scan.
    fn by_scan(mut free_at: Vec<f64>, work: f64, tickets: f64) -> f64 {
        let soonest = |f: &[f64]| f.iter().copied().fold(f64::INFINITY, f64::min);
        if free_at.is_empty() {
            free_at.push(0.0);
        }
        if tickets <= 0.0 || work <= 0.0 {
            return soonest(&free_at);
        }
        let per = work / tickets;
        let c = free_at.len();
        let one_by_one = (tickets.floor() as usize).min(c);
        for _ in 0..one_by_one {
            let i = (0..c).min_by(|&a, &b| free_at[a].total_cmp(&free_at[b])).unwrap_or(0);
            free_at[i] += per;
        }
        let rest = tickets - one_by_one as f64;
        if rest <= 0.0 {
            return soonest(&free_at);
        }
        let c = c as f64;
        let fluid = (free_at.iter().sum::<f64>() + rest * per) / c - (c - 1.0) / (2.0 * c) * per;
        fluid.max(soonest(&free_at))
    }

    #[test]
    fn idle_windows_take_the_first_tickets() {
        // Three idle windows, two tickets of 10 minutes ahead: a window is still free.
        assert_eq!(first_free(vec![0.0, 0.0, 0.0], 20.0, 2.0), 0.0);
        // One window, busy 5 more minutes, two tickets of 10 ahead: 5 + 10 + 10 minus the
        // fluid's half ticket of the other windows (none).
        assert_eq!(first_free(vec![5.0], 20.0, 2.0), 25.0);
        // Two windows free at 4 and 6, one ticket of 10 ahead: it goes to the first, the
        // second is then free first.
        assert_eq!(first_free(vec![6.0, 4.0], 10.0, 1.0), 6.0);
    }

    proptest! {
        #[test]
        fn sorted_lines_agree_with_a_scan(
            free_at in proptest::collection::vec(0u32..600, 1..40),
            work in 0u32..5000,
            tickets in 0u32..200,
        ) {
            let free_at: Vec<f64> = free_at.into_iter().map(|m| f64::from(m) / 4.0).collect();
            let (work, tickets) = (f64::from(work) / 2.0, f64::from(tickets));
            let fast = first_free(free_at.clone(), work, tickets);
            let slow = by_scan(free_at, work, tickets);
            prop_assert!((fast - slow).abs() < 1e-6, "fast {fast} slow {slow}");
        }
    }
}
