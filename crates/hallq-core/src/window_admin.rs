//! An admin's changes to windows without editing hall.toml: the queues a window serves
//! (an override that holds until set again, across days and restarts) and closing a window
//! its clerk left open (or a disabled clerk's). Both are events naming the admin, so they
//! are audited. Closing a window unties what is tied to it: its ticket, its parked tickets
//! and those sent to it by name go back to their queues at their places (`untie`), so no
//! ticket waits all day for a window that is not coming back.
//!
//! A window's queues live in its state (`Window::queues`), which dispatch already reads;
//! what the estimates derive from them (`serving`, `competing`) is derived again here, in
//! hall.toml's window order, so that a window set back to its configured queues leaves the
//! state exactly as `HallState::new` makes it.

use std::collections::BTreeMap;

use super::command::Rejection;
use super::event::Event;
use super::hall::HallState;
use super::model::{QueueId, Ticket, TicketId, UserName, Window, WindowId, WindowState};
use super::setup::Setup;

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

/// The events of an admin closing `window`, whatever it holds: its ticket, the tickets
/// parked there and those sent to it by name go back to their queues at their places, then
/// the window closes. A closed window with tickets still sent to it (an appointment for a
/// window that did not open) only returns them; with none, nothing happens.
pub fn force_close(state: &HallState, window: &WindowId, by: &UserName) -> Result<Vec<Event>, Rejection> {
    let w = state.window(window).ok_or_else(|| Rejection::UnknownWindow(window.to_string()))?;
    let mut events = untie(state, w, true);
    if w.state != WindowState::Closed {
        events.push(Event::WindowForceClosed { window: *window, by: by.clone() });
    }
    Ok(events)
}

/// The events of disabling `name` beyond the disable itself: every window the user is
/// signed in at is force-closed by `by`, so that nothing stays tied to a clerk who can no
/// longer sign in.
pub fn close_windows_of(state: &HallState, name: &UserName, by: &UserName) -> Vec<Event> {
    let mut events = Vec::new();
    for w in state.windows.values().filter(|w| w.clerk.as_ref() == Some(name)) {
        events.extend(untie(state, w, true));
        events.push(Event::WindowForceClosed { window: w.id, by: by.clone() });
    }
    events
}

/// The returns of the tickets tied to `w`: those sent to it by name, and with `held` also
/// its current ticket and the tickets parked there (a clerk's own close is refused while
/// it has those instead). Each goes back to its queue (`home_queue`) at its place.
pub fn untie(state: &HallState, w: &Window, held: bool) -> Vec<Event> {
    let mut ids: Vec<TicketId> = Vec::new();
    if held {
        ids.extend(w.ticket);
        ids.extend(w.parked.iter().copied());
    }
    ids.extend(state.index.sent_to(&w.id));
    ids.iter()
        .filter_map(|id| state.ticket(id))
        .map(|t| Event::TicketReturned {
            id: t.id,
            window: Some(w.id),
            queue: home_queue(&state.setup, t).unwrap_or(t.queue),
        })
        .collect()
}

/// The queue ticket `t` waits in when it goes back in line: its own, or, when hall.toml
/// no longer has that, the queue of the first of its current items hall.toml still has.
pub fn home_queue(setup: &Setup, t: &Ticket) -> Option<QueueId> {
    if setup.queue(&t.queue).is_some() {
        return Some(t.queue);
    }
    let services = t.steps.get(t.step).map_or(&t.services, |s| &s.services);
    services.iter().filter_map(|c| setup.item(c.as_str())).map(|i| i.queue).find(|q| setup.queue(q).is_some())
}

impl HallState {
    /// Sets `window`'s queues and derives again what the estimates read from them.
    /// A window or queue hall.toml no longer has (removed since the change was logged)
    /// is left out; a window left with none of its set queues serves hall.toml's.
    pub fn set_window_queues(&mut self, window: &WindowId, queues: &[QueueId]) {
        let known: Vec<QueueId> = queues.iter().filter(|q| self.setup.queue(q).is_some()).copied().collect();
        let configured = self.setup.window(window).map(|d| d.queues.clone()).unwrap_or_default();
        let Some(w) = self.windows.get_mut(window) else { return };
        w.queues = if known.is_empty() { configured } else { known };
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
