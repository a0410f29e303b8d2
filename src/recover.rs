//! `hallq recover`: the way on after the daemon refused a damaged, emptied or missing log.
//!
//! It moves the damaged files aside (into `damaged-<time>/` inside the data directory, so
//! that it works on a mount point too), reads what still reads, and writes a new log of
//! the records that replay in order from the latest readable day snapshot: it stops at
//! the first missing or unreadable record, because the records after it describe changes
//! to tickets the hall would no longer know. What it had to drop it reports.
//!
//! Numbers are never issued twice: the highest number of each queue on the latest service
//! day is taken from everything that can still be seen — the records kept, the records
//! dropped that still decode, the directory's old mark, and records found by scanning the
//! raw bytes of sled's files (a record sled cut off at the damage is usually still there)
//! — and the new log ends with a `NumbersRaised` record so that each queue continues above
//! it (after a `DayOpened` when the kept records end on an earlier day than was seen).
//! Those records follow the kept ones, so positions of dropped records are used again:
//! displays that knew a higher position get a fresh snapshot, and the webhook's mark is
//! set back to the last record kept.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::core::command::TICKETS_PER_DAY_MAX;
use crate::core::event::{Event, Record, RECORD_VERSION};
use crate::core::model::{QueueId, Ts};
use crate::core::setup::Setup;
use crate::core::snapshot::{DaySnapshot, SNAPSHOT_VERSION};
use crate::core::HallState;
use crate::mark::{Mark, MARK_FILE};
use crate::store::{Store, LOG_TREE, SNAPSHOT_TREE, WEBHOOK_DONE_KEY, WEBHOOK_TREE};

/// Records are written to the new log in batches of this many (bounded memory per batch).
const BATCH_RECORDS: usize = 10_000;
/// A raw file bigger than this is not scanned for records (sled's files of a hall stay far
/// below it; reading one whole costs its size in memory).
const RAW_SCAN_BYTES_MAX: u64 = 4 << 30;

#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RecoverError {
    let what = what.into();
    move |source| RecoverError::Io { what, source }
}

/// What `recover` did, for the operator.
#[derive(Debug)]
pub struct Report {
    pub dir: PathBuf,
    /// Where the damaged files now are.
    pub damaged: PathBuf,
    /// Whether sled could open the damaged files at all.
    pub opened: bool,
    /// Records kept, and the range of their positions.
    pub kept: u64,
    pub kept_last: u64,
    pub snapshots: usize,
    /// Records that still decode but come after the damage.
    pub dropped: u64,
    /// Records that could not be decoded.
    pub unreadable: u64,
    /// The highest log position seen anywhere.
    pub highest_seq: u64,
    /// Why replay stopped where it did.
    pub stopped: Option<String>,
    /// The service day whose numbers were raised, and the floors.
    pub floors: Option<(NaiveDate, BTreeMap<QueueId, u32>)>,
    pub new_phone_key: bool,
    /// Tickets waiting, or at a window, in the recovered state.
    pub open_tickets: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "recovered the event log in {}", self.dir.display())?;
        if !self.opened {
            writeln!(f, "  sled could not open the damaged files: no record could be read from them")?;
        }
        writeln!(
            f,
            "  kept {} records (up to position {}) and {} day snapshots",
            self.kept, self.kept_last, self.snapshots
        )?;
        if let Some(why) = &self.stopped {
            writeln!(f, "  stopped at {why}")?;
        }
        let lost = self.highest_seq.saturating_sub(self.kept_last);
        if lost > 0 || self.dropped > 0 || self.unreadable > 0 {
            writeln!(
                f,
                "  DROPPED: positions {} to {} ({lost} records; {} of them still decoded but came after the damage, {} could not be read)",
                self.kept_last + 1,
                self.highest_seq,
                self.dropped,
                self.unreadable
            )?;
            writeln!(f, "  tickets issued, called or finished in the dropped records are not in the hall any more; visitors holding them must take a new number")?;
        } else {
            writeln!(f, "  nothing was dropped")?;
        }
        match &self.floors {
            Some((day, floors)) if !floors.is_empty() => {
                let list: Vec<String> = floors.iter().map(|(q, n)| format!("{q} above {n}")).collect();
                writeln!(f, "  numbers of {day} continue: {}", list.join(", "))?;
            }
            _ => writeln!(f, "  no number of the latest day was seen: numbers continue as the log says")?,
        }
        writeln!(f, "  {} tickets open (waiting or at a window)", self.open_tickets)?;
        if self.new_phone_key {
            writeln!(
                f,
                "  phone-hash.key was missing or damaged: a new one was made; bookings made before are found by their \
                 code only, and tickets printed before can be rated at the window's evaluator but not cancelled or \
                 rated from their QR codes"
            )?;
        }
        write!(f, "  the damaged files are kept in {}; delete them once the hall runs again", self.damaged.display())
    }
}

/// Everything read from the damaged files.
#[derive(Default)]
struct Salvage {
    opened: bool,
    records: BTreeMap<u64, Record>,
    snapshots: Vec<DaySnapshot>,
    unreadable: u64,
    highest_seq: u64,
    webhook_done: Option<u64>,
    /// Records found in the raw bytes (no position known).
    raw: Vec<Record>,
}

/// Recovers the log in `dir` (no daemon may be running on it). See the module's words.
/// `now` is the wall clock: a day after it, read from damaged bytes, is not believed.
pub fn recover(dir: &Path, setup: Arc<Setup>, now: Ts) -> Result<Report, RecoverError> {
    if !dir.is_dir() {
        return Err(RecoverError::Refused(format!(
            "{} is not a directory; if it is a disk's mount point, mount the disk first",
            dir.display()
        )));
    }
    refuse_if_locked(dir)?;
    let old_mark = Mark::read(dir).ok().flatten();
    let damaged = move_aside(dir)?;
    let mut salvage = Salvage::default();
    scan_raw(&damaged, &mut salvage);
    read_sled(&damaged, &mut salvage);
    if let Some(mark) = &old_mark {
        salvage.highest_seq = salvage.highest_seq.max(mark.high.seq);
    }

    let (state, kept_last, stopped) = replay(&setup, &salvage);
    let floors = floors(&setup, &state, &salvage, old_mark.as_ref(), setup.day_of(now));
    let raise = floors.as_ref().filter(|(day, floors)| {
        state.day < Some(*day) || floors.iter().any(|(q, n)| *n > state.numbers.get(q).copied().unwrap_or(0))
    });

    let store = Store::create(dir, old_mark.map(|m| m.hall))?;
    let kept: Vec<(u64, Record)> = salvage.records.range(..=kept_last).map(|(s, r)| (*s, r.clone())).collect();
    for chunk in kept.chunks(BATCH_RECORDS) {
        store.append(chunk)?;
    }
    let snapshots: Vec<&DaySnapshot> = salvage.snapshots.iter().filter(|s| s.seq <= kept_last).collect();
    for snap in &snapshots {
        store.put_snapshot(snap)?;
    }
    if let Some((day, floors)) = raise {
        store.append(&raise_records(&setup, &state, &salvage, kept_last, now, (*day, floors)))?;
    }
    if let Some(done) = salvage.webhook_done {
        store.set_webhook_done(done.min(kept_last))?;
    }
    store.flush_blocking()?;
    store.close();
    drop(store);

    let new_phone_key = renew_phone_key(dir, &damaged)?;
    // The new log must pass the daemon's own checks.
    let check = Store::open(dir)?;
    let (state, _) = check.load(setup)?;
    check.close();
    let open_tickets = state.tickets.values().filter(|t| !t.status.is_final()).count();
    Ok(Report {
        dir: dir.to_path_buf(),
        damaged,
        opened: salvage.opened,
        kept: kept.len() as u64,
        kept_last,
        snapshots: snapshots.len(),
        dropped: salvage.records.range(kept_last + 1..).count() as u64,
        unreadable: salvage.unreadable,
        highest_seq: salvage.highest_seq.max(kept_last),
        stopped,
        floors: raise.cloned(),
        new_phone_key,
        open_tickets,
    })
}

/// The records that raise today's numbers above the highest seen anywhere: the day's
/// opening first if the kept log is of an earlier day, then `NumbersRaised`, after
/// position `kept_last`.
fn raise_records(
    setup: &Setup,
    state: &crate::core::HallState,
    salvage: &Salvage,
    kept_last: u64,
    now: Ts,
    (day, floors): (chrono::NaiveDate, &std::collections::BTreeMap<crate::core::model::QueueId, u32>),
) -> Vec<(u64, Record)> {
    let now_day = setup.day_of(now);
    let at = seen_at(salvage, setup, now_day).max(state.last_at);
    let mut events = Vec::new();
    if state.day < Some(day) {
        let expired = state.tickets.values().filter(|t| !t.status.is_final()).map(|t| t.id).collect();
        events.push(Event::DayOpened { day, expired });
    }
    events.push(Event::NumbersRaised { day, floors: floors.clone() });
    (kept_last + 1..)
        .zip(events)
        .map(|(seq, event)| (seq, Record { v: RECORD_VERSION, at, idem: None, event }))
        .collect()
}

/// A key that does not read as one is kept with the damaged files and a new one made: the
/// hall runs again, and the report says what the old key's loss means. True if the key
/// is new.
fn renew_phone_key(dir: &Path, damaged: &Path) -> Result<bool, RecoverError> {
    let key_path = dir.join(crate::daemon::PHONE_KEY_FILE);
    if key_path.exists() && crate::daemon::phone_key(dir, false).is_err() {
        let to = damaged.join(crate::daemon::PHONE_KEY_FILE);
        std::fs::rename(&key_path, &to).map_err(io(format!("cannot move {} aside", key_path.display())))?;
    }
    let new_phone_key = !key_path.exists();
    crate::daemon::phone_key(dir, true).map_err(RecoverError::Refused)?;
    Ok(new_phone_key)
}

/// sled locks its `db` file while a daemon has it open; refuse rather than move its files.
fn refuse_if_locked(dir: &Path) -> Result<(), RecoverError> {
    let db = dir.join("db");
    let Ok(file) = std::fs::File::open(&db) else { return Ok(()) };
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd as _;
        // SAFETY: flock on a descriptor we own; the lock goes with the file when dropped.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0;
        if locked {
            return Err(RecoverError::Refused(format!("a hallq is running on {}; stop it first", dir.display())));
        }
    }
    drop(file);
    Ok(())
}

/// Moves sled's files and the mark into `dir/damaged-<unix time>/`.
fn move_aside(dir: &Path) -> Result<PathBuf, RecoverError> {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut damaged = dir.join(format!("damaged-{secs}"));
    let mut n = 1;
    while damaged.exists() {
        damaged = dir.join(format!("damaged-{secs}-{n}"));
        n += 1;
    }
    std::fs::create_dir(&damaged).map_err(io(format!("cannot create {}", damaged.display())))?;
    let entries = std::fs::read_dir(dir).map_err(io(format!("cannot read {}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(io(format!("cannot read {}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let sled = name == "db" || name == "conf" || name == "blobs" || name.starts_with("snap.");
        if sled || name.starts_with(MARK_FILE) {
            let to = damaged.join(&name);
            std::fs::rename(entry.path(), &to).map_err(io(format!("cannot move {name} to {}", to.display())))?;
        }
    }
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(format!("cannot sync {}", dir.display())))?;
    Ok(damaged)
}

/// Records found in the raw bytes of sled's files: every `{"v":1,"at":…}` that decodes.
fn scan_raw(damaged: &Path, salvage: &mut Salvage) {
    let mut files = vec![damaged.join("db")];
    if let Ok(blobs) = std::fs::read_dir(damaged.join("blobs")) {
        files.extend(blobs.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    let start = format!("{{\"v\":{RECORD_VERSION},\"at\":");
    for file in files {
        let small = std::fs::metadata(&file).is_ok_and(|m| m.is_file() && m.len() <= RAW_SCAN_BYTES_MAX);
        let Some(bytes) = small.then(|| std::fs::read(&file).ok()).flatten() else { continue };
        let mut i = 0;
        while let Some(off) = find(&bytes[i..], start.as_bytes()) {
            let at = i + off;
            let mut stream = serde_json::Deserializer::from_slice(&bytes[at..]).into_iter::<Record>();
            if let Some(Ok(record)) = stream.next() {
                salvage.raw.push(record);
            }
            i = at + 1;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads what sled still gives of the damaged files: first as they are, then (when sled
/// refuses them) from the `db` file alone, without the configuration and index snapshots
/// sled can rebuild.
fn read_sled(damaged: &Path, salvage: &mut Salvage) {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut db = open_quietly(damaged);
    if db.is_none() {
        let bare = damaged.join("db-only");
        let copied = std::fs::create_dir(&bare).and_then(|()| std::fs::copy(damaged.join("db"), bare.join("db")));
        if copied.is_ok() {
            db = open_quietly(&bare);
        }
    }
    if let Some(db) = db {
        salvage.opened = true;
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_trees(&db, salvage)));
        if read.is_err() {
            salvage.unreadable += 1;
        }
    }
    std::panic::set_hook(quiet);
}

fn open_quietly(dir: &Path) -> Option<sled::Db> {
    let opened = std::panic::catch_unwind(|| sled::Config::new().path(dir).open());
    opened.ok().and_then(Result::ok)
}

fn read_trees(db: &sled::Db, salvage: &mut Salvage) {
    if let Ok(log) = db.open_tree(LOG_TREE) {
        for item in log.iter() {
            let Ok((key, value)) = item else {
                salvage.unreadable += 1;
                break;
            };
            let Ok(seq_bytes) = <[u8; 8]>::try_from(key.as_ref()) else {
                salvage.unreadable += 1;
                continue;
            };
            let seq = u64::from_be_bytes(seq_bytes);
            salvage.highest_seq = salvage.highest_seq.max(seq);
            match serde_json::from_slice::<Record>(&value) {
                Ok(record) if record.v == RECORD_VERSION => {
                    salvage.records.insert(seq, record);
                }
                _ => salvage.unreadable += 1,
            }
        }
    }
    if let Ok(snapshots) = db.open_tree(SNAPSHOT_TREE) {
        for (_, value) in snapshots.iter().flatten() {
            if let Ok(snap) = serde_json::from_slice::<DaySnapshot>(&value) {
                if snap.v == SNAPSHOT_VERSION {
                    salvage.highest_seq = salvage.highest_seq.max(snap.seq);
                    salvage.snapshots.push(snap);
                }
            }
        }
    }
    if let Ok(webhook) = db.open_tree(WEBHOOK_TREE) {
        if let Ok(Some(value)) = webhook.get(WEBHOOK_DONE_KEY) {
            salvage.webhook_done = <[u8; 8]>::try_from(value.as_ref()).ok().map(u64::from_be_bytes);
        }
    }
}

/// The state of the records that replay in order from the latest snapshot whose own
/// record is there; the last position kept, and why replay stopped before the end.
fn replay(setup: &Arc<Setup>, salvage: &Salvage) -> (HallState, u64, Option<String>) {
    let base = salvage.snapshots.iter().filter(|s| salvage.records.contains_key(&s.seq)).max_by_key(|s| s.seq);
    let fresh = || match base {
        Some(snap) => HallState::from_snapshot(setup.clone(), snap.clone()),
        None => HallState::new(setup.clone()),
    };
    let start = base.map_or(0, |s| s.seq);
    let mut state = fresh();
    let mut last = start;
    let mut stopped = None;
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for (seq, record) in salvage.records.range(start + 1..) {
        // Without a snapshot the log must begin at record 1: records after a lost start
        // cannot be replayed (and a log starting later would not load).
        if *seq != last + 1 {
            stopped = Some(format!("position {}: records {} to {} are missing", seq, last + 1, seq - 1));
            break;
        }
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| state.apply(*seq, record)));
        if applied.is_err() {
            stopped = Some(format!("position {seq}: the record does not follow from those before it"));
            // The state may be half-changed: replay again up to the record before.
            state = fresh();
            for (s, r) in salvage.records.range(start + 1..*seq) {
                state.apply(*s, r);
            }
            break;
        }
        last = *seq;
    }
    std::panic::set_hook(quiet);
    if stopped.is_none() && salvage.highest_seq > last {
        stopped = Some(format!("position {}: the records after it could not be read", last));
    }
    (state, last, stopped)
}

/// The time of the latest record seen that is not after `today` (a damaged time is not
/// believed).
fn seen_at(salvage: &Salvage, setup: &Setup, today: NaiveDate) -> Ts {
    let seen = salvage.records.values().chain(&salvage.raw);
    seen.map(|r| r.at).filter(|at| setup.day_of(*at) <= today).max().unwrap_or(Ts(0))
}

/// The latest service day seen anywhere, and the highest number of each queue on it.
fn floors(
    setup: &Setup,
    state: &HallState,
    salvage: &Salvage,
    mark: Option<&Mark>,
    today: NaiveDate,
) -> Option<(NaiveDate, BTreeMap<QueueId, u32>)> {
    let seen = || salvage.records.values().chain(&salvage.raw);
    let record_day = |r: &Record| match &r.event {
        Event::DayOpened { day, .. } | Event::NumbersRaised { day, .. } => Some(*day),
        Event::TicketIssued { .. } => Some(setup.day_of(r.at)),
        _ => None,
    };
    let day = seen()
        .filter_map(record_day)
        .chain(state.day)
        .chain(mark.and_then(|m| m.high.day))
        .filter(|d| *d <= today)
        .max()?;
    let mut floors: BTreeMap<QueueId, u32> = BTreeMap::new();
    let mut raise = |queue: QueueId, n: u32| {
        // A number beyond a day's limit is a damaged byte, not a ticket.
        if n as usize <= TICKETS_PER_DAY_MAX {
            let floor = floors.entry(queue).or_insert(0);
            *floor = (*floor).max(n);
        }
    };
    if state.day == Some(day) {
        state.numbers.iter().for_each(|(q, n)| raise(*q, *n));
    }
    if let Some(mark) = mark.filter(|m| m.high.day == Some(day)) {
        mark.high.numbers.iter().for_each(|(q, n)| raise(*q, *n));
    }
    for record in seen() {
        match &record.event {
            Event::TicketIssued { queue, n, .. } if setup.day_of(record.at) == day => raise(*queue, *n),
            Event::NumbersRaised { day: d, floors } if *d == day => floors.iter().for_each(|(q, n)| raise(*q, *n)),
            _ => {}
        }
    }
    Some((day, floors))
}
