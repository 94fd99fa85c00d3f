//! `warden api METHOD PATH`: any request to a server, for what has no subcommand.

use std::path::PathBuf;

use clap::Args;

use crate::client::{Connection, client};
use crate::input::{parse_json, read_or_stdin};
use crate::output::Failure;

/// `warden api METHOD PATH`: any request, for what has no subcommand.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// GET, POST, PUT or DELETE.
    pub method: String,
    /// The path, such as `/v1/sessions`.
    pub path: String,
    /// A JSON body.
    #[arg(short = 'd', long, conflicts_with = "data_file")]
    pub data: Option<String>,
    /// A file holding the JSON body (`-` for stdin).
    #[arg(long)]
    pub data_file: Option<PathBuf>,
    /// The server.
    #[command(flatten)]
    pub conn: Connection,
}

/// Runs `warden api …`.
pub fn execute(args: ApiArgs) -> Result<u8, Failure> {
    let method = reqwest::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure::usage(format!("`{}` is not an HTTP method", args.method)))?;
    if !args.path.starts_with('/') {
        return Err(Failure::usage(
            "the path must start with `/`, such as /v1/sessions",
        ));
    }
    let conn = &args.conn;
    let mut req = client()?.request(method, conn.url(&args.path));
    let data = match (args.data, args.data_file) {
        (Some(d), _) => Some(d),
        (None, Some(f)) => Some(read_or_stdin(&f, "body")?),
        _ => None,
    };
    if let Some(d) = data {
        req = req.json(&parse_json(&d, "the body")?);
    }
    conn.finish(conn.authed(req)?)
}
