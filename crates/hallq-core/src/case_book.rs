//! What bad-rating cases (`rating`) and escalation cases (`escalation`) keep alike: a book
//! of cases by id (`C20261127-001`: the day and its place among the day's cases), which
//! outlives the day; listed newest first by status and day; ended cases forgotten after the
//! hall's days of keeping, open ones never.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

/// A case kept in a book.
pub trait Filed {
    /// Where a case stands on a day (open, overdue, closed, …).
    type Status: Copy + PartialEq;
    /// The service day the case was opened.
    fn day(&self) -> NaiveDate;
    /// Whether the case has ended (closed or passed on); only ended cases are forgotten.
    fn ended(&self) -> bool;
    fn status(&self, today: NaiveDate) -> Self::Status;
}

/// A new day `day`: ended cases opened more than `kept_days` before it are forgotten.
pub fn forget_ended<C: Filed>(cases: &mut BTreeMap<String, C>, day: NaiveDate, kept_days: u32) {
    let cutoff = day.checked_sub_days(Days::new(u64::from(kept_days))).unwrap_or(NaiveDate::MIN);
    cases.retain(|_, c| !c.ended() || c.day() >= cutoff);
}

/// Cases with `status` (any when `None`) opened on `day` (any when `None`), newest first,
/// at most `limit`.
pub fn list<C: Filed + Clone>(
    cases: &BTreeMap<String, C>,
    today: NaiveDate,
    status: Option<C::Status>,
    day: Option<NaiveDate>,
    limit: usize,
) -> Vec<C> {
    cases
        .values()
        .rev()
        .filter(|c| day.is_none_or(|d| c.day() == d))
        .filter(|c| status.is_none_or(|s| c.status(today) == s))
        .take(limit)
        .cloned()
        .collect()
}

/// `{letter}YYYYMMDD-NNN`: the id of a new case opened on `day`, after the day's cases.
pub fn next_id<V>(cases: &BTreeMap<String, V>, letter: char, day: NaiveDate) -> String {
    let prefix = format!("{letter}{}-", day.format("%Y%m%d"));
    let n = cases.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).count() + 1;
    format!("{prefix}{n:03}")
}
