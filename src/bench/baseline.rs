//! The raw baseline (`hallq bench-baseline`, hidden): what the daemon's two hot paths cost
//! with nothing of hallq in them, run as a child process like the daemon.
//!
//! - `POST /tickets`: a bare axum handler that parses the body, inserts it into sled and
//!   answers 201 only after a group-committed flush (one flusher task; every insert
//!   waiting when it starts is made durable by the same flush), as the daemon's engine.
//! - `POST /call`: broadcasts a call message of the daemon's shape to every client of a
//!   bare tokio-tungstenite server, on its own port; each client first gets a short
//!   snapshot-like hello.
//!
//! It prints `baseline listening on http://ADDR ws://ADDR` and runs until SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::child::BASELINE_READY;
use super::BenchError;

/// Inserts waiting for a flush; beyond this, handlers wait for room.
const FLUSH_INBOX_MAX: usize = 4096;
/// Waiters answered by one flush at most.
const FLUSH_BATCH_MAX: usize = 512;
/// Messages a client may fall behind on the broadcast (the daemon's `OUTBOX_MAX`).
const OUTBOX_MAX: usize = 256;

#[derive(clap::Args, Debug)]
pub struct BaselineArgs {
    /// Where the sled database lives.
    #[arg(long)]
    data: PathBuf,
    /// The HTTP address; the WebSocket broadcast takes a free port beside it.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

struct Baseline {
    tree: sled::Tree,
    next_key: AtomicU64,
    flush: mpsc::Sender<oneshot::Sender<bool>>,
    calls: broadcast::Sender<Utf8Bytes>,
    seq: AtomicU64,
}

#[derive(Deserialize)]
struct TicketBody {
    service: String,
}

#[derive(Deserialize)]
struct CallBody {
    number: String,
    window: String,
}

async fn ticket(State(b): State<Arc<Baseline>>, Json(body): Json<TicketBody>) -> (StatusCode, String) {
    let key = b.next_key.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = b.tree.insert(key.to_be_bytes(), body.service.as_bytes()) {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("{{\"error\":\"{e}\"}}"));
    }
    let (tx, rx) = oneshot::channel();
    let flushed = b.flush.send(tx).await.is_ok() && rx.await.unwrap_or(false);
    if flushed {
        (StatusCode::CREATED, format!("{{\"seq\":{key}}}"))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "{\"error\":\"flush failed\"}".into())
    }
}

/// The daemon's call message, field for field and in its order, so that both put the
/// same bytes on the wire.
#[derive(Serialize)]
struct CallMsg<'a> {
    r#type: &'static str,
    seq: u64,
    number: &'a str,
    window: &'a str,
    window_name: String,
    at: String,
    recall: bool,
    announce: Announce,
}

#[derive(Serialize)]
struct Announce {
    text: String,
    repeat: u8,
}

async fn call(State(b): State<Arc<Baseline>>, Json(body): Json<CallBody>) -> (StatusCode, &'static str) {
    let (number, window) = (body.number.as_str(), body.window.as_str());
    let msg = CallMsg {
        r#type: "call",
        seq: b.seq.fetch_add(1, Ordering::Relaxed) + 1,
        number,
        window,
        window_name: format!("{window}号综合窗口"),
        at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        recall: false,
        announce: Announce { text: format!("请{number}号到{window}号窗口办理"), repeat: 2 },
    };
    match serde_json::to_string(&msg) {
        Ok(text) => {
            // Serialised once; every client's send shares these bytes.
            let _ = b.calls.send(Utf8Bytes::from(text));
            (StatusCode::OK, "{}")
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "{\"error\":\"serialisation\"}"),
    }
}

/// Answers every waiter taken in one go with one flush: the group commit.
async fn flusher(db: sled::Db, mut inbox: mpsc::Receiver<oneshot::Sender<bool>>) {
    let mut waiters = Vec::with_capacity(FLUSH_BATCH_MAX);
    while inbox.recv_many(&mut waiters, FLUSH_BATCH_MAX).await > 0 {
        let ok = db.flush_async().await.is_ok();
        for w in waiters.drain(..) {
            let _ = w.send(ok);
        }
    }
}

async fn client(stream: TcpStream, mut calls: broadcast::Receiver<Utf8Bytes>, seq: u64) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
    let hello = format!("{{\"type\":\"snapshot\",\"seq\":{seq}}}");
    if ws.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            msg = calls.recv() => match msg {
                Ok(text) => if ws.send(Message::Text(text)).await.is_err() { return },
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = ws.next() => match incoming {
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

async fn accept(listener: TcpListener, b: Arc<Baseline>) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(client(stream, b.calls.subscribe(), b.seq.load(Ordering::Relaxed)));
        }
    }
}

/// Runs the baseline until SIGTERM or Ctrl-C.
pub fn serve_baseline(args: BaselineArgs) -> Result<(), BenchError> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| BenchError::new(format!("no async runtime: {e}")))?;
    runtime.block_on(async move {
        let open = |e: sled::Error| BenchError::new(format!("cannot open sled in {}: {e}", args.data.display()));
        let db = sled::Config::new().path(&args.data).open().map_err(open)?;
        let tree = db.open_tree("log").map_err(open)?;
        let (flush, inbox) = mpsc::channel(FLUSH_INBOX_MAX);
        tokio::spawn(flusher(db.clone(), inbox));
        let (calls, _) = broadcast::channel(OUTBOX_MAX);
        let b = Arc::new(Baseline { tree, next_key: AtomicU64::new(1), flush, calls, seq: AtomicU64::new(0) });
        let bind = |e: std::io::Error| BenchError::new(format!("cannot listen on {}: {e}", args.listen));
        let http = TcpListener::bind(args.listen).await.map_err(bind)?;
        let ws = TcpListener::bind((args.listen.ip(), 0)).await.map_err(bind)?;
        let (http_addr, ws_addr) = (http.local_addr().map_err(bind)?, ws.local_addr().map_err(bind)?);
        tokio::spawn(accept(ws, b.clone()));
        let app = Router::new().route("/tickets", post(ticket)).route("/call", post(call)).with_state(b);
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{BASELINE_READY}http://{http_addr} ws://{ws_addr}").and_then(|()| out.flush());
        }
        axum::serve(http, app)
            .with_graceful_shutdown(terminated())
            .await
            .map_err(|e| BenchError::new(format!("the baseline's HTTP server failed: {e}")))?;
        db.flush_async().await.map_err(|e| BenchError::new(format!("the final flush failed: {e}")))?;
        Ok(())
    })
}

async fn terminated() {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
