//! The bounds of a configuration: how many of each table, how long each text, the range
//! of each number. `hallq check` and the loader refuse anything past them, naming the key.
//! Re-exported by `config`.

/// Most queues in a hall; tickets carry a 1–2 letter prefix per queue.
pub const MAX_QUEUES: usize = 64;
/// Most priority classes.
pub const MAX_PRIORITIES: usize = 16;
/// Most windows (counters); the largest district halls have about 100.
pub const MAX_WINDOWS: usize = 200;
/// Most kiosks (ticket machines).
pub const MAX_KIOSKS: usize = 100;
/// Most users (clerks, supervisors, admins).
pub const MAX_USERS: usize = 1_000;
/// Most service items; a district catalogue has a few hundred to two thousand.
pub const MAX_ITEMS: usize = 5_000;
/// Most categories shown on the kiosk.
pub const MAX_CATEGORIES: usize = 200;
/// Most bundles (一件事).
pub const MAX_BUNDLES: usize = 500;
/// Most items in one bundle.
pub const MAX_BUNDLE_ITEMS: usize = 20;
/// Most materials listed for one item.
pub const MAX_MATERIALS: usize = 30;
/// Longest 承诺办结时限 (`limit_days`) of an item, in working days: a year's.
pub const MAX_LIMIT_DAYS: i64 = 365;
/// Most opening-hour spans in a day.
pub const MAX_HOURS_SPANS: usize = 8;
/// Longest name (hall, queue, window, item, category, department, ...), in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest free text (a material, the call-out template), in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// Longest kiosk id, in characters.
pub const MAX_KIOSK_ID_CHARS: usize = 32;
/// Shortest kiosk token, in characters: shorter ones are guessable.
pub const MIN_TOKEN_CHARS: usize = 8;
/// Longest kiosk token, in characters.
pub const MAX_TOKEN_CHARS: usize = 256;
/// Longest password hash string, in characters.
pub const MAX_HASH_CHARS: usize = 256;
/// Most memory an argon2 hash may ask for at login, in KiB: a config must not be able to
/// make one login allocate gigabytes.
pub const MAX_HASH_MEMORY_KIB: u32 = 256 * 1024;
/// Most argon2 passes (time cost) a hash may ask for.
pub const MAX_HASH_PASSES: u32 = 16;
/// Expected counter time of one item, in minutes.
pub const MAX_ITEM_MINUTES: i64 = 240;
/// Most times a call-out is spoken.
pub const MAX_CALL_REPEAT: i64 = 5;
/// Most ordinary calls per priority call at one window: past about a hundred a priority
/// visitor would wait as long as anyone, which `max_wait_min` already promises.
pub const MAX_PRIORITY_RATIO: i64 = 100;
/// Most recalls after a call: past a handful the visitor is not coming.
pub const MAX_RECALLS: i64 = 10;
/// Longest time a missed number may rejoin, in minutes (half a day).
pub const MAX_REJOIN_MIN: i64 = 12 * 60;
/// Longest cooldown between calls of one ticket at different windows, in minutes.
pub const MAX_COOLDOWN_MIN: i64 = 60;
/// Most tickets one window may hold parked.
pub const MAX_PARKED: i64 = 20;
/// Longest wait threshold, in minutes (one day).
pub const MAX_WAIT_MIN: i64 = 24 * 60;
/// Shortest and longest session lifetime, in seconds (one minute to seven days).
pub const MIN_SESSION_TTL_S: i64 = 60;
pub const MAX_SESSION_TTL_S: i64 = 7 * 24 * 3600;
