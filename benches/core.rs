//! Benchmarks of the pure core: choosing the next ticket with 1k / 10k / 100k tickets
//! waiting across 50 queues (for a window that serves all 50); deciding + applying each
//! kind of command a working day sends; and replaying a log of 10⁶ events into a fresh
//! state (from records, and from their JSON as the log stores them). Results and the
//! command go to BENCHMARKS.md.
//!
//! `cargo bench --bench core`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use hallq::core::event::Record;
use hallq::core::model::{Outcome, QueueId, TicketId, TransferTarget, Ts, UserName, WindowId, WindowState};
use hallq::core::setup::Setup;
use hallq::core::{decide, Command, Envelope, HallState};

const QUEUES: usize = 50;
/// 2026-11-27 10:00 in Asia/Shanghai: a working morning, the hall open all day.
const NOW: Ts = Ts(1_795_744_800_000);

/// Queue prefixes AA, AB, … : 50 queues.
fn prefixes() -> Vec<String> {
    (0..QUEUES).map(|i| format!("{}{}", (b'A' + (i / 26) as u8) as char, (b'A' + (i % 26) as u8) as char)).collect()
}

/// A hall of 50 queues, one window serving them all and one window per queue, written as a
/// kiosk-config directory and loaded the way the daemon loads one.
fn setup() -> Arc<Setup> {
    let dir = tempfile::tempdir().expect("a temp dir");
    let p = prefixes();
    let mut hall = String::from("[hall]\nid = \"bench\"\nname = \"bench hall\"\nhours = []\n");
    for q in &p {
        hall += &format!("[[queue]]\nid = \"{q}\"\nname = \"queue {q}\"\nprefix = \"{q}\"\n");
    }
    let all: Vec<String> = p.iter().map(|q| format!("\"{q}\"")).collect();
    hall += &format!("[[window]]\nid = \"all\"\nname = \"all\"\nqueues = [{}]\n", all.join(", "));
    for q in &p {
        hall += &format!("[[window]]\nid = \"w{q}\"\nname = \"window {q}\"\nqueues = [\"{q}\"]\n");
    }
    let mut services = String::from("[[category]]\nname = \"c\"\n");
    for q in &p {
        services += &format!(
            "[[item]]\ncode = \"S-{q}\"\nname = \"item {q}\"\ncategory = \"c\"\ndepartment = \"d\"\nqueue = \"{q}\"\nminutes = 10\nmaterials = [\"x\"]\n"
        );
    }
    std::fs::write(dir.path().join("hall.toml"), hall).expect("write hall.toml");
    std::fs::write(dir.path().join("services.toml"), services).expect("write services.toml");
    let config = hallq::config::load_dir(dir.path()).unwrap_or_else(|e| panic!("the bench hall loads: {e}"));
    Arc::new(config.setup)
}

fn id(n: u64) -> TicketId {
    let mut bytes = [0u8; 16];
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    TicketId::from_bytes(bytes)
}

fn env(command: Command) -> Envelope {
    Envelope { command, idempotency_key: None }
}

fn issue(n: u64) -> Envelope {
    let q = &prefixes()[(n as usize) % QUEUES];
    env(Command::IssueTicket { id: id(n), service: format!("S-{q}"), priority: None, kiosk: "k".into(), remote: false })
}

/// A hall with `waiting` tickets spread over the 50 queues and window `all` open.
fn hall(setup: &Arc<Setup>, waiting: u64) -> HallState {
    let mut state = HallState::new(setup.clone());
    for n in 0..waiting {
        state.step(&issue(n), NOW).result.expect("issue");
    }
    let clerk = UserName::parse("clerk").expect("a user name");
    let window = WindowId::parse("all").expect("a window id");
    state.step(&env(Command::OpenWindow { window, clerk }), NOW).result.expect("open");
    state
}

fn choose_next(c: &mut Criterion) {
    let setup = setup();
    let mut group = c.benchmark_group("choose_next");
    for waiting in [1_000u64, 10_000, 100_000] {
        let state = hall(&setup, waiting);
        let next = env(Command::CallNext {
            window: WindowId::parse("all").expect("a window id"),
            clerk: UserName::parse("clerk").expect("a user name"),
        });
        group.bench_with_input(BenchmarkId::from_parameter(waiting), &state, |b, state| {
            b.iter(|| decide(state, &next, NOW).expect("a ticket is chosen"))
        });
    }
    group.finish();
}

/// One forward run of the dispatch (issue 15: every ticket's `ahead` and call time) over
/// a hall with `waiting` tickets and one window open.
fn forecast(c: &mut Criterion) {
    let setup = setup();
    let mut group = c.benchmark_group("forecast");
    group.sample_size(10);
    for waiting in [1_000u64, 10_000, 100_000] {
        let state = hall(&setup, waiting);
        group.bench_with_input(BenchmarkId::from_parameter(waiting), &state, |b, state| {
            b.iter(|| hallq::core::forecast::forecast(state))
        });
    }
    group.finish();
}

fn issue_ticket(c: &mut Criterion) {
    let setup = setup();
    // A fresh copy of the hall for every issue, so the day never fills up; cloning is
    // outside the measured time.
    let state = hall(&setup, 10_000);
    let next = issue(1_000_000);
    c.bench_function("issue_ticket_decide_apply_10k_waiting", |b| {
        b.iter_batched_ref(|| state.clone(), |s| s.step(&next, NOW).result.expect("issue"), BatchSize::PerIteration)
    });
}

fn window() -> WindowId {
    WindowId::parse("all").expect("a window id")
}

fn clerk() -> UserName {
    UserName::parse("clerk").expect("a user name")
}

/// `state` after `command`, which must be accepted.
fn after(mut state: HallState, command: Command) -> HallState {
    state.step(&env(command), NOW).result.expect("the set-up command is accepted");
    state
}

/// Each command of a clerk's and a visitor's day, decided and applied on a hall with 1,000
/// tickets waiting (a busy district morning). Each runs on a fresh copy of a hall in the
/// state the command needs; cloning is outside the measured time.
fn per_command(c: &mut Criterion) {
    let setup = setup();
    let open = hall(&setup, 1_000);
    let called = after(open.clone(), Command::CallNext { window: window(), clerk: clerk() });
    let serving = after(called.clone(), Command::Serve { window: window(), clerk: clerk() });
    let done = after(serving.clone(), Command::Done { window: window(), clerk: clerk(), outcome: Outcome::Completed });
    let first = called.windows.get(&window()).and_then(|w| w.ticket).expect("window all holds a ticket");
    let parked = after(serving.clone(), Command::Park { window: window(), clerk: clerk() });
    let other_queue = QueueId::parse("AB").expect("a queue id");
    let cases: Vec<(&str, &HallState, Command)> = vec![
        ("issue", &open, issue(1_000_000).command),
        ("call_next", &open, Command::CallNext { window: window(), clerk: clerk() }),
        ("recall", &called, Command::Recall { window: window(), clerk: clerk() }),
        ("serve", &called, Command::Serve { window: window(), clerk: clerk() }),
        ("done", &serving, Command::Done { window: window(), clerk: clerk(), outcome: Outcome::Completed }),
        ("no_show", &called, Command::NoShow { window: window(), clerk: clerk() }),
        (
            "transfer",
            &serving,
            Command::Transfer { window: window(), clerk: clerk(), to: TransferTarget::Queue(other_queue) },
        ),
        ("park", &serving, Command::Park { window: window(), clerk: clerk() }),
        ("unpark", &parked, Command::Unpark { window: window(), clerk: clerk(), id: first }),
        ("cancel", &open, Command::CancelTicket { id: id(500) }),
        ("rate", &done, Command::RateTicket { id: first, score: 5, comment: None, reason: None }),
        ("pause", &done, Command::Pause { window: window(), clerk: clerk(), reason: None }),
    ];
    let mut group = c.benchmark_group("decide_apply_1k_waiting");
    for (name, state, command) in cases {
        let envelope = env(command);
        // The command must be accepted, or the benchmark would time a refusal.
        state.clone().step(&envelope, NOW).result.unwrap_or_else(|e| panic!("{name} is accepted: {e}"));
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || state.clone(),
                |s| s.step(&envelope, NOW).result.expect("accepted"),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;
/// Tickets per simulated day of the replay log: issue, call, serve and done make four
/// events each.
const LOG_TICKETS_PER_DAY: u64 = 2_000;

/// A log of at least `events` records: working days of the bench hall, each opening
/// window `all` and taking every ticket from issue to done, a second apart.
fn log(setup: &Arc<Setup>, events: usize) -> Vec<(u64, Record)> {
    let mut state = HallState::new(setup.clone());
    let mut out = Vec::with_capacity(events + 16);
    let mut n = 0u64;
    let mut day = 0i64;
    while out.len() < events {
        let mut at = Ts(NOW.0 + day * DAY_MS);
        let mut run = |state: &mut HallState, command: Command, at: &mut Ts| {
            *at = Ts(at.0 + 1_000);
            let step = state.step(&env(command), *at);
            step.result.expect("the log's command is accepted");
            out.extend(step.records);
        };
        // The day rolls over (closing every window) at the first command of the day.
        run(&mut state, Command::Tick, &mut at);
        if state.windows.get(&window()).is_none_or(|w| w.state == WindowState::Closed) {
            run(&mut state, Command::OpenWindow { window: window(), clerk: clerk() }, &mut at);
        }
        for _ in 0..LOG_TICKETS_PER_DAY {
            run(&mut state, issue(n).command, &mut at);
            n += 1;
        }
        for _ in 0..LOG_TICKETS_PER_DAY {
            run(&mut state, Command::CallNext { window: window(), clerk: clerk() }, &mut at);
            run(&mut state, Command::Serve { window: window(), clerk: clerk() }, &mut at);
            run(&mut state, Command::Done { window: window(), clerk: clerk(), outcome: Outcome::Completed }, &mut at);
        }
        day += 1;
    }
    out
}

/// Start-up's work for a log of 10⁶ events: applying every record to a fresh state, and
/// the same from the records' JSON (as sled holds them), which is what the daemon does.
fn replay(c: &mut Criterion) {
    let setup = setup();
    let records = log(&setup, 1_000_000);
    let json: Vec<(u64, Vec<u8>)> =
        records.iter().map(|(seq, r)| (*seq, serde_json::to_vec(r).expect("a record encodes"))).collect();
    let mut group = c.benchmark_group("replay_1m_events");
    group.sample_size(10);
    group.bench_function("apply", |b| {
        b.iter(|| {
            let mut state = HallState::new(setup.clone());
            for (seq, record) in &records {
                state.apply(*seq, record);
            }
            state.last_seq
        })
    });
    group.bench_function("decode_and_apply", |b| {
        b.iter(|| {
            let mut state = HallState::new(setup.clone());
            for (seq, bytes) in &json {
                let record: Record = serde_json::from_slice(bytes).expect("a record decodes");
                state.apply(*seq, &record);
            }
            state.last_seq
        })
    });
    group.finish();
}

criterion_group!(benches, choose_next, forecast, issue_ticket, per_command, replay);
criterion_main!(benches);
