//! Who holds the daemon's sockets: every connection is counted from its accept to its
//! close, per client address and in all, so that one device cannot take the files and
//! connections the hall's kiosks, clerks and health checks need.
//!
//! A connection waiting for a request (half-open, or idle between two requests) is the
//! one that gives way: when a new connection finds its address at the cap, the oldest
//! waiting connection of that address is closed to let it in; when the daemon's file
//! budget is spent, the oldest waiting connection of any address. A request in flight is
//! never cut; only when every connection in the way is busy is the new one refused.
//!
//! The cap is per address because a hostile device has one, and gives way rather than
//! refuses because many honest clients may share one too: a hall's phones behind its
//! Wi-Fi's NAT, every kiosk behind a TLS proxy. WebSockets leave the per-address count
//! once upgraded (displays have their own limit, `ws::DISPLAYS_MAX`) but keep their file.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Connections one client address may hold open, WebSockets not counted. A browser opens
/// up to six and a kiosk one or two; 256 leave room for a hall's phones behind one NAT
/// address, whose idle connections give way to new ones anyway. One hostile device holds
/// at most this many, each for at most the header timeout.
pub const CONNECTIONS_PER_ADDRESS_MAX: usize = 256;
/// Open files kept out of the connections' budget: sled's files, the voice cache and
/// espeak-ng's pipes, the printers' and the webhook's sockets, day reports, the log. The
/// daemon stops taking connections this far below its open-file limit, so that `accept`
/// and everything else always finds a file.
pub const FILES_RESERVED: usize = 256;
/// Of the connections' budget, this many are kept from WebSockets for requests: with
/// every display the files allow connected, kiosks, clerks and `/healthz` still get in.
pub const REQUESTS_RESERVED: usize = 1024;

/// All the daemon's client connections.
#[derive(Default)]
pub struct Conns {
    inner: Mutex<Inner>,
    /// Connections one address may hold; `None` when the hall turned the per-address
    /// limits off (behind a TLS proxy every client has the proxy's address).
    per_address_max: Option<usize>,
}

#[derive(Default)]
struct Inner {
    /// Every connection counted, by its id.
    entries: HashMap<u64, Entry>,
    /// Connections upgraded to WebSocket.
    upgraded: usize,
    by_address: HashMap<IpAddr, Address>,
    /// Every waiting connection: the order it began to wait in, to its id.
    waiting: BTreeMap<u64, u64>,
    /// The next id, and the next place in the waiting order.
    next: u64,
}

#[derive(Default)]
struct Address {
    /// Connections of this address not upgraded.
    open: usize,
    /// Its waiting connections, as in `Inner::waiting`.
    waiting: BTreeMap<u64, u64>,
}

struct Entry {
    address: IpAddr,
    /// Its place in the waiting order while it waits for a request.
    waiting: Option<u64>,
    in_flight: usize,
    upgraded: bool,
    close: Arc<Notify>,
}

/// One counted connection. Shared by its socket, its task and its requests; the count
/// ends when the last of them is dropped, that is when the socket closes.
pub struct Conn {
    id: u64,
    conns: Arc<Conns>,
    close: Arc<Notify>,
}

/// A request in flight on a connection: the connection cannot be closed to make room
/// until this is dropped (with the response's body, once it is sent).
pub struct InFlight(Arc<Conn>);

impl Conns {
    pub fn new(per_address_max: Option<usize>) -> Self {
        Self { inner: Mutex::default(), per_address_max }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a connection just accepted from `ip`, closing the oldest waiting connection
    /// in its way; `None` when every connection in the way is busy (refuse it).
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Arc<Conn>> {
        let budget = files_budget();
        let address = address_key(ip);
        let mut inner = self.lock();
        if let Some(max) = self.per_address_max {
            let (open, oldest) = match inner.by_address.get(&address) {
                Some(a) => (a.open, a.waiting.first_key_value().map(|(_, id)| *id)),
                None => (0, None),
            };
            if open >= max {
                inner.evict(oldest?);
            }
        }
        if inner.entries.len() >= budget {
            let oldest = inner.waiting.first_key_value().map(|(_, id)| *id);
            inner.evict(oldest?);
        }
        let id = inner.next;
        inner.next += 1;
        let close = Arc::new(Notify::new());
        let entry = Entry { address, waiting: None, in_flight: 0, upgraded: false, close: close.clone() };
        inner.entries.insert(id, entry);
        inner.by_address.entry(address).or_default().open += 1;
        inner.wait(id);
        Some(Arc::new(Conn { id, conns: self.clone(), close }))
    }

    /// Whether one more WebSocket fits: all but `REQUESTS_RESERVED` of the budget.
    pub fn upgrade_fits(&self) -> bool {
        self.lock().upgraded < files_budget().saturating_sub(REQUESTS_RESERVED)
    }

    /// Connections counted now: all, and those upgraded to WebSocket.
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.upgraded)
    }
}

impl Inner {
    /// Puts connection `id` at the end of the waiting order.
    fn wait(&mut self, id: u64) {
        let place = self.next;
        self.next += 1;
        let Some(entry) = self.entries.get_mut(&id) else { return };
        entry.waiting = Some(place);
        let address = entry.address;
        self.waiting.insert(place, id);
        self.by_address.entry(address).or_default().waiting.insert(place, id);
    }

    /// Takes connection `id` out of the waiting order.
    fn unwait(&mut self, id: u64) {
        let Some(entry) = self.entries.get_mut(&id) else { return };
        let Some(place) = entry.waiting.take() else { return };
        let address = entry.address;
        self.waiting.remove(&place);
        if let Some(a) = self.by_address.get_mut(&address) {
            a.waiting.remove(&place);
        }
    }

    /// Stops counting connection `id`; true if it was counted.
    fn remove(&mut self, id: u64) -> Option<Entry> {
        self.unwait(id);
        let entry = self.entries.remove(&id)?;
        if entry.upgraded {
            self.upgraded -= 1;
        } else if let Some(a) = self.by_address.get_mut(&entry.address) {
            a.open -= 1;
        }
        if self.by_address.get(&entry.address).is_some_and(|a| a.open == 0) {
            self.by_address.remove(&entry.address);
        }
        Some(entry)
    }

    /// Closes a waiting connection to make room. It stops counting now: its task drops
    /// the socket as soon as it runs, and `FILES_RESERVED` covers the moment between.
    fn evict(&mut self, id: u64) {
        if let Some(entry) = self.remove(id) {
            entry.close.notify_one();
        }
    }
}

impl Conn {
    /// A request has begun: the connection no longer waits, and cannot be made room with.
    pub fn request(self: &Arc<Self>) -> InFlight {
        let mut inner = self.conns.lock();
        inner.unwait(self.id);
        if let Some(entry) = inner.entries.get_mut(&self.id) {
            entry.in_flight += 1;
        }
        InFlight(self.clone())
    }

    /// The connection became a WebSocket: it leaves its address's count.
    pub fn upgraded(&self) {
        let mut inner = self.conns.lock();
        let Some(entry) = inner.entries.get_mut(&self.id) else { return };
        if entry.upgraded {
            return;
        }
        entry.upgraded = true;
        let address = entry.address;
        inner.upgraded += 1;
        if let Some(a) = inner.by_address.get_mut(&address) {
            a.open -= 1;
        }
        if inner.by_address.get(&address).is_some_and(|a| a.open == 0 && a.waiting.is_empty()) {
            inner.by_address.remove(&address);
        }
    }

    /// Resolves when the connection was closed to make room for another.
    pub async fn closed_for_room(&self) {
        self.close.notified().await;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inner = self.0.conns.lock();
        let Some(entry) = inner.entries.get_mut(&self.0.id) else { return };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        if entry.in_flight == 0 && !entry.upgraded {
            inner.wait(self.0.id);
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.conns.lock().remove(self.id);
    }
}

/// What one client is, for the per-address cap: an IPv4 address, or an IPv6 address's
/// /64 (one device may hold a whole /64 of addresses).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

/// Connections the open-file limit leaves room for, read at each accept (an operator's
/// `prlimit` on the running daemon counts at once).
fn files_budget() -> usize {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit struct, which we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return usize::MAX;
    }
    usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX).saturating_sub(FILES_RESERVED).max(1)
}

/// A socket that keeps its connection counted until it closes (through a WebSocket's
/// life too, since the upgraded connection keeps this very socket).
pub struct Counted<T> {
    io: T,
    _conn: Arc<Conn>,
}

impl<T> Counted<T> {
    pub fn new(io: T, conn: Arc<Conn>) -> Self {
        Self { io, _conn: conn }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_at_its_cap_gives_up_its_oldest_waiting_connection() {
        let conns = Arc::new(Conns::new(Some(3)));
        let a: Vec<_> = (0..3).map(|_| conns.admit(ip("10.0.0.1")).unwrap()).collect();
        let other = conns.admit(ip("10.0.0.2")).unwrap();
        let busy = a[0].request();
        // The fourth of 10.0.0.1 closes a[1], the oldest one waiting (a[0] is busy).
        let d = conns.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(conns.counts().0, 4);
        let inner = conns.lock();
        assert!(!inner.entries.contains_key(&a[1].id));
        assert!(inner.entries.contains_key(&a[0].id) && inner.entries.contains_key(&other.id));
        drop(inner);
        drop(busy);
        // Every connection busy: refused.
        let _all: Vec<_> = [&a[0], &a[2], &d].iter().map(|c| c.request()).collect();
        assert!(conns.admit(ip("10.0.0.1")).is_none());
        assert!(conns.admit(ip("10.0.0.3")).is_some(), "other addresses are not held up");
    }

    #[test]
    fn websockets_leave_the_address_count_and_closing_ends_the_count() {
        let conns = Arc::new(Conns::new(Some(1)));
        let ws = conns.admit(ip("10.0.0.1")).unwrap();
        let req = ws.request();
        ws.upgraded();
        drop(req);
        let next = conns.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(conns.counts(), (2, 1));
        drop(ws);
        drop(next);
        assert_eq!(conns.counts(), (0, 0));
        assert!(conns.lock().by_address.is_empty() && conns.lock().waiting.is_empty());
    }

    #[test]
    fn no_cap_per_address_when_the_hall_turned_it_off() {
        let conns = Arc::new(Conns::new(None));
        let held: Vec<_> = (0..1000).map(|_| conns.admit(ip("127.0.0.1")).unwrap()).collect();
        assert_eq!(conns.counts().0, held.len());
    }

    #[test]
    fn an_ipv6_device_is_its_64() {
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), address_key(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(address_key(ip("2001:db8:1:2::1")), address_key(ip("2001:db8:1:3::1")));
        assert_eq!(address_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    }
}
