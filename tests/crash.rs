//! The built `hallq` binary under `kill -9` in a mixed hall: kiosks issuing, clerks calling,
//! serving, finishing, recalling and marking no-shows, displays on the feed, and a SIGKILL
//! at a random moment, round after round on one data directory. After each crash every
//! acknowledged command is still there, no number repeats, no window holds two tickets,
//! and the log replays to exactly what the daemon reported. (A graceful stop on SIGTERM is
//! in graceful_stop.rs.)
//!
//! The campaign is seeded; a failure prints its seed. The normal suite runs a few rounds; a
//! long campaign: `HALLQ_CRASH_ROUNDS=200 cargo test --profile ci --test faults crash::`, and
//! `HALLQ_CRASH_SEED=N` replays a seed's choices (kill moments and clerks' actions; thread
//! timing stays the machine's own).

use crate::crash_checks::{check_facts, check_log, numbers_by_queue};
use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use support::{guard, Api, Process, KIOSK};
use tokio::sync::Notify;

/// Kiosks issuing at once during the campaign.
const KIOSKS: usize = 8;
/// Windows with a clerk at work during the campaign (clerk N works at window N).
const CLERK_WINDOWS: [&str; 5] = ["1", "3", "5", "10", "11"];
/// Displays on the feed during the campaign.
const DISPLAYS: usize = 2;
/// Rounds of the campaign in the normal suite.
const ROUNDS_DEFAULT: usize = 6;
/// Rounds on one data directory; a long campaign starts a fresh one after as many, so
/// that one service day stays under the hall's 100,000 tickets.
const ROUNDS_PER_DIR: usize = 15;
/// Kiosks issuing at once while the daemon gets SIGTERM.
pub(crate) const TERM_KIOSKS: usize = 64;

#[derive(Clone, Debug)]
pub(crate) struct Acked {
    pub(crate) id: String,
    pub(crate) number: String,
    pub(crate) queue: String,
}

/// The least a ticket has been through, by acknowledged clerk commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Least {
    Called,
    Serving,
    Done,
    NoShow,
}

impl Least {
    /// The statuses a ticket may have now, given what was acknowledged for it (a later
    /// command may have been logged but not answered when the daemon died).
    pub(crate) fn allowed(self) -> &'static [&'static str] {
        match self {
            Least::Called => &["called", "serving", "done", "no_show"],
            Least::Serving => &["serving", "done"],
            Least::Done => &["done"],
            Least::NoShow => &["no_show"],
        }
    }
}

/// Everything acknowledged so far, over all rounds.
#[derive(Default)]
pub(crate) struct Facts {
    pub(crate) issued: Vec<Acked>,
    /// Ticket id → the latest acknowledged clerk command's outcome.
    pub(crate) clerked: BTreeMap<String, Least>,
    /// Numbers displays were shown in call-outs (published only after the flush).
    pub(crate) shown_calls: BTreeSet<String>,
    /// The service day the facts belong to.
    pub(crate) day: Option<String>,
}

/// One round's load: what it saw acknowledged, and anything a live daemon should not
/// have answered.
#[derive(Default)]
struct RoundOut {
    issued: Vec<Acked>,
    clerked: Vec<(String, Least)>,
    shown_calls: Vec<String>,
    unexpected: Vec<String>,
}

pub(crate) fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name}={v} does not read")),
        Err(_) => default,
    }
}

/// The digits of a number such as `A012`.
pub(crate) fn number_n(number: &str) -> u32 {
    number
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .unwrap_or_else(|_| panic!("bad number {number}"))
}

pub(crate) fn acked_of(t: &Value) -> Acked {
    Acked {
        id: t["id"].as_str().expect("id").into(),
        number: t["number"].as_str().expect("number").into(),
        queue: t["queue"].as_str().expect("queue").into(),
    }
}

/// Counts acknowledgements and wakes the killer when the round's count is reached.
pub(crate) struct AckCount {
    pub(crate) n: AtomicUsize,
    pub(crate) kill_at: usize,
    pub(crate) reached: Notify,
}

impl AckCount {
    pub(crate) fn one(&self) {
        if self.n.fetch_add(1, Ordering::SeqCst) + 1 == self.kill_at {
            self.reached.notify_one();
        }
    }
}

/// A kiosk issuing random items until the daemon dies.
async fn kiosk(api: Api, codes: Arc<Vec<String>>, acks: Arc<AckCount>, seed: u64) -> RoundOut {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = RoundOut::default();
    loop {
        let code = codes.choose(&mut rng).expect("a code").clone();
        let req = api.http.post(api.url("/api/v1/tickets")).json(&json!({ "service": code }));
        match api.try_send(req, Some(KIOSK)).await {
            Ok(r) if r.status == 201 => {
                out.issued.push(acked_of(&r.body));
                acks.one();
            }
            Ok(r) => out.unexpected.push(format!("kiosk: {} {}", r.status, r.text)),
            // The daemon is gone: this request may or may not have been logged.
            Err(_) => return out,
        }
    }
}

/// A clerk at window `w`: next, then serve and done, or recall, or no-show, until the
/// daemon dies. Starts from whatever the window holds after the last crash.
async fn clerk(api: Api, w: &'static str, token: String, acks: Arc<AckCount>, seed: u64) -> RoundOut {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = RoundOut::default();
    let req = api.http.get(api.url(&format!("/api/v1/windows/{w}")));
    // An early kill may land before the clerk has even looked.
    let Ok(held) = api.try_send(req, Some(&token)).await else { return out };
    assert_eq!(held.status, 200, "window {w}: {}", held.text);
    // (ticket id, status) of what the window holds.
    let mut current: Option<(String, String)> = held.body["ticket"]
        .as_object()
        .map(|t| (t["id"].as_str().expect("id").into(), t["status"].as_str().expect("status").into()));
    loop {
        let (action, body) = match &current {
            None => ("next", None),
            Some((_, s)) if s == "serving" => ("done", Some(json!({ "outcome": "completed" }))),
            Some(_) => (*["serve", "serve", "recall", "no-show"].choose(&mut rng).expect("an action"), None),
        };
        let mut req = api.http.post(api.url(&format!("/api/v1/windows/{w}/{action}")));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = match api.try_send(req, Some(&token)).await {
            Ok(r) => r,
            Err(_) => return out,
        };
        if action == "recall" && r.status == 409 && r.body["error"]["code"] == "recall_limit" {
            continue;
        }
        if r.status != 200 {
            out.unexpected.push(format!("window {w} {action}: {} {}", r.status, r.text));
            continue;
        }
        acks.one();
        let id = current.as_ref().map(|(id, _)| id.clone());
        match (action, id) {
            ("next", _) => match r.body["ticket"].as_object() {
                Some(t) => {
                    let id: String = t["id"].as_str().expect("id").into();
                    out.clerked.push((id.clone(), Least::Called));
                    current = Some((id, "called".into()));
                }
                // Nobody waits: give the kiosks a moment.
                None => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            ("serve", Some(id)) => {
                out.clerked.push((id.clone(), Least::Serving));
                current = Some((id, "serving".into()));
            }
            ("recall", Some(id)) => out.clerked.push((id, Least::Called)),
            ("no-show", Some(id)) => {
                out.clerked.push((id, Least::NoShow));
                current = None;
            }
            ("done", Some(id)) => {
                out.clerked.push((id, Least::Done));
                current = None;
            }
            (other, id) => panic!("window {w}: {other} acknowledged for {id:?}"),
        }
    }
}

/// A display reading the feed until the daemon dies: the call-outs it saw, in order.
async fn display(api: Api) -> RoundOut {
    let mut out = RoundOut::default();
    let Some(mut d) = api.try_display().await else { return out };
    let mut last_seq = 0;
    while let Some(m) = d.next_or_end().await {
        let seq = m["seq"].as_u64().expect("a seq");
        if seq < last_seq {
            out.unexpected.push(format!("display: seq went back from {last_seq} to {seq}: {m}"));
        }
        last_seq = seq;
        if m["type"] == "call" {
            out.shown_calls.push(m["number"].as_str().expect("number").into());
        }
    }
    out
}

/// The example hall as the binary runs it (`--always-open`), for reading its log.
pub(crate) fn example_setup() -> Arc<hallq::core::setup::Setup> {
    let dir = support::config_dir(support::without_rate_limits);
    let mut config = hallq::config::load_dir(dir.path()).expect("the example hall loads");
    config.setup.hours.clear();
    Arc::new(config.setup)
}

/// The day a live daemon is in; facts of an earlier day (a campaign that ran over local
/// midnight) are dropped, since that day's tickets left the live state.
async fn same_day(api: &Api, facts: &mut Facts) {
    let hall = api.get("/api/v1/hall", None).await;
    let day = hall.body["day"].as_str().map(String::from);
    if facts.day.is_some() && facts.day != day {
        eprintln!("the service day changed to {day:?} mid-campaign; earlier facts dropped");
        *facts = Facts::default();
    }
    facts.day = day;
}

/// One round of load on a fresh start over `data`, killed with SIGKILL after `kill_at`
/// acknowledgements or `kill_after_ms`, whichever the round drew.
async fn load_and_kill(data: &Path, codes: Arc<Vec<String>>, rng: &mut StdRng, round: usize) -> RoundOut {
    let mut daemon = Process::spawn(data).await;
    let api = daemon.api.clone();
    let by_acks = rng.gen_bool(0.5);
    let kill_at = if by_acks { rng.gen_range(1..=600) } else { usize::MAX };
    let kill_after = Duration::from_millis(rng.gen_range(0..=1500));
    let acks = Arc::new(AckCount { n: AtomicUsize::new(0), kill_at, reached: Notify::new() });
    let mut displays = Vec::new();
    for _ in 0..DISPLAYS {
        displays.push(tokio::spawn(display(api.clone())));
    }
    let logins = CLERK_WINDOWS.iter().map(|w| {
        let api = api.clone();
        async move { api.login(&format!("clerk{w}")).await }
    });
    let tokens = futures_util::future::join_all(logins).await;
    let mut tasks = Vec::new();
    for (w, token) in CLERK_WINDOWS.iter().zip(tokens) {
        api.window_ok(&token, w, "open", None).await;
        tasks.push(tokio::spawn(clerk(api.clone(), w, token, acks.clone(), rng.gen())));
    }
    for _ in 0..KIOSKS {
        tasks.push(tokio::spawn(kiosk(api.clone(), codes.clone(), acks.clone(), rng.gen())));
    }
    if by_acks {
        guard("the load reaching its kill point", acks.reached.notified()).await;
    } else {
        tokio::time::sleep(kill_after).await;
    }
    daemon.kill9();
    let n = acks.n.load(Ordering::SeqCst);
    let how = if by_acks { format!("at ack {kill_at}") } else { format!("after {kill_after:?}") };
    eprintln!("round {round}: SIGKILL {how} ({n} acknowledged)");
    let mut out = RoundOut::default();
    for t in tasks.into_iter().chain(displays) {
        let o = guard("a client noticing the kill", t).await.expect("client task");
        out.issued.extend(o.issued);
        out.clerked.extend(o.clerked);
        out.shown_calls.extend(o.shown_calls);
        out.unexpected.extend(o.unexpected);
    }
    out
}

/// Restarts over `data`, checks every fact, stops gracefully and checks the log against
/// what the daemon reported.
async fn restart_and_check(data: &Path, facts: &mut Facts, context: &str) {
    let mut daemon = Process::spawn(data).await;
    same_day(&daemon.api, facts).await;
    let reported = check_facts(&daemon.api, facts, context).await;
    numbers_by_queue(&facts.issued);
    let status = daemon.terminate().await;
    assert!(status.success(), "{context}: hallq exited with {status:?} after SIGTERM; log:\n{}", daemon.log_text());
    check_log(data, &reported, facts, context);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn acknowledged_commands_survive_kill_9_at_random_moments() {
    let rounds: usize = env_or("HALLQ_CRASH_ROUNDS", ROUNDS_DEFAULT);
    let seed: u64 = env_or("HALLQ_CRASH_SEED", rand::random());
    eprintln!(
        "crash campaign: seed {seed}, {rounds} rounds (replay: HALLQ_CRASH_SEED={seed} HALLQ_CRASH_ROUNDS={rounds})"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    for first in (0..rounds).step_by(ROUNDS_PER_DIR) {
        campaign_on_one_dir(seed, &mut rng, first..rounds.min(first + ROUNDS_PER_DIR)).await;
    }
}

/// Rounds over one data directory, then a last check that new tickets follow the numbers.
async fn campaign_on_one_dir(seed: u64, rng: &mut StdRng, rounds: std::ops::Range<usize>) {
    let data = tempfile::tempdir().expect("a temp dir");
    let mut facts = Facts::default();
    let codes = {
        let daemon = Process::spawn(data.path()).await;
        Arc::new(daemon.api.items().await.into_iter().map(|(code, _)| code).collect::<Vec<_>>())
    };
    for round in rounds {
        let context = format!("seed {seed}, round {round}");
        let out = load_and_kill(data.path(), codes.clone(), rng, round).await;
        let kinds = [Least::Called, Least::Serving, Least::Done, Least::NoShow]
            .map(|k| out.clerked.iter().filter(|(_, c)| *c == k).count());
        eprintln!(
            "round {round}: {} tickets issued; calls/recalls {}, serves {}, dones {}, no-shows {}; {} call-outs on displays",
            out.issued.len(),
            kinds[0],
            kinds[1],
            kinds[2],
            kinds[3],
            out.shown_calls.len()
        );
        assert!(out.unexpected.is_empty(), "{context}: the live daemon refused: {:#?}", out.unexpected);
        facts.issued.extend(out.issued);
        facts.clerked.extend(out.clerked);
        facts.shown_calls.extend(out.shown_calls);
        restart_and_check(data.path(), &mut facts, &context).await;
    }

    let mut daemon = Process::spawn(data.path()).await;
    let api = daemon.api.clone();
    // New tickets continue the numbers: none repeats an acknowledged one.
    let by_queue = numbers_by_queue(&facts.issued);
    let items = api.items().await;
    for (queue, numbers) in &by_queue {
        let code = &items.iter().find(|(_, q)| q == queue).expect("an item in the queue").0;
        let t = api.issue(code).await;
        let n = number_n(t["number"].as_str().unwrap());
        let max = numbers.iter().max().copied().unwrap_or(0);
        assert!(
            n > max,
            "seed {seed}: queue {queue}: new ticket {} does not follow the last acknowledged {max}",
            t["number"]
        );
    }
    let status = daemon.terminate().await;
    assert!(status.success(), "hallq exited with {status:?} after SIGTERM; log:\n{}", daemon.log_text());
}
