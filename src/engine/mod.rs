//! The single writer: one task owns the hall's state, and every change goes through it.
//!
//! Per batch it takes every job waiting in its inbox, decides and applies each command in
//! turn, writes all their records in one sled batch and flushes once (group commit), and
//! only then answers the callers and publishes to the displays. Reads ride the same
//! inbox, so a reader always sees everything acknowledged before it asked.
//!
//! A read is a closure run on the engine against the live state ([`EngineHandle::read`]),
//! its answer's type the closure's, so the compiler checks every question and its answer;
//! a command's caller names the kind of answer it reads (`core::answer`) and gets the id it
//! names, typed ([`EngineHandle::command_for`]). The views callers see are built in
//! `reads.rs`.

mod enterprises;
mod escalations;
mod guides;
mod reads;
mod run;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

pub use enterprises::EnterpriseView;
pub use escalations::{EscalationFilter, EscalationsView};
pub use guides::{EscortView, GUIDE_VISITORS_LISTED_MAX};
pub use reads::{
    AppointmentView, CasesView, Reads, Referral as TicketReferral, TicketView, WindowView, CASES_LISTED_MAX,
};

use crate::core::{Answer, Decision, Envelope, HallState, Rejection, ReplyKind};
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

/// A command carried out: what the caller asked to read of its reply, and whether it was
/// a repeat.
#[derive(Debug)]
pub struct Done<T> {
    pub value: T,
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
    /// A caller read a command's answer as another kind than the command gets: a fault of
    /// the caller's code, refused before anything was decided.
    #[error("a command answered with {answers:?} was read as {read:?}")]
    WrongAnswer { answers: ReplyKind, read: ReplyKind },
}

/// Called when a read's turn comes: with the live state, or why there is none to read.
type ReadFn = Box<dyn FnOnce(Result<&Reads<'_>, EngineError>) + Send>;
/// Called once a command's batch is durable: with the state and the command's decision,
/// or why it was refused or not written.
type CommandFn = Box<dyn FnOnce(Result<(&Reads<'_>, &Decision), EngineError>) + Send>;

/// One job in the inbox, carrying what the engine calls to answer its caller.
enum Job {
    Command(Envelope, CommandFn),
    Read(ReadFn),
}

impl Job {
    /// Answers the caller with `e` instead.
    fn fail(self, e: EngineError) {
        match self {
            Job::Command(_, answer) => answer(Err(e)),
            Job::Read(answer) => answer(Err(e)),
        }
    }
}

/// The handle callers use to reach the engine. Cheap to clone; when every handle is gone
/// the engine drains its inbox, flushes and stops.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Job>,
    /// The log, for readers of past records (the audit) beside the engine.
    store: Arc<Store>,
}

impl EngineHandle {
    /// Carries out `env`, reading nothing of its reply.
    pub async fn command(&self, env: Envelope) -> Result<Done<()>, EngineError> {
        self.decide(env, |_, _| Ok(())).await
    }

    /// Carries out `env`, then, once it is durable, runs `view` on the engine over the
    /// state and what the command's answer names (also a repeat's, from the earlier
    /// command), as answer kind `A`. `view` must be cheap: it runs on the single writer.
    ///
    /// A command that gets another kind of answer than `A` is refused before anything is
    /// decided (`WrongAnswer`): `Command::answers` says which kind each command gets.
    pub async fn command_for<A: Answer, T: Send + 'static>(
        &self,
        env: Envelope,
        view: impl FnOnce(&Reads<'_>, A::Id) -> Result<T, Rejection> + Send + 'static,
    ) -> Result<Done<T>, EngineError> {
        let answers = env.command.answers();
        let wrong = EngineError::WrongAnswer { answers, read: A::KIND };
        if answers != A::KIND {
            return Err(wrong);
        }
        self.decide(env, move |reads, reply| {
            let id = A::id(reply).ok_or(wrong)?;
            Ok(view(reads, id)?)
        })
        .await
    }

    /// Carries out `env`, then runs `view` over the state and the reply once it is durable.
    async fn decide<T: Send + 'static>(
        &self,
        env: Envelope,
        view: impl FnOnce(&Reads<'_>, &crate::core::Reply) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<Done<T>, EngineError> {
        let (tx, rx) = oneshot::channel();
        let answer: CommandFn = Box::new(move |decided: Result<(&Reads<'_>, &Decision), EngineError>| {
            let done = decided.and_then(|(reads, d)| Ok(Done { value: view(reads, &d.reply)?, repeated: d.repeated }));
            let _ = tx.send(done);
        });
        self.ask(Job::Command(env, answer), rx).await
    }

    /// Runs `read` on the engine against the live state, after everything acknowledged
    /// before it was asked. `read` must be cheap (no I/O): it runs on the single writer.
    pub async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Reads<'_>) -> T + Send + 'static,
    ) -> Result<T, EngineError> {
        self.try_read(move |r| Ok(read(r))).await
    }

    /// As [`read`](Self::read), for a read that may refuse (an unknown ticket, window, …).
    pub async fn try_read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Reads<'_>) -> Result<T, Rejection> + Send + 'static,
    ) -> Result<T, EngineError> {
        let (tx, rx) = oneshot::channel();
        let answer: ReadFn = Box::new(move |reads: Result<&Reads<'_>, EngineError>| {
            let _ = tx.send(reads.and_then(|r| Ok(read(r)?)));
        });
        self.ask(Job::Read(answer), rx).await
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

    async fn ask<T>(&self, job: Job, answer: oneshot::Receiver<Result<T, EngineError>>) -> Result<T, EngineError> {
        self.tx.send(job).await.map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)?
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

    /// Starts the engine task; `EngineTask::stop` ends it.
    pub fn spawn(self) -> (EngineHandle, EngineTask) {
        let (tx, rx) = mpsc::channel(INBOX_MAX);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (died_tx, died) = tokio::sync::oneshot::channel();
        let store = self.store.clone();
        let run = tokio::spawn(self.run(rx, stopped));
        let task = tokio::spawn(async move {
            let clean = run.await.is_ok();
            if !clean {
                let _ = died_tx.send(());
            }
            clean
        });
        (EngineHandle { tx, store }, EngineTask { stop, task, died: Some(died) })
    }
}

/// The running engine, owned by the daemon. The engine is the last part to stop: the
/// daemon stops it only once the HTTP server has finished every request in flight.
pub struct EngineTask {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<bool>,
    died: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl EngineTask {
    /// Resolves if the engine ends by itself, which it does only on a broken invariant (a
    /// bug, as a panic); never otherwise. Taken once.
    pub fn failure(&mut self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let died = self.died.take();
        async move {
            if let Some(died) = died {
                if died.await.is_ok() {
                    return;
                }
            }
            std::future::pending::<()>().await;
        }
    }

    /// The engine refuses new jobs, finishes those already in its inbox and ends; true if
    /// it ended cleanly (not on a broken invariant).
    pub async fn stop(self) -> bool {
        self.stop.send_replace(true);
        self.task.await.unwrap_or(false)
    }
}
