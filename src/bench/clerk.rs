//! Clerks: each signs in at its window and calls at a fixed pace. A hallq call is `next`
//! (timed from the moment it is sent), then `serve` and `done`, so that the window is free
//! for the next call. A baseline call is one request that makes the baseline broadcast a
//! call message of the same shape.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::load::{Endpoints, PASSWORD};
use super::BenchError;

/// Calls one clerk records; a run makes at most `CALLS_PER_SEC_MAX * DURATION_S_MAX`.
const CALLS_MAX: usize = 200_000;

pub enum Clerk {
    Hallq { token: String, window: String },
    Baseline { window: String },
}

/// A call made: the number called at the window, and when its request was sent.
pub struct Call {
    pub number: String,
    pub window: String,
    pub sent: Instant,
}

#[derive(Default)]
pub struct ClerkLog {
    pub calls: Vec<Call>,
    /// `next` answered with nobody waiting.
    pub empty: u64,
    pub errors: u64,
    pub first_error: Option<String>,
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Result<Value, String> {
    let mut req = client.post(&url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| format!("POST {url} failed: {e}"))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| format!("POST {url}: reading the answer failed: {e}"))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        return Err(format!("POST {url} answered {status}: {}", text.chars().take(200).collect::<String>()));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

impl Clerk {
    /// Clerk `n` of the example hall signs in and opens window `n`.
    pub async fn hallq(client: &reqwest::Client, ep: &Endpoints, n: usize) -> Result<Self, BenchError> {
        let user = format!("clerk{n}");
        let login =
            post(client, format!("{}/api/v1/login", ep.http), None, json!({"user": user, "password": PASSWORD}))
                .await
                .map_err(|e| BenchError::new(format!("{user} cannot sign in with the demo password: {e}")))?;
        let token = login["token"].as_str().ok_or_else(|| BenchError::new("login answered without a token"))?;
        let window = n.to_string();
        post(client, format!("{}/api/v1/windows/{window}/open", ep.http), Some(token), json!({}))
            .await
            .map_err(|e| BenchError::new(format!("{user} cannot open window {window}: {e}")))?;
        Ok(Clerk::Hallq { token: token.to_string(), window })
    }

    pub fn baseline(n: usize) -> Self {
        Clerk::Baseline { window: n.to_string() }
    }

    /// One call; `Ok(None)` when nobody was waiting.
    async fn call(&self, client: &reqwest::Client, ep: &Endpoints, k: usize) -> Result<Option<Call>, String> {
        match self {
            Clerk::Hallq { token, window } => {
                let url = |action: &str| format!("{}/api/v1/windows/{window}/{action}", ep.http);
                let sent = Instant::now();
                let next = post(client, url("next"), Some(token), json!({})).await?;
                let ticket = &next["ticket"];
                if ticket.is_null() {
                    return Ok(None);
                }
                let number = ticket["number"].as_str().ok_or_else(|| format!("next answered oddly: {next}"))?;
                post(client, url("serve"), Some(token), json!({})).await?;
                post(client, url("done"), Some(token), json!({"outcome": "completed"})).await?;
                Ok(Some(Call { number: number.to_string(), window: window.clone(), sent }))
            }
            Clerk::Baseline { window } => {
                let number = format!("C{window}-{k}");
                let sent = Instant::now();
                post(client, format!("{}/call", ep.http), None, json!({"number": number, "window": window})).await?;
                Ok(Some(Call { number, window: window.clone(), sent }))
            }
        }
    }

    /// Calls every `period` from `first` until `deadline`; a call that takes longer than
    /// its period delays the next rather than overlapping it.
    pub async fn run(
        self,
        client: reqwest::Client,
        ep: Endpoints,
        first: Instant,
        period: Duration,
        deadline: Instant,
    ) -> ClerkLog {
        let mut log = ClerkLog::default();
        let mut ticks = tokio::time::interval_at(first.into(), period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut k = 0;
        loop {
            ticks.tick().await;
            if Instant::now() >= deadline || log.calls.len() >= CALLS_MAX {
                break;
            }
            k += 1;
            match self.call(&client, &ep, k).await {
                Ok(Some(call)) => log.calls.push(call),
                Ok(None) => log.empty += 1,
                Err(e) => {
                    log.errors += 1;
                    log.first_error.get_or_insert(e);
                }
            }
        }
        log
    }
}
