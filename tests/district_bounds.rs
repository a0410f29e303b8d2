//! The district binary's bounds on what strangers may hold or ask for, with a hall over a
//! real `nats-server -js`: wall screens (`/ws/district`) are bounded in all
//! (`SCREENS_MAX`, here from eight addresses, then a screen from a ninth is refused while
//! every screen in place goes on receiving, and a seat given back is taken again); and
//! the online check-in code (`/api/v1/halls/{hall}/tickets/{id}/qr.svg?k=`) is drawn only
//! for the ticket's key (a wrong key gets the very answer of a ticket the hall does not
//! know) and only `PER_ADDRESS` times in a burst from one address, while another address
//! is still served. And each hall's stream is bounded (district.toml's
//! `stream_max_msgs`, here a few records past what it holds): full, it refuses the hall's
//! new records rather than dropping old ones, and the hall keeps every record in its own
//! log and shows the lag and why on `/metrics`. The district gives the stream town-a made
//! the default byte bound; asked for more bytes than the server has room to reserve, it
//! bounds the records and message size still and the hall publishes on.

use std::time::Duration;

use serde_json::json;

use crate::district_crash::DistrictProcess;
use crate::district_feed::{screen, sign_in, until_hall};
use crate::district_restore::stream_of;
use crate::district_uplink::{caught_up, log_of, metric};
use crate::district_view::{district_dir, district_login, start_hall};
use crate::support::nats::Nats;
use crate::support::*;

/// The NATS server's configuration: its JetStream store's size.
const STORE: &str = "jetstream { max_file_store: 6GB }\n";

/// Addresses 127.0.0.2 onwards, `SCREENS_PER_ADDRESS_MAX` screens each, fill `SCREENS_MAX`.
const FIRST_ADDRESS: u8 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_binary_bounds_its_screens_and_its_check_in_codes() {
    let test = "the_district_binary_bounds_its_screens_and_its_check_in_codes";
    // A JetStream store of 6 GiB: room to reserve one hall's default 4 GiB, not 8 GiB.
    let Some(nats) = Nats::start_with_or_skip(test, Some(STORE)) else { return };
    let dir = district_dir(&nats, 30);
    let a_data = std::sync::Arc::new(tempfile::tempdir().expect("a temp dir"));
    let a = start_hall(&dir, "town-a", Some(a_data.clone())).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let district = DistrictProcess::spawn(dir.path(), data.path());
    let token = district_login(&district.api).await;

    // SCREENS_MAX screens, signed in, from as many addresses as the per-address bound needs.
    let (all, per_address) = (hallq::district::feed::SCREENS_MAX, hallq::district::feed::SCREENS_PER_ADDRESS_MAX);
    let addresses = all.div_ceil(per_address) as u8;
    let mut screens = Vec::with_capacity(all);
    for n in 0..all {
        let from = FIRST_ADDRESS + (n / per_address) as u8;
        let mut ws = screen(district.addr, from).await.unwrap_or_else(|s| panic!("screen {n} refused: {s}"));
        sign_in(&mut ws, &token).await;
        screens.push(ws);
    }
    let fresh = FIRST_ADDRESS + addresses;
    assert_eq!(screen(district.addr, fresh).await.err(), Some(503), "a screen past SCREENS_MAX, from a new address");
    a.api.issue("ZX-0001").await;
    for ws in &mut screens {
        until_hall(ws, "town-a", |h| h["tickets_today"] == 1).await;
    }
    // A screen gone gives its seat back (once the district has seen it close).
    drop(screens.pop());
    let mut seated = None;
    for _ in 0..200 {
        if let Ok(ws) = screen(district.addr, fresh).await {
            seated = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut seated = seated.expect("the seat of a closed screen is given back");
    sign_in(&mut seated, &token).await;
    until_hall(&mut seated, "town-a", |h| h["tickets_today"] == 1).await;
    drop((screens, seated));

    // A number taken online; its code for its key, and for a wrong key the answer of a
    // ticket the hall does not know.
    let taken = district.api.post("/api/v1/halls/town-a/tickets", None, Some(json!({ "service": "ZX-0002" }))).await;
    assert_eq!(taken.status, 201, "{}", taken.text);
    let (id, key) = (taken.body["id"].as_str().expect("an id"), taken.body["key"].as_str().expect("a key"));
    let qr = |id: &str, k: &str| format!("/api/v1/halls/town-a/tickets/{id}/qr.svg?k={k}");
    let own = district.api.get(&qr(id, key), None).await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert!(own.text.starts_with("<?xml") && own.text.contains("<svg"), "{}", own.text);
    let wrong = district.api.get(&qr(id, &"0".repeat(key.len())), None).await;
    let unknown = district.api.get(&qr(&"f".repeat(32), key), None).await;
    let short = |r: &Reply| format!("{} {}", r.status, r.text.chars().take(160).collect::<String>());
    assert!(
        wrong.status == unknown.status && wrong.text == unknown.text,
        "a wrong key tells nothing: {} / {}",
        short(&wrong),
        short(&unknown)
    );
    assert_eq!(wrong.status, 403, "{}", short(&wrong));

    // A flood of codes from one address: PER_ADDRESS's burst, then refused; another
    // address is still served.
    let burst = hallq::district::online::PER_ADDRESS.burst as usize;
    let flood = Api { http: client_from(fresh + 1), ..district.api.clone() };
    let mut statuses = Vec::with_capacity(burst * 2);
    for _ in 0..burst * 2 {
        statuses.push(flood.get(&qr(id, key), None).await.status);
    }
    assert!(statuses[..burst].iter().all(|s| *s == 200), "within the burst: {statuses:?}");
    let refused = statuses[burst..].iter().filter(|s| **s == 429).count();
    assert!(refused >= burst / 2, "past the burst, one a second at most: {statuses:?}");
    let other = Api { http: client_from(fresh + 2), ..district.api.clone() };
    assert_eq!(other.get(&qr(id, key), None).await.status, 200, "another address is served");
    drop(district);
    a_full_stream_refuses_and_the_hall_keeps_its_records(&nats, &dir, data.path(), a, a_data.path()).await;
}

/// The district restarted with town-a's stream bounded at two records past what it holds;
/// five tickets later the stream holds exactly its bound, a prefix of the hall's log, and
/// the hall's log holds every record, the rest shown as lag and as `stream_full`.
async fn a_full_stream_refuses_and_the_hall_keeps_its_records(
    nats: &Nats,
    dir: &tempfile::TempDir,
    district_data: &std::path::Path,
    a: Daemon,
    a_data: &std::path::Path,
) {
    caught_up(&a).await;
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("connect to NATS"));
    let config = js.get_stream("HALLQ_town-a").await.expect("town-a's stream").cached_info().config.clone();
    assert_eq!(config.max_bytes, hallq::district::uplink::STREAM_BYTES_MAX, "the district's default reserved");
    let held = stream_of(nats, "town-a").await.len();
    let bound = held + 2;
    let file = dir.path().join("district.toml");
    let text = std::fs::read_to_string(&file).expect("district.toml");
    let more = 2 * hallq::district::uplink::STREAM_BYTES_MAX;
    let bounded = text.replacen(
        "[district]\n",
        &format!("[district]\nstream_max_msgs = {bound}\nstream_max_bytes = {more}\n"),
        1,
    );
    assert_ne!(text, bounded, "district.toml has its [district]");
    std::fs::write(&file, bounded).expect("write district.toml");
    let district = DistrictProcess::spawn(dir.path(), district_data);
    guard("the district bounds town-a's stream", async {
        loop {
            let mut stream = js.get_stream("HALLQ_town-a").await.expect("town-a's stream");
            let config = stream.info().await.expect("its info").config.clone();
            if config.max_messages == bound as i64 {
                assert_eq!(config.discard, async_nats::jetstream::stream::DiscardPolicy::New);
                assert_eq!(config.max_bytes, -1, "no room for {more} bytes: records and size bounded only");
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    for _ in 0..5 {
        a.api.issue("ZX-0001").await;
    }
    let full = "hallq_district_failures_total{reason=\"stream_full\"}";
    guard("town-a's uplink finds its stream full", async {
        loop {
            let r = a.api.get("/metrics", Some("demo-metrics-token")).await;
            if r.text.lines().any(|l| l.split_whitespace().next() == Some(full)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let position = metric(&a, "hallq_log_position").await;
    let lag = metric(&a, "hallq_district_lag_records").await;
    assert!(lag >= 3.0 && lag <= position, "the records the stream refused are the hall's lag: {lag}");
    let in_stream = stream_of(nats, "town-a").await;
    assert_eq!(in_stream.len(), bound, "the full stream took no more and dropped none");
    drop(district);
    a.stop().await;
    let log = log_of(a_data);
    assert_eq!(log.len() as f64, position, "the hall's own log holds every record");
    assert_eq!(in_stream[..], log[..bound], "the stream holds the log's first records, in order");
}
