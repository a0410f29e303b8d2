//! A visitor's side of `decide`: issuing a ticket (at a kiosk, remotely, or from a booking
//! checked in) with the wait it is promised, bookings, check-in, cancelling, rating and
//! rejoining after a missed call.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};

use super::done;
use crate::appointments::{check_booking, check_in_open, Appointment};
use crate::command::{Rejection, Reply, TICKETS_PER_DAY_MAX};
use crate::event::Event;
use crate::forecast::forecast_with;
use crate::hall::{Decision, HallState, NewTicket};
use crate::model::{Promise, QueueId, TicketId, TicketStatus, Ts, WindowId};
use crate::rating;
use crate::setup::ServiceRef;
use crate::transitions::{next_status, TicketAction};

/// A walk-in's ticket (or a remote take-a-number's).
pub(super) fn issue(
    state: &HallState,
    id: &TicketId,
    service: &str,
    priority: Option<&str>,
    kiosk: &str,
    remote: bool,
    now: Ts,
) -> Result<Decision, Rejection> {
    let how = Issue { remote, ..Issue::default() };
    let event = decide_issue(state, id, service, priority, kiosk, now, how)?;
    done(vec![event], Reply::Ticket(*id))
}

/// The issue of a walk-in's ticket through `kiosk` (a channel), for a decision that logs
/// more beside it: a guide's assisted issue (`guide.rs`), a ticket under the per-person
/// limits, or a walk-direct sent to the clerk's window (`target_window`, `moves.rs`), where
/// it waits for that window alone.
pub(crate) fn issue_event(
    state: &HallState,
    id: &TicketId,
    (service, priority, remote): (&str, Option<&str>, bool),
    kiosk: &str,
    target_window: Option<WindowId>,
    now: Ts,
) -> Result<Event, Rejection> {
    decide_issue(state, id, service, priority, kiosk, now, Issue { target_window, remote, ..Issue::default() })
}

/// A remote ticket's visitor has arrived.
pub(super) fn check_in(state: &HallState, id: &TicketId) -> Result<Decision, Rejection> {
    let t = state.ticket(id).ok_or(Rejection::UnknownTicket)?;
    if t.checked_in {
        return Err(Rejection::AlreadyCheckedIn);
    }
    if t.status != TicketStatus::Waiting {
        return Err(Rejection::NotWaiting(t.status.as_str()));
    }
    done(vec![Event::TicketCheckedIn { id: *id }], Reply::Ticket(*id))
}

/// A booking of `service` at `slot` on `day`, under the keyed hashes of the visitor's
/// phone and (where there is one) client address.
pub(super) fn book(
    state: &HallState,
    code: &str,
    service: &str,
    (day, slot): (NaiveDate, NaiveTime),
    (phone_hash, addr_hash): (&str, Option<&str>),
    window: Option<&WindowId>,
    now: Ts,
) -> Result<Decision, Rejection> {
    let setup = &state.setup;
    check_booking(setup, &state.appointments, code, service, day, slot, phone_hash, addr_hash, window, now)?;
    let event = Event::AppointmentBooked {
        code: code.to_string(),
        service: service.to_string(),
        day,
        slot,
        phone_hash: phone_hash.to_string(),
        addr_hash: addr_hash.map(str::to_string),
        window: window.copied(),
    };
    done(vec![event], Reply::Appointment(code.to_string()))
}

pub(super) fn cancel_booking(state: &HallState, code: &str, now: Ts) -> Result<Decision, Rejection> {
    let a = booked(state, code, now)?;
    done(vec![Event::AppointmentCancelled { code: a.code.clone() }], Reply::Appointment(code.to_string()))
}

/// A booked visitor checks in: within grace it waits in the appointment queue, due at its
/// slot (for its named window, if any); after it, it is an ordinary ticket of its
/// service's queue.
pub(super) fn check_in_booking(
    state: &HallState,
    code: &str,
    id: &TicketId,
    kiosk: &str,
    now: Ts,
) -> Result<Decision, Rejection> {
    let a = booked(state, code, now)?;
    let policy = state.setup.appointments.as_ref().ok_or(Rejection::NoAppointments)?;
    if a.day != state.setup.day_of(now) {
        return Err(Rejection::NotToday(a.day.to_string()));
    }
    let late = now > a.grace_ends_at(&state.setup, policy);
    let how = if late {
        Issue { booked: true, ..Issue::default() }
    } else {
        Issue {
            queue: Some(policy.queue),
            due: Some(a.starts_at(&state.setup)),
            // A window hall.toml no longer has: the appointment queue's windows.
            target_window: a.window.filter(|w| state.window(w).is_some()),
            remote: false,
            booked: true,
        }
    };
    let issued = decide_issue(state, id, &a.service, None, kiosk, now, how)?;
    let checked_in = Event::AppointmentCheckedIn { code: code.to_string(), ticket: *id, late };
    done(vec![checked_in, issued], Reply::Ticket(*id))
}

pub(super) fn cancel(state: &HallState, id: &TicketId) -> Result<Decision, Rejection> {
    let t = state.ticket(id).ok_or(Rejection::UnknownTicket)?;
    next_status(t.status, TicketAction::Cancel).ok_or(Rejection::NotWaiting(t.status.as_str()))?;
    done(vec![Event::TicketCancelled { id: *id }], Reply::Ticket(*id))
}

pub(super) fn rate(
    state: &HallState,
    id: &TicketId,
    score: u8,
    reason: Option<&str>,
    comment: Option<&str>,
    now: Ts,
) -> Result<Decision, Rejection> {
    let event = rating::decide_rate(state, id, score, reason, comment, now)?;
    done(vec![event], Reply::Ticket(*id))
}

/// A missed ticket goes back in line, within the hall's `rejoin_min` of being missed.
pub(super) fn rejoin(state: &HallState, id: &TicketId, now: Ts) -> Result<Decision, Rejection> {
    let t = state.ticket(id).ok_or(Rejection::UnknownTicket)?;
    next_status(t.status, TicketAction::Rejoin).ok_or(Rejection::NotMissed(t.status.as_str()))?;
    let limit = state.setup.dispatch.rejoin_min;
    let missed_at = t.finished_at.unwrap_or(now);
    if limit == 0 || now.since_ms(missed_at) > u64::from(limit) * 60_000 {
        return Err(Rejection::RejoinExpired(limit));
    }
    done(vec![Event::TicketRejoined { id: *id }], Reply::Ticket(*id))
}

/// How a ticket is issued beyond its service: the appointment queue, slot and window of a
/// booking checked in on time, or a remote take-a-number.
#[derive(Default)]
struct Issue {
    queue: Option<QueueId>,
    due: Option<Ts>,
    target_window: Option<WindowId>,
    remote: bool,
    /// A booking checking in: accepted in the lunch break too (`check_in_open`).
    booked: bool,
}

/// The booking `code`, if it is still booked (not cancelled, checked in or missed) at `now`.
fn booked<'a>(state: &'a HallState, code: &str, now: Ts) -> Result<&'a Appointment, Rejection> {
    let policy = state.setup.appointments.as_ref().ok_or(Rejection::NoAppointments)?;
    let a = state.appointments.by_code.get(code).ok_or(Rejection::UnknownAppointment)?;
    match a.status(&state.setup, policy, now) {
        "booked" => Ok(a),
        // Late is no reason to turn a visitor away: the check-in gives an ordinary ticket.
        "missed" if a.day == state.setup.day_of(now) => Ok(a),
        other => Err(Rejection::AppointmentClosed(other)),
    }
}

fn decide_issue(
    state: &HallState,
    id: &TicketId,
    service: &str,
    priority: Option<&str>,
    kiosk: &str,
    now: Ts,
    how: Issue,
) -> Result<Event, Rejection> {
    let setup = &state.setup;
    let (queue, services, bundle, steps) = match setup.service(service) {
        Some(ServiceRef::Item(item)) => (item.queue, vec![item.code.clone()], None, Vec::new()),
        Some(ServiceRef::Bundle(b)) => {
            let steps = setup.bundle_steps(b);
            let first = steps.first().map(|s| s.queue);
            let queue = first.ok_or_else(|| Rejection::UnknownService(service.chars().take(40).collect()))?;
            (queue, b.items.clone(), Some(b.id.clone()), steps)
        }
        None => return Err(Rejection::UnknownService(service.chars().take(40).collect())),
    };
    let priority = match priority {
        None => None,
        Some(p) => {
            let class = setup.priorities.iter().find(|c| c.id.as_str() == p);
            Some(class.ok_or_else(|| Rejection::UnknownPriority(p.chars().take(40).collect()))?.id.clone())
        }
    };
    // The appointment queue is for bookings checked in on time.
    let joins = how.queue.unwrap_or(queue);
    if !how.booked && !setup.takes_walk_ins(&joins) {
        return Err(Rejection::CheckInRequired);
    }
    let open = if how.booked { check_in_open(setup, now) } else { setup.is_open(now) };
    if !open {
        return Err(Rejection::HallClosed);
    }
    if state.tickets.len() >= TICKETS_PER_DAY_MAX {
        return Err(Rejection::DayFull);
    }
    if state.tickets.contains_key(id) {
        return Err(Rejection::DuplicateTicketId);
    }
    let queue = how.queue.unwrap_or(queue);
    let n = state.numbers.get(&queue).copied().unwrap_or(0) + 1;
    let kiosk = kiosk.to_string();
    let Issue { due, target_window, remote, .. } = how;
    let new = NewTicket {
        id,
        queue: &queue,
        n,
        services: &services,
        bundle: &bundle,
        priority: &priority,
        steps: &steps,
        due,
        target_window,
        remote,
        promise: None,
    };
    let promise = promise(state, &new, now);
    Ok(Event::TicketIssued {
        id: *id,
        queue,
        n,
        services,
        bundle,
        priority,
        kiosk,
        steps,
        due,
        target_window,
        remote,
        promise,
    })
}

/// The most tickets waiting for which an issue runs the forecast to keep its promise, in
/// tickets: the run is linear in the line (about 1.7 µs a ticket), and one per issue must
/// not make issuing in a hall with a vast line quadratic: at this bound a run takes about
/// 0.9 ms. A real hall's peak is a few hundred; above this the kiosk's answer still comes
/// from the forecast kept per log position (or the estimate past
/// `FORECAST_WAITING_MAX`), but no promise is kept (`eta_error` counts only tickets with
/// one).
pub const PROMISE_WAITING_MAX: usize = 500;

/// What the kiosk tells the ticket about to be issued: its spot in the forecast run with
/// it in line. None for a remote ticket (it is not in line until it checks in) and where
/// no open window may call it. The run is the forecast of the state this issue makes, so
/// it is offered to the cache for that state: the answers and the feed after the issue
/// read it instead of running again (one run per ticket issued; `forecast.rs`).
fn promise(state: &HallState, new: &NewTicket, now: Ts) -> Option<Promise> {
    if new.remote || state.index.len() > PROMISE_WAITING_MAX {
        return None;
    }
    let t = new.ticket(&state.setup, state.last_seq + 1, now);
    let forecast = Arc::new(forecast_with(state, Some(&t), now));
    let spot = forecast.ticket(new.id);
    state.forecast_cache.offer_next(state.last_seq, *new.id, forecast.clone());
    crate::eta::promise(spot?, forecast.now)
}

/// 助企服务 (`enterprise.rs`): a walk-in's ticket for `service` that waits in `queue`, or
/// for `window` by name when given.
pub(crate) fn issue_to(
    state: &HallState,
    id: &TicketId,
    service: &str,
    kiosk: &str,
    queue: QueueId,
    window: Option<WindowId>,
    now: Ts,
) -> Result<Event, Rejection> {
    let how = Issue { queue: Some(queue), target_window: window, ..Issue::default() };
    decide_issue(state, id, service, None, kiosk, now, how)
}
