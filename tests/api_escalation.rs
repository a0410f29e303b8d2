//! 办不成事请找我 through a real daemon (the example hall: queue Z at window 12, handler
//! clerk12): a clerk's `not_done` with a reason sends the ticket to window 12 keeping its
//! number and its place by issue time; the case (deadline in working days, call-back,
//! referral) for the handler and supervisors only; the attacks (a clerk at another
//! window, an unknown reason, an over-long note, a forged case id, a clerk who is not the
//! handler); the figures and the CSV; and a restart and a new day, after which the case is
//! still there and then overdue.

use crate::support;

use serde_json::{json, Value};
use support::{shanghai_ms, Api, Daemon};

fn not_done(reason: &str, note: &str) -> Option<Value> {
    Some(json!({ "outcome": "not_done", "reason": reason, "note": note }))
}

/// Window 5's clerk calls and serves the next ticket, which must be `id`.
async fn at_window_5(api: &Api, clerk: &str, id: &str) {
    let called = api.call_next(clerk, "5").await;
    assert_eq!(called["id"], id, "window 5 called the first ticket");
    api.window_ok(clerk, "5", "serve", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_matter_not_done_goes_to_window_12_with_its_number_and_place_and_its_case_ends_in_an_answer() {
    // Friday 2026-11-27: five working days end on Friday 12-04.
    let d = Daemon::start_with_clock(shanghai_ms(2026, 11, 27, 10, 0, 0)).await;
    let api = &d.api;
    let cat = api.catalog().await;
    assert_eq!(cat["escalation"]["queue"], "Z", "{}", cat["escalation"]);
    assert!(cat["escalation"]["reasons"].as_array().is_some_and(|r| r.iter().any(|x| x["name"] == "跨部门协调")));

    // The stuck matter is issued before a ticket taken for queue Z itself.
    let stuck = api.issue("SC-0001").await;
    let id = stuck["id"].as_str().expect("an id").to_string();
    let later = api.issue(&api.item_in("Z").await).await;
    let clerk5 = api.login("clerk5").await;
    api.window_ok(&clerk5, "5", "open", None).await;
    at_window_5(api, &clerk5, &id).await;

    // Attacks, each refused with its code and changing nothing.
    let clerk1 = api.login("clerk1").await;
    api.window_ok(&clerk1, "1", "open", None).await;
    api.window(&clerk1, "5", "done", not_done("policy", "")).await.assert_error(403, "not_your_window");
    api.window(&clerk5, "5", "done", not_done("bribe", "")).await.assert_error(400, "unknown_escalation_reason");
    api.window(&clerk5, "5", "done", Some(json!({ "outcome": "not_done" }))).await.assert_error(400, "reason_required");
    api.window(&clerk5, "5", "done", not_done("policy", &"长".repeat(501))).await.assert_error(400, "note_required");
    assert_eq!(api.ticket(&id).await.body["status"], "serving");

    let note = "=1+1 需不动产登记中心确认，群众电话13912345678";
    let out = api.window_ok(&clerk5, "5", "done", not_done("cross_department", note)).await;
    assert_eq!((out["status"].as_str(), out["queue"].as_str()), (Some("waiting"), Some("Z")), "{out}");
    assert_eq!(out["number"], stuck["number"], "the number is kept: {out}");
    let esc = &out["escalation"];
    assert_eq!((esc["reason_name"].as_str(), esc["from_window"].as_str()), (Some("跨部门协调"), Some("5")), "{out}");
    assert_eq!(esc["windows"][0]["id"], "12", "{out}");

    // Window 12 calls the stuck matter first: its place is its issue, before `later`.
    let clerk12 = api.login("clerk12").await;
    api.window_ok(&clerk12, "12", "open", None).await;
    let called = api.call_next(&clerk12, "12").await;
    assert_eq!(called["id"], id.as_str(), "the escalated ticket keeps its place by issue time (not {})", later["id"]);
    let w12 = api.get("/api/v1/windows/12", Some(&clerk12)).await;
    assert_eq!(w12.body["ticket"]["escalation"]["reason_name"], "跨部门协调", "{}", w12.text);
    assert_eq!(w12.body["ticket"]["services"], json!(["SC-0001"]));
    // The escalation window does not pass a matter on to itself.
    api.window_ok(&clerk12, "12", "serve", None).await;
    api.window(&clerk12, "12", "done", not_done("other", "")).await.assert_error(409, "already_escalated");

    // The visitor's ticket says where it went, with no note and no clerk.
    let key = stuck["key"].as_str().expect("the visitor's key");
    let mine = api.get(&format!("/api/v1/tickets/{id}?k={key}"), None).await;
    assert_eq!(mine.body["escalation"]["windows"][0]["name"], "12号办不成事请找我窗口", "{}", mine.text);
    assert!(!mine.text.contains("不动产") && !mine.text.contains("clerk5"), "{}", mine.text);

    cases(api, &clerk1, &clerk12, &id).await;
    let d = d.restart().await;
    after_restart(&d).await;
}

/// The case as its handler and a supervisor see it; a clerk who is not the handler sees
/// nothing.
async fn cases(api: &Api, clerk1: &str, clerk12: &str, ticket: &str) {
    api.get("/api/v1/escalations", Some(clerk1)).await.assert_error(403, "forbidden");
    let list = api.get("/api/v1/escalations?status=open", Some(clerk12)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let case = &list.body["cases"][0];
    assert_eq!((case["id"].as_str(), case["due"].as_str()), (Some("E20261127-001"), Some("2026-12-04")), "{case}");
    assert_eq!((case["handler"].as_str(), case["clerk"].as_str()), (Some("clerk12"), Some("clerk5")), "{case}");
    assert_eq!(case["items"][0]["department"], "市场监管");
    assert!(case["note"].as_str().is_some_and(|n| n.contains("***********")), "the phone is masked: {case}");
    assert!(!list.text.contains("13912345678") && !list.text.contains(ticket), "{}", list.text);
    let s = &list.body["summary"];
    assert_eq!((s["all"]["total"].as_u64(), s["all"]["open"].as_u64()), (Some(1), Some(1)), "{s}");
    for (by, key) in [("by_item", "SC-0001"), ("by_department", "市场监管"), ("by_reason", "cross_department")] {
        assert_eq!((s[by][0]["key"].as_str(), s[by][0]["open"].as_u64()), (Some(key), Some(1)), "{by}: {s}");
    }
    assert_eq!(s["by_clerk"][0]["key"], "clerk5");

    // Forged case ids and bodies.
    let cb = |case: &str| format!("/api/v1/escalations/{case}/callback");
    let body = json!({ "reached": true, "note": "已电话联系" });
    api.post(&cb("E20261127-999"), Some(clerk12), Some(body.clone())).await.assert_error(404, "unknown_case");
    api.post(&cb("C20261127-001"), Some(clerk12), Some(body.clone())).await.assert_error(404, "unknown_case");
    api.post(&cb("E2026..%2F001"), Some(clerk12), Some(body.clone())).await.assert_error(404, "unknown_case");
    api.post(&cb(&"E".repeat(40)), Some(clerk12), Some(body.clone())).await.assert_error(404, "unknown_case");
    api.post(&cb("E20261127-001"), Some(clerk1), Some(body.clone())).await.assert_error(403, "forbidden");
    let long = json!({ "reached": true, "note": "长".repeat(501) });
    api.post(&cb("E20261127-001"), Some(clerk12), Some(long)).await.assert_error(400, "note_required");
    let ok = api.post(&cb("E20261127-001"), Some(clerk12), Some(body)).await;
    assert_eq!((ok.status, ok.body["callbacks"].as_array().map(Vec::len)), (200, Some(1)), "{}", ok.text);

    let sup = api.login("supervisor").await;
    let stats = api.get("/api/v1/stats", Some(&sup)).await;
    let e = &stats.body["escalations"];
    assert_eq!((e["escalated"].as_u64(), e["open"].as_u64()), (Some(1), Some(1)), "{}", stats.text);
    assert_eq!(e["reasons"]["cross_department"], 1);
    assert_eq!(stats.body["windows"]["5"]["escalated"], 1, "counted at the window that could not finish it");
    let csv = api.get("/api/v1/reports/escalations.csv", Some(&sup)).await;
    assert_eq!(csv.status, 200);
    assert!(csv.text.contains("E20261127-001") && csv.text.contains("跨部门协调"), "{}", csv.text);
    assert!(csv.text.contains("'=1+1"), "a note is never a formula: {}", csv.text);
    api.get("/api/v1/reports/escalations.csv", Some(clerk1)).await.assert_error(403, "forbidden");
}

/// After a restart the case is the same; on the Monday after its deadline it is overdue,
/// and its referral ends it late.
async fn after_restart(d: &Daemon) {
    let api = &d.api;
    let sup = api.login("supervisor").await;
    let list = api.get("/api/v1/escalations", Some(&sup)).await;
    let case = &list.body["cases"][0];
    assert_eq!((case["id"].as_str(), case["status"].as_str()), (Some("E20261127-001"), Some("open")), "{}", list.text);
    assert_eq!(case["callbacks"][0]["note"], "已电话联系");

    d.set_clock(shanghai_ms(2026, 12, 7, 9, 0, 0));
    let sup = api.login("supervisor").await;
    let over = api.get("/api/v1/escalations?status=overdue", Some(&sup)).await;
    assert_eq!(over.body["cases"][0]["id"], "E20261127-001", "{}", over.text);
    assert_eq!(api.get("/api/v1/stats", Some(&sup)).await.body["escalations"]["overdue"], 1);
    let resolve = "/api/v1/escalations/E20261127-001/resolve";
    let far = json!({ "note": "转办", "refer_to": "部".repeat(65) });
    api.post(resolve, Some(&sup), Some(far)).await.assert_error(400, "department_required");
    let body = json!({ "note": "已协调不动产登记中心，转其办理", "refer_to": "不动产登记中心" });
    let ok = api.post(resolve, Some(&sup), Some(body.clone())).await;
    assert_eq!((ok.body["status"].as_str(), ok.body["late"].as_bool()), (Some("referred"), Some(true)), "{}", ok.text);
    api.post(resolve, Some(&sup), Some(body)).await.assert_error(409, "case_closed");
    let day = api.get("/api/v1/stats?day=2026-11-27", Some(&sup)).await;
    assert_eq!(day.body["escalations"]["referred"], 1, "counted on the day it opened: {}", day.text);
}

// Issue 17 §2, the handler works from a page: a clerk sees and works on only the cases
// that name them.

/// Window 5's clerk calls the next ticket, an `SC-0001` issued now, and cannot finish it.
async fn escalate_one(api: &Api) {
    let t = api.issue("SC-0001").await;
    let clerk5 = api.login("clerk5").await;
    api.window_ok(&clerk5, "5", "open", None).await;
    at_window_5(api, &clerk5, t["id"].as_str().expect("an id")).await;
    api.window_ok(&clerk5, "5", "done", not_done("policy", "")).await;
}

/// The ids of the cases `token` is shown.
async fn case_ids(api: &Api, token: &str) -> Vec<String> {
    let list = api.get("/api/v1/escalations", Some(token)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let cases = list.body["cases"].as_array().cloned().unwrap_or_default();
    cases.iter().filter_map(|c| c["id"].as_str().map(str::to_string)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clerk_handles_only_the_cases_that_name_them_and_another_clerk_is_refused() {
    let d = Daemon::start_with_clock(shanghai_ms(2026, 11, 27, 10, 0, 0)).await;
    escalate_one(&d.api).await;
    // The hall names window 11's clerk as its handler from now on.
    let (data, clock) = d.stop().await;
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let policy = config.setup.escalation.as_mut().expect("the example hall escalates");
    policy.handler = hallq::core::model::UserName::parse("clerk11").expect("a user name");
    let d = Daemon::start_config(data, clock, config).await;
    let api = &d.api;
    escalate_one(api).await;
    let (old, new) = ("E20261127-001", "E20261127-002");

    let (c11, c12, c1) = (api.login("clerk11").await, api.login("clerk12").await, api.login("clerk1").await);
    assert_eq!(case_ids(api, &c11).await, [new], "the new handler sees the case that names them");
    assert_eq!(case_ids(api, &c12).await, [old], "the old handler keeps theirs");
    let sup = api.login("supervisor").await;
    assert_eq!(case_ids(api, &sup).await, [new, old], "a supervisor sees every case");
    let summary = api.get("/api/v1/escalations", Some(&c11)).await.body["summary"]["all"]["total"].clone();
    assert_eq!(summary, 1, "a clerk's breakdown counts only their cases");

    // Attacks: a clerk on another's case, a clerk who handles none.
    let path = |case: &str, act: &str| format!("/api/v1/escalations/{case}/{act}");
    let call = json!({ "reached": true, "note": "已电话联系" });
    let answer = json!({ "note": "已答复", "refer_to": "不动产登记中心" });
    for (token, case) in [(&c11, old), (&c12, new), (&c1, old), (&c1, new)] {
        api.post(&path(case, "callback"), Some(token), Some(call.clone())).await.assert_error(403, "forbidden");
        api.post(&path(case, "resolve"), Some(token), Some(answer.clone())).await.assert_error(403, "forbidden");
    }
    api.get("/api/v1/escalations", Some(&c1)).await.assert_error(403, "forbidden");
    let list = api.get("/api/v1/escalations", Some(&sup)).await;
    assert!(
        list.body["cases"].as_array().is_some_and(|c| c.iter().all(|c| c["callbacks"] == json!([]))),
        "{}",
        list.text
    );

    // Each handler works on their own: a call-back, then the answer or the referral.
    let ok = api.post(&path(new, "callback"), Some(&c11), Some(call.clone())).await;
    assert_eq!((ok.status, ok.body["callbacks"][0]["by"].as_str()), (200, Some("clerk11")), "{}", ok.text);
    let ok = api.post(&path(new, "resolve"), Some(&c11), Some(json!({ "note": "已答复" }))).await;
    assert_eq!(ok.body["status"], "closed", "{}", ok.text);
    let ok = api.post(&path(old, "resolve"), Some(&c12), Some(answer)).await;
    assert_eq!(ok.body["status"], "referred", "{}", ok.text);
}
