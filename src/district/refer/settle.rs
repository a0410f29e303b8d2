//! Referrals whose end at the target the origin does not know yet, settled later (issue
//! 18, 跨中心转办): every referral from the moment it is asked (the target may decide and
//! its answer be late or lost, or the origin die before recording it), and a withdrawal
//! the target did not answer. Each is kept here, bounded ([`UNSETTLED_MAX`]), and looked
//! at every [`SETTLE_EVERY`]: settled when the origin has recorded the referral to that
//! hall (its answer heard, or the clerk's retry got the target's ticket, under the same
//! key); left alone while the origin's ticket is still at a window, so the clerk may retry
//! (at most [`HOLD_MAX`]); else withdrawn at the target, which answers 404 when it never
//! took the referral in; given up with a warning after [`GIVE_UP_AFTER`] without an answer.
//!
//! Kept in the store's side tree (`Store::set_referrals_owed`), flushed before the
//! request leaves, not in the log: what is owed is the target's, and the origin's log
//! holds nothing of a referral it did not record. So an origin killed at any point between
//! asking and recording settles the referral after its restart.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{Outbound, WithdrawBody};
use crate::config::DistrictLink;
use crate::core::model::{TicketId, TicketStatus};
use crate::engine::TicketReferral as Referral;
use crate::http::AppState;
use crate::store::Store;

/// How often the unsettled referrals are looked at: a clerk who finished the visitor
/// elsewhere should not leave the target's ticket standing for long.
pub const SETTLE_EVERY: Duration = Duration::from_secs(2);
/// Unsettled referrals kept at once: each is a clerk's referral not yet recorded (settled
/// within `SETTLE_EVERY` of its record) or that got no answer, four asked at a time at
/// most, so this is minutes of a target down during a busy hour; past it the oldest is
/// dropped with a warning.
pub const UNSETTLED_MAX: usize = 64;
/// Longest an origin ticket still at its window keeps its referral unsettled (the clerk
/// may retry it and get the target's ticket).
const HOLD_MAX: Duration = Duration::from_secs(10 * 60);
/// Longest a withdrawal is retried at a target that does not answer.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60 * 60);

/// A referral to hall `to` whose end there is not known, since `since_ms` (the wall
/// clock's milliseconds: it outlives the process).
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct Unsettled {
    to: String,
    body: WithdrawBody,
    since_ms: i64,
}

/// How long ago `since_ms` was.
fn elapsed(since_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(crate::time::wall_clock().0 - since_ms).unwrap_or(0))
}

impl Outbound {
    /// An origin's connection for referrals, owing what `store` kept as owed (what a
    /// killed or stopped run left unsettled).
    pub fn kept(store: Arc<Store>) -> Self {
        let read = store.referrals_owed().map_err(|e| e.to_string()).and_then(|kept| match kept {
            Some(bytes) => serde_json::from_slice::<Vec<Unsettled>>(&bytes).map_err(|e| e.to_string()),
            None => Ok(Vec::new()),
        });
        let owed = read.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the unsettled referrals kept cannot be read; left to their day's end");
            Vec::new()
        });
        if !owed.is_empty() {
            tracing::info!(count = owed.len(), "unsettled referrals kept from the last run");
        }
        Self { unsettled: std::sync::Mutex::new(owed), store: Some(store), ..Self::default() }
    }

    /// Keeps the referral `body` to hall `to` to be settled, durably once this returns
    /// (else it is owed in memory only, and said).
    pub(super) async fn owe(&self, to: &str, body: WithdrawBody) {
        {
            let mut owed = self.unsettled.lock().unwrap_or_else(PoisonError::into_inner);
            if owed.iter().any(|u| u.to == to && u.body == body) {
                return;
            }
            if owed.len() >= UNSETTLED_MAX {
                let dropped = owed.remove(0);
                tracing::warn!(hall = %dropped.to, "too many unsettled referrals: the oldest is left to its day's end");
            }
            owed.push(Unsettled { to: to.to_string(), body, since_ms: crate::time::wall_clock().0 });
            self.keep(&owed);
        }
        if let Some(store) = &self.store {
            if let Err(e) = store.flush_side().await {
                tracing::warn!(error = %e, "an unsettled referral is not yet durable; a crash now forgets it");
            }
        }
    }

    /// Writes `owed` into the store (under the list's lock, so the last written is the
    /// last made).
    fn keep(&self, owed: &[Unsettled]) {
        let Some(store) = &self.store else { return };
        let kept = serde_json::to_vec(owed)
            .map_err(|e| e.to_string())
            .and_then(|bytes| store.set_referrals_owed(&bytes).map_err(|e| e.to_string()));
        if let Err(e) = kept {
            tracing::warn!(error = %e, "the unsettled referrals could not be kept in the store");
        }
    }

    /// How many referrals are unsettled now.
    pub fn unsettled(&self) -> usize {
        self.unsettled.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Looks at every unsettled referral once.
    async fn settle(&self, app: &AppState, link: &DistrictLink) {
        let owed: Vec<Unsettled> = self.unsettled.lock().unwrap_or_else(PoisonError::into_inner).clone();
        for u in owed {
            if self.settle_one(app, link, &u.to, &u.body, elapsed(u.since_ms)).await {
                let mut owed = self.unsettled.lock().unwrap_or_else(PoisonError::into_inner);
                owed.retain(|o| !(o.to == u.to && o.body == u.body));
                self.keep(&owed);
            }
        }
    }

    /// Whether the referral `body` to hall `to`, owed for `owed_for`, is settled now.
    async fn settle_one(
        &self,
        app: &AppState,
        link: &DistrictLink,
        to: &str,
        body: &WithdrawBody,
        owed_for: Duration,
    ) -> bool {
        let Ok(id) = TicketId::parse(&body.reference) else { return true };
        let hall = to.to_string();
        let here = app
            .hall
            .engine
            .read(move |r| {
                r.ticket(&id).map(|v| {
                    let recorded = matches!(&v.referral, Some(Referral::Sent(s)) if s.hall == hall);
                    (v.ticket.status, recorded)
                })
            })
            .await;
        match here {
            // The engine is stopping.
            Err(_) => return false,
            Ok(Some((_, true))) => return true,
            Ok(Some((TicketStatus::Called | TicketStatus::Serving, false))) if owed_for < HOLD_MAX => return false,
            // Gone from the window, or forgotten by a new day: nothing will record it.
            Ok(_) => {}
        }
        match self.withdrawal(link, to, body).await {
            Ok(s) if s.is_success() || s == StatusCode::NOT_FOUND => {
                tracing::info!(hall = to, status = s.as_u16(), "an unsettled referral is withdrawn at its hall");
                true
            }
            Ok(s) => {
                tracing::warn!(hall = to, status = s.as_u16(), "a hall refused to withdraw an unsettled referral");
                true
            }
            Err(e) if owed_for >= GIVE_UP_AFTER => {
                tracing::warn!(hall = to, error = %e, "an unsettled referral is given up: its hall never answered");
                true
            }
            Err(_) => false,
        }
    }
}

/// Settles the hall's unsettled referrals every [`SETTLE_EVERY`] until `stop` turns true.
pub async fn run_settle(link: DistrictLink, app: AppState, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(SETTLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !*stop.borrow() {
        tokio::select! {
            _ = every.tick() => {
                if app.edge.referrals.unsettled() > 0 {
                    app.edge.referrals.settle(&app, &link).await;
                }
            }
            _ = stop.changed() => break,
        }
    }
}
