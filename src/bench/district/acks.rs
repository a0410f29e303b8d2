//! The district view's lag, measured at the edge: the district acknowledges a hall's
//! messages only after its view has kept and applied their records (`district::consumer`),
//! and an acknowledgement is itself a NATS message (to `$JS.ACK.<stream>.<consumer>.
//! <delivered>.<stream seq>...`). This process subscribes to them all, so it sees the
//! moment each record is in the district's view without asking the district. The
//! district's consumer acknowledges all up to the message named (`AckPolicy::All`: it
//! acknowledges the last message of each batch), so an acknowledgement of message n is
//! that of every record of the hall up to n. The lag of a record is from when its hall
//! logged it (its due time in the schedule, whether or not the publisher was on time) to
//! the first acknowledgement that covers it.
//!
//! A hall's stream holds its records alone, from the first, so a message's stream sequence
//! is its record's log position.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;

use super::super::BenchError;

/// Per hall: records published and not yet acknowledged, with their due times; the
/// highest position acknowledged.
struct Hall {
    due: Mutex<BTreeMap<u64, Instant>>,
    acked: AtomicU64,
}

/// What the publishers and the listener share.
pub struct Ledger {
    halls: Vec<Hall>,
    by_stream: HashMap<String, usize>,
    /// Lags of measured records, in microseconds.
    lags_us: Mutex<Vec<u32>>,
    /// Of each measured record, from its due time to the server's acknowledgement of its
    /// publication (microseconds): the simulated hall's and the server's part of its lag.
    sent_us: Mutex<Vec<u32>>,
    /// When the last measured record was acknowledged.
    last_ack: Mutex<Option<Instant>>,
}

impl Ledger {
    pub fn new(hall_ids: &[String]) -> Arc<Self> {
        let halls = hall_ids.iter().map(|_| Hall { due: Mutex::default(), acked: AtomicU64::new(0) }).collect();
        let by_stream = hall_ids.iter().enumerate().map(|(i, id)| (crate::config::stream_name(id), i)).collect();
        Arc::new(Self {
            halls,
            by_stream,
            lags_us: Mutex::default(),
            sent_us: Mutex::default(),
            last_ack: Mutex::default(),
        })
    }

    /// Hall `hall`'s record `seq`, due at `due`, is measured: its acknowledgement gives a
    /// lag. Called before it is published.
    pub fn expect(&self, hall: usize, seq: u64, due: Instant) {
        if let Some(h) = self.halls.get(hall) {
            if let Ok(mut d) = h.due.lock() {
                d.insert(seq, due);
            }
        }
    }

    /// A measured record due at `due` is in its stream now (the server acknowledged its
    /// publication).
    pub fn sent(&self, due: Instant) {
        let us = Instant::now().saturating_duration_since(due).as_micros();
        if let Ok(mut s) = self.sent_us.lock() {
            s.push(u32::try_from(us).unwrap_or(u32::MAX));
        }
    }

    /// The measured records' times from due to in the stream (microseconds).
    pub fn sent_lags(&self) -> Vec<u32> {
        self.sent_us.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Records acknowledged in all (each hall's highest position acknowledged).
    pub fn acked(&self) -> u64 {
        self.halls.iter().map(|h| h.acked.load(Ordering::SeqCst)).sum()
    }

    /// Hall `hall`'s highest position acknowledged.
    pub fn acked_of(&self, hall: usize) -> u64 {
        self.halls.get(hall).map_or(0, |h| h.acked.load(Ordering::SeqCst))
    }

    /// The measured lags so far (microseconds) and when the last measured record was
    /// acknowledged.
    pub fn lags(&self) -> (Vec<u32>, Option<Instant>) {
        let lags = self.lags_us.lock().map(|l| l.clone()).unwrap_or_default();
        (lags, self.last_ack.lock().ok().and_then(|l| *l))
    }

    fn ack(&self, stream: &str, seq: u64, at: Instant) {
        let Some(h) = self.by_stream.get(stream).and_then(|&i| self.halls.get(i)) else { return };
        h.acked.fetch_max(seq, Ordering::SeqCst);
        // Every record up to `seq` is acknowledged by this one.
        let covered = h.due.lock().ok().map(|mut d| {
            let later = d.split_off(&(seq + 1));
            std::mem::replace(&mut *d, later)
        });
        let Some(covered) = covered.filter(|c| !c.is_empty()) else { return };
        if let Ok(mut l) = self.lags_us.lock() {
            for due in covered.values() {
                let us = at.saturating_duration_since(*due).as_micros();
                l.push(u32::try_from(us).unwrap_or(u32::MAX));
            }
        }
        if let Ok(mut l) = self.last_ack.lock() {
            *l = Some(at);
        }
    }
}

/// The stream and stream sequence an acknowledgement subject names: the first form
/// `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>`, or the newer
/// one with a domain and an account hash before the stream (and a token after).
pub fn parse_ack(subject: &str) -> Option<(&str, u64)> {
    let tokens: Vec<&str> = subject.split('.').collect();
    let (stream, sseq) = match tokens.len() {
        9 => (tokens[2], tokens[5]),
        11 | 12 => (tokens[4], tokens[7]),
        _ => return None,
    };
    Some((stream, sseq.parse().ok()?))
}

/// Listens to every acknowledgement on the server at `url` until the task is aborted.
/// Subscribed before this returns, so that nothing published afterwards is missed.
pub async fn listen(url: &str, ledger: Arc<Ledger>) -> Result<tokio::task::JoinHandle<()>, BenchError> {
    let client = async_nats::ConnectOptions::new()
        .name("hallq-bench-acks")
        // Thousands of acknowledgements a second must not be dropped as a slow consumer.
        .subscription_capacity(1 << 16)
        .connect(url)
        .await
        .map_err(|e| BenchError::new(format!("cannot connect to NATS at {url}: {e}")))?;
    let mut sub = client
        .subscribe("$JS.ACK.>")
        .await
        .map_err(|e| BenchError::new(format!("cannot hear the acknowledgements: {e}")))?;
    // The subscription is registered once the server has answered a round trip.
    client.flush().await.map_err(|e| BenchError::new(format!("cannot reach NATS at {url}: {e}")))?;
    Ok(tokio::spawn(async move {
        let _client = client;
        while let Some(message) = sub.next().await {
            let at = Instant::now();
            // Only a positive acknowledgement says the record is applied.
            let positive = message.payload.is_empty() || message.payload.as_ref() == b"+ACK";
            if let (true, Some((stream, seq))) = (positive, parse_ack(message.subject.as_str())) {
                ledger.ack(stream, seq, at);
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{parse_ack, Ledger};

    #[test]
    fn an_acknowledgement_covers_every_record_up_to_it_once() {
        let ledger = Ledger::new(&["a".to_string()]);
        let t0 = Instant::now();
        for seq in 1..=4 {
            ledger.expect(0, seq, t0);
        }
        let stream = crate::config::stream_name("a");
        ledger.ack(&stream, 3, t0 + Duration::from_millis(5));
        assert_eq!(ledger.lags().0, vec![5_000; 3]);
        ledger.ack(&stream, 3, t0 + Duration::from_millis(9));
        assert_eq!(ledger.lags().0.len(), 3, "a record is measured at its first acknowledgement only");
        ledger.ack(&stream, 4, t0 + Duration::from_millis(7));
        assert_eq!(ledger.lags().0, vec![5_000, 5_000, 5_000, 7_000]);
        assert_eq!(ledger.acked(), 4);
    }

    #[test]
    fn both_forms_of_the_acknowledgement_subject_read() {
        assert_eq!(parse_ack("$JS.ACK.HALLQ_a.district-x.1.42.40.1700000000000000000.3"), Some(("HALLQ_a", 42)));
        assert_eq!(
            parse_ack("$JS.ACK.dom.ACCHASH.HALLQ_a.district-x.1.42.40.1700000000000000000.3.rnd"),
            Some(("HALLQ_a", 42))
        );
        assert_eq!(parse_ack("$JS.ACK.HALLQ_a.district-x.1"), None);
        assert_eq!(parse_ack("$JS.ACK.HALLQ_a.district-x.1.x.40.1.3"), None);
    }
}
