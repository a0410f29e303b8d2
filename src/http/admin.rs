//! What an admin changes without editing hall.toml: the queues a window serves, closing a
//! window its clerk left open, and (with `users.rs`) adding users, resetting passwords, disabling users; and what the admin
//! page reads: every window with its clerk, and every user with their status.
//! Each change is an event naming the admin, so it is audited and survives restarts;
//! hall.toml stays as it was, and `hallq check` still validates it.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::dto::WindowDto;
use super::error::ApiError;
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::config::Role;
use crate::core::model::{QueueId, WindowId};
use crate::core::{answer, Command, Envelope};
use crate::identity::Directory;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuesBody {
    queues: Vec<String>,
}

#[derive(Serialize)]
struct UserDto {
    name: String,
    /// hall.toml's `display_name`, else the login name: for this staff page only.
    display_name: String,
    role: Role,
    /// The windows the user may open; empty means any.
    windows: Vec<String>,
    disabled: bool,
    /// `hall_toml`, or `admin` for a user an admin added on this page.
    source: &'static str,
}

#[derive(Serialize)]
struct AdminDto {
    windows: Vec<WindowDto>,
    users: Vec<UserDto>,
}

fn window_id(w: &str) -> Result<WindowId, ApiError> {
    WindowId::parse(w).map_err(|_| ApiError::not_found("unknown_window", format!("no such window {w:?}")))
}

async fn window_answer(
    app: &AppState,
    command: Command,
    headers: &HeaderMap,
    scope: &str,
) -> Result<Response, ApiError> {
    let key = idempotency_key(headers, None, scope)?;
    let env = Envelope { command, idempotency_key: key };
    let view = app.hall.engine.command_for::<answer::Window, _>(env, |r, id| r.known_window(&id)).await?.value;
    Ok(Json(WindowDto::from_view(&view)).into_response())
}

/// `POST /api/v1/admin/windows/{w}/queues` with `{"queues": ["A", "Y"]}`: admins only.
pub async fn set_queues(
    State(app): State<AppState>,
    Path(w): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<QueuesBody>,
) -> Result<Response, ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    let window = window_id(&w)?;
    let queues = body
        .queues
        .iter()
        .map(|q| QueueId::parse(q).map_err(|e| ApiError::bad_request("bad_queues", e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let command = Command::SetWindowQueues { window, queues, by: admin.user.clone() };
    window_answer(&app, command, &headers, &format!("user:{}", admin.user)).await
}

/// `POST /api/v1/admin/windows/{w}/close`: admins only; whatever the window holds — its
/// ticket, parked tickets, tickets sent to it — goes back to its queue at its place.
pub async fn close(
    State(app): State<AppState>,
    Path(w): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    let window = window_id(&w)?;
    let command = Command::ForceCloseWindow { window, by: admin.user.clone() };
    window_answer(&app, command, &headers, &format!("user:{}", admin.user)).await
}

/// `GET /api/v1/admin`: every window with its state, queues and clerk, and every user
/// (hall.toml's, then those an admin added) with role, windows, whether disabled, and
/// where the user comes from. Admins only.
pub async fn overview(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    auth::user(&app, &headers, &[Role::Admin])?;
    let (views, staff) = app.hall.engine.read(|r| (r.windows(), r.staff())).await?;
    let users = Directory::new(&app.hall.config, &staff)
        .all()
        .into_iter()
        .map(|u| UserDto {
            name: u.name.to_string(),
            display_name: u.shown_name().to_string(),
            role: u.role,
            windows: u.windows.iter().map(ToString::to_string).collect(),
            disabled: u.disabled,
            source: if u.added { "admin" } else { "hall_toml" },
        })
        .collect();
    let windows = views.iter().map(WindowDto::from_view).collect();
    Ok(Json(AdminDto { windows, users }).into_response())
}
