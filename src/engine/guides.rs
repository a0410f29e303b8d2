//! Reads of 全程领办, run on the engine like every read (`reads.rs`): the visitors a guide
//! escorts now, each with its place in line, expected wait, window and bundle step, for
//! the guide's page.

use super::reads::{Reads, TicketView};
use crate::core::guide::{live, ESCORTS_PER_GUIDE_MAX};
use crate::core::model::{Ts, UserName};

/// Most visitors one guide's listing returns: the hall's bound on live escorts and as many
/// finished ones again (those a guide has not yet released), newest first.
pub const GUIDE_VISITORS_LISTED_MAX: usize = 2 * ESCORTS_PER_GUIDE_MAX;

/// One escorted visitor: the ticket's view and since when the guide escorts it.
#[derive(Clone, Debug)]
pub struct EscortView {
    pub view: TicketView,
    pub since: Ts,
}

impl Reads<'_> {
    /// The tickets `guide` escorts now: those still in the hall first, then finished ones,
    /// each in the order they were issued (their place by issue, which transfers keep).
    pub fn escorted(&self, guide: &UserName) -> Vec<EscortView> {
        let state = self.state();
        let mut out: Vec<EscortView> = state
            .guides
            .escorted_by(guide)
            .filter_map(|(id, e)| Some(EscortView { view: self.ticket(id)?, since: e.since }))
            .collect();
        out.sort_by_key(|e| (!live(e.view.ticket.status), e.view.ticket.issue_seq));
        out.truncate(GUIDE_VISITORS_LISTED_MAX);
        out
    }
}
