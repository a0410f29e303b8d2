//! The supervisor's reports: a day's figures as JSON, its charts as SVG and its CSV
//! exports (`/api/v1/reports/day…?date=YYYY-MM-DD`, supervisor and admin only). The
//! reports are built by `crate::reports` off the engine; the engine is asked only for the
//! retained figures of a day whose records are gone.

use std::sync::Arc;

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

use super::error::ApiError;
use super::{auth, AppState};
use crate::config::Role;
use crate::reports::figures::Report;
use crate::reports::{charts, export, Built};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayParams {
    date: Option<String>,
}

type Params = Result<UrlQuery<DayParams>, axum::extract::rejection::QueryRejection>;

/// The report of the asked day (today when none is named), for a supervisor or admin.
async fn built(app: &AppState, headers: &HeaderMap, params: Params) -> Result<Arc<Built>, ApiError> {
    auth::user(app, headers, &[Role::Supervisor, Role::Admin])?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let today = app.hall.reports.setup().day_of(app.now());
    let day = match params.date {
        None => today,
        Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_request("bad_date", "date must be a day in the form YYYY-MM-DD"))?,
    };
    if day > today {
        return Err(ApiError::bad_request("future_date", format!("{day} has not begun; ask for today or a past day")));
    }
    match app.hall.reports.from_log(day, today).await {
        Ok(Some(built)) => Ok(built),
        Ok(None) => {
            let (_, figures) = app.hall.engine.read(move |r| r.stats(Some(day))).await?;
            Ok(Arc::new(app.hall.reports.from_figures(day, &figures)))
        }
        Err(e) => Err(ApiError::internal("a report could not be built", &e)),
    }
}

/// The day's records are past the retention: this part of the report cannot be made.
fn unavailable(what: &str, day: NaiveDate) -> ApiError {
    ApiError::not_found(
        "report_unavailable",
        format!("the {what} of {day} are no longer available: its records are past the hall's retention_days; only its figures remain"),
    )
}

pub async fn day(State(app): State<AppState>, headers: HeaderMap, params: Params) -> Result<Json<Report>, ApiError> {
    let built = built(&app, &headers, params).await?;
    Ok(Json(with_display_names(&app, &built.report)))
}

/// The report with each clerk's `name` their `display_name` (`id` stays the login name):
/// the report itself is cached, and hall.toml's names may change at a restart.
fn with_display_names(app: &AppState, report: &Report) -> Report {
    let mut report = report.clone();
    for c in &mut report.clerks {
        c.name = app.edge.identity.display_name(&c.id);
    }
    report
}

/// `charts/{name}.svg`.
pub async fn chart(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let name = file.strip_suffix(".svg").filter(|n| charts::CHARTS.contains(n)).ok_or_else(|| {
        ApiError::not_found(
            "unknown_chart",
            format!("no chart {file:?}; the charts are {}.svg", charts::CHARTS.join(".svg, ")),
        )
    })?;
    let built = built(&app, &headers, params).await?;
    let Some(day) = &built.day else { return Err(unavailable("charts", built.report.day)) };
    let svg = charts::render(name, day, &built.report, app.hall.reports.setup())
        .ok_or_else(|| ApiError::not_found("unknown_chart", "no such chart"))?
        .map_err(|e| ApiError::internal("a chart could not be drawn", &e))?;
    let headers = [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"), (header::CACHE_CONTROL, "no-store")];
    Ok((headers, svg).into_response())
}

/// A report's `?day=` (today's without one), or a clear 400.
pub(super) fn day_param(day: Option<&str>) -> Result<Option<chrono::NaiveDate>, ApiError> {
    day.map(|d| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_request("bad_day", "day must be a date in the form YYYY-MM-DD"))
    })
    .transpose()
}

pub(super) fn csv_response(bytes: Vec<u8>, filename: String) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (headers, bytes).into_response()
}

pub async fn tickets_csv(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let built = built(&app, &headers, params).await?;
    let Some(day) = &built.day else { return Err(unavailable("tickets", built.report.day)) };
    let bytes =
        export::tickets(day, app.hall.reports.setup()).map_err(|e| ApiError::internal("tickets.csv failed", &e))?;
    Ok(csv_response(bytes, format!("hallq-tickets-{}.csv", built.report.day)))
}

pub async fn figures_csv(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let built = built(&app, &headers, params).await?;
    let bytes = export::figures(&with_display_names(&app, &built.report))
        .map_err(|e| ApiError::internal("figures.csv failed", &e))?;
    Ok(csv_response(bytes, format!("hallq-figures-{}.csv", built.report.day)))
}
