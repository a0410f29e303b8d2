//! `GET /api/v1/reports/stuck?week=YYYY-Www` and `…/stuck.csv`: the items that get stuck
//! over an ISO week (及时发现并纠正服务问题), for supervisors and admins. The windows' part
//! is each day's report replay (`crate::reports`, cached once a day is over); the cases'
//! part is the case book as it stands now. Days of the week whose records are past the
//! hall's retention are named in `unavailable`.

use axum::extract::{Query as UrlQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::{auth, AppState};
use crate::config::Role;
use crate::core::escalation::Escalation;
use crate::reports::stuck::{self, StuckRow};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeekParams {
    week: Option<String>,
}

type Params = Result<UrlQuery<WeekParams>, axum::extract::rejection::QueryRejection>;

/// The asked week (this week when none is named), its rows, and its days the log no
/// longer holds.
struct Week {
    name: String,
    monday: NaiveDate,
    rows: Vec<StuckRow>,
    unavailable: Vec<NaiveDate>,
}

async fn week(app: &AppState, headers: &HeaderMap, params: Params) -> Result<Week, ApiError> {
    auth::user(app, headers, &[Role::Supervisor, Role::Admin])?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let setup = app.hall.reports.setup();
    let today = setup.day_of(app.now());
    let monday = match params.week.as_deref() {
        None | Some("") => stuck::parse_week(&stuck::week_name(today)).unwrap_or(today),
        Some(w) => stuck::parse_week(w).ok_or_else(|| {
            ApiError::bad_request("bad_week", "week must be an ISO week written YYYY-Www, such as 2026-W48")
        })?,
    };
    if monday > today {
        return Err(ApiError::bad_request("future_week", format!("{} has not begun", stuck::week_name(monday))));
    }
    let sunday = monday.checked_add_days(Days::new(6)).unwrap_or(monday);
    let mut replayed = Vec::new();
    let mut unavailable = Vec::new();
    for day in monday.iter_days().take_while(|d| *d <= sunday && *d <= today) {
        match app.hall.reports.from_log(day, today).await {
            Ok(Some(built)) if built.day.is_some() => replayed.push(built),
            Ok(_) => unavailable.push(day),
            Err(e) => return Err(ApiError::internal("a day of the stuck items could not be built", &e)),
        }
    }
    let (now, cases) = app.hall.engine.read(move |r| (r.today(), opened(r, monday, sunday))).await?;
    let days: Vec<_> = replayed.iter().filter_map(|b| b.day.as_ref().map(|d| &d.stuck)).collect();
    let rows = stuck::rows(setup, &days, &cases, now);
    Ok(Week { name: stuck::week_name(monday), monday, rows, unavailable })
}

/// The cases opened from `since` to `until`: at most the days' cases' cap each.
fn opened(r: &crate::engine::Reads<'_>, since: NaiveDate, until: NaiveDate) -> Vec<Escalation> {
    r.state().escalations.cases.values().filter(|c| c.day >= since && c.day <= until).cloned().collect()
}

/// `GET /api/v1/reports/stuck?week=YYYY-Www`.
pub async fn json(State(app): State<AppState>, headers: HeaderMap, params: Params) -> Result<Response, ApiError> {
    let w = week(&app, &headers, params).await?;
    let until = w.monday.checked_add_days(Days::new(6)).unwrap_or(w.monday);
    let body = json!({
        "week": w.name,
        "from": w.monday.to_string(),
        "until": until.to_string(),
        "items": w.rows,
        "unavailable": w.unavailable,
    });
    Ok(Json(body).into_response())
}

/// `GET /api/v1/reports/stuck.csv?week=YYYY-Www`.
pub async fn csv(State(app): State<AppState>, headers: HeaderMap, params: Params) -> Result<Response, ApiError> {
    let w = week(&app, &headers, params).await?;
    let bytes = stuck::csv(&w.rows).map_err(|e| ApiError::internal("stuck.csv failed", &e))?;
    Ok(super::reports::csv_response(bytes, format!("hallq-stuck-{}.csv", w.name)))
}
