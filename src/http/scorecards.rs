//! `GET /api/v1/reports/scorecards?month=YYYY-MM` and `…/scorecards.csv`: the clerks'
//! scorecards (考勤考核) of a month, a row per clerk and day, for supervisors and admins.
//! Each day is the day's report replay (`crate::reports`), built at most `BUILDS_MAX` at
//! once and cached once the day is over, so a month asked again costs nothing new. Days
//! whose records are past the hall's retention are named in `unavailable`.

use axum::extract::{Query as UrlQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Datelike as _, NaiveDate};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::{auth, AppState};
use crate::config::Role;
use crate::core::model::UserName;
use crate::reports::scorecards::{self, ScoreRow};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthParams {
    month: Option<String>,
}

type Params = Result<UrlQuery<MonthParams>, axum::extract::rejection::QueryRejection>;

/// The month's rows, and the days of it the log no longer holds.
async fn month_rows(
    app: &AppState,
    headers: &HeaderMap,
    params: Params,
) -> Result<(String, Vec<ScoreRow>, Vec<NaiveDate>), ApiError> {
    auth::user(app, headers, &[Role::Supervisor, Role::Admin])?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let setup = app.hall.reports.setup();
    let today = setup.day_of(app.now());
    let month = match params.month.as_deref() {
        None => today.with_day0(0).unwrap_or(today),
        Some(m) => parse_month(m).ok_or_else(|| ApiError::bad_request("bad_month", "month must be written YYYY-MM"))?,
    };
    if month > today {
        return Err(ApiError::bad_request("future_month", format!("{} has not begun", month.format("%Y-%m"))));
    }
    let (mut rows, mut unavailable) = (Vec::new(), Vec::new());
    // The day before the month, for what its windows open over midnight ran on into it.
    let mut before = match month.pred_opt() {
        Some(day) => app.hall.reports.from_log(day, today).await.ok().flatten(),
        None => None,
    };
    let name = |c: &str| app.edge.identity.display_name(c);
    let staff = app.edge.identity.staff().await?;
    let directory = crate::identity::Directory::new(&app.hall.config, &staff);
    let clerk = |c: &str| UserName::parse(c).ok().and_then(|u| directory.role(&u)) == Some(Role::Clerk);
    for day in scorecards::days_of(month, today) {
        let built = match app.hall.reports.from_log(day, today).await {
            Ok(built) => built,
            Err(e) => return Err(ApiError::internal("a day of the scorecards could not be built", &e)),
        };
        let prior = before.as_ref().and_then(|b| b.day.as_ref());
        match built.as_ref().and_then(|b| b.day.as_ref()) {
            Some(d) => rows.extend(scorecards::rows_of(setup, day, (d, prior), name, clerk)),
            None => unavailable.push(day),
        }
        before = built;
    }
    Ok((month.format("%Y-%m").to_string(), rows, unavailable))
}

/// `YYYY-MM`, exactly (chrono alone reads `26-03` as the year 26), as its first day.
fn parse_month(m: &str) -> Option<NaiveDate> {
    let b = m.as_bytes();
    let shaped = b.len() == 7 && b[4] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit());
    shaped.then(|| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok()).flatten()
}

pub async fn month(State(app): State<AppState>, headers: HeaderMap, params: Params) -> Result<Response, ApiError> {
    let (month, rows, unavailable) = month_rows(&app, &headers, params).await?;
    let reasons: Vec<_> =
        app.hall.config.setup.pause_reasons.iter().map(|r| json!({ "code": r.code, "name": r.name })).collect();
    Ok(Json(json!({ "month": month, "pause_reasons": reasons, "rows": rows, "unavailable": unavailable }))
        .into_response())
}

pub async fn csv(State(app): State<AppState>, headers: HeaderMap, params: Params) -> Result<Response, ApiError> {
    let (month, rows, _) = month_rows(&app, &headers, params).await?;
    let bytes = scorecards::csv(&rows, &app.hall.config.setup.pause_reasons)
        .map_err(|e| ApiError::internal("scorecards.csv failed", &e))?;
    Ok(super::reports::csv_response(bytes, format!("hallq-scorecards-{month}.csv")))
}
