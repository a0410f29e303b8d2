//! Who is calling: kiosks by device token, users by a session token from `login`.
//!
//! Sessions live in memory only: they are credentials, not hall state, so a restart asks
//! clerks to log in again (their windows stay open under their names in the log). A
//! session ends when its time is up, at `logout`, or when an admin disables its user.
//! Logins and logouts are events in the log (the audit's sign-in records, by user name);
//! failed logins are not: anyone may cause them, so they would let an anonymous caller
//! write to the hall's log. The login limiter counts them instead.
//! Time comes from the daemon's clock, passed in, so tests can move it.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::rate::Client;
use super::{AppState, JsonBody};
use crate::config::{hash_password, verify_password, Role};
use crate::config::{EvaluatorDef, KioskDef};
use crate::core::model::{UserName, WindowId};
use crate::core::{Command, Envelope};

/// Sessions held at once; the oldest are dropped past this (a hall has tens of users).
pub const SESSIONS_MAX: usize = 10_000;
/// Longest user name or password accepted at login, in bytes.
const CREDENTIAL_BYTES_MAX: usize = 256;

#[derive(Clone, Debug)]
pub struct Session {
    pub user: UserName,
    pub role: Role,
    expires_ms: i64,
}

#[derive(Default)]
struct Inner {
    by_token: HashMap<String, Session>,
    /// Users an admin disabled since the daemon started: no session, no login.
    disabled: HashSet<UserName>,
}

#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new session for `user`, or `None` when the user is disabled.
    fn create(&self, user: UserName, role: Role, ttl_ms: i64, now_ms: i64) -> Option<String> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut inner = self.lock();
        if inner.disabled.contains(&user) {
            return None;
        }
        inner.by_token.retain(|_, s| s.expires_ms > now_ms);
        if inner.by_token.len() >= SESSIONS_MAX {
            let oldest = inner.by_token.iter().min_by_key(|(_, s)| s.expires_ms).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                inner.by_token.remove(&oldest);
            }
        }
        inner.by_token.insert(token.clone(), Session { user, role, expires_ms: now_ms.saturating_add(ttl_ms) });
        Some(token)
    }

    /// The live session of `token` at `now_ms`.
    pub fn get(&self, token: &str, now_ms: i64) -> Option<Session> {
        self.lock().by_token.get(token).filter(|s| s.expires_ms > now_ms).cloned()
    }

    /// Ends one session; whether it existed.
    pub fn revoke(&self, token: &str) -> bool {
        self.lock().by_token.remove(token).is_some()
    }

    /// Disables `user` and ends every session of theirs; how many were ended.
    pub fn disable(&self, user: &UserName) -> usize {
        // Disabled first, so that no new session of theirs starts meanwhile.
        self.lock().disabled.insert(user.clone());
        self.end_user(user, None)
    }

    /// Ends every session of `user` but the one of `keep` (an admin resetting their own
    /// password stays signed in); how many were ended.
    pub fn end_user(&self, user: &UserName, keep: Option<&str>) -> usize {
        let mut inner = self.lock();
        let before = inner.by_token.len();
        inner.by_token.retain(|token, s| &s.user != user || Some(token.as_str()) == keep);
        before - inner.by_token.len()
    }

    /// Lets `user` log in again; whether they were disabled.
    pub fn enable(&self, user: &UserName) -> bool {
        self.lock().disabled.remove(user)
    }

    pub fn is_disabled(&self, user: &UserName) -> bool {
        self.lock().disabled.contains(user)
    }
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Compares secrets in time that depends only on their lengths, so that the answer's
/// timing tells nothing of how much of a guessed kiosk token was right.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn kiosk_of<'a>(app: &'a AppState, token: &str) -> Option<&'a KioskDef> {
    // Every token is compared, found or not, so the time taken does not say which matched.
    app.config.kiosks.iter().fold(None, |found, k| if same_secret(&k.token, token) { Some(k) } else { found })
}

pub(super) fn evaluator_of<'a>(app: &'a AppState, token: &str) -> Option<&'a EvaluatorDef> {
    app.config.evaluators.iter().fold(None, |found, e| if same_secret(&e.token, token) { Some(e) } else { found })
}

/// Whether `token` is some device's (a kiosk's or an evaluator's), for telling a known
/// caller who may not do this (403) from an unknown one (401).
fn is_device(app: &AppState, token: &str) -> bool {
    kiosk_of(app, token).is_some() || evaluator_of(app, token).is_some()
}

/// Whether `token` is a device's or a live session's: such a caller who may not do
/// something hears 403, a stranger 401.
pub(super) fn is_known(app: &AppState, token: &str) -> bool {
    is_device(app, token) || app.sessions.get(token, app.now().0).is_some()
}

/// The evaluator tablet of `window` whose device token the request carries.
pub fn evaluator<'a>(app: &'a AppState, headers: &HeaderMap, window: &WindowId) -> Result<&'a EvaluatorDef, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    match evaluator_of(app, token) {
        Some(e) if &e.window == window => Ok(e),
        Some(e) => Err(ApiError::forbidden(format!("this evaluator belongs to window {}", e.window))),
        None if kiosk_of(app, token).is_some() || app.sessions.get(token, app.now().0).is_some() => {
            Err(ApiError::forbidden("only the window's evaluator may do this"))
        }
        None => Err(ApiError::unauthorized()),
    }
}

/// The kiosk whose device token the request carries.
pub fn kiosk<'a>(app: &'a AppState, headers: &HeaderMap) -> Result<&'a KioskDef, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    if let Some(k) = kiosk_of(app, token) {
        return Ok(k);
    }
    if app.sessions.get(token, app.now().0).is_some() || evaluator_of(app, token).is_some() {
        return Err(ApiError::forbidden("only a kiosk may do this"));
    }
    Err(ApiError::unauthorized())
}

/// The signed-in user, if any of `roles`.
pub fn user(app: &AppState, headers: &HeaderMap, roles: &[Role]) -> Result<Session, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let Some(session) = app.sessions.get(token, app.now().0) else {
        if is_device(app, token) {
            return Err(ApiError::forbidden(
                "a device may only do its own work: issue tickets, check in, ask for ratings",
            ));
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

fn bad_credentials() -> ApiError {
    ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "bad_credentials", "the user name or password is wrong")
}

/// `POST /api/v1/login`. Every try takes one of the login limit's tokens for the name
/// given and for the caller's address; a successful one gives them back. So failures, and
/// only failures, slow a name or an address down, whether or not the name exists.
pub async fn login(
    State(app): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    if body.user.len() > CREDENTIAL_BYTES_MAX || body.password.len() > CREDENTIAL_BYTES_MAX {
        return Err(ApiError::bad_request(
            "too_long",
            format!("user and password may have at most {CREDENTIAL_BYTES_MAX} bytes"),
        ));
    }
    let now = app.now().0;
    let limits = &app.limits;
    limits.login_addr.take(&client.0, now).map_err(|ms| ApiError::too_many("failed logins from your address", ms))?;
    if let Err(ms) = limits.login_user.take(&body.user, now) {
        limits.login_addr.give_back(&client.0);
        return Err(ApiError::too_many("failed logins for this user name", ms));
    }
    // hall.toml's users and those an admin added, with the password last set.
    let staff = super::users::staff(&app).await?;
    let found = super::users::resolve(&app, &staff, &body.user);
    let hash = found.as_ref().map_or_else(dummy_hash, |u| u.password_hash.clone());
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(|e| ApiError::internal("password check failed", &e))?;
    let Some(user) = found.filter(|_| ok) else {
        tracing::info!("a login failed");
        return Err(bad_credentials());
    };
    limits.login_addr.give_back(&client.0);
    limits.login_user.give_back(&body.user);
    // The log records the sign-in, and refuses it while an admin has the user disabled
    // (that survives restarts; the sessions' own list below does not).
    let command = Command::LogIn { user: user.name.clone() };
    app.engine.command(Envelope { command, idempotency_key: None }).await?;
    let ttl_s = app.config.session_ttl_s;
    let ttl_ms = i64::try_from(ttl_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let Some(token) = app.sessions.create(user.name.clone(), user.role, ttl_ms, now) else {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "user_disabled",
            "this user is disabled; ask an admin to enable it",
        ));
    };
    // The user's name stays out of the log: a login name may be a person's name.
    tracing::info!(role = user.role.as_str(), "user logged in");
    Ok(Json(
        json!({ "token": token, "user": user.name.as_str(), "role": user.role, "expires_in_s": ttl_s, "windows": user.windows }),
    ))
}

/// `POST /api/v1/logout`: ends the caller's session.
pub async fn logout(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let session = user(&app, &headers, &[Role::Clerk, Role::Supervisor, Role::Admin])?;
    // Logged before the session ends: if the log cannot be written, the caller hears so
    // and may try again.
    let command = Command::LogOut { user: session.user.clone() };
    app.engine.command(Envelope { command, idempotency_key: None }).await?;
    if let Some(token) = bearer(&headers) {
        app.sessions.revoke(token);
    }
    tracing::info!(role = session.role.as_str(), "user logged out");
    Ok(Json(json!({ "status": "logged_out" })))
}
