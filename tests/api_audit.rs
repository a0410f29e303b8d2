//! The audit trail, black-box: every staff action comes back from `/api/v1/audit` with
//! who did it, when, where and to which ticket number — also when a window changes hands
//! mid-day, for a past day, and as a CSV export; an admin's disable holds across a
//! restart; bad filters are refused; nothing secret or personal reaches the export.

use crate::support;

use std::sync::Arc;

use hallq::core::model::WindowId;
use serde_json::{json, Value};
use support::{shanghai_ms, Api, Daemon};

/// The example hall, with clerk2 allowed at window 1 too (so two clerks can take turns
/// there) and no rate limits.
fn shared_window_config() -> hallq::config::Config {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let clerk2 = config.users.iter_mut().find(|u| u.name.as_str() == "clerk2").expect("clerk2 is configured");
    clerk2.windows.push(WindowId::parse("1").expect("a window id"));
    config
}

async fn start_shared_window() -> Daemon {
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(support::default_start_ms()));
    Daemon::start_config(data, Some(clock), shared_window_config()).await
}

/// The audit page at `query` (after `/api/v1/audit`), asserting 200.
async fn audit(api: &Api, token: &str, query: &str) -> Value {
    let r = api.get(&format!("/api/v1/audit{query}"), Some(token)).await;
    assert_eq!(r.status, 200, "audit{query}: {}", r.text);
    r.body
}

fn entries(page: &Value) -> Vec<Value> {
    page["entries"].as_array().expect("entries").clone()
}

/// (user, action, window, ticket) of each entry, for comparing with what was done.
fn lines(page: &Value) -> Vec<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    entries(page).iter().map(|e| (s(&e["user"]), s(&e["action"]), s(&e["window"]), s(&e["ticket"]))).collect()
}

fn line(user: &str, action: &str, window: &str, ticket: &str) -> (String, String, String, String) {
    (user.into(), action.into(), window.into(), ticket.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clerks_at_one_window_each_get_their_own_actions() {
    let d = start_shared_window().await;
    let api = &d.api;
    let item = api.item_in("A").await;
    for _ in 0..3 {
        api.issue(&item).await;
    }
    let first = api.login("clerk1").await;
    api.window_ok(&first, "1", "open", None).await;
    assert_eq!(api.call_next(&first, "1").await["number"], "A001");
    api.window_ok(&first, "1", "serve", None).await;
    api.window_ok(&first, "1", "done", Some(json!({ "outcome": "incomplete" }))).await;
    api.window_ok(&first, "1", "close", None).await;

    let second = api.login("clerk2").await;
    api.window_ok(&second, "1", "open", None).await;
    assert_eq!(api.call_next(&second, "1").await["number"], "A002");
    api.window_ok(&second, "1", "recall", None).await;
    api.window_ok(&second, "1", "no-show", None).await;
    api.window_ok(&second, "1", "call", Some(json!({ "number": "A003", "reason": "补材料后返回" }))).await;
    api.window_ok(&second, "1", "transfer", Some(json!({ "queue": "B" }))).await;
    api.window_ok(&second, "1", "pause", None).await;
    api.window_ok(&second, "1", "resume", None).await;

    let sup = api.login("supervisor").await;
    let page = audit(api, &sup, "?date=2026-03-10").await;
    let staff: Vec<_> = lines(&page).into_iter().filter(|(_, a, _, _)| a != "day_opened").collect();
    assert_eq!(
        staff,
        vec![
            line("clerk1", "login", "", ""),
            line("clerk1", "open", "1", ""),
            line("clerk1", "call", "1", "A001"),
            line("clerk1", "serve", "1", "A001"),
            line("clerk1", "done", "1", "A001"),
            line("clerk1", "close", "1", ""),
            line("clerk2", "login", "", ""),
            line("clerk2", "open", "1", ""),
            line("clerk2", "call", "1", "A002"),
            line("clerk2", "recall", "1", "A002"),
            line("clerk2", "no_show", "1", "A002"),
            line("clerk2", "call_number", "1", "A003"),
            line("clerk2", "transfer", "1", "A003"),
            line("clerk2", "pause", "1", ""),
            line("clerk2", "resume", "1", ""),
            line("supervisor", "login", "", ""),
        ],
        "{page}"
    );
    // Each entry names its user by display name too (hall.toml's, else the login name).
    let names: Vec<(String, String)> = entries(&page)
        .iter()
        .filter(|e| e["user"].is_string())
        .map(|e| (e["user"].as_str().unwrap_or("").to_string(), e["display_name"].as_str().unwrap_or("").to_string()))
        .collect();
    for (user, name) in [("clerk1", "李明"), ("clerk2", "clerk2"), ("supervisor", "王芳")] {
        assert!(names.contains(&(user.to_string(), name.to_string())), "{user} as {name}: {names:?}");
    }
    let all = entries(&page);
    let find = |action: &str| all.iter().find(|e| e["action"] == action).expect("an entry").clone();
    assert_eq!(find("done")["detail"], "结果：未办结");
    assert_eq!(find("call_number")["detail"], "理由：补材料后返回");
    assert!(find("transfer")["detail"].as_str().is_some_and(|d| d.contains('B')), "{page}");
    assert_eq!(find("open")["role"], "clerk");
    assert_eq!(find("open")["action_text"], "开启窗口");
    // Local time with the hall's offset, on the day asked for.
    let at = find("open")["at"].as_str().expect("a time").to_string();
    assert!(at.starts_with("2026-03-10T10:00") && at.ends_with("+08:00"), "{at}");
    // Never a ticket id: ids are 32 hex digits.
    assert!(!has_ticket_id(&page.to_string()), "a ticket id in the audit: {page}");
}

/// Whether `text` holds something shaped like a ticket id (32 lowercase hex digits).
fn has_ticket_id(text: &str) -> bool {
    let hex: Vec<bool> = text.chars().map(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)).collect();
    hex.windows(32).any(|w| w.iter().all(|&h| h))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn filters_pages_and_bad_queries() {
    let d = start_shared_window().await;
    let api = &d.api;
    let item = api.item_in("A").await;
    for _ in 0..4 {
        api.issue(&item).await;
    }
    let c1 = api.login("clerk1").await;
    let c3 = api.login("clerk3").await;
    api.window_ok(&c1, "1", "open", None).await;
    api.window_ok(&c3, "3", "open", None).await;
    for _ in 0..2 {
        for (token, w) in [(&c1, "1"), (&c3, "3")] {
            api.call_next(token, w).await;
            api.window_ok(token, w, "serve", None).await;
            api.window_ok(token, w, "done", None).await;
        }
    }
    let admin = api.login("admin").await;

    let by_window = audit(api, &admin, "?date=2026-03-10&window=3").await;
    assert!(entries(&by_window).iter().all(|e| e["window"] == "3" && e["user"] == "clerk3"), "{by_window}");
    assert_eq!(entries(&by_window).len(), 7, "open, then call, serve and done twice: {by_window}");
    let by_user = audit(api, &admin, "?date=2026-03-10&user=clerk1").await;
    assert!(entries(&by_user).iter().all(|e| e["user"] == "clerk1"), "{by_user}");
    assert_eq!(entries(&by_user).len(), 8, "login, open, then call, serve and done twice: {by_user}");
    let calls = audit(api, &admin, "?date=2026-03-10&action=call").await;
    let numbers: Vec<_> = entries(&calls).iter().map(|e| e["ticket"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(numbers, ["A001", "A002", "A003", "A004"], "{calls}");
    // Today is the default day.
    assert_eq!(audit(api, &admin, "?action=call").await["entries"], calls["entries"]);
    // Another day holds nothing of today's.
    assert!(entries(&audit(api, &admin, "?date=2026-03-09").await).is_empty());

    // Pages: three at a time, continued with `after`, give the whole list once.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = audit(api, &admin, &format!("?date=2026-03-10&action=call&limit=3&after={after}")).await;
        seen.extend(entries(&page));
        match page["next_after"].as_u64() {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(Value::from(seen), calls["entries"]);

    for (query, code) in [
        ("?date=2026-13-01", "bad_date"),
        ("?date=yesterday", "bad_date"),
        ("?window=%20", "bad_window"),
        ("?user=a%20b", "bad_user"),
        ("?action=dance", "bad_action"),
        ("?limit=0", "bad_limit"),
        ("?after=-1", "bad_query"),
        ("?colour=red", "bad_query"),
    ] {
        api.get(&format!("/api/v1/audit{query}"), Some(&admin)).await.assert_error(400, code);
        api.get(&format!("/api/v1/audit.csv{query}"), Some(&admin)).await.assert_error(400, code);
    }
    // A JSON page holds at most 1,000 entries; an export up to 100,000 rows.
    api.get("/api/v1/audit?limit=1001", Some(&admin)).await.assert_error(400, "bad_limit");
    api.get("/api/v1/audit.csv?limit=100001", Some(&admin)).await.assert_error(400, "bad_limit");
    // Roles: only supervisors and admins read the trail.
    api.get("/api/v1/audit", None).await.assert_error(401, "unauthorized");
    api.get("/api/v1/audit", Some(&c1)).await.assert_error(403, "forbidden");
    api.get("/api/v1/audit.csv", Some(support::KIOSK)).await.assert_error(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admins_disable_holds_across_a_restart_and_is_audited() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let admin = d.api.login("admin").await;
    let r = d.api.post("/api/v1/users/clerk4/disable", Some(&admin), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    d.api.post("/api/v1/users/admin/disable", Some(&admin), None).await.assert_error(409, "cannot_disable_self");

    let d = d.restart().await;
    let again = d.api.post("/api/v1/login", None, Some(json!({ "user": "clerk4", "password": "demo" }))).await;
    again.assert_error(403, "user_disabled");
    let admin = d.api.login("admin").await;
    let r = d.api.post("/api/v1/users/clerk4/enable", Some(&admin), None).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let d = d.restart().await;
    let clerk = d.api.login("clerk4").await;
    d.api.window_ok(&clerk, "4", "open", None).await;
    let admin = d.api.login("admin").await;
    let page = audit(&d.api, &admin, "?date=2026-03-10").await;
    let admin_acts: Vec<_> = entries(&page)
        .into_iter()
        .filter(|e| e["action"] == "disable_user" || e["action"] == "enable_user")
        .map(|e| (e["user"].clone(), e["action"].clone(), e["detail"].clone(), e["role"].clone()))
        .collect();
    assert_eq!(
        admin_acts,
        vec![
            (json!("admin"), json!("disable_user"), json!("用户 clerk4"), json!("admin")),
            (json!("admin"), json!("enable_user"), json!("用户 clerk4"), json!("admin")),
        ],
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_past_day_reads_from_the_log_and_exports_as_csv_without_secrets() {
    let d = start_shared_window().await;
    let api = &d.api;
    let phone = "13800138000";
    let booking = api
        .post(
            "/api/v1/appointments",
            None,
            Some(json!({ "service": "SC-0001", "day": "2026-03-11", "slot": "10:00", "phone": phone })),
        )
        .await;
    assert_eq!(booking.status, 201, "{}", booking.text);
    let item = api.item_in("A").await;
    let ticket = api.issue(&item).await;
    let id = ticket["id"].as_str().expect("an id").to_string();
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    api.call_next(&clerk, "1").await;
    api.window_ok(&clerk, "1", "serve", None).await;
    api.window_ok(&clerk, "1", "done", None).await;
    let r = api.post(&support::visitor_path(&ticket, "rating"), None, Some(json!({ "score": 5 }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let out = api.post("/api/v1/logout", Some(&clerk), None).await;
    assert_eq!(out.status, 200, "{}", out.text);

    // The next day: yesterday's tickets have left the live state; the trail still reads.
    d.set_clock(shanghai_ms(2026, 3, 11, 8, 30, 0));
    let sup = api.login("supervisor").await;
    let yesterday = audit(api, &sup, "?date=2026-03-10").await;
    let expected = vec![
        line("clerk1", "login", "", ""),
        line("clerk1", "open", "1", ""),
        line("clerk1", "call", "1", "A001"),
        line("clerk1", "serve", "1", "A001"),
        line("clerk1", "done", "1", "A001"),
        line("clerk1", "logout", "", ""),
    ];
    let staff: Vec<_> = lines(&yesterday).into_iter().filter(|l| l.1 != "day_opened").collect();
    assert_eq!(staff, expected, "{yesterday}");
    let today = audit(api, &sup, "?date=2026-03-11").await;
    assert_eq!(entries(&today)[0]["action"], "day_opened", "{today}");
    assert!(entries(&today)[0]["user"].is_null(), "{today}");

    let resp = api
        .http
        .get(api.url("/api/v1/audit.csv?date=2026-03-10"))
        .bearer_auth(&sup)
        .send()
        .await
        .expect("the daemon answers");
    assert_eq!(resp.status(), 200);
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(header("content-disposition"), "attachment; filename=\"audit-2026-03-10.csv\"");
    let bytes = resp.bytes().await.expect("a body");
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "no byte-order mark for Excel");
    let text = std::str::from_utf8(&bytes).expect("UTF-8");
    for secret in [id.as_str(), phone, "demo", clerk.as_str(), sup.as_str(), "argon2"] {
        assert!(!text.contains(secret), "the export holds {secret:?}:\n{text}");
    }
    assert!(!has_ticket_id(text), "a ticket id in the export:\n{text}");

    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let head: Vec<String> = reader.headers().expect("a header").iter().map(String::from).collect();
    assert_eq!(head, ["时间", "用户", "姓名", "角色", "操作", "操作代码", "窗口", "票号", "说明"]);
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows parse");
    let parsed: Vec<_> =
        rows.iter().filter(|r| &r[5] != "day_opened").map(|r| line(&r[1], &r[5], &r[6], &r[7])).collect();
    assert_eq!(parsed, expected, "{text}");
    assert_eq!(rows.len(), entries(&yesterday).len(), "the export and the page hold the same entries");
    let done = rows.iter().find(|r| &r[5] == "done").expect("a done row");
    assert_eq!((&done[2], &done[3], &done[4], &done[8]), ("李明", "窗口人员", "办结", "结果：已办结"));
    assert!(done[0].starts_with("2026-03-10T10:00"), "{:?}", done);
}
