//! Secrets and personal data stay out of the daemon's log and off the displays: the built
//! binary runs with `RUST_LOG=debug`, its whole output is captured, and after logins (right
//! and wrong), a kiosk's work, a clerk's calls, a logout and a booking with a phone number,
//! neither the log nor the feed nor the hall snapshot holds a token, a password or the
//! phone number. And ticket ids are 128 random bits.

use crate::support;

use std::collections::HashSet;

use serde_json::json;
use support::Process;

const KIOSK_TOKEN: &str = "kiosk-secret-7Qx9Lm2Pz4";
const PASSWORD: &str = "Pw-secret-83jdKq";
const WRONG_PASSWORD: &str = "Wrong-secret-x5Vb";
const PHONE: &str = "13912345678";

/// The example hall with a kiosk token and clerk1's password of this test's own, so that
/// a leak cannot hide among the demo values ("demo" is in every demo warning).
fn hall_with_secrets(hall: String) -> String {
    let hash = hallq::config::hash_password(PASSWORD).expect("a hash");
    let start = hall.find("name = \"clerk1\"").expect("clerk1 in the example hall");
    let line_start = start + hall[start..].find("password_hash = ").expect("clerk1's hash");
    let line_end = line_start + hall[line_start..].find('\n').expect("a line end");
    let hall = format!("{}password_hash = \"{hash}\"{}", &hall[..line_start], &hall[line_end..]);
    support::without_rate_limits(hall.replace("\"demo-kiosk-1\"", &format!("\"{KIOSK_TOKEN}\"")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_passwords_and_phone_numbers_never_reach_the_log_or_the_displays() {
    let data = tempfile::tempdir().expect("a temp dir");
    let config = support::config_dir(hall_with_secrets);
    let mut daemon = Process::spawn_with(data.path(), config, "127.0.0.1:0", "debug", &[]).await;
    let api = daemon.api.clone();
    let mut display = api.display(None).await;
    display.expect("snapshot").await;

    let wrong = api.post("/api/v1/login", None, Some(json!({ "user": "clerk1", "password": WRONG_PASSWORD }))).await;
    wrong.assert_error(401, "bad_credentials");
    let login = api.post("/api/v1/login", None, Some(json!({ "user": "clerk1", "password": PASSWORD }))).await;
    assert_eq!(login.status, 200, "{}", login.text);
    let token = login.body["token"].as_str().expect("a token").to_string();

    // Issuing takes no personal data: a phone number is an unknown field.
    let with_phone = json!({ "service": "SC-0001", "phone": PHONE });
    let refused = api.post("/api/v1/tickets", Some(KIOSK_TOKEN), Some(with_phone)).await;
    refused.assert_error(400, "bad_json");
    assert!(!refused.text.contains(PHONE), "{}", refused.text);
    let ticket = api.post("/api/v1/tickets", Some(KIOSK_TOKEN), Some(json!({ "service": "SC-0001" }))).await;
    assert_eq!(ticket.status, 201, "{}", ticket.text);

    // A booking takes a phone number; it is hashed at the edge.
    // Two days ahead in the hall's time zone: never a slot that has begun.
    let local = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let tomorrow = (local + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
    let slots = api.get(&format!("/api/v1/appointments/slots?day={tomorrow}"), None).await;
    let slot = slots.body["slots"].as_array().and_then(|s| s.first()).map(|s| s["slot"].clone());
    let slot = slot.expect("a slot in two days (the example hall opens every day)");
    let booking = json!({ "service": "SC-0001", "day": tomorrow, "slot": slot, "phone": format!("+86 139-1234-5678") });
    let booked = api.post("/api/v1/appointments", None, Some(booking)).await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    assert!(!booked.text.contains("5678"), "the booking's answer repeats the phone: {}", booked.text);
    let code = booked.body["code"].as_str().expect("a code");
    let read = api.get(&format!("/api/v1/appointments/{code}"), None).await;
    assert!(!read.text.contains("5678"), "{}", read.text);

    // A clerk calls the ticket; the display sees the call, then the clerk leaves.
    api.window_ok(&token, "1", "open", None).await;
    let called = api.call_next(&token, "1").await;
    display.until("call", |m| m["number"] == called["number"]).await;
    let out = api.post("/api/v1/logout", Some(&token), None).await;
    assert_eq!(out.status, 200, "{}", out.text);
    let hall = api.get("/api/v1/hall", None).await.text;
    assert!(daemon.terminate().await.success());

    let log = daemon.log_text();
    assert!(log.lines().count() > 5, "the daemon logged next to nothing; was RUST_LOG=debug applied?\n{log}");
    assert!(log.contains("user logged in"), "the test did not see the login in the log:\n{log}");
    let feed = display.seen.join("\n");
    for (what, secret) in [
        ("the session token", token.as_str()),
        ("the kiosk token", KIOSK_TOKEN),
        ("the password", PASSWORD),
        ("a wrong password", WRONG_PASSWORD),
        ("the phone number", PHONE),
        ("the phone number's last digits", "12345678"),
        ("the phone number as typed", "139-1234-5678"),
    ] {
        assert!(!log.contains(secret), "{what} is in the daemon's log");
        assert!(!feed.contains(secret), "{what} is in the display feed");
        assert!(!hall.contains(secret), "{what} is in the hall snapshot");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ticket_ids_are_128_random_bits() {
    let d = support::Daemon::start().await;
    let mut seen = HashSet::new();
    let mut ones = [0u32; 128];
    let n = 200;
    for _ in 0..n {
        let id = d.api.issue("SC-0001").await["id"].as_str().expect("an id").to_string();
        assert_eq!(id.len(), 32, "an id of 128 bits in hex: {id}");
        let bits = u128::from_str_radix(&id, 16).expect("hex");
        for (i, count) in ones.iter_mut().enumerate() {
            *count += u32::from((bits >> i) & 1 == 1);
        }
        assert!(seen.insert(id), "an id repeated");
    }
    // Every bit varies: none is fixed or counted up. (Each bit is 1 in about half the ids;
    // all 0 or all 1 over 200 random ids has odds of 2^-199.)
    assert!(ones.iter().all(|&c| c > 0 && c < n), "bits that never change: {ones:?}");
}
