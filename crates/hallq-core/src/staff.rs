//! The hall's users as state: who an admin has disabled, the users an admin added, and
//! the passwords an admin set. Most users are configured in hall.toml; an admin may add
//! more from the admin page (`UserAdded`) and reset anyone's password (`PasswordReset`).
//! Each is an event naming the admin, so it is audited and holds across restarts and
//! service days. The events carry argon2 hashes made by the shell, never a password.
//!
//! When hall.toml later names a user an admin added, hall.toml's role and windows win; a
//! password set here (at the add or a reset) still wins over hall.toml's hash, since it is
//! the one the user was last given.
//!
//! Logins and logouts are decided here too, so that a disabled user is refused by the
//! core (the log is the authority, not the shell's memory) and every sign-in is recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::command::Rejection;
use super::event::Event;
use super::model::UserName;

/// The most users an admin may add; a hall has tens of staff, and each added user is
/// carried by every snapshot.
pub const ADDED_USERS_MAX: usize = 1_000;

/// A role, as the log records it for an added user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Clerk,
    Supervisor,
    Admin,
    /// 导办: issues tickets for visitors and escorts them (issue 17 §1); no window, no
    /// supervision.
    Guide,
}

/// An argon2 hash in PHC string form, made by the shell. Its `Debug` hides it, so that no
/// hash reaches a log line through a debug print of a command or an answer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    /// Users an admin disabled and has not enabled since.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub disabled: BTreeSet<UserName>,
    /// Users an admin added, with their role (they may open any window).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub added: BTreeMap<UserName, StaffRole>,
    /// The password an admin last set for a user (at the add or a reset); it wins over
    /// hall.toml's hash.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub passwords: BTreeMap<UserName, PasswordHash>,
}

impl Staff {
    /// `apply` of an admin's disable (or, `disabled` false, enable) of `name`.
    pub(crate) fn apply_disabled(&mut self, name: &UserName, disabled: bool) {
        if disabled {
            self.disabled.insert(name.clone());
        } else {
            self.disabled.remove(name);
        }
    }

    /// `apply` of an admin's new user, with the password they set.
    pub(crate) fn apply_added(&mut self, name: &UserName, role: StaffRole, password: &PasswordHash) {
        assert!(self.added.insert(name.clone(), role).is_none(), "user {name} added twice");
        self.passwords.insert(name.clone(), password.clone());
    }

    /// `apply` of an admin's password reset: it wins over hall.toml's hash.
    pub(crate) fn apply_password(&mut self, name: &UserName, password: &PasswordHash) {
        self.passwords.insert(name.clone(), password.clone());
    }

    pub fn is_disabled(&self, user: &UserName) -> bool {
        self.disabled.contains(user)
    }

    /// `user`'s password is right: they sign in, unless disabled.
    pub fn log_in(&self, user: &UserName, session_ms: u64) -> Result<Vec<Event>, Rejection> {
        if self.is_disabled(user) {
            return Err(Rejection::UserDisabled);
        }
        Ok(vec![Event::UserLoggedIn { name: user.clone(), session_ms: Some(session_ms) }])
    }

    pub fn log_out(&self, user: &UserName, elsewhere: bool) -> Vec<Event> {
        vec![Event::UserLoggedOut { name: user.clone(), elsewhere }]
    }

    /// An admin may not disable themselves (someone must be left to enable them); a user
    /// already disabled stays so with nothing logged.
    pub fn disable(&self, name: &UserName, by: &UserName) -> Result<Vec<Event>, Rejection> {
        if name == by {
            return Err(Rejection::CannotDisableSelf);
        }
        if self.is_disabled(name) {
            return Ok(Vec::new());
        }
        Ok(vec![Event::UserDisabled { name: name.clone(), by: by.clone() }])
    }

    pub fn enable(&self, name: &UserName, by: &UserName) -> Vec<Event> {
        if !self.is_disabled(name) {
            return Vec::new();
        }
        vec![Event::UserEnabled { name: name.clone(), by: by.clone() }]
    }

    /// An admin adds `name`, unless an added user has that name in any case; the shell has
    /// checked the name, the password's length and that hall.toml does not name the user
    /// (in any case).
    pub fn add(
        &self,
        name: &UserName,
        role: StaffRole,
        password_hash: &PasswordHash,
        by: &UserName,
    ) -> Result<Vec<Event>, Rejection> {
        // Names differing only in case are one person's: `Clerk3` beside `clerk3` is refused.
        if self.added.keys().any(|n| n.as_str().eq_ignore_ascii_case(name.as_str())) {
            return Err(Rejection::UserExists);
        }
        if self.added.len() >= ADDED_USERS_MAX {
            return Err(Rejection::TooManyUsers(ADDED_USERS_MAX));
        }
        Ok(vec![Event::UserAdded { name: name.clone(), role, password_hash: password_hash.clone(), by: by.clone() }])
    }

    /// An admin gives `name` a new password; the shell has checked that the user exists.
    pub fn reset_password(&self, name: &UserName, password_hash: &PasswordHash, by: &UserName) -> Vec<Event> {
        vec![Event::PasswordReset { name: name.clone(), password_hash: password_hash.clone(), by: by.clone() }]
    }

    /// The password hash an admin last set for `name`, if any.
    pub fn password_of(&self, name: &UserName) -> Option<&PasswordHash> {
        self.passwords.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> UserName {
        UserName::parse(s).expect("a user name")
    }

    #[test]
    fn a_name_differing_only_in_case_is_the_same_user() {
        let mut staff = Staff::default();
        staff.added.insert(name("clerk13"), StaffRole::Clerk);
        let hash = PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string());
        for same in ["clerk13", "Clerk13", "CLERK13"] {
            assert_eq!(staff.add(&name(same), StaffRole::Clerk, &hash, &name("admin")), Err(Rejection::UserExists));
        }
        assert!(staff.add(&name("clerk14"), StaffRole::Clerk, &hash, &name("admin")).is_ok());
    }
}
