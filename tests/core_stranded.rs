//! No ticket stranded (issue 14, Medium 11 and 12): a ticket tied to a window — held
//! there, parked there or sent there by name — goes back to its queue at its place when
//! the window closes, is force-closed, or loses its clerk to a disable; a booking names
//! only a window that serves it; and a log replayed under a hall.toml that lost a window,
//! a queue or an item neither panics nor strands a ticket (`core::reconcile`).

use crate::core_support;

use std::sync::Arc;

use chrono::NaiveTime;
use core_support::*;
use hallq::core::command::Reply;
use hallq::core::command::{Command, RejectionKind};
use hallq::core::model::{Outcome, ServiceCode, TicketStatus, WindowState};
use hallq::core::setup::{QueueDef, Setup, WindowDef};
use hallq::core::HallState;

fn force_close(window: &str) -> hallq::core::Envelope {
    cmd(Command::ForceCloseWindow { window: w(window), by: user("admin") })
}

fn disable(name: &str) -> hallq::core::Envelope {
    cmd(Command::DisableUser { name: user(name), by: user("admin") })
}

/// Asserts that ticket `n` waits in `queue`, tied to no window.
fn waits_untied(h: &Hall, n: u32, queue: &str) {
    let t = h.ticket(n);
    assert_eq!((t.status, t.window, t.target_window, t.queue), (TicketStatus::Waiting, None, None, q(queue)));
}

#[test]
fn a_ticket_sent_to_a_window_goes_back_to_its_queue_keeping_its_place_when_that_window_closes() {
    let mut h = Hall::new();
    h.check(
        &[
            issue(1, "SC-A1", None),
            issue(2, "SC-A1", None),
            open("1", "c1"),
            open("2", "c2"),
            next("1", "c1"),
            to_window("1", "c1", "2"),
            close("2", "c2"),
        ],
        Expect::Ok(window("2"), &["ticket_returned", "window_closed"]),
    );
    waits_untied(&h, 1, "A");
    assert_eq!(h.state.index.window_len(&w("2")), 0);
    // Its place is its issue: window 1 calls it before ticket 2, issued after it.
    h.check(&[next("1", "c1")], Expect::Ok(called(1), &["ticket_called"]));
}

#[test]
fn an_admin_force_closes_a_window_holding_a_ticket_and_parked_ones_and_all_go_back_in_line() {
    let mut h = Hall::new();
    for n in 1..=4 {
        h.must(&issue(n, "SC-A1", None));
    }
    h.must(&open("1", "c1"));
    h.must(&open("2", "c2"));
    h.must(&next("2", "c2")); // 1
    h.must(&park("2", "c2"));
    h.must(&next("2", "c2")); // 2
    h.must(&serve("2", "c2"));
    h.must(&next("1", "c1")); // 3
    h.must(&to_window("1", "c1", "2"));
    h.check(
        &[force_close("2")],
        Expect::Ok(window("2"), &["ticket_returned", "ticket_returned", "ticket_returned", "window_force_closed"]),
    );
    for n in 1..=3 {
        waits_untied(&h, n, "A");
    }
    let w2 = h.state.window(&w("2")).expect("window 2");
    assert!(w2.ticket.is_none() && w2.parked.is_empty() && w2.clerk.is_none());
    // Back in issue order at the window still open.
    for n in 1..=4 {
        h.must(&next("1", "c1"));
        assert_eq!(h.state.window(&w("1")).and_then(|w| w.ticket), Some(tid(n)), "ticket {n}");
        h.must(&serve("1", "c1"));
        h.must(&done("1", "c1", Outcome::Completed));
    }
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);
}

#[test]
fn disabling_a_clerk_closes_their_window_and_returns_its_ticket() {
    let mut h = Hall::new();
    h.must(&issue(1, "SC-A1", None));
    h.must(&issue(2, "SC-A1", None));
    h.must(&open("2", "c2"));
    h.must(&next("2", "c2"));
    h.must(&serve("2", "c2"));
    h.check(&[disable("c2")], Expect::Ok(Reply::Nothing, &["user_disabled", "ticket_returned", "window_force_closed"]));
    waits_untied(&h, 1, "A");
    assert_eq!(h.state.window(&w("2")).map(|w| (w.state, w.clerk.clone())), Some((WindowState::Closed, None)));
    h.must(&open("1", "c1"));
    h.check(&[next("1", "c1")], Expect::Ok(called(1), &["ticket_called"]));
}

#[test]
fn a_ticket_sent_to_a_window_that_is_closed_may_be_called_by_number_elsewhere() {
    // An appointment for window 2 checked in before window 2 opened: another window may
    // call it by number, and an admin's force-close of the closed window returns it.
    let mut h = hall_with_y();
    h.must(&book("C1", Some("2")));
    h.now = t(9, 50);
    h.must(&cmd(Command::CheckInAppointment { code: "C1".into(), id: tid(1), kiosk: "k".into() }));
    assert_eq!(h.ticket(1).target_window, Some(w("2")));
    h.must(&open("1", "c1"));
    let number = h.number(1);
    h.check(
        &[call_number("1", "c1", &number, "window 2 is not staffed today")],
        Expect::Ok(called(1), &["ticket_called"]),
    );

    let mut h = hall_with_y();
    h.must(&book("C1", Some("2")));
    h.now = t(9, 50);
    h.must(&cmd(Command::CheckInAppointment { code: "C1".into(), id: tid(1), kiosk: "k".into() }));
    h.check(&[force_close("2")], Expect::Ok(window("2"), &["ticket_returned"]));
    waits_untied(&h, 1, "Y");
}

#[test]
fn a_booking_names_only_a_window_that_serves_the_appointment_queue_or_the_service() {
    let mut h = hall_with_y();
    // Window 4 serves only B; SC-A1 is an A item and 4 does not serve Y.
    h.check(&[book("C1", Some("4"))], Expect::Rejected("window_not_serving", RejectionKind::BadInput));
    // Window 2 serves A; window 1 serves Y.
    h.check(&[book("C2", Some("2"))], Expect::Ok(Reply::Appointment("C2".into()), &["appointment_booked"]));
    h.check(&[book("C3", Some("1"))], Expect::Ok(Reply::Appointment("C3".into()), &["appointment_booked"]));
}

/// The test hall plus queue Y for appointments, served by window "1" (Y, A).
fn hall_with_y() -> Hall {
    let mut setup: Setup = setup();
    setup.queues.push(QueueDef { id: q("Y"), name: "预约".into(), prefix: "Y".into() });
    setup.windows[0] = WindowDef { queues: vec![q("Y"), q("A")], ..setup.windows[0].clone() };
    Hall::with(setup)
}

fn book(code: &str, window: Option<&str>) -> hallq::core::Envelope {
    cmd(Command::BookAppointment {
        code: code.into(),
        service: "SC-A1".into(),
        day: day(),
        slot: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        phone_hash: format!("phone-{code}"),
        window: window.map(w),
        addr_hash: None,
    })
}

/// A day's log with tickets tied to window "4" (B) and waiting in queue B: ticket 1 (B)
/// parked at 4, ticket 2 (B) held at 4, ticket 3 (A) sent to 4 by name, ticket 4 (B)
/// waiting, ticket 5 (A) waiting.
fn a_day_at_window_4() -> Hall {
    let mut h = Hall::new();
    h.must(&issue(1, "SC-B1", None));
    h.must(&issue(2, "SC-B1", None));
    h.must(&issue(3, "SC-A1", None));
    h.must(&issue(4, "SC-B2", None));
    h.must(&issue(5, "SC-A1", None));
    h.must(&open("4", "c4"));
    h.must(&open("1", "c1"));
    h.must(&next("4", "c4"));
    h.must(&park("4", "c4")); // 1 parked
    h.must(&next("4", "c4")); // 2 held
    h.must(&next("1", "c1")); // 3
    h.must(&to_window("1", "c1", "4"));
    h
}

/// Replays `h`'s log under `setup` (what a restart with an edited hall.toml does), then
/// decides the start-up reconciliation and applies it.
fn restart_with(h: &Hall, setup: Setup) -> (HallState, Result<Vec<hallq::core::Event>, String>) {
    let mut state = replay(Arc::new(setup), &h.log);
    let step = state.step(&cmd(Command::Reconcile), h.now);
    let events = step.result.map(|d| d.events).map_err(|r| {
        assert_eq!(r.kind(), RejectionKind::Conflict);
        format!("{}: {r}", r.code())
    });
    // The reconciliation replays like any other record.
    let mut log = h.log.clone();
    log.extend(step.records.iter().cloned());
    assert_eq!(replay(state.setup.clone(), &log), state, "replay after the reconciliation differs");
    (state, events)
}

#[test]
fn a_window_removed_from_hall_toml_mid_day_replays_and_its_tickets_go_back_to_their_queues() {
    let h = a_day_at_window_4();
    let mut setup = setup();
    setup.windows.retain(|d| d.id != w("4"));
    let (state, events) = restart_with(&h, setup);
    let events = events.expect("a start");
    assert_eq!(events.iter().map(event_type).collect::<Vec<_>>(), ["ticket_returned"; 3]);
    for (n, queue) in [(1, "B"), (2, "B"), (3, "A")] {
        let t = state.ticket(&tid(n)).expect("ticket");
        assert_eq!((t.status, t.window, t.target_window, t.queue), (TicketStatus::Waiting, None, None, q(queue)));
    }
    // Window 2 (A, B) calls them in issue order: ticket 1 first.
    let mut state = state;
    let now = h.now;
    let call = |s: &mut HallState, env| s.step(&env, now).result.expect("accepted").reply;
    assert_eq!(call(&mut state, open("2", "c2")), window("2"));
    for n in [1, 2, 3, 4, 5] {
        assert_eq!(call(&mut state, next("2", "c2")), called(n));
        call(&mut state, serve("2", "c2"));
        call(&mut state, done("2", "c2", Outcome::Completed));
    }
}

#[test]
fn a_queue_removed_from_hall_toml_mid_day_moves_its_waiting_tickets_to_their_items_queue() {
    let mut h = Hall::new();
    h.must(&issue(1, "SC-B1", None));
    h.must(&issue(2, "SC-A1", None));
    h.must(&issue(3, "SC-B2", None));
    // B is gone; its items now belong to A, and window 4 to A.
    let mut setup = setup();
    setup.queues.retain(|d| d.id != q("B"));
    for item in std::sync::Arc::make_mut(&mut setup.items) {
        if item.queue == q("B") {
            item.queue = q("A");
        }
    }
    for d in &mut setup.windows {
        d.queues.retain(|x| *x != q("B"));
        if d.queues.is_empty() {
            d.queues.push(q("A"));
        }
    }
    setup.bundles.clear();
    let (mut state, events) = restart_with(&h, setup);
    assert_eq!(events.expect("a start").iter().map(event_type).collect::<Vec<_>>(), ["ticket_returned"; 2]);
    for n in [1, 3] {
        let t = state.ticket(&tid(n)).expect("ticket");
        assert_eq!((t.status, t.queue, t.number.to_string().starts_with('B')), (TicketStatus::Waiting, q("A"), true));
    }
    let now = h.now;
    state.step(&open("1", "c1"), now).result.expect("open");
    for n in [1, 2, 3] {
        assert_eq!(state.step(&next("1", "c1"), now).result.expect("next").reply, called(n));
        state.step(&no_show("1", "c1"), now).result.expect("no-show");
    }
}

#[test]
fn a_queue_removed_with_its_items_refuses_the_start_naming_the_queue() {
    let mut h = Hall::new();
    h.must(&issue(1, "SC-B1", None));
    let mut setup = setup();
    setup.queues.retain(|d| d.id != q("B"));
    std::sync::Arc::make_mut(&mut setup.items).retain(|i| i.queue != q("B"));
    for d in &mut setup.windows {
        d.queues.retain(|x| *x != q("B"));
        if d.queues.is_empty() {
            d.queues.push(q("A"));
        }
    }
    setup.bundles.clear();
    let (_, events) = restart_with(&h, setup);
    let refused = events.expect_err("a refusal");
    assert!(refused.starts_with("config_removed"), "{refused}");
    assert!(refused.contains("[[queue]] id = \"B\"") && refused.contains("B001"), "{refused}");
}

#[test]
fn an_item_removed_from_hall_toml_mid_day_leaves_its_tickets_in_their_queue() {
    let mut h = Hall::new();
    h.must(&issue(1, "SC-A3", None));
    h.must(&open("1", "c1"));
    h.must(&issue(2, "SC-A3", None));
    h.must(&next("1", "c1"));
    let mut setup = setup();
    std::sync::Arc::make_mut(&mut setup.items).retain(|i| i.code != ServiceCode::parse("SC-A3").unwrap());
    let (mut state, events) = restart_with(&h, setup);
    assert_eq!(events.expect("a start"), Vec::new());
    let now = h.now;
    state.step(&serve("1", "c1"), now).result.expect("serve");
    state.step(&done("1", "c1", Outcome::Completed), now).result.expect("done");
    assert_eq!(state.step(&next("1", "c1"), now).result.expect("next").reply, called(2));
}
