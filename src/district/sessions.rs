//! The district's supervisors signed in: sessions in memory under the SHA-256 of their
//! token (a restart signs everyone out: the district decides nothing a sign-in could lose),
//! each ending after the configured time, bounded per user and in all.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::core::model::UserName;

/// Sessions of one supervisor at once; a ninth sign-in ends the user's oldest.
pub const SESSIONS_PER_USER_MAX: usize = 8;
/// Sessions in all: a district has tens of supervisors; a flood of sign-ins by the few
/// who know a password ends the oldest sessions, never exhausts memory.
pub const SESSIONS_MAX: usize = 1_000;

struct Session {
    user: UserName,
    expires_ms: i64,
    /// Creation order: the oldest ends first.
    started: u64,
}

pub struct Sessions {
    ttl_ms: i64,
    inner: Mutex<(HashMap<[u8; 32], Session>, u64)>,
}

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    pub fn new(ttl_s: u64) -> Self {
        let ttl_ms = i64::try_from(ttl_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        Self { ttl_ms, inner: Mutex::new((HashMap::new(), 0)) }
    }

    /// Opens a session for `user` at `now_ms`; its token.
    pub fn create(&self, user: &UserName, now_ms: i64) -> String {
        let token: String = rand::random::<[u8; 32]>().iter().map(|b| format!("{b:02x}")).collect();
        let mut guard = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, next) = &mut *guard;
        map.retain(|_, s| s.expires_ms > now_ms);
        let mine = map.iter().filter(|(_, s)| &s.user == user).count();
        if mine >= SESSIONS_PER_USER_MAX {
            oldest(map, Some(user));
        }
        if map.len() >= SESSIONS_MAX {
            oldest(map, None);
        }
        *next += 1;
        let session = Session { user: user.clone(), expires_ms: now_ms.saturating_add(self.ttl_ms), started: *next };
        map.insert(key(&token), session);
        token
    }

    /// The user of a live session.
    pub fn user(&self, token: &str, now_ms: i64) -> Option<UserName> {
        let guard = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.0.get(&key(token)).filter(|s| s.expires_ms > now_ms).map(|s| s.user.clone())
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Ends the oldest session (of `user`, when given).
fn oldest(map: &mut HashMap<[u8; 32], Session>, user: Option<&UserName>) {
    let first = map.iter().filter(|(_, s)| user.is_none_or(|u| &s.user == u)).min_by_key(|(_, s)| s.started);
    if let Some(k) = first.map(|(k, _)| *k) {
        map.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_and_stay_bounded() {
        let s = Sessions::new(60);
        let alice = UserName::parse("alice").expect("a name");
        let first = s.create(&alice, 0);
        assert_eq!(s.user(&first, 59_999), Some(alice.clone()));
        assert_eq!(s.user(&first, 60_000), None, "expired");
        assert_eq!(s.user("not a token", 0), None);
        let tokens: Vec<String> = (0..SESSIONS_PER_USER_MAX + 1).map(|_| s.create(&alice, 1)).collect();
        assert_eq!(s.len(), SESSIONS_PER_USER_MAX);
        assert_eq!(s.user(&tokens[0], 2), None, "the oldest ended");
        assert!(s.user(&tokens[SESSIONS_PER_USER_MAX], 2).is_some());
    }
}
