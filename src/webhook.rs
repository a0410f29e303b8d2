//! The alert webhook: each alert raised or cleared is POSTed as JSON to the hall's
//! `[supervision.webhook] url`, signed, and retried with exponential backoff.
//!
//! The engine never waits for it. After a batch is flushed (the alert is durable) the
//! engine pushes a notice into a bounded in-memory outbox and goes on; one task sends the
//! notices in order. A full outbox drops its oldest notice (counted as `dropped`); a
//! notice that fails every attempt is given up (counted as `failed`).
//!
//! The notices are read off the facts `apply` yields (`core::facts`): an alert raised, an
//! alert cleared, and an alert still active when a new service day opened, which the day
//! ends without an `alert_cleared` event; the webhook sends that one as cleared all the
//! same, with `ended_by_day` true. Each fact carries the alert as the change left it, so
//! the webhook keeps no alerts and looks none up in the state.
//!
//! The outbox itself is not stored: it is derived from the log. Each notice carries the
//! log position of the record that caused it, and the sender marks the position of each
//! notice it has finished with (delivered or given up) in the store's `webhook` tree. At
//! start (`pending`) the records after the mark are read again through the same `apply`
//! and their notices queued, the newest `outbox` of them: so notices not yet sent when the
//! daemon stopped, or was killed, go out after the restart, in order, under their first
//! delivery id, with the values they had then. The reading begins at the opening of the
//! mark's service day, not at the mark: an alert raised before the mark may be cleared, or
//! ended by a later day's opening, after it. Deriving them keeps the log the one truth
//! (nothing is written twice on the engine's path), and the mark is one key, written by
//! the sender alone.
//!
//! Signature: `X-Hallq-Signature: sha256=HEX`, the HMAC-SHA256 under the secret of the
//! `X-Hallq-Timestamp` header's value (Unix seconds), a dot, and the body's bytes. A
//! receiver recomputes it and refuses old timestamps. `X-Hallq-Delivery` names the notice
//! (`ALERT_ID-raised` or `ALERT_ID-cleared`), the same on every attempt, so a receiver can
//! drop a repeat. Nothing personal travels: queue and window ids, names and counts.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tokio::sync::{watch, Notify};

use crate::alert_subject::subject_name;
use crate::config::WebhookConfig;
use crate::core::alerts::{Alert, AlertKind, PrinterFault};
use crate::core::day_reader::DayReader;
use crate::core::facts::{Fact, What};
use crate::core::setup::Setup;
use crate::core::Record;
use crate::metrics::Metrics;
use crate::store::StoreError;
use crate::time::{rfc3339, Clock};

/// The longest wait between two attempts, however many came before.
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// What happened to an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Raised,
    Cleared,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::Raised => "raised",
            Change::Cleared => "cleared",
        }
    }
}

/// One alert change waiting to be sent.
#[derive(Clone, Debug)]
pub struct Notice {
    pub change: Change,
    /// The alert as the change left it (a raised one not yet cleared or acknowledged).
    pub alert: Alert,
    /// The log position of the record that caused it.
    pub seq: u64,
}

/// The notice one fact calls for: an alert raised, cleared by its condition, or ended
/// by a new day's opening (sent as cleared, `ended_by_day`), with the alert as the change
/// left it. An acknowledgement calls for none.
fn notice_of(fact: &Fact) -> Option<Notice> {
    let (change, alert) = match &fact.what {
        What::AlertRaised { alert } => (Change::Raised, alert),
        What::AlertCleared { alert } | What::AlertEnded { alert } => (Change::Cleared, alert),
        _ => return None,
    };
    Some(Notice { change, alert: alert.clone(), seq: fact.seq })
}

/// The notices a flushed batch calls for, in log order, from its facts.
pub fn notices_of(facts: &[Fact]) -> impl Iterator<Item = Notice> + '_ {
    facts.iter().filter_map(notice_of)
}

/// The notices owed at start: those of the records after `done` (the webhook's mark), the
/// newest `max` of them. `records` is the log from the opening of the service day that
/// holds `done` (or from its start) to its end. They are read through the core's `apply`
/// by a `DayReader`, which knows every alert of that day from its opening on: a clearing
/// after the mark of an alert raised before it, and the ends a later day's opening
/// brought, come out as the live engine sent (or would have sent) them, whatever the
/// state is today. Only the notices owed are kept, never more than `max`.
pub fn pending(
    setup: Arc<Setup>,
    done: u64,
    records: impl IntoIterator<Item = Result<(u64, Record), StoreError>>,
    max: usize,
) -> Result<Vec<Notice>, StoreError> {
    let mut reader = DayReader::new(setup);
    let mut out = VecDeque::new();
    for item in records {
        let (seq, record) = item?;
        let facts = reader.read(seq, &record);
        if seq <= done {
            continue;
        }
        for notice in notices_of(&facts) {
            if out.len() >= max {
                out.pop_front();
            }
            out.push_back(notice);
        }
    }
    Ok(out.into())
}

/// The bounded queue between the engine and the sender.
pub struct Outbox {
    items: Mutex<VecDeque<Notice>>,
    wake: Notify,
    max: usize,
    metrics: Arc<Metrics>,
}

impl Outbox {
    /// Queues a notice, dropping the oldest when full. Never waits.
    pub fn push(&self, notice: Notice) {
        let dropped = match self.items.lock() {
            Ok(mut items) => {
                let dropped = items.len() >= self.max && items.pop_front().is_some();
                items.push_back(notice);
                dropped
            }
            // A panic while holding the lock (none is possible here) would leave the
            // queue as it was; nothing to do but count the notice as lost.
            Err(_) => true,
        };
        if dropped {
            self.metrics.webhook_deliveries.with_label_values(&["dropped"]).inc();
            tracing::warn!(outbox = self.max, "the webhook outbox is full; the oldest alert notice was dropped");
        }
        self.wake.notify_one();
    }

    fn pop(&self) -> Option<Notice> {
        self.items.lock().ok()?.pop_front()
    }
}

/// Starts the sender, which ends when `shutdown` turns true: its outbox and its task (for
/// the daemon to join). `mark_done` records a notice's log position as finished with (the
/// store's webhook mark): all the sender writes.
pub fn spawn(
    config: WebhookConfig,
    setup: Arc<Setup>,
    kiosks: KioskNames,
    mark_done: impl Fn(u64) -> Result<(), StoreError> + Send + 'static,
    metrics: Arc<Metrics>,
    clock: Clock,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(Arc<Outbox>, tokio::task::JoinHandle<()>), reqwest::Error> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(config.timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let outbox = Arc::new(Outbox {
        items: Mutex::new(VecDeque::new()),
        wake: Notify::new(),
        max: config.outbox,
        metrics: metrics.clone(),
    });
    let sender = Sender { client, config, setup, kiosks, metrics, clock };
    let queue = outbox.clone();
    let task = tokio::spawn(async move {
        loop {
            while let Some(notice) = queue.pop() {
                tokio::select! {
                    () = sender.deliver(&notice) => {}
                    _ = shutdown.changed() => return,
                }
                // Finished with: not owed after a restart. (Interrupted by the shutdown
                // above, it stays owed.)
                if let Err(e) = mark_done(notice.seq) {
                    tracing::debug!(error = %e, "the webhook's progress could not be marked; the notice may go again");
                }
            }
            tokio::select! {
                () = queue.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    });
    Ok((outbox, task))
}

struct Sender {
    client: reqwest::Client,
    config: WebhookConfig,
    setup: Arc<Setup>,
    kiosks: KioskNames,
    metrics: Arc<Metrics>,
    clock: Clock,
}

impl Sender {
    /// Sends one notice, retrying until it is accepted (any 2xx) or the attempts run out.
    async fn deliver(&self, notice: &Notice) {
        let body = body(&self.setup, &self.kiosks, notice, (self.clock)());
        let delivery = format!("{}-{}", notice.alert.id, notice.change.as_str());
        let mut wait = Duration::from_millis(self.config.backoff_ms);
        for attempt in 1..=self.config.attempts {
            let ts = ((self.clock)().0 / 1000).to_string();
            let sent = self
                .client
                .post(&self.config.url)
                .header("content-type", "application/json")
                .header("x-hallq-timestamp", &ts)
                .header("x-hallq-signature", signature(&self.config.secret, &ts, &body))
                .header("x-hallq-delivery", &delivery)
                .body(body.clone())
                .send()
                .await;
            let why = match sent {
                Ok(r) if r.status().is_success() => {
                    self.metrics.webhook_deliveries.with_label_values(&["delivered"]).inc();
                    return;
                }
                Ok(r) => format!("answered {}", r.status().as_u16()),
                // Without the URL: it may carry the receiver's token.
                Err(e) => e.without_url().to_string(),
            };
            if attempt == self.config.attempts {
                self.metrics.webhook_deliveries.with_label_values(&["failed"]).inc();
                tracing::warn!(alert = notice.alert.id, attempts = attempt, error = %why, "alert webhook gave up");
                return;
            }
            self.metrics.webhook_deliveries.with_label_values(&["retried"]).inc();
            tracing::warn!(alert = notice.alert.id, attempt, error = %why, retry_ms = wait.as_millis() as u64, "alert webhook failed; retrying");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(BACKOFF_MAX);
        }
    }
}

/// `sha256=HEX` of the HMAC-SHA256 under `secret` of `timestamp.body`.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 2 * bytes.len());
    out.push_str("sha256=");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Each kiosk's name by its id, for printer alerts.
pub type KioskNames = std::collections::BTreeMap<String, String>;

/// The JSON body of a notice.
pub fn body(setup: &Setup, kiosks: &KioskNames, notice: &Notice, now: crate::core::model::Ts) -> Vec<u8> {
    let a = &notice.alert;
    let name = subject_name(setup, a, |k| kiosks.get(k).map(String::as_str));
    let cleared = notice.change == Change::Cleared;
    let value = if cleared { a.cleared_value.unwrap_or(a.value) } else { a.value };
    let text = if cleared && a.ended_by_day() {
        format!("【解除】{}预警随服务日结束", name.as_deref().unwrap_or("?"))
    } else if a.kind == AlertKind::Printer {
        printer_text(notice.change, a.fault, name.as_deref().unwrap_or("?"))
    } else {
        text(notice.change, a.kind, name.as_deref().unwrap_or("?"), value, a.threshold)
    };
    let doc = json!({
        "type": format!("alert_{}", notice.change.as_str()),
        "hall": { "id": setup.hall_id, "name": setup.hall_name },
        "alert": {
            "id": a.id,
            "kind": a.kind.as_str(),
            "queue": a.queue.map(|q| q.to_string()),
            "window": a.window.map(|w| w.to_string()),
            "kiosk": a.kiosk.map(|k| k.to_string()),
            "fault": a.fault.map(PrinterFault::as_str),
            "name": name,
            "value": value,
            "threshold": a.threshold,
            "unit": a.kind.unit(),
            "raised_at": rfc3339(setup, a.raised_at),
            "cleared_at": a.cleared_at.map(|t| rfc3339(setup, t)),
            "ended_by_day": cleared && a.ended_by_day(),
            "text": text,
        },
        "at": rfc3339(setup, now),
    });
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// A printer alert's sentence: the kiosk and what is wrong, never a ticket.
fn printer_text(change: Change, fault: Option<PrinterFault>, name: &str) -> String {
    let what = match fault {
        Some(PrinterFault::PaperOut) => "缺纸",
        Some(PrinterFault::CoverOpen) => "纸仓盖未关",
        Some(PrinterFault::Offline) | None => "离线",
    };
    match change {
        Change::Raised => format!("【预警】{name}打印机{what}，号票无法打印"),
        Change::Cleared => format!("【解除】{name}打印机已恢复"),
    }
}

/// One Chinese sentence, for receivers that post the text to a chat group as it is.
fn text(change: Change, kind: AlertKind, name: &str, value: u32, threshold: u32) -> String {
    match (change, kind) {
        // Worded by `printer_text`; here only for completeness.
        (_, AlertKind::Printer) => printer_text(change, None, name),
        (Change::Raised, AlertKind::QueueWaiting) => format!("【预警】{name}排队{value}人（阈值{threshold}人）"),
        (Change::Raised, AlertKind::QueueWait) => format!("【预警】{name}最长等候{value}分钟（阈值{threshold}分钟）"),
        (Change::Raised, AlertKind::WindowPaused) => format!("【预警】{name}暂停{value}分钟（阈值{threshold}分钟）"),
        (Change::Raised, AlertKind::WindowIdle) => {
            format!("【预警】{name}空闲{value}分钟未叫号，仍有人等候（阈值{threshold}分钟）")
        }
        (Change::Cleared, AlertKind::QueueWaiting) => format!("【解除】{name}排队已降至{value}人"),
        (Change::Cleared, AlertKind::QueueWait) => format!("【解除】{name}最长等候已降至{value}分钟"),
        (Change::Cleared, AlertKind::WindowPaused) => format!("【解除】{name}已结束暂停"),
        (Change::Cleared, AlertKind::WindowIdle) => format!("【解除】{name}已恢复叫号"),
        (Change::Raised, AlertKind::QueueUnstaffed) => format!("【预警】{name}{value}人等候，没有开启的窗口办理"),
        (Change::Cleared, AlertKind::QueueUnstaffed) => format!("【解除】{name}已有窗口办理"),
    }
}
