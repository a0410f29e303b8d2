//! The `hallq` command: a thin layer over the library (serve, district, check, recover,
//! backup, restore, hash-password, simulate, bench).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use hallq::config::{self, Config};
use hallq::daemon::{self, Options};

#[derive(Parser)]
#[command(name = "hallq", version, about = "Queue-ticketing and window-dispatch daemon for a government service hall")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the daemon (by default the example hall built in, data in ./data, on 127.0.0.1:8080).
    Serve {
        /// A kiosk-config directory; without it the built-in example hall runs.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where the event log lives (overrides [hall] data_dir).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on, e.g. 0.0.0.0:8080 (overrides [hall] listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Issue tickets at any hour, ignoring [hall] hours (for demos and tests).
        #[arg(long)]
        always_open: bool,
        /// Serve HTTPS with this PEM certificate chain (overrides [hall] tls_cert; needs --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert (overrides [hall] tls_key).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Turn the [hall.limits] rate limits off (for `hallq bench`, whose kiosks share
        /// one token on purpose; never in a hall).
        #[arg(long, hide = true)]
        no_rate_limits: bool,
    },
    /// Run the district: every hall's stream read into the district's view, and its API.
    District(hallq::district::cli::DistrictArgs),
    /// From a district's directory: an NKey seed per hall and for the district (missing
    /// ones made, mode 0600) and nats-server's authorization block, each allowed only its
    /// own subjects (hall.toml's and district.toml's [district] nkey_file).
    NatsConfig(hallq::district::natsconf::NatsConfigArgs),
    /// Check a kiosk-config directory and report every error with file, line and key.
    Check { dir: PathBuf },
    /// After `serve` refused a damaged, emptied or missing log: move the damaged files
    /// aside, keep what still reads, report what was dropped, and make sure no number
    /// issued that day is issued again. The daemon must be stopped.
    Recover {
        /// The data directory `serve` refused.
        #[arg(long)]
        data: PathBuf,
        /// The hall's kiosk-config directory; without it the built-in example hall.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Save a consistent copy of a running daemon's event log into DIR (as an admin; the
    /// password is read from standard input). The phone-hash key is not in it: keep a
    /// copy of the data directory's phone-hash.key apart from the backups.
    Backup {
        /// Where the backup file goes (made if missing).
        dir: PathBuf,
        /// The daemon's address.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An admin user of the hall.
        #[arg(long)]
        user: String,
    },
    /// Restore a data directory (the daemon not running): from a backup file, or from the
    /// hall's JetStream stream with --from-nats, into a new, empty directory.
    Restore(hallq::district::restore::RestoreArgs),
    /// Print the argon2id hash of a password (read from standard input) for a [[user]] entry.
    HashPassword,
    /// Simulate a hall through the real core and report waits, window use and ETA error.
    Simulate(Box<SimulateArgs>),
    /// Measure the daemon (started as a child process, or --target) beside a raw baseline:
    /// issuance, call-out to displays, memory and CPU, and the ratios hallq / baseline.
    Bench(Box<hallq::bench::BenchArgs>),
    /// The raw baseline `bench` measures hallq against (started by `bench` itself).
    #[command(hide = true)]
    BenchBaseline(hallq::bench::BaselineArgs),
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// A kiosk-config directory to simulate; without it (and without --windows) the example hall.
    #[arg(long, conflicts_with_all = ["windows", "compare"])]
    config: Option<PathBuf>,
    /// The plain hall of queueing theory: N identical windows, one queue, always open.
    #[arg(long)]
    windows: Option<usize>,
    /// Two kiosk-config directories run on the same arrivals and seed, side by side.
    #[arg(long, num_args = 2, value_names = ["A", "B"], conflicts_with = "windows")]
    compare: Option<Vec<PathBuf>>,
    /// The hall (--config, or the example) side by side without and with store-next: its
    /// clerks calling by hand after --react, or finishing with done-next.
    #[arg(long, conflicts_with_all = ["windows", "compare"])]
    compare_store_next: bool,
    /// A clerk's reaction time between letting a ticket go and calling the next, in seconds.
    #[arg(long, default_value_t = 0)]
    react: u32,
    /// Poisson arrivals, e.g. 108/h or 2/min (default 108/h unless --trace).
    #[arg(long, conflicts_with = "trace")]
    arrivals: Option<hallq::sim::Rate>,
    /// A CSV of one day's arrivals: time,service,priority.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Service times: exp:10m, lognormal:MEAN,SD (minutes) or items (default: items for a
    /// configured hall, exp:10m for the plain one).
    #[arg(long)]
    service: Option<hallq::sim::ServiceModel>,
    /// Measured hours of the plain hall (sets the days: 21 measured hours a day).
    #[arg(long, conflicts_with = "days")]
    hours: Option<u32>,
    /// Simulated days.
    #[arg(long)]
    days: Option<u32>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Probability that a called visitor does not come (recalled up to the hall's
    /// recall_max, then marked no-show).
    #[arg(long, default_value_t = 0.0)]
    no_show: f64,
    /// Probability that a visitor marked no-show comes back within the hall's rejoin_min
    /// and takes the number back in line.
    #[arg(long, default_value_t = 0.0)]
    rejoin: f64,
    /// Probability that a served visitor lacks a document: the clerk parks the ticket and
    /// resumes it when the visitor is back.
    #[arg(long, default_value_t = 0.0)]
    park: f64,
    /// Share of Poisson visitors who ask for one of the hall's bundles instead of an item.
    #[arg(long, default_value_t = 0.0, conflicts_with = "trace")]
    bundles: f64,
    /// Share of visitors who booked a slot beforehand (the hall's [hall.appointments]): they
    /// come around its start and check in; a full slot sends them to the kiosk.
    #[arg(long, default_value_t = 0.0)]
    appointments: f64,
    /// Share of visitors who take their number remotely 10-60 minutes before coming, and
    /// check in on arrival (their wait counts from then).
    #[arg(long, default_value_t = 0.0)]
    remote: f64,
    /// Share of walk-in visitors who come with a guide (全程领办): the guide takes the number
    /// for them and escorts them while the guide has room under [hall.guides] escorts_max.
    #[arg(long, default_value_t = 0.0)]
    guided: f64,
    /// Guides on duty for --guided, taking the guided visitors in turn.
    #[arg(long, default_value_t = 2)]
    guides: u32,
    /// Share of visitors whose matter the first clerk cannot finish (办不成事请找我): the
    /// clerk escalates it with the hall's first reason, and the escalation window serves it.
    #[arg(long, default_value_t = 0.0)]
    escalate: f64,
    /// A visitor not called after this many minutes leaves.
    #[arg(long)]
    abandon_after: Option<u32>,
    /// Service level in minutes.
    #[arg(long, default_value_t = 15)]
    sla: u32,
    /// Walk time from the call to the counter in seconds (configured halls; the plain hall has none).
    #[arg(long, default_value_t = 20)]
    walk: u32,
    /// Warm-up hours of a hall open always, not counted in the waits.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Keep each arrival with this probability (to fit a trace to a smaller hall).
    #[arg(long, default_value_t = 1.0)]
    sample: f64,
    /// A rota CSV (window,from,to): when clerks are at which windows; without it every
    /// window is staffed from opening until its line is empty after closing.
    #[arg(long)]
    staffing: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Write an SVG chart of tickets waiting over the day.
    #[arg(long)]
    svg: Option<PathBuf>,
}

fn load(dir: Option<&PathBuf>) -> anyhow::Result<Config> {
    let loaded = match dir {
        Some(d) => config::load_dir(d),
        None => config::embedded_default(),
    };
    loaded.map_err(|e| anyhow::anyhow!("the configuration has errors:\n{e}"))
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The error alone, in words: no backtrace, whatever RUST_BACKTRACE says.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Writes `text` and a newline to standard output; a reader that went away (`| head`) is
/// not an error worth a panic.
fn say(text: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            // The NATS client logs each (re)connection at info: the uplink and the
            // district say what matters of their links themselves.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sled=warn,async_nats=warn".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    match Cli::parse().command {
        Cmd::Serve { config, data, listen, always_open, tls_cert, tls_key, no_rate_limits } => {
            let tls = tls_cert.zip(tls_key).map(|(cert, key)| config::TlsFiles { cert, key });
            serve(config.as_ref(), data, listen, always_open, tls, no_rate_limits)
        }
        Cmd::District(args) => Ok(hallq::district::cli::main(args)?),
        Cmd::NatsConfig(args) => {
            hallq::district::natsconf::main(args)?.iter().for_each(say);
            Ok(())
        }
        Cmd::Check { dir } => check(&dir),
        Cmd::Recover { data, config } => {
            let cfg = load(config.as_ref())?;
            let report = hallq::recover::recover(&data, std::sync::Arc::new(cfg.setup), hallq::time::wall_clock())?;
            say(report);
            Ok(())
        }
        Cmd::Backup { dir, url, user } => backup(&dir, &url, &user),
        Cmd::Restore(args) => {
            hallq::district::restore::main(args)?.iter().for_each(say);
            Ok(())
        }
        Cmd::HashPassword => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).context("reading the password from standard input")?;
            let hash = config::hash_password(password.trim_end_matches(['\r', '\n']))
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
            say(&hash);
            Ok(())
        }
        Cmd::Simulate(args) => simulate(*args),
        Cmd::Bench(args) if args.district.district => {
            let report = hallq::bench::district::run(&args.district, args.duration_s())?;
            say(if args.json() { report.json() } else { report.table() }.trim_end());
            Ok(())
        }
        Cmd::Bench(args) => {
            let json = args.json();
            let report = hallq::bench::run(*args)?;
            say(if json { report.json() } else { report.table() }.trim_end());
            Ok(())
        }
        Cmd::BenchBaseline(args) => Ok(hallq::bench::serve_baseline(args)?),
    }
}

/// `hallq serve`: the daemon on its own runtime until SIGTERM or Ctrl-C.
fn serve(
    config: Option<&PathBuf>,
    data: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    always_open: bool,
    tls: Option<config::TlsFiles>,
    no_rate_limits: bool,
) -> anyhow::Result<()> {
    daemon::process::fixed_mmap_threshold();
    let mut cfg = load(config)?;
    if no_rate_limits {
        tracing::warn!("rate limits are off (--no-rate-limits): for benchmarks only");
        cfg.limits = config::RateLimits::OFF;
    }
    if tls.is_some() {
        cfg.tls = tls;
    }
    let data_dir = data.unwrap_or_else(|| cfg.data_dir.clone());
    let addr = listen.unwrap_or(cfg.listen);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        // The handlers go in before anything else: a SIGTERM that lands while the log
        // loads or just after the listening line must stop the daemon gracefully, not
        // kill it with the signal's default action.
        let shutdown = daemon::process::shutdown_signal().context("installing the SIGTERM and Ctrl-C handlers")?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}; is another hallq running there?"))?;
        let options = Options { data_dir, always_open, clock: None };
        daemon::serve(listener, cfg, options, shutdown).await?;
        anyhow::Ok(())
    })
}

/// `hallq check DIR`: the configuration's summary, its printers and demo credentials, or
/// every error in it.
fn check(dir: &std::path::Path) -> anyhow::Result<()> {
    let cfg = match config::load_dir(dir) {
        Ok(cfg) => cfg,
        Err(errors) => {
            eprintln!("{errors}");
            bail!("{} error(s) in {}", errors.0.len(), dir.display())
        }
    };
    let s = &cfg.setup;
    say(format_args!(
        "{}: ok — {} queues, {} windows, {} items, {} bundles, {} kiosks, {} users",
        dir.display(),
        s.queues.len(),
        s.windows.len(),
        s.items.len(),
        s.bundles.len(),
        cfg.kiosks.len(),
        cfg.users.len()
    ));
    match &cfg.public_url {
        Some(url) => say(format!("public address (QR codes, status links): {}", url.as_str())),
        None => say("warning: no [hall] public_url: QR codes will name the address each kiosk reaches the daemon by"),
    }
    for k in &cfg.kiosks {
        if let Some(p) = &k.printer {
            say(format!(
                "kiosk {}: ticket printer {} ({} characters a line, timeout {} ms)",
                k.id,
                p.address(),
                p.width_chars,
                p.timeout_ms
            ));
        }
    }
    for credential in cfg.demo_credentials() {
        say(format!("warning: demo credential: {credential}"));
    }
    Ok(())
}

/// `hallq backup`: logs in, streams the daemon's backup into a temporary file, and keeps
/// it only once its last line has arrived.
fn backup(dir: &std::path::Path, url: &str, user: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let path = dir.join(format!("hallq-backup-{stamp}.jsonl"));
    let tmp = dir.join(format!("hallq-backup-{stamp}.jsonl.part"));
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let base = url.trim_end_matches('/');
        let login = http
            .post(format!("{base}/api/v1/login"))
            .json(&serde_json::json!({ "user": user, "password": password }))
            .send()
            .await
            .with_context(|| format!("cannot reach {base}"))?;
        if !login.status().is_success() {
            bail!("login as {user} refused ({})", login.status());
        }
        let body: serde_json::Value = login.json().await.context("reading the login answer")?;
        let token = body["token"].as_str().context("the login answer has no token")?.to_string();
        let mut resp = http
            .get(format!("{base}/api/v1/admin/backup"))
            .bearer_auth(&token)
            .send()
            .await
            .context("asking for the backup")?;
        if !resp.status().is_success() {
            let status = resp.status();
            bail!("the daemon refused the backup ({status}): {}", resp.text().await.unwrap_or_default());
        }
        let mut file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut tail = Vec::new();
        while let Some(chunk) = resp.chunk().await.context("the backup was cut off; run it again")? {
            file.write_all(&chunk).with_context(|| format!("cannot write {}", tmp.display()))?;
            tail.extend_from_slice(&chunk);
            let keep = tail.len().saturating_sub(4096);
            tail.drain(..keep);
        }
        file.sync_all().with_context(|| format!("cannot sync {}", tmp.display()))?;
        let last = tail.trim_ascii_end().rsplit(|b| *b == b'\n').next().unwrap_or_default();
        match serde_json::from_slice::<hallq::backup::Line>(last) {
            Ok(hallq::backup::Line::End { records, snapshots }) => {
                std::fs::rename(&tmp, &path).with_context(|| format!("cannot rename {}", tmp.display()))?;
                say(format_args!("{}: {records} records, {snapshots} day snapshots", path.display()));
                say("the phone-hash key is not in the backup: keep a copy of the data directory's phone-hash.key apart from it");
                Ok(())
            }
            _ => {
                let _ = std::fs::remove_file(&tmp);
                bail!("the backup ended before its last line; run it again")
            }
        }
    })
}

/// Measured hours per simulated day of the plain hall (arrivals until 23:00 less warm-up).
fn plain_days(hours: u32, warmup_h: f64) -> u32 {
    let per_day = (hallq::sim::ALWAYS_OPEN_ARRIVALS_END as f64 / 3_600_000.0 - warmup_h).max(1.0);
    (f64::from(hours) / per_day).ceil() as u32
}

fn simulate(a: SimulateArgs) -> anyhow::Result<()> {
    use hallq::sim::{self, SimHall, Source};
    let warmup_ms = (a.warmup * 3_600_000.0).round() as i64;
    let walk_ms = i64::from(a.walk) * 1000;
    let source = match &a.trace {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading the trace {}", path.display()))?;
            Source::Trace(sim::Trace::parse(&path.display().to_string(), &text)?)
        }
        None => Source::Poisson(a.arrivals.unwrap_or(sim::Rate { per_hour: 108.0 })),
    };
    let staffing = match &a.staffing {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading the rota {}", path.display()))?;
            Some(sim::Rota::parse(&path.display().to_string(), &text)?)
        }
        None => None,
    };
    let plain = a.windows.is_some();
    let service =
        a.service.unwrap_or(if plain { sim::ServiceModel::Exp { mean_min: 10.0 } } else { sim::ServiceModel::Items });
    let days = match (a.days, a.hours) {
        (Some(d), _) => d,
        (None, Some(h)) => plain_days(h, a.warmup),
        (None, None) => 1,
    };
    let opts = sim::Options {
        source,
        service,
        days,
        seed: a.seed,
        no_show: a.no_show,
        rejoin: a.rejoin,
        park: a.park,
        bundles: a.bundles,
        appointments: a.appointments,
        remote: a.remote,
        guided: a.guided,
        escalate: a.escalate,
        guides: a.guides,
        abandon_after_min: a.abandon_after,
        sla_min: a.sla,
        sample: a.sample,
        staffing,
    };
    let hall = |dir: Option<&PathBuf>| -> anyhow::Result<SimHall> {
        let name = dir.map_or_else(|| "example hall".to_string(), |d| d.display().to_string());
        let react_ms = i64::from(a.react) * 1_000;
        Ok(SimHall { react_ms, ..SimHall::from_config(&name, load(dir)?, walk_ms, warmup_ms) })
    };
    let reports = if a.compare_store_next {
        let plain = hall(a.config.as_ref())?;
        let armed = SimHall { name: format!("{}, store-next", plain.name), store_next: true, ..plain.clone() };
        let (x, y) = sim::compare(&plain, &armed, &opts)?;
        vec![x, y]
    } else if let Some(dirs) = &a.compare {
        let (x, y) = sim::compare(&hall(dirs.first())?, &hall(dirs.get(1))?, &opts)?;
        vec![x, y]
    } else if let Some(n) = a.windows {
        let mean = service.mean_min().context("the plain hall needs --service exp:… or lognormal:…, not items")?;
        vec![sim::simulate(&SimHall::plain(load(None)?, n, mean, warmup_ms)?, &opts)?]
    } else {
        vec![sim::simulate(&hall(a.config.as_ref())?, &opts)?]
    };
    let refs: Vec<&sim::Report> = reports.iter().collect();
    if let Some(path) = &a.svg {
        std::fs::write(path, sim::chart(&refs)).with_context(|| format!("writing {}", path.display()))?;
    }
    if a.json {
        let json = match refs.as_slice() {
            [one] => serde_json::to_string_pretty(one)?,
            many => serde_json::to_string_pretty(many)?,
        };
        say(&json);
    } else {
        say(sim::side_by_side(&refs).trim_end());
    }
    Ok(())
}
