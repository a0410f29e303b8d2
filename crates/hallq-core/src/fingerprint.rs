//! A command's fingerprint: what makes two requests under one idempotency key the same
//! command, so that a repeat gets the first answer and anything else is refused
//! (`Rejection::IdempotencyConflict`) instead of being answered with another command's
//! result.
//!
//! The fingerprint covers every field a caller chose — the kind of command, its target
//! (user, window, ticket, booking, case, alert) and its body — and leaves out only the
//! values the shell draws afresh for each request: a new ticket's id and a new booking's
//! code. A password's argon2 hash is covered: the shell salts a keyed request's hash from
//! its key and user (`http::users`), so a retry with the same password gives the same
//! hash and one with another password does not.
//!
//! It is SHA-256 over a canonical encoding written out field by field below (each field
//! length-prefixed, so no two commands share an encoding), cut to 128 bits and stored as
//! hex beside the key in the log. It depends on nothing but the command: no clock, no
//! state, no randomness, and not on serde's layout, so a replay computes the same value.

use sha2::{Digest, Sha256};

use super::command::{Command, Reply};
use super::model::{Outcome, TransferTarget};
use super::staff::StaffRole;

/// Bytes of SHA-256 kept: 128 bits, beyond reach of an accidental or a crafted collision.
const FINGERPRINT_BYTES: usize = 16;

/// What the state keeps of a command that carried an idempotency key: its fingerprint and
/// the answer it got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyedAnswer {
    pub command: String,
    pub reply: Reply,
}

/// The fingerprint of `command`, as lowercase hex.
pub fn fingerprint(command: &Command) -> String {
    let mut c = Canon(Sha256::new());
    encode(&mut c, command);
    c.0.finalize()[..FINGERPRINT_BYTES].iter().map(|b| format!("{b:02x}")).collect()
}

/// The canonical encoding, fed straight into the hash.
struct Canon(Sha256);

impl Canon {
    fn str(&mut self, s: &str) -> &mut Self {
        self.0.update((s.len() as u64).to_le_bytes());
        self.0.update(s.as_bytes());
        self
    }

    fn opt(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.str("some").str(s),
            None => self.str("none"),
        }
    }

    fn flag(&mut self, b: bool) -> &mut Self {
        self.str(if b { "true" } else { "false" })
    }

    fn num(&mut self, n: u64) -> &mut Self {
        self.str(&n.to_string())
    }
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Completed => "completed",
        Outcome::Incomplete => "incomplete",
    }
}

fn role(r: StaffRole) -> &'static str {
    match r {
        StaffRole::Clerk => "clerk",
        StaffRole::Supervisor => "supervisor",
        StaffRole::Admin => "admin",
        StaffRole::Guide => "guide",
    }
}

fn encode(c: &mut Canon, command: &Command) {
    // Each arm leaves the writer where it ends; the value is not needed.
    let _: &mut Canon = match command {
        // `id` is drawn afresh for every request: a retry carries another one.
        Command::IssueTicket { id: _, service, priority, kiosk, remote } => {
            c.str("issue_ticket").str(service).opt(priority.as_deref()).str(kiosk).flag(*remote)
        }
        Command::CheckInTicket { id } => c.str("check_in_ticket").str(&id.to_string()),
        // `code` is drawn afresh for every request; `addr_hash` names where the request came
        // from, not what it asks (a phone that moves from the hall's Wi-Fi to its carrier
        // retries the same booking).
        Command::BookAppointment { code: _, service, day, slot, phone_hash, window, addr_hash: _ } => {
            let window = window.map(|w| w.to_string());
            let c = c.str("book_appointment").str(service).str(&day.to_string()).str(&slot.to_string());
            c.str(phone_hash).opt(window.as_deref())
        }
        Command::CancelAppointment { code } => c.str("cancel_appointment").str(code),
        // `id` is the fresh id of the ticket the booking becomes.
        Command::CheckInAppointment { code, id: _, kiosk } => c.str("check_in_appointment").str(code).str(kiosk),
        Command::CancelTicket { id } => c.str("cancel_ticket").str(&id.to_string()),
        Command::RateTicket { id, score, comment, reason } => {
            let c = c.str("rate_ticket").str(&id.to_string()).num(u64::from(*score));
            c.opt(comment.as_deref()).opt(reason.as_deref())
        }
        Command::RejoinTicket { id } => c.str("rejoin_ticket").str(&id.to_string()),
        Command::OpenWindow { window, clerk } => at_window(c, "open_window", window, clerk),
        Command::CallNext { window, clerk } => at_window(c, "call_next", window, clerk),
        Command::CallNumber { window, clerk, number, reason } => {
            at_window(c, "call_number", window, clerk).str(number).str(reason)
        }
        Command::Recall { window, clerk } => at_window(c, "recall", window, clerk),
        Command::Serve { window, clerk } => at_window(c, "serve", window, clerk),
        Command::Done { window, clerk, outcome: o } => at_window(c, "done", window, clerk).str(outcome(*o)),
        Command::NoShow { window, clerk } => at_window(c, "no_show", window, clerk),
        Command::Escalate { window, clerk, reason, note } => {
            at_window(c, "escalate", window, clerk).str(reason).opt(note.as_deref())
        }
        Command::EscalationCallback { case, by, reached, note } => {
            c.str("escalation_callback").str(case).str(by.as_str()).flag(*reached).str(note)
        }
        Command::ResolveEscalation { case, by, note, refer_to } => {
            c.str("resolve_escalation").str(case).str(by.as_str()).str(note).opt(refer_to.as_deref())
        }
        Command::Transfer { window, clerk, to } => target(at_window(c, "transfer", window, clerk), to),
        Command::Park { window, clerk } => at_window(c, "park", window, clerk),
        Command::Unpark { window, clerk, id } => at_window(c, "unpark", window, clerk).str(&id.to_string()),
        // A reason is added only when given, so that a pause without one keeps the
        // fingerprint it had before pauses took reasons.
        Command::Pause { window, clerk, reason: None } => at_window(c, "pause", window, clerk),
        Command::Pause { window, clerk, reason: Some(r) } => at_window(c, "pause", window, clerk).str("reason").str(r),
        Command::Resume { window, clerk } => at_window(c, "resume", window, clerk),
        Command::Close { window, clerk } => at_window(c, "close", window, clerk),
        Command::Tick => c.str("tick"),
        Command::Reconcile => c.str("reconcile"),
        Command::CaseCallback { case, by, reached, note } => {
            c.str("case_callback").str(case).str(by.as_str()).flag(*reached).str(note)
        }
        Command::RectifyCase { case, by, note } => c.str("rectify_case").str(case).str(by.as_str()).str(note),
        Command::LogIn { .. }
        | Command::LogOut { .. }
        | Command::DisableUser { .. }
        | Command::EnableUser { .. }
        | Command::AddUser { .. }
        | Command::ResetPassword { .. }
        | Command::SetWindowQueues { .. }
        | Command::ForceCloseWindow { .. }
        | Command::AckAlert { .. }
        | Command::PrinterReport { .. } => staff(c, command),
        Command::IssueAssisted { .. } | Command::Escort { .. } | Command::ReleaseEscort { .. } => guides(c, command),
        Command::ArmStoreNext { .. }
        | Command::DoneAndNext { .. }
        | Command::WalkDirect { .. }
        | Command::IssueForPerson { .. } => moves(c, command),
        Command::IssueEnterpriseTicket { .. }
        | Command::AddEnterprise { .. }
        | Command::SetSpecialist { .. }
        | Command::AddFollowUp { .. } => enterprises(c, command),
        Command::Refer { .. } | Command::AcceptReferral { .. } | Command::WithdrawReferral { .. } => {
            referrals(c, command)
        }
    };
}

/// The staff's, admins' and supervision's commands (sign-in, users, passwords, windows,
/// alerts, printers). `encode` sends only these here.
fn staff<'c>(c: &'c mut Canon, command: &Command) -> &'c mut Canon {
    match command {
        Command::LogIn { user, session_ms } => c.str("log_in").str(user.as_str()).str(&session_ms.to_string()),
        Command::LogOut { user, elsewhere } => {
            c.str("log_out").str(user.as_str()).str(if *elsewhere { "elsewhere" } else { "last" })
        }
        Command::DisableUser { name, by } => c.str("disable_user").str(name.as_str()).str(by.as_str()),
        Command::EnableUser { name, by } => c.str("enable_user").str(name.as_str()).str(by.as_str()),
        Command::AddUser { name, role: r, password_hash, by } => {
            c.str("add_user").str(name.as_str()).str(role(*r)).str(&password_hash.0).str(by.as_str())
        }
        Command::ResetPassword { name, password_hash, by } => {
            c.str("reset_password").str(name.as_str()).str(&password_hash.0).str(by.as_str())
        }
        Command::SetWindowQueues { window, queues, by } => {
            let c = c.str("set_window_queues").str(window.as_str()).num(queues.len() as u64);
            queues.iter().fold(c, |c, q| c.str(q.as_str())).str(by.as_str())
        }
        Command::ForceCloseWindow { window, by } => c.str("force_close_window").str(window.as_str()).str(by.as_str()),
        Command::AckAlert { id, by } => c.str("ack_alert").num(*id).str(by.as_str()),
        Command::PrinterReport { kiosk, fault } => {
            c.str("printer_report").str(kiosk.as_str()).opt(fault.map(|f| f.as_str()))
        }
        _ => c,
    }
}

/// 全程领办 (issue 17 §1). `encode` sends only these here.
fn guides<'c>(c: &'c mut Canon, command: &Command) -> &'c mut Canon {
    match command {
        // 全程领办 (issue 17 §1). `id` is drawn afresh for every request.
        Command::IssueAssisted { id: _, service, priority, guide, escort } => {
            c.str("issue_assisted").str(service).opt(priority.as_deref()).str(guide.as_str()).flag(*escort)
        }
        Command::Escort { number, guide } => c.str("escort").str(number).str(guide.as_str()),
        Command::ReleaseEscort { number, guide } => c.str("release_escort").str(number).str(guide.as_str()),
        _ => c,
    }
}

/// The clerk's moves (issue 17 §4). `encode` sends only these here.
fn moves<'c>(c: &'c mut Canon, command: &Command) -> &'c mut Canon {
    match command {
        // Issue 17 §4, the clerk's moves; `id`s are drawn afresh for every request.
        Command::ArmStoreNext { window, clerk, armed } => at_window(c, "arm_store_next", window, clerk).flag(*armed),
        Command::DoneAndNext { window, clerk, outcome: o } => {
            at_window(c, "done_and_next", window, clerk).str(outcome(*o))
        }
        Command::WalkDirect { window, clerk, id: _, service } => {
            at_window(c, "walk_direct", window, clerk).str(service)
        }
        Command::IssueForPerson { id: _, service, priority, kiosk, person, remote } => {
            c.str("issue_for_person").str(service).opt(priority.as_deref()).str(kiosk).str(person).flag(*remote)
        }
        _ => c,
    }
}

/// 助企服务 (issue 17 §3). `encode` sends only these here.
fn enterprises<'c>(c: &'c mut Canon, command: &Command) -> &'c mut Canon {
    match command {
        // 助企服务 (issue 17 §3). `id` is drawn afresh for every request.
        Command::IssueEnterpriseTicket { id: _, service, kiosk, enterprise } => {
            c.str("issue_enterprise_ticket").str(service).str(kiosk).str(enterprise.as_str())
        }
        Command::AddEnterprise { enterprise: e, by } => {
            let c = c.str("add_enterprise").str(e.id.as_str()).str(&e.name).str(&e.code_hash);
            c.str(e.specialist.as_str()).str(by.as_str())
        }
        Command::SetSpecialist { enterprise, specialist, by } => {
            c.str("set_specialist").str(enterprise.as_str()).str(specialist.as_str()).str(by.as_str())
        }
        Command::AddFollowUp { enterprise, kind, date, note, by } => {
            let c = c.str("add_follow_up").str(enterprise.as_str()).str(kind.as_str()).str(&date.to_string());
            c.str(note).str(by.as_str())
        }
        _ => c,
    }
}

/// 跨中心转办 (issue 18). `encode` sends only these here. Every field of the target's
/// answer counts: a retry after the target answered carries the same answer (the target's
/// key for it is the origin ticket's), so it is the same command.
fn referrals<'c>(c: &'c mut Canon, command: &Command) -> &'c mut Canon {
    match command {
        Command::Refer { window, clerk, to } => {
            let c = at_window(c, "refer", window, clerk).str(&to.hall).str(&to.name).str(&to.reason);
            let c = c.opt(to.note.as_deref()).str(&to.number).str(&to.ticket.to_string());
            c.opt(to.key.as_deref())
        }
        // `id` is drawn afresh for every request.
        Command::AcceptReferral { id: _, service, priority, origin: o } => {
            let c = c.str("accept_referral").str(service).opt(priority.as_deref());
            let c = c.str(&o.hall).str(&o.name).str(&o.reference).str(&o.number).str(&o.reason);
            c.opt(o.note.as_deref())
        }
        Command::WithdrawReferral { from_hall, reference, ticket } => {
            c.str("withdraw_referral").str(from_hall).str(reference).opt(ticket.map(|t| t.to_string()).as_deref())
        }
        _ => c,
    }
}

fn target<'c>(c: &'c mut Canon, to: &TransferTarget) -> &'c mut Canon {
    match to {
        TransferTarget::Queue(q) => c.str("queue").str(q.as_str()),
        TransferTarget::Window(w) => c.str("window").str(w.as_str()),
    }
}

fn at_window<'c>(
    c: &'c mut Canon,
    what: &str,
    window: &super::model::WindowId,
    clerk: &super::model::UserName,
) -> &'c mut Canon {
    c.str(what).str(window.as_str()).str(clerk.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TicketId, UserName, WindowId};

    fn next(window: &str, clerk: &str) -> Command {
        Command::CallNext { window: WindowId::parse(window).unwrap(), clerk: UserName::parse(clerk).unwrap() }
    }

    #[test]
    fn the_target_and_the_body_count_and_fresh_ids_do_not() {
        assert_eq!(fingerprint(&next("1", "c1")), fingerprint(&next("1", "c1")));
        assert_ne!(fingerprint(&next("1", "c1")), fingerprint(&next("2", "c1")));
        assert_ne!(fingerprint(&next("1", "c1")), fingerprint(&next("1", "c2")));
        let issue = |n: u8, service: &str| Command::IssueTicket {
            id: TicketId::from_bytes([n; 16]),
            service: service.to_string(),
            priority: None,
            kiosk: "kiosk1".to_string(),
            remote: false,
        };
        assert_eq!(fingerprint(&issue(1, "SC-A1")), fingerprint(&issue(2, "SC-A1")));
        assert_ne!(fingerprint(&issue(1, "SC-A1")), fingerprint(&issue(1, "SC-A2")));
        // Length prefixes keep fields apart: "ab"+"c" is not "a"+"bc".
        let cb = |case: &str, note: &str| Command::RectifyCase {
            case: case.to_string(),
            by: UserName::parse("sup").unwrap(),
            note: note.to_string(),
        };
        assert_ne!(fingerprint(&cb("ab", "c")), fingerprint(&cb("a", "bc")));
        assert_eq!(fingerprint(&next("1", "c1")).len(), 2 * FINGERPRINT_BYTES);
    }
}
