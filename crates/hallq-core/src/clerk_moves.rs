//! Issue 17 §4, the moves the best queue systems give a clerk, and the kiosk's per-person
//! limits:
//!
//! - **store-next**: a window armed (`Window::store_next`) calls its next ticket in the
//!   same step that lets its ticket go (done, no-show, transfer, park, not_done), and
//!   `DoneAndNext` does so armed or not. One step is one decision of the one writer, so
//!   no other window's call comes between the finish and the call, and no clerk's reaction
//!   time either (`HallState::step` asks `decide::follow_up`). Left idle with nobody to
//!   call, an armed window calls the first ticket it serves that comes to wait, in that
//!   command's step (`decide::armed_idle`): it never idles while one waits.
//! - **walk-direct**: a ticket the clerk issues to their own idle window for a visitor
//!   who walked up, called there at once; refused while a ticket the window serves has
//!   waited past the hall's `max_wait_min` (that one is called first), and at most
//!   [`WALK_DIRECT_PER_DAY_MAX`] per window and day.
//! - **per-person limits** (`[hall.limits]`): tickets per person and day, and a wait after
//!   a number of no-shows, keyed by the shell's keyed hash of the ID card number read at
//!   the kiosk. The number itself never reaches the core; the hashes are today's state
//!   only (a day's opening forgets them).

use std::collections::BTreeMap;

use super::model::{TicketId, Ts};

/// Walk-direct tickets one window may issue in a service day: a clerk serving walk-ups
/// all day would bypass the line the kiosk keeps; a real counter sees a handful.
pub const WALK_DIRECT_PER_DAY_MAX: u32 = 30;

/// The kiosk's per-person limits (`[hall.limits]`); each `None` is off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersonLimits {
    /// `tickets_per_person_per_day`.
    pub tickets_per_day: Option<u32>,
    /// `no_shows_before_wait`: after this many no-shows today, a person waits
    /// `no_show_wait_min` from the last before taking another ticket.
    pub no_shows_before_wait: Option<u32>,
    /// `no_show_wait_minutes`.
    pub no_show_wait_min: u32,
}

impl PersonLimits {
    /// Whether the kiosk must read an ID card before issuing.
    pub fn on(&self) -> bool {
        self.tickets_per_day.is_some() || self.no_shows_before_wait.is_some()
    }
}

/// One person's day, as the limits count it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersonDay {
    pub tickets: u32,
    pub no_shows: u32,
    pub last_no_show: Option<Ts>,
}

/// Today's persons by the keyed hash of their ID number, and which ticket is whose.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persons {
    by_person: BTreeMap<String, PersonDay>,
    of_ticket: BTreeMap<TicketId, String>,
}

impl Persons {
    pub fn of(&self, person: &str) -> PersonDay {
        self.by_person.get(person).copied().unwrap_or_default()
    }

    /// Persons seen today.
    pub fn len(&self) -> usize {
        self.by_person.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_person.is_empty()
    }

    pub(crate) fn took(&mut self, id: TicketId, person: &str) {
        self.by_person.entry(person.to_string()).or_default().tickets += 1;
        assert!(self.of_ticket.insert(id, person.to_string()).is_none(), "ticket {id} taken by two persons");
    }

    /// Ticket `id` was marked a no-show at `at`: its person's count, if it has one.
    pub(crate) fn no_show(&mut self, id: &TicketId, at: Ts) {
        if let Some(day) = self.of_ticket.get(id).and_then(|p| self.by_person.get_mut(p)) {
            day.no_shows += 1;
            day.last_no_show = Some(at);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.by_person.clear();
        self.of_ticket.clear();
    }
}
