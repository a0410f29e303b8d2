//! The event log in sled: one record per key, the key being the record's log position as
//! a big-endian u64 (so sled's order is log order), the value the record as JSON.
//!
//! The engine appends a whole batch, then flushes once (group commit); nobody hears of a
//! change before its flush returned.
//!
//! At the opening of each service day the engine also writes a snapshot of the state
//! (`core::snapshot`) into a second tree, keyed the same way; start-up loads the latest
//! snapshot and replays only the records after it. Records older than the hall's
//! retention are removed once a later snapshot holds their figures.

mod load;
mod lock;
mod read;
pub(crate) use read::{first_at, RecordTime};
mod side;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lock::let_go;
pub(crate) use lock::wait_free;

use crate::core::event::{Record, RECORD_VERSION};
use crate::core::model::Ts;
use crate::core::snapshot::DaySnapshot;
use crate::mark::{Mark, Watermark, MARK_FILE};

/// The sled tree that holds the log.
pub(crate) const LOG_TREE: &str = "log";
/// The sled tree that holds day-opening snapshots, by the log position they follow.
pub(crate) const SNAPSHOT_TREE: &str = "snapshots";
/// The alert webhook's progress: under `WEBHOOK_DONE_KEY`, the log position of the last
/// alert notice it has finished with (delivered, or given up after every attempt).
pub(crate) const WEBHOOK_TREE: &str = "webhook";
pub(crate) const WEBHOOK_DONE_KEY: &[u8] = b"done";
/// The district link's progress, in the same tree of readers' marks: the log position of
/// the last record the hall's JetStream stream acknowledged (`district::uplink`).
pub(crate) const DISTRICT_DONE_KEY: &[u8] = b"district";
/// The referrals this hall owes a peer an end for (`district::refer::settle`), as one
/// JSON list (at most 64), in the same tree: not the hall's log.
pub(crate) const REFERRALS_OWED_KEY: &[u8] = b"referrals-owed";
/// Staff sessions (`http::auth`), so that a restart signs nobody out: each under the
/// SHA-256 of its token, never the token. Not hall state, so not in the log or a backup.
pub(crate) const SESSION_TREE: &str = "sessions";
/// A stored key and its value, as sled's bytes.
pub type KeyValue = (Vec<u8>, Vec<u8>);
/// Snapshots kept: the latest few (start-up needs only the latest that reads).
const SNAPSHOTS_KEPT: usize = 3;
/// sled 0.34 writes a value above about 128 KiB (its segment size over 4) to a file of its
/// own under `blobs/`, which it never syncs; above this size we sync those files too.
const BLOB_BYTES_MIN: usize = 64 * 1024;

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
    #[error("the event log could not be synced to disk: {0}")]
    Sync(std::io::Error),
    #[error("the event log is being reopened after a storage error")]
    Closed,
    #[error(
        "the data directory {0} no longer holds the event log (is its disk unmounted?); waiting for it to come back"
    )]
    Missing(String),
    #[error(
        "the event log in {dir} is damaged: {what}. hallq will not start on it, so that no number is issued twice. \
         Keep a copy of the directory, then either run `hallq recover --data {dir}` (it keeps what can be read, \
         reports what it dropped, and continues each queue's numbers above the highest ever issued) or restore \
         the latest backup into a new directory with `hallq restore`"
    )]
    Damaged { dir: String, what: String },
    #[error(
        "the data directory {dir} has lost its event log: {what}. If the directory is on a disk of its own, \
         check that the disk is mounted and start again; if the log is really gone, run \
         `hallq recover --data {dir}` or restore the latest backup with `hallq restore`"
    )]
    LogMissing { dir: String, what: String },
    #[error(
        "the data directory {dir} holds the log of hall `{theirs}`, but the configuration is of hall `{ours}`; \
         start with that hall's configuration, or give this hall its own data directory. If `[hall] id` was \
         changed on purpose, run `hallq recover --data {dir}` with the new configuration to take the log over"
    )]
    OtherHall { dir: String, theirs: String, ours: String },
}

pub struct Store {
    dir: PathBuf,
    /// The open sled database; `None` only while `reopen` replaces it.
    inner: Mutex<Option<Arc<Inner>>>,
    /// Whether a value big enough for a blob file was written since the last flush.
    big: AtomicBool,
    /// The high-water marks of the log and the directory's mark (`crate::mark`).
    high: Mutex<High>,
}

/// How far the log has got: appended, and made durable by a flush.
#[derive(Default)]
struct High {
    /// The mark found in the directory at opening, or written since.
    mark: Option<Mark>,
    pending: Watermark,
    durable: Watermark,
    /// When the mark file was last written.
    written: Option<Instant>,
}

/// The mark file is rewritten after a flush at most this often: a rename and two syncs
/// per batch would cost more than the batch. Left behind by at most this much, the mark
/// stays a lower bound of the log, which is all a check at start needs.
const MARK_EVERY: Duration = Duration::from_secs(1);

/// Whether sled's refusal to open is another process's lock or a permission, not damage.
fn locked_or_denied(e: &sled::Error) -> bool {
    match e {
        sled::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::PermissionDenied || io.to_string().contains("could not acquire lock")
        }
        _ => false,
    }
}

/// The files sled keeps beside `db`: found without `db`, the log was there and is gone.
fn sled_leftovers(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n == "conf" || n == "blobs" || n.starts_with("snap.") || n == "phone-hash.key")
        .collect();
    names.sort();
    names
}

/// One opening of the sled database.
struct Inner {
    db: sled::Db,
    log: sled::Tree,
    snapshots: sled::Tree,
    webhook: sled::Tree,
    sessions: sled::Tree,
    /// sled's log file, for `fdatasync` after each flush.
    file: Arc<File>,
}

impl Inner {
    /// Opens sled in `dir`; a lock held by anyone (another hallq, or an opening in this
    /// process not yet let go) is refused at once.
    fn open(dir: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { path: dir.display().to_string(), source };
        let db = sled::Config::new().path(dir).open().map_err(open_err)?;
        let log = db.open_tree(LOG_TREE).map_err(open_err)?;
        let snapshots = db.open_tree(SNAPSHOT_TREE).map_err(open_err)?;
        let webhook = db.open_tree(WEBHOOK_TREE).map_err(open_err)?;
        let sessions = db.open_tree(SESSION_TREE).map_err(open_err)?;
        // sled made its files; their directory entries must survive a power cut too.
        let file = File::open(dir.join("db")).map_err(StoreError::Sync)?;
        sync_dir(dir).map_err(StoreError::Sync)?;
        Ok(Self { db, log, snapshots, webhook, sessions, file: Arc::new(file) })
    }
}

impl Drop for Store {
    /// A store dropped without `close` lets go of its files the same way.
    fn drop(&mut self) {
        let open = self.inner.get_mut().ok().and_then(Option::take);
        let_go(&self.dir, open);
    }
}

/// How start-up found the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The snapshot's log position, if one was used.
    pub snapshot: Option<u64>,
    /// Records replayed after it (all of them, without a snapshot).
    pub replayed: u64,
}

impl Store {
    /// Opens the log in `dir`, or makes a new one when `dir` is missing or holds nothing
    /// of a hall. Refuses a directory whose log is gone while the rest is there (its mark,
    /// sled's other files): sled would quietly start an empty log, and the day's numbers
    /// would start again. `load` checks the log itself.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let shown = dir.display().to_string();
        let mark = Mark::read(dir).map_err(|what| StoreError::Damaged { dir: shown.clone(), what })?;
        if !dir.join("db").is_file() {
            let left = sled_leftovers(dir);
            if mark.is_some() || !left.is_empty() {
                let mut found = left;
                if mark.is_some() {
                    found.insert(0, MARK_FILE.to_string());
                }
                let what = format!("its file `db` is missing, though {} are there", found.join(", "));
                return Err(StoreError::LogMissing { dir: shown, what });
            }
            // Nothing of a hall here: a new hall, or the data disk did not mount.
            let fstab = std::fs::read_to_string("/etc/fstab").unwrap_or_default();
            let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
            if let Some(point) = crate::mark::unmounted_above(dir, &fstab, &mountinfo) {
                let what = format!(
                    "/etc/fstab mounts a disk at {} but none is mounted there, so the log on it cannot be seen",
                    point.display()
                );
                return Err(StoreError::LogMissing { dir: shown, what });
            }
        }
        let inner = Inner::open(dir).map_err(|e| match e {
            // sled read a `db` it could not make sense of ("Read corrupted data", an
            // end of file where a segment should be): the log is damaged. A lock held by
            // another hallq or a directory hallq may not read is said as it is.
            StoreError::Open { source, .. } if dir.join("db").is_file() && !locked_or_denied(&source) => {
                StoreError::Damaged { dir: shown.clone(), what: format!("sled cannot open it ({source})") }
            }
            other => other,
        })?;
        let high = High { mark, ..High::default() };
        Ok(Self {
            dir: dir.to_path_buf(),
            inner: Mutex::new(Some(Arc::new(inner))),
            big: AtomicBool::new(false),
            high: Mutex::new(high),
        })
    }

    /// Makes a new log in `dir`, which must hold none, for `hallq recover` and `hallq
    /// restore` to fill with `append`, `put_snapshot`, `flush` and `close`. Its mark names
    /// `hall` (a new id when `None`) and, until the first flush, no record at all.
    pub fn create(dir: &Path, hall: Option<String>) -> Result<Self, StoreError> {
        let shown = dir.display().to_string();
        if dir.join("db").exists() || dir.join(MARK_FILE).exists() {
            let what = "it already holds a log".to_string();
            return Err(StoreError::Damaged { dir: shown, what });
        }
        let inner = Inner::open(dir)?;
        let mut mark = Mark::new(Watermark::default());
        if let Some(hall) = hall {
            mark.hall = hall;
        }
        mark.write(dir).map_err(StoreError::Sync)?;
        let high = High { mark: Some(mark), written: Some(Instant::now()), ..High::default() };
        Ok(Self {
            dir: dir.to_path_buf(),
            inner: Mutex::new(Some(Arc::new(inner))),
            big: AtomicBool::new(true),
            high: Mutex::new(high),
        })
    }

    fn damaged(&self, what: String) -> StoreError {
        StoreError::Damaged { dir: self.dir.display().to_string(), what }
    }

    /// The hall's id from the directory's mark, once loaded.
    pub fn hall_id(&self) -> Option<String> {
        self.high.lock().ok().and_then(|h| h.mark.as_ref().map(|m| m.hall.clone()))
    }

    /// What the log durably holds: its last flushed position and the numbers of its day.
    pub fn durable(&self) -> Watermark {
        self.high.lock().map(|h| h.durable.clone()).unwrap_or_default()
    }

    /// The directory's mark to write from the durable high-water mark, when one is due
    /// (`force`, or `MARK_EVERY` since the last) and says something new.
    fn mark_due(&self, force: bool) -> Option<Mark> {
        let mut guard = self.high.lock().ok()?;
        let due = force || guard.written.is_none_or(|t| t.elapsed() >= MARK_EVERY);
        let durable = guard.durable.clone();
        let mark = guard.mark.as_mut()?;
        if !due || mark.high == durable {
            return None;
        }
        mark.high = durable;
        let mark = mark.clone();
        guard.written = Some(Instant::now());
        Some(mark)
    }

    fn inner(&self) -> Result<Arc<Inner>, StoreError> {
        let guard = self.inner.lock().map_err(|_| StoreError::Closed)?;
        guard.clone().ok_or(StoreError::Closed)
    }

    /// Closes the database and opens it again. After an I/O error (a full disk, a file
    /// system gone read-only) sled refuses every later write, even once the disk is back;
    /// a fresh opening recovers from its files like a start after a crash. The caller
    /// (the engine, the only writer) must hold no other use of the store meanwhile.
    ///
    /// While the log's files are not there (the disk unmounted for a repair), it waits
    /// rather than let sled create a new, empty log: that would restart the day's numbers.
    /// The old opening is closed even then, so that nothing holds the broken disk.
    pub fn reopen(&self) -> Result<(), StoreError> {
        let mut guard = self.inner.lock().map_err(|_| StoreError::Closed)?;
        // Let go of the old opening first: sled locks its files while open.
        let_go(&self.dir, guard.take());
        if !self.dir.join("db").is_file() {
            return Err(StoreError::Missing(self.dir.display().to_string()));
        }
        *guard = Some(Arc::new(Inner::open(&self.dir)?));
        self.big.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Closes the database: every later use answers `StoreError::Closed`, and sled's lock
    /// on the directory is free when it returns (`let_go`), so that the next opening, in
    /// this process or another, finds it free. The daemon calls it after its last flush;
    /// a task that still holds the `Store` holds no file.
    pub fn close(&self) {
        if let Some(Err(e)) = self.mark_due(true).map(|mark| mark.write(&self.dir)) {
            tracing::warn!(error = %e, "the data directory's mark could not be written");
        }
        let open = self.inner.lock().ok().and_then(|mut guard| guard.take());
        let_go(&self.dir, open);
    }

    /// Writes a batch of records atomically (not yet durable: call `flush`).
    pub fn append(&self, records: &[(u64, Record)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (seq, record) in records {
            let value = serde_json::to_vec(record)?;
            if value.len() >= BLOB_BYTES_MIN {
                self.big.store(true, Ordering::SeqCst);
            }
            batch.insert(&seq.to_be_bytes(), value);
        }
        self.inner()?.log.apply_batch(batch)?;
        if let Ok(mut high) = self.high.lock() {
            for (seq, record) in records {
                high.pending.observe(*seq, record);
            }
        }
        Ok(())
    }

    /// Writes a day-opening snapshot (durable with the next `flush`), keeping only the
    /// latest few. The log is written first and sled persists writes in order, so a
    /// snapshot on disk never runs ahead of the records it follows.
    pub fn put_snapshot(&self, snap: &DaySnapshot) -> Result<(), StoreError> {
        let value = serde_json::to_vec(snap)?;
        if value.len() >= BLOB_BYTES_MIN {
            self.big.store(true, Ordering::SeqCst);
        }
        let inner = self.inner()?;
        inner.snapshots.insert(snap.seq.to_be_bytes(), value)?;
        let old: Vec<sled::IVec> =
            inner.snapshots.iter().keys().rev().skip(SNAPSHOTS_KEPT).collect::<Result<_, _>>()?;
        for key in old {
            inner.snapshots.remove(key)?;
        }
        Ok(())
    }

    /// Removes the records written before `cutoff`, but none at or after `keep_from` (the
    /// latest snapshot's position, whose state holds their figures). Returns how many.
    pub fn prune(&self, cutoff: Ts, keep_from: u64) -> Result<u64, StoreError> {
        #[derive(serde::Deserialize)]
        struct At {
            at: Ts,
        }
        let inner = self.inner()?;
        let mut removed = 0;
        for item in inner.log.iter() {
            let (key, value) = item?;
            let seq = seq_of(&key)?;
            let at = serde_json::from_slice::<At>(&value)
                .map_err(|e| StoreError::Corrupt { seq, message: e.to_string() })?;
            if seq >= keep_from || at.at >= cutoff {
                break;
            }
            inner.log.remove(key)?;
            removed += 1;
        }
        Ok(removed)
    }
    /// `flush` for a caller already on a blocking thread (the engine writes a batch and
    /// makes it durable in one trip to the blocking pool): sled's flush, the fsync, the
    /// blobs when big values were written, then the mark when due.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        let inner = self.inner()?;
        let candidate = self.high.lock().map(|h| h.pending.clone()).ok();
        inner.db.flush()?;
        let big = self.big.swap(false, Ordering::SeqCst);
        let synced = inner.file.sync_data().and_then(|()| if big { sync_blobs(&self.dir) } else { Ok(()) });
        if let Err(e) = synced {
            if big {
                self.big.store(true, Ordering::SeqCst);
            }
            return Err(StoreError::Sync(e));
        }
        // Durable now: the mark may say so (never before, or a crash would look like
        // damage at the next start).
        if let (Some(candidate), Ok(mut high)) = (candidate, self.high.lock()) {
            high.durable = candidate;
        }
        if let Some(mark) = self.mark_due(false) {
            // Behind is safe (a lower bound): a mark not written is a warning.
            if let Err(e) = mark.write(&self.dir) {
                tracing::warn!(error = %e, "the data directory's mark could not be written");
            }
        }
        Ok(())
    }

    /// Makes everything appended so far durable.
    ///
    /// sled's flush ends in `sync_file_range`, which neither empties the device's write
    /// cache nor persists the file's metadata: a power cut could still lose what it
    /// wrote. So the log file is then `fdatasync`ed (and, after a value big enough to go
    /// to a blob file, the blob files and their directory are synced too). Only then is
    /// the batch acknowledged.
    pub async fn flush(self: &Arc<Self>) -> Result<(), StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.flush_blocking())
            .await
            .map_err(|e| StoreError::Sync(std::io::Error::other(e)))?
    }
}

/// Makes a directory's entries durable (new files in it, renames).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Syncs every blob file sled wrote, and the directories that name them.
fn sync_blobs(dir: &Path) -> std::io::Result<()> {
    let blobs = dir.join("blobs");
    if blobs.is_dir() {
        for entry in std::fs::read_dir(&blobs)? {
            File::open(entry?.path())?.sync_all()?;
        }
        sync_dir(&blobs)?;
    }
    sync_dir(dir)
}

fn seq_of(key: &[u8]) -> Result<u64, StoreError> {
    let seq_bytes: [u8; 8] =
        key.try_into().map_err(|_| StoreError::Corrupt { seq: 0, message: format!("a key of {} bytes", key.len()) })?;
    Ok(u64::from_be_bytes(seq_bytes))
}

fn decode(key: &[u8], value: &[u8]) -> Result<(u64, Record), StoreError> {
    let seq = seq_of(key)?;
    let record: Record =
        serde_json::from_slice(value).map_err(|e| StoreError::Corrupt { seq, message: e.to_string() })?;
    if record.v != RECORD_VERSION {
        let message = format!("record version {} (this hallq reads {RECORD_VERSION})", record.v);
        return Err(StoreError::Corrupt { seq, message });
    }
    Ok((seq, record))
}
