//! `warden serve`: the HTTP server, and [`ServeArgs`], where its configuration comes from
//! (also read by `warden config` and `warden token issue`).

use std::path::PathBuf;

use clap::Args;

use crate::output::Failure;

/// Where the server's configuration comes from.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// A TOML configuration file (overridden by WARDEN_* variables and by flags).
    #[arg(long, env = "WARDEN_CONFIG")]
    pub config: Option<PathBuf>,
    /// The data directory [default: ./warden-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// TLS certificate chain (PEM); with --tls-key the server speaks HTTPS only.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl ServeArgs {
    /// The effective configuration: defaults, the file, `WARDEN_*` variables, then these flags.
    pub fn load(&self) -> Result<warden_server::config::Config, Failure> {
        warden_server::config::Config::load(
            self.config.as_deref(),
            &warden_server::config::FlagOverrides {
                listen: self.listen,
                data_dir: self.data_dir.clone(),
                tls_cert: self.tls_cert.clone(),
                tls_key: self.tls_key.clone(),
            },
        )
        .map_err(|e| Failure::usage(e.to_string()))
    }
}

/// Runs `warden serve` until it is shut down.
pub fn execute(args: &ServeArgs) -> Result<u8, Failure> {
    let config = args.load()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(warden_server::listen::serve(config))
        .map_err(|e| Failure::usage(format!("{e:#}")))?;
    Ok(0)
}
