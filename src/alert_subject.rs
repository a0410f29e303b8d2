//! What an alert is about, in words: the name of its queue, window or kiosk. Both the
//! webhook's notices and the supervisors' alert list name it, so it lives below both.

use crate::core::alerts::Alert;
use crate::core::setup::Setup;

/// The name `a`'s subject goes by: its queue's or window's from `setup`, or its kiosk's
/// from `kiosk_name` (id → name; the id itself for a kiosk it does not know).
pub fn subject_name<'k>(setup: &Setup, a: &Alert, kiosk_name: impl Fn(&str) -> Option<&'k str>) -> Option<String> {
    match (a.queue, a.window, a.kiosk) {
        (Some(q), _, _) => setup.queue(&q).map(|q| q.name.clone()),
        (None, Some(w), _) => setup.windows.iter().find(|d| d.id == w).map(|d| d.name.clone()),
        (None, None, Some(k)) => Some(kiosk_name(k.as_str()).map_or_else(|| k.to_string(), str::to_string)),
        (None, None, None) => None,
    }
}
