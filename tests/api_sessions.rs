//! Staff sessions across restarts of the real binary (issue 15, point 10: after a restart
//! every clerk was signed out, and on signing in again landed on "开启窗口" for a window
//! already open and calling). Sessions are kept in the data directory, under the hash of
//! their token only; a session ended before the restart (logout, disable, password reset,
//! a user's ninth sign-in) stays ended after it, also after a SIGKILL; a session expires
//! at the same time as without the restart; and no token can be made from what is kept.

use crate::support;

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::{default_start_ms, Api, Daemon, Process, PASSWORD};

async fn login_reply(api: &Api, user: &str, password: &str) -> Value {
    let r = api.post("/api/v1/login", None, Some(json!({ "user": user, "password": password }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// The status of a request only a signed-in user may make.
async fn status_with(api: &Api, token: &str) -> u16 {
    api.get("/api/v1/windows/1", Some(token)).await.status
}

/// Every file under `dir`, read whole.
fn files_under(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read the data directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("a hex token")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clerk_stays_signed_in_across_restarts_and_a_new_sign_in_returns_to_the_open_window() {
    let data = tempfile::tempdir().unwrap();
    let mut hallq = Process::spawn(data.path()).await;
    let api = &hallq.api;
    let clerk = login_reply(api, "clerk1", PASSWORD).await;
    assert_eq!(clerk["window"], Value::Null, "not signed in at any window yet: {clerk}");
    let clerk = clerk["token"].as_str().unwrap().to_string();
    let sup = api.login("supervisor").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let item = api.item_in("A").await;
    let ticket = api.issue(&item).await;
    let called = api.call_next(&clerk, "1").await;
    assert_eq!(called["number"], ticket["number"], "{called}");
    assert_eq!(hallq.terminate().await.code(), Some(0));

    // The tokens are on disk only as hashes: neither the token's text nor its bytes.
    let mut files = Vec::new();
    files_under(data.path(), &mut files);
    assert!(!files.is_empty());
    for token in [&clerk, &sup] {
        for (name, bytes) in &files {
            assert!(!contains(bytes, token.as_bytes()), "{name} holds a token in plain text");
            assert!(!contains(bytes, &hex_decode(token)), "{name} holds a token's bytes");
        }
    }

    // SIGTERM then SIGKILL: each start finds the same sessions.
    let mut hallq = Process::spawn(data.path()).await;
    assert_eq!(status_with(&hallq.api, &clerk).await, 200, "the clerk is still signed in after a restart");
    assert_eq!(hallq.api.get("/api/v1/supervision", Some(&sup)).await.status, 200);
    hallq.kill9();
    let hallq = Process::spawn(data.path()).await;
    let api = &hallq.api;
    let w = api.get("/api/v1/windows/1", Some(&clerk)).await;
    assert_eq!(w.status, 200, "{}", w.text);
    assert_eq!(
        (w.body["window"]["state"].as_str(), w.body["window"]["clerk"].as_str()),
        (Some("calling"), Some("clerk1"))
    );
    // The console acts on with the kept session.
    api.window_ok(&clerk, "1", "serve", None).await;
    // Signing in again (another browser): the answer names the open window to go back to.
    let again = login_reply(api, "clerk1", PASSWORD).await;
    assert_eq!(again["window"], "1", "{again}");
    // A clerk with no open window has none.
    assert_eq!(login_reply(api, "clerk2", PASSWORD).await["window"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_ended_before_a_restart_stay_ended_and_no_token_can_be_made_from_what_is_kept() {
    let data = tempfile::tempdir().unwrap();
    let hallq = Process::spawn(data.path()).await;
    let api = &hallq.api;
    let admin = api.login("admin").await;
    let logged_out = api.login("clerk1").await;
    let disabled = api.login("clerk2").await;
    let reset = api.login("clerk3").await;
    // Nine sign-ins of one user: the first is ended by the ninth (8 per user).
    let mut clerk4 = Vec::new();
    for _ in 0..9 {
        clerk4.push(api.login("clerk4").await);
    }
    assert_eq!(api.post("/api/v1/logout", Some(&logged_out), None).await.status, 200);
    let r = api.post("/api/v1/users/clerk2/disable", Some(&admin), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r =
        api.post("/api/v1/users/clerk3/password", Some(&admin), Some(json!({ "password": "a new password" }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The admin resets their own password and stays signed in, also after the restart.
    let r =
        api.post("/api/v1/users/admin/password", Some(&admin), Some(json!({ "password": "admin's new one" }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // No SIGTERM, no last flush: what was answered was already on disk.
    let mut hallq = hallq;
    hallq.kill9();

    let hallq = Process::spawn(data.path()).await;
    let api = &hallq.api;
    for (what, token) in
        [("logged out", &logged_out), ("disabled", &disabled), ("reset", &reset), ("ninth", &clerk4[0])]
    {
        let r = api.get("/api/v1/windows/1", Some(token)).await;
        assert_eq!(r.status, 401, "the {what} session came back after the restart: {}", r.text);
    }
    for token in &clerk4[1..] {
        assert_eq!(api.get("/api/v1/windows/4", Some(token)).await.status, 200, "clerk4's eight newest stay");
    }
    assert_eq!(api.get("/api/v1/admin", Some(&admin)).await.status, 200, "the admin who reset their own stays");
    // Enabling clerk2 again brings back no old session.
    assert_eq!(api.post("/api/v1/users/clerk2/enable", Some(&admin), None).await.status, 200);
    assert_eq!(api.get("/api/v1/windows/2", Some(&disabled)).await.status, 401);
    // The store's keys are SHA-256 of the tokens: sent as tokens they open nothing.
    let live = &clerk4[8];
    let hashed: String = Sha256::digest(live.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(api.get("/api/v1/windows/4", Some(&hashed)).await.status, 401);
    let upper = live.to_uppercase();
    assert_eq!(api.get("/api/v1/windows/4", Some(&upper)).await.status, 401, "tokens are compared exactly");
    // A restart after a logout of a kept session: still ended.
    assert_eq!(api.post("/api/v1/logout", Some(live), None).await.status, 200);
    let mut hallq = hallq;
    assert_eq!(hallq.terminate().await.code(), Some(0));
    let hallq = Process::spawn(data.path()).await;
    assert_eq!(hallq.api.get("/api/v1/windows/4", Some(live)).await.status, 401);
    assert_eq!(hallq.api.get("/api/v1/windows/4", Some(&clerk4[7])).await.status, 200);
}

#[tokio::test]
async fn a_kept_session_expires_when_it_would_have_without_the_restart() {
    let t0 = default_start_ms();
    let d = Daemon::start_with_clock(t0).await;
    let clerk = d.api.login("clerk1").await;
    // The example hall's session_ttl_s: 12 hours.
    let ttl_ms = 43_200_000;
    d.set_clock(t0 + ttl_ms - 60_000);
    let d = d.restart().await;
    assert_eq!(status_with(&d.api, &clerk).await, 200, "a minute before it expires, after a restart");
    d.set_clock(t0 + ttl_ms + 1_000);
    assert_eq!(status_with(&d.api, &clerk).await, 401, "expired, as it would have without the restart");
    let (data, clock) = d.stop().await;
    let d = Daemon::start_on(Arc::clone(&data), clock).await;
    assert_eq!(status_with(&d.api, &clerk).await, 401, "and dropped at the next start");
}
