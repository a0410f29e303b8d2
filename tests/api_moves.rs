//! Issue 17 §4 through a real daemon (the example hall, window 5 under clerk5): store-next
//! armed survives a restart and calls the next in the finish's own step; `done-next`
//! answers the ticket finished and the one called; a walk-up's ticket is called at once
//! and refused, naming the ticket, while one has waited past `max_wait_min`; the figures;
//! the attacks (a missing flag, another clerk, a missing or over-long item); and the
//! kiosk's per-person limits: an ID card required, its check digit checked, the day's
//! tickets and the no-show wait refused with plain words, and the ID number nowhere in
//! the data directory or any answer.

use crate::support;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use hallq::core::clerk_moves::PersonLimits;
use serde_json::{json, Value};
use support::{default_start_ms, Api, Daemon};

async fn window_5(api: &Api, clerk: &str) -> Value {
    api.get("/api/v1/windows/5", Some(clerk)).await.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_next_survives_a_restart_and_calls_the_next_in_the_finishs_step() {
    let d = Daemon::start_with_clock(default_start_ms()).await;
    let api = &d.api;
    let clerk5 = api.login("clerk5").await;
    let clerk1 = api.login("clerk1").await;
    api.window_ok(&clerk5, "5", "open", None).await;
    // Store-next must not idle: armed at an empty queue, the window calls the first ticket
    // issued, in the issue's step, and the lobby hears the call.
    // The snapshot first: a display whose feed is not yet set up when the call comes would
    // find the call in its snapshot instead of as a call.
    let mut display = api.display(None).await;
    display.expect("snapshot").await;
    api.window_ok(&clerk5, "5", "store-next", Some(json!({ "armed": true }))).await;
    let first = api.issue("SC-0001").await;
    let (call, _) = display.until("call", |m| m["window"] == "5").await;
    assert_eq!(call["number"], first["number"], "{call}");
    let w = window_5(api, &clerk5).await;
    assert_eq!((w["window"]["state"].as_str(), &w["ticket"]["id"]), (Some("calling"), &first["id"]), "{w}");
    api.window_ok(&clerk5, "5", "no-show", None).await;
    api.window_ok(&clerk5, "5", "store-next", Some(json!({ "armed": false }))).await;
    display.close().await;
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(api.issue("SC-0001").await["id"].as_str().expect("an id").to_string());
        }
        v
    };
    api.window(&clerk5, "5", "store-next", None).await.assert_error(400, "bad_store_next");
    api.window(&clerk5, "5", "store-next", Some(json!({ "armed": "yes" }))).await.assert_error(400, "bad_json");
    api.window(&clerk1, "5", "store-next", Some(json!({ "armed": true }))).await.assert_error(403, "not_your_window");
    assert_eq!(window_5(api, &clerk5).await["window"]["store_next"], false, "refusals changed nothing");
    let armed = api.window_ok(&clerk5, "5", "store-next", Some(json!({ "armed": true }))).await;
    assert_eq!(armed["store_next"], true, "{armed}");
    assert_eq!(window_5(api, &clerk5).await["ticket"]["id"], ids[0].as_str(), "arming an idle window calls");

    let d = d.restart().await;
    let api = &d.api;
    let clerk5 = api.login("clerk5").await;
    assert_eq!(window_5(api, &clerk5).await["window"]["store_next"], true, "armed after a restart");

    api.window_ok(&clerk5, "5", "serve", None).await;
    let done = api.window_ok(&clerk5, "5", "done", None).await;
    assert_eq!(done["id"], ids[0].as_str(), "the answer is the finished ticket");
    let w = window_5(api, &clerk5).await;
    assert_eq!(
        (w["window"]["state"].as_str(), w["ticket"]["id"].as_str()),
        (Some("calling"), Some(ids[1].as_str())),
        "{w}"
    );

    // Disarmed, done-next still finishes and calls in one command.
    api.window_ok(&clerk5, "5", "store-next", Some(json!({ "armed": false }))).await;
    api.window_ok(&clerk5, "5", "serve", None).await;
    let both = api.window_ok(&clerk5, "5", "done-next", None).await;
    assert_eq!(
        (both["done"]["id"].as_str(), both["next"]["id"].as_str()),
        (Some(ids[1].as_str()), Some(ids[2].as_str()))
    );
    api.window_ok(&clerk5, "5", "serve", None).await;
    let last = api.window_ok(&clerk5, "5", "done-next", Some(json!({ "outcome": "incomplete" }))).await;
    assert_eq!((last["done"]["status"].as_str(), &last["next"]), (Some("done"), &Value::Null), "{last}");
    let r = api.window(&clerk5, "5", "done-next", Some(json!({ "outcome": "not_done", "reason": "policy" }))).await;
    r.assert_error(400, "bad_outcome");

    walk_ups(&d, &clerk5).await;
    let sup = api.login("supervisor").await;
    let stats = api.get("/api/v1/stats", Some(&sup)).await;
    let total = &stats.body["total"];
    assert_eq!(
        (total["store_next_calls"].as_u64(), total["walk_direct"].as_u64()),
        (Some(4), Some(1)),
        "{}",
        stats.text
    );
    assert_eq!(stats.body["windows"]["5"]["store_next_calls"], 4, "{}", stats.text);
}

/// A walk-up's ticket at window 5: its attacks, the call at once, the refusal behind an
/// aged ticket.
async fn walk_ups(d: &Daemon, clerk5: &str) {
    let api = &d.api;
    api.window(clerk5, "5", "walk-direct", None).await.assert_error(400, "bad_walk_direct");
    let long = json!({ "service": "S".repeat(65) });
    api.window(clerk5, "5", "walk-direct", Some(long)).await.assert_error(400, "bad_walk_direct");
    let other = api.item_in("B").await;
    let r = api.window(clerk5, "5", "walk-direct", Some(json!({ "service": other }))).await;
    assert!(r.status == 400 || r.status == 404, "a queue window 5 does not serve: {}", r.text);
    let walked = api.window_ok(clerk5, "5", "walk-direct", Some(json!({ "service": "SC-0001" }))).await;
    assert_eq!(walked["status"], "called", "{walked}");
    api.window_ok(clerk5, "5", "no-show", None).await;
    let aged = api.issue("SC-0001").await;
    d.set_clock(default_start_ms() + 40 * 60_000);
    let r = api.window(clerk5, "5", "walk-direct", Some(json!({ "service": "SC-0001" }))).await;
    r.assert_error(409, "walk_direct_behind_aged");
    let number = aged["number"].as_str().expect("a number");
    assert!(r.text.contains(number), "the refusal names {number}: {}", r.text);
}

/// An ID number with a right check digit, and the same number with a wrong one.
const ID: &str = "11010519491231002X";
const ID_BAD: &str = "110105194912310021";
const ID_OTHER: &str = "440524188001010014";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_kiosk_limits_tickets_per_person_by_a_hash_of_the_id_card_and_keeps_no_number() {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    config.setup.person_limits =
        PersonLimits { tickets_per_day: Some(2), no_shows_before_wait: Some(1), no_show_wait_min: 30 };
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let clock = Arc::new(AtomicI64::new(default_start_ms()));
    let d = Daemon::start_config(data.clone(), Some(clock), config).await;
    let api = &d.api;
    assert_eq!(api.catalog().await["limits"]["id_card"], true);

    api.issue_with(json!({ "service": "SC-0001" })).await.assert_error(400, "id_card_required");
    let r = api.issue_with(json!({ "service": "SC-0001", "id_card": ID_BAD })).await;
    r.assert_error(400, "bad_id_card");
    assert!(!r.text.contains(ID_BAD), "a refusal never repeats the number: {}", r.text);
    let first = api.issue_with(json!({ "service": "SC-0001", "id_card": ID.to_lowercase() })).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert!(!first.text.contains(ID), "{}", first.text);
    api.issue_with(json!({ "service": "SC-0001", "id_card": ID_OTHER })).await;

    // The first person misses the call: no new ticket until 30 minutes later, said plainly.
    let clerk5 = api.login("clerk5").await;
    api.window_ok(&clerk5, "5", "open", None).await;
    assert_eq!(api.call_next(&clerk5, "5").await["id"], first.body["id"]);
    api.window_ok(&clerk5, "5", "no-show", None).await;
    let r = api.issue_with(json!({ "service": "SC-0001", "id_card": ID })).await;
    r.assert_error(409, "person_must_wait");
    assert!(r.text.contains("10:30"), "the kiosk says from when: {}", r.text);
    // The kiosk reads the wait from fields, not from the English message.
    let e = &r.body["error"];
    assert_eq!((e["until"].as_str(), e["no_shows"].as_u64()), (Some("10:30"), Some(1)), "{}", r.text);
    d.set_clock(default_start_ms() + 30 * 60_000);
    let again = api.issue_with(json!({ "service": "SC-0001", "id_card": ID })).await;
    assert_eq!(again.status, 201, "{}", again.text);
    let r = api.issue_with(json!({ "service": "SC-0001", "id_card": ID })).await;
    r.assert_error(409, "person_daily_limit");
    assert_eq!(r.body["error"]["limit"], 2, "{}", r.text);
    api.issue_with(json!({ "service": "SC-0001", "id_card": ID })).await.assert_error(409, "person_daily_limit");
    let sup = api.login("supervisor").await;
    let stats = api.get("/api/v1/stats", Some(&sup)).await.body;
    assert_eq!(stats["total"]["id_checked"], 3);
    // Refusals log nothing; the edge counts them: today's in the stats, all on /metrics.
    assert_eq!(stats["persons"], json!({ "refused_daily_limit": 2, "refused_must_wait": 1 }), "{stats}");
    let m = api.get("/metrics", Some(support::METRICS_TOKEN)).await.text;
    for line in
        ["hallq_person_refusals_total{reason=\"daily_limit\"} 2", "hallq_person_refusals_total{reason=\"must_wait\"} 1"]
    {
        assert!(m.lines().any(|l| l == line), "no {line} in /metrics");
    }

    d.stop().await;
    let mut found = Vec::new();
    let mut files = 0;
    for entry in walk(data.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        files += 1;
        for id in [ID, ID_OTHER] {
            if bytes.windows(id.len()).any(|w| w == id.as_bytes()) {
                found.push((entry.display().to_string(), id));
            }
        }
    }
    assert!(files > 0, "the data directory has files");
    assert!(found.is_empty(), "ID numbers in the data directory: {found:?}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
