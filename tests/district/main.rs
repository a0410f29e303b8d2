//! The district (issue 18): halls, a real `nats-server -js` on loopback, and the district
//! process, driven through HTTP like users; the stream read back as the oracle.
//!
//! One crate per kind of test (issue 16): what these start is a NATS server beside the
//! daemons, which no other crate needs.

#[path = "../support/mod.rs"]
mod support;

// The district's pages in a real Chromium (district_online.rs, district_page.rs).
#[path = "../browser_support/mod.rs"]
mod browser_support;

#[path = "../district_uplink.rs"]
mod district_uplink;

#[path = "../district_view.rs"]
mod district_view;

#[path = "../district_crash.rs"]
mod district_crash;

#[path = "../district_online.rs"]
mod district_online;

#[path = "../district_restore.rs"]
mod district_restore;

#[path = "../district_faults.rs"]
mod district_faults;

#[path = "../district_feed.rs"]
mod district_feed;

#[path = "../district_page.rs"]
mod district_page;

#[path = "../district_referrals.rs"]
mod district_referrals;

#[path = "../district_bounds.rs"]
mod district_bounds;

#[path = "../district_auth.rs"]
mod district_auth;

#[path = "../district_bench.rs"]
mod district_bench;

#[path = "../district_refer_races.rs"]
mod district_refer_races;
