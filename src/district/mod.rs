//! The district (issue 18): halls linked over NATS JetStream. A hall with `[district]` in
//! its hall.toml publishes its log to its own stream (`uplink`); without it, the hall runs
//! alone exactly as before.

pub mod uplink;

pub use uplink::{Uplink, UplinkError, SEQ_HEADER};
