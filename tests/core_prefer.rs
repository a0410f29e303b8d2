//! Window preferences (issue 4 rule 3) through the real core: a window leans towards the
//! queues and items it prefers by a head start in minutes, never refuses other business,
//! and says so in the call's rule.

use crate::core_support;

use core_support::*;
use hallq::core::command::Reply;
use hallq::core::model::{CallRule, Preferences, ServiceCode, Ts};
use hallq::core::setup::Setup;

/// The test hall where window "2" (A and B) prefers B by `b_min` minutes and window "1"
/// (A) prefers item SC-A3 by `item_min`.
fn hall_with(b_min: u32, item_min: u32) -> Hall {
    let mut setup: Setup = setup();
    setup.windows[1].prefer = Preferences { queues: vec![(q("B"), b_min)], items: Vec::new() };
    setup.windows[0].prefer =
        Preferences { queues: Vec::new(), items: vec![(ServiceCode::parse("SC-A3").unwrap(), item_min)] };
    Hall::with(setup)
}

/// Issues `(n, service, minutes after 09:00)` in order, opens windows 1 and 2, and returns
/// what `window` calls first and why.
fn first_call(hall: &mut Hall, tickets: &[(u32, &str, i64)], window: &str) -> (u32, CallRule) {
    for (n, service, min) in tickets {
        let step = hall.step_at(Ts(t(9, 0).0 + min * 60_000), &issue(*n, service, None));
        assert!(step.result.is_ok(), "issue {n}");
    }
    hall.now = t(9, 45);
    hall.must(&open("1", "c1"));
    hall.must(&open("2", "c2"));
    let clerk = format!("c{window}");
    match hall.must(&next(window, &clerk)).reply {
        Reply::MaybeTicket(Some(id)) => {
            let n = (1..100).find(|n| tid(*n) == id).expect("a test ticket");
            (n, hall.ticket(n).call_rule.clone().expect("a called ticket has a rule"))
        }
        other => panic!("next answered {other:?}"),
    }
}

#[test]
fn a_preferred_queue_gets_its_head_start_and_no_more() {
    let preferred = |_n: u32| CallRule::Preferred { queue: q("B"), item: None, bonus_min: 30 };
    // (A issued at, B issued at, window 2 calls first)
    let rows = [
        (0, 20, (2, preferred(2))),
        (0, 29, (2, preferred(2))),
        (0, 31, (1, CallRule::EarliestIssued)),
        (20, 0, (2, CallRule::EarliestIssued)),
    ];
    for (a_min, b_min, expected) in rows {
        let mut hall = hall_with(30, 30);
        let mut tickets = vec![(1, "SC-A1", a_min), (2, "SC-B1", b_min)];
        tickets.sort_by_key(|t| t.2);
        let got = first_call(&mut hall, &tickets, "2");
        assert_eq!(got, expected, "A at +{a_min}, B at +{b_min}");
    }
}

#[test]
fn a_preferred_item_gets_its_head_start_within_the_queue() {
    let mut hall = hall_with(30, 30);
    let got = first_call(&mut hall, &[(1, "SC-A1", 0), (2, "SC-A2", 5), (3, "SC-A3", 10)], "1");
    let item = Some(ServiceCode::parse("SC-A3").unwrap());
    assert_eq!(got, (3, CallRule::Preferred { queue: q("A"), item, bonus_min: 30 }));
    // Then back to issue order: A001, A002.
    hall.must(&serve("1", "c1"));
    hall.must(&done("1", "c1", hallq::core::model::Outcome::Completed));
    assert_eq!(hall.must(&next("1", "c1")).reply, Reply::MaybeTicket(Some(tid(1))));
}

#[test]
fn a_preference_never_refuses_other_business_or_outranks_priority() {
    // Nothing of B waits: window 2 takes A.
    let mut hall = hall_with(30, 30);
    assert_eq!(first_call(&mut hall, &[(1, "SC-A1", 0)], "2"), (1, CallRule::EarliestIssued));
    // A priority ticket of A still goes before a preferred B ticket.
    let mut hall = hall_with(60, 30);
    for (n, service, priority) in [(1, "SC-B1", None), (2, "SC-A1", Some("elderly"))] {
        hall.must(&issue(n, service, priority));
    }
    hall.must(&open("2", "c2"));
    assert_eq!(hall.must(&next("2", "c2")).reply, Reply::MaybeTicket(Some(tid(2))));
    // Other windows are unaffected: window 4 (B only) and window 1 see plain issue order.
    let mut hall = hall_with(30, 30);
    let got = first_call(&mut hall, &[(1, "SC-A1", 0), (2, "SC-A2", 5)], "1");
    assert_eq!(got, (1, CallRule::EarliestIssued));
}

#[test]
fn preferences_replay_to_the_same_state() {
    let mut hall = hall_with(30, 30);
    first_call(&mut hall, &[(1, "SC-A1", 0), (2, "SC-B1", 10), (3, "SC-A3", 12)], "2");
    hall.must(&next("1", "c1"));
    let replayed = replay(hall.state.setup.clone(), &hall.log);
    assert_eq!(replayed, hall.state);
    assert_eq!(hall.ticket(3).window, Some(w("1")));
}
