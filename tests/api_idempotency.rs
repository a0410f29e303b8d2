//! An idempotency key names one command, black-box against a real daemon: the key reused
//! for another target or body gets 409 `idempotency_conflict` and changes nothing —
//! never the first command's answer, which would report a success that never happened
//! (issue 14, medium 4: a password reset "done" for clerk4 whose old password still
//! worked; a disable that blocked a login only in memory until the next restart). A true
//! retry still gets the first answer, also after a restart. Each keyed route is tried:
//! users, windows, tickets, check-in, bookings, cases, alerts.

use crate::support;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use hallq::core::model::QueueId;
use serde_json::{json, Value};
use support::{default_start_ms, shanghai_ms, Api, Daemon, Reply, KIOSK};

const ONLINE: &str = "demo-online-1";

/// A POST carrying `key` as its Idempotency-Key.
async fn keyed(api: &Api, path: &str, token: Option<&str>, body: Option<Value>, key: &str) -> Reply {
    let mut req = api.http.post(api.url(path)).header("Idempotency-Key", key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    api.send(req, token).await
}

async fn login_with(api: &Api, user: &str, password: &str) -> Reply {
    api.post("/api/v1/login", None, Some(json!({ "user": user, "password": password }))).await
}

fn ok(r: &Reply) -> &Value {
    assert!(r.status == 200 || r.status == 201, "expected success, got {}", r.text);
    &r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_password_reset_key_reused_for_another_user_resets_nothing_also_after_a_restart() {
    let d = Daemon::start_with_clock(default_start_ms()).await;
    let admin = d.api.login("admin").await;
    let clerk4 = d.api.login("clerk4").await;
    let reset = |user: &str, password: &str| {
        let (api, admin, path) = (d.api.clone(), admin.clone(), format!("/api/v1/users/{user}/password"));
        let body = json!({ "password": password });
        async move { keyed(&api, &path, Some(&admin), Some(body), "K").await }
    };
    let first = reset("clerk3", "clerk3-new-pass").await;
    assert_eq!(ok(&first)["password_reset"], true);
    // The attack: the same key for clerk4. Refused, and clerk4's password is unchanged.
    reset("clerk4", "clerk4-new-pass").await.assert_error(409, "idempotency_conflict");
    assert_eq!(login_with(&d.api, "clerk4", "demo").await.status, 200, "clerk4's old password still works");
    login_with(&d.api, "clerk4", "clerk4-new-pass").await.assert_error(401, "bad_credentials");
    // clerk4's session was not ended by a reset that did not happen.
    assert_eq!(d.api.window(&clerk4, "4", "open", None).await.status, 200, "clerk4's session lives");
    // Another password for clerk3 under the key is another command too.
    reset("clerk3", "clerk3-other-pass").await.assert_error(409, "idempotency_conflict");
    login_with(&d.api, "clerk3", "clerk3-other-pass").await.assert_error(401, "bad_credentials");
    // The true retry gets the first answer.
    let again = reset("clerk3", "clerk3-new-pass").await;
    assert_eq!((again.status, &again.body["password_reset"]), (200, &json!(true)), "{}", again.text);

    let d = d.restart().await;
    let admin = d.api.login("admin").await;
    assert_eq!(login_with(&d.api, "clerk4", "demo").await.status, 200, "after a restart too");
    assert_eq!(login_with(&d.api, "clerk3", "clerk3-new-pass").await.status, 200);
    let path = "/api/v1/users/clerk4/password";
    let r = keyed(&d.api, path, Some(&admin), Some(json!({ "password": "clerk4-new-pass" })), "K").await;
    r.assert_error(409, "idempotency_conflict");
    let path = "/api/v1/users/clerk3/password";
    let r = keyed(&d.api, path, Some(&admin), Some(json!({ "password": "clerk3-new-pass" })), "K").await;
    assert_eq!(r.status, 200, "the retry is known after a restart: {}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_disable_key_reused_for_another_user_blocks_nobody_and_a_repeat_blocks_no_one_enabled() {
    let d = Daemon::start_with_clock(default_start_ms()).await;
    let admin = d.api.login("admin").await;
    let disable = |user: &str, key: &str| {
        let (api, admin, path, key) =
            (d.api.clone(), admin.clone(), format!("/api/v1/users/{user}/disable"), key.to_string());
        async move { keyed(&api, &path, Some(&admin), None, &key).await }
    };
    assert_eq!(ok(&disable("clerk3", "K").await)["disabled"], true);
    disable("clerk4", "K").await.assert_error(409, "idempotency_conflict");
    assert_eq!(login_with(&d.api, "clerk4", "demo").await.status, 200, "clerk4 is not disabled");
    login_with(&d.api, "clerk3", "demo").await.assert_error(403, "user_disabled");

    // clerk3 enabled again; the first disable's retry answers as before but blocks no one:
    // the sessions follow the command decided, and this one was decided before.
    let r = keyed(&d.api, "/api/v1/users/clerk3/enable", Some(&admin), None, "K2").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let retry = disable("clerk3", "K").await;
    assert_eq!((retry.status, &retry.body["disabled"]), (200, &json!(true)), "{}", retry.text);
    assert_eq!(login_with(&d.api, "clerk3", "demo").await.status, 200, "clerk3 is enabled, in memory too");

    let d = d.restart().await;
    assert_eq!(login_with(&d.api, "clerk3", "demo").await.status, 200, "and after a restart");
    assert_eq!(login_with(&d.api, "clerk4", "demo").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kiosk_key_reused_for_another_service_issues_nothing() {
    let d = Daemon::start_with_clock(default_start_ms()).await;
    let (a, b) = (d.api.item_in("A").await, d.api.item_in("B").await);
    let first = keyed(&d.api, "/api/v1/tickets", Some(KIOSK), Some(json!({ "service": a })), "K").await;
    assert_eq!(first.status, 201, "{}", first.text);
    let other = keyed(&d.api, "/api/v1/tickets", Some(KIOSK), Some(json!({ "service": b })), "K").await;
    other.assert_error(409, "idempotency_conflict");
    // The key in the body means the same.
    let body = json!({ "service": b, "idempotency_key": "K" });
    d.api.issue_with(body).await.assert_error(409, "idempotency_conflict");
    let again = keyed(&d.api, "/api/v1/tickets", Some(KIOSK), Some(json!({ "service": a })), "K").await;
    assert_eq!((again.status, &again.body["id"]), (200, &first.body["id"]), "{}", again.text);
    // No B ticket was issued: the next B ticket is B001.
    let next_b = d.api.issue(&b).await;
    assert_eq!(next_b["number"], "B001", "{next_b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_window_key_reused_for_another_transfer_moves_nothing() {
    let d = Daemon::start_with_clock(default_start_ms()).await;
    let a = d.api.item_in("A").await;
    let t1 = d.api.issue(&a).await["id"].as_str().expect("an id").to_string();
    let t2 = d.api.issue(&a).await["id"].as_str().expect("an id").to_string();
    let clerk = d.api.login("clerk1").await;
    let c2 = d.api.login("clerk2").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    d.api.window_ok(&c2, "2", "open", None).await;
    assert_eq!(d.api.call_next(&clerk, "1").await["id"], t1.as_str());
    let path = "/api/v1/windows/1/transfer";
    let first = keyed(&d.api, path, Some(&clerk), Some(json!({ "queue": "B" })), "K").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(d.api.call_next(&clerk, "1").await["id"], t2.as_str());
    // The attack: the same key, another target. Refused; t2 stays at window 1.
    let other = keyed(&d.api, path, Some(&clerk), Some(json!({ "window": "2" })), "K").await;
    other.assert_error(409, "idempotency_conflict");
    let t = d.api.ticket(&t2).await.body;
    assert_eq!((&t["status"], &t["window"]), (&json!("called"), &json!("1")), "{t}");
    // The same key for another action at the window is refused as well.
    keyed(&d.api, "/api/v1/windows/1/serve", Some(&clerk), None, "K").await.assert_error(409, "idempotency_conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_check_in_key_reused_for_another_ticket_checks_nothing_in() {
    let d = Daemon::start_with_clock(default_start_ms()).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = d.api.post("/api/v1/tickets", Some(ONLINE), Some(json!({ "service": "SC-0211" }))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.push(r.body["id"].as_str().expect("an id").to_string());
    }
    let path = |id: &str| format!("/api/v1/tickets/{id}/check-in");
    assert_eq!(keyed(&d.api, &path(&ids[0]), Some(KIOSK), None, "K").await.status, 200);
    keyed(&d.api, &path(&ids[1]), Some(KIOSK), None, "K").await.assert_error(409, "idempotency_conflict");
    // Not checked in by the refused request: its own check-in succeeds.
    let own = keyed(&d.api, &path(&ids[1]), Some(KIOSK), None, "K2").await;
    assert_eq!(own.status, 200, "the second remote ticket was not checked in before: {}", own.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_booking_key_reused_for_another_slot_books_nothing() {
    let d = Daemon::start_with_clock(default_start_ms()).await;
    let booking =
        |slot: &str| json!({ "service": "SC-0211", "day": "2026-03-10", "slot": slot, "phone": "13800138000" });
    let first = keyed(&d.api, "/api/v1/appointments", None, Some(booking("10:30")), "K").await;
    assert_eq!(first.status, 201, "{}", first.text);
    let other = keyed(&d.api, "/api/v1/appointments", None, Some(booking("11:00")), "K").await;
    other.assert_error(409, "idempotency_conflict");
    let slots = d.api.get("/api/v1/appointments/slots?day=2026-03-10", None).await.body;
    let free = |slot: &str| slots["slots"].as_array().and_then(|l| l.iter().find(|s| s["slot"] == slot).cloned());
    assert_eq!(free("11:00").map(|s| s["free"].clone()), Some(json!(4)), "{slots}");
    let again = keyed(&d.api, "/api/v1/appointments", None, Some(booking("10:30")), "K").await;
    assert_eq!((again.status, &again.body["code"]), (200, &first.body["code"]), "{}", again.text);
}

/// Serves a ticket at window 1 and rates it 1, opening a case; returns the case id.
async fn bad_case(api: &Api, clerk: &str, n: u32) -> String {
    let t = api.issue("SC-0001").await;
    let id = t["id"].as_str().expect("an id").to_string();
    assert_eq!(api.call_next(clerk, "1").await["id"], id.as_str());
    api.window_ok(clerk, "1", "serve", None).await;
    api.window_ok(clerk, "1", "done", Some(json!({ "outcome": "completed" }))).await;
    let path = support::visitor_path(&t, "rating");
    let r = api.post(&path, None, Some(json!({ "score": 1, "reason": "attitude" }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    format!("C20261127-{n:03}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_case_key_reused_for_another_case_records_nothing() {
    let d = Daemon::start_with_clock(shanghai_ms(2026, 11, 27, 10, 0, 0)).await;
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    let (c1, c2) = (bad_case(&d.api, &clerk, 1).await, bad_case(&d.api, &clerk, 2).await);
    let sup = d.api.login("supervisor").await;
    let note = json!({ "reached": true, "note": "已回访" });
    let first = keyed(&d.api, &format!("/api/v1/cases/{c1}/callback"), Some(&sup), Some(note.clone()), "K").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let other = keyed(&d.api, &format!("/api/v1/cases/{c2}/callback"), Some(&sup), Some(note), "K").await;
    other.assert_error(409, "idempotency_conflict");
    // So case 2 has no call-back: its rectification is refused.
    let rx = d.api.post(&format!("/api/v1/cases/{c2}/rectify"), Some(&sup), Some(json!({ "note": "已整改" }))).await;
    rx.assert_error(409, "callback_first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_acknowledgement_key_reused_for_another_alert_acknowledges_nothing() {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    for q in ["A", "B"] {
        config.setup.alerts.queues.get_mut(&QueueId::parse(q).unwrap()).expect("thresholds").waiting = 1;
    }
    let data = Arc::new(tempfile::tempdir().unwrap());
    let d = Daemon::start_config(data, Some(Arc::new(AtomicI64::new(default_start_ms()))), config).await;
    for q in ["A", "B"] {
        let item = d.api.item_in(q).await;
        d.api.issue(&item).await;
        d.api.issue(&item).await;
    }
    let sup = d.api.login("supervisor").await;
    support::guard("two alerts", async {
        loop {
            let list = d.api.get("/api/v1/alerts", Some(&sup)).await.body;
            if list["alerts"].as_array().is_some_and(|l| l.len() >= 2) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    let first = keyed(&d.api, "/api/v1/alerts/1/ack", Some(&sup), None, "K").await;
    assert_eq!((first.status, &first.body["id"]), (200, &json!(1)), "{}", first.text);
    keyed(&d.api, "/api/v1/alerts/2/ack", Some(&sup), None, "K").await.assert_error(409, "idempotency_conflict");
    let list = d.api.get("/api/v1/alerts", Some(&sup)).await.body;
    let two = list["alerts"].as_array().and_then(|l| l.iter().find(|a| a["id"] == 2).cloned()).expect("alert 2");
    assert_eq!(two["acked_by"], Value::Null, "alert 2 is not acknowledged: {two}");
}
