//! The request body's shape check against serde_json: whatever the check lets through
//! and parses as JSON nests no deeper, and holds no longer string, than the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Nesting depth of objects and arrays, and the longest string (key or value) in bytes.
fn measure(v: &Value) -> (usize, usize) {
    match v {
        Value::Array(items) => items.iter().map(measure).fold((1, 0), |(d, s), (d2, s2)| (d.max(d2 + 1), s.max(s2))),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let (d, s) = measure(v);
                (d, s.max(k.len()))
            })
            .fold((1, 0), |(d, s), (d2, s2)| (d.max(d2 + 1), s.max(s2))),
        Value::String(s) => (0, s.len()),
        _ => (0, 0),
    }
}

fuzz_target!(|data: &[u8]| {
    let shape = hallq::fuzzing::body_shape(data);
    if shape.is_err() {
        return;
    }
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    let (depth, longest) = measure(&value);
    assert!(depth <= hallq::fuzzing::BODY_DEPTH_MAX, "depth {depth} passed the check");
    // A decoded string is never longer than it was as sent (escapes only shrink).
    assert!(longest <= hallq::fuzzing::BODY_STRING_BYTES_MAX, "a {longest}-byte string passed the check");
});
