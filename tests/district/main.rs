//! The district (issue 18): halls, a real `nats-server -js` on loopback, and the district
//! process, driven through HTTP like users; the stream read back as the oracle.
//!
//! One crate per kind of test (issue 16): what these start is a NATS server beside the
//! daemons, which no other crate needs.

#[path = "../support/mod.rs"]
mod support;

#[path = "../district_uplink.rs"]
mod district_uplink;

#[path = "../district_view.rs"]
mod district_view;

#[path = "../district_crash.rs"]
mod district_crash;

#[path = "../district_bench.rs"]
mod district_bench;
