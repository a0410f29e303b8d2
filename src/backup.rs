//! Online backup and restore of the event log.
//!
//! sled locks its directory, so a second process cannot read the log while the daemon
//! serves; the daemon itself writes the backup (`GET /api/v1/admin/backup`, admins only),
//! and `hallq backup DIR` is a client that saves it. The copy is consistent: it holds the
//! records up to the last flushed position when it began (later ones are left out), and
//! the day snapshots at or before it; it ends with a line counting them, without which
//! `hallq restore` refuses it.
//!
//! The form is JSON lines: a header (the hall's id, the position, the service day and its
//! numbers), then snapshots, records and the webhook's mark, then the end line.
//!
//! The bookings' phone-hash key is never in a backup: whoever holds a backup and the key
//! could test phone numbers against the hashes. The operator copies `phone-hash.key` once
//! (it never changes) to a place apart; `hallq restore --phone-key FILE` puts it back.

use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::core::event::Record;
use crate::core::snapshot::DaySnapshot;
use crate::mark::Watermark;
use crate::store::{Store, StoreError};

/// The form of backups this build writes and reads.
pub const BACKUP_VERSION: u16 = 1;
/// Records are restored in batches of this many.
const BATCH_RECORDS: usize = 10_000;
/// A backup line longer than this is not one of ours (a record is at most a few KiB; a
/// snapshot holds a year of figures).
const LINE_BYTES_MAX: usize = 64 << 20;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Line {
    Header {
        format: u16,
        hall: Option<String>,
        #[serde(flatten)]
        high: Watermark,
    },
    Snapshot {
        snapshot: Box<DaySnapshot>,
    },
    Record {
        seq: u64,
        record: Box<Record>,
    },
    Webhook {
        done: u64,
    },
    End {
        records: u64,
        snapshots: u64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the backup could not be written: {0}")]
    Write(#[from] std::io::Error),
    #[error("the log changed under the backup (a day opened and old records were removed); run the backup again")]
    Moved,
    #[error("{0}")]
    Refused(String),
}

/// Writes a consistent backup of `store` to `out`; the number of records.
pub fn write(store: &Store, out: &mut impl Write) -> Result<u64, BackupError> {
    let high = store.durable();
    let upto = high.seq;
    let line = |l: &Line, out: &mut dyn Write| -> Result<(), BackupError> {
        serde_json::to_writer(&mut *out, l).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    line(&Line::Header { format: BACKUP_VERSION, hall: store.hall_id(), high }, out)?;
    let snapshots: Vec<DaySnapshot> = store.snapshots()?.into_iter().filter(|s| s.seq <= upto).collect();
    let latest = snapshots.iter().map(|s| s.seq).max().unwrap_or(0);
    for snapshot in &snapshots {
        line(&Line::Snapshot { snapshot: Box::new(snapshot.clone()) }, out)?;
    }
    let mut records = 0;
    let mut last = 0;
    for item in store.records_after(0) {
        let (seq, record) = item?;
        if seq > upto {
            break;
        }
        // From the latest snapshot on, every record must be there (a day's opening may
        // remove older ones while the backup runs).
        if seq > latest && seq != last + 1 {
            return Err(BackupError::Moved);
        }
        line(&Line::Record { seq, record: Box::new(record) }, out)?;
        records += 1;
        last = seq;
    }
    if last != upto {
        return Err(BackupError::Moved);
    }
    if let Some(done) = store.webhook_done()? {
        line(&Line::Webhook { done: done.min(upto) }, out)?;
    }
    line(&Line::End { records, snapshots: snapshots.len() as u64 }, out)?;
    out.flush()?;
    Ok(records)
}

/// What a restore found.
#[derive(Debug)]
pub struct Restored {
    pub records: u64,
    pub snapshots: u64,
    pub seq: u64,
    pub phone_key: bool,
}

/// Restores the backup in `file` into `dir`, which must be missing or empty; the phone
/// key from `phone_key` when given (else a new one is made).
pub fn restore(file: &Path, dir: &Path, phone_key: Option<&Path>) -> Result<Restored, BackupError> {
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(BackupError::Refused(format!(
            "{} is not empty; restore into a new, empty directory",
            dir.display()
        )));
    }
    let key = match phone_key {
        Some(path) => {
            let bytes = std::fs::read(path)?;
            let key = <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| BackupError::Refused(format!("{} is not a phone-hash key (32 bytes)", path.display())))?;
            Some(key)
        }
        None => None,
    };
    let reader = std::io::BufReader::new(std::fs::File::open(file)?);
    let mut lines = reader.split(b'\n');
    let bad = |what: &str| BackupError::Refused(format!("{} is not a complete hallq backup: {what}", file.display()));
    let mut next = || -> Result<Option<Line>, BackupError> {
        match lines.next() {
            None => Ok(None),
            Some(bytes) => {
                let bytes = bytes?;
                if bytes.len() > LINE_BYTES_MAX {
                    return Err(BackupError::Refused("a line of the backup is too long".into()));
                }
                serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                    BackupError::Refused(format!(
                        "{} is not a complete hallq backup: a line does not read: {e}",
                        file.display()
                    ))
                })
            }
        }
    };
    let Some(Line::Header { format, hall, high }) = next()? else { return Err(bad("no header")) };
    if format != BACKUP_VERSION {
        return Err(bad(&format!("format {format} (this hallq reads {BACKUP_VERSION})")));
    }
    std::fs::create_dir_all(dir)?;
    let store = Store::create(dir, hall)?;
    let (mut records, mut snapshots, mut batch) = (0u64, 0u64, Vec::new());
    let ended = loop {
        match next()? {
            Some(Line::Snapshot { snapshot }) => {
                store.put_snapshot(&snapshot)?;
                snapshots += 1;
            }
            Some(Line::Record { seq, record }) => {
                batch.push((seq, *record));
                records += 1;
                if batch.len() >= BATCH_RECORDS {
                    store.append(&batch)?;
                    batch.clear();
                }
            }
            Some(Line::Webhook { done }) => store.set_webhook_done(done)?,
            Some(Line::End { records: r, snapshots: s }) => break r == records && s == snapshots,
            Some(Line::Header { .. }) | None => break false,
        }
    };
    store.append(&batch)?;
    if !ended {
        drop(store);
        return Err(bad(
            "it ends before its last line (was it cut short?); nothing usable was restored, remove the directory",
        ));
    }
    store.flush_blocking()?;
    store.close();
    if let Some(key) = key {
        write_key(dir, &key)?;
    }
    crate::daemon::phone_key(dir, true).map_err(BackupError::Refused)?;
    Ok(Restored { records, snapshots, seq: high.seq, phone_key: key.is_some() })
}

pub(crate) fn write_key(dir: &Path, key: &[u8; 32]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(dir.join(crate::daemon::PHONE_KEY_FILE))?;
    file.write_all(key)?;
    file.sync_all()
}
