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
///
/// The answers are kept for the life of the process (`DEMO_KNOWN_MAX` hash strings at
/// most): whether a PHC string opens with the demo password never changes, and a process
/// that starts a hall more than once (the test suite starts hundreds, each with the
/// example hall's sixteen hashes, about 0.4 s of CPU apiece) checks each string once.
pub(super) fn demo_password_users(users: &[UserDef]) -> Vec<bool> {
    let mut distinct: Vec<&str> = users.iter().map(|u| u.password_hash.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let known = |h: &str| DEMO_KNOWN.lock().ok().and_then(|k| k.get(h).copied());
    let unknown: Vec<&str> = distinct.iter().copied().filter(|h| known(h).is_none()).collect();
    let checked = check_demo(&unknown);
    if let Ok(mut k) = DEMO_KNOWN.lock() {
        for (h, opens) in unknown.iter().zip(&checked) {
            if k.len() < DEMO_KNOWN_MAX {
                k.insert(h.to_string(), *opens);
            }
        }
    }
    let opens = |h: &str| match unknown.binary_search(&h) {
        Ok(i) => checked.get(i).copied().unwrap_or(false),
        Err(_) => known(h).unwrap_or(false),
    };
    users.iter().map(|u| opens(u.password_hash.as_str())).collect()
}

/// Hash strings whose demo check is kept (a hall has a few hundred users at most).
const DEMO_KNOWN_MAX: usize = 4096;

/// Each checked hash string and whether the demo password opens it.
static DEMO_KNOWN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, bool>>> =
    std::sync::LazyLock::new(Default::default);

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
