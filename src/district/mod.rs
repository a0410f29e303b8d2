//! The district (issue 18): halls linked over NATS JetStream. A hall with `[district]` in
//! its hall.toml publishes its log to its own stream (`uplink`); without it, the hall runs
//! alone exactly as before. `hallq district` ([`run`]) reads every hall's stream into a
//! replica and a projection by the pure core (`consumer`, `replica`, `view`) and serves
//! the district's view of them (`api`, `sessions`, one reading shared: `snapshot`; its
//! allocator kept lean: `memory`), its dashboard and day's comparison
//! (`page`, `compare`) and a feed for wall screens (`feed`). Visitors book and take numbers
//! for any hall at the district (`online`), which asks the hall over NATS; the hall answers
//! through its own public routes (`cmd`). `hallq restore --from-nats` rebuilds a lost
//! hall's data directory from its stream (`restore`). A clerk refers a visitor to another
//! hall: the hall's daemon asks that hall over its cmd subject (`refer`).

pub mod api;
pub mod auth;
pub mod cli;
pub mod cmd;
pub mod compare;
pub mod consumer;
pub mod feed;
pub mod memory;
pub mod natsconf;
pub mod online;
pub mod page;
pub mod refer;
pub mod replica;
pub mod restore;
pub mod sessions;
pub mod snapshot;
pub mod uplink;
pub mod view;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::DistrictConfig;
use crate::time::{wall_clock, Clock};
use api::{DistrictApp, HallEntry};
use consumer::HallLink;
use replica::{Replica, ReplicaError};
pub use uplink::{Uplink, UplinkError, SEQ_HEADER};

/// Connecting to NATS, and each request to it, gives up after this (then tries again).
const NATS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the views may take to finish the record in hand at the stop.
const VIEWS_END_WAIT: Duration = Duration::from_secs(10);

/// How the district runs, beside its configuration.
pub struct DistrictOptions {
    pub data_dir: PathBuf,
    /// Where the district reads the time (`None`: the wall clock).
    pub clock: Option<Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum DistrictError {
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    #[error("replaying a hall's replica: {0}")]
    View(#[from] view::ViewError),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("the HTTP server failed: {0}")]
    Http(#[from] std::io::Error),
}

/// Makes each hall's stream that does not exist yet, as its hall would (`uplink`): a hall
/// known to the server by its own key may not make streams (`natsconf.rs`), so its first
/// records wait for this. A stream there already (made by its hall, or before the
/// district's bounds changed) is given the district's bounds. Tries again, with backoff,
/// until every stream is there and bounded.
async fn make_streams(
    client: async_nats::Client,
    halls: Vec<(String, u32)>,
    bounds: uplink::StreamBounds,
    mut stop: watch::Receiver<bool>,
) {
    tokio::select! {
        _ = make_streams_until_made(client, halls, bounds) => {}
        _ = stop.changed() => {}
    }
}

/// Hall `hall_id`'s stream made, or given `bounds` when it has others. A server with no
/// room left to reserve the bytes (`StreamBounds::bytes_max` of every hall together over
/// its JetStream store) gets a stream bounded in records and message size only, and the
/// log says so: a hall that cannot publish would be worse than a stream without its byte
/// bound.
async fn make_stream(
    js: &async_nats::jetstream::Context,
    hall_id: &str,
    retention_days: u32,
    bounds: uplink::StreamBounds,
) -> Result<(), String> {
    let config = uplink::bounded_stream_config(hall_id, retention_days, bounds);
    let unreserved = uplink::bounded_stream_config(hall_id, retention_days, bounds.unreserved());
    let mut stream = match js.get_or_create_stream(&config).await {
        Ok(s) => s,
        Err(e) if no_room(&e) => {
            tracing::warn!(hall = %hall_id, bytes = bounds.bytes_max, error = %e, "{NO_ROOM}");
            js.get_or_create_stream(unreserved.clone()).await.map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };
    let info = stream.info().await.map_err(|e| e.to_string())?;
    if bounds.held_by(&info.config) {
        return Ok(());
    }
    match js.update_stream(&config).await {
        Ok(_) => tracing::info!(hall = %hall_id, "the hall's stream has the district's bounds now"),
        Err(e) if no_room(&e) => {
            tracing::warn!(hall = %hall_id, bytes = bounds.bytes_max, error = %e, "{NO_ROOM}");
            if !bounds.unreserved().held_by(&info.config) {
                js.update_stream(unreserved).await.map_err(|e| e.to_string())?;
            }
        }
        Err(e) => return Err(e.to_string()),
    }
    Ok(())
}

/// What the log says when the server cannot reserve a hall's stream's bytes.
const NO_ROOM: &str = "the NATS server has no room to reserve this hall's stream_max_bytes (the halls' bounds \
    together exceed its JetStream store): its stream is bounded in records and message size only; lower \
    stream_max_bytes in district.toml or give the server a larger max_file_store";

/// Whether the server refused for want of room to reserve a stream's bytes.
fn no_room(e: &async_nats::jetstream::context::CreateStreamError) -> bool {
    use async_nats::jetstream::{context::CreateStreamErrorKind, ErrorCode};
    matches!(e.kind(), CreateStreamErrorKind::JetStream(j) if j.error_code() == ErrorCode::STORAGE_RESOURCES_EXCEEDED)
}

async fn make_streams_until_made(
    client: async_nats::Client,
    mut halls: Vec<(String, u32)>,
    bounds: uplink::StreamBounds,
) {
    let js = async_nats::jetstream::new(client);
    let mut backoff = Duration::from_millis(250);
    while !halls.is_empty() {
        let mut missing = Vec::new();
        for (hall_id, retention_days) in halls {
            if let Err(e) = make_stream(&js, &hall_id, retention_days, bounds).await {
                tracing::warn!(hall = %hall_id, error = %e, "cannot make or bound the hall's stream yet");
                missing.push((hall_id, retention_days));
            }
        }
        halls = missing;
        if !halls.is_empty() {
            tokio::time::sleep(backoff).await;
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Runs the district on `listener` until `shutdown` resolves: replays each hall's replica,
/// consumes every hall's stream, serves the API; then stops reading, lets requests in
/// flight finish, lets each view finish its record, and closes the replica.
pub async fn run(
    listener: TcpListener,
    config: DistrictConfig,
    options: DistrictOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DistrictError> {
    let clock = options.clock.unwrap_or_else(|| Arc::new(wall_clock));
    let replica = Replica::open(&options.data_dir)?;
    let options = async_nats::ConnectOptions::new()
        .name(format!("hallq-district-{}", config.id))
        .connection_timeout(NATS_TIMEOUT)
        .request_timeout(Some(NATS_TIMEOUT))
        .retry_on_initial_connect();
    let client = auth::district_options(options, &config.id, config.nkey_file.as_deref())
        .map_err(DistrictError::Nats)?
        .connect(config.nats_url.as_str())
        .await
        .map_err(|e| DistrictError::Nats(e.to_string()))?;
    let (stop_tx, stop) = watch::channel(false);
    let (mut readers, mut views) = (JoinSet::new(), JoinSet::new());
    let durable = format!("district-{}", config.id);
    let mut halls = Vec::with_capacity(config.halls.len());
    for hall in &config.halls {
        let started = view::start(Arc::new(hall.config.setup.clone()), replica.hall(&hall.hall_id)?).await?;
        views.spawn(started.task);
        let link = Arc::new(HallLink::new(hall.hall_id.clone(), started.applied, started.stream_seq));
        let consume = consumer::consume(
            client.clone(),
            durable.clone(),
            link.clone(),
            started.inbox.clone(),
            clock.clone(),
            stop.clone(),
        );
        readers.spawn(consume);
        halls.push(HallEntry { link, view: started.inbox, config: Arc::new(hall.config.clone()) });
    }
    let streams = config.halls.iter().map(|h| (h.hall_id.clone(), h.config.retention_days)).collect();
    readers.spawn(make_streams(client.clone(), streams, config.stream, stop.clone()));
    let links = halls.iter().map(|h| h.link.clone()).collect();
    let logs = config.halls.iter().map(|h| replica.hall(&h.hall_id)).collect::<Result<Vec<_>, _>>()?;
    readers.spawn(consumer::beats(client.clone(), links, clock.clone(), stop.clone()));
    let online = online::Online::new(config.halls.iter().map(|h| h.hall_id.clone()));
    let app = Arc::new(DistrictApp {
        sessions: sessions::Sessions::new(config.session_ttl_s),
        config: Arc::new(config),
        halls,
        login_failures: api::login_limiter(),
        password_checks: crate::http::rate::PasswordChecks::per_core(),
        clock,
        online,
        nats: client.clone(),
        logs,
        replays: tokio::sync::Semaphore::new(page::REPLAYS_MAX),
        screens: feed::Screens::default(),
        snapshot: snapshot::Snapshot::default(),
    });
    readers.spawn(snapshot::keep(Arc::downgrade(&app), stop.clone()));
    readers.spawn(memory::trim(stop.clone()));
    let addr = listener.local_addr()?;
    tracing::info!(halls = app.halls.len(), "hallq district listening on http://{addr}");
    let per_address = Some(crate::http::conns::CONNECTIONS_PER_ADDRESS_MAX);
    let served = crate::http::listen::serve(listener, None, per_address, api::router(app.clone()), shutdown).await;
    stop_tx.send_replace(true);
    while readers.join_next().await.is_some() {}
    app.password_checks.stop().await;
    // The views end when their last inbox goes: the readers' went with them, the API's go
    // with the app.
    drop(app);
    let ended = tokio::time::timeout(VIEWS_END_WAIT, async { while views.join_next().await.is_some() {} }).await;
    if ended.is_err() {
        tracing::warn!("a hall's view did not end at the stop; aborted");
        views.shutdown().await;
    }
    drop(client);
    tokio::task::spawn_blocking(move || replica.close()).await.map_err(|e| std::io::Error::other(e.to_string()))?;
    tracing::info!("district replica flushed; bye");
    served.map_err(DistrictError::from)
}
