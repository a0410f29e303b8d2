//! `[hall.appointments]`: the appointment queue, slot length, quota per slot, grace
//! minutes, how far ahead one may book, and the limits per phone number and per client
//! address. The queue is checked once the queues are read.

use super::tree::{Field, Tab};
use super::Errs;
use crate::core::appointments::AppointmentPolicy;
use crate::core::setup::QueueDef;

/// The table as read, before its queue is known to exist.
pub(super) struct RawPolicy {
    queue: Field<String>,
    slot_min: u32,
    quota: u32,
    grace_min: u32,
    days_ahead: u32,
    phone_max: u32,
    address_max: u32,
    address_day_max: u32,
}

/// Reads the table; `None` (with errors) when a key is missing or out of range.
pub(super) fn read(mut t: Tab<'_>, errs: &mut Errs) -> Option<RawPolicy> {
    let queue = t.req_str("queue", errs);
    let mut int = |key: &str, min: i64, max: i64, default: u32| match t.int(key, errs) {
        None => Some(default),
        Some(f) if (min..=max).contains(&f.value) => u32::try_from(f.value).ok(),
        Some(f) => {
            errs.push(f.loc.err(format!("{key} is {}; use a value from {min} to {max}", f.value)));
            None
        }
    };
    let slot_min = int("slot_min", 5, 240, 30);
    let quota = int("quota", 1, 1000, 4);
    let grace_min = int("grace_min", 0, 120, 15);
    let days_ahead = int("days_ahead", 0, 60, 7);
    // Defaults for the example hall's 64 places a day: one person holds at most 3 days;
    // eight addresses together at most half of a day's places.
    let phone_max = int("phone_max", 1, 61, 3);
    let address_max = int("address_max", 0, 100_000, 12);
    let address_day_max = int("address_day_max", 0, 100_000, 4);
    t.finish(errs);
    Some(RawPolicy {
        queue: queue?,
        slot_min: slot_min?,
        quota: quota?,
        grace_min: grace_min?,
        days_ahead: days_ahead?,
        phone_max: phone_max?,
        address_max: address_max?,
        address_day_max: address_day_max?,
    })
}

/// The policy, once its queue is found among `queues`.
pub(super) fn resolve(raw: RawPolicy, queues: &[QueueDef], errs: &mut Errs) -> Option<AppointmentPolicy> {
    let Some(queue) = queues.iter().find(|q| q.id.as_str() == raw.queue.value).map(|q| q.id) else {
        let name = &raw.queue.value;
        errs.push(raw.queue.loc.err(format!("unknown queue {name:?}; name a declared queue for appointment tickets")));
        return None;
    };
    Some(AppointmentPolicy {
        queue,
        slot_min: raw.slot_min,
        quota: raw.quota,
        grace_min: raw.grace_min,
        days_ahead: raw.days_ahead,
        phone_max: raw.phone_max,
        address_max: raw.address_max,
        address_day_max: raw.address_day_max,
    })
}
