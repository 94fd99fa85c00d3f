//! `warden config`: print the effective configuration with secrets masked.

use super::serve::ServeArgs;
use crate::output::Failure;

/// Runs `warden config`.
pub fn execute(args: &ServeArgs) -> Result<u8, Failure> {
    print!("{}", args.load()?.to_toml());
    Ok(0)
}
