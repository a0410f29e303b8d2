//! Doors for the coverage-guided fuzz targets in `fuzz/` (`cargo fuzz`, see README.md):
//! the parts that read untrusted bytes before anything else checks them. Not an API.

/// Loads a configuration from `hall.toml`'s text, with `services` as every catalogue
/// file it names. Either a configuration or a list of errors; never a panic.
pub fn config(hall: &str, services: &str) -> Result<(), usize> {
    crate::config::load_text(hall, &|_| Ok(services.to_string())).map(drop).map_err(|e| e.0.len())
}

/// The request body's shape check that runs before any JSON parsing: `Err` with the
/// error code it answers.
pub fn body_shape(bytes: &[u8]) -> Result<(), String> {
    crate::http::check_shape(bytes).map_err(|e| e.code.to_string())
}

/// The limits `body_shape` enforces: nesting depth, and bytes of one string as sent.
pub const BODY_DEPTH_MAX: usize = crate::http::BODY_DEPTH_MAX;
pub const BODY_STRING_BYTES_MAX: usize = crate::http::BODY_STRING_BYTES_MAX;
