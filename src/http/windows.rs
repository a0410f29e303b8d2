//! Window endpoints: a clerk opens a window and drives it (next, call, recall, serve,
//! done, no-show, transfer, park, unpark, pause, resume, close; store-next, done-next and
//! walk-direct in `moves.rs`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::dto::{TicketDto, WindowDto};
use super::error::ApiError;
use super::escalation_dto::OutcomeDto;
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::config::Role;
use crate::core::model::{Outcome, QueueId, TicketId, TransferTarget, WindowId};
use crate::core::{answer, Command, Envelope, ReplyKind};
use crate::engine::{Reads, TicketView, WindowView};

/// Every body a window action may take; each action reads the fields it needs and an
/// unknown field is an error.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// `completed`, `incomplete`, or `not_done` (with a `reason`: 办不成事).
    #[serde(default)]
    outcome: Option<super::escalation_dto::OutcomeDto>,
    /// `not_done`: what the clerk tells the escalation window.
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    window: Option<String>,
    /// `call`: the number to call out of order, and why.
    #[serde(default)]
    number: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    /// `unpark`: the id of the parked ticket to call back.
    #[serde(default)]
    ticket: Option<String>,
    /// `store-next`: arm (true) or disarm (false) it (issue 17 §4, `moves.rs`).
    #[serde(default)]
    armed: Option<bool>,
    /// `walk-direct`: the item the walk-up came for.
    #[serde(default)]
    service: Option<String>,
}

/// The answer of `next`: the ticket called, or null when nobody waits.
#[derive(Serialize)]
struct NextDto {
    ticket: Option<TicketDto>,
}

/// What a window action's answer names: a call the ticket called (or none), opening,
/// pausing, resuming and closing the window, the others their ticket.
enum Acted {
    Ticket(TicketView),
    Called(Option<TicketView>),
    Window(Box<WindowView>),
}

/// Carries out a window action, reading its answer as the kind the command gets.
async fn acted(app: &AppState, env: Envelope) -> Result<Acted, ApiError> {
    let engine = &app.hall.engine;
    let acted = match env.command.answers() {
        ReplyKind::Call => {
            let called = |r: &Reads<'_>, id: Option<TicketId>| id.map(|id| r.known_ticket(&id)).transpose();
            Acted::Called(engine.command_for::<answer::Call, _>(env, called).await?.value)
        }
        ReplyKind::Window => {
            let window = |r: &Reads<'_>, id: WindowId| r.known_window(&id).map(Box::new);
            Acted::Window(engine.command_for::<answer::Window, _>(env, window).await?.value)
        }
        // Any other kind is refused by the engine before anything is decided.
        _ => Acted::Ticket(engine.command_for::<answer::Ticket, _>(env, |r, id| r.known_ticket(&id)).await?.value),
    };
    Ok(acted)
}

fn transfer_target(body: &ActionBody) -> Result<TransferTarget, ApiError> {
    let bad = |m: String| ApiError::bad_request("bad_transfer", m);
    match (&body.queue, &body.window) {
        (Some(q), None) => Ok(TransferTarget::Queue(QueueId::parse(q).map_err(|e| bad(e.to_string()))?)),
        (None, Some(w)) => Ok(TransferTarget::Window(WindowId::parse(w).map_err(|e| bad(e.to_string()))?)),
        _ => Err(bad("name exactly one target: {\"queue\": Q} or {\"window\": W}".into())),
    }
}

pub async fn act(
    State(app): State<AppState>,
    Path((w, action)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ActionBody>,
) -> Result<Response, ApiError> {
    let session = auth::user(&app, &headers, &[Role::Clerk, Role::Admin])?;
    let window =
        WindowId::parse(&w).map_err(|_| ApiError::not_found("unknown_window", format!("no such window {w:?}")))?;
    let clerk = session.user.clone();
    let command = match action.as_str() {
        "open" => {
            if !app.edge.identity.may_work_at(&session.user, &window) {
                return Err(ApiError::forbidden(format!("you may not open window {window}; ask an admin")));
            }
            Command::OpenWindow { window, clerk }
        }
        "next" => Command::CallNext { window, clerk },
        "call" => {
            let number = body.number.clone().ok_or_else(|| {
                ApiError::bad_request("bad_call", "name the ticket: {\"number\": \"A012\", \"reason\": \"...\"}")
            })?;
            Command::CallNumber { window, clerk, number, reason: body.reason.clone().unwrap_or_default() }
        }
        "recall" => Command::Recall { window, clerk },
        "serve" => Command::Serve { window, clerk },
        "done" => match body.outcome.unwrap_or(OutcomeDto::Completed) {
            OutcomeDto::Completed => Command::Done { window, clerk, outcome: Outcome::Completed },
            OutcomeDto::Incomplete => Command::Done { window, clerk, outcome: Outcome::Incomplete },
            OutcomeDto::NotDone => super::escalations::not_done(window, clerk, body.reason.clone(), body.note.clone())?,
        },
        "no-show" => Command::NoShow { window, clerk },
        "transfer" => Command::Transfer { to: transfer_target(&body)?, window, clerk },
        "park" => Command::Park { window, clerk },
        "unpark" => {
            let id = body.ticket.as_deref().ok_or_else(|| {
                ApiError::bad_request("bad_unpark", "name the parked ticket: {\"ticket\": \"<ticket id>\"}")
            })?;
            let id = TicketId::parse(id).map_err(|e| ApiError::bad_request("bad_unpark", e.to_string()))?;
            Command::Unpark { window, clerk, id }
        }
        "pause" => {
            // A reason code from `[hall.pause]` (`/api/v1/services` lists them), or none.
            let reason = body.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
            Command::Pause { window, clerk, reason }
        }
        "resume" => Command::Resume { window, clerk },
        "close" => Command::Close { window, clerk },
        // Issue 17 §4, the clerk's moves (`moves.rs`).
        "store-next" => super::moves::arm(window, clerk, body.armed)?,
        "walk-direct" => super::moves::walk_direct(window, clerk, body.service.clone())?,
        "done-next" => {
            let outcome = match body.outcome.unwrap_or(OutcomeDto::Completed) {
                OutcomeDto::Completed => Outcome::Completed,
                OutcomeDto::Incomplete => Outcome::Incomplete,
                OutcomeDto::NotDone => {
                    return Err(ApiError::bad_request(
                        "bad_outcome",
                        "done-next finishes completed or incomplete; use done for not_done",
                    ))
                }
            };
            let key = idempotency_key(&headers, None, &format!("user:{}", session.user))?;
            return super::moves::done_next(&app, window, clerk, outcome, key).await;
        }
        _ => return Err(ApiError::not_found("unknown_action", format!("no window action {action:?}"))),
    };
    let key = idempotency_key(&headers, None, &format!("user:{}", session.user))?;
    let done = acted(&app, Envelope { command, idempotency_key: key }).await?;
    let config = &app.hall.config;
    match done {
        Acted::Ticket(view) => Ok(Json(TicketDto::new(config, &view)).into_response()),
        Acted::Called(view) => Ok(Json(NextDto { ticket: view.map(|v| TicketDto::new(config, &v)) }).into_response()),
        Acted::Window(view) => Ok(Json(WindowDto::from_view(&view)).into_response()),
    }
}

/// A window with the full ticket it holds and those parked there, for the clerk console.
#[derive(Serialize)]
struct WindowDetailDto {
    window: WindowDto,
    ticket: Option<TicketDto>,
    parked: Vec<TicketDto>,
}

/// `GET /api/v1/windows/{w}`: supervisors and admins, and a clerk for a window they may
/// open.
pub async fn get(State(app): State<AppState>, Path(w): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let session = auth::user(&app, &headers, &[Role::Clerk, Role::Supervisor, Role::Admin])?;
    let window =
        WindowId::parse(&w).map_err(|_| ApiError::not_found("unknown_window", format!("no such window {w:?}")))?;
    if session.role == Role::Clerk && !app.edge.identity.may_work_at(&session.user, &window) {
        return Err(ApiError::forbidden(format!("you may not work at window {window}")));
    }
    let view = app.hall.engine.try_read(move |r| r.known_window(&window)).await?;
    let ticket = view.ticket.as_ref().map(|t| TicketDto::new(&app.hall.config, t));
    let parked = view.parked.iter().map(|t| TicketDto::new(&app.hall.config, t)).collect();
    Ok(Json(WindowDetailDto { window: WindowDto::from_view(&view), ticket, parked }).into_response())
}
