//! `[[kiosk]]` and `[[user]]` of hall.toml: the kiosks with their device tokens and
//! printers, the staff with their roles, windows and password hashes (checked to be argon2
//! PHC strings, never kept in clear).

use super::guard::{self};
use super::hall::{id_field, name, within, Seen};
use super::tree::{Field, Loc, Tab};
use super::{Errs, KioskDef, Role, UserDef};
use super::{
    MAX_HASH_CHARS, MAX_HASH_MEMORY_KIB, MAX_HASH_PASSES, MAX_KIOSKS, MAX_KIOSK_ID_CHARS, MAX_TOKEN_CHARS, MAX_USERS,
    MIN_TOKEN_CHARS,
};
use crate::core::model::UserName;
use crate::core::setup::WindowDef;

pub(super) fn read_kiosks(tabs: Vec<Tab<'_>>, at: &Loc, errs: &mut Errs) -> Vec<KioskDef> {
    if !within(tabs.len(), MAX_KIOSKS, "kiosk", at, errs) {
        return Vec::new();
    }
    let mut ids = Seen::new("kiosk id");
    let mut tokens = Seen::new("kiosk token");
    let mut out = Vec::new();
    for mut t in tabs {
        let id = t.req_str("id", errs).filter(|id| {
            let ok = !id.value.is_empty()
                && id.value.chars().count() <= MAX_KIOSK_ID_CHARS
                && id.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                errs.push(id.loc.err(format!(
                    "bad kiosk id {:?}; use 1 to {MAX_KIOSK_ID_CHARS} ASCII letters, digits, '-' or '_'",
                    id.value
                )));
            }
            ok && ids.check(&id.value, &id.loc, errs)
        });
        let name = name(&mut t, "name", errs);
        let token = t.req_str("token", errs).filter(|tok| {
            let n = tok.value.chars().count();
            let ok = (MIN_TOKEN_CHARS..=MAX_TOKEN_CHARS).contains(&n) && tok.value.chars().all(|c| c.is_ascii_graphic());
            if !ok {
                errs.push(tok.loc.err(format!(
                    "bad kiosk token; use {MIN_TOKEN_CHARS} to {MAX_TOKEN_CHARS} printable ASCII characters without spaces"
                )));
            }
            ok && tokens.check(&tok.value, &tok.loc, errs)
        });
        let remote = match t.str("kind", errs) {
            None => false,
            Some(k) if k.value == "kiosk" => false,
            Some(k) if k.value == "remote" => true,
            Some(k) => {
                errs.push(k.loc.err(format!(
                    "unknown kiosk kind {:?}; use \"kiosk\" (in the hall) or \"remote\" (online take-a-number)",
                    k.value
                )));
                false
            }
        };
        let rate = guard::read_kiosk_rate(&mut t, errs);
        let printer = super::printer::read(&mut t, remote, errs);
        t.finish(errs);
        if let (Some(id), Some(name), Some(token)) = (id, name, token) {
            out.push(KioskDef { id: id.value, name, token: token.value, remote, rate, printer });
        }
    }
    out
}

pub(super) fn read_users(tabs: Vec<Tab<'_>>, windows: &[WindowDef], at: &Loc, errs: &mut Errs) -> Vec<UserDef> {
    if !within(tabs.len(), MAX_USERS, "user", at, errs) {
        return Vec::new();
    }
    let mut names = Seen::new("user name");
    let mut out = Vec::new();
    for mut t in tabs {
        // Names differing only in case are one name: `Clerk3` beside `clerk3` would be two
        // people to the hall and one to whoever reads the audit.
        let name = id_field(&mut t, "name", UserName::parse, errs)
            .filter(|(n, loc)| names.check(&n.as_str().to_ascii_lowercase(), loc, errs));
        let role = t.req_str("role", errs).and_then(|r| {
            let role = Role::parse(&r.value);
            if role.is_none() {
                let roles = "\"clerk\", \"supervisor\", \"admin\" or \"guide\"";
                errs.push(r.loc.err(format!("unknown role {:?}; use {roles}", r.value)));
            }
            role
        });
        let hash = t.req_str("password_hash", errs).filter(|h| check_hash(h, errs));
        let mut allowed = Vec::new();
        if let Some(list) = t.str_list("windows", errs) {
            for w in list.value {
                match windows.iter().find(|d| d.id.as_str() == w.value) {
                    Some(d) => allowed.push(d.id),
                    None => {
                        errs.push(w.loc.err(format!("unknown window {:?}; declare it in a [[window]] table", w.value)))
                    }
                }
            }
        }
        let display_name = t.str("display_name", errs).and_then(|d| {
            let chars = d.value.trim().chars().count();
            let ok = (1..=super::DISPLAY_NAME_CHARS_MAX).contains(&chars) && !d.value.chars().any(char::is_control);
            if !ok {
                let max = super::DISPLAY_NAME_CHARS_MAX;
                errs.push(d.loc.err(format!("display_name has 1 to {max} characters and no control characters")));
            }
            ok.then(|| d.value.trim().to_string())
        });
        t.finish(errs);
        if let (Some((name, _)), Some(role), Some(hash)) = (name, role, hash) {
            out.push(UserDef { name, role, password_hash: hash.value, windows: allowed, display_name });
        }
    }
    out
}

/// A password hash must be an argon2 PHC string with a cost a login can afford.
pub(super) fn check_hash(h: &Field<String>, errs: &mut Errs) -> bool {
    const WHAT_TO_DO: &str =
        "set the argon2id string `hallq hash-password` prints, such as \"$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH\"";
    if h.value.len() > MAX_HASH_CHARS {
        errs.push(h.loc.err(format!("password hash longer than {MAX_HASH_CHARS} characters; {WHAT_TO_DO}")));
        return false;
    }
    let parsed = match argon2::PasswordHash::new(&h.value) {
        Ok(p) => p,
        Err(e) => {
            errs.push(h.loc.err(format!("malformed password hash ({e}); {WHAT_TO_DO}")));
            return false;
        }
    };
    if argon2::Algorithm::try_from(parsed.algorithm).is_err() || parsed.hash.is_none() {
        errs.push(h.loc.err(format!("not an argon2 password hash; {WHAT_TO_DO}")));
        return false;
    }
    match argon2::Params::try_from(&parsed) {
        Ok(p) if p.m_cost() <= MAX_HASH_MEMORY_KIB && p.t_cost() <= MAX_HASH_PASSES => true,
        Ok(_) => {
            errs.push(h.loc.err(format!(
                "password hash costs more than m={MAX_HASH_MEMORY_KIB} KiB, t={MAX_HASH_PASSES}; hash again with lower cost"
            )));
            false
        }
        Err(e) => {
            errs.push(h.loc.err(format!("bad argon2 parameters in password hash ({e}); {WHAT_TO_DO}")));
            false
        }
    }
}
