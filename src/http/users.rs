//! User management by an admin: disable a user (ending every session of theirs at once)
//! and enable them again. Users themselves are configured in hall.toml; a disabled user
//! stays disabled until enabled or until the daemon restarts, so removing someone for good
//! means removing their `[[user]]` table too.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::{auth, AppState};
use crate::config::Role;
use crate::core::model::UserName;

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
    if user == admin.user {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "cannot_disable_self",
            "an admin may not disable their own user; ask another admin",
        ));
    }
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
    auth::user(&app, &headers, &[Role::Admin])?;
    let user = configured(&app, &name)?;
    app.sessions.enable(&user);
    tracing::info!("an admin enabled a user");
    Ok(Json(json!({ "user": user.as_str(), "disabled": false })))
}
