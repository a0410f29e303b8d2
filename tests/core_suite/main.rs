//! The pure core and the configuration: no daemon, no network.
//!
//! One crate per kind of test (issue 16): each file beside this directory is a
//! module here, so the suite links five test binaries, not one per file.

#[path = "../core_support/mod.rs"]
mod core_support;
#[path = "../support/mod.rs"]
mod support;

#[path = "../config.rs"]
mod config;
#[path = "../config_catalog.rs"]
mod config_catalog;
#[path = "../config_district.rs"]
mod config_district;
#[path = "../config_enterprise.rs"]
mod config_enterprise;
#[path = "../config_escalation.rs"]
mod config_escalation;
#[path = "../config_guides.rs"]
mod config_guides;
#[path = "../config_limits.rs"]
mod config_limits;
#[path = "../config_rating.rs"]
mod config_rating;
#[path = "../core_ahead.rs"]
mod core_ahead;
#[path = "../core_alert_facts.rs"]
mod core_alert_facts;
#[path = "../core_alerts.rs"]
mod core_alerts;
#[path = "../core_appointments.rs"]
mod core_appointments;
#[path = "../core_audit.rs"]
mod core_audit;
#[path = "../core_day.rs"]
mod core_day;
#[path = "../core_dispatch.rs"]
mod core_dispatch;
#[path = "../core_enterprise.rs"]
mod core_enterprise;
#[path = "../core_escalation.rs"]
mod core_escalation;
#[path = "../core_eta.rs"]
mod core_eta;
#[path = "../core_facts.rs"]
mod core_facts;
#[path = "../core_guides.rs"]
mod core_guides;
#[path = "../core_idempotency.rs"]
mod core_idempotency;
#[path = "../core_idempotency_mutate.rs"]
mod core_idempotency_mutate;
#[path = "../core_layers.rs"]
mod core_layers;
#[path = "../core_missed.rs"]
mod core_missed;
#[path = "../core_moves.rs"]
mod core_moves;
#[path = "../core_policy.rs"]
mod core_policy;
#[path = "../core_prefer.rs"]
mod core_prefer;
#[path = "../core_props.rs"]
mod core_props;
#[path = "../core_rating.rs"]
mod core_rating;
#[path = "../core_rejections.rs"]
mod core_rejections;
#[path = "../core_rejections_codes.rs"]
mod core_rejections_codes;
#[path = "../core_scorecard.rs"]
mod core_scorecard;
#[path = "../core_stranded.rs"]
mod core_stranded;
#[path = "../core_transitions.rs"]
mod core_transitions;
// issue 17 §5: the hall at its real size
#[path = "../config_item_limits.rs"]
mod config_item_limits;
#[path = "../config_window_range.rs"]
mod config_window_range;
// issue 18: referrals between halls
#[path = "../core_referrals.rs"]
mod core_referrals;
