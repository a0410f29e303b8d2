//! The hall's log leaves the building: every record the hall logged is in its JetStream
//! stream once, in order, after NATS is killed and restarted with its store and after the
//! daemon restarts. The oracle is the hall's own log on disk, read after the daemon
//! stopped, against the stream read back message by message.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use hallq::config::DistrictLink;
use hallq::core::event::Record;
use hallq::store::Store;

use crate::support::nats::Nats;
use crate::support::*;

const METRICS_TOKEN: &str = "demo-metrics-token";

fn linked_config(nats: &Nats) -> hallq::config::Config {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    config.district = Some(DistrictLink {
        nats_url: nats.url(),
        hall_id: "qingchuan".into(),
        creds_file: None,
        nkey_file: None,
        tls_ca_file: None,
        referrals: Default::default(),
    });
    config
}

/// A figure of `/metrics`.
pub(crate) async fn metric(d: &impl HasApi, name: &str) -> f64 {
    let reply = d.api().get("/metrics", Some(METRICS_TOKEN)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let text = reply.text.clone();
    let line = text.lines().find(|l| l.split_whitespace().next() == Some(name));
    let value = line.and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok());
    value.unwrap_or_else(|| panic!("{name} not on /metrics"))
}

/// Waits (bounded) until the stream has acknowledged the last record the engine flushed
/// (both positions from one reading of `/metrics`, the engine's set before it answered).
pub(crate) async fn caught_up(d: &impl HasApi) {
    for _ in 0..300 {
        let flushed = metric(d, "hallq_log_position").await;
        if metric(d, "hallq_district_acked_position").await == flushed {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the district link did not catch up within 30 s");
}

/// The daemon in this process, or the binary as a child.
pub(crate) trait HasApi {
    fn api(&self) -> &Api;
}

impl HasApi for Daemon {
    fn api(&self) -> &Api {
        &self.api
    }
}

impl HasApi for Process {
    fn api(&self) -> &Api {
        &self.api
    }
}

async fn issue_some(d: &Daemon, n: usize) {
    let item = d.api.item_in("A").await;
    for _ in 0..n {
        d.api.issue(&item).await;
    }
}

/// Every message of the hall's stream: its `Hallq-Seq` and the record it carries.
async fn stream_contents(nats: &Nats) -> Vec<(u64, Record)> {
    let client = async_nats::connect(nats.url()).await.expect("connect to NATS");
    let js = jetstream::new(client);
    let mut stream = js.get_stream("HALLQ_qingchuan").await.expect("the hall's stream exists");
    let last = stream.info().await.expect("stream info").state.last_sequence;
    let mut out = Vec::new();
    for n in 1..=last {
        let m = stream.get_raw_message(n).await.expect("a message of the stream");
        let seq = m.headers.get("Hallq-Seq").expect("a Hallq-Seq header").as_str().parse().expect("a number");
        let record: Record = serde_json::from_slice(&m.payload).expect("the payload is a record");
        out.push((seq, record));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_reaches_the_stream_once_across_outages() {
    let Some(mut nats) = Nats::start_or_skip("every_record_reaches_the_stream_once_across_outages") else { return };
    let config = linked_config(&nats);
    let d = Daemon::start_config(Arc::new(tempfile::tempdir().expect("a temp dir")), None, config.clone()).await;
    issue_some(&d, 10).await;
    caught_up(&d).await;

    // NATS dies: the hall goes on issuing, and /metrics shows what it owes.
    nats.kill9();
    issue_some(&d, 10).await;
    let mut owed = 0.0;
    for _ in 0..100 {
        owed = metric(&d, "hallq_district_lag_records").await;
        if owed >= 10.0 && metric(&d, "hallq_district_connected").await == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(owed >= 10.0, "ten tickets issued with NATS down are owed, /metrics says {owed}");

    // NATS comes back with its store: the link resumes where the server stands.
    nats.restart();
    caught_up(&d).await;

    // The daemon restarts: it asks the server where to go on, and repeats nothing.
    let (data, _) = d.stop().await;
    let d = Daemon::start_config(data, None, config).await;
    issue_some(&d, 5).await;
    caught_up(&d).await;
    let (data, _) = d.stop().await;

    let store = Store::open(data.path()).expect("the hall's log opens");
    let log: Vec<(u64, Record)> = store.records_after(0).collect::<Result<_, _>>().expect("the log reads");
    drop(store);
    let stream = stream_contents(&nats).await;
    let log_seqs: Vec<u64> = log.iter().map(|(s, _)| *s).collect();
    let stream_seqs: Vec<u64> = stream.iter().map(|(s, _)| *s).collect();
    assert_eq!(stream_seqs, log_seqs, "the stream holds every record of the log once, in log order");
    assert_eq!(stream, log, "each message carries its record unchanged");
    assert!(log.len() >= 25, "25 tickets and the day's opening are in the log: {}", log.len());
}

/// The log on disk of a stopped hall, in order.
pub(crate) fn log_of(data: &std::path::Path) -> Vec<(u64, Record)> {
    let store = Store::open(data).expect("the hall's log opens");
    store.records_after(0).collect::<Result<_, _>>().expect("the log reads")
}

/// The binary SIGKILLed while kiosks issue and the link publishes: after a restart the
/// stream holds the log once, and every ticket a kiosk was told about is in both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_killed_mid_publish_repeats_nothing_and_loses_nothing() {
    let Some(nats) = Nats::start_or_skip("a_hall_killed_mid_publish_repeats_nothing_and_loses_nothing") else { return };
    let url = nats.url();
    let edit = move |hall: String| format!("{}\n[district]\nnats_url = \"{url}\"\n", without_rate_limits(hall));
    let data = tempfile::tempdir().expect("a temp dir");
    let mut hall = Process::spawn_with(data.path(), config_dir(&edit), "127.0.0.1:0", "info,sled=warn", &[]).await;
    let item = hall.api.item_in("A").await;
    let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut kiosks = Vec::new();
    for _ in 0..4 {
        let (api, item, acked) = (hall.api.clone(), item.clone(), acked.clone());
        kiosks.push(tokio::spawn(async move {
            for _ in 0..500 {
                let req = api.http.post(api.url("/api/v1/tickets")).json(&serde_json::json!({ "service": item }));
                match api.try_send(req, Some(KIOSK)).await {
                    Ok(r) if r.status == 201 => {
                        let id = r.body["id"].as_str().expect("a ticket id").to_string();
                        acked.lock().expect("the list").push(id);
                    }
                    _ => return,
                }
            }
        }));
    }
    // Kill it while tickets are still being issued (and published).
    for _ in 0..600 {
        if acked.lock().expect("the list").len() >= 150 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    hall.kill9();
    for k in kiosks {
        k.await.expect("a kiosk's loop ends");
    }
    let acked = acked.lock().expect("the list").clone();
    assert!(acked.len() >= 150, "tickets were issued before the kill: {}", acked.len());

    let mut hall = Process::spawn_with(data.path(), config_dir(&edit), "127.0.0.1:0", "info,sled=warn", &[]).await;
    caught_up(&hall).await;
    assert!(hall.terminate().await.success(), "the hall stops cleanly");

    let log = log_of(data.path());
    let stream = stream_contents(&nats).await;
    let seqs = |v: &[(u64, Record)]| v.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    assert_eq!(seqs(&stream), seqs(&log), "the stream holds the log once, in order, after the kill");
    assert_eq!(stream, log);
    let issued: std::collections::HashSet<String> = stream
        .iter()
        .filter_map(|(_, r)| match &r.event {
            hallq::core::event::Event::TicketIssued { id, .. } => Some(id.to_string()),
            _ => None,
        })
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !issued.contains(*id)).collect();
    assert!(lost.is_empty(), "tickets a kiosk got a 201 for are missing from the stream: {lost:?}");
}

/// Another hall configured under the same `hall_id` (or this hall's data directory started
/// afresh) must not write into the stream: its history differs, so the link stays down,
/// says why on /metrics, and the stream keeps the first hall's records only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_hall_under_the_same_id_writes_nothing() {
    let Some(nats) = Nats::start_or_skip("a_second_hall_under_the_same_id_writes_nothing") else { return };
    let config = linked_config(&nats);
    let first = Daemon::start_config(Arc::new(tempfile::tempdir().expect("a temp dir")), None, config.clone()).await;
    issue_some(&first, 5).await;
    caught_up(&first).await;
    let (first_data, _) = first.stop().await;
    let before = stream_contents(&nats).await;

    let impostor = Daemon::start_config(Arc::new(tempfile::tempdir().expect("a temp dir")), None, config).await;
    // First with a shorter log than the stream's, then with a longer one.
    for n in [2, 10] {
        issue_some(&impostor, n).await;
        let failures = metric(&impostor, "hallq_district_failures_total{reason=\"foreign\"}").await;
        let mut seen = failures;
        for _ in 0..300 {
            if seen > failures {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            seen = metric(&impostor, "hallq_district_failures_total{reason=\"foreign\"}").await;
        }
        assert!(seen > failures, "the link refuses a stream of another history after {n} more tickets");
        assert_eq!(metric(&impostor, "hallq_district_connected").await, 0.0);
    }
    impostor.stop().await;
    assert_eq!(stream_contents(&nats).await, before, "the stream holds the first hall's records only");
    assert_eq!(before, log_of(first_data.path()));
}
