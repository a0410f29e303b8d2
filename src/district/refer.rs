//! The referring hall's end of a referral between halls (issue 18, 跨中心转办): its
//! daemon asks the target hall over NATS request/reply on the target's peer subject for
//! it (`hallq.hall.<to>.peer.<from>`, operation [`Op::Refer`]), as the district asks a hall
//! for a visitor on its cmd subject; the target answers through its own router (`cmd.rs`),
//! knowing the sender by the subject.
//!
//! One connection, made at the first referral and kept (NATS reconnects it); referrals
//! are a clerk's rare act, so at most [`IN_FLIGHT_MAX`] wait for an answer at once, each
//! at most [`REFER_WAIT`]. No answer in time (the target stopped, NATS down, no such
//! subscriber) is `503 hall_unreachable` and the origin decides nothing: its ticket stays
//! at the window. A target that did answer but whose answer was lost decided once; the
//! retry carries the same idempotency key (the origin hall and its ticket), so it gets
//! the first ticket back, never a second.
//!
//! A target that answered with a ticket the origin then cannot record (its ticket left
//! the window while the target decided: another tab finished or transferred it, the
//! window closed) is told to withdraw it ([`Op::WithdrawReferral`], [`Outbound::withdraw`]),
//! under the same permit, so the target's line keeps no ghost. Compensating so rather
//! than reserving the ticket in the origin's core first was chosen because the target's
//! ticket is a remote one nobody calls before its visitor checks in, so cancelling it
//! within the same second is invisible to everyone, while a reservation would be a new
//! ticket state that every window action, the no-show tick, a window's closing and the
//! day's end would have to know and end.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Semaphore, SemaphorePermit};

use super::cmd::{answer_status, peer_subject, CmdRequest, Op, CMD_VERSION};
use crate::config::DistrictLink;
use crate::http::error::ApiError;

mod settle;
pub use settle::{run_settle, SETTLE_EVERY, UNSETTLED_MAX};

/// How long the origin waits for the target's answer: a hall answers in milliseconds.
pub const REFER_WAIT: Duration = Duration::from_secs(3);
/// Longest the first connection to NATS may take.
const CONNECT_WAIT: Duration = Duration::from_secs(2);
/// Referrals awaiting an answer at once, per hall (each holds a clerk's request open).
pub const IN_FLIGHT_MAX: usize = 4;
/// What the clerk reads when the target does not answer.
pub const UNREACHABLE: &str = "该中心暂时无法连接";

/// The body of `Op::Refer`: what the target needs to issue the visitor's ticket.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct ReferBody {
    pub from_hall: String,
    /// The origin's name as it calls itself; the target shows the name its own
    /// `[[district.peer]]` gives the hall.
    pub from_name: String,
    /// The origin ticket's id: the referral's reference, and its idempotency key's.
    pub reference: String,
    pub number: String,
    pub reason: String,
    #[serde(default)]
    pub note: Option<String>,
    /// The origin ticket's bundle, or its first item.
    pub service: String,
    #[serde(default)]
    pub priority: Option<String>,
}

/// The hall's connection for referrals, made when first needed, and the referrals whose
/// end at the target is not known yet (`settle`).
pub struct Outbound {
    client: Mutex<Option<async_nats::Client>>,
    in_flight: Semaphore,
    unsettled: std::sync::Mutex<Vec<settle::Unsettled>>,
    /// Where the unsettled are kept across a restart (`Outbound::kept`; none: in memory).
    store: Option<std::sync::Arc<crate::store::Store>>,
}

impl Default for Outbound {
    fn default() -> Self {
        Self {
            client: Mutex::new(None),
            in_flight: Semaphore::new(IN_FLIGHT_MAX),
            unsettled: Default::default(),
            store: None,
        }
    }
}

/// The body of `Op::WithdrawReferral`: the referral's own origin and reference, and the
/// ticket the target answered it with, if the origin heard the answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    pub from_hall: String,
    pub reference: String,
    #[serde(default)]
    pub ticket: Option<String>,
}

/// The target's answer: its HTTP status and its JSON body, and the referral's place
/// among those in flight, held until the origin has recorded it or withdrawn it.
pub struct Answer<'a> {
    pub status: StatusCode,
    pub body: Bytes,
    _permit: SemaphorePermit<'a>,
}

/// What came of withdrawing the target's ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Withdrawn {
    /// Cancelled at the target (now or by an earlier withdrawal).
    Yes,
    /// The target did not answer, or refused (its visitor checked in already).
    No,
}

fn unreachable(why: &str) -> ApiError {
    let mut e = ApiError::unavailable("hall_unreachable", format!("{UNREACHABLE}: {why}"));
    e.retry_after_s = Some(5);
    e
}

impl Outbound {
    /// Asks hall `to` to take `body` in, under the idempotency key of the origin and its
    /// ticket.
    pub async fn ask(&self, link: &DistrictLink, to: &str, body: &ReferBody) -> Result<Answer<'_>, ApiError> {
        let permit = self.in_flight.try_acquire().map_err(|_| {
            let mut e = ApiError::unavailable(
                "referrals_busy",
                format!(
                    "本中心已有 {IN_FLIGHT_MAX} 件转办在等待答复，请稍后再试: this hall waits for the answers of as \
                     many referrals as it sends at once; nothing was referred, the ticket is still at your window"
                ),
            );
            e.retry_after_s = Some(5);
            e
        })?;
        let client = self.client(link).await?;
        let key = format!("{}:{}", body.from_hall, body.reference);
        let from = (body.from_hall.clone(), body.reference.clone());
        let body = serde_json::to_value(body).map_err(|e| ApiError::internal("a referral", &e))?;
        // Owed from before it leaves until the origin records it (`settle`): the target may
        // decide and its answer be lost, or this daemon die before recording it.
        self.owe(to, WithdrawBody { from_hall: from.0, reference: from.1, ticket: None }).await;
        let answer = request(&client, (to, &link.hall_id), Op::Refer, body, key).await.map_err(|e| {
            tracing::info!(hall = to, error = %e, "a hall did not answer a referral");
            unreachable("the hall did not answer in time; nothing was referred, the ticket is still at your window")
        })?;
        let status = answer_status(&answer).map_err(unreachable)?;
        Ok(Answer { status, body: answer.payload, _permit: permit })
    }

    /// Asks hall `to` to withdraw the ticket it answered `answer` with, for the referral
    /// `body` this hall could not record; `answer`'s permit is held until it is done.
    pub async fn withdraw(&self, link: &DistrictLink, to: &str, body: &WithdrawBody, answer: Answer<'_>) -> Withdrawn {
        let status = self.withdrawal(link, to, body).await;
        drop(answer);
        match status {
            Ok(s) if s.is_success() => Withdrawn::Yes,
            Ok(s) => {
                tracing::warn!(hall = to, status = s.as_u16(), "a hall refused to withdraw a referral it issued");
                Withdrawn::No
            }
            Err(e) => {
                tracing::warn!(hall = to, error = %e, "a hall's referral could not be withdrawn now; retried later");
                self.owe(to, body.clone()).await;
                Withdrawn::No
            }
        }
    }

    /// Sends the withdrawal `body` to hall `to`: its answer's status, or why none.
    async fn withdrawal(&self, link: &DistrictLink, to: &str, body: &WithdrawBody) -> Result<StatusCode, String> {
        let named = body.ticket.as_deref().unwrap_or("any");
        let key = format!("withdraw:{}:{}:{named}", body.from_hall, body.reference);
        let asked = match (self.client(link).await, serde_json::to_value(body)) {
            (Ok(client), Ok(b)) => request(&client, (to, &link.hall_id), Op::WithdrawReferral, b, key).await,
            (Err(e), _) => Err(e.message),
            (_, Err(e)) => Err(e.to_string()),
        };
        asked.and_then(|a| answer_status(&a).map_err(String::from))
    }

    /// The kept connection, or a new one.
    async fn client(&self, link: &DistrictLink) -> Result<async_nats::Client, ApiError> {
        let mut kept = self.client.lock().await;
        if let Some(c) = kept.as_ref() {
            return Ok(c.clone());
        }
        let options = async_nats::ConnectOptions::new()
            .name(format!("hallq-{}-refer", link.hall_id))
            .connection_timeout(CONNECT_WAIT);
        // The hall's own identity (creds or NKey), its inbox and TLS, as its uplink has.
        let options = super::auth::hall_options(options, link).await.map_err(|e| {
            tracing::warn!(error = %e, "referrals: the hall's NATS identity");
            unreachable("the district's network cannot be reached; nothing was referred")
        })?;
        let client = options.connect(link.nats_url.as_str()).await.map_err(|e| {
            tracing::info!(error = %e, "referrals: cannot connect to NATS");
            unreachable("the district's network cannot be reached; nothing was referred")
        })?;
        *kept = Some(client.clone());
        Ok(client)
    }
}

/// One request from hall `from` on hall `to`'s peer subject, answered within [`REFER_WAIT`].
async fn request(
    client: &async_nats::Client,
    (to, from): (&str, &str),
    op: Op,
    body: serde_json::Value,
    key: String,
) -> Result<async_nats::Message, String> {
    let request = CmdRequest {
        v: CMD_VERSION,
        op,
        arg: None,
        k: None,
        body: Some(body),
        idempotency_key: Some(key),
        // The target charges no per-address limit on a referral; the field names this
        // daemon, not a visitor.
        client: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let payload = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    let asked = async_nats::client::Request::new().payload(Bytes::from(payload)).timeout(Some(REFER_WAIT));
    client.send_request(peer_subject(to, from), asked).await.map_err(|e| e.to_string())
}
