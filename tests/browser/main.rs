//! The pages in a real Chromium against a real daemon.
//!
//! One crate per kind of test (issue 16): each file beside this directory is a
//! module here, so the suite links five test binaries, not one per file.

#[path = "../browser_support/mod.rs"]
mod browser_support;
#[path = "../printer_support/mod.rs"]
mod printer_support;
#[path = "../support/mod.rs"]
mod support;

#[path = "../browser_admin.rs"]
mod browser_admin;
#[path = "../browser_appointments.rs"]
mod browser_appointments;
#[path = "../browser_audit.rs"]
mod browser_audit;
#[path = "../browser_burst.rs"]
mod browser_burst;
#[path = "../browser_clerk.rs"]
mod browser_clerk;
#[path = "../browser_clerk_number.rs"]
mod browser_clerk_number;
#[path = "../browser_enterprise.rs"]
mod browser_enterprise;
#[path = "../browser_escalation.rs"]
mod browser_escalation;
#[path = "../browser_guides.rs"]
mod browser_guides;
#[path = "../browser_kiosk.rs"]
mod browser_kiosk;
#[path = "../browser_kiosk_catalog.rs"]
mod browser_kiosk_catalog;
#[path = "../browser_kiosk_truth.rs"]
mod browser_kiosk_truth;
#[path = "../browser_lobby.rs"]
mod browser_lobby;
#[path = "../browser_no_window.rs"]
mod browser_no_window;
#[path = "../browser_park.rs"]
mod browser_park;
#[path = "../browser_printer.rs"]
mod browser_printer;
#[path = "../browser_rating.rs"]
mod browser_rating;
#[path = "../browser_reports.rs"]
mod browser_reports;
#[path = "../browser_staff.rs"]
mod browser_staff;
#[path = "../browser_status_remind.rs"]
mod browser_status_remind;
#[path = "../browser_store_next.rs"]
mod browser_store_next;
#[path = "../browser_supervisor.rs"]
mod browser_supervisor;
#[path = "../browser_voice.rs"]
mod browser_voice;
