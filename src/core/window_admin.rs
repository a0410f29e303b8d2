//! An admin's changes to windows without editing hall.toml: the queues a window serves
//! (an override that holds until set again, across days and restarts) and closing a window
//! its clerk left open. Both are events naming the admin, so they are audited.
//!
//! A window's queues live in its state (`Window::queues`), which dispatch already reads;
//! what the estimates derive from them (`serving`, `competing`) is derived again here, in
//! hall.toml's window order, so that a window set back to its configured queues leaves the
//! state exactly as `HallState::new` makes it.

use std::collections::BTreeMap;

use super::command::Rejection;
use super::event::Event;
use super::hall::HallState;
use super::model::{QueueId, UserName, WindowId, WindowState};

/// The events of setting `window`'s queues to `queues` (in the order given, each once):
/// none when it already serves exactly those.
pub fn set_queues(
    state: &HallState,
    window: &WindowId,
    queues: &[QueueId],
    by: &UserName,
) -> Result<Vec<Event>, Rejection> {
    let w = state.window(window).ok_or_else(|| Rejection::UnknownWindow(window.to_string()))?;
    let hall_queues = state.setup.queues.len();
    let mut seen = Vec::with_capacity(queues.len());
    for q in queues {
        if state.setup.queue(q).is_none() {
            return Err(Rejection::UnknownQueue(q.to_string()));
        }
        if seen.contains(q) {
            return Err(Rejection::BadWindowQueues(hall_queues));
        }
        seen.push(*q);
    }
    if seen.is_empty() {
        return Err(Rejection::BadWindowQueues(hall_queues));
    }
    if w.queues == seen {
        return Ok(Vec::new());
    }
    Ok(vec![Event::WindowQueuesSet { window: *window, queues: seen, by: by.clone() }])
}

/// The events of an admin closing `window`: none when it is closed already; refused while
/// it holds a ticket or has tickets parked (a visitor is being served or will come back).
pub fn force_close(state: &HallState, window: &WindowId, by: &UserName) -> Result<Vec<Event>, Rejection> {
    let w = state.window(window).ok_or_else(|| Rejection::UnknownWindow(window.to_string()))?;
    if w.state == WindowState::Closed {
        return Ok(Vec::new());
    }
    if w.ticket.is_some() {
        return Err(Rejection::WindowBusy(window.to_string()));
    }
    if !w.parked.is_empty() {
        return Err(Rejection::ParkedTickets(window.to_string()));
    }
    Ok(vec![Event::WindowForceClosed { window: *window, by: by.clone() }])
}

impl HallState {
    /// Sets `window`'s queues and derives again what the estimates read from them.
    pub fn set_window_queues(&mut self, window: &WindowId, queues: &[QueueId]) {
        let w = self.windows.get_mut(window).expect("window of an event exists in the config");
        w.queues = queues.to_vec();
        self.serving = self
            .setup
            .queues
            .iter()
            .map(|q| (q.id, self.windows.values().map(|w| w.queues.contains(&q.id)).collect()))
            .collect();
        let mut competing = BTreeMap::new();
        for queue in &self.setup.queues {
            let mut out: Vec<QueueId> = vec![queue.id];
            let serving_it = self
                .setup
                .windows
                .iter()
                .filter_map(|d| self.windows.get(&d.id))
                .filter(|w| w.queues.contains(&queue.id));
            for w in serving_it {
                for q in &w.queues {
                    if !out.contains(q) {
                        out.push(*q);
                    }
                }
            }
            competing.insert(queue.id, out);
        }
        self.competing = competing;
    }

    /// Windows whose queues differ from hall.toml's, for the day's snapshot.
    pub fn window_queue_overrides(&self) -> BTreeMap<WindowId, Vec<QueueId>> {
        self.setup
            .windows
            .iter()
            .filter_map(|d| self.windows.get(&d.id).filter(|w| w.queues != d.queues).map(|w| (d.id, w.queues.clone())))
            .collect()
    }
}
