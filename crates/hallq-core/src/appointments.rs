//! Appointments (预约): booking a slot for a service, checking in at the kiosk, and the
//! rules around them (issue 4 rule 2).
//!
//! A booking holds only a code and a keyed hash of the phone number (the shell hashes
//! it). Booked slots are kept across service days: an appointment is for a day ahead.
//! Checking in within the grace window issues a ticket in the hall's appointment queue,
//! due at its slot: dispatch calls it first once the slot has begun. Checking in later
//! issues an ordinary ticket in the service's own queue. An appointment not checked in
//! by its slot's end of grace is missed: it no longer holds its slot's quota or its
//! holder's one booking of that day, so a missed slot is free for someone else and the
//! holder may book again.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

use super::command::Rejection;
use super::model::{QueueId, TicketId, Ts, WindowId};
use super::setup::Setup;

/// The hall's appointment settings (`[hall.appointments]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppointmentPolicy {
    /// The queue an appointment ticket waits in.
    pub queue: QueueId,
    /// Length of one slot, in minutes; slots start at each opening time and follow each
    /// other while they fit before the close.
    pub slot_min: u32,
    /// Bookings per slot.
    pub quota: u32,
    /// Minutes after a slot's start during which a check-in still counts as on time.
    pub grace_min: u32,
    /// How many days ahead one may book (today counts as 0).
    pub days_ahead: u32,
    /// Bookings one phone number may hold at once over the whole booking window (besides
    /// one a day): without it, one person with a script could hold a slot every day.
    pub phone_max: u32,
    /// Bookings one client address may hold at once over the booking window; 0: no limit
    /// (behind a proxy, where every visitor has the proxy's address).
    pub address_max: u32,
    /// Bookings one client address may hold at once on one day; 0: no limit.
    pub address_day_max: u32,
}

/// The longest booking code accepted, in characters.
pub const CODE_CHARS_MAX: usize = 16;

/// One booking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub code: String,
    /// The item code or bundle id booked.
    pub service: String,
    pub day: NaiveDate,
    pub slot: NaiveTime,
    pub phone_hash: String,
    /// The shell's keyed hash of the client address it was booked from (`None` in
    /// bookings logged before addresses were counted): the per-address limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr_hash: Option<String>,
    /// A window named for one-to-one service (the enterprise office, say).
    pub window: Option<WindowId>,
    pub state: AppointmentState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentState {
    Booked,
    Cancelled,
    /// Checked in: the ticket it became, and whether it came after the grace window.
    CheckedIn {
        ticket: TicketId,
        late: bool,
    },
}

/// Every booking not yet past, by code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointments {
    pub by_code: BTreeMap<String, Appointment>,
}

impl Appointment {
    /// When the slot begins.
    pub fn starts_at(&self, setup: &Setup) -> Ts {
        local_ts(setup, self.day, self.slot)
    }

    /// When a check-in stops counting as on time.
    pub fn grace_ends_at(&self, setup: &Setup, policy: &AppointmentPolicy) -> Ts {
        Ts(self.starts_at(setup).0 + i64::from(policy.grace_min) * 60_000)
    }

    /// Booked, and at `now` still on time or early.
    fn holds(&self, setup: &Setup, policy: &AppointmentPolicy, now: Ts) -> bool {
        match self.state {
            AppointmentState::Booked => now <= self.grace_ends_at(setup, policy),
            AppointmentState::CheckedIn { .. } => true,
            AppointmentState::Cancelled => false,
        }
    }

    /// `booked`, `checked_in`, `late`, `cancelled` or `missed` at `now`.
    pub fn status(&self, setup: &Setup, policy: &AppointmentPolicy, now: Ts) -> &'static str {
        match self.state {
            AppointmentState::Booked if self.holds(setup, policy, now) => "booked",
            AppointmentState::Booked => "missed",
            AppointmentState::Cancelled => "cancelled",
            AppointmentState::CheckedIn { late: false, .. } => "checked_in",
            AppointmentState::CheckedIn { late: true, .. } => "late",
        }
    }
}

impl Appointments {
    /// Bookings of `day` at `slot` that still hold it at `now`.
    pub fn taken(&self, setup: &Setup, policy: &AppointmentPolicy, day: NaiveDate, slot: NaiveTime, now: Ts) -> u32 {
        let n = self.by_code.values().filter(|a| a.day == day && a.slot == slot && a.holds(setup, policy, now)).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Whether the holder of `phone_hash` already holds a booking of `day` at `now`.
    pub fn holder_has(
        &self,
        setup: &Setup,
        policy: &AppointmentPolicy,
        day: NaiveDate,
        phone_hash: &str,
        now: Ts,
    ) -> bool {
        self.by_code.values().any(|a| a.day == day && a.phone_hash == phone_hash && a.holds(setup, policy, now))
    }

    /// Bookings from `today` on that the holder of `phone_hash` holds at `now`.
    pub fn held_by_phone(
        &self,
        setup: &Setup,
        policy: &AppointmentPolicy,
        phone_hash: &str,
        today: NaiveDate,
        now: Ts,
    ) -> u32 {
        self.count(setup, policy, now, |a| a.day >= today && a.phone_hash == phone_hash)
    }

    /// Bookings from `today` (or of `day` only, when given) that the client address
    /// hashed as `addr_hash` holds at `now`.
    pub fn held_by_address(
        &self,
        setup: &Setup,
        policy: &AppointmentPolicy,
        addr_hash: &str,
        today: NaiveDate,
        day: Option<NaiveDate>,
        now: Ts,
    ) -> u32 {
        self.count(setup, policy, now, |a| {
            a.day >= today && day.is_none_or(|d| a.day == d) && a.addr_hash.as_deref() == Some(addr_hash)
        })
    }

    fn count(&self, setup: &Setup, policy: &AppointmentPolicy, now: Ts, pick: impl Fn(&Appointment) -> bool) -> u32 {
        let n = self.by_code.values().filter(|a| pick(a) && a.holds(setup, policy, now)).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Forgets the bookings of days before `today` (they stay in the log).
    pub fn drop_before(&mut self, today: NaiveDate) {
        self.by_code.retain(|_, a| a.day >= today);
    }
}

/// The local time `t` on `day` in the hall's zone.
pub fn local_ts(setup: &Setup, day: NaiveDate, t: NaiveTime) -> Ts {
    setup.timezone.from_local_datetime(&day.and_time(t)).earliest().map_or(Ts(0), |dt| Ts(dt.timestamp_millis()))
}

/// The slots of one day: each opening span cut into `slot_min` pieces that fit.
pub fn slots(setup: &Setup, policy: &AppointmentPolicy) -> Vec<NaiveTime> {
    let spans = if setup.hours.is_empty() {
        vec![(NaiveTime::MIN, NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN))]
    } else {
        setup.hours.clone()
    };
    let step = chrono::Duration::minutes(i64::from(policy.slot_min.max(1)));
    let mut out = Vec::new();
    for (open, close) in spans {
        let mut start = open;
        loop {
            let (end, wrapped) = start.overflowing_add_signed(step);
            if wrapped != 0 || end > close || end <= start {
                break;
            }
            out.push(start);
            start = end;
        }
    }
    out
}

/// Checks a booking request at `now`; the slot as given must be one of the day's.
#[allow(clippy::too_many_arguments)]
pub fn check_booking(
    setup: &Setup,
    appointments: &Appointments,
    code: &str,
    service: &str,
    day: NaiveDate,
    slot: NaiveTime,
    phone_hash: &str,
    addr_hash: Option<&str>,
    window: Option<&WindowId>,
    now: Ts,
) -> Result<(), Rejection> {
    let policy = setup.appointments.as_ref().ok_or(Rejection::NoAppointments)?;
    if setup.service(service).is_none() {
        return Err(Rejection::UnknownService(service.chars().take(40).collect()));
    }
    if code.is_empty() || code.chars().count() > CODE_CHARS_MAX || appointments.by_code.contains_key(code) {
        return Err(Rejection::DuplicateCode);
    }
    if phone_hash.is_empty() {
        return Err(Rejection::PhoneRequired);
    }
    if let Some(w) = window {
        let def = setup.window(w).ok_or_else(|| Rejection::UnknownWindow(w.to_string()))?;
        // A booked window must be able to call the ticket: one of the appointment queue,
        // or of the booked service's own queue (a bundle's first step's).
        let own = match setup.service(service) {
            Some(super::setup::ServiceRef::Item(item)) => Some(item.queue),
            Some(super::setup::ServiceRef::Bundle(b)) => setup.bundle_steps(b).first().map(|s| s.queue),
            None => None,
        };
        if !def.queues.iter().any(|q| *q == policy.queue || Some(*q) == own) {
            return Err(Rejection::WindowNotServing(w.to_string()));
        }
    }
    let today = setup.day_of(now);
    let last = today + chrono::Days::new(u64::from(policy.days_ahead));
    if day < today || day > last {
        return Err(Rejection::BadDay(policy.days_ahead));
    }
    if !is_open_day(setup, day) {
        return Err(Rejection::DayClosed(day.to_string()));
    }
    if !slots(setup, policy).contains(&slot) {
        return Err(Rejection::BadSlot);
    }
    if local_ts(setup, day, slot) <= now {
        return Err(Rejection::SlotPast);
    }
    if appointments.taken(setup, policy, day, slot, now) >= policy.quota {
        return Err(Rejection::SlotFull);
    }
    if appointments.holder_has(setup, policy, day, phone_hash, now) {
        return Err(Rejection::AlreadyBooked);
    }
    if appointments.held_by_phone(setup, policy, phone_hash, today, now) >= policy.phone_max {
        return Err(Rejection::PhoneLimit(policy.phone_max));
    }
    check_address(setup, appointments, policy, addr_hash, today, day, now)
}

/// The per-address limits: a script on a few addresses must not take a week's places.
fn check_address(
    setup: &Setup,
    appointments: &Appointments,
    policy: &AppointmentPolicy,
    addr_hash: Option<&str>,
    today: NaiveDate,
    day: NaiveDate,
    now: Ts,
) -> Result<(), Rejection> {
    let Some(addr) = addr_hash else { return Ok(()) };
    let limits =
        [(policy.address_day_max, Some(day), "that day"), (policy.address_max, None, "in the days open to booking")];
    for (max, on, when) in limits {
        if max > 0 && appointments.held_by_address(setup, policy, addr, today, on, now) >= max {
            return Err(Rejection::AddressLimit(max, when));
        }
    }
    Ok(())
}

/// Whether the hall takes bookings for `day`: a working day of `[hall.calendar]` (rest
/// days and holidays are closed, make-up working days open).
pub fn is_open_day(setup: &Setup, day: NaiveDate) -> bool {
    setup.rating.calendar.is_working_day(day)
}

/// Whether a kiosk may check a booking in at `now` although kiosks issue no tickets then:
/// in a break between two opening spans of the day (the lunch break). A booked visitor
/// is in the hall, and the booking promised a ticket (an ordinary one when late); before
/// the first opening and after the last close the hall is shut, and no ticket is given.
pub fn check_in_open(setup: &Setup, now: Ts) -> bool {
    if setup.is_open(now) {
        return true;
    }
    let (Some(first), Some(last)) = (setup.hours.first(), setup.hours.last()) else { return false };
    let Some(local) = setup.timezone.timestamp_millis_opt(now.0).single() else { return false };
    let t = local.time();
    first.0 <= t && t < last.1 && is_open_day(setup, local.date_naive())
}
