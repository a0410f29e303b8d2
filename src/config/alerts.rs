//! Supervision settings: the alert thresholds of `[hall.thresholds]` with their `[[queue]]`
//! overrides, and the alert webhook of `[supervision.webhook]`.
//!
//! A threshold of 0 turns its alert off. A queue's `alert_wait_min` defaults to the hall's,
//! which defaults to `max_wait_min`: the wait past which dispatch already puts a ticket
//! first is the wait a supervisor should hear of.

use std::fmt;

use super::tree::{Field, Tab};
use super::Errs;
use crate::core::alerts::{AlertPolicy, QueueThresholds};
use crate::core::command::TICKETS_PER_DAY_MAX;
use crate::core::model::QueueId;

/// Longest threshold of a paused or idle window, in minutes (half a day).
const MAX_WINDOW_ALERT_MIN: i64 = 12 * 60;
/// Shortest webhook secret, in characters: shorter ones are guessable.
const MIN_SECRET_CHARS: usize = 16;
const MAX_SECRET_CHARS: usize = 256;
const MAX_URL_CHARS: usize = 2048;
const DEFAULT_TIMEOUT_MS: u64 = 5_000;
const DEFAULT_ATTEMPTS: u32 = 6;
const DEFAULT_BACKOFF_MS: u64 = 1_000;
const DEFAULT_OUTBOX: usize = 1_000;
/// Most notices the webhook's outbox may hold (a receiver down for a day of alerts).
const MAX_OUTBOX: i64 = 100_000;

/// The keys of `[hall.thresholds]` about alerts, as read.
#[derive(Default)]
pub(super) struct HallKeys {
    waiting: Option<u32>,
    wait_min: Option<u32>,
    paused_min: Option<u32>,
    idle_min: Option<u32>,
    unstaffed: Option<u32>,
}

/// A `[[queue]]`'s own thresholds, as read.
#[derive(Default)]
pub(super) struct QueueKeys {
    waiting: Option<u32>,
    wait_min: Option<u32>,
}

fn int(t: &mut Tab<'_>, key: &str, max: i64, errs: &mut Errs) -> Option<u32> {
    let f = t.int(key, errs)?;
    if (0..=max).contains(&f.value) {
        u32::try_from(f.value).ok()
    } else {
        errs.push(f.loc.err(format!("{key} is {}; use a value from 0 (no alert) to {max}", f.value)));
        None
    }
}

/// Reads the alert keys of `[hall.thresholds]`.
pub(super) fn read_hall(t: &mut Tab<'_>, errs: &mut Errs) -> HallKeys {
    HallKeys {
        waiting: int(t, "alert_waiting", TICKETS_PER_DAY_MAX as i64, errs),
        wait_min: int(t, "alert_wait_min", super::MAX_WAIT_MIN, errs),
        paused_min: int(t, "alert_paused_min", MAX_WINDOW_ALERT_MIN, errs),
        idle_min: int(t, "alert_idle_min", MAX_WINDOW_ALERT_MIN, errs),
        unstaffed: int(t, "alert_unstaffed", TICKETS_PER_DAY_MAX as i64, errs),
    }
}

/// Reads a `[[queue]]`'s own `alert_waiting` and `alert_wait_min`.
pub(super) fn read_queue(t: &mut Tab<'_>, errs: &mut Errs) -> QueueKeys {
    QueueKeys {
        waiting: int(t, "alert_waiting", TICKETS_PER_DAY_MAX as i64, errs),
        wait_min: int(t, "alert_wait_min", super::MAX_WAIT_MIN, errs),
    }
}

/// The hall's thresholds, each queue's overrides applied. Absent keys: no count alert, the
/// wait alert at `max_wait_min`, a paused window after 30 minutes, no idle alert, and a
/// queue that no open window serves from its first waiting ticket.
pub(super) fn resolve(hall: &HallKeys, max_wait_min: u32, queues: &[(QueueId, QueueKeys)]) -> AlertPolicy {
    let waiting = hall.waiting.unwrap_or(0);
    let wait_min = hall.wait_min.unwrap_or(max_wait_min);
    AlertPolicy {
        queues: queues
            .iter()
            .map(|(id, k)| {
                (
                    *id,
                    QueueThresholds { waiting: k.waiting.unwrap_or(waiting), wait_min: k.wait_min.unwrap_or(wait_min) },
                )
            })
            .collect(),
        paused_min: hall.paused_min.unwrap_or(30),
        idle_min: hall.idle_min.unwrap_or(0),
        unstaffed: hall.unstaffed.unwrap_or(1),
    }
}

/// Where and how alerts are POSTed (`[supervision.webhook]`).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `http://` or `https://`.
    pub url: String,
    /// The HMAC-SHA256 key of the signature header.
    pub secret: String,
    /// One attempt's time limit.
    pub timeout_ms: u64,
    /// Attempts per notice, the first included; then it is given up (and counted).
    pub attempts: u32,
    /// Wait before the first retry; each later one waits twice as long (at most a minute).
    pub backoff_ms: u64,
    /// Notices waiting to be sent at most; past it the oldest is dropped (and counted).
    pub outbox: usize,
}

impl fmt::Debug for WebhookConfig {
    // The secret is a credential: keep it out of logs and panics. The URL may carry a
    // token of the receiver's (a chat bot's key), so only its scheme and host are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.url.split('/').take(3).collect::<Vec<_>>().join("/");
        f.debug_struct("WebhookConfig").field("url", &host).field("attempts", &self.attempts).finish_non_exhaustive()
    }
}

/// Reads the `[supervision]` table; `None` when it names no webhook or is wrong.
pub(super) fn read_supervision(mut sup: Tab<'_>, errs: &mut Errs) -> Option<WebhookConfig> {
    let hook = sup.table("webhook", errs);
    sup.finish(errs);
    let mut t = hook?;
    let url = t.req_str("url", errs).and_then(|u| check_url(u, errs));
    let secret = t.req_str("secret", errs).and_then(|s| {
        let n = s.value.chars().count();
        if (MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) {
            Some(s.value)
        } else {
            let msg = format!(
                "the webhook secret has {n} characters; use {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} (e.g. 32 random letters and digits)"
            );
            errs.push(s.loc.err(msg));
            None
        }
    });
    let mut num = |key: &str, min: i64, max: i64, default: u64| match t.int(key, errs) {
        None => Some(default),
        Some(f) if (min..=max).contains(&f.value) => u64::try_from(f.value).ok(),
        Some(f) => {
            errs.push(f.loc.err(format!("{key} is {}; use a value from {min} to {max}", f.value)));
            None
        }
    };
    let timeout_ms = num("timeout_ms", 100, 60_000, DEFAULT_TIMEOUT_MS);
    let attempts = num("attempts", 1, 20, u64::from(DEFAULT_ATTEMPTS));
    let backoff_ms = num("backoff_ms", 10, 60_000, DEFAULT_BACKOFF_MS);
    let outbox = num("outbox", 1, MAX_OUTBOX, DEFAULT_OUTBOX as u64);
    t.finish(errs);
    Some(WebhookConfig {
        url: url?,
        secret: secret?,
        timeout_ms: timeout_ms?,
        attempts: u32::try_from(attempts?).ok()?,
        backoff_ms: backoff_ms?,
        outbox: usize::try_from(outbox?).ok()?,
    })
}

fn check_url(u: Field<String>, errs: &mut Errs) -> Option<String> {
    let v = u.value.trim();
    let rest = v.strip_prefix("http://").or_else(|| v.strip_prefix("https://"));
    let host_ok = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
    if !host_ok || v.len() > MAX_URL_CHARS || v.chars().any(char::is_whitespace) {
        errs.push(u.loc.err(format!(
            "bad webhook url; write an http:// or https:// address of at most {MAX_URL_CHARS} characters, such as \"http://10.0.0.5:9000/hallq\""
        )));
        return None;
    }
    Some(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{embedded_file, load_with, EMBEDDED_HALL};
    use crate::config::Config;
    use crate::core::model::QueueId;

    fn load(text: &str) -> Result<Config, String> {
        load_with(text, &embedded_file).map_err(|e| e.to_string())
    }

    fn q(id: &str) -> QueueId {
        QueueId::parse(id).unwrap()
    }

    #[test]
    fn the_example_halls_thresholds_and_overrides() {
        let c = load(EMBEDDED_HALL).unwrap();
        let a = &c.setup.alerts;
        let pairs: Vec<(u32, u32)> =
            ["A", "B", "V", "Y", "Z"].iter().map(|id| a.queue(&q(id))).map(|t| (t.waiting, t.wait_min)).collect();
        assert_eq!(pairs, [(30, 30), (15, 30), (5, 15), (30, 30), (3, 15)]);
        assert_eq!((a.paused_min, a.idle_min), (20, 10));
        assert_eq!(c.webhook, None);
    }

    #[test]
    fn absent_keys_mean_the_defaults() {
        let text: String = EMBEDDED_HALL
            .lines()
            .filter(|l| !l.starts_with("alert_"))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
            .replace("max_wait_min = 30", "max_wait_min = 45");
        let a = load(&text).unwrap().setup.alerts;
        assert_eq!(
            (a.queue(&q("A")).waiting, a.queue(&q("A")).wait_min),
            (0, 45),
            "the wait alert follows max_wait_min"
        );
        assert_eq!((a.paused_min, a.idle_min), (30, 0));
    }

    #[test]
    fn bad_thresholds_are_named_with_file_line_and_range() {
        let e = load(&EMBEDDED_HALL.replace("alert_waiting = 30", "alert_waiting = -1")).unwrap_err();
        assert!(
            e.contains("hall.toml:") && e.contains("alert_waiting is -1; use a value from 0 (no alert) to 100000"),
            "{e}"
        );
        let e = load(&EMBEDDED_HALL.replace("alert_waiting = 15", "alert_wait_min = 2000")).unwrap_err();
        assert!(e.contains("queue[1].alert_wait_min") && e.contains("0 (no alert) to 1440"), "{e}");
        let e = load(&EMBEDDED_HALL.replace("alert_idle_min = 10", "alert_idle_min = \"10\"")).unwrap_err();
        assert!(e.contains("alert_idle_min"), "{e}");
    }

    #[test]
    fn the_webhook_is_read_with_defaults_and_checked() {
        let with = |table: &str| EMBEDDED_HALL.replace("[supervision]\n", &format!("[supervision]\n{table}"));
        let hook = "[supervision.webhook]\nurl = \"https://hooks.example.org/hallq?key=abc\"\nsecret = \"0123456789abcdef0123\"\n";
        let c = load(&with(hook)).unwrap();
        let w = c.webhook.expect("a webhook");
        assert_eq!((w.timeout_ms, w.attempts, w.backoff_ms, w.outbox), (5_000, 6, 1_000, 1_000));
        let shown = format!("{w:?}");
        assert!(!shown.contains("0123456789abcdef") && !shown.contains("key=abc"), "{shown}");
        let bad = "[supervision.webhook]\nurl = \"ftp://x\"\nsecret = \"short\"\nattempts = 0\nretries = 3\n";
        let e = load(&with(bad)).unwrap_err();
        assert!(e.contains("bad webhook url; write an http:// or https:// address"), "{e}");
        assert!(e.contains("the webhook secret has 5 characters; use 16 to 256"), "{e}");
        assert!(e.contains("attempts is 0; use a value from 1 to 20"), "{e}");
        assert!(e.contains("unknown key \"retries\""), "{e}");
        let e = load(&with("[supervision.webhook]\nsecret = \"0123456789abcdef0123\"\n")).unwrap_err();
        assert!(e.contains("supervision.webhook") && e.contains("url"), "{e}");
    }
}
