//! Attacks on the routes that issue 14 and 15 added without one, against the released
//! binary on loopback: the admin's backup (`GET /api/v1/admin/backup`) asked by those who
//! may not, with forged tokens, and twice at once; the opening hours (`GET /api/v1/hours`)
//! and the start page's demo answer (`GET /api/v1/demo`) flooded from one address, while
//! another address is still answered, the daemon's memory stays bounded and the flood
//! costs the engine no work. Every attack is bounded in requests and time.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{client_from, Process, KIOSK};

/// One attack at a time: each measures the daemon, and two at once would load the same
/// two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Requests the flooding address sends to each route, and over how many connections.
const FLOOD_REQUESTS: usize = 16_000;
const FLOOD_CONNECTIONS: usize = 32;
/// The daemon's memory must stay under this through a flood (as in `attack_net.rs`).
const RSS_MAX_BYTES: u64 = 128 * 1024 * 1024;
/// How soon another address must have its answer under the flood: generous, for a
/// loaded two-core machine; the flood must not shut it out.
const ANSWER_MAX: Duration = Duration::from_secs(2);
/// Engine reads a flood of a route that asks the engine nothing may still see (the
/// daemon's own, and the demo answer's single read of the staff).
const ENGINE_READS_MAX: u64 = 2;

/// The daemon's resident memory, from /proc.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next());
    kb.and_then(|k| k.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// The engine's count of reads it answered, from `/metrics`.
async fn engine_reads(daemon: &Process) -> u64 {
    let m = daemon.api.get("/metrics", Some(support::METRICS_TOKEN)).await.text;
    let line = m.lines().find(|l| l.starts_with("hallq_engine_queries_total ")).unwrap_or_default();
    line.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("the metric is exported")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_gives_nothing_to_non_admins_or_forged_tokens() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = tempfile::tempdir().expect("a temp dir");
    let daemon = Process::spawn(data.path()).await;
    let api = &daemon.api;
    let ticket = api.issue(&api.item_in("A").await).await;
    let id = ticket["id"].as_str().expect("a ticket id").to_string();
    // The admin's backup holds the ticket: what the refused ones must not see.
    let admin = api.login("admin").await;
    let own = api.get("/api/v1/admin/backup", Some(&admin)).await;
    assert_eq!(own.status, 200);
    assert!(own.text.contains(&id), "the admin's backup holds the ticket");

    let clerk = api.login("clerk1").await;
    let supervisor = api.login("supervisor").await;
    let mut forged = admin.clone();
    let last = forged.pop().map_or('0', |c| if c == '0' { '1' } else { '0' });
    forged.push(last);
    let cases: [(&str, Option<&str>, u16); 6] = [
        ("no token", None, 401),
        ("a kiosk's token", Some(KIOSK), 403),
        ("a clerk", Some(&clerk), 403),
        ("a supervisor", Some(&supervisor), 403),
        ("the admin's token with one character changed", Some(&forged), 401),
        ("a made-up token", Some("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 401),
    ];
    for (who, token, status) in cases {
        let r = api.get("/api/v1/admin/backup", token).await;
        assert_eq!(r.status, status, "{who}: {}", r.text);
        assert!(r.body["error"]["code"].is_string(), "{who}: a JSON error: {}", r.text);
        assert!(!r.text.contains(&id) && r.text.len() < 512, "{who} got data: {}", r.text);
    }
}

/// Floods `path` from 127.0.0.1 ([`FLOOD_REQUESTS`] over [`FLOOD_CONNECTIONS`]) while
/// 127.0.0.2 asks `path`, `/healthz` and a kiosk's ticket; checks each of its answers came
/// within [`ANSWER_MAX`], the daemon's peak memory, and the engine reads the flood cost.
async fn flood_from_one_address(path: &'static str) {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = tempfile::tempdir().expect("a temp dir");
    let daemon = Process::spawn(data.path()).await;
    let (pid, url) = (daemon.pid, daemon.api.url(path));
    let service = daemon.api.item_in("A").await;
    // The demo answer is "pending" until the start-up password checks are done.
    support::guard("the first answer", async {
        while daemon.api.get(path, None).await.body.get("pending").is_some() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let reads_before = engine_reads(&daemon).await;
    let before = rss_bytes(pid);

    let flooder = client_from(1);
    let started = Instant::now();
    let tasks: Vec<_> = (0..FLOOD_CONNECTIONS)
        .map(|_| {
            let (client, url) = (flooder.clone(), url.clone());
            tokio::spawn(async move {
                let mut ok = 0;
                for _ in 0..FLOOD_REQUESTS / FLOOD_CONNECTIONS {
                    if let Ok(r) = client.get(&url).send().await {
                        ok += usize::from(r.status().is_success() && r.bytes().await.is_ok());
                    }
                }
                ok
            })
        })
        .collect();
    let other = client_from(2);
    let mut peak = before;
    let mut slowest = Duration::ZERO;
    let mut rounds = 0;
    while tasks.iter().any(|t| !t.is_finished()) {
        peak = peak.max(rss_bytes(pid));
        let asked = Instant::now();
        let issue =
            other.post(daemon.api.url("/api/v1/tickets")).bearer_auth(KIOSK).json(&json!({ "service": service }));
        let answers = async {
            let same = other.get(&url).send().await.map(|r| r.status());
            let health = other.get(daemon.api.url("/healthz")).send().await.map(|r| r.status());
            let ticket = issue.send().await.map(|r| r.status());
            (same, health, ticket)
        };
        let (same, health, ticket) = tokio::time::timeout(ANSWER_MAX, answers)
            .await
            .unwrap_or_else(|_| panic!("127.0.0.2 had no answers within {ANSWER_MAX:?} under the flood of {path}"));
        assert_eq!(same.expect("the route answers").as_u16(), 200);
        assert_eq!(health.expect("/healthz answers").as_u16(), 200);
        assert_eq!(ticket.expect("the kiosk's request").as_u16(), 201);
        slowest = slowest.max(asked.elapsed());
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut answered = 0;
    for t in tasks {
        answered += t.await.expect("a flooding task");
    }
    peak = peak.max(rss_bytes(pid));
    let reads = engine_reads(&daemon).await - reads_before;
    let mib = |b: u64| b / (1024 * 1024);
    eprintln!(
        "{path}: {answered} of {FLOOD_REQUESTS} answered in {:?}; the other address {rounds} rounds, slowest {slowest:?}; RSS {} → {} MiB; {reads} engine reads",
        started.elapsed(),
        mib(before),
        mib(peak)
    );
    assert!(rounds > 0, "the flood ended before the other address asked");
    assert!(peak < RSS_MAX_BYTES, "RSS reached {} MiB under the flood of {path}", mib(peak));
    // The flood itself is answered (it is a public route), but costs the engine nothing.
    assert_eq!(answered, FLOOD_REQUESTS / FLOOD_CONNECTIONS * FLOOD_CONNECTIONS, "the flood was answered");
    assert!(reads <= ENGINE_READS_MAX, "{FLOOD_REQUESTS} requests of {path} cost the engine {reads} reads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_the_opening_hours_from_one_address_leaves_others_answered() {
    flood_from_one_address("/api/v1/hours").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_the_demo_answer_from_one_address_costs_the_engine_nothing() {
    flood_from_one_address("/api/v1/demo").await;
}
