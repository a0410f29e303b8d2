//! Crashes, damaged and full disks, lost logs, backups: the release binary against real files.
//!
//! One crate per kind of test (issue 16): each file beside this directory is a
//! module here, so the suite links five test binaries, not one per file.

#[path = "../support/mod.rs"]
mod support;

#[path = "../backup.rs"]
mod backup;
#[path = "../crash.rs"]
mod crash;
#[path = "../crash_checks.rs"]
mod crash_checks;
#[path = "../graceful_stop.rs"]
mod graceful_stop;
#[path = "../log_integrity.rs"]
mod log_integrity;
#[path = "../serve_owns.rs"]
mod serve_owns;
#[path = "../snapshots.rs"]
mod snapshots;
#[path = "../storage_faults.rs"]
mod storage_faults;
#[path = "../store_lock.rs"]
mod store_lock;
