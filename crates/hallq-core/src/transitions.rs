//! The one table of legal ticket transitions. `decide` asks it before producing an
//! event and `apply` asks it again (and panics on a miss), so the two can never disagree.

use super::model::TicketStatus::{self, Called, Cancelled, Done, Expired, NoShow, Parked, Serving, Waiting};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketAction {
    Call,
    Recall,
    Serve,
    Finish,
    NoShow,
    Cancel,
    Transfer,
    Expire,
    /// Set aside at the window (the visitor fetches a missing document).
    Park,
    /// Called back to the window that parked it.
    Unpark,
    /// A missed number goes back in line.
    Rejoin,
    /// A bundle step is done and the ticket waits for its next step.
    NextStep,
    /// Its window closed (or left hall.toml): back in line at its place.
    Return,
    /// Referred to another hall of the district (issue 18): finished here.
    Refer,
}

/// (action, from, to): every legal move of a ticket, and no other.
const TRANSITIONS: &[(TicketAction, TicketStatus, TicketStatus)] = &[
    (TicketAction::Call, Waiting, Called),
    (TicketAction::Recall, Called, Called),
    (TicketAction::Serve, Called, Serving),
    (TicketAction::Finish, Serving, Done),
    (TicketAction::NoShow, Called, NoShow),
    (TicketAction::Cancel, Waiting, Cancelled),
    (TicketAction::Transfer, Called, Waiting),
    (TicketAction::Transfer, Serving, Waiting),
    (TicketAction::Expire, Waiting, Expired),
    (TicketAction::Expire, Called, Expired),
    (TicketAction::Expire, Serving, Expired),
    (TicketAction::Expire, Parked, Expired),
    (TicketAction::Park, Called, Parked),
    (TicketAction::Park, Serving, Parked),
    (TicketAction::Unpark, Parked, Called),
    (TicketAction::Rejoin, NoShow, Waiting),
    (TicketAction::NextStep, Serving, Waiting),
    (TicketAction::Return, Waiting, Waiting),
    (TicketAction::Return, Called, Waiting),
    (TicketAction::Return, Serving, Waiting),
    (TicketAction::Return, Parked, Waiting),
    (TicketAction::Refer, Called, Done),
    (TicketAction::Refer, Serving, Done),
];

/// The status a ticket in `from` reaches by `action`, or `None` if that move is illegal.
pub fn next_status(from: TicketStatus, action: TicketAction) -> Option<TicketStatus> {
    TRANSITIONS.iter().find(|(a, f, _)| *a == action && *f == from).map(|(_, _, to)| *to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_statuses_have_no_way_out_but_a_rejoin() {
        for (action, from, _) in TRANSITIONS {
            let rejoin = *action == TicketAction::Rejoin && *from == NoShow;
            assert!(!from.is_final() || rejoin, "{from:?} is final but has a transition");
        }
        assert_eq!(next_status(Done, TicketAction::Cancel), None);
        assert_eq!(next_status(NoShow, TicketAction::Call), None);
        assert_eq!(next_status(Cancelled, TicketAction::Expire), None);
    }
}
