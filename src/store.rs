//! The event log in sled: one record per key, the key being the record's log position as
//! a big-endian u64 (so sled's order is log order), the value the record as JSON.
//!
//! The engine appends a whole batch, then flushes once (group commit); nobody hears of a
//! change before its flush returned. On start the daemon replays the log into a fresh
//! state.

use std::path::Path;

use crate::core::event::{Record, RECORD_VERSION};
use crate::core::HallState;

/// The sled tree that holds the log.
const LOG_TREE: &str = "log";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the data directory {path}: {source}; check that it exists, is writable and is not used by another hallq")]
    Open { path: String, source: sled::Error },
    #[error("the event log could not be written: {0}")]
    Write(#[from] sled::Error),
    #[error("log record {seq} cannot be read: {message}; the log is damaged or was written by a newer hallq")]
    Corrupt { seq: u64, message: String },
    #[error("log record could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

pub struct Store {
    db: sled::Db,
    log: sled::Tree,
}

impl Store {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { path: dir.display().to_string(), source };
        let db = sled::Config::new().path(dir).open().map_err(open_err)?;
        let log = db.open_tree(LOG_TREE).map_err(open_err)?;
        Ok(Self { db, log })
    }

    /// Writes a batch of records atomically (not yet durable: call `flush`).
    pub fn append(&self, records: &[(u64, Record)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (seq, record) in records {
            batch.insert(&seq.to_be_bytes(), serde_json::to_vec(record)?);
        }
        self.log.apply_batch(batch)?;
        Ok(())
    }

    /// Makes everything appended so far durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Replays the whole log into `state`; returns how many records it applied.
    pub fn replay(&self, state: &mut HallState) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self.log.iter() {
            let (key, value) = item?;
            let (seq, record) = decode(&key, &value)?;
            state.apply(seq, &record);
            n += 1;
        }
        Ok(n)
    }

    /// Every record after `after`, in log order.
    pub fn records_after(&self, after: u64) -> impl Iterator<Item = Result<(u64, Record), StoreError>> + '_ {
        let start = after.saturating_add(1).to_be_bytes();
        self.log.range(start..).map(|item| {
            let (key, value) = item?;
            decode(&key, &value)
        })
    }
}

fn decode(key: &[u8], value: &[u8]) -> Result<(u64, Record), StoreError> {
    let seq_bytes: [u8; 8] =
        key.try_into().map_err(|_| StoreError::Corrupt { seq: 0, message: format!("a key of {} bytes", key.len()) })?;
    let seq = u64::from_be_bytes(seq_bytes);
    let record: Record =
        serde_json::from_slice(value).map_err(|e| StoreError::Corrupt { seq, message: e.to_string() })?;
    if record.v != RECORD_VERSION {
        let message = format!("record version {} (this hallq reads {RECORD_VERSION})", record.v);
        return Err(StoreError::Corrupt { seq, message });
    }
    Ok((seq, record))
}
