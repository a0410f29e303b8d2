//! `[district]` (issue 18): the hall's link to its district over NATS JetStream. Without
//! the table the hall runs alone, exactly as before.
//!
//! - `nats_url`: the NATS server, `nats://host:port` (or `tls://host:port`).
//! - `hall_id`: the hall's name in the district's subjects (`hallq.hall.<hall_id>.log`),
//!   by default `[hall] id`; letters, digits, `-` and `_` only, since a `.`, `*` or `>`
//!   would change the subject's meaning.
//! - `creds_file`: a NATS `.creds` file (the account's JWT and the user's NKey seed).
//! - `nkey_file`: a file holding the hall's own NKey seed (`SU…`), for a server whose
//!   `authorization` block names each hall's public key with its own permissions
//!   (`hallq nats-config` writes both); one of `creds_file` and `nkey_file`, not both.
//! - `tls_ca_file`: a PEM file of the CA that signed the NATS server's certificate; with
//!   it the link requires TLS.
//! - `public_url`, `referral_reasons`, `[[district.peer]]`: referrals between halls
//!   (`referrals.rs`).

use std::path::PathBuf;

use super::tree::Tab;
use super::Errs;

/// Longest NATS URL accepted.
const URL_CHARS_MAX: usize = 512;
/// Longest hall id in a subject.
pub const HALL_ID_CHARS_MAX: usize = 64;

/// The hall's link to the district, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistrictLink {
    /// The NATS server the hall publishes to.
    pub nats_url: String,
    /// The hall's name in the district's subjects and stream.
    pub hall_id: String,
    /// A NATS `.creds` file, if the server asks for one.
    pub creds_file: Option<PathBuf>,
    /// A file holding the hall's NKey seed, read at each connection and never logged.
    pub nkey_file: Option<PathBuf>,
    /// The CA of the server's certificate; with it, TLS is required.
    pub tls_ca_file: Option<PathBuf>,
    /// 跨中心转办: the peers, the reasons, the district's address (`referrals.rs`).
    pub referrals: super::referrals::Referrals,
}

impl DistrictLink {
    /// The subject the hall's records go to.
    pub fn log_subject(&self) -> String {
        log_subject(&self.hall_id)
    }

    /// The JetStream stream that keeps the hall's records.
    pub fn stream_name(&self) -> String {
        stream_name(&self.hall_id)
    }
}

/// The subject a hall's records go to.
pub fn log_subject(hall_id: &str) -> String {
    format!("hallq.hall.{hall_id}.log")
}

/// The stream that keeps a hall's records (one per hall, so each is resumed, kept and
/// restored on its own).
pub fn stream_name(hall_id: &str) -> String {
    format!("HALLQ_{hall_id}")
}

/// Whether `id` may stand in a subject and a stream's name.
pub fn is_subject_token(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= HALL_ID_CHARS_MAX
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Reads `[district]`; `hall` is `[hall] id`, the default `hall_id`. `None` (with errors)
/// when a key is wrong.
pub(super) fn read(mut t: Tab<'_>, hall: &str, errs: &mut Errs) -> Option<DistrictLink> {
    let loc = t.loc();
    let url = t.str("nats_url", errs);
    let id = t.str("hall_id", errs);
    let creds = t.str("creds_file", errs);
    let nkey = t.str("nkey_file", errs);
    let ca = t.str("tls_ca_file", errs);
    let own = id.as_ref().map_or(hall, |f| f.value.as_str()).to_string();
    let referrals = super::referrals::read(&mut t, &own, errs);
    t.finish(errs);
    let mut ok = true;
    let nats_url = match url {
        None => {
            errs.push(loc.err("[district] needs nats_url, e.g. \"nats://127.0.0.1:4222\"".to_string()));
            return None;
        }
        Some(f) => {
            if let Err(why) = check_url(&f.value) {
                errs.push(f.loc.err(format!("nats_url {:?}: {why}", f.value)));
                ok = false;
            }
            f.value
        }
    };
    let hall_id = match id {
        Some(f) if !is_subject_token(&f.value) => {
            let why = format!("use 1 to {HALL_ID_CHARS_MAX} letters, digits, '-' or '_'");
            errs.push(f.loc.err(format!("hall_id {:?}: {why}", f.value)));
            ok = false;
            f.value
        }
        Some(f) => f.value,
        None if !is_subject_token(hall) => {
            let why =
                "[hall] id cannot stand in a NATS subject; give [district] hall_id of letters, digits, '-' or '_'";
            errs.push(loc.err(why.to_string()));
            ok = false;
            hall.to_string()
        }
        None => hall.to_string(),
    };
    let path = |f: Option<super::tree::Field<String>>, errs: &mut Errs, ok: &mut bool| {
        let f = f?;
        if f.value.is_empty() || f.value.len() > URL_CHARS_MAX {
            errs.push(f.loc.err("give a file's path".to_string()));
            *ok = false;
        }
        Some(PathBuf::from(f.value))
    };
    if let (Some(_), Some(n)) = (&creds, &nkey) {
        errs.push(n.loc.err("give creds_file or nkey_file, not both: the server knows the hall by one".to_string()));
        ok = false;
    }
    let creds_file = path(creds, errs, &mut ok);
    let nkey_file = path(nkey, errs, &mut ok);
    let tls_ca_file = path(ca, errs, &mut ok);
    ok.then_some(DistrictLink { nats_url, hall_id, creds_file, nkey_file, tls_ca_file, referrals })
}

/// Whether `url` names one NATS server: `nats://` or `tls://`, a host and a port, no path,
/// and no password in it (credentials go in `creds_file`, never in a URL that is logged).
pub(super) fn check_url(url: &str) -> Result<(), String> {
    if url.len() > URL_CHARS_MAX {
        return Err(format!("longer than {URL_CHARS_MAX} characters"));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "nats" | "tls") {
        return Err("use nats://host:port or tls://host:port".to_string());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("name the server's host".to_string());
    }
    if parsed.port().is_none() {
        return Err("name the port (NATS listens on 4222 by default)".to_string());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("put no user or password in the URL; use creds_file or nkey_file".to_string());
    }
    if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
        return Err("a server's address has no path or query".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_one_server_without_secrets() {
        assert!(check_url("nats://127.0.0.1:4222").is_ok());
        assert!(check_url("tls://nats.example.gov.cn:4222").is_ok());
        assert!(check_url("http://127.0.0.1:4222").is_err());
        assert!(check_url("nats://127.0.0.1").is_err());
        assert!(check_url("nats://user:pw@127.0.0.1:4222").is_err());
        assert!(check_url("nats://127.0.0.1:4222/x").is_err());
    }

    #[test]
    fn a_hall_id_cannot_change_a_subject() {
        assert!(is_subject_token("qingchuan"));
        assert!(is_subject_token("town-03_a"));
        for bad in ["", "a.b", "a*", ">", "a b", "乡镇"] {
            assert!(!is_subject_token(bad), "{bad:?}");
        }
        assert_eq!(log_subject("q1"), "hallq.hall.q1.log");
    }
}
