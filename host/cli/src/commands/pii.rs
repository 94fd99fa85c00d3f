//! `warden pii detect`: find personal data with a server's detectors and dictionaries.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use crate::client::{Connection, client};
use crate::input::read_or_stdin;
use crate::output::Failure;

/// `warden pii ...`.
#[derive(Debug, Subcommand)]
pub enum PiiCommand {
    /// Detect personal data on the server (built-in plus uploaded detectors and dictionaries).
    Detect {
        /// The text.
        #[arg(long, conflicts_with = "file")]
        text: Option<String>,
        /// A file holding the text.
        #[arg(long)]
        file: Option<PathBuf>,
        /// A detector to run (repeatable): `pii` (the built-in) or `name@version`.
        #[arg(long = "detector")]
        detectors: Vec<String>,
        /// Only this entity type (repeatable).
        #[arg(long = "entity")]
        entities: Vec<String>,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
}

/// Runs `warden pii …`.
pub fn execute(cmd: PiiCommand) -> Result<u8, Failure> {
    let PiiCommand::Detect {
        text,
        file,
        detectors,
        entities,
        conn,
    } = cmd;
    let text = match (text, file) {
        (Some(t), _) => t,
        (None, Some(f)) => read_or_stdin(&f, "text")?,
        (None, None) => read_or_stdin(Path::new("-"), "text")?,
    };
    let mut body = json!({"text": text, "entities": entities});
    if !detectors.is_empty() {
        body["detectors"] = json!(detectors);
    }
    let req = conn.authed(client()?.post(conn.url("/v1/pii/detect")).json(&body))?;
    conn.finish(req)
}
