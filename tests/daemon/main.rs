//! A real daemon (in-process on port 0, or the release binary) and real clients: the API, the feed, printers, voice, limits and attacks.
//!
//! One crate per kind of test (issue 16): each file beside this directory is a
//! module here, so the suite links five test binaries, not one per file.

#[path = "../printer_support/mod.rs"]
mod printer_support;
#[path = "../support/mod.rs"]
mod support;

#[path = "../api.rs"]
mod api;
#[path = "../api_admin.rs"]
mod api_admin;
#[path = "../api_alerts.rs"]
mod api_alerts;
#[path = "../api_appointments.rs"]
mod api_appointments;
#[path = "../api_audit.rs"]
mod api_audit;
#[path = "../api_booking_limits.rs"]
mod api_booking_limits;
#[path = "../api_config_change.rs"]
mod api_config_change;
#[path = "../api_enterprise.rs"]
mod api_enterprise;
#[path = "../api_escalation.rs"]
mod api_escalation;
#[path = "../api_exposure.rs"]
mod api_exposure;
#[path = "../api_fuzz.rs"]
mod api_fuzz;
#[path = "../api_guides.rs"]
mod api_guides;
#[path = "../api_idempotency.rs"]
mod api_idempotency;
#[path = "../api_limits.rs"]
mod api_limits;
#[path = "../api_logins.rs"]
mod api_logins;
#[path = "../api_missed.rs"]
mod api_missed;
#[path = "../api_moves.rs"]
mod api_moves;
#[path = "../api_privacy.rs"]
mod api_privacy;
#[path = "../api_public_url.rs"]
mod api_public_url;
#[path = "../api_rating.rs"]
mod api_rating;
#[path = "../api_reports.rs"]
mod api_reports;
#[path = "../api_roles.rs"]
mod api_roles;
#[path = "../api_scorecards.rs"]
mod api_scorecards;
#[path = "../api_sessions.rs"]
mod api_sessions;
#[path = "../api_unstaffed.rs"]
mod api_unstaffed;
#[path = "../api_visitor_key.rs"]
mod api_visitor_key;
#[path = "../api_webhook_catch_up.rs"]
mod api_webhook_catch_up;
#[path = "../api_window.rs"]
mod api_window;
#[path = "../attack_guides.rs"]
mod attack_guides;
#[path = "../attack_net.rs"]
mod attack_net;
#[path = "../attack_routes.rs"]
mod attack_routes;
#[path = "../bench.rs"]
mod bench;
#[path = "../clock.rs"]
mod clock;
#[path = "../engine_answers.rs"]
mod engine_answers;
#[path = "../feed.rs"]
mod feed;
#[path = "../feed_resume.rs"]
mod feed_resume;
#[path = "../printer.rs"]
mod printer;
#[path = "../sim.rs"]
mod sim;
#[path = "../sim_escalations.rs"]
mod sim_escalations;
#[path = "../sim_guides.rs"]
mod sim_guides;
#[path = "../sim_staffing.rs"]
mod sim_staffing;
#[path = "../voice.rs"]
mod voice;
// Issue 17 §2: the week's stuck items.
#[path = "../api_stuck.rs"]
mod api_stuck;
// issue 17 §5: the hall at its real size
#[path = "../api_item_limits.rs"]
mod api_item_limits;
