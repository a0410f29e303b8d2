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

/// Each checked hash string and whether the demo password opens it; the example
/// configurations' own from the start.
static DEMO_KNOWN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, bool>>> =
    std::sync::LazyLock::new(|| {
        std::sync::Mutex::new(EXAMPLE_DEMO_HASHES.iter().map(|h| (h.to_string(), true)).collect())
    });

/// The example configurations' password hashes (`kiosk-config/`: the example hall and the
/// example district's halls and users), each known to open with the demo password. A hall
/// started on them is told so without an argon2 check apiece (sixteen hashes, about 0.7 s
/// of CPU at each start: every child daemon of the test suite, and every real first run).
/// `tests::every_listed_hash_opens_with_the_demo_password` checks each with argon2, and
/// `tests::every_example_hash_is_listed` that a hash added to an example is listed here; a
/// hash not listed is checked as any other.
const EXAMPLE_DEMO_HASHES: &[&str] = &[
    "$argon2id$v=19$m=19456,t=2,p=1$1XYlA0ijFIpZB+1fg/vj8A$ga1nMH9Xnp3ti11/z37yocbDLYIRIGBG1qbay35U3VQ",
    "$argon2id$v=19$m=19456,t=2,p=1$2LQsecK6XGTa+jSlkhCF/g$Hz9JdAJF1dGUJMjC8VqGG4vyc4VYaf33V6fVnD9IGVY",
    "$argon2id$v=19$m=19456,t=2,p=1$Bmur5jj9HNBSK1hCGYDlGQ$WNTVhT15JvQs2ofmSi3HGrguVTNQifwk4SU2u4ZDXgk",
    "$argon2id$v=19$m=19456,t=2,p=1$FkRbecJ+XC0/DS1W4uR6Jg$bD12VXyl+hjsMOCHp1d/JEwku65KWo3c4pUea0XMh/k",
    "$argon2id$v=19$m=19456,t=2,p=1$d5ejRqYsNZTquoLZvS+DhA$c9zC9L5PRzZqJ14bkS8guD6AYw/suyObXMvcvXqMux4",
    "$argon2id$v=19$m=19456,t=2,p=1$dKSjt8kHydyl4Nq2Eigu4Q$uTPQSQPbBKx+mk/sH9x4VJNi3E74jS+xkZKAZQv+Wx0",
    "$argon2id$v=19$m=19456,t=2,p=1$dxZSgm09WWm0K08AHY6qow$YgcFFBE/6MUD5DBKYZNJ+fbV64Gz3cISSLIJjVDCNWM",
    "$argon2id$v=19$m=19456,t=2,p=1$e6biCSqdPEMxMflVEZubvA$ENtcUVYtP0Ow9FN/FOHWSLfNMzyG0RRlluZQQhq3cM0",
    "$argon2id$v=19$m=19456,t=2,p=1$h3Flog9rSAX+2itQ9CdOIA$lV2Btx8tdi005S4iZG/OjRN+4M4M3hNGbS47pw6iQUA",
    "$argon2id$v=19$m=19456,t=2,p=1$hYo83lWwBvxqRwNMWm6Naw$/ncyz3HeIFH36miCiNMtRzfpI8RcXAgqcbFqaW6W6qs",
    "$argon2id$v=19$m=19456,t=2,p=1$ikeARgW4Q87S11kipQzuaA$UUxOmBxY3btH9L8Y7al22X5EX1a/zGyMKr/l175j/Ow",
    "$argon2id$v=19$m=19456,t=2,p=1$m3cAhlBHqhsIKVLcdp6zSQ$vPuNF5eRj8fKf/f/B98zUHJSSRYde6o8bCfwEFZUu9k",
    "$argon2id$v=19$m=19456,t=2,p=1$oPaj9WE40ioVLLmTN7K0Sw$JN/ncGK3JDKGSa0T3At1jaImHBcezmFrwpB7oYsln0k",
    "$argon2id$v=19$m=19456,t=2,p=1$oQsPRHtNyBnTP1ytiTTefw$hVdGCjOWazpLsPRKLmVFVmTltGfMhwxkUnpq1iGa5XM",
    "$argon2id$v=19$m=19456,t=2,p=1$tHapLAVC03CliLSyDZAYKg$m8rpulAF7Z0pArxkakjn1aUlTjl032W9iEd01N2MAjA",
    "$argon2id$v=19$m=19456,t=2,p=1$zn8W3smYLORdnBLHQX+Mhw$lZQsS1447QBgMdNbfzqECeDzF8qORXLkK5gCVWQVAvU",
];

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_hash_opens_with_the_demo_password() {
        let refused: Vec<&str> =
            EXAMPLE_DEMO_HASHES.iter().copied().filter(|h| !verify_password(h, DEMO_PASSWORD)).collect();
        assert!(refused.is_empty(), "listed as opening with the demo password, but do not: {refused:?}");
    }

    /// Every argon2 string in the example configurations' `.toml` files.
    fn example_hashes(dir: &std::path::Path, found: &mut Vec<String>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                example_hashes(&path, found);
            } else if path.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
                for part in text.split('"').filter(|p| p.starts_with("$argon2id$")) {
                    found.push(part.to_string());
                }
            }
        }
    }

    #[test]
    fn every_example_hash_is_listed() {
        let mut found = Vec::new();
        example_hashes(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config"), &mut found);
        assert!(found.len() >= 16, "the example hall and district have their users' hashes: {found:?}");
        let missing: Vec<&String> = found.iter().filter(|h| !EXAMPLE_DEMO_HASHES.contains(&h.as_str())).collect();
        assert!(
            missing.is_empty(),
            "add these to EXAMPLE_DEMO_HASHES (each opens with the demo password?): {missing:?}"
        );
    }
}
