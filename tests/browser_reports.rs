//! The supervisor's reports page (`/display/reports`) in headless Chromium against a real
//! daemon on an injected clock: a clerk is turned away, a supervisor signs in and sees the
//! day's figures, tables and the daemon's four SVG charts (fetched with the token in a
//! header, shown through blob: addresses, so the token is in no URL); another day can be
//! picked. Each of the page's CSV buttons saves a file (Chromium's downloads go to a temporary
//! directory) holding what the API serves for that report.

use crate::browser_support;
use crate::support;

use std::path::Path;
use std::time::Duration;

use browser_support::{Browser, PAGE_GUARD};
use serde_json::{json, Value};
use support::{shanghai_ms, Daemon};

fn at(h: u32, m: u32) -> i64 {
    shanghai_ms(2026, 3, 10, h, m, 0)
}

/// A short morning: A001 waits 8 minutes, A002 25 (a no-show), B001 26 (finished
/// incomplete, so its item is stuck this week); A003 still waits.
async fn morning(d: &Daemon) {
    let api = &d.api;
    let (a, b) = (api.item_in("A").await, api.item_in("B").await);
    let mut tickets = Vec::new();
    for item in [&a, &a, &a, &b] {
        tickets.push(api.issue(item).await);
    }
    let c1 = api.login("clerk1").await;
    let c10 = api.login("clerk10").await;
    api.window_ok(&c1, "1", "open", None).await;
    api.window_ok(&c10, "10", "open", None).await;
    d.set_clock(at(10, 8));
    assert_eq!(api.call_next(&c1, "1").await["number"], "A001");
    api.window_ok(&c1, "1", "serve", None).await;
    d.set_clock(at(10, 20));
    api.window_ok(&c1, "1", "done", Some(json!({ "outcome": "completed" }))).await;
    let r = api.post(&support::visitor_path(&tickets[0], "rating"), None, Some(json!({ "score": 5 }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    d.set_clock(at(10, 25));
    assert_eq!(api.call_next(&c1, "1").await["number"], "A002");
    api.window_ok(&c1, "1", "no-show", None).await;
    d.set_clock(at(10, 26));
    assert_eq!(api.call_next(&c10, "10").await["number"], "B001");
    api.window_ok(&c10, "10", "serve", None).await;
    d.set_clock(at(10, 33));
    api.window_ok(&c10, "10", "done", Some(json!({ "outcome": "incomplete" }))).await;
}

const CHARTS_LOADED: &str = "var imgs = document.querySelectorAll('.rp-chart img');
    return imgs.length === 4 && Array.prototype.every.call(imgs, function (i) { return i.complete && i.naturalWidth > 0; });";

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_reads_the_days_figures_and_charts() {
    let Some(b) = browser_support::launch("a_supervisor_reads_the_days_figures_and_charts", 1366, 2200).await else {
        return;
    };
    let d = Daemon::start_with_clock(at(10, 0)).await;
    morning(&d).await;
    let page = format!("http://{}/display/reports", d.addr);

    // A clerk may not read reports, and the page says so.
    b.goto(&page).await;
    b.type_into("#login-user", "clerk1").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the refusal", "return !document.querySelector('#login-error').hidden;").await;
    assert_eq!(b.text("#login-error").await, "该账号无权查看统计报表");

    b.eval("document.querySelector('#login-user').value = ''; document.querySelector('#login-password').value = '';")
        .await;
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the report", "return document.querySelectorAll('#t-queues tbody tr').length >= 2;").await;
    assert_eq!(
        b.eval("return document.querySelector('#date').value;").await,
        "2026-03-10",
        "the hall's day by default"
    );
    assert_eq!(b.text("#status").await, "当日数据，实时更新中");
    let queues = b.text("#t-queues").await;
    assert!(queues.contains("综合受理") && queues.contains("企业服务"), "{queues}");
    // A's waits: 8 and 25 minutes.
    assert!(queues.contains("16.5 分") && queues.contains("25.0 分"), "{queues}");
    let kpis = b.text("#kpis").await;
    assert!(kpis.contains("4\n取号") || kpis.contains("4 取号") || kpis.starts_with('4'), "{kpis}");
    let clerks = b.text("#t-clerks").await;
    assert!(clerks.contains("clerk1") && clerks.contains("clerk10"), "{clerks}");
    // 考勤考核: clerk1's window 1 open from 10:00 to the day's last record (10:33), with one
    // ticket finished and one no-show.
    let card = "#t-scorecards tr[data-clerk=\"clerk1\"]";
    b.until("clerk1's scorecard", &format!("return !!document.querySelector('{card}');")).await;
    let cells: Vec<String> = b
        .eval(&format!("return Array.prototype.map.call(document.querySelectorAll('{card} td'), function (c) {{ return c.textContent; }});"))
        .await
        .as_array()
        .expect("cells")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert_eq!(cells[2..6], ["1", "10:00", "10:33", "33.0"], "{cells:?}");
    assert_eq!((cells[9].as_str(), cells[11].as_str()), ("1", "1"), "done and no-shows: {cells:?}");
    assert_eq!(b.text("#sc-title").await, "考勤考核（2026-03）");
    b.eval("document.getElementById('scorecards').scrollIntoView();").await;
    b.screenshot("reports-scorecards").await;
    b.eval("window.scrollTo(0, 0);").await;
    b.until("the four charts", CHARTS_LOADED).await;
    let srcs = b.eval("return Array.prototype.map.call(document.querySelectorAll('.rp-chart img'), function (i) { return i.src; });").await;
    let srcs: Vec<&str> = srcs.as_array().expect("a list").iter().filter_map(Value::as_str).collect();
    assert!(srcs.iter().all(|s| s.starts_with("blob:")), "charts are shown from blob: addresses: {srcs:?}");
    let href = b.eval("return location.href;").await;
    assert_eq!(href, Value::String(page.clone()), "no token in the page's address");
    b.screenshot("reports-day").await;
    csv_buttons_save_the_reports(&b, &d).await;

    // Another day: the day before anything happened has no rows.
    b.eval("var i = document.querySelector('#date'); i.value = '2026-03-09'; i.dispatchEvent(new Event('change'));")
        .await;
    b.until("the empty day", "return document.querySelector('#t-queues').textContent.indexOf('暂无数据') >= 0;").await;
    assert_eq!(b.text("#status").await, "已结束的服务日");
    b.screenshot("reports-empty-day").await;
    b.close().await;
    d.stop().await;
}

/// One CSV button of the page: what it is, the report the API serves for it, the name the
/// page saves it under, the start of its header and the first cells of a row it must hold.
struct CsvButton {
    button: &'static str,
    path: &'static str,
    file: &'static str,
    header: &'static [&'static str],
    row: Vec<String>,
}

/// Clicks each CSV button of the morning's report and reads the file Chromium saved: the
/// same bytes as the API's answer to the supervisor (BOM and all), with the header and a
/// row of the morning in it.
async fn csv_buttons_save_the_reports(b: &Browser, d: &Daemon) {
    let dir = tempfile::tempdir().expect("a downloads dir");
    let path = dir.path().to_str().expect("a UTF-8 temp path");
    b.cdp("Browser.setDownloadBehavior", json!({ "behavior": "allow", "downloadPath": path })).await;
    let token = d.api.login("supervisor").await;
    let stuck_item = d.api.item_in("B").await;
    let buttons = [
        CsvButton {
            button: "#dl-tickets",
            path: "/api/v1/reports/day/tickets.csv?date=2026-03-10",
            file: "hallq-tickets-2026-03-10.csv",
            header: &["号码", "队列", "事项编码"],
            row: vec!["A001".into(), "A".into()],
        },
        CsvButton {
            button: "#dl-figures",
            path: "/api/v1/reports/day/figures.csv?date=2026-03-10",
            file: "hallq-figures-2026-03-10.csv",
            header: &["维度", "编号", "名称", "取号"],
            row: vec!["全部".into(), String::new(), "全厅".into(), "4".into()],
        },
        CsvButton {
            button: "#dl-guides",
            path: "/api/v1/reports/guides.csv?day=2026-03-10",
            file: "hallq-guides-2026-03-10.csv",
            header: &["日期", "导办", "姓名", "代取号"],
            row: Vec::new(),
        },
        CsvButton {
            button: "#sc-csv",
            path: "/api/v1/reports/scorecards.csv?month=2026-03",
            file: "hallq-scorecards-2026-03.csv",
            header: &["日期", "工号", "姓名", "窗口"],
            row: vec!["2026-03-10".into(), "clerk1".into()],
        },
        CsvButton {
            button: "#st-csv",
            path: "/api/v1/reports/stuck.csv?week=2026-W11",
            file: "hallq-stuck-2026-W11.csv",
            header: &["事项编码", "事项名称", "部门", "办不成事", "原因", "未办结"],
            row: vec![stuck_item],
        },
    ];
    for csv in buttons {
        b.click(csv.button).await;
        let saved = saved_file(dir.path(), csv.file).await;
        let served = d.api.http.get(d.api.url(csv.path)).bearer_auth(&token).send().await.expect("the daemon answers");
        assert_eq!(served.status(), 200, "{}", csv.path);
        let served = served.bytes().await.expect("a CSV body");
        assert!(saved == served, "{} saved what {} does not serve", csv.button, csv.path);
        let rows = csv_rows(&saved);
        assert_eq!(rows[0][..csv.header.len()], *csv.header, "{}'s header", csv.file);
        let found = rows[1..].iter().any(|r| r.len() >= csv.row.len() && r[..csv.row.len()] == csv.row[..]);
        assert!(csv.row.is_empty() || found, "{} holds no row starting {:?}: {rows:?}", csv.file, csv.row);
    }
}

/// The CSV's records, after the byte-order mark that office programs read it by.
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).expect("a CSV for office programs starts with a BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body)
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_string).collect())
        .collect()
}

/// The bytes of `name` once Chromium has saved it in `dir` (it writes into a `.crdownload`
/// file and gives it its name when done), waiting at most `PAGE_GUARD`.
async fn saved_file(dir: &Path, name: &str) -> Vec<u8> {
    let deadline = tokio::time::Instant::now() + PAGE_GUARD;
    loop {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            return bytes;
        }
        if tokio::time::Instant::now() > deadline {
            let there: Vec<_> =
                std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
            panic!("the page saved no {name}; the downloads dir holds {there:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
