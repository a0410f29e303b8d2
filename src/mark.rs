//! The data directory's mark: a small file beside the sled log (`hallq.mark`) that says
//! the directory belongs to a hall, and how far its log had got at least.
//!
//! sled keeps no checksum a caller can ask about, and when bytes of its `db` file are
//! damaged it opens anyway, with the log cut short at the damage. So the store keeps its
//! own witness outside sled: the hall's id, and a high-water mark — a log position and
//! the highest number of each queue on the latest service day — that the log already
//! held durably when the mark was written. The mark is only ever written after a flush
//! returned, so it never runs ahead of the log, and a crash (SIGKILL, power cut) leaves a
//! log at or beyond it. A log found behind its mark lost records, and the start is refused
//! (`Store::load`); `hallq recover` is the way on.
//!
//! The file is written whole and atomically: a temporary file, synced, renamed over the
//! old one, and the directory synced.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::core::event::{Event, Record};
use crate::core::model::QueueId;

/// The mark's file name in the data directory.
pub const MARK_FILE: &str = "hallq.mark";
/// The form of the mark this build writes and reads.
pub const MARK_VERSION: u16 = 1;
/// A mark is 100-odd bytes; a file much larger than this is not one.
const MARK_BYTES_MAX: u64 = 64 * 1024;

/// How far the log had got: a position, and the numbers of its latest service day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// The log position of the last record.
    pub seq: u64,
    /// The latest service day the log opened.
    pub day: Option<NaiveDate>,
    /// The highest number issued in each queue on `day`.
    #[serde(default)]
    pub numbers: BTreeMap<QueueId, u32>,
}

impl Watermark {
    /// Moves the mark past one record, as `apply` would move the state's numbers.
    pub fn observe(&mut self, seq: u64, record: &Record) {
        self.seq = self.seq.max(seq);
        match &record.event {
            Event::DayOpened { day, .. } => {
                self.day = Some(*day);
                self.numbers.clear();
            }
            Event::TicketIssued { queue, n, .. } => {
                let last = self.numbers.entry(*queue).or_insert(0);
                *last = (*last).max(*n);
            }
            Event::NumbersRaised { day, floors } if self.day == Some(*day) => {
                for (queue, floor) in floors {
                    let last = self.numbers.entry(*queue).or_insert(0);
                    *last = (*last).max(*floor);
                }
            }
            _ => {}
        }
    }

    /// What the log holds beyond `self`, if anything, in words; `None` when `self` is a
    /// lower bound of `log`.
    pub fn ahead_of(&self, log: &Watermark) -> Option<String> {
        if self.seq > log.seq {
            return Some(format!("the log ends at record {} but had reached record {}", log.seq, self.seq));
        }
        match (self.day, log.day) {
            (Some(mine), Some(theirs)) if mine > theirs => {
                return Some(format!("the log's last service day is {theirs} but it had opened {mine}"));
            }
            (Some(mine), None) => return Some(format!("the log opened no service day but it had opened {mine}")),
            _ => {}
        }
        if self.day != log.day {
            return None;
        }
        self.numbers.iter().find_map(|(queue, n)| {
            let have = log.numbers.get(queue).copied().unwrap_or(0);
            (*n > have).then(|| format!("queue {queue}'s last number in the log is {have} but {n} had been issued"))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub v: u16,
    /// A random id given to the hall's data when its log was made; a backup carries it.
    pub hall: String,
    #[serde(flatten)]
    pub high: Watermark,
}

impl Mark {
    /// A new hall's mark, with a fresh random id.
    pub fn new(high: Watermark) -> Self {
        use rand::RngCore as _;
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let hall = id.iter().map(|b| format!("{b:02x}")).collect();
        Self { v: MARK_VERSION, hall, high }
    }

    /// The mark in `dir`: `Ok(None)` when there is none, an error in words when there is
    /// one that cannot be read.
    pub fn read(dir: &Path) -> Result<Option<Self>, String> {
        let path = dir.join(MARK_FILE);
        let shown = path.display();
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{shown} cannot be read: {e}")),
        };
        if !meta.is_file() || meta.len() > MARK_BYTES_MAX {
            return Err(format!("{shown} is not a hallq mark"));
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("{shown} cannot be read: {e}"))?;
        let mark: Mark = serde_json::from_slice(&bytes).map_err(|e| format!("{shown} is damaged: {e}"))?;
        if mark.v != MARK_VERSION {
            return Err(format!("{shown} is of version {} (this hallq reads {MARK_VERSION})", mark.v));
        }
        Ok(Some(mark))
    }

    /// Writes the mark into `dir` atomically and durably.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let tmp = dir.join(format!("{MARK_FILE}.tmp"));
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        let mut file = File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, dir.join(MARK_FILE))?;
        File::open(dir)?.sync_all()
    }
}
