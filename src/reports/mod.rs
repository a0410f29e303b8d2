//! Reports of a service day for supervisors: figures per queue, window, clerk and item,
//! SVG charts and CSV exports, computed off the engine from the stored log.
//!
//! A report replays the day's records straight from sled in a blocking task (`replay`),
//! so the engine never waits for it; a finished past day is kept in a small cache. A day
//! whose records are past the hall's retention is answered from the figures the state
//! keeps for every day (`figures::from_figures`), saying which parts are unavailable.
//! Nothing here writes: reading a report changes nothing in the hall.

pub mod charts;
pub mod export;
mod fate;
pub mod figures;
pub mod replay;
pub mod scorecards;
// Issue 17 §2: the week's stuck items.
pub mod stuck;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, TimeZone};
use tokio::sync::Semaphore;

use crate::config::service_level::ServiceLevel;
use crate::core::event::Event;
use crate::core::model::Ts;
use crate::core::setup::Setup;
use crate::store::{Store, StoreError};
use figures::Report;
use replay::{Day, Replay};

/// Finished days kept built: a month of a supervisor paging back and forth.
const CACHE_DAYS_MAX: usize = 31;
/// Reports built at once: each reads a day of the log on a blocking thread; more requests
/// wait their turn instead of filling the blocking pool.
const BUILDS_MAX: usize = 2;

/// A built report: the figures, and the replayed day behind them (`None` when only the
/// retained figures remain).
#[derive(Debug)]
pub struct Built {
    pub report: Report,
    pub day: Option<Day>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the report task failed: {0}")]
    Task(String),
}

pub struct Reports {
    store: Arc<Store>,
    setup: Arc<Setup>,
    pub level: ServiceLevel,
    cache: Mutex<BTreeMap<NaiveDate, Arc<Built>>>,
    builds: Semaphore,
}

/// Local midnight of `day` and of the day after, in the hall's time zone.
pub fn day_bounds(setup: &Setup, day: NaiveDate) -> (Ts, Ts) {
    let midnight = |d: NaiveDate| {
        let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        let local = setup.timezone.from_local_datetime(&naive);
        Ts(local.earliest().map_or_else(|| naive.and_utc().timestamp_millis(), |t| t.timestamp_millis()))
    };
    let next = day.succ_opt().unwrap_or(day);
    (midnight(day), midnight(next))
}

impl Reports {
    pub fn new(store: Arc<Store>, setup: Arc<Setup>, level: ServiceLevel) -> Self {
        Self { store, setup, level, cache: Mutex::new(BTreeMap::new()), builds: Semaphore::new(BUILDS_MAX) }
    }

    /// The store the reports read (also read by the admin's backup).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The report of `day` from the log, with `today` the current service day; `None`
    /// when the log no longer holds the whole day (ask the engine for its figures).
    pub async fn from_log(&self, day: NaiveDate, today: NaiveDate) -> Result<Option<Arc<Built>>, ReportError> {
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&day).cloned()) {
            return Ok(Some(hit));
        }
        let _permit = self.builds.acquire().await.map_err(|e| ReportError::Task(e.to_string()))?;
        let (store, setup, level) = (self.store.clone(), self.setup.clone(), self.level.clone());
        let built = tokio::task::spawn_blocking(move || build(&store, &setup, &level, day, today))
            .await
            .map_err(|e| ReportError::Task(e.to_string()))??;
        let Some(built) = built else { return Ok(None) };
        let built = Arc::new(built);
        // Cached only once the next day's opening is in the log too: until then its
        // expiries (tickets left waiting at closing) are still to come.
        if built.report.is_final && built.day.as_ref().is_some_and(|d| d.closed) {
            if let Ok(mut cache) = self.cache.lock() {
                if cache.len() >= CACHE_DAYS_MAX {
                    // The day furthest back is the least likely to be read again.
                    cache.pop_first();
                }
                cache.insert(day, built.clone());
            }
        }
        Ok(Some(built))
    }

    /// The report of a day known only from its retained figures.
    pub fn from_figures(&self, day: NaiveDate, stats: &crate::core::stats::DayStats) -> Built {
        Built { report: figures::from_figures(day, stats, &self.setup, &self.level), day: None }
    }
}

/// Whether the log still holds all of `day`: nothing was ever pruned, or its first record
/// is older than the day, or it is the day's own opening.
fn covered(store: &Store, day: NaiveDate, start: Ts) -> Result<bool, StoreError> {
    Ok(match store.first_record()? {
        None => true,
        Some((seq, rec)) => {
            seq <= 1 || rec.at < start || matches!(rec.event, Event::DayOpened { day: d, .. } if d == day)
        }
    })
}

/// Folds `day`'s records into `replay`, from `records` (a log read from the record before
/// the day's first by time: `first_seq_at`). A day's records run from its opening to the
/// next day's, which expires what was left. Both may come after midnight: the new day waits
/// for a window still serving (`core::hall`), so records after midnight before the opening
/// are the day before's. The hall's reports and the district's (`district::compare`) both
/// count a day this way.
pub fn replay_day<E>(
    replay: &mut Replay,
    day: NaiveDate,
    records: impl Iterator<Item = Result<(u64, crate::core::event::Record), E>>,
) -> Result<(), E> {
    let mut opened = false;
    for item in records {
        let (seq, rec) = item?;
        let later = matches!(rec.event, Event::DayOpened { day: d, .. } if d > day);
        opened = opened || later || matches!(rec.event, Event::DayOpened { day: d, .. } if d == day);
        if !opened {
            continue;
        }
        if !replay.record(seq, &rec, !later) || later {
            break;
        }
    }
    Ok(())
}

fn build(
    store: &Store,
    setup: &Arc<Setup>,
    level: &ServiceLevel,
    day: NaiveDate,
    today: NaiveDate,
) -> Result<Option<Built>, StoreError> {
    let (start, end) = day_bounds(setup, day);
    if !covered(store, day, start)? {
        return Ok(None);
    }
    let minutes = usize::try_from(end.since_ms(start) / 60_000).unwrap_or(24 * 60);
    let mut replay = Replay::new(setup.clone(), |q| u64::from(level.minutes(q)) * 60_000, start, minutes);
    if let Some(from) = store.first_seq_at(start)? {
        replay_day(&mut replay, day, store.records_after(from.saturating_sub(1)))?;
    }
    let d = replay.finish();
    let report = figures::from_day(day, &d, setup, level, day < today);
    Ok(Some(Built { report, day: Some(d) }))
}
