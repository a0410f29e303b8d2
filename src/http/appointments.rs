//! Appointment endpoints (预约) and the check-in of remote tickets: anyone may list free
//! slots, book (with a phone number that is hashed here and never stored), read or cancel
//! a booking by its code; a kiosk checks a booking or a remote ticket in.

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use blake2::{Blake2b512, Digest};
use chrono::{NaiveDate, NaiveTime};
use rand::Rng;
use serde::{Deserialize, Serialize};

use std::net::IpAddr;

use super::dto::TicketDto;
use super::error::ApiError;
use super::rate::Client;
use super::tickets::{new_ticket_id, parse_id, ticket_command};
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::core::appointments::{is_open_day, CODE_CHARS_MAX};
use crate::core::model::WindowId;
use crate::core::{answer, Command, Envelope};
use crate::engine::AppointmentView;

/// Letters and digits of a booking code: no 0/O or 1/I/L, which people misread.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters of a booking code: 31^8 ≈ 8.5 × 10^11 codes, drawn from the OS's RNG.
const CODE_CHARS: usize = 8;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookBody {
    service: String,
    day: String,
    slot: String,
    phone: String,
    #[serde(default)]
    window: Option<String>,
    /// 助企服务: an enterprise's credit code, to book its specialist's window.
    #[serde(default)]
    credit_code: Option<String>,
}

#[derive(Deserialize)]
pub struct SlotsQuery {
    day: Option<String>,
}

#[derive(Serialize)]
struct SlotDto {
    slot: String,
    free: u32,
}

#[derive(Serialize)]
struct SlotsDto {
    day: String,
    /// A rest day or public holiday of `[hall.calendar]`: no slots, no bookings.
    closed: bool,
    slots: Vec<SlotDto>,
}

/// A booking on the wire: no phone number, not even its hash.
#[derive(Serialize)]
pub struct AppointmentDto {
    code: String,
    service: String,
    service_name: Option<String>,
    day: String,
    slot: String,
    window: Option<String>,
    /// `booked`, `checked_in`, `late`, `cancelled` or `missed`.
    status: &'static str,
    ticket: Option<TicketDto>,
}

fn appointment_dto(app: &AppState, view: &AppointmentView) -> AppointmentDto {
    let setup = &app.hall.config.setup;
    let a = &view.appointment;
    let service_name = setup
        .item(&a.service)
        .map(|i| i.name.clone())
        .or_else(|| setup.bundles.iter().find(|b| b.id.as_str() == a.service).map(|b| b.name.clone()));
    AppointmentDto {
        code: a.code.clone(),
        service: a.service.clone(),
        service_name,
        day: a.day.to_string(),
        slot: a.slot.format("%H:%M").to_string(),
        window: a.window.as_ref().map(ToString::to_string),
        status: view.status,
        ticket: view.ticket.as_ref().map(|t| TicketDto::new(&app.hall.config, t)),
    }
}

/// Carries out a command that replies with a booking, and renders that booking; also
/// whether the command repeated an earlier one.
async fn appointment_command(app: &AppState, env: Envelope) -> Result<(AppointmentDto, bool), ApiError> {
    let done = app.hall.engine.command_for::<answer::Appointment, _>(env, |r, code| r.known_appointment(&code)).await?;
    Ok((appointment_dto(app, &done.value), done.repeated))
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

fn parse_day(s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| bad("bad_day", "write the day as YYYY-MM-DD"))
}

/// A mainland mobile number: 11 digits starting with 1, spaces, dashes and a +86 prefix
/// allowed.
fn normalise_phone(s: &str) -> Result<String, ApiError> {
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = digits.strip_prefix("+86").unwrap_or(&digits);
    if digits.len() == 11 && digits.starts_with('1') && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits.to_string())
    } else {
        Err(bad("bad_phone", "give an 11-digit mobile number, e.g. 13800138000"))
    }
}

/// The keyed hash that stands for a phone number in the log: enough to hold one booking
/// per person per day, useless for finding the number without the hall's key.
fn phone_hash(key: &[u8], phone: &str) -> String {
    let mut h = Blake2b512::new();
    h.update(key);
    h.update(phone.as_bytes());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..CODE_CHARS).map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())])).collect()
}

fn code_of(s: &str) -> Result<String, ApiError> {
    let code = s.trim().to_ascii_uppercase();
    if code.is_empty() || code.len() > CODE_CHARS_MAX || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::not_found("unknown_appointment", "no such booking"));
    }
    Ok(code)
}

/// `GET /api/v1/appointments/slots?day=YYYY-MM-DD`: places left in each slot of a day.
pub async fn slots(State(app): State<AppState>, UrlQuery(q): UrlQuery<SlotsQuery>) -> Result<Response, ApiError> {
    let day = parse_day(q.day.as_deref().unwrap_or_default())?;
    if !is_open_day(&app.hall.config.setup, day) {
        return Ok(Json(SlotsDto { day: day.to_string(), closed: true, slots: Vec::new() }).into_response());
    }
    let list = app.hall.engine.try_read(move |r| r.slots(day)).await?;
    let slots = list.into_iter().map(|(t, free)| SlotDto { slot: t.format("%H:%M").to_string(), free }).collect();
    Ok(Json(SlotsDto { day: day.to_string(), closed: false, slots }).into_response())
}

/// The keyed hash that stands for a client address in the log, for the per-address
/// limits: an IPv6 address counts by its /64, like the rate limits. Keyed and
/// domain-separated from the phone hashes, so neither the address nor a link to a phone
/// can be read off the log without the hall's key.
fn addr_hash(key: &[u8], client: IpAddr) -> String {
    let mut h = Blake2b512::new();
    h.update(key);
    h.update(b"client-address:");
    h.update(client.to_string().as_bytes());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// `POST /api/v1/appointments`: books a slot.
pub async fn book(
    State(app): State<AppState>,
    client: Client,
    headers: HeaderMap,
    JsonBody(body): JsonBody<BookBody>,
) -> Result<(StatusCode, Json<AppointmentDto>), ApiError> {
    let day = parse_day(&body.day)?;
    let slot =
        NaiveTime::parse_from_str(body.slot.trim(), "%H:%M").map_err(|_| bad("bad_slot", "write the slot as HH:MM"))?;
    let phone = normalise_phone(&body.phone)?;
    let window = match (&body.window, &body.credit_code) {
        (_, Some(code)) => Some(super::enterprises::booking_window(&app, client.0, code).await?),
        (Some(w), None) => Some(WindowId::parse(w).map_err(|e| bad("bad_window", e.to_string()))?),
        (None, None) => None,
    };
    let phone_hash = phone_hash(&app.edge.phone_key, &phone);
    let key = idempotency_key(&headers, None, &format!("booking:{phone_hash}"))?;
    let addr_hash = Some(addr_hash(&app.edge.phone_key, client.0));
    let code = new_code();
    let command = Command::BookAppointment { code, service: body.service, day, slot, phone_hash, addr_hash, window };
    let (booking, repeated) = appointment_command(&app, Envelope { command, idempotency_key: key }).await?;
    let status = if repeated { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(booking)))
}

/// `GET /api/v1/appointments/{code}`.
pub async fn get(State(app): State<AppState>, Path(code): Path<String>) -> Result<Json<AppointmentDto>, ApiError> {
    let code = code_of(&code)?;
    let view = app.hall.engine.try_read(move |r| r.known_appointment(&code)).await?;
    Ok(Json(appointment_dto(&app, &view)))
}

/// `POST /api/v1/appointments/{code}/cancel`.
pub async fn cancel(
    State(app): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Json<AppointmentDto>, ApiError> {
    let code = code_of(&code)?;
    let key = idempotency_key(&headers, None, &format!("appointment:{code}"))?;
    let env = Envelope { command: Command::CancelAppointment { code }, idempotency_key: key };
    Ok(Json(appointment_command(&app, env).await?.0))
}

/// `POST /api/v1/appointments/{code}/check-in`: a kiosk turns a booking into a ticket.
pub async fn check_in(
    State(app): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<super::printers::IssuedDto>), ApiError> {
    let kiosk = auth::kiosk(&app, &headers)?.id.clone();
    let code = code_of(&code)?;
    let key = idempotency_key(&headers, None, &format!("kiosk:{kiosk}"))?;
    let command = Command::CheckInAppointment { code, id: new_ticket_id(), kiosk: kiosk.clone() };
    let (view, repeated) =
        super::tickets::ticket_command_view(&app, Envelope { command, idempotency_key: key }).await?;
    let status = if repeated { StatusCode::OK } else { StatusCode::CREATED };
    let ticket = super::tickets::for_visitor(&app, TicketDto::new(&app.hall.config, &view));
    // A booking checked in at a kiosk becomes a ticket there, printed like any other.
    let print = super::printers::after_issue(&app, &kiosk, &headers, &view, repeated);
    Ok((status, Json(super::printers::IssuedDto { ticket, print })))
}

/// `POST /api/v1/tickets/{id}/check-in`: a kiosk or the door checks a remote ticket in.
pub async fn check_in_ticket(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<TicketDto>, ApiError> {
    let kiosk = auth::kiosk(&app, &headers)?.id.clone();
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers, None, &format!("kiosk:{kiosk}"))?;
    let env = Envelope { command: Command::CheckInTicket { id }, idempotency_key: key };
    Ok(ticket_command(&app, env).await?.0)
}
