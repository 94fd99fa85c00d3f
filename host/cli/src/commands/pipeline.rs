//! `warden pipeline import/run`: load pipelines from a YAML export into a server and run them.

use std::path::PathBuf;

use clap::Subcommand;

use crate::client::{Connection, client};
use crate::input::{parse_json, read_or_stdin};
use crate::output::Failure;

/// `warden pipeline ...`.
#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// Import a pipeline from a YAML export (idempotent: existing identical versions are kept).
    Import {
        /// The YAML file (`-` for stdin).
        file: PathBuf,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
    /// Run a pipeline (default: the `production` label, then `latest`); prints the output and
    /// the per-step trace.
    #[command(disable_version_flag = true)]
    Run {
        /// The pipeline's name.
        name: String,
        /// The run variables, a JSON object.
        #[arg(long, default_value = "{}")]
        vars: String,
        /// A label.
        #[arg(long, conflicts_with = "version")]
        label: Option<String>,
        /// A version number.
        #[arg(long)]
        version: Option<u64>,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
}

/// Runs `warden pipeline …`.
pub fn execute(cmd: PipelineCommand) -> Result<u8, Failure> {
    match cmd {
        PipelineCommand::Import { file, conn } => {
            let yaml = read_or_stdin(&file, "pipeline export")?;
            let req = client()?
                .post(conn.url("/v1/pipelines/import"))
                .header("content-type", "application/yaml")
                .body(yaml);
            conn.finish(conn.authed(req)?)
        }
        PipelineCommand::Run {
            name,
            vars,
            label,
            version,
            conn,
        } => conn.run_versioned(
            &format!("/v1/pipelines/{name}/run"),
            parse_json(&vars, "the variables")?,
            label,
            version,
        ),
    }
}
