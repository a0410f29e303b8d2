//! Reading the log outside start-up: the records after a position (the audit, the
//! webhook's notices owed, backups), the day's opening a position falls in (where the
//! webhook's catch-up begins to read), and one stretch by time for the reports, off the
//! engine (sled reads concurrently with the engine's writes).

use super::{decode, seq_of, Inner, Store, StoreError};
use crate::core::event::{Event, Record};
use crate::core::model::Ts;

impl Store {
    /// Every record after `after`, in log order.
    pub fn records_after(&self, after: u64) -> impl Iterator<Item = Result<(u64, Record), StoreError>> {
        let inner = self.inner();
        let records = inner.as_ref().ok().map(|inner| records_after(inner, after));
        let failed = inner.err().map(Err);
        failed.into_iter().chain(records.into_iter().flatten())
    }

    /// The position of the last `DayOpened` record at or before `seq`, or `None` when the
    /// log holds none there. Read backwards from `seq`: at most one service day's records.
    pub fn day_opening_at(&self, seq: u64) -> Result<Option<u64>, StoreError> {
        let inner = self.inner()?;
        for item in inner.log.range(..=seq.to_be_bytes()).rev() {
            let (key, value) = item?;
            let (at, record) = decode(&key, &value)?;
            if matches!(record.event, Event::DayOpened { .. }) {
                return Ok(Some(at));
            }
        }
        Ok(None)
    }

    /// The log's first record, if any: where the retained history begins.
    pub fn first_record(&self) -> Result<Option<(u64, Record)>, StoreError> {
        let inner = self.inner()?;
        match inner.log.first()? {
            Some((key, value)) => decode(&key, &value).map(Some),
            None => Ok(None),
        }
    }

    /// The position of the first record written at or after `at` (records' times never go
    /// back, so this is a binary search over positions), or `None` when every record is
    /// older.
    pub fn first_seq_at(&self, at: Ts) -> Result<Option<u64>, StoreError> {
        let inner = self.inner()?;
        first_at(&inner.log, at, seq_of, |seq, value| {
            let rec = serde_json::from_slice::<RecordTime>(value);
            rec.map(|r| r.at).map_err(|e| StoreError::Corrupt { seq, message: e.to_string() })
        })
    }
}

/// A record's time alone, read without the rest of it.
#[derive(serde::Deserialize)]
pub(crate) struct RecordTime {
    pub at: Ts,
}

/// The position of the first record at or after `at` in `log`, a tree of records keyed by
/// their big-endian log position whose times never go back: a binary search over the
/// positions; `None` when every record is older. `seq_of` reads a key, `time_of` a record's
/// time, each with its caller's errors: the store's log and the district's replica of a
/// hall's log (`district::replica`) are both searched so.
pub(crate) fn first_at<E: From<sled::Error>>(
    log: &sled::Tree,
    at: Ts,
    seq_of: impl Fn(&[u8]) -> Result<u64, E>,
    time_of: impl Fn(u64, &[u8]) -> Result<Ts, E>,
) -> Result<Option<u64>, E> {
    let (Some((first, _)), Some((last, _))) = (log.first()?, log.last()?) else {
        return Ok(None);
    };
    // The first record at or after position `pos`, with its time.
    let probe = |pos: u64| -> Result<Option<(u64, Ts)>, E> {
        match log.range(pos.to_be_bytes()..).next() {
            Some(item) => {
                let (key, value) = item?;
                let seq = seq_of(&key)?;
                Ok(Some((seq, time_of(seq, &value)?)))
            }
            None => Ok(None),
        }
    };
    let (mut lo, mut hi) = (seq_of(&first)?, seq_of(&last)?.saturating_add(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match probe(mid)? {
            Some((_, t)) if t < at => lo = mid + 1,
            _ => hi = mid,
        }
    }
    Ok(probe(lo)?.map(|(seq, _)| seq))
}

pub(super) fn records_after(inner: &Inner, after: u64) -> impl Iterator<Item = Result<(u64, Record), StoreError>> {
    let start = after.saturating_add(1).to_be_bytes();
    inner.log.range(start..).map(|item| {
        let (key, value) = item?;
        decode(&key, &value)
    })
}
