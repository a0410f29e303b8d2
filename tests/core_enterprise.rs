//! 助企服务 in the core (issue 17 §3): an enterprise's ticket goes to its specialist's
//! window while the specialist is signed in there (not paused), else to the enterprise
//! queue B; the specialist's window closing while it waits returns it to B at its place,
//! never stranded; a visit is logged when it is done; admins add enterprises and name
//! specialists, staff add follow-ups within bounds; all of it replays and survives a
//! day-opening snapshot.

use crate::core_support;

use core_support::*;
use hallq::core::command::{Command, RejectionKind, Reply};
use hallq::core::enterprise::{EnterpriseDef, EnterpriseId, EnterprisePolicy, FollowUpKind, FOLLOW_UPS_MAX};
use hallq::core::model::{Outcome, TicketStatus};
use hallq::core::setup::Setup;
use hallq::core::HallState;

fn eid(s: &str) -> EnterpriseId {
    EnterpriseId::parse(s).unwrap()
}

/// The test hall with two enterprises: E1 served by c4 (window 4 serves only B), E2 by c1
/// (window 1 serves only A, so its tickets reach it only by name).
fn hall() -> Hall {
    let def = |id: &str, hash: &str, specialist: &str| EnterpriseDef {
        id: eid(id),
        name: format!("{id} 有限公司"),
        code_hash: hash.into(),
        specialist: user(specialist),
    };
    let seed = vec![def("E1", "h1", "c4"), def("E2", "h2", "c1")];
    Hall::with(Setup { enterprises: Some(EnterprisePolicy { queue: q("B"), seed, personal_hold_min: 10 }), ..setup() })
}

fn issue_for(n: u32, enterprise: &str) -> hallq::core::Envelope {
    cmd(Command::IssueEnterpriseTicket {
        id: tid(n),
        service: "SC-A1".into(),
        kiosk: "k1".into(),
        enterprise: eid(enterprise),
    })
}

fn follow_up(enterprise: &str, kind: FollowUpKind, date: &str, note: &str) -> hallq::core::Envelope {
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    cmd(Command::AddFollowUp { enterprise: eid(enterprise), kind, date, note: note.into(), by: user("c4") })
}

#[test]
fn the_ticket_goes_to_the_specialists_open_window_else_to_queue_b() {
    let mut h = hall();
    // c4 is not signed in: the enterprise queue, for any window serving B.
    h.check(&[issue_for(1, "E1")], Expect::Ok(ticket(1), &["ticket_issued", "enterprise_ticket_issued"]));
    assert_eq!((h.ticket(1).queue, h.ticket(1).target_window), (q("B"), None));
    // Signed in at window 4: the next one waits for window 4 by name.
    h.must(&open("4", "c4"));
    h.must(&issue_for(2, "E1"));
    assert_eq!((h.ticket(2).queue, h.ticket(2).target_window), (q("B"), Some(w("4"))));
    // E2's specialist works at window 1, which serves no B: the ticket still reaches it.
    h.must(&open("1", "c1"));
    h.must(&issue_for(3, "E2"));
    h.check(&[next("1", "c1")], Expect::Ok(called(3), &["ticket_called"]));
    // Window 4 takes its own before queue B's older ticket 1.
    h.check(&[next("4", "c4")], Expect::Ok(called(2), &["ticket_called"]));
    // A paused window is not open for a personal ticket.
    h.must(&serve("4", "c4"));
    h.must(&done("4", "c4", Outcome::Completed));
    h.must(&pause("4", "c4"));
    h.must(&issue_for(4, "E1"));
    assert_eq!(h.ticket(4).target_window, None);
    let day = &h.state.enterprises.days[&day()];
    assert_eq!((day.personal, day.queue), (2, 2), "{day:?}");
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "enterprise tickets replay");
}

#[test]
fn the_specialists_window_closing_returns_the_waiting_ticket_to_queue_b_at_its_place() {
    let mut h = hall();
    h.must(&issue(1, "SC-B1", None));
    h.must(&open("4", "c4"));
    h.must(&issue_for(2, "E1"));
    assert_eq!(h.ticket(2).target_window, Some(w("4")));
    h.check(&[close("4", "c4")], Expect::Ok(window("4"), &["ticket_returned", "window_closed"]));
    let t = h.ticket(2);
    assert_eq!((t.status, t.queue, t.target_window), (TicketStatus::Waiting, q("B"), None));
    // Window 2 serves B: it calls ticket 1 (issued first), then the enterprise's.
    h.must(&open("2", "c2"));
    h.check(&[next("2", "c2")], Expect::Ok(called(1), &["ticket_called"]));
    h.must(&serve("2", "c2"));
    h.must(&done("2", "c2", Outcome::Completed));
    h.check(&[next("2", "c2")], Expect::Ok(called(2), &["ticket_called"]));
    h.must(&serve("2", "c2"));
    h.must(&done("2", "c2", Outcome::Completed));
    // One visit, not by its specialist, counted for E1's specialist.
    let log = h.state.enterprises.log(&eid("E1")).expect("a log");
    assert_eq!(log.visits.len(), 1);
    assert!(!log.visits[0].personal);
    assert_eq!(log.visits[0].clerk, Some(user("c2")));
    assert_eq!(h.state.enterprises.days[&day()].visits[&user("c4")], 1);
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);
}

/// A personal line does not wait for ever for a paused window: past the hall's
/// `personal_hold_min` (10 here) the tick returns its enterprise tickets to queue B at
/// their places, numbers unchanged; a ticket sent to the window by other means (a
/// transfer to it) keeps waiting there; a shorter pause returns nothing.
#[test]
fn a_personal_line_goes_back_to_queue_b_when_the_pause_outlasts_the_hold() {
    let mut h = hall();
    h.must(&open("4", "c4"));
    h.must(&open("2", "c2"));
    h.must(&issue(3, "SC-A1", None));
    h.check(&[next("2", "c2")], Expect::Ok(called(3), &["ticket_called"]));
    h.must(&to_window("2", "c2", "4"));
    h.must(&issue(1, "SC-B1", None));
    h.must(&issue_for(2, "E1"));
    assert_eq!(h.ticket(2).target_window, Some(w("4")));
    let number = h.number(2);
    h.now = t(10, 0);
    h.must(&pause("4", "c4"));
    h.now = t(10, 9);
    let from = h.log.len();
    h.must(&tick());
    assert!(!h.types_since(from).contains(&"ticket_returned".to_string()), "9 minutes is within the hold");
    assert_eq!(h.ticket(2).target_window, Some(w("4")));
    h.now = t(10, 10);
    let from = h.log.len();
    h.must(&tick());
    assert_eq!(h.types_since(from).iter().filter(|t| *t == "ticket_returned").count(), 1, "only the enterprise's");
    let t2 = h.ticket(2);
    assert_eq!((t2.status, t2.queue, t2.target_window), (TicketStatus::Waiting, q("B"), None));
    assert_eq!(h.number(2), number, "its number unchanged");
    assert_eq!(h.ticket(3).target_window, Some(w("4")), "a transfer to the window still waits for it");
    // Queue B at its places: ticket 1 (issued first) before the enterprise's.
    h.check(&[next("2", "c2")], Expect::Ok(called(1), &["ticket_called"]));
    h.must(&serve("2", "c2"));
    h.must(&done("2", "c2", Outcome::Completed));
    h.check(&[next("2", "c2")], Expect::Ok(called(2), &["ticket_called"]));
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "the returns replay");
}

#[test]
fn unknown_enterprises_and_a_hall_without_a_registry_are_refused() {
    let mut h = hall();
    h.check(&[issue_for(1, "E9")], Expect::Rejected("unknown_enterprise", RejectionKind::NotFound));
    let mut plain = Hall::new();
    plain.check(&[issue_for(1, "E1")], Expect::Rejected("no_enterprises", RejectionKind::NotFound));
}

#[test]
fn admins_add_enterprises_and_specialists_and_staff_add_bounded_follow_ups_which_survive_a_snapshot() {
    let mut h = hall();
    let added = |id: &str, hash: &str| EnterpriseDef {
        id: eid(id),
        name: "  新增企业  ".into(),
        code_hash: hash.into(),
        specialist: user("c2"),
    };
    let add = |e: EnterpriseDef| cmd(Command::AddEnterprise { enterprise: e, by: user("admin") });
    h.check(&[add(added("E3", "h3"))], Expect::Ok(Reply::Nothing, &["enterprise_added"]));
    assert_eq!(h.state.enterprises.by_hash(&h.state.setup, "h3").map(|e| e.name), Some("新增企业".into()));
    h.check(&[add(added("E3", "h4"))], Expect::Rejected("enterprise_exists", RejectionKind::Conflict));
    h.check(&[add(added("E4", "h1"))], Expect::Rejected("enterprise_exists", RejectionKind::Conflict));
    let set = cmd(Command::SetSpecialist { enterprise: eid("E1"), specialist: user("c2"), by: user("admin") });
    h.check(&[set], Expect::Ok(Reply::Nothing, &["specialist_set"]));
    // Now E1's tickets go to c2's window 2.
    h.must(&open("2", "c2"));
    h.must(&issue_for(1, "E1"));
    assert_eq!(h.ticket(1).target_window, Some(w("2")));

    let note = "项目已立项，联系人电话 13912345678";
    h.check(
        &[follow_up("E1", FollowUpKind::Project, "2025-03-01", note)],
        Expect::Ok(Reply::Nothing, &["follow_up_added"]),
    );
    let kept = &h.state.enterprises.log(&eid("E1")).unwrap().follow_ups[0];
    assert!(!kept.note.contains("13912345678"), "a phone number in a note is masked: {}", kept.note);
    let long = "长".repeat(501);
    h.check(
        &[follow_up("E1", FollowUpKind::Referral, "2025-03-01", &long)],
        Expect::Rejected("note_required", RejectionKind::BadInput),
    );
    h.check(
        &[follow_up("E1", FollowUpKind::Referral, "2025-03-01", "  ")],
        Expect::Rejected("note_required", RejectionKind::BadInput),
    );
    h.check(
        &[follow_up("E1", FollowUpKind::Production, "2031-01-01", "投产")],
        Expect::Rejected("bad_follow_up_date", RejectionKind::BadInput),
    );
    h.check(
        &[follow_up("E9", FollowUpKind::Approval, "2025-03-01", "审批")],
        Expect::Rejected("unknown_enterprise", RejectionKind::NotFound),
    );
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);

    // A new day: the snapshot carries the registry's changes, the log and the figures.
    h.now = t_on(1, 8, 0, 0);
    h.must(&tick());
    let snap = h.state.day_snapshot().expect("a fresh day's snapshot");
    let restored = HallState::from_snapshot(h.state.setup.clone(), snap);
    assert_eq!(restored.enterprises, h.state.enterprises);
    assert!(restored.enterprises.tickets.is_empty(), "yesterday's tickets are gone");
    assert_eq!(restored.enterprises.find(&restored.setup, &eid("E1")).map(|e| e.specialist), Some(user("c2")));
}

#[test]
fn an_enterprise_log_holds_at_most_its_bound_of_follow_ups() {
    let mut h = hall();
    for _ in 0..FOLLOW_UPS_MAX {
        let date = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let c = Command::AddFollowUp {
            enterprise: eid("E2"),
            kind: FollowUpKind::Referral,
            date,
            note: "转介".into(),
            by: user("c1"),
        };
        h.step_at(t(9, 0), &cmd(c)).result.expect("under the bound");
    }
    h.check(
        &[follow_up("E2", FollowUpKind::Referral, "2025-03-01", "one more")],
        Expect::Rejected("follow_ups_full", RejectionKind::Conflict),
    );
}

#[test]
fn a_full_registry_and_a_bad_name_are_refused() {
    let mut h = hall();
    let add = |id: &str, name: &str| {
        let e = EnterpriseDef { id: eid(id), name: name.into(), code_hash: format!("x{id}"), specialist: user("c1") };
        cmd(Command::AddEnterprise { enterprise: e, by: user("admin") })
    };
    h.check(&[add("E5", &"名".repeat(101))], Expect::Rejected("bad_enterprise_name", RejectionKind::BadInput));
    h.check(&[add("E5", " \u{200b} ")], Expect::Rejected("bad_enterprise_name", RejectionKind::BadInput));
    let seed = (0..hallq::core::enterprise::ENTERPRISES_MAX)
        .map(|n| EnterpriseDef {
            id: eid(&format!("S{n}")),
            name: "企业".into(),
            code_hash: format!("s{n}"),
            specialist: user("c1"),
        })
        .collect();
    let mut full = Hall::with(Setup {
        enterprises: Some(EnterprisePolicy { queue: q("B"), seed, personal_hold_min: 10 }),
        ..setup()
    });
    full.check(&[add("E5", "再一家")], Expect::Rejected("enterprises_full", RejectionKind::Conflict));
}
