//! A ticket's moves in `HallState::apply`: called, recalled, served, finished, missed,
//! parked, transferred, returned, rejoined and on to a bundle's next step, each with the
//! window it leaves or takes and the day's figures it adds to.

use super::{owed_after, HallState};
use crate::model::{
    AtCounter, CallRule, Outcome, QueueId, StepTimes, Ticket, TicketId, TicketStatus, TransferTarget, Ts, UserName,
    Window, WindowId, WindowState,
};
use crate::transitions::{next_status, TicketAction};

impl HallState {
    pub(super) fn call(&mut self, at: Ts, window: &WindowId, id: &TicketId, rule: &CallRule) {
        // Borrowed, not cloned: a call is the commonest change, and a ticket is many strings.
        let ticket = self.tickets.get(id).expect("called ticket exists");
        let unpark = *rule == CallRule::Unparked;
        if !unpark {
            self.index.remove(&self.setup, ticket);
        }
        let at_counter = AtCounter { minutes: ticket.minutes, queue: ticket.queue, serving_since: None };
        let ordinary = ticket.priority.is_none();
        if let Some(w) = self.window_mut(window) {
            assert!(w.ticket.is_none(), "window {window} called a second ticket");
            if unpark {
                let before = w.parked.len();
                w.parked.retain(|p| p != id);
                assert!(w.parked.len() < before, "window {window} resumed a ticket it had not parked");
            }
            w.ticket = Some(*id);
            w.state = WindowState::Calling;
            w.at_counter = Some(at_counter);
            w.ordinary_owed = owed_after(w.ordinary_owed, rule, ordinary);
        }
        let t = self.move_ticket(id, if unpark { TicketAction::Unpark } else { TicketAction::Call });
        t.window = Some(*window);
        t.target_window = None;
        t.recent_call = None;
        // A clerk called it (by number, before its check-in): from here on it is in the
        // hall's hands, so a rejoin after a no-show puts it back in line like any other.
        t.checked_in = true;
        t.calls += 1;
        t.recalls = 0;
        t.called_at = Some(at);
        t.call_rule = Some(rule.clone());
        if unpark {
            return;
        }
        // Wait is counted once per line the ticket waits in: from issue to its first call,
        // and for each later bundle step from the step's start to the step's first call.
        let (first_call, wait_ms) = match t.step_times.get_mut(t.step) {
            Some(times) if t.step > 0 => {
                let first = times.first_called_at.is_none();
                (first, at.since_ms(times.queued_at))
            }
            _ => (t.first_called_at.is_none(), at.since_ms(t.issued_at)),
        };
        if let Some(times) = t.step_times.get_mut(t.step) {
            times.first_called_at.get_or_insert(at);
            times.window = Some(*window);
        }
        // The promise was of the first call of the first step.
        let promised = t.promise.filter(|_| t.first_called_at.is_none());
        t.first_called_at.get_or_insert(at);
        let queue = t.queue;
        self.day_stats().record(&queue, Some(window), |f| {
            f.called += 1;
            if first_call {
                f.wait.add(wait_ms);
            }
            if let Some(p) = promised {
                f.eta.add(p.minutes, p.low, p.high, wait_ms);
            }
        });
    }

    pub(super) fn recalled(&mut self, at: Ts, window: &WindowId, id: &TicketId) {
        let t = self.move_ticket(id, TicketAction::Recall);
        assert_eq!(t.window.as_ref(), Some(window), "recall at another window");
        t.calls += 1;
        t.recalls += 1;
        t.called_at = Some(at);
    }

    pub(super) fn serving(&mut self, at: Ts, window: &WindowId, id: &TicketId) {
        let clerk = self.windows.get(window).and_then(|w| w.clerk.clone());
        let t = self.move_ticket(id, TicketAction::Serve);
        t.serving_at = Some(at);
        t.served_by = clerk;
        if let Some(times) = t.step_times.get_mut(t.step) {
            times.serving_at = Some(at);
        }
        if let Some(w) = self.window_mut(window) {
            w.state = WindowState::Serving;
            if let Some(c) = &mut w.at_counter {
                c.serving_since = Some(at);
            }
        }
    }

    /// The ticket is finished (completed or not): its service time is counted and its
    /// window is the one whose evaluator may rate it.
    pub(super) fn done(&mut self, at: Ts, window: &WindowId, id: &TicketId, outcome: Outcome) {
        let t = self.move_ticket(id, TicketAction::Finish);
        t.finished_at = Some(at);
        t.outcome = Some(outcome);
        if let Some(times) = t.step_times.get_mut(t.step) {
            times.done_at = Some(at);
        }
        let service_ms = at.since_ms(t.serving_at.unwrap_or(at));
        let queue = t.queue;
        self.release_window(window, id);
        self.ratings.last_done.insert(*window, (*id, at));
        let completed = outcome == Outcome::Completed;
        self.day_stats().record(&queue, Some(window), |f| {
            if completed {
                f.completed += 1;
            } else {
                f.incomplete += 1;
            }
            f.service.add(service_ms);
        });
    }

    pub(super) fn no_show(&mut self, at: Ts, window: &WindowId, id: &TicketId) {
        let t = self.move_ticket(id, TicketAction::NoShow);
        t.finished_at = Some(at);
        let queue = t.queue;
        self.release_window(window, id);
        self.day_stats().record(&queue, Some(window), |f| f.no_show += 1);
    }

    pub(super) fn parked(&mut self, window: &WindowId, id: &TicketId) {
        self.move_ticket(id, TicketAction::Park);
        self.release_window(window, id);
        if let Some(w) = self.window_mut(window) {
            w.parked.push(*id);
        }
        let queue = self.tickets.get(id).map(|t| t.queue).expect("parked ticket exists");
        self.day_stats().record(&queue, Some(window), |f| f.parked += 1);
    }

    /// A missed number goes to the back of its queue: its place is this record's position.
    pub(super) fn rejoin(&mut self, seq: u64, at: Ts, id: &TicketId) {
        let t = self.move_ticket(id, TicketAction::Rejoin);
        t.recent_call = t.window.take().zip(t.called_at);
        t.due = None;
        t.issue_seq = seq;
        t.queued_at = at;
        t.called_at = None;
        t.serving_at = None;
        t.finished_at = None;
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
        self.day_stats().record(&ticket.queue, None, |f| f.rejoined += 1);
    }

    /// A bundle step is done: the ticket leaves the window and waits in its next step's
    /// queue, keeping its place by issue time.
    pub(super) fn next_step(&mut self, at: Ts, window: &WindowId, id: &TicketId) {
        self.release_window(window, id);
        let setup = self.setup.clone();
        let t = self.move_ticket(id, TicketAction::NextStep);
        let service_ms = at.since_ms(t.serving_at.unwrap_or(at));
        let done_queue = t.queue;
        if let Some(times) = t.step_times.get_mut(t.step) {
            times.done_at = Some(at);
        }
        t.step += 1;
        t.due = None;
        let step = t.steps.get(t.step).expect("a next step exists");
        t.queue = step.queue;
        t.minutes = setup.expected_minutes(&step.services);
        t.window = None;
        t.target_window = None;
        t.called_at = None;
        t.serving_at = None;
        t.recalls = 0;
        t.step_times.push(StepTimes { queued_at: at, ..StepTimes::default() });
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
        self.day_stats().record(&done_queue, Some(window), |f| {
            f.steps_done += 1;
            f.service.add(service_ms);
        });
    }

    pub(super) fn transfer(&mut self, window: &WindowId, id: &TicketId, to: &TransferTarget) {
        self.release_window(window, id);
        let t = self.move_ticket(id, TicketAction::Transfer);
        t.window = None;
        t.due = None;
        t.serving_at = None;
        match to {
            TransferTarget::Queue(q) => {
                t.queue = *q;
                t.target_window = None;
            }
            TransferTarget::Window(w) => t.target_window = Some(*w),
        }
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
        self.day_stats().record(&ticket.queue, Some(window), |f| f.transferred += 1);
    }

    /// Moves a ticket along the transition table and hands it back for further changes.
    pub(super) fn move_ticket(&mut self, id: &TicketId, action: TicketAction) -> &mut Ticket {
        let t = self.tickets.get_mut(id).expect("ticket of an event exists");
        t.status = next_status(t.status, action)
            .unwrap_or_else(|| panic!("illegal {action:?} of a {} ticket", t.status.as_str()));
        t
    }

    pub(super) fn release_window(&mut self, window: &WindowId, id: &TicketId) {
        if let Some(w) = self.window_mut(window) {
            assert_eq!(w.ticket.as_ref(), Some(id), "window {window} does not hold that ticket");
            w.ticket = None;
            w.at_counter = None;
            w.state = WindowState::Open;
        }
    }

    pub(super) fn set_window(&mut self, window: &WindowId, state: WindowState, clerk: Option<UserName>) {
        if let Some(w) = self.window_mut(window) {
            assert!(w.ticket.is_none(), "window {window} changes sign-in while holding a ticket");
            w.state = state;
            w.clerk = clerk;
        }
    }

    pub(super) fn set_state(&mut self, window: &WindowId, state: WindowState) {
        if let Some(w) = self.window_mut(window) {
            w.state = state;
        }
    }

    /// The window an event names, or `None` when hall.toml no longer has it (it was
    /// removed after the event was logged, and the daemon restarted the same day). The
    /// ticket's side of such an event still applies; start-up then returns to their queues
    /// the tickets still tied to the window (`reconcile`). A window `decide` names is
    /// always in the state, so live steps never take the `None` path.
    pub(super) fn window_mut(&mut self, id: &WindowId) -> Option<&mut Window> {
        self.windows.get_mut(id)
    }

    /// Ticket `id`, untied from `window` if given, waits in `queue` at its old place.
    pub(super) fn return_ticket(&mut self, id: &TicketId, window: Option<&WindowId>, queue: &QueueId) {
        let t = self.tickets.get(id).expect("returned ticket exists");
        let status = t.status;
        match status {
            TicketStatus::Waiting => {
                if window.is_some() {
                    assert_eq!(t.target_window.as_ref(), window, "ticket returned from a window it was not sent to");
                }
                self.index.remove(&self.setup, t);
            }
            TicketStatus::Called | TicketStatus::Serving | TicketStatus::Parked => {
                assert!(
                    window.is_some() && t.window.as_ref() == window,
                    "ticket returned from a window not holding it"
                );
            }
            TicketStatus::Done | TicketStatus::NoShow | TicketStatus::Cancelled | TicketStatus::Expired => {}
        }
        if let Some(w) = window {
            match status {
                TicketStatus::Called | TicketStatus::Serving => self.release_window(w, id),
                TicketStatus::Parked => {
                    if let Some(win) = self.window_mut(w) {
                        let before = win.parked.len();
                        win.parked.retain(|p| p != id);
                        assert!(win.parked.len() < before, "window {w} returned a ticket it had not parked");
                    }
                }
                TicketStatus::Waiting
                | TicketStatus::Done
                | TicketStatus::NoShow
                | TicketStatus::Cancelled
                | TicketStatus::Expired => {}
            }
        }
        let t = self.move_ticket(id, TicketAction::Return);
        if window.is_some() {
            t.window = None;
            t.target_window = None;
        }
        t.queue = *queue;
        t.serving_at = None;
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
    }

    /// Cancels a waiting ticket and counts it in its queue.
    pub(super) fn cancel(&mut self, id: &TicketId) {
        let ticket = self.tickets.get(id).expect("ticket of an event exists");
        self.index.remove(&self.setup, ticket);
        let queue = self.move_ticket(id, TicketAction::Cancel).queue;
        self.day_stats().record(&queue, None, |f| f.cancelled += 1);
    }
}
