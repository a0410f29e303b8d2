//! What the simulator is fed: arrival rates, service-time models and arrival traces,
//! each parsed from the text a user types or a CSV file holds.
//!
//! Parsing lives here so that the CLI stays thin and the tests build the same values the
//! command line does. Errors say what was wrong and what to write instead.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

/// The most arrivals one trace file may hold: a busy district centre sees about 3,000 a
/// day, so this refuses a wrong file long before it fills memory.
pub const TRACE_ROWS_MAX: usize = 100_000;
/// The highest arrival rate accepted, per hour: above the core's 100,000 tickets a day.
pub const RATE_PER_HOUR_MAX: f64 = 5_000.0;
/// Longest mean service time accepted, in minutes (one working day).
pub const SERVICE_MINUTES_MAX: f64 = 480.0;
/// Coefficient of variation of a service time around an item's expected minutes in the
/// `items` model: counter times of one item vary about half their mean.
pub const ITEMS_CV: f64 = 0.5;

/// Why a simulator input was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("bad arrival rate {0:?}; write it like 108/h or 1.8/min")]
    Rate(String),
    #[error("bad service model {0:?}; write exp:10m, lognormal:12,6 (minutes) or items")]
    Service(String),
    #[error("{file}:{line}: {message}")]
    Trace { file: String, line: usize, message: String },
    #[error("{file}:{line}: {message}")]
    Staffing { file: String, line: usize, message: String },
}

/// Poisson arrivals at so many per hour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub per_hour: f64,
}

impl FromStr for Rate {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InputError::Rate(s.chars().take(40).collect());
        let (num, per_hour_factor) = match s.trim().split_once('/') {
            Some((n, "h")) => (n, 1.0),
            Some((n, "min")) => (n, 60.0),
            Some(_) => return Err(bad()),
            None => (s.trim(), 1.0),
        };
        let n: f64 = num.trim().parse().map_err(|_| bad())?;
        let per_hour = n * per_hour_factor;
        if !(per_hour > 0.0 && per_hour <= RATE_PER_HOUR_MAX) {
            return Err(bad());
        }
        Ok(Rate { per_hour })
    }
}

/// How long a visitor takes at the counter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ServiceModel {
    /// Exponential with this mean, in minutes.
    Exp { mean_min: f64 },
    /// Lognormal with this mean and standard deviation, in minutes.
    LogNormal { mean_min: f64, sd_min: f64 },
    /// Each item's expected minutes (a bundle's summed), lognormal around it.
    Items,
}

impl FromStr for ServiceModel {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InputError::Service(s.chars().take(40).collect());
        let model = match s.trim().split_once(':') {
            None if s.trim() == "items" => ServiceModel::Items,
            Some(("exp", mean)) => ServiceModel::Exp { mean_min: minutes(mean).ok_or_else(bad)? },
            Some(("lognormal", rest)) => {
                let (m, sd) = rest.split_once(',').ok_or_else(bad)?;
                let sd_min = minutes(sd).ok_or_else(bad)?;
                ServiceModel::LogNormal { mean_min: minutes(m).ok_or_else(bad)?, sd_min }
            }
            _ => return Err(bad()),
        };
        Ok(model)
    }
}

/// `10m`, `90s`, `1.5h` or a bare number of minutes, within (0, SERVICE_MINUTES_MAX].
fn minutes(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, factor) = if let Some(n) = s.strip_suffix("min") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0 / 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let m = num.trim().parse::<f64>().ok()? * factor;
    (m > 0.0 && m <= SERVICE_MINUTES_MAX).then_some(m)
}

impl ServiceModel {
    /// One visitor's draw, made at arrival so that two halls compared see the same
    /// visitors: minutes for `exp` and `lognormal`, a unit-mean factor for `items`.
    pub fn draw(&self, rng: &mut impl Rng) -> f64 {
        match *self {
            ServiceModel::Exp { mean_min } => mean_min * unit_exp(rng),
            ServiceModel::LogNormal { mean_min, sd_min } => lognormal(rng, mean_min, sd_min),
            ServiceModel::Items => lognormal(rng, 1.0, ITEMS_CV),
        }
    }

    /// The service time in minutes for a visitor's `draw` and the expected minutes of
    /// what they came for.
    pub fn minutes(&self, draw: f64, expected_min: f64) -> f64 {
        match self {
            ServiceModel::Exp { .. } | ServiceModel::LogNormal { .. } => draw,
            ServiceModel::Items => draw * expected_min,
        }
    }

    /// The mean service time when it does not depend on the item (for the plain hall).
    pub fn mean_min(&self) -> Option<f64> {
        match *self {
            ServiceModel::Exp { mean_min } | ServiceModel::LogNormal { mean_min, .. } => Some(mean_min),
            ServiceModel::Items => None,
        }
    }
}

impl fmt::Display for ServiceModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceModel::Exp { mean_min } => write!(f, "exp:{mean_min}m"),
            ServiceModel::LogNormal { mean_min, sd_min } => write!(f, "lognormal:{mean_min},{sd_min}"),
            ServiceModel::Items => write!(f, "items"),
        }
    }
}

/// An exponential draw with mean 1.
pub fn unit_exp(rng: &mut impl Rng) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    -(1.0 - rng.gen::<f64>()).ln()
}

/// A lognormal draw with the given mean and standard deviation.
pub(super) fn lognormal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
    let mu = mean.ln() - sigma2 / 2.0;
    (mu + sigma2.sqrt() * std_normal(rng)).exp()
}

/// A standard normal draw (Box–Muller).
fn std_normal(rng: &mut impl Rng) -> f64 {
    let u1 = 1.0 - rng.gen::<f64>();
    let u2 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One arrival of a recorded day: when (ms after local midnight), what for, and the
/// priority class if any.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceRow {
    pub at_ms: i64,
    pub service: String,
    pub priority: Option<String>,
}

/// A recorded day of arrivals, in time order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Trace {
    pub rows: Vec<TraceRow>,
}

impl Trace {
    /// Reads `time,service,priority` CSV (with a header row) from `text`; `file` names it
    /// in errors.
    pub fn parse(file: &str, text: &str) -> Result<Trace, InputError> {
        let err = |line: usize, message: String| InputError::Trace { file: file.to_string(), line, message };
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
        let col = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (Some(t), Some(s), p) = (col("time"), col("service"), col("priority")) else {
            return Err(err(1, "the header must name the columns time,service,priority".into()));
        };
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.map_err(|e| err(line, e.to_string()))?;
            if rows.len() >= TRACE_ROWS_MAX {
                return Err(err(line, format!("more than {TRACE_ROWS_MAX} arrivals; split the file")));
            }
            let time = record.get(t).unwrap_or("");
            let at_ms = clock_ms(time).ok_or_else(|| err(line, format!("time {time:?} is not HH:MM:SS")))?;
            let service = record.get(s).unwrap_or("").trim().to_string();
            let priority = p.and_then(|p| record.get(p)).map(str::trim).filter(|p| !p.is_empty()).map(String::from);
            rows.push(TraceRow { at_ms, service, priority });
        }
        rows.sort_by_key(|r| r.at_ms);
        Ok(Trace { rows })
    }
}

/// Milliseconds after midnight of `HH:MM:SS` (or `HH:MM`).
pub(super) fn clock_ms(s: &str) -> Option<i64> {
    let mut parts = s.trim().split(':').map(|p| p.parse::<i64>().ok());
    let (h, m) = (parts.next()??, parts.next()??);
    let sec = parts.next().unwrap_or(Some(0))?;
    let ok = (0..24).contains(&h) && (0..60).contains(&m) && (0..60).contains(&sec) && parts.next().is_none();
    ok.then_some(((h * 60 + m) * 60 + sec) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates_and_models() {
        assert_eq!("108/h".parse::<Rate>(), Ok(Rate { per_hour: 108.0 }));
        assert_eq!("2/min".parse::<Rate>(), Ok(Rate { per_hour: 120.0 }));
        assert!("0/h".parse::<Rate>().is_err());
        assert_eq!("exp:10m".parse::<ServiceModel>(), Ok(ServiceModel::Exp { mean_min: 10.0 }));
        assert_eq!("exp:90s".parse::<ServiceModel>(), Ok(ServiceModel::Exp { mean_min: 1.5 }));
        assert_eq!(
            "lognormal:12,6".parse::<ServiceModel>(),
            Ok(ServiceModel::LogNormal { mean_min: 12.0, sd_min: 6.0 })
        );
        assert_eq!("items".parse::<ServiceModel>(), Ok(ServiceModel::Items));
        assert!("normal:3".parse::<ServiceModel>().is_err());
    }

    #[test]
    fn reads_a_trace_and_names_the_bad_line() {
        let t = Trace::parse("t.csv", "time,service,priority\n08:30:05,SC-0001,\n08:31:00,YJS-01,elderly\n");
        let t = t.expect("valid trace");
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].at_ms, (8 * 3600 + 30 * 60 + 5) * 1000);
        assert_eq!(t.rows[1].priority.as_deref(), Some("elderly"));
        let bad = Trace::parse("t.csv", "time,service,priority\n25:00:00,SC-0001,\n");
        assert!(matches!(bad, Err(InputError::Trace { line: 2, .. })));
    }
}
