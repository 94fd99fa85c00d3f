//! The `warden` binary: the command line's top level ([`cli`]), one module per subcommand
//! ([`commands`]), the remote client those talking to a server share ([`client`]), plugin
//! scaffolding ([`scaffold`], its crate templates in `templates/`), what the commands read
//! ([`input`]) and what they all print and how they fail ([`output`]).

mod cli;
mod client;
mod commands;
mod input;
mod output;
mod scaffold;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
