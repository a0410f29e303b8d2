//! The referring hall's end of a referral between halls (issue 18, 跨中心转办): its
//! daemon asks the target hall over NATS request/reply on the target's cmd subject
//! (`hallq.hall.<to>.cmd`, operation [`Op::Refer`]), as the district asks a hall for a
//! visitor; the target answers through its own router (`cmd.rs`).
//!
//! One connection, made at the first referral and kept (NATS reconnects it); referrals
//! are a clerk's rare act, so at most [`IN_FLIGHT_MAX`] wait for an answer at once, each
//! at most [`REFER_WAIT`]. No answer in time (the target stopped, NATS down, no such
//! subscriber) is `503 hall_unreachable` and the origin decides nothing: its ticket stays
//! at the window. A target that did answer but whose answer was lost decided once; the
//! retry carries the same idempotency key (the origin hall and its ticket), so it gets
//! the first ticket back, never a second.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Semaphore};

use super::cmd::{answer_status, cmd_subject, CmdRequest, Op, CMD_VERSION};
use crate::config::DistrictLink;
use crate::http::error::ApiError;

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

/// The hall's connection for referrals, made when first needed.
pub struct Outbound {
    client: Mutex<Option<async_nats::Client>>,
    in_flight: Semaphore,
}

impl Default for Outbound {
    fn default() -> Self {
        Self { client: Mutex::new(None), in_flight: Semaphore::new(IN_FLIGHT_MAX) }
    }
}

/// The target's answer: its HTTP status and its JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

fn unreachable(why: &str) -> ApiError {
    let mut e = ApiError::unavailable("hall_unreachable", format!("{UNREACHABLE}: {why}"));
    e.retry_after_s = Some(5);
    e
}

impl Outbound {
    /// Asks hall `to` to take `body` in, under the idempotency key of the origin and its
    /// ticket.
    pub async fn ask(&self, link: &DistrictLink, to: &str, body: &ReferBody) -> Result<Answer, ApiError> {
        let _permit = self
            .in_flight
            .try_acquire()
            .map_err(|_| unreachable("this hall has as many referrals waiting for an answer as it sends at once"))?;
        let client = self.client(link).await?;
        let request = CmdRequest {
            v: CMD_VERSION,
            op: Op::Refer,
            arg: None,
            k: None,
            body: Some(serde_json::to_value(body).map_err(|e| ApiError::internal("a referral", &e))?),
            idempotency_key: Some(format!("{}:{}", body.from_hall, body.reference)),
            // The target charges no per-address limit on a referral; the field names this
            // daemon, not a visitor.
            client: IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        let payload = serde_json::to_vec(&request).map_err(|e| ApiError::internal("a referral", &e))?;
        let asked = async_nats::client::Request::new().payload(Bytes::from(payload)).timeout(Some(REFER_WAIT));
        let answer = client.send_request(cmd_subject(to), asked).await.map_err(|e| {
            tracing::info!(hall = to, error = %e, "a hall did not answer a referral");
            unreachable("the hall did not answer in time; nothing was referred, the ticket is still at your window")
        })?;
        let status = answer_status(&answer).map_err(unreachable)?;
        Ok(Answer { status, body: answer.payload })
    }

    /// The kept connection, or a new one.
    async fn client(&self, link: &DistrictLink) -> Result<async_nats::Client, ApiError> {
        let mut kept = self.client.lock().await;
        if let Some(c) = kept.as_ref() {
            return Ok(c.clone());
        }
        let mut options = async_nats::ConnectOptions::new()
            .name(format!("hallq-{}-refer", link.hall_id))
            .connection_timeout(CONNECT_WAIT);
        if let Some(creds) = &link.creds_file {
            options =
                options.credentials_file(creds).await.map_err(|e| ApiError::internal("the NATS creds file", &e))?;
        }
        if let Some(ca) = &link.tls_ca_file {
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        let client = options.connect(link.nats_url.as_str()).await.map_err(|e| {
            tracing::info!(error = %e, "referrals: cannot connect to NATS");
            unreachable("the district's network cannot be reached; nothing was referred")
        })?;
        *kept = Some(client.clone());
        Ok(client)
    }
}
