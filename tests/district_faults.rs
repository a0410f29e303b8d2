//! The district's faults (issue 18): NATS down while two halls issue and call, then back
//! with its store; halls whose clocks are minutes off, one whose service day rolled over
//! while NATS was down; and a hall's stream that lost messages the district never read.
//! The oracles are each hall's own API (`/api/v1/hall`, `/api/v1/stats?day=`) and its
//! log on disk against its stream, never the district's code.

use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use serde_json::Value;

use crate::district_restore::stream_of;
use crate::district_uplink::{caught_up, log_of, metric};
use crate::district_view::{agrees, district_dir, district_hall, issue, start_hall, stats_agree, District};
use crate::support::nats::Nats;
use crate::support::*;

/// Waits (bounded) until the hall's link is down and owes at least `owed` records: the
/// hall worked on without NATS.
async fn link_down_owing(hall: &Daemon, owed: f64) {
    let mut seen = (0.0, 1.0);
    for _ in 0..200 {
        seen = (metric(hall, "hallq_district_lag_records").await, metric(hall, "hallq_district_connected").await);
        if seen.0 >= owed && seen.1 == 0.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the link should be down owing {owed} records: lag {}, connected {}", seen.0, seen.1);
}

/// Serves the next ticket at window 1 through to done.
async fn call_and_finish(hall: &Daemon, clerk: &str) {
    hall.api.call_next(clerk, "1").await;
    hall.api.window_ok(clerk, "1", "serve", None).await;
    hall.api.window_ok(clerk, "1", "done", Some(serde_json::json!({ "outcome": "completed" }))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halls_work_on_while_nats_is_down_and_a_lost_stream_start_is_shown_not_counted() {
    let Some(mut nats) =
        Nats::start_or_skip("halls_work_on_while_nats_is_down_and_a_lost_stream_start_is_shown_not_counted")
    else {
        return;
    };
    let dir = district_dir(&nats, 30);
    let (a, b) = (start_hall(&dir, "town-a", None).await, start_hall(&dir, "town-b", None).await);
    let (sa, sb) = (a.api.login("super").await, b.api.login("super").await);
    let (ca, cb) = (a.api.login("clerk1").await, b.api.login("clerk1").await);
    a.api.window_ok(&ca, "1", "open", None).await;
    b.api.window_ok(&cb, "1", "open", None).await;
    issue(&a, "ZX-0001", 2).await;
    issue(&b, "ZX-0002", 2).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    let token = district.login().await;
    let halls = [("town-a", &a, sa.as_str()), ("town-b", &b, sb.as_str())];
    agrees(&district.api, &token, &halls).await;

    // NATS dies; both halls go on issuing and calling, and owe the stream what they did.
    nats.kill9();
    issue(&a, "ZX-0001", 3).await;
    issue(&b, "ZX-0002", 3).await;
    call_and_finish(&a, &ca).await;
    call_and_finish(&b, &cb).await;
    a.api.call_next(&ca, "1").await;
    link_down_owing(&a, 6.0).await;
    link_down_owing(&b, 6.0).await;

    // NATS comes back with its store: the district comes level with each hall exactly.
    nats.restart();
    agrees(&district.api, &token, &halls).await;
    stats_agree(&district, &token, &halls).await;
    assert_eq!(district_hall(&district.api, &token, "town-a").await["tickets_today"], 5);
    assert_eq!(district_hall(&district.api, &token, "town-a").await["gap"], Value::Null);
    let read = stream_of(&nats, "town-a").await.len() as u64;
    district.stop().await;

    // Town-a logs on while the district is away; then its stream loses all but its last
    // message before the district reads them (as if retention_days had passed).
    issue(&a, "ZX-0001", 3).await;
    caught_up(&a).await;
    let (a_data, _) = a.stop().await;
    let (b_data, _) = b.stop().await;
    for (hall, data) in [("town-a", a_data.path()), ("town-b", b_data.path())] {
        assert_eq!(stream_of(&nats, hall).await, log_of(data), "{hall}'s stream holds its log once, in order");
    }
    let last = stream_of(&nats, "town-a").await.len() as u64;
    assert!(last >= read + 3, "three more records after the district's last read");
    let js = jetstream::new(async_nats::connect(nats.url()).await.expect("connect to NATS"));
    let stream = js.get_stream("HALLQ_town-a").await.expect("town-a's stream");
    stream.purge().keep(1).await.expect("purge");

    // The district says where the hole is, and counts nothing after it.
    let district = District::start(&dir, &data).await;
    let token = district.login().await;
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = district_hall(&district.api, &token, "town-a").await;
        if !seen["gap"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen["gap"], serde_json::json!({ "missing_from": read + 1, "missing_to": last - 1 }), "{seen}");
    assert_eq!(seen["tickets_today"], 5, "the figures stay as before the hole: {seen}");
    assert_eq!(district_hall(&district.api, &token, "town-b").await["gap"], Value::Null);
    let stats = district.api.get("/api/v1/district/stats", Some(&token)).await;
    let town_a = stats.body["halls"].as_array().expect("halls").iter().find(|h| h["id"] == "town-a").cloned();
    assert_eq!(town_a.map(|h| h["gap"]["missing_from"].clone()), Some((read + 1).into()), "{}", stats.text);
    district.stop().await;
}

/// A hall of the district's folder `hall` on its own clock, starting at `ms`.
async fn start_hall_at(dir: &tempfile::TempDir, hall: &str, ms: i64) -> Daemon {
    let mut config = hallq::config::load_dir(&dir.path().join("halls").join(hall)).expect("the hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    Daemon::start_config(data, Some(Arc::new(AtomicI64::new(ms))), config).await
}

/// Moves the hall's clock to `ms` and waits until its engine has opened `day`.
async fn open_day(hall: &Daemon, ms: i64, day: &str) {
    hall.set_clock(ms);
    guard("the hall opens its new day", async {
        while hall.api.get("/api/v1/hall", None).await.body["day"] != day {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// Waits (bounded) until the district's figures of `day` for hall `id` are the hall's
/// own, and asserts it; the number of tickets issued that day.
async fn day_agrees(district: &District, token: &str, id: &str, hall: &Daemon, hall_token: &str, day: &str) -> u64 {
    let own = hall.api.get(&format!("/api/v1/stats?day={day}"), Some(hall_token)).await;
    assert_eq!(own.status, 200, "{}", own.text);
    let mut mine = Value::Null;
    for _ in 0..200 {
        let seen = district.api.get(&format!("/api/v1/district/stats?day={day}"), Some(token)).await;
        mine = seen.body["halls"].as_array().expect("halls").iter().find(|h| h["id"] == id).cloned().expect("the hall");
        if ["total", "queues", "windows"].iter().all(|p| mine[*p] == own.body[*p]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for part in ["total", "queues", "windows"] {
        assert_eq!(mine[part], own.body[part], "{id}'s {part} on {day}");
    }
    own.body["total"]["issued"].as_u64().expect("issued")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clocks_minutes_off_and_a_day_rolled_over_offline_land_in_the_halls_own_days() {
    let Some(mut nats) =
        Nats::start_or_skip("clocks_minutes_off_and_a_day_rolled_over_offline_land_in_the_halls_own_days")
    else {
        return;
    };
    let dir = district_dir(&nats, 30);
    // Near midnight: town-a's clock is four minutes slow, town-b's three minutes fast.
    let (d0, d1) = ("2026-03-10", "2026-03-11");
    let a = start_hall_at(&dir, "town-a", shanghai_ms(2026, 3, 10, 23, 36, 0)).await;
    let b = start_hall_at(&dir, "town-b", shanghai_ms(2026, 3, 10, 23, 43, 0)).await;
    let (sa, sb) = (a.api.login("super").await, b.api.login("super").await);
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    let token = district.login().await;
    issue(&a, "ZX-0001", 2).await;
    issue(&b, "ZX-0002", 2).await;

    // NATS dies. Town-b ends its day and opens the next one offline; town-a, slow, is
    // still on the old day when the true time has passed midnight.
    nats.kill9();
    b.set_clock(shanghai_ms(2026, 3, 10, 23, 55, 0));
    issue(&b, "ZX-0002", 1).await;
    open_day(&b, shanghai_ms(2026, 3, 11, 0, 0, 5), d1).await;
    issue(&b, "ZX-0004", 3).await;
    let cb = b.api.login("clerk1").await;
    b.api.window_ok(&cb, "1", "open", None).await;
    call_and_finish(&b, &cb).await;
    a.set_clock(shanghai_ms(2026, 3, 10, 23, 58, 0));
    issue(&a, "ZX-0001", 2).await;
    nats.restart();

    // Each hall on its own day: today's figures and the day by default are the hall's.
    let halls = [("town-a", &a, sa.as_str()), ("town-b", &b, sb.as_str())];
    agrees(&district.api, &token, &halls).await;
    let stats = district.api.get("/api/v1/district/stats", Some(&token)).await;
    let days: Vec<&Value> = stats.body["halls"].as_array().expect("halls").iter().map(|h| &h["day"]).collect();
    assert_eq!(days, [d0, d1], "each hall's own service day by default: {}", stats.text);

    // Town-a crosses midnight by its own clock; every record lands on its hall's day.
    open_day(&a, shanghai_ms(2026, 3, 11, 0, 1, 0), d1).await;
    issue(&a, "ZX-0003", 1).await;
    let mut issued = Vec::new();
    for day in [d0, d1] {
        issued.push(day_agrees(&district, &token, "town-a", &a, &sa, day).await);
        issued.push(day_agrees(&district, &token, "town-b", &b, &sb, day).await);
    }
    assert_eq!(issued, [4, 3, 1, 3], "issued per day (town-a, town-b on {d0}, then on {d1})");
    district.stop().await;
    let _ = (a.stop().await, b.stop().await);
}
