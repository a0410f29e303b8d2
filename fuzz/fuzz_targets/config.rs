//! The configuration loader on arbitrary text: `hall.toml`, then a NUL byte, then the
//! catalogue file. It must answer a configuration or errors, and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (hall, services) = text.split_once('\0').unwrap_or((text, ""));
    let _ = hallq::fuzzing::config(hall, services);
});
