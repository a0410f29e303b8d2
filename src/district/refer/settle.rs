//! Referrals whose end at the target the origin does not know yet, settled later (issue
//! 18, 跨中心转办): a target that did not answer in time may have decided all the same
//! (its answer late or lost), and a withdrawal the target did not answer left its ticket
//! standing. Each is kept here, in memory and bounded ([`UNSETTLED_MAX`]), and looked at
//! every [`SETTLE_EVERY`]: settled when the origin has recorded the referral to that hall
//! (the clerk's retry got the target's ticket, under the same key); left alone while the
//! origin's ticket is still at a window, so the clerk may retry (at most [`HOLD_MAX`]);
//! else withdrawn at the target, which answers 404 when it never took the referral in;
//! given up with a warning after [`GIVE_UP_AFTER`] without an answer.
//!
//! Kept in memory, not in the log: what is owed is the target's, and the origin's log
//! holds nothing of a referral it did not record. A restart of the origin in the seconds
//! between a lost answer and its settling forgets it, and the target's ticket then stays
//! unclaimed (never checked in, never called) until its day ends.

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::sync::watch;

use super::{Outbound, WithdrawBody};
use crate::config::DistrictLink;
use crate::core::model::{TicketId, TicketStatus};
use crate::engine::TicketReferral as Referral;
use crate::http::AppState;

/// How often the unsettled referrals are looked at: a clerk who finished the visitor
/// elsewhere should not leave the target's ticket standing for long.
pub const SETTLE_EVERY: Duration = Duration::from_secs(2);
/// Unsettled referrals kept at once: each is a clerk's referral that got no answer, four
/// at a time at most, so this is minutes of a target down during a busy hour; past it
/// the oldest is dropped with a warning.
pub const UNSETTLED_MAX: usize = 64;
/// Longest an origin ticket still at its window keeps its referral unsettled (the clerk
/// may retry it and get the target's ticket).
const HOLD_MAX: Duration = Duration::from_secs(10 * 60);
/// Longest a withdrawal is retried at a target that does not answer.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60 * 60);

/// A referral to hall `to` whose end there is not known, since `since`.
pub(super) struct Unsettled {
    to: String,
    body: WithdrawBody,
    since: Instant,
}

impl Outbound {
    /// Keeps the referral `body` to hall `to` to be settled.
    pub(super) fn owe(&self, to: &str, body: WithdrawBody) {
        let mut owed = self.unsettled.lock().unwrap_or_else(PoisonError::into_inner);
        if owed.iter().any(|u| u.to == to && u.body == body) {
            return;
        }
        if owed.len() >= UNSETTLED_MAX {
            let dropped = owed.remove(0);
            tracing::warn!(hall = %dropped.to, "too many unsettled referrals: the oldest is left to its day's end");
        }
        owed.push(Unsettled { to: to.to_string(), body, since: Instant::now() });
    }

    /// How many referrals are unsettled now.
    pub fn unsettled(&self) -> usize {
        self.unsettled.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Looks at every unsettled referral once.
    async fn settle(&self, app: &AppState, link: &DistrictLink) {
        let owed: Vec<(String, WithdrawBody, Instant)> = {
            let owed = self.unsettled.lock().unwrap_or_else(PoisonError::into_inner);
            owed.iter().map(|u| (u.to.clone(), u.body.clone(), u.since)).collect()
        };
        for (to, body, since) in owed {
            if self.settle_one(app, link, &to, &body, since).await {
                let mut owed = self.unsettled.lock().unwrap_or_else(PoisonError::into_inner);
                owed.retain(|u| !(u.to == to && u.body == body));
            }
        }
    }

    /// Whether the referral `body` to hall `to` is settled now.
    async fn settle_one(
        &self,
        app: &AppState,
        link: &DistrictLink,
        to: &str,
        body: &WithdrawBody,
        since: Instant,
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
            Ok(Some((TicketStatus::Called | TicketStatus::Serving, false))) if since.elapsed() < HOLD_MAX => {
                return false
            }
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
            Err(e) if since.elapsed() >= GIVE_UP_AFTER => {
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
