//! The command line's top level: the `warden` parser, the subcommand list, logging set-up and
//! the dispatch to [`crate::commands`], one module per subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{
    api, audit, config, inspect, pii, pipeline, plugin, run, serve, storage, template, token,
};
use crate::output::Failure;

/// Run untrusted logic for AI applications as WebAssembly components under hard limits.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a built-in (template, pii, python) or a local component file once.
    Run(Box<run::RunArgs>),
    /// Print a component's world, imports, exports and size, and whether Warden accepts it.
    Inspect(inspect::InspectArgs),
    /// Start the HTTP server (127.0.0.1:8080, data in ./warden-data unless configured).
    Serve(serve::ServeArgs),
    /// Print the effective configuration (file, environment, flags) with secrets masked.
    Config(serve::ServeArgs),
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Prepare a PostgreSQL database for replicas, or copy an installation into one.
    #[command(subcommand)]
    Storage(storage::StorageCommand),
    /// Mint bearer tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Scaffold, upload and list plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Create and render prompt-registry templates on a server.
    #[command(subcommand)]
    Template(template::TemplateCommand),
    /// Detect personal data on a server.
    #[command(subcommand)]
    Pii(pii::PiiCommand),
    /// Import and run pipelines on a server.
    #[command(subcommand)]
    Pipeline(pipeline::PipelineCommand),
    /// Send any request to a server (`warden api POST /v1/sessions -d '{}'`).
    Api(api::ApiArgs),
}

/// Parses the command line, runs it and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs what it does; one-shot commands only warnings.
    let default = match cli.command {
        Command::Serve(_) => "info,tower_http=warn",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
        .unwrap_or_else(|_| default.into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// Runs a parsed command; `Ok` carries the exit code (0 success, 1 a call failed).
pub fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Run(args) => run::execute(&args),
        Command::Inspect(args) => inspect::execute(&args),
        Command::Serve(args) => serve::execute(&args),
        Command::Config(args) => config::execute(&args),
        Command::Audit(cmd) => audit::execute(cmd),
        Command::Storage(cmd) => storage::execute(cmd),
        Command::Token(cmd) => token::execute(cmd),
        Command::Plugin(cmd) => plugin::execute(cmd),
        Command::Template(cmd) => template::execute(cmd),
        Command::Pii(cmd) => pii::execute(cmd),
        Command::Pipeline(cmd) => pipeline::execute(cmd),
        Command::Api(args) => api::execute(args),
    }
}

#[cfg(test)]
mod command_line_tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
