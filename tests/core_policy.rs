//! Dispatch policy v2: priority without starvation, and every call explained.
//!
//! A window calls at most one priority ticket per `priority_ratio` ordinary ones while
//! both kinds wait (priority still flows when no ordinary ticket waits); a ticket that has
//! waited more than `max_wait_min` outranks every priority class, earliest issued first;
//! and the rule that chose a ticket is in its `ticket_called` event and on the ticket.

use crate::core_support;

use core_support::*;
use hallq::core::command::{Envelope, Reply};
use hallq::core::event::Event;
use hallq::core::model::{CallRule, PriorityClass};
use hallq::core::setup::Setup;

fn priority(class: &str, per_ordinary: u32) -> CallRule {
    CallRule::Priority { class: PriorityClass::parse(class).unwrap(), per_ordinary }
}

fn turn(turn: u32, of: u32) -> CallRule {
    CallRule::OrdinaryTurn { turn, of }
}

fn aged(waited_min: u32, max_min: u32) -> CallRule {
    CallRule::Aged { waited_min, max_min }
}

/// Every rule recorded in the log's calls, in order.
fn logged_rules(hall: &Hall) -> Vec<CallRule> {
    hall.log
        .iter()
        .filter_map(|(_, r)| match &r.event {
            Event::TicketCalled { rule, .. } => Some(rule.clone()),
            _ => None,
        })
        .collect()
}

/// `n` tickets of item SC-A1: ordinary ones numbered `from..`, or of `class`.
fn issue_many(from: u32, n: u32, class: Option<&str>) -> Vec<Envelope> {
    (from..from + n).map(|i| issue(i, "SC-A1", class)).collect()
}

/// Calls at window 1 `n` times, marking each no-show, and returns the numbers called.
fn call_out(hall: &mut Hall, n: usize) -> Vec<String> {
    let mut numbers = Vec::new();
    for _ in 0..n {
        let Reply::MaybeTicket(Some(id)) = hall.must(&next("1", "c1")).reply else { panic!("nothing called") };
        numbers.push(hall.state.ticket(&id).unwrap().number.to_string());
        hall.must(&no_show("1", "c1"));
    }
    numbers
}

struct Row {
    what: &'static str,
    setup: Setup,
    script: Vec<Envelope>,
    called: u32,
    rule: CallRule,
}

/// The clock of `check` moves a minute per command from 09:00; `max_wait_min` is 5 where
/// a row is about aging, so a few ticks age a ticket.
fn rows() -> Vec<Row> {
    let ratio = |r| setup_with_policy(r, 60);
    let aging = || setup_with_policy(2, 5);
    let ticks = |n| vec![tick(); n];
    let cat = |parts: Vec<Vec<Envelope>>| parts.concat();
    vec![
        Row {
            what: "a window that owes nothing calls priority first, and the call counts",
            setup: ratio(2),
            script: vec![issue(1, "SC-A1", None), issue(2, "SC-A1", Some("elderly")), open("1", "c1"), next("1", "c1")],
            called: 2,
            rule: priority("elderly", 2),
        },
        Row {
            what: "a priority call with no ordinary ticket waiting does not count",
            setup: ratio(2),
            script: vec![issue(1, "SC-A1", Some("elderly")), open("1", "c1"), next("1", "c1")],
            called: 1,
            rule: priority("elderly", 0),
        },
        Row {
            what: "without a ratio priority goes first and nothing counts",
            setup: ratio(0),
            script: vec![issue(1, "SC-A1", None), issue(2, "SC-A1", Some("elderly")), open("1", "c1"), next("1", "c1")],
            called: 2,
            rule: priority("elderly", 0),
        },
        Row {
            what: "after a priority call the window owes ordinary calls, earliest issued",
            setup: ratio(2),
            script: cat(vec![
                issue_many(1, 2, None),
                issue_many(3, 2, Some("elderly")),
                vec![open("1", "c1"), next("1", "c1"), no_show("1", "c1"), next("1", "c1")],
            ]),
            called: 1,
            rule: turn(1, 2),
        },
        Row {
            what: "a ratio of 1 alternates",
            setup: ratio(1),
            script: cat(vec![
                issue_many(1, 2, None),
                issue_many(3, 2, Some("elderly")),
                vec![open("1", "c1"), next("1", "c1"), no_show("1", "c1"), next("1", "c1"), no_show("1", "c1")],
                vec![next("1", "c1")],
            ]),
            called: 4,
            rule: priority("elderly", 1),
        },
        Row {
            what: "an ordinary ticket waiting over max_wait goes before priority",
            setup: aging(),
            script: cat(vec![
                vec![issue(1, "SC-A1", None)],
                ticks(4),
                vec![issue(2, "SC-A1", Some("elderly")), open("1", "c1"), next("1", "c1")],
            ]),
            called: 1,
            rule: aged(7, 5),
        },
        Row {
            what: "waiting exactly max_wait is not yet aged",
            setup: aging(),
            script: cat(vec![
                vec![issue(1, "SC-A1", None), issue(2, "SC-A1", Some("elderly"))],
                ticks(2),
                vec![open("1", "c1"), next("1", "c1")],
            ]),
            called: 2,
            rule: priority("elderly", 2),
        },
        Row {
            what: "among aged tickets the earliest issued goes first, whatever its class or queue",
            setup: aging(),
            script: cat(vec![
                vec![issue(1, "SC-B1", None), issue(2, "SC-A1", Some("elderly"))],
                ticks(5),
                vec![open("2", "c2"), next("2", "c2")],
            ]),
            called: 1,
            rule: aged(8, 5),
        },
        Row {
            what: "an aged ticket goes before priority even while the window owes nothing",
            setup: aging(),
            script: cat(vec![
                vec![issue(1, "SC-A1", None), open("1", "c1")],
                ticks(5),
                vec![issue(2, "SC-A1", Some("elderly")), next("1", "c1")],
            ]),
            called: 1,
            rule: aged(8, 5),
        },
        Row {
            what: "a ticket transferred to the window goes before an aged one",
            setup: aging(),
            script: cat(vec![
                vec![issue(1, "SC-B1", None), issue(2, "SC-A1", None), open("3", "c3"), next("3", "c3")],
                vec![open("2", "c2"), pause("2", "c2"), to_window("3", "c3", "2")],
                ticks(3),
                vec![resume("2", "c2"), next("2", "c2")],
            ]),
            called: 2,
            rule: CallRule::TransferredHere,
        },
        Row {
            what: "with no priority ticket waiting, the earliest issued",
            setup: ratio(2),
            script: vec![issue(1, "SC-B1", None), issue(2, "SC-A1", None), open("2", "c2"), next("2", "c2")],
            called: 1,
            rule: CallRule::EarliestIssued,
        },
    ]
}

#[test]
fn each_rule_chooses_and_is_recorded() {
    for row in rows() {
        let mut hall = Hall::with(row.setup);
        hall.check(&row.script, Expect::Ok(called(row.called), &["ticket_called"]));
        assert_eq!(logged_rules(&hall).last(), Some(&row.rule), "{}", row.what);
        assert_eq!(hall.ticket(row.called).call_rule.as_ref(), Some(&row.rule), "{}: on the ticket", row.what);
    }
}

#[test]
fn one_priority_per_two_ordinary_while_both_wait() {
    let mut hall = Hall::with(setup_with_policy(2, 60));
    for env in [issue_many(1, 6, None), issue_many(7, 3, Some("elderly"))].concat() {
        hall.must(&env);
    }
    hall.must(&open("1", "c1"));
    let order = call_out(&mut hall, 9);
    let expected = ["A007", "A001", "A002", "A008", "A003", "A004", "A009", "A005", "A006"];
    assert_eq!(order, expected);
    let (p, o1, o2) = (priority("elderly", 2), turn(1, 2), turn(2, 2));
    // Once no priority ticket waits, nothing is held back: the last two are plain turns.
    let e = CallRule::EarliestIssued;
    assert_eq!(logged_rules(&hall), [&p, &o1, &o2, &p, &o1, &o2, &p, &e, &e].map(Clone::clone));
    assert_eq!(replay(hall.state.setup.clone(), &hall.log), hall.state);
}

#[test]
fn priority_still_flows_when_no_ordinary_ticket_waits() {
    let mut hall = Hall::with(setup_with_policy(2, 60));
    for env in [issue_many(1, 1, None), issue_many(2, 4, Some("elderly"))].concat() {
        hall.must(&env);
    }
    hall.must(&open("1", "c1"));
    // P, then the one ordinary ticket; with none left the priority ones are not held back.
    assert_eq!(call_out(&mut hall, 4), ["A002", "A001", "A003", "A004"]);
    let (counted, free) = (priority("elderly", 2), priority("elderly", 0));
    assert_eq!(logged_rules(&hall), [counted, turn(1, 2), free.clone(), free]);
    // The window still owes one ordinary call: a new ordinary ticket goes before A005.
    assert_eq!(hall.state.window(&w("1")).unwrap().ordinary_owed, 1);
    hall.must(&issue(6, "SC-A1", None));
    assert_eq!(call_out(&mut hall, 2), ["A006", "A005"]);
    assert_eq!(logged_rules(&hall)[4..], [turn(2, 2), priority("elderly", 0)]);
    assert_eq!(replay(hall.state.setup.clone(), &hall.log), hall.state);
}

#[test]
fn the_ratio_is_per_window() {
    // Window 1 and window 3 both serve A: each gets its own priority call.
    let mut hall = Hall::with(setup_with_policy(2, 60));
    for env in [issue_many(1, 3, None), issue_many(4, 3, Some("elderly"))].concat() {
        hall.must(&env);
    }
    hall.must(&open("1", "c1"));
    hall.must(&open("3", "c3"));
    assert_eq!(hall.must(&next("1", "c1")).reply, called(4));
    assert_eq!(hall.must(&next("3", "c3")).reply, called(5));
    hall.must(&no_show("1", "c1"));
    assert_eq!(hall.must(&next("1", "c1")).reply, called(1));
    assert_eq!(logged_rules(&hall), [priority("elderly", 2), priority("elderly", 2), turn(1, 2)]);
}

#[test]
fn an_aged_priority_ticket_neither_counts_nor_pays() {
    let mut hall = Hall::with(setup_with_policy(2, 5));
    hall.must(&issue(1, "SC-A1", Some("elderly")));
    hall.must(&issue(2, "SC-A1", None));
    hall.must(&open("1", "c1"));
    for _ in 0..4 {
        hall.must(&tick());
    }
    hall.must(&issue(3, "SC-A1", Some("elderly")));
    // A001 (elderly) is aged; A002 (ordinary) is aged too but issued later.
    assert_eq!(call_out(&mut hall, 3), ["A001", "A002", "A003"]);
    let rules = logged_rules(&hall);
    assert_eq!(rules[..2], [aged(8, 5), aged(9, 5)]);
    assert_eq!(rules[2], priority("elderly", 0), "no ordinary ticket waits for A003");
    assert_eq!(hall.state.window(&w("1")).unwrap().ordinary_owed, 0);
}

#[test]
fn a_recall_keeps_the_rule_and_a_new_day_clears_the_debt() {
    let mut hall = Hall::with(setup_with_policy(2, 60));
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&issue(2, "SC-A1", Some("disabled")));
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    hall.must(&recall("1", "c1"));
    assert_eq!(hall.ticket(2).call_rule, Some(priority("disabled", 2)));
    assert_eq!(hall.state.window(&w("1")).unwrap().ordinary_owed, 2);
    let step = hall.step_at(t_on(1, 9, 0, 0), &tick());
    assert!(step.result.is_ok());
    assert_eq!(hall.state.window(&w("1")).unwrap().ordinary_owed, 0);
    assert_eq!(replay(hall.state.setup.clone(), &hall.log), hall.state);
}

#[test]
fn the_same_script_makes_the_same_calls() {
    let script = [
        issue_many(1, 4, None),
        issue_many(5, 3, Some("elderly")),
        vec![issue(8, "SC-B1", Some("pregnant")), open("2", "c2")],
        vec![tick(); 3],
        (0..4).flat_map(|_| [next("2", "c2"), no_show("2", "c2")]).collect(),
        vec![next("2", "c2")],
    ]
    .concat();
    let run = || {
        let mut hall = Hall::with(setup_with_policy(2, 15));
        hall.check(&script, Expect::Ok(called(4), &["ticket_called"]));
        let expected = [priority("elderly", 2), turn(1, 2), turn(2, 2), aged(16, 15), aged(17, 15)];
        assert_eq!(logged_rules(&hall), expected);
        (hall.state, hall.log)
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
}
