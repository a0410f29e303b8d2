//! `[hall.escalation]` (办不成事请找我): the escalation queue, the cases' deadline in
//! working days, the named handler, and `[[hall.escalation.reason]]`, the reasons a clerk
//! may give for a matter not done. The queue and the handler are checked once the queues
//! and users are read.

use super::rating::{code_name_list, MAX_CASE_DAYS};
use super::tree::{Field, Loc, Tab};
use super::{Errs, UserDef};
use crate::core::escalation::{EscalationPolicy, EscalationReason};
use crate::core::setup::QueueDef;

/// The table as read, before its queue and handler are known to exist.
pub(super) struct RawEscalation {
    queue: Field<String>,
    handler: Field<String>,
    case_days: u32,
    reasons: Vec<EscalationReason>,
}

/// Reads the table; `None` (with errors) when a key is missing or out of range.
pub(super) fn read(mut t: Tab<'_>, errs: &mut Errs) -> Option<RawEscalation> {
    let queue = t.req_str("queue", errs);
    let handler = t.req_str("handler", errs);
    let case_days = match t.int("case_days", errs) {
        None => Some(EscalationPolicy::DEFAULT_CASE_DAYS),
        Some(f) if (1..=MAX_CASE_DAYS).contains(&f.value) => u32::try_from(f.value).ok(),
        Some(f) => {
            errs.push(f.loc.err(format!("case_days is {}; use a value from 1 to {MAX_CASE_DAYS}", f.value)));
            None
        }
    };
    let tabs = t.tables("reason", errs);
    let reasons =
        if tabs.is_empty() { EscalationPolicy::default_reasons() } else { read_reasons(tabs, &t.loc(), errs) };
    t.finish(errs);
    Some(RawEscalation { queue: queue?, handler: handler?, case_days: case_days?, reasons })
}

fn read_reasons(tabs: Vec<Tab<'_>>, at: &Loc, errs: &mut Errs) -> Vec<EscalationReason> {
    match code_name_list(tabs, at, ("escalation", "escalation reason code"), errs) {
        Some(list) => list.into_iter().map(|(code, name)| EscalationReason { code, name }).collect(),
        None => EscalationPolicy::default_reasons(),
    }
}

/// The policy, once its queue is found among `queues` and its handler among `users`.
pub(super) fn resolve(
    raw: RawEscalation,
    queues: &[QueueDef],
    users: &[UserDef],
    errs: &mut Errs,
) -> Option<EscalationPolicy> {
    let queue = queues.iter().find(|q| q.id.as_str() == raw.queue.value).map(|q| q.id);
    if queue.is_none() {
        let name = &raw.queue.value;
        errs.push(raw.queue.loc.err(format!("unknown queue {name:?}; name the declared queue of stuck matters")));
    }
    let handler = users.iter().find(|u| u.name.as_str() == raw.handler.value).map(|u| u.name.clone());
    if handler.is_none() {
        let name = &raw.handler.value;
        errs.push(raw.handler.loc.err(format!("unknown user {name:?}; name a [[user]] who answers for the cases")));
    }
    Some(EscalationPolicy { queue: queue?, case_days: raw.case_days, handler: handler?, reasons: raw.reasons })
}
