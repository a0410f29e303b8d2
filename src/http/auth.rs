//! Who is calling: kiosks by device token, users by a session token from `login`.
//!
//! Sessions live in memory only: they are credentials, not hall state, so a restart asks
//! clerks to log in again (their windows stay open under their names in the log).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::{AppState, JsonBody};
use crate::config::KioskDef;
use crate::config::{hash_password, verify_password, Role};
use crate::core::model::UserName;

/// Sessions held at once; the oldest are dropped past this (a hall has tens of users).
pub const SESSIONS_MAX: usize = 10_000;
/// Longest user name or password accepted at login, in bytes.
const CREDENTIAL_BYTES_MAX: usize = 256;

#[derive(Clone, Debug)]
pub struct Session {
    pub user: UserName,
    pub role: Role,
    expires: Instant,
}

#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn create(&self, user: UserName, role: Role, ttl: Duration) -> String {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| s.expires > now);
        if map.len() >= SESSIONS_MAX {
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(token.clone(), Session { user, role, expires: now + ttl });
        token
    }

    fn get(&self, token: &str) -> Option<Session> {
        let map = self.lock();
        map.get(token).filter(|s| s.expires > Instant::now()).cloned()
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The kiosk whose device token the request carries.
pub fn kiosk<'a>(app: &'a AppState, headers: &HeaderMap) -> Result<&'a KioskDef, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    if let Some(k) = app.config.kiosks.iter().find(|k| k.token == token) {
        return Ok(k);
    }
    if app.sessions.get(token).is_some() {
        return Err(ApiError::forbidden("only a kiosk may issue tickets"));
    }
    Err(ApiError::unauthorized())
}

/// The signed-in user, if any of `roles`.
pub fn user(app: &AppState, headers: &HeaderMap, roles: &[Role]) -> Result<Session, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let Some(session) = app.sessions.get(token) else {
        if app.config.kiosks.iter().any(|k| k.token == token) {
            return Err(ApiError::forbidden("a kiosk may only issue tickets"));
        }
        return Err(ApiError::unauthorized());
    };
    if !roles.contains(&session.role) {
        return Err(ApiError::forbidden(format!("a {} may not do this", session.role.as_str())));
    }
    Ok(session)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    user: String,
    password: String,
}

/// A hash to verify against when the user does not exist, so that the answer takes as
/// long either way and never reveals which names exist.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no user has this password").unwrap_or_default()).clone()
}

pub async fn login(State(app): State<AppState>, JsonBody(body): JsonBody<LoginBody>) -> Result<Json<Value>, ApiError> {
    if body.user.len() > CREDENTIAL_BYTES_MAX || body.password.len() > CREDENTIAL_BYTES_MAX {
        return Err(ApiError::bad_request(
            "too_long",
            format!("user and password may have at most {CREDENTIAL_BYTES_MAX} bytes"),
        ));
    }
    let found = app.config.users.iter().find(|u| u.name.as_str() == body.user).cloned();
    let hash = found.as_ref().map_or_else(dummy_hash, |u| u.password_hash.clone());
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(|e| ApiError::internal("password check failed", &e))?;
    let Some(user) = found.filter(|_| ok) else {
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "the user name or password is wrong",
        ));
    };
    let ttl = Duration::from_secs(app.config.session_ttl_s);
    let token = app.sessions.create(user.name.clone(), user.role, ttl);
    // The user's name stays out of the log: a login name may be a person's name.
    tracing::info!(role = user.role.as_str(), "user logged in");
    Ok(Json(
        json!({ "token": token, "user": user.name.as_str(), "role": user.role, "expires_in_s": ttl.as_secs(), "windows": user.windows }),
    ))
}
