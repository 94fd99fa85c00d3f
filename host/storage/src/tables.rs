//! Every keyspace Warden stores, in one place: nothing else names one.
//!
//! A keyspace is a sorted map from text keys to bytes (JSON for records, raw bytes for
//! components and sealed snapshots); each backend maps it to its own structure (a redb table,
//! rows of a PostgreSQL table). Keys of tenant-owned keyspaces are the tenant (`tenant`) or
//! start with it (`tenant/name/...`): names are restricted to `[a-z0-9][a-z0-9._-]{0,63}`, so
//! `/` cannot occur inside a part, a prefix scan lists exactly one tenant's objects, and a write
//! transaction scoped to one tenant can check every key it writes.

/// Who owns a keyspace's keys, which decides what a tenant-scoped write may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Keys are `tenant` or `tenant/...`.
    Tenant,
    /// Content-addressed or global: shared by every tenant.
    Shared,
}

/// One keyspace: its stable name (with a layout version suffix, so a change of key or value
/// layout gets a new keyspace and a migration instead of misreading old data) and its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Keyspace(&'static str);

impl Keyspace {
    /// The keyspace's stable name, as backends store it.
    pub const fn name(self) -> &'static str {
        self.0
    }

    /// Who owns its keys.
    pub fn owner(self) -> Owner {
        if self == BLOBS {
            Owner::Shared
        } else {
            Owner::Tenant
        }
    }

    /// The tenant a key of this keyspace belongs to (`None` for shared keyspaces).
    pub fn tenant_of(self, key: &str) -> Option<&str> {
        match self.owner() {
            Owner::Shared => None,
            Owner::Tenant => Some(key.split_once('/').map_or(key, |(t, _)| t)),
        }
    }
}

impl std::fmt::Display for Keyspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Component bytes by sha256 (hex): the same bytes uploaded twice are stored once.
pub const BLOBS: Keyspace = Keyspace("blobs_v1");
/// Plugin versions: `tenant/name/version` → JSON `PluginRecord` (warden-core).
pub const PLUGINS: Keyspace = Keyspace("plugins_v1");
/// Template versions: `tenant/name/{version:010}` → JSON template version.
pub const TEMPLATES: Keyspace = Keyspace("template_versions_v1");
/// Template labels: `tenant/name/label` → JSON version number.
pub const LABELS: Keyspace = Keyspace("template_labels_v2");
/// PII dictionaries: `tenant/name` → JSON dictionary.
pub const DICTIONARIES: Keyspace = Keyspace("pii_dictionaries_v1");
/// PII recognizers stored per tenant: `tenant/name` → JSON recognizer.
pub const RECOGNIZERS: Keyspace = Keyspace("pii_recognizers_v1");
/// PII vaults: `tenant/id` → JSON vault header with the sealed token map.
pub const VAULTS: Keyspace = Keyspace("pii_vaults_v1");
/// Code-runner sessions: `tenant/id` → JSON session metadata.
pub const SESSIONS: Keyspace = Keyspace("sessions_v1");
/// Session snapshots: `tenant/id` → interpreter snapshot sealed with the tenant's key.
pub const SNAPSHOTS: Keyspace = Keyspace("session_snapshots_v1");
/// Eval leases of sessions, with replicas: `tenant/id` → JSON `{token, until_ms}` of the eval
/// running on it (warden-core).
pub const SESSION_LEASES: Keyspace = Keyspace("session_leases_v1");
/// Protected-label change requests: `tenant/template/id` → JSON request.
pub const CHANGE_REQUESTS: Keyspace = Keyspace("label_change_requests_v1");
/// Per-tenant settings set by the tenant's admin: tenant → JSON `TenantSettings`
/// (warden-core).
pub const TENANT_SETTINGS: Keyspace = Keyspace("tenant_settings_v1");
/// Pipeline versions: `tenant/name/{version:010}` → JSON `PipelineVersion` (warden-core).
pub const PIPELINES: Keyspace = Keyspace("pipeline_versions_v1");
/// Pipeline labels: `tenant/name/label` → JSON version number.
pub const PIPELINE_LABELS: Keyspace = Keyspace("pipeline_labels_v2");

/// Every keyspace, for backends that create them up front and for copies between backends.
pub const ALL: [Keyspace; 14] = [
    BLOBS,
    PLUGINS,
    TEMPLATES,
    LABELS,
    DICTIONARIES,
    RECOGNIZERS,
    VAULTS,
    SESSIONS,
    SNAPSHOTS,
    SESSION_LEASES,
    CHANGE_REQUESTS,
    TENANT_SETTINGS,
    PIPELINES,
    PIPELINE_LABELS,
];

/// The audit log, named here for error messages only: each backend stores the chains itself
/// (they are appended and verified, never read as key-value records).
pub const AUDIT_LOG: Keyspace = Keyspace("audit_v1");
