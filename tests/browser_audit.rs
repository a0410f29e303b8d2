//! The audit page (`/display/audit`) in headless Chromium against a real daemon: a clerk
//! is turned away, a supervisor signs in and sees the day's actions with who, window,
//! number and detail; the window filter narrows the table; the export button hands the
//! browser the same entries as a CSV file with its byte-order mark.

use crate::browser_support;
use crate::support;

use serde_json::json;
use support::Daemon;

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_reads_filters_and_exports_the_days_audit_trail() {
    let test = "a_supervisor_reads_filters_and_exports_the_days_audit_trail";
    let Some(b) = browser_support::launch(test, 1366, 800).await else {
        return;
    };
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let item = api.item_in("A").await;
    for _ in 0..3 {
        api.issue(&item).await;
    }
    let c1 = api.login("clerk1").await;
    let c3 = api.login("clerk3").await;
    api.window_ok(&c1, "1", "open", None).await;
    api.window_ok(&c3, "3", "open", None).await;
    api.call_next(&c1, "1").await;
    api.window_ok(&c1, "1", "serve", None).await;
    api.window_ok(&c1, "1", "done", None).await;
    api.window_ok(&c3, "3", "call", Some(json!({ "number": "A003", "reason": "老人返回补材料" }))).await;
    api.window_ok(&c3, "3", "no-show", None).await;

    let base = format!("http://{}", d.addr);
    b.goto(&format!("{base}/display/audit")).await;
    // The sign-in screen names the hall, not the page's placeholder.
    b.until("the hall's name", "return document.querySelector('#hall-name').textContent === '青川区政务服务中心';")
        .await;
    // A clerk may not read the trail.
    b.type_into("#login-user", "clerk2").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the clerk to be turned away", "return !document.querySelector('#login-error').hidden;").await;
    assert_eq!(b.text("#login-error").await, "仅值班主任和管理员可查看操作日志");

    b.eval("document.querySelector('#login-user').value = ''; return true;").await;
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the day's entries", "return document.querySelectorAll('#rows tr').length >= 10;").await;
    assert_eq!(b.eval("return document.querySelector('#f-date').value;").await, "2026-03-10");
    let sup = api.login("supervisor").await;
    let page = api.get("/api/v1/audit?date=2026-03-10", Some(&sup)).await.body;
    let rows = b.eval("return document.querySelectorAll('#rows tr').length;").await;
    // The page was read before this test's own second supervisor login.
    assert_eq!(rows.as_u64().map(|n| n + 1), page["entries"].as_array().map(|e| e.len() as u64), "{page}");
    let by_number = b.text("#rows tr[data-action='call_number']").await;
    for part in ["clerk3", "窗口人员", "按号呼叫", "A003", "理由：老人返回补材料"] {
        assert!(by_number.contains(part), "{part:?} missing from the row: {by_number}");
    }
    // Staff by display name (hall.toml's), with the login name the filter takes.
    let done = b.text("#rows tr[data-action='done']").await;
    assert!(done.contains("李明（clerk1）"), "{done}");
    b.screenshot("audit-day").await;

    // Window 3 only.
    b.eval("var s = document.querySelector('#f-window'); s.value = '3'; return true;").await;
    b.click("#search").await;
    b.until(
        "only window 3's rows",
        "var r = document.querySelectorAll('#rows tr'); return r.length === 3 &&
           Array.prototype.every.call(r, function (tr) { return tr.children[4].textContent === '3'; });",
    )
    .await;
    assert!(b.eval("return location.search;").await.as_str().is_some_and(|s| s.contains("window=3")));
    b.screenshot("audit-window-3").await;

    // Export: the page fetches the CSV with its token and hands the browser a blob.
    b.eval(
        "var real = URL.createObjectURL; URL.createObjectURL = function (blob) {
           blob.arrayBuffer().then(function (b) { window.__bom = Array.from(new Uint8Array(b.slice(0, 3))); });
           blob.text().then(function (t) { window.__csv = t; }); return real.call(URL, blob); };
         return true;",
    )
    .await;
    b.click("#export").await;
    let csv = b.until("the exported file", "return window.__csv || null;").await;
    let csv = csv.as_str().expect("CSV text");
    // Blob.text() drops the byte-order mark; the bytes still begin with it.
    let bom = b.until("the file's first bytes", "return window.__bom || null;").await;
    assert_eq!(bom, json!([0xef, 0xbb, 0xbf]), "no byte-order mark for Excel");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "时间,用户,姓名,角色,操作,操作代码,窗口,票号,说明");
    assert_eq!(lines.len(), 4, "the header and window 3's three rows: {csv}");
    assert!(lines.iter().skip(1).all(|l| l.contains(",clerk3,")), "{csv}");
    let filtered = api.get("/api/v1/audit?date=2026-03-10&window=3", Some(&sup)).await.body;
    assert_eq!(filtered["entries"].as_array().map(Vec::len), Some(3), "{filtered}");
    assert!(filtered["entries"].as_array().is_some_and(|e| e.iter().all(|e| e["window"] == "3")));
    b.close().await;
}
