//! The one error type of the HTTP edge and its mapping to status codes and the contract's
//! `{"error": {"code", "message"}}` body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::core::RejectionKind;
use crate::engine::EngineError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
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
                Self::new(status, r.code(), r.to_string())
            }
            EngineError::Storage => Self::unavailable("storage_unavailable", e.to_string()),
            EngineError::Stopped => Self::unavailable("shutting_down", e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}
