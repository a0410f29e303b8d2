//! A day of the district's halls side by side: per hall and in total, the figures of the
//! hall's own `/api/v1/stats` (from the hall's projection, folded by the core) and the
//! service level of the hall's reports (from a replay of the hall's records in the
//! district's replica, by the reports' own `Replay`), and the referrals between halls
//! (跨中心转办) the hall sent and took in. The dashboard's charts and `stats.csv` read
//! the same rows, so the picture and the file never disagree.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use tokio::sync::oneshot;

use super::api::{DistrictApp, HallEntry};
use super::replica::{HallLog, ReplicaError};
use super::view::Input;
use crate::config::service_level::ServiceLevel;
use crate::core::setup::Setup;
use crate::core::stats::{Figures, ReferralFigures};
use crate::reports::figures::Level;
use crate::reports::replay::Replay;

/// How long a read waits for a hall's view (busy applying a record).
const READ_WAIT: Duration = Duration::from_secs(2);

/// One hall's day, or the district's total (`id` empty).
pub struct Row {
    pub id: String,
    pub name: String,
    /// The hall's service day the figures are of (the district's total: the day asked,
    /// or the halls' today when they share it, else empty).
    pub day: String,
    /// False when the hall's view did not answer or its replica did not read: the figures
    /// are then empty.
    pub view: bool,
    pub figures: Figures,
    /// Referrals sent to other halls and taken in from them (the hall's own
    /// `/api/v1/stats` `referrals`, counted).
    pub referrals: Referred,
    /// Called within the hall's service-level target, as its day report counts it
    /// (`None`: no replay, e.g. the replica did not read).
    pub level: Option<Level>,
}

/// A day's referrals of a hall, or of the district (each counted at both ends: a
/// referral between two of its halls is one sent and one taken in).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Referred {
    pub sent: u64,
    pub received: u64,
}

impl Referred {
    pub fn of(f: &ReferralFigures) -> Self {
        Self { sent: f.sent_total(), received: f.taken_total() }
    }

    fn add(&mut self, other: Self) {
        self.sent += other.sent;
        self.received += other.received;
    }

    /// On the wire: `{"sent", "received"}`.
    pub fn json(self) -> serde_json::Value {
        serde_json::json!({ "sent": self.sent, "received": self.received })
    }

    /// On the wire with the hall's own breakdown (`f`, named by `config`'s peers): as the
    /// hall's `/api/v1/stats` `referrals`, and `sent` and `received`.
    pub fn with_halls(self, config: &crate::config::Config, f: &ReferralFigures) -> serde_json::Value {
        let mut v = serde_json::to_value(crate::http::referral_dto::ReferralStatsDto::new(config, f))
            .unwrap_or_else(|_| serde_json::json!({}));
        v["sent"] = self.sent.into();
        v["received"] = self.received.into();
        v
    }
}

/// The rows of `day` (each hall's own today when `None`), the halls first in the
/// district's order, then the total.
pub async fn rows(app: &DistrictApp, day: Option<NaiveDate>) -> Vec<Row> {
    let now = (app.clock)();
    let mut rows = Vec::with_capacity(app.halls.len() + 1);
    let (mut total, mut referred) = (Figures::default(), Referred::default());
    let (mut within, mut of) = (0, 0);
    for (hall, log) in app.halls.iter().zip(&app.logs) {
        let hall_day = day.unwrap_or_else(|| hall.config.setup.day_of(now));
        let figures = stats(hall, hall_day).await;
        let level = level(app, hall, log, hall_day).await;
        if let Some(l) = &level {
            within += l.within;
            of += l.of;
        }
        let view = figures.is_some() && level.is_some();
        let (figures, referrals) = figures.unwrap_or_default();
        total.absorb(&figures);
        referred.add(referrals);
        rows.push(Row {
            id: hall.link.hall_id.clone(),
            name: hall.config.setup.hall_name.clone(),
            day: hall_day.to_string(),
            view,
            figures,
            referrals,
            level,
        });
    }
    // The halls' targets may differ: the total has none of its own.
    let share = (of > 0).then(|| within as f64 / of as f64);
    // The day asked, or the halls' today when they all have the same one.
    let same = rows.first().map(|r| r.day.clone()).filter(|d| rows.iter().all(|r| &r.day == d));
    rows.push(Row {
        id: String::new(),
        name: app.config.name.clone(),
        day: day.map(|d| d.to_string()).or(same).unwrap_or_default(),
        view: rows.iter().all(|r| r.view),
        figures: total,
        referrals: referred,
        level: Some(Level { target_min: 0, within, of, share }),
    });
    rows
}

/// The hall's day figures and referrals from its projection.
async fn stats(hall: &HallEntry, day: NaiveDate) -> Option<(Figures, Referred)> {
    let (reply, answer) = oneshot::channel();
    let ask = async {
        hall.view.send(Input::Stats { day, reply }).await.ok()?;
        answer.await.ok()
    };
    tokio::time::timeout(READ_WAIT, ask).await.ok().flatten().map(|s| (s.total, Referred::of(&s.referrals)))
}

/// The hall's service level of `day`, replayed from the replica on the blocking pool,
/// one replay at a time (`DistrictApp::replays`): a burst of supervisors' reads queues
/// instead of filling the pool.
async fn level(app: &DistrictApp, hall: &HallEntry, log: &HallLog, day: NaiveDate) -> Option<Level> {
    let _turn = app.replays.acquire().await.ok()?;
    let (log, config) = (log.clone(), hall.config.clone());
    let replayed = tokio::task::spawn_blocking(move || {
        replay_level(&log, &Arc::new(config.setup.clone()), &config.service_level, day)
    })
    .await;
    match replayed {
        Ok(Ok(level)) => Some(level),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "a hall's replica did not read for its service level");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "a service-level replay failed");
            None
        }
    }
}

/// The day's service level as the hall's own day report (`reports::build`) counts it: the
/// records from the day's opening to the next day's, folded by the reports' `Replay`.
fn replay_level(
    log: &HallLog,
    setup: &Arc<Setup>,
    level: &ServiceLevel,
    day: NaiveDate,
) -> Result<Level, ReplicaError> {
    let (start, end) = crate::reports::day_bounds(setup, day);
    let minutes = usize::try_from(end.since_ms(start) / 60_000).unwrap_or(24 * 60);
    let mut replay = Replay::new(setup.clone(), |q| u64::from(level.minutes(q)) * 60_000, start, minutes);
    let Some(from) = log.first_seq_at(start)? else {
        return Ok(Level { target_min: level.min, within: 0, of: 0, share: None });
    };
    crate::reports::replay_day(&mut replay, day, log.records_from(from.saturating_sub(1)))?;
    let d = replay.finish();
    let report = crate::reports::figures::from_day(day, &d, setup, level, true);
    Ok(report.total.service_level.unwrap_or(Level { target_min: level.min, within: 0, of: 0, share: None }))
}
