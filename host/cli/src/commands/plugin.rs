//! `warden plugin new/build/test/push/ls`: scaffold, build and test a plugin project locally
//! (Rust or Python), upload a component to a server (with a progress bar for large files), list
//! a server's plugins.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Subcommand;

use crate::client::{Connection, client};
use crate::output::Failure;

/// `warden plugin ...`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a plugin project (Rust or Python) that builds with one command and passes
    /// `warden inspect`.
    New(crate::scaffold::NewArgs),
    /// Build a plugin project into a component (installing its toolchain on first use).
    Build(crate::scaffold::BuildArgs),
    /// Run a plugin project's unit tests (cargo test, or pytest with the Python kit).
    Test(crate::scaffold::BuildArgs),
    /// Upload a component as a new version (shows progress for large files).
    #[command(disable_version_flag = true)]
    Push {
        /// The component file.
        file: PathBuf,
        /// The plugin's name.
        #[arg(long)]
        name: String,
        /// Its version (semver).
        #[arg(long)]
        version: String,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        /// The world you expect it to implement (refused if it implements another).
        #[arg(long)]
        world: Option<String>,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
    /// List the plugins (built-ins and your tenant's).
    Ls {
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
}

/// Runs `warden plugin …`.
pub fn execute(cmd: PluginCommand) -> Result<u8, Failure> {
    match cmd {
        PluginCommand::New(args) => crate::scaffold::new(&args),
        PluginCommand::Build(args) => crate::scaffold::build(&args),
        PluginCommand::Test(args) => crate::scaffold::test(&args),
        PluginCommand::Ls { conn } => conn.list_all("/v1/plugins"),
        PluginCommand::Push {
            file,
            name,
            version,
            description,
            world,
            conn,
        } => {
            let f = std::fs::File::open(&file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let len = f
                .metadata()
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?
                .len();
            let bar = if std::io::stderr().is_terminal() && len > (1 << 20) {
                let bar = indicatif::ProgressBar::new(len);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "uploading {bar:40} {bytes}/{total_bytes} ({bytes_per_sec})",
                ) {
                    bar.set_style(style);
                }
                bar
            } else {
                indicatif::ProgressBar::hidden()
            };
            let body = reqwest::blocking::Body::sized(Progress { inner: f, bar }, len);
            let path = format!("/v1/plugins/{name}/versions/{version}");
            let mut req = client()?
                .post(conn.url(&path))
                .header("content-type", "application/wasm")
                .body(body);
            if let Some(d) = description {
                req = req.header("x-warden-description", d);
            }
            if let Some(w) = world {
                req = req.header("x-warden-world", w);
            }
            conn.finish(conn.authed(req)?)
        }
    }
}

/// A reader that advances a progress bar as the upload body is read.
struct Progress<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        if n == 0 {
            self.bar.finish_and_clear();
        }
        Ok(n)
    }
}
