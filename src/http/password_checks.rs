//! The slots for password checks (argon2 when logging in, adding a user or resetting a
//! password): a bounded number at once, on threads of their own, and a bounded line of
//! checks waiting their turn, in all and per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
/// Longest the daemon's stop waits for a password check under way to end (one check takes
/// well under a second at the default cost).
const PASSWORD_CHECKS_STOP_WAIT: Duration = Duration::from_secs(5);

/// The slots for password checks (argon2 when logging in, adding a user or resetting a
/// password): one per core, since a check is pure CPU and holds its memory cost (19 MiB
/// by default) while it runs. More checks wait their turn, in order of arrival, up to
/// [`PASSWORD_CHECKS_WAITING_MAX`]. The checks run on threads of their own, one per slot,
/// so that the memory the allocator keeps after a check is kept once per slot and not
/// once per thread of tokio's blocking pool that happened to run one.
pub struct PasswordChecks {
    slots: Arc<tokio::sync::Semaphore>,
    waiting: Mutex<Waiting>,
    /// The check threads' inbox; none once [`PasswordChecks::stop`] has closed it.
    jobs: Mutex<Option<std::sync::mpsc::SyncSender<Job>>>,
    /// The check threads, joined by [`PasswordChecks::stop`].
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
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
        let mut threads = Vec::with_capacity(at_once);
        for n in 0..at_once {
            let rx = rx.clone();
            let worker = move || loop {
                let job = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                let Ok(job) = job else { return };
                // A check that panics answers its caller with an error; the thread stays.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            };
            match std::thread::Builder::new().name(format!("hallq-password-{n}")).spawn(worker) {
                Ok(thread) => threads.push(thread),
                Err(e) => tracing::warn!(error = %e, "a password check thread could not start"),
            }
        }
        Self {
            slots: Arc::new(tokio::sync::Semaphore::new(at_once)),
            waiting: Mutex::default(),
            jobs: Mutex::new(Some(jobs)),
            threads: Mutex::new(threads),
        }
    }

    /// Closes the check threads' inbox and joins them, once the checks under way have
    /// ended (the daemon's stop, after the HTTP server has drained): a slot asked for
    /// after this gets none. A thread still busy after [`PASSWORD_CHECKS_STOP_WAIT`] is
    /// left to end on its own, with a warning. Returns how many threads were joined.
    pub async fn stop(&self) -> usize {
        drop(lock(&self.jobs).take());
        let threads = std::mem::take(&mut *lock(&self.threads));
        let until = tokio::time::Instant::now() + PASSWORD_CHECKS_STOP_WAIT;
        while threads.iter().any(|t| !t.is_finished()) && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut joined = 0;
        for thread in threads {
            if !thread.is_finished() {
                tracing::warn!("a password check was still running at the stop; its thread ends on its own");
            } else if thread.join().is_ok() {
                joined += 1;
            }
        }
        joined
    }

    /// One slot per core of this machine (at most [`PASSWORD_CHECKS_MAX`]).
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()).min(PASSWORD_CHECKS_MAX))
    }

    /// A slot for a check asked for from `addr` (none: an admin's hash), after waiting
    /// for one if all are taken; `None` when too many wait already, in all or from `addr`,
    /// or none came free in [`PASSWORD_CHECK_WAIT`].
    pub async fn slot(&self, addr: Option<IpAddr>) -> Option<PasswordSlot> {
        let slot = |permit| Some(PasswordSlot { permit, jobs: lock(&self.jobs).clone()? });
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return slot(permit);
        }
        let _waiting = WaitingTurn::enter(&self.waiting, addr)?;
        let permit = tokio::time::timeout(PASSWORD_CHECK_WAIT, self.slots.clone().acquire_owned()).await.ok()?.ok()?;
        slot(permit)
    }
}

/// `m` locked; a panic elsewhere while it was held does not matter to what it guards.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn stop_ends_and_joins_the_threads_and_gives_no_more_slots() {
        let checks = PasswordChecks::new(2);
        let slot = checks.slot(None).await.expect("a free slot");
        let running = tokio::spawn(slot.run(|| std::thread::sleep(Duration::from_millis(100))));
        assert_eq!(checks.stop().await, 2, "not every check thread was joined");
        assert_eq!(running.await.expect("the check's task"), Some(()), "the check under way was cut short");
        assert!(checks.slot(None).await.is_none(), "a slot was given after the stop");
    }
}
