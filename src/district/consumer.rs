//! Reading the halls: per hall a task with a durable pull consumer on the hall's stream,
//! which hands the records of the messages at hand to the hall's view as one batch and
//! acknowledges them together once applied; and one subscription to every hall's
//! heartbeat, so that an idle hall is seen online.
//!
//! Where to go on is the replica's answer, not the server's: JetStream delivers a message
//! a killed district never acknowledged again only after `ACK_WAIT`, after newer ones, and
//! the view can only apply a hall's records in order. So each session deletes the durable
//! consumer (`district-<district id>`, acknowledgement of all up to one) and makes it again from
//! the stream sequence after the last record the replica kept (within a process, the
//! last one the view applied and handed to the replica's writer); a message out of that
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
use super::view::{Delivered, Input, ViewError};
use crate::config::stream_name;
use crate::core::event::Record;
use crate::time::Clock;

/// The first wait before trying a hall's stream again, doubled up to `BACKOFF_MAX`.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// A message not acknowledged within this is delivered again (a district killed between
/// its pull and its acknowledgement hears of it again this soon after it is back).
const ACK_WAIT: Duration = Duration::from_secs(10);
/// Messages asked for at once, and the most the view takes in one batch (one replica
/// transaction, one acknowledgement): done well within `ACK_WAIT`.
const BATCH: usize = 64;

/// Log positions the district has heard a hall has and its view has not applied yet, kept
/// with when it first heard of each: the oldest says how long the view has been behind.
/// A heartbeat every two seconds and a record per message add at most one each; past
/// this many, the newest entry's position moves up instead (its records are then counted
/// from a moment a little early, which can only overstate the lag).
const KNOWN_MAX: usize = 16;

/// What the district knows of a hall beside its state: when it last heard from it, the
/// log positions it said it had, and the one its view applied. Written by the consumer
/// and the heartbeat task, read by the API.
pub struct HallLink {
    pub hall_id: String,
    /// When the hall was last heard from (ms; `i64::MIN`: never).
    heard_ms: AtomicI64,
    /// The highest log position the hall said it had (heartbeats, records).
    known_seq: AtomicU64,
    applied: AtomicU64,
    /// The stream sequence of the last record the view applied (and handed to the
    /// replica's writer).
    stream_done: AtomicU64,
    /// Positions heard of and not yet applied, each with when it was first heard of (ms),
    /// in order; at most `KNOWN_MAX`.
    unapplied: std::sync::Mutex<std::collections::VecDeque<(u64, i64)>>,
    /// Messages the stream held past the last one the view took, as the server said with
    /// it: a backlog in NATS that no heartbeat shows the district.
    pending: AtomicU64,
    /// How old the last record applied was when its batch was applied (from its
    /// publication to the server), in ms: while messages are pending, how far behind the
    /// view runs.
    delay_ms: AtomicI64,
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
            unapplied: std::sync::Mutex::default(),
            pending: AtomicU64::new(0),
            delay_ms: AtomicI64::new(0),
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

    /// The hall has its log up to `seq`, as the district learnt at `at_ms`.
    fn knows(&self, seq: u64, at_ms: i64) {
        self.known_seq.fetch_max(seq, Ordering::SeqCst);
        let Ok(mut unapplied) = self.unapplied.lock() else { return };
        if seq <= self.applied.load(Ordering::SeqCst) || unapplied.back().is_some_and(|(s, _)| *s >= seq) {
            return;
        }
        let full = unapplied.len() >= KNOWN_MAX;
        match unapplied.back_mut() {
            Some(newest) if full => newest.0 = seq,
            _ => unapplied.push_back((seq, at_ms)),
        }
    }

    fn applied_to(&self, seq: u64) {
        self.applied.fetch_max(seq, Ordering::SeqCst);
        if let Ok(mut unapplied) = self.unapplied.lock() {
            while unapplied.front().is_some_and(|(s, _)| *s <= seq) {
                unapplied.pop_front();
            }
        }
    }

    /// Whether the hall was heard from within `online_s` of `now_ms`.
    pub fn online(&self, now_ms: i64, online_s: u64) -> bool {
        let heard = self.heard_ms.load(Ordering::SeqCst);
        heard != i64::MIN && now_ms.saturating_sub(heard) <= i64::try_from(online_s * 1000).unwrap_or(i64::MAX)
    }

    /// Records the hall has that the view has not applied, and for how many seconds the
    /// view has been behind: the longer of how long ago the district first heard of a
    /// record it has not applied, and, while the stream holds messages not yet taken, how
    /// old the last record applied was when applied (a backlog queued in NATS is seen
    /// only so: neither heartbeats nor deliveries tell of it sooner).
    pub fn lag(&self, now_ms: i64) -> (u64, f64) {
        let pending = self.pending.load(Ordering::SeqCst);
        let known = self.known_seq.load(Ordering::SeqCst).saturating_sub(self.applied.load(Ordering::SeqCst));
        let behind = known.max(pending);
        if behind == 0 {
            return (0, 0.0);
        }
        let oldest = self.unapplied.lock().ok().and_then(|u| u.front().map(|(_, at)| *at));
        let waited_ms = oldest.map_or(0, |at| (now_ms - at).max(0));
        let delay_ms = if pending > 0 { self.delay_ms.load(Ordering::SeqCst).max(0) } else { 0 };
        (behind, waited_ms.max(delay_ms) as f64 / 1000.0)
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
        ack_policy: AckPolicy::All,
        deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: next },
        ack_wait: ACK_WAIT,
        ..Default::default()
    };
    let consumer: jetstream::consumer::PullConsumer =
        stream.create_consumer(config).await.map_err(|e| ConsumeError::Stream(e.to_string()))?;
    let messages = consumer
        .stream()
        .max_messages_per_batch(BATCH)
        .messages()
        .await
        .map_err(|e| ConsumeError::Stream(e.to_string()))?;
    // Whatever has arrived is taken at once: one batch for the view, one transaction in
    // the replica, one acknowledgement. A hall at its peak sends a record every
    // second or so, so a batch is one message while the district keeps up and grows to
    // `BATCH` when it falls behind, which is when it must catch up.
    let mut batches = messages.ready_chunks(BATCH);
    while let Some(batch) = batches.next().await {
        take(batch, link, view, clock).await?;
    }
    Ok(())
}

/// A batch of messages: the records of those in order applied together (repeats
/// skipped), then acknowledged at once by acknowledging the last. The consumer's
/// `AckPolicy::All` makes an acknowledgement cover every message delivered before it, and
/// it is sent only once the view has answered, that is once every record of the batch is
/// applied and queued for the replica, maybe before it is flushed (`view` says why that
/// is durable). If the acknowledgement is lost (the district killed, the link cut), the
/// messages come again and the view skips them; and where reading goes on never depends
/// on it, since each session starts from a stream position the district holds itself. A
/// message out of order ends the session after those before it are taken.
async fn take(
    batch: Vec<Result<jetstream::Message, pull::MessagesError>>,
    link: &HallLink,
    view: &mpsc::Sender<Input>,
    clock: &Clock,
) -> Result<(), ConsumeError> {
    let now_ms = clock().0;
    let mut want = link.stream_done.load(Ordering::SeqCst) + 1;
    let (mut records, mut last, mut ended) = (Vec::with_capacity(batch.len()), None, None);
    let mut newest = (0, 0);
    for message in batch {
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                ended = Some(ConsumeError::Stream(e.to_string()));
                break;
            }
        };
        let info = match message.info() {
            Ok(info) => info,
            Err(e) => {
                ended = Some(ConsumeError::Stream(e.to_string()));
                break;
            }
        };
        let published_ms = i64::try_from(info.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let (stream_seq, pending) = (info.stream_sequence, info.pending);
        link.heard(published_ms.min(now_ms));
        if stream_seq > want {
            ended = Some(ConsumeError::OutOfOrder { got: stream_seq, want });
            break;
        }
        if stream_seq == want {
            let seq =
                message.headers.as_ref().and_then(|h| h.get(SEQ_HEADER)).and_then(|v| v.as_str().parse::<u64>().ok());
            let record = serde_json::from_slice::<Record>(&message.payload).ok();
            let (Some(seq), Some(record)) = (seq, record) else {
                ended = Some(ConsumeError::Foreign(stream_seq));
                break;
            };
            let json = message.payload.to_vec();
            link.knows(seq, published_ms.min(now_ms));
            link.knows(seq + pending, now_ms);
            link.pending.store(pending, Ordering::SeqCst);
            newest = (seq, published_ms);
            records.push(Delivered { seq, record, json });
            want += 1;
        }
        // One before `want` is a message taken before, delivered again: acknowledged with
        // the rest.
        last = Some(message);
    }
    if !records.is_empty() {
        let (done, answer) = oneshot::channel();
        view.send(Input::Records { records, stream_seq: want - 1, done }).await.map_err(|_| ConsumeError::ViewGone)?;
        let applied = answer.await.map_err(|_| ConsumeError::ViewGone)??;
        if applied.repeats > 0 {
            tracing::debug!(hall = %link.hall_id, repeats = applied.repeats, "records delivered again were skipped");
        }
        link.stream_done.store(want - 1, Ordering::SeqCst);
        link.delay_ms.store(clock().0 - newest.1, Ordering::SeqCst);
        link.applied_to(newest.0);
    }
    if let Some(message) = last {
        message.ack().await.map_err(|e| ConsumeError::Stream(e.to_string()))?;
    }
    ended.map_or(Ok(()), Err)
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::{HallLink, KNOWN_MAX};

    #[test]
    fn the_lag_runs_from_the_oldest_record_heard_of_and_not_applied() {
        let link = HallLink::new("a".into(), 0, 0);
        assert_eq!(link.lag(1_000), (0, 0.0));
        link.knows(5, 1_000);
        link.knows(8, 2_500);
        assert_eq!(link.lag(3_000), (8, 2.0));
        link.applied_to(3);
        assert_eq!(link.lag(3_000), (5, 2.0), "records 4 and 5 were heard of at 1 s");
        link.applied_to(5);
        assert_eq!(link.lag(3_000), (3, 0.5), "records 6 to 8 were heard of at 2.5 s");
        link.applied_to(8);
        assert_eq!(link.lag(9_000), (0, 0.0));
    }

    #[test]
    fn a_backlog_in_nats_shows_as_the_age_of_the_last_record_applied() {
        let link = HallLink::new("a".into(), 0, 0);
        // The view took record 10 four seconds after it was published, and the server said
        // 50 more were waiting behind it: no heartbeat has told of those yet.
        link.pending.store(50, Ordering::SeqCst);
        link.delay_ms.store(4_000, Ordering::SeqCst);
        link.applied_to(10);
        assert_eq!(link.lag(20_000), (50, 4.0));
        link.pending.store(0, Ordering::SeqCst);
        assert_eq!(link.lag(20_000), (0, 0.0), "level with the stream: no lag, however old the last record");
    }

    #[test]
    fn the_records_heard_of_are_bounded_and_keep_the_oldest_time() {
        let link = HallLink::new("a".into(), 0, 0);
        for i in 1..=1_000 {
            link.knows(i, i as i64);
        }
        assert_eq!(link.unapplied.lock().map(|u| u.len()).unwrap_or(0), KNOWN_MAX);
        assert_eq!(link.lag(2_001), (1_000, 2.0));
        link.applied_to(999);
        assert_eq!(link.lag(2_001).0, 1, "the newest entry moved up to 1,000");
    }
}
