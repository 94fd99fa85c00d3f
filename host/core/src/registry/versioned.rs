//! What the versioned, labelled registries (prompt templates, pipelines) share: the key layout,
//! the label rules, and reading one name's versions and labels.
//!
//! Versions are stored at `tenant/name/{version:010}` (so a prefix scan lists them in order),
//! labels at `tenant/name/label`; each registry passes its own tables from `storage::tables`.

use std::collections::BTreeMap;

use redb::TableDefinition;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use warden_storage::{Db, StorageError, get_json, scan_prefix};

/// The automatic label of the newest version.
pub const LATEST: &str = "latest";

/// The key of `version` of `name`.
pub fn version_key(tenant: &str, name: &str, version: u64) -> String {
    format!("{tenant}/{name}/{version:010}")
}

/// The key of `label` of `name`.
pub fn label_key(tenant: &str, name: &str, label: &str) -> String {
    format!("{tenant}/{name}/{label}")
}

/// A label a caller may set: a valid name, and not the automatic `latest`.
pub fn check_label(label: &str) -> Result<()> {
    crate::names::check("label", label)?;
    if label == LATEST {
        return Err(Error::BadRequest(
            "`latest` is automatic (the newest version) and cannot be set".into(),
        ));
    }
    Ok(())
}

/// Every version of `name`, oldest first.
pub fn versions<T: DeserializeOwned>(
    db: &Db,
    table: TableDefinition<&'static str, &'static [u8]>,
    what: &str,
    tenant: &str,
    name: &str,
) -> Result<Vec<T>> {
    let txn = db.read()?;
    let t = txn.open_table(table).map_err(StorageError::from)?;
    Ok(scan_prefix::<T, _>(&t, what, &format!("{tenant}/{name}/"))?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// One version of `name`, if stored.
pub fn version<T: DeserializeOwned>(
    db: &Db,
    table: TableDefinition<&'static str, &'static [u8]>,
    what: &str,
    tenant: &str,
    name: &str,
    version: u64,
) -> Result<Option<T>> {
    let txn = db.read()?;
    let t = txn.open_table(table).map_err(StorageError::from)?;
    Ok(get_json(&t, what, &version_key(tenant, name, version))?)
}

/// The stored labels of `name`.
pub fn labels(
    db: &Db,
    table: TableDefinition<&'static str, u64>,
    tenant: &str,
    name: &str,
) -> Result<BTreeMap<String, u64>> {
    let txn = db.read()?;
    let t = txn.open_table(table).map_err(StorageError::from)?;
    let prefix = format!("{tenant}/{name}/");
    let mut out = BTreeMap::new();
    for entry in t.range(prefix.as_str()..).map_err(StorageError::from)? {
        let (k, v) = entry.map_err(StorageError::from)?;
        let Some(label) = k.value().strip_prefix(prefix.as_str()) else {
            break;
        };
        out.insert(label.to_owned(), v.value());
    }
    Ok(out)
}

/// Removes every version and label of `name` inside `txn`; returns the labels it had (so the
/// caller can check protected ones) and how many versions were removed.
pub fn remove_all(
    txn: &redb::WriteTransaction,
    versions: TableDefinition<&'static str, &'static [u8]>,
    labels: TableDefinition<&'static str, u64>,
    tenant: &str,
    name: &str,
) -> Result<(Vec<String>, usize)> {
    let prefix = format!("{tenant}/{name}/");
    let mut removed_versions = 0;
    {
        let mut t = txn.open_table(versions).map_err(StorageError::from)?;
        for k in keys_with_prefix(&t, &prefix)? {
            t.remove(k.as_str()).map_err(StorageError::from)?;
            removed_versions += 1;
        }
    }
    let mut t = txn.open_table(labels).map_err(StorageError::from)?;
    let mut removed_labels = Vec::new();
    for k in keys_with_prefix(&t, &prefix)? {
        t.remove(k.as_str()).map_err(StorageError::from)?;
        removed_labels.push(k[prefix.len()..].to_owned());
    }
    Ok((removed_labels, removed_versions))
}

/// The keys of `table` that start with `prefix`, in order.
pub fn keys_with_prefix<V, T>(table: &T, prefix: &str) -> Result<Vec<String>>
where
    V: redb::Value + 'static,
    T: redb::ReadableTable<&'static str, V>,
{
    let mut out = Vec::new();
    for entry in table.range(prefix..).map_err(StorageError::from)? {
        let (k, _) = entry.map_err(StorageError::from)?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        out.push(key.to_owned());
    }
    Ok(out)
}
