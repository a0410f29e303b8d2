//! 办不成事 in the core: `not_done` with a reason sends the ticket to the escalation queue
//! with its number and its place by issue time and opens a case due in working days of the
//! hall's calendar; what is refused (another window's clerk, an unknown reason, a long
//! note, a hall without escalation, a second escalation); call-backs and the case's end;
//! the figures; and that all of it replays, survives a day-opening snapshot, and that a
//! later day's reader passes over records of a case it never saw.

use crate::core_support;

use chrono::NaiveDate;
use core_support::*;
use hallq::core::calendar::Calendar;
use hallq::core::day_reader::DayReader;
use hallq::core::escalation::{Escalation, EscalationPolicy, EscalationStatus, ESCALATIONS_PER_DAY_MAX};
use hallq::core::facts::What;
use hallq::core::hall::HallState;
use hallq::core::model::{Outcome, TicketStatus};
use hallq::core::rating::RatingPolicy;
use hallq::core::setup::{ItemDef, QueueDef, Setup, WindowDef};
use hallq::core::RejectionKind::{BadInput, Conflict, Forbidden, NotFound, Unavailable};
use hallq::core::{Command, Envelope, Reply};

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// The test hall with queue Z (window 5, item SC-Z1) for stuck matters, handled by `h1`;
/// Wednesday 2025-03-19 a holiday.
fn hall() -> Setup {
    let mut s = setup();
    s.queues.push(QueueDef { id: q("Z"), name: "办不成事请找我".into(), prefix: "Z".into() });
    s.windows
        .push(WindowDef { id: w("5"), name: "5号窗口".into(), queues: vec![q("Z")], prefer: Default::default() });
    let mut item = s.items[0].clone();
    item.code = hallq::core::model::ServiceCode::parse("SC-Z1").unwrap();
    item.queue = q("Z");
    std::sync::Arc::make_mut(&mut s.items).push(ItemDef { name: "办不成事反映".into(), ..item });
    let calendar = Calendar { holidays: [date("2025-03-19")].into_iter().collect(), ..Calendar::default() };
    s.rating = RatingPolicy { calendar, ..RatingPolicy::default() };
    s.escalation = Some(EscalationPolicy {
        queue: q("Z"),
        case_days: 5,
        handler: user("h1"),
        reasons: EscalationPolicy::default_reasons(),
    });
    s
}

fn escalate(window: &str, clerk: &str, reason: &str, note: Option<&str>) -> Envelope {
    cmd(Command::Escalate { window: w(window), clerk: user(clerk), reason: reason.into(), note: note.map(Into::into) })
}

fn callback(case: &str, note: &str) -> Envelope {
    cmd(Command::EscalationCallback { case: case.into(), by: user("h1"), reached: true, note: note.into() })
}

fn resolve(case: &str, note: &str, refer_to: Option<&str>) -> Envelope {
    cmd(Command::ResolveEscalation {
        case: case.into(),
        by: user("h1"),
        note: note.into(),
        refer_to: refer_to.map(Into::into),
    })
}

fn case_reply(id: &str) -> Reply {
    Reply::Escalation(id.into())
}

/// Ticket 1 (SC-A1) issued first, ticket 2 (SC-Z1) after it; window 1 serves ticket 1.
fn stuck_at_window_1(h: &mut Hall) {
    h.now = t_on(4, 9, 0, 0); // Friday 2025-03-14
    let script = [open("1", "c1"), issue(1, "SC-A1", None), issue(2, "SC-Z1", None), next("1", "c1"), serve("1", "c1")];
    for env in &script {
        h.must(env);
    }
}

#[test]
fn not_done_sends_the_ticket_to_the_escalation_queue_at_its_place_and_opens_a_case() {
    let mut h = Hall::with(hall());
    stuck_at_window_1(&mut h);
    h.must(&open("5", "c5"));
    h.check(&[escalate("5", "c5", "policy", None)], Expect::Rejected("no_ticket", Conflict));
    h.check(&[escalate("1", "c2", "policy", None)], Expect::Rejected("not_your_window", Forbidden));
    h.check(&[escalate("1", "c1", "bribe", None)], Expect::Rejected("unknown_escalation_reason", BadInput));
    h.check(&[escalate("1", "c1", "policy", Some(&"长".repeat(501)))], Expect::Rejected("note_required", BadInput));
    let number = h.number(1);
    let step = h.step(&escalate("1", "c1", "cross_department", Some(" 电话13800138000 ")));
    assert_eq!(step.result.map(|d| d.reply), Ok(ticket(1)));
    assert_eq!(h.types_since(h.log.len() - 1), ["ticket_escalated"]);
    let t = h.ticket(1);
    assert_eq!((t.status, t.queue, t.number.to_string()), (TicketStatus::Waiting, q("Z"), number));
    let case = h.state.escalations.cases.get("E20250314-001").expect("the case is open");
    // Mon 17, Tue 18, (Wed 19 a holiday), Thu 20, Fri 21, Mon 24.
    assert_eq!(case.due, date("2025-03-24"));
    assert_eq!(
        (case.reason.as_str(), case.queue, case.clerk.as_ref()),
        ("cross_department", q("A"), Some(&user("c1")))
    );
    assert_eq!((case.handler.as_str(), case.note.as_deref()), ("h1", Some("电话***********")));
    assert_eq!(case.status(date("2025-03-24")), EscalationStatus::Open);
    assert_eq!(case.status(date("2025-03-25")), EscalationStatus::Overdue);
    let facts: Vec<_> = step.facts.into_iter().map(|f| f.what).collect();
    assert!(matches!(&facts[0], What::Escalated { from, .. } if *from == q("A")), "{facts:?}");
    assert!(matches!(&facts[1], What::Joined { ticket, .. } if ticket.queue == q("Z")), "{facts:?}");
    let f = &h.state.stats[&date("2025-03-14")];
    assert_eq!((f.total.escalated, f.by_window[&w("1")].escalated, f.by_queue[&q("A")].escalated), (1, 1, 1));
    // Window 5 calls the stuck matter before ticket 2: its place is its issue.
    h.check(&[next("5", "c5")], Expect::Ok(called(1), &["ticket_called"]));
    h.check(&[serve("5", "c5"), escalate("5", "c5", "other", None)], Expect::Rejected("already_escalated", Conflict));
    h.check(&[done("5", "c5", Outcome::Completed)], Expect::Ok(ticket(1), &["ticket_done"]));
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "the escalation replays");
}

#[test]
fn a_hall_without_escalation_refuses_not_done() {
    let mut h = Hall::with(Setup { escalation: None, ..hall() });
    stuck_at_window_1(&mut h);
    h.check(&[escalate("1", "c1", "policy", None)], Expect::Rejected("no_escalation", NotFound));
}

#[test]
fn a_day_opens_at_most_its_cap_of_cases() {
    let mut h = Hall::with(hall());
    stuck_at_window_1(&mut h);
    h.must(&escalate("1", "c1", "policy", None));
    let first = h.state.escalations.cases["E20250314-001"].clone();
    // The cap's worth of the day's cases, as if escalated before.
    for n in 2..=ESCALATIONS_PER_DAY_MAX {
        let id = format!("E20250314-{n:03}");
        h.state.escalations.cases.insert(id.clone(), Escalation { id, ..first.clone() });
    }
    h.must(&issue(3, "SC-A1", None));
    h.must(&next("1", "c1"));
    // Not `check`: the cases put in above are in no record, so the log does not replay.
    let refused = h.step(&escalate("1", "c1", "policy", None)).result.expect_err("refused at the cap");
    assert_eq!((refused.code(), refused.kind()), ("escalations_full", Unavailable));
}

#[test]
fn a_case_is_called_back_and_referred_on_once_and_counts_on_its_day() {
    let mut h = Hall::with(hall());
    stuck_at_window_1(&mut h);
    h.must(&escalate("1", "c1", "missing_materials", None));
    let id = "E20250314-001";
    h.check(&[callback("E20250314-009", "x")], Expect::Rejected("unknown_case", NotFound));
    h.check(&[callback(id, "\u{200B} ")], Expect::Rejected("note_required", BadInput));
    h.check(&[callback(id, "已联系群众")], Expect::Ok(case_reply(id), &["escalation_callback"]));
    h.now = t_on(5, 9, 0, 0);
    h.check(&[resolve(id, "转办", Some(&"部".repeat(65)))], Expect::Rejected("department_required", BadInput));
    h.check(&[resolve(id, "已协调", Some("不动产登记中心"))], Expect::Ok(case_reply(id), &["escalation_resolved"]));
    h.check(&[resolve(id, "again", None)], Expect::Rejected("case_closed", Conflict));
    h.check(&[callback(id, "again")], Expect::Rejected("case_closed", Conflict));
    let case = &h.state.escalations.cases[id];
    assert_eq!(case.status(date("2025-04-01")), EscalationStatus::Referred);
    let opened = &h.state.stats[&date("2025-03-14")].total;
    assert_eq!((opened.escalations_resolved, opened.escalations_referred), (1, 1), "counted on the day it opened");
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);
}

#[test]
fn cases_survive_a_day_opening_snapshot_and_a_later_days_reader_passes_over_them() {
    let mut h = Hall::with(hall());
    stuck_at_window_1(&mut h);
    h.must(&escalate("1", "c1", "system_fault", None));
    h.now = t_on(5, 8, 0, 0);
    h.must(&tick());
    assert!(h.state.escalations.by_ticket.is_empty(), "yesterday's tickets are gone");
    let snap = h.state.day_snapshot().expect("a snapshot right after the day opened");
    assert_eq!(snap.escalations.len(), 1);
    let snap = serde_json::from_slice(&serde_json::to_vec(&snap).expect("serialises")).expect("reads back");
    let mut restored = HallState::from_snapshot(h.state.setup.clone(), snap);
    assert_eq!(restored, h.state, "snapshot == live state");
    let (seq, from) = (h.state.last_seq, h.log.len() - 1);
    h.must(&callback("E20250314-001", "无人接听"));
    h.must(&resolve("E20250314-001", "已答复", None));
    for (s, r) in h.log.iter().filter(|(s, _)| *s > seq) {
        restored.apply(*s, r);
    }
    assert_eq!(restored, h.state, "snapshot + tail == live state");
    // The day's reader starts empty at its opening and never saw the case.
    let mut reader = DayReader::new(h.state.setup.clone());
    let facts: Vec<_> = h.log[from..].iter().flat_map(|(s, r)| reader.read(*s, r)).collect();
    assert!(facts.iter().all(|f| !matches!(f.what, What::EscalationResolved { .. })), "{facts:?}");
}
