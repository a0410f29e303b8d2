//! 跨中心转办 in `HallState::apply`: a ticket referred to another hall leaves its window
//! finished `incomplete`, with where it went; a ticket issued for a visitor referred here
//! is tagged with where it came from. Each yields its fact, which the figures count.

use super::{HallState, Out};
use crate::facts::{Subject, What};
use crate::model::{Outcome, TicketId, WindowId};
use crate::referral::{Origin, Sent};
use crate::transitions::TicketAction;

impl HallState {
    pub(super) fn referred(&mut self, out: &mut Out, window: &WindowId, id: &TicketId, to: &Sent) {
        let at = out.at;
        let desk = self.desk(window);
        let t = self.move_ticket(id, TicketAction::Refer);
        t.finished_at = Some(at);
        t.outcome = Some(Outcome::Incomplete);
        if let Some(times) = t.step_times.get_mut(t.step) {
            times.done_at = Some(at);
        }
        let served_ms = t.serving_at.map(|s| at.since_ms(s));
        let (ticket, minutes, queue) = (Subject::of(t), t.minutes, t.queue);
        self.release_window(window, id);
        self.ratings.last_done.insert(*window, (*id, at));
        assert!(self.referrals.sent.insert(*id, to.clone()).is_none(), "ticket {id} referred twice");
        let outcome = Some(Outcome::Incomplete);
        out.push(What::Finished { ticket: ticket.clone(), desk: desk.clone(), outcome, served_ms, minutes, queue });
        out.push(What::Referred { ticket, desk, to_hall: to.hall.clone(), reason: to.reason.clone() });
    }

    pub(super) fn referral_accepted(&mut self, out: &mut Out, id: &TicketId, origin: &Origin) {
        let t = self.tickets.get(id).expect("a referred visitor's ticket exists");
        let ticket = Subject::of(t);
        assert!(self.referrals.received.insert(*id, origin.clone()).is_none(), "ticket {id} accepted twice");
        out.push(What::ReferralTaken { ticket, from_hall: origin.hall.clone(), reason: origin.reason.clone() });
    }

    pub(super) fn referral_withdrawn(&mut self, out: &mut Out, id: &TicketId) {
        let t = self.tickets.get(id).expect("a withdrawn referral's ticket exists");
        let ticket = Subject::of(t);
        let origin = self.referrals.received.remove(id).expect("a withdrawn ticket was taken in by referral");
        out.push(What::ReferralWithdrawn { ticket, from_hall: origin.hall });
    }
}
