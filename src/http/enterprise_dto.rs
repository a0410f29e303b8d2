//! 助企服务's wire types: the kiosk's answer (which line the ticket is in, never the
//! enterprise's name), the staff's registry and follow-up log, and the stats' part.
//! None carries a credit code or its hash.

use serde::Serialize;

use super::printers::IssuedDto;
use crate::config::Config;
use crate::core::enterprise::{EnterpriseDay, FollowUp, FollowUpKind, Visit};
use crate::core::model::WindowId;
use crate::engine::EnterpriseView;
use crate::identity::display_name;

/// An enterprise ticket as the kiosk gets it: the ticket, and its line in words.
#[derive(Serialize)]
pub struct EnterpriseIssuedDto {
    #[serde(flatten)]
    pub issued: IssuedDto,
    pub enterprise: LineDto,
}

/// Where an enterprise's ticket waits. Only that the code is registered here, and the
/// specialist's window: a kiosk's answer names no enterprise, so a code tried at a kiosk
/// tells no more of the registry than the line the visitor needs.
#[derive(Serialize)]
pub struct LineDto {
    pub recognised: bool,
    /// `personal`: sent to the specialist's window; `queue`: the enterprise queue.
    pub line: &'static str,
    pub window: Option<String>,
    pub text: String,
}

impl LineDto {
    pub fn new(config: &Config, window: Option<WindowId>) -> Self {
        let queue = config.setup.enterprises.as_ref().map(|p| p.queue);
        let queue_name = queue.and_then(|q| config.setup.queue(&q)).map_or("企业服务", |q| q.name.as_str());
        let text = match window {
            Some(w) => format!("已识别为本中心服务企业。您的专属服务专员在 {w} 号窗口，请留意叫号。"),
            None => format!("已识别为本中心服务企业。专属服务专员暂不在窗口，请到{queue_name}区等候叫号。"),
        };
        let line = if window.is_some() { "personal" } else { "queue" };
        Self { recognised: true, line, window: window.map(|w| w.to_string()), text }
    }
}

/// The Chinese name of a follow-up's kind.
pub fn kind_text(kind: FollowUpKind) -> &'static str {
    match kind {
        FollowUpKind::Referral => "转介",
        FollowUpKind::Project => "立项",
        FollowUpKind::Approval => "审批",
        FollowUpKind::Construction => "开工",
        FollowUpKind::Production => "投产",
    }
}

/// One enterprise in the staff's registry list.
#[derive(Serialize)]
pub struct EnterpriseDto {
    pub id: String,
    pub name: String,
    pub specialist: String,
    pub specialist_name: String,
    /// The specialist's window now, while open.
    pub window: Option<String>,
    pub visits: usize,
    pub follow_ups: usize,
}

impl EnterpriseDto {
    pub fn new(config: &Config, v: &EnterpriseView) -> Self {
        let e = &v.enterprise;
        Self {
            id: e.id.to_string(),
            name: e.name.clone(),
            specialist: e.specialist.to_string(),
            specialist_name: display_name(config, e.specialist.as_str()),
            window: v.window.map(|w| w.to_string()),
            visits: v.log.visits.len(),
            follow_ups: v.log.follow_ups.len(),
        }
    }
}

/// One line of an enterprise's follow-up log: a visit, a referral or a milestone.
#[derive(Serialize)]
pub struct EntryDto {
    /// `visit`, `referral`, `project`, `approval`, `construction` or `production`.
    pub kind: &'static str,
    pub kind_text: &'static str,
    pub date: String,
    pub note: String,
    /// Who recorded it (a follow-up) or served it (a visit).
    pub by: Option<String>,
    pub by_name: Option<String>,
    pub at: String,
}

/// An enterprise with its whole log, newest first.
#[derive(Serialize)]
pub struct EnterpriseLogDto {
    #[serde(flatten)]
    pub enterprise: EnterpriseDto,
    pub entries: Vec<EntryDto>,
}

impl EnterpriseLogDto {
    pub fn new(config: &Config, v: &EnterpriseView) -> Self {
        let name = |u: &crate::core::model::UserName| display_name(config, u.as_str());
        let follow = |f: &FollowUp| EntryDto {
            kind: f.kind.as_str(),
            kind_text: kind_text(f.kind),
            date: f.date.to_string(),
            note: f.note.clone(),
            by: Some(f.by.to_string()),
            by_name: Some(name(&f.by)),
            at: crate::time::rfc3339(&config.setup, f.at),
        };
        let visit = |x: &Visit| EntryDto {
            kind: "visit",
            kind_text: if x.personal { "到访（专员办理）" } else { "到访" },
            date: x.day.to_string(),
            note: format!("{} 号，{} 号窗口办结", x.number, x.window),
            by: x.clerk.as_ref().map(|c| c.to_string()),
            by_name: x.clerk.as_ref().map(name),
            at: crate::time::rfc3339(&config.setup, x.at),
        };
        let mut entries: Vec<EntryDto> =
            v.log.follow_ups.iter().map(follow).chain(v.log.visits.iter().map(visit)).collect();
        entries.sort_by(|a, b| (&b.date, &b.at).cmp(&(&a.date, &a.at)));
        Self { enterprise: EnterpriseDto::new(config, v), entries }
    }
}

/// `stats.enterprises`: the day's enterprise tickets, the share that went to the
/// specialist's window at issue, and visits per specialist.
#[derive(Serialize, Default)]
pub struct EnterpriseStatsDto {
    pub tickets: u32,
    pub personal: u32,
    pub personal_share: Option<f64>,
    pub visits: std::collections::BTreeMap<String, u32>,
}

impl EnterpriseStatsDto {
    pub fn new(day: &EnterpriseDay) -> Self {
        let tickets = day.personal + day.queue;
        let personal_share = (tickets > 0).then(|| f64::from(day.personal) / f64::from(tickets));
        let visits = day.visits.iter().map(|(u, n)| (u.to_string(), *n)).collect();
        Self { tickets, personal: day.personal, personal_share, visits }
    }
}
