//! The district as `GET /api/v1/district` and the wall screens' feed (`feed`) give it,
//! read from every hall's view at most about once each `EVERY` and shared as text.
//!
//! Reading it asks each hall's view in turn (`api::overview`): at a thousand busy halls
//! that took half a second and more (BENCHMARKS.md, the district at scale), and each
//! supervisor's dashboard asked again. Now one task ([`keep`]) reads it once each `EVERY`
//! while anyone has asked within `KEEP_WHILE_ASKED`, and a request copies the newest
//! text (a reference count); only a request that finds it older than `STALE_AFTER` (the
//! first after a quiet spell) waits for a read, one read shared by all who wait.

use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::watch;

use super::api::DistrictApp;

/// How often the district is read while someone looks: the feed's pace, and the
/// staleness a supervisor can see.
pub const EVERY: Duration = Duration::from_secs(1);
/// A snapshot older than this is not served; the reader waits for a fresh one. Above
/// `EVERY` by the time a read of a thousand busy halls takes.
const STALE_AFTER: Duration = Duration::from_secs(2);
/// The district is read on while someone asked within this (a dashboard polls every few
/// seconds); then the views are left alone until the next request.
const KEEP_WHILE_ASKED: Duration = Duration::from_secs(60);

/// The newest reading of the district and when it began, and when it was last asked for.
#[derive(Default)]
pub struct Snapshot {
    latest: Mutex<Option<(Instant, Utf8Bytes)>>,
    asked: Mutex<Option<Instant>>,
    /// Held while the halls are read, so that readers who find the snapshot stale wait
    /// for one reading instead of each making their own.
    reading: tokio::sync::Mutex<()>,
}

impl Snapshot {
    /// The newest text if its reading began within `max_age` of `now`.
    fn fresh(&self, now: Instant, max_age: Duration) -> Option<Utf8Bytes> {
        let latest = self.latest.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        latest.as_ref().filter(|(at, _)| now.saturating_duration_since(*at) <= max_age).map(|(_, t)| t.clone())
    }

    fn asked_within(&self, now: Instant, within: Duration) -> bool {
        let asked = self.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        asked.is_some_and(|at| now.saturating_duration_since(at) <= within)
    }
}

/// The district's text as `GET /api/v1/district` answers: the shared snapshot, read
/// afresh only if it is older than `STALE_AFTER`.
pub async fn read(app: &DistrictApp) -> Utf8Bytes {
    let now = Instant::now();
    *app.snapshot.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(now);
    match app.snapshot.fresh(now, STALE_AFTER) {
        Some(text) => text,
        None => refresh(app, STALE_AFTER).await,
    }
}

/// Reads the district unless a reading that began within `max_age` is at hand (one made
/// while this waited for the one in progress).
async fn refresh(app: &DistrictApp, max_age: Duration) -> Utf8Bytes {
    let _reading = app.snapshot.reading.lock().await;
    let began = Instant::now();
    if let Some(text) = app.snapshot.fresh(began, max_age) {
        return text;
    }
    let text = Utf8Bytes::from(super::api::overview(app).await.to_string());
    *app.snapshot.latest.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((began, text.clone()));
    text
}

/// Reads the district each `EVERY` while someone asked within `KEEP_WHILE_ASKED`, until
/// `stop` or the app goes.
pub async fn keep(app: Weak<DistrictApp>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let Some(app) = app.upgrade() else { return };
        if app.snapshot.asked_within(Instant::now(), KEEP_WHILE_ASKED) {
            // Half a period: a reading a reader made since the last tick is new enough.
            refresh(&app, EVERY / 2).await;
        }
    }
}
