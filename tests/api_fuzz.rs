//! A fuzz campaign with proptest: arbitrary bodies, paths, methods and headers against a
//! real daemon, arbitrary `?after=` values against its feed, and mutated or arbitrary
//! TOML against the configuration loader. Every answer is below 500; every refusal is a
//! 4xx with the contract's JSON error; a refused request leaves the hall exactly as it was
//! (its snapshot, with the log position, is compared before and after). The loader
//! answers a configuration or a list of clear errors, and never panics.
//!
//! The normal suite runs a short campaign; a long one is
//! `PROPTEST_CASES=100000 cargo test --profile ci --test daemon api_fuzz::` (a failure prints the
//! smallest input proptest could shrink it to).

use crate::support;

use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;
use support::{Api, Daemon, Reply, KIOSK};

/// Cases per property unless PROPTEST_CASES says otherwise: enough to find the shallow
/// bugs in a few seconds each.
const CASES_DEFAULT: u32 = 150;

fn runner(default_cases: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// The hall as the displays see it, read after every earlier command has been published:
/// a query goes through the engine's inbox behind them.
async fn hall_state(api: &Api, ticket: &str) -> String {
    assert_eq!(api.ticket(ticket).await.status, 200);
    api.get("/api/v1/hall", None).await.text
}

/// The checks every answer passes; `Err` names what went wrong.
fn check_answer(what: &str, r: &Reply) -> Result<(), TestCaseError> {
    prop_assert!(r.status < 500, "{what}: a server error {} {}", r.status, r.text);
    if r.status >= 400 {
        let e = &r.body["error"];
        prop_assert!(
            e["code"].as_str().is_some_and(|c| !c.is_empty()) && e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: a refusal without a JSON error: {} {}",
            r.status,
            r.text
        );
    }
    Ok(())
}

/// Sends one request and checks it; a refused one must not have changed the hall.
async fn probe(api: &Api, ticket: &str, what: &str, req: reqwest::RequestBuilder) -> Result<(), TestCaseError> {
    let before = hall_state(api, ticket).await;
    let r = api.try_send(req, None).await.map_err(|e| TestCaseError::fail(format!("{what}: no answer: {e}")))?;
    check_answer(what, &r)?;
    if r.status >= 400 {
        let after = hall_state(api, ticket).await;
        prop_assert_eq!(before, after, "{}: refused with {} but the hall changed", what, r.status);
    }
    Ok(())
}

/// A daemon with a waiting ticket, a booking, window 1 open by clerk1 and nothing called:
/// a body that a window action ignores still finds nothing to act on.
struct Stage {
    daemon: Daemon,
    ticket: String,
    /// The ticket's rating path with its visitor's key.
    rating: String,
    code: String,
    clerk: String,
}

async fn stage() -> Stage {
    let daemon = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &daemon.api;
    let issued = api.issue("SC-0001").await;
    let ticket = issued["id"].as_str().expect("an id").to_string();
    let rating = support::visitor_path(&issued, "rating");
    let booked = api
        .post(
            "/api/v1/appointments",
            None,
            Some(json!({ "service": "SC-0001", "day": "2026-03-11", "slot": "09:00", "phone": "13800000002" })),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    let code = booked.body["code"].as_str().expect("a code").to_string();
    // clerk5 may only open window 5, which serves queue A; a pause keeps it from calling.
    let clerk = api.login("clerk5").await;
    api.window_ok(&clerk, "5", "open", None).await;
    api.window_ok(&clerk, "5", "pause", None).await;
    Stage { daemon, ticket, rating, code, clerk }
}

/// JSON-ish text: real keys and values of the contract mixed with noise, nested or not.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        Just("service".to_string()),
        Just("priority".to_string()),
        Just("idempotency_key".to_string()),
        Just("score".to_string()),
        Just("comment".to_string()),
        Just("user".to_string()),
        Just("password".to_string()),
        Just("day".to_string()),
        Just("slot".to_string()),
        Just("phone".to_string()),
        Just("outcome".to_string()),
        Just("queue".to_string()),
        Just("window".to_string()),
        Just("number".to_string()),
        Just("reason".to_string()),
        Just("ticket".to_string()),
        "\\PC{0,12}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)),
        "\\PC{0,40}".prop_map(serde_json::Value::from),
        Just(json!("SC-0001")),
        Just(json!("elderly")),
        Just(json!("2026-03-11")),
        Just(json!("09:30")),
        Just(json!("13800138000")),
    ];
    let value = leaf.prop_recursive(6, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("\\PC{0,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    let object = prop::collection::btree_map(key, value, 0..5)
        .prop_map(|m| serde_json::to_vec(&serde_json::Value::Object(m.into_iter().collect())).expect("json"));
    prop_oneof![
        4 => object,
        1 => prop::collection::vec(any::<u8>(), 0..300),
        1 => "\\PC{0,200}".prop_map(String::into_bytes),
        1 => (1usize..200).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
    ]
}

/// A POST endpoint that reads a body, with the credentials that reach its parser.
fn post_target(s: &Stage) -> Vec<(String, Option<String>)> {
    let clerk = Some(s.clerk.clone());
    vec![
        ("/api/v1/tickets".into(), Some(KIOSK.to_string())),
        ("/api/v1/login".into(), None),
        (s.rating.clone(), None),
        ("/api/v1/appointments".into(), None),
        ("/api/v1/windows/5/call".into(), clerk.clone()),
        ("/api/v1/windows/5/transfer".into(), clerk.clone()),
        ("/api/v1/windows/5/unpark".into(), clerk.clone()),
        ("/api/v1/windows/5/done".into(), clerk.clone()),
        ("/api/v1/windows/5/next".into(), clerk),
    ]
}

#[test]
fn arbitrary_bodies_are_refused_cleanly_and_change_nothing() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let s = rt.block_on(stage());
    let targets = post_target(&s);
    let n = targets.len();
    let result = runner(CASES_DEFAULT).run(&(0..n, json_body(), any::<bool>()), |(i, body, with_key)| {
        let (path, token) = &targets[i];
        let api = &s.daemon.api;
        let mut req = api.http.post(api.url(path)).header("content-type", "application/json").body(body.clone());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if with_key {
            req = req.header("idempotency-key", format!("fuzz-{}", body.len()));
        }
        let what = format!("POST {path} {:?}", String::from_utf8_lossy(&body));
        rt.block_on(probe(api, &s.ticket, &what, req))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A path: a known route's prefix with arbitrary segments, or arbitrary text.
fn path(s: &Stage) -> impl Strategy<Value = String> {
    let prefixes = vec![
        "/api/v1/tickets/".to_string(),
        format!("/api/v1/tickets/{}/", s.ticket),
        "/api/v1/appointments/".to_string(),
        format!("/api/v1/appointments/{}/", s.code),
        "/api/v1/windows/".to_string(),
        "/api/v1/windows/5/".to_string(),
        "/api/v1/users/".to_string(),
        "/api/v1/".to_string(),
        "/display/".to_string(),
        "/display/static/".to_string(),
        "/t/".to_string(),
        "/".to_string(),
    ];
    let segment = prop_oneof![
        "[a-zA-Z0-9._~-]{0,20}",
        "(%[0-9A-Fa-f]{2}){1,6}",
        "[%/.?&=#;:@!$'()*+,a-z0-9]{0,30}",
        Just("..".to_string()),
        Just("%2e%2e%2f".to_string()),
        "[0-9a-f]{32}",
    ];
    (prop::sample::select(prefixes), prop::collection::vec(segment, 0..4))
        .prop_map(|(prefix, segs)| format!("{prefix}{}", segs.join("/")))
}

fn method() -> impl Strategy<Value = reqwest::Method> {
    prop::sample::select(vec![
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
        reqwest::Method::OPTIONS,
        reqwest::Method::HEAD,
    ])
}

/// Header values: printable noise, near-valid bearer tokens, and bytes a header may hold.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[ -~]{0,60}".prop_map(String::into_bytes),
        "Bearer [ -~]{0,80}".prop_map(String::into_bytes),
        Just(format!("Bearer {KIOSK}").into_bytes()),
        Just(b"Bearer ".to_vec()),
        prop::collection::vec(0x80u8..=0xff, 1..20),
    ]
}

#[test]
fn arbitrary_paths_methods_and_headers_are_refused_cleanly_and_change_nothing() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let s = rt.block_on(stage());
    let headers = prop::collection::vec(
        (
            prop::sample::select(vec!["authorization", "idempotency-key", "content-type", "host", "x-forwarded-proto"]),
            header_value(),
        ),
        0..3,
    );
    let strategy = (method(), path(&s), headers, prop::option::of(json_body()));
    let result = runner(CASES_DEFAULT).run(&strategy, |(method, path, headers, body)| {
        let api = &s.daemon.api;
        let Ok(url) = reqwest::Url::parse(&api.url(&path)) else { return Ok(()) };
        let mut req = api.http.request(method.clone(), url);
        for (name, value) in &headers {
            if let Ok(v) = reqwest::header::HeaderValue::from_bytes(value) {
                req = req.header(*name, v);
            }
        }
        if let Some(b) = &body {
            req = req.body(b.clone());
        }
        let what = format!("{method} {path} headers {headers:?}");
        // HEAD answers carry no body, so their refusals cannot be checked for one.
        if method == reqwest::Method::HEAD {
            let r = rt.block_on(api.try_send(req, None)).map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
            prop_assert!(r.status < 500, "{what}: {}", r.status);
            return Ok(());
        }
        rt.block_on(probe(api, &s.ticket, &what, req))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn arbitrary_feed_resume_values_are_refused_or_resynced() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let s = rt.block_on(stage());
    let after = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[0-9]{20,40}",
        "\\PC{0,20}".prop_map(|t| t.bytes().map(|b| format!("%{b:02X}")).collect()),
        "[-+ .eE0-9a-z]{0,12}",
    ];
    let feed = format!("{}/ws/feed", s.daemon.api.base.replacen("http://", "ws://", 1));
    // Where the hall's log stands: nothing happens while the cases run.
    let now = rt.block_on(async {
        let (mut ws, _) = support::guard("a feed connection", tokio_tungstenite::connect_async(&feed))
            .await
            .expect("the feed answers");
        let first = support::guard("the snapshot", first_text(&mut ws)).await.expect("a snapshot");
        serde_json::from_str::<serde_json::Value>(&first).expect("JSON")["seq"].as_u64().expect("a seq")
    });
    let result = runner(CASES_DEFAULT / 3).run(&after, |after| {
        let api = &s.daemon.api;
        // A display resuming at a position the hall has reached is sent what came after it,
        // which may be nothing at all; any other value is refused or answered by a snapshot.
        let resumed = after.parse::<u64>().ok().filter(|n| *n <= now);
        rt.block_on(async {
            let before = hall_state(api, &s.ticket).await;
            // Bytes a URL may not hold are sent percent-encoded; `%` itself is left, so that
            // pre-encoded and malformed escapes both reach the daemon.
            let query: String = after
                .bytes()
                .map(|b| match b {
                    b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'.' | b'_' | b'~' | b'%' | b'+' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            let url = format!("{feed}?after={query}");
            match support::guard("a feed connection", tokio_tungstenite::connect_async(url)).await {
                Ok((mut ws, _)) => {
                    let wait = if resumed.is_some() { Duration::from_secs(1) } else { support::HANG_GUARD };
                    match tokio::time::timeout(wait, first_text(&mut ws)).await {
                        Err(_) if resumed.is_some() => {}
                        Err(_) => return Err(TestCaseError::fail(format!("after={after}: no first message"))),
                        Ok(first) => {
                            let text = first.map_err(|e| TestCaseError::fail(format!("after={after}: {e}")))?;
                            let v: serde_json::Value = serde_json::from_str(&text).expect("a JSON feed message");
                            let seq = v["seq"].as_u64();
                            prop_assert!(seq.is_some(), "after={after}: {v}");
                            prop_assert!(resumed.is_none_or(|n| seq > Some(n)), "after={after}: sent again: {v}");
                        }
                    }
                    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                }
                Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                    let status = resp.status().as_u16();
                    let body = resp.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default().to_string();
                    let r = Reply { status, body: serde_json::from_str(&body).unwrap_or_default(), text: body };
                    prop_assert!((400..500).contains(&status), "after={after}: {status} {}", r.text);
                    check_answer(&format!("after={after}"), &r)?;
                }
                Err(e) => return Err(TestCaseError::fail(format!("after={after}: {e}"))),
            }
            prop_assert_eq!(before, hall_state(api, &s.ticket).await, "after={}: the hall changed", after);
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The first text message of a feed (pings may come first: the daemon pings on a timer).
async fn first_text<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> Result<String, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match ws.next().await {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_string()),
            other => return Err(format!("no first message: {other:?}")),
        }
    }
}

/// The example hall.toml, mutated: a line replaced, dropped, doubled, cut short, or noise
/// put in.
fn mutated_hall(example: String) -> impl Strategy<Value = String> {
    let lines: Vec<String> = example.lines().map(str::to_string).collect();
    let n = lines.len();
    let noise = prop_oneof![
        "\\PC{0,40}",
        "[a-z_]{1,16} = (-?[0-9]{1,20}|\"\\PC{0,20}\"|true|\\[\\]|\\{\\})",
        "\\[{1,2}[a-z_.]{0,20}\\]{1,2}",
        Just("hours = [\"25:00-26:00\"]".to_string()),
        Just("session_ttl_s = -1".to_string()),
        Just("kiosk_burst = 99999999999999999999".to_string()),
        Just("tls_cert = \"\"".to_string()),
    ];
    let edit = (0..n, noise, 0..4u8);
    prop::collection::vec(edit, 1..4).prop_map(move |edits| {
        let mut out = lines.clone();
        for (at, noise, how) in edits {
            let at = at.min(out.len().saturating_sub(1));
            match how {
                0 => out[at] = noise,
                1 => {
                    out.remove(at);
                }
                2 => out.insert(at, out[at].clone()),
                _ => out.insert(at, noise),
            }
            if out.is_empty() {
                out.push(String::new());
            }
        }
        out.join("\n")
    })
}

fn check_config(dir: &Path, hall: &str) -> Result<(), TestCaseError> {
    std::fs::write(dir.join("hall.toml"), hall).expect("write hall.toml");
    let loaded = std::panic::catch_unwind(|| hallq::config::load_dir(dir));
    let Ok(loaded) = loaded else {
        return Err(TestCaseError::fail(format!("the loader panicked on:\n{hall}")));
    };
    if let Err(errors) = loaded {
        prop_assert!(!errors.0.is_empty(), "an error list with no error for:\n{hall}");
        for e in &errors.0 {
            prop_assert!(!e.message.trim().is_empty(), "an error without a message: {e:?}");
            let counted_rest = e.file.is_empty() && e.message.contains("more errors");
            let named = e.file == "hall.toml" || support::EXAMPLE_CATALOGUE.contains(&e.file.as_str());
            prop_assert!(counted_rest || named, "{e:?}");
        }
        prop_assert!(!errors.to_string().is_empty());
    }
    Ok(())
}

#[test]
fn the_config_loader_reports_clear_errors_for_any_hall_toml() {
    let example = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/hall.toml"))
        .expect("the example hall.toml");
    let dir = support::config_dir(|h| h);
    let any_text = prop_oneof![
        3 => mutated_hall(example),
        1 => "\\PC{0,300}",
        1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ];
    let result = runner(CASES_DEFAULT * 2).run(&any_text, |hall| check_config(dir.path(), &hall));
    if let Err(e) = result {
        panic!("{e}");
    }
}
