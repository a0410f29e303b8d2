//! Day reports through a real daemon on an injected clock: a day of known times driven
//! through the API, then its figures (mean and p95 waits per queue, window and clerk, the
//! service-level share, ratings), its CSV exports parsed back, its SVG charts, the same
//! day read back after the day closed and the daemon restarted, a day past the retention
//! known only from its figures, and the new Prometheus histograms.

use crate::support;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use support::{guard, shanghai_ms, Api, Daemon, KIOSK};

const DAY: &str = "2026-03-10";
const MIN: i64 = 60_000;

fn at(h: u32, m: u32) -> i64 {
    shanghai_ms(2026, 3, 10, h, m, 0)
}

/// Moves the clock to `ms` and waits until the engine's tick has opened `day`.
async fn open_day(d: &Daemon, ms: i64, day: &str) {
    d.set_clock(ms);
    guard("the engine opens the new day", async {
        loop {
            if d.api.get("/api/v1/hall", None).await.body["day"] == day {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

/// What the day's driving returns: the ticket ids (which must never appear in a report).
struct Driven {
    ids: Vec<String>,
}

async fn rate(api: &Api, ticket: &Value, score: u8, comment: &str) {
    // A bad rating needs one of the hall's reasons (好差评).
    let body = if score <= 2 {
        json!({ "score": score, "reason": "slow", "comment": comment })
    } else {
        json!({ "score": score, "comment": comment })
    };
    let r = api.post(&support::visitor_path(ticket, "rating"), None, Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// The day, minute by minute (all times 2026-03-10, Asia/Shanghai):
///
/// - 10:00 A001, A002, A003 and B001 are issued; clerk1 opens window 1, clerk10 window 10.
/// - 10:05 window 1 calls A001 (waited 5 min); 10:06 serve; 10:16 done (10 min); rated 5.
/// - 10:20 window 1 calls A002 (20 min); 10:22 no-show.
/// - 10:22 window 10 calls B001 (22 min); 10:23 serve; 10:30 done (7 min); rated 2.
/// - 10:40 A003 is cancelled uncalled (40 min: past the 15-minute service level); A004 is
///   issued and called at once by window 1 at 10:42 (2 min); served 10:42; done
///   incomplete 10:50 (8 min); rated 4.
/// - 10:55 A005 is issued and left waiting (it expires when the day closes).
async fn drive(d: &Daemon) -> Driven {
    let api = &d.api;
    let (a, b) = (api.item_in("A").await, api.item_in("B").await);
    // The kiosk's answers (with the visitors' keys) and the ids.
    let mut tickets = Vec::new();
    for item in [&a, &a, &a, &b] {
        tickets.push(api.issue(item).await);
    }
    let c1 = api.login("clerk1").await;
    let c10 = api.login("clerk10").await;
    api.window_ok(&c1, "1", "open", None).await;
    api.window_ok(&c10, "10", "open", None).await;

    d.set_clock(at(10, 5));
    assert_eq!(api.call_next(&c1, "1").await["number"], "A001");
    d.set_clock(at(10, 6));
    api.window_ok(&c1, "1", "serve", None).await;
    d.set_clock(at(10, 16));
    api.window_ok(&c1, "1", "done", Some(json!({ "outcome": "completed" }))).await;
    rate(api, &tickets[0], 5, "").await;

    d.set_clock(at(10, 20));
    assert_eq!(api.call_next(&c1, "1").await["number"], "A002");
    d.set_clock(at(10, 22));
    api.window_ok(&c1, "1", "no-show", None).await;
    assert_eq!(api.call_next(&c10, "10").await["number"], "B001");
    d.set_clock(at(10, 23));
    api.window_ok(&c10, "10", "serve", None).await;
    d.set_clock(at(10, 30));
    api.window_ok(&c10, "10", "done", Some(json!({ "outcome": "completed" }))).await;
    // A reason with a phone number in it: it must reach no report.
    rate(api, &tickets[3], 2, "等太久 13800138000").await;

    d.set_clock(at(10, 40));
    let r = api.post(&support::visitor_path(&tickets[2], "cancel"), None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    tickets.push(api.issue(&a).await);
    d.set_clock(at(10, 42));
    assert_eq!(api.call_next(&c1, "1").await["number"], "A004");
    api.window_ok(&c1, "1", "serve", None).await;
    d.set_clock(at(10, 50));
    api.window_ok(&c1, "1", "done", Some(json!({ "outcome": "incomplete" }))).await;
    rate(api, &tickets[4], 4, "").await;

    d.set_clock(at(10, 55));
    tickets.push(api.issue(&a).await);
    let ids = tickets.iter().map(|t| t["id"].as_str().expect("an id").to_string()).collect();
    Driven { ids }
}

fn named<'a>(report: &'a Value, list: &str, id: &str) -> &'a Value {
    report[list]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["id"] == id))
        .unwrap_or_else(|| panic!("no {list} entry {id}: {report}"))
}

async fn report(api: &Api, token: &str, date: &str) -> Value {
    let r = api.get(&format!("/api/v1/reports/day?date={date}"), Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// The figures every view of the day shares, whether read today or after it closed.
fn assert_day_figures(r: &Value) {
    assert_eq!(r["day"], DAY);
    assert_eq!(r["source"], "log");
    assert_eq!(r["service_level_min"], 15);
    let qa = named(r, "queues", "A");
    assert_eq!(qa["name"], "综合受理");
    assert_eq!(qa["issued"], 5, "{qa}");
    assert_eq!(qa["called"], 3);
    assert_eq!(qa["completed"], 1);
    assert_eq!(qa["incomplete"], 1);
    assert_eq!(qa["no_show"], 1);
    assert_eq!(qa["cancelled"], 1);
    // Waits 5, 20 and 2 minutes: mean 9, nearest-rank p95 the longest of three.
    assert_eq!(qa["wait"], json!({ "count": 3, "mean_ms": 9 * MIN, "p95_ms": 20 * MIN, "max_ms": 20 * MIN }));
    assert_eq!(qa["service"], json!({ "count": 2, "mean_ms": 9 * MIN, "p95_ms": 10 * MIN, "max_ms": 10 * MIN }));
    assert_eq!(qa["ratings"], json!({ "count": 2, "mean": 4.5, "levels": { "1": 0, "2": 0, "3": 0, "4": 1, "5": 1 } }));
    let qb = named(r, "queues", "B");
    assert_eq!(qb["wait"], json!({ "count": 1, "mean_ms": 22 * MIN, "p95_ms": 22 * MIN, "max_ms": 22 * MIN }));
    assert_eq!(qb["service"]["mean_ms"], 7 * MIN);
    assert_eq!(qb["service_level"], json!({ "target_min": 15, "within": 0, "of": 1, "share": 0.0 }));
    assert_eq!(qb["ratings"]["mean"], 2.0);

    // Window 1 and clerk1 did A001, A002 and A004; window 10 and clerk10 did B001.
    for (list, id) in [("windows", "1"), ("clerks", "clerk1")] {
        let g = named(r, list, id);
        assert_eq!(g["wait"], qa["wait"], "{list} {id}");
        assert_eq!(g["called"], 3);
        assert_eq!(g["no_show"], 1);
        assert_eq!(g["service_level"]["within"], 2);
        assert_eq!(g["service_level"]["of"], 3);
    }
    assert_eq!(named(r, "windows", "1")["name"], "1号综合窗口（含预约）");
    // A clerk by hall.toml's display_name, the login name kept as the id; else the login.
    assert_eq!(named(r, "clerks", "clerk1")["name"], "李明");
    assert_eq!(named(r, "clerks", "clerk10")["name"], "clerk10");
    for (list, id) in [("windows", "10"), ("clerks", "clerk10")] {
        let g = named(r, list, id);
        assert_eq!(g["wait"], qb["wait"], "{list} {id}");
        assert_eq!(g["ratings"]["levels"]["2"], 1);
    }

    let t = &r["total"];
    assert_eq!(t["called"], 4);
    // Waits 5, 20, 2 and 22 minutes: mean 12.25, p95 the 4th of 4.
    assert_eq!(t["wait"], json!({ "count": 4, "mean_ms": 735_000, "p95_ms": 22 * MIN, "max_ms": 22 * MIN }));
    assert_eq!(t["ratings"], json!({ "count": 3, "mean": 3.67, "levels": { "1": 0, "2": 1, "3": 0, "4": 1, "5": 1 } }));
    let items = r["items"].as_array().expect("items");
    assert_eq!(items[0]["tickets"], 5, "the A item leads: {items:?}");
    assert!(items[0]["name"].as_str().is_some_and(|n| !n.is_empty()));
    let text = r.to_string();
    assert!(!text.contains("13800138000"), "a rating's comment leaked into the report");
}

fn assert_no_secrets(text: &str, driven: &Driven) {
    for id in &driven.ids {
        assert!(!text.contains(id.as_str()), "ticket id {id} in an export");
    }
    assert!(!text.contains("13800138000"), "a phone number in an export");
}

/// A GET with a token, as raw bytes with its headers.
async fn raw(api: &Api, path: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = api.http.get(api.url(path)).bearer_auth(token).send().await.expect("the daemon answers");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.expect("a body").to_vec())
}

/// Parses a CSV export: it starts with UTF-8's byte-order mark (for Excel).
fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("a UTF-8 byte-order mark first");
    let mut reader = csv::Reader::from_reader(body);
    let header = reader.headers().expect("a header").iter().map(String::from).collect();
    let rows = reader.records().map(|r| r.expect("a CSV row").iter().map(String::from).collect()).collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

async fn check_csvs(api: &Api, sup: &str, driven: &Driven) {
    let (status, headers, bytes) = raw(api, &format!("/api/v1/reports/day/tickets.csv?date={DAY}"), sup).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap_or("").starts_with("text/csv"));
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"hallq-tickets-{DAY}.csv\"").as_str());
    assert_no_secrets(&String::from_utf8_lossy(&bytes), driven);
    let (h, rows) = parse_csv(&bytes);
    let numbers: Vec<&str> = rows.iter().map(|r| r[col(&h, "号码")].as_str()).collect();
    assert_eq!(numbers, ["A001", "A002", "A003", "B001", "A004", "A005"]);
    let a1 = &rows[0];
    assert_eq!(a1[col(&h, "队列")], "A");
    assert_eq!(a1[col(&h, "取号时间")], "2026-03-10 10:00:00");
    assert_eq!(a1[col(&h, "首次叫号时间")], "2026-03-10 10:05:00");
    assert_eq!(a1[col(&h, "结束时间")], "2026-03-10 10:16:00");
    assert_eq!(a1[col(&h, "等候分钟")], "5.0");
    assert_eq!(a1[col(&h, "办理分钟")], "10.0");
    assert_eq!(a1[col(&h, "窗口")], "1");
    assert_eq!(a1[col(&h, "工作人员")], "clerk1");
    assert_eq!(a1[col(&h, "结果")], "已办结");
    assert_eq!(a1[col(&h, "评价")], "5");
    let fates: Vec<&str> = rows.iter().map(|r| r[col(&h, "结果代码")].as_str()).collect();
    assert_eq!(fates, ["completed", "no_show", "cancelled", "completed", "incomplete", "expired"]);
    assert_eq!(rows[3][col(&h, "工作人员")], "clerk10");
    assert_eq!(rows[2][col(&h, "等候分钟")], "", "a cancelled ticket was never called");

    let (status, headers, bytes) = raw(api, &format!("/api/v1/reports/day/figures.csv?date={DAY}"), sup).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"hallq-figures-{DAY}.csv\"").as_str());
    let (h, rows) = parse_csv(&bytes);
    let keys: Vec<(String, String)> = rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let want = [
        ("全部", ""),
        ("队列", "A"),
        ("队列", "B"),
        ("窗口", "1"),
        ("窗口", "10"),
        ("工作人员", "clerk1"),
        ("工作人员", "clerk10"),
    ];
    assert_eq!(keys, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let qa = &rows[1];
    assert_eq!(qa[col(&h, "名称")], "综合受理");
    assert_eq!(qa[col(&h, "平均等候分钟")], "9.0");
    assert_eq!(qa[col(&h, "P95等候分钟")], "20.0");
    assert_eq!(qa[col(&h, "服务水平达标率%")], "40.0");
    assert_eq!(qa[col(&h, "平均评分")], "4.50");
    assert_eq!(rows[5][col(&h, "名称")], "李明", "clerk1 by display name: {:?}", rows[5]);
    assert_no_secrets(&String::from_utf8_lossy(&bytes), driven);
}

async fn check_charts(api: &Api, sup: &str) {
    let want = [
        ("arrivals", vec!["每小时取号量", "10时"]),
        ("waiting", vec!["等候人数", "综合受理 (A)", "10:00"]),
        ("wait-histogram", vec!["等候时长分布", "综合受理 (A) · 3 张 · P95 20.0 分", "企业服务 (B)", "5-10", "60+"]),
        ("service-level", vec!["服务水平达标率", "40.0%", "0.0%"]),
    ];
    for (name, labels) in want {
        let (status, headers, bytes) =
            raw(api, &format!("/api/v1/reports/day/charts/{name}.svg?date={DAY}"), sup).await;
        let svg = String::from_utf8(bytes).expect("UTF-8");
        assert_eq!(status, 200, "{name}: {svg}");
        assert_eq!(headers["content-type"], "image/svg+xml; charset=utf-8");
        assert!(svg.starts_with("<svg"), "{name} does not start with <svg: {}", &svg[..svg.len().min(80)]);
        assert!(svg.trim_end().ends_with("</svg>"), "{name} is cut short");
        assert_eq!(svg.matches("<svg").count(), 1, "{name}: one root element");
        for label in labels {
            assert!(svg.contains(label), "{name} lacks {label:?}");
        }
    }
    let r = api.get(&format!("/api/v1/reports/day/charts/pie.svg?date={DAY}"), Some(sup)).await;
    r.assert_error(404, "unknown_chart");
}

#[tokio::test]
async fn a_day_of_known_times_gives_exact_figures_exports_and_charts() {
    let d = Daemon::start_with_clock(at(10, 0)).await;
    let mut display = d.api.display(None).await;
    let driven = drive(&d).await;
    let sup = d.api.login("supervisor").await;

    // Today, still running: A005 waits; A's service level counts A001 and A004 within 15
    // minutes, of A001, A002, A004 and the cancelled A003.
    let today = report(&d.api, &sup, DAY).await;
    assert_day_figures(&today);
    assert_eq!(today["final"], false);
    assert_eq!(today["unavailable"], json!([]));
    let qa = named(&today, "queues", "A");
    assert_eq!(qa["service_level"], json!({ "target_min": 15, "within": 2, "of": 4, "share": 0.5 }));
    assert_eq!(qa["expired"], 0);
    let default_day = d.api.get("/api/v1/reports/day", Some(&sup)).await;
    assert_eq!(default_day.body["day"], DAY, "no date means today");

    // The histograms saw the waits and services, and the display's messages.
    display.until("call", |_| true).await;
    let metrics = guard("the fan-out is observed", async {
        loop {
            let m = d.api.get("/metrics", Some(support::METRICS_TOKEN)).await.text;
            if m.lines().any(|l| l.starts_with("hallq_feed_fanout_seconds_count") && !l.ends_with(" 0")) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(metrics.contains("hallq_ticket_wait_seconds_count{queue=\"A\"} 3"), "{metrics}");
    assert!(metrics.contains("hallq_ticket_wait_seconds_sum{queue=\"A\"} 1620"), "{metrics}");
    assert!(metrics.contains("hallq_ticket_wait_seconds_bucket{queue=\"B\",le=\"1800\"} 1"), "{metrics}");
    assert!(metrics.contains("hallq_ticket_service_seconds_count{queue=\"A\"} 2"), "{metrics}");
    assert!(metrics.contains("hallq_ticket_service_seconds_sum{queue=\"B\"} 420"), "{metrics}");
    assert!(metrics.contains("hallq_engine_batch_size_count"));
    assert!(metrics.contains("hallq_log_flush_seconds_count"));
    display.close().await;

    // The day closes (A005 expires), and the daemon restarts: the past day is read back
    // from the log with the same figures, now final.
    open_day(&d, shanghai_ms(2026, 3, 11, 9, 0, 0), "2026-03-11").await;
    let d = d.restart().await;
    let sup = d.api.login("supervisor").await;
    let past = report(&d.api, &sup, DAY).await;
    assert_day_figures(&past);
    assert_eq!(past["final"], true);
    let qa = named(&past, "queues", "A");
    assert_eq!(qa["expired"], 1);
    assert_eq!(qa["service_level"], json!({ "target_min": 15, "within": 2, "of": 5, "share": 0.4 }));
    assert_eq!(past["total"]["issued"], 6);
    assert_eq!(past["total"]["service_level"]["of"], 6);
    // Twice: the second comes from the cache of finished days, and says the same.
    assert_eq!(report(&d.api, &sup, DAY).await, past);
    check_csvs(&d.api, &sup, &driven).await;
    check_charts(&d.api, &sup).await;
    let new_day = report(&d.api, &sup, "2026-03-11").await;
    assert_eq!(new_day["total"]["issued"], 0, "{new_day}");
    d.stop().await;
}

#[tokio::test]
async fn reports_are_for_supervisors_and_bad_dates_are_refused() {
    let d = Daemon::start_with_clock(at(10, 0)).await;
    let api = &d.api;
    let clerk = api.login("clerk1").await;
    let admin = api.login("admin").await;
    let sup = api.login("supervisor").await;
    let paths = [
        format!("/api/v1/reports/day?date={DAY}"),
        format!("/api/v1/reports/day/charts/arrivals.svg?date={DAY}"),
        format!("/api/v1/reports/day/tickets.csv?date={DAY}"),
        format!("/api/v1/reports/day/figures.csv?date={DAY}"),
    ];
    for path in &paths {
        api.get(path, None).await.assert_error(401, "unauthorized");
        assert_eq!(api.get(path, Some(KIOSK)).await.status, 403, "{path}");
        api.get(path, Some(&clerk)).await.assert_error(403, "forbidden");
        assert_eq!(api.get(path, Some(&admin)).await.status, 200, "{path}");
    }
    let bad = |q: &'static str| format!("/api/v1/reports/day?{q}");
    api.get(&bad("date=2026-3-10x"), Some(&sup)).await.assert_error(400, "bad_date");
    api.get(&bad("date=2026-02-30"), Some(&sup)).await.assert_error(400, "bad_date");
    api.get(&bad("date=2026-03-11"), Some(&sup)).await.assert_error(400, "future_date");
    api.get(&bad("day=2026-03-10"), Some(&sup)).await.assert_error(400, "bad_query");
    api.get("/api/v1/reports/day/tickets.csv?date=x", Some(&sup)).await.assert_error(400, "bad_date");
    // A day before the hall's first record: nothing happened, and the log says so.
    let early = report(api, &sup, "2026-01-05").await;
    assert_eq!(early["source"], "log");
    assert_eq!(early["total"]["issued"], 0);
    // Its charts are drawn all the same, empty.
    for name in ["arrivals", "waiting", "wait-histogram", "service-level"] {
        let r = api.get(&format!("/api/v1/reports/day/charts/{name}.svg?date=2026-01-05"), Some(&sup)).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        assert!(r.text.starts_with("<svg"), "{name}");
    }
    d.stop().await;
}

#[tokio::test]
async fn a_day_past_the_retention_keeps_its_figures_and_says_what_is_gone() {
    let clock = Arc::new(AtomicI64::new(shanghai_ms(2026, 3, 9, 9, 0, 0)));
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.retention_days = 1;
    config.limits = hallq::config::RateLimits::OFF;
    let d = Daemon::start_config(data, Some(clock.clone()), config.clone()).await;
    let item = d.api.item_in("A").await;
    d.api.issue(&item).await;
    d.api.issue(&item).await;
    let clerk = d.api.login("clerk3").await;
    d.api.window_ok(&clerk, "3", "open", None).await;
    d.set_clock(shanghai_ms(2026, 3, 9, 9, 4, 0));
    d.api.call_next(&clerk, "3").await;
    open_day(&d, shanghai_ms(2026, 3, 10, 9, 0, 0), "2026-03-10").await;
    // The third day's opening removes the first day's records.
    open_day(&d, shanghai_ms(2026, 3, 11, 9, 0, 0), "2026-03-11").await;
    // A stop waits for the engine, and so for the removal, which follows the opening.
    let (data, clock) = d.stop().await;
    let d = Daemon::start_config(data, clock, config).await;
    let sup = d.api.login("supervisor").await;
    let r = report(&d.api, &sup, "2026-03-09").await;
    assert_eq!(r["source"], "figures", "{r}");
    assert_eq!(r["final"], true);
    assert_eq!(r["total"]["issued"], 2);
    assert_eq!(r["total"]["wait"], json!({ "count": 1, "mean_ms": 4 * MIN, "p95_ms": null, "max_ms": 4 * MIN }));
    assert_eq!(r["total"]["service_level"], Value::Null);
    assert_eq!(named(&r, "windows", "3")["called"], 1);
    let gone: Vec<&str> = r["unavailable"].as_array().expect("a list").iter().filter_map(Value::as_str).collect();
    for part in ["p95", "service_level", "clerks", "tickets", "charts"] {
        assert!(gone.contains(&part), "{part} not said to be unavailable: {gone:?}");
    }
    let tickets = d.api.get("/api/v1/reports/day/tickets.csv?date=2026-03-09", Some(&sup)).await;
    tickets.assert_error(404, "report_unavailable");
    let chart = d.api.get("/api/v1/reports/day/charts/waiting.svg?date=2026-03-09", Some(&sup)).await;
    chart.assert_error(404, "report_unavailable");
    let (status, _, bytes) = raw(&d.api, "/api/v1/reports/day/figures.csv?date=2026-03-09", &sup).await;
    assert_eq!(status, 200);
    let (h, rows) = parse_csv(&bytes);
    assert_eq!(rows[0][col(&h, "取号")], "2");
    assert_eq!(rows[0][col(&h, "P95等候分钟")], "");
    // The second day is still whole in the log.
    assert_eq!(report(&d.api, &sup, "2026-03-10").await["source"], "log");
    d.stop().await;
}

#[test]
fn the_service_level_is_read_per_queue_and_bad_values_name_their_key() {
    let cfg = hallq::config::embedded_default().expect("the example hall loads");
    let a = hallq::core::model::QueueId::parse("A").expect("a queue id");
    let v = hallq::core::model::QueueId::parse("V").expect("a queue id");
    assert_eq!(cfg.service_level.minutes(&a), 15);
    assert_eq!(cfg.service_level.minutes(&v), 10, "the example hall gives V its own target");

    let edit = |from: &'static str, to: &'static str| {
        support::config_dir(move |hall| {
            assert!(hall.contains(from), "hall.toml lacks {from}");
            hall.replace(from, to)
        })
    };
    let dir = edit("service_level_queue_min = { V = 10 }", "service_level_queue_min = { Q = 10 }");
    let errs = hallq::config::load_dir(dir.path()).expect_err("an unknown queue is refused").0;
    let e = errs.iter().find(|e| e.key == "hall.thresholds.service_level_queue_min.Q").expect("the key is named");
    assert_eq!(e.file, "hall.toml");
    assert!(e.line.is_some() && e.message.contains("no queue"), "{e:?}");
    let dir = edit("service_level_min = 15", "service_level_min = 0");
    let errs = hallq::config::load_dir(dir.path()).expect_err("zero minutes is refused").0;
    assert!(
        errs.iter().any(|e| e.key == "hall.thresholds.service_level_min" && e.message.contains("1 to 1440")),
        "{errs:?}"
    );
}
