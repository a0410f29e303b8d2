//! 跨中心转办 in `[district]` (issue 18): the halls a clerk may refer a visitor to, and
//! from which this hall takes referrals in; the reasons a clerk picks from; the district's
//! address, for the link a referred visitor follows.
//!
//! ```toml
//! [district]
//! nats_url = "nats://127.0.0.1:4222"
//! public_url = "https://district.example.gov.cn"   # optional
//! referral_reasons = ["本中心无此事项", "需属地办理", "跨区域通办", "其他"]  # optional
//!
//! [[district.peer]]
//! id = "qingchuan-district"
//! name = "青川区政务服务中心"
//! ```
//!
//! A peer is trusted both ways: this hall refers to it, and takes in what it refers here.
//! What makes a sender's `from_hall` true is NATS's permissions (only the halls' daemons
//! and the district hold credentials that may publish on a hall's cmd subject), not this
//! list; the list keeps a hall from taking work from halls it does not deal with.

use super::district::is_subject_token;
use super::public_url::PublicUrl;
use super::tree::Tab;
use super::Errs;

/// Most peers a hall lists: a district's halls (a province's ~2,000 are reached through
/// their districts, not one list).
pub const PEERS_MAX: usize = 64;
/// Most reasons, and the longest, in characters (chips on the clerk's dialog).
pub const REASONS_MAX: usize = 12;
pub const REASON_CHARS_MAX: usize = crate::core::referral::REASON_CHARS_MAX;
/// The reasons when hall.toml names none.
pub const DEFAULT_REASONS: [&str; 4] = ["本中心无此事项", "需属地办理", "跨区域通办", "其他"];

/// A hall this one refers to and takes referrals from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Its `[district] hall_id`: its cmd subject's name.
    pub id: String,
    pub name: String,
}

/// The referral part of `[district]`, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referrals {
    pub peers: Vec<Peer>,
    pub reasons: Vec<String>,
    /// The district's public address (`[district] public_url`), for the referred visitor's
    /// link to the target's status page; without it the page shows the number and hall.
    pub district_url: Option<PublicUrl>,
}

impl Default for Referrals {
    fn default() -> Self {
        Self { peers: Vec::new(), reasons: DEFAULT_REASONS.iter().map(|r| r.to_string()).collect(), district_url: None }
    }
}

impl Referrals {
    pub fn peer(&self, id: &str) -> Option<&Peer> {
        self.peers.iter().find(|p| p.id == id)
    }
}

/// Reads the referral keys of `[district]` (`t`); `own` is the hall's own `hall_id`.
pub(super) fn read(t: &mut Tab<'_>, own: &str, errs: &mut Errs) -> Referrals {
    let mut out = Referrals::default();
    if let Some(f) = t.str("public_url", errs) {
        match PublicUrl::parse(&f.value) {
            Ok(url) => out.district_url = Some(url),
            Err(message) => errs.push(f.loc.err(message)),
        }
    }
    if let Some(list) = t.str_list("referral_reasons", errs) {
        if list.value.is_empty() || list.value.len() > REASONS_MAX {
            errs.push(list.loc.err(format!("referral_reasons lists 1 to {REASONS_MAX} reasons")));
        }
        out.reasons.clear();
        for r in list.value {
            let n = r.value.trim().chars().count();
            if n == 0 || n > REASON_CHARS_MAX {
                errs.push(r.loc.err(format!("a referral reason is 1 to {REASON_CHARS_MAX} characters")));
            } else if out.reasons.contains(&r.value) {
                errs.push(r.loc.err(format!("referral reason {:?} is listed twice", r.value)));
            } else {
                out.reasons.push(r.value);
            }
        }
    }
    let tables = t.tables("peer", errs);
    if tables.len() > PEERS_MAX {
        errs.push(t.loc().err(format!("[[district.peer]] lists at most {PEERS_MAX} halls")));
    }
    for mut p in tables {
        let loc = p.loc();
        let (id, name) = (p.req_str("id", errs), p.req_str("name", errs));
        p.finish(errs);
        let (Some(id), Some(name)) = (id, name) else { continue };
        if !is_subject_token(&id.value) {
            errs.push(
                id.loc.err(format!(
                    "peer id {:?}: use the hall's [district] hall_id (letters, digits, '-', '_')",
                    id.value
                )),
            );
        } else if id.value == own {
            errs.push(id.loc.err("a hall is not its own peer; list the other halls".to_string()));
        } else if out.peer(&id.value).is_some() {
            errs.push(id.loc.err(format!("peer {:?} is listed twice", id.value)));
        } else if name.value.trim().is_empty() || name.value.chars().count() > crate::core::referral::HALL_CHARS_MAX {
            errs.push(loc.err("a peer's name is 1 to 64 characters".to_string()));
        } else {
            out.peers.push(Peer { id: id.value, name: name.value });
        }
    }
    out
}
