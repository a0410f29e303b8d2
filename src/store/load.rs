//! Start-up's reading of the log: the latest day-opening snapshot that reads, the records
//! after it replayed, and the checks of what was read against the mark and the hall.

use std::sync::Arc;
use std::time::Instant;

use super::read::records_after;
use super::{seq_of, Inner, Loaded, Store, StoreError};
use crate::core::setup::Setup;
use crate::core::snapshot::{DaySnapshot, SNAPSHOT_VERSION};
use crate::core::HallState;
use crate::mark::{Mark, Watermark, MARK_FILE};

impl Store {
    /// Every snapshot that reads, oldest first (for backups).
    pub fn snapshots(&self) -> Result<Vec<DaySnapshot>, StoreError> {
        let inner = self.inner()?;
        let mut out = Vec::new();
        for item in inner.snapshots.iter() {
            let (_, value) = item?;
            if let Ok(snap) = serde_json::from_slice::<DaySnapshot>(&value) {
                out.push(snap);
            }
        }
        Ok(out)
    }

    /// After a load that checked out: the loaded state is what the log durably holds.
    /// A directory without a mark gets one now (a new hall, or one from before marks).
    /// A mark without the configuration's hall id gets it.
    fn loaded(&self, state: &HallState, config_hall: &str) -> Result<(), StoreError> {
        let high = Watermark { seq: state.last_seq, day: state.day, numbers: state.numbers.clone() };
        let mut guard = self.high.lock().map_err(|_| StoreError::Closed)?;
        guard.pending = high.clone();
        guard.durable = high.clone();
        let mark = match guard.mark.take() {
            Some(mark) if mark.config_hall.is_some() => mark,
            Some(mut mark) => {
                mark.config_hall = Some(config_hall.to_string());
                mark.write(&self.dir).map_err(StoreError::Sync)?;
                mark
            }
            None => {
                let mut mark = Mark::new(high);
                mark.config_hall = Some(config_hall.to_string());
                mark.write(&self.dir).map_err(StoreError::Sync)?;
                if state.last_seq > 0 {
                    tracing::info!(seq = state.last_seq, "the data directory had no mark; it has one now");
                }
                guard.written = Some(Instant::now());
                mark
            }
        };
        guard.mark = Some(mark);
        Ok(())
    }

    /// The state the log describes: the latest readable snapshot with the records after
    /// it replayed, or the whole log replayed when there is none.
    pub fn load(&self, setup: Arc<Setup>) -> Result<(HallState, Loaded), StoreError> {
        let inner = self.inner()?;
        let theirs =
            self.high.lock().map_err(|_| StoreError::Closed)?.mark.as_ref().and_then(|m| m.config_hall.clone());
        if let Some(theirs) = theirs.filter(|theirs| *theirs != setup.hall_id) {
            return Err(StoreError::OtherHall {
                dir: self.dir.display().to_string(),
                theirs,
                ours: setup.hall_id.clone(),
            });
        }
        let config_hall = setup.hall_id.clone();
        let last = match inner.log.last()? {
            Some((key, _)) => seq_of(&key)?,
            None => 0,
        };
        let first = match inner.log.first()? {
            Some((key, _)) => seq_of(&key)?,
            None => 0,
        };
        let mut state = match latest_snapshot(&inner, last).map_err(|what| self.damaged(what))? {
            Some(snap) => {
                if !inner.log.contains_key(snap.seq.to_be_bytes())? {
                    let what = format!("the record {} the latest day's snapshot follows is missing", snap.seq);
                    return Err(self.damaged(what));
                }
                HallState::from_snapshot(setup, snap)
            }
            None if first > 1 => {
                let message = format!(
                    "the log starts at record {first} (older records were removed after a snapshot) but no \
                     snapshot can be read; restore the data directory from a backup"
                );
                return Err(StoreError::Corrupt { seq: first, message });
            }
            None => HallState::new(setup),
        };
        let snapshot = (state.last_seq > 0).then_some(state.last_seq);
        let mut replayed = 0;
        for item in records_after(&inner, state.last_seq) {
            let (seq, record) = item.map_err(|e| match e {
                StoreError::Corrupt { seq, message } => {
                    self.damaged(format!("record {seq} cannot be read ({message})"))
                }
                other => other,
            })?;
            if seq != state.last_seq + 1 {
                let what = format!("records {} to {} are missing", state.last_seq + 1, seq - 1);
                return Err(self.damaged(what));
            }
            state.apply(seq, &record);
            replayed += 1;
        }
        let mark = self.high.lock().map_err(|_| StoreError::Closed)?.mark.clone();
        if let Some(mark) = mark {
            let log = Watermark { seq: state.last_seq, day: state.day, numbers: state.numbers.clone() };
            if let Some(what) = mark.high.ahead_of(&log) {
                return Err(self.damaged(format!("{what} ({MARK_FILE} says so)")));
            }
        }
        self.loaded(&state, &config_hall)?;
        Ok((state, Loaded { snapshot, replayed }))
    }
}

/// The newest snapshot that reads and is of this build's version; an unreadable one is
/// skipped with a warning. A snapshot ahead of the log (`last`) means the log lost the
/// records before it: an error, in words.
fn latest_snapshot(inner: &Inner, last: u64) -> Result<Option<DaySnapshot>, String> {
    for item in inner.snapshots.iter().rev() {
        let Ok((key, value)) = item else { continue };
        match serde_json::from_slice::<DaySnapshot>(&value) {
            Ok(snap) if snap.v == SNAPSHOT_VERSION && snap.seq > last => {
                return Err(format!("the log ends at record {last} but a snapshot follows record {}", snap.seq));
            }
            Ok(snap) if snap.v == SNAPSHOT_VERSION => return Ok(Some(snap)),
            Ok(snap) => tracing::warn!(seq = snap.seq, v = snap.v, "snapshot skipped: another version"),
            Err(e) => tracing::warn!(key = ?key, error = %e, "snapshot skipped: it does not read"),
        }
    }
    Ok(None)
}
