//! The district as its supervisors read it: signed in as the generated district's
//! supervisor, the benchmark polls `GET /api/v1/district` through the run (the dashboard's
//! read, timed; and the lag the district claims for itself, beside the lag measured at the
//! edge), and at the end reads `GET /api/v1/district/stats` for the day the halls
//! simulated, to check that every ticket published reached the district's figures.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::super::BenchError;
use super::dir::{PASSWORD, SUPERVISOR};

/// A read of the district may take this long before it counts as failed.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// At the end, reads of `GET /api/v1/district` until it shows nothing unapplied: 20 a
/// quarter of a second apart, twice as long as its snapshot may be old.
const SETTLE_READS: usize = 20;
const SETTLE_EVERY: Duration = Duration::from_millis(250);

pub struct DistrictApi {
    http: reqwest::Client,
    url: String,
    token: String,
}

/// What the polls saw.
#[derive(Default)]
pub struct Polls {
    /// Each `GET /api/v1/district`'s time, in microseconds.
    pub read_us: Vec<u32>,
    /// The highest `lag_seconds` the district claimed for any hall.
    pub claimed_lag_max_s: f64,
    pub failures: u64,
}

impl DistrictApi {
    pub async fn login(url: &str) -> Result<Self, BenchError> {
        let http = reqwest::Client::builder()
            .timeout(READ_TIMEOUT)
            .build()
            .map_err(|e| BenchError::new(format!("cannot make an HTTP client: {e}")))?;
        let body = json!({ "user": SUPERVISOR, "password": PASSWORD });
        let resp = http
            .post(format!("{url}/api/v1/district/login"))
            .json(&body)
            .send()
            .await
            .map_err(|e| BenchError::new(format!("cannot reach the district at {url}: {e}")))?;
        let status = resp.status();
        let answer: Value = resp.json().await.unwrap_or(Value::Null);
        let token = answer["token"].as_str().filter(|_| status.is_success());
        let token =
            token.ok_or_else(|| BenchError::new(format!("the district refused the login: {status} {answer}")))?;
        Ok(Self { http, url: url.to_string(), token: token.to_string() })
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let value: Value = resp.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(format!("{status}: {value}"))
        }
    }

    /// One timed read of the district, folded into `polls`.
    pub async fn poll(&self, polls: &mut Polls) {
        let began = Instant::now();
        match self.get("/api/v1/district").await {
            Ok(v) => {
                polls.read_us.push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
                let halls = v["halls"].as_array().map(Vec::as_slice).unwrap_or_default();
                let lag = halls.iter().filter_map(|h| h["lag_seconds"].as_f64()).fold(0.0, f64::max);
                polls.claimed_lag_max_s = polls.claimed_lag_max_s.max(lag);
            }
            Err(e) => {
                polls.failures += 1;
                tracing::warn!(error = %e, "a read of the district failed");
            }
        }
    }

    /// Per hall id: the day's figures (`total`) as the district has them, and the records
    /// it says it has not applied yet.
    pub async fn counts(&self, day: &str) -> Result<std::collections::HashMap<String, (Value, u64)>, BenchError> {
        let err = |e: String| BenchError::new(format!("reading the district's figures: {e}"));
        let stats = self.get(&format!("/api/v1/district/stats?day={day}")).await.map_err(err)?;
        // `GET /api/v1/district` answers from a snapshot a second or two old
        // (`district::snapshot`): one made before the last records were applied still
        // counts them, so it is read again until it is level or `SETTLE_READS` pass.
        let mut now = self.get("/api/v1/district").await.map_err(err)?;
        for _ in 0..SETTLE_READS {
            let halls = now["halls"].as_array().map(Vec::as_slice).unwrap_or_default();
            if halls.iter().all(|h| h["lag_records"].as_u64() == Some(0)) {
                break;
            }
            tokio::time::sleep(SETTLE_EVERY).await;
            now = self.get("/api/v1/district").await.map_err(err)?;
        }
        let mut out = std::collections::HashMap::new();
        for h in stats["halls"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let id = h["id"].as_str().unwrap_or_default().to_string();
            out.insert(id, (h["total"].clone(), 0));
        }
        for h in now["halls"].as_array().map(Vec::as_slice).unwrap_or_default() {
            if let Some(entry) = h["id"].as_str().and_then(|id| out.get_mut(id)) {
                entry.1 = h["lag_records"].as_u64().unwrap_or(0);
            }
        }
        Ok(out)
    }
}
