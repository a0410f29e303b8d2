//! What the daemon-level benchmarks share: writing a log of working days with the real
//! core and store, starting the release binary on it, and reading its memory.

// Each benchmark uses its own part of this module.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallq::core::event::Record;
use hallq::core::model::{Outcome, Ts, UserName, WindowId, WindowState};
use hallq::core::setup::Setup;
use hallq::core::{Command, Envelope, HallState, Reply};
use hallq::store::Store;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The hall in `dir` as the daemon loads it, its opening hours cleared so that commands
/// are taken at any hour (the daemon's `--always-open`).
pub fn setup(dir: &Path) -> Arc<Setup> {
    let mut config = hallq::config::load_dir(dir).unwrap_or_else(|e| panic!("{} loads: {e}", dir.display()));
    config.setup.hours.clear();
    Arc::new(config.setup)
}

fn env(command: Command) -> Envelope {
    Envelope { command, idempotency_key: None }
}

/// Writes records into a log in batches, the way the engine does, and counts them.
pub struct LogWriter {
    state: HallState,
    store: Store,
    pending: Vec<(u64, Record)>,
    pub written: usize,
    next_id: u64,
}

impl LogWriter {
    pub fn new(setup: Arc<Setup>, data: &Path) -> Self {
        let store = Store::open(data).unwrap_or_else(|e| panic!("open the log: {e}"));
        Self { state: HallState::new(setup), store, pending: Vec::new(), written: 0, next_id: 1 }
    }

    pub fn state(&self) -> &HallState {
        &self.state
    }

    /// Decides and applies `command` at `at`; the answer, or `None` if refused.
    pub fn run(&mut self, command: Command, at: Ts) -> Option<Reply> {
        let step = self.state.step(&env(command), at);
        self.written += step.records.len();
        self.pending.extend(step.records);
        if self.pending.len() >= 10_000 {
            self.write();
        }
        step.result.ok().map(|d| d.reply)
    }

    fn write(&mut self) {
        self.store.append(&self.pending).unwrap_or_else(|e| panic!("append to the log: {e}"));
        self.pending.clear();
    }

    fn fresh_id(&mut self) -> hallq::core::model::TicketId {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_id.to_be_bytes());
        bytes[8..].copy_from_slice(&0x5eed_5eed_5eed_5eed_u64.to_be_bytes());
        self.next_id += 1;
        hallq::core::model::TicketId::from_bytes(bytes)
    }

    /// One working day from `start`: the first `windows` windows open, `tickets` visitors
    /// take a ticket for the hall's items in turn, and the windows take them in turn from
    /// issue to done, as long as `finish` of them; the rest stay where that leaves them
    /// (waiting, or called at a window). Each command that changes something comes
    /// `step_ms` after the one before. Returns the time reached.
    pub fn day(&mut self, start: Ts, step_ms: i64, windows: usize, tickets: usize, finish: usize) -> Ts {
        let mut at = start;
        // Time moves on only when something happened, so a window finding nothing to call
        // does not push the day past midnight.
        let mut run = |this: &mut Self, command: Command| {
            let before = this.written;
            let reply = this.run(command, Ts(at.0 + step_ms));
            if this.written > before {
                at = Ts(at.0 + step_ms);
            }
            reply
        };
        // The day rolls over, closing every window, at its first command; like the
        // engine, keep the state right after it as the day's snapshot.
        run(self, Command::Tick);
        if let Some(snap) = self.state.day_snapshot() {
            self.write();
            self.store.put_snapshot(&snap).unwrap_or_else(|e| panic!("write a snapshot: {e}"));
        }
        // A clerk may sit at one window only: one clerk per window.
        let ids: Vec<WindowId> = self.state.setup.windows.iter().take(windows).map(|w| w.id).collect();
        let clerks: Vec<UserName> =
            ids.iter().map(|w| UserName::parse(&format!("bench{w}")).expect("a user name")).collect();
        for (w, clerk) in ids.iter().zip(&clerks) {
            if self.state.windows.get(w).is_none_or(|s| s.state == WindowState::Closed) {
                run(self, Command::OpenWindow { window: *w, clerk: clerk.clone() });
            }
        }
        let items: Vec<String> = self.state.setup.items.iter().map(|i| i.code.as_str().to_string()).collect();
        for n in 0..tickets {
            let service = items[n % items.len()].clone();
            let id = self.fresh_id();
            run(self, Command::IssueTicket { id, service, priority: None, kiosk: "bench".into(), remote: false });
        }
        let mut finished = 0;
        'calls: while finished < finish {
            let mut any = false;
            for (w, clerk) in ids.iter().zip(&clerks) {
                if finished >= finish {
                    break 'calls;
                }
                let call = Command::CallNext { window: *w, clerk: clerk.clone() };
                if let Some(Reply::MaybeTicket(Some(_))) = run(self, call) {
                    any = true;
                    run(self, Command::Serve { window: *w, clerk: clerk.clone() });
                    let done = Command::Done { window: *w, clerk: clerk.clone(), outcome: Outcome::Completed };
                    run(self, done);
                    finished += 1;
                }
            }
            if !any {
                break;
            }
        }
        // The busy moment: every open window calls one more ticket and keeps it.
        for (w, clerk) in ids.iter().zip(&clerks) {
            run(self, Command::CallNext { window: *w, clerk: clerk.clone() });
        }
        at
    }

    /// Writes what is pending and flushes the log.
    pub fn finish(mut self) -> usize {
        self.write();
        self.store.flush_blocking().unwrap_or_else(|e| panic!("flush the log: {e}"));
        self.written
    }
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("its address").port()
}

/// The release binary serving `config` on `data`, and its port.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
}

impl Daemon {
    pub fn start(config: &Path, data: &Path) -> Self {
        let port = free_port();
        let child = Process::new(env!("CARGO_BIN_EXE_hallq"))
            .args(["serve", "--always-open", "--config"])
            .arg(config)
            .arg("--data")
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the hallq binary");
        Self { child, port }
    }

    /// Waits until `/healthz` answers; how long since `since`.
    pub fn until_serving(&mut self, since: Instant) -> Duration {
        let deadline = since + Duration::from_secs(120);
        loop {
            if healthz(self.port) {
                return since.elapsed();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the daemon exited before serving: {status}");
            }
            assert!(Instant::now() < deadline, "the daemon did not serve within 120 s");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The daemon's resident memory, from /proc, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("read /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One plain HTTP/1.1 GET of `/healthz`; whether it answered 200.
fn healthz(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// The median of `xs` (sorted in place).
pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}
