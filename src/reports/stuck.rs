//! 及时发现并纠正服务问题: the items that get stuck, a week at a time. Per item (code, name,
//! department): the matters escalated (办不成事) and their reasons, the finishes with
//! outcome `incomplete`, and how the week's escalation cases stand now (open, overdue,
//! answered, referred on), ranked so that the item stuck most often comes first.
//!
//! What happened at the windows comes from the week's days replayed from the log
//! (`replay::Day::stuck`), so the view is the same after a restart; how the cases stand
//! comes from the case book, which the snapshot keeps and which is the only record of an
//! answer given after the week.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

use super::export::{writer_for_office, ExportError};
use crate::core::escalation::{Escalation, EscalationStatus};
use crate::core::model::ServiceCode;
use crate::core::setup::Setup;

/// Items a week's view lists: the hall's catalogue is 629 items, and a view of more than
/// this many stuck items is a list nobody reads to the end.
pub const STUCK_ITEMS_MAX: usize = 200;

/// What one day's windows did with one item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StuckCounts {
    pub escalated: u32,
    /// Escalations per reason code.
    pub reasons: BTreeMap<String, u32>,
    /// Finishes with outcome `incomplete`.
    pub incomplete: u32,
}

/// One day's stuck matters, per item, folded by the day's replay.
#[derive(Clone, Debug, Default)]
pub struct StuckDay {
    pub items: BTreeMap<ServiceCode, StuckCounts>,
}

impl StuckDay {
    /// A matter escalated for `reason`: counted once under each of its items.
    pub fn escalated(&mut self, services: &[ServiceCode], reason: &str) {
        for code in services {
            let c = self.items.entry(code.clone()).or_default();
            c.escalated += 1;
            *c.reasons.entry(reason.to_string()).or_default() += 1;
        }
    }

    /// A matter finished `incomplete`.
    pub fn incomplete(&mut self, services: &[ServiceCode]) {
        for code in services {
            self.items.entry(code.clone()).or_default().incomplete += 1;
        }
    }
}

/// A reason and how often it was given.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReasonCount {
    pub code: String,
    pub name: String,
    pub count: u32,
}

/// One item of the week's view.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StuckRow {
    pub code: String,
    pub name: String,
    pub department: String,
    pub escalated: u32,
    /// Most given first.
    pub reasons: Vec<ReasonCount>,
    pub incomplete: u32,
    /// The week's cases of the item, by how they stand now.
    pub open: u32,
    pub overdue: u32,
    pub closed: u32,
    pub referred: u32,
}

/// `YYYY-Www` (ISO 8601 week, `2026-W48`), exactly, as the week's Monday.
pub fn parse_week(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 8
        && b[4] == b'-'
        && b[5] == b'W'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 5 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let week: u32 = s[6..].parse().ok()?;
    NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
}

/// The week of `day`, written `YYYY-Www`.
pub fn week_name(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The week's rows, ranked: most escalated and not finished first, then most cases still
/// open, then by code. `days` are the replayed days of the week, `cases` the cases opened
/// in it, `today` decides which are overdue.
pub fn rows(setup: &Setup, days: &[&StuckDay], cases: &[Escalation], today: NaiveDate) -> Vec<StuckRow> {
    let mut by: BTreeMap<String, StuckRow> = BTreeMap::new();
    for day in days {
        for (code, c) in &day.items {
            let r = entry(&mut by, setup, code.as_str());
            r.escalated += c.escalated;
            r.incomplete += c.incomplete;
            for (reason, n) in &c.reasons {
                add_reason(setup, &mut r.reasons, reason, *n);
            }
        }
    }
    for case in cases {
        for code in &case.services {
            let r = entry(&mut by, setup, code.as_str());
            match case.status(today) {
                EscalationStatus::Open => r.open += 1,
                EscalationStatus::Overdue => r.overdue += 1,
                EscalationStatus::Closed => r.closed += 1,
                EscalationStatus::Referred => r.referred += 1,
            }
        }
    }
    let mut rows: Vec<StuckRow> = by.into_values().collect();
    for r in &mut rows {
        r.reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    }
    rows.sort_by(|a, b| {
        let stuck = |r: &StuckRow| r.escalated + r.incomplete;
        let open = |r: &StuckRow| r.open + r.overdue;
        stuck(b).cmp(&stuck(a)).then(open(b).cmp(&open(a))).then_with(|| a.code.cmp(&b.code))
    });
    rows.truncate(STUCK_ITEMS_MAX);
    rows
}

fn entry<'a>(by: &'a mut BTreeMap<String, StuckRow>, setup: &Setup, code: &str) -> &'a mut StuckRow {
    by.entry(code.to_string()).or_insert_with(|| empty_row(setup, code))
}

fn empty_row(setup: &Setup, code: &str) -> StuckRow {
    let item = setup.item(code);
    StuckRow {
        code: code.to_string(),
        name: item.map_or_else(String::new, |i| i.name.clone()),
        department: item.map_or_else(String::new, |i| i.department.clone()),
        escalated: 0,
        reasons: Vec::new(),
        incomplete: 0,
        open: 0,
        overdue: 0,
        closed: 0,
        referred: 0,
    }
}

fn add_reason(setup: &Setup, reasons: &mut Vec<ReasonCount>, code: &str, n: u32) {
    if let Some(r) = reasons.iter_mut().find(|r| r.code == code) {
        r.count += n;
        return;
    }
    let name = setup.escalation.as_ref().and_then(|p| p.reason(code)).map_or(code, |r| r.name.as_str());
    reasons.push(ReasonCount { code: code.to_string(), name: name.to_string(), count: n });
}

/// The week's rows as CSV, one row per item, its reasons in one cell (`政策理解偏差×2；…`).
pub fn csv(rows: &[StuckRow]) -> Result<Vec<u8>, ExportError> {
    let mut w = writer_for_office();
    w.write_record(["事项编码", "事项名称", "部门", "办不成事", "原因", "未办结", "未结", "逾期", "已答复", "已转办"])
        .map_err(ExportError::from)?;
    for r in rows {
        let reasons: Vec<String> = r.reasons.iter().map(|x| format!("{}×{}", x.name, x.count)).collect();
        let n = [r.escalated, r.incomplete, r.open, r.overdue, r.closed, r.referred].map(|n| n.to_string());
        let [escalated, incomplete, open, overdue, closed, referred] = n;
        w.write_record([
            r.code.clone(),
            r.name.clone(),
            r.department.clone(),
            escalated,
            reasons.join("；"),
            incomplete,
            open,
            overdue,
            closed,
            referred,
        ])
        .map_err(ExportError::from)?;
    }
    super::export::finish_office(w)
}
