//! A ticket's moves in `HallState::apply`: called, recalled, served, finished, missed,
//! parked, transferred, returned, rejoined and on to a bundle's next step, each with the
//! window it leaves or takes and the day's figures it adds to.

use super::{line_of, owed_after, HallState, Out};
use crate::facts::{Line, Subject, What};
use crate::model::{
    AtCounter, CallRule, Outcome, Promise, QueueId, StepTimes, Ticket, TicketId, TicketStatus, TransferTarget, Ts,
    UserName, Window, WindowId, WindowState,
};
use crate::transitions::{next_status, TicketAction};

impl HallState {
    pub(super) fn call(&mut self, out: &mut Out, window: &WindowId, id: &TicketId, rule: &CallRule) {
        let at = out.at;
        let desk = self.desk(window);
        // Borrowed, not cloned: a call is the commonest change, and a ticket is many strings.
        let ticket = self.tickets.get(id).expect("called ticket exists");
        let unpark = *rule == CallRule::Unparked;
        let left = (!unpark).then(|| (Subject::of(ticket), line_of(ticket), ticket.minutes));
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
        if let Some((ticket, line, minutes)) = left {
            out.push(What::Left { ticket, line, minutes });
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
        t.called_by = desk.clerk.clone();
        let (waited_ms, promised) = if unpark { (None, None) } else { first_call(t, window, at) };
        let (ticket, step, rule) = (Subject::of(t), t.step, rule.clone());
        out.push(What::Called { ticket, desk, rule, step, waited_ms, promised });
    }

    pub(super) fn recalled(&mut self, out: &mut Out, window: &WindowId, id: &TicketId) {
        let desk = self.desk(window);
        let t = self.move_ticket(id, TicketAction::Recall);
        assert_eq!(t.window.as_ref(), Some(window), "recall at another window");
        t.calls += 1;
        t.recalls += 1;
        t.called_at = Some(out.at);
        out.push(What::Recalled { ticket: Subject::of(t), desk });
    }

    pub(super) fn serving(&mut self, out: &mut Out, window: &WindowId, id: &TicketId) {
        let at = out.at;
        let desk = self.desk(window);
        let t = self.move_ticket(id, TicketAction::Serve);
        t.serving_at = Some(at);
        t.served_by = desk.clerk.clone();
        if let Some(times) = t.step_times.get_mut(t.step) {
            times.serving_at = Some(at);
        }
        out.push(What::Serving { ticket: Subject::of(t), desk });
        if let Some(w) = self.window_mut(window) {
            w.state = WindowState::Serving;
            if let Some(c) = &mut w.at_counter {
                c.serving_since = Some(at);
            }
        }
    }

    /// The ticket is finished (completed or not): its service time is counted and its
    /// window is the one whose evaluator may rate it.
    pub(super) fn done(&mut self, out: &mut Out, window: &WindowId, id: &TicketId, outcome: Outcome) {
        let at = out.at;
        let desk = self.desk(window);
        let t = self.move_ticket(id, TicketAction::Finish);
        t.finished_at = Some(at);
        t.outcome = Some(outcome);
        if let Some(times) = t.step_times.get_mut(t.step) {
            times.done_at = Some(at);
        }
        let served_ms = t.serving_at.map(|s| at.since_ms(s));
        let (ticket, minutes, queue) = (Subject::of(t), t.minutes, t.queue);
        self.release_window(window, id);
        self.ratings.last_done.insert(*window, (*id, at));
        out.push(What::Finished { ticket, desk, outcome: Some(outcome), served_ms, minutes, queue });
    }

    /// `TicketNoShow`: the ticket is missed and its window free.
    pub(super) fn no_show(&mut self, out: &mut Out, window: &WindowId, id: &TicketId) {
        let desk = self.desk(window);
        let t = self.move_ticket(id, TicketAction::NoShow);
        t.finished_at = Some(out.at);
        let ticket = Subject::of(t);
        self.release_window(window, id);
        // A person's missed calls hold back their next ticket (issue 17 §4).
        self.persons.no_show(id, out.at);
        out.push(What::NoShow { ticket, desk });
    }

    pub(super) fn parked(&mut self, out: &mut Out, window: &WindowId, id: &TicketId) {
        let desk = self.desk(window);
        let ticket = Subject::of(self.move_ticket(id, TicketAction::Park));
        self.release_window(window, id);
        if let Some(w) = self.window_mut(window) {
            w.parked.push(*id);
        }
        out.push(What::Parked { ticket, desk });
    }

    /// A missed number goes to the back of its queue: its place is this record's position.
    pub(super) fn rejoin(&mut self, out: &mut Out, id: &TicketId) {
        let t = self.move_ticket(id, TicketAction::Rejoin);
        t.recent_call = t.window.take().zip(t.called_at);
        t.due = None;
        t.issue_seq = out.seq;
        t.queued_at = out.at;
        t.called_at = None;
        t.serving_at = None;
        t.finished_at = None;
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
        let subject = Subject::of(&ticket);
        out.push(What::Rejoined { ticket: subject.clone() });
        // Back in its queue's shared line, whatever window it was once sent to.
        out.push(What::Joined { ticket: subject, line: Line::Queue(ticket.queue), minutes: ticket.minutes });
    }

    /// A bundle step is done: the ticket leaves the window and waits in its next step's
    /// queue, keeping its place by issue time.
    pub(super) fn next_step(&mut self, out: &mut Out, window: &WindowId, id: &TicketId) {
        let at = out.at;
        let desk = self.desk(window);
        self.release_window(window, id);
        let setup = self.setup.clone();
        let t = self.move_ticket(id, TicketAction::NextStep);
        let served_ms = t.serving_at.map(|s| at.since_ms(s));
        let (done, done_minutes, done_queue) = (Subject::of(t), t.minutes, t.queue);
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
        let finished =
            What::Finished { ticket: done, desk, outcome: None, served_ms, minutes: done_minutes, queue: done_queue };
        out.push(finished);
        out.push(What::Joined { ticket: Subject::of(&ticket), line: line_of(&ticket), minutes: ticket.minutes });
    }

    pub(super) fn transfer(&mut self, out: &mut Out, window: &WindowId, id: &TicketId, to: &TransferTarget) {
        let desk = self.desk(window);
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
        let subject = Subject::of(&ticket);
        out.push(What::Transferred { ticket: subject.clone(), desk, to: to.clone() });
        out.push(What::Joined { ticket: subject, line: line_of(&ticket), minutes: ticket.minutes });
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
            // Store-next is the signed-in clerk's wish: it ends with their sign-in.
            w.store_next = false;
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
    pub(super) fn return_ticket(&mut self, out: &mut Out, id: &TicketId, window: Option<&WindowId>, queue: &QueueId) {
        let t = self.tickets.get(id).expect("returned ticket exists");
        let status = t.status;
        // A waiting ticket sent to a window keeps that window's line unless it was untied.
        let sent = t.target_window.filter(|_| status == TicketStatus::Waiting && window.is_none());
        if status == TicketStatus::Waiting {
            out.push(What::Left { ticket: Subject::of(t), line: line_of(t), minutes: t.minutes });
        }
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
        let subject = Subject::of(&ticket);
        let line = sent.map_or(Line::Queue(*queue), Line::Window);
        out.push(What::Returned { ticket: subject.clone(), from: window.copied() });
        out.push(What::Joined { ticket: subject, line, minutes: ticket.minutes });
    }

    /// Cancels a waiting ticket: out of its line.
    pub(super) fn cancel(&mut self, out: &mut Out, id: &TicketId) {
        let ticket = self.tickets.get(id).expect("ticket of an event exists");
        self.index.remove(&self.setup, ticket);
        let line = line_of(ticket);
        let t = self.move_ticket(id, TicketAction::Cancel);
        let (ticket, minutes) = (Subject::of(t), t.minutes);
        let waited_ms = out.at.since_ms(t.issued_at);
        let called = t.first_called_at.is_some();
        out.push(What::Left { ticket: ticket.clone(), line, minutes });
        out.push(What::Cancelled { ticket, waited_ms, called });
    }
}

/// At a ticket's call (not a parked one's resumption): how long it waited, if this is its
/// first call in the line it waits in, and the wait it was promised, if this is the first
/// call of its first step. Wait is counted once per line: from issue to its first call,
/// and for each later bundle step from the step's start to the step's first call.
fn first_call(t: &mut Ticket, window: &WindowId, at: Ts) -> (Option<u64>, Option<Promise>) {
    let (first, wait_ms) = match t.step_times.get_mut(t.step) {
        Some(times) if t.step > 0 => (times.first_called_at.is_none(), at.since_ms(times.queued_at)),
        _ => (t.first_called_at.is_none(), at.since_ms(t.issued_at)),
    };
    if let Some(times) = t.step_times.get_mut(t.step) {
        times.first_called_at.get_or_insert(at);
        times.window = Some(*window);
    }
    // The promise was of the first call of the first step.
    let promised = t.promise.filter(|_| t.first_called_at.is_none());
    t.first_called_at.get_or_insert(at);
    (first.then_some(wait_ms), promised)
}
