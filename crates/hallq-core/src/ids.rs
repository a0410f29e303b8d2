//! The hall's typed ids: queues, windows, kiosks, number prefixes, users and services,
//! each checked when parsed, and the ticket's unguessable 128-bit id. Re-exported by
//! `model`, where the rest of the plain data is.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string was refused as an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be {rule}; got {got:?}")]
pub struct IdError {
    pub what: &'static str,
    pub rule: &'static str,
    pub got: String,
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $rule:literal, $max:expr, $ok:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `s` against the id's rule.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let ok: fn(char) -> bool = $ok;
                if s.is_empty() || s.chars().count() > $max || !s.chars().all(ok) {
                    return Err(IdError { what: $what, rule: $rule, got: s.chars().take(40).collect() });
                }
                Ok(Self(s.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// An id of at most `$max` ASCII bytes kept inline, zero-padded, so that the state's many
/// maps by it compare and copy without touching the heap. The derived order of the
/// padded bytes is the order of the strings (no id holds a zero byte).
macro_rules! inline_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $rule:literal, $max:expr, $ok:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; $max]);

        impl $name {
            const WHAT: &'static str = $what;
            const RULE: &'static str = $rule;

            /// Checks `s` against the id's rule.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let ok: fn(u8) -> bool = $ok;
                if s.is_empty() || s.len() > $max || !s.bytes().all(ok) {
                    return Err(IdError { what: Self::WHAT, rule: Self::RULE, got: s.chars().take(40).collect() });
                }
                let mut bytes = [0u8; $max];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                Ok(Self(bytes))
            }

            pub fn as_str(&self) -> &str {
                let len = self.0.iter().position(|&b| b == 0).unwrap_or(self.0.len());
                // Only ASCII ever gets in (`parse`), so this never falls back.
                std::str::from_utf8(&self.0[..len]).unwrap_or_default()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(IdVisitor(Self::RULE, Self::parse))
            }
        }
    };
}

inline_id!(
    /// A queue: `A` comprehensive, `B` enterprise, `V` priority, ...
    QueueId, "a queue id", "1 to 8 ASCII letters or digits", 8, |b| b.is_ascii_alphanumeric()
);
inline_id!(
    /// A window (counter), e.g. `5`.
    WindowId, "a window id", "1 to 16 ASCII letters, digits, '-' or '_'", 16, |b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
);
inline_id!(
    /// A kiosk (ticket machine), e.g. `kiosk1`: what a printer alert names.
    KioskId, "a kiosk id", "1 to 32 ASCII letters, digits, '-' or '_'", 32, |b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
);
inline_id!(
    /// The letters a queue's numbers begin with, e.g. `A` (`A012`).
    Prefix, "a number prefix", "1 to 8 ASCII letters or digits", 8, |b| b.is_ascii_alphanumeric()
);

impl From<QueueId> for Prefix {
    /// A queue's id as a prefix (same rule, same size): for a queue the config no longer
    /// names.
    fn from(q: QueueId) -> Self {
        Self(q.0)
    }
}

/// Reads an id written as a string, by the id's `parse`.
struct IdVisitor<T>(&'static str, fn(&str) -> Result<T, IdError>);

impl<T> serde::de::Visitor<'_> for IdVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        (self.1)(v).map_err(E::custom)
    }
}
string_id!(
    /// A service item's code, e.g. `SC-0042`.
    ServiceCode, "a service code", "1 to 32 ASCII letters, digits, '-' or '_'", 32, id_char
);
string_id!(
    /// A bundle (一件事) id, e.g. `YJS-03`.
    BundleId, "a bundle id", "1 to 32 ASCII letters, digits, '-' or '_'", 32, id_char
);
string_id!(
    /// A priority class, e.g. `elderly`.
    PriorityClass, "a priority class", "1 to 32 ASCII letters, digits, '-' or '_'", 32, id_char
);
string_id!(
    /// A user's login name, e.g. `clerk1`.
    UserName, "a user name", "1 to 64 ASCII letters, digits, '-' or '_'", 64, id_char
);

/// The unguessable id of a ticket: 128 bits made by the shell from a random source (the
/// core has none), written as 32 lowercase hex digits everywhere outside the core.
///
/// Inside it is a plain integer, so the state's maps compare and copy ids without
/// touching the heap; its order is the order of the hex strings (same width).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketId(u128);

impl TicketId {
    const WHAT: &'static str = "a ticket id";
    const RULE: &'static str = "32 lowercase hex digits";

    /// Builds an id from 16 random bytes supplied by the caller.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(u128::from_be_bytes(bytes))
    }

    /// The id's 16 bytes, as `from_bytes` took them.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// Checks `s` is exactly 32 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if s.len() != 32 || !s.bytes().all(hex) {
            return Err(IdError { what: Self::WHAT, rule: Self::RULE, got: s.chars().take(40).collect() });
        }
        u128::from_str_radix(s, 16).map(Self).map_err(|_| IdError {
            what: Self::WHAT,
            rule: Self::RULE,
            got: s.chars().take(40).collect(),
        })
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TicketId({self})")
    }
}

impl Serialize for TicketId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TicketId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(IdVisitor(TicketId::RULE, TicketId::parse))
    }
}

// 助企服务 (issue 17 §3).
string_id!(
    /// An enterprise of the hall's 助企服务 registry, e.g. `E001` (never its credit code).
    EnterpriseId, "an enterprise id", "1 to 32 ASCII letters, digits, '-' or '_'", 32, id_char
);
