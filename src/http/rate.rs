//! Rate limits: token buckets keyed by kiosk, client address or login name, with the
//! time passed in (so tests drive it with the daemon's injected clock); and the bound on
//! password checks (argon2) running at once.
//!
//! A bucket holds up to `burst` tokens and gains one each `refill_ms`; a request takes
//! one or is refused with the time until the next. The buckets of one limiter are bounded
//! ([`KEYS_MAX`]): when full, buckets that have refilled completely are forgotten (which
//! loses nothing: a fresh bucket is a full one), and if that is not enough, the half
//! touched longest ago.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::listen::ClientAddr;
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

/// Password checks waiting for a free slot at once; past this a login is answered 429 at
/// once. A waiting check holds only its request, but this many already mean seconds.
pub const PASSWORD_CHECKS_WAITING_MAX: usize = 64;
/// Password checks waiting at once for one client address: trying many names from one
/// address (each name has its own failures there) must not take every place in line.
/// Six sign-ins at once from one address (a shared office PC, a proxy) still all wait.
pub const PASSWORD_CHECKS_WAITING_PER_ADDRESS_MAX: usize = 8;
/// Longest a password check waits for a slot before the login is answered 429 (a hall.toml
/// hash may cost up to 256 MiB and 16 passes, which takes seconds).
pub const PASSWORD_CHECK_WAIT: Duration = Duration::from_secs(10);
/// Most password checks at once on any machine, whatever its cores.
const PASSWORD_CHECKS_MAX: usize = 8;

/// The slots for password checks (argon2 when logging in, adding a user or resetting a
/// password): one per core, since a check is pure CPU and holds its memory cost (19 MiB
/// by default) while it runs. More checks wait their turn, in order of arrival, up to
/// [`PASSWORD_CHECKS_WAITING_MAX`]. The checks run on threads of their own, one per slot,
/// so that the memory the allocator keeps after a check is kept once per slot and not
/// once per thread of tokio's blocking pool that happened to run one.
pub struct PasswordChecks {
    slots: Arc<tokio::sync::Semaphore>,
    waiting: Mutex<Waiting>,
    jobs: std::sync::mpsc::SyncSender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// A slot held, for one check: [`PasswordSlot::run`] runs it.
pub struct PasswordSlot {
    permit: tokio::sync::OwnedSemaphorePermit,
    jobs: std::sync::mpsc::SyncSender<Job>,
}

impl PasswordSlot {
    /// Runs `check` on a check thread; `None` if the threads are gone (the daemon is
    /// stopping). The slot stays taken until the check ends, also when the request that
    /// asked for it is given up by its client meanwhile.
    pub async fn run<T: Send + 'static>(self, check: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let permit = self.permit;
        let job: Job = Box::new(move || {
            let _permit = permit;
            let _ = tx.send(check());
        });
        // Each job holds one of the slots and there are as many threads as slots, so the
        // channel (as long as the slots) always has room.
        self.jobs.try_send(job).ok()?;
        rx.await.ok()
    }
}

impl PasswordChecks {
    pub fn new(at_once: usize) -> Self {
        let at_once = at_once.max(1);
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(at_once);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..at_once {
            let rx = rx.clone();
            let worker = move || loop {
                let job = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                let Ok(job) = job else { return };
                // A check that panics answers its caller with an error; the thread stays.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            };
            if let Err(e) = std::thread::Builder::new().name(format!("hallq-password-{n}")).spawn(worker) {
                tracing::warn!(error = %e, "a password check thread could not start");
            }
        }
        Self { slots: Arc::new(tokio::sync::Semaphore::new(at_once)), waiting: Mutex::default(), jobs }
    }

    /// One slot per core of this machine (at most [`PASSWORD_CHECKS_MAX`]).
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()).min(PASSWORD_CHECKS_MAX))
    }

    /// A slot for a check asked for from `addr` (none: an admin's hash), after waiting
    /// for one if all are taken; `None` when too many wait already, in all or from `addr`,
    /// or none came free in [`PASSWORD_CHECK_WAIT`].
    pub async fn slot(&self, addr: Option<IpAddr>) -> Option<PasswordSlot> {
        let slot = |permit| PasswordSlot { permit, jobs: self.jobs.clone() };
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Some(slot(permit));
        }
        let _waiting = WaitingTurn::enter(&self.waiting, addr)?;
        let permit = tokio::time::timeout(PASSWORD_CHECK_WAIT, self.slots.clone().acquire_owned()).await.ok()?.ok()?;
        Some(slot(permit))
    }
}

/// Checks waiting for a slot: in all, and per client address (entries leave at zero, so
/// there are at most [`PASSWORD_CHECKS_WAITING_MAX`]).
#[derive(Default)]
struct Waiting {
    total: usize,
    by_addr: HashMap<IpAddr, usize>,
}

/// One check's place among those waiting, given up when it is dropped.
struct WaitingTurn<'a> {
    waiting: &'a Mutex<Waiting>,
    addr: Option<IpAddr>,
}

impl<'a> WaitingTurn<'a> {
    fn enter(waiting: &'a Mutex<Waiting>, addr: Option<IpAddr>) -> Option<Self> {
        let mut w = waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = addr.map_or(0, |a| w.by_addr.get(&a).copied().unwrap_or(0));
        if w.total >= PASSWORD_CHECKS_WAITING_MAX || mine >= PASSWORD_CHECKS_WAITING_PER_ADDRESS_MAX {
            return None;
        }
        w.total += 1;
        if let Some(a) = addr {
            *w.by_addr.entry(a).or_insert(0) += 1;
        }
        Some(Self { waiting, addr })
    }
}

impl Drop for WaitingTurn<'_> {
    fn drop(&mut self) {
        let mut w = self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        w.total -= 1;
        if let Some(a) = self.addr {
            if let Some(n) = w.by_addr.get_mut(&a) {
                *n -= 1;
                if *n == 0 {
                    w.by_addr.remove(&a);
                }
            }
        }
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

fn key_of(ip: IpAddr) -> IpAddr {
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

    #[tokio::test]
    async fn password_checks_run_at_most_so_many_at_once_and_a_bounded_number_wait() {
        let checks = Arc::new(PasswordChecks::new(2));
        let (a, b) = (checks.slot(None).await, checks.slot(None).await);
        assert!(a.is_some() && b.is_some());
        assert!(checks.slots.clone().try_acquire_owned().is_err(), "two slots, both taken");
        let waiting = |c: &PasswordChecks| c.waiting.lock().map(|w| w.total).unwrap_or(usize::MAX);
        let wait = |n: usize| {
            let c = checks.clone();
            let addr = IpAddr::from([127, 0, 0, u8::try_from(n % 16).unwrap_or(0)]);
            tokio::spawn(async move { c.slot(Some(addr)).await.is_some() })
        };
        let waiters: Vec<_> = (0..PASSWORD_CHECKS_WAITING_MAX).map(wait).collect();
        while waiting(&checks) < PASSWORD_CHECKS_WAITING_MAX {
            tokio::task::yield_now().await;
        }
        assert!(checks.slot(None).await.is_none(), "one more than may wait is refused at once");
        drop((a, b));
        for w in waiters {
            assert!(w.await.expect("a waiter"), "every waiter gets its turn");
        }
        assert_eq!(waiting(&checks), 0);
        assert!(checks.waiting.lock().map(|w| w.by_addr.is_empty()).unwrap_or(false));
        let slot = checks.slot(None).await.expect("a free slot");
        let name = slot.run(|| std::thread::current().name().map(str::to_string)).await.flatten();
        assert!(name.is_some_and(|n| n.starts_with("hallq-password-")), "checks run on their own threads");
    }

    #[tokio::test]
    async fn one_address_takes_only_so_many_places_in_line() {
        let checks = Arc::new(PasswordChecks::new(1));
        let held = checks.slot(None).await.expect("the one slot");
        let one = IpAddr::from([127, 0, 0, 2]);
        let waiters: Vec<_> = (0..PASSWORD_CHECKS_WAITING_PER_ADDRESS_MAX)
            .map(|_| {
                let c = checks.clone();
                tokio::spawn(async move { c.slot(Some(one)).await.is_some() })
            })
            .collect();
        while checks.waiting.lock().map(|w| w.total).unwrap_or(0) < PASSWORD_CHECKS_WAITING_PER_ADDRESS_MAX {
            tokio::task::yield_now().await;
        }
        assert!(checks.slot(Some(one)).await.is_none(), "that address has all its places");
        let other = tokio::spawn({
            let c = checks.clone();
            async move { c.slot(Some(IpAddr::from([127, 0, 0, 3]))).await.is_some() }
        });
        drop(held);
        for w in waiters {
            assert!(w.await.expect("a waiter"));
        }
        assert!(other.await.expect("the other address"), "another address still gets in line");
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
