//! Ticket endpoints: a kiosk issues; anyone with a ticket's id reads it; only its visitor
//! cancels, rejoins after a missed call and rates.
//!
//! The id is no credential: clerks see it in their windows' answers. The visitor's
//! credential is the ticket's key, a keyed hash of its id (HMAC-SHA256 under a key derived
//! from the data directory's `phone-hash.key`, so nothing new is stored or logged), which
//! only the kiosk's answer to the issue, the QR code and the print-out carry: the status
//! page's address is `/t/{id}?k={key}`. The window's evaluator tablet rates with its own
//! device token, and only tickets finished at its window.

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use sha2::Sha256;

use super::dto::TicketDto;
use super::error::ApiError;
use super::printers::IssuedDto;
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::core::model::{TicketId, TicketStatus, WindowId};
use crate::core::{answer, Command, Envelope, Rejection};
use crate::engine::{EngineError, TicketView};

/// Bytes of a ticket's key (hex on the wire): 128 bits, as many as the id's, so guessing
/// a key is as hopeless as guessing an id was.
const TICKET_KEY_BYTES: usize = 16;
/// Longest `k` looked at, in bytes; a real key has twice [`TICKET_KEY_BYTES`].
const TICKET_KEY_CHARS_MAX: usize = 64;

/// The query of a visitor's request: `k`, the ticket's key. Other parameters are ignored.
#[derive(Deserialize, Default)]
pub struct VisitorParams {
    #[serde(default)]
    k: Option<String>,
}

type VisitorQuery = Result<UrlQuery<VisitorParams>, axum::extract::rejection::QueryRejection>;

fn key_of(q: &VisitorQuery) -> Option<&str> {
    q.as_ref().ok().and_then(|UrlQuery(p)| p.k.as_deref()).map(str::trim).filter(|k| !k.is_empty())
}

/// The visitor's key of ticket `id` (`None` only if HMAC refused a key, which it cannot).
pub(super) fn visitor_key(app: &AppState, id: &TicketId) -> Option<String> {
    // A key of its own, derived from the phone-hash key: the two hashes never share inputs.
    let mut derive = Hmac::<Sha256>::new_from_slice(&app.edge.phone_key).ok()?;
    derive.update(b"hallq ticket key v1");
    let mut mac = Hmac::<Sha256>::new_from_slice(&derive.finalize().into_bytes()).ok()?;
    mac.update(id.to_string().as_bytes());
    Some(mac.finalize().into_bytes().iter().take(TICKET_KEY_BYTES).map(|b| format!("{b:02x}")).collect())
}

/// Who acts on a ticket for its visitor.
enum Holder {
    /// Whoever holds the ticket's key: the visitor's phone, or the kiosk that issued it.
    Visitor,
    /// The evaluator tablet of this window.
    Evaluator(WindowId),
}

/// The caller's claim to act for ticket `id`'s visitor: its key, or (when `evaluator_may`)
/// an evaluator's device token. No key: 401 to strangers, 403 to staff and devices; a
/// wrong key: 403.
fn holder(
    app: &AppState,
    headers: &HeaderMap,
    id: &TicketId,
    q: &VisitorQuery,
    evaluator_may: bool,
) -> Result<Holder, ApiError> {
    if let Some(k) = key_of(q) {
        let right = visitor_key(app, id);
        let same = right.as_deref().is_some_and(|r| {
            k.len() <= TICKET_KEY_CHARS_MAX
                && r.len() == k.len()
                && r.bytes().zip(k.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        });
        return if same { Ok(Holder::Visitor) } else { Err(ApiError::forbidden("this is not the ticket's key")) };
    }
    let no_key = "only the ticket's visitor may do this: send its key k from the status page's address (/t/ID?k=KEY)";
    match auth::bearer(headers) {
        Some(token) => match auth::evaluator_of(app, token) {
            Some(e) if evaluator_may => Ok(Holder::Evaluator(e.window)),
            _ if auth::is_known(app, token) => Err(ApiError::forbidden(no_key)),
            _ => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", no_key)),
        },
        None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", no_key)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    service: String,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
    /// The ID card number an ID-card reader typed in, when `[hall.limits]` limits tickets
    /// per person (`moves.rs`: checked, hashed, never kept).
    #[serde(default)]
    id_card: Option<String>,
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

/// Carries out a command that replies with a ticket, and reads that ticket's view (the
/// domain's, for the printer); also whether the command repeated an earlier one.
pub(super) async fn ticket_command_view(app: &AppState, env: Envelope) -> Result<(TicketView, bool), ApiError> {
    let done = app.hall.engine.command_for::<answer::Ticket, _>(env, |r, id| r.known_ticket(&id)).await?;
    Ok((done.value, done.repeated))
}

/// Carries out a command that replies with a ticket, and renders that ticket; also
/// whether the command repeated an earlier one.
pub(super) async fn ticket_command(app: &AppState, env: Envelope) -> Result<(Json<TicketDto>, bool), ApiError> {
    let (view, repeated) = ticket_command_view(app, env).await?;
    Ok((Json(TicketDto::new(&app.hall.config, &view)), repeated))
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
    app.edge
        .limits
        .for_kiosk(&kiosk.id)
        .take(&kiosk.id, app.now().0)
        .map_err(|ms| ApiError::too_many("from this kiosk", ms))?;
    let key = idempotency_key(&headers, body.idempotency_key.as_deref(), &format!("kiosk:{}", kiosk.id))?;
    let (id, remote) = (new_ticket_id(), kiosk.remote);
    let what = (body.service, body.priority);
    let command = super::moves::issue_command(&app, id, what, kiosk.id.clone(), remote, body.id_card.as_deref())?;
    let issued = ticket_command_view(&app, Envelope { command, idempotency_key: key }).await;
    if let Err(e) = &issued {
        super::moves::count_refusal(&app, e.code);
    }
    let (view, repeated) = issued?;
    let status = if repeated { StatusCode::OK } else { StatusCode::CREATED };
    let ticket = for_visitor(&app, TicketDto::new(&app.hall.config, &view));
    let print = super::printers::after_issue(&app, &kiosk.id, &headers, &view, repeated);
    Ok((status, Json(IssuedDto { ticket, print })))
}

/// `t` as its visitor gets it (from the kiosk that issued it): with its key.
pub(super) fn for_visitor(app: &AppState, t: TicketDto) -> TicketDto {
    match TicketId::parse(&t.id).ok().and_then(|id| visitor_key(app, &id)) {
        Some(key) => t.with_key(key),
        None => t,
    }
}

pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: VisitorQuery,
) -> Result<Json<TicketDto>, ApiError> {
    let id = parse_id(&id)?;
    let view = app.hall.engine.try_read(move |r| r.known_ticket(&id)).await?;
    let mut dto = TicketDto::new(&app.hall.config, &view);
    // A referred ticket's link to its new hall carries that ticket's key: only for the
    // holder of this ticket's own key (a wrong key reads the ticket as without one).
    if let (Some(r), true) = (&view.referral, key_of(&q).is_some()) {
        if matches!(holder(&app, &HeaderMap::new(), &id, &q, false), Ok(Holder::Visitor)) {
            dto.referral = dto.referral.map(|d| d.with_key(r));
        }
    }
    Ok(Json(dto))
}

/// `POST /api/v1/tickets/{id}/cancel?k=KEY`: the visitor leaves the line.
pub async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: VisitorQuery,
    headers: HeaderMap,
) -> Result<Json<TicketDto>, ApiError> {
    let id = parse_id(&id)?;
    holder(&app, &headers, &id, &q, false)?;
    let key = idempotency_key(&headers, None, &format!("ticket:{id}"))?;
    let env = Envelope { command: Command::CancelTicket { id }, idempotency_key: key };
    Ok(ticket_command(&app, env).await?.0)
}

/// `POST /api/v1/tickets/{id}/rejoin?k=KEY`: the visitor puts a missed number back in line.
pub async fn rejoin(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: VisitorQuery,
    headers: HeaderMap,
) -> Result<Json<TicketDto>, ApiError> {
    let id = parse_id(&id)?;
    holder(&app, &headers, &id, &q, false)?;
    let key = idempotency_key(&headers, None, &format!("ticket:{id}"))?;
    let env = Envelope { command: Command::RejoinTicket { id }, idempotency_key: key };
    Ok(ticket_command(&app, env).await?.0)
}

/// `POST /api/v1/tickets/{id}/rating?k=KEY`, or with the device token of the evaluator of
/// the window that finished the ticket.
pub async fn rate(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: VisitorQuery,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RateBody>,
) -> Result<Json<TicketDto>, ApiError> {
    let id = parse_id(&id)?;
    if let Holder::Evaluator(window) = holder(&app, &headers, &id, &q, true)? {
        evaluator_may_rate(&app, &id, &window).await?;
    }
    let score = u8::try_from(body.score).ok().filter(|s| (1..=5).contains(s));
    let score = score.ok_or_else(|| ApiError::bad_request("bad_score", "a score must be 1 to 5"))?;
    let key = idempotency_key(&headers, None, &format!("ticket:{id}"))?;
    let command = Command::RateTicket { id, score, comment: body.comment, reason: body.reason };
    Ok(ticket_command(&app, Envelope { command, idempotency_key: key }).await?.0)
}

/// An evaluator rates only a ticket finished at its own window. A finished ticket stays
/// finished where it was, so what this reads still holds when the rating is decided.
async fn evaluator_may_rate(app: &AppState, id: &TicketId, window: &WindowId) -> Result<(), ApiError> {
    let id = *id;
    let t = app.hall.engine.try_read(move |r| r.known_ticket(&id)).await?.ticket;
    if t.window.as_ref() != Some(window) {
        return Err(ApiError::forbidden(format!(
            "window {window}'s evaluator rates only tickets finished at window {window}"
        )));
    }
    if t.status != TicketStatus::Done {
        return Err(EngineError::Rejected(Rejection::NotRateable(t.status.as_str())).into());
    }
    Ok(())
}

/// Longest Host header used in a QR code's address, in bytes.
const HOST_BYTES_MAX: usize = 255;

/// `scheme://host` as the caller reached the daemon (its Host header, and https behind a
/// proxy that says so), for addresses on QR codes; `None` without a plain Host header.
pub(crate) fn public_base(headers: &HeaderMap) -> Option<String> {
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
    let page = match &app.hall.config.public_url {
        Some(public) => super::dto::status_url(Some(public), id),
        None => format!("{}/t/{id}", public_base(headers)?),
    };
    Some(format!("{page}?k={}", visitor_key(app, id)?))
}

/// `GET /api/v1/tickets/{id}/qr.svg?k=KEY`: a QR code of the ticket-status page's address
/// with its key, for the kiosk's screen (`visitor_status_url`); only for the key's holder.
pub async fn qr(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: VisitorQuery,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    let id = parse_id(&id)?;
    holder(&app, &headers, &id, &q, false)?;
    // Only a ticket that exists gets a code: this is not a QR service for any text.
    app.hall.engine.try_read(move |r| r.known_ticket(&id).map(drop)).await?;
    let url = visitor_status_url(&app, &headers, &id).ok_or_else(bad_host)?;
    qr_svg(&url)
}

pub(crate) fn bad_host() -> ApiError {
    ApiError::bad_request("bad_host", "the request needs a plain Host header")
}

/// An SVG QR code of a status page's address (the hall's, or the district's for its
/// online visitors: `district::online`).
pub(crate) fn qr_svg(url: &str) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
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
