//! Missed numbers, parked tickets and bundle steps (issue 4, rules 4–6), through the real
//! core: a missed number rejoins at the back of its queue and cools down before another
//! window calls it; recalls are bounded; a parked ticket returns to its own window; a
//! bundle ticket walks its steps keeping its number and its place by issue time.

use crate::core_support;

use core_support::*;
use hallq::core::command::Reply;
use hallq::core::model::{CallRule, Outcome, TicketStatus, Ts, WindowState};

use Outcome::Completed;

fn called_now(hall: &mut Hall, window: &str, clerk: &str) -> Option<u32> {
    match hall.must(&next(window, clerk)).reply {
        Reply::MaybeTicket(Some(id)) => (1..=50).find(|n| tid(*n) == id),
        Reply::MaybeTicket(None) => None,
        other => panic!("next answered {other:?}"),
    }
}

fn finish(hall: &mut Hall, window: &str, clerk: &str) {
    hall.must(&serve(window, clerk));
    hall.must(&done(window, clerk, Completed));
}

fn assert_replays(hall: &Hall) {
    let replayed = replay(hall.state.setup.clone(), &hall.log);
    assert_eq!(replayed, hall.state, "replaying the log gives the state back");
}

#[test]
fn a_missed_number_rejoins_at_the_back_of_its_queue_keeping_its_number() {
    let mut hall = Hall::new();
    for n in 1..=3 {
        hall.must(&issue(n, "SC-A1", None));
    }
    hall.must(&open("1", "c1"));
    assert_eq!(called_now(&mut hall, "1", "c1"), Some(1));
    hall.must(&no_show("1", "c1"));
    assert_eq!(hall.state.waiting(&q("A")), 2);
    hall.must(&rejoin(1));
    let t1 = hall.ticket(1);
    assert_eq!((t1.status, t1.number.to_string(), t1.window), (TicketStatus::Waiting, "A001".into(), None));
    assert_eq!(hall.state.waiting(&q("A")), 3);
    // Tickets 2 and 3 were in line before the rejoin: they go first.
    assert_eq!(called_now(&mut hall, "1", "c1"), Some(2));
    finish(&mut hall, "1", "c1");
    assert_eq!(called_now(&mut hall, "1", "c1"), Some(3));
    finish(&mut hall, "1", "c1");
    assert_eq!(called_now(&mut hall, "1", "c1"), Some(1));
    let figures = &hall.state.stats[&day()].total;
    assert_eq!((figures.no_show, figures.rejoined), (1, 1));
    // The wait is counted once, from issue to the first call.
    assert_eq!(figures.wait.count, 3);
    assert_replays(&hall);
}

#[test]
fn a_missed_number_may_rejoin_up_to_the_limit_and_not_after() {
    for (minutes, ok) in [(29, true), (30, true), (31, false)] {
        let mut hall = Hall::new();
        hall.must(&issue(1, "SC-A1", None));
        hall.must(&open("1", "c1"));
        hall.must(&next("1", "c1"));
        let missed_at = hall.now;
        hall.must(&no_show("1", "c1"));
        let step = hall.step_at(Ts(missed_at.0 + minutes * 60_000), &rejoin(1));
        assert_eq!(step.result.is_ok(), ok, "rejoin {minutes} minutes after the no-show");
    }
}

#[test]
fn a_hall_without_rejoining_refuses_it() {
    let mut setup = setup();
    setup.dispatch.rejoin_min = 0;
    let mut hall = Hall::with(setup);
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    hall.must(&no_show("1", "c1"));
    let refused = hall.step(&rejoin(1)).result.unwrap_err();
    assert_eq!(refused.code(), "rejoin_expired");
}

/// Ticket 1 called at window 1, missed and rejoined; windows 1 and 2 open and idle. Also
/// returns when it was called.
fn rejoined_after_a_call() -> (Hall, Ts) {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&open("1", "c1"));
    hall.must(&open("2", "c2"));
    let called_at = hall.now;
    hall.must(&next("1", "c1"));
    hall.must(&no_show("1", "c1"));
    hall.must(&rejoin(1));
    (hall, called_at)
}

#[test]
fn a_rejoined_ticket_is_not_called_at_another_window_while_it_cools_down() {
    let minutes = |at: Ts, m: i64| Ts(at.0 + m * 60_000);
    // Window 2 may not take it within five minutes of the call at window 1 ...
    let (mut hall, called_at) = rejoined_after_a_call();
    let step = hall.step_at(minutes(called_at, 4), &next("2", "c2"));
    assert_eq!(step.result.unwrap().reply, Reply::MaybeTicket(None));
    // ... but any window may afterwards ...
    let step = hall.step_at(minutes(called_at, 5), &next("2", "c2"));
    assert_eq!(step.result.unwrap().reply, Reply::MaybeTicket(Some(tid(1))));
    assert_replays(&hall);
    // ... and window 1 itself at once.
    let (mut hall, called_at) = rejoined_after_a_call();
    let step = hall.step_at(minutes(called_at, 4), &next("1", "c1"));
    assert_eq!(step.result.unwrap().reply, Reply::MaybeTicket(Some(tid(1))));
}

#[test]
fn a_cooling_ticket_is_skipped_not_waited_for() {
    let mut hall = Hall::new();
    let script = [
        issue(1, "SC-A1", None),
        open("1", "c1"),
        open("2", "c2"),
        next("1", "c1"),
        no_show("1", "c1"),
        rejoin(1),
        issue(2, "SC-A1", None),
        issue(3, "SC-B1", None),
    ];
    for (i, env) in (0..).zip(&script) {
        assert!(hall.step_at(Ts(t(9, 0).0 + i * 10_000), env).result.is_ok());
    }
    // A minute after the call, window 2 (A and B) skips the cooling A001 and takes A002,
    // issued before B003.
    let step = hall.step_at(t(9, 1), &next("2", "c2"));
    assert_eq!(step.result.unwrap().reply, Reply::MaybeTicket(Some(tid(2))));
}

#[test]
fn a_rejoined_ticket_ages_from_its_rejoin_not_its_issue() {
    // No ratio, and a ticket waiting over 10 minutes outranks every class.
    let mut hall = Hall::with(setup_with_policy(0, 10));
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&issue(2, "SC-A1", Some("elderly")));
    hall.must(&open("1", "c1"));
    assert_eq!(called_now(&mut hall, "1", "c1"), Some(2));
    finish(&mut hall, "1", "c1");
    assert_eq!(called_now(&mut hall, "1", "c1"), Some(1));
    hall.must(&no_show("1", "c1"));
    // 20 minutes after its issue it rejoins; an elderly visitor arrives just after.
    hall.now = t(9, 20);
    hall.must(&rejoin(1));
    hall.must(&issue(3, "SC-A1", Some("elderly")));
    // Had aging counted from the issue (20 > 10 minutes), A001 would outrank the class.
    assert_eq!(called_now(&mut hall, "1", "c1"), Some(3));
    assert!(matches!(hall.ticket(3).call_rule, Some(CallRule::Priority { .. })));
}

#[test]
fn recalls_are_bounded_per_call() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    hall.must(&recall("1", "c1"));
    hall.must(&recall("1", "c1"));
    assert_eq!(hall.ticket(1).recalls, 2);
    assert_eq!(hall.step(&recall("1", "c1")).result.unwrap_err().code(), "recall_limit");
    // A no-show is what is left; after a rejoin the count starts again.
    hall.must(&no_show("1", "c1"));
    hall.must(&rejoin(1));
    hall.must(&next("1", "c1"));
    assert_eq!(hall.ticket(1).recalls, 0);
    hall.must(&recall("1", "c1"));
}

#[test]
fn a_parked_ticket_waits_aside_and_returns_to_its_own_window() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&issue(2, "SC-A1", None));
    hall.must(&open("1", "c1"));
    hall.must(&open("2", "c2"));
    assert_eq!(called_now(&mut hall, "1", "c1"), Some(1));
    hall.must(&serve("1", "c1"));
    hall.must(&park("1", "c1"));
    let w1 = hall.state.window(&w("1")).unwrap();
    assert_eq!((w1.state, w1.ticket, w1.parked.clone()), (WindowState::Open, None, vec![tid(1)]));
    assert_eq!(hall.ticket(1).status, TicketStatus::Parked);
    // Nobody else calls it: window 2 gets A002, then nothing.
    assert_eq!(called_now(&mut hall, "2", "c2"), Some(2));
    finish(&mut hall, "2", "c2");
    assert_eq!(called_now(&mut hall, "2", "c2"), None);
    assert_eq!(hall.state.waiting(&q("A")), 0);
    assert_eq!(hall.step(&unpark("2", "c2", 1)).result.unwrap_err().code(), "not_parked_here");
    // The visitor is back: window 1 calls it again, and it is served there.
    hall.must(&unpark("1", "c1", 1));
    let t1 = hall.ticket(1);
    assert_eq!(
        (t1.status, t1.window, t1.call_rule.clone()),
        (TicketStatus::Called, Some(w("1")), Some(CallRule::Unparked))
    );
    assert!(hall.state.window(&w("1")).unwrap().parked.is_empty());
    finish(&mut hall, "1", "c1");
    let figures = &hall.state.stats[&day()].total;
    assert_eq!((figures.parked, figures.completed, figures.called), (1, 2, 2));
    assert_replays(&hall);
}

#[test]
fn parked_tickets_expire_with_the_day() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    hall.must(&park("1", "c1"));
    let step = hall.step_at(t_on(1, 8, 0, 0), &tick());
    assert!(step.result.is_ok());
    assert!(hall.state.window(&w("1")).unwrap().parked.is_empty());
    assert_eq!(hall.state.stats[&day()].total.expired, 1);
    assert_replays(&hall);
}

#[test]
fn a_bundle_ticket_walks_its_steps_keeping_its_number_and_place() {
    // YJS-01 is SC-A2 (queue A) then SC-B1 (queue B).
    let mut hall = Hall::new();
    hall.must(&issue(1, "YJS-01", None));
    let t1 = hall.ticket(1);
    assert_eq!(t1.steps.iter().map(|s| s.queue.to_string()).collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(t1.queue, q("A"));
    hall.must(&issue(2, "SC-B1", None));
    hall.must(&open("1", "c1"));
    hall.must(&open("4", "c4"));
    assert_eq!(called_now(&mut hall, "1", "c1"), Some(1));
    finish(&mut hall, "1", "c1");
    let t1 = hall.ticket(1);
    assert_eq!((t1.status, t1.queue, t1.step), (TicketStatus::Waiting, q("B"), 1));
    assert_eq!(t1.number.to_string(), "A001");
    // B002 joined queue B before the bundle's second step did, but A001 was issued first.
    assert_eq!(called_now(&mut hall, "4", "c4"), Some(1));
    finish(&mut hall, "4", "c4");
    let t1 = hall.ticket(1);
    assert_eq!((t1.status, t1.outcome), (TicketStatus::Done, Some(Completed)));
    let steps: Vec<_> = t1.step_times.iter().map(|s| (s.window, s.done_at.is_some())).collect();
    assert_eq!(steps, [(Some(w("1")), true), (Some(w("4")), true)]);
    // Each step's wait and service time is in the day's figures of its queue.
    let figures = &hall.state.stats[&day()];
    assert_eq!((figures.by_queue[&q("A")].steps_done, figures.by_queue[&q("A")].service.count), (1, 1));
    assert_eq!((figures.by_queue[&q("B")].completed, figures.by_queue[&q("B")].wait.count), (1, 1));
    assert_eq!(figures.total.wait.count, 2);
    assert_eq!(called_now(&mut hall, "4", "c4"), Some(2));
    assert_replays(&hall);
}

#[test]
fn a_bundle_step_wait_counts_from_the_steps_start() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "YJS-01", None));
    hall.must(&open("1", "c1"));
    hall.must(&open("4", "c4"));
    hall.must(&next("1", "c1"));
    hall.must(&serve("1", "c1"));
    let step_done_at = hall.now;
    hall.must(&done("1", "c1", Completed));
    hall.now = Ts(step_done_at.0 + 7 * 60_000);
    hall.must(&next("4", "c4"));
    let b = &hall.state.stats[&day()].by_queue[&q("B")];
    assert_eq!(b.wait.sum_ms, 7 * 60_000);
}
