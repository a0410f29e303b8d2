//! The unstaffed-queue alert through a real daemon: a queue no open window serves alerts
//! within a tick and clears when one opens; a due booking whose service has an open
//! window raises none.

use crate::api_alerts::{alerts_until, hook_config, receiver};
use crate::support;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use serde_json::{json, Value};
use support::{default_start_ms, Daemon, KIOSK};

/// Issue 15, point 9: tickets waiting in queues whose every window was closed raised no
/// alert. Now the engine's own tick raises `queue_unstaffed` (no request needed: the
/// webhook hears of it), within one tick of the ticket, on the daemon's wall clock; it
/// clears when a window serving the queue opens.
#[tokio::test]
async fn a_queue_no_open_window_serves_alerts_within_a_tick_and_clears_when_one_opens() {
    let (receiver, url) = receiver(&[]).await;
    let mut config = hook_config(url, 4);
    config.setup.alerts.unstaffed = 1;
    let data = Arc::new(tempfile::tempdir().unwrap());
    let d = Daemon::start_config(data, None, config).await;
    let api = &d.api;
    let clerk1 = api.login("clerk1").await;
    api.window_ok(&clerk1, "1", "open", None).await;
    let a = api.issue(&api.item_in("A").await).await;
    let b = api.issue(&api.item_in("B").await).await;
    let got = receiver.wait_for(1).await;
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    let alert = &body["alert"];
    assert_eq!((alert["kind"].as_str(), alert["queue"].as_str()), (Some("queue_unstaffed"), Some("B")), "{body}");
    assert_eq!((alert["value"].as_u64(), alert["threshold"].as_u64()), (Some(1), Some(1)));
    assert_eq!(alert["text"], "【预警】企业服务1人等候，没有开启的窗口办理");
    // Times to the second: raised in the second of the issue or the next (one tick).
    let secs = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().timestamp();
    let late = secs(&alert["raised_at"]) - secs(&b["issued_at"]);
    assert!((0..=1).contains(&late), "raised {late} s after the ticket: {body}");
    assert!(a["queue"] == "A", "A has window 1 open and raises nothing");
    // Window 10 (B) opens: cleared on the next tick, and the webhook says so.
    let clerk10 = api.login("clerk10").await;
    api.window_ok(&clerk10, "10", "open", None).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].delivery, format!("{}-cleared", alert["id"]));
    let body: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(body["alert"]["text"], "【解除】企业服务已有窗口办理");
    let sup = api.login("supervisor").await;
    let all = api.get("/api/v1/alerts", Some(&sup)).await;
    let kinds: Vec<&str> = all.body["alerts"].as_array().unwrap().iter().filter_map(|a| a["kind"].as_str()).collect();
    assert_eq!(kinds, ["queue_unstaffed"], "one alert, for B only: {}", all.text);
}

/// Issue 15 (second round): the appointment queue Y counted as unstaffed whenever no open
/// window listed Y, although from its slot's start a booked ticket is called by the
/// windows of its service's own queue too. Now the alert counts only the tickets no open
/// window may call, and the windows it says may call one do call it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_due_booking_whose_service_has_an_open_window_raises_no_unstaffed_alert() {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    config.setup.alerts.unstaffed = 1;
    let data = Arc::new(tempfile::tempdir().unwrap());
    let d = Daemon::start_config(data, Some(Arc::new(AtomicI64::new(default_start_ms()))), config).await;
    let api = &d.api;
    let (item_a, item_b) = (api.item_in("A").await, api.item_in("B").await);
    let book = |service: &str, phone: &str| {
        let body = json!({ "service": service, "day": "2026-03-10", "slot": "10:30", "phone": phone });
        api.post("/api/v1/appointments", None, Some(body))
    };
    let (for_a, for_b) = (book(&item_a, "13800138001").await, book(&item_b, "13800138002").await);
    assert_eq!((for_a.status, for_b.status), (201, 201), "{} {}", for_a.text, for_b.text);
    let check_in = |booking: &Value| {
        let code = booking["code"].as_str().unwrap_or_default().to_string();
        async move { api.post(&format!("/api/v1/appointments/{code}/check-in"), Some(KIOSK), None).await }
    };
    // 10:31: the slot has begun. Only window 3 is open, which serves A and not Y.
    d.set_clock(default_start_ms() + 31 * 60_000);
    let clerk3 = api.login("clerk3").await;
    api.window_ok(&clerk3, "3", "open", None).await;
    let booked_a = check_in(&for_a.body).await;
    assert_eq!((booked_a.status, booked_a.body["queue"].as_str()), (201, Some("Y")), "{}", booked_a.text);
    // A walk-in of B, whose only window (10) is closed: its alert shows a tick has seen both.
    api.issue(&item_b).await;
    let sup = api.login("supervisor").await;
    let unstaffed = |list: &[Value], q: &str| {
        list.iter().find(|a| a["kind"] == "queue_unstaffed" && a["queue"] == q && a["active"] == true).cloned()
    };
    let list = alerts_until(api, &sup, "", |l| unstaffed(l, "B").is_some()).await;
    assert_eq!(unstaffed(&list, "Y"), None, "window 3 may call the due booking of A: {list:?}");
    // And it does.
    let called = api.call_next(&clerk3, "3").await;
    assert_eq!(called["id"], booked_a.body["id"]);
    assert_eq!(called["call_rule"]["code"], "appointment_due");
    api.window_ok(&clerk3, "3", "serve", None).await;
    api.window_ok(&clerk3, "3", "done", None).await;

    // A due booking of B: no open window may call it, and the alert says so.
    let booked_b = check_in(&for_b.body).await;
    assert_eq!((booked_b.status, booked_b.body["queue"].as_str()), (201, Some("Y")), "{}", booked_b.text);
    let list = alerts_until(api, &sup, "", |l| unstaffed(l, "Y").is_some()).await;
    assert_eq!(unstaffed(&list, "Y").map(|a| a["value"].clone()), Some(json!(1)), "{list:?}");
    let empty = api.window_ok(&clerk3, "3", "next", None).await;
    assert!(empty["ticket"].is_null(), "window 3 may not call the booking of B: {empty}");
    // Window 10 (B and A) opens: both alerts clear, and window 10 calls the booking.
    let clerk10 = api.login("clerk10").await;
    api.window_ok(&clerk10, "10", "open", None).await;
    alerts_until(api, &sup, "", |l| unstaffed(l, "Y").is_none() && unstaffed(l, "B").is_none()).await;
    let called = api.call_next(&clerk10, "10").await;
    assert_eq!(called["id"], booked_b.body["id"]);
}
