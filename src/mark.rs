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

/// A file-system table's mount point above `dir` at which nothing is mounted now: the
/// data disk that failed to mount. `dir` then holds no log (the log is on the missing
/// disk), and a new one made there would start the day's numbers again. `fstab` is the
/// text of `/etc/fstab`, `mountinfo` that of `/proc/self/mountinfo`; the root is always
/// mounted and is never named.
pub fn unmounted_above(dir: &Path, fstab: &str, mountinfo: &str) -> Option<std::path::PathBuf> {
    if mountinfo.trim().is_empty() {
        // No way to tell what is mounted (no /proc): say nothing rather than refuse.
        return None;
    }
    let dir = std::path::absolute(dir).ok()?;
    let mounted: Vec<std::path::PathBuf> =
        mountinfo.lines().filter_map(|line| line.split_whitespace().nth(4)).map(|m| unescape_mount(m).into()).collect();
    fstab
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_whitespace().nth(1))
        .map(|m| std::path::PathBuf::from(unescape_mount(m)))
        .filter(|m| m.is_absolute() && m.parent().is_some())
        .filter(|m| dir.starts_with(m))
        .find(|m| !mounted.contains(m))
}

/// fstab and mountinfo write a space in a mount point as `\040` (and tab, newline and
/// backslash likewise, in octal).
fn unescape_mount(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FSTAB: &str =
        "# /etc/fstab\nUUID=1 / ext4 defaults 0 1\nUUID=2 /srv/hall\\040data ext4 defaults,nofail 0 2\n\
                         /dev/sdc1 /mnt/spare ext4 noauto 0 0\nUUID=3 none swap sw 0 0\n";
    const MOUNTED: &str = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                           30 22 8:17 / /srv/hall\\040data rw,relatime shared:9 - ext4 /dev/sdb1 rw\n";
    const NOT_MOUNTED: &str = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";

    #[test]
    fn a_data_directory_on_an_unmounted_disk_is_named_and_one_on_a_mounted_or_root_disk_is_not() {
        let dir = Path::new("/srv/hall data/hallq");
        assert_eq!(unmounted_above(dir, FSTAB, MOUNTED), None);
        assert_eq!(unmounted_above(dir, FSTAB, NOT_MOUNTED), Some("/srv/hall data".into()));
        assert_eq!(unmounted_above(Path::new("/srv/hall data"), FSTAB, NOT_MOUNTED), Some("/srv/hall data".into()));
        // Beside the mount point, on the root disk, under a mount point of another disk.
        assert_eq!(unmounted_above(Path::new("/srv/hall"), FSTAB, NOT_MOUNTED), None);
        assert_eq!(unmounted_above(Path::new("/var/lib/hallq"), FSTAB, NOT_MOUNTED), None);
        assert_eq!(unmounted_above(Path::new("/mnt/spare/x"), FSTAB, NOT_MOUNTED), Some("/mnt/spare".into()));
        assert_eq!(unmounted_above(Path::new("/mnt/spare/x"), "", NOT_MOUNTED), None);
        assert_eq!(unmounted_above(dir, FSTAB, ""), None);
    }
}
