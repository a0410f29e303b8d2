//! `hallq restore` (issue 18): a hall's data directory rebuilt on a new machine from its
//! JetStream stream (`--from-nats`), or from a backup file (`crate::backup`).
//!
//! The stream holds every record the hall's uplink had published, each with its log
//! position (`Hallq-Seq`), in order. The restore reads them all, from position 1, into a
//! new log and refuses anything that would make a log `serve` could mistake for the
//! hall's: a stream that does not begin at record 1 (its start passed the hall's
//! `retention_days`), a position missing or repeated, a payload that is not a record of
//! this build. With the hall's configuration (`--config`) each record is also applied by
//! the core, as the hall's engine did, and the day snapshots the engine keeps are written
//! again.
//!
//! What the log does not hold is not restored: the staff's sessions (everyone signs in
//! again), the voice cache (rendered again), the bookings' phone-hash key (put back with
//! `--phone-key`, else a new one), and the records the dead hall logged but had not yet
//! published (its uplink's lag at the loss). The webhook's and the uplink's marks are set
//! to the last record restored: the uplink asks the server where to go on anyway, and the
//! webhook does not send again notices the dead hall may already have sent.
//!
//! The new directory is built beside the target, in `<DIR>.partial`, and renamed into
//! place only when complete and synced: a crash mid-restore leaves no directory `serve`
//! would take for the hall's whole log. A run finding a `.partial` of its own (it holds
//! `RESTORING_FILE`) starts it afresh.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, stream::LastRawMessageErrorKind};
use futures_util::StreamExt;

use super::uplink::SEQ_HEADER;
use crate::backup::BackupError;
use crate::config::{is_subject_token, log_subject, DistrictLink};
use crate::core::event::{Event, Record, RECORD_VERSION};
use crate::core::setup::Setup;
use crate::core::HallState;
use crate::store::{Store, StoreError};

/// Connecting, and each request to the server, gives up after this.
const NATS_TIMEOUT: Duration = Duration::from_secs(10);
/// Records written to the new log per batch.
const BATCH: usize = 1_000;
/// Messages of the stream asked for at once: enough to hide the round trips over a
/// township's link, few enough that the answers waiting in hand stay small.
const GETS_IN_FLIGHT: usize = 64;
/// The file that marks a `.partial` directory as a restore in progress, and so as ours
/// to start afresh.
const RESTORING_FILE: &str = "RESTORING";

/// `hallq restore`: from a backup file, or from the hall's stream with `--from-nats`.
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A file `hallq backup` wrote (without --from-nats).
    #[arg(required_unless_present = "from_nats", conflicts_with = "from_nats")]
    pub file: Option<PathBuf>,
    /// The new data directory: missing, or empty.
    #[arg(long)]
    pub data: PathBuf,
    /// The hall's phone-hash.key, kept apart from the backups; without it a new key is
    /// made and bookings made before are found by their code only.
    #[arg(long)]
    pub phone_key: Option<PathBuf>,
    /// Rebuild the data directory from the hall's JetStream stream (hallq.hall.<id>.log).
    #[arg(long)]
    pub from_nats: bool,
    /// The hall's id in the district (its [district] hall_id); by default the one of --config.
    #[arg(long, requires = "from_nats")]
    pub hall: Option<String>,
    /// The hall's kiosk-config directory: its [district] nats_url, creds_file and
    /// tls_ca_file are used, and each record is checked against the hall and the day
    /// snapshots are written again.
    #[arg(long, requires = "from_nats")]
    pub config: Option<PathBuf>,
    /// The NATS server, nats://host:port (overrides the configuration's nats_url).
    #[arg(long, requires = "from_nats")]
    pub nats: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{0}")]
    Refused(String),
    #[error("NATS: {0}")]
    Nats(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Backup(#[from] BackupError),
}

/// Where a hall's stream is, and (with its configuration) the hall its records must fit.
pub struct Source {
    pub link: DistrictLink,
    pub setup: Option<Arc<Setup>>,
}

/// What a restore from the stream wrote.
#[derive(Debug)]
pub struct Restored {
    pub records: u64,
    pub snapshots: u64,
    /// The last record's log position, its service day and the day's last numbers.
    pub high: crate::mark::Watermark,
    pub phone_key: bool,
}

/// Runs `hallq restore`; the lines to print.
pub fn main(args: RestoreArgs) -> Result<Vec<String>, RestoreError> {
    let Some(source) = source(&args)? else {
        let file = args.file.as_deref().unwrap_or(Path::new(""));
        let done = crate::backup::restore(file, &args.data, args.phone_key.as_deref())?;
        let mut lines = vec![format!(
            "restored {} records and {} day snapshots (up to position {}) into {}",
            done.records,
            done.snapshots,
            done.seq,
            args.data.display()
        )];
        if !done.phone_key {
            lines.push(NO_KEY_WARNING.to_string());
        }
        return Ok(lines);
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let done = runtime.block_on(from_nats(&source, &args.data, args.phone_key.as_deref()))?;
    let numbers: Vec<String> = done.high.numbers.iter().map(|(q, n)| format!("{q}: {n}")).collect();
    let day = done.high.day.map_or_else(|| "none".to_string(), |d| d.to_string());
    let mut lines = vec![
        format!(
            "restored {} records (up to position {}) and {} day snapshots of hall {} from stream {} into {}",
            done.records,
            done.high.seq,
            done.snapshots,
            source.link.hall_id,
            source.link.stream_name(),
            args.data.display()
        ),
        format!(
            "service day {day}, last numbers issued: {}",
            if numbers.is_empty() { "none".into() } else { numbers.join(", ") }
        ),
    ];
    if !done.phone_key {
        lines.push(NO_KEY_WARNING.to_string());
    }
    Ok(lines)
}

const NO_KEY_WARNING: &str =
    "warning: no --phone-key: a new phone-hash key was made; bookings made before are found by their code only";

/// The stream to read, from the arguments; `None` for a restore from a backup file.
fn source(args: &RestoreArgs) -> Result<Option<Source>, RestoreError> {
    if !args.from_nats {
        return Ok(None);
    }
    let config = match &args.config {
        Some(dir) => Some(
            crate::config::load_dir(dir)
                .map_err(|e| RestoreError::Refused(format!("the configuration {} has errors:\n{e}", dir.display())))?,
        ),
        None => None,
    };
    let configured = config.as_ref().and_then(|c| c.district.clone());
    let hall_id = match (&args.hall, &configured) {
        (Some(hall), Some(link)) if *hall != link.hall_id => {
            return Err(RestoreError::Refused(format!(
                "--hall {hall} but the configuration's [district] hall_id is {}; give the hall's own configuration",
                link.hall_id
            )));
        }
        (Some(hall), _) => hall.clone(),
        (None, Some(link)) => link.hall_id.clone(),
        (None, None) => {
            return Err(RestoreError::Refused("give --hall, or --config of a hall with [district]".into()));
        }
    };
    if !is_subject_token(&hall_id) {
        return Err(RestoreError::Refused(format!("--hall {hall_id:?}: a hall id is letters, digits, '-' or '_'")));
    }
    let nats_url = match (&args.nats, &configured) {
        (Some(url), _) => url.clone(),
        (None, Some(link)) => link.nats_url.clone(),
        (None, None) => {
            return Err(RestoreError::Refused("give --nats URL, or --config of a hall with [district]".into()))
        }
    };
    let (creds_file, nkey_file, tls_ca_file) =
        configured.map_or((None, None, None), |l| (l.creds_file, l.nkey_file, l.tls_ca_file));
    let link = DistrictLink { nats_url, hall_id, creds_file, nkey_file, tls_ca_file, referrals: Default::default() };
    Ok(Some(Source { link, setup: config.map(|c| Arc::new(c.setup)) }))
}

/// Rebuilds `dir` from the hall's stream, with the phone key from `phone_key` when given.
pub async fn from_nats(source: &Source, dir: &Path, phone_key: Option<&Path>) -> Result<Restored, RestoreError> {
    check_target(dir)?;
    let key = phone_key.map(read_key).transpose()?;
    let client = connect(&source.link).await?;
    let js = jetstream::new(client);
    let stream = js.get_stream(source.link.stream_name()).await.map_err(|e| {
        RestoreError::Nats(format!(
            "no stream {} for hall {:?} on {} ({e}); check --hall (the hall's [district] hall_id) and the server",
            source.link.stream_name(),
            source.link.hall_id,
            source.link.nats_url
        ))
    })?;
    let held = stream.cached_info().state.clone();
    if held.messages == 0 {
        let what = format!("the stream {} holds no records: nothing to restore", source.link.stream_name());
        return Err(RestoreError::Refused(what));
    }
    let staging = staging_dir(dir)?;
    let written = fill(&stream, held.last_sequence, source, &staging, key).await;
    if written.is_err() {
        // Nothing half-done is left behind; the error says what to do.
        let _ = std::fs::remove_dir_all(&staging);
    }
    let (records, snapshots, high) = written?;
    put_in_place(&staging, dir)?;
    Ok(Restored { records, snapshots, high, phone_key: key.is_some() })
}

/// Writes the new log in `staging` from the stream's messages up to `last`, with its
/// marks and the phone key: the records, the day snapshots and the high-water mark.
async fn fill(
    stream: &jetstream::stream::Stream,
    last: u64,
    source: &Source,
    staging: &Path,
    key: Option<[u8; 32]>,
) -> Result<(u64, u64, crate::mark::Watermark), RestoreError> {
    let store = Store::create(staging, None)?;
    let mut writer = Writer::new(&store, source.setup.clone());
    read_stream(stream, last, &source.link.hall_id, &mut writer).await?;
    writer.finish()?;
    let (records, snapshots, last) = (writer.records, writer.snapshots, writer.last);
    store.set_district_done(last)?;
    store.set_webhook_done(last)?;
    store.flush_blocking()?;
    let high = store.durable();
    store.close();
    drop(store);
    if let Some(key) = key {
        crate::backup::write_key(staging, &key)?;
    }
    crate::daemon::phone_key(staging, true).map_err(RestoreError::Refused)?;
    Ok((records, snapshots, high))
}

/// Refuses a target that holds anything: restoring over a hall's log, even a broken one,
/// would destroy what `hallq recover` might still read. Nothing is changed.
fn check_target(dir: &Path) -> Result<(), RestoreError> {
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_some()) {
        Ok(true) => Err(RestoreError::Refused(format!(
            "{} is not empty{}; restore into a new, empty directory (nothing was changed)",
            dir.display(),
            if dir.join("db").exists() { " (it holds a hall's log)" } else { "" }
        ))),
        Ok(false) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RestoreError::Refused(format!("{} cannot be read as a directory: {e}", dir.display()))),
    }
}

/// `<dir>.partial`, new and marked as a restore in progress; one left by an earlier run
/// (it holds `RESTORING_FILE`) is removed first, anything else there is refused.
fn staging_dir(dir: &Path) -> Result<PathBuf, RestoreError> {
    let name = dir.file_name().ok_or_else(|| RestoreError::Refused(format!("{} names no directory", dir.display())))?;
    let staging = dir.with_file_name(format!("{}.partial", name.to_string_lossy()));
    if staging.exists() {
        if !staging.join(RESTORING_FILE).is_file() {
            return Err(RestoreError::Refused(format!(
                "{} exists and is not a restore of hallq's; move it away (nothing was changed)",
                staging.display()
            )));
        }
        tracing::info!(dir = %staging.display(), "an unfinished restore is started afresh");
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    std::fs::write(staging.join(RESTORING_FILE), "a hallq restore in progress: not a data directory\n")?;
    std::fs::File::open(&staging)?.sync_all()?;
    Ok(staging)
}

/// Renames the complete `staging` to `dir` (an empty `dir` is replaced), durably.
fn put_in_place(staging: &Path, dir: &Path) -> Result<(), RestoreError> {
    std::fs::remove_file(staging.join(RESTORING_FILE))?;
    std::fs::File::open(staging)?.sync_all()?;
    if dir.exists() {
        std::fs::remove_dir(dir)?;
    }
    std::fs::rename(staging, dir).map_err(|e| {
        RestoreError::Refused(format!(
            "the restored directory is complete in {} but cannot be renamed to {}: {e}; rename it yourself",
            staging.display(),
            dir.display()
        ))
    })?;
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(parent)?.sync_all()?;
    Ok(())
}

fn read_key(path: &Path) -> Result<[u8; 32], RestoreError> {
    let bytes = std::fs::read(path)?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| RestoreError::Refused(format!("{} is not a phone-hash key (32 bytes)", path.display())))
}

async fn connect(link: &DistrictLink) -> Result<async_nats::Client, RestoreError> {
    let nats = |e: &dyn std::fmt::Display| RestoreError::Nats(format!("cannot connect to {}: {e}", link.nats_url));
    let options = async_nats::ConnectOptions::new()
        .name(format!("hallq-restore-{}", link.hall_id))
        .connection_timeout(NATS_TIMEOUT)
        .request_timeout(Some(NATS_TIMEOUT))
        .max_reconnects(Some(1));
    let options = super::auth::hall_options(options, link).await.map_err(|e| nats(&e))?;
    options.connect(link.nats_url.as_str()).await.map_err(|e| nats(&e))
}

/// Reads the stream's messages up to `last` (its last when the restore began) in order
/// into `writer`, each asked for by its sequence (`STREAM.MSG.GET`), `GETS_IN_FLIGHT` at
/// once. Not through a consumer: a hall's NATS identity may read its own stream but make
/// no consumer, since a consumer's deliver subject could be another hall's cmd subject
/// (`natsconf.rs`).
async fn read_stream(
    stream: &jetstream::stream::Stream,
    last: u64,
    hall_id: &str,
    writer: &mut Writer<'_>,
) -> Result<(), RestoreError> {
    let nats = |e: &dyn std::fmt::Display| RestoreError::Nats(format!("reading the stream: {e}"));
    let first = stream.cached_info().state.first_sequence.max(1);
    let subject = log_subject(hall_id);
    let mut gets = futures_util::stream::iter(first..=last)
        .map(|seq| async move { (seq, stream.get_raw_message(seq).await) })
        .buffered(GETS_IN_FLIGHT);
    while let Some((stream_seq, got)) = gets.next().await {
        let message = match got {
            Ok(m) => m,
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => {
                return Err(RestoreError::Refused(format!(
                    "message {stream_seq} of the stream is gone (deleted, or aged out during the restore): the log would have a hole; run the restore again, or restore from a backup"
                )));
            }
            Err(e) => return Err(nats(&format!("message {stream_seq}: {e}; run the restore again"))),
        };
        let seq = message.headers.get(SEQ_HEADER).and_then(|v| v.as_str().parse().ok());
        let record = serde_json::from_slice::<Record>(&message.payload).ok().filter(|r| r.v == RECORD_VERSION);
        let (Some(seq), Some(record)) = (seq.filter(|_| message.subject.as_str() == subject), record) else {
            return Err(RestoreError::Refused(format!(
                "message {stream_seq} of the stream is not a record of this hallq's log (no {SEQ_HEADER} header, another subject, or another record version)"
            )));
        };
        writer.take(stream_seq, seq, record)?;
    }
    Ok(())
}

/// The new log being written: records in order, batched, and (with the hall's setup)
/// applied by the core, the day snapshots kept as the engine keeps them.
struct Writer<'a> {
    store: &'a Store,
    state: Option<HallState>,
    batch: Vec<(u64, Record)>,
    last: u64,
    records: u64,
    snapshots: u64,
}

impl<'a> Writer<'a> {
    fn new(store: &'a Store, setup: Option<Arc<Setup>>) -> Self {
        Self { store, state: setup.map(HallState::new), batch: Vec::new(), last: 0, records: 0, snapshots: 0 }
    }

    /// One message: its record must be the next of the log.
    fn take(&mut self, stream_seq: u64, seq: u64, record: Record) -> Result<(), RestoreError> {
        if seq != self.last + 1 {
            return Err(RestoreError::Refused(gap(self.last, seq, stream_seq)));
        }
        if let Some(state) = &mut self.state {
            let applied = std::panic::catch_unwind(AssertUnwindSafe(|| state.apply(seq, &record)));
            if applied.is_err() {
                return Err(RestoreError::Refused(format!(
                    "record {seq} (message {stream_seq}) does not fit the hall of --config; is it this hall's configuration?"
                )));
            }
        }
        let opened = matches!(record.event, Event::DayOpened { .. });
        self.batch.push((seq, record));
        self.last = seq;
        self.records += 1;
        let snapshot = if opened { self.state.as_ref().and_then(HallState::day_snapshot) } else { None };
        if let Some(snapshot) = snapshot {
            // The snapshot must not reach the disk before the records it follows.
            self.write()?;
            self.store.put_snapshot(&snapshot)?;
            self.snapshots += 1;
        } else if self.batch.len() >= BATCH {
            self.write()?;
        }
        Ok(())
    }

    fn write(&mut self) -> Result<(), RestoreError> {
        self.store.append(&self.batch)?;
        self.batch.clear();
        Ok(())
    }

    fn finish(&mut self) -> Result<(), RestoreError> {
        self.write()
    }
}

/// Why record `seq` (message `stream_seq`) cannot follow record `last`, in words.
fn gap(last: u64, seq: u64, stream_seq: u64) -> String {
    if last == 0 {
        return format!(
            "the stream begins at record {seq} (message {stream_seq}): records 1 to {} passed the stream's max age \
             (the hall's retention_days) and are gone. A log without its beginning cannot be restored from the \
             stream; restore the latest backup with `hallq restore FILE --data DIR`",
            seq.saturating_sub(1)
        );
    }
    if seq <= last {
        return format!(
            "record {seq} appears again at message {stream_seq}, after record {last}: the stream is not one hall's log"
        );
    }
    format!(
        "the stream has a gap: record {last} is followed by record {seq} (message {stream_seq}); records {} to {} are missing",
        last + 1,
        seq - 1
    )
}
