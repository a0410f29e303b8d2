//! `apply` of the clerk's moves (issue 17 §4, `core::clerk_moves`): store-next armed or
//! disarmed, a walk-direct ticket counted at its window, a ticket taken under the
//! per-person limits.

use super::{HallState, Out};
use crate::facts::{Subject, What};
use crate::model::{TicketId, WindowId};

impl HallState {
    pub(super) fn store_next_set(&mut self, out: &mut Out, window: &WindowId, armed: bool) {
        if let Some(w) = self.window_mut(window) {
            w.store_next = armed;
        }
        out.push(What::StoreNextSet { desk: self.desk(window), armed });
    }

    pub(super) fn walk_direct(&mut self, out: &mut Out, window: &WindowId, id: &TicketId) {
        if let Some(w) = self.window_mut(window) {
            w.walk_direct_today += 1;
        }
        let t = self.tickets.get(id).expect("a walk-direct ticket was just issued");
        out.push(What::WalkDirect { ticket: Subject::of(t), desk: self.desk(window) });
    }

    pub(super) fn person_ticket(&mut self, out: &mut Out, id: &TicketId, person: &str) {
        self.persons.took(*id, person);
        let t = self.tickets.get(id).expect("a person's ticket was just issued");
        out.push(What::PersonTicket { ticket: Subject::of(t) });
    }
}
