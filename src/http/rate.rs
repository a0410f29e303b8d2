//! Rate limits: token buckets keyed by kiosk, client address or login name, with the
//! time passed in (so tests drive it with the daemon's injected clock). The bound on
//! password checks (argon2) running at once is `password_checks.rs`.
//!
//! A bucket holds up to `burst` tokens and gains one each `refill_ms`; a request takes
//! one or is refused with the time until the next. The buckets of one limiter are bounded
//! ([`KEYS_MAX`]): when full, buckets that have refilled completely are forgotten (which
//! loses nothing: a fresh bucket is a full one), and if that is not enough, the half
//! touched longest ago.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::listen::ClientAddr;
pub use super::password_checks::{PasswordChecks, PasswordSlot, PASSWORD_CHECK_WAIT};
use super::AppState;
use crate::config::{Rate, RateLimits};

/// Keys one limiter tracks at once: a hall has tens of kiosks and hundreds of phones; an
/// attacker with many addresses finds the oldest forgotten rather than memory exhausted.
pub const KEYS_MAX: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: u32,
    /// When the bucket was last refilled (ms); tokens accrue from here.
    since_ms: i64,
    /// When a request last used this bucket (ms): eviction forgets the longest idle.
    touched_ms: i64,
}

/// Token buckets of one rate, one per key.
pub struct Limiter<K> {
    rate: Rate,
    keys_max: usize,
    map: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(rate: Rate, keys_max: usize) -> Self {
        Self { rate, keys_max: keys_max.max(1), map: Mutex::new(HashMap::new()) }
    }

    /// Buckets refilled up to `now_ms`: whole refill intervals only, never past `burst`.
    /// A clock that went back adds nothing.
    fn refill(rate: Rate, b: &mut Bucket, now_ms: i64) {
        let refill = i64::try_from(rate.refill_ms).unwrap_or(i64::MAX).max(1);
        let steps = (now_ms - b.since_ms).max(0) / refill;
        let room = i64::from(rate.burst - b.tokens.min(rate.burst));
        if steps >= room {
            b.tokens = rate.burst;
            b.since_ms = now_ms.max(b.since_ms);
        } else {
            b.tokens += u32::try_from(steps).unwrap_or(0);
            b.since_ms += steps * refill;
        }
    }

    /// Takes one token for `key` at `now_ms`; `Err` holds the milliseconds until one is
    /// back. An `OFF` rate always allows.
    pub fn take(&self, key: &K, now_ms: i64) -> Result<(), u64> {
        if self.rate.is_off() {
            return Ok(());
        }
        let rate = self.rate;
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !map.contains_key(key) && map.len() >= self.keys_max {
            Self::evict(&mut map, rate, self.keys_max, now_ms);
        }
        let b = map.entry(key.clone()).or_insert(Bucket { tokens: rate.burst, since_ms: now_ms, touched_ms: now_ms });
        Self::refill(rate, b, now_ms);
        b.touched_ms = b.touched_ms.max(now_ms);
        if b.tokens > 0 {
            b.tokens -= 1;
            return Ok(());
        }
        let next = b.since_ms.saturating_add(i64::try_from(rate.refill_ms).unwrap_or(i64::MAX));
        Err(u64::try_from(next - now_ms).unwrap_or(0).max(1))
    }

    /// Whether `key` has a token at `now_ms`, taking none; `Err` holds the milliseconds
    /// until one is back. For limits charged only when a request turns out to count (a
    /// failed login).
    pub fn peek(&self, key: &K, now_ms: i64) -> Result<(), u64> {
        if self.rate.is_off() {
            return Ok(());
        }
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(b) = map.get_mut(key) else { return Ok(()) };
        Self::refill(self.rate, b, now_ms);
        if b.tokens > 0 {
            return Ok(());
        }
        let next = b.since_ms.saturating_add(i64::try_from(self.rate.refill_ms).unwrap_or(i64::MAX));
        Err(u64::try_from(next - now_ms).unwrap_or(0).max(1))
    }

    /// Whether this limit is turned off (a burst of 0).
    pub fn is_off(&self) -> bool {
        self.rate.is_off()
    }

    fn evict(map: &mut HashMap<K, Bucket>, rate: Rate, keys_max: usize, now_ms: i64) {
        map.retain(|_, b| {
            Self::refill(rate, b, now_ms);
            b.tokens < rate.burst
        });
        if map.len() >= keys_max {
            let mut ages: Vec<i64> = map.values().map(|b| b.touched_ms).collect();
            let half = ages.len() / 2;
            let (_, cut, _) = ages.select_nth_unstable(half);
            let cut = *cut;
            map.retain(|_, b| b.touched_ms > cut);
        }
    }

    /// Keys tracked now.
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every limiter of the daemon.
pub struct Limits {
    pub kiosk: Limiter<String>,
    /// Kiosks with a limit of their own (`[[kiosk]] burst`/`refill_ms`), by id.
    pub kiosk_own: std::collections::HashMap<String, Limiter<String>>,
    pub public: Limiter<IpAddr>,
    /// Failed logins per user name and client address (`login_failures`).
    pub login_pair: Limiter<(String, IpAddr)>,
    /// Failed logins per user name from addresses past their own limit
    /// (`login_name_failures`).
    pub login_name: Limiter<String>,
    /// Successful logins per user (`user_logins`).
    pub user_logins: Limiter<String>,
    pub password_checks: PasswordChecks,
    /// 助企服务: credit codes looked up per kiosk (`http::enterprises`).
    pub enterprise_codes: Limiter<String>,
    /// 全程领办: reads of a guide's visitors per guide (`http::guides::page`).
    pub guide_reads: Limiter<String>,
}

impl Limits {
    /// The issuing limiter of kiosk `id`: its own, or the hall's.
    pub fn for_kiosk(&self, id: &str) -> &Limiter<String> {
        self.kiosk_own.get(id).unwrap_or(&self.kiosk)
    }

    pub fn new(limits: &RateLimits, kiosks: &[crate::config::KioskDef]) -> Self {
        let own = kiosks.iter().filter_map(|k| k.rate.map(|r| (k.id.clone(), Limiter::new(r, 4))));
        Self {
            kiosk: Limiter::new(limits.kiosk, KEYS_MAX),
            kiosk_own: own.collect(),
            public: Limiter::new(limits.public, KEYS_MAX),
            login_pair: Limiter::new(limits.login, KEYS_MAX),
            login_name: Limiter::new(limits.login_name, KEYS_MAX),
            user_logins: Limiter::new(limits.user_logins, KEYS_MAX),
            password_checks: PasswordChecks::per_core(),
            enterprise_codes: super::enterprises::code_limiter(limits),
            guide_reads: Limiter::new(limits.guide_reads, KEYS_MAX),
        }
    }
}

/// The address a request came from, as a rate-limit key: an IPv6 address counts by its
/// /64, which one household or phone holds whole. Without connection info (a router
/// served without it) every request shares one key, which limits rather than lets through.
#[derive(Clone, Copy, Debug)]
pub struct Client(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<ClientAddr>>()
            .map_or(IpAddr::from(Ipv6Addr::UNSPECIFIED), |ConnectInfo(ClientAddr(a))| a.ip());
        Ok(Client(key_of(ip)))
    }
}

pub(crate) fn key_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Middleware of the anonymous ticket and booking endpoints: one bucket per client address.
pub async fn public(State(app): State<AppState>, client: Client, req: Request, next: Next) -> Response {
    match app.edge.limits.public.take(&client.0, app.now().0) {
        Ok(()) => next.run(req).await,
        Err(ms) => ApiError::too_many("from your address", ms).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate { burst: 3, refill_ms: 1_000 };

    #[test]
    fn a_burst_then_one_per_interval() {
        let l: Limiter<&str> = Limiter::new(RATE, 10);
        assert!((0..3).all(|_| l.take(&"k", 0).is_ok()));
        assert_eq!(l.take(&"k", 0), Err(1_000));
        assert_eq!(l.take(&"k", 400), Err(600));
        assert_eq!(l.take(&"k", 1_000), Ok(()));
        assert_eq!(l.take(&"k", 1_500), Err(500));
        // Another key has its own bucket.
        assert_eq!(l.take(&"other", 1_500), Ok(()));
        // A long pause refills only up to the burst.
        assert!((0..3).all(|_| l.take(&"k", 100_000).is_ok()));
        assert!(l.take(&"k", 100_000).is_err());
    }

    #[test]
    fn a_clock_going_back_adds_nothing() {
        let l: Limiter<&str> = Limiter::new(RATE, 10);
        assert!((0..3).all(|_| l.take(&"k", 10_000).is_ok()));
        assert!(l.take(&"k", 0).is_err());
        assert!(l.take(&"k", 10_500).is_err());
        assert!(l.take(&"k", 11_000).is_ok());
    }

    #[test]
    fn off_never_refuses_and_tracks_nothing() {
        let l: Limiter<u32> = Limiter::new(Rate::OFF, 10);
        assert!((0..1_000).all(|i| l.take(&i, 0).is_ok()));
        assert!(l.is_empty());
    }

    #[test]
    fn peeking_takes_nothing() {
        let l: Limiter<&str> = Limiter::new(RATE, 10);
        assert!((0..10).all(|_| l.peek(&"k", 0).is_ok()));
        assert!(l.is_empty(), "an unknown key is a full bucket, and stays untracked");
        assert!((0..3).all(|_| l.take(&"k", 0).is_ok()));
        assert_eq!(l.peek(&"k", 400), Err(600));
        assert_eq!(l.peek(&"k", 1_000), Ok(()));
        assert_eq!(l.take(&"k", 1_000), Ok(()));
        assert!(l.peek(&"k", 1_000).is_err());
    }

    #[test]
    fn keys_stay_bounded_and_the_busy_ones_are_kept() {
        let l: Limiter<u32> = Limiter::new(RATE, 100);
        // Key 0 is used up and, used often, stays used up while thousands of others come
        // and go.
        assert!((0..3).all(|_| l.take(&0, 0).is_ok()));
        for i in 1..5_000u32 {
            let _ = l.take(&i, i64::from(i / 10));
            if i % 10 == 0 {
                assert!(l.take(&0, i64::from(i / 10)).is_err(), "key 0 was forgotten at {i}");
            }
            assert!(l.len() <= 100, "{} keys tracked", l.len());
        }
        // Idle keys whose buckets refilled were forgotten first.
        for i in 5_000..5_200u32 {
            let _ = l.take(&i, 60_000);
            assert!(l.len() <= 100);
        }
        assert!(l.take(&0, 60_000).is_ok(), "a refilled bucket, whether kept or forgotten, allows");
    }

    #[test]
    fn ipv6_counts_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(key_of(a), key_of(b));
        assert_ne!(key_of(a), key_of(c));
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(key_of(mapped), "10.0.0.7".parse::<IpAddr>().unwrap());
    }
}
