//! The `warden` binary: the command line ([`cli`]), the remote client commands ([`client`])
//! and plugin scaffolding ([`scaffold`], its crate templates in `templates/`).

mod cli;
mod client;
mod scaffold;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
