//! Ticket endpoints: a kiosk issues; the holder of a ticket's id reads, cancels, rejoins
//! after a missed call, rates.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use rand::RngCore;
use serde::Deserialize;

use super::dto::TicketDto;
use super::error::ApiError;
use super::printers::IssuedDto;
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::core::model::TicketId;
use crate::core::{Command, Envelope};
use crate::engine::{Answer, Answered, Query};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    service: String,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateBody {
    score: i64,
    #[serde(default)]
    comment: Option<String>,
    /// A bad rating's reason code (`/api/v1/services` lists them under `rating`).
    #[serde(default)]
    reason: Option<String>,
}

/// Renders the ticket an engine answer carries.
pub(super) fn ticket_json(app: &AppState, answered: Answered) -> Result<Json<TicketDto>, ApiError> {
    match answered.answer {
        Answer::Ticket(view) => Ok(Json(TicketDto::new(&app.config, &view))),
        other => Err(ApiError::internal("engine answered a ticket request with something else", &format!("{other:?}"))),
    }
}

pub(super) fn parse_id(id: &str) -> Result<TicketId, ApiError> {
    TicketId::parse(id).map_err(|_| ApiError::not_found("unknown_ticket", "no such ticket"))
}

pub(super) fn new_ticket_id() -> TicketId {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    TicketId::from_bytes(bytes)
}

pub async fn issue(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<IssueBody>,
) -> Result<(StatusCode, Json<IssuedDto>), ApiError> {
    let kiosk = auth::kiosk(&app, &headers)?;
    app.limits
        .for_kiosk(&kiosk.id)
        .take(&kiosk.id, app.now().0)
        .map_err(|ms| ApiError::too_many("from this kiosk", ms))?;
    let key = idempotency_key(&headers, body.idempotency_key.as_deref(), &format!("kiosk:{}", kiosk.id))?;
    let (id, remote) = (new_ticket_id(), kiosk.remote);
    let command =
        Command::IssueTicket { id, service: body.service, priority: body.priority, kiosk: kiosk.id.clone(), remote };
    let answered = app.engine.command(Envelope { command, idempotency_key: key }).await?;
    let (status, repeated) = if answered.repeated { (StatusCode::OK, true) } else { (StatusCode::CREATED, false) };
    let Json(ticket) = ticket_json(&app, answered)?;
    let print = super::printers::after_issue(&app, &kiosk.id, &headers, &ticket, repeated);
    Ok((status, Json(IssuedDto { ticket, print })))
}

pub async fn get(State(app): State<AppState>, Path(id): Path<String>) -> Result<Json<TicketDto>, ApiError> {
    let answered = app.engine.query(Query::Ticket(parse_id(&id)?)).await?;
    ticket_json(&app, answered)
}

pub async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<TicketDto>, ApiError> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers, None, &format!("ticket:{id}"))?;
    let answered = app.engine.command(Envelope { command: Command::CancelTicket { id }, idempotency_key: key }).await?;
    ticket_json(&app, answered)
}

/// `POST /api/v1/tickets/{id}/rejoin`: the holder of a missed number puts it back in line.
pub async fn rejoin(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<TicketDto>, ApiError> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers, None, &format!("ticket:{id}"))?;
    let answered = app.engine.command(Envelope { command: Command::RejoinTicket { id }, idempotency_key: key }).await?;
    ticket_json(&app, answered)
}

pub async fn rate(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RateBody>,
) -> Result<Json<TicketDto>, ApiError> {
    let id = parse_id(&id)?;
    let score = u8::try_from(body.score).ok().filter(|s| (1..=5).contains(s));
    let score = score.ok_or_else(|| ApiError::bad_request("bad_score", "a score must be 1 to 5"))?;
    let key = idempotency_key(&headers, None, &format!("ticket:{id}"))?;
    let command = Command::RateTicket { id, score, comment: body.comment, reason: body.reason };
    let answered = app.engine.command(Envelope { command, idempotency_key: key }).await?;
    ticket_json(&app, answered)
}

/// Longest Host header used in a QR code's address, in bytes.
const HOST_BYTES_MAX: usize = 255;

/// `scheme://host` as the caller reached the daemon (its Host header, and https behind a
/// proxy that says so), for addresses on QR codes; `None` without a plain Host header.
fn public_base(headers: &HeaderMap) -> Option<String> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.len() <= HOST_BYTES_MAX && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))?;
    let scheme = match headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    };
    Some(format!("{scheme}://{host}"))
}

/// Where a visitor's phone opens ticket `id`'s status page: at `[hall] public_url`, else
/// at the Host the kiosk reached the daemon by (a phone on the hall's network may reach
/// it the same way); `None` without a public address or a plain Host header.
pub(super) fn visitor_status_url(app: &AppState, headers: &HeaderMap, id: &TicketId) -> Option<String> {
    match &app.config.public_url {
        Some(public) => Some(super::dto::status_url(Some(public), id)),
        None => public_base(headers).map(|base| format!("{base}/t/{id}")),
    }
}

/// `GET /api/v1/tickets/{id}/qr.svg`: a QR code of the ticket-status page's address, for
/// the kiosk's screen and print-out (`visitor_status_url`).
pub async fn qr(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let id = parse_id(&id)?;
    // Only a ticket that exists gets a code: this is not a QR service for any text.
    app.engine.query(Query::Ticket(id)).await?;
    let url = visitor_status_url(&app, &headers, &id)
        .ok_or_else(|| ApiError::bad_request("bad_host", "the request needs a plain Host header"))?;
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::internal("a QR code could not be made", &e))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    Ok(([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
