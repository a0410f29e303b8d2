//! Attacks by a guide's own session (全程领办, issue 17 §1), against the daemon: a tight loop
//! of `GET /api/v1/guide`, each answer a read on the engine, is held to the guide's rate
//! (`[hall.limits] guide_reads_burst`, 429 with `Retry-After`) while a kiosk still issues and
//! another guide still reads, and the daemon's memory stays bounded; a loop of assisted
//! tickets naming kiosks' printers (`print_at`) — none, unknown, over long, then a printer
//! that takes no more — is refused with nothing issued, or issued with its paper refused
//! clearly and counted once the printer's queue is full, until the guide's kiosk rate ends
//! it. Every loop is bounded in requests.

use crate::support;

use std::time::Instant;

use serde_json::{json, Value};
use support::{client_from, Api, Daemon, Process, KIOSK};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads the flooding session sends, and over how many connections.
const FLOOD_REQUESTS: usize = 4_000;
const FLOOD_CONNECTIONS: usize = 16;
/// The daemon's memory must stay under this through the flood (as in `attack_routes.rs`).
const RSS_MAX_BYTES: u64 = 128 * 1024 * 1024;

/// The daemon's resident memory, from /proc.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next());
    kb.and_then(|k| k.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// The engine's count of reads it answered, from `/metrics`.
async fn engine_reads(api: &Api) -> u64 {
    let m = api.get("/metrics", Some(support::METRICS_TOKEN)).await.text;
    let line = m.lines().find(|l| l.starts_with("hallq_engine_queries_total ")).unwrap_or_default();
    line.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("the metric is exported")
}

/// One flooding connection's answers: (200s, 429s with a Retry-After, anything else).
async fn flood(client: reqwest::Client, url: String, token: String, n: usize) -> (u64, u64, u64) {
    let mut counts = (0, 0, 0);
    for _ in 0..n {
        let Ok(r) = client.get(&url).bearer_auth(&token).send().await else {
            counts.2 += 1;
            continue;
        };
        match r.status().as_u16() {
            200 => counts.0 += 1,
            429 if r.headers().get("retry-after").is_some() => counts.1 += 1,
            _ => counts.2 += 1,
        }
        let _ = r.bytes().await;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guide_reading_in_a_loop_is_held_to_the_guides_rate_and_starves_no_kiosk() {
    let data = tempfile::tempdir().expect("a temp dir");
    // The example hall's own [hall.limits] for guides (the kiosks' and logins' lifted).
    let daemon = Process::spawn(data.path()).await;
    let (api, pid) = (&daemon.api, daemon.pid);
    let service = api.item_in("A").await;
    let hostile = api.login("guide1").await;
    let other_guide = api.login("guide2").await;
    let first = api.get("/api/v1/guide", Some(&hostile)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let (reads_before, rss_before) = (engine_reads(api).await, rss_bytes(pid));

    let started = Instant::now();
    let (flooder, url) = (client_from(1), api.url("/api/v1/guide"));
    let tasks: Vec<_> = (0..FLOOD_CONNECTIONS)
        .map(|_| tokio::spawn(flood(flooder.clone(), url.clone(), hostile.clone(), FLOOD_REQUESTS / FLOOD_CONNECTIONS)))
        .collect();
    // While the flood runs: a kiosk issues, another guide reads their own visitors.
    let (kiosk, mut rounds, mut peak) = (client_from(2), 0, rss_before);
    while tasks.iter().any(|t| !t.is_finished()) {
        peak = peak.max(rss_bytes(pid));
        let issue = kiosk.post(api.url("/api/v1/tickets")).bearer_auth(KIOSK).json(&json!({ "service": service }));
        let ticket = support::guard("a kiosk's ticket under the flood", issue.send()).await.expect("an answer");
        assert_eq!(ticket.status().as_u16(), 201, "the kiosk issues while a guide floods");
        let own = support::guard("guide2's read", kiosk.get(&url).bearer_auth(&other_guide).send()).await;
        assert_eq!(own.expect("an answer").status().as_u16(), 200, "another guide reads at a rate of their own");
        rounds += u32::from(tasks.iter().any(|t| !t.is_finished()));
        // guide2 reads as their page would, within the guides' rate (one each 250 ms),
        // however long the flood takes on a busy machine.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let (mut ok, mut limited, mut other) = (0, 0, 0);
    for t in tasks {
        let (a, b, c) = t.await.expect("a flooding connection");
        (ok, limited, other) = (ok + a, limited + b, other + c);
    }
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    peak = peak.max(rss_bytes(pid));
    let reads = engine_reads(api).await - reads_before;
    eprintln!(
        "GET /api/v1/guide ×{FLOOD_REQUESTS} in {elapsed_ms} ms: {ok} answered, {limited} refused; {rounds} kiosk rounds; {reads} engine reads; RSS {} → {} MiB",
        rss_before >> 20,
        peak >> 20
    );
    assert!(rounds > 0, "the flood ended before a kiosk issued under it");
    assert_eq!(other, 0, "every read is answered or refused with 429 and Retry-After");
    // The example hall's guide_reads: 10 at once, then one each 250 ms.
    let allowed = 10 + elapsed_ms / 250 + 1;
    assert!(ok <= allowed, "{ok} reads answered in {elapsed_ms} ms; at most {allowed} may be");
    assert_eq!(ok + limited, FLOOD_REQUESTS as u64);
    assert!(reads <= allowed + 3 * u64::from(rounds) + 2, "the flood cost the engine {reads} reads");
    assert!(peak < RSS_MAX_BYTES, "RSS reached {} MiB under the flood", peak >> 20);
    let refused = api.get("/api/v1/guide", Some(&hostile)).await;
    if refused.status == 429 {
        refused.assert_error(429, "rate_limited");
    }
}

/// A printer that says it is ready, takes a job and then never answers again: each job
/// holds the kiosk's printer task for twice the printer's timeout, so the queue behind it
/// fills.
async fn stalled_printer() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a printer port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = listener.accept().await {
            let mut ask = [0u8; 3];
            // DLE EOT 1: online. The paper status (DLE EOT 4) is never answered.
            if s.read_exact(&mut ask).await.is_ok() && ask == [0x10, 0x04, 0x01] {
                let _ = s.write_all(&[0x12]).await;
            }
            held.push(s);
        }
    });
    addr
}

async fn assist(api: &Api, token: &str, print_at: &str, service: &str) -> support::Reply {
    let body = json!({ "service": service, "print_at": print_at });
    api.post("/api/v1/guide/tickets", Some(token), Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guide_printing_in_a_loop_is_refused_clearly_and_bounded() {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    // The guide's kiosk rate: twenty tickets, then none within the test.
    config.limits.kiosk = hallq::config::Rate { burst: 20, refill_ms: 3_600_000 };
    let kiosk1 = crate::printer_support::printer_at_kiosk1(&mut config, stalled_printer().await, 0);
    let def = config.kiosks.iter_mut().find(|k| k.id == kiosk1).and_then(|k| k.printer.as_mut()).expect("kiosk1's");
    def.timeout_ms = 30_000;
    let d = Daemon::start_config(std::sync::Arc::new(tempfile::tempdir().expect("a temp dir")), None, config).await;
    let api = &d.api;
    let (guide, service) = (api.login("guide1").await, api.item_in("A").await);

    // No such printer: 400 no_printer, a short message, nothing issued.
    let long = "k".repeat(4_000);
    for name in ["nosuch", "", long.as_str()] {
        let r = assist(api, &guide, name, &service).await;
        r.assert_error(400, "no_printer");
        assert!(r.text.len() < 400, "the refusal quotes the name cut short: {} bytes", r.text.len());
        assert_eq!(api.waiting_in("A").await, 0, "{} characters: nothing issued", name.len());
    }
    assist(api, &guide, &"打".repeat(2_000), &service).await.assert_error(400, "too_long");

    // kiosk1's printer, again and again: issued while the guide's rate lasts (17 of 20
    // left), the paper queued until the printer's queue is full, then refused.
    let mut prints: Vec<String> = Vec::new();
    let refused = loop {
        let r = assist(api, &guide, &kiosk1, &service).await;
        if r.status != 201 || prints.len() > 40 {
            break r;
        }
        prints.push(r.body["print"]["status"].as_str().unwrap_or("none").to_string());
    };
    refused.assert_error(429, "rate_limited");
    assert_eq!(prints.len(), 17, "the refusals took their share of the guide's rate: {prints:?}");
    let queued = prints.iter().filter(|s| *s == "queued").count();
    let dropped = prints.iter().filter(|s| *s == "not_queued").count();
    // One job at the printer, JOBS_QUEUED_MAX behind it.
    let room = hallq::printer::JOBS_QUEUED_MAX + 1;
    assert!(queued >= 1 && queued <= room && queued + dropped == prints.len(), "{prints:?}");
    assert_eq!(api.waiting_in("A").await, 17, "every ticket is issued, printed or not; the 429 issued none");
    assert_eq!(assist(api, &guide, "nosuch", &service).await.status, 429, "the rate first, whatever the printer");

    // The dropped papers are counted on the printer, for the supervisors.
    let sup = api.login("supervisor").await;
    let list = api.get("/api/v1/printers", Some(&sup)).await;
    let p = list.body["printers"].as_array().and_then(|a| a.iter().find(|p| p["kiosk"] == kiosk1.as_str()));
    assert_eq!(p.map(|p| p["failed"].clone()), Some(Value::from(dropped)), "{}", list.text);
    // The kiosk itself still issues: the guide's rate is the guide's own.
    api.issue(&service).await;
}
