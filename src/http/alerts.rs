//! Supervision endpoints: the day's alerts, acknowledging one, and the supervisor's
//! overview of queues and windows. Supervisors and admins only: the overview names the
//! clerk at each window.

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::dto::WindowDto;
use super::error::ApiError;
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::alert_subject::subject_name;
use crate::config::{Config, Role};
use crate::core::alerts::Alert;
use crate::core::overview::Overview;
use crate::core::{answer, Command, Envelope, Rejection};
use crate::time::rfc3339;

const SUPERVISORS: &[Role] = &[Role::Supervisor, Role::Admin];

#[derive(Serialize)]
pub struct AlertDto {
    id: u64,
    kind: &'static str,
    /// `tickets` or `minutes`: what `value` and `threshold` count.
    unit: &'static str,
    queue: Option<String>,
    window: Option<String>,
    /// A printer alert's kiosk and its fault (`offline`, `paper_out`, `cover_open`).
    kiosk: Option<String>,
    fault: Option<&'static str>,
    /// The queue's, window's or kiosk's name.
    name: Option<String>,
    value: u32,
    threshold: u32,
    active: bool,
    raised_at: String,
    cleared_at: Option<String>,
    cleared_value: Option<u32>,
    acked_by: Option<String>,
    acked_at: Option<String>,
}

impl AlertDto {
    pub fn new(config: &Config, a: &Alert) -> Self {
        let setup = &config.setup;
        let kiosk_name = |id: &str| config.kiosks.iter().find(|k| k.id == id).map(|k| k.name.as_str());
        let name = subject_name(setup, a, kiosk_name);
        Self {
            id: a.id,
            kind: a.kind.as_str(),
            unit: a.kind.unit(),
            queue: a.queue.map(|q| q.to_string()),
            window: a.window.map(|w| w.to_string()),
            kiosk: a.kiosk.map(|k| k.to_string()),
            fault: a.fault.map(crate::core::alerts::PrinterFault::as_str),
            name,
            value: a.value,
            threshold: a.threshold,
            active: a.is_active(),
            raised_at: rfc3339(setup, a.raised_at),
            cleared_at: a.cleared_at.map(|t| rfc3339(setup, t)),
            cleared_value: a.cleared_value,
            acked_by: a.acked_by.as_ref().map(ToString::to_string),
            acked_at: a.acked_at.map(|t| rfc3339(setup, t)),
        }
    }
}

#[derive(Serialize)]
pub struct AlertsDto {
    day: String,
    alerts: Vec<AlertDto>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsParams {
    day: Option<String>,
    active: Option<String>,
}

/// `GET /api/v1/alerts?day=YYYY-MM-DD&active=true`: a day's alerts (today by default),
/// oldest first; only those still active with `active=true`.
pub async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Result<UrlQuery<AlertsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AlertsDto>, ApiError> {
    auth::user(&app, &headers, SUPERVISORS)?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let day = super::reports::day_param(params.day.as_deref())?;
    let active = match params.active.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::bad_request("bad_active", "active must be true or false")),
    };
    let (day, list) = app.hall.engine.read(move |r| r.alerts(day, active)).await?;
    Ok(Json(AlertsDto {
        day: day.to_string(),
        alerts: list.iter().map(|a| AlertDto::new(&app.hall.config, a)).collect(),
    }))
}

/// `POST /api/v1/alerts/{id}/ack`: a supervisor has seen the alert. Acknowledging it again
/// answers the same alert, with the first acknowledgement.
pub async fn ack(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(_): JsonBody<Empty>,
) -> Result<Json<AlertDto>, ApiError> {
    let session = auth::user(&app, &headers, SUPERVISORS)?;
    let id: u64 =
        id.parse().map_err(|_| ApiError::not_found("unknown_alert", "no such alert; alert ids are numbers"))?;
    let key = idempotency_key(&headers, None, &format!("user:{}", session.user))?;
    let command = Command::AckAlert { id, by: session.user.clone() };
    let env = Envelope { command, idempotency_key: key };
    let alert = app
        .hall
        .engine
        .command_for::<answer::Alert, _>(env, |r, id| r.alert(id).ok_or(Rejection::UnknownAlert))
        .await?
        .value;
    Ok(Json(AlertDto::new(&app.hall.config, &alert)))
}

/// A body that must be empty or `{}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Serialize)]
pub struct QueueDto {
    id: String,
    name: String,
    waiting: usize,
    oldest_wait_min: u32,
    /// Null when no open window serves the queue (`eta_reason`: `no_open_window`).
    eta_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_reason: Option<&'static str>,
    /// The queue's thresholds; 0 is off.
    alert_waiting: u32,
    alert_wait_min: u32,
}

#[derive(Serialize)]
pub struct WindowRowDto {
    #[serde(flatten)]
    window: WindowDto,
    /// Since when the window is in its state; null while closed.
    since: Option<String>,
    /// Tickets waiting that it could call.
    waiting: usize,
    /// The clerk's `display_name` (else their login name): for this staff page only.
    clerk_name: Option<String>,
}

#[derive(Serialize)]
pub struct OverviewDto {
    day: Option<String>,
    at: String,
    queues: Vec<QueueDto>,
    windows: Vec<WindowRowDto>,
    alerts: Vec<AlertDto>,
    alert_paused_min: u32,
    alert_idle_min: u32,
}

impl OverviewDto {
    fn new(config: &Config, o: &Overview) -> Self {
        let setup = &config.setup;
        Self {
            day: o.day.map(|d| d.to_string()),
            at: rfc3339(setup, o.at),
            queues: o
                .queues
                .iter()
                .map(|q| QueueDto {
                    id: q.id.to_string(),
                    name: q.name.clone(),
                    waiting: q.waiting,
                    oldest_wait_min: q.oldest_wait_min,
                    eta_minutes: q.eta_minutes,
                    eta_reason: q.eta_reason,
                    alert_waiting: q.thresholds.waiting,
                    alert_wait_min: q.thresholds.wait_min,
                })
                .collect(),
            windows: o
                .windows
                .iter()
                .map(|w| WindowRowDto {
                    window: WindowDto::new(&w.window, w.number.as_ref().map(ToString::to_string)),
                    since: w.since.map(|t| rfc3339(setup, t)),
                    waiting: w.waiting,
                    clerk_name: w.window.clerk.as_ref().map(|c| crate::identity::display_name(config, c.as_str())),
                })
                .collect(),
            alerts: o.alerts.iter().map(|a| AlertDto::new(config, a)).collect(),
            alert_paused_min: o.paused_min,
            alert_idle_min: o.idle_min,
        }
    }
}

/// `GET /api/v1/supervision`: queues, windows (with clerk and since when) and today's
/// active alerts, for the supervisor page.
pub async fn overview(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<OverviewDto>, ApiError> {
    auth::user(&app, &headers, SUPERVISORS)?;
    let overview = app.hall.engine.read(|r| r.overview()).await?;
    Ok(Json(OverviewDto::new(&app.hall.config, &overview)))
}
