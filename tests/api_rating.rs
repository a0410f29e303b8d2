//! 好差评 through a real daemon (the example hall, its calendar and demo evaluator
//! tokens): ratings with and without their reason, a bad rating's case with a deadline
//! counted in working days across a weekend and the National Day holiday, call-back and
//! rectification by a supervisor (a clerk refused), the evaluator's rateable endpoint,
//! and the rates in `/api/v1/stats`.

use crate::support;

use serde_json::{json, Value};
use support::{shanghai_ms, Api, Daemon};

/// A ticket as its visitor holds it: the id and the key from the kiosk's answer.
struct Served {
    id: String,
    key: String,
}

/// Issues a ticket, calls, serves and finishes it at window `w` with the clerk's `token`.
async fn served(api: &Api, token: &str, w: &str) -> Served {
    let t = api.issue("SC-0001").await;
    let id = t["id"].as_str().expect("an id").to_string();
    let key = t["key"].as_str().expect("the visitor's key").to_string();
    let called = api.call_next(token, w).await;
    assert_eq!(called["id"], id.as_str(), "window {w} called the new ticket");
    api.window_ok(token, w, "serve", None).await;
    api.window_ok(token, w, "done", Some(json!({ "outcome": "completed" }))).await;
    Served { id, key }
}

/// The visitor rates, with the ticket's key.
async fn rate(api: &Api, t: &Served, body: Value) -> support::Reply {
    api.post(&format!("/api/v1/tickets/{}/rating?k={}", t.id, t.key), None, Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_rating_needs_its_reason_and_opens_a_case_due_after_the_holiday() {
    // Wednesday 2026-09-30, the eve of National Day (10-01..10-07 off, Saturday 10-10
    // worked): 10-08, 10-09, 10-10, 10-12, 10-13.
    let d = Daemon::start_with_clock(shanghai_ms(2026, 9, 30, 10, 0, 0)).await;
    let api = &d.api;
    let clerk = api.login("clerk5").await;
    api.window_ok(&clerk, "5", "open", None).await;
    let t = served(api, &clerk, "5").await;

    // The catalogue lists the scale and the reasons.
    let cat = api.catalog().await;
    assert_eq!(cat["rating"]["scale"][0], json!({ "score": 5, "name": "非常满意" }));
    assert!(cat["rating"]["reasons"].as_array().is_some_and(|r| r.iter().any(|x| x["code"] == "slow")));

    // Refused, each with its code, changing nothing.
    rate(api, &t, json!({ "score": 2 })).await.assert_error(400, "reason_required");
    rate(api, &t, json!({ "score": 2, "comment": "太慢了" })).await.assert_error(400, "reason_required");
    rate(api, &t, json!({ "score": 1, "reason": "rude" })).await.assert_error(400, "unknown_reason");
    rate(api, &t, json!({ "score": 1, "reason": "other" })).await.assert_error(400, "reason_text_required");
    rate(api, &t, json!({ "score": 4, "reason": "slow" })).await.assert_error(400, "reason_not_asked");
    rate(api, &t, json!({ "score": 2, "reason": "slow", "comment": "长".repeat(501) }))
        .await
        .assert_error(400, "comment_too_long");
    assert_eq!(api.ticket(&t.id).await.body["rated"], false);

    let ok = rate(api, &t, json!({ "score": 2, "reason": "slow", "comment": "等了一个小时，电话13912345678" })).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    rate(api, &t, json!({ "score": 5 })).await.assert_error(409, "already_rated");

    let sup = api.login("supervisor").await;
    let list = api.get("/api/v1/cases?status=open", Some(&sup)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let case = &list.body["cases"][0];
    assert_eq!(case["id"], "C20260930-001");
    assert_eq!(case["due"], "2026-10-13", "five working days after the holiday: {case}");
    assert_eq!((case["score"].as_u64(), case["level"].as_str()), (Some(2), Some("不满意")));
    assert_eq!((case["reason"].as_str(), case["reason_name"].as_str()), (Some("slow"), Some("办理时间长")));
    assert_eq!(case["window"], "5");
    assert_eq!(case["clerk"], "clerk5", "the clerk who served: {case}");
    assert_eq!(case["clerk_name"], "clerk5", "no display_name in hall.toml: the login name: {case}");
    assert_eq!(case["status"], "open");
    // No phone number anywhere: the visitor's typed number is masked before it is kept.
    assert!(!list.text.contains("13912345678"), "{}", list.text);
    assert!(case["comment"].as_str().is_some_and(|c| c.contains("***********")), "{case}");
    // Nor does the ticket's id, the visitor's key, reach the supervisor's list.
    assert!(!list.text.contains(&t.id), "{}", list.text);

    // Still open on its last day, overdue the day after. (Sessions last 12 hours: the
    // supervisor signs in again each day.)
    d.set_clock(shanghai_ms(2026, 10, 13, 17, 0, 0));
    let sup = api.login("supervisor").await;
    assert_eq!(api.get("/api/v1/cases", Some(&sup)).await.body["cases"][0]["status"], "open");
    d.set_clock(shanghai_ms(2026, 10, 14, 9, 0, 0));
    let sup = api.login("supervisor").await;
    let overdue = api.get("/api/v1/cases?status=overdue", Some(&sup)).await;
    assert_eq!(overdue.body["cases"][0]["id"], "C20260930-001", "{}", overdue.text);
    assert_eq!(overdue.body["cases"][0]["late"], true);
    assert_eq!(api.get("/api/v1/cases?status=open", Some(&sup)).await.body["cases"], json!([]));
    assert_eq!(api.get("/api/v1/cases?day=2026-10-01", Some(&sup)).await.body["cases"], json!([]));
    api.get("/api/v1/cases?status=late", Some(&sup)).await.assert_error(400, "bad_status");
    api.get("/api/v1/cases?day=30-09-2026", Some(&sup)).await.assert_error(400, "bad_day");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_supervisor_calls_back_and_rectifies_and_a_clerk_may_not() {
    let d = Daemon::start_with_clock(shanghai_ms(2026, 11, 27, 10, 0, 0)).await;
    let api = &d.api;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let t = served(api, &clerk, "1").await;
    let ok = rate(api, &t, json!({ "score": 1, "reason": "attitude" })).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let case = "C20261127-001";
    let path = |action: &str| format!("/api/v1/cases/{case}/{action}");

    // A clerk may neither read nor work the cases.
    api.get("/api/v1/cases", Some(&clerk)).await.assert_error(403, "forbidden");
    api.post(&path("callback"), Some(&clerk), Some(json!({ "reached": true, "note": "x" })))
        .await
        .assert_error(403, "forbidden");
    api.post(&path("rectify"), None, Some(json!({ "note": "x" }))).await.assert_error(401, "unauthorized");

    let sup = api.login("supervisor").await;
    api.post(&path("rectify"), Some(&sup), Some(json!({ "note": "已整改" }))).await.assert_error(409, "callback_first");
    api.post(&path("callback"), Some(&sup), Some(json!({ "reached": true, "note": "  " })))
        .await
        .assert_error(400, "note_required");
    api.post(&path("callback"), Some(&sup), Some(json!({ "note": "缺少 reached" })))
        .await
        .assert_error(400, "bad_json");
    api.post("/api/v1/cases/C20261127-009/callback", Some(&sup), Some(json!({ "reached": true, "note": "好" })))
        .await
        .assert_error(404, "unknown_case");

    // Saturday: the call-back; Monday: the rectification. Each records who and when.
    d.set_clock(shanghai_ms(2026, 11, 28, 11, 0, 0));
    let sup = api.login("supervisor").await;
    let cb = api.post(&path("callback"), Some(&sup), Some(json!({ "reached": false, "note": "电话未接通" }))).await;
    assert_eq!(cb.status, 200, "{}", cb.text);
    let cb = api
        .post(&path("callback"), Some(&sup), Some(json!({ "reached": true, "note": "已联系，群众反映态度生硬" })))
        .await;
    assert_eq!(cb.body["callbacks"].as_array().map(Vec::len), Some(2), "{}", cb.text);
    assert_eq!(cb.body["callbacks"][1]["by"], "supervisor");
    assert_eq!(cb.body["callbacks"][1]["at"], "2026-11-28T11:00:00+08:00");
    d.set_clock(shanghai_ms(2026, 11, 30, 9, 30, 0));
    let sup = api.login("supervisor").await;
    let admin = api.login("admin").await;
    let rx = api.post(&path("rectify"), Some(&admin), Some(json!({ "note": "已对窗口人员进行服务规范培训" }))).await;
    assert_eq!(rx.status, 200, "{}", rx.text);
    assert_eq!(rx.body["status"], "closed");
    assert_eq!(rx.body["rectification"]["by"], "admin");
    assert_eq!(rx.body["late"], false);
    api.post(&path("callback"), Some(&sup), Some(json!({ "reached": true, "note": "再访" })))
        .await
        .assert_error(409, "case_closed");

    // A restart replays it all.
    let d = d.restart().await;
    let sup = d.api.login("supervisor").await;
    let closed = d.api.get("/api/v1/cases?status=closed", Some(&sup)).await;
    assert_eq!(closed.body["cases"][0]["id"], case, "{}", closed.text);
    assert_eq!(closed.body["cases"][0]["callbacks"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_days_figures_give_the_national_rates_per_hall_queue_and_window() {
    let d = Daemon::start_with_clock(shanghai_ms(2026, 11, 27, 10, 0, 0)).await;
    let api = &d.api;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    // Five served: rated 5, 4, 3, 1 (a case), and one unrated.
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(served(api, &clerk, "1").await);
    }
    for (id, body) in ids.iter().zip([
        json!({ "score": 5 }),
        json!({ "score": 4 }),
        json!({ "score": 3 }),
        json!({ "score": 1, "reason": "repeat_visits" }),
    ]) {
        assert_eq!(rate(api, id, body).await.status, 200);
    }
    let sup = api.login("supervisor").await;
    let stats = api.get("/api/v1/stats", Some(&sup)).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    let r = &stats.body["total"]["ratings"];
    assert_eq!(r["by_score"], json!({ "1": 1, "2": 0, "3": 1, "4": 1, "5": 1 }), "{r}");
    assert_eq!((r["good"].as_u64(), r["bad"].as_u64(), r["unrated"].as_u64()), (Some(3), Some(1), Some(1)));
    assert_eq!(r["good_rate"], 0.75);
    assert_eq!(r["bad_rate"], 0.25);
    assert_eq!(r["unrated_rate"], 0.2);
    assert_eq!(r["rectified_rate"], 0.0);
    assert_eq!(r["bad_reasons"], json!({ "repeat_visits": 1 }));
    assert_eq!(stats.body["windows"]["1"]["ratings"]["good"], 3);
    assert_eq!(stats.body["queues"]["A"]["ratings"]["bad"], 1);

    // Rectified on the next working day, it counts for the day of the rating.
    let case = "C20261127-001";
    d.set_clock(shanghai_ms(2026, 11, 30, 10, 0, 0));
    let sup = api.login("supervisor").await;
    let (cb_path, rx_path) = (format!("/api/v1/cases/{case}/callback"), format!("/api/v1/cases/{case}/rectify"));
    let cb = api.post(&cb_path, Some(&sup), Some(json!({ "reached": true, "note": "已回访" }))).await;
    assert_eq!(cb.status, 200, "{}", cb.text);
    let rx = api.post(&rx_path, Some(&sup), Some(json!({ "note": "一次告知材料" }))).await;
    assert_eq!(rx.status, 200, "{}", rx.text);
    let day = api.get("/api/v1/stats?day=2026-11-27", Some(&sup)).await;
    assert_eq!(day.body["total"]["ratings"]["rectified_rate"], 1.0, "{}", day.text);
    assert_eq!(day.body["windows"]["1"]["ratings"]["bad_rectified"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_evaluator_learns_its_windows_last_service_and_nothing_else() {
    let start = shanghai_ms(2026, 11, 27, 10, 0, 0);
    let d = Daemon::start_with_clock(start).await;
    let api = &d.api;
    let rateable = |w: &str, token: Option<&str>| {
        let path = format!("/api/v1/windows/{w}/rateable");
        let token = token.map(str::to_string);
        async move { api.get(&path, token.as_deref()).await }
    };
    // Nothing finished yet.
    let empty = rateable("5", Some("demo-rate-5")).await;
    assert_eq!((empty.status, &empty.body["ticket"]), (200, &Value::Null), "{}", empty.text);
    // Other windows' evaluators, kiosks, users and strangers are refused.
    rateable("5", Some("demo-rate-4")).await.assert_error(403, "forbidden");
    rateable("5", Some(support::KIOSK)).await.assert_error(403, "forbidden");
    rateable("5", None).await.assert_error(401, "unauthorized");
    rateable("5", Some("not-a-token")).await.assert_error(401, "unauthorized");
    rateable("99", Some("demo-rate-5")).await.assert_error(403, "forbidden");
    // An evaluator's token is no kiosk's and no user's.
    api.issue_with(json!({ "service": "SC-0001" })).await;
    let as_kiosk = api.post("/api/v1/tickets", Some("demo-rate-5"), Some(json!({ "service": "SC-0001" }))).await;
    as_kiosk.assert_error(403, "forbidden");
    api.get("/api/v1/stats", Some("demo-rate-5")).await.assert_error(403, "forbidden");

    let clerk = api.login("clerk5").await;
    api.window_ok(&clerk, "5", "open", None).await;
    let id = {
        // The ticket issued above waits first: serve and finish it.
        let called = api.call_next(&clerk, "5").await;
        api.window_ok(&clerk, "5", "serve", None).await;
        api.window_ok(&clerk, "5", "done", Some(json!({ "outcome": "completed" }))).await;
        called["id"].as_str().expect("an id").to_string()
    };
    let asked = rateable("5", Some("demo-rate-5")).await;
    assert_eq!(asked.body["ticket"]["id"], id.as_str(), "{}", asked.text);
    assert_eq!(asked.body["ticket"]["status"], "done");
    assert_eq!(rateable("4", Some("demo-rate-4")).await.body["ticket"], Value::Null);

    // Past the hall's 60 s it is no longer asked about; rated, neither.
    d.set_clock(start + 61_000);
    assert_eq!(rateable("5", Some("demo-rate-5")).await.body["ticket"], Value::Null);
    let next = served(api, &clerk, "5").await;
    assert_eq!(rateable("5", Some("demo-rate-5")).await.body["ticket"]["id"], next.id.as_str());
    assert_eq!(rate(api, &next, json!({ "score": 4 })).await.status, 200);
    assert_eq!(rateable("5", Some("demo-rate-5")).await.body["ticket"], Value::Null);
}
