//! The district's view of its halls: two hall daemons (the example district's town-a and
//! town-b) publish to a real `nats-server -js`, and the district (in this process, on
//! port 0) shows each hall's figures. The oracle is each hall's own API (`/api/v1/hall`,
//! `/api/v1/stats`), never the district's code. The district is stopped and started again
//! on its data directory, also after the server lost its durable consumer: it reads on
//! from where its replica stands, and each record counts once. (`district_crash.rs`
//! kills the binary mid-consume.)

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hallq::district::{DistrictError, DistrictOptions};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::nats::Nats;
use crate::support::*;

const SUPERVISOR: &str = "district-super";
const HALLS: [&str; 2] = ["town-a", "town-b"];

/// The example district with its two townships only, linked to `nats`, with
/// `online_seconds` set.
pub(crate) fn district_dir(nats: &Nats, online_s: u32) -> TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/district");
    let dir = tempfile::tempdir().expect("a temp dir");
    let fix = |text: String| {
        text.replace("nats://127.0.0.1:4222", &nats.url())
            .replace("online_seconds = 30", &format!("online_seconds = {online_s}"))
    };
    let read = |p: &str| std::fs::read_to_string(src.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    std::fs::write(dir.path().join("district.toml"), fix(read("district.toml"))).expect("write");
    std::fs::write(dir.path().join("services.toml"), read("services.toml")).expect("write");
    for hall in HALLS {
        let folder = dir.path().join("halls").join(hall);
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join("hall.toml"), fix(read(&format!("halls/{hall}/hall.toml")))).expect("write");
    }
    dir
}

/// A hall daemon of the district's folder `hall`.
pub(crate) async fn start_hall(dir: &TempDir, hall: &str, data: Option<Arc<TempDir>>) -> Daemon {
    let mut config = hallq::config::load_dir(&dir.path().join("halls").join(hall)).expect("the hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let data = data.unwrap_or_else(|| Arc::new(tempfile::tempdir().expect("a temp dir")));
    Daemon::start_config(data, None, config).await
}

/// The district in this process, on port 0.
pub(crate) struct District {
    pub(crate) api: Api,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), DistrictError>>>,
}

impl District {
    pub(crate) async fn start(dir: &TempDir, data: &TempDir) -> Self {
        let config = hallq::config::load_district_dir(dir.path()).expect("the district loads");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let api = Api::new(listener.local_addr().expect("an address"));
        let (tx, rx) = oneshot::channel::<()>();
        let options = DistrictOptions { data_dir: data.path().to_path_buf(), clock: None };
        let task = tokio::spawn(hallq::district::run(listener, config, options, async move {
            let _ = rx.await;
        }));
        let health = api.get("/healthz", None).await;
        assert_eq!(health.status, 200, "{}", health.text);
        Self { api, stop: Some(tx), task: Some(task) }
    }

    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().expect("a running district");
        let ended = guard("the district's stop", task).await.expect("the district did not panic");
        ended.expect("the district stopped without error");
    }

    pub(crate) async fn login(&self) -> String {
        district_login(&self.api).await
    }

    async fn hall(&self, token: &str, hall: &str) -> Value {
        district_hall(&self.api, token, hall).await
    }
}

/// A district supervisor's session.
pub(crate) async fn district_login(api: &Api) -> String {
    let body = json!({ "user": SUPERVISOR, "password": PASSWORD });
    let r = api.post("/api/v1/district/login", None, Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["token"].as_str().expect("a token").to_string()
}

/// The district's entry for `hall`.
pub(crate) async fn district_hall(api: &Api, token: &str, hall: &str) -> Value {
    let r = api.get("/api/v1/district", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let halls = r.body["halls"].as_array().expect("halls").clone();
    halls.into_iter().find(|h| h["id"] == hall).unwrap_or_else(|| panic!("no {hall} in {}", r.text))
}

impl Drop for District {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// What the hall's own API says: waiting, open windows, tickets issued today.
async fn own_figures(hall: &Daemon, token: &str) -> [u64; 3] {
    let snapshot = hall.api.get("/api/v1/hall", None).await;
    assert_eq!(snapshot.status, 200, "{}", snapshot.text);
    let waiting =
        snapshot.body["queues"].as_array().expect("queues").iter().filter_map(|q| q["waiting"].as_u64()).sum();
    let windows = snapshot.body["windows"].as_array().expect("windows");
    let open = windows.iter().filter(|w| w["state"] != "closed").count() as u64;
    let stats = hall.api.get("/api/v1/stats", Some(token)).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    [waiting, open, stats.body["total"]["issued"].as_u64().expect("issued")]
}

fn district_figures(h: &Value) -> [u64; 3] {
    let n = |k: &str| h[k].as_u64().unwrap_or_else(|| panic!("{k} in {h}"));
    [n("waiting"), n("open_windows"), n("tickets_today")]
}

/// Waits (bounded) until the district shows each hall as the hall itself does, and
/// asserts it.
pub(crate) async fn agrees(district: &Api, token: &str, halls: &[(&str, &Daemon, &str)]) {
    for &(id, hall, hall_token) in halls {
        let mut last = (Value::Null, [0; 3]);
        for _ in 0..300 {
            let own = own_figures(hall, hall_token).await;
            let seen = district_hall(district, token, id).await;
            if district_figures(&seen) == own && seen["lag_records"] == 0 {
                break;
            }
            last = (seen, own);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let own = own_figures(hall, hall_token).await;
        let seen = district_hall(district, token, id).await;
        assert_eq!(
            district_figures(&seen),
            own,
            "{id}: the district shows {seen}, the hall says {own:?} (before: {last:?})"
        );
    }
}

/// `/api/v1/district/stats` of the halls' day holds, per hall, the figures of the hall's
/// own `/api/v1/stats` (total, queues, windows), and their sum; a day of nothing is empty.
pub(crate) async fn stats_agree(district: &District, token: &str, halls: &[(&str, &Daemon, &str)]) {
    let own = halls[0].1.api.get("/api/v1/stats", Some(halls[0].2)).await;
    let day = own.body["day"].as_str().expect("the hall's day").to_string();
    let seen = district.api.get(&format!("/api/v1/district/stats?day={day}"), Some(token)).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    let mut sum = [0, 0];
    for &(id, hall, hall_token) in halls {
        let own = hall.api.get(&format!("/api/v1/stats?day={day}"), Some(hall_token)).await;
        let mine = seen.body["halls"].as_array().expect("halls").iter().find(|h| h["id"] == id).expect("the hall");
        assert_eq!(mine["day"], day.as_str(), "{id}");
        for part in ["total", "queues", "windows"] {
            assert_eq!(mine[part], own.body[part], "{id}'s {part} on {day}");
        }
        for (n, key) in sum.iter_mut().zip(["issued", "called"]) {
            *n += own.body["total"][key].as_u64().expect("a count");
        }
    }
    let total = &seen.body["total"];
    assert_eq!([total["issued"].as_u64(), total["called"].as_u64()], sum.map(Some), "{}", seen.text);
    let empty = district.api.get("/api/v1/district/stats?day=2020-01-01", Some(token)).await;
    assert_eq!(empty.body["total"]["issued"], 0, "{}", empty.text);
    district.api.get("/api/v1/district/stats?day=yesterday", Some(token)).await.assert_error(400, "bad_day");
    district.api.get("/api/v1/district/stats", None).await.assert_error(401, "unauthorized");
}

pub(crate) async fn issue(hall: &Daemon, item: &str, n: usize) {
    for _ in 0..n {
        hall.api.issue(item).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_shows_each_hall_as_the_hall_does_across_restarts() {
    let Some(nats) = Nats::start_or_skip("the_district_shows_each_hall_as_the_hall_does_across_restarts") else {
        return;
    };
    let dir = district_dir(&nats, 30);
    let (a, b) = (start_hall(&dir, "town-a", None).await, start_hall(&dir, "town-b", None).await);
    let (sa, sb) = (a.api.login("super").await, b.api.login("super").await);
    issue(&a, "ZX-0001", 3).await;
    issue(&a, "ZX-0003", 2).await;
    issue(&b, "ZX-0002", 4).await;
    let clerk = a.api.login("clerk1").await;
    a.api.window_ok(&clerk, "1", "open", None).await;
    a.api.call_next(&clerk, "1").await;
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    let token = district.login().await;
    agrees(&district.api, &token, &[("town-a", &a, &sa), ("town-b", &b, &sb)]).await;
    assert_eq!(district.hall(&token, "town-a").await["open_windows"], 1, "the oracle saw window 1 open");

    // The district stops; the halls go on; the district catches up from its replica and
    // its durable consumer, counting each record once.
    district.stop().await;
    issue(&b, "ZX-0004", 3).await;
    a.api.window_ok(&clerk, "1", "serve", None).await;
    a.api.window_ok(&clerk, "1", "done", None).await;
    let district = District::start(&dir, &data).await;
    let token = district.login().await;
    agrees(&district.api, &token, &[("town-a", &a, &sa), ("town-b", &b, &sb)]).await;
    district.stop().await;

    // The server forgets the district's consumer: the district reads on from where its
    // replica stands, missing nothing and counting nothing twice.
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("connect to NATS"));
    for hall in HALLS {
        let stream = js.get_stream(format!("HALLQ_{hall}")).await.expect("the hall's stream");
        stream.delete_consumer("district-qingchuan").await.expect("the district's consumer existed");
    }
    issue(&a, "ZX-0002", 2).await;
    let district = District::start(&dir, &data).await;
    let token = district.login().await;
    agrees(&district.api, &token, &[("town-a", &a, &sa), ("town-b", &b, &sb)]).await;
    assert_eq!(district.hall(&token, "town-a").await["tickets_today"], 7);
    assert_eq!(district.hall(&token, "town-b").await["tickets_today"], 7);
    let totals = district.api.get("/api/v1/district", Some(&token)).await.body["totals"].clone();
    assert_eq!((totals["halls"].as_u64(), totals["tickets_today"].as_u64()), (Some(2), Some(14)), "{totals}");
    stats_agree(&district, &token, &[("town-a", &a, &sa), ("town-b", &b, &sb)]).await;
    district.stop().await;
    let _ = (a.stop().await, b.stop().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_hall_stays_online_and_a_stopped_one_goes_offline_forged_beats_or_not() {
    let Some(nats) =
        Nats::start_or_skip("an_idle_hall_stays_online_and_a_stopped_one_goes_offline_forged_beats_or_not")
    else {
        return;
    };
    // Heartbeats every 2 s (uplink::BEAT_EVERY) against 6 s.
    let dir = district_dir(&nats, 6);
    let (a, b) = (start_hall(&dir, "town-a", None).await, start_hall(&dir, "town-b", None).await);
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    let token = district.login().await;
    for hall in HALLS {
        let mut online = false;
        for _ in 0..300 {
            online = district.hall(&token, hall).await["online"] == true;
            if online {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(online, "{hall} never came online");
    }
    // Idle past online_seconds: the heartbeats alone keep both online.
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        for hall in HALLS {
            let seen = district.hall(&token, hall).await;
            assert_eq!(seen["online"], true, "an idle {hall} went offline: {seen}");
        }
    }
    b.stop().await;
    // Beats that are not town-b's to give: one past a beat's size (valid JSON, padded) in
    // its name. They must not keep it online.
    let forger = async_nats::connect(nats.url()).await.expect("connect to NATS");
    let padded = format!("{{\"seq\": 1, \"at_ms\": 1}}{}", " ".repeat(300));
    let mut seen = Value::Null;
    for _ in 0..300 {
        forger.publish("hallq.hall.town-b.beat", padded.clone().into()).await.expect("publish");
        forger.flush().await.expect("flush");
        seen = district.hall(&token, "town-b").await;
        if seen["online"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["online"], false, "a stopped hall stays online: {seen}");
    assert_eq!(district.hall(&token, "town-a").await["online"], true);
    district.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_refuses_strangers_floods_and_big_bodies() {
    let Some(nats) = Nats::start_or_skip("the_district_refuses_strangers_floods_and_big_bodies") else { return };
    let dir = district_dir(&nats, 30);
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    district.api.get("/api/v1/district", None).await.assert_error(401, "unauthorized");
    district.api.get("/api/v1/district", Some("not-a-session")).await.assert_error(401, "unauthorized");
    let big = format!("{{\"user\":\"{SUPERVISOR}\",\"password\":\"{}\"}}", "x".repeat(20 * 1024));
    let r = district.api.post_raw("/api/v1/district/login", None, big.into_bytes()).await;
    r.assert_error(413, "too_large");
    // Wrong passwords: five are checked, then the name is refused from this address,
    // the right password too, before any check.
    let wrong = json!({ "user": SUPERVISOR, "password": "wrong" });
    let mut codes = Vec::new();
    for _ in 0..8 {
        codes.push(district.api.post("/api/v1/district/login", None, Some(wrong.clone())).await.status);
    }
    assert_eq!(codes, [401, 401, 401, 401, 401, 429, 429, 429]);
    let right = json!({ "user": SUPERVISOR, "password": PASSWORD });
    district.api.post("/api/v1/district/login", None, Some(right.clone())).await.assert_error(429, "rate_limited");
    // Another address is not held up by this one's failures.
    let other = Api { http: client_from(7), ..district.api.clone() };
    let r = other.post("/api/v1/district/login", None, Some(right)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.body["token"].as_str().expect("a token").to_string();
    assert_eq!(district.api.get("/api/v1/district", Some(&token)).await.status, 200);
    district.stop().await;
}
