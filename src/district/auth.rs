//! Who a hall or the district is to the NATS server (issue 18): the one place that turns
//! `creds_file`, `nkey_file` and `tls_ca_file` into a connection's options.
//!
//! With `nkey_file` the server knows each party by its public key and gives it only its
//! own subjects (`hallq nats-config`, `natsconf.rs`), so a hall taken over cannot write
//! into another hall's stream, answer or read another hall's cmd subject, or delete a
//! stream. Replies come back on an inbox of the party's own (`_INBOX.hall.<id>.…`,
//! `_INBOX.district.<id>.…`), so a hall may hear only its own answers, never the
//! district's or another hall's, which carry visitors' requests. The seed is read when
//! connecting and goes only to the client library: it is never logged, and a file that
//! others may read is refused, as ssh refuses such a key.

use std::path::Path;

use async_nats::ConnectOptions;

use crate::config::DistrictLink;

/// The largest seed file read, in bytes: a seed is 58 characters, a comment or two more.
const SEED_FILE_BYTES_MAX: u64 = 1024;

/// The inbox prefix of hall `hall_id`'s connections.
pub fn hall_inbox(hall_id: &str) -> String {
    format!("_INBOX.hall.{hall_id}")
}

/// The inbox prefix of district `district_id`'s connection.
pub fn district_inbox(district_id: &str) -> String {
    format!("_INBOX.district.{district_id}")
}

/// `options` with hall `link`'s identity, its inbox and its TLS; or why not, in words.
pub async fn hall_options(options: ConnectOptions, link: &DistrictLink) -> Result<ConnectOptions, String> {
    let mut options = options.custom_inbox_prefix(hall_inbox(&link.hall_id));
    if let Some(creds) = &link.creds_file {
        options = options
            .credentials_file(creds)
            .await
            .map_err(|e| format!("the NATS creds file {}: {e}", creds.display()))?;
    }
    if let Some(file) = &link.nkey_file {
        options = options.nkey(read_seed(file)?);
    }
    if let Some(ca) = &link.tls_ca_file {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    Ok(options)
}

/// `options` with the district's identity (`nkey_file` of district.toml) and its inbox.
pub fn district_options(options: ConnectOptions, id: &str, nkey_file: Option<&Path>) -> Result<ConnectOptions, String> {
    let options = options.custom_inbox_prefix(district_inbox(id));
    Ok(match nkey_file {
        Some(file) => options.nkey(read_seed(file)?),
        None => options,
    })
}

/// The user seed in `path`: its first line that is not blank or a `#` comment, checked
/// to be a user's seed; the error names the file, never its content.
pub fn read_seed(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("the NKey seed file {}: {e}", path.display()))?;
    let meta = file.metadata().map_err(|e| format!("the NKey seed file {}: {e}", path.display()))?;
    check_private(path, &meta)?;
    if meta.len() > SEED_FILE_BYTES_MAX {
        return Err(format!("{} is larger than a seed file ({SEED_FILE_BYTES_MAX} bytes at most)", path.display()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("the NKey seed file {}: {e}", path.display()))?;
    let seed = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or_default();
    let pair = nkeys::KeyPair::from_seed(seed).map_err(|_| {
        format!("{} holds no NKey seed (a line starting SU…); make one with hallq nats-config", path.display())
    })?;
    if pair.key_pair_type() != nkeys::KeyPairType::User {
        return Err(format!("{} holds an NKey seed that is not a user's (SU…)", path.display()));
    }
    Ok(seed.to_string())
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "the NKey seed file {} may be read by others (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path, _: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_file(text: &str, mode: u32) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("s.nk");
        std::fs::write(&path, text).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        dir
    }

    #[test]
    fn a_seed_file_is_private_and_holds_a_users_seed_which_no_error_repeats() {
        let user = nkeys::KeyPair::new_user().seed().expect("a seed");
        let ok = seed_file(&format!("# town-a\n{user}\n"), 0o600);
        assert_eq!(read_seed(&ok.path().join("s.nk")).as_deref(), Ok(user.as_str()));
        let open = seed_file(&user, 0o644);
        let e = read_seed(&open.path().join("s.nk")).expect_err("a seed others may read");
        assert!(e.contains("chmod 600") && !e.contains(&user), "{e}");
        let account = nkeys::KeyPair::new_account().seed().expect("a seed");
        let wrong = seed_file(&account, 0o600);
        let e = read_seed(&wrong.path().join("s.nk")).expect_err("an account's seed");
        assert!(e.contains("not a user's") && !e.contains(&account), "{e}");
        let junk = seed_file("SUnot-a-seed\n", 0o600);
        let e = read_seed(&junk.path().join("s.nk")).expect_err("no seed");
        assert!(e.contains("no NKey seed") && !e.contains("SUnot"), "{e}");
    }
}
