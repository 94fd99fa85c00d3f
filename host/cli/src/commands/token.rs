//! `warden token issue`: mint a bearer token with the server's configured keys.

use clap::Subcommand;

use super::serve::ServeArgs;
use crate::output::Failure;

/// `warden token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a token signed with the configured HS256 key (or the bootstrap secret in the data
    /// directory); prints it on stdout.
    Issue {
        /// Where the keys are configured.
        #[command(flatten)]
        config: ServeArgs,
        /// The tenant.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// A role (repeatable): admin, author, operator, auditor, pii-reader.
        #[arg(long = "role", required = true, value_parser = role_parser())]
        roles: Vec<warden_core::auth::Role>,
        /// Lifetime, such as 15m, 1h, 7d.
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: std::time::Duration,
        /// The subject (actor name in the audit log).
        #[arg(long, default_value = "cli")]
        sub: String,
    },
}

/// Parses `--role`: one of the roles' token names, listed in the help.
fn role_parser() -> impl clap::builder::TypedValueParser<Value = warden_core::auth::Role> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(warden_core::auth::Role::ALL.map(|r| r.name()))
        .try_map(|s| s.parse::<warden_core::auth::Role>())
}

/// Runs `warden token …`: prints the token on stdout.
pub fn execute(cmd: TokenCommand) -> Result<u8, Failure> {
    let TokenCommand::Issue {
        config,
        tenant,
        roles,
        ttl,
        sub,
    } = cmd;
    let config = config.load()?;
    if !warden_core::names::is_valid(&tenant) {
        return Err(Failure::usage(format!("invalid tenant name `{tenant}`")));
    }
    std::fs::create_dir_all(&config.server.data_dir)
        .map_err(|e| Failure::usage(format!("cannot create the data directory: {e}")))?;
    let (verifier, _) = warden_core::auth::Verifier::new(&config.auth, &config.server.data_dir)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let claims = warden_core::auth::claims(&tenant, &sub, &roles, ttl, &config.auth);
    let token = verifier
        .issue(&claims)
        .map_err(|e| Failure::usage(e.to_string()))?;
    println!("{token}");
    Ok(0)
}
