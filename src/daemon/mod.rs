//! Wires the parts into a running daemon: open the log, load it, start the engine,
//! serve HTTP until the shutdown future resolves, then drain, join what was started, and
//! flush. `serve` owns every task and thread it starts (`tasks.rs`).

pub mod process;
mod tasks;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::core::model::Ts;
use crate::core::{Command, Envelope, HallState};
use crate::engine::{Engine, EngineTask};
use crate::feed::Feed;
use crate::http::{self, auth::Sessions, Shared};
use crate::identity::{Directory, Identity};
use crate::metrics::Metrics;
use crate::reports::Reports;
use crate::store::{Store, StoreError};
use crate::time::{wall_clock, Clock};
use crate::voice::Voice;
pub use tasks::{DisplayThread, Tasks};

/// How the daemon runs, beyond the hall's configuration.
pub struct Options {
    pub data_dir: PathBuf,
    /// Ignore the configured opening hours (demos and tests outside hall hours).
    pub always_open: bool,
    /// Where the engine reads the time; `None` is the wall clock.
    pub clock: Option<Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("metrics could not be set up: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("the catalogue could not be serialised: {0}")]
    Catalog(#[from] serde_json::Error),
    #[error("the engine stopped on a broken invariant (a bug); see the log above")]
    EngineFailed,
    #[error("the HTTP server failed: {0}")]
    Http(#[from] std::io::Error),
    #[error("the bookings' phone-hash key: {0}")]
    PhoneKey(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the alert webhook's HTTP client: {0}")]
    Webhook(String),
    #[error("hall.toml changed under today's event log: {0}")]
    ConfigRemoved(String),
}

/// The webhook's mark, set through `store`: the one write its sender makes.
fn mark_done(store: &Arc<Store>) -> impl Fn(u64) -> Result<(), StoreError> + Send + 'static {
    let store = store.clone();
    move |seq| store.set_webhook_done(seq)
}

/// Runs the hall on `listener` until `shutdown` resolves; then stops accepting, lets
/// requests in flight finish, joins every task it started, drains the engine's inbox,
/// flushes, and returns.
pub async fn serve(
    listener: TcpListener,
    mut config: Config,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    if options.always_open {
        config.setup.hours.clear();
    }
    let tls = config.tls.as_ref().map(http::listen::tls_config).transpose().map_err(DaemonError::Tls)?;
    raise_open_files();
    let Opened { setup, store, mut state, phone_key } = open_log(&config, &options.data_dir)?;
    let clock = options.clock.unwrap_or_else(|| Arc::new(wall_clock));
    reconcile(&mut state, &store, clock()).await?;
    let mut tasks = Tasks::default();
    let metrics = Arc::new(Metrics::new()?);
    metrics.log_position.set(i64::try_from(state.last_seq).unwrap_or(i64::MAX));
    let voice = start_voice(&config, &options.data_dir, &metrics).await;
    let feed = Arc::new(Feed::new(&state).with_voice(voice.clone()));
    let webhook = start_webhook(&config, &setup, &store, &state, &metrics, &clock, &mut tasks)?;
    // The sessions kept before the restart, checked against the users as they are now.
    let sessions = Sessions::restore(store.clone(), &Directory::new(&config, &state.staff), clock().0)?;
    let (engine, mut engine_task) = Engine::new(state, store.clone(), feed.clone(), metrics.clone(), clock.clone())
        .with_retention(config.retention_days)
        .with_webhook(webhook)
        .spawn();
    let (printers, printer_tasks) =
        crate::printer::Printers::start(&config.kiosks, clock.clone(), engine.clone(), tasks.token());
    printer_tasks.into_iter().for_each(|t| tasks.own("printer", t));
    start_uplink(&config, &store, &metrics, &clock, &mut tasks);
    let displays = DisplayThread::start();
    let config = Arc::new(config);
    let reports = Arc::new(Reports::new(store.clone(), setup, config.service_level.clone()));
    let hall = http::Hall { config, engine, feed, metrics, reports, printers, voice };
    let edge = start_edge(&hall, &store, sessions, clock, phone_key, &tasks, displays.as_ref())?;
    let app = Arc::new(Shared { hall, edge });
    start_cmd(&app, &mut tasks);
    let addr = listener.local_addr()?;
    warn_at_start(&app, addr, tls.is_some(), &mut tasks);
    tracing::info!("hallq listening on {}://{addr}", if tls.is_some() { "https" } else { "http" });
    // The per-address connection cap goes with the per-address rate limits: behind a TLS
    // proxy (and in `hallq bench`) every client has one address, and both are turned off.
    let per_address = (!app.hall.config.limits.public.is_off()).then_some(http::conns::CONNECTIONS_PER_ADDRESS_MAX);
    // A broken invariant panics the engine; then the daemon must stop too, not go on
    // answering 503 with nobody noticing.
    let engine_failed = engine_task.failure();
    let cancel = tasks.canceller();
    let served = http::listen::serve(listener, tls, per_address, http::router(app.clone()), async move {
        tokio::select! {
            () = shutdown => tracing::info!("shutting down: no new connections; finishing requests in flight"),
            () = engine_failed => tracing::error!("the engine stopped on a bug; shutting down"),
        }
        cancel.cancel();
    })
    .await;
    let engine_ok = stop_all(&app, tasks, displays, engine_task).await;
    close_log(&store).await?;
    tracing::info!("event log flushed; bye");
    served?;
    engine_ok.then_some(()).ok_or(DaemonError::EngineFailed)
}

/// The edge's own state at start (`http::Edge`): the sessions kept, who each user is, the
/// rate limits, the displays' thread, the daemon's cancellation token.
fn start_edge(
    hall: &http::Hall,
    store: &Arc<Store>,
    sessions: Sessions,
    clock: Clock,
    phone_key: [u8; 32],
    tasks: &Tasks,
    displays: Option<&DisplayThread>,
) -> Result<http::Edge, DaemonError> {
    let config = &hall.config;
    Ok(http::Edge {
        sessions,
        identity: Identity::new(config.clone(), hall.engine.clone()),
        limits: http::rate::Limits::new(&config.limits, &config.kiosks),
        clock,
        phone_key,
        catalog: http::public_catalog(&config.setup, config.remind_ahead)?,
        displays: AtomicUsize::new(0),
        display_runtime: displays.map(DisplayThread::handle),
        shutdown: tasks.token(),
        demo_users: std::sync::OnceLock::new(),
        demo: http::DemoAnswer::default(),
        backup_running: Arc::default(),
        person_refusals: http::moves::PersonRefusals::default(),
        referrals: crate::district::refer::Outbound::kept(store.clone()),
    })
}

/// How call-outs are spoken, with the audio cache in the data directory.
async fn start_voice(config: &Config, data_dir: &std::path::Path, metrics: &Metrics) -> Arc<Voice> {
    let renders = (metrics.voice_renders.clone(), metrics.voice_render_failures.clone());
    Arc::new(Voice::start(config.voice.clone(), config.zones.clone(), data_dir, renders.0, renders.1).await)
}

/// The log as start-up found it, and the bookings' phone-hash key.
struct Opened {
    setup: Arc<crate::core::setup::Setup>,
    store: Arc<Store>,
    state: HallState,
    phone_key: [u8; 32],
}

/// Opens and loads the event log (the latest snapshot and the records after it).
fn open_log(config: &Config, data_dir: &std::path::Path) -> Result<Opened, DaemonError> {
    let setup = Arc::new(config.setup.clone());
    let store = Arc::new(Store::open(data_dir)?);
    let started = std::time::Instant::now();
    let (state, loaded) = store.load(setup.clone())?;
    tracing::info!(
        snapshot = loaded.snapshot,
        records = loaded.replayed,
        ms = started.elapsed().as_millis() as u64,
        "event log loaded"
    );
    // A hall whose log has begun has its key already; one made anew would leave every
    // booking's phone hash unmatched.
    let phone_key = phone_key(data_dir, state.last_seq == 0).map_err(DaemonError::PhoneKey)?;
    let (setup, state) = seed_enterprises(config, setup, state, &phone_key);
    Ok(Opened { setup, store, state, phone_key })
}

/// 助企服务: the registry's credit codes as keyed hashes, which need the data directory's
/// key and so come after the log's load; the replay read none of them (a record names an
/// enterprise by its id), so the loaded state takes the seeded setup as it is.
fn seed_enterprises(
    config: &Config,
    setup: Arc<crate::core::setup::Setup>,
    mut state: HallState,
    phone_key: &[u8; 32],
) -> (Arc<crate::core::setup::Setup>, HallState) {
    let Some(policy) = &setup.enterprises else { return (setup, state) };
    let seed = crate::config::enterprise_seed(&config.enterprises, phone_key);
    let policy = crate::core::enterprise::EnterprisePolicy { seed, ..policy.clone() };
    let setup = Arc::new(crate::core::setup::Setup { enterprises: Some(policy), ..(*setup).clone() });
    state.setup = setup.clone();
    (setup, state)
}

/// Starts the alert webhook's sender (owned by `tasks`), if the hall has one, with the
/// notices the last run did not finish queued first, in log order.
fn start_webhook(
    config: &Config,
    setup: &Arc<crate::core::setup::Setup>,
    store: &Arc<Store>,
    state: &HallState,
    metrics: &Arc<Metrics>,
    clock: &Clock,
    tasks: &mut Tasks,
) -> Result<Option<Arc<crate::webhook::Outbox>>, DaemonError> {
    let Some(hook) = &config.webhook else { return Ok(None) };
    let kiosks = config.kiosks.iter().map(|k| (k.id.clone(), k.name.clone())).collect();
    let (outbox, task) = crate::webhook::spawn(
        hook.clone(),
        setup.clone(),
        kiosks,
        mark_done(store),
        metrics.clone(),
        clock.clone(),
        tasks.token(),
    )
    .map_err(|e| DaemonError::Webhook(e.without_url().to_string()))?;
    tasks.own("webhook", task);
    match owed_notices(store, setup, state.last_seq, hook.outbox) {
        Ok(owed) => {
            if !owed.is_empty() {
                tracing::info!(
                    notices = owed.len(),
                    "alert notices owed from before the restart queued for the webhook"
                );
            }
            owed.into_iter().for_each(|n| outbox.push(n));
        }
        Err(e) => tracing::warn!(error = %e, "alert notices owed from before the restart could not be read"),
    }
    Ok(Some(outbox))
}

/// Starts the district link (issue 18), if the hall has `[district]`: a task of `tasks`
/// that publishes the log to the hall's stream, resuming where the server stands.
fn start_uplink(config: &Config, store: &Arc<Store>, metrics: &Arc<Metrics>, clock: &Clock, tasks: &mut Tasks) {
    let Some(link) = &config.district else { return };
    tracing::info!(nats = %link.nats_url, subject = %link.log_subject(), "publishing the log to the district");
    let uplink = crate::district::Uplink {
        link: link.clone(),
        store: store.clone(),
        metrics: metrics.clone(),
        clock: clock.clone(),
        retention_days: config.retention_days,
        acked: Default::default(),
    };
    tasks.own("district uplink", tokio::spawn(uplink.run(tasks.token())));
}

/// Starts the answers to the district's online requests (issue 18), if the hall has
/// `[district]`: a task of `tasks` that passes each to the hall's own public routes.
fn start_cmd(app: &Arc<Shared>, tasks: &mut Tasks) {
    let Some(link) = &app.hall.config.district else { return };
    let serve = crate::district::cmd::serve(link.clone(), app.clone(), tasks.token());
    tasks.own("district cmd", tokio::spawn(serve));
    let settle = crate::district::refer::run_settle(link.clone(), app.clone(), tasks.token());
    tasks.own("referrals settling", tokio::spawn(settle));
}

/// The notices the last run owed the webhook: those of the records after its mark, read
/// from the opening of the mark's service day on (`webhook::pending`), so that an alert
/// raised before the mark and cleared or ended after it is known. On the hall's first
/// start with a webhook there is no mark, and nothing before now is owed: the mark is set
/// to the end of the log (`last_seq`).
fn owed_notices(
    store: &Store,
    setup: &Arc<crate::core::setup::Setup>,
    last_seq: u64,
    max: usize,
) -> Result<Vec<crate::webhook::Notice>, StoreError> {
    let Some(done) = store.webhook_done()? else {
        store.set_webhook_done(last_seq)?;
        return Ok(Vec::new());
    };
    let from = store.day_opening_at(done)?.unwrap_or(0);
    crate::webhook::pending(setup.clone(), done, store.records_after(from.saturating_sub(1)), max)
}

/// Warnings at start: those that cost nothing now; those about demo passwords, which need
/// an argon2 hash per distinct hash string (about 0.4 s of CPU for the example hall's
/// sixteen, once per process: `config::passwords`), beside serving (a task of `tasks`), so
/// that a restart is not held up by them.
fn warn_at_start(app: &Arc<Shared>, addr: std::net::SocketAddr, tls_on: bool, tasks: &mut Tasks) {
    for warning in http::listen::exposure_warnings(addr, tls_on, 0) {
        tracing::warn!("{warning}");
    }
    if app.hall.config.public_url.is_none() {
        tracing::warn!(
            "QR codes and status links use the address each kiosk reached the daemon by, which visitors' phones may not reach; set [hall] public_url to the address they open"
        );
    }
    let shared = app.clone();
    let demo = tokio::task::spawn_blocking(move || {
        let users = shared.hall.config.demo_users();
        // The start page shows the demo accounts only while every one still is one.
        let _ = shared.edge.demo_users.set(!users.is_empty() && users.iter().all(|d| *d));
        let demo = shared.hall.config.demo_credentials_of(&users).len();
        if demo > 0 {
            // Counted, not listed: a user name may be a person's name, and names stay out
            // of the log. `hallq check DIR` lists them.
            tracing::warn!(
                "{demo} demo credential(s) in use; replace them before the hall opens (hallq check lists them)"
            );
            let plain = http::listen::exposure_warnings(addr, tls_on, 0);
            for warning in http::listen::exposure_warnings(addr, tls_on, demo) {
                if !plain.contains(&warning) {
                    tracing::warn!("{warning}");
                }
            }
        }
    });
    tasks.own("demo-warnings", tokio::spawn(async move { drop(demo.await) }));
}

/// How long the displays have, once the shutdown is signalled, to close their
/// connections before their thread is stopped under them.
const DISPLAYS_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// After the HTTP server has drained: waits for the displays to close, joins every task,
/// stops the displays' thread and the password checks' threads, and last the engine,
/// which finishes its inbox. True if the engine ended cleanly.
async fn stop_all(app: &Shared, tasks: Tasks, displays: Option<DisplayThread>, engine: EngineTask) -> bool {
    tasks.cancel();
    let closing = async {
        while app.edge.displays.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    if tokio::time::timeout(DISPLAYS_CLOSE_WAIT, closing).await.is_err() {
        tracing::warn!("displays still connected at shutdown; their connections are dropped");
    }
    tasks.join().await;
    if let Some(displays) = displays {
        displays.stop().await;
    }
    app.edge.limits.password_checks.stop().await;
    engine.stop().await
}

/// The last flush, then the log closed: when this returns, sled's lock on the data
/// directory is free (`Store::close` waits for it, here on the blocking pool).
async fn close_log(store: &Arc<Store>) -> Result<(), StoreError> {
    store.flush().await?;
    let closing = store.clone();
    if tokio::task::spawn_blocking(move || closing.close()).await.is_err() {
        tracing::warn!("closing the event log failed");
    }
    Ok(())
}

/// Decides and logs, before anything is served, what a hall.toml changed since today's
/// records were written means for today's tickets (`core::reconcile`); refuses the start
/// where a ticket would be left with no queue to serve it. A log of an earlier day needs
/// nothing: the day's opening expires its tickets.
async fn reconcile(state: &mut HallState, store: &Arc<Store>, now: Ts) -> Result<(), DaemonError> {
    if state.day != Some(state.setup.day_of(now)) {
        return Ok(());
    }
    let step = state.step(&Envelope { command: Command::Reconcile, idempotency_key: None }, now);
    if let Err(refused) = step.result {
        return Err(DaemonError::ConfigRemoved(refused.to_string()));
    }
    if !step.records.is_empty() {
        store.append(&step.records)?;
        store.flush().await?;
        tracing::warn!(
            tickets = step.records.len(),
            "hall.toml lost a window or queue today's tickets were tied to; they wait in their queues again"
        );
    }
    Ok(())
}

/// Open files the daemon wants: a socket per display at the most, and room for kiosks,
/// clerks, sled's files and the rest.
const OPEN_FILES_WANTED: u64 = crate::http::ws::DISPLAYS_MAX as u64 + 4096;

/// Raises the soft limit of open files towards `OPEN_FILES_WANTED` (the hard limit
/// allowing): the usual default of 1,024 would refuse connections long before the
/// displays' limit. Says so in the log when it stays below half the displays' limit.
fn raise_open_files() {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes one rlimit struct, which we own.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 || lim.rlim_cur >= OPEN_FILES_WANTED {
            return;
        }
        let wanted = libc::rlimit { rlim_cur: OPEN_FILES_WANTED.min(lim.rlim_max), rlim_max: lim.rlim_max };
        // SAFETY: setrlimit reads one rlimit struct, which we own.
        let raised = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } == 0;
        let now = if raised { wanted.rlim_cur } else { lim.rlim_cur };
        if now < OPEN_FILES_WANTED / 2 {
            tracing::warn!(
                open_files = now,
                wanted = OPEN_FILES_WANTED,
                "the open-file limit caps how many displays and clients can connect; raise it (ulimit -n, or LimitNOFILE= in a systemd unit)"
            );
        }
    }
}

/// The key's file in the data directory.
pub const PHONE_KEY_FILE: &str = "phone-hash.key";

/// The key of the bookings' phone-number hash: 32 random bytes in `phone-hash.key` of the
/// data directory, made on a hall's first start (`create`; also by `hallq recover` and
/// `hallq restore`) and kept (owner-only) so that hashes stay comparable across restarts.
/// Backups leave it out: the operator keeps a copy elsewhere.
pub fn phone_key(data_dir: &std::path::Path, create: bool) -> Result<[u8; 32], String> {
    use rand::RngCore as _;
    let path = data_dir.join(PHONE_KEY_FILE);
    let shown = path.display();
    match std::fs::read(&path) {
        Ok(bytes) => {
            return <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                format!(
                    "{shown} is not 32 bytes; put back the copy you keep of it, or run `hallq recover --data {}` \
                         to make a new one (bookings made before are then found by their code only)",
                    data_dir.display()
                )
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => {
            return Err(format!(
                "{shown} is missing while the log is not new; put back the copy you keep of it (bookings' phone \
                 numbers are hashed with it), or run `hallq recover --data {}` to make a new one (bookings made \
                 before are then found by their code only)",
                data_dir.display()
            ));
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(format!("cannot read {shown}: {e}")),
        Err(_) => {}
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| format!("cannot create {shown}: {e}"))?;
    std::io::Write::write_all(&mut file, &key).map_err(|e| format!("cannot write {shown}: {e}"))?;
    file.sync_all().map_err(|e| format!("cannot sync {shown}: {e}"))?;
    Ok(key)
}
