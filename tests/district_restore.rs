//! Disaster recovery from the district's stream: a linked hall (the binary as a child)
//! serves, is SIGKILLed, its data directory is deleted, and `hallq restore --from-nats`
//! rebuilds it on "a new machine" (a new directory). The daemon started on it shows what
//! the dead one showed, issues the next number (not A001 again), and its uplink adds the
//! new records to the stream after the old ones, repeating none. The oracles are the
//! stream read back message by message and the dead hall's own `/api/v1/stats`.
//! Refused: a target that is not empty, an unknown hall, a stream with a gap, a stream
//! whose start aged out, a leftover `.partial` that is not a restore's.

use std::path::Path;
use std::process::Command;

use async_nats::jetstream;
use hallq::core::event::Record;
use serde_json::{json, Value};

use crate::district_uplink::{caught_up, log_of};
use crate::support::nats::Nats;
use crate::support::*;

/// Every message of hall `hall`'s stream: its `Hallq-Seq` and the record it carries.
pub(crate) async fn stream_of(nats: &Nats, hall: &str) -> Vec<(u64, Record)> {
    let js = jetstream::new(async_nats::connect(nats.url()).await.expect("connect to NATS"));
    let mut stream = js.get_stream(format!("HALLQ_{hall}")).await.expect("the hall's stream exists");
    let info = stream.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    for n in info.first_sequence..=info.last_sequence {
        let m = stream.get_raw_message(n).await.expect("a message of the stream");
        let seq = m.headers.get("Hallq-Seq").expect("a Hallq-Seq header").as_str().parse().expect("a number");
        out.push((seq, serde_json::from_slice(&m.payload).expect("the payload is a record")));
    }
    out
}

/// How many day snapshots the stopped hall's store in `dir` holds.
fn snapshots(dir: &Path) -> usize {
    let store = hallq::store::Store::open(dir).expect("the store opens");
    store.snapshots().expect("the snapshots read").len()
}

/// `hallq restore ARGS...`: whether it succeeded, and what it printed.
fn restore(args: &[&str], data: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hallq"))
        .arg("restore")
        .args(args)
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the hallq binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A stream `HALLQ_<name>` holding the messages of `records` that `keep` keeps,
/// as the uplink publishes them.
async fn copy_stream(nats: &Nats, records: &[(u64, Record)], name: &str, keep: impl Fn(u64) -> bool) {
    let js = jetstream::new(async_nats::connect(nats.url()).await.expect("connect to NATS"));
    let subject = format!("hallq.hall.{name}.log");
    let config = jetstream::stream::Config {
        name: format!("HALLQ_{name}"),
        subjects: vec![subject.clone()],
        ..Default::default()
    };
    js.create_stream(config).await.expect("a stream");
    for (seq, record) in records.iter().filter(|(s, _)| keep(*s)) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Hallq-Seq", seq.to_string().as_str());
        let payload = serde_json::to_vec(record).expect("a record encodes");
        let ack = js.publish_with_headers(subject.clone(), headers, payload.into()).await.expect("publish");
        ack.await.expect("acknowledged");
    }
}

/// What the hall's supervisor sees of today: the figures and the waiting line.
async fn seen(hall: &Process) -> (Value, Value) {
    let token = hall.api.login("supervisor").await;
    let stats = hall.api.get("/api/v1/stats", Some(&token)).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    let view = hall.api.get("/api/v1/hall", None).await;
    let queues = view.body["queues"].as_array().expect("queues").iter().map(|q| json!([q["id"], q["waiting"]]));
    let figures =
        json!({ "total": stats.body["total"], "queues": stats.body["queues"], "windows": stats.body["windows"] });
    (figures, Value::Array(queues.collect()))
}

/// The restore refused, changing nothing: a target that holds something, a hall the
/// server has no stream of, a leftover `.partial` that is not a restore's; then one left
/// by a restore that died is started afresh, and the restore into `second` succeeds. What
/// it printed.
fn refused_then_restored(nats: &Nats, root: &Path, config: &Path, second: &Path) -> String {
    let cfg = config.to_str().expect("a UTF-8 path");
    let busy = root.join("busy");
    std::fs::create_dir_all(&busy).expect("mkdir");
    std::fs::write(busy.join("notes.txt"), "mine").expect("write");
    let (ok, text) = restore(&["--from-nats", "--config", cfg], &busy);
    assert!(!ok && text.contains("is not empty"), "{text}");
    assert_eq!(std::fs::read_dir(&busy).expect("busy").count(), 1, "nothing was added to {}", busy.display());
    let unknown = root.join("unknown");
    let (ok, text) = restore(&["--from-nats", "--hall", "nosuch", "--nats", &nats.url()], &unknown);
    assert!(!ok && text.contains("no stream HALLQ_nosuch"), "{text}");
    assert!(!unknown.exists() && !root.join("unknown.partial").exists());
    let partial = root.join("second.partial");
    std::fs::create_dir_all(&partial).expect("mkdir");
    let (ok, text) = restore(&["--from-nats", "--config", cfg], second);
    assert!(!ok && text.contains("is not a restore of hallq's"), "{text}");
    std::fs::write(partial.join("RESTORING"), "").expect("write");
    std::fs::write(partial.join("db"), "half a log").expect("write");
    let (ok, text) = restore(&["--from-nats", "--config", cfg], second);
    assert!(ok, "{text}");
    assert!(!partial.exists(), "the staging directory was renamed into place");
    text
}

/// Without the hall's configuration (`--hall` and `--nats` only) the whole stream is
/// restored too; streams with a hole, and one whose start aged out, made of `log`'s
/// records, are refused, leaving nothing.
async fn bare_and_bad_streams(nats: &Nats, log: &[(u64, Record)], root: &Path) {
    let bare = root.join("bare");
    let (ok, text) = restore(&["--from-nats", "--hall", "qingchuan", "--nats", &nats.url()], &bare);
    assert!(ok, "{text}");
    assert_eq!(log_of(&bare), log, "restored without --config");
    assert_eq!(snapshots(&bare), 0, "no day snapshot without the hall's setup");
    copy_stream(nats, log, "holed", |s| s != 4).await;
    let holed = root.join("holed");
    let (ok, text) = restore(&["--from-nats", "--hall", "holed", "--nats", &nats.url()], &holed);
    assert!(!ok && text.contains("records 4 to 4 are missing"), "{text}");
    assert!(!holed.exists() && !root.join("holed.partial").exists());
    copy_stream(nats, log, "aged", |s| s > 2).await;
    let (ok, text) = restore(&["--from-nats", "--hall", "aged", "--nats", &nats.url()], &root.join("aged"));
    assert!(!ok && text.contains("begins at record 3"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_restored_from_the_stream_goes_on_where_the_dead_one_stopped() {
    let Some(nats) = Nats::start_or_skip("a_hall_restored_from_the_stream_goes_on_where_the_dead_one_stopped") else {
        return;
    };
    let url = nats.url();
    let edit = move |hall: String| format!("{}\n[district]\nnats_url = \"{url}\"\n", without_rate_limits(hall));
    let root = tempfile::tempdir().expect("a temp dir");
    let first = root.path().join("first");
    let mut hall = Process::spawn_with(&first, config_dir(&edit), "127.0.0.1:0", "info,sled=warn", &[]).await;
    let item = hall.api.item_in("A").await;
    let clerk = hall.api.login("clerk1").await;
    hall.api.window_ok(&clerk, "1", "open", None).await;
    let mut tickets = Vec::new();
    for _ in 0..6 {
        tickets.push(hall.api.issue(&item).await);
    }
    for (t, score) in tickets.iter().zip([5, 4]) {
        assert_eq!(hall.api.call_next(&clerk, "1").await["id"], t["id"]);
        hall.api.window_ok(&clerk, "1", "serve", None).await;
        hall.api.window_ok(&clerk, "1", "done", Some(json!({ "outcome": "completed" }))).await;
        let (id, key) = (t["id"].as_str().expect("an id"), t["key"].as_str().expect("a key"));
        let path = format!("/api/v1/tickets/{id}/rating?k={key}");
        assert_eq!(hall.api.post(&path, None, Some(json!({ "score": score }))).await.status, 200);
    }
    hall.api.call_next(&clerk, "1").await;
    caught_up(&hall).await;
    let before = seen(&hall).await;
    assert_eq!(before.0["total"]["issued"], 6, "{}", before.0);
    hall.kill9();
    std::fs::remove_dir_all(&first).expect("the dead hall's disk is gone");

    let config = config_dir(&edit);
    let second = root.path().join("second");
    let text = refused_then_restored(&nats, root.path(), config.path(), &second);

    // The restored log is the stream's, record for record.
    let stream = stream_of(&nats, "qingchuan").await;
    assert_eq!(log_of(&second), stream, "the restored log holds the stream's records");
    assert_eq!(snapshots(&second), 1, "the day's snapshot is written again with --config");
    let last = stream.last().map(|(s, _)| *s).expect("records");
    assert!(text.contains(&format!("up to position {last}")), "{text}");

    // The daemon on it shows what the dead one showed, and goes on numbering.
    let mut hall = Process::spawn_with(&second, config, "127.0.0.1:0", "info,sled=warn", &[]).await;
    assert_eq!(seen(&hall).await, before, "the restored hall shows what the dead one did");
    assert_eq!(hall.api.issue(&item).await["number"], "A007", "the next number follows the dead hall's last");
    caught_up(&hall).await;
    assert!(hall.terminate().await.success(), "the hall stops cleanly");
    let log = log_of(&second);
    assert!(log.len() > stream.len(), "new records were logged");
    assert_eq!(stream_of(&nats, "qingchuan").await, log, "the stream holds each record once: the old, then the new");

    bare_and_bad_streams(&nats, &log, root.path()).await;
}
