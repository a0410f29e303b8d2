//! What became of a ticket, as far as a day's records tell (a report's ticket row).

/// What became of a ticket, as far as the records tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Waiting,
    Called,
    Serving,
    Parked,
    Completed,
    Incomplete,
    NoShow,
    Cancelled,
    Expired,
}

impl Fate {
    pub fn as_str(self) -> &'static str {
        match self {
            Fate::Waiting => "waiting",
            Fate::Called => "called",
            Fate::Serving => "serving",
            Fate::Parked => "parked",
            Fate::Completed => "completed",
            Fate::Incomplete => "incomplete",
            Fate::NoShow => "no_show",
            Fate::Cancelled => "cancelled",
            Fate::Expired => "expired",
        }
    }
}
