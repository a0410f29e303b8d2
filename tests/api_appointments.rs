//! Appointments and remote take-a-number over real HTTP against a real daemon: free
//! slots, booking with a phone number that never reaches the log, check-in at a kiosk,
//! the appointment queue, and a remote ticket called only after it checks in.

use crate::support;

use serde_json::{json, Value};
use support::{Daemon, KIOSK};

const ONLINE: &str = "demo-online-1";
const PHONE: &str = "138 0013 8000";

fn booking(slot: &str, phone: &str) -> Value {
    json!({ "service": "SC-0211", "day": "2026-03-10", "slot": slot, "phone": phone })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visitor_books_a_slot_checks_in_and_is_called_from_the_appointment_queue() {
    // 10:00 on the test day.
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let slots = api.get("/api/v1/appointments/slots?day=2026-03-10", None).await;
    assert_eq!(slots.status, 200, "{}", slots.text);
    let list = slots.body["slots"].as_array().cloned().unwrap_or_default();
    let free = |slot: &str| list.iter().find(|s| s["slot"] == slot).and_then(|s| s["free"].as_u64());
    assert_eq!((free("08:30"), free("10:30"), free("13:00")), (Some(0), Some(4), Some(4)), "{}", slots.text);

    let booked = api.post("/api/v1/appointments", None, Some(booking("10:30", PHONE))).await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    let code = booked.body["code"].as_str().unwrap_or_default().to_string();
    assert_eq!(code.len(), 8, "{}", booked.text);
    assert_eq!(booked.body["status"], "booked");
    assert!(!booked.text.contains("138") && !booked.text.contains("phone"), "no phone on the wire: {}", booked.text);
    // One booking per person per day, however the number is written.
    let again = api.post("/api/v1/appointments", None, Some(booking("11:00", "+8613800138000"))).await;
    again.assert_error(409, "already_booked");
    api.post("/api/v1/appointments", None, Some(booking("10:30", "12345"))).await.assert_error(400, "bad_phone");
    api.post("/api/v1/appointments", None, Some(booking("10:10", "13900139000"))).await.assert_error(400, "bad_slot");
    api.post("/api/v1/appointments", None, Some(booking("09:30", "13900139000"))).await.assert_error(409, "slot_past");
    let after = api.get("/api/v1/appointments/slots?day=2026-03-10", None).await;
    let left = after.body["slots"].as_array().and_then(|l| l.iter().find(|s| s["slot"] == "10:30").cloned());
    assert_eq!(left.map(|s| s["free"].clone()), Some(json!(3)));

    // Two walk-ins are in line before the booking checks in.
    let walk_in = api.issue("SC-0211").await;
    let second_walk_in = api.issue("SC-0211").await;
    // Only a kiosk checks in; the ticket waits in Y and is due at 10:30.
    let path = format!("/api/v1/appointments/{code}/check-in");
    api.post(&path, None, None).await.assert_error(401, "unauthorized");
    let ticket = api.post(&path, Some(KIOSK), None).await;
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    assert_eq!((ticket.body["queue"].as_str(), ticket.body["number"].as_str()), (Some("Y"), Some("Y001")));
    api.post(&path, Some(KIOSK), None).await.assert_error(409, "appointment_closed");
    let read = api.get(&format!("/api/v1/appointments/{}", code.to_lowercase()), None).await;
    assert_eq!(
        (read.body["status"].as_str(), read.body["ticket"]["number"].as_str()),
        (Some("checked_in"), Some("Y001"))
    );

    // Before 10:30 the pooled line's order holds; from 10:30 the booking goes first.
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(api.call_next(&clerk, "1").await["id"], walk_in["id"]);
    api.window_ok(&clerk, "1", "serve", None).await;
    api.window_ok(&clerk, "1", "done", None).await;
    d.set_clock(support::default_start_ms() + 31 * 60_000);
    let due = api.call_next(&clerk, "1").await;
    assert_eq!(due["id"], ticket.body["id"]);
    assert_eq!(
        (due["call_rule"]["code"].as_str(), due["call_rule"]["slot"].as_str()),
        (Some("appointment_due"), Some("10:30"))
    );
    assert_ne!(due["id"], second_walk_in["id"]);

    // The phone number is in neither the log nor any other file of the data directory.
    let (data, _) = d.stop().await;
    for entry in walk(data.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("13800138000"), "the phone number is in {}", entry.display());
    }
    let key = std::fs::metadata(data.path().join("phone-hash.key")).map(|m| m.len()).ok();
    assert_eq!(key, Some(32));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_booking_can_be_cancelled_and_a_late_check_in_gets_an_ordinary_ticket() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let first = api.post("/api/v1/appointments", None, Some(booking("10:30", PHONE))).await;
    let code = first.body["code"].as_str().unwrap_or_default().to_string();
    let cancelled = api.post(&format!("/api/v1/appointments/{code}/cancel"), None, None).await;
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.text);
    let second = api.post("/api/v1/appointments", None, Some(booking("10:30", PHONE))).await;
    assert_eq!(second.status, 201, "a cancel frees the holder: {}", second.text);
    let code = second.body["code"].as_str().unwrap_or_default().to_string();
    d.set_clock(support::default_start_ms() + 46 * 60_000);
    let late = api.post(&format!("/api/v1/appointments/{code}/check-in"), Some(KIOSK), None).await;
    assert_eq!(late.status, 201, "{}", late.text);
    assert_eq!(late.body["queue"], "A", "{}", late.text);
    let read = api.get(&format!("/api/v1/appointments/{code}"), None).await;
    assert_eq!(read.body["status"], "late");
    api.get("/api/v1/appointments/NOPE1234", None).await.assert_error(404, "unknown_appointment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_remote_ticket_is_called_only_after_it_checks_in() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let remote = api.post("/api/v1/tickets", Some(ONLINE), Some(json!({ "service": "SC-0211" }))).await;
    assert_eq!(remote.status, 201, "{}", remote.text);
    let id = remote.body["id"].as_str().unwrap_or_default().to_string();
    let clerk = api.login("clerk3").await;
    api.window_ok(&clerk, "3", "open", None).await;
    let nothing = api.window_ok(&clerk, "3", "next", None).await;
    assert!(nothing["ticket"].is_null(), "{nothing}");
    let path = format!("/api/v1/tickets/{id}/check-in");
    api.post(&path, None, None).await.assert_error(401, "unauthorized");
    let checked = api.post(&path, Some(KIOSK), None).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    api.post(&path, Some(KIOSK), None).await.assert_error(409, "already_checked_in");
    assert_eq!(api.call_next(&clerk, "3").await["id"], remote.body["id"]);
}

/// Issue 15: the kiosk's 预约 card leads to check-in, but the API still issued an
/// appointment-queue ticket to anyone who asked for its service, a ticket never due and a
/// booking never checked in. Now only a check-in gives one; a plain request is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_appointment_queue_takes_no_walk_in_only_a_checked_in_booking() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let catalog = api.catalog().await;
    let items = catalog["items"].as_array().cloned().unwrap_or_default();
    let sign_in = items.iter().find(|i| i["queue"] == "Y").map(|i| i["code"].clone()).expect("an item in Y");
    for token in [KIOSK, ONLINE] {
        let r = api.post("/api/v1/tickets", Some(token), Some(json!({ "service": sign_in }))).await;
        r.assert_error(400, "check_in_required");
        assert!(r.text.contains("check in"), "the error names check-in: {}", r.text);
    }
    let hall = api.get("/api/v1/hall", None).await;
    assert!(!hall.text.contains("Y001"), "no ticket was issued: {}", hall.text);
    // Nor does the hall tell a wait for taking one, with window 1 (A and Y) open or not:
    // the lobby and the supervisor's page say 仅限预约签到 for it.
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let sup = api.login("supervisor").await;
    for (path, token) in [("/api/v1/hall", None), ("/api/v1/supervision", Some(sup.as_str()))] {
        let body = api.get(path, token).await.body;
        let queues = body["queues"].as_array().cloned().unwrap_or_default();
        let y = queues.iter().find(|q| q["id"] == "Y").expect("queue Y");
        assert_eq!((y["eta_minutes"].clone(), y["eta_reason"].clone()), (json!(null), json!("booked_only")), "{path}");
        let a = queues.iter().find(|q| q["id"] == "A").expect("queue A");
        assert!(a["eta_minutes"].is_u64(), "window 1 serves A: {path} {a}");
    }
    // A booking of it checks in as before, into Y.
    let booked = api.post("/api/v1/appointments", None, Some(booking("10:30", PHONE))).await;
    let code = booked.body["code"].as_str().unwrap_or_default().to_string();
    let ticket = api.post(&format!("/api/v1/appointments/{code}/check-in"), Some(KIOSK), None).await;
    assert_eq!((ticket.status, ticket.body["number"].as_str()), (201, Some("Y001")), "{}", ticket.text);
}
