//! The hall's users as state: who an admin has disabled. Users themselves are configured
//! in hall.toml; a disable is an event (`UserDisabled`), so it is audited and holds across
//! restarts and service days until an admin enables the user again.
//!
//! Logins and logouts are decided here too, so that a disabled user is refused by the
//! core (the log is the authority, not the shell's memory) and every sign-in is recorded.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::command::Rejection;
use super::event::Event;
use super::model::UserName;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    /// Users an admin disabled and has not enabled since.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub disabled: BTreeSet<UserName>,
}

impl Staff {
    pub fn is_disabled(&self, user: &UserName) -> bool {
        self.disabled.contains(user)
    }

    /// `user`'s password is right: they sign in, unless disabled.
    pub fn log_in(&self, user: &UserName) -> Result<Vec<Event>, Rejection> {
        if self.is_disabled(user) {
            return Err(Rejection::UserDisabled);
        }
        Ok(vec![Event::UserLoggedIn { name: user.clone() }])
    }

    pub fn log_out(&self, user: &UserName) -> Vec<Event> {
        vec![Event::UserLoggedOut { name: user.clone() }]
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
}
