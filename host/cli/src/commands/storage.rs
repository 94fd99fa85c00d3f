//! `warden storage migrate` and `warden storage copy`: prepare a PostgreSQL database for
//! replicas, and move a single-machine installation into it with its audit chains intact.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use warden_core::pii::crypto::MasterKey;
use warden_storage::Store;
use warden_storage::postgres::{PgOptions, redact_url};

use crate::output::{Failure, print_json};

/// `warden storage ...`.
#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Create or upgrade the PostgreSQL schema (what `warden serve` does at start), then exit.
    Migrate {
        /// The database: a postgres:// URL.
        #[arg(long, env = "WARDEN_STORAGE__URL", hide_env_values = true)]
        url: String,
    },
    /// Copy a whole installation into an empty database and verify its audit chains there.
    Copy {
        /// The source: `redb:PATH` (a data directory or its warden.redb; stop its server first)
        /// or a postgres:// URL.
        #[arg(long)]
        from: String,
        /// The target, which must be empty: a postgres:// URL, or `redb:PATH` for a new file.
        #[arg(long)]
        to: String,
        /// The vault master key the source was sealed with (base64); read from the source's
        /// `master.key` when not given. The target records its fingerprint, so replicas started
        /// with another key are refused.
        #[arg(long, env = "WARDEN_PII__MASTER_KEY", hide_env_values = true)]
        master_key: Option<String>,
    },
}

/// Runs `warden storage …`: 0 when done (and, for a copy, verified), 1 when the copied audit
/// log does not verify, 2 on bad input or an unreachable database.
pub fn execute(cmd: StorageCommand) -> Result<u8, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        match cmd {
            StorageCommand::Migrate { url } => migrate(&url).await,
            StorageCommand::Copy {
                from,
                to,
                master_key,
            } => copy(&from, &to, master_key.as_deref()).await,
        }
    })
}

async fn migrate(url: &str) -> Result<u8, Failure> {
    if !is_postgres(url) {
        return Err(Failure::usage(
            "--url must be a postgres:// URL (redb files are migrated when they are opened)",
        ));
    }
    open(url, Role::Target).await?;
    eprintln!(
        "the database at {} is at the current schema",
        redact_url(url)
    );
    Ok(0)
}

async fn copy(from: &str, to: &str, master_key: Option<&str>) -> Result<u8, Failure> {
    let key = source_key(from, master_key)?;
    let source = open(from, Role::Source).await?;
    let target = open(to, Role::Target).await?;
    if !warden_storage::copy::is_empty(&target)
        .await
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", shown(to))))?
    {
        return Err(Failure::usage(format!(
            "{} is not empty: copy only into a new database (nothing was written)",
            shown(to)
        )));
    }
    if let Some(key) = &key {
        let fp = key.fingerprint();
        let stored = target
            .claim_meta("master_key_check", &fp)
            .await
            .map_err(|e| Failure::usage(format!("cannot write to {}: {e}", shown(to))))?;
        if stored != fp {
            return Err(Failure::usage(format!(
                "{} was already used with another vault master key",
                shown(to)
            )));
        }
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let progress = {
        let bar = bar.clone();
        move |what: &str, n: u64| bar.set_message(format!("{what}: {n}"))
    };
    let report = warden_storage::copy::copy(&source, &target, &progress).await;
    bar.finish_and_clear();
    let report = report.map_err(|e| Failure::usage(format!("the copy stopped: {e}")))?;
    print_json(&serde_json::json!({
        "rows": report.rows,
        "audit_records": report.audit_records,
        "verification": report.verification,
    }));
    if !report.verification.ok {
        eprintln!("copied, but the target's audit log does NOT verify");
        return Ok(1);
    }
    let rows: u64 = report.rows.values().sum();
    eprintln!(
        "copied {rows} rows and {} audit records into {}; every chain verifies",
        report.audit_records,
        shown(to)
    );
    if key.is_some() && master_key.is_none() && is_postgres(to) {
        eprintln!(
            "start every replica with WARDEN_PII__MASTER_KEY set to the contents of the source's \
             master.key"
        );
    }
    Ok(0)
}

/// Which end of a copy a location is: a source must exist, a target may be created.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Source,
    Target,
}

fn is_postgres(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A location as it may be printed: URLs without their password.
fn shown(s: &str) -> String {
    if is_postgres(s) {
        redact_url(s)
    } else {
        s.to_owned()
    }
}

/// `redb:PATH` as the database file: a directory means its `warden.redb`.
fn redb_file(spec: &str) -> Option<PathBuf> {
    let path = Path::new(spec.strip_prefix("redb:")?);
    Some(if path.is_dir() || path.extension().is_none() {
        path.join("warden.redb")
    } else {
        path.to_owned()
    })
}

async fn open(spec: &str, role: Role) -> Result<Store, Failure> {
    if is_postgres(spec) {
        return Store::connect_postgres(&PgOptions::new(spec.to_owned()))
            .await
            .map_err(|e| Failure::usage(format!("cannot use {}: {e}", redact_url(spec))));
    }
    let Some(file) = redb_file(spec) else {
        return Err(Failure::usage(format!(
            "{spec:?} is neither redb:PATH nor a postgres:// URL"
        )));
    };
    match (role, file.exists()) {
        (Role::Source, false) => {
            return Err(Failure::usage(format!(
                "no Warden database at {}",
                file.display()
            )));
        }
        (Role::Target, true) => {
            return Err(Failure::usage(format!(
                "{} exists: copy only into a new database",
                file.display()
            )));
        }
        (Role::Target, false) => {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Failure::usage(format!("cannot create {}: {e}", dir.display())))?;
            }
        }
        (Role::Source, true) => {}
    }
    Store::open_redb(&file).map_err(|e| {
        Failure::usage(format!(
            "cannot open {} (is its server still running?): {e}",
            file.display()
        ))
    })
}

/// The key the source's vaults and snapshots are sealed with: given, or the source data
/// directory's `master.key`.
fn source_key(from: &str, given: Option<&str>) -> Result<Option<MasterKey>, Failure> {
    if let Some(k) = given {
        return MasterKey::from_base64(k.trim())
            .map(Some)
            .map_err(|e| Failure::usage(format!("--master-key: {e}")));
    }
    let Some(file) = redb_file(from) else {
        return Ok(None);
    };
    let path = file.with_file_name("master.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::from_base64(text.trim())
            .map(Some)
            .map_err(|e| Failure::usage(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::usage(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}
