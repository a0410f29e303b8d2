//! Reading the halls: per hall a task with a durable pull consumer on the hall's stream,
//! which hands each record to the hall's view and acknowledges it once kept and applied;
//! and one subscription to every hall's heartbeat, so that an idle hall is seen online.
//!
//! Where to go on is the replica's answer, not the server's: JetStream delivers a message
//! a killed district never acknowledged again only after `ACK_WAIT`, after newer ones, and
//! the view can only apply a hall's records in order. So each session deletes the durable
//! consumer (`district-<district id>`, explicit acknowledgement) and makes it again from
//! the stream sequence after the last record the replica kept; a message out of that
//! order ends the session (and the next starts at the right place), one before it is a
//! repeat, acknowledged and skipped. While the hall's stream does not exist yet or NATS is
//! down, the task waits and tries again with backoff; the client reconnects by itself.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, consumer::DeliverPolicy};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot, watch};

use super::uplink::{Beat, BEAT_BYTES_MAX, SEQ_HEADER};
use super::view::{Applied, Input, ViewError};
use crate::config::stream_name;
use crate::core::event::Record;
use crate::time::Clock;

/// The first wait before trying a hall's stream again, doubled up to `BACKOFF_MAX`.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// A message not acknowledged within this is delivered again (a district killed between
/// its pull and its acknowledgement hears of it again this soon after it is back).
const ACK_WAIT: Duration = Duration::from_secs(10);
/// Messages asked for at once: each is flushed to the replica before the next, so a batch
/// is done well within `ACK_WAIT`.
const BATCH: usize = 64;

/// What the district knows of a hall beside its state: when it last heard from it, the
/// log position it last said it had, and the one its view applied. Atomics, written by
/// the consumer and the heartbeat task, read by the API.
pub struct HallLink {
    pub hall_id: String,
    /// When the hall was last heard from (ms; `i64::MIN`: never).
    heard_ms: AtomicI64,
    /// The highest log position the hall said it had (heartbeats, records).
    known_seq: AtomicU64,
    applied: AtomicU64,
    /// The stream sequence of the last record the view kept.
    stream_done: AtomicU64,
    /// Since when the view has been behind what the hall said it had (ms; 0: not behind).
    behind_since_ms: AtomicI64,
    /// Messages the district never read that the stream no longer holds, if any.
    gap: std::sync::Mutex<Option<Gap>>,
}

/// A hall's stream lost its start before the district read it (`retention_days` passed,
/// or someone purged it): the district reads none of it past the hole, since a state
/// built from the records after a hole would count wrong, and says so on its API until
/// the hall's replica is rebuilt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The first stream message the district needed and the first the stream still holds.
    pub want: u64,
    pub first: u64,
}

impl HallLink {
    pub fn new(hall_id: String, applied: u64, stream_done: u64) -> Self {
        Self {
            hall_id,
            stream_done: AtomicU64::new(stream_done),
            heard_ms: AtomicI64::new(i64::MIN),
            known_seq: AtomicU64::new(applied),
            applied: AtomicU64::new(applied),
            behind_since_ms: AtomicI64::new(0),
            gap: std::sync::Mutex::new(None),
        }
    }

    /// The hole in the hall's stream that stops the district reading it, if any.
    pub fn gap(&self) -> Option<Gap> {
        self.gap.lock().map(|g| *g).unwrap_or(None)
    }

    fn set_gap(&self, gap: Option<Gap>) {
        if let Ok(mut held) = self.gap.lock() {
            *held = gap;
        }
    }

    fn heard(&self, at_ms: i64) {
        self.heard_ms.fetch_max(at_ms, Ordering::SeqCst);
    }

    fn knows(&self, seq: u64, now_ms: i64) {
        self.known_seq.fetch_max(seq, Ordering::SeqCst);
        if seq > self.applied.load(Ordering::SeqCst) {
            let _ = self.behind_since_ms.compare_exchange(0, now_ms.max(1), Ordering::SeqCst, Ordering::SeqCst);
        }
    }

    fn applied_to(&self, seq: u64) {
        self.applied.fetch_max(seq, Ordering::SeqCst);
        if seq >= self.known_seq.load(Ordering::SeqCst) {
            self.behind_since_ms.store(0, Ordering::SeqCst);
        }
    }

    /// Whether the hall was heard from within `online_s` of `now_ms`.
    pub fn online(&self, now_ms: i64, online_s: u64) -> bool {
        let heard = self.heard_ms.load(Ordering::SeqCst);
        heard != i64::MIN && now_ms.saturating_sub(heard) <= i64::try_from(online_s * 1000).unwrap_or(i64::MAX)
    }

    /// Records the hall has that the view has not applied, and for how many seconds the
    /// view has not been level with the hall.
    pub fn lag(&self, now_ms: i64) -> (u64, f64) {
        let behind = self.known_seq.load(Ordering::SeqCst).saturating_sub(self.applied.load(Ordering::SeqCst));
        let since = self.behind_since_ms.load(Ordering::SeqCst);
        let seconds = if behind == 0 || since == 0 { 0.0 } else { (now_ms - since).max(0) as f64 / 1000.0 };
        (behind, seconds)
    }
}

/// Why one consuming session ended.
#[derive(Debug, thiserror::Error)]
enum ConsumeError {
    #[error("the hall's stream: {0}")]
    Stream(String),
    #[error("the hall's view: {0}")]
    View(#[from] ViewError),
    #[error("the hall's view has stopped")]
    ViewGone,
    #[error("message {got} of the hall's stream came where {want} was due; reading again from {want}")]
    OutOfOrder { got: u64, want: u64 },
    #[error("the hall's stream no longer holds message {want} (it starts at {first}: older ones passed the hall's retention_days before the district read them); the district cannot rebuild this hall's state and reads no more of it: its figures stay as they were before the hole, and /api/v1/district shows the gap")]
    Gone { want: u64, first: u64 },
    #[error(
        "message {0} of the hall's stream is not a record of its log (the uplink sends none such); fix or remove it"
    )]
    Foreign(u64),
}

/// Consumes hall `link`'s stream into `view` until `stop` turns true or the view stops.
pub async fn consume(
    client: async_nats::Client,
    durable: String,
    link: Arc<HallLink>,
    view: mpsc::Sender<Input>,
    clock: Clock,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let before = link.applied.load(Ordering::SeqCst);
        let result = tokio::select! {
            r = session(&client, &durable, &link, &view, &clock) => r,
            _ = stop.changed() => return,
        };
        if link.applied.load(Ordering::SeqCst) > before {
            backoff = BACKOFF_MIN;
        }
        match result {
            Err(ConsumeError::ViewGone) | Err(ConsumeError::View(ViewError::Broken(_))) => {
                return tracing::error!(hall = %link.hall_id, "the hall's view stopped; its records are no longer read");
            }
            Err(e @ ConsumeError::Gone { .. }) => {
                tracing::error!(hall = %link.hall_id, error = %e, "a hall's stream has lost records the district never read")
            }
            Err(e) => {
                tracing::warn!(hall = %link.hall_id, error = %e, retry_in_ms = backoff.as_millis() as u64, "reading a hall's stream")
            }
            Ok(()) => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

async fn session(
    client: &async_nats::Client,
    durable: &str,
    link: &HallLink,
    view: &mpsc::Sender<Input>,
    clock: &Clock,
) -> Result<(), ConsumeError> {
    let js = jetstream::new(client.clone());
    let stream = js.get_stream(stream_name(&link.hall_id)).await.map_err(|e| ConsumeError::Stream(e.to_string()))?;
    let next = link.stream_done.load(Ordering::SeqCst) + 1;
    let held = &stream.cached_info().state;
    // A stream emptied by age or a purge starts after its last message, so an empty one
    // with messages the district never read is a hole too.
    if held.first_sequence > next {
        link.set_gap(Some(Gap { want: next, first: held.first_sequence }));
        return Err(ConsumeError::Gone { want: next, first: held.first_sequence });
    }
    link.set_gap(None);
    // A consumer left from before (its unacknowledged messages would come late, out of
    // order) is replaced by one starting where the replica stands.
    let _ = stream.delete_consumer(durable).await;
    let config = pull::Config {
        durable_name: Some(durable.to_string()),
        ack_policy: AckPolicy::Explicit,
        deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: next },
        ack_wait: ACK_WAIT,
        ..Default::default()
    };
    let consumer: jetstream::consumer::PullConsumer =
        stream.create_consumer(config).await.map_err(|e| ConsumeError::Stream(e.to_string()))?;
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(BATCH)
        .messages()
        .await
        .map_err(|e| ConsumeError::Stream(e.to_string()))?;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| ConsumeError::Stream(e.to_string()))?;
        take(&message, link, view, clock).await?;
    }
    Ok(())
}

/// One message: its record kept and applied (or found a repeat), then acknowledged.
async fn take(
    message: &jetstream::Message,
    link: &HallLink,
    view: &mpsc::Sender<Input>,
    clock: &Clock,
) -> Result<(), ConsumeError> {
    let now_ms = clock().0;
    let info = message.info().map_err(|e| ConsumeError::Stream(e.to_string()))?;
    let published_ms = i64::try_from(info.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    link.heard(published_ms.min(now_ms));
    let stream_seq = info.stream_sequence;
    let want = link.stream_done.load(Ordering::SeqCst) + 1;
    if stream_seq < want {
        return message.ack().await.map_err(|e| ConsumeError::Stream(e.to_string()));
    }
    if stream_seq > want {
        return Err(ConsumeError::OutOfOrder { got: stream_seq, want });
    }
    let seq = message.headers.as_ref().and_then(|h| h.get(SEQ_HEADER)).and_then(|v| v.as_str().parse::<u64>().ok());
    let record = serde_json::from_slice::<Record>(&message.payload).ok();
    let (Some(seq), Some(record)) = (seq, record) else {
        return Err(ConsumeError::Foreign(stream_seq));
    };
    link.knows(seq, now_ms);
    let (done, answer) = oneshot::channel();
    let input = Input::Record { seq, stream_seq, record: Box::new(record), done };
    view.send(input).await.map_err(|_| ConsumeError::ViewGone)?;
    let applied = answer.await.map_err(|_| ConsumeError::ViewGone)??;
    // An acknowledgement lost here (the district killed, the link cut) only brings the
    // record again, which the view then skips.
    message.ack().await.map_err(|e| ConsumeError::Stream(e.to_string()))?;
    if applied == Applied::Repeat {
        tracing::debug!(hall = %link.hall_id, seq, "a record delivered again was skipped");
    }
    link.stream_done.store(stream_seq, Ordering::SeqCst);
    link.applied_to(seq);
    Ok(())
}

/// Hears every hall's heartbeat (`hallq.hall.*.beat`): only the district's halls, and only
/// a payload of a beat's size, count.
pub async fn beats(
    client: async_nats::Client,
    halls: Vec<Arc<HallLink>>,
    clock: Clock,
    mut stop: watch::Receiver<bool>,
) {
    let halls: std::collections::HashMap<String, Arc<HallLink>> =
        halls.into_iter().map(|h| (h.hall_id.clone(), h)).collect();
    let mut backoff = BACKOFF_MIN;
    loop {
        let mut sub = match client.subscribe("hallq.hall.*.beat").await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot hear the halls' heartbeats");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        loop {
            let message = tokio::select! {
                m = sub.next() => m,
                _ = stop.changed() => return,
            };
            let Some(message) = message else { break };
            let id = message.subject.as_str().split('.').nth(2).unwrap_or_default();
            let Some(link) = halls.get(id) else { continue };
            if message.payload.len() > BEAT_BYTES_MAX {
                continue;
            }
            if let Ok(beat) = serde_json::from_slice::<Beat>(&message.payload) {
                let now_ms = clock().0;
                link.heard(now_ms);
                link.knows(beat.seq, now_ms);
            }
        }
    }
}
