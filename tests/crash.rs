//! The built `hallq` binary under `kill -9`: every ticket a kiosk heard `201` for survives
//! with its number, and no number is given twice, over several crashes on one data
//! directory. And a graceful stop on SIGTERM: exit 0, nothing lost.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rand::seq::SliceRandom;
use serde_json::json;
use support::{guard, Api, Process, KIOSK};
use tokio::sync::Notify;

/// Kiosks issuing at once.
const KIOSKS: usize = 40;
/// Acknowledged tickets per round before the kill; the kill lands while all kiosks are
/// still issuing.
const ACKS_BEFORE_KILL: usize = 800;
const ROUNDS: usize = 3;

#[derive(Clone, Debug)]
struct Acked {
    id: String,
    number: String,
    queue: String,
}

/// The digits of a number such as `A012`.
fn number_n(number: &str) -> u32 {
    number
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .unwrap_or_else(|_| panic!("bad number {number}"))
}

/// Runs `KIOSKS` kiosks issuing random services until the daemon dies; returns every
/// ticket acknowledged with 201. `enough` is notified once `ACKS_BEFORE_KILL` are in.
async fn kiosks_until_death(api: &Api, codes: Arc<Vec<String>>, enough: Arc<Notify>) -> Vec<JoinOut> {
    let acks = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for k in 0..KIOSKS {
        let (api, codes, acks, enough) = (api.clone(), codes.clone(), acks.clone(), enough.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = JoinOut::default();
            loop {
                let code = codes.choose(&mut rand::thread_rng()).expect("a code").clone();
                let req = api.http.post(api.url("/api/v1/tickets")).json(&json!({ "service": code }));
                match api.try_send(req, Some(KIOSK)).await {
                    Ok(r) if r.status == 201 => {
                        let t = &r.body;
                        out.acked.push(Acked {
                            id: t["id"].as_str().expect("id").into(),
                            number: t["number"].as_str().expect("number").into(),
                            queue: t["queue"].as_str().expect("queue").into(),
                        });
                        if acks.fetch_add(1, Ordering::SeqCst) + 1 == ACKS_BEFORE_KILL {
                            enough.notify_one();
                        }
                    }
                    // Any other answer from a live daemon is a failure of its own.
                    Ok(r) => out.unexpected.push(format!("kiosk {k}: {} {}", r.status, r.text)),
                    // The daemon is gone: this request may or may not have been logged.
                    Err(_) => return out,
                }
            }
        }));
    }
    let mut outs = Vec::new();
    for t in tasks {
        outs.push(guard("a kiosk task after the kill", t).await.expect("kiosk task"));
    }
    outs
}

#[derive(Default)]
struct JoinOut {
    acked: Vec<Acked>,
    unexpected: Vec<String>,
}

/// Checks that every acknowledged ticket is present with its number.
async fn assert_all_present(api: &Api, acked: &[Acked]) {
    let missing = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for part in acked.chunks(acked.len().div_ceil(16).max(1)) {
        let (api, part, missing) = (api.clone(), part.to_vec(), missing.clone());
        tasks.push(tokio::spawn(async move {
            for a in part {
                let r = api.ticket(&a.id).await;
                if r.status != 200 || r.body["number"] != a.number.as_str() || r.body["queue"] != a.queue.as_str() {
                    missing.lock().unwrap().push(format!("{} {}: {} {}", a.number, a.id, r.status, r.text));
                }
            }
        }));
    }
    for t in tasks {
        guard("checking acknowledged tickets", t).await.expect("check task");
    }
    let missing = missing.lock().unwrap();
    assert!(
        missing.is_empty(),
        "{} acknowledged tickets lost or changed after kill -9: {:#?}",
        missing.len(),
        &missing[..missing.len().min(20)]
    );
}

/// Numbers per queue, asserting that no acknowledged number was given twice.
fn numbers_by_queue(acked: &[Acked]) -> BTreeMap<String, BTreeSet<u32>> {
    let mut by_queue: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for a in acked {
        let fresh = by_queue.entry(a.queue.clone()).or_default().insert(number_n(&a.number));
        assert!(fresh, "number {} in queue {} was acknowledged twice", a.number, a.queue);
    }
    by_queue
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn acknowledged_tickets_survive_kill_9() {
    let data = tempfile::tempdir().expect("a temp dir");
    let mut acked: Vec<Acked> = Vec::new();
    let mut codes: Option<Arc<Vec<String>>> = None;
    for round in 0..ROUNDS {
        let mut daemon = Process::spawn(data.path()).await;
        let api = daemon.api.clone();
        // Everything acknowledged in earlier rounds is still there.
        assert_all_present(&api, &acked).await;
        let codes = match &codes {
            Some(c) => c.clone(),
            None => {
                let c = Arc::new(api.items().await.into_iter().map(|(code, _)| code).collect::<Vec<_>>());
                codes = Some(c.clone());
                c
            }
        };
        let enough = Arc::new(Notify::new());
        let load = {
            let (api, codes, enough) = (api.clone(), codes.clone(), enough.clone());
            tokio::spawn(async move { kiosks_until_death(&api, codes, enough).await })
        };
        guard("the load reaching its kill point", enough.notified()).await;
        daemon.kill9();
        let outs = guard("the kiosks noticing the kill", load).await.expect("load task");
        let unexpected: Vec<&String> = outs.iter().flat_map(|o| &o.unexpected).collect();
        assert!(unexpected.is_empty(), "round {round}: the live daemon refused tickets: {unexpected:#?}");
        let before = acked.len();
        acked.extend(outs.into_iter().flat_map(|o| o.acked));
        assert!(acked.len() - before >= ACKS_BEFORE_KILL, "round {round} acknowledged too few");
        numbers_by_queue(&acked);
    }

    let mut daemon = Process::spawn(data.path()).await;
    let api = daemon.api.clone();
    assert_all_present(&api, &acked).await;
    // New tickets continue the numbers: none repeats an acknowledged one.
    let by_queue = numbers_by_queue(&acked);
    let items = api.items().await;
    for (queue, numbers) in &by_queue {
        let code = &items.iter().find(|(_, q)| q == queue).expect("an item in the queue").0;
        let t = api.issue(code).await;
        let n = number_n(t["number"].as_str().unwrap());
        assert!(!numbers.contains(&n), "queue {queue}: new ticket {} repeats an acknowledged number", t["number"]);
        let max = numbers.iter().max().copied().unwrap_or(0);
        assert!(n > max, "queue {queue}: new ticket {} does not follow the last acknowledged {max}", t["number"]);
    }
    let status = daemon.terminate().await;
    assert!(status.success(), "hallq exited with {status:?} after SIGTERM; log:\n{}", daemon.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_stops_gracefully_and_loses_nothing() {
    const PHONE: &str = "13912345678";
    let data = tempfile::tempdir().expect("a temp dir");
    let mut daemon = Process::spawn(data.path()).await;
    let api = daemon.api.clone();
    let items = api.items().await;
    let mut issued = Vec::new();
    for (code, _) in items.iter().step_by(7).take(12) {
        issued.push(api.issue(code).await);
    }
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let called = api.call_next(&clerk, "1").await;
    api.window_ok(&clerk, "1", "serve", None).await;
    api.window_ok(&clerk, "1", "done", None).await;
    let comment = format!("请打电话 {PHONE}");
    let rated = api
        .post(
            &format!("/api/v1/tickets/{}/rating", called["id"].as_str().unwrap()),
            None,
            Some(json!({ "score": 3, "comment": comment })),
        )
        .await;
    assert_eq!(rated.status, 200, "{}", rated.text);
    // A connected display must not hold the shutdown up.
    let mut display = api.display(None).await;
    display.expect("snapshot").await;

    let status = daemon.terminate().await;
    assert!(status.success(), "hallq exited with {status:?} after SIGTERM; log:\n{}", daemon.log_text());
    let log = daemon.log_text();
    assert!(!log.contains(PHONE), "a log line holds a visitor's phone number:\n{log}");
    // Past the start-up warning about demo credentials, no line names a user.
    let after_start = log.split("hallq listening on").nth(1).unwrap_or_default();
    assert!(!after_start.contains("clerk1"), "a log line names a clerk:\n{after_start}");

    let mut daemon = Process::spawn(data.path()).await;
    let api = daemon.api.clone();
    for t in &issued {
        let r = api.ticket(t["id"].as_str().unwrap()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["number"], t["number"]);
    }
    let got = api.ticket(called["id"].as_str().unwrap()).await;
    assert_eq!((got.body["status"].as_str(), got.body["rated"].as_bool()), (Some("done"), Some(true)), "{}", got.text);
    let next = api.issue(&items[0].0).await;
    assert!(issued.iter().all(|t| t["number"] != next["number"]), "a number repeated after restart: {next}");
    let status = daemon.terminate().await;
    assert!(status.success(), "{status:?}");
}
