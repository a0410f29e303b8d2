//! Who gets called next: priority before issue time, one pooled line across a window's
//! queues, transferred tickets first at their window and nowhere else, a transfer keeping
//! the ticket's number and place; and the position estimate that follows the same order.

use crate::core_support;

use core_support::*;
use hallq::core::command::Reply;
use hallq::core::eta::eta;
use hallq::core::event::Event;
use hallq::core::model::{CallRule, Outcome::Completed, PriorityClass, TicketStatus};

/// The rule recorded with the last call of the log.
fn last_rule(hall: &Hall) -> CallRule {
    hall.log
        .iter()
        .rev()
        .find_map(|(_, r)| match &r.event {
            Event::TicketCalled { rule, .. } => Some(rule.clone()),
            _ => None,
        })
        .expect("a call in the log")
}

#[test]
fn a_ticket_transferred_to_a_queue_keeps_its_number_and_its_place() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    hall.must(&serve("1", "c1"));
    hall.must(&issue(2, "SC-B1", None));
    hall.must(&to_queue("1", "c1", "B"));
    let t1 = hall.ticket(1);
    assert_eq!((t1.status, t1.queue, t1.window), (TicketStatus::Waiting, q("B"), None));
    assert_eq!((hall.number(1), t1.serving_at), ("A001".to_string(), None));
    assert_eq!((hall.state.waiting(&q("A")), hall.state.waiting(&q("B"))), (0, 2));
    // Window 1 serves only A: nothing for it now.
    assert_eq!(hall.must(&next("1", "c1")).reply, Reply::MaybeTicket(None));
    // B's window takes the transferred ticket before B001, which was issued after it.
    hall.must(&open("4", "c4"));
    assert_eq!(hall.must(&next("4", "c4")).reply, called(1));
    assert_eq!(last_rule(&hall), CallRule::EarliestIssued);
    assert_eq!(hall.ticket(1).calls, 2);
    hall.must(&serve("4", "c4"));
    hall.must(&done("4", "c4", Completed));
    assert_eq!(hall.must(&next("4", "c4")).reply, called(2));
    assert_eq!(hall.state.stats[&day()].total.transferred, 1);
}

#[test]
fn a_ticket_transferred_to_a_window_goes_to_that_window_first_and_no_other() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&open("3", "c3"));
    hall.must(&next("3", "c3"));
    hall.must(&issue(2, "SC-A1", Some("elderly")));
    // Window 1 is open but paused: a transfer may only name a window that is not closed.
    hall.must(&open("1", "c1"));
    hall.must(&pause("1", "c1"));
    hall.must(&to_window("3", "c3", "1"));
    assert_eq!(hall.ticket(1).target_window, Some(w("1")));
    assert_eq!(hall.state.waiting(&q("A")), 2);
    // Other windows serving A pass over it.
    hall.must(&open("2", "c2"));
    assert_eq!(hall.must(&next("2", "c2")).reply, called(2));
    assert_eq!(hall.must(&next("3", "c3")).reply, Reply::MaybeTicket(None));
    // The named window takes it before a higher-priority ticket.
    hall.must(&issue(3, "SC-A1", Some("elderly")));
    hall.must(&resume("1", "c1"));
    assert_eq!(hall.must(&next("1", "c1")).reply, called(1));
    assert_eq!(last_rule(&hall), CallRule::TransferredHere);
    assert_eq!(hall.ticket(1).target_window, None);
    assert_eq!(hall.must(&next("3", "c3")).reply, called(3));
}

#[test]
fn a_ticket_waiting_for_a_window_can_be_cancelled() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&open("3", "c3"));
    hall.must(&next("3", "c3"));
    hall.must(&open("1", "c1"));
    hall.must(&pause("1", "c1"));
    hall.must(&to_window("3", "c3", "1"));
    hall.must(&cancel(1));
    assert_eq!(hall.state.waiting(&q("A")), 0);
    hall.must(&resume("1", "c1"));
    assert_eq!(hall.must(&next("1", "c1")).reply, Reply::MaybeTicket(None));
}

#[test]
fn dispatch_puts_priority_before_issue_time_in_class_rank() {
    // No ratio here, to see the rank alone; tests/core_policy.rs has the ratio.
    let mut hall = Hall::with(setup_with_policy(0, 60));
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&issue(2, "SC-A2", Some("pregnant")));
    hall.must(&issue(3, "SC-A3", Some("military")));
    hall.must(&issue(4, "SC-A1", Some("elderly")));
    hall.must(&issue(5, "SC-A1", Some("pregnant")));
    hall.must(&open("1", "c1"));
    let mut order = Vec::new();
    for _ in 0..5 {
        let Reply::MaybeTicket(Some(id)) = hall.must(&next("1", "c1")).reply else { panic!("nothing called") };
        order.push((hall.state.ticket(&id).unwrap().number.to_string(), last_rule(&hall)));
        hall.must(&no_show("1", "c1"));
    }
    let class = |c: &str| CallRule::Priority { class: PriorityClass::parse(c).unwrap(), per_ordinary: 0 };
    let expected = vec![
        ("A004".to_string(), class("elderly")),
        ("A003".to_string(), class("military")),
        ("A002".to_string(), class("pregnant")),
        ("A005".to_string(), class("pregnant")),
        ("A001".to_string(), CallRule::EarliestIssued),
    ];
    assert_eq!(order, expected);
}

#[test]
fn dispatch_takes_the_earliest_issued_across_a_windows_queues() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-B1", None));
    hall.must(&issue(2, "SC-A1", None));
    hall.must(&issue(3, "SC-B2", None));
    hall.must(&issue(4, "SC-A2", None));
    // Window 1 serves only A, window 4 only B; window 2 serves both as one line.
    hall.must(&open("1", "c1"));
    hall.must(&open("2", "c2"));
    hall.must(&open("4", "c4"));
    assert_eq!(hall.must(&next("2", "c2")).reply, called(1));
    assert_eq!(hall.must(&next("1", "c1")).reply, called(2));
    assert_eq!(hall.must(&next("4", "c4")).reply, called(3));
    hall.must(&no_show("2", "c2"));
    assert_eq!(hall.must(&next("2", "c2")).reply, called(4));
    hall.must(&no_show("2", "c2"));
    assert_eq!(hall.must(&next("2", "c2")).reply, Reply::MaybeTicket(None));
}

#[test]
fn same_state_same_window_same_ticket() {
    let script = [
        issue(1, "SC-B1", None),
        issue(2, "SC-A1", Some("disabled")),
        issue(3, "SC-A1", None),
        open("2", "c2"),
        next("2", "c2"),
    ];
    let a = check(&script, Expect::Ok(called(2), &["ticket_called"]));
    let b = check(&script, Expect::Ok(called(2), &["ticket_called"]));
    assert_eq!(a.log, b.log);
    assert_eq!(a.state, b.state);
}

#[test]
fn eta_counts_the_tickets_ahead() {
    let mut hall = Hall::new();
    for n in 1..=3 {
        hall.must(&issue(n, "SC-A1", None));
    }
    let ahead = |hall: &Hall, n| eta(&hall.state, hall.ticket(n)).expect("waiting").ahead;
    assert_eq!([ahead(&hall, 1), ahead(&hall, 2), ahead(&hall, 3)], [0, 1, 2]);
    // No window is open: a place, but no wait (issue 15: 暂无窗口办理).
    assert_eq!(eta(&hall.state, hall.ticket(3)).unwrap().minutes, None);
    // An elderly visitor goes first and everyone else moves back one.
    hall.must(&issue(4, "SC-A1", Some("elderly")));
    assert_eq!([ahead(&hall, 4), ahead(&hall, 1), ahead(&hall, 3)], [0, 1, 3]);
    // Two idle windows open for A: one takes the elderly visitor, the other this one.
    hall.must(&open("1", "c1"));
    hall.must(&open("2", "c2"));
    assert_eq!(eta(&hall.state, hall.ticket(1)).unwrap().minutes, Some(0));
    hall.must(&next("1", "c1"));
    assert_eq!(eta(&hall.state, hall.ticket(4)), None, "a called ticket has no estimate");
    assert_eq!([ahead(&hall, 1), ahead(&hall, 2), ahead(&hall, 3)], [0, 1, 2]);
}

#[test]
fn a_clerk_may_call_a_waiting_ticket_by_number_and_the_log_says_who_and_why() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&issue(2, "SC-A1", None));
    hall.must(&issue(3, "SC-A1", Some("elderly")));
    hall.must(&open("1", "c1"));
    // Out of dispatch order: A002, though the elderly A003 and the earlier A001 wait.
    assert_eq!(hall.must(&call_number("1", "c1", "a002", " sent back for a signature ")).reply, called(2));
    let rule = CallRule::ByNumber { clerk: user("c1"), reason: "sent back for a signature".into() };
    assert_eq!(last_rule(&hall), rule);
    assert_eq!(hall.ticket(2).status, TicketStatus::Called);
    // The window's call was the clerk's own choice: dispatch goes on as before.
    hall.must(&serve("1", "c1"));
    hall.must(&done("1", "c1", Completed));
    assert_eq!(hall.must(&next("1", "c1")).reply, called(3));
    assert_eq!(replay(hall.state.setup.clone(), &hall.log), hall.state);
}
