//! The idempotency tests' mutations: each command with one target or body field changed,
//! so that the same key with another command is refused (`core_idempotency.rs`).

use crate::core_support::*;

use hallq::core::command::Command;
use hallq::core::enterprise::FollowUpKind;
use hallq::core::model::{KioskId, Outcome, TransferTarget};
use hallq::core::staff::{PasswordHash, StaffRole};

use crate::core_idempotency::{eid, hm};

/// `c` with one target or body field changed, chosen by `r`.
pub fn mutated(c: &Command, r: u8) -> Command {
    let mut c = c.clone();
    let other_user = |u: &mut hallq::core::model::UserName| *u = user(if u.as_str() == "c5" { "c6" } else { "c5" });
    match &mut c {
        Command::IssueTicket { service, priority, kiosk, remote, .. } => match r % 4 {
            0 => *service = "SC-B1".into(),
            1 => *priority = Some("elderly".into()),
            2 => *kiosk = "kiosk-2".into(),
            _ => *remote = !*remote,
        },
        Command::CheckInTicket { id }
        | Command::CancelTicket { id }
        | Command::RejoinTicket { id }
        | Command::Unpark { id, .. } => *id = if *id == tid(8) { tid(6) } else { tid(8) },
        Command::BookAppointment { slot, phone_hash, window, .. } => match r % 3 {
            0 => *slot = hm(11, 0),
            1 => *phone_hash = "p9".into(),
            _ => *window = Some(w("1")),
        },
        Command::CancelAppointment { code } | Command::CheckInAppointment { code, .. } => *code = "BK9".into(),
        Command::RateTicket { score, comment, .. } => match r % 2 {
            0 => *score = 4,
            _ => *comment = Some("好".into()),
        },
        Command::OpenWindow { window, .. }
        | Command::CallNext { window, .. }
        | Command::Recall { window, .. }
        | Command::Serve { window, .. }
        | Command::NoShow { window, .. }
        | Command::Park { window, .. }
        | Command::Pause { window, .. }
        | Command::Resume { window, .. }
        | Command::Close { window, .. }
        | Command::ForceCloseWindow { window, .. }
        | Command::SetWindowQueues { window, .. }
            if r.is_multiple_of(2) =>
        {
            *window = w(if window.as_str() == "2" { "3" } else { "2" });
        }
        Command::OpenWindow { clerk, .. }
        | Command::CallNext { clerk, .. }
        | Command::Recall { clerk, .. }
        | Command::Serve { clerk, .. }
        | Command::NoShow { clerk, .. }
        | Command::Park { clerk, .. }
        | Command::Pause { clerk, .. }
        | Command::Resume { clerk, .. }
        | Command::Close { clerk, .. } => other_user(clerk),
        Command::ForceCloseWindow { by, .. } => other_user(by),
        Command::SetWindowQueues { queues, .. } => *queues = vec![q("B")],
        Command::CallNumber { number, reason, .. } => match r % 2 {
            0 => *number = "A005".into(),
            _ => reason.push('!'),
        },
        Command::Done { outcome, .. } => *outcome = Outcome::Completed,
        Command::Transfer { to, .. } => {
            *to = if r.is_multiple_of(2) { TransferTarget::Window(w("2")) } else { TransferTarget::Queue(q("A")) }
        }
        Command::CaseCallback { case, reached, note, .. } => match r % 3 {
            0 => *case = "C20250310-002".into(),
            1 => *reached = !*reached,
            _ => note.push('!'),
        },
        Command::RectifyCase { case, note, .. } => match r % 2 {
            0 => *case = "C20250310-002".into(),
            _ => note.push('!'),
        },
        Command::DisableUser { name, .. } | Command::EnableUser { name, .. } => other_user(name),
        Command::AddUser { name, role, password_hash, .. } => match r % 3 {
            0 => other_user(name),
            1 => *role = StaffRole::Admin,
            _ => *password_hash = PasswordHash("$argon2id$two".into()),
        },
        Command::ResetPassword { name, password_hash, .. } => match r % 2 {
            0 => other_user(name),
            _ => *password_hash = PasswordHash("$argon2id$two".into()),
        },
        Command::AckAlert { id, .. } => *id = 2,
        Command::Escalate { reason, note, .. } => match r % 2 {
            0 => *reason = "other".into(),
            _ => *note = Some("跨部门".into()),
        },
        Command::EscalationCallback { case, reached, note, .. } => match r % 3 {
            0 => *case = "E20250310-002".into(),
            1 => *reached = !*reached,
            _ => note.push('!'),
        },
        Command::ResolveEscalation { case, note, refer_to, .. } => match r % 3 {
            0 => *case = "E20250310-002".into(),
            1 => note.push('!'),
            _ => *refer_to = None,
        },
        Command::Tick | Command::Reconcile | Command::LogIn { .. } | Command::LogOut { .. } => {}
        Command::PrinterReport { kiosk, .. } => *kiosk = KioskId::parse("kiosk9").unwrap(),
        Command::IssueAssisted { service, priority, guide, escort, .. } => match r % 4 {
            0 => *service = "SC-B1".into(),
            1 => *priority = Some("elderly".into()),
            2 => *guide = user("g2"),
            _ => *escort = !*escort,
        },
        Command::Escort { number, guide } | Command::ReleaseEscort { number, guide } => match r % 2 {
            0 => *number = "A006".into(),
            _ => *guide = user("g2"),
        },
        Command::ArmStoreNext { window, clerk, armed } => match r % 3 {
            0 => *window = w("3"),
            1 => other_user(clerk),
            _ => *armed = !*armed,
        },
        Command::DoneAndNext { outcome, .. } => *outcome = Outcome::Completed,
        Command::WalkDirect { service, .. } => *service = "SC-B1".into(),
        Command::IssueForPerson { person, service, .. } => match r % 2 {
            0 => *person = "p-other".into(),
            _ => *service = "SC-A1".into(),
        },
        Command::IssueEnterpriseTicket { service, kiosk, enterprise, .. } => match r % 3 {
            0 => *service = "SC-B1".into(),
            1 => *kiosk = "kiosk-2".into(),
            _ => *enterprise = eid("E9"),
        },
        Command::AddEnterprise { enterprise, by } => match r % 3 {
            0 => enterprise.code_hash = "h9".into(),
            1 => enterprise.name.push('!'),
            _ => other_user(by),
        },
        Command::SetSpecialist { enterprise, specialist, .. } => match r % 2 {
            0 => *enterprise = eid("E9"),
            _ => other_user(specialist),
        },
        Command::AddFollowUp { kind, note, .. } => match r % 2 {
            0 => *kind = FollowUpKind::Approval,
            _ => note.push('!'),
        },
        // 跨中心转办 (issue 18): every field of the target's answer and of the origin.
        Command::Refer { window, clerk, to } => match r % 9 {
            0 => *window = w("2"),
            1 => other_user(clerk),
            2 => to.hall.push('x'),
            3 => to.name.push('!'),
            4 => to.reason.push('!'),
            5 => to.note = None,
            6 => to.number = "A008".into(),
            7 => to.ticket = tid(91),
            _ => to.key = None,
        },
        Command::AcceptReferral { service, priority, origin, .. } => match r % 8 {
            0 => *service = "SC-B1".into(),
            1 => *priority = Some("elderly".into()),
            2 => origin.hall.push('x'),
            3 => origin.name.push('!'),
            4 => origin.reference.push('x'),
            5 => origin.number = "A002".into(),
            6 => origin.reason.push('!'),
            _ => origin.note = Some("注".into()),
        },
        Command::WithdrawReferral { from_hall, reference, ticket } => match r % 3 {
            0 => from_hall.push('x'),
            1 => reference.push('x'),
            _ => *ticket = Some(tid(91)),
        },
    }
    c
}
