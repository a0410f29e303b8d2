//! One hall's projection in the district: a task that owns the hall's `HallState`, built
//! by the pure core's own `apply` from the hall's records, and answers reads of it.
//!
//! The task is the state's only holder (no lock, no second writer): the consumer hands it
//! the records of the messages it has at hand, as one batch with a reply; reads come in
//! on the same bounded channel. A batch is applied first, then handed to the replica's
//! writer (`replica`) and answered once written there (readable, not yet flushed: a
//! flusher thread does that for every hall's writes at once), and the consumer
//! acknowledges its messages on the answer: a record is in the view as soon as it
//! arrives, not after the disk's fsync queue (BENCHMARKS.md, the district at scale). A record at or below the last one applied is a redelivery and is
//! skipped, so each record counts once whatever NATS redelivers.
//!
//! Why that is durable though the acknowledgement may come before the flush: nothing
//! reads on from the acknowledgement. The hall's stream keeps its messages by age
//! (`retention_days`), whatever is acknowledged, and each consuming session starts from
//! the stream position the replica kept, written in the same transaction as the records
//! (`consumer`). A district killed with batches applied and not yet flushed replays its
//! replica to the last batch on disk (sled recovers its writes in the order made, each
//! transaction whole) and reads the rest from the stream again; one thread writes each
//! hall's batches in order and the view hands over no more after one that failed (it
//! stops), so the replica is always a prefix of the hall's log.

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

/// Reads and batches waiting for the task: a burst of supervisors' reads, and the one
/// batch the hall's consumer has in flight.
pub const INBOX: usize = 64;

/// What the consumer hears back for a batch.
#[derive(Debug, PartialEq, Eq)]
pub struct Applied {
    /// Records kept and applied.
    pub new: usize,
    /// Records at or below the last one applied: redeliveries, acknowledged and skipped.
    pub repeats: usize,
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

/// A record of the hall's log at its position, with the JSON its message carried (what
/// the replica keeps: the bytes the hall sent, not a second rendering of them).
pub struct Delivered {
    pub seq: u64,
    pub record: Record,
    pub json: Vec<u8>,
}

pub enum Input {
    /// Records of the hall's log in log order, from consecutive messages of the stream,
    /// the last of them `stream_seq`.
    Records {
        records: Vec<Delivered>,
        stream_seq: u64,
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
            Input::Records { records, stream_seq, done } => {
                let result = take(&mut state, &log, records, stream_seq).await;
                // A view whose records the replica no longer keeps stops too: what it
                // would apply on would be lost at the next start, which reads on from the
                // replica instead.
                let stopped = match &result {
                    Err(ViewError::Broken(seq)) => Some(format!("the core refused record {seq}")),
                    Err(ViewError::Replica(e)) => Some(e.to_string()),
                    _ => None,
                };
                let _ = done.send(result);
                if let Some(why) = stopped {
                    tracing::error!(why, "a hall's view stopped");
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

/// Applies a batch's new records, then hands them to the replica's writer; skips
/// redeliveries.
async fn take(
    state: &mut HallState,
    log: &HallLog,
    mut records: Vec<Delivered>,
    stream_seq: u64,
) -> Result<Applied, ViewError> {
    let all = records.len();
    // A record the stream holds twice (republished past its duplicate window) may repeat
    // within the batch too.
    let mut last = state.last_seq;
    records.retain(|r| {
        let new = r.seq > last;
        last = last.max(r.seq);
        new
    });
    let repeats = all - records.len();
    if records.is_empty() {
        return Ok(Applied { new: 0, repeats });
    }
    let mut kept = Vec::with_capacity(records.len());
    for Delivered { seq, record, json } in records {
        apply(state, seq, &record)?;
        kept.push((seq, json));
    }
    let new = kept.len();
    log.keep(kept, stream_seq).await?;
    Ok(Applied { new, repeats })
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
