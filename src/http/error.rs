//! The one error type of the HTTP edge and its mapping to status codes and the contract's
//! `{"error": {"code", "message"}}` body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::core::{Rejection, RejectionKind};
use crate::engine::EngineError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds after which a refused request may be tried again (`Retry-After`, with 429).
    pub retry_after_s: Option<u64>,
    /// What a page needs of the refusal beside its code, as fields of `error` (issue 17
    /// follow-up point 5): a page reads these, never the English message.
    pub fields: Vec<(&'static str, serde_json::Value)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after_s: None, fields: Vec::new() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or unknown credentials; send Authorization: Bearer TOKEN (log in again if your session expired)",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// 429: a rate limit refused the request; `wait_ms` until it may be tried again.
    pub fn too_many(whose: &str, wait_ms: u64) -> Self {
        let secs = wait_ms.div_ceil(1000).max(1);
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests {whose}; try again in {secs} s"),
        );
        e.retry_after_s = Some(secs);
        e
    }

    /// A failure of ours: the details go to the log, the client hears only that it failed.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong inside hallq; it has been logged",
        )
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Rejected(r) => {
                let status = match r.kind() {
                    RejectionKind::BadInput => StatusCode::BAD_REQUEST,
                    RejectionKind::Forbidden => StatusCode::FORBIDDEN,
                    RejectionKind::NotFound => StatusCode::NOT_FOUND,
                    RejectionKind::Conflict => StatusCode::CONFLICT,
                    RejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                };
                let mut e = Self::new(status, r.code(), r.to_string());
                e.fields = fields_of(&r);
                e
            }
            EngineError::Storage => Self::unavailable("storage_unavailable", e.to_string()),
            EngineError::Stopped => Self::unavailable("shutting_down", e.to_string()),
            EngineError::WrongAnswer { .. } => Self::internal("command answer", &e),
        }
    }
}

/// The fields of a rejection a page words in its own language (`ApiError::fields`): the
/// per-person limits' numbers and the time the no-show wait ends (`HH:MM`, the hall's).
fn fields_of(r: &Rejection) -> Vec<(&'static str, serde_json::Value)> {
    match r {
        Rejection::PersonDailyLimit(limit) => vec![("limit", json!(limit))],
        Rejection::PersonMustWait { no_shows, until } => vec![("no_shows", json!(no_shows)), ("until", json!(until))],
        _ => Vec::new(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        error.extend(self.fields.into_iter().map(|(k, v)| (k.to_string(), v)));
        let body = json!({ "error": error });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_s {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}

/// Longest text of a framework refusal carried over into its JSON error, in bytes.
const REFUSAL_TEXT_BYTES_MAX: usize = 1024;

/// Middleware: a refusal made by the framework rather than by us (a path segment that is
/// not UTF-8, a wrong method, a missing WebSocket upgrade) comes as plain text; rewrite it
/// into the contract's JSON error, keeping its status and headers (such as `Allow`).
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, REFUSAL_TEXT_BYTES_MAX).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = match (status, text.trim()) {
        (StatusCode::METHOD_NOT_ALLOWED, _) => {
            "this endpoint does not take that method; see README.md for the API".to_string()
        }
        (_, "") => format!("the request was refused ({status}); see README.md for the API"),
        (_, t) => format!("the request was refused: {}", t.to_lowercase()),
    };
    let body = json!({ "error": { "code": code, "message": message } });
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    Response::from_parts(parts, axum::body::Body::from(body.to_string()))
}
