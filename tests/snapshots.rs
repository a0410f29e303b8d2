//! Day-opening snapshots and the retention of log history, through a real daemon on an
//! injected clock and its real sled log.

use crate::support;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

use hallq::core::model::Ts;
use hallq::core::HallState;
use hallq::store::Store;
use serde_json::json;
use support::{guard, shanghai_ms, Daemon};

/// Moves the clock to `ms` and waits until the engine's tick has opened `day`.
async fn open_day(d: &Daemon, ms: i64, day: &str) {
    d.set_clock(ms);
    guard("the engine opens the new day", async {
        loop {
            let hall = d.api.get("/api/v1/hall", None).await;
            if hall.body["day"] == day {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

/// A day's business: `n` tickets, the first called, served, finished and rated 不满意 with
/// a reason and a comment (so the day opens a bad-rating case, which outlives the day);
/// the others left waiting.
async fn business(d: &Daemon, n: usize, comment: &str) -> Vec<String> {
    let item = d.api.item_in("A").await;
    let mut tickets = Vec::new();
    for _ in 0..n {
        tickets.push(d.api.issue(&item).await);
    }
    let ids: Vec<String> = tickets.iter().map(|t| t["id"].as_str().expect("an id").to_string()).collect();
    let clerk = d.api.login("clerk3").await;
    d.api.window_ok(&clerk, "3", "open", None).await;
    let called = d.api.call_next(&clerk, "3").await;
    d.api.window_ok(&clerk, "3", "serve", None).await;
    d.api.window_ok(&clerk, "3", "done", None).await;
    let called = tickets.iter().find(|t| t["id"] == called["id"]).expect("a ticket issued here was called");
    let path = support::visitor_path(called, "rating");
    let rated = d.api.post(&path, None, Some(json!({ "score": 2, "reason": "slow", "comment": comment }))).await;
    assert_eq!(rated.status, 200, "{}", rated.text);
    ids
}

/// The whole log replayed from its first record, as start-up did before snapshots.
fn full_replay(store: &Store, state: &HallState) -> HallState {
    let mut fresh = HallState::new(state.setup.clone());
    for item in store.records_after(0) {
        let (seq, record) = item.expect("a record reads");
        fresh.apply(seq, &record);
    }
    fresh
}

fn daemon_config(retention_days: u32) -> hallq::config::Config {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.retention_days = retention_days;
    config.setup.rating.closed_kept_days = retention_days;
    config.limits = hallq::config::RateLimits::OFF;
    config
}

#[tokio::test]
async fn start_up_loads_the_days_snapshot_and_replays_only_the_tail() {
    let clock = Arc::new(AtomicI64::new(shanghai_ms(2026, 3, 9, 9, 0, 0)));
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let d = Daemon::start_config(data.clone(), Some(clock.clone()), daemon_config(30)).await;
    business(&d, 3, "第一天").await;
    open_day(&d, shanghai_ms(2026, 3, 10, 9, 0, 0), "2026-03-10").await;
    let today = business(&d, 2, "第二天").await;
    let (data, clock) = d.stop().await;

    let store = Store::open(data.path()).expect("the log opens");
    let setup = Arc::new(daemon_config(30).setup);
    let (state, loaded) = store.load(setup).expect("the log loads");
    let snapshot = loaded.snapshot.expect("start-up used the second day's snapshot");
    assert!(snapshot > 5, "the snapshot follows the first day's records (at {snapshot})");
    assert_eq!(loaded.replayed, state.last_seq - snapshot, "only the records after the snapshot are replayed");
    assert_eq!(state, full_replay(&store, &state), "snapshot + tail differs from replaying the whole log");
    assert_eq!(state.ratings.cases.len(), 2, "the first day's case came through its snapshot");
    drop(store);

    let d = Daemon::start_on(data, clock).await;
    for id in &today {
        let t = d.api.ticket(id).await;
        assert_eq!(t.status, 200, "{}", t.text);
    }
    let sup = d.api.login("supervisor").await;
    let first = d.api.get("/api/v1/stats?day=2026-03-09", Some(&sup)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["total"]["issued"], 3, "the first day's figures come back from the snapshot: {}", first.text);
    assert_eq!(first.body["total"]["completed"], 1, "{}", first.text);
    d.stop().await;
}

#[tokio::test]
async fn records_past_the_retention_go_and_their_figures_stay() {
    const COMMENT: &str = "窗口3态度 13800138000";
    let clock = Arc::new(AtomicI64::new(shanghai_ms(2026, 3, 9, 9, 0, 0)));
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let d = Daemon::start_config(data.clone(), Some(clock.clone()), daemon_config(1)).await;
    let old = business(&d, 3, COMMENT).await;
    open_day(&d, shanghai_ms(2026, 3, 10, 9, 0, 0), "2026-03-10").await;
    business(&d, 1, "ok").await;
    // The third day's opening removes what is more than a day older than it: all of the
    // first day.
    let third = shanghai_ms(2026, 3, 11, 9, 0, 0);
    open_day(&d, third, "2026-03-11").await;
    let (data, clock) = d.stop().await;

    let store = Store::open(data.path()).expect("the log opens");
    let cutoff = Ts(third - 86_400_000);
    let mut kept = 0;
    for item in store.records_after(0) {
        let (seq, record) = item.expect("a record reads");
        assert!(record.at >= cutoff, "record {seq} at {:?} is older than the retention", record.at);
        let text = serde_json::to_string(&record).expect("a record encodes");
        assert!(!text.contains("13800138000"), "record {seq} still holds the old comment: {text}");
        kept += 1;
    }
    assert!(kept > 0, "the second and third days' records stay");
    let setup = Arc::new(daemon_config(1).setup);
    let (state, loaded) = store.load(setup).expect("a pruned log still loads, from its snapshot");
    assert!(loaded.snapshot.is_some());
    assert!(old.iter().all(|id| state.tickets.keys().all(|t| t.to_string() != *id)));
    drop(store);

    let d = Daemon::start_config(data, clock, daemon_config(1)).await;
    let sup = d.api.login("supervisor").await;
    let first = d.api.get("/api/v1/stats?day=2026-03-09", Some(&sup)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["total"]["issued"], 3, "the first day's figures outlive its records: {}", first.text);
    assert_eq!(first.body["total"]["rated"], 1, "{}", first.text);
    d.stop().await;
}
