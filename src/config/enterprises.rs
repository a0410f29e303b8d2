//! `[enterprises]` (助企服务): the CSV of enterprises served one-to-one (`id,name,
//! credit_code,specialist`, beside hall.toml) and the queue their tickets wait in when the
//! specialist's window is not open.
//!
//! Each row's credit code is checked here (its check character, GB 32100-2015) and kept
//! only as a `CreditCode` in the shell's `Config`, whose `Debug` hides it; the daemon turns
//! the codes into keyed hashes at start (`seed`) and the core sees only those.

use super::tree::{Field, Loc, Tab};
use super::{ConfigError, Errs, Role, UserDef};
use crate::core::enterprise::{
    EnterpriseDef, EnterpriseId, EnterprisePolicy, ENTERPRISES_MAX, ENTERPRISE_NAME_CHARS_MAX,
    PERSONAL_HOLD_MIN_DEFAULT, PERSONAL_HOLD_MIN_MAX,
};
use crate::core::model::UserName;
use crate::core::setup::QueueDef;
use crate::credit_code::CreditCode;

const COLUMNS: [&str; 4] = ["id", "name", "credit_code", "specialist"];

/// One row of the registry's CSV, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnterpriseRow {
    pub id: EnterpriseId,
    pub name: String,
    pub code: CreditCode,
    pub specialist: UserName,
}

/// The table as read, before its file and queue are looked at.
pub(super) struct RawEnterprises {
    csv: Field<String>,
    queue: Field<String>,
    /// `personal_hold_minutes` (issue 17 follow-up point 2), checked; absent, the default.
    hold_min: u32,
}

pub(super) fn read(mut t: Tab<'_>, errs: &mut Errs) -> Option<RawEnterprises> {
    let csv = t.req_str("csv", errs);
    let queue = t.req_str("queue", errs);
    let max = i64::from(PERSONAL_HOLD_MIN_MAX);
    let hold = super::guard::int_within(&mut t, "personal_hold_minutes", 1, max, errs);
    let hold_min = hold.and_then(|v| u32::try_from(v).ok()).unwrap_or(PERSONAL_HOLD_MIN_DEFAULT);
    t.finish(errs);
    Some(RawEnterprises { csv: csv?, queue: queue?, hold_min })
}

/// The policy (with no seed yet: the daemon hashes the rows' codes at start) and the rows.
pub(super) fn load(
    raw: Option<RawEnterprises>,
    read: &dyn Fn(&str) -> Result<String, String>,
    queues: &[QueueDef],
    users: &[UserDef],
    errs: &mut Errs,
) -> (Option<EnterprisePolicy>, Vec<EnterpriseRow>) {
    let Some(raw) = raw else { return (None, Vec::new()) };
    let queue = queues.iter().find(|q| q.id.as_str() == raw.queue.value).map(|q| q.id);
    if queue.is_none() {
        let name = &raw.queue.value;
        errs.push(raw.queue.loc.err(format!("unknown queue {name:?}; name the declared queue of enterprise tickets")));
    }
    let text = match read(&raw.csv.value) {
        Ok(text) => text,
        Err(e) => {
            errs.push(raw.csv.loc.err(format!("{e}; name the enterprises' CSV beside hall.toml")));
            return (None, Vec::new());
        }
    };
    let rows = rows(&raw.csv.value, &text, users, errs);
    let personal_hold_min = raw.hold_min;
    (queue.map(|queue| EnterprisePolicy { queue, seed: Vec::new(), personal_hold_min }), rows)
}

fn rows(file: &str, text: &str, users: &[UserDef], errs: &mut Errs) -> Vec<EnterpriseRow> {
    let cells = super::csv_catalog::rows(file, text, COLUMNS, errs);
    if cells.len() > ENTERPRISES_MAX {
        let at = Loc { file: file.to_string(), line: None, key: String::new() };
        errs.push(at.err(format!("{} enterprises; a registry holds at most {ENTERPRISES_MAX}", cells.len())));
        return Vec::new();
    }
    let mut out: Vec<EnterpriseRow> = Vec::new();
    for [id, name, code, specialist] in cells {
        let Some(row) = row(id, name, code, specialist, users, errs) else { continue };
        if out.iter().any(|r| r.id == row.id) {
            errs.push(dup(file, "id", format!("enterprise {} is listed twice; give each row its own id", row.id)));
        } else if out.iter().any(|r| r.code == row.code) {
            let message =
                format!("enterprise {}'s credit code is another row's too; list each enterprise once", row.id);
            errs.push(dup(file, "credit_code", message));
        } else {
            out.push(row);
        }
    }
    out
}

fn dup(file: &str, key: &str, message: String) -> ConfigError {
    ConfigError { file: file.to_string(), line: None, key: key.to_string(), message }
}

/// One row, every cell checked; `None` (with the errors) if any is wrong.
fn row(
    id: Field<String>,
    name: Field<String>,
    code: Field<String>,
    specialist: Field<String>,
    users: &[UserDef],
    errs: &mut Errs,
) -> Option<EnterpriseRow> {
    let id_ok = EnterpriseId::parse(&id.value).map_err(|e| errs.push(id.loc.err(format!("{e}")))).ok();
    let n = name.value.chars().count();
    if n == 0 || n > ENTERPRISE_NAME_CHARS_MAX {
        errs.push(name.loc.err(format!("a name has 1 to {ENTERPRISE_NAME_CHARS_MAX} characters, not {n}")));
    }
    // The message names the row's line, never the code: the error goes to a terminal.
    let code_ok = CreditCode::parse(&code.value).map_err(|e| errs.push(code.loc.err(e.to_string()))).ok();
    let clerk = users.iter().find(|u| u.name.as_str() == specialist.value && u.role == Role::Clerk);
    if clerk.is_none() {
        let v = &specialist.value;
        errs.push(specialist.loc.err(format!("unknown specialist {v:?}; name a [[user]] with role = \"clerk\"")));
    }
    let name_ok = (1..=ENTERPRISE_NAME_CHARS_MAX).contains(&n).then(|| name.value.clone());
    Some(EnterpriseRow { id: id_ok?, name: name_ok?, code: code_ok?, specialist: clerk?.name.clone() })
}

/// The core's registry seed: each row with its code's keyed hash under the hall's key.
pub fn seed(rows: &[EnterpriseRow], phone_key: &[u8; 32]) -> Vec<EnterpriseDef> {
    rows.iter()
        .map(|r| EnterpriseDef {
            id: r.id.clone(),
            name: r.name.clone(),
            code_hash: r.code.hash(phone_key),
            specialist: r.specialist.clone(),
        })
        .collect()
}
