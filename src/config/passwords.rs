//! Password hashes of hall.toml's users: argon2id PHC strings made (`hallq hash-password`),
//! checked at sign-in, and the demo users of the example hall told apart. Re-exported by
//! `config`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use super::{UserDef, DEMO_PASSWORD};

/// Could not make a password hash (the system's random source failed).
#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}; check the system's random source and retry")]
pub struct HashError(String);

/// An argon2id PHC string for `password`, with a fresh random salt and argon2's default
/// cost.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    hash_with_salt(password, SaltString::generate(&mut rand::rngs::OsRng))
}

/// An argon2id PHC string for `password` with the salt `salt` (16 bytes or more) and
/// argon2's default cost: the same password and salt give the same string. A salt must be
/// unique to its hash, not secret; `http::users` draws one from a request's idempotency
/// key, so that a retried request makes the very hash the first made.
pub fn hash_password_salted(password: &str, salt: &[u8]) -> Result<String, HashError> {
    hash_with_salt(password, SaltString::encode_b64(salt).map_err(|e| HashError(e.to_string()))?)
}

fn hash_with_salt(password: &str, salt: SaltString) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `hash`; false for any malformed hash.
pub fn verify_password(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// For each user, whether the demo password opens the account. Each check is a full
/// argon2 hash, so each distinct hash string is checked once (a `[[window_range]]`'s sixty
/// clerks share one) and the checks are split over the machine's cores.
pub(super) fn demo_password_users(users: &[UserDef]) -> Vec<bool> {
    let mut distinct: Vec<&str> = users.iter().map(|u| u.password_hash.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let opens = check_demo(&distinct);
    users
        .iter()
        .map(|u| {
            distinct.binary_search(&u.password_hash.as_str()).is_ok_and(|i| opens.get(i).copied().unwrap_or(false))
        })
        .collect()
}

fn check_demo(hashes: &[&str]) -> Vec<bool> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = hashes.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = hashes
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|h| verify_password(h, DEMO_PASSWORD)).collect::<Vec<_>>()))
            .collect();
        // A panicking check counts as "not demo"; verify_password itself does not panic.
        handles
            .into_iter()
            .zip(hashes.chunks(chunk))
            .flat_map(|(h, part)| h.join().unwrap_or_else(|_| vec![false; part.len()]))
            .collect()
    })
}
