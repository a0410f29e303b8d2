//! User management by an admin: add a user, reset a password, disable a user (ending every
//! session of theirs at once) and enable them again. Most users are configured in
//! hall.toml; an admin may add more here, and each change is an event in the log naming the
//! admin, so it is audited and holds across restarts. Passwords are hashed with argon2 here
//! in the shell, on a blocking thread; the log holds only the hash.
//!
//! Who a user is comes from two places, and `resolve` is the one rule joining them:
//! hall.toml's `[[user]]` gives the role and windows when it names the user (also one an
//! admin added earlier, should hall.toml come to name it); otherwise the user an admin added
//! (any window). The password is the one an admin last set, else hall.toml's hash.
//! Removing someone for good still means disabling them, or removing their `[[user]]`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::password_hash_of;
use super::error::ApiError;
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::config::{hash_password, hash_password_salted, Role};
use crate::core::model::{UserName, WindowId};
use crate::core::staff::{PasswordHash, Staff, StaffRole};
use crate::core::{Command, Envelope};

/// The salt of a keyed request's password hash: SHA-256 of its (scoped) idempotency key
/// and the user, cut to argon2's recommended 16 bytes. A salt must be unique, not secret,
/// and a key names one request of one admin; the user is in it too, so that one key reused
/// for two users never gives their hashes one salt.
fn salt_of(key: &str, user: &UserName) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in ["hallq password salt", key, user.as_str()] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&h.finalize()[..16]);
    salt
}

/// Sends `env` and, when the engine decided it now (not a repeat of an earlier request
/// under its key), runs `effect` on the sessions; how many sessions it ended, if it ran.
/// Both run in a task of their own that holds `changes`, so that a caller who goes away
/// between the two cannot leave the log and the sessions disagreeing: a repeat finds the
/// effect done by the first request (or the daemon restarted since, with no sessions).
/// A command refused — also a key reused for another command — touches no session.
async fn decided_then(
    app: &AppState,
    env: Envelope,
    changes: tokio::sync::MutexGuard<'static, ()>,
    effect: impl FnOnce(&auth::Sessions) -> usize + Send + 'static,
) -> Result<Option<usize>, ApiError> {
    let app = app.clone();
    let task = tokio::spawn(async move {
        let _changes = changes;
        let answered = app.engine.command(env).await?;
        let ended = (!answered.repeated).then(|| effect(&app.sessions));
        // The sessions ended are gone from the disk too before anyone hears so: a restart
        // must not bring back a session a disable or a reset ended.
        app.sessions.sync().await?;
        Ok::<_, ApiError>(ended)
    });
    task.await.map_err(|e| ApiError::internal("a user change failed", &e))?
}

/// Changes go one at a time, so that the sessions' copy of who is disabled changes in the
/// order the log records it, and at most one argon2 hash is made at once for an admin
/// (taking one of the password-check slots logins use, `rate::PasswordChecks`).
static CHANGES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Shortest and longest name of a user an admin adds, in characters.
pub const NEW_NAME_CHARS: std::ops::RangeInclusive<usize> = 2..=32;
/// Shortest password an admin may set, in characters: the hall's staff pages are reachable
/// on the hall's network, so a guessable password is a way in.
pub const PASSWORD_CHARS_MIN: usize = 8;
/// Longest password accepted, in bytes (as at login).
pub const PASSWORD_BYTES_MAX: usize = 256;

/// A user as login and the admin page see them.
#[derive(Clone)]
pub struct Known {
    pub name: UserName,
    pub role: Role,
    /// The windows the user may open; empty means any.
    pub windows: Vec<WindowId>,
    pub password_hash: String,
    /// Added by an admin and not named by hall.toml.
    pub added: bool,
    /// hall.toml's `display_name`, for staff pages only.
    pub display_name: Option<String>,
}

pub fn role_of(r: StaffRole) -> Role {
    match r {
        StaffRole::Clerk => Role::Clerk,
        StaffRole::Supervisor => Role::Supervisor,
        StaffRole::Admin => Role::Admin,
    }
}

fn staff_role(r: Role) -> StaffRole {
    match r {
        Role::Clerk => StaffRole::Clerk,
        Role::Supervisor => StaffRole::Supervisor,
        Role::Admin => StaffRole::Admin,
    }
}

/// The user called `name`: hall.toml's first, else one an admin added.
pub fn resolve(app: &AppState, staff: &Staff, name: &str) -> Option<Known> {
    resolve_in(&app.config, staff, name)
}

/// `resolve` before there is an `AppState` (the sessions restored at start).
pub fn resolve_in(config: &crate::config::Config, staff: &Staff, name: &str) -> Option<Known> {
    if let Some(u) = config.users.iter().find(|u| u.name.as_str() == name) {
        let hash = staff.password_of(&u.name).map_or_else(|| u.password_hash.clone(), |h| h.0.clone());
        return Some(Known {
            name: u.name.clone(),
            role: u.role,
            windows: u.windows.clone(),
            password_hash: hash,
            added: false,
            display_name: u.display_name.clone(),
        });
    }
    let (user, role) = staff.added.iter().find(|(n, _)| n.as_str() == name)?;
    let hash = staff.password_of(user).map(|h| h.0.clone()).unwrap_or_default();
    Some(Known {
        name: user.clone(),
        role: role_of(*role),
        windows: Vec::new(),
        password_hash: hash,
        added: true,
        display_name: None,
    })
}

/// Every user, hall.toml's in its order, then those an admin added (by name).
pub fn all(app: &AppState, staff: &Staff) -> Vec<Known> {
    let configured = app.config.users.iter().filter_map(|u| resolve(app, staff, u.name.as_str()));
    let added = staff.added.keys().filter_map(|n| resolve(app, staff, n.as_str())).filter(|k| k.added);
    configured.chain(added).collect()
}

/// What staff pages call `user`: hall.toml's `display_name`, else the login name. For
/// answers behind a staff sign-in only, never a display's.
pub fn display_name(config: &crate::config::Config, user: &str) -> String {
    config
        .users
        .iter()
        .find(|u| u.name.as_str() == user)
        .and_then(|u| u.display_name.clone())
        .unwrap_or_else(|| user.to_string())
}

/// The staff state as the log has it now.
pub async fn staff(app: &AppState) -> Result<Staff, ApiError> {
    Ok(app.engine.read(|r| r.staff()).await?)
}

async fn existing(app: &AppState, name: &str) -> Result<Known, ApiError> {
    resolve(app, &staff(app).await?, name).ok_or_else(|| ApiError::not_found("unknown_user", "no such user"))
}

/// A new user's name: 2 to 32 lowercase ASCII letters, digits, '-' or '_', starting with a
/// letter. Lowercase only, so that `Clerk13` and `clerk13` are never two people.
fn new_name(name: &str) -> Result<UserName, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "bad_user_name",
            format!(
                "a user name has {} to {} characters: lowercase letters a-z, digits, '-' or '_', starting with a letter",
                NEW_NAME_CHARS.start(),
                NEW_NAME_CHARS.end()
            ),
        )
    };
    let chars_ok = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !NEW_NAME_CHARS.contains(&name.chars().count()) || !chars_ok || !first_ok {
        return Err(bad());
    }
    UserName::parse(name).map_err(|_| bad())
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.len() > PASSWORD_BYTES_MAX {
        return Err(ApiError::bad_request(
            "password_too_long",
            format!("a password may have at most {PASSWORD_BYTES_MAX} bytes"),
        ));
    }
    if password.chars().count() < PASSWORD_CHARS_MIN {
        return Err(ApiError::bad_request(
            "password_too_short",
            format!("a password needs at least {PASSWORD_CHARS_MIN} characters"),
        ));
    }
    Ok(())
}

/// Hashes on a password-check thread: argon2 takes tens of milliseconds and 19 MiB, so it
/// takes one of the slots that logins use too. A request with an idempotency key gets its
/// salt from the key and the user (`salt_of`), so that its retry makes the same hash and is
/// known for a repeat (`core::fingerprint`), while another password under the key makes
/// another hash and is refused as a conflict.
async fn hash(app: &AppState, password: String, key: Option<&str>, user: &UserName) -> Result<PasswordHash, ApiError> {
    let salt = key.map(|k| salt_of(k, user));
    let slot = app
        .limits
        .password_checks
        .slot(None)
        .await
        .ok_or_else(|| ApiError::too_many("of password checks at once", 1_000))?;
    slot.run(move || match salt {
        Some(salt) => hash_password_salted(&password, &salt),
        None => hash_password(&password),
    })
    .await
    .ok_or_else(|| ApiError::internal("password hashing failed", &"the check threads are gone"))?
    .map(PasswordHash)
    .map_err(|e| ApiError::internal("password hashing failed", &e))
}

fn user_json(k: &Known, disabled: bool) -> Value {
    json!({
        "name": k.name.as_str(),
        "display_name": k.display_name.as_deref().unwrap_or(k.name.as_str()),
        "role": k.role,
        "windows": k.windows.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "disabled": disabled,
        "source": if k.added { "admin" } else { "hall_toml" },
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    user: String,
    role: String,
    password: String,
}

/// `POST /api/v1/users` with `{"user", "role", "password"}`: admins only. The user may log
/// in at once; 201 with the user as the admin page lists them.
pub async fn add(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AddBody>,
) -> Result<Response, ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    let name = new_name(&body.user)?;
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::bad_request("bad_role", "a role is one of clerk, supervisor, admin"))?;
    check_password(&body.password)?;
    if app.config.users.iter().any(|u| u.name.as_str().eq_ignore_ascii_case(name.as_str())) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "user_exists",
            "hall.toml names this user already; choose another name",
        ));
    }
    let key = idempotency_key(&headers, None, &format!("user:{}", admin.user))?;
    let _one_at_a_time = CHANGES.lock().await;
    let password_hash = hash(&app, body.password, key.as_deref(), &name).await?;
    let command =
        Command::AddUser { name: name.clone(), role: staff_role(role), password_hash, by: admin.user.clone() };
    app.engine.command(Envelope { command, idempotency_key: key }).await?;
    // A name an admin chooses may be a person's: the log line says only the role.
    tracing::info!(role = role.as_str(), "an admin added a user");
    let known = existing(&app, name.as_str()).await?;
    Ok((StatusCode::CREATED, Json(user_json(&known, false))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

/// `POST /api/v1/users/{name}/password` with `{"password"}`: admins only. Any user's, from
/// hall.toml or added; the user's other sessions end, so a leaked password stops working.
pub async fn reset_password(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<Json<Value>, ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    let user = existing(&app, &name).await?;
    check_password(&body.password)?;
    let key = idempotency_key(&headers, None, &format!("user:{}", admin.user))?;
    let one_at_a_time = CHANGES.lock().await;
    let password_hash = hash(&app, body.password, key.as_deref(), &user.name).await?;
    let command_hash = password_hash.0.clone();
    let command = Command::ResetPassword { name: user.name.clone(), password_hash, by: admin.user.clone() };
    let env = Envelope { command, idempotency_key: key };
    let (name, keep) = (user.name.clone(), auth::bearer(&headers).map(str::to_string));
    // The reset admin's own session, kept, is bound to the new password from now on.
    let new_hash = password_hash_of(&command_hash);
    // In the task that outlives a client gone mid-request, like the sessions' change.
    let shared = app.clone();
    let ended = decided_then(&app, env, one_at_a_time, move |s| {
        shared.demo.revoke(&shared, name.as_str());
        let ended = s.end_user(&name, keep.as_deref());
        if let Some(k) = keep.as_deref() {
            s.rebind(k, &name, new_hash);
        }
        ended
    })
    .await?;
    let ended = ended.unwrap_or(0);
    tracing::info!(sessions_ended = ended, "an admin reset a user's password");
    Ok(Json(json!({ "user": user.name.as_str(), "password_reset": true, "sessions_ended": ended })))
}

/// `POST /api/v1/users/{name}/disable`: admins only; an admin may not disable themselves
/// (someone must be left to enable them).
pub async fn disable(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    let user = existing(&app, &name).await?.name;
    let key = idempotency_key(&headers, None, &format!("user:{}", admin.user))?;
    let one_at_a_time = CHANGES.lock().await;
    let command = Command::DisableUser { name: user.clone(), by: admin.user.clone() };
    let env = Envelope { command, idempotency_key: key };
    let name = user.clone();
    let ended = decided_then(&app, env, one_at_a_time, move |s| s.disable(&name)).await?.unwrap_or(0);
    tracing::info!(sessions_ended = ended, "an admin disabled a user");
    Ok(Json(json!({ "user": user.as_str(), "disabled": true, "sessions_ended": ended })))
}

/// `POST /api/v1/users/{name}/enable`: admins only.
pub async fn enable(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    let user = existing(&app, &name).await?.name;
    let key = idempotency_key(&headers, None, &format!("user:{}", admin.user))?;
    let one_at_a_time = CHANGES.lock().await;
    let command = Command::EnableUser { name: user.clone(), by: admin.user.clone() };
    let env = Envelope { command, idempotency_key: key };
    let name = user.clone();
    decided_then(&app, env, one_at_a_time, move |s| usize::from(s.enable(&name))).await?;
    tracing::info!("an admin enabled a user");
    Ok(Json(json!({ "user": user.as_str(), "disabled": false })))
}
