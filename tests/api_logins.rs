//! Logins under attack (issue 14, items 5–7 and `/metrics`): wrong passwords from one
//! address (or from everyone behind one proxy address) never refuse the right one; logins
//! at once are checked a few at a time, so 60 concurrent failures from 12 addresses keep
//! the real binary's memory bounded; one user signing in in a loop ends only their own
//! oldest sessions and writes a bounded number of log records; and `/metrics` answers only
//! its scraper's token or a supervisor's or admin's session.
//!
//! Clients take distinct loopback source addresses (127.0.0.2, 127.0.0.3, ...) to be
//! distinct callers.

use crate::support;

use serde_json::{json, Value};
use support::{client_from, daemon_with_example_limits, Daemon, Process, KIOSK, METRICS_TOKEN};

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn login(client: &reqwest::Client, url: &str, user: &str, password: &str) -> Answer {
    let req = client.post(url).json(&json!({ "user": user, "password": password }));
    let resp = req.send().await.expect("the daemon answers");
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().expect("ascii").to_string());
    let body = resp.json().await.unwrap_or(Value::Null);
    Answer { status, retry_after, body }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_wrong_passwords_for_admin_never_refuse_the_right_one_from_that_address_or_another() {
    let d = daemon_with_example_limits().await;
    let url = d.api.url("/api/v1/login");
    // Behind the README's TLS proxy, the attacker and the admin have one address: .2.
    let (proxy, elsewhere) = (client_from(2), client_from(3));
    for n in 0..20 {
        let a = login(&proxy, &url, "admin", "guess").await;
        assert_eq!(a.status, 401, "wrong password {n}: {}", a.body);
    }
    let same = login(&proxy, &url, "admin", "demo").await;
    assert_eq!(same.status, 200, "the right password from the attacker's address: {}", same.body);
    let other = login(&elsewhere, &url, "admin", "demo").await;
    assert_eq!(other.status, 200, "the right password from another address: {}", other.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_simultaneous_right_logins_from_one_address_all_succeed() {
    let d = daemon_with_example_limits().await;
    let url = d.api.url("/api/v1/login");
    let client = client_from(2);
    let tries = (0..6).map(|_| login(&client, &url, "admin", "demo"));
    let answers = support::guard("six logins", futures_util::future::join_all(tries)).await;
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.body);
    }
}

/// Kilobytes of a `/proc/PID/status` line such as `VmHWM:   51234 kB`.
fn status_kib(pid: u32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the daemon's /proc status");
    let line = text.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no {key} in:\n{text}"));
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("bad line {line:?}"))
}

/// Peak resident memory of the daemon under 60 concurrent failed logins, in MiB.
const PEAK_RSS_MIB_MAX: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_concurrent_failed_logins_from_twelve_addresses_keep_memory_bounded() {
    let data = tempfile::tempdir().expect("a temp dir");
    // Rate limits off: every one of the 60 tries is an argon2 check.
    let daemon = Process::spawn(data.path()).await;
    let url = daemon.api.url("/api/v1/login");
    let before_kib = status_kib(daemon.pid, "VmRSS:");
    let clients: Vec<reqwest::Client> = (2..14).map(client_from).collect();
    let tries =
        clients.iter().flat_map(|c| (0..5).map(|n| login(c, &url, "admin", if n % 2 == 0 { "guess" } else { "nope" })));
    let answers = support::guard("60 failed logins", futures_util::future::join_all(tries)).await;
    let peak_kib = status_kib(daemon.pid, "VmHWM:");
    for a in &answers {
        // Each is checked and refused, or (past the slots' waiting room) refused at once.
        assert!(a.status == 401 || (a.status == 429 && a.retry_after.is_some()), "{} {}", a.status, a.body);
    }
    assert!(
        peak_kib < PEAK_RSS_MIB_MAX * 1024,
        "peak RSS {} MiB (from {} MiB) under 60 concurrent logins",
        peak_kib / 1024,
        before_kib / 1024
    );
    let after = login(&clients[0], &url, "admin", "demo").await;
    assert_eq!(after.status, 200, "{}", after.body);
}

async fn status_with(d: &Daemon, path: &str, token: &str) -> u16 {
    d.api.get(path, Some(token)).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_clerk_signing_in_again_and_again_ends_only_their_own_oldest_sessions() {
    let d = daemon_with_example_limits().await;
    let admin = d.api.login("admin").await;
    let supervisor = d.api.login("supervisor").await;
    let cap = hallq::http::auth::SESSIONS_PER_USER_MAX;
    let mut clerk = Vec::new();
    for _ in 0..cap + 4 {
        clerk.push(d.api.login("clerk3").await);
    }
    for (n, token) in clerk.iter().enumerate() {
        let expected = if n < 4 { 401 } else { 200 };
        assert_eq!(status_with(&d, "/api/v1/windows/3", token).await, expected, "clerk3's session {n}");
    }
    assert_eq!(status_with(&d, "/api/v1/admin", &admin).await, 200, "the admin is still signed in");
    assert_eq!(status_with(&d, "/api/v1/stats", &supervisor).await, 200, "the supervisor is still signed in");

    // Each sign-in is a record in the log: past the example's 20 a user waits 10 s.
    let url = d.api.url("/api/v1/login");
    let client = client_from(2);
    for n in cap + 4..20 {
        assert_eq!(login(&client, &url, "clerk3", "demo").await.status, 200, "login {n}");
    }
    let refused = login(&client, &url, "clerk3", "demo").await;
    assert_eq!((refused.status, refused.retry_after.as_deref()), (429, Some("10")), "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "rate_limited");
    // Another user is not held up, nor is clerk3 for long.
    assert_eq!(login(&client, &url, "clerk4", "demo").await.status, 200);
    let audit = d.api.get("/api/v1/audit?user=clerk3&action=login&limit=100", Some(&supervisor)).await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert_eq!(audit.body["entries"].as_array().map(Vec::len), Some(20), "one record per login let in");
    d.set_clock(support::default_start_ms() + 10_000);
    assert_eq!(login(&client, &url, "clerk3", "demo").await.status, 200);
    assert_eq!(status_with(&d, "/api/v1/admin", &admin).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_answer_only_the_scrapers_token_or_a_supervisor_or_admin() {
    let d = Daemon::start().await;
    let get = |token: Option<&'static str>| {
        let req = d.api.http.get(d.api.url("/metrics"));
        async move {
            let req = if let Some(t) = token { req.bearer_auth(t) } else { req };
            let resp = req.send().await.expect("the daemon answers");
            let status = resp.status().as_u16();
            (status, resp.text().await.expect("a body"))
        }
    };
    let (status, text) = get(None).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("\"code\":\"unauthorized\""), "{text}");
    assert_eq!(get(Some("not-the-metrics-token")).await.0, 401);
    assert_eq!(get(Some(KIOSK)).await.0, 403, "a kiosk");
    let clerk = d.api.login("clerk1").await;
    d.api.get("/metrics", Some(&clerk)).await.assert_error(403, "forbidden");
    let (status, text) = get(Some(METRICS_TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("hallq_"), "Prometheus text: {text}");
    for who in ["supervisor", "admin"] {
        let token = d.api.login(who).await;
        assert_eq!(d.api.get("/metrics", Some(&token)).await.status, 200, "{who}");
    }
}
