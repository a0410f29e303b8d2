//! The voice endpoints: how the hall speaks (synth and speaker zones), and each call-out's
//! audio. Both are public and read-only; the audio holds a ticket number and a window.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::error::ApiError;
use super::AppState;
use crate::voice::{AudioId, VoiceError};

#[derive(Serialize)]
pub struct VoiceDto {
    /// Who speaks call-outs now: `espeak-ng`, `browser` or `off`.
    synth: &'static str,
    /// What `[hall.voice]` asked for (espeak-ng falls back to the browser when missing).
    configured: &'static str,
    voice: String,
    speed_wpm: u32,
    zones: Vec<ZoneDto>,
}

#[derive(Serialize)]
pub struct ZoneDto {
    id: String,
    name: String,
    windows: Vec<String>,
}

pub async fn info(State(app): State<AppState>) -> Json<VoiceDto> {
    let v = &app.hall.voice;
    let zones = v
        .zones()
        .iter()
        .map(|z| ZoneDto {
            id: z.id.clone(),
            name: z.name.clone(),
            windows: z.windows.iter().map(|w| w.as_str().to_string()).collect(),
        })
        .collect();
    Json(VoiceDto {
        synth: v.synth().as_str(),
        configured: v.settings().synth.as_str(),
        voice: v.settings().voice.clone(),
        speed_wpm: v.settings().speed_wpm,
        zones,
    })
}

fn not_found() -> ApiError {
    ApiError::not_found(
        "voice_not_found",
        "no such call-out audio; use the audio URL of a call message on the feed (/ws/feed)",
    )
}

/// `GET /api/v1/voice/{hash}.wav`.
pub async fn audio(State(app): State<AppState>, Path(file): Path<String>) -> Result<Response, ApiError> {
    let id = file.strip_suffix(".wav").and_then(AudioId::parse).ok_or_else(not_found)?;
    match app.hall.voice.audio(id).await {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "audio/wav"),
                // The name is a hash of what is said and how: the bytes never change.
                (header::CACHE_CONTROL, "public, max-age=86400, immutable"),
            ],
            bytes,
        )
            .into_response()),
        Err(VoiceError::NotFound) => Err(not_found()),
        Err(VoiceError::Busy) => {
            let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "voice_busy", VoiceError::Busy.to_string());
            e.retry_after_s = Some(1);
            Err(e)
        }
        // The details are in the log (Voice::audio); the lobby falls back on this answer.
        Err(VoiceError::Render(_)) => Err(ApiError::unavailable(
            "voice_unavailable",
            "the call-out could not be rendered now; the lobby uses the browser's voice",
        )),
    }
}
