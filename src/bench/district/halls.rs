//! The simulated halls: each a NATS connection of its own (as each hall's daemon has),
//! publishing its log to its stream in exactly the uplink's message shape
//! (`uplink::log_message`: the record as JSON, `Hallq-Seq`, the message id, the expected
//! last sequence) and its heartbeat (`uplink::Beat`) every `BEAT_EVERY`, as a hall does.
//!
//! Unlike the uplink, a hall here publishes each record when its schedule says it is
//! logged, not when it finds it flushed. Like the uplink, it sends every record it has
//! (all those due by now, at most `BURST_MAX`) before it awaits their acknowledgements:
//! the hall's opening logs sixty calls at one moment, and a publisher that awaited each
//! round trip before the next sent the sixtieth sixty round trips late, which the lag
//! counted as the district's (BENCHMARKS.md, the district at scale).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use futures_util::StreamExt;
use tokio::time::Instant;

use super::acks::Ledger;
use super::logs::SimLog;
use crate::config::log_subject;
use crate::district::uplink::{beat_subject, log_message, stream_config, Beat, BEAT_EVERY};

use super::super::BenchError;

/// A publish not acknowledged by the server within this is an error of the run.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);
/// Most records sent before their acknowledgements are awaited (the uplink's own bound,
/// `uplink::BATCH_MAX`, is 256).
const BURST_MAX: usize = 256;
/// Connections and streams made at once while setting up.
const SETUP_PARALLEL: usize = 16;
/// The retention the streams get (the example hall's `retention_days`).
const RETENTION_DAYS: u32 = 90;

/// One simulated hall.
pub struct SimulatedHall {
    pub index: usize,
    pub id: String,
    /// Which of the simulated days it publishes.
    pub log: Arc<SimLog>,
    /// When its first ticket is due after the measured phase starts.
    pub offset: Duration,
    client: async_nats::Client,
    /// The last log position the server acknowledged.
    pub published: Arc<AtomicU64>,
}

/// Connects every hall and makes its stream (as the uplink does at its first connection).
pub async fn connect(url: &str, ids: &[String], logs: &[Arc<SimLog>]) -> Result<Vec<SimulatedHall>, BenchError> {
    let stagger_ms = 1_000 / ids.len().max(1) as u64;
    let halls = futures_util::stream::iter(ids.iter().enumerate())
        .map(|(index, id)| async move {
            let client = async_nats::ConnectOptions::new()
                .name(format!("hallq-bench-{id}"))
                .connect(url)
                .await
                .map_err(|e| BenchError::new(format!("hall {id} cannot connect to NATS at {url}: {e}")))?;
            jetstream::new(client.clone())
                .get_or_create_stream(stream_config(id, RETENTION_DAYS))
                .await
                .map_err(|e| BenchError::new(format!("cannot make hall {id}'s stream: {e}")))?;
            Ok(SimulatedHall {
                index,
                id: id.clone(),
                log: logs[index % logs.len()].clone(),
                // Spread over the first second, so that halls on the same simulated day
                // do not publish in step.
                offset: Duration::from_millis(index as u64 * stagger_ms),
                client,
                published: Arc::new(AtomicU64::new(0)),
            })
        })
        .buffered(SETUP_PARALLEL)
        .collect::<Vec<Result<_, BenchError>>>()
        .await;
    halls.into_iter().collect()
}

impl SimulatedHall {
    /// Sends `burst` (records at their due times) at once, then awaits each one's
    /// acknowledgement by the server; tells `ledger` of each.
    async fn publish(
        &self,
        js: &jetstream::Context,
        burst: &[(Instant, u64, &crate::core::event::Record)],
        ledger: &Ledger,
    ) -> Result<(), BenchError> {
        let mut acks = Vec::with_capacity(burst.len());
        for &(due, seq, record) in burst {
            let err = |e: String| BenchError::new(format!("hall {} record {seq}: {e}", self.id));
            ledger.expect(self.index, seq, due.into_std());
            let message = log_message(&self.id, seq, record, seq - 1).map_err(|e| err(e.to_string()))?;
            let ack = js.send_publish(log_subject(&self.id), message).await.map_err(|e| err(e.to_string()))?;
            acks.push((due, seq, ack));
        }
        for (due, seq, ack) in acks {
            let err = |e: String| BenchError::new(format!("hall {} record {seq}: {e}", self.id));
            match tokio::time::timeout(PUBLISH_TIMEOUT, ack).await {
                Ok(Ok(_)) => {
                    self.published.store(seq, Ordering::SeqCst);
                    ledger.sent(due.into_std());
                }
                Ok(Err(e)) => return Err(err(e.to_string())),
                Err(_) => return Err(err(format!("not acknowledged within {PUBLISH_TIMEOUT:?}"))),
            }
        }
        Ok(())
    }

    /// Publishes the records before the first ticket, pipelined.
    pub async fn publish_prefix(&self) -> Result<u64, BenchError> {
        let js = jetstream::new(self.client.clone());
        let mut acks = Vec::with_capacity(self.log.prefix.len());
        for (seq, record) in &self.log.prefix {
            let message = log_message(&self.id, *seq, record, seq - 1)
                .map_err(|e| BenchError::new(format!("hall {}: {e}", self.id)))?;
            let ack = js
                .send_publish(log_subject(&self.id), message)
                .await
                .map_err(|e| BenchError::new(format!("hall {}: {e}", self.id)))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|e| BenchError::new(format!("hall {}: {e}", self.id)))?;
        }
        let last = self.log.prefix.last().map_or(0, |(s, _)| *s);
        self.published.store(last, Ordering::SeqCst);
        Ok(last)
    }

    /// Publishes the paced records due within `duration` of `start`, each when due at
    /// `speed` times real time, telling `ledger` each one's due time; beats meanwhile.
    /// Returns the last position published.
    pub async fn run(
        &self,
        start: Instant,
        duration: Duration,
        speed: f64,
        ledger: Arc<Ledger>,
    ) -> Result<u64, BenchError> {
        let js = jetstream::new(self.client.clone());
        let end = start + duration;
        let mut beat_due = start + self.offset;
        let mut next = self.log.paced.iter().peekable();
        loop {
            let due_of = |at_ms: i64| start + self.offset + Duration::from_secs_f64(at_ms as f64 / 1000.0 / speed);
            let record_due = next.peek().map(|(at_ms, _, _)| due_of(*at_ms)).filter(|d| *d < end);
            if record_due.is_none() && beat_due >= end {
                break;
            }
            match record_due {
                Some(due) if due <= beat_due => {
                    tokio::time::sleep_until(due).await;
                    let now = Instant::now();
                    let mut burst = Vec::new();
                    while let Some((at_ms, seq, record)) = next.peek() {
                        let due = due_of(*at_ms);
                        if due > now || due >= end || burst.len() >= BURST_MAX {
                            break;
                        }
                        burst.push((due, *seq, record));
                        next.next();
                    }
                    self.publish(&js, &burst, &ledger).await?;
                }
                _ => {
                    tokio::time::sleep_until(beat_due).await;
                    self.beat().await?;
                    beat_due += BEAT_EVERY;
                }
            }
        }
        Ok(self.published.load(Ordering::SeqCst))
    }

    async fn beat(&self) -> Result<(), BenchError> {
        let beat = Beat { seq: self.published.load(Ordering::SeqCst), at_ms: crate::time::wall_clock().0 };
        let payload = serde_json::to_vec(&beat).map_err(|e| BenchError::new(e.to_string()))?;
        self.client
            .publish(beat_subject(&self.id), payload.into())
            .await
            .map_err(|e| BenchError::new(format!("hall {}'s heartbeat: {e}", self.id)))
    }
}
