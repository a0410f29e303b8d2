//! Contract v1 over real HTTP against a real daemon (port 0, sled in a temp dir): the
//! ticket's life at a window, the refusals and their status codes, the read-only
//! endpoints, and numbers that survive a restart. Transfers, pause, resume and close are
//! in api_window.rs.

use crate::support;

use serde_json::{json, Value};
use support::{Daemon, KIOSK};

fn is_rfc3339(s: &Value) -> bool {
    s.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

fn assert_ticket_shape(t: &Value) {
    for key in ["id", "number", "queue", "status", "issued_at", "status_url"] {
        assert!(t[key].is_string(), "ticket without {key}: {t}");
    }
    assert!(t["services"].as_array().is_some_and(|s| !s.is_empty()), "ticket without services: {t}");
    assert!(is_rfc3339(&t["issued_at"]), "issued_at is not RFC 3339: {t}");
    let id = t["id"].as_str().unwrap_or_default();
    assert_eq!(id.len(), 32, "a ticket id is 32 hex digits: {t}");
    // With the visitor's key in the kiosk's answer, without it elsewhere.
    let url = match t["key"].as_str() {
        Some(key) => format!("/t/{id}?k={key}"),
        None => format!("/t/{id}"),
    };
    assert_eq!(t["status_url"].as_str(), Some(url.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kiosk_issues_and_a_repeated_key_returns_the_same_ticket() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;

    let first = api.issue_with(json!({ "service": code, "idempotency_key": "k-1" })).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let t = &first.body;
    assert_ticket_shape(t);
    assert_eq!(t["number"], "A001");
    assert_eq!(t["queue"], "A");
    assert_eq!(t["status"], "waiting");
    assert_eq!(t["services"], json!([code]));
    assert_eq!(t["ahead"], 0, "nobody is ahead of the first ticket: {t}");
    // No window is open yet: a place in line, but no wait to tell (issue 15).
    assert!(t["eta_minutes"].is_null(), "no open window, no wait: {t}");
    assert_eq!(t["eta_reason"], "no_open_window", "{t}");
    assert!(t["window"].is_null());

    // The same key in the body: 200, the same ticket, nothing new.
    let again = api.issue_with(json!({ "service": code, "idempotency_key": "k-1" })).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["id"], t["id"]);
    assert_eq!(again.body["number"], "A001");

    // The same key in the Idempotency-Key header means the same.
    let send_with_header = || async {
        let req = api
            .http
            .post(api.url("/api/v1/tickets"))
            .header("Idempotency-Key", "h-7")
            .json(&json!({ "service": code }));
        api.send(req, Some(KIOSK)).await
    };
    let h1 = send_with_header().await;
    assert_eq!(h1.status, 201, "{}", h1.text);
    assert_eq!(h1.body["number"], "A002");
    assert_eq!(h1.body["ahead"], 1, "A001 is ahead of A002: {}", h1.text);
    let h2 = send_with_header().await;
    assert_eq!(h2.status, 200, "{}", h2.text);
    assert_eq!(h2.body["id"], h1.body["id"]);

    // Only two tickets exist: the next one is A003.
    assert_eq!(api.issue(&code).await["number"], "A003");

    let got = api.ticket(t["id"].as_str().unwrap()).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["number"], "A001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ticket_goes_through_a_window_and_is_rated_once() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let t = api.issue(&code).await;
    let id = t["id"].as_str().unwrap().to_string();

    // Rating before service is refused.
    let rating = support::visitor_path(&t, "rating");
    let early = api.post(&rating, None, Some(json!({ "score": 5 }))).await;
    early.assert_error(409, "not_rateable");

    let clerk = api.login("clerk1").await;
    let w = api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(w["id"], "1");
    assert_eq!(w["state"], "open");
    assert_eq!(w["clerk"], "clerk1");
    assert_eq!(w["queues"], json!(["Y", "A"]));

    let called = api.call_next(&clerk, "1").await;
    assert_eq!(called["id"], id.as_str());
    assert_eq!(called["number"], "A001");
    assert_eq!(called["status"], "called");
    assert_eq!(called["window"], "1");

    let recalled = api.window_ok(&clerk, "1", "recall", None).await;
    assert_eq!(recalled["id"], id.as_str());
    assert_eq!(recalled["status"], "called");

    // A second next while holding a ticket is refused.
    api.window(&clerk, "1", "next", None).await.assert_error(409, "window_busy");

    let serving = api.window_ok(&clerk, "1", "serve", None).await;
    assert_eq!(serving["status"], "serving");
    let done = api.window_ok(&clerk, "1", "done", Some(json!({ "outcome": "completed" }))).await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["outcome"], "completed");

    let got = api.ticket(&id).await;
    assert_eq!(got.body["status"], "done");
    assert_eq!(got.body["window"], "1");

    let rated = api.post(&rating, None, Some(json!({ "score": 4, "comment": "快" }))).await;
    assert_eq!(rated.status, 200, "{}", rated.text);
    assert_eq!(rated.body["rated"], true);
    let twice = api.post(&rating, None, Some(json!({ "score": 5 }))).await;
    twice.assert_error(409, "already_rated");

    // A score outside 1..=5 is bad input.
    let t2 = api.issue(&code).await;
    let bad = api.post(&support::visitor_path(&t2, "rating"), None, Some(json!({ "score": 9 }))).await;
    bad.assert_error(400, "bad_score");

    // Nobody else waits once t2 is called and finished: next answers null.
    api.call_next(&clerk, "1").await;
    api.window(&clerk, "1", "done", None).await.assert_error(409, "wrong_ticket_state");
    api.window_ok(&clerk, "1", "serve", None).await;
    api.window_ok(&clerk, "1", "done", None).await;
    let empty = api.window_ok(&clerk, "1", "next", None).await;
    assert!(empty["ticket"].is_null(), "{empty}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_only_while_waiting_and_no_show() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let a1 = api.issue(&code).await;
    let a2 = api.issue(&code).await;
    let a1_cancel = support::visitor_path(&a1, "cancel");

    let cancelled = api.post(&a1_cancel, None, None).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.body["status"], "cancelled");
    api.post(&a1_cancel, None, None).await.assert_error(409, "not_waiting");

    // A cancelled ticket is never called: the window gets A002.
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let called = api.call_next(&clerk, "1").await;
    assert_eq!(called["id"], a2["id"]);
    // A called ticket can no longer be cancelled.
    let late = api.post(&support::visitor_path(&a2, "cancel"), None, None).await;
    late.assert_error(409, "not_waiting");

    let gone = api.window_ok(&clerk, "1", "no-show", None).await;
    assert_eq!(gone["status"], "no_show");
    assert_eq!(api.ticket(a2["id"].as_str().unwrap()).await.body["status"], "no_show");
    // The window is free again.
    api.window(&clerk, "1", "no-show", None).await.assert_error(409, "no_ticket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn who_may_do_what() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    api.issue(&code).await;
    let (c1, c2) = (api.login("clerk1").await, api.login("clerk2").await);
    api.window_ok(&c1, "1", "open", None).await;

    // clerk2 may not open window 1 (its windows list) nor drive clerk1's window.
    api.window(&c2, "1", "open", None).await.assert_error(403, "forbidden");
    api.window(&c2, "1", "next", None).await.assert_error(403, "not_your_window");
    // Nothing happened: window 1 still calls the ticket for clerk1.
    assert_eq!(api.call_next(&c1, "1").await["number"], "A001");
    api.window(&c2, "1", "done", None).await.assert_error(403, "not_your_window");

    // A kiosk token is not a clerk.
    let kiosk_next = api.window(KIOSK, "2", "next", None).await;
    assert!(matches!(kiosk_next.status, 401 | 403), "kiosk next: {}", kiosk_next.text);
    kiosk_next.error_code();
    // A clerk is not a kiosk.
    api.post("/api/v1/tickets", Some(&c1), Some(json!({ "service": code }))).await.assert_error(403, "forbidden");

    // No token, a bad token, a wrong password.
    api.window_ok(&c2, "2", "open", None).await;
    api.post("/api/v1/windows/2/next", None, None).await.assert_error(401, "unauthorized");
    api.post("/api/v1/windows/2/next", Some("not-a-session"), None).await.assert_error(401, "unauthorized");
    api.post("/api/v1/tickets", None, Some(json!({ "service": code }))).await.assert_error(401, "unauthorized");
    api.post("/api/v1/login", None, Some(json!({ "user": "clerk1", "password": "nope" })))
        .await
        .assert_error(401, "bad_credentials");
    api.post("/api/v1/login", None, Some(json!({ "user": "nobody", "password": "demo" })))
        .await
        .assert_error(401, "bad_credentials");

    // Stats are for supervisors and admins.
    api.get("/api/v1/stats", Some(&c1)).await.assert_error(403, "forbidden");
    api.get("/api/v1/stats", None).await.assert_error(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;

    let bad_json = api.post_raw("/api/v1/tickets", Some(KIOSK), b"{\"service\": ".to_vec()).await;
    bad_json.assert_error(400, "bad_json");
    let unknown_field = api.issue_with(json!({ "service": code, "phone": "13812345678" })).await;
    assert_eq!(unknown_field.status, 400, "{}", unknown_field.text);
    unknown_field.error_code();
    api.issue_with(json!({ "service": "NO-SUCH-9999" })).await.assert_error(400, "unknown_service");
    api.issue_with(json!({ "service": code, "priority": "royalty" })).await.assert_error(400, "unknown_priority");

    let unknown = "0123456789abcdef0123456789abcdef";
    api.ticket(unknown).await.assert_error(404, "unknown_ticket");
    api.ticket("not-an-id").await.assert_error(404, "unknown_ticket");
    // Cancelling takes the ticket's key: without one, known or unknown ids alike are refused.
    api.post(&format!("/api/v1/tickets/{unknown}/cancel"), None, None).await.assert_error(401, "unauthorized");
    api.get("/api/v1/nothing-here", None).await.assert_error(404, "not_found");

    let huge = serde_json::to_vec(&json!({ "service": code, "idempotency_key": "x".repeat(17 * 1024) })).unwrap();
    api.post_raw("/api/v1/tickets", Some(KIOSK), huge).await.assert_error(413, "too_large");

    let clerk = api.login("clerk1").await;
    api.window(&clerk, "99", "open", None).await.assert_error(403, "forbidden");
    api.window(&clerk, "1", "dance", None).await.assert_error(404, "unknown_action");

    // None of that issued anything: the first ticket is still A001.
    assert_eq!(api.issue(&code).await["number"], "A001");
    let r = api.get("/healthz", None).await;
    assert_eq!(r.body, json!({ "status": "ok" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stats_count_what_happened() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code_a = api.item_in("A").await;
    let code_b = api.item_in("B").await;
    for _ in 0..3 {
        api.issue(&code_a).await;
    }
    api.issue(&code_b).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    for _ in 0..2 {
        api.call_next(&clerk, "1").await;
        api.window_ok(&clerk, "1", "serve", None).await;
        api.window_ok(&clerk, "1", "done", None).await;
    }
    api.call_next(&clerk, "1").await;
    api.window_ok(&clerk, "1", "no-show", None).await;

    let sup = api.login("supervisor").await;
    let r = api.get("/api/v1/stats", Some(&sup)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let s = &r.body;
    assert_eq!(s["day"], "2026-03-10");
    assert_eq!(s["total"]["issued"], 4, "{s}");
    assert_eq!(s["total"]["called"], 3, "{s}");
    assert_eq!(s["total"]["served"], 2, "{s}");
    assert_eq!(s["total"]["completed"], 2, "{s}");
    assert_eq!(s["total"]["no_show"], 1, "{s}");
    assert_eq!(s["queues"]["A"]["issued"], 3, "{s}");
    assert_eq!(s["queues"]["B"]["issued"], 1, "{s}");
    assert_eq!(s["windows"]["1"]["served"], 2, "{s}");

    let same = api.get("/api/v1/stats?day=2026-03-10", Some(&sup)).await;
    assert_eq!(same.body, r.body);
    let admin = api.login("admin").await;
    assert_eq!(api.get("/api/v1/stats", Some(&admin)).await.status, 200);
    api.get("/api/v1/stats?day=bad", Some(&sup)).await.assert_error(400, "bad_day");
    api.get("/api/v1/stats?day=2026-02-30", Some(&sup)).await.assert_error(400, "bad_day");
    // A day with nothing is all zeros, not an error.
    let empty = api.get("/api/v1/stats?day=2020-01-01", Some(&sup)).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.body["total"]["issued"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_only_endpoints() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;

    let h = api.get("/healthz", None).await;
    assert_eq!((h.status, h.body.clone()), (200, json!({ "status": "ok" })));

    let cat = api.catalog().await;
    let items = cat["items"].as_array().expect("items");
    assert!(items.len() >= 60, "the example catalogue has at least 60 items, got {}", items.len());
    for i in items {
        assert!(i["code"].is_string() && i["name"].is_string() && i["queue"].is_string(), "{i}");
    }
    let queues: Vec<&str> = cat["queues"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(queues, ["A", "B", "V", "Y", "Z"]);
    assert!(cat["categories"].as_array().is_some_and(|c| !c.is_empty()), "no categories");
    assert!(cat["bundles"].is_array(), "no bundles");

    let code = api.item_in("A").await;
    api.issue(&code).await;
    api.issue(&code).await;
    let m = api.get("/metrics", Some(support::METRICS_TOKEN)).await;
    assert_eq!(m.status, 200);
    let issued = m
        .text
        .lines()
        .find(|l| l.starts_with("hallq_tickets_issued_total"))
        .unwrap_or_else(|| panic!("no hallq_tickets_issued_total in\n{}", m.text));
    assert_eq!(issued.split_whitespace().last(), Some("2"), "{issued}");

    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    api.call_next(&clerk, "1").await;

    let hall = api.get("/api/v1/hall", None).await;
    assert_eq!(hall.status, 200, "{}", hall.text);
    let s = &hall.body;
    assert_eq!(s["type"], "snapshot");
    assert!(s["seq"].is_u64(), "{s}");
    assert_eq!(s["day"], "2026-03-10");
    assert_eq!(s["hall"]["id"], "qingchuan");
    assert!(s["hall"]["name"].is_string());
    let qs = s["queues"].as_array().unwrap();
    assert_eq!(qs.len(), 5);
    let a = qs.iter().find(|q| q["id"] == "A").unwrap();
    assert_eq!(a["waiting"], 1, "{s}");
    assert!(a["name"].is_string());
    let ws = s["windows"].as_array().unwrap();
    assert_eq!(ws.len(), 60, "the example hall's sixty windows");
    let w1 = ws.iter().find(|w| w["id"] == "1").unwrap();
    assert_eq!(w1["state"], "calling");
    assert_eq!(w1["ticket"], "A001");
    assert!(w1["clerk"].is_null(), "the hall snapshot is public: no clerk names: {w1}");
    let calls = s["recent_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{s}");
    assert_eq!(calls[0]["number"], "A001");
    assert_eq!(calls[0]["window"], "1");
    assert!(is_rfc3339(&calls[0]["at"]), "{s}");
    assert!(!hall.text.contains("clerk1"), "the hall snapshot names a clerk: {}", hall.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn numbers_survive_a_restart() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let code = d.api.item_in("A").await;
    let a1 = d.api.issue(&code).await;
    let a2 = d.api.issue(&code).await;
    assert_eq!((a1["number"].as_str(), a2["number"].as_str()), (Some("A001"), Some("A002")));
    // A repeated key before and after the restart answers the same ticket.
    let keyed = d.api.issue_with(json!({ "service": code, "idempotency_key": "restart-key" })).await;
    assert_eq!(keyed.body["number"], "A003");

    let d = d.restart().await;
    let got = d.api.ticket(a1["id"].as_str().unwrap()).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["number"], "A001");
    assert_eq!(got.body["status"], "waiting");
    let again = d.api.issue_with(json!({ "service": code, "idempotency_key": "restart-key" })).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["id"], keyed.body["id"]);
    assert_eq!(d.api.issue(&code).await["number"], "A004");

    // Twice, with a clerk's work in between: still no repeat.
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(d.api.call_next(&clerk, "1").await["number"], "A001");
    let d = d.restart().await;
    assert_eq!(d.api.ticket(a1["id"].as_str().unwrap()).await.body["status"], "called");
    assert_eq!(d.api.issue(&code).await["number"], "A005");
    let _ = d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_double_clicked_next_calls_one_visitor() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let a1 = api.issue(&code).await;
    let a2 = api.issue(&code).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let next = || async {
        let req = api.http.post(api.url("/api/v1/windows/1/next")).header("Idempotency-Key", "click-1");
        api.send(req, Some(&clerk)).await
    };
    let first = next().await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["ticket"]["id"], a1["id"]);
    let second = next().await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.body["ticket"]["id"], a1["id"], "a repeated key must answer the first call: {}", second.text);
    assert_eq!(api.ticket(a2["id"].as_str().unwrap()).await.body["status"], "waiting");
    let stats = api.get("/api/v1/stats", Some(&api.login("supervisor").await)).await;
    assert_eq!(stats.body["total"]["called"], 1, "{}", stats.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clerk_calls_a_ticket_by_its_number_with_a_reason() {
    let d = Daemon::start().await;
    let api = &d.api;
    let item = api.item_in("A").await;
    api.issue(&item).await;
    let a2 = api.issue(&item).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    api.window(&clerk, "1", "call", Some(json!({ "reason": "sent back" }))).await.assert_error(400, "bad_call");
    api.window(&clerk, "1", "call", Some(json!({ "number": "A002" }))).await.assert_error(400, "call_reason_required");
    api.window(&clerk, "1", "call", Some(json!({ "number": "A404", "reason": "x" })))
        .await
        .assert_error(404, "unknown_number");
    let called = api.window_ok(&clerk, "1", "call", Some(json!({ "number": "A002", "reason": "sent back" }))).await;
    let ticket = &called["ticket"];
    assert_eq!(ticket["id"], a2["id"], "{called}");
    assert_eq!(ticket["status"], "called");
    assert_eq!(ticket["call_rule"]["code"], "by_number");
    // The clerk's words stay in the log; the ticket's holder sees only that a clerk chose it.
    assert!(!called.to_string().contains("sent back"), "{called}");
}
