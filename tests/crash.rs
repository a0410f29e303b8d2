//! The built `hallq` binary under `kill -9` in a mixed hall: kiosks issuing, clerks calling,
//! serving, finishing, recalling and marking no-shows, displays on the feed, and a SIGKILL
//! at a random moment, round after round on one data directory. After each crash every
//! acknowledged command is still there, no number repeats, no window holds two tickets,
//! and the log replays to exactly what the daemon reported. And a graceful stop on SIGTERM:
//! under 64 kiosks, and right at start-up.
//!
//! The campaign is seeded; a failure prints its seed. The normal suite runs a few rounds; a
//! long campaign: `HALLQ_CRASH_ROUNDS=200 cargo test --profile ci --test faults crash::`, and
//! `HALLQ_CRASH_SEED=N` replays a seed's choices (kill moments and clerks' actions; thread
//! timing stays the machine's own).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallq::core::HallState;
use hallq::store::Store;
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
const TERM_KIOSKS: usize = 64;

#[derive(Clone, Debug)]
struct Acked {
    id: String,
    number: String,
    queue: String,
}

/// The least a ticket has been through, by acknowledged clerk commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Least {
    Called,
    Serving,
    Done,
    NoShow,
}

impl Least {
    /// The statuses a ticket may have now, given what was acknowledged for it (a later
    /// command may have been logged but not answered when the daemon died).
    fn allowed(self) -> &'static [&'static str] {
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
struct Facts {
    issued: Vec<Acked>,
    /// Ticket id → the latest acknowledged clerk command's outcome.
    clerked: BTreeMap<String, Least>,
    /// Numbers displays were shown in call-outs (published only after the flush).
    shown_calls: BTreeSet<String>,
    /// The service day the facts belong to.
    day: Option<String>,
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

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name}={v} does not read")),
        Err(_) => default,
    }
}

/// The digits of a number such as `A012`.
fn number_n(number: &str) -> u32 {
    number
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .unwrap_or_else(|_| panic!("bad number {number}"))
}

fn acked_of(t: &Value) -> Acked {
    Acked {
        id: t["id"].as_str().expect("id").into(),
        number: t["number"].as_str().expect("number").into(),
        queue: t["queue"].as_str().expect("queue").into(),
    }
}

/// Counts acknowledgements and wakes the killer when the round's count is reached.
struct AckCount {
    n: AtomicUsize,
    kill_at: usize,
    reached: Notify,
}

impl AckCount {
    fn one(&self) {
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
fn example_setup() -> Arc<hallq::core::setup::Setup> {
    let dir = support::config_dir(support::without_rate_limits);
    let mut config = hallq::config::load_dir(dir.path()).expect("the example hall loads");
    config.setup.hours.clear();
    Arc::new(config.setup)
}

/// What the daemon says about a ticket: (status, number, queue, window).
type TicketReport = (String, String, String, Option<String>);

/// What a live daemon reports: every known ticket, and each window's ticket number.
struct Reported {
    tickets: BTreeMap<String, TicketReport>,
    windows: BTreeMap<String, Option<String>>,
}

/// GET of each ticket, 16 at a time.
async fn read_tickets(api: &Api, ids: BTreeSet<String>) -> BTreeMap<String, support::Reply> {
    let ids: Vec<String> = ids.into_iter().collect();
    let mut tasks = Vec::new();
    for part in ids.chunks(ids.len().div_ceil(16).max(1)) {
        let (api, part) = (api.clone(), part.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for id in part {
                let r = api.ticket(&id).await;
                out.push((id, r));
            }
            out
        }));
    }
    let mut all = BTreeMap::new();
    for t in tasks {
        all.extend(guard("reading tickets", t).await.expect("read task"));
    }
    all
}

/// Checks every fact against the restarted daemon, and the windows' invariant; returns
/// what the daemon reported.
async fn check_facts(api: &Api, facts: &Facts, context: &str) -> Reported {
    let mut bad = Vec::new();
    let mut tickets = BTreeMap::new();
    let ids = facts.issued.iter().map(|a| a.id.clone()).chain(facts.clerked.keys().cloned()).collect();
    let mut got = read_tickets(api, ids).await;
    for a in &facts.issued {
        let r = got.remove(&a.id).expect("read");
        if r.status != 200 || r.body["number"] != a.number.as_str() || r.body["queue"] != a.queue.as_str() {
            bad.push(format!("issued {} {}: {} {}", a.number, a.id, r.status, r.text));
            continue;
        }
        let status = r.body["status"].as_str().expect("status").to_string();
        if let Some(least) = facts.clerked.get(&a.id) {
            if !least.allowed().contains(&status.as_str()) {
                bad.push(format!("{} acknowledged as {least:?} is now {status}", a.number));
            }
        }
        let window = r.body["window"].as_str().map(String::from);
        tickets.insert(a.id.clone(), (status, a.number.clone(), a.queue.clone(), window));
    }
    // A clerk may call a ticket whose kiosk never heard its 201 (in flight at a kill, yet
    // logged): it is checked all the same.
    for (id, least) in &facts.clerked {
        if tickets.contains_key(id) {
            continue;
        }
        let r = got.remove(id).expect("read");
        let status = r.body["status"].as_str().unwrap_or_default().to_string();
        if r.status != 200 || !least.allowed().contains(&status.as_str()) {
            bad.push(format!("ticket {id} acknowledged as {least:?}: {} {}", r.status, r.text));
            continue;
        }
        let text = |k: &str| r.body[k].as_str().map(String::from);
        let (number, queue) = (text("number").expect("number"), text("queue").expect("queue"));
        tickets.insert(id.clone(), (status, number, queue, text("window")));
    }
    assert!(
        bad.is_empty(),
        "{context}: {} acknowledged commands lost or changed: {:#?}",
        bad.len(),
        &bad[..bad.len().min(20)]
    );

    let sup = api.login("supervisor").await;
    let hall = api.get("/api/v1/hall", None).await;
    let mut windows = BTreeMap::new();
    let mut at_window: BTreeMap<String, String> = BTreeMap::new();
    for w in hall.body["windows"].as_array().expect("windows") {
        let w = w["id"].as_str().expect("window id");
        let r = api.get(&format!("/api/v1/windows/{w}"), Some(&sup)).await;
        assert_eq!(r.status, 200, "{context}: window {w}: {}", r.text);
        let number = r.body["window"]["ticket"].as_str().map(String::from);
        assert_eq!(r.body["ticket"]["number"].as_str().map(String::from), number, "{context}: window {w}: {}", r.text);
        if let Some(n) = &number {
            let other = at_window.insert(n.clone(), w.to_string());
            assert!(other.is_none(), "{context}: ticket {n} is at windows {other:?} and {w}");
            let t = &r.body["ticket"];
            assert_eq!(t["window"], w, "{context}: window {w} holds {n}, which says it is at {}", t["window"]);
        }
        windows.insert(w.to_string(), number);
    }
    // A ticket that says it is called or served at a window is what that window holds.
    for (status, number, _, window) in tickets.values() {
        if status == "called" || status == "serving" {
            let w = window.as_ref().unwrap_or_else(|| panic!("{context}: {number} is {status} at no window"));
            assert_eq!(windows.get(w), Some(&Some(number.clone())), "{context}: {number} is {status} at {w}");
        }
    }
    Reported { tickets, windows }
}

/// Opens the stopped daemon's log: `load` (snapshot + tail) equals a full replay, both
/// equal what the daemon reported, records' times never go back, no number repeats, and
/// every call-out a display saw is in the log.
fn check_log(data: &Path, reported: &Reported, facts: &Facts, context: &str) {
    let store = Store::open(data).expect("the log opens");
    let setup = example_setup();
    let (loaded, _) = store.load(setup.clone()).expect("the log loads");
    let mut replayed = HallState::new(setup);
    let mut last_at = i64::MIN;
    for item in store.records_after(0) {
        let (seq, record) = item.expect("a record reads");
        assert!(record.at.0 >= last_at, "{context}: record {seq} is at {} before {last_at}", record.at.0);
        last_at = record.at.0;
        replayed.apply(seq, &record);
    }
    assert!(loaded == replayed, "{context}: load (snapshot + tail) differs from replaying the whole log");

    let by_id: BTreeMap<String, &hallq::core::model::Ticket> =
        loaded.tickets.values().map(|t| (t.id.to_string(), t)).collect();
    for (id, (status, number, queue, window)) in &reported.tickets {
        let t = by_id.get(id).unwrap_or_else(|| panic!("{context}: the daemon reported {number}, the log lacks it"));
        let logged =
            (t.status.as_str(), t.number.to_string(), t.queue.as_str(), t.window.as_ref().map(|w| w.to_string()));
        assert_eq!(
            logged,
            (status.as_str(), number.clone(), queue.as_str(), window.clone()),
            "{context}: the log and the daemon disagree on ticket {id}"
        );
    }
    let number_of = |id: &hallq::core::model::TicketId| loaded.tickets.get(id).map(|t| t.number.to_string());
    let logged_windows: BTreeMap<String, Option<String>> =
        loaded.windows.values().map(|w| (w.id.to_string(), w.ticket.as_ref().and_then(number_of))).collect();
    assert_eq!(logged_windows, reported.windows, "{context}: the log and the daemon disagree on the windows");

    let mut numbers = BTreeSet::new();
    for t in loaded.tickets.values() {
        assert!(numbers.insert(t.number.to_string()), "{context}: number {} is in the log twice", t.number);
    }
    let statuses: BTreeMap<String, &str> =
        loaded.tickets.values().map(|t| (t.number.to_string(), t.status.as_str())).collect();
    for n in &facts.shown_calls {
        let status =
            statuses.get(n).unwrap_or_else(|| panic!("{context}: displays were shown a call of {n}, not in the log"));
        assert_ne!(*status, "waiting", "{context}: displays were shown a call of {n}, which the log has waiting");
    }
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
