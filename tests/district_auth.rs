//! The halls' NATS identities (issue 18): `hallq nats-config` makes a seed per hall and
//! one for the district and nats-server's `authorization` block; a real nats-server reads
//! that block. The district and both townships, each connecting with its own seed, work as
//! before (figures, online requests, a referral, a restore from the stream). Then town-a's seed in an
//! intruder's hands: every attempt on town-b (its log subject, its cmd subject alone or in
//! the halls' queue group, the district's inbox, its stream deleted or purged, a stream or
//! consumer that would capture or inject cmd traffic, a visitor's operation on town-b's
//! cmd subject, a referral on town-b's peer subject for town-c) is refused by the server;
//! a visitor's operation (take, book, status, check-in code) asked on town-b's peer
//! subject for town-a is refused by town-b (403: a peer asks about referrals only); and the
//! oracle (town-b's stream, read with the district's key, and town-b answering every
//! online request) shows nothing changed. A wrong seed, or none, cannot connect.

use std::path::Path;

use async_nats::{ConnectOptions, Event, ServerError};
use futures_util::{FutureExt, StreamExt};
use hallq::config::DistrictLink;
use hallq::district::{auth, natsconf, restore};
use tempfile::TempDir;
use tokio::sync::mpsc;

use crate::district_view::{agrees, district_dir, issue, start_hall, District};
use crate::support::nats::Nats;
use crate::support::*;

const DISTRICT_ID: &str = "qingchuan";

/// The example district's seeds and authorization block, written into a temp dir.
fn keys() -> (TempDir, String) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/district");
    let config = hallq::config::load_district_dir(&example).expect("the example district loads");
    let out = tempfile::tempdir().expect("a temp dir");
    natsconf::write(&config, &example, out.path()).expect("nats-config writes");
    let block = std::fs::read_to_string(out.path().join(natsconf::AUTH_FILE)).expect("auth.conf");
    (out, block)
}

/// `nkey_file` added after `after` in `file`.
fn add_key(file: &Path, after: &str, seed: &Path) {
    let text = std::fs::read_to_string(file).expect("read");
    assert!(text.contains(after), "{} has no {after:?}", file.display());
    let line = format!("{after}\nnkey_file = \"{}\"", seed.display());
    std::fs::write(file, text.replacen(after, &line, 1)).expect("write");
}

fn seed(keys: &TempDir, whose: &str) -> std::path::PathBuf {
    keys.path().join(format!("{whose}.nk"))
}

/// Hall `hall`'s link with the seed in `seed_file`.
fn link(nats: &Nats, hall: &str, seed_file: &Path) -> DistrictLink {
    DistrictLink {
        nats_url: nats.url(),
        hall_id: hall.to_string(),
        creds_file: None,
        nkey_file: Some(seed_file.to_path_buf()),
        tls_ca_file: None,
        referrals: Default::default(),
    }
}

/// A connection as hall `hall` (its inbox and seed, as the daemon connects), and the
/// server's error messages to it.
async fn connect_as(nats: &Nats, hall: &str, seed_file: &Path) -> (async_nats::Client, mpsc::Receiver<String>) {
    let (tx, rx) = mpsc::channel(256);
    let options = ConnectOptions::new().event_callback(move |event| {
        let tx = tx.clone();
        async move {
            if let Event::ServerError(ServerError::Other(message)) = event {
                let _ = tx.try_send(message);
            }
        }
    });
    let options = auth::hall_options(options, &link(nats, hall, seed_file)).await.expect("the seed reads");
    (options.connect(nats.url()).await.expect("the hall's own seed connects"), rx)
}

/// Waits for the server's permissions violation naming `subject`.
async fn refused(errors: &mut mpsc::Receiver<String>, subject: &str) {
    let wait = async {
        while let Some(message) = errors.recv().await {
            if message.to_lowercase().contains("permissions violation") && message.contains(subject) {
                return;
            }
        }
        panic!("the connection ended before the server refused {subject}");
    };
    guard(&format!("the server's refusal of {subject}"), wait).await;
}

/// Town-b's stream as the district's key reads it: its message count.
async fn messages_of(district_js: &async_nats::jetstream::Context, hall: &str) -> u64 {
    let mut stream = district_js.get_stream(format!("HALLQ_{hall}")).await.expect("the hall's stream exists");
    stream.info().await.expect("its info").state.messages
}

/// `n` online requests to town-b through the district: each answered by town-b.
async fn town_b_answers(district: &District, n: usize) {
    for _ in 0..n {
        let r = district.api.get("/api/v1/halls/town-b/services", None).await;
        assert_eq!(r.status, 200, "town-b answers through the district: {}", r.text);
    }
}

/// Town-a's key in an intruder's hands: each attempt on town-b, and on any stream, is
/// refused by the server; town-b's stream is as it was and town-b answers every request.
async fn intruder_is_refused(
    nats: &Nats,
    keys: &TempDir,
    district: &District,
    district_js: &async_nats::jetstream::Context,
) {
    let b_before = messages_of(district_js, "town-b").await;
    let (intruder, mut errors) = connect_as(nats, "town-a", &seed(keys, "hall-town-a")).await;
    intruder.publish("hallq.hall.town-b.log", "{}".into()).await.expect("sent");
    refused(&mut errors, "hallq.hall.town-b.log").await;
    let alone = intruder.subscribe("hallq.hall.town-b.cmd").await.expect("asked");
    refused(&mut errors, "hallq.hall.town-b.cmd").await;
    let in_group = intruder.queue_subscribe("hallq.hall.town-b.cmd", "hallq-hall".into()).await.expect("asked");
    refused(&mut errors, "hallq.hall.town-b.cmd").await;
    let replies = intruder.subscribe("_INBOX.district.qingchuan.>").await.expect("asked");
    refused(&mut errors, "_INBOX.district.qingchuan.>").await;
    for api in [
        "STREAM.DELETE.HALLQ_town-b",
        "STREAM.PURGE.HALLQ_town-b",
        "STREAM.DELETE.HALLQ_town-a",
        "STREAM.PURGE.HALLQ_town-a",
        "STREAM.UPDATE.HALLQ_town-a",
        "STREAM.CREATE.HALLQ_town-a",
        "STREAM.CREATE.HALLQ_town-a-copy",
        "CONSUMER.CREATE.HALLQ_town-a",
        "CONSUMER.DELETE.HALLQ_town-b.district-qingchuan",
    ] {
        let subject = format!("$JS.API.{api}");
        intruder.publish(subject.clone(), "{}".into()).await.expect("sent");
        refused(&mut errors, &subject).await;
    }
    peer_asks_referrals_only(&intruder, &mut errors).await;
    // Town-b answers every online request, and the intruder heard none of them: what the
    // server had for it came before the answer to its own ping.
    town_b_answers(district, 4).await;
    intruder.flush().await.expect("a round trip");
    for (what, mut sub) in [("alone", alone), ("in the queue group", in_group), ("the district's inbox", replies)] {
        assert!(sub.next().now_or_never().flatten().is_none(), "the intruder heard town-b's cmd traffic ({what})");
    }
    assert_eq!(messages_of(district_js, "town-b").await, b_before, "town-b's stream is as it was");
}

/// Town-a's key asks town-b for a visitor's operations: on town-b's cmd subject (the
/// district's) the server refuses, on its peer subject for another hall too, and on its
/// peer subject for town-a town-b answers 403 and decides nothing.
async fn peer_asks_referrals_only(intruder: &async_nats::Client, errors: &mut mpsc::Receiver<String>) {
    let op = |op: &str| {
        let request = serde_json::json!({
            "v": 1, "op": op, "arg": "0123456789abcdef0123456789abcdef", "k": "00ff",
            "body": { "service": "ZX-0002" }, "idempotency_key": "intruder-1", "client": "127.0.0.1"
        });
        axum::body::Bytes::from(serde_json::to_vec(&request).expect("json"))
    };
    intruder.publish("hallq.hall.town-b.cmd", op("take")).await.expect("sent");
    refused(errors, "hallq.hall.town-b.cmd").await;
    intruder.publish("hallq.hall.town-b.peer.town-c", op("withdraw_referral")).await.expect("sent");
    refused(errors, "hallq.hall.town-b.peer.town-c").await;
    for name in ["take", "book", "ticket", "qr", "cancel_ticket", "services"] {
        let asked =
            async_nats::client::Request::new().payload(op(name)).timeout(Some(std::time::Duration::from_secs(3)));
        let answer = intruder.send_request("hallq.hall.town-b.peer.town-a", asked).await;
        let answer = answer.unwrap_or_else(|e| panic!("town-b answers {name} on its peer subject: {e}"));
        let status = answer.headers.as_ref().and_then(|h| h.get(hallq::district::cmd::STATUS_HEADER));
        let body = String::from_utf8_lossy(&answer.payload);
        assert_eq!(status.map(|v| v.as_str()), Some("403"), "{name} from a peer is refused: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_known_by_its_key_reaches_only_its_own_subjects() {
    let (keys, block) = keys();
    let test = "a_hall_known_by_its_key_reaches_only_its_own_subjects";
    let Some(nats) = Nats::start_with_or_skip(test, Some(&block)) else { return };
    let dir = district_dir(&nats, 30);
    add_key(&dir.path().join("district.toml"), "online_seconds = 30", &seed(&keys, "district-qingchuan"));
    for hall in ["town-a", "town-b"] {
        let file = dir.path().join("halls").join(hall).join("hall.toml");
        add_key(&file, &format!("hall_id = \"{hall}\""), &seed(&keys, &format!("hall-{hall}")));
    }

    // Everyone with their own key: the district makes the streams, the halls publish and
    // answer online requests, the district's figures are the halls' own.
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    let (a, b) = (start_hall(&dir, "town-a", None).await, start_hall(&dir, "town-b", None).await);
    let (sa, sb) = (a.api.login("super").await, b.api.login("super").await);
    issue(&a, "ZX-0001", 2).await;
    issue(&b, "ZX-0002", 1).await;
    let token = district.login().await;
    agrees(&district.api, &token, &[("town-a", &a, &sa), ("town-b", &b, &sb)]).await;
    town_b_answers(&district, 1).await;
    let taken =
        district.api.post("/api/v1/halls/town-a/tickets", None, Some(serde_json::json!({"service": "ZX-0002"})));
    assert_eq!(taken.await.status, 201, "an online number from town-a through the district");

    let options = auth::district_options(ConnectOptions::new(), DISTRICT_ID, Some(&seed(&keys, "district-qingchuan")));
    let as_district = options.expect("the district's seed").connect(nats.url()).await.expect("the district's key");
    let district_js = async_nats::jetstream::new(as_district);

    // Town-b's whole log in its stream before the intruder tries (its uplink publishes
    // after the hall's own flush): what is there then must be all there is after.
    let b_seq = b.api.display(None).await.expect("snapshot").await["seq"].as_u64().expect("a log position");
    let published = async {
        while messages_of(&district_js, "town-b").await < b_seq {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    guard("town-b's log in its stream", published).await;
    intruder_is_refused(&nats, &keys, &district, &district_js).await;
    // A referral from town-a to town-b: town-a's connection for referrals has its key too.
    let clerk = a.api.login("clerk1").await;
    a.api.window_ok(&clerk, "1", "open", None).await;
    a.api.call_next(&clerk, "1").await;
    let ask = serde_json::json!({ "to_hall": "town-b", "reason": "需属地办理" });
    let sent = a.api.post("/api/v1/windows/1/refer", Some(&clerk), Some(ask)).await;
    assert_eq!(sent.status, 200, "a referral under the halls' own keys: {}", sent.text);
    agrees(&district.api, &token, &[("town-a", &a, &sa), ("town-b", &b, &sb)]).await;

    // The hall's own key suffices to restore it from its stream.
    let target = tempfile::tempdir().expect("a temp dir");
    let source = restore::Source { link: link(&nats, "town-a", &seed(&keys, "hall-town-a")), setup: None };
    let restored = restore::from_nats(&source, &target.path().join("town-a"), None).await.expect("restored");
    assert_eq!(restored.records, messages_of(&district_js, "town-a").await, "every record of town-a's stream");

    // A seed the server does not know, and none, cannot connect.
    let stranger = tempfile::tempdir().expect("a temp dir");
    let path = stranger.path().join("stranger.nk");
    std::fs::write(&path, nkeys::KeyPair::new_user().seed().expect("a seed")).expect("write");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    let options = auth::hall_options(ConnectOptions::new(), &link(&nats, "town-a", &path)).await.expect("a seed");
    let e = options.connect(nats.url()).await.expect_err("an unknown key is refused");
    assert!(e.to_string().to_lowercase().contains("authorization"), "{e}");
    assert!(async_nats::connect(nats.url()).await.is_err(), "no key is refused");
    district.stop().await;
}
