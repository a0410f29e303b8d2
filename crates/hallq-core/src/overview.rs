//! What a supervisor sees at a glance: every queue with its waiting count, oldest wait and
//! expected wait; every window with its state, since when, its clerk and its ticket's
//! number; today's active alerts. Read from the state at `now`, changing nothing.

use chrono::NaiveDate;

use super::alerts::{oldest_wait_min, waiting_for, Alert, QueueThresholds};
use super::eta::for_queue;
use super::hall::HallState;
use super::model::{QueueId, TicketNo, Ts, Window};

#[derive(Clone, Debug)]
pub struct QueueRow {
    pub id: QueueId,
    pub name: String,
    pub waiting: usize,
    /// Minutes the oldest ticket in the queue's line has waited (0 when none waits).
    pub oldest_wait_min: u32,
    /// The expected wait of a ticket taken now; none when no open window serves the queue
    /// or the queue takes no walk-in (`eta_reason` says which).
    pub eta_minutes: Option<u32>,
    pub eta_reason: Option<&'static str>,
    pub thresholds: QueueThresholds,
}

#[derive(Clone, Debug)]
pub struct WindowRow {
    pub window: Window,
    /// Since when the window is in its state; none while closed.
    pub since: Option<Ts>,
    /// The number of the ticket it holds.
    pub number: Option<TicketNo>,
    /// Tickets waiting that it could call.
    pub waiting: usize,
}

#[derive(Clone, Debug)]
pub struct Overview {
    pub day: Option<NaiveDate>,
    pub at: Ts,
    pub queues: Vec<QueueRow>,
    pub windows: Vec<WindowRow>,
    /// Today's alerts still active, oldest first.
    pub alerts: Vec<Alert>,
    pub paused_min: u32,
    pub idle_min: u32,
}

pub fn overview(state: &HallState, now: Ts) -> Overview {
    let policy = &state.setup.alerts;
    let queues = state
        .setup
        .queues
        .iter()
        .map(|q| {
            let eta = for_queue(state, &q.id);
            QueueRow {
                id: q.id,
                name: q.name.clone(),
                waiting: state.waiting(&q.id),
                oldest_wait_min: oldest_wait_min(state, &q.id, now),
                eta_minutes: eta.minutes,
                eta_reason: eta.reason(),
                thresholds: policy.queue(&q.id),
            }
        })
        .collect();
    // In the configuration's order (window 2 before window 10), as the hall lists them.
    let windows = state
        .setup
        .windows
        .iter()
        .filter_map(|d| state.window(&d.id))
        .map(|w| WindowRow {
            window: w.clone(),
            since: state.alerts.since.get(&w.id).filter(|(s, _)| *s == w.state).map(|(_, t)| *t),
            number: w.ticket.as_ref().and_then(|t| state.ticket(t)).map(|t| t.number.clone()),
            waiting: waiting_for(state, w),
        })
        .collect();
    let alerts = state.alerts.of_day(state.day).iter().filter(|a| a.is_active()).cloned().collect();
    Overview {
        day: state.day,
        at: now,
        queues,
        windows,
        alerts,
        paused_min: policy.paused_min,
        idle_min: policy.idle_min,
    }
}
