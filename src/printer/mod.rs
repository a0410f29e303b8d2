//! Ticket printers: kiosks with a network thermal printer (`[[kiosk]] printer`) get each
//! ticket they issue printed by the daemon, in ESC/POS over raw TCP.
//!
//! Printing sits at the edge and never holds a ticket up: the HTTP handler answers the
//! kiosk first and hands the rendered job to the printer's own task, which sends jobs one
//! at a time (a printer takes one connection) and checks the printer's status between
//! them (`probe_s`). What the task learns — ok, paper low, paper out, cover open, offline,
//! since when, the last error — is device state, kept here in memory, not hall state: it
//! is no event in the log, and after a restart it is learnt again by the first check.
//! What matters to supervisors — a fault that stops tickets printing — the task reports to
//! the engine (`Command::PrinterReport`) on every change and on every idle check, and the
//! core makes it a `printer` alert (`core::alerts::printer_report`): logged, listed at
//! `/api/v1/alerts`, sent by the webhook, acknowledged like the others.
//! `escpos` builds the bytes, `ticket` lays a ticket out, `device` does the talking.

pub mod device;
pub mod escpos;
pub mod paper;
pub mod ticket;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::config::{KioskDef, PrinterDef};
use crate::core::alerts::PrinterFault;
use crate::core::model::{KioskId, TicketId, Ts};
use crate::core::{Command, Envelope};
use crate::engine::EngineHandle;
use crate::time::Clock;

/// Jobs waiting for one printer: a kiosk issues a few tickets a minute, so more than this
/// means the printer is stuck, and a ticket printed minutes late would only confuse.
pub const JOBS_QUEUED_MAX: usize = 8;
/// Tickets per kiosk remembered as printed there, for reprints: more than a busy kiosk
/// issues in a day.
pub const RECENT_TICKETS_MAX: usize = 5_000;
/// Reprint idempotency keys remembered per kiosk: a repeat comes within seconds.
pub const REPRINT_KEYS_MAX: usize = 256;

/// What a printer last said of itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Not asked yet since the daemon started.
    Unknown,
    Ok,
    /// The near-end sensor sees the roll's last metres: it still prints.
    PaperLow,
    PaperOut,
    CoverOpen,
    /// Refuses connections, does not answer in time, or reports itself offline.
    Offline,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::PaperLow => "paper_low",
            Health::PaperOut => "paper_out",
            Health::CoverOpen => "cover_open",
            Health::Offline => "offline",
        }
    }

    /// Whether a ticket sent now would not come out.
    pub fn is_fault(self) -> bool {
        matches!(self, Health::PaperOut | Health::CoverOpen | Health::Offline)
    }

    /// The fault a supervisor is alerted to, if any; `None` for a printer that still
    /// prints (ready, paper low) and for one not asked yet (`Unknown` is not reported).
    pub fn fault(self) -> Option<PrinterFault> {
        match self {
            Health::Unknown | Health::Ok | Health::PaperLow => None,
            Health::PaperOut => Some(PrinterFault::PaperOut),
            Health::CoverOpen => Some(PrinterFault::CoverOpen),
            Health::Offline => Some(PrinterFault::Offline),
        }
    }

    /// Whether the printer must not be sent a job: it would print it late, when someone
    /// reloads the paper or shuts the cover, for a visitor long gone.
    fn blocks_printing(self) -> bool {
        matches!(self, Health::PaperOut | Health::CoverOpen | Health::Offline)
    }

    fn words(self) -> &'static str {
        match self {
            Health::Unknown => "not checked yet",
            Health::Ok => "ready",
            Health::PaperLow => "the paper roll is nearly used up",
            Health::PaperOut => "the printer is out of paper",
            Health::CoverOpen => "the printer's cover is open",
            Health::Offline => "the printer reports itself offline",
        }
    }
}

/// The outcome of the last job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastJob {
    pub ticket: TicketId,
    pub printed: bool,
    pub at: Ts,
}

/// One printer's state as the daemon knows it.
#[derive(Clone, Debug)]
pub struct PrinterState {
    pub health: Health,
    /// When `health` last changed.
    pub since: Option<Ts>,
    /// When the printer was last visited (a job or a check).
    pub checked_at: Option<Ts>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Ts>,
    pub printed: u64,
    pub failed: u64,
    pub last_job: Option<LastJob>,
    /// Tickets queued here, newest last: a kiosk may reprint only these.
    recent: VecDeque<TicketId>,
    /// Idempotency keys of reprints done, newest last.
    reprint_keys: VecDeque<String>,
}

/// One kiosk's printer as reported.
#[derive(Clone, Debug)]
pub struct PrinterView {
    pub kiosk: String,
    pub kiosk_name: String,
    pub def: PrinterDef,
    pub state: PrinterState,
}

/// Whether a job was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queued {
    Queued,
    /// The printer's queue was full; nothing will print.
    Full,
}

struct Job {
    ticket: TicketId,
    bytes: Vec<u8>,
}

struct Printer {
    kiosk: String,
    kiosk_name: String,
    def: PrinterDef,
    jobs: mpsc::Sender<Job>,
    state: Arc<Mutex<PrinterState>>,
}

/// Every kiosk's printer, in configuration order.
pub struct Printers {
    list: Vec<Printer>,
}

fn lock(state: &Mutex<PrinterState>) -> std::sync::MutexGuard<'_, PrinterState> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Printers {
    /// Starts one task per kiosk printer; each stops when `shutdown` turns true. The
    /// tasks are returned for the daemon to join.
    pub fn start(
        kiosks: &[KioskDef],
        clock: Clock,
        engine: EngineHandle,
        shutdown: watch::Receiver<bool>,
    ) -> (Self, Vec<tokio::task::JoinHandle<()>>) {
        let mut tasks = Vec::new();
        let list = kiosks
            .iter()
            .filter_map(|k| {
                let def = k.printer.clone()?;
                let (tx, rx) = mpsc::channel(JOBS_QUEUED_MAX);
                let state = Arc::new(Mutex::new(PrinterState {
                    health: Health::Unknown,
                    since: None,
                    checked_at: None,
                    last_error: None,
                    last_error_at: None,
                    printed: 0,
                    failed: 0,
                    last_job: None,
                    recent: VecDeque::new(),
                    reprint_keys: VecDeque::new(),
                }));
                let worker = Worker {
                    kiosk: k.id.clone(),
                    def: def.clone(),
                    state: state.clone(),
                    clock: clock.clone(),
                    engine: engine.clone(),
                };
                tasks.push(tokio::spawn(worker.run(rx, shutdown.clone())));
                Some(Printer { kiosk: k.id.clone(), kiosk_name: k.name.clone(), def, jobs: tx, state })
            })
            .collect();
        (Self { list }, tasks)
    }

    fn get(&self, kiosk: &str) -> Option<&Printer> {
        self.list.iter().find(|p| p.kiosk == kiosk)
    }

    /// The printer of `kiosk`, if it has one.
    pub fn def(&self, kiosk: &str) -> Option<&PrinterDef> {
        self.get(kiosk).map(|p| &p.def)
    }

    /// Hands a rendered ticket to `kiosk`'s printer; `None` when it has none.
    pub fn submit(&self, kiosk: &str, ticket: TicketId, bytes: Vec<u8>) -> Option<(Queued, Health)> {
        let p = self.get(kiosk)?;
        let queued = match p.jobs.try_send(Job { ticket, bytes }) {
            Ok(()) => Queued::Queued,
            Err(_) => Queued::Full,
        };
        let mut st = lock(&p.state);
        if queued == Queued::Queued && !st.recent.contains(&ticket) {
            if st.recent.len() >= RECENT_TICKETS_MAX {
                st.recent.pop_front();
            }
            st.recent.push_back(ticket);
        } else if queued == Queued::Full {
            st.failed += 1;
            tracing::warn!(kiosk = %p.kiosk, printer = %p.def.address(), "ticket printer queue full; a ticket was not printed");
        }
        Some((queued, st.health))
    }

    /// Whether `ticket` was printed (or sent to print) at `kiosk` since the daemon started.
    pub fn printed_here(&self, kiosk: &str, ticket: &TicketId) -> bool {
        self.get(kiosk).is_some_and(|p| lock(&p.state).recent.contains(ticket))
    }

    /// Claims a reprint's idempotency key at `kiosk`: false when it was used already.
    pub fn claim_key(&self, kiosk: &str, key: &str) -> bool {
        let Some(p) = self.get(kiosk) else { return false };
        let mut st = lock(&p.state);
        if st.reprint_keys.iter().any(|k| k == key) {
            return false;
        }
        if st.reprint_keys.len() >= REPRINT_KEYS_MAX {
            st.reprint_keys.pop_front();
        }
        st.reprint_keys.push_back(key.to_string());
        true
    }

    pub fn view(&self, kiosk: &str) -> Option<PrinterView> {
        self.get(kiosk).map(Printer::view)
    }

    pub fn all(&self) -> Vec<PrinterView> {
        self.list.iter().map(Printer::view).collect()
    }
}

impl Printer {
    fn view(&self) -> PrinterView {
        PrinterView {
            kiosk: self.kiosk.clone(),
            kiosk_name: self.kiosk_name.clone(),
            def: self.def.clone(),
            state: lock(&self.state).clone(),
        }
    }
}

/// The task that owns one printer's connection.
struct Worker {
    kiosk: String,
    def: PrinterDef,
    state: Arc<Mutex<PrinterState>>,
    clock: Clock,
    engine: EngineHandle,
}

impl Worker {
    async fn run(self, mut jobs: mpsc::Receiver<Job>, mut shutdown: watch::Receiver<bool>) {
        // With checks off the interval never fires (a year is past any daemon's day).
        let every = if self.def.probe_s == 0 { 365 * 86_400 } else { self.def.probe_s };
        let mut probe = tokio::time::interval(Duration::from_secs(every));
        probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        if self.def.probe_s == 0 {
            probe.tick().await;
        }
        // What the engine last heard from this printer; `None` until the first report.
        let mut reported = None;
        loop {
            tokio::select! {
                job = jobs.recv() => {
                    let Some(job) = job else { break };
                    let visit = device::visit(&self.def, Some(&job.bytes)).await;
                    self.record(&visit, Some(job.ticket));
                    if reported != Some(visit.health.fault()) {
                        reported = self.report(visit.health).await.or(reported);
                    }
                    // A job is a check too: the next idle check waits a full interval.
                    probe.reset();
                }
                _ = probe.tick() => {
                    let visit = device::visit(&self.def, None).await;
                    self.record(&visit, None);
                    // Every idle check reports, also without a change: a new service day
                    // ended yesterday's alert, and a lasting fault must be raised again.
                    reported = self.report(visit.health).await.or(reported);
                }
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                }
            }
        }
    }

    /// Tells the engine what the printer said; the fault reported, or `None` when the
    /// engine did not take it (it will hear again at the next visit).
    async fn report(&self, health: Health) -> Option<Option<PrinterFault>> {
        let kiosk = KioskId::parse(&self.kiosk).ok()?;
        let fault = health.fault();
        let command = Command::PrinterReport { kiosk, fault };
        match self.engine.command(Envelope { command, idempotency_key: None }).await {
            Ok(_) => Some(fault),
            Err(e) => {
                tracing::debug!(kiosk = %self.kiosk, error = %e, "printer state not reported to the engine");
                None
            }
        }
    }

    fn record(&self, visit: &device::Visit, ticket: Option<TicketId>) {
        let now = (self.clock)();
        let was_job = ticket.is_some();
        let mut st = lock(&self.state);
        let was = st.health;
        st.checked_at = Some(now);
        if was != visit.health {
            st.health = visit.health;
            st.since = Some(now);
        }
        if let Some(e) = &visit.error {
            st.last_error = Some(e.clone());
            st.last_error_at = Some(now);
        }
        if let Some(ticket) = ticket {
            if visit.printed {
                st.printed += 1;
            } else {
                st.failed += 1;
            }
            st.last_job = Some(LastJob { ticket, printed: visit.printed, at: now });
        }
        drop(st);
        // Log lines name the kiosk and the printer, never a ticket: a number plus a time
        // is as close to a visitor as a log may come.
        let (kiosk, addr, status) = (&self.kiosk, self.def.address(), visit.health.as_str());
        let error = visit.error.as_deref().unwrap_or_default();
        if was_job && !visit.printed {
            tracing::warn!(%kiosk, printer = %addr, status, error, "ticket printer fault: a ticket was not printed");
        } else if was != visit.health && (visit.health.is_fault() || visit.health == Health::PaperLow) {
            tracing::warn!(%kiosk, printer = %addr, status, error, "ticket printer fault");
        } else if was != visit.health && visit.health == Health::Ok && was != Health::Unknown {
            tracing::info!(%kiosk, printer = %addr, "ticket printer ready again");
        }
    }
}
