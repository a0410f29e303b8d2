//! Plain data of the hall: typed ids, time stamps, tickets and windows.
//!
//! Everything here is a value with no behaviour beyond parsing and formatting, so the
//! core's state, its log records and the wire types can all refer to it without
//! depending on each other.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use super::ids::{
    BundleId, IdError, KioskId, Prefix, PriorityClass, QueueId, ServiceCode, TicketId, UserName, WindowId,
};

/// A point in time: milliseconds since the Unix epoch, UTC. The core never reads a clock;
/// the shell passes `Ts` in with every command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ts(pub i64);

impl Ts {
    /// Milliseconds from `earlier` to `self`, never negative.
    pub fn since_ms(self, earlier: Ts) -> u64 {
        u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0)
    }
}

/// A ticket's printed number: the queue's prefix and a counter of at least three digits
/// (`A012`, `A1000`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TicketNo {
    pub prefix: Prefix,
    pub n: u32,
}

impl fmt::Display for TicketNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:03}", self.prefix, self.n)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Serving,
    /// Set aside at its window while the visitor fetches something; the window takes
    /// other tickets meanwhile and calls this one back when the clerk resumes it.
    Parked,
    Done,
    NoShow,
    Cancelled,
    Expired,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Serving => "serving",
            TicketStatus::Parked => "parked",
            TicketStatus::Done => "done",
            TicketStatus::NoShow => "no_show",
            TicketStatus::Cancelled => "cancelled",
            TicketStatus::Expired => "expired",
        }
    }

    /// A ticket in a final status never changes again, but a done one may be rated and a
    /// no-show may rejoin within the hall's `rejoin_min` (it does not expire meanwhile).
    pub fn is_final(self) -> bool {
        match self {
            TicketStatus::Waiting | TicketStatus::Called | TicketStatus::Serving | TicketStatus::Parked => false,
            TicketStatus::Done | TicketStatus::NoShow | TicketStatus::Cancelled | TicketStatus::Expired => true,
        }
    }
}

/// How a finished service ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    Incomplete,
}

/// Where a transfer sends a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferTarget {
    Queue(QueueId),
    Window(WindowId),
}

/// Which rule of the dispatch policy chose a called ticket; kept in the log so that a
/// call can always be explained, and on the ticket (its last call) for the clerk console.
///
/// Log form: `"transferred_here"`, `"earliest_issued"`, `"unparked"`, `{"aged":{"waited_min":42,
/// "max_min":30}}`, `{"priority":{"class":"elderly","per_ordinary":2}}`,
/// `{"ordinary_turn":{"turn":1,"of":2}}`, `{"by_number":{"clerk":"clerk3","reason":"..."}}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallRule {
    /// The ticket was transferred to this very window.
    TransferredHere,
    /// The ticket had waited `waited_min` minutes (rounded up), more than the hall's
    /// `max_min`, which outranks every priority class.
    Aged { waited_min: u32, max_min: u32 },
    /// The ticket's priority class ranks it ahead. `per_ordinary` is the hall's ratio when
    /// the call counted against it (ordinary tickets were waiting too): the window now owes
    /// that many ordinary calls before its next priority call. 0 when it did not count.
    Priority { class: PriorityClass, per_ordinary: u32 },
    /// A priority ticket waited, but this window already had its priority call and owes
    /// ordinary ones: this is ordinary call `turn` of the `of` owed.
    OrdinaryTurn { turn: u32, of: u32 },
    /// The earliest issued among the queues the window serves.
    EarliestIssued,
    /// A clerk called this ticket by its number, out of dispatch order (a visitor sent back,
    /// say): who, and why in their words.
    ByNumber { clerk: UserName, reason: String },
    /// The clerk resumed a ticket parked at this window (the visitor is back with what was
    /// missing).
    Unparked,
    /// An appointment ticket whose slot, beginning at `due`, has come.
    AppointmentDue { due: Ts },
    /// This window prefers the ticket's queue (or one of its items): it counted as issued
    /// `bonus_min` minutes earlier here, which put it ahead of the earliest issued.
    Preferred { queue: QueueId, item: Option<ServiceCode>, bonus_min: u32 },
}

/// What a window leans towards without refusing anything else (`prefer` and
/// `prefer_items` in hall.toml): among ordinary tickets, one of a preferred queue or item
/// counts as issued so many minutes earlier at this window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Preferences {
    pub queues: Vec<(QueueId, u32)>,
    pub items: Vec<(ServiceCode, u32)>,
}

impl Preferences {
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty() && self.items.is_empty()
    }

    /// The head start of a ticket of `queue`, in minutes (0 when not preferred).
    pub fn queue_bonus(&self, queue: &QueueId) -> u32 {
        self.queues.iter().find(|(q, _)| q == queue).map_or(0, |(_, m)| *m)
    }
}

/// One step of a bundle ticket (一件事): the queue it waits in for that step and the items
/// the step's counter handles. Fixed at issue and kept in the log, so a changed config
/// never reorders the steps of a ticket already issued.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BundleStep {
    pub queue: QueueId,
    pub services: Vec<ServiceCode>,
}

/// What happened to a bundle ticket at one step: when it began waiting in the step's queue,
/// was first called, served and finished there, and at which window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepTimes {
    pub queued_at: Ts,
    pub first_called_at: Option<Ts>,
    pub serving_at: Option<Ts>,
    pub done_at: Option<Ts>,
    pub window: Option<WindowId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    pub id: TicketId,
    pub number: TicketNo,
    /// The queue it waits in now (a transfer may change it; the number keeps its prefix).
    pub queue: QueueId,
    pub services: Vec<ServiceCode>,
    pub bundle: Option<BundleId>,
    pub priority: Option<PriorityClass>,
    pub status: TicketStatus,
    /// The window that called it, once called.
    pub window: Option<WindowId>,
    /// The clerk signed in at its window when it was last served (a bad rating's case
    /// names them).
    pub served_by: Option<UserName>,
    /// The clerk signed in at the window that called it last (whose service a rating rates).
    pub called_by: Option<UserName>,
    /// Set while it waits for one named window after a transfer.
    pub target_window: Option<WindowId>,
    pub issued_at: Ts,
    /// The log position that gives its place in line: its issue, kept across transfers and
    /// bundle steps; or, for a missed ticket that rejoined, the rejoin (the back of the line).
    pub issue_seq: u64,
    /// When it began waiting for its place: its issue time, or its rejoin time. Aging counts
    /// from here, so a rejoined ticket does not jump the line as if it had waited all along.
    pub queued_at: Ts,
    /// Set while it waits after rejoining: the window that called it last and when. Another
    /// window does not call it within the hall's `call_cooldown_min` of that call.
    pub recent_call: Option<(WindowId, Ts)>,
    pub first_called_at: Option<Ts>,
    pub called_at: Option<Ts>,
    pub serving_at: Option<Ts>,
    pub finished_at: Option<Ts>,
    pub calls: u32,
    /// Recalls since its last call, bounded by the hall's `recall_max`.
    pub recalls: u32,
    /// A bundle ticket's steps, in order; empty for a ticket of one item.
    pub steps: Vec<BundleStep>,
    /// The step it is at (an index into `steps`; 0 for a ticket of one item).
    pub step: usize,
    /// Expected counter minutes of its current step (all its items for a ticket that is
    /// not a bundle), from the setup at issue or at the step's start.
    pub minutes: u32,
    /// An appointment ticket: when its slot begins. Cleared when it leaves its first line
    /// (a transfer, a rejoin, a bundle's next step): the privilege is for the slot.
    pub due: Option<Ts>,
    /// False for a remote ticket until its visitor checks in; only checked-in tickets are
    /// called.
    pub checked_in: bool,
    /// Times of each step reached so far, one entry per step begun.
    pub step_times: Vec<StepTimes>,
    /// The rule that chose it at its last call (a recall keeps it).
    pub call_rule: Option<CallRule>,
    pub outcome: Option<Outcome>,
    pub rating: Option<u8>,
    /// The wait it was told at its issue (none when no open window served its queue, or
    /// in a log from before promises were kept).
    pub promise: Option<Promise>,
}

/// What a ticket was told at its issue: its place and expected wait, and the range of
/// minutes given with it. Kept so that the wait it got can be held against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    pub ahead: u32,
    pub minutes: u32,
    pub low: u32,
    pub high: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    Closed,
    Open,
    Calling,
    Serving,
    Paused,
}

impl WindowState {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowState::Closed => "closed",
            WindowState::Open => "open",
            WindowState::Calling => "calling",
            WindowState::Serving => "serving",
            WindowState::Paused => "paused",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub id: WindowId,
    pub name: String,
    pub queues: Vec<QueueId>,
    pub state: WindowState,
    pub ticket: Option<TicketId>,
    pub clerk: Option<UserName>,
    /// Ordinary calls this window still owes since its last priority call that counted
    /// against the hall's ratio; a priority ticket waits for it to reach 0 while ordinary
    /// tickets wait. Changed only by `apply`, so replay gives it back.
    pub ordinary_owed: u32,
    /// Tickets parked at this window, in the order they were parked.
    pub parked: Vec<TicketId>,
    /// What the window leans towards (from the setup).
    pub prefer: Preferences,
    /// What the estimates need of the ticket it holds, kept here so that they read no
    /// ticket by id: set by `apply` at each call and serve, cleared when the window lets go.
    pub at_counter: Option<AtCounter>,
    /// Store-next (issue 17 §4): the clerk asked that the next ticket be called in the
    /// same step that lets the window's ticket go, and, idle, in the step of whatever makes
    /// a ticket it serves wait. Cleared when the window opens or closes.
    pub store_next: bool,
    /// Walk-direct tickets this window issued today (bounded by `WALK_DIRECT_PER_DAY_MAX`).
    pub walk_direct_today: u32,
}

/// The ticket a window holds, as the expected wait sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtCounter {
    /// Expected counter minutes of the ticket's current step.
    pub minutes: u32,
    pub queue: QueueId,
    /// When the visitor reached the counter; `None` while only called.
    pub serving_since: Option<Ts>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_three_digits_then_grow() {
        let no = |n| TicketNo { prefix: Prefix::parse("A").unwrap(), n }.to_string();
        assert_eq!(no(7), "A007");
        assert_eq!(no(999), "A999");
        assert_eq!(no(1000), "A1000");
    }

    #[test]
    fn call_rules_read_back() {
        let elderly = PriorityClass::parse("elderly").unwrap();
        let rules = [
            CallRule::TransferredHere,
            CallRule::Aged { waited_min: 42, max_min: 30 },
            CallRule::Priority { class: elderly, per_ordinary: 2 },
            CallRule::OrdinaryTurn { turn: 1, of: 2 },
            CallRule::EarliestIssued,
            CallRule::Unparked,
            CallRule::Preferred {
                queue: QueueId::parse("B").unwrap(),
                item: Some(ServiceCode::parse("SC-0029").unwrap()),
                bonus_min: 30,
            },
        ];
        for rule in rules {
            let text = serde_json::to_string(&rule).unwrap();
            assert_eq!(serde_json::from_str::<CallRule>(&text).unwrap(), rule, "{text}");
        }
        assert_eq!(serde_json::to_string(&CallRule::EarliestIssued).unwrap(), r#""earliest_issued""#);
    }

    #[test]
    fn ids_refuse_bad_strings() {
        assert!(QueueId::parse("A").is_ok());
        assert!(QueueId::parse("").is_err());
        assert!(QueueId::parse("A B").is_err());
        assert!(QueueId::parse("ABCDEFGH").is_ok());
        assert!(QueueId::parse("ABCDEFGHI").is_err());
        assert!(QueueId::parse("A\0").is_err());
        assert!(TicketId::parse("ABCDEF").is_err());
        assert!(TicketId::parse("abcdef").is_err(), "too short");
        assert!(TicketId::parse(&"0".repeat(33)).is_err());
        assert!(TicketId::parse(&format!("{}G", "0".repeat(31))).is_err());
        assert!(TicketId::parse(&format!("+{}", "0".repeat(31))).is_err(), "no sign");
    }

    #[test]
    fn queue_ids_read_back_in_string_order() {
        let ids = ["A", "AB", "B", "Z9", "a", "ABCDEFGH"].map(|s| QueueId::parse(s).unwrap());
        for id in &ids {
            assert_eq!(serde_json::from_str::<QueueId>(&serde_json::to_string(id).unwrap()).unwrap(), *id);
        }
        let mut by_id = ids.to_vec();
        by_id.sort();
        let mut by_text: Vec<&str> = ids.iter().map(QueueId::as_str).collect();
        by_text.sort();
        assert_eq!(by_id.iter().map(QueueId::as_str).collect::<Vec<_>>(), by_text);
        let map: std::collections::BTreeMap<QueueId, u32> = serde_json::from_str(r#"{"B":2,"A":1}"#).unwrap();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"A":1,"B":2}"#);
        assert!(serde_json::from_str::<QueueId>(r#""too long id""#).is_err());
    }

    #[test]
    fn ticket_ids_read_back_as_32_hex_digits() {
        let mut bytes = [0u8; 16];
        bytes[15] = 0x2a;
        let id = TicketId::from_bytes(bytes);
        let text = format!("{}2a", "0".repeat(30));
        assert_eq!(id.to_string(), text);
        assert_eq!(TicketId::parse(&text), Ok(id));
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<TicketId>(&format!("\"{text}\"")).unwrap(), id);
        assert!(serde_json::from_str::<TicketId>("\"00\"").is_err());
        // The integer order is the order of the hex strings.
        let high = TicketId::parse(&format!("f{}", "0".repeat(31))).unwrap();
        assert!(id < high && id.to_string() < high.to_string());
        assert!(WindowId::parse("12").is_ok());
        assert!(WindowId::parse(&"9".repeat(17)).is_err());
    }
}
