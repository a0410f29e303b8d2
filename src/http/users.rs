//! User management by an admin: add a user, reset a password, disable a user (ending every
//! session of theirs at once) and enable them again. Most users are configured in
//! hall.toml; an admin may add more here, and each change is an event in the log naming the
//! admin, so it is audited and holds across restarts. Passwords are hashed with argon2 here
//! in the shell, on a blocking thread; the log holds only the hash. Who a user is, and the
//! order changes go in, is `crate::identity`'s.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::config::{hash_password, hash_password_salted, Role};
use crate::core::model::UserName;
use crate::core::staff::PasswordHash;
use crate::core::{Command, Envelope};
use crate::identity::{fingerprint, staff_role, User};

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
/// Both run in a task of their own that holds `turn` (the identity's: changes go one at a
/// time), so that a caller who goes away between the two cannot leave the log and the
/// sessions disagreeing: a repeat finds the effect done by the first request (or the daemon
/// restarted since, with no sessions). No sign-in comes between the two either, so no
/// session starts that the effect should have ended. A command refused — also a key
/// reused for another command — touches no session.
async fn decided_then(
    app: &AppState,
    env: Envelope,
    turn: tokio::sync::OwnedMutexGuard<()>,
    effect: impl FnOnce(&auth::Sessions) -> usize + Send + 'static,
) -> Result<Option<usize>, ApiError> {
    let app = app.clone();
    let task = tokio::spawn(async move {
        let _turn = turn;
        let ended = {
            let _no_sign_in = app.edge.identity.deciding().await;
            let answered = app.hall.engine.command(env).await?;
            (!answered.repeated).then(|| effect(&app.edge.sessions))
        };
        // The sessions ended are gone from the disk too before anyone hears so: a restart
        // must not bring back a session a disable or a reset ended.
        app.edge.sessions.sync().await?;
        Ok::<_, ApiError>(ended)
    });
    task.await.map_err(|e| ApiError::internal("a user change failed", &e))?
}

/// Shortest and longest name of a user an admin adds, in characters.
pub const NEW_NAME_CHARS: std::ops::RangeInclusive<usize> = 2..=32;
/// Shortest password an admin may set, in characters: the hall's staff pages are reachable
/// on the hall's network, so a guessable password is a way in.
pub const PASSWORD_CHARS_MIN: usize = 8;
/// Longest password accepted, in bytes (as at login).
pub const PASSWORD_BYTES_MAX: usize = 256;

async fn existing(app: &AppState, name: &str) -> Result<User, ApiError> {
    app.edge.identity.user(name).await?.ok_or_else(|| ApiError::not_found("unknown_user", "no such user"))
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
        .edge
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

fn user_json(k: &User, disabled: bool) -> Value {
    json!({
        "name": k.name.as_str(),
        "display_name": k.shown_name(),
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
        .ok_or_else(|| ApiError::bad_request("bad_role", "a role is one of clerk, supervisor, admin, guide"))?;
    check_password(&body.password)?;
    if app.edge.identity.in_hall_toml(name.as_str()) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "user_exists",
            "hall.toml names this user already; choose another name",
        ));
    }
    let key = idempotency_key(&headers, None, &format!("user:{}", admin.user))?;
    let _turn = app.edge.identity.one_change().await;
    let password_hash = hash(&app, body.password, key.as_deref(), &name).await?;
    let command =
        Command::AddUser { name: name.clone(), role: staff_role(role), password_hash, by: admin.user.clone() };
    app.hall.engine.command(Envelope { command, idempotency_key: key }).await?;
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
    let turn = app.edge.identity.one_change().await;
    let password_hash = hash(&app, body.password, key.as_deref(), &user.name).await?;
    let command_hash = password_hash.0.clone();
    let command = Command::ResetPassword { name: user.name.clone(), password_hash, by: admin.user.clone() };
    let env = Envelope { command, idempotency_key: key };
    let (name, keep) = (user.name.clone(), auth::bearer(&headers).map(str::to_string));
    // The reset admin's own session, kept, is bound to the new password from now on.
    let new_hash = fingerprint(&command_hash);
    // In the task that outlives a client gone mid-request, like the sessions' change.
    let shared = app.clone();
    let ended = decided_then(&app, env, turn, move |s| {
        shared.edge.demo.revoke(&shared, name.as_str());
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
    let turn = app.edge.identity.one_change().await;
    let command = Command::DisableUser { name: user.clone(), by: admin.user.clone() };
    let env = Envelope { command, idempotency_key: key };
    let name = user.clone();
    let ended = decided_then(&app, env, turn, move |s| s.end_user(&name, None)).await?.unwrap_or(0);
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
    // In turn, like every change; it ends no session, and the log alone has who is disabled.
    let _turn = app.edge.identity.one_change().await;
    let command = Command::EnableUser { name: user.clone(), by: admin.user.clone() };
    app.hall.engine.command(Envelope { command, idempotency_key: key }).await?;
    tracing::info!("an admin enabled a user");
    Ok(Json(json!({ "user": user.as_str(), "disabled": false })))
}
