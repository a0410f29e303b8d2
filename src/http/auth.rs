//! Who is calling: kiosks by device token, users by a session token from `login`.
//!
//! Sessions are kept in the store (its `sessions` tree, under the SHA-256 of each token,
//! never the token), so that a restart signs nobody out: a clerk whose window is open
//! goes on at it. A session ends when its time is up, at `logout`, when an admin disables
//! its user or resets their password, or when its user signs in more often than
//! [`SESSIONS_PER_USER_MAX`] (their own oldest ends; never another user's); at start, the
//! sessions whose user is gone, disabled, or has another role or password are dropped.
//! Logins and logouts are events in the log (the audit's sign-in records, by user name);
//! failed logins are not: anyone may cause them, so they would let an anonymous caller
//! write to the hall's log. The login limits count them instead (see [`login`]).
//! Time comes from the daemon's clock, passed in, so tests can move it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::rate::{Client, Limits};
use super::{AppState, JsonBody};
use crate::config::{hash_password, verify_password, Role, MAX_USERS};
use crate::config::{EvaluatorDef, KioskDef};
use crate::core::model::{UserName, WindowId};
use crate::core::staff::ADDED_USERS_MAX;
use crate::core::{Command, Envelope};
use crate::identity::{Directory, Fingerprint, NotSignedIn, SignIn, User};
use crate::store::{Store, StoreError};

/// Sessions one user holds at once: a tab per staff page, with room to spare. Past this
/// the user's own oldest session ends, so a user signing in in a loop ends only their own.
pub const SESSIONS_PER_USER_MAX: usize = 8;
/// Sessions held at once: every user hall.toml and an admin may have, each at their own
/// cap, so that this bound is never what ends someone's session.
pub const SESSIONS_MAX: usize = (MAX_USERS + ADDED_USERS_MAX) * SESSIONS_PER_USER_MAX;
/// Longest user name or password accepted at login, in bytes.
const CREDENTIAL_BYTES_MAX: usize = 256;

#[derive(Clone, Debug)]
pub struct Session {
    pub user: UserName,
    pub role: Role,
    expires_ms: i64,
    /// When this session started, in order of creation: the user's oldest ends first.
    started: u64,
    /// The fingerprint of the password hash the user signed in with: a session outlives a
    /// restart only while its user's password is still that one.
    password: Fingerprint,
}

/// A token's key in the sessions: its SHA-256. The token is 256 random bits, so a fast
/// hash is enough; what is kept in memory and on disk cannot be sent back as a token.
type TokenHash = [u8; 32];

fn token_hash(token: &str) -> TokenHash {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).into()
}

/// The version of [`StoredSession`]; a record of another version is dropped at start.
const SESSION_VERSION: u32 = 1;

/// A session as the store keeps it, under its token's hash.
#[derive(serde::Serialize, Deserialize)]
struct StoredSession {
    v: u32,
    user: String,
    role: String,
    expires_ms: i64,
    started: u64,
    /// Hex fingerprint (SHA-256) of the password hash it was opened with.
    password: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl StoredSession {
    fn bytes(s: &Session) -> Vec<u8> {
        let (user, role, password) = (s.user.to_string(), s.role.as_str().to_string(), hex(&s.password));
        let stored = Self { v: SESSION_VERSION, user, role, expires_ms: s.expires_ms, started: s.started, password };
        serde_json::to_vec(&stored).unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    by_token: HashMap<TokenHash, Session>,
    /// Sessions created so far, numbering them.
    started: u64,
}

/// The live sessions, in memory and (in the daemon) in the store's `sessions` tree, so
/// that a restart signs nobody out. Every change is written to the store at once and made
/// durable by [`Sessions::sync`] before the caller's answer: a token is handed out only
/// once its session is on disk, and a logout, disable or reset is answered only once the
/// sessions it ended are gone from it. Who a user is, and whether they are disabled, the
/// sessions ask of `crate::identity`; they keep no list of their own.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
    store: Option<Arc<Store>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes `put` and removes `gone` in the store, if there is one. A failure is logged
    /// here and reported by the next `sync`, which flushes (and fails) too.
    fn persist(&self, put: &[(TokenHash, &Session)], gone: &[TokenHash]) {
        let Some(store) = &self.store else { return };
        let put: Vec<(&[u8], Vec<u8>)> = put.iter().map(|(k, s)| (&k[..], StoredSession::bytes(s))).collect();
        let gone: Vec<&[u8]> = gone.iter().map(|k| &k[..]).collect();
        if let Err(e) = store.change_sessions(&put, &gone) {
            tracing::warn!(error = %e, "the sessions could not be written");
        }
    }

    /// Makes every change so far durable; a caller answers only after this.
    pub async fn sync(&self) -> Result<(), ApiError> {
        let Some(store) = &self.store else { return Ok(()) };
        store.flush_sessions().await.map_err(|e| ApiError::unavailable("storage_unavailable", e.to_string()))
    }

    /// The sessions kept in `store`, for the daemon's start: those still valid at `now_ms`
    /// for the users as `users` (hall.toml and the log's staff state) has them now. A session is dropped
    /// (and removed from the store) when it has expired, its user is gone, disabled, has
    /// another role or another password than at sign-in, it cannot be read, or its user
    /// holds more than [`SESSIONS_PER_USER_MAX`] newer ones.
    pub fn restore(store: Arc<Store>, users: &Directory<'_>, now_ms: i64) -> Result<Self, StoreError> {
        let mut inner = Inner::default();
        let mut gone: Vec<Vec<u8>> = Vec::new();
        let mut kept: Vec<(TokenHash, Session)> = Vec::new();
        for (key, value) in store.sessions()? {
            match valid(&key, &value, users, now_ms) {
                Some(pair) => kept.push(pair),
                None => gone.push(key),
            }
        }
        // Newest first: past a user's cap (or the total one) the oldest go.
        kept.sort_by_key(|(_, s)| std::cmp::Reverse(s.started));
        let mut per_user: HashMap<UserName, usize> = HashMap::new();
        for (key, session) in kept {
            let n = per_user.entry(session.user.clone()).or_default();
            if *n >= SESSIONS_PER_USER_MAX || inner.by_token.len() + 1 >= SESSIONS_MAX {
                gone.push(key.to_vec());
                continue;
            }
            *n += 1;
            inner.started = inner.started.max(session.started);
            inner.by_token.insert(key, session);
        }
        let gone: Vec<&[u8]> = gone.iter().map(Vec::as_slice).collect();
        store.change_sessions(&[], &gone)?;
        if !inner.by_token.is_empty() {
            tracing::info!(sessions = inner.by_token.len(), "sessions kept from before the restart");
        }
        Ok(Self { inner: Mutex::new(inner), store: Some(store) })
    }

    /// A new session for the user of `signed_in`, bound to their password now, and its
    /// token. A user at [`SESSIONS_PER_USER_MAX`] loses their own oldest session.
    fn create(&self, signed_in: &SignIn<'_>, ttl_ms: i64, now_ms: i64) -> String {
        let (user, role, password) = (signed_in.user.name.clone(), signed_in.user.role, signed_in.user.fingerprint());
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token: String = hex(&bytes);
        let key = token_hash(&token);
        let mut inner = self.lock();
        let mut gone: Vec<TokenHash> =
            inner.by_token.iter().filter(|(_, s)| s.expires_ms <= now_ms).map(|(k, _)| *k).collect();
        let mut own: Vec<(u64, TokenHash)> = inner
            .by_token
            .iter()
            .filter(|(_, s)| s.user == user && s.expires_ms > now_ms)
            .map(|(k, s)| (s.started, *k))
            .collect();
        if own.len() >= SESSIONS_PER_USER_MAX {
            own.sort_unstable();
            gone.extend(own.iter().take(own.len() + 1 - SESSIONS_PER_USER_MAX).map(|(_, k)| *k));
        }
        for k in &gone {
            inner.by_token.remove(k);
        }
        // Every user within their own cap cannot fill this; it holds should MAX_USERS grow.
        assert!(inner.by_token.len() < SESSIONS_MAX, "more sessions than users may hold");
        inner.started += 1;
        let started = inner.started;
        let session = Session { user, role, expires_ms: now_ms.saturating_add(ttl_ms), started, password };
        self.persist(&[(key, &session)], &gone);
        inner.by_token.insert(key, session);
        token
    }

    /// The live session of `token` at `now_ms`.
    pub fn get(&self, token: &str, now_ms: i64) -> Option<Session> {
        self.lock().by_token.get(&token_hash(token)).filter(|s| s.expires_ms > now_ms).cloned()
    }

    /// Whether `user` has a live session at `now_ms` besides the one of `token`.
    pub fn elsewhere(&self, user: &UserName, token: &str, now_ms: i64) -> bool {
        self.lock().by_token.iter().any(|(k, s)| &s.user == user && s.expires_ms > now_ms && *k != token_hash(token))
    }

    /// Ends one session; whether it existed.
    pub fn revoke(&self, token: &str) -> bool {
        let key = token_hash(token);
        let mut inner = self.lock();
        let existed = inner.by_token.remove(&key).is_some();
        self.persist(&[], &[key]);
        existed
    }

    /// Ends every session of `user` but the one of `keep` (an admin resetting their own
    /// password stays signed in); how many were ended.
    pub fn end_user(&self, user: &UserName, keep: Option<&str>) -> usize {
        let keep = keep.map(token_hash);
        let mut inner = self.lock();
        let gone: Vec<TokenHash> =
            inner.by_token.iter().filter(|(k, s)| &s.user == user && Some(**k) != keep).map(|(k, _)| *k).collect();
        for k in &gone {
            inner.by_token.remove(k);
        }
        self.persist(&[], &gone);
        gone.len()
    }

    /// Binds the session of `token`, if it is `user`'s, to a new password (an admin who
    /// reset their own stays signed in, also after a restart).
    pub fn rebind(&self, token: &str, user: &UserName, password: Fingerprint) {
        let key = token_hash(token);
        let mut inner = self.lock();
        if let Some(s) = inner.by_token.get_mut(&key).filter(|s| &s.user == user) {
            s.password = password;
            let s = s.clone();
            self.persist(&[(key, &s)], &[]);
        }
    }
}

/// A stored session that still holds at `now_ms` for `users`, with its key.
fn valid(key: &[u8], value: &[u8], users: &Directory<'_>, now_ms: i64) -> Option<(TokenHash, Session)> {
    let key: TokenHash = key.try_into().ok()?;
    let stored: StoredSession = serde_json::from_slice(value).ok()?;
    if stored.v != SESSION_VERSION || stored.expires_ms <= now_ms {
        return None;
    }
    let known = users.user(&stored.user)?;
    let password = known.fingerprint();
    let role = Role::parse(&stored.role)?;
    if known.disabled || known.role != role || hex(&password) != stored.password {
        return None;
    }
    let (user, expires_ms, started) = (known.name, stored.expires_ms, stored.started);
    Some((key, Session { user, role, expires_ms, started, password }))
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
    app.hall.config.kiosks.iter().fold(None, |found, k| if same_secret(&k.token, token) { Some(k) } else { found })
}

pub(super) fn evaluator_of<'a>(app: &'a AppState, token: &str) -> Option<&'a EvaluatorDef> {
    app.hall.config.evaluators.iter().fold(None, |found, e| if same_secret(&e.token, token) { Some(e) } else { found })
}

/// Whether `token` is some device's (a kiosk's or an evaluator's), for telling a known
/// caller who may not do this (403) from an unknown one (401).
fn is_device(app: &AppState, token: &str) -> bool {
    kiosk_of(app, token).is_some() || evaluator_of(app, token).is_some()
}

/// Whether `token` is a device's or a live session's: such a caller who may not do
/// something hears 403, a stranger 401.
pub(super) fn is_known(app: &AppState, token: &str) -> bool {
    is_device(app, token) || app.edge.sessions.get(token, app.now().0).is_some()
}

/// The evaluator tablet of `window` whose device token the request carries.
pub fn evaluator<'a>(app: &'a AppState, headers: &HeaderMap, window: &WindowId) -> Result<&'a EvaluatorDef, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    match evaluator_of(app, token) {
        Some(e) if &e.window == window => Ok(e),
        Some(e) => Err(ApiError::forbidden(format!("this evaluator belongs to window {}", e.window))),
        None if is_known(app, token) => Err(ApiError::forbidden("only the window's evaluator may do this")),
        None => Err(ApiError::unauthorized()),
    }
}

/// The kiosk whose device token the request carries.
pub fn kiosk<'a>(app: &'a AppState, headers: &HeaderMap) -> Result<&'a KioskDef, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    if let Some(k) = kiosk_of(app, token) {
        return Ok(k);
    }
    Err(if is_known(app, token) { ApiError::forbidden("only a kiosk may do this") } else { ApiError::unauthorized() })
}

/// The signed-in user, if any of `roles`.
pub fn user(app: &AppState, headers: &HeaderMap, roles: &[Role]) -> Result<Session, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let Some(session) = app.edge.sessions.get(token, app.now().0) else {
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

/// A reader of `/metrics`: a Prometheus scraper with `[hall] metrics_token` as its bearer
/// token, or a signed-in supervisor or admin. The figures tell how busy the hall and each
/// of its parts is, which is the hall's business, not a passer-by's.
pub fn metrics_reader(app: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    if app.hall.config.metrics_token.as_ref().is_some_and(|t| same_secret(&t.0, token)) {
        return Ok(());
    }
    user(app, headers, &[Role::Supervisor, Role::Admin]).map(|_| ())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    user: String,
    password: String,
}

/// A hash to verify against when the user does not exist, so that the answer takes as
/// long either way and never reveals which names exist. Made once, on a blocking thread.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no user has this password").unwrap_or_default()).clone()
}

fn bad_credentials() -> ApiError {
    ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "bad_credentials", "the user name or password is wrong")
}

/// Which limit a failed try would be charged to.
#[derive(Clone, Copy)]
enum Charge {
    /// The name-and-address pair's own failures (`login_failures`).
    Pair,
    /// The name's allowance for addresses past their own (`login_name_failures`).
    Name,
}

/// Whether `name` may be tried from `addr` now, and what a failure would cost; `Err` holds
/// the milliseconds until a try is allowed again. Nothing is taken: only failures count.
fn may_try(limits: &Limits, name: &str, addr: IpAddr, now_ms: i64) -> Result<Charge, u64> {
    let pair_ms = match limits.login_pair.peek(&(name.to_string(), addr), now_ms) {
        Ok(()) => return Ok(Charge::Pair),
        Err(ms) => ms,
    };
    // `login_name_failures = 0`: an address past its own limit has no more tries.
    if limits.login_name.is_off() {
        return Err(pair_ms);
    }
    limits.login_name.peek(&name.to_string(), now_ms).map(|()| Charge::Name).map_err(|ms| ms.min(pair_ms))
}

fn failure(limits: &Limits, charge: Charge, name: &str, addr: IpAddr, now_ms: i64) {
    // A try already admitted is charged even when the bucket ran dry meanwhile; the take's
    // refusal then changes nothing.
    let _ = match charge {
        Charge::Pair => limits.login_pair.take(&(name.to_string(), addr), now_ms),
        Charge::Name => limits.login_name.take(&name.to_string(), now_ms),
    };
}

fn too_many_failures(ms: u64) -> ApiError {
    ApiError::too_many("after failed logins for this user name", ms)
}

/// `POST /api/v1/login`. Failures, and only failures, slow a name down: each is charged to
/// the name and the caller's address together (`login_failures`), so one address's wrong
/// passwords never hold up the name anywhere else; past that, to the name itself
/// (`login_name_failures`, far above anyone mistyping), so that behind a proxy, where every
/// client shares one address, the right password is refused only while the name is
/// flooded. The answer is the same whether or not the name exists. The check itself
/// (argon2) waits for one of the per-core slots, so concurrent logins cost bounded memory
/// and CPU; and each success is a record in the log, so a user's successes are limited
/// too (`user_logins`), by a rate only the password's holder can use up.
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
    let limits = &app.edge.limits;
    may_try(limits, &body.user, client.0, app.now().0).map_err(too_many_failures)?;
    let Some(slot) = limits.password_checks.slot(Some(client.0)).await else {
        return Err(ApiError::too_many("of logins at once", 1_000));
    };
    // Failures may have come in while this try waited for its slot: ask again, so that
    // no more tries slip past a limit than there are slots.
    let now = app.now().0;
    let charge = may_try(limits, &body.user, client.0, now).map_err(too_many_failures)?;
    // hall.toml's users and those an admin added, with the password last set.
    let found = app.edge.identity.user(&body.user).await?;
    let hash = found.as_ref().map(|u| u.password_hash.clone());
    let password = body.password;
    let ok = slot
        .run(move || verify_password(&hash.unwrap_or_else(dummy_hash), &password))
        .await
        .ok_or_else(|| ApiError::internal("password check failed", &"the check threads are gone"))?;
    let Some(user) = found.filter(|_| ok) else {
        failure(limits, charge, &body.user, client.0, now);
        tracing::info!("a login failed");
        return Err(bad_credentials());
    };
    limits
        .user_logins
        .take(&user.name.as_str().to_string(), now)
        .map_err(|ms| ApiError::too_many("of logins for this user", ms))?;
    let ttl_s = app.hall.config.session_ttl_s;
    let token = open_session(&app, &user, ttl_s, now).await?;
    // The user's name stays out of the log: a login name may be a person's name.
    tracing::info!(role = user.role.as_str(), "user logged in");
    let open_at = open_window_of(&app, &user.name).await;
    Ok(Json(json!({
        "token": token, "user": user.name.as_str(), "role": user.role, "expires_in_s": ttl_s, "windows": user.windows,
        "display_name": user.shown_name(),
        "window": open_at.map(|w| w.to_string()),
    })))
}

/// Records the sign-in of `user`, whose password was just checked, and opens their session
/// for `ttl_s`; its token, on disk before it is handed out (or a restart would sign the
/// user out). The log refuses the sign-in while an admin has the user disabled; a password
/// an admin set since the check answers as a wrong one.
async fn open_session(app: &AppState, user: &User, ttl_s: u64, now: i64) -> Result<String, ApiError> {
    let session_ms = ttl_s.saturating_mul(1000);
    let signed_in = app.edge.identity.sign_in(user, session_ms).await.map_err(|e| match e {
        NotSignedIn::PasswordChanged => bad_credentials(),
        NotSignedIn::Engine(e) => e.into(),
    })?;
    let ttl_ms = i64::try_from(session_ms).unwrap_or(i64::MAX);
    let token = app.edge.sessions.create(&signed_in, ttl_ms, now);
    drop(signed_in);
    if let Err(e) = app.edge.sessions.sync().await {
        app.edge.sessions.revoke(&token);
        return Err(e);
    }
    Ok(token)
}

/// The window `user` is signed in at and left open, if any: the clerk console goes
/// straight back to it after a sign-in (a restart, another browser), not to the picker.
async fn open_window_of(app: &AppState, user: &UserName) -> Option<WindowId> {
    let user = user.clone();
    app.hall.engine.read(move |r| r.open_window_of(&user)).await.ok().flatten()
}

/// `POST /api/v1/logout`: ends the caller's session.
pub async fn logout(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let session = user(&app, &headers, &[Role::Clerk, Role::Supervisor, Role::Admin, Role::Guide])?;
    // Logged before the session ends: if the log cannot be written, the caller hears so
    // and may try again.
    let token = bearer(&headers).unwrap_or_default();
    let elsewhere = app.edge.sessions.elsewhere(&session.user, token, app.now().0);
    let command = Command::LogOut { user: session.user.clone(), elsewhere };
    app.hall.engine.command(Envelope { command, idempotency_key: None }).await?;
    app.edge.sessions.revoke(token);
    // Gone from the disk before the caller hears so: a restart brings back no session
    // that was logged out.
    app.edge.sessions.sync().await?;
    tracing::info!(role = session.role.as_str(), "user logged out");
    Ok(Json(json!({ "status": "logged_out" })))
}
