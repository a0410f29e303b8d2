//! `decide`: what a command does to the hall (the events to log and the caller's answer),
//! or why the hall refuses it. It only reads the state; `HallState::apply` does the rest.
//!
//! One arm per command, each a call: a visitor's ticket and bookings in `ticket.rs`, a
//! clerk's window in `window.rs`, supervision and staff here, beside the checks they share.

mod moves;
mod ticket;
mod window;

use super::command::{Command, Envelope, Rejection, Reply};
use super::event::Event;
use super::fingerprint::fingerprint;
use super::hall::{Decision, HallState};
use super::model::{TicketId, Ts, UserName, Window, WindowId, WindowState};
use super::transitions::{next_status, TicketAction};
use super::{enterprise, escalation, guide, rating, referral};

pub(crate) use moves::follow_up;
// Store-next must not idle (issue 17, the follow-up's point 1).
pub(crate) use moves::{armed_idle, call_armed};
pub use ticket::PROMISE_WAITING_MAX;
pub(crate) use ticket::{issue_event, issue_to};

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
    match &env.command {
        Command::IssueTicket { id, service, priority, kiosk, remote } => {
            ticket::issue(state, id, service, priority.as_deref(), kiosk, *remote, now)
        }
        Command::CheckInTicket { id } => ticket::check_in(state, id),
        Command::BookAppointment { code, service, day, slot, phone_hash, addr_hash, window } => {
            ticket::book(state, code, service, (*day, *slot), (phone_hash, addr_hash.as_deref()), window.as_ref(), now)
        }
        Command::CancelAppointment { code } => ticket::cancel_booking(state, code, now),
        Command::CheckInAppointment { code, id, kiosk } => ticket::check_in_booking(state, code, id, kiosk, now),
        Command::CancelTicket { id } => ticket::cancel(state, id),
        Command::RateTicket { id, score, comment, reason } => {
            ticket::rate(state, id, *score, reason.as_deref(), comment.as_deref(), now)
        }
        Command::RejoinTicket { id } => ticket::rejoin(state, id, now),
        Command::OpenWindow { window, clerk } => window::open(state, window, clerk),
        Command::CallNext { window, clerk } => window::call_next(state, window, clerk, now),
        Command::CallNumber { window, clerk, number, reason } => {
            window::call_number(state, window, clerk, number, reason)
        }
        Command::Recall { window, clerk } => window::recall(state, window, clerk),
        Command::Serve { window, clerk } => window::serve(state, window, clerk),
        Command::Done { window, clerk, outcome } => window::finish(state, window, clerk, *outcome),
        Command::NoShow { window, clerk } => window::no_show(state, window, clerk),
        Command::Escalate { window, clerk, reason, note } => {
            escalation::decide_escalate(state, window, clerk, reason, note.as_deref(), now)
        }
        Command::EscalationCallback { case, by, reached, note } => {
            escalation::decide_callback(state, case, by, *reached, note)
        }
        Command::ResolveEscalation { case, by, note, refer_to } => {
            escalation::decide_resolve(state, case, by, note, refer_to.as_deref())
        }
        Command::Transfer { window, clerk, to } => window::transfer(state, window, clerk, to),
        Command::Park { window, clerk } => window::park(state, window, clerk),
        Command::Unpark { window, clerk, id } => window::unpark(state, window, clerk, id),
        Command::Pause { window, clerk, reason } => window::pause(state, window, clerk, reason.as_deref()),
        Command::Resume { window, clerk } => window::resume(state, window, clerk),
        Command::Close { window, clerk } => window::close(state, window, clerk),
        Command::Tick => done(tick(state, now), Reply::Nothing),
        Command::PrinterReport { kiosk, fault } => {
            done(super::alerts::printer_report(state, *kiosk, *fault), Reply::Nothing)
        }
        Command::AckAlert { id, by } => ack_alert(state, *id, by),
        Command::CaseCallback { case, by, reached, note } => {
            done(vec![rating::decide_callback(state, case, by, *reached, note)?], Reply::Case(case.clone()))
        }
        Command::RectifyCase { case, by, note } => {
            done(vec![rating::decide_rectify(state, case, by, note)?], Reply::Case(case.clone()))
        }
        Command::LogIn { user, session_ms } => done(state.staff.log_in(user, *session_ms)?, Reply::Nothing),
        Command::LogOut { user, elsewhere } => done(state.staff.log_out(user, *elsewhere), Reply::Nothing),
        Command::DisableUser { name, by } => disable_user(state, name, by),
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
        // 全程领办 (issue 17 §1): guides and escorts.
        Command::IssueAssisted { id, service, priority, guide: g, escort } => {
            guide::decide_assisted(state, id, (service, priority.as_deref()), g, *escort, now)
        }
        Command::Escort { number, guide: g } => guide::decide_escort(state, number, g),
        Command::ReleaseEscort { number, guide: g } => guide::decide_release(state, number, g),
        // Issue 17 §4, the clerk's moves (`moves.rs`).
        Command::ArmStoreNext { window, clerk, armed } => moves::arm(state, window, clerk, *armed),
        Command::DoneAndNext { window, clerk, outcome } => moves::done_and_next(state, window, clerk, *outcome),
        Command::WalkDirect { window, clerk, id, service } => {
            moves::walk_direct(state, window, clerk, id, service, now)
        }
        Command::IssueForPerson { id, service, priority, kiosk, person, remote } => {
            moves::issue_for_person(state, id, (service, priority.as_deref(), *remote), kiosk, person, now)
        }
        // 助企服务 (issue 17 §3).
        Command::IssueEnterpriseTicket { id, service, kiosk, enterprise } => {
            enterprise::decide_issue(state, id, service, kiosk, enterprise, now)
        }
        Command::AddEnterprise { enterprise, by } => enterprise::decide_add(state, enterprise, by),
        Command::SetSpecialist { enterprise: e, specialist, by } => {
            enterprise::decide_specialist(state, e, specialist, by)
        }
        Command::AddFollowUp { enterprise: e, kind, date, note, by } => {
            enterprise::decide_follow_up(state, e, (*kind, *date), note, by, now)
        }
        // 跨中心转办 (issue 18).
        Command::Refer { window, clerk, to } => referral::decide_refer(state, window, clerk, to),
        Command::AcceptReferral { id, service, priority, origin } => {
            referral::decide_accept(state, id, (service, priority.as_deref()), origin, now)
        }
        Command::WithdrawReferral { from_hall, reference, ticket } => {
            referral::decide_withdraw(state, from_hall, reference, ticket.as_ref())
        }
    }
}

/// A decision to log `events` and answer `reply` (not a repeat of an earlier command).
fn done(events: Vec<Event>, reply: Reply) -> Result<Decision, Rejection> {
    Ok(Decision { events, reply, repeated: false })
}

/// A supervisor acknowledges one of today's alerts. Acknowledged already: the first
/// acknowledgement stands, and this one is answered like it.
fn ack_alert(state: &HallState, id: u64, by: &UserName) -> Result<Decision, Rejection> {
    let today = state.alerts.of_day(state.day);
    let a = today.iter().find(|a| a.id == id).ok_or(Rejection::UnknownAlert)?;
    let events = if a.acked_by.is_some() { Vec::new() } else { vec![Event::AlertAcknowledged { id, by: by.clone() }] };
    done(events, Reply::Alert(id))
}

/// An admin disables a user, whose open windows close with them.
fn disable_user(state: &HallState, name: &UserName, by: &UserName) -> Result<Decision, Rejection> {
    let mut events = state.staff.disable(name, by)?;
    events.extend(super::window_admin::close_windows_of(state, name, by));
    done(events, Reply::Nothing)
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
pub(crate) fn held(
    state: &HallState,
    window: &WindowId,
    clerk: &UserName,
    action: TicketAction,
) -> Result<TicketId, Rejection> {
    let w = signed_in(state, window, clerk)?;
    let id = w.ticket.as_ref().ok_or_else(|| Rejection::NoTicket(window.to_string()))?;
    let t = state.ticket(id).expect("a window's ticket exists");
    next_status(t.status, action).ok_or(Rejection::WrongTicketState(t.status.as_str()))?;
    Ok(*id)
}

/// What the engine's tick decides: the supervision alerts, then (issue 17 follow-up point
/// 2) the personal lines of specialists' windows paused past the hall's hold.
fn tick(state: &HallState, now: Ts) -> Vec<Event> {
    let mut events = super::alerts::evaluate(state, now);
    events.extend(enterprise::paused_returns(state, now));
    events
}
