//! `GET /api/v1/admin/backup`: a consistent copy of the event log while the hall serves
//! (`crate::backup`), streamed as JSON lines to an admin (`hallq backup DIR` saves it).
//! The log is read on a blocking thread beside the engine, never through its inbox.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::{auth, AppState};
use crate::config::Role;

/// The stream's bytes go out in chunks of this size...
const CHUNK_BYTES: usize = 64 * 1024;
/// ...with at most this many waiting for a slow client (4 MiB), so that a backup costs a
/// bounded amount of memory however slowly it is read.
const CHUNKS_QUEUED_MAX: usize = 64;

/// A client that takes no chunk for this long has stalled: the backup ends, so that it
/// neither holds the one backup slot nor a read of the log for ever.
const STALL: std::time::Duration = std::time::Duration::from_secs(30);

/// The daemon's one backup slot (`Edge::backup_running`), held while a backup is
/// written: one at a time, since each reads the whole log.
struct Running(Arc<AtomicBool>);
impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

type Chunk = Result<Bytes, std::io::Error>;

/// Writes into the response body, chunk by chunk, waiting while the client is behind.
struct ChunkWriter {
    tx: tokio::sync::mpsc::Sender<Chunk>,
    runtime: tokio::runtime::Handle,
    buf: Vec<u8>,
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        let sent = self.runtime.block_on(tokio::time::timeout(STALL, self.tx.send(Ok(chunk))));
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(std::io::Error::other("the client went away")),
            Err(_) => Err(std::io::Error::other("the client took nothing for 30 s")),
        }
    }
}

pub async fn backup(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    auth::user(&app, &headers, &[Role::Admin])?;
    if app.edge.backup_running.swap(true, Ordering::SeqCst) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "backup_running",
            "a backup is being written; try again when it has finished",
        ));
    }
    let running = Running(app.edge.backup_running.clone());
    let store = app.hall.reports.store().clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(CHUNKS_QUEUED_MAX);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let _running = running;
        let mut out = ChunkWriter { tx: tx.clone(), runtime, buf: Vec::with_capacity(CHUNK_BYTES) };
        match crate::backup::write(&store, &mut out) {
            Ok(records) => tracing::info!(records, "backup written"),
            Err(e) => {
                // The stream ends without its last line, so the copy is refused as
                // incomplete; the reason goes to the log.
                tracing::warn!(error = %e, "backup failed");
                let _ = tx.try_send(Err(std::io::Error::other("backup failed")));
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(stream)).into_response())
}
