//! The pages: plain HTML, CSS and JavaScript from `display/`, embedded at build time and
//! served as they are (no templating; each page talks to the API itself).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::config::{Role, DEMO_PASSWORD, DEMO_TOKEN_PREFIX};

include!(concat!(env!("OUT_DIR"), "/display_files.rs"));

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn file(name: &str) -> Result<Response, ApiError> {
    let (_, bytes) = DISPLAY_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| ApiError::not_found("not_found", format!("no page or file {name:?}")))?;
    let headers = [(header::CONTENT_TYPE, content_type(name)), (header::CACHE_CONTROL, "no-cache")];
    Ok((StatusCode::OK, headers, *bytes).into_response())
}

pub async fn index() -> Result<Response, ApiError> {
    file("index.html")
}

/// `/favicon.ico`: every browser asks for it; a 404 was each page's one console error.
pub async fn favicon() -> Result<Response, ApiError> {
    file("static/favicon.ico")
}

/// `GET /api/v1/demo`: the demo credentials the start page may show, only while the hall
/// runs on them: every hall.toml user still has the demo password and no admin has set
/// one since. Then the demo kiosk and evaluator tokens in use too; otherwise nothing, so
/// that a hall that replaced some of them advertises none of the rest.
pub async fn demo(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    // Unset for the moment the checks take after a start: the page asks again.
    let Some(all_demo) = app.demo_users.get().copied() else {
        return Ok(Json(json!({ "in_use": false, "pending": true })));
    };
    let staff = if all_demo { Some(super::users::staff(&app).await?) } else { None };
    let in_use = staff.is_some_and(|s| app.config.users.iter().all(|u| s.password_of(&u.name).is_none()));
    if !in_use {
        return Ok(Json(json!({ "in_use": false })));
    }
    let config = &app.config;
    let demo_token = |t: &str| t.starts_with(DEMO_TOKEN_PREFIX);
    let kiosk = config.kiosks.iter().find(|k| demo_token(&k.token) && !k.remote).map(|k| k.token.clone());
    let evaluator =
        config.evaluators.iter().find(|e| demo_token(&e.token)).map(|e| (e.window.to_string(), e.token.clone()));
    let users =
        |role: Role| -> Vec<&str> { config.users.iter().filter(|u| u.role == role).map(|u| u.name.as_str()).collect() };
    Ok(Json(json!({
        "in_use": true,
        "password": DEMO_PASSWORD,
        "kiosk_token": kiosk,
        "evaluator": evaluator.map(|(window, token)| json!({ "window": window, "token": token })),
        "users": { "clerk": users(Role::Clerk), "supervisor": users(Role::Supervisor), "admin": users(Role::Admin) },
    })))
}

/// `/display/lobby`, `/display/window`, `/display/kiosk`, `/display/clerk`.
pub async fn page(Path(name): Path<String>) -> Result<Response, ApiError> {
    if !name.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        return Err(ApiError::not_found("not_found", "no such page"));
    }
    file(&format!("{name}.html"))
}

/// `/t/{id}`: the ticket-status page; it reads the id from its own address.
pub async fn ticket_status(Path(_id): Path<String>) -> Result<Response, ApiError> {
    file("status.html")
}

/// `/display/static/{name}`: the pages' CSS, scripts and images.
pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    if name.contains("..") || name.starts_with('/') {
        return Err(ApiError::not_found("not_found", "no such file"));
    }
    file(&format!("static/{name}"))
}
