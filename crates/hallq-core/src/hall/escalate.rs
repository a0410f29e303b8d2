//! 办不成事 in `HallState::apply`: a ticket the clerk could not finish moves to the
//! escalation queue (as a transfer moves it: number and place by issue time kept) and its
//! case opens; the case's call-backs and its end.

use super::{HallState, Out};
use crate::escalation::{Escalation, Resolution};
use crate::event::Event;
use crate::facts::{Line, Subject, What};
use crate::model::{Ts, UserName};
use crate::rating::Callback;
use crate::transitions::TicketAction;

impl HallState {
    pub(super) fn escalated(&mut self, out: &mut Out, event: &Event) {
        let Event::TicketEscalated { window, id, reason, note, case } = event else { return };
        let desk = self.desk(window);
        let day = self.day.unwrap_or_default();
        self.release_window(window, id);
        let t = self.move_ticket(id, TicketAction::Transfer);
        let from = t.queue;
        t.window = None;
        t.target_window = None;
        t.due = None;
        t.serving_at = None;
        t.queue = case.queue;
        let ticket = t.clone();
        self.index.insert(&self.setup, &ticket);
        let c = Escalation {
            id: case.id.clone(),
            day,
            opened_at: out.at,
            due: case.due,
            number: ticket.number.to_string(),
            queue: from,
            window: *window,
            clerk: desk.clerk.clone(),
            services: ticket.services.clone(),
            reason: reason.clone(),
            note: note.clone(),
            handler: case.handler.clone(),
            callbacks: Vec::new(),
            resolution: None,
        };
        assert!(self.escalations.cases.insert(case.id.clone(), c).is_none(), "escalation {} opened twice", case.id);
        assert!(self.escalations.by_ticket.insert(*id, case.id.clone()).is_none(), "ticket escalated twice");
        let subject = Subject::of(&ticket);
        out.push(What::Escalated {
            ticket: subject.clone(),
            desk,
            from,
            services: ticket.services.clone(),
            reason: reason.clone(),
            case: case.id.clone(),
        });
        out.push(What::Joined { ticket: subject, line: Line::Queue(case.queue), minutes: ticket.minutes });
    }

    pub(super) fn escalation_callback(&mut self, at: Ts, case: &str, by: &UserName, reached: bool, note: &str) {
        let c = self.escalations.cases.get_mut(case).expect("called-back escalation exists");
        assert!(c.resolution.is_none(), "call-back of an ended escalation {case}");
        c.callbacks.push(Callback { at, by: by.clone(), reached, note: note.to_string() });
    }

    pub(super) fn escalation_resolved(
        &mut self,
        out: &mut Out,
        case: &str,
        by: &UserName,
        note: &str,
        referred_to: &Option<String>,
    ) {
        let c = self.escalations.cases.get_mut(case).expect("resolved escalation exists");
        assert!(c.resolution.is_none(), "escalation {case} ended twice");
        let resolution =
            Resolution { at: out.at, by: by.clone(), note: note.to_string(), referred_to: referred_to.clone() };
        c.resolution = Some(resolution);
        let referred = referred_to.is_some();
        out.push(What::EscalationResolved { day: c.day, queue: c.queue, window: c.window, referred });
    }
}
