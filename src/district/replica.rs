//! The district's copy of each hall's log, in its own sled database under `--data`: a
//! tree per hall (`hall:<hall_id>`), keyed by the record's log position in big-endian, so
//! the tree's order is the log's; beside it, in the `streams` tree under the hall's id,
//! the stream sequence of the last record kept, written in the same transaction: where
//! the district's reading of the hall's stream goes on. A hall's batch of records is
//! written (one transaction) and flushed here before the district applies them and
//! acknowledges their messages; at start the replica is replayed into the hall's state,
//! so the durable consumer only ever brings what comes after.
//!
//! Every call here blocks on disk: the async side runs them with `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
}

/// The district's database.
pub struct Replica {
    db: sled::Db,
    dir: PathBuf,
    flushes: Arc<GroupFlush>,
}

/// One flush for every record written while the previous flush ran (group commit). Each
/// hall's view keeps its record and waits for it to be on disk before the record is
/// acknowledged; with a flush of its own per record, a thousand halls at their peak
/// queued on the disk's fsyncs and the view lagged by seconds (BENCHMARKS.md, the
/// district).
#[derive(Default)]
struct GroupFlush {
    /// The generation of the last flush finished; held while a flush runs.
    done: Mutex<u64>,
    /// The generation of the last flush started.
    started: AtomicU64,
}

impl GroupFlush {
    /// Returns once everything written before the call is on disk.
    fn flush(&self, db: &sled::Db) -> Result<(), ReplicaError> {
        // A flush that starts after this point covers what was written before it.
        let need = self.started.load(Ordering::SeqCst) + 1;
        let mut done = self.done.lock().map_err(|_| ReplicaError::Transaction("a flush panicked".into()))?;
        if *done >= need {
            return Ok(());
        }
        let generation = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        db.flush()?;
        *done = generation;
        Ok(())
    }
}

/// One hall's records.
#[derive(Clone)]
pub struct HallLog {
    tree: sled::Tree,
    streams: sled::Tree,
    key: Vec<u8>,
    db: sled::Db,
    flushes: Arc<GroupFlush>,
}

/// The tree of each hall's last stream sequence kept.
const STREAMS_TREE: &str = "streams";
/// sled's page cache, in bytes. Its default (1 GiB) would let the replica of every hall's
/// log fill the district's memory as the day goes on; the replica is written once and
/// read back only at a start, so a small cache costs nothing while it runs. Memory
/// against halls: BENCHMARKS.md, the district.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Replica {
    /// Opens (or makes) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, ReplicaError> {
        let open_err = |source| ReplicaError::Open { dir: dir.display().to_string(), source };
        std::fs::create_dir_all(dir).map_err(|e| open_err(sled::Error::Io(e)))?;
        let db = sled::Config::new().path(dir).cache_capacity(CACHE_BYTES).open().map_err(open_err)?;
        Ok(Self { db, dir: dir.to_path_buf(), flushes: Arc::default() })
    }

    /// The tree of hall `hall_id`.
    pub fn hall(&self, hall_id: &str) -> Result<HallLog, ReplicaError> {
        Ok(HallLog {
            tree: self.db.open_tree(format!("hall:{hall_id}"))?,
            streams: self.db.open_tree(STREAMS_TREE)?,
            key: hall_id.as_bytes().to_vec(),
            db: self.db.clone(),
            flushes: self.flushes.clone(),
        })
    }

    /// Flushes and closes; returns once sled has let go of the directory (every
    /// `HallLog` must be dropped first), so that a district started again in this process
    /// opens it at once.
    pub fn close(self) {
        if let Err(e) = self.db.flush() {
            tracing::warn!(error = %e, "the district's replica could not be flushed at the stop");
        }
        let Replica { db, dir, .. } = self;
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

    /// Keeps `records` (each at its log position, in log order) and `stream_seq`, the
    /// stream's message of the last of them, as the stream's position: in one transaction
    /// and one flush, so that a batch is on disk whole or not at all, and the stream's
    /// position never runs ahead of the records kept.
    pub fn append(&self, records: &[(u64, &Record)], stream_seq: u64) -> Result<(), ReplicaError> {
        use sled::Transactional as _;
        let values = records
            .iter()
            .map(|(seq, record)| Ok((seq.to_be_bytes(), serde_json::to_vec(record)?)))
            .collect::<Result<Vec<_>, ReplicaError>>()?;
        (&self.tree, &self.streams)
            .transaction(|(tree, streams)| {
                for (key, value) in &values {
                    tree.insert(key, value.as_slice())?;
                }
                streams.insert(self.key.as_slice(), &stream_seq.to_be_bytes())?;
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| ReplicaError::Transaction(format!("{e:?}")))?;
        self.flushes.flush(&self.db)
    }
}

fn seq_of(key: &[u8]) -> Result<u64, ReplicaError> {
    Ok(u64::from_be_bytes(key.try_into().map_err(|_| ReplicaError::Key)?))
}
