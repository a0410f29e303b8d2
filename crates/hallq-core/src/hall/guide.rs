//! 全程领办 in `HallState::apply`: a guide's assisted issue, an escort taken and let go
//! (an escort's priority class re-placing a waiting ticket in its line), and the facts
//! naming the guide at an escorted visitor's moments, which the figures fold.

use super::{HallState, Out};
use crate::facts::{GuideAct, Subject, What};
use crate::guide::Escort;
use crate::model::{PriorityClass, TicketId, TicketStatus, UserName};

impl HallState {
    pub(super) fn assisted(&mut self, out: &mut Out, id: &TicketId, guide: &UserName) {
        let t = self.tickets.get(id).expect("assisted ticket exists");
        let ticket = Subject::of(t);
        assert!(self.guides.assisted.insert(*id, guide.clone()).is_none(), "ticket assisted twice");
        out.push(What::Guided { ticket, guide: guide.clone(), act: GuideAct::Assisted });
    }

    pub(super) fn escorted(
        &mut self,
        out: &mut Out,
        id: &TicketId,
        guide: &UserName,
        priority: &Option<PriorityClass>,
    ) {
        assert!(self.guides.guide_of(id).is_none(), "ticket {id} escorted twice");
        let t = self.tickets.get(id).expect("escorted ticket exists");
        if let Some(class) = priority {
            // Its place in line is ranked by class: out of the line and back in at its rank.
            let waiting = t.status == TicketStatus::Waiting;
            let mut moved = t.clone();
            if waiting {
                self.index.remove(&self.setup, &moved);
            }
            moved.priority = Some(class.clone());
            if waiting {
                self.index.insert(&self.setup, &moved);
            }
            self.tickets.insert(*id, moved);
        }
        let ticket = Subject::of(self.tickets.get(id).expect("escorted ticket exists"));
        let escort = Escort { guide: guide.clone(), since: out.at, released: false };
        self.guides.escorts.insert(*id, escort);
        out.push(What::Guided { ticket, guide: guide.clone(), act: GuideAct::Escorted });
    }

    pub(super) fn escort_released(&mut self, out: &mut Out, id: &TicketId, guide: &UserName) {
        let e = self.guides.escorts.get_mut(id).expect("released escort exists");
        assert!(!e.released && &e.guide == guide, "escort of {id} released by another");
        e.released = true;
        let ticket = Subject::of(self.tickets.get(id).expect("escorted ticket exists"));
        out.push(What::Guided { ticket, guide: guide.clone(), act: GuideAct::Released });
    }

    /// After each record: an escorted visitor's wait at a first call in a line, and a
    /// rating (also after the guide let go), as facts naming the guide.
    pub(super) fn escort_moments(&self, out: &mut Out) {
        if self.guides.escorts.is_empty() {
            return;
        }
        let mut moments = Vec::new();
        for f in &out.facts {
            if let What::Called { ticket, waited_ms: Some(ms), .. } = &f.what {
                if let Some(g) = self.guides.guide_of(&ticket.id) {
                    moments.push((ticket.clone(), g.clone(), GuideAct::Waited { ms: *ms }));
                }
            }
            if let What::Rated { ticket, score, .. } = &f.what {
                if let Some(g) = self.guides.last_guide_of(&ticket.id) {
                    moments.push((ticket.clone(), g.clone(), GuideAct::Rated { score: *score }));
                }
            }
        }
        for (ticket, guide, act) in moments {
            out.push(What::Guided { ticket, guide, act });
        }
    }
}
