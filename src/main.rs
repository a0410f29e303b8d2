//! The `hallq` command: a thin layer over the library (serve, check, hash-password).

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
    },
    /// Check a kiosk-config directory and report every error with file, line and key.
    Check { dir: PathBuf },
    /// Print the argon2id hash of a password (read from standard input) for a [[user]] entry.
    HashPassword,
}

fn load(dir: Option<&PathBuf>) -> anyhow::Result<Config> {
    let loaded = match dir {
        Some(d) => config::load_dir(d),
        None => config::embedded_default(),
    };
    loaded.map_err(|e| anyhow::anyhow!("the configuration has errors:\n{e}"))
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sled=warn".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    match Cli::parse().command {
        Cmd::Serve { config, data, listen, always_open } => {
            let cfg = load(config.as_ref())?;
            let data_dir = data.unwrap_or_else(|| cfg.data_dir.clone());
            let addr = listen.unwrap_or(cfg.listen);
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr}; is another hallq running there?"))?;
                let options = Options { data_dir, always_open, clock: None };
                daemon::serve(listener, cfg, options, shutdown_signal()).await?;
                anyhow::Ok(())
            })
        }
        Cmd::Check { dir } => match config::load_dir(&dir) {
            Ok(cfg) => {
                let s = &cfg.setup;
                println!(
                    "{}: ok — {} queues, {} windows, {} items, {} bundles, {} kiosks, {} users",
                    dir.display(),
                    s.queues.len(),
                    s.windows.len(),
                    s.items.len(),
                    s.bundles.len(),
                    cfg.kiosks.len(),
                    cfg.users.len()
                );
                for credential in cfg.demo_credentials() {
                    println!("warning: demo credential: {credential}");
                }
                Ok(())
            }
            Err(errors) => {
                eprintln!("{errors}");
                bail!("{} error(s) in {}", errors.0.len(), dir.display())
            }
        },
        Cmd::HashPassword => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).context("reading the password from standard input")?;
            let hash = config::hash_password(password.trim_end_matches(['\r', '\n']))
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
            println!("{hash}");
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
