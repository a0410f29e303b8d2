//! The clerk's moves of issue 17 §4 at the edge (`core::clerk_moves`): the window actions
//! `store-next` (arm or disarm), `done-next` (finish and call the next in one command)
//! and `walk-direct` (a walk-up's ticket to the clerk's own window), reached through
//! `windows::act` and so under its role checks; and the kiosk's per-person limits: the ID
//! card number read at the kiosk, checked (GB 11643) and turned into a keyed hash here,
//! and passed on as nothing else. The number is never logged, stored or answered.

use axum::response::{IntoResponse, Response};
use axum::Json;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::dto::TicketDto;
use super::error::ApiError;
use super::AppState;
use crate::core::model::{Outcome, TicketId, UserName, WindowId};
use crate::core::stats::Figures;
use crate::core::{answer, Command, Envelope};

/// The longest service code a walk-direct may name, in characters (the catalogue's codes
/// are far shorter).
pub const SERVICE_CHARS_MAX: usize = 64;
/// The length of a resident ID number (居民身份证号码, GB 11643-1999).
pub const ID_CARD_CHARS: usize = 18;
/// Bytes of the keyed hash that stands for an ID number: 128 bits, no collision in any
/// hall's lifetime, and no way back to the number without the hall's key.
const PERSON_HASH_BYTES: usize = 16;

/// `done-next`'s answer: the ticket finished, and the ticket called next (null when
/// nobody waits).
#[derive(Serialize)]
struct DoneNextDto {
    done: TicketDto,
    next: Option<TicketDto>,
}

/// The day's figures of the clerk's moves, flattened into `/api/v1/stats`' figures.
#[derive(Serialize)]
pub struct MovesDto {
    /// Calls store-next made in the step that let a ticket go.
    pub store_next_calls: u64,
    /// Tickets clerks issued to their own window for a walk-up.
    pub walk_direct: u64,
    /// Tickets issued under the per-person limits, an ID card read at the kiosk.
    pub id_checked: u64,
}

impl From<&Figures> for MovesDto {
    fn from(f: &Figures) -> Self {
        Self { store_next_calls: f.store_next_calls, walk_direct: f.walk_direct, id_checked: f.id_checked }
    }
}

/// The catalogue's `limits` part: whether the kiosk reads an ID card, and the limits.
pub fn catalog_limits(setup: &crate::core::setup::Setup) -> serde_json::Value {
    let l = &setup.person_limits;
    serde_json::json!({
        "id_card": l.on(),
        "tickets_per_person_per_day": l.tickets_per_day,
        "no_shows_before_wait": l.no_shows_before_wait,
        "no_show_wait_minutes": l.no_shows_before_wait.map(|_| l.no_show_wait_min),
    })
}

/// `store-next`'s command: the body must say `{"armed": true}` or `{"armed": false}`.
pub fn arm(window: WindowId, clerk: UserName, armed: Option<bool>) -> Result<Command, ApiError> {
    let armed = armed.ok_or_else(|| {
        ApiError::bad_request(
            "bad_store_next",
            "say {\"armed\": true} to arm store-next or {\"armed\": false} to disarm",
        )
    })?;
    Ok(Command::ArmStoreNext { window, clerk, armed })
}

/// `walk-direct`'s command, with a fresh ticket id.
pub fn walk_direct(window: WindowId, clerk: UserName, service: Option<String>) -> Result<Command, ApiError> {
    let service = service.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let service = service.filter(|s| s.chars().count() <= SERVICE_CHARS_MAX).ok_or_else(|| {
        ApiError::bad_request("bad_walk_direct", "name the item: {\"service\": \"<item code from /api/v1/services>\"}")
    })?;
    Ok(Command::WalkDirect { window, clerk, id: super::tickets::new_ticket_id(), service })
}

/// `done-next`: finishes the window's ticket and calls the next in one command; answers
/// both. The next is the window's ticket after the step (store-next's call).
pub async fn done_next(
    app: &AppState,
    window: WindowId,
    clerk: UserName,
    outcome: Outcome,
    key: Option<String>,
) -> Result<Response, ApiError> {
    let command = Command::DoneAndNext { window, clerk, outcome };
    let done = app
        .hall
        .engine
        .command_for::<answer::Ticket, _>(Envelope { command, idempotency_key: key }, move |r, id| {
            let finished = r.known_ticket(&id)?;
            let next = r.known_window(&window)?.ticket.filter(|t| t.ticket.id != finished.ticket.id);
            Ok((finished, next))
        })
        .await?;
    let config = &app.hall.config;
    let (finished, next) = done.value;
    let dto = DoneNextDto { done: TicketDto::new(config, &finished), next: next.map(|t| TicketDto::new(config, &t)) };
    Ok(Json(dto).into_response())
}

/// The kiosk's command for a ticket: under the per-person limits (when `[hall.limits]`
/// has them) the ID card number is required, checked and replaced by its keyed hash.
/// Without limits an ID number is not asked for, and one sent is dropped unread.
pub fn issue_command(
    app: &AppState,
    id: TicketId,
    (service, priority): (String, Option<String>),
    kiosk: String,
    remote: bool,
    id_card: Option<&str>,
) -> Result<Command, ApiError> {
    if !app.hall.config.setup.person_limits.on() {
        return Ok(Command::IssueTicket { id, service, priority, kiosk, remote });
    }
    let number = id_card.map(checked_id_card).transpose()?.ok_or_else(|| {
        ApiError::bad_request("id_card_required", "this hall limits tickets per person: read the ID card first")
    })?;
    let person = person_hash(&app.edge.phone_key, &number);
    Ok(Command::IssueForPerson { id, service, priority, kiosk, person, remote })
}

/// An 18-character resident ID number (GB 11643-1999) with a right check character, as a
/// reader types it (spaces around it, a lower-case x); the error never repeats it.
pub fn checked_id_card(raw: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "bad_id_card",
            "that is not a valid ID card number (18 characters, the last a check digit or X); read the card again",
        )
    };
    let s = raw.trim().to_ascii_uppercase();
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != ID_CARD_CHARS {
        return Err(bad());
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let mut sum = 0u32;
    for (c, w) in chars.iter().zip(WEIGHTS) {
        sum += c.to_digit(10).ok_or_else(bad)? * w;
    }
    let check = CHECK.get((sum % 11) as usize).copied();
    if chars.last().copied() != check {
        return Err(bad());
    }
    Ok(s)
}

/// The keyed hash that stands for an ID number in the log: the same person gets the same
/// hash all day; without the hall's key nobody gets from it to the number. A key of its
/// own, derived from the phone-hash key, so the two hashes never share inputs.
pub fn person_hash(key: &[u8; 32], number: &str) -> String {
    let hex = |bytes: &[u8]| bytes.iter().take(PERSON_HASH_BYTES).map(|b| format!("{b:02x}")).collect::<String>();
    let Ok(mut derive) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    derive.update(b"hallq person key v1");
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&derive.finalize().into_bytes()) else { return String::new() };
    mac.update(number.as_bytes());
    hex(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_character_of_gb_11643_is_checked() {
        // The standard's own example number, and a number ending in X.
        assert!(checked_id_card("11010519491231002X").is_ok());
        assert!(checked_id_card(" 11010519491231002x ").is_ok());
        assert!(checked_id_card("110105194912310021").is_err());
        assert!(checked_id_card("440524188001010014").is_ok());
        assert!(checked_id_card("440524188001010015").is_err());
        assert!(checked_id_card("44052418800101001").is_err());
        assert!(checked_id_card("4405241880010100１4").is_err());
    }
}

// Per-person refusals counted (issue 17 follow-up point 4).

/// Today's refusals under the per-person limits since the daemon started. A refusal
/// changes nothing in the log, so the figures folded from it cannot hold them: the edge
/// counts them as it answers, and a restart starts again from 0.
#[derive(Default)]
pub struct PersonRefusals(std::sync::Mutex<Option<(chrono::NaiveDate, PersonsDto)>>);

/// `/api/v1/stats` with `persons`, kept beside the figures' wire type rather than in it:
/// the refusals are the edge's count, not the log's.
#[derive(Serialize)]
pub struct StatsWithPersons {
    #[serde(flatten)]
    pub stats: super::dto::StatsDto,
    /// Today's per-person refusals since the daemon started; null for other days and
    /// without per-person limits.
    pub persons: Option<PersonsDto>,
}

/// `stats.persons` of `/api/v1/stats`: today's per-person refusals since the start.
#[derive(Clone, Copy, Default, Serialize)]
pub struct PersonsDto {
    /// Refused: the person's tickets for the day were taken (`person_daily_limit`).
    pub refused_daily_limit: u64,
    /// Refused: the wait after the person's no-shows (`person_must_wait`).
    pub refused_must_wait: u64,
}

impl PersonRefusals {
    /// Counts one refusal on `day`; a new day starts from 0.
    fn count(&self, day: chrono::NaiveDate, must_wait: bool) {
        let mut guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.as_ref().is_none_or(|(d, _)| *d != day) {
            *guard = Some((day, PersonsDto::default()));
        }
        let Some((_, counts)) = guard.as_mut() else { return };
        if must_wait {
            counts.refused_must_wait += 1;
        } else {
            counts.refused_daily_limit += 1;
        }
    }

    /// The counts of `day`: zeros for any day but the one last counted.
    pub fn of(&self, day: chrono::NaiveDate) -> PersonsDto {
        let guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.filter(|(d, _)| *d == day).map(|(_, c)| c).unwrap_or_default()
    }
}

/// Counts a kiosk's refusal under the per-person limits, if `code` is one: on `/metrics`
/// by reason, and in today's `stats.persons`.
pub fn count_refusal(app: &AppState, code: &str) {
    let must_wait = match code {
        "person_daily_limit" => false,
        "person_must_wait" => true,
        _ => return,
    };
    let reason = if must_wait { "must_wait" } else { "daily_limit" };
    app.hall.metrics.person_refusals.with_label_values(&[reason]).inc();
    let day = app.hall.config.setup.day_of(app.now());
    app.edge.person_refusals.count(day, must_wait);
}
