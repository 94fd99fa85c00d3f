//! Every redb table Warden uses, in one place: nothing else names a table.
//!
//! Table names carry a version suffix so a future change of key or value layout gets a new
//! table (and a migration) instead of misreading old data. Keys of tenant-owned tables start
//! with the tenant (`tenant/name/...`): names are restricted to `[a-z0-9][a-z0-9._-]{0,63}`, so
//! `/` cannot occur inside a part and a prefix range lists exactly one tenant's objects.

use redb::TableDefinition;

/// Database-wide facts: the schema version.
pub const META: TableDefinition<&str, &str> = TableDefinition::new("meta_v1");
/// Component bytes by sha256 (hex): the same bytes uploaded twice are stored once.
pub const BLOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("blobs_v1");
/// Plugin versions: `tenant/name/version` → JSON `PluginRecord` (warden-core).
pub const PLUGINS: TableDefinition<&str, &[u8]> = TableDefinition::new("plugins_v1");
/// Template versions: `tenant/name/{version:010}` → JSON template version.
pub const TEMPLATES: TableDefinition<&str, &[u8]> = TableDefinition::new("template_versions_v1");
/// Template labels: `tenant/name/label` → version number.
pub const LABELS: TableDefinition<&str, u64> = TableDefinition::new("template_labels_v1");
/// PII dictionaries: `tenant/name` → JSON dictionary.
pub const DICTIONARIES: TableDefinition<&str, &[u8]> = TableDefinition::new("pii_dictionaries_v1");
/// PII vaults: `tenant/id` → JSON vault header with the sealed token map.
pub const VAULTS: TableDefinition<&str, &[u8]> = TableDefinition::new("pii_vaults_v1");
/// Code-runner sessions: `tenant/id` → JSON session metadata.
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions_v1");
/// Session snapshots: `tenant/id` → interpreter snapshot sealed with the tenant's key.
pub const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("session_snapshots_v1");
/// The audit log: (tenant, sequence number) → JSON record; one hash chain per tenant.
pub const AUDIT: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("audit_v1");
/// Each tenant's audit chain head: tenant → JSON `{seq, hash}`.
pub const AUDIT_HEADS: TableDefinition<&str, &[u8]> = TableDefinition::new("audit_heads_v1");
/// Protected-label change requests: `tenant/template/id` → JSON request.
pub const CHANGE_REQUESTS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("label_change_requests_v1");
/// Per-tenant settings set by the tenant's admin: tenant → JSON
/// `TenantSettings` (warden-core).
pub const TENANT_SETTINGS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("tenant_settings_v1");
/// Pipeline versions: `tenant/name/{version:010}` → JSON `PipelineVersion` (warden-core).
pub const PIPELINES: TableDefinition<&str, &[u8]> = TableDefinition::new("pipeline_versions_v1");
/// Pipeline labels: `tenant/name/label` → version number.
pub const PIPELINE_LABELS: TableDefinition<&str, u64> = TableDefinition::new("pipeline_labels_v1");
