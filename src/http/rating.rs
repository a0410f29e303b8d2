//! 好差评 endpoints beyond the visitor's own `POST /api/v1/tickets/{id}/rating`: the
//! evaluator tablet's question ("which ticket did my window just finish?") and the
//! supervisors' bad-rating cases (list, call-back, rectification).
//!
//! An evaluator authenticates with its device token (`[[evaluator]]`) and learns only its
//! own window's last finished, unrated ticket, and only for the hall's `ask_s` after it
//! was finished; it rates with the same token, only tickets finished at its window
//! (`tickets::rate`). The id it learns is no credential: the visitor's is the ticket's key.

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::dto::TicketDto;
use super::error::ApiError;
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::config::Role;
use crate::core::model::{UserName, WindowId};
use crate::core::rating::{Case, CaseStatus};
use crate::core::setup::Setup;
use crate::core::{answer, Answer, Command, Envelope};
use crate::engine::{CasesView, Reads};
use crate::time::rfc3339;

/// The names of the five levels, worst first (index = score − 1).
pub const LEVELS: [&str; 5] = ["非常不满意", "不满意", "基本满意", "满意", "非常满意"];
/// Longest case id accepted in a path, in bytes (`C20261127-001` has 13).
const CASE_ID_BYTES_MAX: usize = 32;

/// The `rating` part of `/api/v1/services`: the scale, the reasons for a bad rating, and
/// how long an evaluator asks.
pub fn catalog_rating(setup: &Setup) -> Value {
    let policy = &setup.rating;
    let scale: Vec<Value> =
        (1..=5u8).rev().map(|s| json!({ "score": s, "name": LEVELS[usize::from(s - 1)] })).collect();
    let reasons: Vec<Value> = policy
        .reasons
        .iter()
        .map(|r| json!({ "code": r.code, "name": r.name, "text_required": r.needs_text }))
        .collect();
    json!({
        "scale": scale,
        "reason_below": crate::core::rating::BAD_SCORE_MAX + 1,
        "reasons": reasons,
        "ask_s": policy.ask_s,
        "comment_chars_max": crate::core::command::COMMENT_CHARS_MAX,
    })
}

/// `GET /api/v1/windows/{w}/rateable`: for the evaluator of window `w`, the ticket the
/// window finished last, while it may still be rated there; `{"ticket": null}` otherwise.
pub async fn rateable(
    State(app): State<AppState>,
    Path(w): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let window =
        WindowId::parse(&w).map_err(|_| ApiError::not_found("unknown_window", format!("no such window {w:?}")))?;
    auth::evaluator(&app, &headers, &window)?;
    let view = app.hall.engine.try_read(move |r| r.rateable(&window)).await?;
    let ticket = view.map(|v| TicketDto::new(&app.hall.config, &v));
    Ok(Json(json!({ "window": window.to_string(), "ticket": ticket })))
}

#[derive(Serialize)]
struct CallbackDto {
    at: String,
    by: String,
    reached: bool,
    note: String,
}

#[derive(Serialize)]
struct RectificationDto {
    at: String,
    by: String,
    note: String,
}

/// A case on the wire (for supervisors and admins only: it names who acted).
#[derive(Serialize)]
struct CaseDto {
    id: String,
    status: &'static str,
    day: String,
    opened_at: String,
    due: String,
    number: String,
    queue: String,
    window: Option<String>,
    /// The clerk who served the ticket: supervisors and admins read cases, displays never.
    clerk: Option<String>,
    /// The clerk's `display_name` (else the login name), as the staff pages call them.
    clerk_name: Option<String>,
    services: Vec<String>,
    score: u8,
    level: &'static str,
    reason: String,
    reason_name: String,
    comment: Option<String>,
    callbacks: Vec<CallbackDto>,
    rectification: Option<RectificationDto>,
    /// Closed after its deadline (or, while open, already past it).
    late: bool,
}

impl CaseDto {
    fn new(config: &crate::config::Config, today: chrono::NaiveDate, c: &Case) -> Self {
        let setup = &config.setup;
        let status = c.status(today);
        let closed_day = c.rectified.as_ref().map(|r| setup.day_of(r.at));
        Self {
            id: c.id.clone(),
            status: status.as_str(),
            day: c.day.to_string(),
            opened_at: rfc3339(setup, c.opened_at),
            due: c.due.to_string(),
            number: c.number.clone(),
            queue: c.queue.to_string(),
            window: c.window.as_ref().map(ToString::to_string),
            clerk: c.clerk.as_ref().map(ToString::to_string),
            clerk_name: c.clerk.as_ref().map(|u| crate::identity::display_name(config, u.as_str())),
            services: c.services.iter().map(ToString::to_string).collect(),
            score: c.score,
            level: LEVELS.get(usize::from(c.score).saturating_sub(1)).copied().unwrap_or(""),
            reason: c.reason.clone(),
            reason_name: setup.rating.reason(&c.reason).map_or_else(|| c.reason.clone(), |r| r.name.clone()),
            comment: c.comment.clone(),
            callbacks: c
                .callbacks
                .iter()
                .map(|b| CallbackDto {
                    at: rfc3339(setup, b.at),
                    by: b.by.to_string(),
                    reached: b.reached,
                    note: b.note.clone(),
                })
                .collect(),
            rectification: c.rectified.as_ref().map(|r| RectificationDto {
                at: rfc3339(setup, r.at),
                by: r.by.to_string(),
                note: r.note.clone(),
            }),
            late: match closed_day {
                Some(d) => d > c.due,
                None => status == CaseStatus::Overdue,
            },
        }
    }
}

fn cases_json(config: &crate::config::Config, view: &CasesView) -> Value {
    let cases: Vec<CaseDto> = view.cases.iter().map(|c| CaseDto::new(config, view.today, c)).collect();
    json!({ "today": view.today.to_string(), "cases": cases })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesParams {
    status: Option<String>,
    day: Option<String>,
}

/// `GET /api/v1/cases?status=open|overdue|closed&day=YYYY-MM-DD`: bad-rating cases, newest
/// first.
pub async fn cases(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Result<UrlQuery<CasesParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    auth::user(&app, &headers, &[Role::Supervisor, Role::Admin])?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let status = match params.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some("open") => Some(CaseStatus::Open),
        Some("overdue") => Some(CaseStatus::Overdue),
        Some("closed") => Some(CaseStatus::Closed),
        Some(_) => return Err(ApiError::bad_request("bad_status", "status must be open, overdue, closed or all")),
    };
    let day = super::reports::day_param(params.day.as_deref().filter(|d| !d.is_empty()))?;
    let view = app.hall.engine.read(move |r| r.cases(status, day)).await?;
    Ok(Json(cases_json(&app.hall.config, &view)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    reached: bool,
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RectifyBody {
    note: String,
}

/// A case id from a path (a bad-rating or an escalation case): one that cannot name a
/// case is refused as unknown before the engine is asked.
pub(super) fn case_id(id: &str) -> Result<String, ApiError> {
    let ok =
        !id.is_empty() && id.len() <= CASE_ID_BYTES_MAX && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(ApiError::not_found("unknown_case", "no such case"));
    }
    Ok(id.to_string())
}

async fn act(app: &AppState, headers: &HeaderMap, by: &UserName, command: Command) -> Result<Json<Value>, ApiError> {
    let render = |v: &CasesView| v.cases.first().map(|c| CaseDto::new(&app.hall.config, v.today, c));
    case_act::<answer::Case, _, _>(app, headers, by, command, |r, id| r.case(&id), render).await
}

/// Carries out `by`'s command on a case (a bad rating's or an escalation's) under the
/// request's idempotency key, reads the case its answer names, and renders it (null once
/// the case is gone).
pub(super) async fn case_act<A: Answer, V: Send + 'static, D: Serialize>(
    app: &AppState,
    headers: &HeaderMap,
    by: &UserName,
    command: Command,
    read: impl FnOnce(&Reads<'_>, A::Id) -> V + Send + 'static,
    render: impl FnOnce(&V) -> Option<D>,
) -> Result<Json<Value>, ApiError> {
    let key = idempotency_key(headers, None, &format!("user:{by}"))?;
    let env = Envelope { command, idempotency_key: key };
    let view = app.hall.engine.command_for::<A, _>(env, |r, id| Ok(read(r, id))).await?.value;
    let case = render(&view);
    Ok(Json(serde_json::to_value(case).map_err(|e| ApiError::internal("a case could not be written", &e))?))
}

/// `POST /api/v1/cases/{id}/callback` `{"reached": bool, "note": STR}`: a supervisor
/// called the visitor back; the log records who (the session's user) and when.
pub async fn callback(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CallbackBody>,
) -> Result<Json<Value>, ApiError> {
    let session = auth::user(&app, &headers, &[Role::Supervisor, Role::Admin])?;
    let by = session.user;
    let command = Command::CaseCallback { case: case_id(&id)?, by: by.clone(), reached: body.reached, note: body.note };
    act(&app, &headers, &by, command).await
}

/// `POST /api/v1/cases/{id}/rectify` `{"note": STR}`: what was put right; closes the case.
pub async fn rectify(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RectifyBody>,
) -> Result<Json<Value>, ApiError> {
    let session = auth::user(&app, &headers, &[Role::Supervisor, Role::Admin])?;
    let by = session.user;
    let command = Command::RectifyCase { case: case_id(&id)?, by: by.clone(), note: body.note };
    act(&app, &headers, &by, command).await
}
