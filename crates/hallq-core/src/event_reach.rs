//! What an event touches: the window whose state it changes and the existing ticket it
//! acts on, one exhaustive match each (beside the log's schema in `event.rs`, which they
//! would push past its size).

use super::event::Event;
use super::model::{TicketId, WindowId};

impl Event {
    /// The window whose state the event changes, if any.
    pub fn window(&self) -> Option<&WindowId> {
        match self {
            Event::WindowOpened { window, .. }
            | Event::TicketCalled { window, .. }
            | Event::TicketRecalled { window, .. }
            | Event::TicketServing { window, .. }
            | Event::TicketDone { window, .. }
            | Event::TicketNoShow { window, .. }
            | Event::TicketTransferred { window, .. }
            | Event::TicketStepDone { window, .. }
            | Event::TicketParked { window, .. }
            | Event::WindowPaused { window, .. }
            | Event::WindowResumed { window }
            | Event::WindowClosed { window }
            | Event::WindowQueuesSet { window, .. }
            | Event::WindowForceClosed { window, .. }
            | Event::TicketEscalated { window, .. }
            | Event::StoreNextSet { window, .. }
            | Event::TicketReferred { window, .. } => Some(window),
            Event::TicketReturned { window, .. } => window.as_ref(),
            Event::StoreNextFired { .. } | Event::WalkDirect { .. } | Event::PersonTicket { .. } => None,
            Event::DayOpened { .. }
            | Event::TicketIssued { .. }
            | Event::TicketCancelled { .. }
            | Event::TicketRated { .. }
            | Event::TicketRejoined { .. }
            | Event::TicketCheckedIn { .. }
            | Event::AppointmentBooked { .. }
            | Event::AppointmentCancelled { .. }
            | Event::AppointmentCheckedIn { .. }
            | Event::NoChange
            | Event::CaseCallback { .. }
            | Event::CaseRectified { .. }
            | Event::UserLoggedIn { .. }
            | Event::UserLoggedOut { .. }
            | Event::UserDisabled { .. }
            | Event::UserEnabled { .. }
            | Event::UserAdded { .. }
            | Event::PasswordReset { .. }
            | Event::AlertRaised { .. }
            | Event::AlertCleared { .. }
            | Event::AlertAcknowledged { .. }
            | Event::EscalationCallback { .. }
            | Event::EscalationResolved { .. }
            | Event::NumbersRaised { .. }
            | Event::TicketAssisted { .. }
            | Event::TicketEscorted { .. }
            | Event::EscortReleased { .. }
            | Event::EnterpriseTicketIssued { .. }
            | Event::EnterpriseAdded { .. }
            | Event::SpecialistSet { .. }
            | Event::FollowUpAdded { .. }
            | Event::ReferralAccepted { .. }
            | Event::ReferralWithdrawn { .. } => None,
        }
    }

    /// The existing ticket the event acts on, if any (an issue makes a new one).
    pub fn ticket(&self) -> Option<&TicketId> {
        match self {
            Event::TicketCalled { id, .. }
            | Event::TicketRecalled { id, .. }
            | Event::TicketServing { id, .. }
            | Event::TicketDone { id, .. }
            | Event::TicketNoShow { id, .. }
            | Event::TicketTransferred { id, .. }
            | Event::TicketStepDone { id, .. }
            | Event::TicketParked { id, .. }
            | Event::TicketReturned { id, .. }
            | Event::TicketCancelled { id }
            | Event::TicketRated { id, .. }
            | Event::TicketRejoined { id }
            | Event::TicketCheckedIn { id }
            | Event::TicketEscalated { id, .. }
            | Event::TicketAssisted { id, .. }
            | Event::TicketEscorted { id, .. }
            | Event::EscortReleased { id, .. }
            | Event::WalkDirect { id, .. }
            | Event::PersonTicket { id, .. }
            | Event::TicketReferred { id, .. }
            | Event::ReferralAccepted { id, .. }
            | Event::ReferralWithdrawn { id } => Some(id),
            Event::StoreNextSet { .. } | Event::StoreNextFired { .. } => None,
            Event::DayOpened { .. }
            | Event::TicketIssued { .. }
            | Event::WindowOpened { .. }
            | Event::WindowPaused { .. }
            | Event::WindowResumed { .. }
            | Event::WindowClosed { .. }
            | Event::WindowQueuesSet { .. }
            | Event::WindowForceClosed { .. }
            | Event::AppointmentBooked { .. }
            | Event::AppointmentCancelled { .. }
            | Event::AppointmentCheckedIn { .. }
            | Event::NoChange
            | Event::CaseCallback { .. }
            | Event::CaseRectified { .. }
            | Event::UserLoggedIn { .. }
            | Event::UserLoggedOut { .. }
            | Event::UserDisabled { .. }
            | Event::UserEnabled { .. }
            | Event::UserAdded { .. }
            | Event::PasswordReset { .. }
            | Event::AlertRaised { .. }
            | Event::AlertCleared { .. }
            | Event::AlertAcknowledged { .. }
            | Event::EscalationCallback { .. }
            | Event::EscalationResolved { .. }
            | Event::NumbersRaised { .. }
            | Event::EnterpriseTicketIssued { .. }
            | Event::EnterpriseAdded { .. }
            | Event::SpecialistSet { .. }
            | Event::FollowUpAdded { .. } => None,
        }
    }
}
