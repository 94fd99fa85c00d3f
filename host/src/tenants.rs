//! Per-tenant settings a tenant's admin changes at run time: its quota (within the host-wide
//! caps) and which labels are protected. Stored in redb with an audit record in the same
//! transaction, and cached in memory so the request path never reads the database for them.

use std::collections::HashMap;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::app::Warden;
use crate::auth::Principal;
use crate::error::{Error, FieldError, Result};
use crate::quota::TenantQuota;
use crate::storage::audit::{self, AuditEvent};
use crate::storage::{Db, StorageError, get_json, put_json, tables};

/// What a tenant's admin has set; `None` means the host's default is in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// The tenant's quota (every field; each at most the host-wide cap).
    #[serde(default)]
    pub quota: Option<TenantQuota>,
    /// Labels only an admin, or an approved change request, may move.
    #[serde(default)]
    pub protected_labels: Option<Vec<String>>,
}

/// A change to a tenant's settings: a part left out keeps its stored value, a part sent as
/// `null` returns to the host's default, a value replaces it. (A quota-only update must not
/// silently un-protect labels set earlier.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettingsUpdate {
    /// The tenant's quota (every field; each at most the host-wide cap); `null` for the default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<TenantQuota>)]
    pub quota: Option<Option<TenantQuota>>,
    /// Labels only an admin, or an approved change request, may move; `null` for the default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub protected_labels: Option<Option<Vec<String>>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`, via `default`).
fn present<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl TenantSettingsUpdate {
    /// `current` with this change applied.
    fn apply(&self, current: &TenantSettings) -> TenantSettings {
        TenantSettings {
            quota: self.quota.unwrap_or(current.quota),
            protected_labels: self
                .protected_labels
                .clone()
                .unwrap_or_else(|| current.protected_labels.clone()),
        }
    }
}

/// The settings in force for a tenant, what `GET /v1/admin/tenant` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TenantView {
    /// The tenant.
    pub tenant: String,
    /// The quota in force.
    pub quota: TenantQuota,
    /// The protected labels in force.
    pub protected_labels: Vec<String>,
    /// What the tenant's admin set (absent parts use the host's defaults).
    pub overrides: TenantSettings,
    /// The most the quota may be set to.
    pub caps: TenantQuota,
}

/// The in-memory copy of every tenant's stored settings.
#[derive(Default)]
pub struct TenantCache {
    settings: RwLock<HashMap<String, TenantSettings>>,
}

impl TenantCache {
    /// Reads every tenant's stored settings.
    pub fn load(db: &Db) -> Result<TenantCache, StorageError> {
        let txn = db.read()?;
        let mut map = HashMap::new();
        let table = txn.open_table(tables::TENANT_SETTINGS)?;
        for entry in redb::ReadableTable::iter(&table)? {
            let (k, v) = entry?;
            let settings: TenantSettings = crate::storage::decode("tenant settings", v.value())?;
            map.insert(k.value().to_owned(), settings);
        }
        Ok(TenantCache {
            settings: RwLock::new(map),
        })
    }

    /// The tenants whose admin set a quota, for [`crate::quota::Quotas::new`].
    pub fn quotas(&self) -> Vec<(String, TenantQuota)> {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|(t, s)| s.quota.map(|q| (t.clone(), q)))
            .collect()
    }

    fn get(&self, tenant: &str) -> TenantSettings {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
            .cloned()
            .unwrap_or_default()
    }

    fn set(&self, tenant: &str, settings: TenantSettings) {
        self.settings
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant.to_owned(), settings);
    }
}

/// The protected labels in force for `tenant`.
pub fn protected_labels(w: &Warden, tenant: &str) -> Vec<String> {
    w.tenants
        .get(tenant)
        .protected_labels
        .unwrap_or_else(|| w.config.auth.protected_labels.clone())
}

/// The caller's tenant's settings in force.
pub fn view(w: &Warden, who: &Principal) -> TenantView {
    TenantView {
        tenant: who.tenant.clone(),
        quota: w.quotas.quota(&who.tenant),
        protected_labels: protected_labels(w, &who.tenant),
        overrides: w.tenants.get(&who.tenant),
        caps: w.config.quota.caps,
    }
}

/// Changes the caller's tenant's settings (parts left out keep their value, `null` parts
/// return to the host's defaults); read, merged and written in one transaction, audited with
/// the old and new values.
pub fn put(w: &Warden, who: &Principal, update: TenantSettingsUpdate) -> Result<TenantView> {
    let mut errors = Vec::new();
    if let Some(Some(q)) = &update.quota
        && let Err((field, message)) = q.check_within(&w.config.quota.caps)
    {
        errors.push(FieldError {
            path: format!("/quota/{field}"),
            message,
        });
    }
    if let Some(Some(labels)) = &update.protected_labels {
        for (i, l) in labels.iter().enumerate() {
            if let Err(e) = crate::names::check("label", l) {
                errors.push(FieldError {
                    path: format!("/protected_labels/{i}"),
                    message: e.to_string(),
                });
            }
        }
        if labels.len() > 64 {
            errors.push(FieldError {
                path: "/protected_labels".into(),
                message: "at most 64 protected labels".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(Error::Unprocessable {
            message: "invalid tenant settings".into(),
            errors,
        });
    }
    let settings = w.db.write(|txn| {
        let mut table = txn
            .open_table(tables::TENANT_SETTINGS)
            .map_err(StorageError::from)?;
        let prev: Option<TenantSettings> = get_json(&table, "tenant settings", &who.tenant)?;
        let old = prev.clone().unwrap_or_default();
        let settings = update.apply(&old);
        let detail = format!(
            "from {} to {}",
            serde_json::to_string(&old).unwrap_or_default(),
            serde_json::to_string(&settings).unwrap_or_default()
        );
        put_json(&mut table, &who.tenant, &settings)?;
        audit::append(
            txn,
            AuditEvent::new(
                &who.tenant,
                &who.actor,
                if prev.is_some() {
                    "tenant.settings.update"
                } else {
                    "tenant.settings.create"
                },
                "tenant",
            )
            .detail(detail),
        )?;
        Ok::<_, Error>(settings)
    })?;
    w.quotas.set(&who.tenant, settings.quota);
    w.tenants.set(&who.tenant, settings);
    Ok(view(w, who))
}
