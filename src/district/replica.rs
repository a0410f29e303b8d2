//! The district's copy of each hall's log, in its own sled database under `--data`: a
//! tree per hall (`hall:<hall_id>`), keyed by the record's log position in big-endian, so
//! the tree's order is the log's; beside it, in the `streams` tree under the hall's id,
//! the stream sequence of the last record kept, written in the same transaction: where
//! the district's reading of the hall's stream goes on after a restart. At start the
//! replica is replayed into the hall's state, so the consumer only ever brings what comes
//! after.
//!
//! One thread writes it: each hall's view hands it a batch it has applied
//! (`HallLog::keep`) and waits until the batch is written (one transaction, readable at
//! once), not until it is flushed; a second thread flushes (fsync) whatever has been
//! written since its last flush, over and over while there is any. So a view never waits
//! for the disk's fsync queue, and no write waits for a flush. A batch per blocking-pool
//! thread, as before, had a hundred threads in sled at once at a thousand busy halls, and
//! sled grew by 1.3 KiB a record written so against 0.3 KiB from one thread
//! (BENCHMARKS.md, the district at scale). A view hands over its next batch only once the
//! last is written, and stops if it was not, so the replica always holds a prefix of
//! each hall's log; after a failed flush every view stops (the disk is failing), and a
//! start reads on from what is on disk.
//!
//! The reads here block on disk: the async side runs them with `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::core::event::Record;

/// Why the replica could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error("the district's data directory {dir}: {source}")]
    Open { dir: String, source: sled::Error },
    #[error("the replica: {0}")]
    Sled(#[from] sled::Error),
    #[error("a record of the replica does not read: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a key of the replica is not a log position")]
    Key,
    #[error("the replica's transaction: {0}")]
    Transaction(String),
    #[error(
        "the replica could not be flushed (see the log): the views stop, and a start reads on from what is on disk"
    )]
    Broken,
    #[error("the replica's writer has stopped")]
    WriterGone,
}

/// The district's database and its writer.
pub struct Replica {
    db: sled::Db,
    dir: PathBuf,
    writer: Writer,
}

/// One hall's records.
#[derive(Clone)]
pub struct HallLog {
    tree: sled::Tree,
    streams: sled::Tree,
    key: Vec<u8>,
    jobs: mpsc::Sender<Job>,
    /// Set when a flush failed: no view goes on.
    failed: Arc<AtomicBool>,
}

/// A batch handed to the writer and where to say it is written, or the word to finish
/// what is queued and stop.
enum Job {
    Keep {
        log: HallLog,
        records: Vec<(u64, Vec<u8>)>,
        stream_seq: u64,
        written: oneshot::Sender<Result<(), ReplicaError>>,
    },
    Stop,
}

/// The replica's writing and flushing threads, and the writer's queue.
struct Writer {
    jobs: mpsc::Sender<Job>,
    failed: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Batches queued for the writer, from every hall (each view has at most one in the
/// queue): when this many wait, views wait to hand theirs over. A thousand halls keeping
/// up hand over a batch each a second or so, and a write takes tens of microseconds.
const KEEP_QUEUE: usize = 1024;

/// The tree of each hall's last stream sequence kept.
const STREAMS_TREE: &str = "streams";
/// sled's page cache, in bytes. Its default (1 GiB) would let the replica of every hall's
/// log fill the district's memory as the day goes on; the replica is written once and
/// read back only at a start and by a day's comparison (one hall's day), so a small
/// cache costs little. sled 0.34 holds more than this (its counting is loose), so this
/// only lowers its share. Memory against halls: BENCHMARKS.md, the district.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

impl Replica {
    /// Opens (or makes) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, ReplicaError> {
        let open_err = |source| ReplicaError::Open { dir: dir.display().to_string(), source };
        std::fs::create_dir_all(dir).map_err(|e| open_err(sled::Error::Io(e)))?;
        let db = sled::Config::new().path(dir).cache_capacity(CACHE_BYTES).open().map_err(open_err)?;
        let (jobs, queue) = mpsc::channel(KEEP_QUEUE);
        // The writer rings after each write; one ring waiting is enough, since a flush
        // covers every write before it.
        let (bell, rung) = mpsc::channel(1);
        let failed = Arc::new(AtomicBool::new(false));
        let (flushing, flush_failed) = (db.clone(), failed.clone());
        let spawn = |name: &str, work: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new().name(name.into()).spawn(work).map_err(|e| open_err(sled::Error::Io(e)))
        };
        let threads = vec![
            spawn("hallq-replica-write", Box::new(move || write_all(queue, bell)))?,
            spawn("hallq-replica-flush", Box::new(move || flush_all(&flushing, rung, &flush_failed)))?,
        ];
        Ok(Self { db, dir: dir.to_path_buf(), writer: Writer { jobs, failed, threads } })
    }

    /// The tree of hall `hall_id`.
    pub fn hall(&self, hall_id: &str) -> Result<HallLog, ReplicaError> {
        Ok(HallLog {
            tree: self.db.open_tree(format!("hall:{hall_id}"))?,
            streams: self.db.open_tree(STREAMS_TREE)?,
            key: hall_id.as_bytes().to_vec(),
            jobs: self.writer.jobs.clone(),
            failed: self.writer.failed.clone(),
        })
    }

    /// Writes every batch handed over, flushes and closes; returns once sled has let go
    /// of the directory (every `HallLog` must be dropped first), so that a district
    /// started again in this process opens it at once. Blocks: call it off the runtime.
    pub fn close(self) {
        let Replica { db, dir, writer } = self;
        // The stop queues behind every batch handed over before it; the flusher ends after
        // the writer, with a last flush if it rang.
        if writer.jobs.blocking_send(Job::Stop).is_ok() {
            for thread in writer.threads {
                let _ = thread.join();
            }
        }
        if let Err(e) = db.flush() {
            tracing::warn!(error = %e, "the district's replica could not be flushed at the stop");
        }
        drop(db);
        crate::store::wait_free(&dir);
    }
}

impl HallLog {
    /// Every record kept, in log order.
    pub fn all(&self) -> Result<Vec<(u64, Record)>, ReplicaError> {
        self.tree
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let seq = u64::from_be_bytes(k.as_ref().try_into().map_err(|_| ReplicaError::Key)?);
                Ok((seq, serde_json::from_slice(&v)?))
            })
            .collect()
    }

    /// The records kept from log position `from` on, in log order, read one at a time (a
    /// long log is not held whole).
    pub fn records_from(&self, from: u64) -> impl Iterator<Item = Result<(u64, Record), ReplicaError>> + '_ {
        self.tree.range(from.to_be_bytes()..).map(|kv| {
            let (k, v) = kv?;
            Ok((seq_of(&k)?, serde_json::from_slice(&v)?))
        })
    }

    /// The log position of the first record kept at or after `at`, found by halves as the
    /// store's own `first_seq_at` does (a hall's records are in time order).
    pub fn first_seq_at(&self, at: crate::core::model::Ts) -> Result<Option<u64>, ReplicaError> {
        crate::store::first_at(&self.tree, at, seq_of, |_, value| {
            Ok(serde_json::from_slice::<crate::store::RecordTime>(value)?.at)
        })
    }

    /// The stream sequence of the last record kept (0: none).
    pub fn stream_seq(&self) -> Result<u64, ReplicaError> {
        match self.streams.get(&self.key)? {
            None => Ok(0),
            Some(v) => Ok(u64::from_be_bytes(v.as_ref().try_into().map_err(|_| ReplicaError::Key)?)),
        }
    }

    /// Hands a batch the view has applied to the writer: `records` (each at its log
    /// position, as the JSON its message carried, in log order) and `stream_seq`, the
    /// stream's message of the last of them. Returns once the batch is written, readable
    /// by the replica's readers, and not yet flushed: the flusher has it on disk moments
    /// later.
    pub async fn keep(&self, records: Vec<(u64, Vec<u8>)>, stream_seq: u64) -> Result<(), ReplicaError> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(ReplicaError::Broken);
        }
        let (written, answer) = oneshot::channel();
        let job = Job::Keep { log: self.clone(), records, stream_seq, written };
        self.jobs.send(job).await.map_err(|_| ReplicaError::WriterGone)?;
        answer.await.map_err(|_| ReplicaError::WriterGone)?
    }

    /// Writes a batch and the stream's position in one transaction, so that a batch is in
    /// the replica whole or not at all, and the stream's position never runs ahead of the
    /// records kept.
    fn write(&self, records: &[(u64, Vec<u8>)], stream_seq: u64) -> Result<(), ReplicaError> {
        use sled::Transactional as _;
        (&self.tree, &self.streams)
            .transaction(|(tree, streams)| {
                for (seq, json) in records {
                    tree.insert(&seq.to_be_bytes(), json.as_slice())?;
                }
                streams.insert(self.key.as_slice(), &stream_seq.to_be_bytes())?;
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| ReplicaError::Transaction(format!("{e:?}")))
    }
}

/// The writer's loop: writes each batch as it comes and says so, then rings for a
/// flush; until told to stop or every sender is gone.
fn write_all(mut queue: mpsc::Receiver<Job>, bell: mpsc::Sender<()>) {
    while let Some(job) = queue.blocking_recv() {
        let Job::Keep { log, records, stream_seq, written } = job else { break };
        let result =
            if log.failed.load(Ordering::SeqCst) { Err(ReplicaError::Broken) } else { log.write(&records, stream_seq) };
        if let Err(e) = &result {
            tracing::error!(error = %e, "the replica could not keep a hall's records; its view stops");
        }
        let _ = written.send(result);
        // Full: a ring is waiting already, and its flush will cover this write.
        let _ = bell.try_send(());
    }
}

/// The flusher's loop: a flush for every ring, each covering all the writes before it;
/// ends when the writer has (after a last flush if it rang).
fn flush_all(db: &sled::Db, mut rung: mpsc::Receiver<()>, failed: &AtomicBool) {
    while rung.blocking_recv().is_some() {
        if let Err(e) = db.flush() {
            tracing::error!(error = %e, "the replica could not be flushed; every hall's view stops");
            failed.store(true, Ordering::SeqCst);
        }
    }
}

fn seq_of(key: &[u8]) -> Result<u64, ReplicaError> {
    Ok(u64::from_be_bytes(key.try_into().map_err(|_| ReplicaError::Key)?))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::Replica;
    use crate::core::event::{Event, Record, RECORD_VERSION};
    use crate::core::model::Ts;

    fn json(day: u32) -> Vec<u8> {
        let at = Ts(i64::from(day) * 86_400_000);
        let day = NaiveDate::from_ymd_opt(2026, 3, day).expect("a date");
        let record = Record { v: RECORD_VERSION, at, idem: None, event: Event::DayOpened { day, expired: vec![] } };
        serde_json::to_vec(&record).expect("a record as JSON")
    }

    /// Two halls' views hand their batches to the one writer at once: once answered,
    /// each batch is in the replica, and after a close and a new start each hall's tree
    /// holds its records in order and its stream position is that of its last batch.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_batch_answered_is_kept_in_order_with_its_stream_position() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let replica = Replica::open(dir.path()).expect("the replica opens");
        let (a, b) = (replica.hall("a").expect("hall a"), replica.hall("b").expect("hall b"));
        let mut views = tokio::task::JoinSet::new();
        for (log, batches) in [(a, 20u64), (b, 7u64)] {
            views.spawn(async move {
                for n in 0..batches {
                    let records = vec![(2 * n + 1, json(1)), (2 * n + 2, json(2))];
                    log.keep(records, 100 + n).await.expect("kept");
                }
            });
        }
        while let Some(done) = views.join_next().await {
            done.expect("a view's task");
        }
        tokio::task::spawn_blocking(move || replica.close()).await.expect("the close");
        let replica = Replica::open(dir.path()).expect("the replica opens again");
        for (hall, batches) in [("a", 20u64), ("b", 7u64)] {
            let log = replica.hall(hall).expect("the hall's log");
            let seqs: Vec<u64> = log.all().expect("the records").into_iter().map(|(seq, _)| seq).collect();
            assert_eq!(seqs, (1..=2 * batches).collect::<Vec<_>>(), "hall {hall}");
            assert_eq!(log.stream_seq().expect("the position"), 100 + batches - 1, "hall {hall}");
        }
        drop(replica);
    }
}
