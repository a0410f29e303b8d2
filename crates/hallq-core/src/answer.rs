//! What kind of answer each command gets, and how a caller reads it as a typed value.
//!
//! `decide` answers every command with a [`Reply`], one enum because the log keeps the
//! answer beside an idempotency key (a repeat is answered from the log). Which variant a
//! command gets is fixed here, once, by [`Command::answers`], a match the compiler holds
//! to every command; `tests/core_props.rs` holds `decide` to it after every step of its
//! random days. A caller names the kind it reads ([`Answer`]: `answer::Ticket`,
//! `answer::Call`, …) and gets the id itself, typed: the engine refuses, before deciding
//! anything, a command whose kind is not the one asked for.

use super::command::{Command, Reply};
use super::model::{TicketId, WindowId};

/// The kinds of [`Reply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    Ticket,
    Call,
    Window,
    Appointment,
    Case,
    Alert,
    Escalation,
    Nothing,
}

impl Reply {
    /// Which kind of answer this is.
    pub fn kind(&self) -> ReplyKind {
        match self {
            Reply::Ticket(_) => ReplyKind::Ticket,
            Reply::MaybeTicket(_) => ReplyKind::Call,
            Reply::Window(_) => ReplyKind::Window,
            Reply::Appointment(_) => ReplyKind::Appointment,
            Reply::Case(_) => ReplyKind::Case,
            Reply::Alert(_) => ReplyKind::Alert,
            Reply::Escalation(_) => ReplyKind::Escalation,
            Reply::Nothing => ReplyKind::Nothing,
        }
    }
}

impl Command {
    /// The kind of answer `decide` gives this command when it succeeds.
    pub fn answers(&self) -> ReplyKind {
        use Command as C;
        match self {
            C::IssueTicket { .. }
            | C::CheckInTicket { .. }
            | C::CheckInAppointment { .. }
            | C::CancelTicket { .. }
            | C::RateTicket { .. }
            | C::RejoinTicket { .. }
            | C::Recall { .. }
            | C::Serve { .. }
            | C::Done { .. }
            | C::NoShow { .. }
            | C::Escalate { .. }
            | C::Transfer { .. }
            | C::Park { .. }
            | C::Unpark { .. }
            | C::IssueAssisted { .. }
            | C::Escort { .. }
            | C::ReleaseEscort { .. }
            | C::DoneAndNext { .. }
            | C::WalkDirect { .. }
            | C::IssueForPerson { .. }
            | C::IssueEnterpriseTicket { .. }
            | C::Refer { .. }
            | C::AcceptReferral { .. }
            | C::WithdrawReferral { .. } => ReplyKind::Ticket,
            C::CallNext { .. } | C::CallNumber { .. } => ReplyKind::Call,
            C::OpenWindow { .. }
            | C::Pause { .. }
            | C::Resume { .. }
            | C::Close { .. }
            | C::SetWindowQueues { .. }
            | C::ForceCloseWindow { .. }
            | C::ArmStoreNext { .. } => ReplyKind::Window,
            C::BookAppointment { .. } | C::CancelAppointment { .. } => ReplyKind::Appointment,
            C::CaseCallback { .. } | C::RectifyCase { .. } => ReplyKind::Case,
            C::AckAlert { .. } => ReplyKind::Alert,
            C::EscalationCallback { .. } | C::ResolveEscalation { .. } => ReplyKind::Escalation,
            C::Tick
            | C::PrinterReport { .. }
            | C::LogIn { .. }
            | C::LogOut { .. }
            | C::DisableUser { .. }
            | C::EnableUser { .. }
            | C::AddUser { .. }
            | C::ResetPassword { .. }
            | C::Reconcile
            | C::AddEnterprise { .. }
            | C::SetSpecialist { .. }
            | C::AddFollowUp { .. } => ReplyKind::Nothing,
        }
    }
}

/// A kind of answer a caller reads, with the typed id it names.
pub trait Answer: Send + 'static {
    /// What the answer names.
    type Id: Send + 'static;
    const KIND: ReplyKind;
    /// The id `reply` names, if it is of this kind.
    fn id(reply: &Reply) -> Option<Self::Id>;
}

// The typed answers, one per kind that names something.

/// A ticket command's: the ticket.
pub enum Ticket {}
/// A call's: the ticket called, or none when nobody was waiting.
pub enum Call {}
/// A window command's: the window.
pub enum Window {}
/// A booking's: its code.
pub enum Appointment {}
/// A bad-rating case's: its id.
pub enum Case {}
/// An alert's: its id.
pub enum Alert {}
/// An escalation case's: its id.
pub enum Escalation {}

macro_rules! answer {
    ($kind:ident, $id:ty, $reply:pat => $value:expr) => {
        impl Answer for $kind {
            type Id = $id;
            const KIND: ReplyKind = ReplyKind::$kind;
            fn id(reply: &Reply) -> Option<$id> {
                match reply {
                    $reply => Some($value),
                    _ => None,
                }
            }
        }
    };
}

answer!(Ticket, TicketId, Reply::Ticket(id) => *id);
answer!(Call, Option<TicketId>, Reply::MaybeTicket(id) => *id);
answer!(Window, WindowId, Reply::Window(id) => *id);
answer!(Appointment, String, Reply::Appointment(code) => code.clone());
answer!(Case, String, Reply::Case(id) => id.clone());
answer!(Alert, u64, Reply::Alert(id) => *id);
answer!(Escalation, String, Reply::Escalation(id) => id.clone());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_reads_only_its_own_kind() {
        let id = TicketId::from_bytes([7; 16]);
        let replies = [
            Reply::Ticket(id),
            Reply::MaybeTicket(Some(id)),
            Reply::Window(WindowId::parse("3").expect("a window id")),
            Reply::Appointment("K7".into()),
            Reply::Case("C1".into()),
            Reply::Alert(4),
            Reply::Escalation("E1".into()),
            Reply::Nothing,
        ];
        for r in &replies {
            assert_eq!(Ticket::id(r).is_some(), r.kind() == ReplyKind::Ticket, "{r:?}");
            assert_eq!(Call::id(r).is_some(), r.kind() == ReplyKind::Call, "{r:?}");
            assert_eq!(Window::id(r).is_some(), r.kind() == ReplyKind::Window, "{r:?}");
            assert_eq!(Appointment::id(r).is_some(), r.kind() == ReplyKind::Appointment, "{r:?}");
            assert_eq!(Case::id(r).is_some(), r.kind() == ReplyKind::Case, "{r:?}");
            assert_eq!(Alert::id(r).is_some(), r.kind() == ReplyKind::Alert, "{r:?}");
            assert_eq!(Escalation::id(r).is_some(), r.kind() == ReplyKind::Escalation, "{r:?}");
        }
        assert_eq!(Call::id(&Reply::MaybeTicket(None)), Some(None));
    }
}
