//! `hallq district --config DIR --data DIR [--listen ADDR]`: the district process on a
//! runtime of its own until SIGTERM or Ctrl-C, like `hallq serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{run, DistrictError, DistrictOptions};
use crate::config::{load_district_dir, ConfigErrors};

#[derive(clap::Args)]
pub struct DistrictArgs {
    /// The district's directory: district.toml and halls/<folder>/hall.toml.
    #[arg(long)]
    pub config: PathBuf,
    /// Where the district keeps its replica of the halls' logs.
    #[arg(long)]
    pub data: PathBuf,
    /// Address to listen on, e.g. 127.0.0.1:8090 (overrides district.toml's listen).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("the district's configuration has errors:\n{0}")]
    Config(ConfigErrors),
    #[error("starting: {0}")]
    Start(std::io::Error),
    #[error("cannot listen on {0}: {1}; is another district running there?")]
    Listen(SocketAddr, std::io::Error),
    #[error(transparent)]
    District(#[from] DistrictError),
}

/// Loads the district's directory and runs it until a signal.
pub fn main(args: DistrictArgs) -> Result<(), CliError> {
    // As for a hall (`hallq serve`): each supervisor's sign-in takes an argon2 work area of
    // 19 MiB, which glibc would otherwise keep resident after the first.
    crate::daemon::process::fixed_mmap_threshold();
    super::memory::limit_arenas();
    let config = load_district_dir(&args.config).map_err(CliError::Config)?;
    let addr = args.listen.unwrap_or(config.listen);
    let runtime = tokio::runtime::Runtime::new().map_err(CliError::Start)?;
    runtime.block_on(async move {
        let shutdown = crate::daemon::process::shutdown_signal().map_err(CliError::Start)?;
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| CliError::Listen(addr, e))?;
        let options = DistrictOptions { data_dir: args.data, clock: None };
        Ok(run(listener, config, options, shutdown).await?)
    })
}
