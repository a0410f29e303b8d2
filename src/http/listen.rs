//! Serving the router on a listener: plain HTTP, or HTTPS with rustls when the hall names
//! a certificate; each connection carries its client address (for the rate limits); and
//! the warnings a hall needs when it is reachable beyond this machine.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// Longest a client may take over its TLS handshake before it is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// TLS handshakes in progress at once; more clients wait in the kernel's accept queue.
const HANDSHAKES_MAX: usize = 512;
/// Finished handshakes waiting for the server to take them.
const READY_MAX: usize = 64;

/// The remote address of a connection, as the handlers see it (`ConnectInfo<ClientAddr>`).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

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

/// A TCP listener whose connections come out TLS-decrypted. Handshakes run in their own
/// tasks (bounded, each with a timeout), so a client that stalls in one never holds up
/// the others.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_MAX);
        tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), tx));
        Ok(Self { ready, local })
    }
}

async fn accept_loop(tcp: TcpListener, acceptor: TlsAcceptor, tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>) {
    let permits = Arc::new(Semaphore::new(HANDSHAKES_MAX));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        let (stream, addr) = tokio::select! {
            () = tx.closed() => return,
            accepted = tcp.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, addr)).await;
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "a TLS handshake failed"),
                Err(_) => tracing::debug!("a TLS handshake timed out"),
            }
        });
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop only ends when this receiver is gone; until then, wait.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown`
/// resolves, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router.into_make_service_with_connect_info::<ClientAddr>();
    match tls {
        None => axum::serve(listener, app).with_graceful_shutdown(shutdown).await,
        Some(config) => axum::serve(TlsListener::new(listener, config)?, app).with_graceful_shutdown(shutdown).await,
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
