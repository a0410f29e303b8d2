//! What guards a hall that faces real people and networks: `[hall.limits]` (how fast one
//! kiosk, one client address and one login name may go), `[hall] tls_cert`/`tls_key`
//! (serve HTTPS) and `[hall] metrics_token` (who may scrape `/metrics`). The shell
//! (`src/http/`) enforces them; here they are only read and checked.

use std::path::PathBuf;

use super::tree::Tab;
use super::Errs;
use crate::core::clerk_moves::PersonLimits;

/// Largest burst of any limit: past this a limit no longer limits anything a hall does.
const BURST_MAX: i64 = 10_000;
/// Longest refill interval of a rate limit, in milliseconds (one hour).
const REFILL_MS_MAX: i64 = 3_600_000;
/// Longest wait for one more login try, in seconds (one day).
const LOGIN_REFILL_S_MAX: i64 = 86_400;

/// One token bucket: `burst` requests at once, then one more each `refill_ms`. A burst of
/// 0 turns the limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub refill_ms: u64,
}

impl Rate {
    pub const OFF: Rate = Rate { burst: 0, refill_ms: 1 };

    pub fn is_off(self) -> bool {
        self.burst == 0
    }
}

/// `[hall.limits]`, with the defaults a hall gets when the table or a key is absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Tickets one kiosk token may issue: a stuck key must not print a roll of paper.
    pub kiosk: Rate,
    /// Requests of one client address on the anonymous ticket and booking endpoints.
    pub public: Rate,
    /// Failed logins per user name and client address together: one address's failures
    /// never hold up the name elsewhere.
    pub login: Rate,
    /// Failed logins of one user name from addresses past their own `login` limit: only a
    /// flood of failures for a name refuses its right password (behind a proxy, where every
    /// client has the proxy's address, that is the only limit that can refuse it).
    pub login_name: Rate,
    /// Successful logins of one user: each is a record in the log, so a user logging in
    /// in a loop must not fill the disk. Only the password's holder can use these up.
    pub user_logins: Rate,
    /// Credit codes one kiosk may look up (助企服务, issue 17 follow-up point 3): each
    /// answer tells whether a code is registered here, so a script must not try codes.
    pub enterprise_codes: Rate,
    /// Reads of a guide's own visitors (`GET /api/v1/guide`) per guide: each is a read on
    /// the engine, the hall's one writer, so a guide's session asking in a loop must not
    /// hold up the kiosks.
    pub guide_reads: Rate,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            // A burst of five (a family at the kiosk), then one ticket every two seconds.
            kiosk: Rate { burst: 5, refill_ms: 2_000 },
            // A phone's status page polls every 30 s; sixty at once and one a second leaves
            // room for a busy hall's shared address and none for guessing ids or codes.
            public: Rate { burst: 60, refill_ms: 1_000 },
            // Five wrong passwords from one address, then one more try a minute.
            login: Rate { burst: 5, refill_ms: 60_000 },
            // A hundred more for the name, then one each 10 s: far beyond anyone mistyping,
            // so the right password goes through unless someone floods the name.
            login_name: Rate { burst: 100, refill_ms: 10_000 },
            // Twenty sign-ins at once (a supervisor opening every page in a tab), then one
            // each 10 s: at most 8,640 log records a day per user.
            user_logins: Rate { burst: 20, refill_ms: 10_000 },
            // Five codes at once (a queue of enterprise visitors at the door), then one each
            // 12 s: a visitor a minute with a typing mistake each is served; a script trying
            // codes learns of at most 300 an hour per kiosk.
            enterprise_codes: Rate { burst: 5, refill_ms: 12_000 },
            // The guide's page reads at most once a second from each open page (a burst of
            // feed messages), and once after each of the guide's own acts: ten at once and
            // four a second leave a guide with a phone and a tablet room to spare.
            guide_reads: Rate { burst: 10, refill_ms: 250 },
        }
    }
}

impl RateLimits {
    /// No limit at all: for load tests and benchmarks that drive one kiosk hard.
    pub const OFF: RateLimits = RateLimits {
        kiosk: Rate::OFF,
        public: Rate::OFF,
        login: Rate::OFF,
        login_name: Rate::OFF,
        user_logins: Rate::OFF,
        enterprise_codes: Rate::OFF,
        guide_reads: Rate::OFF,
    };
}

/// The certificate chain and private key (PEM files) to serve HTTPS with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The integer at `key`, if given and within `min..=max`; out of range it is reported.
pub(super) fn int_within(t: &mut Tab<'_>, key: &str, min: i64, max: i64, errs: &mut Errs) -> Option<u64> {
    match t.int(key, errs) {
        Some(f) if (min..=max).contains(&f.value) => Some(f.value.unsigned_abs()),
        Some(f) => {
            errs.push(f.loc.err(format!("{key} is {}; use a value from {min} to {max}", f.value)));
            None
        }
        None => None,
    }
}

/// Reads a `[[kiosk]]`'s own `burst` and `refill_ms`, if it gives either; the other is
/// taken from `hall`'s kiosk limit.
pub(super) fn read_kiosk_rate(t: &mut Tab<'_>, errs: &mut Errs) -> Option<Rate> {
    let mut int = |key: &str, min: i64, max: i64| int_within(t, key, min, max, errs);
    let burst = int("burst", 0, BURST_MAX).map(|v| u32::try_from(v).unwrap_or(u32::MAX));
    let refill_ms = int("refill_ms", 1, REFILL_MS_MAX);
    if burst.is_none() && refill_ms.is_none() {
        return None;
    }
    let default = RateLimits::default().kiosk;
    Some(Rate { burst: burst.unwrap_or(default.burst), refill_ms: refill_ms.unwrap_or(default.refill_ms) })
}

/// Reads `[hall.limits]`: the rate limits, and the kiosk's per-person limits
/// (`read_person_limits`); a bad key is reported and its default kept.
pub(super) fn read_limits(mut t: Tab<'_>, errs: &mut Errs) -> (RateLimits, PersonLimits) {
    let person = read_person_limits(&mut t, errs);
    let mut limits = RateLimits::default();
    let mut int = |key: &str, min: i64, max: i64| int_within(&mut t, key, min, max, errs);
    let burst = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    if let Some(v) = int("kiosk_burst", 0, BURST_MAX) {
        limits.kiosk.burst = burst(v);
    }
    if let Some(v) = int("kiosk_refill_ms", 1, REFILL_MS_MAX) {
        limits.kiosk.refill_ms = v;
    }
    if let Some(v) = int("public_burst", 0, BURST_MAX) {
        limits.public.burst = burst(v);
    }
    if let Some(v) = int("public_refill_ms", 1, REFILL_MS_MAX) {
        limits.public.refill_ms = v;
    }
    if let Some(v) = int("login_failures", 0, BURST_MAX) {
        limits.login.burst = burst(v);
    }
    if let Some(v) = int("login_refill_s", 1, LOGIN_REFILL_S_MAX) {
        limits.login.refill_ms = v * 1_000;
    }
    if let Some(v) = int("login_name_failures", 0, BURST_MAX) {
        limits.login_name.burst = burst(v);
    }
    if let Some(v) = int("login_name_refill_s", 1, LOGIN_REFILL_S_MAX) {
        limits.login_name.refill_ms = v * 1_000;
    }
    if let Some(v) = int("user_logins", 0, BURST_MAX) {
        limits.user_logins.burst = burst(v);
    }
    if let Some(v) = int("user_logins_refill_s", 1, LOGIN_REFILL_S_MAX) {
        limits.user_logins.refill_ms = v * 1_000;
    }
    // The credit-code look-ups (issue 17 follow-up point 3): never off on their own, as
    // that would let a kiosk try codes without end; only a load test's `kiosk_burst = 0`
    // lifts them (`http::enterprises::code_limiter`).
    if let Some(v) = int("enterprise_code_burst", 1, BURST_MAX) {
        limits.enterprise_codes.burst = burst(v);
    }
    if let Some(v) = int("enterprise_code_refill_ms", 1, REFILL_MS_MAX) {
        limits.enterprise_codes.refill_ms = v;
    }
    if let Some(v) = int("guide_reads_burst", 0, BURST_MAX) {
        limits.guide_reads.burst = burst(v);
    }
    if let Some(v) = int("guide_reads_refill_ms", 1, REFILL_MS_MAX) {
        limits.guide_reads.refill_ms = v;
    }
    t.finish(errs);
    (limits, person)
}

/// `[hall] metrics_token`: the bearer token a Prometheus scraper sends for `/metrics`. Its
/// `Debug` hides it, so that no log line or panic carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(pub String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(..)")
    }
}

/// Reads `metrics_token` of `[hall]`: printable ASCII without spaces, as long as a kiosk
/// token may be.
pub(super) fn read_metrics_token(hall: &mut Tab<'_>, errs: &mut Errs) -> Option<MetricsToken> {
    use super::{MAX_TOKEN_CHARS, MIN_TOKEN_CHARS};
    let tok = hall.str("metrics_token", errs)?;
    let n = tok.value.chars().count();
    if !(MIN_TOKEN_CHARS..=MAX_TOKEN_CHARS).contains(&n) || !tok.value.chars().all(|c| c.is_ascii_graphic()) {
        errs.push(tok.loc.err(format!(
            "bad metrics_token; use {MIN_TOKEN_CHARS} to {MAX_TOKEN_CHARS} printable ASCII characters without spaces"
        )));
        return None;
    }
    Some(MetricsToken(tok.value))
}

/// Reads `tls_cert` and `tls_key` of `[hall]`: both or neither. The files themselves are
/// read when the daemon starts, so that `hallq check` runs anywhere.
pub(super) fn read_tls(hall: &mut Tab<'_>, errs: &mut Errs) -> Option<TlsFiles> {
    let cert = hall.str("tls_cert", errs);
    let key = hall.str("tls_key", errs);
    match (cert, key) {
        (Some(c), Some(k)) => {
            let mut ok = true;
            for f in [&c, &k] {
                if f.value.trim().is_empty() {
                    errs.push(f.loc.err("the path is empty; name a PEM file"));
                    ok = false;
                }
            }
            ok.then(|| TlsFiles { cert: PathBuf::from(c.value), key: PathBuf::from(k.value) })
        }
        (Some(one), None) | (None, Some(one)) => {
            errs.push(one.loc.err("set both tls_cert and tls_key (PEM files), or neither"));
            None
        }
        (None, None) => None,
    }
}

/// Most tickets one person may be allowed in a day: past this the limit limits nothing
/// a person does in a hall.
pub const TICKETS_PER_PERSON_MAX: i64 = 100;
/// Most no-shows a hall may let a person have before the wait.
pub const NO_SHOWS_BEFORE_WAIT_MAX: i64 = 20;
/// Longest wait after the no-shows, in minutes (the hall's longest day).
pub const NO_SHOW_WAIT_MINUTES_MAX: i64 = 24 * 60;

/// Reads `[hall.limits]`' per-person limits at the kiosk (issue 17 §4, anti-scalping):
/// absent keys leave a limit off; with either on, the kiosk reads an ID card before it
/// issues (`src/http/moves.rs`).
fn read_person_limits(t: &mut Tab<'_>, errs: &mut Errs) -> PersonLimits {
    let mut out = PersonLimits::default();
    let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    out.tickets_per_day = int_within(t, "tickets_per_person_per_day", 1, TICKETS_PER_PERSON_MAX, errs).map(narrow);
    let before = int_within(t, "no_shows_before_wait", 1, NO_SHOWS_BEFORE_WAIT_MAX, errs).map(narrow);
    let mut wait_loc = t.loc();
    wait_loc.key = format!("{}.no_show_wait_minutes", wait_loc.key);
    let wait = int_within(t, "no_show_wait_minutes", 1, NO_SHOW_WAIT_MINUTES_MAX, errs).map(narrow);
    match (before, wait) {
        (Some(n), Some(w)) => (out.no_shows_before_wait, out.no_show_wait_min) = (Some(n), w),
        (None, None) => {}
        // One without the other is a hall that meant a cool-down and would get none.
        (Some(_), None) | (None, Some(_)) => errs.push(wait_loc.err(
            "no_shows_before_wait and no_show_wait_minutes go together; give both, or neither to turn the no-show wait off",
        )),
    }
    out
}
