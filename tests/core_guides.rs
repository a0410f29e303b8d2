//! 全程领办 in the core: a guide's assisted issue (audited to the guide), an escort taken
//! by number and let go, the hall's escort priority placing a waiting ticket by its new
//! class, the bound on escorts per guide and the other refusals, the figures per guide
//! (waits at each first call, ratings also after a release), and that all of it replays,
//! and that a day's opening ends the day's escorts but keeps its figures in the snapshot.

use crate::core_support;

use core_support::*;
use hallq::core::audit::{AuditAction, AuditTrail};
use hallq::core::guide::GuidePolicy;
use hallq::core::hall::HallState;
use hallq::core::model::{Outcome, PriorityClass};
use hallq::core::setup::Setup;
use hallq::core::RejectionKind::{Conflict, NotFound};
use hallq::core::{Command, Envelope};

/// The test hall: a guide escorts at most two live visitors, and an escorted ticket
/// without a class is called as `elderly`.
fn hall() -> Setup {
    let escort_priority = Some(PriorityClass::parse("elderly").expect("a class"));
    Setup { guides: GuidePolicy { escorts_max: 2, escort_priority }, ..setup() }
}

fn assisted(n: u32, service: &str, guide: &str, escort: bool) -> Envelope {
    cmd(Command::IssueAssisted { id: tid(n), service: service.into(), priority: None, guide: user(guide), escort })
}

fn escort(number: &str, guide: &str) -> Envelope {
    cmd(Command::Escort { number: number.into(), guide: user(guide) })
}

fn release(number: &str, guide: &str) -> Envelope {
    cmd(Command::ReleaseEscort { number: number.into(), guide: user(guide) })
}

#[test]
fn a_guide_issues_escorts_releases_and_the_trail_and_figures_name_the_guide() {
    let mut h = Hall::with(hall());
    const ISSUED: &[&str] = &["ticket_issued", "ticket_assisted", "ticket_escorted"];
    h.check(&[open("1", "c1"), assisted(1, "SC-A1", "g1", true)], Expect::Ok(ticket(1), ISSUED));
    assert_eq!(h.ticket(1).priority.as_ref().map(|p| p.as_str()), Some("elderly"), "the hall's escort class");
    h.check(&[assisted(2, "SC-A2", "g1", false)], Expect::Ok(ticket(2), &["ticket_issued", "ticket_assisted"]));
    assert_eq!(h.ticket(2).priority, None, "assisted without escort: an ordinary ticket");
    h.check(&[issue(3, "SC-A1", None)], Expect::Ok(ticket(3), &["ticket_issued"]));
    let (two, three) = (h.number(2), h.number(3));
    // The bound: g1 escorts ticket 1 and takes ticket 3; a third is refused.
    h.check(&[escort(&three.to_lowercase(), "g1")], Expect::Ok(ticket(3), &["ticket_escorted"]));
    assert_eq!(h.ticket(3).priority.as_ref().map(|p| p.as_str()), Some("elderly"));
    h.check(&[escort(&three, "g1")], Expect::Ok(ticket(3), &[]));
    h.check(&[escort(&two, "g1")], Expect::Rejected("escorts_full", Conflict));
    h.check(&[escort(&three, "g2")], Expect::Rejected("escorted_by_other", Conflict));
    h.check(&[release(&three, "g2")], Expect::Rejected("not_escorted", Conflict));
    h.check(&[escort("A999", "g1")], Expect::Rejected("unknown_number", NotFound));
    h.check(&[escort(&"A".repeat(500), "g1")], Expect::Rejected("unknown_number", NotFound));
    // Ticket 3, escorted as elderly, goes before ticket 2 although issued after it (at
    // another window: window 1 owes the ordinary line a turn after its priority call).
    h.check(&[next("1", "c1")], Expect::Ok(called(1), &["ticket_called"]));
    h.check(&[open("2", "c2"), next("2", "c2")], Expect::Ok(called(3), &["ticket_called"]));
    h.check(&[release(&three, "g1")], Expect::Ok(ticket(3), &["escort_released"]));
    h.check(&[escort(&two, "g1")], Expect::Ok(ticket(2), &["ticket_escorted"]));
    let finish = [serve("2", "c2"), done("2", "c2", Outcome::Completed), rate(3, 5, None)];
    h.check(&finish, Expect::Ok(ticket(3), &["ticket_rated"]));
    h.check(&[escort(&three, "g2")], Expect::Rejected("not_escortable", Conflict));

    let day = h.state.stats.values().next_back().expect("a day").guides.clone();
    let g1 = &day[&user("g1")];
    assert_eq!((g1.assisted, g1.escorted, g1.released), (2, 3, 1));
    assert_eq!(g1.wait.count, 2, "tickets 1 and 3 were called under escort");
    assert_eq!((g1.rated, g1.score_sum), (1, 5), "ticket 3 rated after its release counts to g1");
    assert!(!day.contains_key(&user("g2")), "refusals count nothing");

    let mut trail = AuditTrail::new(h.state.setup.clone());
    let guided: Vec<_> = h
        .log
        .iter()
        .filter_map(|(seq, r)| trail.observe(*seq, r))
        .filter(|e| matches!(e.action, AuditAction::Assist | AuditAction::Escort | AuditAction::ReleaseEscort))
        .map(|e| (e.user.map(|u| u.to_string()), e.action.as_str(), e.ticket.map(|t| t.to_string())))
        .collect();
    let g1 = || Some("g1".to_string());
    let expected = [
        (g1(), "assist", Some(h.number(1))),
        (g1(), "escort", Some(h.number(1))),
        (g1(), "assist", Some(two.clone())),
        (g1(), "escort", Some(three.clone())),
        (g1(), "release_escort", Some(three.clone())),
        (g1(), "escort", Some(two.clone())),
    ];
    assert_eq!(guided, expected);
}

#[test]
fn escorts_replay_and_a_day_opening_ends_them_but_keeps_the_figures() {
    let mut h = Hall::with(hall());
    h.must(&assisted(1, "SC-A1", "g1", true));
    h.must(&issue(2, "SC-A1", None));
    h.must(&escort(&h.number(2), "g2"));
    h.must(&release(&h.number(2), "g2"));
    let restarted = replay(h.state.setup.clone(), &h.log);
    assert_eq!(restarted, h.state, "a restart replays to the same escorts");
    assert_eq!(restarted.guides.guide_of(&tid(1)), Some(&user("g1")));
    assert_eq!(restarted.guides.guide_of(&tid(2)), None, "released");
    assert_eq!(restarted.guides.last_guide_of(&tid(2)), Some(&user("g2")));

    h.now = t_on(1, 8, 0, 0);
    h.must(&tick());
    assert!(h.state.guides.escorts.is_empty() && h.state.guides.assisted.is_empty(), "yesterday's tickets are gone");
    let snap = h.state.day_snapshot().expect("a snapshot right after the day opened");
    let snap = serde_json::from_slice(&serde_json::to_vec(&snap).expect("serialises")).expect("reads back");
    let restored = HallState::from_snapshot(h.state.setup.clone(), snap);
    assert_eq!(restored, h.state, "snapshot == live state");
    let yesterday = restored.stats.values().next().expect("the first day");
    assert_eq!(yesterday.guides[&user("g1")].assisted, 1);
    assert_eq!(yesterday.guides[&user("g2")].released, 1);
    // Under one idempotency key a guide's issue is one command: another escort flag is not it.
    let mut h = Hall::with(hall());
    h.check(
        &[keyed(assisted(1, "SC-A1", "g1", true), "k1")],
        Expect::Ok(ticket(1), &["ticket_issued", "ticket_assisted", "ticket_escorted"]),
    );
    h.check(&[keyed(assisted(2, "SC-A1", "g1", false), "k1")], Expect::Rejected("idempotency_conflict", Conflict));
}
