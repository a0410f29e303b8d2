//! The hall's log leaves the building (issue 18): every durable record is published to the
//! hall's JetStream stream, in log order, exactly once.
//!
//! The hall stays authoritative: its engine decides and logs as before and never waits for
//! NATS. This task reads the log after the engine has flushed it (`Store::records_after`)
//! and publishes each record on `hallq.hall.<id>.log`, its log position in the
//! `Hallq-Seq` header.
//!
//! Exactly once, after any outage (the link, the NATS server, the daemon):
//! - **Where to resume is the server's answer**, not a local guess: at each (re)connection
//!   the task reads the last message of the hall's subject and goes on from the record
//!   after its `Hallq-Seq`. An acknowledgement lost with a killed daemon therefore causes
//!   no repeat, and a server that lost messages is sent them again.
//! - **No gap:** each message says which stream sequence must come before it
//!   (`Nats-Expected-Last-Subject-Sequence`). If one publish of a pipelined batch fails,
//!   every later one is refused by the server too, and the task reconnects and resumes
//!   from what the server holds.
//! - **No duplicate:** besides the resume point, each message's `Nats-Msg-Id`
//!   (`<hall>:<seq>`) lets the server drop a repeat within its duplicate window.
//!
//! The store keeps the last acknowledged position (`Store::set_district_done`) for
//! `/metrics` while the link is down; it is never trusted as the resume point.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, context::PublishErrorKind, stream};
use async_nats::HeaderMap;
use tokio::sync::watch;

use crate::config::DistrictLink;
use crate::core::event::Record;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use crate::time::Clock;

/// The header that carries a record's log position.
pub const SEQ_HEADER: &str = "Hallq-Seq";
/// Most records published before their acknowledgements are awaited.
const BATCH_MAX: usize = 256;
/// How often an idle link looks for newly flushed records.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// The first wait before reconnecting, doubled after each failure up to `BACKOFF_MAX`.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// How often the lag is shown while the link is down.
const LAG_EVERY: Duration = Duration::from_millis(250);
/// Connecting, and each request to the server, give up after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The server drops a message id seen within this window.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Most bytes a hall's stream holds. The busiest day measured (BENCHMARKS.md, "Memory of
/// a busy day": 20,000 tickets in the large hall) logs about 120,000 records of some 300
/// bytes of JSON each, with their headers under 50 MiB in the stream; 4 GiB is about 80
/// such days, and over four years of a township's 1,000-ticket days. nats-server reserves
/// a stream's `max_bytes` in its JetStream store when the stream is made: the halls'
/// bounds together must fit the server's store (`max_file_store`; by default three
/// quarters of the free disk), so a district of 30 halls reserves 120 GiB; district.toml's
/// `stream_max_bytes` sizes it for the server at hand. A hall (or a stolen hall key)
/// publishing without end fills its own stream, not the server's disk.
pub const STREAM_BYTES_MAX: i64 = 4 * 1024 * 1024 * 1024;
/// Most records a hall's stream holds: 10 million is over 80 busiest days (above).
pub const STREAM_MSGS_MAX: i64 = 10_000_000;
/// The largest message a hall's stream takes, in bytes. A record is one event (a few
/// hundred bytes; its idempotent reply at most a ticket's answer); the hall's bodies are
/// at most 16 KiB. A record the stream refused would hold its hall's uplink at that record
/// for good, so the bound is generous and under NATS's own 1 MiB payload.
pub const STREAM_MSG_BYTES_MAX: i32 = 256 * 1024;
/// `max_bytes` of a stream that reserves nothing (NATS's "no limit").
const NO_BYTES_MAX: i64 = -1;

/// A hall's stream's bounds (`[district] stream_max_bytes`, `stream_max_msgs`,
/// `stream_max_msg_bytes` in district.toml; the constants above by default). A full
/// stream refuses new records (`DiscardPolicy::New`) rather than dropping old ones: the
/// hall keeps them in its own log and its uplink shows them as lag until there is room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamBounds {
    pub bytes_max: i64,
    pub msgs_max: i64,
    pub msg_bytes_max: i32,
}

impl Default for StreamBounds {
    fn default() -> Self {
        Self { bytes_max: STREAM_BYTES_MAX, msgs_max: STREAM_MSGS_MAX, msg_bytes_max: STREAM_MSG_BYTES_MAX }
    }
}

impl StreamBounds {
    /// These bounds but the bytes, which reserve room on the server: those of a stream a
    /// hall makes itself (the reservation is the district's to size), or of one the server
    /// had no room to reserve for.
    pub fn unreserved(self) -> Self {
        Self { bytes_max: NO_BYTES_MAX, ..self }
    }

    /// Whether a stream's `config` has these bounds and refuses new records when full.
    pub fn held_by(&self, config: &stream::Config) -> bool {
        config.max_bytes == self.bytes_max
            && config.max_messages == self.msgs_max
            && config.max_message_size == self.msg_bytes_max
            && config.discard == stream::DiscardPolicy::New
    }
}

/// How often a linked hall says it is alive (`hallq.hall.<id>.beat`); the district's
/// `online_seconds` must be well above it.
pub const BEAT_EVERY: Duration = Duration::from_secs(2);
/// The largest heartbeat the district reads, in bytes: a beat is two numbers.
pub const BEAT_BYTES_MAX: usize = 256;

/// A heartbeat's payload: the hall's durable log position and its clock (ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Beat {
    pub seq: u64,
    pub at_ms: i64,
}

/// The subject of a hall's heartbeats.
pub fn beat_subject(hall_id: &str) -> String {
    format!("hallq.hall.{hall_id}.beat")
}

/// Why a session with the server ended.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    #[error("cannot connect to NATS: {0}")]
    Connect(String),
    #[error("the hall's stream: {0}")]
    Stream(String),
    #[error("a publish failed: {0}")]
    Publish(String),
    #[error("the stream is not this hall's: {0}")]
    Foreign(String),
    #[error("the hall's stream refuses new records (its records wait in the hall's own log): {0}")]
    Full(String),
    #[error("reading the log: {0}")]
    Store(#[from] StoreError),
}

impl UplinkError {
    /// The label of `/metrics`' `hallq_district_failures_total`.
    pub fn kind(&self) -> &'static str {
        match self {
            UplinkError::Connect(_) => "connect",
            UplinkError::Stream(_) => "stream",
            UplinkError::Publish(_) => "publish",
            UplinkError::Foreign(_) => "foreign",
            UplinkError::Full(_) => "stream_full",
            UplinkError::Store(_) => "store",
        }
    }
}

/// What the task needs: the link, the log, the figures and the clock.
pub struct Uplink {
    pub link: DistrictLink,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub clock: Clock,
    /// The stream keeps a record this many days (the hall's own retention).
    pub retention_days: u32,
    /// The log position the stream last acknowledged, as far as this task knows (at start,
    /// the store's mark), for the lag shown while the link is down.
    pub acked: std::sync::atomic::AtomicU64,
}

/// Where the stream stands: the last record's log position and its stream sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Head {
    hall_seq: u64,
    stream_seq: u64,
}

impl Uplink {
    /// Publishes until `stop` turns true, reconnecting after each failure with backoff.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = BACKOFF_MIN;
        let known = self.store.district_done().ok().flatten().unwrap_or(0);
        self.mark(known);
        while !*stop.borrow() {
            let result = tokio::select! {
                r = self.session() => r,
                _ = stop.changed() => break,
            };
            // A session that got as far as publishing starts the backoff afresh, unless the
            // stream was full: then the next try waits longer each time (up to
            // `BACKOFF_MAX`), as room comes only with the stream's oldest records ageing out.
            let full = matches!(result, Err(UplinkError::Full(_)));
            if self.metrics.district.connected.get() == 1 && !full {
                backoff = BACKOFF_MIN;
            }
            self.metrics.district.connected.set(0);
            if let Err(e) = &result {
                self.metrics.district.failures.with_label_values(&[e.kind()]).inc();
            }
            match result {
                Ok(()) => backoff = BACKOFF_MIN,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "district link down");
                    // While down, the lag goes on growing with what the hall logs.
                    let until = tokio::time::Instant::now() + backoff;
                    while tokio::time::Instant::now() < until {
                        self.show_lag(self.acked.load(Ordering::SeqCst));
                        tokio::select! {
                            _ = tokio::time::sleep_until(until.min(tokio::time::Instant::now() + LAG_EVERY)) => {}
                            _ = stop.changed() => return,
                        }
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    /// One connection: find where the stream stands, then publish what follows, for as
    /// long as the link holds.
    async fn session(&self) -> Result<(), UplinkError> {
        let client = self.connect().await?;
        let js = jetstream::new(client.clone());
        let stream = self.stream(&js).await?;
        let mut head = self.head(&stream).await?;
        self.metrics.district.connected.set(1);
        tracing::info!(resume_after = head.hall_seq, "district link up");
        self.mark(head.hall_seq);
        let mut beat_due = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= beat_due {
                self.beat(&client).await?;
                beat_due = tokio::time::Instant::now() + BEAT_EVERY;
            }
            let batch = self.read_after(head.hall_seq).await?;
            if batch.is_empty() {
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
            head = self.publish(&js, head, batch).await?;
            self.mark(head.hall_seq);
        }
    }

    async fn connect(&self) -> Result<async_nats::Client, UplinkError> {
        let link = &self.link;
        let options = async_nats::ConnectOptions::new()
            .name(format!("hallq-{}", link.hall_id))
            .connection_timeout(CONNECT_TIMEOUT)
            .request_timeout(Some(CONNECT_TIMEOUT))
            // This task reconnects itself, resuming from the server's answer.
            .max_reconnects(Some(1));
        let options = super::auth::hall_options(options, link).await.map_err(UplinkError::Connect)?;
        options.connect(link.nats_url.as_str()).await.map_err(|e| UplinkError::Connect(e.to_string()))
    }

    /// The hall's stream, made on first use: one subject, kept on disk as long as the hall
    /// keeps its own log. A hall known to the server by its key may not make streams
    /// (`natsconf.rs`): the district makes it, and until then the link waits.
    async fn stream(&self, js: &jetstream::Context) -> Result<stream::Stream, UplinkError> {
        if self.link.nkey_file.is_some() {
            return js.get_stream(self.link.stream_name()).await.map_err(|e| {
                UplinkError::Stream(format!(
                    "{e}; with nkey_file the district makes the hall's stream {}: is hallq district running, with this hall in its halls/?",
                    self.link.stream_name()
                ))
            });
        }
        let config = stream_config(&self.link.hall_id, self.retention_days);
        js.get_or_create_stream(config).await.map_err(|e| UplinkError::Stream(e.to_string()))
    }

    /// The last record the server holds, from its message's `Hallq-Seq`; nothing yet: 0.
    async fn head(&self, stream: &stream::Stream) -> Result<Head, UplinkError> {
        match stream.get_last_raw_message_by_subject(&self.link.log_subject()).await {
            Ok(m) => {
                let hall_seq = m.headers.get(SEQ_HEADER).and_then(|v| v.as_str().parse().ok());
                let hall_seq = hall_seq.ok_or_else(|| {
                    UplinkError::Stream(format!("message {} of the stream has no {SEQ_HEADER} header", m.sequence))
                })?;
                if hall_seq == 0 {
                    return Err(UplinkError::Foreign(format!("message {} names log position 0", m.sequence)));
                }
                let head = Head { hall_seq, stream_seq: m.sequence };
                self.same_history(head, &m.payload).await?;
                Ok(head)
            }
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Ok(Head::default()),
            Err(e) => Err(UplinkError::Stream(e.to_string())),
        }
    }

    /// Whether the stream's last message is this hall's own record at that position. A
    /// stream ahead of the log, or holding another record there, is another hall under
    /// the same `hall_id` or a data directory started afresh: publishing would skip or mix
    /// records, so the link stays down (and says why) until someone sorts it out.
    async fn same_history(&self, head: Head, payload: &[u8]) -> Result<(), UplinkError> {
        let durable = self.store.durable().seq;
        if head.hall_seq > durable {
            return Err(UplinkError::Foreign(format!(
                "the stream holds records up to {} but this hall's log ends at {durable}: restore the data directory from the stream (hallq restore --from-nats), or give this hall another [district] hall_id",
                head.hall_seq
            )));
        }
        let store = self.store.clone();
        let seq = head.hall_seq;
        let ours = tokio::task::spawn_blocking(move || store.records_after(seq - 1).next())
            .await
            .map_err(|e| UplinkError::Publish(format!("the log's reader stopped: {e}")))?;
        let theirs: Option<Record> = serde_json::from_slice(payload).ok();
        match ours {
            // Pruned here already (older than the retention): nothing to compare.
            Some(Ok((s, _))) if s != seq => Ok(()),
            None => Ok(()),
            Some(Ok((_, record))) if theirs.as_ref() == Some(&record) => Ok(()),
            Some(Ok(_)) => Err(UplinkError::Foreign(format!(
                "the stream's record {seq} is not this hall's record {seq}: another hall publishes under hall_id {:?}; give each hall its own",
                self.link.hall_id
            ))),
            Some(Err(e)) => Err(e.into()),
        }
    }

    /// Up to `BATCH_MAX` durable records after `after`, read on the blocking pool.
    async fn read_after(&self, after: u64) -> Result<Vec<(u64, Record)>, UplinkError> {
        let durable = self.store.durable().seq;
        self.show_lag(after);
        if durable <= after {
            return Ok(Vec::new());
        }
        let store = self.store.clone();
        let read = tokio::task::spawn_blocking(move || {
            store
                .records_after(after)
                .take_while(|r| r.as_ref().map_or(true, |(s, _)| *s <= durable))
                .take(BATCH_MAX)
                .collect::<Result<Vec<_>, _>>()
        });
        match read.await {
            Ok(records) => Ok(records?),
            Err(e) => Err(UplinkError::Publish(format!("the log's reader stopped: {e}"))),
        }
    }

    /// Publishes `batch` pipelined, then waits for each acknowledgement in order; the head
    /// after the last one acknowledged.
    async fn publish(
        &self,
        js: &jetstream::Context,
        mut head: Head,
        batch: Vec<(u64, Record)>,
    ) -> Result<Head, UplinkError> {
        let subject = self.link.log_subject();
        let mut acks = Vec::with_capacity(batch.len());
        for (i, (seq, record)) in batch.iter().enumerate() {
            let message = log_message(&self.link.hall_id, *seq, record, head.stream_seq + i as u64)?;
            let ack = js.send_publish(subject.clone(), message).await.map_err(publish_err)?;
            acks.push((*seq, ack));
        }
        for (seq, ack) in acks {
            let ack = ack.await.map_err(publish_err)?;
            head = Head { hall_seq: seq, stream_seq: ack.sequence };
            self.metrics.district.published.inc();
        }
        Ok(head)
    }

    /// Says on core NATS that the hall is alive: its log position and its clock, so that
    /// the district sees an idle hall online and knows how far its view is behind.
    async fn beat(&self, client: &async_nats::Client) -> Result<(), UplinkError> {
        let beat = Beat { seq: self.store.durable().seq, at_ms: (self.clock)().0 };
        let payload = serde_json::to_vec(&beat).map_err(|e| UplinkError::Publish(e.to_string()))?;
        let subject = beat_subject(&self.link.hall_id);
        client.publish(subject, payload.into()).await.map_err(|e| UplinkError::Publish(e.to_string()))
    }

    /// Keeps the acknowledged position in the store and shows the lag.
    fn mark(&self, done: u64) {
        if let Err(e) = self.store.set_district_done(done) {
            tracing::warn!(error = %e, "the district link's mark could not be kept");
        }
        self.acked.store(done, Ordering::SeqCst);
        self.metrics.district.acked_position.set(i64::try_from(done).unwrap_or(i64::MAX));
        self.show_lag(done);
    }

    /// `/metrics`: records flushed but not yet acknowledged, and how old the oldest is.
    fn show_lag(&self, done: u64) {
        let durable = self.store.durable().seq;
        let behind = durable.saturating_sub(done);
        self.metrics.district.lag_records.set(i64::try_from(behind).unwrap_or(i64::MAX));
        let oldest = (behind > 0).then(|| self.store.records_after(done).next()).flatten();
        let seconds = match oldest {
            Some(Ok((_, record))) => ((self.clock)().0 - record.at.0).max(0) as f64 / 1000.0,
            _ => 0.0,
        };
        self.metrics.district.lag_seconds.set(seconds);
    }
}

/// The configuration of hall `hall_id`'s stream as a hall makes it: one subject, kept on
/// disk as long as the hall keeps its own log (`retention_days`), within the default
/// [`StreamBounds`] but the bytes (`StreamBounds::unreserved`), which the district gives it.
pub fn stream_config(hall_id: &str, retention_days: u32) -> stream::Config {
    bounded_stream_config(hall_id, retention_days, StreamBounds::default().unreserved())
}

/// As [`stream_config`], within `bounds`; full, it refuses new records.
pub fn bounded_stream_config(hall_id: &str, retention_days: u32, bounds: StreamBounds) -> stream::Config {
    stream::Config {
        name: crate::config::stream_name(hall_id),
        subjects: vec![crate::config::log_subject(hall_id)],
        storage: stream::StorageType::File,
        max_age: Duration::from_secs(u64::from(retention_days.max(1)) * 86_400),
        duplicate_window: DUPLICATE_WINDOW,
        max_bytes: bounds.bytes_max,
        max_messages: bounds.msgs_max,
        max_message_size: bounds.msg_bytes_max,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    }
}

/// The message that carries record `seq` of hall `hall_id`: the record as JSON, its log
/// position in `Hallq-Seq`, `<hall>:<seq>` as the id the server drops repeats by, and the
/// stream sequence that must come before it (`expected_stream_seq`; 0 for the first).
/// The district benchmark's simulated halls publish through this too, so that what it
/// measures is what a hall sends.
pub fn log_message(
    hall_id: &str,
    seq: u64,
    record: &Record,
    expected_stream_seq: u64,
) -> Result<jetstream::message::PublishMessage, UplinkError> {
    let payload = serde_json::to_vec(record).map_err(|e| UplinkError::Publish(e.to_string()))?;
    let mut headers = HeaderMap::new();
    headers.insert(SEQ_HEADER, seq.to_string().as_str());
    Ok(jetstream::message::PublishMessage::build()
        .payload(payload.into())
        .headers(headers)
        .message_id(format!("{hall_id}:{seq}"))
        .expected_last_subject_sequence(expected_stream_seq))
}

fn publish_err(e: jetstream::context::PublishError) -> UplinkError {
    let server = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<jetstream::Error>());
    match (e.kind(), server) {
        (PublishErrorKind::MaxPayloadExceeded, _) => {
            UplinkError::Publish(format!("a record is too large for the server: {e}"))
        }
        // The stream's bounds (`StreamBounds`): full (the store's "maximum messages/bytes
        // exceeded"), or a record over its largest message.
        (_, Some(s)) if s.error_code() == jetstream::ErrorCode::STREAM_MESSAGE_EXCEEDS_MAXIMUM => {
            UplinkError::Full(format!("a record is larger than the stream's largest message: {s}"))
        }
        (_, Some(s))
            if s.error_code() == jetstream::ErrorCode::STREAM_STORE_FAILED && s.to_string().contains("maximum") =>
        {
            UplinkError::Full(s.to_string())
        }
        _ => UplinkError::Publish(e.to_string()),
    }
}
