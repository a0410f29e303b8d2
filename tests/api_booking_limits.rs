//! Bookings against hostile clients and the calendar (issue 14, Medium 9 and the Low
//! items), over real HTTP against a real daemon on an injected clock: a flood from eight
//! loopback addresses leaves places on every working day, rest days are closed, one phone
//! holds at most `phone_max` bookings, a late booking checks in during the lunch break, and
//! a clerk serving at midnight finishes the ticket.

use crate::support;

use std::sync::Arc;

use serde_json::{json, Value};
use support::{Api, Daemon, KIOSK};

/// The booking window of the example hall from 2026-03-10 (a Tuesday): today and 7 more.
const DAYS: [&str; 8] =
    ["2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13", "2026-03-14", "2026-03-15", "2026-03-16", "2026-03-17"];
/// Saturday and Sunday, rest days of the example `[hall.calendar]`.
const REST_DAYS: [&str; 2] = ["2026-03-14", "2026-03-15"];

/// 07:00 on the test day: every slot from 07:30 on is still ahead.
fn seven_am() -> i64 {
    support::shanghai_ms(2026, 3, 10, 7, 0, 0)
}

/// An API client whose connections come from `ip` (any 127.0.0.0/8 address).
/// `d`'s API as a client at `127.0.0.{n}` sees it.
fn client_from(d: &Daemon, n: u8) -> Api {
    Api { base: d.api.base.clone(), http: support::client_from(n) }
}

fn booking(day: &str, slot: &str, phone: &str) -> Value {
    json!({ "service": "SC-0211", "day": day, "slot": slot, "phone": phone })
}

/// The slots of `day` with places left.
async fn free_slots(api: &Api, day: &str) -> (bool, Vec<String>) {
    let r = api.get(&format!("/api/v1/appointments/slots?day={day}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.body["slots"].as_array().cloned().unwrap_or_default();
    let free = list
        .iter()
        .filter(|s| s["free"].as_u64().unwrap_or(0) > 0)
        .filter_map(|s| s["slot"].as_str().map(String::from))
        .collect();
    (r.body["closed"] == json!(true), free)
}

/// Every slot of a day of the always-open test daemon: 00:00, 00:30, … 23:30.
fn all_slots() -> Vec<String> {
    (0..48).map(|i| format!("{:02}:{:02}", i / 2, (i % 2) * 30)).collect()
}

/// One attacking address: every slot of every day, a fresh phone number each time, moving
/// to the next day when refused for the address or the day. Bounded: 8 × 48 requests.
async fn flood(api: Api, first_phone: u64) -> u32 {
    let mut taken = 0;
    let mut phone = first_phone;
    for day in DAYS {
        for slot in all_slots() {
            phone += 1;
            let r = api.post("/api/v1/appointments", None, Some(booking(day, &slot, &format!("139{phone:08}")))).await;
            if r.status == 201 {
                taken += 1;
                continue;
            }
            match (r.status, r.error_code()) {
                (409, "slot_past" | "slot_full") => {}
                (409, "address_limit" | "day_closed") => break,
                other => panic!("the flood got {other:?}: {}", r.text),
            }
        }
    }
    taken
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_from_eight_addresses_leaves_places_on_every_working_day() {
    let d = Daemon::start_with_clock(seven_am()).await;
    let attackers = (2..=9u8).map(|n| {
        let api = client_from(&d, n);
        tokio::spawn(flood(api, u64::from(n) * 1_000_000))
    });
    let mut taken = 0;
    for a in attackers {
        taken += support::guard("an attacking address", a).await.expect("the attack runs");
    }
    // Each address holds at most address_max (12) bookings, at most 4 a day.
    assert!(taken <= 8 * 12, "the flood took {taken} places");

    // A real visitor, on an address and phone of their own, still finds a place every
    // working day of the window; rest days offer none.
    let visitor = client_from(&d, 20);
    for (i, day) in DAYS.iter().enumerate() {
        let (closed, free) = free_slots(&visitor, day).await;
        if REST_DAYS.contains(day) {
            assert!(closed && free.is_empty(), "{day} is a rest day: {free:?}");
            continue;
        }
        assert!(!closed, "{day} is a working day");
        let slot = free.last().unwrap_or_else(|| panic!("the flood left no place on {day}"));
        let phone = format!("1370000{:04}", i);
        let r = visitor.post("/api/v1/appointments", None, Some(booking(day, slot, &phone))).await;
        assert_eq!(r.status, 201, "{day} {slot}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rest_days_show_no_slots_and_refuse_bookings() {
    let d = Daemon::start_with_clock(seven_am()).await;
    let r = d.api.get("/api/v1/appointments/slots?day=2026-03-14", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["closed"].clone(), r.body["slots"].clone()), (json!(true), json!([])), "{}", r.text);
    let refused = d.api.post("/api/v1/appointments", None, Some(booking("2026-03-15", "10:00", "13800138000"))).await;
    refused.assert_error(409, "day_closed");
    assert!(refused.body["error"]["message"].as_str().unwrap_or_default().contains("2026-03-15"), "{}", refused.text);
    let open = d.api.get("/api/v1/appointments/slots?day=2026-03-16", None).await;
    assert_eq!(open.body["closed"], json!(false), "{}", open.text);
    assert!(open.body["slots"].as_array().is_some_and(|l| !l.is_empty()), "{}", open.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_phone_holds_at_most_three_bookings_over_the_window() {
    let d = Daemon::start_with_clock(seven_am()).await;
    // From different addresses, so that only the phone's limit is met.
    let mut codes = Vec::new();
    for (n, day) in (2..).zip(["2026-03-10", "2026-03-11", "2026-03-12"]) {
        let api = client_from(&d, n);
        let r = api.post("/api/v1/appointments", None, Some(booking(day, "10:00", "138 0013 8000"))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        codes.push(r.body["code"].as_str().unwrap_or_default().to_string());
    }
    let api = client_from(&d, 9);
    let fourth = api.post("/api/v1/appointments", None, Some(booking("2026-03-13", "10:00", "13800138000"))).await;
    fourth.assert_error(409, "phone_limit");
    // Another phone is not affected, and a cancelled booking frees its holder's place.
    let other = api.post("/api/v1/appointments", None, Some(booking("2026-03-13", "10:00", "13900139000"))).await;
    assert_eq!(other.status, 201, "{}", other.text);
    let cancelled = api.post(&format!("/api/v1/appointments/{}/cancel", codes[0]), None, None).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    let again = api.post("/api/v1/appointments", None, Some(booking("2026-03-13", "10:30", "13800138000"))).await;
    assert_eq!(again.status, 201, "{}", again.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_holds_at_most_four_bookings_a_day() {
    let d = Daemon::start_with_clock(seven_am()).await;
    let api = client_from(&d, 2);
    for n in 0..4 {
        let r = api
            .post("/api/v1/appointments", None, Some(booking("2026-03-11", "10:00", &format!("1380000000{n}"))))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let fifth = api.post("/api/v1/appointments", None, Some(booking("2026-03-11", "11:00", "13800000009"))).await;
    fifth.assert_error(409, "address_limit");
    // The next day is open to the same address; another address is not affected.
    let next = api.post("/api/v1/appointments", None, Some(booking("2026-03-12", "11:00", "13800000009"))).await;
    assert_eq!(next.status, 201, "{}", next.text);
    let other = client_from(&d, 3);
    let r = other.post("/api/v1/appointments", None, Some(booking("2026-03-11", "11:00", "13800000008"))).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// A daemon of the example hall that keeps its opening hours (08:30-12:00, 13:00-17:30).
async fn with_hours(start_ms: i64) -> Daemon {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(start_ms));
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    Daemon::start_hours(data, Some(clock), config, false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_late_booking_checks_in_during_the_lunch_break() {
    let d = with_hours(support::shanghai_ms(2026, 3, 10, 10, 0, 0)).await;
    let api = &d.api;
    let late = api.post("/api/v1/appointments", None, Some(booking("2026-03-10", "11:30", "13800138000"))).await;
    assert_eq!(late.status, 201, "{}", late.text);
    let early = api.post("/api/v1/appointments", None, Some(booking("2026-03-10", "13:00", "13900139000"))).await;
    assert_eq!(early.status, 201, "{}", early.text);
    let after = api.post("/api/v1/appointments", None, Some(booking("2026-03-10", "17:00", "13700137000"))).await;
    assert_eq!(after.status, 201, "{}", after.text);
    let code = |r: &support::Reply| r.body["code"].as_str().unwrap_or_default().to_string();

    // 12:10: the grace of 11:30 ended at 11:45. Walk-ins wait for 13:00, but the booked
    // visitor gets the ordinary ticket the README promises; the 13:00 booking checks in on
    // time and waits in Y.
    d.set_clock(support::shanghai_ms(2026, 3, 10, 12, 10, 0));
    api.issue_with(json!({ "service": "SC-0211" })).await.assert_error(503, "hall_closed");
    let ticket = api.post(&format!("/api/v1/appointments/{}/check-in", code(&late)), Some(KIOSK), None).await;
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    assert_ne!(ticket.body["queue"], "Y", "a late booking is an ordinary ticket: {}", ticket.text);
    let read = api.get(&format!("/api/v1/appointments/{}", code(&late)), None).await;
    assert_eq!(read.body["status"], "late", "{}", read.text);
    let on_time = api.post(&format!("/api/v1/appointments/{}/check-in", code(&early)), Some(KIOSK), None).await;
    assert_eq!((on_time.status, on_time.body["queue"].as_str()), (201, Some("Y")), "{}", on_time.text);

    // After the last close the hall is shut for bookings too.
    d.set_clock(support::shanghai_ms(2026, 3, 10, 17, 40, 0));
    let shut = api.post(&format!("/api/v1/appointments/{}/check-in", code(&after)), Some(KIOSK), None).await;
    shut.assert_error(503, "hall_closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ticket_served_at_midnight_is_finished_and_counted_on_its_day() {
    // A hall with opening hours: the ticket is issued in them, served late in the evening.
    let d = with_hours(support::shanghai_ms(2026, 3, 10, 17, 0, 0)).await;
    let api = &d.api;
    let ticket = api.issue("SC-0211").await;
    d.set_clock(support::shanghai_ms(2026, 3, 10, 23, 50, 0));
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(api.call_next(&clerk, "1").await["id"], ticket["id"]);
    api.window_ok(&clerk, "1", "serve", None).await;

    // Past midnight, with the engine's ticks running, the clerk finishes the visitor.
    d.set_clock(support::shanghai_ms(2026, 3, 11, 0, 5, 0));
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let done = api.window(&clerk, "1", "done", None).await;
    assert_eq!(done.status, 200, "{}", done.text);

    // Then the new day opens: numbers restart, and the ticket counts on 2026-03-10.
    d.set_clock(support::shanghai_ms(2026, 3, 11, 9, 0, 0));
    let next = api.issue("SC-0211").await;
    assert_eq!(next["number"].as_str().map(|n| n.ends_with("001")), Some(true), "{next}");
    let sup = api.login("supervisor").await;
    let day = api.get("/api/v1/stats?day=2026-03-10", Some(&sup)).await;
    assert_eq!(day.status, 200, "{}", day.text);
    let total = &day.body["total"];
    assert_eq!((total["issued"].clone(), total["completed"].clone()), (json!(1), json!(1)), "{}", day.text);
    assert_eq!(total["expired"].as_u64().unwrap_or(0), 0, "{}", day.text);
    // The reports, replayed off the log, agree: the done after midnight is the old day's.
    let old = api.get("/api/v1/reports/day?date=2026-03-10", Some(&sup)).await;
    assert_eq!(old.status, 200, "{}", old.text);
    assert_eq!((old.body["total"]["issued"].clone(), old.body["total"]["completed"].clone()), (json!(1), json!(1)));
    let new = api.get("/api/v1/reports/day?date=2026-03-11", Some(&sup)).await;
    assert_eq!((new.body["total"]["issued"].clone(), new.body["total"]["completed"].clone()), (json!(1), json!(0)));
}
