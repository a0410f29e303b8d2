//! The expected wait (v3: the forecast's call time) through the real core: the items' minutes of the work ahead,
//! today's measured pace, the windows open now and what they still have to do, a new day
//! forgetting yesterday's pace, and replay telling the same figures as the live state.
//!
//! The test hall (tests/core_support): A's windows are "1" [A], "2" [A, B], "3" [V, A];
//! items SC-A1 10 min, SC-A2 15, SC-A3 20, SC-B1 30; bundle YJS-01 = SC-A2 + SC-B1.

use crate::core_support;

use core_support::*;
use hallq::core::eta::{eta, for_queue};
use hallq::core::model::{Outcome::Completed, Ts};

const MINUTE_MS: i64 = 60_000;

/// The estimate of waiting ticket `tid(n)`, in minutes.
fn minutes(hall: &Hall, n: u32) -> u32 {
    let e = eta(&hall.state, hall.ticket(n)).expect("a waiting ticket has an estimate");
    e.minutes.expect("an open window serves it")
}

/// Window "1" serves `count` SC-A1 tickets (numbered from `first`) of `service_min`
/// minutes each, from serve to done.
fn serve_many(hall: &mut Hall, first: u32, count: u32, service_min: i64) {
    for n in first..first + count {
        hall.must(&issue(n, "SC-A1", None));
        hall.must(&next("1", "c1"));
        hall.must(&serve("1", "c1"));
        // The clock moved a minute after serve; the service lasts `service_min` from it.
        hall.now = Ts(hall.now.0 - MINUTE_MS + service_min * MINUTE_MS);
        hall.must(&done("1", "c1", Completed));
    }
}

#[test]
fn measured_services_longer_than_configured_raise_the_estimate() {
    // (services measured, their minutes, estimate behind one 10-minute ticket on one window)
    let rows = [
        (0, 10, 10),
        (5, 10, 10),
        // Three times as long, five services: half measured, half configured.
        (5, 30, 20),
        // Twenty services: four fifths measured.
        (20, 30, 26),
        (20, 5, 6),
    ];
    for (count, service_min, expected) in rows {
        let mut hall = Hall::new();
        hall.must(&open("1", "c1"));
        serve_many(&mut hall, 100, count, service_min);
        hall.must(&issue(1, "SC-A1", None));
        hall.must(&issue(2, "SC-A1", None));
        assert_eq!(minutes(&hall, 2), expected, "{count} services of {service_min} min");
        assert_eq!(hall.state.service_times.measured_services(&q("A")), u64::from(count));
    }
}

#[test]
fn more_open_windows_lower_the_estimate() {
    // (A's windows open, estimate for a seventh ticket behind six of 10 minutes: the
    // windows take them two or three at a time; with none open there is no figure)
    let rows: [(&[&str], Option<u32>); 4] =
        [(&[], None), (&["1"], Some(60)), (&["1", "2"], Some(30)), (&["1", "2", "3"], Some(20))];
    for (windows, expected) in rows {
        let mut hall = Hall::new();
        for n in 1..=6 {
            hall.must(&issue(n, "SC-A1", None));
        }
        for w in windows {
            hall.must(&open(w, &format!("c{w}")));
        }
        let got = for_queue(&hall.state, &q("A"));
        assert_eq!((got.ahead, got.minutes), (6, expected), "windows {windows:?}");
    }
}

#[test]
fn a_paused_or_closed_window_does_not_count_and_a_resumed_one_does() {
    let mut hall = Hall::new();
    hall.must(&open("1", "c1"));
    hall.must(&open("2", "c2"));
    for n in 1..=5 {
        hall.must(&issue(n, "SC-A1", None));
    }
    // (command, estimate of the fifth ticket, four ahead)
    let rows =
        [(tick(), 20), (pause("2", "c2"), 40), (resume("2", "c2"), 20), (close("2", "c2"), 40), (open("2", "c2"), 20)];
    for (command, expected) in rows {
        hall.must(&command);
        assert_eq!(minutes(&hall, 5), expected, "after {command:?}");
    }
}

#[test]
fn the_work_ahead_counts_each_tickets_own_items() {
    // (services ahead, estimate of a SC-A1 ticket behind them on one open window)
    let rows: [(&[&str], u32); 4] = [
        (&["SC-A1", "SC-A1"], 20),
        (&["SC-A3", "SC-A3"], 40),
        (&["SC-A1", "SC-A3"], 30),
        // A bundle waits for one step at a time: YJS-01's first step is SC-A2 in A (15);
        // its SC-B1 step (30) comes later, in queue B.
        (&["YJS-01"], 15),
    ];
    for (ahead, expected) in rows {
        let mut hall = Hall::new();
        hall.must(&open("1", "c1"));
        for (n, service) in (1..).zip(ahead) {
            hall.must(&issue(n, service, None));
        }
        hall.must(&issue(99, "SC-A1", None));
        assert_eq!(minutes(&hall, 99), expected, "behind {ahead:?}");
        assert_eq!(
            for_queue(&hall.state, &q("A")).minutes,
            Some(expected + 10),
            "a new ticket behind {ahead:?} and 99"
        );
    }
}

#[test]
fn a_ticket_at_the_window_counts_for_what_it_has_left() {
    // (minutes since the visitor reached the counter or None if only called, estimate of
    // the next ticket on the one open window, busy with a 20-minute SC-A3; at least a
    // quarter of it is assumed left however long it runs)
    let rows = [(None, 20), (Some(0), 20), (Some(5), 15), (Some(12), 8), (Some(19), 5), (Some(40), 5)];
    for (served_min, expected) in rows {
        let mut hall = Hall::new();
        hall.must(&open("1", "c1"));
        hall.must(&issue(1, "SC-A3", None));
        hall.must(&next("1", "c1"));
        if let Some(min) = served_min {
            hall.must(&serve("1", "c1"));
            hall.now = Ts(hall.now.0 - MINUTE_MS + min * MINUTE_MS);
        }
        hall.must(&issue(2, "SC-A1", None));
        assert_eq!(minutes(&hall, 2), expected, "served for {served_min:?} min");
    }
}

#[test]
fn a_new_service_day_forgets_the_measured_pace() {
    let mut hall = Hall::new();
    hall.must(&open("1", "c1"));
    serve_many(&mut hall, 100, 20, 30);
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&issue(2, "SC-A1", None));
    assert_eq!(minutes(&hall, 2), 26);
    hall.now = t_on(1, 9, 0, 0);
    hall.must(&open("1", "c1"));
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&issue(2, "SC-A1", None));
    assert_eq!(hall.state.service_times.measured_services(&q("A")), 0);
    assert_eq!(hall.state.service_times.factor(&q("A")), 1.0);
    assert_eq!(minutes(&hall, 2), 10);
}

#[test]
fn replay_tells_the_same_estimates_as_the_live_state() {
    let mut hall = Hall::new();
    hall.must(&open("1", "c1"));
    hall.must(&open("2", "c2"));
    serve_many(&mut hall, 100, 3, 25);
    for (n, service) in (1..).zip(["SC-A3", "SC-B1", "YJS-01", "SC-A2", "SC-A1", "SC-B2"]) {
        hall.must(&issue(n, service, None));
    }
    hall.must(&issue(7, "SC-A1", Some("elderly")));
    hall.must(&next("2", "c2"));
    hall.must(&serve("2", "c2"));
    hall.must(&to_queue("2", "c2", "B"));
    hall.must(&next("1", "c1"));
    hall.must(&to_window("1", "c1", "2"));
    hall.must(&cancel(4));
    hall.must(&next("1", "c1"));
    hall.must(&serve("1", "c1"));
    let replayed = replay(hall.state.setup.clone(), &hall.log);
    assert_eq!(replayed, hall.state);
    let waiting: Vec<u32> = (1..=7).filter(|&n| eta(&hall.state, hall.ticket(n)).is_some()).collect();
    assert!(waiting.len() >= 3, "the script leaves tickets waiting: {waiting:?}");
    for n in waiting {
        let live = eta(&hall.state, hall.ticket(n));
        let again = replayed.ticket(&tid(n)).and_then(|t| eta(&replayed, t));
        assert_eq!(live, again, "ticket {n}");
    }
    for queue in ["A", "B", "V"] {
        assert_eq!(for_queue(&hall.state, &q(queue)), for_queue(&replayed, &q(queue)), "queue {queue}");
    }
}

#[test]
fn a_bundle_ticket_counts_its_next_steps_items_in_its_next_queue() {
    let mut hall = Hall::new();
    hall.must(&open("1", "c1"));
    hall.must(&open("4", "c4"));
    hall.must(&issue(1, "YJS-01", None));
    hall.must(&next("1", "c1"));
    hall.must(&serve("1", "c1"));
    hall.must(&done("1", "c1", Completed));
    // A001 now waits in B for its SC-B1 step (30 minutes); a B ticket issued after it
    // waits behind it at window 4, the only B window open.
    hall.must(&issue(2, "SC-B2", None));
    assert_eq!(minutes(&hall, 2), 30);
    assert_eq!(minutes(&hall, 1), 0);
}
