//! hall.toml changed in the middle of a service day (issue 14, Medium 12): a real daemon
//! restarts over the same data directory with a window, a queue or an item removed that
//! today's log names. It starts, and the tickets tied to what is gone wait in a queue that
//! serves them, at their places; where none can, the start is refused naming the key.

use crate::support;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use serde_json::{json, Value};
use support::{config_dir, default_start_ms, without_rate_limits, Daemon};
use tempfile::TempDir;

/// The `[[name]]` table of hall.toml (or services.toml) whose `key = "value"` line is
/// `line`, removed with its comment lines up to the next table.
fn without_table(text: &str, name: &str, line: &str) -> String {
    let header = format!("[[{name}]]");
    let mut out: Vec<&str> = Vec::new();
    let mut table: Vec<&str> = Vec::new();
    let mut found = false;
    for l in text.lines().chain(std::iter::once("[[end]]")) {
        if l.starts_with("[[") || l.starts_with('[') {
            let drop = table.first() == Some(&header.as_str()) && table.contains(&line);
            found |= drop;
            if !drop {
                out.extend(&table);
            }
            table.clear();
        }
        table.push(l);
    }
    assert!(found, "no {header} with {line}");
    out.join("\n") + "\n"
}

/// The example hall with `edit` applied to hall.toml and `services` to services.toml.
fn hall(edit: impl Fn(String) -> String, services: impl Fn(String) -> String) -> TempDir {
    let dir = config_dir(|h| edit(without_rate_limits(h)));
    let path = dir.path().join("services.toml");
    let text = std::fs::read_to_string(&path).expect("services.toml");
    std::fs::write(&path, services(text)).expect("write services.toml");
    dir
}

fn load(dir: &TempDir) -> hallq::config::Config {
    hallq::config::load_dir(dir.path()).unwrap_or_else(|e| panic!("the edited hall loads: {e}"))
}

async fn start(data: Arc<TempDir>, clock: Arc<AtomicI64>, dir: &TempDir) -> Daemon {
    Daemon::start_config(data, Some(clock), load(dir)).await
}

/// hall.toml without window 5 (its table, its evaluator, clerk5's claim on it).
fn without_window_5(h: String) -> String {
    let h = without_table(&h, "window", "id = \"5\"");
    let h = without_table(&h, "evaluator", "window = \"5\"");
    h.replace("windows = [\"5\"]", "windows = [\"1\"]")
}

/// hall.toml without queue Z and window 12, which served only Z (its evaluator and the
/// kiosk lists naming it moved to window 1, and stuck matters, `[hall.escalation]`, to A).
fn without_queue_z(h: String) -> String {
    let h = without_table(&h, "queue", "id = \"Z\"");
    let h = without_table(&h, "window", "id = \"12\"");
    let h = without_table(&h, "evaluator", "window = \"12\"");
    let h = h.replace("\nqueue = \"Z\"\n", "\nqueue = \"A\"\n");
    h.replace("windows = [\"12\"]", "windows = [\"1\"]")
}

async fn status(d: &Daemon, id: &str) -> Value {
    let t = d.api.ticket(id).await;
    assert_eq!(t.status, 200, "{}", t.text);
    t.body
}

/// Window 1 calls the next ticket and finishes it; the number it called.
async fn next_number(d: &Daemon, clerk: &str) -> String {
    let called = d.api.call_next(clerk, "1").await;
    d.api.window_ok(clerk, "1", "serve", None).await;
    d.api.window_ok(clerk, "1", "done", Some(json!({ "outcome": "completed" }))).await;
    called["number"].as_str().unwrap_or_else(|| panic!("a call: {called}")).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_window_removed_mid_day_starts_and_its_tickets_wait_in_their_queue_at_their_places() {
    let clock = Arc::new(AtomicI64::new(default_start_ms()));
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let full = hall(|h| h, |s| s);
    let d = start(data.clone(), clock.clone(), &full).await;
    let item = d.api.item_in("A").await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(d.api.issue(&item).await["id"].as_str().expect("an id").to_string());
    }
    let c5 = d.api.login("clerk5").await;
    let c1 = d.api.login("clerk1").await;
    d.api.window_ok(&c5, "5", "open", None).await;
    d.api.window_ok(&c1, "1", "open", None).await;
    d.api.call_next(&c5, "5").await; // A001, parked
    d.api.window_ok(&c5, "5", "park", None).await;
    d.api.call_next(&c5, "5").await; // A002, held
    d.api.call_next(&c1, "1").await; // A003, sent to window 5
    d.api.window_ok(&c1, "1", "transfer", Some(json!({ "window": "5" }))).await;
    assert_eq!(status(&d, &ids[2]).await["window"], Value::Null);
    let (data, _) = d.stop().await;

    let d = start(data, clock, &hall(without_window_5, |s| s)).await;
    for id in &ids[..3] {
        let t = status(&d, id).await;
        assert_eq!((&t["status"], &t["window"]), (&json!("waiting"), &Value::Null), "{t}");
    }
    assert_eq!(status(&d, &ids[0]).await["ahead"], json!(0));
    let c1 = d.api.login("clerk1").await;
    d.api.window_ok(&c1, "1", "open", None).await;
    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(next_number(&d, &c1).await);
    }
    assert_eq!(order, ["A001", "A002", "A003", "A004"]);
    // And again: the reconciliation replays like the rest of the log.
    let d = d.restart().await;
    let t = status(&d, &ids[3]).await;
    assert_eq!(t["status"], json!("done"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_queue_removed_mid_day_moves_its_waiting_tickets_to_their_items_queue() {
    let clock = Arc::new(AtomicI64::new(default_start_ms()));
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let d = start(data.clone(), clock.clone(), &hall(|h| h, |s| s)).await;
    let z = d.api.issue("BC-0001").await;
    assert_eq!(z["number"], json!("Z001"));
    let a = d.api.issue(&d.api.item_in("A").await).await;
    let (data, _) = d.stop().await;

    // Queue Z and window 12 (which served only Z) are gone; BC-0001 now belongs to A.
    let services = |s: String| s.replace("queue = \"Z\"", "queue = \"A\"");
    let d = start(data, clock, &hall(without_queue_z, services)).await;
    let t = status(&d, z["id"].as_str().expect("an id")).await;
    assert_eq!((&t["status"], &t["queue"], &t["number"]), (&json!("waiting"), &json!("A"), &json!("Z001")), "{t}");
    let c1 = d.api.login("clerk1").await;
    d.api.window_ok(&c1, "1", "open", None).await;
    assert_eq!(next_number(&d, &c1).await, "Z001");
    assert_eq!(next_number(&d, &c1).await, a["number"].as_str().expect("a number"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_queue_removed_mid_day_with_its_items_refuses_the_start_naming_the_queue() {
    let clock = Arc::new(AtomicI64::new(default_start_ms()));
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let d = start(data.clone(), clock.clone(), &hall(|h| h, |s| s)).await;
    d.api.issue("BC-0001").await;
    let (data, _) = d.stop().await;

    let services = |s: String| without_table(&s, "item", "code = \"BC-0001\"");
    let config = load(&hall(without_queue_z, services));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let engine_clock: hallq::time::Clock =
        Arc::new(move || hallq::core::model::Ts(clock.load(std::sync::atomic::Ordering::SeqCst)));
    let options =
        hallq::daemon::Options { data_dir: data.path().to_path_buf(), always_open: true, clock: Some(engine_clock) };
    let served = support::guard("a refused start", hallq::daemon::serve(listener, config, options, async {})).await;
    let message = served.expect_err("the start is refused").to_string();
    assert!(message.contains("[[queue]] id = \"Z\"") && message.contains("Z001"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_item_removed_mid_day_leaves_its_tickets_callable_in_their_queue() {
    let clock = Arc::new(AtomicI64::new(default_start_ms()));
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let d = start(data.clone(), clock.clone(), &hall(|h| h, |s| s)).await;
    let c1 = d.api.login("clerk1").await;
    d.api.window_ok(&c1, "1", "open", None).await;
    let first = d.api.issue("LS-0001").await;
    let second = d.api.issue("LS-0001").await;
    assert_eq!(first["queue"], json!("V"));
    let c11 = d.api.login("clerk11").await;
    d.api.window_ok(&c11, "11", "open", None).await;
    d.api.call_next(&c11, "11").await;
    let (data, _) = d.stop().await;

    let services = |s: String| without_table(&s, "item", "code = \"LS-0001\"");
    let d = start(data, clock, &hall(|h| h, services)).await;
    let t = status(&d, second["id"].as_str().expect("an id")).await;
    assert_eq!((&t["status"], &t["queue"]), (&json!("waiting"), &json!("V")), "{t}");
    let c11 = d.api.login("clerk11").await;
    d.api.window_ok(&c11, "11", "serve", None).await;
    d.api.window_ok(&c11, "11", "done", Some(json!({ "outcome": "completed" }))).await;
    let called = d.api.call_next(&c11, "11").await;
    assert_eq!(called["number"], second["number"], "{called}");
    let t = status(&d, first["id"].as_str().expect("an id")).await;
    assert_eq!(t["status"], json!("done"), "{t}");
}
