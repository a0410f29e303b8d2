//! Ticket printers at the edge: printing a ticket a kiosk has just issued (after the
//! answer is decided, never holding it up), a kiosk's reprint, a kiosk reading its own
//! printer's status and supervisors reading every printer's. The wire shapes of printer
//! status live here; the printers themselves in `crate::printer`.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;

use super::dto::TicketDto;
use super::error::ApiError;
use super::tickets::{parse_id, visitor_status_url};
use super::{auth, idempotency_key, AppState};
use crate::config::Role;
use crate::core::setup::Setup;
use crate::engine::TicketView;
use crate::printer::paper::paper_of;
use crate::printer::ticket::render;
use crate::printer::{Health, PrinterView, Queued};
use crate::time::rfc3339;

/// What became of a ticket's print-out, in the answer that issued it.
#[derive(Serialize, Debug)]
pub struct PrintDto {
    /// `queued` (sent to the printer's queue), `not_queued` (the queue was full) or
    /// `repeat` (a repeated request: printed the first time).
    pub status: &'static str,
    /// What the printer last said of itself (`unknown`, `ok`, `paper_low`, `paper_out`,
    /// `cover_open`, `offline`): a fault means this ticket will not come out either.
    pub printer: &'static str,
}

/// A ticket as a kiosk gets it when it issues one: the ticket, and its print-out when
/// the kiosk has a printer.
#[derive(Serialize)]
pub struct IssuedDto {
    #[serde(flatten)]
    pub ticket: TicketDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub print: Option<PrintDto>,
}

#[derive(Serialize)]
pub struct LastJobDto {
    pub ticket: String,
    pub printed: bool,
    pub at: String,
}

#[derive(Serialize)]
pub struct PrinterDto {
    pub kiosk: String,
    pub kiosk_name: String,
    pub address: String,
    pub width_chars: u16,
    pub status: &'static str,
    /// Whether a ticket sent now would not come out.
    pub fault: bool,
    pub since: Option<String>,
    pub checked_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub printed: u64,
    pub failed: u64,
    pub last_job: Option<LastJobDto>,
}

impl PrinterDto {
    fn new(setup: &Setup, v: PrinterView) -> Self {
        let time = |at: Option<crate::core::model::Ts>| at.map(|at| rfc3339(setup, at));
        let st = v.state;
        Self {
            kiosk: v.kiosk,
            kiosk_name: v.kiosk_name,
            address: v.def.address(),
            width_chars: v.def.width_chars,
            status: st.health.as_str(),
            fault: st.health.is_fault(),
            since: time(st.since),
            checked_at: time(st.checked_at),
            last_error: st.last_error,
            last_error_at: time(st.last_error_at),
            printed: st.printed,
            failed: st.failed,
            last_job: st.last_job.map(|j| LastJobDto {
                ticket: j.ticket.to_string(),
                printed: j.printed,
                at: rfc3339(setup, j.at),
            }),
        }
    }
}

/// Renders ticket `v` and hands it to `kiosk`'s printer.
fn send(app: &AppState, kiosk: &str, headers: &HeaderMap, v: &TicketView, reprint: bool) -> Option<PrintDto> {
    let def = app.hall.printers.def(kiosk)?;
    let id = v.ticket.id;
    let url = visitor_status_url(app, headers, &id);
    let mut paper = paper_of(&app.hall.config.setup, &v.ticket, v.eta, url, reprint);
    paper.line = v.enterprise.as_ref().map(|tag| super::ticket_line::line_words(tag, &v.ticket));
    let bytes = render(&paper, def.width_chars);
    let (queued, health) = app.hall.printers.submit(kiosk, id, bytes)?;
    let status = match queued {
        Queued::Queued => "queued",
        Queued::Full => "not_queued",
    };
    Some(PrintDto { status, printer: health.as_str() })
}

/// After a kiosk issued or checked in ticket `v`: prints it when the kiosk has a printer,
/// once — a repeated request (the same idempotency key) prints only if the first never
/// reached the printer (its caller went away before the answer).
pub(super) fn after_issue(
    app: &AppState,
    kiosk: &str,
    headers: &HeaderMap,
    v: &TicketView,
    repeated: bool,
) -> Option<PrintDto> {
    if repeated && app.hall.printers.printed_here(kiosk, &v.ticket.id) {
        let health = app.hall.printers.view(kiosk).map_or(Health::Unknown, |v| v.state.health);
        return Some(PrintDto { status: "repeat", printer: health.as_str() });
    }
    send(app, kiosk, headers, v, false)
}

#[derive(Serialize)]
pub struct ReprintDto {
    pub ticket: TicketDto,
    pub print: PrintDto,
}

/// `POST /api/v1/tickets/{id}/print`: the kiosk prints one of its own waiting tickets of
/// today again (a jammed or torn print-out), marked as a reprint.
pub async fn reprint(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ReprintDto>, ApiError> {
    let kiosk = auth::kiosk(&app, &headers)?;
    if app.hall.printers.def(&kiosk.id).is_none() {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "no_printer",
            "this kiosk has no printer; add `printer = \"host:9100\"` to its [[kiosk]] table",
        ));
    }
    app.edge
        .limits
        .for_kiosk(&kiosk.id)
        .take(&kiosk.id, app.now().0)
        .map_err(|ms| ApiError::too_many("from this kiosk", ms))?;
    let ticket = parse_id(&id)?;
    let key = idempotency_key(&headers, None, "reprint")?;
    if !app.hall.printers.printed_here(&kiosk.id, &ticket) {
        return Err(ApiError::not_found("unknown_ticket", "this kiosk printed no such ticket today"));
    }
    let view = app.hall.engine.try_read(move |r| r.known_ticket(&ticket)).await?;
    let t = TicketDto::new(&app.hall.config, &view);
    if t.status != "waiting" {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "not_waiting",
            format!("the ticket is {}; only a waiting ticket is printed again", t.status),
        ));
    }
    if let Some(key) = key {
        if !app.hall.printers.claim_key(&kiosk.id, &format!("{ticket}:{key}")) {
            let health = app.hall.printers.view(&kiosk.id).map_or(Health::Unknown, |v| v.state.health);
            return Ok(Json(ReprintDto { ticket: t, print: PrintDto { status: "repeat", printer: health.as_str() } }));
        }
    }
    let print = send(&app, &kiosk.id, &headers, &view, true)
        .ok_or_else(|| ApiError::internal("a reprint found no printer", &"the printer went away"))?;
    Ok(Json(ReprintDto { ticket: t, print }))
}

/// `GET /api/v1/kiosk/printer`: the calling kiosk's printer, or null when it has none.
pub async fn kiosk_printer(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let kiosk = auth::kiosk(&app, &headers)?;
    let printer = app.hall.printers.view(&kiosk.id).map(|v| PrinterDto::new(&app.hall.config.setup, v));
    Ok(Json(serde_json::json!({ "kiosk": kiosk.id, "printer": printer })))
}

/// `GET /api/v1/printers`: every kiosk's printer with its status, for supervisors.
pub async fn list(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<serde_json::Value>, ApiError> {
    auth::user(&app, &headers, &[Role::Supervisor, Role::Admin])?;
    let printers: Vec<PrinterDto> =
        app.hall.printers.all().into_iter().map(|v| PrinterDto::new(&app.hall.config.setup, v)).collect();
    Ok(Json(serde_json::json!({ "printers": printers })))
}
