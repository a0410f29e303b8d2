//! The harness the black-box tests share: a real daemon on `127.0.0.1:0` with a real sled
//! log in a temporary directory, an HTTP client speaking contract v1, a WebSocket display,
//! and the built binary for the tests that must kill a process.
//!
//! Each test builds its own daemon (its own port, its own data directory), so tests run in
//! parallel. Timeouts here only guard against hangs; no test asserts on how long anything
//! takes.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeZone;
use futures_util::{SinkExt, StreamExt};
use hallq::core::model::Ts;
use hallq::daemon::{serve, DaemonError, Options};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

mod display;
pub mod nats;
mod process;

// Not every test crate uses both.
#[allow(unused_imports)]
pub use display::Display;
#[allow(unused_imports)]
pub use process::Process;

/// How long any single wait may take before the test fails as hung.
pub const HANG_GUARD: Duration = Duration::from_secs(20);
/// The example hall's kiosk token.
pub const KIOSK: &str = "demo-kiosk-1";
/// The example hall's demo password, shared by every user.
pub const PASSWORD: &str = "demo";
/// The example hall's `[hall] metrics_token`, a Prometheus scraper's bearer for /metrics.
pub const METRICS_TOKEN: &str = "demo-metrics-token";

/// Milliseconds since the Unix epoch of a local time in Asia/Shanghai.
pub fn shanghai_ms(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("a valid Shanghai time")
        .timestamp_millis()
}

/// The injected clock tests start at: a weekday morning, well inside one service day.
pub fn default_start_ms() -> i64 {
    shanghai_ms(2026, 3, 10, 10, 0, 0)
}

/// Awaits `fut`, failing the test if it does not finish within the hang guard.
/// The path of a visitor's `action` (`rating`, `cancel`, `rejoin`, `qr.svg`) on `ticket`
/// as the kiosk's answer gave it: with the ticket's key, the visitor's credential.
pub fn visitor_path(ticket: &Value, action: &str) -> String {
    let id = ticket["id"].as_str().expect("a ticket id");
    let key = ticket["key"].as_str().expect("the kiosk's answer carries the visitor's key");
    format!("/api/v1/tickets/{id}/{action}?k={key}")
}

pub async fn guard<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(HANG_GUARD, fut).await {
        Ok(v) => v,
        Err(_) => panic!("hang guard: {what} did not finish within {HANG_GUARD:?}"),
    }
}

/// An HTTP answer: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The `error.code` of a contract error body; panics on any other shape.
    pub fn error_code(&self) -> &str {
        let e = &self.body["error"];
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "error body without a message: {}", self.text);
        e["code"].as_str().unwrap_or_else(|| panic!("not a contract error body: {}", self.text))
    }

    /// Asserts the status and the error code of a refusal.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "expected {status} {code}, got {}", self.text);
        assert_eq!(self.error_code(), code, "expected {status} {code}, got {}", self.text);
    }
}

/// A client of one daemon's HTTP API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(addr: SocketAddr) -> Self {
        let http = reqwest::Client::builder().timeout(HANG_GUARD).build().expect("an HTTP client");
        Self { base: format!("http://{addr}"), http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn finish(resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("a response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, text }
    }

    /// A request, with a bearer token when one is given; panics on a transport error.
    pub async fn send(&self, req: reqwest::RequestBuilder, token: Option<&str>) -> Reply {
        self.try_send(req, token).await.expect("the daemon answers")
    }

    /// A request; a transport error (daemon gone) is returned, not a panic.
    pub async fn try_send(&self, req: reqwest::RequestBuilder, token: Option<&str>) -> Result<Reply, reqwest::Error> {
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await?;
        Ok(Self::finish(resp).await)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.http.get(self.url(path)), token).await
    }

    /// A POST with a JSON body (or none).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.http.post(self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req, token).await
    }

    /// A POST with a raw body, for malformed and oversized input.
    pub async fn post_raw(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> Reply {
        let req = self.http.post(self.url(path)).header("content-type", "application/json").body(body);
        self.send(req, token).await
    }

    /// Logs `user` in with the demo password and returns the session token.
    pub async fn login(&self, user: &str) -> String {
        let r = self.post("/api/v1/login", None, Some(json!({ "user": user, "password": PASSWORD }))).await;
        assert_eq!(r.status, 200, "login of {user}: {}", r.text);
        assert_eq!(r.body["user"], user);
        r.body["token"].as_str().expect("a token").to_string()
    }

    /// Issues a ticket at the kiosk and returns it; asserts 201.
    pub async fn issue(&self, service: &str) -> Value {
        let r = self.issue_with(json!({ "service": service })).await;
        assert_eq!(r.status, 201, "issue {service}: {}", r.text);
        r.body
    }

    pub async fn issue_with(&self, body: Value) -> Reply {
        self.post("/api/v1/tickets", Some(KIOSK), Some(body)).await
    }

    pub async fn ticket(&self, id: &str) -> Reply {
        self.get(&format!("/api/v1/tickets/{id}"), None).await
    }

    /// A window action by the clerk holding `token`.
    pub async fn window(&self, token: &str, w: &str, action: &str, body: Option<Value>) -> Reply {
        self.post(&format!("/api/v1/windows/{w}/{action}"), Some(token), body).await
    }

    /// A window action that must succeed; returns its body.
    pub async fn window_ok(&self, token: &str, w: &str, action: &str, body: Option<Value>) -> Value {
        let r = self.window(token, w, action, body).await;
        assert_eq!(r.status, 200, "window {w} {action}: {}", r.text);
        r.body
    }

    /// `next` at window `w`; returns the called ticket (asserting one was called).
    pub async fn call_next(&self, token: &str, w: &str) -> Value {
        let body = self.window_ok(token, w, "next", None).await;
        assert!(body["ticket"].is_object(), "window {w} next called nobody: {body}");
        body["ticket"].clone()
    }

    /// The catalogue from `/api/v1/services`.
    pub async fn catalog(&self) -> Value {
        let r = self.get("/api/v1/services", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// Every item code in the catalogue that a walk-in may take, with the queue it joins:
    /// not the appointment queue's, which only a booking's check-in gives.
    pub async fn items(&self) -> Vec<(String, String)> {
        let cat = self.catalog().await;
        let booked_only = cat["appointments"]["queue"].as_str().map(str::to_string);
        cat["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| (i["code"].as_str().expect("code").to_string(), i["queue"].as_str().expect("queue").to_string()))
            .filter(|(_, q)| booked_only.as_ref() != Some(q))
            .collect()
    }

    /// The number of tickets waiting in queue `q`, from the hall snapshot.
    pub async fn waiting_in(&self, q: &str) -> u64 {
        let hall = self.get("/api/v1/hall", None).await;
        assert_eq!(hall.status, 200, "{}", hall.text);
        hall.body["queues"]
            .as_array()
            .expect("queues")
            .iter()
            .find(|x| x["id"] == q)
            .and_then(|x| x["waiting"].as_u64())
            .unwrap_or_else(|| panic!("no queue {q} in {}", hall.text))
    }

    /// The first item code that joins `queue`.
    pub async fn item_in(&self, queue: &str) -> String {
        self.items()
            .await
            .into_iter()
            .find(|(_, q)| q == queue)
            .map(|(c, _)| c)
            .unwrap_or_else(|| panic!("the catalogue has no item in queue {queue}"))
    }

    /// A WebSocket display on `/ws/feed`, resuming after `after` when given.
    pub async fn display(&self, after: Option<u64>) -> Display {
        let ws_base = self.base.replacen("http://", "ws://", 1);
        let url = match after {
            Some(seq) => format!("{ws_base}/ws/feed?after={seq}"),
            None => format!("{ws_base}/ws/feed"),
        };
        let (stream, _) = guard("websocket connect", tokio_tungstenite::connect_async(url))
            .await
            .expect("the feed accepts a display");
        let mut display = Display { stream, seen: Vec::new(), pending: Default::default() };
        // A new display's first message is the snapshot: once it is here, what the test
        // does next comes as messages after it, not folded into it (a call made while the
        // snapshot was being made would otherwise never arrive as a call).
        if after.is_none() {
            let snapshot = display.next_json().await;
            display.pending.push_back(snapshot);
        }
        display
    }
}

impl Api {
    /// A WebSocket display on `/ws/feed`, or `None` when the daemon does not accept one
    /// (it is gone).
    pub async fn try_display(&self) -> Option<Display> {
        let url = format!("{}/ws/feed", self.base.replacen("http://", "ws://", 1));
        let (stream, _) = guard("websocket connect", tokio_tungstenite::connect_async(url)).await.ok()?;
        Some(Display { stream, seen: Vec::new(), pending: Default::default() })
    }
}

/// A daemon running in this process on an ephemeral port, over a sled log in a temporary
/// directory that outlives restarts.
pub struct Daemon {
    pub addr: SocketAddr,
    pub api: Api,
    pub data: Arc<TempDir>,
    /// The engine's clock, in ms since the epoch, when the test drives time.
    pub clock: Option<Arc<AtomicI64>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), DaemonError>>>,
}

impl Daemon {
    /// A daemon on the wall clock.
    pub async fn start() -> Self {
        Self::start_on(Arc::new(tempfile::tempdir().expect("a temp dir")), None).await
    }

    /// A daemon whose engine reads `clock` (ms since the epoch), starting at `start_ms`.
    pub async fn start_with_clock(start_ms: i64) -> Self {
        let clock = Arc::new(AtomicI64::new(start_ms));
        Self::start_on(Arc::new(tempfile::tempdir().expect("a temp dir")), Some(clock)).await
    }

    /// A daemon over `data`, reading `clock` when given. The example hall's rate limits
    /// are off: tests issue hundreds of tickets from one kiosk and one address
    /// (`tests/api_limits.rs` tests the limits themselves).
    pub async fn start_on(data: Arc<TempDir>, clock: Option<Arc<AtomicI64>>) -> Self {
        let mut config = hallq::config::embedded_default().expect("the example hall loads");
        config.limits = hallq::config::RateLimits::OFF;
        Self::start_config(data, clock, config).await
    }

    /// A daemon of `config` over `data`, reading `clock` when given.
    pub async fn start_config(
        data: Arc<TempDir>,
        clock: Option<Arc<AtomicI64>>,
        config: hallq::config::Config,
    ) -> Self {
        Self::start_hours(data, clock, config, true).await
    }

    /// A daemon of `config` that keeps the hall's opening hours unless `always_open`.
    pub async fn start_hours(
        data: Arc<TempDir>,
        clock: Option<Arc<AtomicI64>>,
        config: hallq::config::Config,
        always_open: bool,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind an ephemeral port");
        let addr = listener.local_addr().expect("a local address");
        let engine_clock: Option<hallq::time::Clock> = clock.clone().map(|c| {
            let f: hallq::time::Clock = Arc::new(move || Ts(c.load(Ordering::SeqCst)));
            f
        });
        let options = Options { data_dir: data.path().to_path_buf(), always_open, clock: engine_clock };
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        let task = tokio::spawn(serve(listener, config, options, shutdown));
        let mut daemon = Self { addr, api: Api::new(addr), data, clock, stop: Some(stop_tx), task: Some(task) };
        // The listener is bound before serve starts, so requests queue until it accepts;
        // this first answer proves the daemon is up. If serve gave up instead, say why.
        let health = match daemon.api.try_send(daemon.api.http.get(daemon.api.url("/healthz")), None).await {
            Ok(reply) => reply,
            Err(e) => {
                let task = daemon.task.take().expect("a running daemon");
                let ended = guard("the daemon that would not answer", task).await;
                panic!("the daemon did not answer ({e}); serve ended with {ended:?}");
            }
        };
        assert_eq!(health.status, 200, "{}", health.text);
        // The engine opens the service day on its first tick. Wait for that record to
        // reach the feed, so that every test starts from a settled day and its displays
        // see only what the test itself does.
        let mut display = daemon.api.display(None).await;
        display.until("snapshot", |s| s["seq"].as_u64().is_some_and(|n| n >= 1)).await;
        display.close().await;
        daemon
    }

    /// Moves the injected clock to `ms`.
    pub fn set_clock(&self, ms: i64) {
        self.clock.as_ref().expect("this daemon runs on an injected clock").store(ms, Ordering::SeqCst);
    }

    /// Stops the daemon gracefully and asserts it returned without error.
    pub async fn stop(mut self) -> (Arc<TempDir>, Option<Arc<AtomicI64>>) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().expect("a running daemon");
        let result = guard("daemon shutdown", task).await.expect("the daemon task did not panic");
        if let Err(e) = result {
            panic!("the daemon stopped with an error: {e}");
        }
        (self.data.clone(), self.clock.clone())
    }

    /// Stops the daemon and starts a new one over the same data directory and clock.
    pub async fn restart(self) -> Self {
        let (data, clock) = self.stop().await;
        Self::start_on(data, clock).await
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The example hall's files in a temporary directory, with `edit` applied to hall.toml,
/// for the binary's `--config`.
pub fn config_dir(edit: impl Fn(String) -> String) -> TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config");
    let dir = tempfile::tempdir().expect("a temp dir");
    let hall = std::fs::read_to_string(src.join("hall.toml")).expect("the example hall.toml");
    std::fs::write(dir.path().join("hall.toml"), edit(hall)).expect("write hall.toml");
    for name in EXAMPLE_CATALOGUE {
        std::fs::copy(src.join(name), dir.path().join(name)).unwrap_or_else(|e| panic!("copy {name}: {e}"));
    }
    dir
}

/// The catalogue files the example hall.toml's `[catalog]` names.
pub const EXAMPLE_CATALOGUE: [&str; 4] = ["services.csv", "bundles.csv", "services.toml", "enterprises.csv"];

/// The example hall.toml with its rate limits turned off.
pub fn without_rate_limits(hall: String) -> String {
    let out = hall.replace("kiosk_burst = 5", "kiosk_burst = 0").replace("public_burst = 60", "public_burst = 0");
    let out = out.replace("login_failures = 5", "login_failures = 0").replace("user_logins = 20", "user_logins = 0");
    assert!(
        out.matches("_burst = 0").count() == 2 && out.contains("login_failures = 0") && out.contains("user_logins = 0"),
        "hall.toml's limits moved"
    );
    out
}

/// A daemon of the example hall with its own rate limits (not lifted), on an injected clock.
pub async fn daemon_with_example_limits() -> Daemon {
    let config = hallq::config::embedded_default().expect("the example hall loads");
    assert_eq!(config.limits, hallq::config::RateLimits::default(), "the example hall keeps the defaults");
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let clock = Arc::new(AtomicI64::new(default_start_ms()));
    Daemon::start_config(data, Some(clock), config).await
}

/// An HTTP client whose connections come from `127.0.0.{n}`.
pub fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, n)))
        .timeout(HANG_GUARD)
        .build()
        .expect("an HTTP client")
}
