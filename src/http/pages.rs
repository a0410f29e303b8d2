//! The pages: plain HTML, CSS and JavaScript from `display/`, embedded at build time and
//! served as they are (no templating; each page talks to the API itself).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

include!(concat!(env!("OUT_DIR"), "/display_files.rs"));

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
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
