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

pub(crate) fn file(name: &str) -> Result<Response, ApiError> {
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
///
/// Anyone may ask, as often as they like, so the answer costs no engine work: the staff is
/// asked once ([`DemoAnswer`]).
pub async fn demo(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    // Unset for the moment the checks take after a start: the page asks again.
    let Some(all_demo) = app.edge.demo_users.get().copied() else {
        return Ok(Json(json!({ "in_use": false, "pending": true })));
    };
    let in_use = all_demo && app.edge.demo.in_use(&app).await?;
    if !in_use {
        return Ok(Json(json!({ "in_use": false })));
    }
    let config = &app.hall.config;
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
        "users": { "clerk": users(Role::Clerk), "supervisor": users(Role::Supervisor), "admin": users(Role::Admin), "guide": users(Role::Guide) },
    })))
}

/// Whether no admin has set a password of a hall.toml user, for `GET /api/v1/demo`. The
/// staff is asked once, by the first request (the others wait for that answer); after
/// that only [`DemoAnswer::revoke`] changes it, which `users::reset_password` calls once
/// an admin's reset of a hall.toml user is decided: setting a password is the only way
/// the demo one stops opening an account while the daemon runs, and it never opens it
/// again (a reset back to "demo" still counts as set). A restart asks the staff afresh.
#[derive(Default)]
pub struct DemoAnswer {
    asked: tokio::sync::OnceCell<bool>,
    revoked: std::sync::atomic::AtomicBool,
}

impl DemoAnswer {
    async fn in_use(&self, app: &AppState) -> Result<bool, ApiError> {
        use std::sync::atomic::Ordering;
        if self.revoked.load(Ordering::Acquire) {
            return Ok(false);
        }
        let asked = self
            .asked
            .get_or_try_init(|| async {
                let staff = app.edge.identity.staff().await?;
                Ok::<_, ApiError>(app.hall.config.users.iter().all(|u| staff.password_of(&u.name).is_none()))
            })
            .await?;
        Ok(*asked && !self.revoked.load(Ordering::Acquire))
    }

    /// An admin has set user `name`'s password: if hall.toml names the user, the demo
    /// credentials are no longer in use.
    pub fn revoke(&self, app: &AppState, name: &str) {
        if app.edge.identity.in_hall_toml(name) {
            self.revoked.store(true, std::sync::atomic::Ordering::Release);
        }
    }
}

/// `/display/lobby`, `/display/window`, `/display/kiosk`, `/display/clerk`.
pub async fn page(Path(name): Path<String>) -> Result<Response, ApiError> {
    // The district's dashboard signs in to `hallq district`, not to a hall: a hall that
    // served it would show a sign-in that can never succeed.
    if !name.chars().all(|c| c.is_ascii_lowercase() || c == '-') || name == DISTRICT_PAGE {
        return Err(ApiError::not_found("not_found", "no such page"));
    }
    file(&format!("{name}.html"))
}

/// The page only `hallq district` serves (`district::page`).
pub const DISTRICT_PAGE: &str = "district";

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
