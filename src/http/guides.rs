//! 全程领办 endpoints for guides (`[[user]] role = "guide"`): a ticket issued for a visitor
//! who cannot use the kiosk (assisted, with or without escort), an existing ticket taken
//! under escort by its number and let go, and the guide's own visitors; for supervisors,
//! the figures per guide (`/api/v1/stats`' `guides`, reports/guides.csv).
//!
//! Who may do what: only a guide issues, escorts and releases, always as themselves (the
//! session's user is the command's guide, so the audit names who acted); a guide's answer
//! never carries a visitor's key (the invariant that staff cannot act as a visitor holds
//! for guides too). A guide is no clerk: the window routes refuse the role. A visitor
//! without a phone gets paper instead: the guide names a kiosk whose printer prints the
//! ticket with its status QR (`print_at`), so the key goes onto paper, not to the guide.

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::dto::TicketDto;
use super::error::ApiError;
use super::guide_dto::{EscortDto, GuidePageDto, GuideStatsDto};
use super::printers::PrintDto;
use super::tickets::{new_ticket_id, ticket_command_view};
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::config::Role;
use crate::core::guide::{live, NUMBER_CHARS_MAX};
use crate::core::stats::DayStats;
use crate::core::{Command, Envelope};

const GUIDES: &[Role] = &[Role::Guide];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistBody {
    service: String,
    #[serde(default)]
    priority: Option<String>,
    /// Take the visitor under escort at once.
    #[serde(default)]
    escort: bool,
    /// Print the ticket on this kiosk's printer (a visitor without a phone takes the paper,
    /// with its status QR, from the kiosk by the guide).
    #[serde(default)]
    print_at: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscortBody {
    number: String,
}

/// A guide's answer: the ticket acted on, as staff see it (no visitor's key), and what
/// became of its print-out when the guide sent it to a kiosk's printer.
#[derive(Serialize)]
pub struct GuidedDto {
    ticket: TicketDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    print: Option<PrintDto>,
}

/// A kiosk's printer a guide may send an assisted ticket to.
#[derive(Serialize)]
pub struct GuidePrinterDto {
    kiosk: String,
    name: String,
    /// What the printer last said of itself (`ok`, `paper_out`, …).
    status: &'static str,
}

/// The kiosk named by `print_at`, which must have a printer; checked before the ticket is
/// issued, so that a wrong name changes nothing.
fn printer_kiosk(app: &AppState, print_at: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(kiosk) = print_at else { return Ok(None) };
    if app.hall.printers.def(kiosk).is_none() {
        let shown: String = kiosk.chars().take(40).collect();
        let message = format!("kiosk {shown:?} has no ticket printer; pick one listed in /api/v1/guide under printers");
        return Err(ApiError::bad_request("no_printer", message));
    }
    Ok(Some(kiosk.to_string()))
}

/// The printers a guide may print at, in the kiosks' order.
pub(super) fn printers(app: &AppState) -> Vec<GuidePrinterDto> {
    let kiosks = app.hall.config.kiosks.iter().filter(|k| k.printer.is_some());
    let status = |id: &str| app.hall.printers.view(id).map_or("unknown", |v| v.state.health.as_str());
    kiosks.map(|k| GuidePrinterDto { kiosk: k.id.clone(), name: k.name.clone(), status: status(&k.id) }).collect()
}

/// `POST /api/v1/guide/tickets`: a guide issues a ticket for a visitor, at a kiosk's rate.
pub async fn assist(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AssistBody>,
) -> Result<(StatusCode, Json<GuidedDto>), ApiError> {
    let session = auth::user(&app, &headers, GUIDES)?;
    let limiter_key = format!("guide:{}", session.user);
    app.edge.limits.kiosk.take(&limiter_key, app.now().0).map_err(|ms| ApiError::too_many("for this guide", ms))?;
    let key = idempotency_key(&headers, body.idempotency_key.as_deref(), &format!("user:{}", session.user))?;
    let print_at = printer_kiosk(&app, body.print_at.as_deref())?;
    let guide = session.user.clone();
    let command = Command::IssueAssisted {
        id: new_ticket_id(),
        service: body.service,
        priority: body.priority,
        guide: session.user,
        escort: body.escort,
    };
    let (view, repeated) = ticket_command_view(&app, Envelope { command, idempotency_key: key }).await?;
    let status = if repeated { StatusCode::OK } else { StatusCode::CREATED };
    // The paper carries the visitor's status link; the guide's answer does not.
    let print = print_at.and_then(|kiosk| {
        let print = super::printers::after_issue(&app, &kiosk, &headers, &view, repeated);
        tracing::info!(%guide, %kiosk, number = %view.ticket.number, "assisted ticket sent to a kiosk's printer");
        print
    });
    Ok((status, Json(GuidedDto { ticket: TicketDto::new(&app.hall.config, &view), print })))
}

/// `POST /api/v1/guide/escorts` with `{"number": "A012"}`: the guide takes today's ticket
/// under escort.
pub async fn escort(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<EscortBody>,
) -> Result<Json<GuidedDto>, ApiError> {
    let session = auth::user(&app, &headers, GUIDES)?;
    let number = number(&body.number)?;
    let key = idempotency_key(&headers, None, &format!("user:{}", session.user))?;
    let command = Command::Escort { number, guide: session.user };
    let (view, _) = ticket_command_view(&app, Envelope { command, idempotency_key: key }).await?;
    Ok(Json(GuidedDto { ticket: TicketDto::new(&app.hall.config, &view), print: None }))
}

/// `POST /api/v1/guide/escorts/{number}/release`: the guide lets go of a visitor.
pub async fn release(
    State(app): State<AppState>,
    Path(n): Path<String>,
    headers: HeaderMap,
) -> Result<Json<GuidedDto>, ApiError> {
    let session = auth::user(&app, &headers, GUIDES)?;
    let number = number(&n)?;
    let key = idempotency_key(&headers, None, &format!("user:{}", session.user))?;
    let command = Command::ReleaseEscort { number, guide: session.user };
    let (view, _) = ticket_command_view(&app, Envelope { command, idempotency_key: key }).await?;
    Ok(Json(GuidedDto { ticket: TicketDto::new(&app.hall.config, &view), print: None }))
}

/// A ticket number as a guide typed it, within its bound.
fn number(n: &str) -> Result<String, ApiError> {
    let n = n.trim();
    if n.is_empty() || n.chars().count() > NUMBER_CHARS_MAX {
        let message = format!("name the ticket by its number, such as A012 (at most {NUMBER_CHARS_MAX} characters)");
        return Err(ApiError::bad_request("bad_number", message));
    }
    Ok(n.to_string())
}

/// `GET /api/v1/guide`: the signed-in guide's visitors under escort, for the guide's page
/// (read again on the feed's bursts; each with its place in line, expected wait, window and
/// bundle step). Each answer is a read on the engine, so a guide reads at a rate of their
/// own (`[hall.limits] guide_reads_burst`), counted per user, whichever of their sessions
/// asks.
pub async fn page(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<GuidePageDto>, ApiError> {
    let session = auth::user(&app, &headers, GUIDES)?;
    let limited = app.edge.limits.guide_reads.take(&session.user.to_string(), app.now().0);
    limited.map_err(|ms| ApiError::too_many("for this guide's visitors", ms))?;
    let guide = session.user.clone();
    let escorts = app.hall.engine.read(move |r| r.escorted(&guide)).await?;
    let config = &app.hall.config;
    let policy = &config.setup.guides;
    Ok(Json(GuidePageDto {
        guide: session.user.to_string(),
        display_name: app.edge.identity.display_name(session.user.as_str()),
        escorts_max: policy.escorts_max,
        escort_priority: policy.escort_priority.as_ref().map(ToString::to_string),
        live: escorts.iter().filter(|e| live(e.view.ticket.status)).count(),
        visitors: escorts.iter().map(|e| EscortDto::new(config, e)).collect(),
        printers: printers(&app),
    }))
}

/// `/api/v1/stats`' `guides`: each guide's day, in the order of their names.
pub fn stats_part(app: &AppState, figures: &DayStats) -> Vec<GuideStatsDto> {
    figures.guides.iter().map(|(g, f)| GuideStatsDto::new(&app.hall.config, g.as_str(), f)).collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvParams {
    day: Option<String>,
}

/// The CSV's header.
pub const CSV_HEADER: [&str; 12] = [
    "日期",
    "导办",
    "姓名",
    "代取号",
    "全程领办",
    "结束领办",
    "等候次数",
    "平均等候(分钟)",
    "最长等候(分钟)",
    "评价数",
    "平均评分",
    "差评",
];

/// `GET /api/v1/reports/guides.csv?day=YYYY-MM-DD` (supervisors and admins): one row per
/// guide of the day (today without `day`), from the day's figures.
pub async fn csv(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Result<UrlQuery<CsvParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    auth::user(&app, &headers, &[Role::Supervisor, Role::Admin])?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let day = super::reports::day_param(params.day.as_deref())?;
    let (day, figures) = app.hall.engine.read(move |r| r.stats(day)).await?;
    let rows = stats_part(&app, &figures);
    let bytes = csv_bytes(&day.to_string(), &rows).map_err(|e| ApiError::internal("guides.csv failed", &e))?;
    Ok(super::reports::csv_response(bytes, format!("hallq-guides-{day}.csv")))
}

fn csv_bytes(day: &str, rows: &[GuideStatsDto]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(CSV_HEADER)?;
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        w.write_record([
            day.to_string(),
            r.guide.clone(),
            super::escalations::cell(&r.display_name),
            r.assisted.to_string(),
            r.escorted.to_string(),
            r.released.to_string(),
            r.waits.to_string(),
            opt(r.wait_avg_minutes),
            opt(r.wait_max_minutes),
            r.rated.to_string(),
            opt(r.score_avg),
            r.bad.to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}
