//! 助企服务 through a real daemon (the example hall: E001-E003 with specialist zhuanyuan1
//! at window 10, E004-E006 with zhuanyuan2 at window 9, queue B): a kiosk's ticket by
//! credit code goes to the specialist's window while it is open, else to queue B, and back
//! to B when the window closes; the answer names no enterprise; the follow-up log for the
//! specialist and supervisors only; an admin's additions and specialists; the figures and
//! the CSV; the audit; a day's opening and a restart from its snapshot keeping all of it; the per-kiosk bound on code look-ups;
//! and no credit code in the data directory or the daemon's log.

use crate::support;

use serde_json::{json, Value};
use support::{Api, Daemon, Process, KIOSK};

/// E001's code (specialist zhuanyuan1), as typed and as a licence QR code's URL.
const E001: &str = "91510100MA6CAY4CLW";
const E001_URL: &str = "http://www.gsxt.gov.cn/index.html?uniscid=91510100MA6CAY4CLW&t=1";
/// A valid code nobody registered; the same with a wrong check character.
const UNREGISTERED: &str = "91350100M000100Y43";
const BAD_CHECK: &str = "91350100M000100Y44";
/// The code an admin registers during the test.
const ADDED: &str = "91110108551385082Q";

async fn enterprise_ticket(api: &Api, code: &str, service: &str) -> support::Reply {
    api.post("/api/v1/enterprise-tickets", Some(KIOSK), Some(json!({ "code": code, "service": service }))).await
}

fn entries_of(log: &Value) -> Vec<String> {
    let list = log["entries"].as_array().cloned().unwrap_or_default();
    list.iter().map(|e| e["kind"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_enterprise_ticket_finds_its_specialist_or_queue_b_and_the_registry_survives_a_restart() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let b_item = api.item_in("B").await;

    // The specialist is not at a window: queue B, and the answer names no enterprise.
    let first = enterprise_ticket(api, E001, &b_item).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!((first.body["queue"].as_str(), first.body["enterprise"]["line"].as_str()), (Some("B"), Some("queue")));
    assert!(first.body["enterprise"]["text"].as_str().is_some_and(|t| t.contains("已识别为本中心服务企业")));
    for leak in ["青川智造", E001, "E001", "zhuanyuan1", "陈静"] {
        assert!(!first.text.contains(leak), "the kiosk's answer shows {leak}: {}", first.text);
    }
    // Signed in at window 10: the next one (scanned as a URL) waits for window 10.
    let z1 = api.login("zhuanyuan1").await;
    api.window_ok(&z1, "10", "open", None).await;
    let personal = enterprise_ticket(api, E001_URL, &b_item).await;
    assert_eq!(personal.status, 201, "{}", personal.text);
    assert_eq!(personal.body["enterprise"]["window"], "10", "{}", personal.text);
    assert!(personal.body["enterprise"]["text"].as_str().is_some_and(|t| t.contains("10 号窗口")), "{}", personal.text);
    assert_eq!(personal.body["waits_for"], "10", "{}", personal.text);
    // Window 10 calls it before queue B's older ticket.
    let called = api.call_next(&z1, "10").await;
    assert_eq!(called["id"], personal.body["id"]);
    api.window_ok(&z1, "10", "serve", None).await;
    api.window_ok(&z1, "10", "done", Some(json!({ "outcome": "completed" }))).await;
    // One more waits for window 10; the window closes: it waits in B again, not stranded.
    let stranded = enterprise_ticket(api, E001, &b_item).await;
    assert_eq!(stranded.body["enterprise"]["line"], "personal");
    api.window_ok(&z1, "10", "close", None).await;
    let back = api.ticket(stranded.body["id"].as_str().unwrap()).await;
    assert_eq!(
        (back.body["status"].as_str(), back.body["queue"].as_str(), back.body["enterprise_line"]["kind"].as_str()),
        (Some("waiting"), Some("B"), Some("queue")),
        "{}",
        back.text
    );

    // Codes that are not registered, or not codes; the online channel; no kiosk at all.
    enterprise_ticket(api, UNREGISTERED, &b_item).await.assert_error(404, "unknown_enterprise");
    enterprise_ticket(api, BAD_CHECK, &b_item).await.assert_error(400, "bad_credit_code");
    enterprise_ticket(api, "13800138000", &b_item).await.assert_error(400, "bad_credit_code");
    let body = json!({ "code": E001, "service": b_item });
    let online = api.post("/api/v1/enterprise-tickets", Some("demo-online-1"), Some(body.clone())).await;
    online.assert_error(403, "forbidden");
    api.post("/api/v1/enterprise-tickets", None, Some(body)).await.assert_error(401, "unauthorized");

    follow_ups_and_roles(api, &z1).await;
    booking_with_the_specialist(api, &b_item).await;
    admin_changes(api).await;
    figures_and_audit(api).await;

    // The next day opens (its snapshot carries the registry's changes, the logs and the
    // figures), then a restart loads that snapshot: all of it is still there.
    d.set_clock(support::shanghai_ms(2026, 3, 11, 9, 0, 0));
    support::guard("the engine opens the next day", async {
        while api.get("/api/v1/hall", None).await.body["day"] != "2026-03-11" {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    let d = d.restart().await;
    let api = &d.api;
    let sup = api.login("supervisor").await;
    let yesterday = api.get("/api/v1/stats?day=2026-03-10", Some(&sup)).await;
    assert_eq!(yesterday.body["enterprises"]["visits"]["zhuanyuan1"], 1, "{}", yesterday.text);
    let z2 = api.login("zhuanyuan2").await;
    let added = api.get("/api/v1/enterprises/E100", Some(&z2)).await;
    assert_eq!((added.status, added.body["specialist"].as_str()), (200, Some("zhuanyuan2")), "{}", added.text);
    let log = api.get("/api/v1/enterprises/E001", Some(&sup)).await;
    assert_eq!(entries_of(&log.body).iter().filter(|k| *k == "visit").count(), 1, "{}", log.text);
    assert!(entries_of(&log.body).contains(&"project".to_string()), "{}", log.text);
    let again = enterprise_ticket(api, ADDED, &b_item).await;
    assert_eq!((again.status, again.body["enterprise"]["line"].as_str()), (201, Some("queue")), "{}", again.text);
}

/// The log is its specialist's and the supervisors'; follow-ups are bounded.
async fn follow_ups_and_roles(api: &Api, z1: &str) {
    let mine = api.get("/api/v1/enterprises", Some(z1)).await;
    let ids: Vec<&str> = mine.body["enterprises"].as_array().unwrap().iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids, ["E001", "E002", "E003"], "{}", mine.text);
    assert!(!mine.text.contains(E001), "{}", mine.text);
    let z2 = api.login("zhuanyuan2").await;
    api.get("/api/v1/enterprises/E001", Some(&z2)).await.assert_error(403, "forbidden");
    let admin = api.login("admin").await;
    api.get("/api/v1/enterprises/E001", Some(&admin)).await.assert_error(403, "forbidden");
    api.get("/api/v1/enterprises/E001", Some(KIOSK)).await.assert_error(403, "forbidden");
    api.get("/api/v1/enterprises/E001", None).await.assert_error(401, "unauthorized");

    let path = "/api/v1/enterprises/E001/follow-ups";
    let add = |kind: &str, note: &str| json!({ "kind": kind, "date": "2026-03-01", "note": note });
    let ok = api.post(path, Some(z1), Some(add("project", "项目立项，总投资约2亿元"))).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(entries_of(&ok.body), ["visit", "project"], "the visit is today's, the project March's: {}", ok.text);
    api.post(path, Some(&z2), Some(add("approval", "审批"))).await.assert_error(403, "forbidden");
    api.post(path, Some(z1), Some(add("bribe", "x"))).await.assert_error(400, "bad_kind");
    api.post(path, Some(z1), Some(add("approval", &"长".repeat(501)))).await.assert_error(400, "note_required");
    let bad_date = json!({ "kind": "approval", "date": "2030-01-01", "note": "审批" });
    api.post(path, Some(z1), Some(bad_date)).await.assert_error(400, "bad_follow_up_date");
    api.post("/api/v1/enterprises/E999/follow-ups", Some(z1), Some(add("approval", "x")))
        .await
        .assert_error(404, "unknown_enterprise");
    let sup = api.login("supervisor").await;
    let by_sup = api.post(path, Some(&sup), Some(add("referral", "转介至发改局"))).await;
    assert_eq!(by_sup.status, 201, "{}", by_sup.text);
}

/// A booking with the enterprise's credit code is at its specialist's window (10).
async fn booking_with_the_specialist(api: &Api, b_item: &str) {
    let slots = api.get("/api/v1/appointments/slots?day=2026-03-11", None).await;
    let slot = slots.body["slots"][0]["slot"].as_str().expect("a slot tomorrow").to_string();
    let book = |code: &str, phone: &str| json!({ "service": b_item, "day": "2026-03-11", "slot": slot, "phone": phone, "credit_code": code });
    let booked = api.post("/api/v1/appointments", None, Some(book(E001_URL, "13900000001"))).await;
    assert_eq!((booked.status, booked.body["window"].as_str()), (201, Some("10")), "{}", booked.text);
    assert!(!booked.text.contains(E001) && !booked.text.contains("青川智造"), "{}", booked.text);
    let unknown = api.post("/api/v1/appointments", None, Some(book(UNREGISTERED, "13900000002"))).await;
    unknown.assert_error(404, "unknown_enterprise");
    let bad = api.post("/api/v1/appointments", None, Some(book(BAD_CHECK, "13900000002"))).await;
    bad.assert_error(400, "bad_credit_code");
}

/// An admin adds an enterprise and names its specialist; nobody else may.
async fn admin_changes(api: &Api) {
    let admin = api.login("admin").await;
    let sup = api.login("supervisor").await;
    let body = |id: &str, code: &str, specialist: &str| json!({ "id": id, "name": "新落户科技有限公司", "credit_code": code, "specialist": specialist });
    let path = "/api/v1/admin/enterprises";
    api.post(path, Some(&sup), Some(body("E100", ADDED, "zhuanyuan1"))).await.assert_error(403, "forbidden");
    api.post(path, Some(&admin), Some(body("E100", BAD_CHECK, "zhuanyuan1")))
        .await
        .assert_error(400, "bad_credit_code");
    api.post(path, Some(&admin), Some(body("E100", ADDED, "supervisor"))).await.assert_error(400, "bad_specialist");
    api.post(path, Some(&admin), Some(body("E100", E001, "zhuanyuan1"))).await.assert_error(409, "enterprise_exists");
    let added = api.post(path, Some(&admin), Some(body("E100", ADDED, "zhuanyuan1"))).await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert!(!added.text.contains(ADDED), "{}", added.text);
    let set = "/api/v1/admin/enterprises/E100/specialist";
    api.post(set, Some(&sup), Some(json!({ "specialist": "zhuanyuan2" }))).await.assert_error(403, "forbidden");
    let moved = api.post(set, Some(&admin), Some(json!({ "specialist": "zhuanyuan2" }))).await;
    assert_eq!((moved.status, moved.body["specialist"].as_str()), (200, Some("zhuanyuan2")), "{}", moved.text);
}

/// The day's figures, the CSV and the audit trail.
async fn figures_and_audit(api: &Api) {
    let sup = api.login("supervisor").await;
    let stats = api.get("/api/v1/stats", Some(&sup)).await;
    let e = &stats.body["enterprises"];
    assert_eq!((e["tickets"].as_u64(), e["personal"].as_u64()), (Some(3), Some(2)), "{}", stats.text);
    assert_eq!(e["visits"]["zhuanyuan1"], 1, "{}", stats.text);
    let csv = api.get("/api/v1/reports/enterprises.csv", Some(&sup)).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv.text.contains("zhuanyuan1,陈静,1"), "{}", csv.text);
    assert!(csv.text.contains("合计,,1,3,2,0.667"), "{}", csv.text);
    let z1 = api.login("zhuanyuan1").await;
    api.get("/api/v1/reports/enterprises.csv", Some(&z1)).await.assert_error(403, "forbidden");
    let admin = api.login("admin").await;
    let audit = api.get("/api/v1/audit?date=2026-03-10", Some(&admin)).await;
    for action in ["add_enterprise", "set_specialist", "follow_up"] {
        assert!(audit.text.contains(action), "no {action} in the audit: {}", audit.text);
    }
}

/// The personal line and a paused window (issue 17 follow-up point 2): the ticket waits for
/// window 10 through a pause within `personal_hold_minutes` (10 in the example hall), then
/// goes back to queue B at its place, number unchanged, and says so; after a restart too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_personal_line_goes_back_to_queue_b_when_the_specialists_pause_outlasts_the_hold() {
    let t0 = support::default_start_ms();
    let d = Daemon::start_with_clock(t0).await;
    let api = &d.api;
    let b_item = api.item_in("B").await;
    let older = api.issue(&b_item).await;
    let z1 = api.login("zhuanyuan1").await;
    api.window_ok(&z1, "10", "open", None).await;
    let personal = enterprise_ticket(api, E001, &b_item).await;
    assert_eq!(
        (personal.body["enterprise_line"]["kind"].as_str(), personal.body["waits_for"].as_str()),
        (Some("personal"), Some("10"))
    );
    let id = personal.body["id"].as_str().expect("an id").to_string();
    api.window_ok(&z1, "10", "pause", None).await;
    d.set_clock(t0 + 9 * 60_000);
    let held = api.ticket(&id).await;
    assert_eq!(held.body["enterprise_line"]["kind"], "personal", "within the hold: {}", held.text);
    d.set_clock(t0 + 10 * 60_000 + 1_000);
    let back = support::guard("the ticket back in queue B", async {
        loop {
            let r = api.ticket(&id).await;
            if r.body["enterprise_line"]["kind"] == "queue" {
                return r;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(
        (back.body["status"].as_str(), back.body["queue"].as_str(), &back.body["waits_for"], &back.body["number"]),
        (Some("waiting"), Some("B"), &Value::Null, &personal.body["number"]),
        "{}",
        back.text
    );
    let d = d.restart().await;
    let api = &d.api;
    assert_eq!(api.ticket(&id).await.body["enterprise_line"]["kind"], "queue", "after a restart");
    // At its place by issue time: a window serving B calls the older ticket first.
    let z1 = api.login("zhuanyuan1").await;
    api.window_ok(&z1, "10", "resume", None).await;
    assert_eq!(api.call_next(&z1, "10").await["id"], older["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kiosk_looks_up_at_most_its_bound_of_credit_codes() {
    // `[hall.limits] enterprise_code_burst` bounds the look-ups: 3 here, not the default 5.
    let dir = support::config_dir(|h| h.replace("enterprise_code_burst = 5", "enterprise_code_burst = 3"));
    let config = hallq::config::load_dir(dir.path()).expect("the example hall, 3 look-ups");
    assert_eq!(config.limits.enterprise_codes.burst, 3);
    let data = std::sync::Arc::new(tempfile::tempdir().expect("a temp dir"));
    let clock = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(support::default_start_ms()));
    let d = Daemon::start_config(data, Some(clock), config).await;
    let api = &d.api;
    let b_item = api.item_in("B").await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(enterprise_ticket(api, UNREGISTERED, &b_item).await.status);
    }
    assert_eq!(answers, [404; 3]);
    // Ten seconds on, the kiosk may issue again (one per 2 s) but not look up a code.
    d.set_clock(support::default_start_ms() + 10_000);
    let refused = enterprise_ticket(api, E001, &b_item).await;
    refused.assert_error(429, "rate_limited");
    assert!(refused.text.contains("credit codes"), "{}", refused.text);
    assert_eq!(api.issue_with(json!({ "service": b_item })).await.status, 201, "ordinary tickets still issue");
    // The second kiosk has its own bound.
    let other =
        api.post("/api/v1/enterprise-tickets", Some("demo-kiosk-2"), Some(json!({ "code": E001, "service": b_item })));
    assert_eq!(other.await.status, 201);
}

/// Every file under `dir`, read whole.
fn files_under(dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("a readable directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_credit_code_reaches_the_data_directory_or_the_daemons_log() {
    let data = tempfile::tempdir().expect("a temp dir");
    let config = support::config_dir(support::without_rate_limits);
    let mut daemon = Process::spawn_with(data.path(), config, "127.0.0.1:0", "debug", &[]).await;
    let api = daemon.api.clone();
    let b_item = api.item_in("B").await;
    assert_eq!(enterprise_ticket(&api, E001_URL, &b_item).await.status, 201);
    assert_eq!(enterprise_ticket(&api, UNREGISTERED, &b_item).await.status, 404);
    let admin = api.login("admin").await;
    let body = json!({ "id": "E100", "name": "新落户科技有限公司", "credit_code": ADDED, "specialist": "zhuanyuan1" });
    assert_eq!(api.post("/api/v1/admin/enterprises", Some(&admin), Some(body)).await.status, 201);
    assert_eq!(enterprise_ticket(&api, ADDED, &b_item).await.status, 201, "the added code is known by its hash");
    assert!(daemon.terminate().await.success());

    let log = daemon.log_text();
    assert!(log.contains("an admin added an enterprise"), "the test did not see the addition in the log:\n{log}");
    let mut files = Vec::new();
    files_under(data.path(), &mut files);
    assert!(files.iter().any(|(_, b)| !b.is_empty()), "the data directory is empty");
    for code in [E001, UNREGISTERED, ADDED] {
        assert!(!log.contains(code), "a credit code is in the daemon's log");
        for (path, bytes) in &files {
            let found = bytes.windows(code.len()).any(|w| w == code.as_bytes());
            assert!(!found, "a credit code is in {path}");
        }
    }
}
