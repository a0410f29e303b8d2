//! One past service day read from the log, for its facts: the reports and the audit trail
//! read a day long after the live state has forgotten its tickets. Fed on past the day,
//! it reads the later days too, through their openings: the alert webhook's catch-up
//! reads so from the opening of its mark's day to the end of the log.
//!
//! The reader applies the day's records to a state of its own with the same `apply` the
//! engine runs, so a report counts what the hall's figures counted, from the same facts.
//! It starts empty at the day's opening: every ticket and sign-in of a service day begins
//! after its `DayOpened`, so nothing of an earlier day is needed for the day's facts. What
//! an earlier day left (bookings, bad-rating cases, alerts, added users) the reader does
//! not have; a record that names one (a check-in of an old booking, a call-back of an old
//! case) changes nothing here and yields no facts, and neither do the records before the
//! day's opening (the tail of the day before, logged after midnight).

use std::sync::Arc;

use super::event::{Event, Record};
use super::facts::Fact;
use super::hall::HallState;
use super::setup::Setup;

pub struct DayReader {
    state: HallState,
    opened: bool,
}

impl DayReader {
    pub fn new(setup: Arc<Setup>) -> Self {
        Self { state: HallState::new(setup), opened: false }
    }

    /// The state as read so far (the day's tickets, windows and figures).
    pub fn state(&self) -> &HallState {
        &self.state
    }

    /// The facts of the record at `seq`, none when it comes before the first day's opening
    /// fed in or names something of an earlier day.
    pub fn read(&mut self, seq: u64, record: &Record) -> Vec<Fact> {
        if let Event::DayOpened { day, expired } = &record.event {
            // The old day's unfinished tickets expire: those this reader saw.
            let known = expired.iter().filter(|id| self.state.tickets.contains_key(id)).copied().collect();
            let opening = Record { event: Event::DayOpened { day: *day, expired: known }, ..record.clone() };
            self.opened = true;
            return self.state.apply(seq, &opening);
        }
        if !self.opened || !self.knows(&record.event) || seq <= self.state.last_seq {
            return Vec::new();
        }
        self.state.apply(seq, record)
    }

    /// Whether everything `event` names is in the reader's state.
    fn knows(&self, event: &Event) -> bool {
        let s = &self.state;
        match event {
            Event::AppointmentCancelled { code } | Event::AppointmentCheckedIn { code, .. } => {
                s.appointments.by_code.contains_key(code)
            }
            Event::CaseCallback { case, .. } | Event::CaseRectified { case, .. } => s.ratings.cases.contains_key(case),
            Event::EscalationCallback { case, .. } | Event::EscalationResolved { case, .. } => {
                s.escalations.cases.contains_key(case)
            }
            Event::AlertCleared { id, .. } | Event::AlertAcknowledged { id, .. } => s.alerts.get(*id).is_some(),
            // An alert raised before the day's opening was cleared by it; ids only grow.
            Event::AlertRaised { .. } => true,
            other => other.ticket().is_none_or(|id| s.tickets.contains_key(id)),
        }
    }
}
