//! Browsers kept between page tests.
//!
//! A fresh Chromium costs about 2 s of CPU before it has shown its first page (its start
//! and first paint; `BENCHMARKS.md`, "The suite's time"), as much as many a page test's own
//! work. So a test that closes its browser hands the WebDriver session back here, and the
//! next test of the process connects to it again (fantoccini's `with_existing_session`:
//! each test runs on a runtime of its own, and a client cannot outlive its runtime).
//!
//! Before a session is kept, `Browser::close` leaves it as a new one would be: one blank
//! tab made after every other was closed (so no emulated screen, injected clock, animation
//! speed or dialog survives, all of which belong to a tab), no cookies, no cache, downloads
//! as by default, and the storage of every origin the test opened cleared. What belongs to the whole browser and
//! is not reset there must not be changed by a test. A test that panics never gives its
//! browser back: its drop ends the browser.
//!
//! Kept browsers are ended when the test process exits (`atexit`): chromedriver leads a
//! process group of its own, so nothing else would end it.

use std::process::Child;
use std::sync::{Mutex, MutexGuard, Once};

use tempfile::TempDir;

/// Idle browsers kept at most: the page tests run two at a time, and a test may hold two
/// or three browsers (a kiosk, a lobby, a clerk's console).
const IDLE_MAX: usize = 4;

/// A running chromedriver, the Chromium session it holds, and that browser's profile.
pub struct Held {
    pub driver: Child,
    pub profile: TempDir,
    /// chromedriver's port on 127.0.0.1.
    pub port: u16,
    pub session: String,
}

static IDLE: Mutex<Vec<Held>> = Mutex::new(Vec::new());

fn idle() -> MutexGuard<'static, Vec<Held>> {
    IDLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An idle browser, if one is kept.
pub fn take() -> Option<Held> {
    idle().pop()
}

/// Keeps `held`, already reset, for the next test (or ends it when enough are kept).
pub fn give(held: Held) {
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: registers a plain `extern "C" fn()` with the C library's exit handlers;
        // it only locks a static and signals processes this process started.
        unsafe { libc::atexit(end_idle) };
    });
    let mut kept = idle();
    if kept.len() < IDLE_MAX {
        kept.push(held);
    } else {
        drop(kept);
        end(held);
    }
}

/// Ends chromedriver's whole process group (Chromium with it) and removes the profile.
pub fn end(mut held: Held) {
    if matches!(held.driver.try_wait(), Ok(None)) {
        if let Ok(group) = i32::try_from(held.driver.id()) {
            // SAFETY: kill(2) with a negated pid signals the process group that the
            // chromedriver this process started (and has not yet reaped) leads.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
    }
    let _ = held.driver.kill();
    let _ = held.driver.wait();
}

extern "C" fn end_idle() {
    // At exit nothing else runs tests; a lock held now would be a test's still running,
    // whose browser its own drop does not end either.
    if let Ok(mut kept) = IDLE.try_lock() {
        for held in kept.drain(..) {
            end(held);
        }
    }
}
