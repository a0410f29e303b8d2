//! A clerk's window over real HTTP against a real daemon: a transfer to a queue keeps the
//! ticket's number and place, one to a window is called there first, and pause, resume
//! and close.

use crate::support;

use serde_json::json;
use support::Daemon;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfer_to_a_queue_keeps_number_and_place() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let a1 = api.issue(&code).await;
    let (c1, c3, c10) = (api.login("clerk1").await, api.login("clerk3").await, api.login("clerk10").await);
    api.window_ok(&c1, "1", "open", None).await;
    assert_eq!(api.call_next(&c1, "1").await["id"], a1["id"]);

    let moved = api.window_ok(&c1, "1", "transfer", Some(json!({ "queue": "B" }))).await;
    assert_eq!(moved["id"], a1["id"]);
    assert_eq!(moved["number"], "A001", "a transferred ticket keeps its number");
    assert_eq!(moved["queue"], "B");
    assert_eq!(moved["status"], "waiting");
    assert!(moved["window"].is_null(), "{moved}");

    let a2 = api.issue(&code).await;
    let a3 = api.issue(&code).await;
    assert_eq!(a2["number"], "A002");

    // Window 3 serves only A: A001 is in B now, so it gets A002.
    api.window_ok(&c3, "3", "open", None).await;
    assert_eq!(api.call_next(&c3, "3").await["id"], a2["id"]);
    // Window 10 serves B and A: A001 kept its place by issue time, before A003.
    api.window_ok(&c10, "10", "open", None).await;
    let got = api.call_next(&c10, "10").await;
    assert_eq!(got["id"], a1["id"], "window 10 must get the transferred A001 before A003: {got}");
    assert_eq!(got["number"], "A001");
    assert_eq!(api.ticket(a3["id"].as_str().unwrap()).await.body["status"], "waiting");

    // Bad targets are refused and change nothing.
    api.window(&c10, "10", "transfer", Some(json!({ "queue": "Q" }))).await.assert_error(404, "unknown_queue");
    api.window(&c10, "10", "transfer", Some(json!({ "window": "10" }))).await.assert_error(400, "transfer_to_self");
    api.window(&c10, "10", "transfer", Some(json!({ "queue": "B", "window": "3" })))
        .await
        .assert_error(400, "bad_transfer");
    assert_eq!(api.ticket(a1["id"].as_str().unwrap()).await.body["status"], "called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfer_to_a_window_is_called_there_first() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    // An A ticket issued first; then a Z ticket that window 3 (A only) would never take.
    let a1 = api.issue(&api.item_in("A").await).await;
    let z1 = api.issue(&api.item_in("Z").await).await;
    assert_eq!(z1["number"], "Z001");
    let (c12, c3) = (api.login("clerk12").await, api.login("clerk3").await);
    // Window 3 is open but paused, so it takes nothing before the transfer arrives.
    api.window_ok(&c3, "3", "open", None).await;
    api.window_ok(&c3, "3", "pause", None).await;
    api.window_ok(&c12, "12", "open", None).await;
    assert_eq!(api.call_next(&c12, "12").await["id"], z1["id"]);
    // A closed window cannot receive a transfer: the ticket would wait for it all day.
    api.window(&c12, "12", "transfer", Some(json!({ "window": "5" }))).await.assert_error(409, "window_closed");
    let moved = api.window_ok(&c12, "12", "transfer", Some(json!({ "window": "3" }))).await;
    assert_eq!(moved["number"], "Z001");
    assert_eq!(moved["status"], "waiting");

    // Window 3 gets the ticket sent to it before the earlier A001.
    api.window_ok(&c3, "3", "resume", None).await;
    let got = api.call_next(&c3, "3").await;
    assert_eq!(got["id"], z1["id"], "window 3 must call the ticket transferred to it first: {got}");
    api.window_ok(&c3, "3", "serve", None).await;
    api.window_ok(&c3, "3", "done", None).await;
    assert_eq!(api.call_next(&c3, "3").await["id"], a1["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pause_resume_close() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    api.issue(&api.item_in("A").await).await;
    let clerk = api.login("clerk1").await;
    // Driving a closed window is refused.
    api.window(&clerk, "1", "next", None).await.assert_error(409, "window_closed");
    api.window_ok(&clerk, "1", "open", None).await;

    let paused = api.window_ok(&clerk, "1", "pause", None).await;
    assert_eq!(paused["state"], "paused");
    api.window(&clerk, "1", "next", None).await.assert_error(409, "window_paused");
    let resumed = api.window_ok(&clerk, "1", "resume", None).await;
    assert_eq!(resumed["state"], "open");
    api.window(&clerk, "1", "resume", None).await.assert_error(409, "not_paused");

    // A window holding a ticket cannot close.
    api.call_next(&clerk, "1").await;
    api.window(&clerk, "1", "close", None).await.assert_error(409, "window_busy");
    api.window_ok(&clerk, "1", "serve", None).await;
    api.window_ok(&clerk, "1", "done", None).await;
    let closed = api.window_ok(&clerk, "1", "close", None).await;
    assert_eq!(closed["state"], "closed");
    assert!(closed["clerk"].is_null(), "{closed}");
    api.window(&clerk, "1", "next", None).await.assert_error(409, "window_closed");
    // The clerk may open it again.
    assert_eq!(api.window_ok(&clerk, "1", "open", None).await["state"], "open");
}
