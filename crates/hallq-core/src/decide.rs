//! `decide`: what a command does to the hall (the events to log and the caller's answer),
//! or why the hall refuses it. It only reads the state; `HallState::apply` does the rest.

use std::sync::Arc;

use super::appointments::{check_booking, check_in_open, Appointment};
use super::command::{Command, Envelope, Rejection, Reply, CALL_REASON_CHARS_MAX, TICKETS_PER_DAY_MAX};
use super::event::Event;
use super::fingerprint::fingerprint;
use super::forecast::forecast_with;
use super::hall::{Decision, HallState, NewTicket};
use super::model::{
    CallRule, Outcome, Promise, QueueId, TicketId, TicketStatus, TransferTarget, Ts, UserName, Window, WindowId,
    WindowState,
};
use super::rating;
use super::setup::ServiceRef;
use super::transitions::{next_status, TicketAction};

/// Decides what `env` does to `state` at `now`: the events to log, or why not.
pub fn decide(state: &HallState, env: &Envelope, now: Ts) -> Result<Decision, Rejection> {
    if let Some(first) = env.idempotency_key.as_ref().and_then(|k| state.idem.get(k)) {
        // A key names one command: a repeat of it gets the first answer, and anything else
        // under the key is refused rather than answered with that command's result.
        if first.command != fingerprint(&env.command) {
            return Err(Rejection::IdempotencyConflict);
        }
        return Ok(Decision { events: Vec::new(), reply: first.reply.clone(), repeated: true });
    }
    let done = |events: Vec<Event>, reply: Reply| Ok(Decision { events, reply, repeated: false });
    match &env.command {
        Command::IssueTicket { id, service, priority, kiosk, remote } => {
            let how = Issue { remote: *remote, ..Issue::default() };
            let event = decide_issue(state, id, service, priority.as_deref(), kiosk, now, how)?;
            done(vec![event], Reply::Ticket(*id))
        }
        Command::CheckInTicket { id } => {
            let t = state.ticket(id).ok_or(Rejection::UnknownTicket)?;
            if t.checked_in {
                return Err(Rejection::AlreadyCheckedIn);
            }
            if t.status != TicketStatus::Waiting {
                return Err(Rejection::NotWaiting(t.status.as_str()));
            }
            done(vec![Event::TicketCheckedIn { id: *id }], Reply::Ticket(*id))
        }
        Command::BookAppointment { code, service, day, slot, phone_hash, addr_hash, window } => {
            let (setup, addr) = (&state.setup, addr_hash.as_deref());
            check_booking(
                setup,
                &state.appointments,
                code,
                service,
                *day,
                *slot,
                phone_hash,
                addr,
                window.as_ref(),
                now,
            )?;
            let event = Event::AppointmentBooked {
                code: code.clone(),
                service: service.clone(),
                day: *day,
                slot: *slot,
                phone_hash: phone_hash.clone(),
                addr_hash: addr_hash.clone(),
                window: *window,
            };
            done(vec![event], Reply::Appointment(code.clone()))
        }
        Command::CancelAppointment { code } => {
            let a = booked(state, code, now)?;
            done(vec![Event::AppointmentCancelled { code: a.code.clone() }], Reply::Appointment(code.clone()))
        }
        Command::CheckInAppointment { code, id, kiosk } => {
            let a = booked(state, code, now)?;
            let policy = state.setup.appointments.as_ref().ok_or(Rejection::NoAppointments)?;
            if a.day != state.setup.day_of(now) {
                return Err(Rejection::NotToday(a.day.to_string()));
            }
            // Within grace it waits in the appointment queue, due at its slot (for its named
            // window, if any); after it, it is an ordinary ticket of its service's queue.
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
            let checked_in = Event::AppointmentCheckedIn { code: code.clone(), ticket: *id, late };
            done(vec![checked_in, issued], Reply::Ticket(*id))
        }
        Command::CancelTicket { id } => {
            let t = state.ticket(id).ok_or(Rejection::UnknownTicket)?;
            next_status(t.status, TicketAction::Cancel).ok_or(Rejection::NotWaiting(t.status.as_str()))?;
            done(vec![Event::TicketCancelled { id: *id }], Reply::Ticket(*id))
        }
        Command::RateTicket { id, score, comment, reason } => {
            let event = rating::decide_rate(state, id, *score, reason.as_deref(), comment.as_deref(), now)?;
            done(vec![event], Reply::Ticket(*id))
        }
        Command::RejoinTicket { id } => {
            let t = state.ticket(id).ok_or(Rejection::UnknownTicket)?;
            next_status(t.status, TicketAction::Rejoin).ok_or(Rejection::NotMissed(t.status.as_str()))?;
            let limit = state.setup.dispatch.rejoin_min;
            let missed_at = t.finished_at.unwrap_or(now);
            if limit == 0 || now.since_ms(missed_at) > u64::from(limit) * 60_000 {
                return Err(Rejection::RejoinExpired(limit));
            }
            done(vec![Event::TicketRejoined { id: *id }], Reply::Ticket(*id))
        }
        Command::OpenWindow { window, clerk } => {
            let w = state.window(window).ok_or_else(|| Rejection::UnknownWindow(window.to_string()))?;
            match &w.clerk {
                Some(c) if c == clerk => return done(Vec::new(), Reply::Window(*window)),
                Some(_) => return Err(Rejection::WindowTaken(window.to_string())),
                None => {}
            }
            if let Some(other) = state.windows.values().find(|o| o.clerk.as_ref() == Some(clerk)) {
                return Err(Rejection::ClerkElsewhere(other.id.to_string()));
            }
            let event = Event::WindowOpened { window: *window, clerk: clerk.clone() };
            done(vec![event], Reply::Window(*window))
        }
        Command::CallNext { window, clerk } => {
            let w = signed_in(state, window, clerk)?;
            idle(w)?;
            match state.index.choose(&state.setup, w, now) {
                Some((id, rule)) => {
                    let event = Event::TicketCalled { window: *window, id, rule };
                    done(vec![event], Reply::MaybeTicket(Some(id)))
                }
                None => done(Vec::new(), Reply::MaybeTicket(None)),
            }
        }
        Command::CallNumber { window, clerk, number, reason } => {
            let w = signed_in(state, window, clerk)?;
            idle(w)?;
            let id = by_number(state, window, number)?;
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > CALL_REASON_CHARS_MAX {
                return Err(Rejection::CallReasonRequired);
            }
            let rule = CallRule::ByNumber { clerk: clerk.clone(), reason: reason.to_string() };
            let event = Event::TicketCalled { window: *window, id, rule };
            done(vec![event], Reply::MaybeTicket(Some(id)))
        }
        Command::Recall { window, clerk } => {
            let id = held(state, window, clerk, TicketAction::Recall)?;
            let max = state.setup.dispatch.recall_max;
            if state.ticket(&id).is_some_and(|t| t.recalls >= max) {
                return Err(Rejection::RecallLimit(max));
            }
            done(vec![Event::TicketRecalled { window: *window, id }], Reply::Ticket(id))
        }
        Command::Serve { window, clerk } => {
            let id = held(state, window, clerk, TicketAction::Serve)?;
            done(vec![Event::TicketServing { window: *window, id }], Reply::Ticket(id))
        }
        Command::Done { window, clerk, outcome } => {
            let id = held(state, window, clerk, TicketAction::Finish)?;
            let more_steps = state.ticket(&id).is_some_and(|t| t.step + 1 < t.steps.len());
            let event = if more_steps && *outcome == Outcome::Completed {
                Event::TicketStepDone { window: *window, id }
            } else {
                Event::TicketDone { window: *window, id, outcome: *outcome }
            };
            done(vec![event], Reply::Ticket(id))
        }
        Command::NoShow { window, clerk } => {
            let id = held(state, window, clerk, TicketAction::NoShow)?;
            done(vec![Event::TicketNoShow { window: *window, id }], Reply::Ticket(id))
        }
        Command::Transfer { window, clerk, to } => {
            let id = held(state, window, clerk, TicketAction::Transfer)?;
            match to {
                TransferTarget::Queue(q) if state.setup.queue(q).is_none() => {
                    return Err(Rejection::UnknownQueue(q.to_string()));
                }
                TransferTarget::Window(w) if state.window(w).is_none() => {
                    return Err(Rejection::UnknownWindow(w.to_string()));
                }
                TransferTarget::Window(w) if w == window => return Err(Rejection::TransferToSelf),
                // A ticket sent to a closed window would wait for it all day: send it to a
                // queue instead, or open that window first.
                TransferTarget::Window(w) if state.window(w).is_some_and(|t| t.state == WindowState::Closed) => {
                    return Err(Rejection::WindowClosed(w.to_string()));
                }
                TransferTarget::Queue(_) | TransferTarget::Window(_) => {}
            }
            let event = Event::TicketTransferred { window: *window, id, to: to.clone() };
            done(vec![event], Reply::Ticket(id))
        }
        Command::Park { window, clerk } => {
            let id = held(state, window, clerk, TicketAction::Park)?;
            let max = state.setup.dispatch.park_max;
            if state.window(window).is_some_and(|w| w.parked.len() >= max as usize) {
                return Err(Rejection::ParkFull(window.to_string(), max));
            }
            done(vec![Event::TicketParked { window: *window, id }], Reply::Ticket(id))
        }
        Command::Unpark { window, clerk, id } => {
            let w = signed_in(state, window, clerk)?;
            if !w.parked.contains(id) {
                return Err(Rejection::NotParkedHere(window.to_string()));
            }
            idle(w)?;
            let event = Event::TicketCalled { window: *window, id: *id, rule: CallRule::Unparked };
            done(vec![event], Reply::Ticket(*id))
        }
        Command::Pause { window, clerk } => {
            let w = signed_in(state, window, clerk)?;
            if w.state == WindowState::Paused {
                return done(Vec::new(), Reply::Window(*window));
            }
            idle(w)?;
            done(vec![Event::WindowPaused { window: *window }], Reply::Window(*window))
        }
        Command::Resume { window, clerk } => {
            let w = signed_in(state, window, clerk)?;
            if w.state != WindowState::Paused {
                return Err(Rejection::NotPaused(window.to_string()));
            }
            done(vec![Event::WindowResumed { window: *window }], Reply::Window(*window))
        }
        Command::Close { window, clerk } => {
            let w = signed_in(state, window, clerk)?;
            if w.ticket.is_some() {
                return Err(Rejection::WindowBusy(window.to_string()));
            }
            if !w.parked.is_empty() {
                return Err(Rejection::ParkedTickets(window.to_string()));
            }
            // Tickets sent here by name would wait all day for a closed window: back to
            // their queues, at their places.
            let mut events = super::window_admin::untie(state, w, false);
            events.push(Event::WindowClosed { window: *window });
            done(events, Reply::Window(*window))
        }
        Command::Tick => done(super::alerts::evaluate(state, now), Reply::Nothing),
        Command::PrinterReport { kiosk, fault } => {
            done(super::alerts::printer_report(state, *kiosk, *fault), Reply::Nothing)
        }
        Command::AckAlert { id, by } => {
            let today = state.alerts.of_day(state.day);
            let a = today.iter().find(|a| a.id == *id).ok_or(Rejection::UnknownAlert)?;
            // Acknowledged already: the first acknowledgement stands, and this one is
            // answered like it.
            let events = if a.acked_by.is_some() {
                Vec::new()
            } else {
                vec![Event::AlertAcknowledged { id: *id, by: by.clone() }]
            };
            done(events, Reply::Alert(*id))
        }
        Command::CaseCallback { case, by, reached, note } => {
            let event = rating::decide_callback(state, case, by, *reached, note)?;
            done(vec![event], Reply::Case(case.clone()))
        }
        Command::RectifyCase { case, by, note } => {
            let event = rating::decide_rectify(state, case, by, note)?;
            done(vec![event], Reply::Case(case.clone()))
        }
        Command::LogIn { user } => done(state.staff.log_in(user)?, Reply::Nothing),
        Command::LogOut { user } => done(state.staff.log_out(user), Reply::Nothing),
        Command::DisableUser { name, by } => {
            let mut events = state.staff.disable(name, by)?;
            events.extend(super::window_admin::close_windows_of(state, name, by));
            done(events, Reply::Nothing)
        }
        Command::EnableUser { name, by } => done(state.staff.enable(name, by), Reply::Nothing),
        Command::AddUser { name, role, password_hash, by } => {
            done(state.staff.add(name, *role, password_hash, by)?, Reply::Nothing)
        }
        Command::ResetPassword { name, password_hash, by } => {
            done(state.staff.reset_password(name, password_hash, by), Reply::Nothing)
        }
        Command::SetWindowQueues { window, queues, by } => {
            done(super::window_admin::set_queues(state, window, queues, by)?, Reply::Window(*window))
        }
        Command::ForceCloseWindow { window, by } => {
            done(super::window_admin::force_close(state, window, by)?, Reply::Window(*window))
        }
        Command::Reconcile => done(super::reconcile::decide(state)?, Reply::Nothing),
    }
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
    // The appointment queue is for bookings checked in on time: a walk-in there would never
    // be due, and a booked visitor who took one would never be checked in.
    let joins = how.queue.unwrap_or(queue);
    if !how.booked && setup.appointments.as_ref().is_some_and(|p| p.queue == joins) {
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
    super::eta::promise(spot?, forecast.now)
}

/// The window, if `clerk` is signed in at it.
fn signed_in<'a>(state: &'a HallState, window: &WindowId, clerk: &UserName) -> Result<&'a Window, Rejection> {
    let w = state.window(window).ok_or_else(|| Rejection::UnknownWindow(window.to_string()))?;
    if w.state == WindowState::Closed {
        return Err(Rejection::WindowClosed(window.to_string()));
    }
    if w.clerk.as_ref() != Some(clerk) {
        return Err(Rejection::NotYourWindow(window.to_string()));
    }
    Ok(w)
}

/// Today's waiting ticket numbered `number` (`a012` reads as `A012`), if `window` may
/// call it. A rare manual action, so a scan of today's tickets is fine here.
fn by_number(state: &HallState, window: &WindowId, number: &str) -> Result<TicketId, Rejection> {
    let wanted = number.trim().to_ascii_uppercase();
    let t = state
        .tickets
        .values()
        .find(|t| t.number.to_string() == wanted)
        .ok_or_else(|| Rejection::UnknownNumber(wanted.chars().take(16).collect()))?;
    next_status(t.status, TicketAction::Call).ok_or(Rejection::NotWaiting(t.status.as_str()))?;
    // A ticket sent to a window that is closed (an appointment checked in before its
    // window opened) may be called by number elsewhere, so that it never waits for a
    // window that does not come.
    let closed = |w: &WindowId| state.window(w).is_none_or(|w| w.state == WindowState::Closed);
    match &t.target_window {
        Some(w) if w != window && !closed(w) => Err(Rejection::WaitsElsewhere(w.to_string())),
        Some(_) | None => Ok(t.id),
    }
}

/// Refuses unless the window is open and holds no ticket.
fn idle(w: &Window) -> Result<(), Rejection> {
    match w.state {
        WindowState::Open => Ok(()),
        WindowState::Paused => Err(Rejection::WindowPaused(w.id.to_string())),
        WindowState::Calling | WindowState::Serving => Err(Rejection::WindowBusy(w.id.to_string())),
        WindowState::Closed => Err(Rejection::WindowClosed(w.id.to_string())),
    }
}

/// The ticket the clerk's window holds, if `action` is legal for it now.
fn held(state: &HallState, window: &WindowId, clerk: &UserName, action: TicketAction) -> Result<TicketId, Rejection> {
    let w = signed_in(state, window, clerk)?;
    let id = w.ticket.as_ref().ok_or_else(|| Rejection::NoTicket(window.to_string()))?;
    let t = state.ticket(id).expect("a window's ticket exists");
    next_status(t.status, action).ok_or(Rejection::WrongTicketState(t.status.as_str()))?;
    Ok(*id)
}
