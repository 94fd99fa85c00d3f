//! `warden template push/render`: create prompt-registry template versions on a server and
//! render them.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use crate::client::{Connection, client};
use crate::input::{parse_json, read_or_stdin};
use crate::output::Failure;

/// `warden template ...`.
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Create a new version of a template in the prompt registry.
    Push {
        /// The template's name.
        name: String,
        /// The template text.
        #[arg(short = 't', long = "template", conflicts_with_all = ["file", "chat"])]
        text: Option<String>,
        /// A file holding the template text.
        #[arg(short = 'f', long, conflicts_with = "chat")]
        file: Option<PathBuf>,
        /// A JSON file of chat messages (`[{"role": …, "content": …}]`).
        #[arg(long)]
        chat: Option<PathBuf>,
        /// A JSON Schema file for the variables.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// The template-engine plugin to pin (`name@version`); default the built-in.
        #[arg(long)]
        engine: Option<String>,
        /// A label to point at the new version (repeatable).
        #[arg(long = "label")]
        labels: Vec<String>,
        /// The commit message.
        #[arg(short = 'm', long, default_value = "")]
        message: String,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
    /// Render a template version (default: the `production` label, then `latest`).
    #[command(disable_version_flag = true)]
    Render {
        /// The template's name.
        name: String,
        /// The variables, a JSON object.
        #[arg(long, default_value = "{}", conflicts_with = "vars_file")]
        vars: String,
        /// A file holding the variables.
        #[arg(long)]
        vars_file: Option<PathBuf>,
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

/// Runs `warden template …`.
pub fn execute(cmd: TemplateCommand) -> Result<u8, Failure> {
    match cmd {
        TemplateCommand::Push {
            name,
            text,
            file,
            chat,
            schema,
            engine,
            labels,
            message,
            conn,
        } => {
            let mut body = json!({"message": message, "labels": labels});
            match (text, file, chat) {
                (Some(t), _, _) => body["template"] = json!(t),
                (_, Some(f), _) => body["template"] = json!(read_or_stdin(&f, "template")?),
                (_, _, Some(c)) => {
                    body["messages"] =
                        parse_json(&read_or_stdin(&c, "chat messages")?, "the chat file")?
                }
                _ => {
                    return Err(Failure::usage(
                        "give the template with -t TEXT, -f FILE or --chat FILE",
                    ));
                }
            }
            if let Some(s) = schema {
                body["variables_schema"] = parse_json(&read_or_stdin(&s, "schema")?, "the schema")?;
            }
            if let Some(e) = engine {
                body["engine"] = json!(e);
            }
            let path = format!("/v1/templates/{name}/versions");
            let req = conn.authed(client()?.post(conn.url(&path)).json(&body))?;
            conn.finish(req)
        }
        TemplateCommand::Render {
            name,
            vars,
            vars_file,
            label,
            version,
            conn,
        } => {
            let vars = match vars_file {
                Some(f) => read_or_stdin(&f, "variables")?,
                None => vars,
            };
            conn.run_versioned(
                &format!("/v1/templates/{name}/render"),
                parse_json(&vars, "the variables")?,
                label,
                version,
            )
        }
    }
}
