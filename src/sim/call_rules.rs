//! The names the log gives the core's call rules (`CallRule`), in their declaration order,
//! for the simulation report's calls by rule.

use crate::core::model::CallRule;

/// The log names of the `CallRule` kinds, in their declaration order.
pub(super) const RULES: [&str; 9] = [
    "transferred_here",
    "aged",
    "priority",
    "ordinary_turn",
    "earliest_issued",
    "by_number",
    "unparked",
    "preferred",
    "appointment_due",
];

/// The place of a call's rule in `RULES`. No catch-all: a new rule must be named here.
pub(super) fn rule_ix(rule: &CallRule) -> usize {
    match rule {
        CallRule::TransferredHere => 0,
        CallRule::Aged { .. } => 1,
        CallRule::Priority { .. } => 2,
        CallRule::OrdinaryTurn { .. } => 3,
        CallRule::EarliestIssued => 4,
        CallRule::ByNumber { .. } => 5,
        CallRule::Unparked => 6,
        CallRule::Preferred { .. } => 7,
        CallRule::AppointmentDue { .. } => 8,
    }
}
