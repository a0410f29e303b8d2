//! The JSON wire types of a day's figures (`/api/v1/stats`, the reports, the district's
//! stats): counts, durations in seconds, rates. Built from the core's `Figures` at the
//! edge; never stored.

use serde::Serialize;

use crate::core::stats::{DayStats, Durations, Figures};

#[derive(Serialize)]
pub struct FiguresDto {
    pub issued: u64,
    pub called: u64,
    pub served: u64,
    pub completed: u64,
    pub incomplete: u64,
    pub no_show: u64,
    pub cancelled: u64,
    pub expired: u64,
    pub transferred: u64,
    /// Matters not done, sent to the escalation queue (办不成事).
    pub escalated: u64,
    pub rated: u64,
    pub mean_score: Option<f64>,
    /// 好差评 by the national guides' definitions; see [`RatesDto`].
    pub ratings: RatesDto,
    pub mean_wait_s: Option<u64>,
    pub max_wait_s: Option<u64>,
    pub mean_service_s: Option<u64>,
    pub max_service_s: Option<u64>,
    /// The expected wait told at issue against the wait got, over the tickets called with
    /// a promise kept.
    pub eta_error: EtaErrorDto,
    /// Store-next calls, walk-direct tickets, tickets under the per-person limits.
    #[serde(flatten)]
    pub moves: super::moves::MovesDto,
}

/// `median_abs_minutes` and `p90_abs_minutes`: |told − got| in minutes (half-minute
/// steps, nearest rank); `within_range_rate`: the share whose wait fell inside the range
/// told. Null while no ticket counts.
#[derive(Serialize)]
pub struct EtaErrorDto {
    pub tickets: u64,
    pub median_abs_minutes: Option<f64>,
    pub p90_abs_minutes: Option<f64>,
    pub within_range_rate: Option<f64>,
}

impl From<&crate::core::stats::EtaError> for EtaErrorDto {
    fn from(e: &crate::core::stats::EtaError) -> Self {
        Self {
            tickets: e.count,
            median_abs_minutes: e.quantile_min(0.5),
            p90_abs_minutes: e.quantile_min(0.9),
            within_range_rate: e.within_rate(),
        }
    }
}

fn secs(d: &Durations, f: impl Fn(&Durations) -> Option<u64>) -> Option<u64> {
    f(d).map(|ms| ms.div_ceil(1000))
}

impl From<&Figures> for FiguresDto {
    fn from(f: &Figures) -> Self {
        Self {
            issued: f.issued,
            called: f.called,
            served: f.served(),
            completed: f.completed,
            incomplete: f.incomplete,
            no_show: f.no_show,
            cancelled: f.cancelled,
            expired: f.expired,
            transferred: f.transferred,
            escalated: f.escalated,
            rated: f.rated,
            mean_score: (f.rated > 0).then(|| f.score_sum as f64 / f.rated as f64),
            ratings: f.into(),
            mean_wait_s: secs(&f.wait, Durations::mean_ms),
            max_wait_s: secs(&f.wait, |d| (d.count > 0).then_some(d.max_ms)),
            mean_service_s: secs(&f.service, Durations::mean_ms),
            max_service_s: secs(&f.service, |d| (d.count > 0).then_some(d.max_ms)),
            eta_error: (&f.eta).into(),
            moves: f.into(),
        }
    }
}

/// The day's ratings as the 好差评 guides count them (国办发〔2019〕51号 and the provincial
/// guides that apply it): 好评 is 非常满意 + 满意 + 基本满意, 差评 is 不满意 + 非常不满意;
/// 好评率 = 好评 / rated, 差评率 = 差评 / rated, 未评价率 = (served − rated) / served, and
/// 差评整改率 = rectified 差评 / 差评. A rate is null while its denominator is 0.
#[derive(Serialize)]
pub struct RatesDto {
    /// Ratings by score, `"1"` (非常不满意) to `"5"` (非常满意).
    pub by_score: std::collections::BTreeMap<String, u64>,
    pub good: u64,
    pub bad: u64,
    pub unrated: u64,
    pub bad_rectified: u64,
    /// Bad ratings by reason code.
    pub bad_reasons: std::collections::BTreeMap<String, u64>,
    pub good_rate: Option<f64>,
    pub bad_rate: Option<f64>,
    pub unrated_rate: Option<f64>,
    pub rectified_rate: Option<f64>,
}

fn ratio(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

impl From<&Figures> for RatesDto {
    fn from(f: &Figures) -> Self {
        let (good, bad, served) = (f.good(), f.bad(), f.served());
        let unrated = served.saturating_sub(f.rated);
        Self {
            by_score: (1..=5).zip(f.scores).map(|(s, n)| (s.to_string(), n)).collect(),
            good,
            bad,
            unrated,
            bad_rectified: f.bad_rectified,
            bad_reasons: f.bad_reasons.clone(),
            // Of the ratings counted by score (the same as `rated`, except in figures kept
            // from before scores were counted, where this keeps the two rates adding to 1).
            good_rate: ratio(good, good + bad),
            bad_rate: ratio(bad, good + bad),
            unrated_rate: ratio(unrated, served),
            rectified_rate: ratio(f.bad_rectified, bad),
        }
    }
}

#[derive(Serialize)]
pub struct StatsDto {
    pub day: String,
    pub total: FiguresDto,
    pub queues: std::collections::BTreeMap<String, FiguresDto>,
    pub windows: std::collections::BTreeMap<String, FiguresDto>,
    /// 办不成事: the day's escalations and the cases open and overdue now.
    pub escalations: super::escalation_dto::EscalationStatsDto,
    /// 全程领办: each guide's day (assisted, escorted, waits, ratings).
    pub guides: Vec<super::guide_dto::GuideStatsDto>,
    /// 助企服务: the day's enterprise tickets, the personal line's share, visits per specialist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprises: Option<super::enterprise_dto::EnterpriseStatsDto>,
    /// 跨中心转办 (issue 18): the day's referrals sent (`out`) and taken in (`in`).
    pub referrals: super::referral_dto::ReferralStatsDto,
}

impl StatsDto {
    pub fn new(day: chrono::NaiveDate, s: &DayStats) -> Self {
        Self {
            day: day.to_string(),
            total: (&s.total).into(),
            queues: s.by_queue.iter().map(|(q, f)| (q.to_string(), f.into())).collect(),
            windows: s.by_window.iter().map(|(w, f)| (w.to_string(), f.into())).collect(),
            escalations: Default::default(),
            guides: Vec::new(),
            enterprises: None,
            referrals: Default::default(),
        }
    }
}
