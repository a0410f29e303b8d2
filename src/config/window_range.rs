//! `[[window_range]]` of hall.toml: many alike windows in one table (issue 17 §5, the hall
//! at its real size). A hall of sixty counters, most of them the same comprehensive window,
//! would otherwise be sixty `[[window]]` tables, sixty `[[user]]` tables and sixty
//! `[[evaluator]]` tables; a range says once "windows 13 to 48, named `{n}号综合窗口`,
//! serving A, each with its clerk `clerk{n}` and its rating tablet `demo-rate-{n}`".
//!
//! A range makes exactly what the long form would: window `n` (id the decimal number), and
//! if asked a clerk named `clerk{n}` who may open only that window and an evaluator with the
//! token made from the template. Ids, user names and tokens must not clash with the long
//! form's or another range's; every clash is reported with the range's line.

use super::hall::{name, within, HallParts};
use super::lines::{check_every_queue_served, queue_list};
use super::people::check_hash;
use super::rating::EvaluatorDef;
use super::tree::{Field, Loc, Tab};
use super::{Errs, Role, UserDef};
use super::{MAX_TOKEN_CHARS, MAX_USERS, MAX_WINDOWS, MIN_TOKEN_CHARS};
use crate::core::model::{QueueId, UserName, WindowId};
use crate::core::setup::WindowDef;

/// Where the window's number goes in a range's `name` and `evaluator_token`.
const NUMBER: &str = "{n}";
/// Highest window number a range may reach: window ids are short labels on a lobby screen.
pub const MAX_RANGE_NUMBER: i64 = 9_999;

/// One range, checked: what each of its windows gets.
struct Range {
    from: i64,
    to: i64,
    name: String,
    queues: Vec<QueueId>,
    clerk_hash: Option<String>,
    token: Option<String>,
    loc: Loc,
}

/// Reads the `[[window_range]]` tables of `top` and adds their windows to `parts.windows`,
/// then checks that every queue has a window, the ranges' counted. Runs after `[[window]]`
/// and before `[[user]]`, so users of the long form may name range windows; the ranges'
/// clerks and tablets are added later by [`add_staff`].
pub(super) fn finish_windows(
    top: &mut Tab<'_>,
    parts: &mut HallParts,
    served: &mut Vec<QueueId>,
    errs: &mut Errs,
) -> Vec<RangeStaff> {
    let tabs = top.tables("window_range", errs);
    let staff = if within(tabs.len(), MAX_WINDOWS, "window_range", &top.loc(), errs) {
        read_windows(tabs, parts, served, errs)
    } else {
        Vec::new()
    };
    check_every_queue_served(parts, served, errs);
    staff
}

fn read_windows(
    tabs: Vec<Tab<'_>>,
    parts: &mut HallParts,
    served: &mut Vec<QueueId>,
    errs: &mut Errs,
) -> Vec<RangeStaff> {
    let mut ranges = Vec::new();
    for t in tabs {
        if let Some(r) = read_range(t, &parts.queues, served, errs) {
            ranges.push(r);
        }
    }
    for r in &ranges {
        for n in r.from..=r.to {
            let id_text = n.to_string();
            if parts.windows.iter().any(|w| w.id.as_str() == id_text) {
                errs.push(r.loc.err(format!(
                    "window {id_text:?} is declared already; make the ranges and [[window]] ids disjoint"
                )));
                continue;
            }
            if parts.windows.len() >= MAX_WINDOWS {
                errs.push(r.loc.err(format!("more than {MAX_WINDOWS} windows in all; shorten the range")));
                return ranges.into_iter().map(RangeStaff::from).collect();
            }
            match WindowId::parse(&id_text) {
                Ok(id) => parts.windows.push(WindowDef {
                    id,
                    name: r.name.replace(NUMBER, &id_text),
                    queues: r.queues.clone(),
                    prefer: Default::default(),
                }),
                Err(e) => errs.push(r.loc.err(format!("{e}; change from/to"))),
            }
        }
    }
    ranges.into_iter().map(RangeStaff::from).collect()
}

/// What a range still has to add once the long form's users and evaluators are read.
pub(super) struct RangeStaff {
    from: i64,
    to: i64,
    clerk_hash: Option<String>,
    token: Option<String>,
    loc: Loc,
}

impl From<Range> for RangeStaff {
    fn from(r: Range) -> Self {
        RangeStaff { from: r.from, to: r.to, clerk_hash: r.clerk_hash, token: r.token, loc: r.loc }
    }
}

/// Adds each range's clerks (`clerk{n}`, window `n` only) to `parts.users` and its
/// evaluators to `parts.evaluators`, refusing names and tokens already taken.
pub(super) fn add_staff(ranges: Vec<RangeStaff>, parts: &mut HallParts, errs: &mut Errs) {
    for r in &ranges {
        for n in r.from..=r.to {
            let Some(window) = parts.windows.iter().find(|w| w.id.as_str() == n.to_string()).map(|w| w.id) else {
                continue; // its window was refused above, with an error
            };
            if let Some(hash) = &r.clerk_hash {
                add_clerk(parts, n, window, hash, &r.loc, errs);
            }
            if let Some(token) = &r.token {
                add_evaluator(parts, window, token.replace(NUMBER, &n.to_string()), &r.loc, errs);
            }
        }
    }
}

fn add_clerk(parts: &mut HallParts, n: i64, window: WindowId, hash: &str, loc: &Loc, errs: &mut Errs) {
    let login = format!("clerk{n}");
    if parts.users.iter().any(|u| u.name.as_str().eq_ignore_ascii_case(&login)) {
        errs.push(loc.err(format!("user {login:?} is declared already; drop clerk_password_hash or that [[user]]")));
        return;
    }
    if parts.users.len() >= MAX_USERS {
        errs.push(loc.err(format!("more than {MAX_USERS} users in all; shorten the range")));
        return;
    }
    match UserName::parse(&login) {
        Ok(name) => parts.users.push(UserDef {
            name,
            role: Role::Clerk,
            password_hash: hash.to_string(),
            windows: vec![window],
            display_name: None,
        }),
        Err(e) => errs.push(loc.err(format!("{e}; change from/to"))),
    }
}

fn add_evaluator(parts: &mut HallParts, window: WindowId, token: String, loc: &Loc, errs: &mut Errs) {
    let taken = parts.evaluators.iter().any(|e| e.token == token) || parts.kiosks.iter().any(|k| k.token == token);
    if taken {
        errs.push(loc.err(format!("evaluator token {token:?} is taken already; give each window its own")));
        return;
    }
    if parts.evaluators.iter().any(|e| e.window == window) {
        errs.push(
            loc.err(format!("window {window} has an evaluator already; drop evaluator_token or that [[evaluator]]")),
        );
        return;
    }
    parts.evaluators.push(EvaluatorDef { window, token });
}

fn read_range(
    mut t: Tab<'_>,
    queues: &[crate::core::setup::QueueDef],
    served: &mut Vec<QueueId>,
    errs: &mut Errs,
) -> Option<Range> {
    let loc = t.loc();
    let from = t.req_int("from", errs);
    let to = t.req_int("to", errs);
    let name = name(&mut t, "name", errs).filter(|n| {
        let ok = n.contains(NUMBER);
        if !ok {
            errs.push(loc.err(format!(
                "name {n:?} has no {NUMBER}; write where the window's number goes, e.g. \"{NUMBER}号综合窗口\""
            )));
        }
        ok
    });
    let list = queue_list(&mut t, queues, served, errs);
    let clerk_hash = t.str("clerk_password_hash", errs).filter(|h| check_hash(h, errs)).map(|h| h.value);
    let token = t.str("evaluator_token", errs).and_then(|f| token_template(f, errs));
    t.finish(errs);
    let (from, to) = bounds(from?, to?, errs)?;
    Some(Range { from, to, name: name?, queues: list?, clerk_hash, token, loc })
}

fn bounds(from: Field<i64>, to: Field<i64>, errs: &mut Errs) -> Option<(i64, i64)> {
    for f in [&from, &to] {
        if !(1..=MAX_RANGE_NUMBER).contains(&f.value) {
            errs.push(f.loc.err(format!("{} is not a window number; use 1 to {MAX_RANGE_NUMBER}", f.value)));
            return None;
        }
    }
    if to.value < from.value {
        errs.push(
            to.loc.err(format!("to ({}) is below from ({}); write the lower number in from", to.value, from.value)),
        );
        return None;
    }
    Some((from.value, to.value))
}

/// The token with the longest window number in it must still be a valid token.
fn token_template(f: Field<String>, errs: &mut Errs) -> Option<String> {
    let longest = f.value.replace(NUMBER, &MAX_RANGE_NUMBER.to_string());
    let shortest = f.value.replace(NUMBER, "1");
    let ok = f.value.contains(NUMBER)
        && (MIN_TOKEN_CHARS..=MAX_TOKEN_CHARS).contains(&shortest.chars().count())
        && longest.chars().count() <= MAX_TOKEN_CHARS
        && f.value.chars().all(|c| c.is_ascii_graphic());
    if !ok {
        errs.push(f.loc.err(format!(
            "bad evaluator_token; write {NUMBER} where the window's number goes, in {MIN_TOKEN_CHARS} to {MAX_TOKEN_CHARS} printable ASCII characters, e.g. \"rate-{NUMBER}-SECRET\""
        )));
        return None;
    }
    Some(f.value)
}
