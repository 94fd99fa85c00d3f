//! `warden audit verify`: walk a data directory's audit chains offline and report the first
//! broken link.

use std::path::PathBuf;

use clap::Subcommand;

use crate::output::Failure;

/// `warden audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk every tenant's audit chain and report the first broken link (exit 1 if broken).
    Verify {
        /// The data directory [default: ./warden-data].
        #[arg(long, default_value = "./warden-data")]
        data_dir: PathBuf,
    },
}

/// Runs `warden audit …`: exit 0 when every chain is intact, 1 at a break.
pub fn execute(cmd: AuditCommand) -> Result<u8, Failure> {
    let AuditCommand::Verify { data_dir } = cmd;
    let path = data_dir.join("warden.redb");
    if !path.exists() {
        return Err(Failure::usage(format!(
            "no Warden database at {}",
            path.display()
        )));
    }
    let v = warden_storage::redb::verify_file(&path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    match &v.first_break {
        None => {
            eprintln!("audit log intact: {} records", v.records);
            Ok(0)
        }
        Some(b) => {
            eprintln!(
                "audit log BROKEN: tenant {} record {}: {}",
                b.tenant, b.seq, b.reason
            );
            Ok(1)
        }
    }
}
