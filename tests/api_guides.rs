//! 全程领办 through a real daemon (the example hall: guide1 and guide2, three escorts per
//! guide; here with the escort priority `elderly`): a guide's assisted issue (no visitor's
//! key in the answer, audited to the guide), escorts by number and their release, the
//! bound and the other refusals; the roles (a guide is no clerk and no supervisor, a clerk
//! no guide); the guide's visitors with place, wait and window; the figures and the CSV;
//! and a restart that keeps the escorts and their priority.

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use crate::support;

use serde_json::{json, Value};
use support::{shanghai_ms, Api, Daemon};

async fn assist(api: &Api, token: &str, body: Value) -> support::Reply {
    api.post("/api/v1/guide/tickets", Some(token), Some(body)).await
}

async fn escort(api: &Api, token: &str, number: &str) -> support::Reply {
    api.post("/api/v1/guide/escorts", Some(token), Some(json!({ "number": number }))).await
}

async fn release(api: &Api, token: &str, number: &str) -> support::Reply {
    api.post(&format!("/api/v1/guide/escorts/{number}/release"), Some(token), None).await
}

/// The guide's page: their visitors' numbers and statuses, in its order.
async fn visitors(api: &Api, token: &str) -> Vec<(String, String)> {
    let page = api.get("/api/v1/guide", Some(token)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let list = page.body["visitors"].as_array().expect("visitors");
    list.iter()
        .map(|v| (v["number"].as_str().unwrap_or("").into(), v["status"].as_str().unwrap_or("").into()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_guide_issues_and_escorts_within_the_bound_and_a_restart_keeps_the_escorts() {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    config.setup.guides.escort_priority = Some(hallq::core::model::PriorityClass::parse("elderly").expect("a class"));
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let clock = Arc::new(AtomicI64::new(shanghai_ms(2026, 11, 27, 10, 0, 0)));
    let d = Daemon::start_config(data, Some(clock), config).await;
    let api = &d.api;
    let g1 = api.login("guide1").await;
    let g2 = api.login("guide2").await;
    roles(api, &g1).await;

    // An assisted issue under escort: the hall's escort class, no visitor's key.
    let first = assist(api, &g1, json!({ "service": "SC-0001", "escort": true })).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let t1 = &first.body["ticket"];
    assert_eq!((t1["status"].as_str(), t1["priority"].as_str()), (Some("waiting"), Some("elderly")), "{t1}");
    assert!(t1.get("key").is_none() && !first.text.contains("?k="), "a guide's answer has no visitor's key: {t1}");
    let n1 = t1["number"].as_str().expect("a number").to_string();
    let plain = assist(api, &g2, json!({ "service": "SC-0001" })).await;
    assert_eq!((plain.status, plain.body["ticket"]["priority"].clone()), (201, Value::Null), "{}", plain.text);
    assist(api, &g1, json!({ "service": "nope" })).await.assert_error(400, "unknown_service");
    assist(api, &g1, json!({ "service": "SC-0001", "vip": true })).await.assert_error(400, "bad_json");

    // Escorts by number up to the bound of three; the others' refusals.
    let (a, b, c) = (api.issue("SC-0001").await, api.issue("SC-0001").await, api.issue("SC-0001").await);
    let num = |t: &Value| t["number"].as_str().expect("a number").to_string();
    let took = escort(api, &g1, &num(&a).to_lowercase()).await;
    assert_eq!((took.status, took.body["ticket"]["priority"].as_str()), (200, Some("elderly")), "{}", took.text);
    assert_eq!(escort(api, &g1, &num(&b)).await.status, 200);
    escort(api, &g1, &num(&c)).await.assert_error(409, "escorts_full");
    escort(api, &g2, &num(&a)).await.assert_error(409, "escorted_by_other");
    release(api, &g2, &num(&a)).await.assert_error(409, "not_escorted");
    escort(api, &g1, "A9999").await.assert_error(404, "unknown_number");
    escort(api, &g1, &"A".repeat(17)).await.assert_error(400, "bad_number");
    release(api, &g1, &"A".repeat(17)).await.assert_error(400, "bad_number");
    let listed = visitors(api, &g1).await;
    assert_eq!(listed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), [n1.as_str(), &num(&a), &num(&b)]);
    assert!(listed.iter().all(|(_, s)| s == "waiting"), "{listed:?}");

    // A clerk calls the first escorted visitor; the guide's page says which window.
    let clerk1 = api.login("clerk1").await;
    api.window_ok(&clerk1, "1", "open", None).await;
    let called = api.call_next(&clerk1, "1").await;
    assert_eq!(called["number"], n1.as_str());
    let page = api.get("/api/v1/guide", Some(&g1)).await;
    let v0 = &page.body["visitors"][0];
    assert_eq!((v0["status"].as_str(), v0["window"].as_str()), (Some("called"), Some("1")), "{}", page.text);
    // Window 1 owes the ordinary line two calls after its priority call (priority_ratio).
    assert_eq!(page.body["visitors"][1]["ahead"], 2, "{}", page.text);
    assert!(page.body["visitors"][1]["eta_minutes"].is_u64(), "{}", page.text);
    assert_eq!((page.body["live"].as_u64(), page.body["escorts_max"].as_u64()), (Some(3), Some(3)));
    let let_go = release(api, &g1, &num(&b)).await;
    assert_eq!(let_go.status, 200, "{}", let_go.text);
    assert_eq!(escort(api, &g1, &num(&c)).await.status, 200, "room again after a release");

    figures(api, &n1).await;
    let d = d.restart().await;
    let api = &d.api;
    let g1 = api.login("guide1").await;
    let listed = visitors(api, &g1).await;
    assert_eq!(listed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), [n1.as_str(), &num(&a), &num(&c)]);
    assert_eq!(listed[0].1, "called");
    let t = api.ticket(c["id"].as_str().expect("an id")).await;
    assert_eq!(t.body["priority"], "elderly", "the escort's class is in the log, not the config");
    escort(api, &g1, &num(&b)).await.assert_error(409, "escorts_full");
    let out = api.post("/api/v1/logout", Some(&g1), None).await;
    assert_eq!(out.status, 200, "a guide logs out: {}", out.text);
}

/// A guide is no clerk, supervisor or kiosk; a clerk, a supervisor or a kiosk is no guide.
async fn roles(api: &Api, guide: &str) {
    api.window(guide, "1", "open", None).await.assert_error(403, "forbidden");
    api.window(guide, "1", "next", None).await.assert_error(403, "forbidden");
    for path in ["/api/v1/windows/1", "/api/v1/stats", "/api/v1/escalations", "/api/v1/audit", "/api/v1/supervision"] {
        api.get(path, Some(guide)).await.assert_error(403, "forbidden");
    }
    api.post("/api/v1/tickets", Some(guide), Some(json!({ "service": "SC-0001" })))
        .await
        .assert_error(403, "forbidden");
    let clerk = api.login("clerk2").await;
    let sup = api.login("supervisor").await;
    for token in [clerk.as_str(), sup.as_str(), support::KIOSK] {
        assist(api, token, json!({ "service": "SC-0001" })).await.assert_error(403, "forbidden");
        escort(api, token, "A001").await.assert_error(403, "forbidden");
        release(api, token, "A001").await.assert_error(403, "forbidden");
        api.get("/api/v1/guide", Some(token)).await.assert_error(403, "forbidden");
    }
    api.get("/api/v1/guide", None).await.assert_error(401, "unauthorized");
    api.get("/api/v1/reports/guides.csv", Some(guide)).await.assert_error(403, "forbidden");
}

/// The day's figures per guide, in the stats and the CSV; the audit names the guide.
async fn figures(api: &Api, n1: &str) {
    let sup = api.login("supervisor").await;
    let stats = api.get("/api/v1/stats", Some(&sup)).await;
    let g = &stats.body["guides"];
    assert_eq!((g[0]["guide"].as_str(), g[0]["display_name"].as_str()), (Some("guide1"), Some("陈静")), "{g}");
    let counts = |i: usize| ["assisted", "escorted", "released", "waits"].map(|k| g[i][k].as_u64().unwrap_or(99));
    assert_eq!(counts(0), [1, 4, 1, 1], "{g}");
    assert_eq!(counts(1), [1, 0, 0, 0], "{g}");
    assert!(g[0]["wait_avg_minutes"].is_number(), "{g}");
    let csv = api.get("/api/v1/reports/guides.csv", Some(&sup)).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(lines[0].contains("导办") && lines[0].contains("全程领办"), "{}", csv.text);
    assert!(lines[1].starts_with("2026-11-27,guide1,陈静,1,4,1,1,"), "{}", csv.text);
    let audit = api.get("/api/v1/audit", Some(&sup)).await;
    let entries = audit.body["entries"].as_array().expect("entries");
    let assisted = entries.iter().find(|e| e["action"] == "assist" && e["ticket"] == n1).expect("the assist");
    assert_eq!((assisted["user"].as_str(), assisted["role"].as_str()), (Some("guide1"), Some("guide")), "{assisted}");
    assert!(entries.iter().any(|e| e["action"] == "release_escort" && e["user"] == "guide1"), "{}", audit.text);
}

/// A visitor without a phone gets paper: the guide sends the assisted ticket to a kiosk's
/// printer, and the fake printer on loopback receives the number and the status QR, which
/// opens that ticket's own status page; the guide's answer carries no visitor's key. A
/// kiosk without a printer, or one that does not exist, is refused before anything is
/// issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_assisted_ticket_prints_at_the_kiosk_the_guide_names_and_only_there() {
    use crate::printer_support::{FakePrinter, READY};
    let mut printer = FakePrinter::start(READY).await;
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let kiosk_id = crate::printer_support::printer_at_kiosk1(&mut config, printer.addr, 0);
    let other = config.kiosks.iter().find(|k| k.printer.is_none()).expect("a kiosk with no printer").id.clone();
    let d = Daemon::start_config(Arc::new(tempfile::tempdir().expect("a temp dir")), None, config).await;
    let api = &d.api;
    let guide = api.login("guide1").await;
    let page = api.get("/api/v1/guide", Some(&guide)).await;
    let printers = page.body["printers"].as_array().expect("the printers a guide may use");
    assert_eq!(printers.len(), 1, "only kiosk1 has a printer: {}", page.text);
    assert_eq!(printers[0]["kiosk"], kiosk_id.as_str());
    let item = api.item_in("A").await;

    for (print_at, why) in [(other.as_str(), "a kiosk with no printer"), ("nosuch", "no such kiosk")] {
        let r = assist(api, &guide, json!({ "service": item, "print_at": print_at })).await;
        r.assert_error(400, "no_printer");
        assert_eq!(api.waiting_in("A").await, 0, "{why}: nothing issued");
    }

    let r = assist(api, &guide, json!({ "service": item, "print_at": kiosk_id, "escort": false })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["print"]["status"], "queued", "{}", r.text);
    let number = r.body["ticket"]["number"].as_str().expect("a number").to_string();
    let job = printer.next_job().await;
    assert!(job.text().contains(&number), "the paper shows {number}: {}", job.text());
    let qr = String::from_utf8(job.qr.clone().expect("a QR code")).expect("a URL");
    let id = r.body["ticket"]["id"].as_str().expect("the ticket's id");
    let key = qr.split_once("?k=").map(|(_, k)| k.to_string()).expect("the QR carries the visitor's key");
    assert!(qr.starts_with(&format!("http://{}/t/{id}?k=", d.addr)), "the QR opens this ticket's page: {qr}");
    assert!(!r.text.contains(&key), "the guide's answer carries no visitor's key: {}", r.text);
    // The key on paper is the visitor's own: it opens what only the key's holder may.
    let own = api.get(&format!("/api/v1/tickets/{id}/qr.svg?k={key}"), None).await;
    assert_eq!(own.status, 200, "the printed key is the ticket's: {}", own.text);
    // One character changed: never the key itself (a key that starts with '0' gets a '1').
    let first = if key.starts_with('0') { '1' } else { '0' };
    let forged = api.get(&format!("/api/v1/tickets/{id}/qr.svg?k={first}{}", &key[1..]), None).await;
    assert_ne!(forged.status, 200, "a forged key is not");
}
