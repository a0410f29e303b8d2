//! Supervision alerts through a real daemon: thresholds crossed by real tickets and by the
//! injected clock, the list and the overview for supervisors, acknowledgement and who may
//! do it, survival across a restart, and the webhook against a real receiver on loopback
//! (an axum server in this test): the JSON, the HMAC signature recomputed here, retries
//! after 500s, and the metric of deliveries. A kiosk printer's fault (a fake printer on
//! loopback) as an alert; alerts a new day ends sent as cleared; notices owed when the
//! daemon stopped sent after its restart. A queue that no open window serves is in
//! api_unstaffed.rs.

use crate::printer_support;
use crate::support;

use std::collections::VecDeque;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hallq::config::WebhookConfig;
use hallq::core::model::QueueId;
use printer_support::{FakePrinter, PAPER_OUT, READY};
use serde_json::{json, Value};
use support::{default_start_ms, guard, Api, Daemon, KIOSK};
use tokio::sync::watch;

const SECRET: &str = "test-secret-0123456789abcdef";

/// One request the receiver got.
#[derive(Clone, Debug)]
pub(crate) struct Got {
    pub(crate) timestamp: String,
    pub(crate) signature: String,
    pub(crate) delivery: String,
    pub(crate) body: Vec<u8>,
}

/// A webhook receiver: answers each request with the next status of its script (200 once
/// the script is used up) and remembers every request.
pub(crate) struct Receiver {
    script: Mutex<VecDeque<u16>>,
    got: Mutex<Vec<Got>>,
    count: watch::Sender<usize>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let got = Got {
        timestamp: header("x-hallq-timestamp"),
        signature: header("x-hallq-signature"),
        delivery: header("x-hallq-delivery"),
        body: body.to_vec(),
    };
    r.got.lock().unwrap().push(got);
    r.count.send_modify(|n| *n += 1);
    let status = r.script.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// Starts a receiver on loopback; returns it and its URL.
pub(crate) async fn receiver(script: &[u16]) -> (Arc<Receiver>, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    receiver_on(listener, script)
}

/// A receiver on `listener`.
fn receiver_on(listener: tokio::net::TcpListener, script: &[u16]) -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver {
        script: Mutex::new(script.iter().copied().collect()),
        got: Mutex::new(Vec::new()),
        count: watch::channel(0).0,
    });
    let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(r.clone());
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, url)
}

impl Receiver {
    /// Waits until `n` requests have come in, and returns them all.
    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Got> {
        let mut rx = self.count.subscribe();
        guard(&format!("{n} webhook requests"), rx.wait_for(|c| *c >= n)).await.unwrap();
        self.got.lock().unwrap().clone()
    }
}

/// The HMAC-SHA256 signature the daemon must send, computed here from the spec.
fn expected_signature(timestamp: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The example hall with queue A alerting above 2 waiting, and the webhook at `url`.
pub(crate) fn hook_config(url: String, attempts: u32) -> hallq::config::Config {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let a = QueueId::parse("A").unwrap();
    config.setup.alerts.queues.get_mut(&a).expect("queue A has thresholds").waiting = 2;
    // These tests are about thresholds, with no window open: the unstaffed alert has a
    // test of its own.
    config.setup.alerts.unstaffed = 0;
    config.webhook =
        Some(WebhookConfig { url, secret: SECRET.into(), timeout_ms: 5_000, attempts, backoff_ms: 20, outbox: 100 });
    config
}

async fn daemon_with_hook(url: String) -> Daemon {
    let data = Arc::new(tempfile::tempdir().unwrap());
    Daemon::start_config(data, Some(Arc::new(AtomicI64::new(default_start_ms()))), hook_config(url, 4)).await
}

/// Polls the day's alerts until `pred` holds for the list (each poll waits for the
/// engine's next tick); returns the list.
pub(crate) async fn alerts_until(api: &Api, token: &str, query: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    guard("alerts to appear", async {
        loop {
            let r = api.get(&format!("/api/v1/alerts{query}"), Some(token)).await;
            assert_eq!(r.status, 200, "{}", r.text);
            let list = r.body["alerts"].as_array().unwrap().clone();
            if pred(&list) {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines().find(|l| l.starts_with(line_start)).and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or(0.0)
}

#[tokio::test]
async fn a_long_queue_raises_an_alert_that_the_webhook_delivers_signed_after_retries() {
    let (receiver, url) = receiver(&[500, 500]).await;
    let d = daemon_with_hook(url).await;
    let api = &d.api;
    let sup = api.login("supervisor").await;
    let item = api.item_in("A").await;
    for _ in 0..3 {
        api.issue(&item).await;
    }
    // 500, 500, then 200: one notice, three attempts, delivered once.
    let got = receiver.wait_for(3).await;
    assert!(got.iter().all(|g| g.delivery == "1-raised"), "{got:?}");
    for g in &got {
        assert_eq!(g.signature, expected_signature(&g.timestamp, &g.body), "the signature covers timestamp and body");
        assert!(g.timestamp.parse::<i64>().is_ok(), "a Unix time: {}", g.timestamp);
    }
    let body: Value = serde_json::from_slice(&got[2].body).unwrap();
    assert_eq!(body["type"], "alert_raised");
    assert_eq!(body["hall"]["id"], "qingchuan");
    let alert = &body["alert"];
    assert_eq!((alert["id"].as_u64(), alert["kind"].as_str()), (Some(1), Some("queue_waiting")));
    assert_eq!(
        (alert["queue"].as_str(), alert["value"].as_u64(), alert["threshold"].as_u64()),
        (Some("A"), Some(3), Some(2))
    );
    assert_eq!(alert["unit"], "tickets");
    assert_eq!(alert["name"], "综合受理");
    assert!(alert["text"].as_str().unwrap().contains("排队3人"), "{alert}");
    assert!(body["at"].as_str().unwrap().ends_with("+08:00"), "{body}");
    // A tampered body would not verify.
    assert_ne!(got[2].signature, expected_signature(&got[2].timestamp, b"{}"));

    let m = api.get("/metrics", Some(support::METRICS_TOKEN)).await.text;
    assert_eq!(metric(&m, "hallq_webhook_deliveries_total{result=\"delivered\"}"), 1.0, "{m}");
    assert_eq!(metric(&m, "hallq_webhook_deliveries_total{result=\"retried\"}"), 2.0, "{m}");

    // The supervisor sees it, acknowledges it; it stays active while the queue is long.
    let list = alerts_until(api, &sup, "?active=true", |l| !l.is_empty()).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["acked_by"], Value::Null);
    let acked = api.post("/api/v1/alerts/1/ack", Some(&sup), None).await;
    assert_eq!(acked.status, 200, "{}", acked.text);
    assert_eq!((acked.body["acked_by"].as_str(), acked.body["active"].as_bool()), (Some("supervisor"), Some(true)));

    // Served down to 1 waiting (80 % of 2 is 1.6): cleared, and the webhook says so.
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    api.call_next(&clerk, "1").await;
    api.window_ok(&clerk, "1", "serve", None).await;
    api.window_ok(&clerk, "1", "done", None).await;
    api.call_next(&clerk, "1").await;
    let got = receiver.wait_for(4).await;
    assert_eq!(got[3].delivery, "1-cleared");
    assert_eq!(got[3].signature, expected_signature(&got[3].timestamp, &got[3].body));
    let body: Value = serde_json::from_slice(&got[3].body).unwrap();
    assert_eq!((body["type"].as_str(), body["alert"]["value"].as_u64()), (Some("alert_cleared"), Some(1)));
    let active = api.get("/api/v1/alerts?active=true", Some(&sup)).await;
    assert_eq!(active.body["alerts"], json!([]));
    let all = api.get("/api/v1/alerts", Some(&sup)).await;
    assert_eq!(all.body["alerts"][0]["acked_by"], "supervisor");
    assert_eq!(all.body["alerts"][0]["active"], false);
}

#[tokio::test]
async fn only_supervisors_and_admins_read_and_acknowledge_alerts_and_bad_input_changes_nothing() {
    let (_receiver, url) = receiver(&[]).await;
    let d = daemon_with_hook(url).await;
    let api = &d.api;
    let sup = api.login("supervisor").await;
    let admin = api.login("admin").await;
    let clerk = api.login("clerk1").await;
    let item = api.item_in("A").await;
    for _ in 0..3 {
        api.issue(&item).await;
    }
    alerts_until(api, &sup, "", |l| l.len() == 1).await;
    for path in ["/api/v1/alerts", "/api/v1/supervision"] {
        api.get(path, None).await.assert_error(401, "unauthorized");
        api.get(path, Some(KIOSK)).await.assert_error(403, "forbidden");
        api.get(path, Some(&clerk)).await.assert_error(403, "forbidden");
        assert_eq!(api.get(path, Some(&admin)).await.status, 200);
    }
    api.post("/api/v1/alerts/1/ack", None, None).await.assert_error(401, "unauthorized");
    api.post("/api/v1/alerts/1/ack", Some(&clerk), None).await.assert_error(403, "forbidden");
    api.post("/api/v1/alerts/99/ack", Some(&sup), None).await.assert_error(404, "unknown_alert");
    api.post("/api/v1/alerts/abc/ack", Some(&sup), None).await.assert_error(404, "unknown_alert");
    api.post("/api/v1/alerts/1/ack", Some(&sup), Some(json!({ "x": 1 }))).await.assert_error(400, "bad_json");
    api.get("/api/v1/alerts?active=maybe", Some(&sup)).await.assert_error(400, "bad_active");
    api.get("/api/v1/alerts?day=yesterday", Some(&sup)).await.assert_error(400, "bad_day");
    api.get("/api/v1/alerts?colour=red", Some(&sup)).await.assert_error(400, "bad_query");
    let list = api.get("/api/v1/alerts", Some(&sup)).await;
    assert_eq!(list.body["alerts"][0]["acked_by"], Value::Null, "nothing refused changed anything");
    // An admin acknowledges; the supervisor's later acknowledgement gets the same answer.
    let first = api.post("/api/v1/alerts/1/ack", Some(&admin), None).await;
    assert_eq!(first.body["acked_by"], "admin");
    let again = api.post("/api/v1/alerts/1/ack", Some(&sup), None).await;
    assert_eq!((again.status, again.body["acked_by"].as_str()), (200, Some("admin")));
    // Another day's list is empty, not an error.
    let other = api.get("/api/v1/alerts?day=2026-03-09", Some(&sup)).await;
    assert_eq!(
        (other.body["day"].as_str(), other.body["alerts"].as_array().map(Vec::len)),
        (Some("2026-03-09"), Some(0))
    );
}

#[tokio::test]
async fn waits_and_pauses_alert_as_the_clock_moves_and_survive_a_restart() {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    config.setup.alerts.unstaffed = 0;
    let data = Arc::new(tempfile::tempdir().unwrap());
    let d = Daemon::start_config(data, Some(Arc::new(AtomicI64::new(default_start_ms()))), config.clone()).await;
    let t0 = default_start_ms();
    let api = &d.api;
    let sup = api.login("supervisor").await;
    let clerk = api.login("clerk12").await;
    let item = api.item_in("A").await;
    api.issue(&item).await;
    api.window_ok(&clerk, "12", "open", None).await;
    api.window_ok(&clerk, "12", "pause", None).await;
    // The example hall: a wait over 30 minutes, a pause over 20.
    d.set_clock(t0 + 25 * 60_000);
    let list = alerts_until(api, &sup, "", |l| !l.is_empty()).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!((list[0]["kind"].as_str(), list[0]["window"].as_str()), (Some("window_paused"), Some("12")));
    assert_eq!((list[0]["value"].as_u64(), list[0]["threshold"].as_u64()), (Some(25), Some(20)));
    d.set_clock(t0 + 31 * 60_000);
    let list = alerts_until(api, &sup, "", |l| l.len() == 2).await;
    assert_eq!((list[1]["kind"].as_str(), list[1]["queue"].as_str()), (Some("queue_wait"), Some("A")));
    assert_eq!(list[1]["value"], 31);
    let o = api.get("/api/v1/supervision", Some(&sup)).await;
    assert_eq!(o.status, 200, "{}", o.text);
    let a = o.body["queues"].as_array().unwrap().iter().find(|q| q["id"] == "A").unwrap().clone();
    assert_eq!(
        (a["waiting"].as_u64(), a["oldest_wait_min"].as_u64(), a["alert_wait_min"].as_u64()),
        (Some(1), Some(31), Some(30))
    );
    let w = o.body["windows"].as_array().unwrap().iter().find(|w| w["id"] == "12").unwrap().clone();
    assert_eq!((w["state"].as_str(), w["clerk"].as_str()), (Some("paused"), Some("clerk12")));
    assert!(w["since"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(o.body["alerts"].as_array().unwrap().len(), 2);
    api.post("/api/v1/alerts/1/ack", Some(&sup), None).await;

    let (data, clock) = d.stop().await;
    let d = Daemon::start_config(data, clock, config).await;
    let api = &d.api;
    let sup = api.login("supervisor").await;
    // A few ticks after the restart: the same two alerts, no new ones, the ack kept.
    d.set_clock(t0 + 32 * 60_000);
    let list = alerts_until(api, &sup, "?active=true", |l| l.len() == 2).await;
    let o = api.get("/api/v1/supervision", Some(&sup)).await;
    // Every batch of the engine (this query's too) first evaluates the alerts at its time.
    assert!(o.body["at"].as_str().unwrap().contains("10:32"), "the overview is of the new time: {}", o.body["at"]);
    let again = api.get("/api/v1/alerts", Some(&sup)).await.body["alerts"].as_array().unwrap().clone();
    assert_eq!(again.len(), 2, "no alert raised twice after the restart: {again:?}");
    assert_eq!(list[0]["acked_by"], "supervisor");
    // Resumed: the pause alert clears; the wait alert stays.
    let clerk = api.login("clerk12").await;
    api.window_ok(&clerk, "12", "resume", None).await;
    let active = alerts_until(api, &sup, "?active=true", |l| l.len() == 1).await;
    assert_eq!(active[0]["kind"], "queue_wait");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_printer_out_of_paper_is_an_alert_raised_and_cleared_through_the_api_and_the_webhook() {
    let printer = FakePrinter::start(PAPER_OUT).await;
    let (receiver, url) = receiver(&[]).await;
    let mut config = hook_config(url, 4);
    let kiosk_name = config.kiosks.iter().find(|k| k.token == KIOSK).expect("kiosk1").name.clone();
    crate::printer_support::printer_at_kiosk1(&mut config, printer.addr, 1);
    let data = Arc::new(tempfile::tempdir().unwrap());
    let d = Daemon::start_config(data, Some(Arc::new(AtomicI64::new(default_start_ms()))), config).await;
    let api = &d.api;
    let sup = api.login("supervisor").await;

    let list = alerts_until(api, &sup, "?active=true", |l| !l.is_empty()).await;
    let a = &list[0];
    assert_eq!(
        (a["kind"].as_str(), a["kiosk"].as_str(), a["fault"].as_str()),
        (Some("printer"), Some("kiosk1"), Some("paper_out"))
    );
    assert_eq!((a["queue"].clone(), a["window"].clone()), (Value::Null, Value::Null));
    assert_eq!(a["name"], kiosk_name.as_str(), "the alert names the kiosk");
    let id = a["id"].as_u64().unwrap();
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].delivery, format!("{id}-raised"));
    assert_eq!(got[0].signature, expected_signature(&got[0].timestamp, &got[0].body));
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!((body["type"].as_str(), body["alert"]["kind"].as_str()), (Some("alert_raised"), Some("printer")));
    assert_eq!((body["alert"]["kiosk"].as_str(), body["alert"]["fault"].as_str()), (Some("kiosk1"), Some("paper_out")));
    assert!(body["alert"]["text"].as_str().unwrap().contains("缺纸"), "{body}");
    let acked = api.post(&format!("/api/v1/alerts/{id}/ack"), Some(&sup), None).await;
    assert_eq!((acked.status, acked.body["acked_by"].as_str()), (200, Some("supervisor")), "{}", acked.text);

    // Paper loaded: the next check clears it, in the list and at the receiver.
    printer.set(READY);
    alerts_until(api, &sup, "?active=true", |l| l.is_empty()).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].delivery, format!("{id}-cleared"));
    let body: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(body["type"], "alert_cleared");
    assert!(body["alert"]["text"].as_str().unwrap().contains("恢复"), "{body}");
    // Every check reported the fault, yet it was raised once.
    let all = api.get("/api/v1/alerts", Some(&sup)).await;
    assert_eq!(all.body["alerts"].as_array().map(Vec::len), Some(1), "{}", all.text);
    assert_eq!(all.body["alerts"][0]["acked_by"], "supervisor");
    // The acknowledgement is audited like any other.
    let audit = api.get("/api/v1/audit?action=alert_ack", Some(&sup)).await;
    assert_eq!(audit.body["entries"].as_array().map(Vec::len), Some(1), "{}", audit.text);
}

#[tokio::test]
async fn alerts_a_new_day_ends_are_sent_as_cleared() {
    let (receiver, url) = receiver(&[]).await;
    let d = daemon_with_hook(url).await;
    let item = d.api.item_in("A").await;
    for _ in 0..3 {
        d.api.issue(&item).await;
    }
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].delivery, "1-raised");
    d.set_clock(default_start_ms() + 86_400_000);
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].delivery, "1-cleared");
    assert_eq!(got[1].signature, expected_signature(&got[1].timestamp, &got[1].body));
    let body: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!((body["type"].as_str(), body["alert"]["ended_by_day"].as_bool()), (Some("alert_cleared"), Some(true)));
    assert!(body["alert"]["text"].as_str().unwrap().contains("服务日结束"), "{body}");
    assert!(body["alert"]["cleared_at"].as_str().is_some(), "{body}");
}

#[tokio::test]
async fn notices_owed_at_shutdown_are_sent_after_a_restart() {
    // The receiver's port, with nobody listening yet: every attempt is refused.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}/hook");
    let data = Arc::new(tempfile::tempdir().unwrap());
    let clock = Arc::new(AtomicI64::new(default_start_ms()));
    // Attempts enough to outlast the test: the notice is still owed at shutdown.
    let d = Daemon::start_config(data.clone(), Some(clock.clone()), hook_config(url.clone(), 1_000)).await;
    let item = d.api.item_in("A").await;
    for _ in 0..3 {
        d.api.issue(&item).await;
    }
    guard("a refused attempt", async {
        loop {
            let m = d.api.get("/metrics", Some(support::METRICS_TOKEN)).await.text;
            if metric(&m, "hallq_webhook_deliveries_total{result=\"retried\"}") >= 1.0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    d.stop().await;

    // The receiver is up now; the restarted daemon sends what it owed.
    let listener = tokio::net::TcpListener::bind(addr).await.expect("the receiver's port is free again");
    let (receiver, _) = receiver_on(listener, &[]);
    let d = Daemon::start_config(data.clone(), Some(clock.clone()), hook_config(url.clone(), 1_000)).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].delivery, "1-raised");
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!((body["alert"]["kind"].as_str(), body["alert"]["value"].as_u64()), (Some("queue_waiting"), Some(3)));
    assert_eq!(got[0].signature, expected_signature(&got[0].timestamp, &got[0].body));

    // Delivered: a further restart owes nothing, and what comes next is the next notice.
    d.stop().await;
    let d = Daemon::start_config(data, Some(clock), hook_config(url, 1_000)).await;
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    for _ in 0..2 {
        d.api.call_next(&clerk, "1").await;
        d.api.window_ok(&clerk, "1", "serve", None).await;
        d.api.window_ok(&clerk, "1", "done", None).await;
    }
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].delivery, "1-cleared", "the raise was not sent twice: {got:?}");
}
