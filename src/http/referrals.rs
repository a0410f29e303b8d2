//! 跨中心转办 endpoints (issue 18): a clerk refers the visitor at their window to another
//! hall of the district; the target hall takes the referral in; the dialog's peers and
//! reasons; the day's referrals as CSV.
//!
//! The order is the target's decision first, then the origin's: `refer` asks the target
//! over NATS (`district::refer`), and only on its ticket does the origin decide `Refer`,
//! finishing its own ticket with the target's number on it. No answer: 503, nothing
//! decided anywhere the clerk cannot repeat (the target's key is the origin hall and
//! ticket, so the repeat gets the same ticket there).
//!
//! `POST /api/v1/referrals` is the target's end. It is not the public's: the hall's
//! listener answers it 404, as any unknown path; only a request the cmd module built
//! from a NATS message on a peer subject carries [`ViaCmd`]. The sender must be one of
//! the hall's `[[district.peer]]`, and the body's `from_hall` the hall whose subject it
//! came on, which NATS's permissions make true (`cmd.rs`).

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

use super::dto::TicketDto;
use super::error::ApiError;
use super::referral_dto::{PeersDto, ReferralStatsDto};
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::config::{Peer, Role};
use crate::core::model::{Ticket, TicketId, TicketStatus, UserName, WindowId};
use crate::core::referral::{Origin, Sent, NOTE_CHARS_MAX};
use crate::core::{answer, Command, Envelope, Rejection};
use crate::district::refer::{ReferBody, WithdrawBody, Withdrawn};

/// The mark of a request the cmd module built from a message on one of the hall's peer
/// subjects (`district::cmd`), naming the hall whose subject it came on: the only way to
/// the target's end of a referral.
#[derive(Clone, Debug)]
pub struct ViaCmd {
    pub from_hall: String,
}

/// Longest origin reference taken: a ticket id is 32 hex digits; the idempotency key
/// made of it and the origin's id stays within the core's 128 bytes.
const REFERENCE_CHARS_MAX: usize = 48;
/// Referrals of one origin ticket taken in a day, each after the last was withdrawn or
/// cancelled: a visitor referred, back at the origin and referred again a few times.
const GENERATIONS_MAX: u32 = 4;

/// The referral routes, merged into the hall's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/windows/{w}/refer", post(refer))
        .route("/api/v1/referrals/peers", get(peers))
        .route("/api/v1/referrals", post(accept))
        .route("/api/v1/referrals/withdraw", post(withdraw))
        .route("/api/v1/reports/referrals.csv", get(csv))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferRequest {
    to_hall: String,
    reason: String,
    #[serde(default)]
    note: Option<String>,
}

/// `GET /api/v1/referrals/peers`: the halls and reasons of the clerk's dialog.
async fn peers(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<PeersDto>, ApiError> {
    auth::user(&app, &headers, &[Role::Clerk, Role::Supervisor, Role::Admin])?;
    Ok(Json(PeersDto::new(&app.hall.config)))
}

/// `POST /api/v1/windows/{w}/refer`: the clerk signed in at `w` refers its called or
/// serving ticket to `to_hall`.
async fn refer(
    State(app): State<AppState>,
    Path(w): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ReferRequest>,
) -> Result<Response, ApiError> {
    let session = auth::user(&app, &headers, &[Role::Clerk])?;
    let window =
        WindowId::parse(&w).map_err(|_| ApiError::not_found("unknown_window", format!("no such window {w:?}")))?;
    let link = app.hall.config.district.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "no_district",
            "this hall has no [district] in hall.toml: referrals go through the district",
        )
    })?;
    let refs = &link.referrals;
    let peer = refs.peer(&body.to_hall).ok_or_else(|| {
        ApiError::bad_request("unknown_peer", "refer only to a hall of [[district.peer]] (GET /api/v1/referrals/peers)")
    })?;
    if !refs.reasons.contains(&body.reason) {
        return Err(ApiError::bad_request(
            "bad_reason",
            "give one of the hall's referral reasons (GET /api/v1/referrals/peers)",
        ));
    }
    let note = body.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > NOTE_CHARS_MAX) {
        return Err(ApiError::bad_request("bad_note", format!("a note is at most {NOTE_CHARS_MAX} characters")));
    }
    let key = idempotency_key(&headers, None, &format!("user:{}", session.user))?;
    let held = held(&app, window, session.user.clone()).await?;
    let service =
        held.bundle.as_ref().map(ToString::to_string).or_else(|| held.services.first().map(ToString::to_string));
    let asked = ReferBody {
        from_hall: link.hall_id.clone(),
        from_name: app.hall.config.setup.hall_name.clone(),
        reference: held.id.to_string(),
        number: held.number.to_string(),
        reason: body.reason.clone(),
        note: note.clone(),
        service: service.unwrap_or_default(),
        priority: held.priority.as_ref().map(ToString::to_string),
    };
    let answer = app.edge.referrals.ask(link, &peer.id, &asked).await?;
    if !answer.status.is_success() {
        return Err(refused(&peer.name, answer.status, &answer.body));
    }
    let taken: TakenDto = serde_json::from_slice(&answer.body)
        .map_err(|e| ApiError::internal("the target hall's answer to a referral", &e))?;
    let ticket = TicketId::parse(&taken.id).map_err(|e| ApiError::internal("the target hall's ticket id", &e))?;
    let to = Sent {
        hall: peer.id.clone(),
        name: peer.name.clone(),
        reason: body.reason,
        note,
        number: taken.number,
        ticket,
        key: taken.key,
    };
    let command = Command::Refer { window, clerk: session.user.clone(), to: Box::new(to) };
    let env = Envelope { command, idempotency_key: key };
    match app.hall.engine.command_for::<answer::Ticket, _>(env, |r, id| r.known_ticket(&id)).await {
        Ok(done) => Ok(Json(TicketDto::new(&app.hall.config, &done.value)).into_response()),
        // Not recorded here (the ticket left the window while the target decided, or the
        // write failed): the target's ticket is withdrawn, so nothing is half-done.
        Err(e) => {
            let body =
                WithdrawBody { from_hall: link.hall_id.clone(), reference: asked.reference, ticket: Some(taken.id) };
            let withdrawn = app.edge.referrals.withdraw(link, &peer.id, &body, answer).await;
            let mut e = ApiError::from(e);
            e.fields.push(("target_withdrawn", serde_json::Value::Bool(withdrawn == Withdrawn::Yes)));
            e.message = match withdrawn {
                Withdrawn::Yes => format!("{}; {}已撤回为其签发的号码", e.message, peer.name),
                Withdrawn::No => format!("{}; {}为其签发的号码未能撤回", e.message, peer.name),
            };
            Err(e)
        }
    }
}

/// The ticket the clerk's window holds, checked as the core checks it, before the target
/// is asked.
async fn held(app: &AppState, window: WindowId, clerk: UserName) -> Result<Ticket, ApiError> {
    let held = app.hall.engine.try_read(move |r| {
        let w = r.known_window(&window)?;
        if w.window.clerk.as_ref() != Some(&clerk) {
            return Err(Rejection::NotYourWindow(window.to_string()));
        }
        let t = w.ticket.ok_or_else(|| Rejection::NoTicket(window.to_string()))?;
        match t.ticket.status {
            TicketStatus::Called | TicketStatus::Serving => Ok(t.ticket),
            other => Err(Rejection::WrongTicketState(other.as_str())),
        }
    });
    Ok(held.await?)
}

/// The part of the target's ticket answer the origin keeps.
#[derive(Deserialize)]
struct TakenDto {
    id: String,
    number: String,
    #[serde(default)]
    key: Option<String>,
}

/// The target's refusal, in words for the clerk: its status, its code as `target_code`.
fn refused(hall: &str, status: axum::http::StatusCode, body: &[u8]) -> ApiError {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = v["error"]["code"].as_str().unwrap_or("refused").to_string();
    let message = v["error"]["message"].as_str().unwrap_or("no reason given").to_string();
    let mut e = ApiError::new(status, "referral_refused", format!("{hall}未能接收：{message}"));
    e.fields.push(("target_code", serde_json::Value::String(code)));
    e
}

/// The body of a request that came on a peer subject (the cmd module's `ViaCmd` mark),
/// and the hall whose subject it was; any other way, the route does not exist.
async fn via_cmd<T>(
    via: Option<Extension<ViaCmd>>,
    body: Result<JsonBody<T>, ApiError>,
) -> Result<(T, String), ApiError> {
    let Some(Extension(via)) = via else {
        return Err(super::public::not_found().await);
    };
    Ok((body?.0, via.from_hall))
}

/// A referral's `from_hall` must be the hall whose subject it came on.
fn same_sender(from_hall: &str, sender: &str) -> Result<(), ApiError> {
    if from_hall == sender {
        return Ok(());
    }
    tracing::warn!(sender, claimed = from_hall, "a peer hall spoke for another; refused");
    Err(ApiError::forbidden(format!("a hall speaks for itself only: {sender:?} sent from_hall {from_hall:?}")))
}

/// Hall `from` among this hall's `[[district.peer]]`; 403 with `refused` otherwise.
fn peer_of<'a>(app: &'a AppState, from: &str, refused: &str) -> Result<&'a Peer, ApiError> {
    let link = app.hall.config.district.as_ref().ok_or_else(|| ApiError::not_found("not_found", "no district link"))?;
    link.referrals.peer(from).ok_or_else(|| ApiError::forbidden(format!("{refused}, not {from:?}")))
}

/// `POST /api/v1/referrals` (only through the cmd subject): another hall refers a visitor
/// here; a remote ticket is issued for them, waiting for their check-in.
async fn accept(
    State(app): State<AppState>,
    via: Option<Extension<ViaCmd>>,
    body: Result<JsonBody<ReferBody>, ApiError>,
) -> Result<Response, ApiError> {
    let (body, sender) = via_cmd(via, body).await?;
    same_sender(&body.from_hall, &sender)?;
    let peer = peer_of(&app, &body.from_hall, "this hall takes referrals only from its [[district.peer]] halls")?;
    let reference_ok = !body.reference.is_empty()
        && body.reference.len() <= REFERENCE_CHARS_MAX
        && body.reference.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !reference_ok {
        return Err(ApiError::bad_request("bad_referral", "a referral's reference is 1 to 48 letters, digits and '-'"));
    }
    let setup = &app.hall.config.setup;
    // A priority class this hall does not have is dropped, not refused: the visitor keeps
    // their matter, and this hall's kiosk would not have offered the class either.
    let priority = body.priority.filter(|p| setup.priorities.iter().any(|c| c.id.as_str() == p));
    let origin = Origin {
        hall: peer.id.clone(),
        name: peer.name.clone(),
        reference: body.reference.clone(),
        number: body.number,
        reason: body.reason,
        note: body.note,
    };
    let base = format!("referral:{}:{}", peer.id, body.reference);
    // A referral of the same origin ticket after its ticket here was withdrawn or
    // cancelled (the visitor came back after a missed call, say) is a new one: the next
    // key of the same chain, so a retry walks the same keys to the same ticket.
    for generation in 0..GENERATIONS_MAX {
        let command = Command::AcceptReferral {
            id: super::tickets::new_ticket_id(),
            service: body.service.clone(),
            priority: priority.clone(),
            origin: Box::new(origin.clone()),
        };
        let key = Some(if generation == 0 { base.clone() } else { format!("{base}:{generation}") });
        let (view, repeated) =
            super::tickets::ticket_command_view(&app, Envelope { command, idempotency_key: key }).await?;
        if repeated && view.ticket.status == TicketStatus::Cancelled {
            continue;
        }
        let status = if repeated { StatusCode::OK } else { StatusCode::CREATED };
        let ticket = super::tickets::for_visitor(&app, TicketDto::new(&app.hall.config, &view));
        return Ok((status, Json(ticket)).into_response());
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "referral_withdrawn",
        format!("this visitor was referred here {GENERATIONS_MAX} times today and each was withdrawn or cancelled"),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvParams {
    day: Option<String>,
}

/// `GET /api/v1/reports/referrals.csv?day=`: the day's referrals, sent and taken in.
async fn csv(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Result<UrlQuery<CsvParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    auth::user(&app, &headers, &[Role::Supervisor, Role::Admin])?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let day = super::reports::day_param(params.day.as_deref())?;
    let (day, figures) = app.hall.engine.read(move |r| r.stats(day)).await?;
    let rows = ReferralStatsDto::new(&app.hall.config, &figures.referrals).rows();
    let bytes = csv_bytes(&day.to_string(), &rows).map_err(|e| ApiError::internal("referrals.csv failed", &e))?;
    Ok(super::reports::csv_response(bytes, format!("hallq-referrals-{day}.csv")))
}

fn csv_bytes(day: &str, rows: &[[String; 5]]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(["day", "direction", "hall", "hall_name", "reason", "count"])?;
    for [dir, hall, name, reason, count] in rows {
        let (name, reason) = (super::escalations::cell(name), super::escalations::cell(reason));
        w.write_record([day, dir, hall, name.as_str(), reason.as_str(), count])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// `POST /api/v1/referrals/withdraw` (only through the cmd subject): the hall that
/// referred a visitor here withdraws the ticket it could not record (`district::refer`).
/// Only the referral's own origin may, and only before its visitor checked in; a repeat
/// answers as the first did.
async fn withdraw(
    State(app): State<AppState>,
    via: Option<Extension<ViaCmd>>,
    body: Result<JsonBody<WithdrawBody>, ApiError>,
) -> Result<Response, ApiError> {
    let (body, sender) = via_cmd(via, body).await?;
    same_sender(&body.from_hall, &sender)?;
    let peer = peer_of(&app, &body.from_hall, "only a [[district.peer]] hall withdraws a referral")?;
    let ticket = match body.ticket.as_deref().map(TicketId::parse) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => {
            return Err(ApiError::bad_request("bad_referral", "a withdrawal names the ticket this hall answered with"))
        }
    };
    // Keyed by the ticket it names. One that names none (the origin never heard which) is
    // not keyed: a later referral of the same origin ticket may need its own withdrawal,
    // and a repeat finds nothing left to cancel (404), which is the origin's "done".
    let key = ticket.map(|t| format!("withdraw:{}:{}:{t}", peer.id, body.reference));
    let command = Command::WithdrawReferral { from_hall: peer.id.clone(), reference: body.reference, ticket };
    let (view, _) = super::tickets::ticket_command_view(&app, Envelope { command, idempotency_key: key }).await?;
    Ok(Json(TicketDto::new(&app.hall.config, &view)).into_response())
}
