//! Who a user is: the one service the sessions, the routes and the audit ask.
//!
//! A user's identity joins two sources by one rule ([`Directory::user`]):
//! - hall.toml's `[[user]]` gives the role, the windows and the display name when it names
//!   the user (also one an admin added earlier, should hall.toml come to name it);
//!   otherwise the user is one an admin added (`core::staff`): their role, any window, no
//!   display name;
//! - the password is the one an admin last set (at the add or a reset), else hall.toml's
//!   hash;
//! - whether the user is disabled is the core's staff state alone: the log is the
//!   authority, so a disable holds across restarts and no part of the shell keeps a list
//!   of its own.
//!
//! Removing someone for good still means disabling them, or removing their `[[user]]`.
//!
//! The staff state lives in the engine. [`Identity`] asks it there: one user is resolved on
//! the engine's side (a lookup), a list from a copy of the staff state. It also orders the
//! changes to users, per daemon: an admin's changes go one at a time, their argon2 hash
//! included ([`Identity::one_change`]), and none is decided between a login's check of
//! the user and the start of its session ([`Identity::sign_in`], [`Identity::deciding`]),
//! so that a disable or a password reset ends every session it should and no session
//! starts for a user disabled or with a password changed meanwhile.

use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::config::{Config, Role};
use crate::core::model::{UserName, WindowId};
use crate::core::staff::{Staff, StaffRole};
use crate::core::{Command, Envelope};
use crate::engine::{EngineError, EngineHandle};

/// SHA-256 of a password hash: what binds a session to the password its user signed in
/// with, without keeping the hash itself beside the session.
pub type Fingerprint = [u8; 32];

/// The fingerprint of the argon2 hash `hash`.
pub fn fingerprint(hash: &str) -> Fingerprint {
    use sha2::{Digest, Sha256};
    Sha256::digest(hash.as_bytes()).into()
}

/// A user as the hall knows them now. No `Debug`: it holds the password's hash.
#[derive(Clone)]
pub struct User {
    pub name: UserName,
    pub role: Role,
    /// The windows the user may open; empty means any.
    pub windows: Vec<WindowId>,
    /// hall.toml's `display_name`, for staff pages only.
    pub display_name: Option<String>,
    /// Added by an admin and not named by hall.toml.
    pub added: bool,
    /// An admin disabled the user and has not enabled them since.
    pub disabled: bool,
    /// The argon2 hash of the user's current password.
    pub password_hash: String,
}

impl User {
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(&self.password_hash)
    }

    /// What staff pages call the user: the display name, else the login name.
    pub fn shown_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(self.name.as_str())
    }
}

/// The role of an added user as the log records it, as a role.
pub fn role_of(r: StaffRole) -> Role {
    match r {
        StaffRole::Clerk => Role::Clerk,
        StaffRole::Supervisor => Role::Supervisor,
        StaffRole::Admin => Role::Admin,
        StaffRole::Guide => Role::Guide,
    }
}

/// A role as the log records it for a user an admin adds.
pub fn staff_role(r: Role) -> StaffRole {
    match r {
        Role::Clerk => StaffRole::Clerk,
        Role::Supervisor => StaffRole::Supervisor,
        Role::Admin => StaffRole::Admin,
        Role::Guide => StaffRole::Guide,
    }
}

/// What staff pages call `user`: hall.toml's `display_name`, else the login name. For
/// answers behind a staff sign-in only, never a display's.
pub fn display_name(config: &Config, user: &str) -> String {
    config
        .users
        .iter()
        .find(|u| u.name.as_str() == user)
        .and_then(|u| u.display_name.clone())
        .unwrap_or_else(|| user.to_string())
}

/// Whether `user` may sit at `window`: their `windows` in hall.toml name it or are empty
/// (any window). A user hall.toml does not name is one an admin added, who may open any.
pub fn may_work_at(config: &Config, user: &UserName, window: &WindowId) -> bool {
    let configured = config.users.iter().find(|u| &u.name == user);
    configured.is_none_or(|u| u.windows.is_empty() || u.windows.contains(window))
}

/// The users as hall.toml and the staff state have them at one moment.
pub struct Directory<'a> {
    config: &'a Config,
    staff: &'a Staff,
}

impl<'a> Directory<'a> {
    pub fn new(config: &'a Config, staff: &'a Staff) -> Self {
        Self { config, staff }
    }

    /// The user called `name`: hall.toml's first, else one an admin added.
    pub fn user(&self, name: &str) -> Option<User> {
        let staff = self.staff;
        if let Some(u) = self.config.users.iter().find(|u| u.name.as_str() == name) {
            let hash = staff.password_of(&u.name).map_or_else(|| u.password_hash.clone(), |h| h.0.clone());
            return Some(User {
                name: u.name.clone(),
                role: u.role,
                windows: u.windows.clone(),
                display_name: u.display_name.clone(),
                added: false,
                disabled: staff.is_disabled(&u.name),
                password_hash: hash,
            });
        }
        let (user, role) = staff.added.iter().find(|(n, _)| n.as_str() == name)?;
        Some(User {
            name: user.clone(),
            role: role_of(*role),
            windows: Vec::new(),
            display_name: None,
            added: true,
            disabled: staff.is_disabled(user),
            password_hash: staff.password_of(user).map(|h| h.0.clone()).unwrap_or_default(),
        })
    }

    /// Every user, hall.toml's in its order, then those an admin added (by name).
    pub fn all(&self) -> Vec<User> {
        let configured = self.config.users.iter().filter_map(|u| self.user(u.name.as_str()));
        let added = self.staff.added.keys().filter_map(|n| self.user(n.as_str())).filter(|u| u.added);
        configured.chain(added).collect()
    }

    /// `user`'s role, by the same rule as [`user`](Self::user), without copying a hash.
    pub fn role(&self, user: &UserName) -> Option<Role> {
        let configured = self.config.users.iter().find(|u| &u.name == user).map(|u| u.role);
        configured.or_else(|| self.staff.added.get(user).map(|r| role_of(*r)))
    }
}

/// A login's sign-in, recorded in the log, with the user as they are now. While it is
/// held no admin's change to users is decided, so the session opened from it is one a
/// later disable or reset finds and ends.
pub struct SignIn<'a> {
    pub user: User,
    _no_change: RwLockReadGuard<'a, ()>,
}

/// Why a sign-in did not happen.
pub enum NotSignedIn {
    /// An admin set another password since the one checked: the one given is no longer
    /// the user's.
    PasswordChanged,
    /// The engine refused it (the user is disabled) or could not record it.
    Engine(EngineError),
}

impl From<EngineError> for NotSignedIn {
    fn from(e: EngineError) -> Self {
        Self::Engine(e)
    }
}

/// The daemon's identity service: hall.toml's users, the engine's staff state, and the
/// order of changes to them. One per daemon (several may run in one process).
pub struct Identity {
    config: Arc<Config>,
    engine: EngineHandle,
    /// An admin's change to a user holds this from its checks to its end.
    changes: Arc<Mutex<()>>,
    /// Sign-ins read it, an admin's decision and its effect on the sessions write it.
    sign_ins: RwLock<()>,
}

impl Identity {
    pub fn new(config: Arc<Config>, engine: EngineHandle) -> Self {
        Self { config, engine, changes: Arc::default(), sign_ins: RwLock::new(()) }
    }

    /// The user called `name` as the log has them now, resolved on the engine.
    pub async fn user(&self, name: &str) -> Result<Option<User>, EngineError> {
        let (config, name) = (self.config.clone(), name.to_string());
        self.engine.read(move |r| Directory::new(&config, &r.state().staff).user(&name)).await
    }

    /// The staff state as the log has it now, for a [`Directory`] of many users.
    pub async fn staff(&self) -> Result<Staff, EngineError> {
        self.engine.read(|r| r.staff()).await
    }

    /// What staff pages call `user` (see [`display_name`]).
    pub fn display_name(&self, user: &str) -> String {
        display_name(&self.config, user)
    }

    /// Whether hall.toml names a user `name` (in any case): a name an admin may not take.
    pub fn in_hall_toml(&self, name: &str) -> bool {
        self.config.users.iter().any(|u| u.name.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether `user` may open `window` (see [`may_work_at`]).
    pub fn may_work_at(&self, user: &UserName, window: &WindowId) -> bool {
        may_work_at(&self.config, user, window)
    }

    /// Records the sign-in of `checked`, the user whose password was just checked, unless
    /// an admin set another password since (their fingerprints differ). The log refuses
    /// it while an admin has the user disabled. `session_ms`: how long the session lasts
    /// unless ended before (the scorecards end its time there).
    pub async fn sign_in(&self, checked: &User, session_ms: u64) -> Result<SignIn<'_>, NotSignedIn> {
        let no_change = self.sign_ins.read().await;
        let now = self.user(checked.name.as_str()).await?;
        let Some(user) = now.filter(|u| u.fingerprint() == checked.fingerprint()) else {
            return Err(NotSignedIn::PasswordChanged);
        };
        let command = Command::LogIn { user: user.name.clone(), session_ms };
        self.engine.command(Envelope { command, idempotency_key: None }).await?;
        Ok(SignIn { user, _no_change: no_change })
    }

    /// An admin's turn to change a user: changes go one at a time, so that at most one
    /// argon2 hash is made at once for an admin. Owned, so that a task finishing a change
    /// for a caller who went away can hold it.
    pub async fn one_change(&self) -> OwnedMutexGuard<()> {
        self.changes.clone().lock_owned().await
    }

    /// Held by an admin's change from its decision to its effect on the sessions: no
    /// sign-in comes between them.
    pub async fn deciding(&self) -> RwLockWriteGuard<'_, ()> {
        self.sign_ins.write().await
    }
}
