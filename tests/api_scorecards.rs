//! 考勤考核: a clerk's day at the windows, through the real daemon on an injected clock,
//! checked against the times and acts this test itself played (not against the fold): time
//! with a window open, pauses by the reason given, tickets finished, no-shows, ratings;
//! the month's CSV; the same after a restart; and who may read it. Signed-in time is the
//! user's, not a session's: it runs from the first live session to the end of the last.

use crate::support;

use serde_json::{json, Value};
use support::{shanghai_ms, Api, Daemon};

fn at(h: u32, m: u32) -> i64 {
    shanghai_ms(2026, 3, 10, h, m, 0)
}

/// Issues a ticket of queue A, calls it at `w`, serves it for `minutes` from `h:m`, and
/// finishes it; returns the ticket.
async fn serve_one(d: &Daemon, clerk: &str, w: &str, (h, m): (u32, u32), minutes: u32) -> Value {
    let item = d.api.item_in("A").await;
    let ticket = d.api.issue(&item).await;
    d.set_clock(at(h, m));
    let called = d.api.call_next(clerk, w).await;
    assert_eq!(called["id"], ticket["id"], "the call took another ticket");
    d.api.window_ok(clerk, w, "serve", None).await;
    d.set_clock(at(h, m + minutes));
    d.api.window_ok(clerk, w, "done", None).await;
    ticket
}

async fn rate(api: &Api, ticket: &Value, body: Value) {
    let r = api.post(&support::visitor_path(ticket, "rating"), None, Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn row<'a>(month: &'a Value, clerk: &str) -> &'a Value {
    let rows = month["rows"].as_array().expect("rows");
    rows.iter().find(|r| r["clerk"] == clerk).unwrap_or_else(|| panic!("no row of {clerk}: {month}"))
}

#[tokio::test]
async fn a_clerks_day_is_scored_as_it_was_played_and_survives_a_restart() {
    let d = Daemon::start_with_clock(at(8, 55)).await;
    let c3 = d.api.login("clerk3").await;
    let c4 = d.api.login("clerk4").await;
    d.set_clock(at(9, 0));
    // A second device each: signing out of one leaves the clerk signed in.
    let (c3_tablet, c4_tablet) = (d.api.login("clerk3").await, d.api.login("clerk4").await);
    d.api.window_ok(&c3, "3", "open", None).await;
    let first = serve_one(&d, &c3, "3", (9, 5), 6).await;
    let second = serve_one(&d, &c3, "3", (9, 12), 4).await;
    rate(&d.api, &first, json!({ "score": 5 })).await;
    rate(&d.api, &second, json!({ "score": 2, "reason": "slow", "comment": "等候太久" })).await;

    // A reason not on the hall's list is refused and changes nothing.
    d.set_clock(at(9, 20));
    let bad = d.api.window(&c3, "3", "pause", Some(json!({ "reason": "nap" }))).await;
    bad.assert_error(400, "unknown_reason");
    let w = d.api.get("/api/v1/windows/3", Some(&c3)).await;
    assert_eq!(w.body["window"]["state"], "open", "a refused pause paused the window: {}", w.text);
    // 09:20–09:50 at lunch, 10:00–10:10 with no reason given, closed at 10:30.
    d.api.window_ok(&c3, "3", "pause", Some(json!({ "reason": "lunch" }))).await;
    d.set_clock(at(9, 50));
    d.api.window_ok(&c3, "3", "resume", None).await;
    d.set_clock(at(10, 0));
    let out = d.api.post("/api/v1/logout", Some(&c3_tablet), None).await;
    assert!(out.status < 300, "{}", out.text);
    d.api.window_ok(&c3, "3", "pause", None).await;
    d.set_clock(at(10, 10));
    d.api.window_ok(&c3, "3", "resume", None).await;
    d.set_clock(at(10, 30));
    d.api.window_ok(&c3, "3", "close", None).await;
    // Signed in 08:55, out of the last session at 10:35: 100 minutes, not the window's 90,
    // nor the 65 to the first sign-out.
    d.set_clock(at(10, 35));
    let out = d.api.post("/api/v1/logout", Some(&c3), None).await;
    assert!(out.status < 300, "{}", out.text);

    // clerk4: window 4 from 10:35, one no-show, still open when the report is read at 11:00.
    d.api.window_ok(&c4, "4", "open", None).await;
    let item = d.api.item_in("A").await;
    d.api.issue(&item).await;
    d.api.call_next(&c4, "4").await;
    d.api.window_ok(&c4, "4", "no-show", None).await;
    d.set_clock(at(10, 40));
    let out = d.api.post("/api/v1/logout", Some(&c4_tablet), None).await;
    assert!(out.status < 300, "{}", out.text);
    d.set_clock(at(11, 0));
    d.api.window_ok(&c4, "4", "pause", Some(json!({ "reason": "meeting" }))).await;

    let sup = d.api.login("supervisor").await;
    let month = d.api.get("/api/v1/reports/scorecards?month=2026-03", Some(&sup)).await;
    assert_eq!(month.status, 200, "{}", month.text);
    let r3 = row(&month.body, "clerk3");
    assert_eq!(r3["day"], "2026-03-10");
    assert_eq!(r3["windows"], json!(["3"]));
    assert_eq!(r3["open_minutes"], 90.0, "09:00–10:30 open: {r3}");
    assert_eq!(r3["signed_in_minutes"], 100.0, "08:55–10:35 signed in: {r3}");
    assert_eq!(r3["pauses"], 2);
    assert_eq!(r3["paused_minutes"], 40.0, "{r3}");
    assert_eq!(r3["paused_by_reason"], json!([["", 10.0], ["lunch", 30.0]]), "{r3}");
    assert_eq!((r3["completed"].as_u64(), r3["no_shows"].as_u64()), (Some(2), Some(0)), "{r3}");
    assert_eq!(r3["service_mean_minutes"], 5.0, "services of 6 and 4 minutes: {r3}");
    assert_eq!(
        (r3["ratings"].as_u64(), r3["satisfied"].as_u64(), r3["unsatisfied"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    let r4 = row(&month.body, "clerk4");
    assert_eq!((r4["no_shows"].as_u64(), r4["completed"].as_u64()), (Some(1), Some(0)), "{r4}");
    assert_eq!(r4["pauses"], 1, "{r4}");
    assert_eq!(r4["signed_in_minutes"], 125.0, "08:55 to the day's last record, 11:00, still signed in: {r4}");

    let csv = d.api.get("/api/v1/reports/scorecards.csv?month=2026-03", Some(&sup)).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let text = csv.text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let line3: Vec<&str> = lines.find(|l| l.contains(",clerk3,")).expect("clerk3's line").split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}: {head:?}"));
    assert_eq!(line3[col("暂停·午间休息(分)")], "30.0");
    assert_eq!(line3[col("暂停·未注明(分)")], "10.0");
    assert_eq!(line3[col("开窗时长(分)")], "90.0");
    assert_eq!(line3[col("不满意(1-2分)")], "1");

    // The same day read after a restart (clerk4's window is still open: read at 11:00).
    let d = d.restart().await;
    let sup = d.api.login("supervisor").await;
    let again = d.api.get("/api/v1/reports/scorecards?month=2026-03", Some(&sup)).await;
    assert_eq!(row(&again.body, "clerk3"), r3, "clerk3's day changed across a restart");
    assert_eq!(row(&again.body, "clerk4")["signed_in_minutes"], 125.0, "clerk4's day changed across a restart");
}

#[tokio::test]
async fn scorecards_are_for_supervisors_and_take_only_a_month() {
    let d = Daemon::start_with_clock(at(9, 0)).await;
    let clerk = d.api.login("clerk3").await;
    d.api.get("/api/v1/reports/scorecards", Some(&clerk)).await.assert_error(403, "forbidden");
    d.api.get("/api/v1/reports/scorecards.csv", None).await.assert_error(401, "unauthorized");
    let sup = d.api.login("supervisor").await;
    for bad in ["2026-13", "26-03", "2026-03-10", "x".repeat(300).as_str()] {
        let r = d.api.get(&format!("/api/v1/reports/scorecards?month={bad}"), Some(&sup)).await;
        r.assert_error(400, "bad_month");
    }
    let future = d.api.get("/api/v1/reports/scorecards?month=2026-04", Some(&sup)).await;
    future.assert_error(400, "future_month");
    let unknown = d.api.get("/api/v1/reports/scorecards?month=2026-03&clerk=x", Some(&sup)).await;
    unknown.assert_error(400, "bad_query");
    let now = d.api.get("/api/v1/reports/scorecards", Some(&sup)).await;
    assert_eq!((now.status, now.body["month"].as_str()), (200, Some("2026-03")), "{}", now.text);
}
