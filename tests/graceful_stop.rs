//! A graceful stop on SIGTERM of the built `hallq` binary: under 64 kiosks every request
//! is answered and nothing acknowledged is lost; right at start-up it still stops
//! gracefully. The kiosks and acknowledgement counting are crash.rs's.

use crate::crash::{acked_of, env_or, AckCount, Acked, Facts, TERM_KIOSKS};
use crate::crash_checks::{check_facts, numbers_by_queue};
use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use support::{guard, Api, Process, KIOSK};
use tokio::sync::Notify;

/// What became of one kiosk request around a SIGTERM.
#[derive(Debug)]
enum TermOutcome {
    /// 201, and when the answer came.
    Acked(Acked, Instant),
    /// 503 `shutting_down`.
    Unavailable,
    /// No answer: the connection was refused or closed, at this wall-clock time.
    NoConnection(chrono::DateTime<chrono::Utc>, String),
    Other(String),
}

/// A kiosk issuing until its first connection error.
async fn term_kiosk(api: Api, codes: Arc<Vec<String>>, acks: Arc<AckCount>, seed: u64) -> Vec<TermOutcome> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    loop {
        let code = codes.choose(&mut rng).expect("a code").clone();
        let req = api.http.post(api.url("/api/v1/tickets")).json(&json!({ "service": code }));
        match api.try_send(req, Some(KIOSK)).await {
            Ok(r) if r.status == 201 => {
                out.push(TermOutcome::Acked(acked_of(&r.body), Instant::now()));
                acks.one();
            }
            Ok(r) if r.status == 503 && r.body["error"]["code"] == "shutting_down" => {
                out.push(TermOutcome::Unavailable)
            }
            Ok(r) => out.push(TermOutcome::Other(format!("{} {}", r.status, r.text))),
            Err(e) => {
                out.push(TermOutcome::NoConnection(chrono::Utc::now(), e.to_string()));
                return out;
            }
        }
    }
}

/// The time stamp of the daemon's first log line containing `what`.
fn logged_at(log: &str, what: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let line = log.lines().find(|l| l.contains(what))?;
    let stamp = line.split_whitespace().next()?;
    chrono::DateTime::parse_from_rfc3339(stamp).ok().map(|t| t.with_timezone(&chrono::Utc))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sigterm_under_64_kiosks_answers_every_request_and_loses_nothing() {
    let seed: u64 = env_or("HALLQ_CRASH_SEED", rand::random());
    let mut rng = StdRng::seed_from_u64(seed);
    let kill_at = rng.gen_range(1..=400);
    eprintln!("SIGTERM after {kill_at} tickets (HALLQ_CRASH_SEED={seed})");
    let data = tempfile::tempdir().expect("a temp dir");
    let mut daemon = Process::spawn(data.path()).await;
    let api = daemon.api.clone();
    let codes = Arc::new(api.items().await.into_iter().map(|(code, _)| code).collect::<Vec<_>>());
    let acks = Arc::new(AckCount { n: AtomicUsize::new(0), kill_at, reached: Notify::new() });
    let mut tasks = Vec::new();
    for _ in 0..TERM_KIOSKS {
        tasks.push(tokio::spawn(term_kiosk(api.clone(), codes.clone(), acks.clone(), rng.gen())));
    }
    guard("the kiosks reaching the SIGTERM point", acks.reached.notified()).await;
    let sent = Instant::now();
    daemon.sigterm();
    let status = daemon.wait_exit().await;
    let exit_after = sent.elapsed();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(guard("a kiosk after the stop", t).await.expect("kiosk task"));
    }
    let log = daemon.log_text();
    assert!(status.success(), "seed {seed}: hallq exited with {status:?} after SIGTERM; log:\n{log}");
    assert!(exit_after < Duration::from_secs(10), "seed {seed}: hallq took {exit_after:?} to exit after SIGTERM");
    let stopped = logged_at(&log, "shutting down: no new connections")
        .unwrap_or_else(|| panic!("seed {seed}: no shutdown line with a time stamp in the log:\n{log}"));

    let (mut acked, mut acked_late, mut unavailable, mut no_connection, mut other) = (Vec::new(), 0, 0, 0, Vec::new());
    for o in outcomes {
        match o {
            TermOutcome::Acked(a, at) => {
                acked_late += usize::from(at >= sent);
                acked.push(a);
            }
            TermOutcome::Unavailable => unavailable += 1,
            TermOutcome::NoConnection(at, e) if at >= stopped => {
                no_connection += 1;
                let _ = e;
            }
            TermOutcome::NoConnection(at, e) => {
                other.push(format!("connection error at {at}, before the stop at {stopped}: {e}"))
            }
            TermOutcome::Other(e) => other.push(e),
        }
    }
    eprintln!(
        "SIGTERM: exit 0 after {exit_after:?}; {} tickets acknowledged ({acked_late} after the signal), {unavailable} answered 503, {no_connection} \
         connection errors after the daemon stopped listening",
        acked.len()
    );
    assert!(other.is_empty(), "seed {seed}: answers neither 2xx, 503 nor after the stop: {other:#?}");
    assert_eq!(no_connection, TERM_KIOSKS, "seed {seed}: every kiosk ends on a refused connection");

    let mut daemon = Process::spawn(data.path()).await;
    let facts = Facts { issued: acked, ..Facts::default() };
    check_facts(&daemon.api, &facts, &format!("seed {seed}, after SIGTERM")).await;
    numbers_by_queue(&facts.issued);
    let status = daemon.terminate().await;
    assert!(status.success(), "{status:?}");
}

/// Starts the binary on a fresh data directory and sends SIGTERM from the thread reading
/// its output the moment a line containing `trigger` appears; returns the exit status and
/// the output.
async fn term_on_line(trigger: &'static str) -> (std::process::ExitStatus, String) {
    let data = tempfile::tempdir().expect("a temp dir");
    let config = support::config_dir(support::without_rate_limits);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hallq"))
        .args(["serve", "--listen", "127.0.0.1:0", "--always-open", "--config"])
        .arg(config.path())
        .arg("--data")
        .arg(data.path())
        .env("RUST_LOG", "info,sled=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the hallq binary starts");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains(trigger) && !lines.iter().any(|l: &String| l.contains(trigger)) {
                // SAFETY: the child is not reaped before this thread ends (it is joined
                // before `wait`), so the pid names our child.
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
            lines.push(line);
        }
        lines.join("\n")
    });
    let out = guard("hallq's output ending", tokio::task::spawn_blocking(move || reader.join()))
        .await
        .expect("join")
        .expect("the reader thread");
    let status = guard("hallq exiting", tokio::task::spawn_blocking(move || child.wait()))
        .await
        .expect("join")
        .expect("wait for hallq");
    (status, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_right_at_start_up_stops_gracefully() {
    // While the log loads (before the listening line) and just after the listening line:
    // the handler must already be in place, or SIGTERM's default action kills hallq.
    for trigger in ["hallq listening on", "event log loaded"].iter().cycle().take(8) {
        let (status, out) = term_on_line(trigger).await;
        assert!(status.success(), "SIGTERM at {trigger:?}: hallq exited with {status:?}; its output:\n{out}");
        assert!(out.contains("event log flushed; bye"), "SIGTERM at {trigger:?}: no clean stop; its output:\n{out}");
    }
}
