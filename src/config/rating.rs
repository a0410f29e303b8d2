//! `[hall.rating]` (好差评: reasons for bad ratings, the cases' deadline, how long an
//! evaluator asks), `[hall.calendar]` (working days: weekly rest days, holidays, make-up
//! working days) and `[[evaluator]]` (the rating tablets at the windows, each with its
//! window and device token).

use std::collections::BTreeSet;

use chrono::{NaiveDate, Weekday};

use super::hall::Seen;
use super::tree::{Field, Loc, Tab};
use super::{Errs, MAX_NAME_CHARS, MAX_TOKEN_CHARS, MAX_WINDOWS, MIN_TOKEN_CHARS};
use crate::core::calendar::Calendar;
use crate::core::model::WindowId;
use crate::core::rating::{RatingPolicy, ReasonDef};
use crate::core::setup::WindowDef;

/// Most reasons offered for a bad rating: more than fit on a tablet is no choice.
pub const MAX_REASONS: usize = 12;
/// Longest reason code, in characters.
pub const MAX_REASON_CODE_CHARS: usize = 32;
/// Most holidays or make-up days listed: ten years of them.
pub const MAX_CALENDAR_DATES: usize = 400;
/// Longest deadline of a case, in working days.
pub const MAX_CASE_DAYS: i64 = 30;
/// Shortest and longest time an evaluator asks after `done`, in seconds.
pub const MIN_ASK_S: i64 = 10;
pub const MAX_ASK_S: i64 = 600;

/// A rating tablet facing the visitor at one window.
#[derive(Clone, PartialEq, Eq)]
pub struct EvaluatorDef {
    pub window: WindowId,
    pub token: String,
}

impl std::fmt::Debug for EvaluatorDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvaluatorDef").field("window", &self.window).field("token", &"…").finish()
    }
}

/// `[hall.rating]`, into `policy` (whose calendar is read separately).
pub(super) fn read_rating(mut t: Tab<'_>, policy: &mut RatingPolicy, errs: &mut Errs) {
    let mut int = |key: &str, min: i64, max: i64, to: &mut u32| {
        if let Some(f) = t.int(key, errs) {
            if (min..=max).contains(&f.value) {
                *to = u32::try_from(f.value).unwrap_or(*to);
            } else {
                errs.push(f.loc.err(format!("{key} is {}; use a value from {min} to {max}", f.value)));
            }
        }
    };
    int("case_days", 1, MAX_CASE_DAYS, &mut policy.case_days);
    int("ask_s", MIN_ASK_S, MAX_ASK_S, &mut policy.ask_s);
    let tabs = t.tables("reason", errs);
    if !tabs.is_empty() {
        policy.reasons = read_reasons(tabs, &t.loc(), errs);
    }
    t.finish(errs);
}

/// A list of `[[… .reason]]` tables of a `code` and a `name` (escalation and pause
/// reasons), each checked as a bad rating's reason is; `None` past [`MAX_REASONS`] (with the
/// error, naming the list as `what`, its codes as `code_label`).
pub(super) fn code_name_list(
    tabs: Vec<Tab<'_>>,
    at: &Loc,
    (what, code_label): (&str, &'static str),
    errs: &mut Errs,
) -> Option<Vec<(String, String)>> {
    if tabs.len() > MAX_REASONS {
        errs.push(at.err(format!("{} {what} reasons; a hall offers at most {MAX_REASONS}", tabs.len())));
        return None;
    }
    let mut codes = Seen::new(code_label);
    let mut out = Vec::new();
    for mut r in tabs {
        let code = reason_code(&mut r, &mut codes, errs);
        let name = reason_name(&mut r, errs);
        r.finish(errs);
        if let (Some(code), Some(name)) = (code, name) {
            out.push((code.value, name.value));
        }
    }
    Some(out)
}

/// A reason's `code`: 1 to [`MAX_REASON_CODE_CHARS`] ASCII letters, digits, '-' or '_',
/// not taken by an earlier reason of its list.
pub(super) fn reason_code(r: &mut Tab<'_>, codes: &mut Seen, errs: &mut Errs) -> Option<Field<String>> {
    r.req_str("code", errs).filter(|c| {
        let ok = !c.value.is_empty()
            && c.value.chars().count() <= MAX_REASON_CODE_CHARS
            && c.value.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        if !ok {
            errs.push(c.loc.err(format!(
                "bad reason code {:?}; use 1 to {MAX_REASON_CODE_CHARS} ASCII letters, digits, '-' or '_'",
                c.value
            )));
        }
        ok && codes.check(&c.value, &c.loc, errs)
    })
}

/// A reason's `name`: 1 to [`MAX_NAME_CHARS`] characters, not all blank.
pub(super) fn reason_name(r: &mut Tab<'_>, errs: &mut Errs) -> Option<Field<String>> {
    r.req_str("name", errs).filter(|n| {
        let ok = !n.value.trim().is_empty() && n.value.chars().count() <= MAX_NAME_CHARS;
        if !ok {
            errs.push(n.loc.err(format!("a reason's name needs 1 to {MAX_NAME_CHARS} characters")));
        }
        ok
    })
}

fn read_reasons(tabs: Vec<Tab<'_>>, at: &Loc, errs: &mut Errs) -> Vec<ReasonDef> {
    if tabs.len() > MAX_REASONS {
        errs.push(at.err(format!("{} reasons; a hall offers at most {MAX_REASONS}", tabs.len())));
        return RatingPolicy::default().reasons;
    }
    let mut codes = Seen::new("reason code");
    let mut out = Vec::new();
    for mut r in tabs {
        let code = reason_code(&mut r, &mut codes, errs);
        let name = reason_name(&mut r, errs);
        let needs_text = match r.str("text", errs) {
            None => false,
            Some(f) if f.value == "optional" => false,
            Some(f) if f.value == "required" => true,
            Some(f) => {
                errs.push(f.loc.err(format!("text is {:?}; use \"optional\" or \"required\"", f.value)));
                false
            }
        };
        r.finish(errs);
        if let (Some(code), Some(name)) = (code, name) {
            out.push(ReasonDef { code: code.value, name: name.value, needs_text });
        }
    }
    out
}

/// `[hall.calendar]`.
pub(super) fn read_calendar(mut t: Tab<'_>, errs: &mut Errs) -> Calendar {
    let mut cal = Calendar::default();
    if let Some(days) = t.str_list("rest_days", errs) {
        cal.rest_days = days
            .value
            .iter()
            .filter_map(|d| {
                let day = weekday(&d.value);
                if day.is_none() {
                    errs.push(d.loc.err(format!("unknown weekday {:?}; use \"sat\", \"sun\", \"mon\", …", d.value)));
                }
                day
            })
            .collect();
    }
    cal.holidays = dates(&mut t, "holidays", errs);
    cal.workdays = dates(&mut t, "workdays", errs);
    t.finish(errs);
    cal
}

fn weekday(s: &str) -> Option<Weekday> {
    let short = s.trim().to_ascii_lowercase();
    let short = short.get(..3)?;
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|d| *d == short)
        .and_then(|i| Weekday::try_from(u8::try_from(i).ok()?).ok())
}

fn dates(t: &mut Tab<'_>, key: &str, errs: &mut Errs) -> BTreeSet<NaiveDate> {
    let Some(list) = t.str_list(key, errs) else { return BTreeSet::new() };
    if list.value.len() > MAX_CALENDAR_DATES {
        errs.push(list.loc.err(format!("{} dates; list at most {MAX_CALENDAR_DATES}", list.value.len())));
        return BTreeSet::new();
    }
    list.value
        .iter()
        .filter_map(|d| match d.value.parse::<NaiveDate>() {
            Ok(day) => Some(day),
            Err(_) => {
                errs.push(d.loc.err(format!("bad date {:?}; write YYYY-MM-DD such as \"2026-10-01\"", d.value)));
                None
            }
        })
        .collect()
}

/// `[[evaluator]]`: each names a configured window and a token no kiosk uses.
pub(super) fn read_evaluators(
    tabs: Vec<Tab<'_>>,
    windows: &[WindowDef],
    kiosk_tokens: &[&str],
    at: &Loc,
    errs: &mut Errs,
) -> Vec<EvaluatorDef> {
    if tabs.len() > MAX_WINDOWS {
        errs.push(at.err(format!("{} evaluators; a hall has at most {MAX_WINDOWS}", tabs.len())));
        return Vec::new();
    }
    let mut tokens = Seen::new("evaluator token");
    let mut out = Vec::new();
    for mut t in tabs {
        let window = t.req_str("window", errs).and_then(|w| {
            let found = windows.iter().find(|d| d.id.as_str() == w.value).map(|d| d.id);
            if found.is_none() {
                errs.push(w.loc.err(format!("unknown window {:?}; name a declared [[window]] id", w.value)));
            }
            found
        });
        let token = t.req_str("token", errs).filter(|tok| {
            let n = tok.value.chars().count();
            let ok = (MIN_TOKEN_CHARS..=MAX_TOKEN_CHARS).contains(&n) && tok.value.chars().all(|c| c.is_ascii_graphic());
            if !ok {
                errs.push(tok.loc.err(format!(
                    "bad evaluator token; use {MIN_TOKEN_CHARS} to {MAX_TOKEN_CHARS} printable ASCII characters without spaces"
                )));
                return false;
            }
            if kiosk_tokens.contains(&tok.value.as_str()) {
                errs.push(tok.loc.err("a kiosk uses this token already; give the evaluator its own"));
                return false;
            }
            tokens.check(&tok.value, &tok.loc, errs)
        });
        t.finish(errs);
        if let (Some(window), Some(token)) = (window, token) {
            out.push(EvaluatorDef { window, token: token.value });
        }
    }
    out
}
