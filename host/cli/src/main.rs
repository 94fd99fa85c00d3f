//! The `warden` binary: the command line ([`cli`]), the remote client commands ([`client`])
//! and plugin scaffolding ([`scaffold`], its crate templates in `templates/`); [`output`] is
//! what they all print and how they fail.

mod cli;
mod client;
mod output;
mod scaffold;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
