//! The wire types of 全程领办 (`guides.rs`): a guide's page (their visitors, each a ticket
//! with since when it is escorted), and the stats' and CSV's figures per guide.

use serde::Serialize;

use super::dto::TicketDto;
use crate::config::Config;
use crate::core::stats::GuideFigures;
use crate::engine::EscortView;
use crate::time::rfc3339;

/// `GET /api/v1/guide`: the signed-in guide's visitors under escort.
#[derive(Serialize)]
pub struct GuidePageDto {
    pub guide: String,
    pub display_name: String,
    /// How many visitors still in the hall one guide may escort at once.
    pub escorts_max: usize,
    /// The priority class an escorted ticket gets, if the hall gives one.
    pub escort_priority: Option<String>,
    /// Of `visitors`, those still in the hall (counted against `escorts_max`).
    pub live: usize,
    pub visitors: Vec<EscortDto>,
    /// The kiosks' printers an assisted ticket may be printed at.
    pub printers: Vec<super::guides::GuidePrinterDto>,
}

/// One escorted visitor: the ticket as a clerk sees it (no visitor's key) and since when.
#[derive(Serialize)]
pub struct EscortDto {
    #[serde(flatten)]
    pub ticket: TicketDto,
    pub escorted_since: String,
}

impl EscortDto {
    pub fn new(config: &Config, e: &EscortView) -> Self {
        Self { ticket: TicketDto::new(config, &e.view), escorted_since: rfc3339(&config.setup, e.since) }
    }
}

/// One guide's day in `/api/v1/stats`' `guides` and in guides.csv.
#[derive(Serialize)]
pub struct GuideStatsDto {
    pub guide: String,
    pub display_name: String,
    /// Tickets the guide issued for visitors.
    pub assisted: u64,
    /// Escorts taken (a ticket taken again after a release counts again).
    pub escorted: u64,
    pub released: u64,
    /// Escorted visitors' waits: one per first call in a line (each bundle step its own).
    pub waits: u64,
    pub wait_avg_minutes: Option<f64>,
    pub wait_max_minutes: Option<f64>,
    pub rated: u64,
    pub score_avg: Option<f64>,
    /// 差评 (scores 1 and 2) among `rated`.
    pub bad: u64,
}

/// Minutes to one decimal.
fn minutes(ms: u64) -> f64 {
    (ms as f64 / 6_000.0).round() / 10.0
}

impl GuideStatsDto {
    pub fn new(config: &Config, guide: &str, f: &GuideFigures) -> Self {
        let score_avg = (f.rated > 0).then(|| (f.score_sum as f64 / f.rated as f64 * 100.0).round() / 100.0);
        Self {
            guide: guide.to_string(),
            display_name: crate::identity::display_name(config, guide),
            assisted: f.assisted,
            escorted: f.escorted,
            released: f.released,
            waits: f.wait.count,
            wait_avg_minutes: f.wait.mean_ms().map(minutes),
            wait_max_minutes: (f.wait.count > 0).then(|| minutes(f.wait.max_ms)),
            rated: f.rated,
            score_avg,
            bad: f.bad(),
        }
    }
}
