//! The district's copy of each hall's log, in its own sled database under `--data`: a
//! tree per hall (`hall:<hall_id>`), keyed by the record's log position in big-endian, so
//! the tree's order is the log's. A record is written and flushed here before the
//! district applies it and acknowledges its message; at start the replica is replayed
//! into the hall's state, so the durable consumer only ever brings what comes after.
//!
//! Every call here blocks on disk: the async side runs them with `spawn_blocking`.

use std::path::{Path, PathBuf};

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
}

/// The district's database.
pub struct Replica {
    db: sled::Db,
    dir: PathBuf,
}

/// One hall's records.
#[derive(Clone)]
pub struct HallLog {
    tree: sled::Tree,
    db: sled::Db,
}

impl Replica {
    /// Opens (or makes) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, ReplicaError> {
        let open_err = |source| ReplicaError::Open { dir: dir.display().to_string(), source };
        std::fs::create_dir_all(dir).map_err(|e| open_err(sled::Error::Io(e)))?;
        let db = sled::Config::new().path(dir).open().map_err(open_err)?;
        Ok(Self { db, dir: dir.to_path_buf() })
    }

    /// The tree of hall `hall_id`.
    pub fn hall(&self, hall_id: &str) -> Result<HallLog, ReplicaError> {
        Ok(HallLog { tree: self.db.open_tree(format!("hall:{hall_id}"))?, db: self.db.clone() })
    }

    /// Flushes and closes; returns once sled has let go of the directory (every
    /// `HallLog` must be dropped first), so that a district started again in this process
    /// opens it at once.
    pub fn close(self) {
        if let Err(e) = self.db.flush() {
            tracing::warn!(error = %e, "the district's replica could not be flushed at the stop");
        }
        let Replica { db, dir } = self;
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

    /// Keeps `record` at `seq`, durably.
    pub fn append(&self, seq: u64, record: &Record) -> Result<(), ReplicaError> {
        self.tree.insert(seq.to_be_bytes(), serde_json::to_vec(record)?)?;
        self.db.flush()?;
        Ok(())
    }
}
