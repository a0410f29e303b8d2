//! The hall's rules around a call, as the simulated clerks and visitors play them:
//! recalls up to the hall's `recall_max`, then a no-show; a missed number that rejoins
//! (`--rejoin`); a visitor who lacks a document, parked and resumed (`--park`); a bundle
//! ticket done at one step that waits for the next counter.
//!
//! Every act is a command to the core, which the core must accept: the clerks here never
//! try what the rules forbid (a fourth recall, a park beyond `park_max`, closing a window
//! with parked tickets), so a refusal is a bug and ends the run (`SimError::Refused`).

use crate::core::model::{BundleStep, Outcome, QueueId, Ts};
use crate::core::{Command, HallState};

use super::{ticket_id, Ev, Sim, NO_SHOW_AFTER_RECALL_MS, PARK_FOUND_AFTER_MS, RECALL_AFTER_MS};
use crate::sim::SimError;

/// A bundle's counter time per expected minute of its steps, so that each step takes its
/// share of the visitor's drawn time.
pub(super) fn bundle_ms_per_min(total_ms: i64, state: &HallState, steps: &[BundleStep]) -> f32 {
    let minutes: u32 = steps.iter().map(|s| state.setup.expected_minutes(&s.services)).sum();
    (total_ms as f64 / f64::from(minutes.max(1))) as f32
}

impl Sim<'_> {
    /// The called visitor reached the counter: serve them, and finish, or find a document
    /// missing first.
    pub(super) fn serve(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        self.clerk_cmd(w, now, "serve", |window, clerk| Command::Serve { window, clerk })?;
        let Some(f) = self.clerks[w].holding.and_then(|t| self.fates.get_mut(t)) else { return Ok(()) };
        f.no_show = false;
        if f.park_away_ms > 0 && self.clerks[w].parked.len() < self.park_max {
            let found_ms = f.service_ms.min(PARK_FOUND_AFTER_MS);
            f.service_ms -= found_ms;
            self.push(now + found_ms, Ev::Park(w));
        } else {
            // A window already holding `park_max` parked tickets cannot take another: this
            // visitor is served as they are.
            f.park_away_ms = 0;
            let ms = f.service_ms;
            self.push(now + ms, Ev::Done(w));
        }
        Ok(())
    }

    /// The clerk finishes: the ticket is done, or, a bundle's step done, waits for its
    /// next step's counter, or (`--escalate`) the clerk cannot finish it and it goes to the
    /// escalation queue.
    pub(super) fn done(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        if self.escalates(w) {
            return self.escalate(w, now);
        }
        if self.escalated_before(w) {
            self.escalated_served += 1;
        }
        let outcome = Outcome::Completed;
        if self.finishes_with_next(w) {
            self.clerk_cmd(w, now, "done-next", |window, clerk| Command::DoneAndNext { window, clerk, outcome })?;
        } else {
            self.clerk_cmd(w, now, "done", |window, clerk| Command::Done { window, clerk, outcome })?;
        }
        let Some(t) = self.clerks[w].holding else { return self.released(w, now) };
        if self.fates.get(t).is_none_or(|f| f.steps_left <= 1) {
            return self.released(w, now);
        }
        let id = ticket_id(t)?;
        // Waiting for its next step, or (done-next) called for it at this window already.
        let Some(ticket) = self.state.ticket(&id).filter(|tk| !tk.status.is_final()) else {
            return Err(SimError::Refused {
                command: "done".into(),
                reason: format!("bundle ticket {id} has no next step"),
            });
        };
        let (queue, minutes) = (ticket.queue, ticket.minutes);
        if let Some(f) = self.fates.get_mut(t) {
            f.steps_left -= 1;
            f.service_ms = (f64::from(f.ms_per_min) * f64::from(minutes)).round() as i64;
        }
        self.rec.next_step(t, Ts(now), queue.as_str());
        self.released(w, now)?;
        self.wake_queue(&queue, now)
    }

    /// Whether the clerk at `w` cannot finish their ticket: its visitor's matter is one
    /// that gets stuck (drawn at arrival), its last step is at the counter, and the hall
    /// has an escalation queue it is not in already.
    fn escalates(&self, w: usize) -> bool {
        let Some(t) = self.clerks[w].holding else { return false };
        let Some(policy) = &self.state.setup.escalation else { return false };
        let stuck = self.fates.get(t).is_some_and(|f| f.escalates && f.steps_left <= 1);
        let queue = ticket_id(t).ok().and_then(|id| self.state.ticket(&id).map(|tk| tk.queue));
        stuck && queue.is_some_and(|q| q != policy.queue) && !policy.reasons.is_empty()
    }

    /// Whether the ticket the clerk at `w` finishes was escalated here (a visitor may also
    /// come for the escalation queue's own items).
    fn escalated_before(&self, w: usize) -> bool {
        self.clerks[w].holding.and_then(|t| self.fates.get(t)).is_some_and(|f| f.escalated)
    }

    /// 办不成事: the clerk escalates the ticket with the hall's first reason; it waits in
    /// the escalation queue for its window, which serves it for its expected minutes.
    fn escalate(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        let reason = self.state.setup.escalation.as_ref().and_then(|p| p.reasons.first()).map(|r| r.code.clone());
        let reason = reason.unwrap_or_default();
        self.clerk_cmd(w, now, "escalate", |window, clerk| Command::Escalate { window, clerk, reason, note: None })?;
        let Some(t) = self.clerks[w].holding else { return self.released(w, now) };
        let id = ticket_id(t)?;
        let Some((queue, minutes)) = self.state.ticket(&id).map(|tk| (tk.queue, tk.minutes)) else {
            return self.released(w, now);
        };
        if let Some(f) = self.fates.get_mut(t) {
            f.escalates = false;
            f.escalated = true;
            f.service_ms = i64::from(minutes) * 60_000;
        }
        self.rec.escalated(t, Ts(now), queue.as_str());
        self.released(w, now)?;
        self.wake_queue(&queue, now)
    }

    /// The called visitor has not come: recall, up to the hall's `recall_max`, then wait a
    /// last while for the no-show.
    pub(super) fn not_come(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        self.clerk_cmd(w, now, "recall", |window, clerk| Command::Recall { window, clerk })?;
        let c = &mut self.clerks[w];
        c.recalls += 1;
        if c.recalls < self.recall_max {
            self.push(now + RECALL_AFTER_MS, Ev::Recall(w));
        } else {
            self.push(now + NO_SHOW_AFTER_RECALL_MS, Ev::NoShow(w));
        }
        Ok(())
    }

    /// The clerk marks the missed number a no-show; its visitor may come back to rejoin,
    /// within the hall's `rejoin_min`.
    pub(super) fn no_show(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        self.clerk_cmd(w, now, "no-show", |window, clerk| Command::NoShow { window, clerk })?;
        if let Some(t) = self.clerks[w].holding {
            let after_ms = self.fates.get(t).map_or(0, |f| i64::from(f.rejoin_after_ms));
            if after_ms > 0 && self.rejoin_ms > 0 {
                self.push(now + after_ms.min(self.rejoin_ms), Ev::Rejoin(t));
            }
        }
        self.released(w, now)
    }

    /// The visitor of ticket `t` is back from missing the call: they rejoin, if a window of
    /// their queue is still staffed (else they go home), and come when called.
    pub(super) fn rejoin(&mut self, t: usize, now: i64) -> Result<(), SimError> {
        let id = ticket_id(t)?;
        let Some(queue) = self.state.ticket(&id).map(|tk| tk.queue) else { return Ok(()) };
        let Some(q) = self.queue_ix(&queue) else { return Ok(()) };
        if !self.clerks.iter().any(|c| c.signed_in && c.serves.get(q) == Some(&true)) {
            return Ok(());
        }
        self.exec(Command::RejoinTicket { id }, now).map_err(|r| super::refused("rejoin", &r))?;
        if let Some(f) = self.fates.get_mut(t) {
            (f.no_show, f.rejoin_after_ms) = (false, 0);
        }
        // Other windows may not call it until its cooldown after the last call is over:
        // look again then, in case nothing else wakes them.
        let cooled = self.state.ticket(&id).and_then(|tk| tk.recent_call.as_ref()).map(|(_, at)| at.0);
        if let Some(at) = cooled.map(|at| at + self.cooldown_ms).filter(|at| *at > now) {
            self.push(at, Ev::Wake(q));
        }
        self.wake(q, now)
    }

    /// The clerk at window `w` finds a document missing: the ticket is parked and its
    /// visitor goes to fetch it; the window takes the next.
    pub(super) fn park(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        self.clerk_cmd(w, now, "park", |window, clerk| Command::Park { window, clerk })?;
        if let Some(t) = self.clerks[w].holding {
            let away_ms = self.fates.get_mut(t).map_or(0, |f| std::mem::take(&mut f.park_away_ms));
            self.clerks[w].parked.push((t, false));
            self.push(now + i64::from(away_ms), Ev::Back(w, t));
        }
        self.released(w, now)
    }

    /// The parked visitor of ticket `t` is back at window `w`: resumed at once if the
    /// clerk is free, else when the clerk is next free.
    pub(super) fn back(&mut self, w: usize, t: usize, now: i64) -> Result<(), SimError> {
        let c = &mut self.clerks[w];
        let Some(p) = c.parked.iter_mut().find(|p| p.0 == t) else { return Ok(()) };
        p.1 = true;
        if !c.signed_in || c.paused || c.holding.is_some() || c.reacting {
            return Ok(());
        }
        if let Some(since) = c.idle_since.take() {
            self.idle.remove(&(since, w));
        }
        self.unpark_returned(w, now).map(|_| ())
    }

    /// Window `w`, free, resumes the first of its parked tickets whose visitor is back;
    /// false if none is.
    pub(super) fn unpark_returned(&mut self, w: usize, now: i64) -> Result<bool, SimError> {
        let c = &mut self.clerks[w];
        let Some(i) = c.parked.iter().position(|p| p.1) else { return Ok(false) };
        let (t, _) = c.parked.remove(i);
        let id = ticket_id(t)?;
        self.clerk_cmd(w, now, "unpark", |window, clerk| Command::Unpark { window, clerk, id })?;
        let c = &mut self.clerks[w];
        (c.holding, c.recalls) = (Some(t), 0);
        self.push(now + self.hall.walk_ms, Ev::Serve(w));
        Ok(true)
    }

    fn queue_ix(&self, queue: &QueueId) -> Option<usize> {
        self.hall.setup.queues.iter().position(|q| &q.id == queue)
    }

    /// A ticket joined `queue` again: idle windows serving it call.
    fn wake_queue(&mut self, queue: &QueueId, now: i64) -> Result<(), SimError> {
        match self.queue_ix(queue) {
            Some(q) => self.wake(q, now),
            None => Ok(()),
        }
    }
}
