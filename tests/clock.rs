//! The daemon's clock going wrong, through a real daemon on an injected clock and its real
//! sled log: a wall clock that jumps backwards, within the day and back across local
//! midnight after the day rolled over, also across a restart. Numbers keep growing, the
//! day never rolls back, and the log's times never decrease. (The plain rollover at
//! midnight with tickets still waiting is `tests/feed.rs`,
//! `the_day_rolls_over_on_the_engines_tick`; the core's rollover is `tests/core_day.rs`.)

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use hallq::core::Event;
use hallq::store::Store;
use serde_json::Value;
use support::{guard, shanghai_ms, Api, Daemon};

const HOUR_MS: i64 = 3_600_000;

fn issued_at(t: &Value) -> DateTime<FixedOffset> {
    let s = t["issued_at"].as_str().unwrap_or_else(|| panic!("no issued_at: {t}"));
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("issued_at {s}: {e}"))
}

async fn hall_day(api: &Api) -> String {
    let hall = api.get("/api/v1/hall", None).await;
    hall.body["day"].as_str().unwrap_or_else(|| panic!("no day: {}", hall.text)).to_string()
}

/// Moves the clock to `ms` and waits until the engine's tick has opened `day`.
async fn open_day(d: &Daemon, ms: i64, day: &str) {
    d.set_clock(ms);
    guard("the engine opens the new day", async {
        while hall_day(&d.api).await != day {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// Issues a ticket in queue A and checks its number and that its time did not go back.
async fn issue_a(api: &Api, code: &str, number: &str, not_before: DateTime<FixedOffset>) -> Value {
    let t = api.issue(code).await;
    assert_eq!(t["number"], number, "numbers must keep growing: {t}");
    assert!(issued_at(&t) >= not_before, "ticket {number} issued at {} before {not_before}", t["issued_at"]);
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clock_jumping_back_reorders_nothing_and_reuses_no_number() {
    let afternoon = shanghai_ms(2026, 3, 10, 15, 0, 0);
    let d = Daemon::start_with_clock(afternoon).await;
    let api = d.api.clone();
    let code = api.item_in("A").await;
    let start = DateTime::from_timestamp_millis(afternoon).expect("a time").fixed_offset();
    let a1 = issue_a(&api, &code, "A001", start).await;
    issue_a(&api, &code, "A002", start).await;
    let a3 = issue_a(&api, &code, "A003", start).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(api.call_next(&clerk, "1").await["number"], "A001");
    api.window_ok(&clerk, "1", "serve", None).await;

    // Two hours back, within the day: the next numbers follow, no time goes back.
    d.set_clock(afternoon - 2 * HOUR_MS);
    let last = issued_at(&a3);
    issue_a(&api, &code, "A004", last).await;
    let a5 = issue_a(&api, &code, "A005", last).await;
    let done = api.window_ok(&clerk, "1", "done", Some(serde_json::json!({ "outcome": "completed" }))).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(api.call_next(&clerk, "1").await["number"], "A002", "the line's order holds");
    assert_eq!(hall_day(&api).await, "2026-03-10");

    // Midnight with tickets still waiting and one called: the day rolls over.
    open_day(&d, shanghai_ms(2026, 3, 11, 0, 0, 5), "2026-03-11").await;
    for old in [&a1, &a3, &a5] {
        api.ticket(old["id"].as_str().expect("an id")).await.assert_error(404, "unknown_ticket");
    }
    let midnight = DateTime::from_timestamp_millis(shanghai_ms(2026, 3, 11, 0, 0, 5)).expect("a time").fixed_offset();
    let b1 = issue_a(&api, &code, "A001", midnight).await;

    // Back across midnight: still the new day, the numbers go on, nothing reopens.
    let before_midnight = shanghai_ms(2026, 3, 10, 23, 30, 0);
    d.set_clock(before_midnight);
    issue_a(&api, &code, "A002", issued_at(&b1)).await;
    assert_eq!(hall_day(&api).await, "2026-03-11", "the day rolled back with the clock");
    api.ticket(a5["id"].as_str().expect("an id")).await.assert_error(404, "unknown_ticket");
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(api.call_next(&clerk, "1").await["id"], b1["id"]);
    let sup = api.login("supervisor").await;
    let today = api.get("/api/v1/stats", Some(&sup)).await;
    assert_eq!((today.body["day"].as_str(), today.body["total"]["issued"].as_u64()), (Some("2026-03-11"), Some(2)));

    // A restart with the clock still behind midnight keeps the day and the numbers.
    let d = d.restart().await;
    assert_eq!(hall_day(&d.api).await, "2026-03-11", "after a restart the day rolled back with the clock");
    issue_a(&d.api, &code, "A003", issued_at(&b1)).await;
    d.set_clock(shanghai_ms(2026, 3, 11, 0, 20, 0));
    let last = issue_a(&d.api, &code, "A004", issued_at(&b1)).await;
    assert!(issued_at(&last) >= DateTime::from_timestamp_millis(shanghai_ms(2026, 3, 11, 0, 20, 0)).expect("a time"));
    let (data, _) = d.stop().await;

    // The log: times never decrease, each day opens once and in order, and within a day
    // each queue's numbers only grow.
    let store = Store::open(data.path()).expect("the log opens");
    let (mut last_at, mut days, mut numbers) = (i64::MIN, Vec::new(), BTreeMap::new());
    for item in store.records_after(0) {
        let (seq, record) = item.expect("a record reads");
        assert!(record.at.0 >= last_at, "record {seq} at {} is before its predecessor at {last_at}", record.at.0);
        last_at = record.at.0;
        match &record.event {
            Event::DayOpened { day, .. } => {
                days.push(day.to_string());
                numbers.clear();
            }
            Event::TicketIssued { queue, n, .. } => {
                let prev = numbers.insert(queue.as_str().to_string(), *n).unwrap_or(0);
                assert!(*n > prev, "record {seq}: {queue:?} number {n} after {prev}");
            }
            _ => {}
        }
    }
    assert_eq!(days, ["2026-03-10", "2026-03-11"], "days opened, in log order");
    assert_eq!(numbers.get("A"), Some(&4), "the new day's last number in A");
}
