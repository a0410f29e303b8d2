//! Resuming the display feed (`/ws/feed?after=SEQ`) against a real daemon: a display
//! that was away gets exactly what it missed, and one that asks from before what the feed
//! holds gets a fresh snapshot.

use crate::feed::{assert_snapshot_shape, seq, waiting};
use crate::support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{Api, Daemon};

/// Issue, open, call, serve, done, call on window 1 — the changes a display misses.
async fn changes_while_away(api: &Api, clerk: &str, code: &str) {
    api.issue(code).await;
    api.issue(code).await;
    api.window_ok(clerk, "1", "serve", None).await;
    api.window_ok(clerk, "1", "done", None).await;
    api.call_next(clerk, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resume_after_seq_gets_exactly_what_was_missed() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let z = api.item_in("Z").await;
    // The witness stays connected throughout and sees everything.
    let mut witness = api.display(None).await;
    witness.expect("snapshot").await;
    let mut display = api.display(None).await;
    display.expect("snapshot").await;

    api.issue(&code).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    api.call_next(&clerk, "1").await;
    // The call's last message is the queue count going back to 0.
    for d in [&mut witness, &mut display] {
        d.until("queue", |m| m["id"] == "A" && m["waiting"] == 0).await;
    }
    let last = seq(&serde_json::from_str(display.seen.last().unwrap()).unwrap());
    display.close().await;

    changes_while_away(api, &clerk, &code).await;
    // A Z ticket last: its queue message marks the end of what was missed.
    api.issue(&z).await;
    let (_, _) = witness.until("queue", |m| m["id"] == "Z" && m["waiting"] == 1).await;
    let missed: Vec<String> =
        witness.seen.iter().filter(|t| seq(&serde_json::from_str(t).unwrap()) > last).cloned().collect();
    // The call, window 1's message (serve and done wait and go out with the call, as the
    // window is after it), and the queue counts of A and Z (counts that change before
    // the next call or `QUEUE_MSG_EVERY` go out together, with the latest figures).
    let kinds: BTreeSet<String> = missed
        .iter()
        .filter_map(|t| serde_json::from_str::<Value>(t).ok()?["type"].as_str().map(String::from))
        .collect();
    assert!(missed.len() >= 4 && kinds.len() == 3, "the witness saw too little: {missed:#?}");

    let mut resumed = api.display(Some(last)).await;
    for expected in &missed {
        let got = resumed.next_json().await;
        assert_ne!(got["type"], "snapshot", "resume within the ring must not resync: {got}");
        assert!(seq(&got) > last, "resume after {last} sent {got}");
        assert_eq!(&serde_json::to_string(&got).unwrap(), &normalise(expected), "resume out of order or altered");
    }
    let seqs: Vec<u64> = resumed.seen.iter().map(|t| seq(&serde_json::from_str(t).unwrap())).collect();
    assert!(seqs.windows(2).all(|p| p[0] <= p[1]), "resumed seqs go back: {seqs:?}");
    // Nothing extra: the next message is the next change.
    api.issue(&z).await;
    let next = resumed.next_json().await;
    assert_eq!(
        (next["type"].as_str(), next["id"].as_str(), next["waiting"].as_u64()),
        (Some("queue"), Some("Z"), Some(2)),
        "{next}"
    );
}

/// A message re-serialised through `Value`, so texts compare independent of key order.
fn normalise(text: &str) -> String {
    serde_json::to_string(&serde_json::from_str::<Value>(text).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resume_from_before_what_is_held_gets_a_snapshot() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let code = d.api.item_in("A").await;
    for _ in 0..3 {
        d.api.issue(&code).await;
    }
    let d = d.restart().await;
    let hall = d.api.get("/api/v1/hall", None).await.body;
    let last = seq(&hall);
    assert!(last > 1, "{hall}");

    // The restarted daemon holds nothing before its start: after=1 resyncs.
    let mut old = d.api.display(Some(1)).await;
    let s = old.expect("snapshot").await;
    assert_snapshot_shape(&s, "2026-03-10");
    assert_eq!(seq(&s), last);
    assert_eq!(waiting(&s, "A"), 3, "the snapshot after a restart has the replayed state: {s}");
    // A position from the future also resyncs.
    let mut future = d.api.display(Some(last + 1000)).await;
    assert_eq!(future.expect("snapshot").await["seq"], last);

    // A display that saw everything before the restart needs nothing but what comes next.
    let mut current = d.api.display(Some(last)).await;
    d.api.issue(&code).await;
    let m = current.next_json().await;
    assert_eq!((m["type"].as_str(), m["waiting"].as_u64()), (Some("queue"), Some(4)), "{m}");
    assert!(seq(&m) > last);
    assert_eq!(old.expect("queue").await, m);
    assert_eq!(future.expect("queue").await, m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_display_back_after_a_restart_is_told_the_calls_it_missed() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let code = d.api.item_in("A").await;
    for _ in 0..3 {
        d.api.issue(&code).await;
    }
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    let mut lobby = d.api.display(None).await;
    lobby.expect("snapshot").await;
    d.api.call_next(&clerk, "1").await;
    lobby.until("call", |m| m["number"] == "A001").await;
    lobby.until("queue", |m| m["id"] == "A" && m["waiting"] == 2).await;
    let last = seq(&serde_json::from_str(lobby.seen.last().unwrap()).unwrap());
    lobby.close().await;
    // A ticket taken while the lobby is away: the restarted daemon holds no message from
    // before its start, so the lobby's position is too old for it and it gets a snapshot.
    d.api.issue(&code).await;

    // The daemon restarts; window 1 finishes A001 and calls A002 before the lobby is back.
    let d = d.restart().await;
    let mut witness = d.api.display(None).await;
    witness.expect("snapshot").await;
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "serve", None).await;
    d.api.window_ok(&clerk, "1", "done", None).await;
    d.api.call_next(&clerk, "1").await;
    let (live, _) = witness.until("call", |m| m["number"] == "A002").await;
    assert_eq!(live["number"], "A002", "{live}");
    assert!(live.get("missed").is_none(), "a live call is not marked: {live}");

    let mut back = d.api.display(Some(last)).await;
    let snapshot = back.expect("snapshot").await;
    let listed: Vec<&str> = snapshot["recent_calls"]
        .as_array()
        .expect("recent calls")
        .iter()
        .filter_map(|c| c["number"].as_str())
        .collect();
    assert_eq!(listed, ["A001", "A002"], "{snapshot}");
    // A002 is told as the call it was (A001, heard before the restart, is not told again).
    let mut told = back.next_json().await;
    assert_eq!(told["missed"], true, "{told}");
    told.as_object_mut().expect("a call object").remove("missed");
    assert_eq!(told, live, "the missed call is the call every connected display got");
    // Then only what comes next.
    d.api.issue(&code).await;
    let next = back.next_json().await;
    assert_eq!((next["type"].as_str(), next["id"].as_str()), (Some("queue"), Some("A")), "{next}");

    // A screen turned on now (no position) lists A002 and says nothing.
    let mut new = d.api.display(None).await;
    new.expect("snapshot").await;
    d.api.issue(&code).await;
    let next = new.next_json().await;
    assert_eq!(next["type"], "queue", "a new screen is told no old call: {next}");
}
