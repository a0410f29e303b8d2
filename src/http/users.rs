//! User management by an admin: disable a user (ending every session of theirs at once)
//! and enable them again. Users themselves are configured in hall.toml; a disable is an
//! event in the log (`UserDisabled`, naming the admin), so it is audited and holds across
//! restarts until an admin enables the user. Removing someone for good still means
//! removing their `[[user]]` table.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::{auth, idempotency_key, AppState};
use crate::config::Role;
use crate::core::model::UserName;
use crate::core::{Command, Envelope};

/// Disables and enables go one at a time, so that the sessions' copy of who is disabled
/// changes in the order the log records it.
static CHANGES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn configured(app: &AppState, name: &str) -> Result<UserName, ApiError> {
    app.config
        .users
        .iter()
        .find(|u| u.name.as_str() == name)
        .map(|u| u.name.clone())
        .ok_or_else(|| ApiError::not_found("unknown_user", "no such user in hall.toml"))
}

/// `POST /api/v1/users/{name}/disable`: admins only; an admin may not disable themselves
/// (someone must be left to enable them).
pub async fn disable(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    let user = configured(&app, &name)?;
    let key = idempotency_key(&headers, None, &format!("user:{}:disable", admin.user))?;
    let _one_at_a_time = CHANGES.lock().await;
    let command = Command::DisableUser { name: user.clone(), by: admin.user.clone() };
    app.engine.command(Envelope { command, idempotency_key: key }).await?;
    let ended = app.sessions.disable(&user);
    tracing::info!(sessions_ended = ended, "an admin disabled a user");
    Ok(Json(json!({ "user": user.as_str(), "disabled": true, "sessions_ended": ended })))
}

/// `POST /api/v1/users/{name}/enable`: admins only.
pub async fn enable(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    let user = configured(&app, &name)?;
    let key = idempotency_key(&headers, None, &format!("user:{}:enable", admin.user))?;
    let _one_at_a_time = CHANGES.lock().await;
    let command = Command::EnableUser { name: user.clone(), by: admin.user.clone() };
    app.engine.command(Envelope { command, idempotency_key: key }).await?;
    app.sessions.enable(&user);
    tracing::info!("an admin enabled a user");
    Ok(Json(json!({ "user": user.as_str(), "disabled": false })))
}
