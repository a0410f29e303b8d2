//! A waiting ticket's place in line and expected wait, read off the forecast
//! (`forecast.rs`: the hall's own dispatch run forward over the current state).
//!
//! `ahead` is the number of calls the open windows make before this ticket's if nobody
//! else arrives; the expected wait is when the run calls it, from now (the last record's
//! time: the core reads no clock), rounded up to the minute. A ticket that no open window
//! may call gets no wait (`minutes: None`): the pages say 暂无窗口办理 instead of a figure
//! that would only grow. Every answer in one state comes from one run: the kiosk's, the
//! ticket's, the status page's and the queues' counts on the lobby and the supervisor's
//! page all agree.
//!
//! A line longer than `FORECAST_WAITING_MAX` is not run forward (the run is linear in the
//! line, and the answers must not slow issuing down): its answers are `estimate.rs`'s
//! counts and estimate, from what the state keeps up to date.
//!
//! The range told with the wait (`range`) is wider for longer waits, since the run's
//! service times are today's averages and the error grows with the tickets ahead; the
//! simulator measures how often the real wait falls inside it (BENCHMARKS.md).

use super::estimate;
use super::forecast::{Spot, FORECAST_WAITING_MAX};
use super::hall::HallState;
use super::model::{Promise, QueueId, Ticket, TicketStatus, Ts};

pub use super::forecast::RESIDUAL_MIN_SHARE;

/// Position and expected wait of one ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Eta {
    pub ahead: usize,
    /// `None` when no open window may call it, or (`booked_only`) nobody may take it.
    pub minutes: Option<u32>,
    /// A queue's answer for the appointment queue, which takes no walk-in: a ticket there
    /// comes only from a booking's check-in, so there is no wait to tell anyone taking one.
    pub booked_only: bool,
}

impl Eta {
    fn of(spot: Spot, now: Ts) -> Self {
        let minutes = spot.call_at.map(|at| round_up(at.since_ms(now) as f64 / 60_000.0));
        Self { ahead: spot.ahead, minutes, booked_only: false }
    }

    /// Why there is no expected wait, for the wire: the queue takes no walk-in
    /// ([`BOOKED_ONLY`]), or no open window may call the ticket ([`NO_OPEN_WINDOW`]).
    pub fn reason(&self) -> Option<&'static str> {
        if self.booked_only {
            return Some(BOOKED_ONLY);
        }
        self.minutes.is_none().then_some(NO_OPEN_WINDOW)
    }

    /// The range told with the wait, `(low, high)` minutes.
    pub fn range(&self) -> Option<(u32, u32)> {
        self.minutes.map(range)
    }
}

/// The range of minutes told with an expected wait of `minutes`: a quarter below and a
/// third above, at least two minutes below and three above (the tail is longer above:
/// a wait can run long, never below zero).
pub fn range(minutes: u32) -> (u32, u32) {
    let low = minutes.saturating_sub((minutes / 4).max(2));
    let high = minutes + minutes.div_ceil(3).max(3);
    (low, high)
}

/// The wire's reason for a wait with no figure.
pub const NO_OPEN_WINDOW: &str = "no_open_window";
/// The wire's reason for a queue's wait with no figure: it takes no walk-in.
pub const BOOKED_ONLY: &str = "booked_only";

/// `None` unless the ticket is waiting.
pub fn eta(state: &HallState, t: &Ticket) -> Option<Eta> {
    if t.status != TicketStatus::Waiting {
        return None;
    }
    // Just issued and nothing since: what the kiosk was told, without another run.
    if let Some(p) = t.promise.filter(|_| state.last_seq == t.issue_seq) {
        return Some(Eta { ahead: p.ahead as usize, minutes: Some(p.minutes), booked_only: false });
    }
    if state.index.len() > FORECAST_WAITING_MAX {
        return Some(estimate::ticket(state, t));
    }
    let forecast = state.forecast();
    // A remote ticket not checked in is not in line yet: it is told what a ticket taken
    // now would be (it keeps its earlier place at check-in, so this errs long).
    let spot = forecast.ticket(&t.id).unwrap_or_else(|| forecast.queue(&t.queue));
    Some(Eta::of(spot, forecast.now))
}

/// What a ticket taken now in `queue` (with no priority class) would be told; nothing for
/// the appointment queue, where nobody may take one.
pub fn for_queue(state: &HallState, queue: &QueueId) -> Eta {
    if !state.setup.takes_walk_ins(queue) {
        return Eta { ahead: state.waiting(queue), minutes: None, booked_only: true };
    }
    if state.index.len() > FORECAST_WAITING_MAX {
        return estimate::queue(state, queue);
    }
    let forecast = state.forecast();
    Eta::of(forecast.queue(queue), forecast.now)
}

/// The promise kept with a ticket at its issue, from its spot in the run.
pub fn promise(spot: Spot, now: Ts) -> Option<Promise> {
    let eta = Eta::of(spot, now);
    let minutes = eta.minutes?;
    let (low, high) = range(minutes);
    Some(Promise { ahead: u32::try_from(eta.ahead).unwrap_or(u32::MAX), minutes, low, high })
}

/// Float sums of whole minutes may come out a hair above the whole number; that must not
/// add a minute.
const ROUNDING_SLACK_MIN: f64 = 1e-6;

fn round_up(minutes: f64) -> u32 {
    // Saturating float-to-int conversion; estimates are far below u32::MAX minutes.
    (minutes - ROUNDING_SLACK_MIN).ceil().max(0.0) as u32
}
