//! Rate limits of the example hall (`[hall.limits]`): a stuck kiosk key, one address
//! hammering the public endpoints, and failed logins (more in `tests/api_logins.rs`). Each refusal is a 429 with a JSON
//! error and a Retry-After header, and changes nothing. The daemon's clock is injected, so
//! the tests move time instead of waiting. Clients take distinct loopback source addresses
//! (127.0.0.2, 127.0.0.3, ...) to be distinct callers.

use crate::support;

use std::sync::Arc;

use serde_json::{json, Value};
use support::{client_from, daemon_with_example_limits, Daemon, KIOSK};

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn send(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.expect("the daemon answers");
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().expect("ascii").to_string());
    let text = resp.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, retry_after, body }
}

fn assert_limited(a: &Answer, retry_after: &str) {
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(a.body["error"]["code"], "rate_limited", "{}", a.body);
    assert!(a.body["error"]["message"].as_str().is_some_and(|m| m.contains("try again")), "{}", a.body);
    assert_eq!(a.retry_after.as_deref(), Some(retry_after), "{}", a.body);
}

async fn waiting(d: &Daemon) -> u64 {
    let hall = d.api.get("/api/v1/hall", None).await.body;
    hall["queues"].as_array().expect("queues").iter().map(|q| q["waiting"].as_u64().expect("waiting")).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stuck_kiosk_key_prints_five_tickets_then_one_every_two_seconds() {
    let d = daemon_with_example_limits().await;
    let api = &d.api;
    let issue = |token: &'static str| {
        api.http.post(api.url("/api/v1/tickets")).bearer_auth(token).json(&json!({ "service": "SC-0001" }))
    };
    for n in 1..=5 {
        assert_eq!(send(issue(KIOSK)).await.status, 201, "ticket {n} of the burst");
    }
    assert_limited(&send(issue(KIOSK)).await, "2");
    assert_limited(&send(issue(KIOSK)).await, "2");
    assert_eq!(waiting(&d).await, 5, "a refused issue printed nothing");
    // The other kiosk has its own bucket.
    assert_eq!(send(issue("demo-kiosk-2")).await.status, 201);
    // Two seconds later one more ticket, and then a wait again.
    d.set_clock(support::default_start_ms() + 2_000);
    assert_eq!(send(issue(KIOSK)).await.status, 201);
    let again = send(issue(KIOSK)).await;
    assert_limited(&again, "2");
    assert_eq!(waiting(&d).await, 7);
    // The online channel's one token serves a whole portal: a limit of its own, far
    // above a kiosk's (100 at once in the example hall).
    for n in 1..=100 {
        assert_eq!(send(issue("demo-online-1")).await.status, 201, "online ticket {n}");
    }
    let online = send(issue("demo-online-1")).await;
    assert_eq!(online.status, 429, "{}", online.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_is_slowed_down_on_the_public_ticket_and_booking_endpoints() {
    let d = daemon_with_example_limits().await;
    let api = &d.api;
    let (noisy, quiet) = (client_from(2), client_from(3));
    let unknown = "0123456789abcdef0123456789abcdef";
    for _ in 0..60 {
        let a = send(noisy.get(api.url(&format!("/api/v1/tickets/{unknown}")))).await;
        assert_eq!(a.status, 404, "{}", a.body);
    }
    // The same address is now refused on every public ticket and booking endpoint ...
    let booking = json!({ "service": "SC-0001", "day": "2026-03-11", "slot": "09:00", "phone": "13800000001" });
    for req in [
        noisy.get(api.url(&format!("/api/v1/tickets/{unknown}"))),
        noisy.post(api.url(&format!("/api/v1/tickets/{unknown}/cancel"))),
        noisy.post(api.url(&format!("/api/v1/tickets/{unknown}/rating"))).json(&json!({ "score": 5 })),
        noisy.post(api.url("/api/v1/appointments")).json(&booking),
        noisy.get(api.url("/api/v1/appointments/slots?day=2026-03-11")),
        noisy.get(api.url("/api/v1/appointments/K7QX3M2A")),
        noisy.post(api.url("/api/v1/appointments/K7QX3M2A/cancel")),
    ] {
        assert_limited(&send(req).await, "1");
    }
    // ... and the refused booking was not made: the same phone books from another address.
    let made = send(quiet.post(api.url("/api/v1/appointments")).json(&booking)).await;
    assert_eq!(made.status, 201, "{}", made.body);
    // The hall's screens, catalogue and health check are not in that group.
    for path in ["/api/v1/hall", "/api/v1/services", "/healthz"] {
        assert_eq!(send(noisy.get(api.url(path))).await.status, 200, "{path}");
    }
    d.set_clock(support::default_start_ms() + 1_000);
    assert_eq!(send(noisy.get(api.url(&format!("/api/v1/tickets/{unknown}")))).await.status, 404);
    assert_limited(&send(noisy.get(api.url(&format!("/api/v1/tickets/{unknown}")))).await, "1");
}

async fn login(client: &reqwest::Client, api: &support::Api, user: &str, password: &str) -> Answer {
    send(client.post(api.url("/api/v1/login")).json(&json!({ "user": user, "password": password }))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_slow_down_a_name_from_one_address_and_say_nothing_of_who_exists() {
    // The example hall's limits, but an allowance of 3 failures per name past an address's
    // own 5 (instead of 100), so that flooding a name takes few argon2 checks.
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits.login_name = hallq::config::Rate { burst: 3, refill_ms: 10_000 };
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(support::default_start_ms()));
    let d = Daemon::start_config(data, Some(clock), config).await;
    let api = &d.api;
    let (a, b, c, e, g) = (client_from(2), client_from(3), client_from(4), client_from(5), client_from(7));

    // Five wrong passwords for clerk1 from one address ...
    for _ in 0..5 {
        assert_eq!(login(&a, api, "clerk1", "guess").await.status, 401);
    }
    // ... hold up no one: the right password works from elsewhere and from there.
    assert_eq!(login(&b, api, "clerk1", "demo").await.status, 200);
    assert_eq!(login(&a, api, "clerk1", "demo").await.status, 200);
    // Past its own five, that address draws on the name's allowance; when that is gone
    // too, the name is flooded and that address waits, whatever the password.
    for _ in 0..3 {
        assert_eq!(login(&a, api, "clerk1", "guess").await.status, 401);
    }
    let clerk1 = login(&a, api, "clerk1", "demo").await;
    assert_limited(&clerk1, "10");
    // An address without failures of its own is still heard, right or wrong.
    assert_eq!(login(&b, api, "clerk1", "demo").await.status, 200);
    assert_eq!(login(&c, api, "clerk1", "guess").await.status, 401);

    // A name that does not exist is slowed down exactly alike.
    for _ in 0..8 {
        assert_eq!(login(&e, api, "ghost", "guess").await.status, 401);
    }
    let ghost = login(&e, api, "ghost", "demo").await;
    assert_limited(&ghost, "10");
    assert_eq!(ghost.body, clerk1.body, "the refusal must not tell whether a user exists");

    // Ten seconds later the name has one more try, and the right password works.
    d.set_clock(support::default_start_ms() + 10_000);
    assert_eq!(login(&a, api, "clerk1", "demo").await.status, 200);
    // Successful logins never count against anyone.
    for _ in 0..10 {
        assert_eq!(login(&g, api, "supervisor", "demo").await.status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bodies_too_deep_too_long_or_too_large_are_refused_before_parsing() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let deep = br#"{"service": "SC-0001", "priority": [[[[["elderly"]]]]]}"#.to_vec();
    api.post_raw("/api/v1/tickets", Some(KIOSK), deep).await.assert_error(400, "too_deep");
    let long = serde_json::to_vec(&json!({ "service": "S".repeat(hallq::http::BODY_STRING_BYTES_MAX + 1) })).unwrap();
    api.post_raw("/api/v1/tickets", Some(KIOSK), long).await.assert_error(400, "too_long");
    // An escaped quote does not end a string early, nor a bracket inside one count.
    let tricky = serde_json::to_vec(&json!({ "service": "\"[[[[[[[[[[" })).unwrap();
    api.post_raw("/api/v1/tickets", Some(KIOSK), tricky).await.assert_error(400, "unknown_service");
    let comment = "评".repeat(500);
    let ticket = api.issue("SC-0001").await;
    let path = support::visitor_path(&ticket, "rating");
    // A 500-character comment fits the string limit; the rating is refused only because
    // the ticket was not served yet.
    let r = api.post(&path, None, Some(json!({ "score": 5, "comment": comment }))).await;
    assert_eq!(r.status, 409, "{}", r.text);
    let huge = vec![b' '; hallq::http::BODY_BYTES_MAX + 1];
    api.post_raw("/api/v1/tickets", Some(KIOSK), huge).await.assert_error(413, "too_large");
    let login = json!({ "user": "u".repeat(300), "password": "x" });
    api.post("/api/v1/login", None, Some(login)).await.assert_error(400, "too_long");
    // Nothing was issued but the one ticket.
    assert_eq!(waiting(&d).await, 1);
}
