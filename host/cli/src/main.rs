//! The `warden` binary: parses the command line and hands over to [`warden::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    warden::cli::main()
}
