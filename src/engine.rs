//! The single writer: one task owns the hall's state, and every change goes through it.
//!
//! Per batch it takes every job waiting in its inbox, decides and applies each command in
//! turn, writes all their records in one sled batch and flushes once (group commit), and
//! only then answers the callers and publishes to the displays. Queries ride the same
//! inbox, so a reader always sees everything acknowledged before it asked.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use tokio::sync::{mpsc, oneshot};

use crate::core::alerts::Alert;
use crate::core::appointments::{self, Appointment, AppointmentState};
use crate::core::eta::{eta, Eta};
use crate::core::model::{Ticket, TicketId, TicketNo, Ts, Window, WindowId};
use crate::core::overview::{overview, Overview};
use crate::core::rating::{Case, CaseStatus};
use crate::core::stats::DayStats;
use crate::core::{Command, Envelope, HallState, Rejection, Reply};
use crate::feed::Feed;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::time::Clock;
use crate::webhook::Outbox;

/// Jobs that may wait in the inbox; callers beyond this wait for room (back-pressure on
/// the HTTP handlers, never an unbounded queue).
pub const INBOX_MAX: usize = 4096;
/// The most jobs decided in one batch, bounding the time before the first of them hears
/// its answer.
pub const BATCH_MAX: usize = 512;
/// How often the engine ticks itself to roll the service day over.
pub const TICK_MS: u64 = 1000;

#[derive(Debug)]
pub enum Query {
    Ticket(TicketId),
    Window(WindowId),
    /// The figures of a day; `None` is today.
    Stats(Option<NaiveDate>),
    Appointment(String),
    /// Free places of every slot of a day.
    Slots(NaiveDate),
    /// A day's supervision alerts (`None`: today), only the active ones when `active`.
    Alerts {
        day: Option<NaiveDate>,
        active: bool,
    },
    /// The supervisor's overview: queues, windows, active alerts.
    Overview,
    /// Every window with its ticket's number, and the staff state: users an admin
    /// disabled or added (the admin page).
    Admin,
    /// The staff state: users an admin disabled or added, passwords an admin set (logins).
    Staff,
    /// The ticket a window's evaluator should ask about now, if any.
    Rateable(WindowId),
    /// Bad-rating cases: with a status (any when `None`), rated on a day (any when `None`).
    Cases(Option<CaseStatus>, Option<NaiveDate>),
}

/// Most cases one listing returns (newest first): a page, not an export.
pub const CASES_LISTED_MAX: usize = 500;

/// Bad-rating cases as of `today` (which decides which are overdue).
#[derive(Clone, Debug)]
pub struct CasesView {
    pub today: NaiveDate,
    pub cases: Vec<Case>,
}

/// A booking as a caller sees it: its status now, and the ticket it became.
#[derive(Clone, Debug)]
pub struct AppointmentView {
    pub appointment: Appointment,
    pub status: &'static str,
    pub ticket: Option<TicketView>,
}

#[derive(Debug)]
enum Job {
    Command(Envelope),
    Query(Query),
}

/// A ticket as a caller sees it: the ticket and, while it waits, its place in line.
#[derive(Clone, Debug)]
pub struct TicketView {
    pub ticket: Ticket,
    pub eta: Option<Eta>,
}

/// A window as a caller sees it, with the number of the ticket it holds.
#[derive(Clone, Debug)]
pub struct WindowView {
    pub window: Window,
    pub number: Option<TicketNo>,
    /// The ticket the window holds, in full.
    pub ticket: Option<TicketView>,
    /// The tickets parked at the window, in the order they were parked.
    pub parked: Vec<TicketView>,
}

#[derive(Debug)]
pub enum Answer {
    Ticket(Box<TicketView>),
    MaybeTicket(Option<Box<TicketView>>),
    Window(Box<WindowView>),
    Stats(Box<(NaiveDate, DayStats)>),
    Appointment(Box<AppointmentView>),
    /// (slot start, places left) for each slot of a day.
    Slots(Vec<(NaiveTime, u32)>),
    /// Every window (with its clerk), and the staff state.
    Admin(Box<(Vec<WindowView>, crate::core::staff::Staff)>),
    Staff(Box<crate::core::staff::Staff>),
    Nothing,
    Cases(Box<CasesView>),
    Alert(Box<Alert>),
    /// A day and its alerts.
    Alerts(NaiveDate, Vec<Alert>),
    Overview(Box<Overview>),
}

#[derive(Debug)]
pub struct Answered {
    pub answer: Answer,
    /// An idempotency key matched an earlier command; nothing changed.
    pub repeated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("the event log cannot be written right now; try again shortly")]
    Storage,
    #[error("the hall is shutting down")]
    Stopped,
}

type ReplyTx = oneshot::Sender<Result<Answered, EngineError>>;

/// The handle callers use to reach the engine. Cheap to clone; when every handle is gone
/// the engine drains its inbox, flushes and stops.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<(Job, ReplyTx)>,
    /// The log, for readers of past records (the audit) beside the engine.
    store: Arc<Store>,
}

impl EngineHandle {
    pub async fn command(&self, env: Envelope) -> Result<Answered, EngineError> {
        self.ask(Job::Command(env)).await
    }

    pub async fn query(&self, query: Query) -> Result<Answered, EngineError> {
        self.ask(Job::Query(query)).await
    }

    /// Reads `q` from the log on a blocking thread: the log is append-only, so a reader
    /// needs no turn in the inbox (and a long read holds up no command).
    pub async fn audit(
        &self,
        setup: Arc<crate::core::setup::Setup>,
        q: crate::audit::AuditQuery,
    ) -> Result<crate::audit::AuditPage, EngineError> {
        let store = self.store.clone();
        let read = tokio::task::spawn_blocking(move || crate::audit::read_day(&store, &setup, &q)).await;
        match read {
            Ok(Ok(page)) => Ok(page),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the audit trail could not be read from the log");
                Err(EngineError::Storage)
            }
            Err(_) => Err(EngineError::Stopped),
        }
    }

    async fn ask(&self, job: Job) -> Result<Answered, EngineError> {
        let (reply_tx, reply_rx) = oneshot::channel();
        self.tx.send((job, reply_tx)).await.map_err(|_| EngineError::Stopped)?;
        reply_rx.await.map_err(|_| EngineError::Stopped)?
    }
}

pub struct Engine {
    state: HallState,
    store: Arc<Store>,
    feed: Arc<Feed>,
    metrics: Arc<Metrics>,
    clock: Clock,
    /// Days of log history kept; older records go at each day's opening.
    retention_days: u32,
    /// A write failed and the log has not been reopened since.
    broken: bool,
    failed_recoveries: u64,
    /// Where alert changes go once durable, when the hall has a webhook.
    webhook: Option<Arc<Outbox>>,
}

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

impl Engine {
    pub fn new(state: HallState, store: Arc<Store>, feed: Arc<Feed>, metrics: Arc<Metrics>, clock: Clock) -> Self {
        Self {
            state,
            store,
            feed,
            metrics,
            clock,
            retention_days: u32::MAX,
            broken: false,
            failed_recoveries: 0,
            webhook: None,
        }
    }

    /// Hands every alert raised or cleared to `outbox` once it is durable.
    pub fn with_webhook(mut self, outbox: Option<Arc<Outbox>>) -> Self {
        self.webhook = outbox;
        self
    }

    /// Keeps `days` of log history (by default all of it).
    pub fn with_retention(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }

    /// Starts the engine task. When `stop` fires, the engine refuses new jobs, finishes
    /// those already in its inbox and ends.
    pub fn spawn(self, stop: tokio::sync::watch::Receiver<bool>) -> (EngineHandle, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(INBOX_MAX);
        let store = self.store.clone();
        let task = tokio::spawn(self.run(rx, stop));
        (EngineHandle { tx, store }, task)
    }

    async fn run(mut self, mut inbox: mpsc::Receiver<(Job, ReplyTx)>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_millis(TICK_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut batch = Vec::with_capacity(BATCH_MAX);
        let mut stopping = false;
        loop {
            // Window and queue messages held back by the feed go out when due, even if
            // nothing else happens in the hall by then.
            let feed_due = self.feed.due();
            tokio::select! {
                _ = tokio::time::sleep_until(feed_due.unwrap_or_else(std::time::Instant::now).into()), if feed_due.is_some() => {
                    self.feed.publish_due();
                    continue;
                }
                n = inbox.recv_many(&mut batch, BATCH_MAX) => {
                    if n == 0 {
                        break;
                    }
                }
                _ = stop.changed(), if !stopping => {
                    stopping = true;
                    inbox.close();
                    continue;
                }
                _ = tick.tick(), if !stopping => {
                    let (reply_tx, _) = oneshot::channel();
                    batch.push((Job::Command(Envelope { command: Command::Tick, idempotency_key: None }), reply_tx));
                }
            }
            self.run_batch(&mut batch).await;
        }
        tracing::info!("engine stopped after draining its inbox");
    }

    async fn run_batch(&mut self, batch: &mut Vec<(Job, ReplyTx)>) {
        if self.broken && !self.recover() {
            // The state may hold changes the log lacks; nothing is answered from it until
            // the log is readable and writable again.
            for (_, reply_tx) in batch.drain(..) {
                let _ = reply_tx.send(Err(EngineError::Storage));
            }
            return;
        }
        let now = (self.clock)();
        // A new service day opens before anything else in the batch, on its own, so that
        // the state right after it can be kept as the day's snapshot.
        let opening = self.state.step(&Envelope { command: Command::Tick, idempotency_key: None }, now);
        let snapshot = if opening.records.is_empty() { None } else { self.state.day_snapshot() };
        let mut records = opening.records;
        let mut outcomes = Vec::with_capacity(batch.len());
        for (job, reply_tx) in batch.drain(..) {
            let outcome = match job {
                Job::Command(env) => {
                    let step = self.state.step(&env, now);
                    records.extend(step.records);
                    Outcome::Decided(step.result)
                }
                Job::Query(q) => Outcome::Query(q),
            };
            outcomes.push((outcome, reply_tx));
        }
        self.metrics.batch_size.observe(outcomes.len() as f64);
        if !records.is_empty() {
            let started = std::time::Instant::now();
            let written = match self.store.append(&records) {
                Ok(()) => {
                    if let Some(snap) = &snapshot {
                        // Only a shortcut for start-up: without it the log is replayed.
                        if let Err(e) = self.store.put_snapshot(snap) {
                            tracing::warn!(error = %e, "the day's snapshot could not be written");
                        }
                    }
                    self.store.flush().await
                }
                Err(e) => Err(e),
            };
            self.metrics.flush_seconds.observe(started.elapsed().as_secs_f64());
            if let Err(e) = written {
                tracing::error!(error = %e, records = records.len(), "event log write failed; answering 503 and reloading");
                for (_, reply_tx) in outcomes {
                    let _ = reply_tx.send(Err(EngineError::Storage));
                }
                self.broken = true;
                self.recover();
                return;
            }
        }
        for (outcome, reply_tx) in outcomes {
            let answer = match outcome {
                Outcome::Decided(Ok(d)) => {
                    self.metrics.commands.with_label_values(&["ok"]).inc();
                    Ok(Answered { answer: self.answer(&d.reply), repeated: d.repeated })
                }
                Outcome::Decided(Err(r)) => {
                    self.metrics.commands.with_label_values(&[r.code()]).inc();
                    Err(EngineError::Rejected(r))
                }
                Outcome::Query(q) => {
                    self.metrics.engine_queries.inc();
                    self.query(q).map(|answer| Answered { answer, repeated: false })
                }
            };
            let _ = reply_tx.send(answer);
        }
        if !records.is_empty() {
            self.metrics.observe_records(&self.state, &records);
            self.feed.publish(&self.state, &records);
            self.notify_webhook(&records);
        }
        if let Some(snap) = snapshot {
            self.prune(&snap);
        }
    }

    /// Queues a webhook notice for each alert the flushed `records` raised or cleared,
    /// also those a new day's opening ended.
    fn notify_webhook(&self, records: &[(u64, crate::core::Record)]) {
        let Some(outbox) = &self.webhook else { return };
        for (seq, r) in records {
            for notice in crate::webhook::notices_of(&self.state.alerts, *seq, r) {
                outbox.push(notice);
            }
        }
    }

    /// Removes the log's records older than the retention, now that `snap` (durable, a
    /// later position) holds their figures: their tickets, ratings' comments, bookings'
    /// phone hashes and clerks' names go, the day's counts and durations stay.
    fn prune(&self, snap: &crate::core::snapshot::DaySnapshot) {
        let cutoff = Ts(snap.at.0.saturating_sub(i64::from(self.retention_days).saturating_mul(DAY_MS)));
        match self.store.prune(cutoff, snap.seq) {
            Ok(0) => {}
            Ok(n) => tracing::info!(records = n, days = self.retention_days, "log records past the retention removed"),
            Err(e) => tracing::warn!(error = %e, "log records past the retention could not be removed; next day again"),
        }
    }

    /// After a failed write the state may hold changes the log lacks, and sled refuses
    /// every later write: reopen the log and rebuild the state from it, which is the
    /// truth. While that fails (the disk is still full or read-only), every job gets 503;
    /// the engine tries again with each batch (its own tick brings one every second), so
    /// the hall resumes by itself once the disk is back. Whether it is healthy now.
    fn recover(&mut self) -> bool {
        let reloaded = self.store.reopen().and_then(|()| self.store.load(self.state.setup.clone()));
        match reloaded {
            Ok((fresh, _)) => {
                if self.broken {
                    tracing::info!(seq = fresh.last_seq, "event log reopened; serving again");
                }
                self.state = fresh;
                self.broken = false;
                self.failed_recoveries = 0;
                true
            }
            Err(e) => {
                // Said at the 1st, 2nd, 4th, 8th ... attempt: a disk full for hours must
                // not also fill it with this line.
                self.failed_recoveries += 1;
                if self.failed_recoveries.is_power_of_two() {
                    tracing::error!(error = %e, attempts = self.failed_recoveries, "event log still unavailable; answering 503");
                }
                false
            }
        }
    }

    fn answer(&self, reply: &Reply) -> Answer {
        match reply {
            Reply::Ticket(id) => self.ticket_view(id).map_or(Answer::Nothing, |v| Answer::Ticket(Box::new(v))),
            Reply::MaybeTicket(id) => {
                Answer::MaybeTicket(id.as_ref().and_then(|id| self.ticket_view(id)).map(Box::new))
            }
            Reply::Window(id) => self.window_view(id).map_or(Answer::Nothing, |w| Answer::Window(Box::new(w))),
            Reply::Appointment(code) => {
                self.appointment_view(code).map_or(Answer::Nothing, |a| Answer::Appointment(Box::new(a)))
            }
            Reply::Nothing => Answer::Nothing,
            Reply::Case(id) => {
                let cases = self.state.ratings.cases.get(id).cloned().into_iter().collect();
                Answer::Cases(Box::new(CasesView { today: self.today(), cases }))
            }
            Reply::Alert(id) => {
                self.state.alerts.get(*id).map_or(Answer::Nothing, |a| Answer::Alert(Box::new(a.clone())))
            }
        }
    }

    fn window_view(&self, id: &WindowId) -> Option<WindowView> {
        let window = self.state.window(id)?.clone();
        let ticket = window.ticket.as_ref().and_then(|t| self.ticket_view(t));
        let number = ticket.as_ref().map(|t| t.ticket.number.clone());
        let parked = window.parked.iter().filter_map(|t| self.ticket_view(t)).collect();
        Some(WindowView { window, number, ticket, parked })
    }

    fn appointment_view(&self, code: &str) -> Option<AppointmentView> {
        let a = self.state.appointments.by_code.get(code)?;
        let policy = self.state.setup.appointments.as_ref()?;
        let now = self.state.last_at.max((self.clock)());
        let status = a.status(&self.state.setup, policy, now);
        let ticket = match &a.state {
            AppointmentState::CheckedIn { ticket, .. } => self.ticket_view(ticket),
            AppointmentState::Booked | AppointmentState::Cancelled => None,
        };
        Some(AppointmentView { appointment: a.clone(), status, ticket })
    }

    fn ticket_view(&self, id: &TicketId) -> Option<TicketView> {
        let ticket = self.state.ticket(id)?;
        Some(TicketView { ticket: ticket.clone(), eta: eta(&self.state, ticket) })
    }

    /// The service day of the engine's clock (never before the last record's).
    fn today(&self) -> NaiveDate {
        self.state.setup.day_of(self.state.last_at.max((self.clock)()))
    }

    fn query(&self, q: Query) -> Result<Answer, EngineError> {
        match q {
            Query::Rateable(w) => {
                self.state.window(&w).ok_or_else(|| Rejection::UnknownWindow(w.to_string()))?;
                let now = self.state.last_at.max((self.clock)());
                let id = self.state.ratings.rateable(&self.state, &w, now);
                Ok(Answer::MaybeTicket(id.and_then(|id| self.ticket_view(&id)).map(Box::new)))
            }
            Query::Cases(status, day) => {
                let today = self.today();
                let cases = self.state.ratings.list(today, status, day, CASES_LISTED_MAX);
                Ok(Answer::Cases(Box::new(CasesView { today, cases })))
            }
            Query::Ticket(id) => {
                let view = self.ticket_view(&id).ok_or(Rejection::UnknownTicket)?;
                Ok(Answer::Ticket(Box::new(view)))
            }
            Query::Window(id) => {
                let w = self.window_view(&id).ok_or_else(|| Rejection::UnknownWindow(id.to_string()))?;
                Ok(Answer::Window(Box::new(w)))
            }
            Query::Stats(day) => {
                let day = day.or(self.state.day).unwrap_or_else(|| self.state.setup.day_of((self.clock)()));
                let stats = self.state.stats.get(&day).cloned().unwrap_or_default();
                Ok(Answer::Stats(Box::new((day, stats))))
            }
            Query::Appointment(code) => {
                let view = self.appointment_view(&code).ok_or(Rejection::UnknownAppointment)?;
                Ok(Answer::Appointment(Box::new(view)))
            }
            Query::Slots(day) => {
                let setup = &self.state.setup;
                let policy = setup.appointments.as_ref().ok_or(Rejection::NoAppointments)?;
                let now = self.state.last_at.max((self.clock)());
                let book = &self.state.appointments;
                let free = appointments::slots(setup, policy)
                    .into_iter()
                    .map(|slot| {
                        let past = appointments::local_ts(setup, day, slot) <= now;
                        let left = policy.quota.saturating_sub(book.taken(setup, policy, day, slot, now));
                        (slot, if past { 0 } else { left })
                    })
                    .collect();
                Ok(Answer::Slots(free))
            }
            Query::Admin => {
                // In hall.toml's order (1, 2, … 10), not the ids' string order.
                let windows = self.state.setup.windows.iter().filter_map(|d| self.window_view(&d.id)).collect();
                Ok(Answer::Admin(Box::new((windows, self.state.staff.clone()))))
            }
            Query::Staff => Ok(Answer::Staff(Box::new(self.state.staff.clone()))),
            Query::Alerts { day, active } => {
                let day = day.or(self.state.day).unwrap_or_else(|| self.state.setup.day_of((self.clock)()));
                let list = self.state.alerts.of_day(Some(day)).iter().filter(|a| !active || a.is_active());
                Ok(Answer::Alerts(day, list.cloned().collect()))
            }
            Query::Overview => {
                let now = self.state.last_at.max((self.clock)());
                Ok(Answer::Overview(Box::new(overview(&self.state, now))))
            }
        }
    }
}

enum Outcome {
    Decided(Result<crate::core::Decision, Rejection>),
    Query(Query),
}
