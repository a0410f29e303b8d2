//! Wire types of referrals between halls (issue 18, 跨中心转办): a ticket's referral, the
//! clerk dialog's peers and reasons, the day's referral figures.

use serde::Serialize;

use crate::config::{Config, Referrals};
use crate::core::stats::ReferralFigures;
use crate::engine::TicketReferral;

/// A ticket's referral on the wire.
#[derive(Serialize, Debug)]
pub struct ReferralDto {
    /// `out`: this ticket was referred to `hall`; `in`: it was referred here from `hall`.
    pub direction: &'static str,
    pub hall: String,
    pub hall_name: String,
    pub reason: String,
    pub note: Option<String>,
    /// `out`: the visitor's number at the target hall; `in`: the number they had at the origin.
    pub number: String,
    /// `out`: the target ticket's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// `out`: the target ticket's status page at the district (`[district] public_url`),
    /// with the visitor's key only in the answer to the origin ticket's own visitor; null
    /// where the district's address is not configured.
    pub status_url: Option<String>,
    /// The sentence the status page shows.
    pub text: String,
}

impl ReferralDto {
    pub fn new(config: &Config, r: &TicketReferral) -> Self {
        match r {
            TicketReferral::Sent(s) => {
                let district = config.district.as_ref().and_then(|d| d.referrals.district_url.as_ref());
                let status_url = district.map(|u| format!("{}/t/{}?hall={}", u.as_str(), s.ticket, s.hall));
                Self {
                    direction: "out",
                    hall: s.hall.clone(),
                    hall_name: s.name.clone(),
                    reason: s.reason.clone(),
                    note: s.note.clone(),
                    number: s.number.clone(),
                    ticket: Some(s.ticket.to_string()),
                    status_url,
                    text: format!(
                        "已转至 {} 办理：您在该中心的号码 {}，到达后请在自助取号机扫码签到",
                        s.name, s.number
                    ),
                }
            }
            TicketReferral::Taken(o) => Self {
                direction: "in",
                hall: o.hall.clone(),
                hall_name: o.name.clone(),
                reason: o.reason.clone(),
                note: o.note.clone(),
                number: o.number.clone(),
                ticket: None,
                status_url: None,
                text: format!("由 {} 转来：{}", o.name, o.reason),
            },
        }
    }

    /// The link with the target ticket's key, for the origin ticket's visitor.
    pub fn with_key(mut self, r: &TicketReferral) -> Self {
        if let (TicketReferral::Sent(s), Some(url)) = (r, self.status_url.as_mut()) {
            if let Some(k) = &s.key {
                url.push_str("&k=");
                url.push_str(k);
            }
        }
        self
    }
}

/// `GET /api/v1/referrals/peers`: what the clerk's dialog offers.
#[derive(Serialize)]
pub struct PeersDto {
    /// Whether this hall refers at all (it has `[district]`).
    pub enabled: bool,
    pub peers: Vec<PeerDto>,
    pub reasons: Vec<String>,
}

#[derive(Serialize)]
pub struct PeerDto {
    pub id: String,
    pub name: String,
}

impl PeersDto {
    pub fn new(config: &Config) -> Self {
        let Some(link) = &config.district else {
            return Self { enabled: false, peers: Vec::new(), reasons: Referrals::default().reasons };
        };
        let r = &link.referrals;
        let peers = r.peers.iter().map(|p| PeerDto { id: p.id.clone(), name: p.name.clone() }).collect();
        Self { enabled: true, peers, reasons: r.reasons.clone() }
    }
}

/// The day's referrals in `/api/v1/stats`: sent (`out`) by target hall and reason, taken
/// in (`in`) by origin hall; names from `[[district.peer]]` where listed.
#[derive(Serialize, Default)]
pub struct ReferralStatsDto {
    pub out: Vec<ReferralCountDto>,
    #[serde(rename = "in")]
    pub taken: Vec<ReferralCountDto>,
}

#[derive(Serialize)]
pub struct ReferralCountDto {
    pub hall: String,
    pub hall_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub count: u64,
}

impl ReferralStatsDto {
    pub fn new(config: &Config, f: &ReferralFigures) -> Self {
        let name = |hall: &str| {
            let peer = config.district.as_ref().and_then(|d| d.referrals.peer(hall));
            peer.map_or_else(|| hall.to_string(), |p| p.name.clone())
        };
        let out = f
            .sent
            .iter()
            .flat_map(|(hall, reasons)| reasons.iter().map(move |(reason, n)| (hall.clone(), Some(reason.clone()), *n)))
            .map(|(hall, reason, count)| ReferralCountDto { hall_name: name(&hall), hall, reason, count })
            .collect();
        let taken = f
            .taken
            .iter()
            .map(|(hall, n)| ReferralCountDto { hall_name: name(hall), hall: hall.clone(), reason: None, count: *n })
            .collect();
        Self { out, taken }
    }

    /// Each row as CSV fields: direction, hall, hall name, reason, count.
    pub fn rows(&self) -> Vec<[String; 5]> {
        let row = |dir: &str, c: &ReferralCountDto| {
            [
                dir.to_string(),
                c.hall.clone(),
                c.hall_name.clone(),
                c.reason.clone().unwrap_or_default(),
                c.count.to_string(),
            ]
        };
        self.out.iter().map(|c| row("out", c)).chain(self.taken.iter().map(|c| row("in", c))).collect()
    }
}
