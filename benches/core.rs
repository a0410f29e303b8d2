//! Benchmarks of the pure core: choosing the next ticket with 1k / 10k / 100k tickets
//! waiting across 50 queues (for a window that serves all 50), and deciding + applying one
//! ticket issue. Results and the command go to BENCHMARKS.md.
//!
//! `cargo bench --bench core`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use hallq::core::model::{TicketId, Ts, UserName, WindowId};
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

criterion_group!(benches, choose_next, issue_ticket);
criterion_main!(benches);
