//! Serving the router on a listener: plain HTTP, or HTTPS with rustls when the hall names
//! a certificate; each request carries its client address (for the rate limits); every
//! connection is counted and bounded in time (`conns.rs`); and the warnings a hall needs
//! when it is reachable beyond this machine.
//!
//! hyper is driven here rather than through `axum::serve`, which sets no header timeout
//! and cannot close a connection from outside: a connection must send its request's head
//! within `HEADER_READ_TIMEOUT` (also between two requests), and one that waits may be
//! closed to make room for another.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use super::conns::{Conn, Conns, Counted, InFlight};
use super::error::ApiError;
use crate::config::TlsFiles;

/// Longest a client may take over its TLS handshake before it is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// TLS handshakes in progress at once; more wait for a turn within their timeout.
const HANDSHAKES_MAX: usize = 512;
/// Longest a connection may take to send a request's head, from its opening or from the
/// end of its last answer (so also how long an idle connection is kept). A kiosk or a
/// phone on the hall's network sends one in milliseconds; one that sends half a head
/// and waits holds a file for no one.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// What hyper buffers of one connection's input, in bytes: a request's head must fit
/// (a browser's is about 1 KiB; hyper's floor is 8 KiB, its default 400 KiB).
const READ_BUFFER_BYTES_MAX: usize = 16 * 1024;
/// Pause after `accept` fails for want of files or memory, rather than spin; the
/// connections waiting in the kernel's queue are taken once files are free again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Least time between two warnings that `accept` fails.
const ACCEPT_WARN_EVERY: Duration = Duration::from_secs(10);

/// The remote address of a connection, as the handlers see it (`ConnectInfo<ClientAddr>`).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

/// Reads the PEM certificate chain and private key and makes the server's TLS settings.
/// The error is a sentence naming the file.
pub fn tls_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, String> {
    let shown = |p: &Path| p.display().to_string();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the certificate {}: {e}", shown(&files.cert)))?;
    if certs.is_empty() {
        return Err(format!("{} holds no PEM certificate", shown(&files.cert)));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("cannot read the private key {}: {e}", shown(&files.key)))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| format!("the certificate and key do not make a TLS setup: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What every connection's task shares.
#[derive(Clone)]
struct Server {
    router: Router,
    conns: Arc<Conns>,
    /// The TLS acceptor and the handshakes' turns, when serving HTTPS.
    tls: Option<(TlsAcceptor, Arc<Semaphore>)>,
    /// Flips to true when the daemon stops accepting: connections finish their request.
    stop: watch::Receiver<bool>,
    /// Held by every connection's task; `serve` returns once all are dropped.
    _alive: watch::Receiver<()>,
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown`
/// resolves, then lets requests in flight finish. `per_address_max` caps the connections
/// of one client address (`None`: no cap, behind a proxy).
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    per_address_max: Option<usize>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop) = watch::channel(false);
    let (alive_tx, alive) = watch::channel(());
    let server = Server {
        router,
        conns: Arc::new(Conns::new(per_address_max)),
        tls: tls.map(|c| (TlsAcceptor::from(c), Arc::new(Semaphore::new(HANDSHAKES_MAX)))),
        stop,
        _alive: alive,
    };
    tokio::pin!(shutdown);
    let mut warned: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, addr) = match accepted {
            Ok(a) => a,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                if warned.is_none_or(|at| at.elapsed() >= ACCEPT_WARN_EVERY) {
                    let (open, websockets) = server.conns.counts();
                    tracing::warn!(error = %e, open, websockets, "accepting a connection failed");
                    warned = Some(Instant::now());
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(conn) = server.conns.admit(addr.ip()) else {
            tracing::debug!("a connection was refused: every connection in its way is busy");
            continue;
        };
        tokio::spawn(server.clone().connection(stream, addr, conn));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(server);
    alive_tx.closed().await;
    Ok(())
}

/// Errors of one connection that came and went, not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}

impl Server {
    /// One connection, from its TLS handshake (if any) to its end.
    async fn connection(mut self, stream: TcpStream, addr: SocketAddr, conn: Arc<Conn>) {
        let io = Counted::new(stream, conn.clone());
        let Some((acceptor, turns)) = self.tls.clone() else {
            return self.drive(io, addr, conn).await;
        };
        let handshake = async {
            let _turn = turns.acquire().await.ok()?;
            acceptor.accept(io).await.map_err(|e| tracing::debug!(error = %e, "a TLS handshake failed")).ok()
        };
        let tls = tokio::select! {
            done = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake) => match done {
                Ok(Some(tls)) => tls,
                Ok(None) => return,
                Err(_) => return tracing::debug!("a TLS handshake timed out"),
            },
            () = conn.closed_for_room() => return,
            _ = self.stop.changed() => return,
        };
        self.drive(tls, addr, conn).await;
    }

    /// Serves HTTP/1.1 on `io` until the client leaves, the connection is closed to make
    /// room, or the daemon stops (after the request in flight).
    async fn drive<I>(mut self, io: I, addr: SocketAddr, conn: Arc<Conn>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (router, conns, for_service) = (self.router.clone(), self.conns.clone(), conn.clone());
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let (router, conns, conn) = (router.clone(), conns.clone(), for_service.clone());
            async move { Ok::<_, Infallible>(answer(req, addr, &conn, &conns, router).await) }
        });
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT).max_buf_size(READ_BUFFER_BYTES_MAX);
        let served = http.serve_connection(TokioIo::new(io), service).with_upgrades();
        tokio::pin!(served);
        let mut stopping = *self.stop.borrow();
        if stopping {
            served.as_mut().graceful_shutdown();
        }
        loop {
            tokio::select! {
                _ = served.as_mut() => return,
                () = conn.closed_for_room() => return,
                _ = self.stop.changed(), if !stopping => {
                    stopping = true;
                    served.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// One request: counted as in flight until its answer's body is sent; a WebSocket only
/// while the files leave room for it.
async fn answer(
    mut req: Request<Incoming>,
    addr: SocketAddr,
    conn: &Arc<Conn>,
    conns: &Conns,
    router: Router,
) -> Response<Sent> {
    let in_flight = conn.request();
    if req.headers().contains_key(header::UPGRADE) && !conns.upgrade_fits() {
        let refusal = ApiError::unavailable(
            "too_many_connections",
            "the daemon keeps its remaining connections for kiosks and clerks; try again later",
        );
        return refusal.into_response().map(|body| Sent { body, _in_flight: in_flight });
    }
    req.extensions_mut().insert(ConnectInfo(ClientAddr(addr)));
    let response = match router.oneshot(req.map(Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        conn.upgraded();
    }
    response.map(|body| Sent { body, _in_flight: in_flight })
}

/// An answer's body, holding its request in flight until hyper has sent it all.
struct Sent {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Sent {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// What the log must say loudly about how the hall is exposed: listening beyond loopback
/// without TLS, or with published demo credentials.
pub fn exposure_warnings(addr: SocketAddr, tls: bool, demo_credentials: usize) -> Vec<String> {
    let mut out = Vec::new();
    if addr.ip().is_loopback() {
        return out;
    }
    if !tls {
        out.push(format!(
            "listening on {addr}, beyond this machine, without TLS: tokens and passwords cross the network \
             in clear; set [hall] tls_cert and tls_key (or --tls-cert/--tls-key)"
        ));
    }
    if demo_credentials > 0 {
        out.push(format!(
            "listening on {addr}, beyond this machine, with {demo_credentials} published demo credential(s): \
             anyone on the network can issue tickets or sign in; replace them (hallq check lists them)"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::exposure_warnings;

    #[test]
    fn loopback_is_quiet_and_the_network_is_warned_of() {
        let local = "127.0.0.1:8080".parse().unwrap();
        assert!(exposure_warnings(local, false, 3).is_empty());
        let v6_local = "[::1]:8080".parse().unwrap();
        assert!(exposure_warnings(v6_local, false, 3).is_empty());
        let all = "0.0.0.0:8080".parse().unwrap();
        let w = exposure_warnings(all, false, 0);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("without TLS"), "{w:?}");
        let w = exposure_warnings(all, true, 2);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("2 published demo credential(s)"), "{w:?}");
        assert!(exposure_warnings(all, true, 0).is_empty());
        assert_eq!(exposure_warnings("192.168.1.5:80".parse().unwrap(), false, 1).len(), 2);
    }
}
