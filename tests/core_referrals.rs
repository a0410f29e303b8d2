//! 跨中心转办 in the core (issue 18): the origin's `Refer` finishes the window's called or
//! serving ticket `incomplete` with the target's answer on it; the target's
//! `AcceptReferral` issues a remote ticket tagged with its origin, called only after its
//! check-in; both are counted by hall and reason, named in the audit, replayed, and
//! forgotten by a new day as its tickets are.

use crate::core_support;

use core_support::*;
use hallq::core::audit::{AuditAction, AuditDetail, AuditTrail};
use hallq::core::command::{Command, RejectionKind};
use hallq::core::model::{Outcome, TicketStatus};
use hallq::core::referral::{Origin, Sent};

fn sent(number: &str) -> Sent {
    Sent {
        hall: "town-b".into(),
        name: "西岭乡便民服务中心".into(),
        reason: "需属地办理".into(),
        note: Some("户籍在西岭乡".into()),
        number: number.into(),
        ticket: tid(90),
        key: Some("abcd".into()),
    }
}

fn refer(window: &str, clerk: &str, to: Sent) -> hallq::core::Envelope {
    cmd(Command::Refer { window: w(window), clerk: user(clerk), to: Box::new(to) })
}

fn origin(reason: &str) -> Origin {
    Origin {
        hall: "town-a".into(),
        name: "东河镇便民服务中心".into(),
        reference: "0123abcd".into(),
        number: "A001".into(),
        reason: reason.into(),
        note: None,
    }
}

fn accept(n: u32, service: &str, origin: Origin) -> hallq::core::Envelope {
    cmd(Command::AcceptReferral { id: tid(n), service: service.into(), priority: None, origin: Box::new(origin) })
}

#[test]
fn the_origin_finishes_the_called_ticket_incomplete_with_the_targets_number() {
    let mut h = Hall::new();
    h.must(&issue(1, "SC-A1", None));
    h.must(&open("1", "c1"));
    // Nothing at the window yet; another clerk's window; a waiting ticket is not held.
    h.check(&[refer("1", "c1", sent("A007"))], Expect::Rejected("no_ticket", RejectionKind::Conflict));
    h.must(&next("1", "c1"));
    h.check(&[refer("1", "c2", sent("A007"))], Expect::Rejected("not_your_window", RejectionKind::Forbidden));
    let blank = Sent { reason: " ".into(), ..sent("A007") };
    h.check(&[refer("1", "c1", blank)], Expect::Rejected("bad_referral", RejectionKind::BadInput));
    let long = Sent { note: Some("长".repeat(201)), ..sent("A007") };
    h.check(&[refer("1", "c1", long)], Expect::Rejected("bad_referral", RejectionKind::BadInput));
    // Called, not yet served: referred all the same (the visitor is at the counter).
    h.check(&[refer("1", "c1", sent("A007"))], Expect::Ok(ticket(1), &["ticket_referred"]));
    let t = h.ticket(1);
    assert_eq!((t.status, t.outcome, t.window), (TicketStatus::Done, Some(Outcome::Incomplete), Some(w("1"))));
    assert_eq!(h.state.referrals.sent[&tid(1)], sent("A007"));
    assert_eq!(h.state.windows[&w("1")].ticket, None, "the window is free");
    let figures = &h.state.stats[&day()];
    assert_eq!((figures.total.incomplete, figures.referrals.sent["town-b"]["需属地办理"]), (1, 1));
    // The audit names the clerk who referred.
    let mut trail = AuditTrail::new(h.state.setup.clone());
    let entries: Vec<_> = h.log.iter().filter_map(|(seq, r)| trail.observe(*seq, r)).collect();
    let last = entries.last().expect("an entry");
    assert_eq!((last.action, last.user.as_ref().map(|u| u.as_str())), (AuditAction::Refer, Some("c1")));
    assert!(matches!(&last.detail, AuditDetail::Referral { hall, .. } if hall == "town-b"), "{last:?}");
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "referrals replay");
}

#[test]
fn the_target_issues_a_remote_ticket_tagged_with_its_origin() {
    let mut h = Hall::new();
    h.check(&[accept(1, "NO-SUCH", origin("其他"))], Expect::Rejected("unknown_service", RejectionKind::BadInput));
    h.check(&[accept(1, "SC-A1", origin(""))], Expect::Rejected("bad_referral", RejectionKind::BadInput));
    let far = Origin { reference: "x".repeat(65), ..origin("其他") };
    h.check(&[accept(1, "SC-A1", far)], Expect::Rejected("bad_referral", RejectionKind::BadInput));
    h.check(
        &[accept(1, "SC-A1", origin("需属地办理"))],
        Expect::Ok(ticket(1), &["ticket_issued", "referral_accepted"]),
    );
    assert!(!h.ticket(1).checked_in, "a referred visitor checks in like an online ticket");
    assert_eq!(h.state.referrals.received[&tid(1)], origin("需属地办理"));
    assert_eq!(h.state.stats[&day()].referrals.taken["town-a"], 1);
    // Not called before the visitor checks in; then called like anyone.
    h.must(&open("1", "c1"));
    assert_eq!(h.must(&next("1", "c1")).reply, hallq::core::command::Reply::MaybeTicket(None));
    h.must(&cmd(Command::CheckInTicket { id: tid(1) }));
    h.check(&[next("1", "c1")], Expect::Ok(called(1), &["ticket_called"]));
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "accepted referrals replay");
}

#[test]
fn a_new_day_forgets_the_days_referrals_and_keeps_their_figures() {
    let mut h = Hall::new();
    h.must(&accept(1, "SC-A1", origin("其他")));
    h.must(&issue(2, "SC-A1", None));
    h.must(&open("1", "c1"));
    h.must(&next("1", "c1"));
    h.must(&refer("1", "c1", sent("A003")));
    h.step_at(t_on(1, 9, 0, 0), &tick());
    assert!(h.state.referrals.sent.is_empty() && h.state.referrals.received.is_empty());
    let figures = &h.state.stats[&day()].referrals;
    assert_eq!((figures.sent["town-b"]["需属地办理"], figures.taken["town-a"]), (1, 1));
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);
}

fn withdraw(n: u32, from_hall: &str, reference: &str) -> hallq::core::Envelope {
    cmd(Command::WithdrawReferral { from_hall: from_hall.into(), reference: reference.into(), ticket: Some(tid(n)) })
}

/// A withdrawal by the origin that never heard which ticket it got.
fn withdraw_any(from_hall: &str, reference: &str) -> hallq::core::Envelope {
    cmd(Command::WithdrawReferral { from_hall: from_hall.into(), reference: reference.into(), ticket: None })
}

#[test]
fn the_origin_withdraws_a_referral_it_could_not_record_before_the_check_in() {
    let mut h = Hall::new();
    h.must(&accept(1, "SC-A1", origin("其他")));
    h.must(&accept(2, "SC-A1", Origin { reference: "4567ef".into(), ..origin("其他") }));
    h.must(&issue(3, "SC-A1", None));
    // Only the referral's own origin and reference, only a ticket taken in by referral.
    h.check(&[withdraw(1, "town-x", "0123abcd")], Expect::Rejected("unknown_ticket", RejectionKind::NotFound));
    h.check(&[withdraw(1, "town-a", "4567ef")], Expect::Rejected("unknown_ticket", RejectionKind::NotFound));
    h.check(&[withdraw(3, "town-a", "0123abcd")], Expect::Rejected("unknown_ticket", RejectionKind::NotFound));
    h.check(&[withdraw(1, "town-a", "0123abcd")], Expect::Ok(ticket(1), &["ticket_cancelled", "referral_withdrawn"]));
    assert_eq!(h.ticket(1).status, TicketStatus::Cancelled);
    assert!(!h.state.referrals.received.contains_key(&tid(1)));
    assert_eq!(h.state.stats[&day()].referrals.taken["town-a"], 1, "the other referral still counts");
    h.check(&[withdraw(1, "town-a", "0123abcd")], Expect::Rejected("unknown_ticket", RejectionKind::NotFound));
    // A visitor who checked in keeps their number.
    h.must(&cmd(Command::CheckInTicket { id: tid(2) }));
    h.check(&[withdraw(2, "town-a", "4567ef")], Expect::Rejected("already_checked_in", RejectionKind::Conflict));
    h.check(&[withdraw_any("town-a", "4567ef")], Expect::Rejected("already_checked_in", RejectionKind::Conflict));
    // Without the ticket: whichever the reference got, once.
    h.must(&accept(4, "SC-A1", Origin { reference: "89ab".into(), ..origin("其他") }));
    h.check(&[withdraw_any("town-x", "89ab")], Expect::Rejected("unknown_ticket", RejectionKind::NotFound));
    h.check(&[withdraw_any("town-a", "89ab")], Expect::Ok(ticket(4), &["ticket_cancelled", "referral_withdrawn"]));
    h.check(&[withdraw_any("town-a", "89ab")], Expect::Rejected("unknown_ticket", RejectionKind::NotFound));
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "withdrawn referrals replay");
}
