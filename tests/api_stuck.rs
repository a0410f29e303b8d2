//! The week's stuck items (issue 17 §2, 及时发现并纠正服务问题) through a real daemon on a
//! fake clock: over three days of ISO week 2026-W48 window 5 escalates and leaves matters
//! incomplete, the daemon restarts, the cases end; `/api/v1/reports/stuck` and its CSV
//! count per item exactly what the test did, rank the item stuck most first, and a week
//! later show the case left open as overdue. Bad weeks and other roles are refused.

use crate::support;

use serde_json::{json, Value};
use support::{shanghai_ms, Api, Daemon};

/// Window 5 (queue A) calls and serves a ticket issued now for `code`, and finishes it
/// with `done`'s `body`.
async fn finish(api: &Api, code: &str, body: Value) {
    let t = api.issue(code).await;
    let clerk5 = api.login("clerk5").await;
    api.window_ok(&clerk5, "5", "open", None).await;
    let called = api.call_next(&clerk5, "5").await;
    assert_eq!(called["id"], t["id"], "window 5 called the ticket just issued");
    api.window_ok(&clerk5, "5", "serve", None).await;
    api.window_ok(&clerk5, "5", "done", Some(body)).await;
}

fn not_done(reason: &str) -> Value {
    json!({ "outcome": "not_done", "reason": reason })
}

fn incomplete() -> Value {
    json!({ "outcome": "incomplete" })
}

/// The week's row of `code`.
fn item<'a>(week: &'a Value, code: &str) -> &'a Value {
    let items = week["items"].as_array().expect("items");
    items.iter().find(|i| i["code"] == code).unwrap_or_else(|| panic!("no row of {code}: {week}"))
}

fn counts(row: &Value) -> [u64; 6] {
    ["escalated", "incomplete", "open", "overdue", "closed", "referred"].map(|k| row[k].as_u64().unwrap_or(99))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_weeks_stuck_items_are_counted_from_the_log_across_days_and_a_restart_and_ranked() {
    // Monday 2026-11-23: two matters of SC-0001 escalated, one SC-0002 left incomplete.
    let d = Daemon::start_with_clock(shanghai_ms(2026, 11, 23, 10, 0, 0)).await;
    finish(&d.api, "SC-0001", not_done("policy")).await;
    finish(&d.api, "SC-0001", not_done("cross_department")).await;
    finish(&d.api, "SC-0002", incomplete()).await;
    finish(&d.api, "SC-0003", json!({ "outcome": "completed" })).await;
    // Tuesday: one more of SC-0001, two more of SC-0002.
    d.set_clock(shanghai_ms(2026, 11, 24, 10, 0, 0));
    finish(&d.api, "SC-0001", not_done("policy")).await;
    finish(&d.api, "SC-0002", incomplete()).await;
    finish(&d.api, "SC-0002", incomplete()).await;

    // Wednesday, after a restart: the handler answers one case and refers another on.
    let d = d.restart().await;
    d.set_clock(shanghai_ms(2026, 11, 25, 10, 0, 0));
    let api = &d.api;
    let c12 = api.login("clerk12").await;
    let body = json!({ "reached": true, "note": "已电话联系" });
    for case in ["E20261123-001", "E20261124-001"] {
        let ok = api.post(&format!("/api/v1/escalations/{case}/callback"), Some(&c12), Some(body.clone())).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    let resolve = |case: &str| format!("/api/v1/escalations/{case}/resolve");
    let ok = api.post(&resolve("E20261123-001"), Some(&c12), Some(json!({ "note": "已答复" }))).await;
    assert_eq!(ok.body["status"], "closed", "{}", ok.text);
    let refer = json!({ "note": "转办", "refer_to": "不动产登记中心" });
    let ok = api.post(&resolve("E20261124-001"), Some(&c12), Some(refer)).await;
    assert_eq!(ok.body["status"], "referred", "{}", ok.text);

    let sup = api.login("supervisor").await;
    let week = api.get("/api/v1/reports/stuck?week=2026-W48", Some(&sup)).await;
    assert_eq!(week.status, 200, "{}", week.text);
    assert_eq!((week.body["from"].as_str(), week.body["until"].as_str()), (Some("2026-11-23"), Some("2026-11-29")));
    let codes: Vec<_> = week.body["items"].as_array().expect("items").iter().map(|i| i["code"].clone()).collect();
    assert_eq!(codes, [json!("SC-0001"), json!("SC-0002")], "ranked, and nothing of the item done: {}", week.text);
    let sc1 = item(&week.body, "SC-0001");
    assert_eq!(counts(sc1), [3, 0, 1, 0, 1, 1], "{sc1}");
    assert_eq!((sc1["name"].as_str(), sc1["department"].as_str()), (Some("有限责任公司设立登记"), Some("市场监管")));
    let reasons = json!([
        { "code": "policy", "name": "政策理解偏差", "count": 2 },
        { "code": "cross_department", "name": "跨部门协调", "count": 1 },
    ]);
    assert_eq!(sc1["reasons"], reasons, "{sc1}");
    assert_eq!(counts(item(&week.body, "SC-0002")), [0, 3, 0, 0, 0, 0]);
    let csv = api.get("/api/v1/reports/stuck.csv?week=2026-W48", Some(&sup)).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let line = csv.text.lines().find(|l| l.starts_with("SC-0001")).unwrap_or_default().to_string();
    assert_eq!(line, "SC-0001,有限责任公司设立登记,市场监管,3,政策理解偏差×2；跨部门协调×1,0,1,0,1,1", "{}", csv.text);
    let empty = api.get("/api/v1/reports/stuck?week=2026-W47", Some(&sup)).await;
    assert_eq!(empty.body["items"], json!([]), "the week before: {}", empty.text);

    attacks(api, &sup).await;
    // Two weeks on, the Monday's case still open is overdue; the counts are the same.
    let d = d.restart().await;
    d.set_clock(shanghai_ms(2026, 12, 7, 9, 0, 0));
    let sup = d.api.login("supervisor").await;
    let later = d.api.get("/api/v1/reports/stuck?week=2026-W48", Some(&sup)).await;
    assert_eq!(counts(item(&later.body, "SC-0001")), [3, 0, 0, 1, 1, 1], "{}", later.text);
    assert_eq!(counts(item(&later.body, "SC-0002")), [0, 3, 0, 0, 0, 0]);
}

/// Bad weeks and roles: each refused with its code.
async fn attacks(api: &Api, sup: &str) {
    for bad in ["2026-48", "2026-W54", "2026-W00", "26-W48", "2026-w48", "2026-W4８", "%00"] {
        let r = api.get(&format!("/api/v1/reports/stuck?week={bad}"), Some(sup)).await;
        r.assert_error(400, "bad_week");
    }
    api.get("/api/v1/reports/stuck?week=2099-W01", Some(sup)).await.assert_error(400, "future_week");
    api.get("/api/v1/reports/stuck?week=2026-W48&x=1", Some(sup)).await.assert_error(400, "bad_query");
    let clerk12 = api.login("clerk12").await;
    api.get("/api/v1/reports/stuck?week=2026-W48", Some(&clerk12)).await.assert_error(403, "forbidden");
    api.get("/api/v1/reports/stuck.csv?week=2026-W48", None).await.assert_error(401, "unauthorized");
}
