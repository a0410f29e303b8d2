//! 考勤考核: the clerks' scorecards of a month, a row per clerk and day, from the days'
//! replays (`replay::Day::scorecards`, folded by `core::scorecard`), as JSON for the
//! reports page and as CSV for the hall's office.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::export::{writer_for_office, ExportError};
use super::replay::Day;
use crate::core::scorecard::{ClerkDay, PauseReason, NO_REASON};
use crate::core::setup::Setup;

/// One clerk's day, as the page and the CSV show it. Minutes have one decimal.
#[derive(Clone, Debug, Serialize)]
pub struct ScoreRow {
    pub day: NaiveDate,
    /// The login name, and the name hall.toml shows for it.
    pub clerk: String,
    pub name: String,
    pub windows: Vec<String>,
    pub first_open: Option<String>,
    pub last_close: Option<String>,
    pub open_minutes: f64,
    pub pauses: u32,
    pub paused_minutes: f64,
    /// Paused minutes per reason code (`""`: none given).
    pub paused_by_reason: Vec<(String, f64)>,
    pub completed: u32,
    pub incomplete: u32,
    pub no_shows: u32,
    pub service_mean_minutes: Option<f64>,
    pub ratings: u32,
    /// Ratings of 4 and 5, and of 1 and 2.
    pub satisfied: u32,
    pub unsatisfied: u32,
    pub escalations: u32,
    /// Time signed in: from sign-in to sign-out or the day's end (not from a window's
    /// opening).
    pub signed_in_minutes: f64,
}

fn minutes(ms: u64) -> f64 {
    (ms as f64 / 6_000.0).round() / 10.0
}

/// The rows of one replayed day, by clerk, with what windows open over the midnight
/// before ran on into it (`before`, the day before's carry); `name` gives a clerk's shown
/// name, and `clerk` says whether a user is a clerk (a supervisor's sign-ins make no row).
pub fn rows_of(
    setup: &Setup,
    day: NaiveDate,
    (d, before): (&Day, Option<&Day>),
    name: impl Fn(&str) -> String,
    clerk: impl Fn(&str) -> bool,
) -> Vec<ScoreRow> {
    let mut days = d.scorecards.clone();
    let opening = super::day_bounds(setup, day).0;
    for (user, carry) in before.map(|b| &b.scorecards_carry).into_iter().flatten() {
        days.entry(user.clone()).or_default().take_carry(carry, opening);
    }
    let worked = |c: &ClerkDay| !c.windows.is_empty();
    days.iter()
        .filter(|(user, c)| clerk(user.as_str()) || worked(c))
        .map(|(user, c)| row(setup, day, user.as_str(), &name(user.as_str()), c))
        .collect()
}

fn row(setup: &Setup, day: NaiveDate, clerk: &str, name: &str, c: &ClerkDay) -> ScoreRow {
    let local = |t: Option<crate::core::model::Ts>| t.map(|t| crate::time::local_second(setup, t));
    ScoreRow {
        day,
        clerk: clerk.to_string(),
        name: name.to_string(),
        windows: c.windows.iter().map(ToString::to_string).collect(),
        first_open: local(c.first_open),
        last_close: local(c.last_close),
        open_minutes: minutes(c.open_ms),
        pauses: c.pauses,
        paused_minutes: minutes(c.paused_total_ms()),
        paused_by_reason: c.paused_ms.iter().map(|(r, ms)| (r.clone(), minutes(*ms))).collect(),
        completed: c.completed,
        incomplete: c.incomplete,
        no_shows: c.no_shows,
        service_mean_minutes: c.service_mean_ms().map(minutes),
        ratings: c.ratings.iter().sum(),
        satisfied: c.ratings[3] + c.ratings[4],
        unsatisfied: c.ratings[0] + c.ratings[1],
        escalations: c.escalations,
        signed_in_minutes: minutes(c.signed_in_ms),
    }
}

/// The days of `month` (its first day) up to `today`.
pub fn days_of(month: NaiveDate, today: NaiveDate) -> Vec<NaiveDate> {
    month.iter_days().take_while(|d| d.month() == month.month() && *d <= today).collect()
}

/// The month's rows as CSV: a pause column per reason of the hall's list, and one for
/// pauses given no reason.
pub fn csv(rows: &[ScoreRow], reasons: &[PauseReason]) -> Result<Vec<u8>, ExportError> {
    let mut w = writer_for_office();
    let mut head: Vec<String> =
        ["日期", "工号", "姓名", "窗口", "首次开窗", "最后关窗", "开窗时长(分)", "暂停次数", "暂停时长(分)"]
            .map(String::from)
            .to_vec();
    head.extend(reasons.iter().map(|r| format!("暂停·{}(分)", r.name)));
    head.push("暂停·未注明(分)".into());
    head.extend(
        ["办结", "未办结", "过号", "平均办理(分)", "评价数", "满意(4-5分)", "不满意(1-2分)", "办不成事"]
            .map(String::from),
    );
    head.push("签到时长(分)".into());
    w.write_record(&head).map_err(ExportError::from)?;
    for r in rows {
        let paused = |code: &str| r.paused_by_reason.iter().find(|(c, _)| c == code).map_or(0.0, |(_, m)| *m);
        let mut rec = vec![
            r.day.to_string(),
            r.clerk.clone(),
            r.name.clone(),
            r.windows.join(" "),
            r.first_open.clone().unwrap_or_default(),
            r.last_close.clone().unwrap_or_default(),
            format!("{:.1}", r.open_minutes),
            r.pauses.to_string(),
            format!("{:.1}", r.paused_minutes),
        ];
        rec.extend(reasons.iter().map(|x| format!("{:.1}", paused(&x.code))));
        rec.push(format!("{:.1}", paused(NO_REASON)));
        rec.extend([
            r.completed.to_string(),
            r.incomplete.to_string(),
            r.no_shows.to_string(),
            r.service_mean_minutes.map(|m| format!("{m:.1}")).unwrap_or_default(),
            r.ratings.to_string(),
            r.satisfied.to_string(),
            r.unsatisfied.to_string(),
            r.escalations.to_string(),
            format!("{:.1}", r.signed_in_minutes),
        ]);
        w.write_record(&rec).map_err(ExportError::from)?;
    }
    super::export::finish_office(w)
}
