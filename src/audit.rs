//! Reads one service day's audit trail from the event log (not from the live state, which
//! forgets a day's tickets when the next one opens), filtered and a page at a time.
//!
//! Runs on a blocking thread beside the engine: the log is append-only, so a reader needs
//! no turn in the engine's inbox. It reads no further than `upto`, the last position the
//! engine has flushed and published, so it never shows a record nobody was told of.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};

use crate::core::audit::{AuditAction, AuditEntry, AuditTrail};
use crate::core::model::{Ts, UserName, WindowId};
use crate::core::setup::Setup;
use crate::store::{Store, StoreError};

/// The most entries one page of the JSON answer holds.
pub const PAGE_ENTRIES_MAX: usize = 1000;
/// The most rows one CSV export holds; a day of a very busy hall (3,000 tickets) makes
/// about 20,000. Past it, `after` continues the export.
pub const EXPORT_ROWS_MAX: usize = 100_000;

/// What to read: a day, optional filters, and where the page starts.
#[derive(Clone, Debug)]
pub struct AuditQuery {
    pub day: NaiveDate,
    pub window: Option<WindowId>,
    pub user: Option<UserName>,
    pub action: Option<AuditAction>,
    /// Only entries after this log position (the previous page's `next_after`).
    pub after: u64,
    pub limit: usize,
    /// Read no record past this log position.
    pub upto: u64,
}

impl AuditQuery {
    fn matches(&self, e: &AuditEntry) -> bool {
        e.seq > self.after
            && self.window.as_ref().is_none_or(|w| e.window.as_ref() == Some(w))
            && self.user.as_ref().is_none_or(|u| e.user.as_ref() == Some(u))
            && self.action.is_none_or(|a| e.action == a)
    }
}

/// One page of the trail: its entries in log order and, when more match, the position to
/// ask `after` for the next page.
#[derive(Clone, Debug, Default)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_after: Option<u64>,
}

/// The first moment of a local calendar day in the hall's time zone.
fn day_start(setup: &Setup, day: NaiveDate) -> Ts {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    let local = setup.timezone.from_local_datetime(&midnight).earliest();
    Ts(local.map_or(i64::MIN, |t| t.timestamp_millis()))
}

/// Reads the page `q` asks for. The whole day is read from its first record on, whatever
/// the page, since who sits at which window is known only from the day's sign-ins.
pub fn read_day(store: &Store, setup: &Arc<Setup>, q: &AuditQuery) -> Result<AuditPage, StoreError> {
    let from = day_start(setup, q.day);
    let until = q.day.succ_opt().map_or(Ts(i64::MAX), |next| day_start(setup, next));
    let mut trail = AuditTrail::new(setup.clone());
    let mut page = AuditPage::default();
    // No record at or after the day's start: nothing of that day to read.
    let Some(start) = store.first_seq_at(from)? else { return Ok(page) };
    for item in store.records_after(start.saturating_sub(1)) {
        let (seq, record) = item?;
        if seq > q.upto || record.at >= until {
            break;
        }
        let Some(entry) = trail.observe(seq, &record) else { continue };
        if !q.matches(&entry) {
            continue;
        }
        if page.entries.len() == q.limit {
            page.next_after = page.entries.last().map(|e| e.seq);
            break;
        }
        page.entries.push(entry);
    }
    Ok(page)
}
