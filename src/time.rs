//! Time below every layer: the clock the daemon reads and how a moment is written for
//! people and programs, always in the hall's time zone. The engine, the feed, the printer,
//! the webhook and the HTTP edge take them from here; nothing here knows of any of them.

use std::sync::Arc;

use chrono::{DateTime, TimeZone};
use chrono_tz::Tz;

use crate::core::model::Ts;
use crate::core::setup::Setup;

/// Where the daemon reads the time; it passes the wall clock, tests their own.
pub type Clock = Arc<dyn Fn() -> Ts + Send + Sync>;

/// The wall clock as the core's time.
pub fn wall_clock() -> Ts {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Ts(ms)
}

/// `at` on the hall's clock; none for a moment the time zone cannot name.
pub fn local(setup: &Setup, at: Ts) -> Option<DateTime<Tz>> {
    setup.timezone.timestamp_millis_opt(at.0).single()
}

/// RFC 3339 with the hall's offset, e.g. `2026-11-27T09:30:00+08:00`.
pub fn rfc3339(setup: &Setup, at: Ts) -> String {
    local(setup, at).map_or_else(String::new, |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
}

/// The hall's local date and time to the minute, e.g. `2026-03-10 10:00` (a printed
/// ticket's time of issue).
pub fn local_minute(setup: &Setup, at: Ts) -> String {
    local(setup, at).map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// The hall's local date and time to the second, e.g. `2026-03-10 10:00:30` (a CSV export).
pub fn local_second(setup: &Setup, at: Ts) -> String {
    local(setup, at).map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// The hall's local time of day, `HH:MM` (a booking's slot).
pub fn local_hm(setup: &Setup, at: Ts) -> String {
    local(setup, at).map_or_else(String::new, |t| t.format("%H:%M").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_is_written_in_the_halls_zone() {
        let setup = crate::config::embedded_default().expect("the embedded hall loads").setup;
        // 2026-03-10 02:00:30 UTC is 10:00:30 in Shanghai.
        let at = Ts(1_773_108_030_000);
        assert_eq!(rfc3339(&setup, at), "2026-03-10T10:00:30+08:00");
        assert_eq!(local_minute(&setup, at), "2026-03-10 10:00");
        assert_eq!(local_second(&setup, at), "2026-03-10 10:00:30");
        assert_eq!(local_hm(&setup, at), "10:00");
    }
}
