//! What a clerk does between letting a ticket go and the next: with store-next
//! (`SimHall::store_next`, issue 17 §4) the finish was `done-next` and the core has called
//! the next ticket in the same step, which the clerk takes on; otherwise the clerk reacts
//! for `SimHall::react_ms` (looks up, reaches for the key) before calling. That gap is
//! what `hallq simulate --compare-store-next` measures.

use super::{Ev, Sim};
use crate::sim::SimError;

impl Sim<'_> {
    /// Window `w` let its ticket go at `now`.
    pub(super) fn react(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        let window = self.clerks[w].window;
        if let Some(id) = self.state.window(&window).and_then(|x| x.ticket) {
            // Called by store-next in the step that finished the last ticket.
            return self.take(w, &id, now);
        }
        if self.hall.react_ms > 0 {
            self.clerks[w].reacting = true;
            self.push(now + self.hall.react_ms, Ev::Ready(w));
            return Ok(());
        }
        self.free(w, now)
    }

    /// The clerk of window `w` has reacted: acts as a free clerk does.
    pub(super) fn ready(&mut self, w: usize, now: i64) -> Result<(), SimError> {
        if !std::mem::take(&mut self.clerks[w].reacting) {
            return Ok(());
        }
        self.free(w, now)
    }

    /// Whether the clerk of window `w` finishes with `done-next`: in the store-next hall,
    /// unless the shift is over or a parked visitor is back (they come first).
    pub(super) fn finishes_with_next(&self, w: usize) -> bool {
        let c = &self.clerks[w];
        self.hall.store_next && c.leaving.is_none() && !c.parked.iter().any(|p| p.1)
    }
}
