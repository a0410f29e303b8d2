//! One hall's projection in the district: a task that owns the hall's `HallState`, built
//! by the pure core's own `apply` from the hall's records, and answers reads of it.
//!
//! The task is the state's only holder (no lock, no second writer): the consumer hands it
//! each record with a reply, reads come in on the same bounded channel. A record is kept
//! in the replica (flushed) before it is applied, and the consumer acknowledges it only
//! after the reply; a record at or below the last one applied is a redelivery and is
//! skipped, so each record counts once whatever NATS redelivers.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::NaiveDate;
use tokio::sync::{mpsc, oneshot};

use super::replica::{HallLog, ReplicaError};
use crate::core::alerts::Alert;
use crate::core::event::Record;
use crate::core::model::{Ts, WindowState};
use crate::core::overview::overview;
use crate::core::setup::Setup;
use crate::core::stats::DayStats;
use crate::core::HallState;

/// Reads and records waiting for the task: a burst of supervisors' reads, and the one
/// record the hall's consumer has in flight.
pub const INBOX: usize = 64;

/// What the consumer hears back for a record.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// Kept and applied.
    New,
    /// At or below the last record applied: a redelivery, acknowledged and skipped.
    Repeat,
}

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    #[error("the replica's writer stopped: {0}")]
    Join(String),
    #[error("the core refused record {0} (a bug, or a stream of another hall); the hall's view stops")]
    Broken(u64),
}

/// What the district shows of a hall now, from its projected state.
#[derive(Clone, Debug, Default)]
pub struct HallNow {
    /// The last log position applied.
    pub applied: u64,
    pub waiting: u64,
    pub open_windows: u64,
    /// Tickets issued on the hall's current service day.
    pub tickets_today: u64,
    /// The longest wait of a ticket waiting now, in minutes.
    pub longest_wait_min: u32,
    /// The hall's active alerts.
    pub alerts: Vec<Alert>,
    /// The hall's current service day, as its own records say (its clock, not the
    /// district's: a hall whose clock is minutes off around midnight is on its own day).
    pub day: Option<NaiveDate>,
}

pub enum Input {
    /// A record of the hall's log at `seq`, the stream's message `stream_seq`.
    Record {
        seq: u64,
        stream_seq: u64,
        record: Box<Record>,
        done: oneshot::Sender<Result<Applied, ViewError>>,
    },
    Read {
        now: Ts,
        reply: oneshot::Sender<HallNow>,
    },
    Stats {
        day: NaiveDate,
        reply: oneshot::Sender<DayStats>,
    },
}

/// The view's task as started: its inbox, the log position the replica was replayed to,
/// and the task.
pub struct Started {
    pub inbox: mpsc::Sender<Input>,
    pub applied: u64,
    /// The stream sequence of the last record kept.
    pub stream_seq: u64,
    pub task: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

/// Replays the replica into a fresh state (on the blocking pool); the task to run.
pub async fn start(setup: Arc<Setup>, log: HallLog) -> Result<Started, ViewError> {
    let replay_log = log.clone();
    let (state, stream_seq) = tokio::task::spawn_blocking(move || -> Result<(HallState, u64), ViewError> {
        let mut state = HallState::new(setup);
        for (seq, record) in replay_log.all()? {
            apply(&mut state, seq, &record)?;
        }
        Ok((state, replay_log.stream_seq()?))
    })
    .await
    .map_err(|e| ViewError::Join(e.to_string()))??;
    let (inbox, rx) = mpsc::channel(INBOX);
    let applied = state.last_seq;
    Ok(Started { inbox, applied, stream_seq, task: Box::pin(run(state, log, rx)) })
}

/// The core's `apply`, with a panic (a broken invariant on a record that should not be
/// there) turned into an error instead of a dead district.
fn apply(state: &mut HallState, seq: u64, record: &Record) -> Result<(), ViewError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| state.apply(seq, record))).map_err(|_| ViewError::Broken(seq))?;
    Ok(())
}

async fn run(mut state: HallState, log: HallLog, mut rx: mpsc::Receiver<Input>) {
    while let Some(input) = rx.recv().await {
        match input {
            Input::Record { seq, stream_seq, record, done } => {
                let result = take(&mut state, &log, seq, stream_seq, *record).await;
                let broken = matches!(result, Err(ViewError::Broken(_)));
                let _ = done.send(result);
                if broken {
                    tracing::error!(seq, "a hall's view stopped on a record the core refused");
                    return;
                }
            }
            Input::Read { now, reply } => {
                let _ = reply.send(figures(&state, now));
            }
            Input::Stats { day, reply } => {
                let _ = reply.send(state.stats.get(&day).cloned().unwrap_or_default());
            }
        }
    }
}

/// Keeps and applies one record, or skips a redelivery.
async fn take(
    state: &mut HallState,
    log: &HallLog,
    seq: u64,
    stream_seq: u64,
    record: Record,
) -> Result<Applied, ViewError> {
    if seq <= state.last_seq {
        return Ok(Applied::Repeat);
    }
    let (kept, record) = {
        let log = log.clone();
        tokio::task::spawn_blocking(move || (log.append(seq, &record, stream_seq), record))
            .await
            .map_err(|e| ViewError::Join(e.to_string()))?
    };
    kept?;
    apply(state, seq, &record)?;
    Ok(Applied::New)
}

/// The hall at `now`, read with the core's own overview and day figures; "today" is the
/// hall's service day as its records opened it.
fn figures(state: &HallState, now: Ts) -> HallNow {
    let seen = overview(state, now);
    HallNow {
        applied: state.last_seq,
        waiting: seen.queues.iter().map(|q| q.waiting as u64).sum(),
        open_windows: seen.windows.iter().filter(|w| w.window.state != WindowState::Closed).count() as u64,
        tickets_today: state.day.and_then(|d| state.stats.get(&d)).map_or(0, |s| s.total.issued),
        longest_wait_min: seen.queues.iter().map(|q| q.oldest_wait_min).max().unwrap_or(0),
        alerts: seen.alerts,
        day: state.day,
    }
}
