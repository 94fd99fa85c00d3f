//! What the versioned, labelled registries (prompt templates, pipelines) share: the key layout,
//! the label rules, and reading one name's versions and labels.
//!
//! Versions are stored at `tenant/name/{version:010}` (so a prefix scan lists them in order),
//! labels at `tenant/name/label`; each registry names its own keyspaces in a [`Versioned`].

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::tenants::Tenants;
use warden_storage::audit::AuditEvent;
use warden_storage::tables::Keyspace;
use warden_storage::{Store, Tx};

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

/// One versioned registry's keyspaces: its versions and its labels.
#[derive(Debug, Clone, Copy)]
pub struct Versioned {
    /// Where versions live (`tenant/name/{version:010}`).
    pub versions: Keyspace,
    /// Where labels live (`tenant/name/label` → version).
    pub labels: Keyspace,
}

impl Versioned {
    /// Every version of `name`, oldest first.
    pub async fn versions<T: DeserializeOwned>(
        &self,
        store: &Store,
        tenant: &str,
        name: &str,
    ) -> Result<Vec<T>> {
        Ok(store
            .scan_json::<T>(self.versions, &format!("{tenant}/{name}/"))
            .await?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    /// One version of `name`, if stored.
    pub async fn version<T: DeserializeOwned>(
        &self,
        store: &Store,
        tenant: &str,
        name: &str,
        version: u64,
    ) -> Result<Option<T>> {
        Ok(store
            .get_json(self.versions, &version_key(tenant, name, version))
            .await?)
    }

    /// The stored labels of `name`.
    pub async fn labels(
        &self,
        store: &Store,
        tenant: &str,
        name: &str,
    ) -> Result<BTreeMap<String, u64>> {
        let prefix = format!("{tenant}/{name}/");
        Ok(store
            .scan_json::<u64>(self.labels, &prefix)
            .await?
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix.as_str())?.to_owned(), v)))
            .collect())
    }

    /// The number the next version of `name` gets, read inside the transaction that stores it
    /// (so two concurrent creates never get the same number).
    pub async fn next_version(&self, tx: &Tx, tenant: &str, name: &str) -> Result<u64> {
        let keys = tx.keys(self.versions, &format!("{tenant}/{name}/")).await?;
        let last = keys
            .last()
            .and_then(|k| k.rsplit('/').next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        Ok(last + 1)
    }

    /// Stores `record` as `version` of `name`.
    pub async fn put_version<T: Serialize>(
        &self,
        tx: &Tx,
        tenant: &str,
        name: &str,
        version: u64,
        record: &T,
    ) -> Result<()> {
        Ok(tx
            .put_json(self.versions, &version_key(tenant, name, version), record)
            .await?)
    }

    /// One version of `name`, read inside `tx`.
    pub async fn version_in<T: DeserializeOwned>(
        &self,
        tx: &Tx,
        tenant: &str,
        name: &str,
        version: u64,
    ) -> Result<Option<T>> {
        Ok(tx
            .get_json(self.versions, &version_key(tenant, name, version))
            .await?)
    }

    /// Points `label` at `version`; the version it pointed at before.
    pub async fn set_label(
        &self,
        tx: &Tx,
        tenant: &str,
        name: &str,
        label: &str,
        version: u64,
    ) -> Result<Option<u64>> {
        let key = label_key(tenant, name, label);
        let old = tx.get_json::<u64>(self.labels, &key).await?;
        tx.put_json(self.labels, &key, &version).await?;
        Ok(old)
    }

    /// Removes `label`; the version it pointed at, if it existed.
    pub async fn remove_label(
        &self,
        tx: &Tx,
        tenant: &str,
        name: &str,
        label: &str,
    ) -> Result<Option<u64>> {
        let key = label_key(tenant, name, label);
        let old = tx.get_json::<u64>(self.labels, &key).await?;
        if old.is_some() {
            tx.delete(self.labels, &key).await?;
        }
        Ok(old)
    }

    /// Deletes `kind` `name` (every version and label) inside `tx` with its `{kind}.delete`
    /// audit record; not found when it has no version, and refused (403) for a non-admin while
    /// one of its labels is protected, as moving that label would be.
    pub async fn delete(
        &self,
        tx: &Tx,
        tenants: &Tenants,
        who: &Principal,
        kind: &'static str,
        name: &str,
    ) -> Result<()> {
        let (labels, versions) = self.remove_all(tx, &who.tenant, name).await?;
        if versions == 0 {
            return Err(Error::not_found(kind, name));
        }
        for label in &labels {
            tenants.check_direct_move_in(tx, who, label).await?;
        }
        tx.audit(
            AuditEvent::new(
                &who.tenant,
                &who.actor,
                &format!("{kind}.delete"),
                format!("{kind}/{name}"),
            )
            .detail(format!(
                "{versions} versions, labels: {}",
                labels.join(", ")
            )),
        )
        .await?;
        Ok(())
    }

    /// Removes every version and label of `name` inside `tx`; returns the labels it had (so
    /// the caller can check protected ones) and how many versions were removed.
    pub async fn remove_all(
        &self,
        tx: &Tx,
        tenant: &str,
        name: &str,
    ) -> Result<(Vec<String>, usize)> {
        let prefix = format!("{tenant}/{name}/");
        let versions = tx.delete_prefix(self.versions, &prefix).await?.len();
        let labels = tx
            .delete_prefix(self.labels, &prefix)
            .await?
            .into_iter()
            .map(|k| k[prefix.len()..].to_owned())
            .collect();
        Ok((labels, versions))
    }
}
