//! Uploaded plugins: immutable semver versions of components, stored content-addressed.
//!
//! An upload is checked (a component, one of the worlds, only allowed imports, under the size
//! cap) and compiled before anything is stored; then the bytes go into [`tables::BLOBS`] under
//! their sha256 (once, however often they are uploaded) and the version record into
//! [`tables::PLUGINS`], with its audit record, in one transaction. The built-ins are listed
//! beside the uploads, read-only, under their reserved names.

use std::collections::BTreeMap;
use std::sync::Arc;

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use crate::app::Warden;
use crate::auth::Principal;
use crate::engine::{LimitOverrides, Plugin, World};
use crate::error::{Error, Result};
use crate::storage::audit::{self, AuditEvent};
use crate::storage::{StorageError, get_json, put_json, rfc3339, scan_prefix, tables};

/// One stored plugin version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginRecord {
    /// The plugin's name.
    pub name: String,
    /// Its semver version.
    pub version: String,
    /// The WIT world it implements.
    pub world: String,
    /// What it does.
    pub description: String,
    /// Limits its calls get unless a request asks for others (always within host caps).
    #[schema(value_type = Object)]
    pub limits: LimitOverrides,
    /// sha256 of the component.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// What it imports.
    pub imports: Vec<String>,
    /// Who uploaded it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Whether it is a built-in (read-only).
    #[serde(default)]
    pub builtin: bool,
}

/// What an uploader says about a component.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadMeta {
    /// The world the uploader expects; refused if the component implements another.
    #[schema(value_type = Option<String>)]
    pub world: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: String,
    /// Default limits for its calls.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub limits: LimitOverrides,
}

/// A plugin and its versions, for listings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginSummary {
    /// The name.
    pub name: String,
    /// The world of its newest version.
    pub world: String,
    /// Whether it is a built-in.
    pub builtin: bool,
    /// Its versions, oldest first (semver order).
    pub versions: Vec<String>,
    /// The newest version.
    pub latest: String,
}

/// A resolved plugin reference: what a template or session pins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginRef {
    /// Plugin name (a built-in's reserved name or an upload).
    pub name: String,
    /// Version.
    pub version: String,
    /// sha256 of the component.
    pub digest: String,
}

fn key(tenant: &str, name: &str, version: &str) -> String {
    format!("{tenant}/{name}/{version}")
}

fn builtin_record(w: &Warden, b: &crate::app::Builtin) -> PluginRecord {
    let _ = w;
    PluginRecord {
        name: b.name.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        world: b.world.name().to_owned(),
        description: match b.world {
            World::TemplateEngine => "Built-in minijinja template engine".into(),
            World::PiiDetector => "Built-in PII detector (regex and checksums)".into(),
            World::CodeRunner => "Built-in Python interpreter (monty)".into(),
        },
        limits: LimitOverrides::default(),
        digest: b.digest.clone(),
        size: b.size,
        imports: b.imports.clone(),
        created_by: "warden".into(),
        created_at: rfc3339(0),
        builtin: true,
    }
}

fn parse_version(version: &str) -> Result<semver::Version> {
    semver::Version::parse(version).map_err(|e| {
        Error::BadRequest(format!(
            "invalid version \"{}\": {e} (versions are semver, such as 1.2.0)",
            version.escape_default()
        ))
    })
}

/// Checks, compiles and stores a new plugin version.
pub async fn upload(
    w: &Warden,
    who: &Principal,
    name: &str,
    version: &str,
    meta: UploadMeta,
    bytes: Vec<u8>,
) -> Result<PluginRecord> {
    crate::names::check("plugin", name)?;
    let parsed = parse_version(version)?;
    let version = parsed.to_string();
    if w.builtins.iter().any(|b| b.name == name) {
        return Err(Error::Conflict(format!(
            "`{name}` is the name of a built-in plugin; choose another name"
        )));
    }
    let expected = match &meta.world {
        Some(s) => Some(s.parse::<World>().map_err(Error::BadRequest)?),
        None => None,
    };
    let limit = w.config.server.max_upload_bytes;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: "the component",
            size: bytes.len() as u64,
            limit,
        });
    }
    if get(w, who, name, &version).is_ok() {
        return Err(Error::Conflict(format!(
            "plugin {name} version {version} already exists; versions are immutable, upload a new version"
        )));
    }
    let size = bytes.len() as u64;
    let plugin = w.load_bytes(bytes.clone()).await?;
    if let Some(expected) = expected
        && expected != plugin.world()
    {
        return Err(Error::Unprocessable {
            message: format!(
                "the component implements {}, not {expected} as declared",
                plugin.world()
            ),
            errors: vec![],
        });
    }
    let record = PluginRecord {
        name: name.to_owned(),
        version: version.clone(),
        world: plugin.world().name().to_owned(),
        description: meta.description,
        limits: meta.limits,
        digest: plugin.digest().to_owned(),
        size,
        imports: plugin.info().imports.clone(),
        created_by: who.actor.clone(),
        created_at: rfc3339(crate::storage::now_ms()),
        builtin: false,
    };
    let k = key(&who.tenant, name, &version);
    w.db.write(|txn| {
        let mut plugins = txn
            .open_table(tables::PLUGINS)
            .map_err(StorageError::from)?;
        if let Some(existing) = same_version(&plugins, &who.tenant, name, &parsed)? {
            return Err(Error::Conflict(format!(
                "plugin {name} version {} already exists; versions are immutable (build metadata \
                 does not make a new version), upload a new version",
                existing.version
            )));
        }
        put_json(&mut plugins, &k, &record)?;
        let mut blobs = txn.open_table(tables::BLOBS).map_err(StorageError::from)?;
        if blobs
            .get(record.digest.as_str())
            .map_err(StorageError::from)?
            .is_none()
        {
            blobs
                .insert(record.digest.as_str(), bytes.as_slice())
                .map_err(StorageError::from)?;
        }
        let mut event = AuditEvent::new(
            &who.tenant,
            &who.actor,
            "plugin.upload",
            format!("plugin/{name}/{version}"),
        )
        .input(&bytes);
        event.plugin_digest = Some(record.digest.clone());
        audit::append(txn, event)?;
        Ok(())
    })?;
    w.remember(plugin);
    Ok(record)
}

/// One version's record (built-ins included).
pub fn get(w: &Warden, who: &Principal, name: &str, version: &str) -> Result<PluginRecord> {
    crate::names::check("plugin", name)?;
    if let Some(b) = w.builtins.iter().find(|b| b.name == name) {
        let record = builtin_record(w, b);
        return if record.version == version || version == "latest" {
            Ok(record)
        } else {
            Err(Error::not_found(
                "plugin version",
                format!("{name}@{version}"),
            ))
        };
    }
    let version = if version == "latest" {
        latest_version(w, who, name)?
    } else {
        parse_version(version)?.to_string()
    };
    let txn = w.db.read()?;
    let plugins = txn
        .open_table(tables::PLUGINS)
        .map_err(StorageError::from)?;
    if let Some(found) = get_json(&plugins, "plugins", &key(&who.tenant, name, &version))? {
        return Ok(found);
    }
    // Build metadata does not make another version (SemVer §10): `1.0.0` finds `1.0.0+build`.
    let wanted = parse_version(&version)?;
    same_version(&plugins, &who.tenant, name, &wanted)?
        .ok_or_else(|| Error::not_found("plugin version", format!("{name}@{version}")))
}

/// The stored version of `name` equal to `wanted` when build metadata is ignored.
fn same_version<T>(
    plugins: &T,
    tenant: &str,
    name: &str,
    wanted: &semver::Version,
) -> Result<Option<PluginRecord>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    Ok(
        scan_prefix::<PluginRecord, _>(plugins, "plugins", &format!("{tenant}/{name}/"))?
            .into_iter()
            .map(|(_, r)| r)
            .find(|r| {
                semver::Version::parse(&r.version)
                    .is_ok_and(|v| v.cmp_precedence(wanted) == std::cmp::Ordering::Equal)
            }),
    )
}

/// All versions of one plugin, oldest first.
pub fn versions(w: &Warden, who: &Principal, name: &str) -> Result<Vec<PluginRecord>> {
    crate::names::check("plugin", name)?;
    if let Some(b) = w.builtins.iter().find(|b| b.name == name) {
        return Ok(vec![builtin_record(w, b)]);
    }
    let txn = w.db.read()?;
    let plugins = txn
        .open_table(tables::PLUGINS)
        .map_err(StorageError::from)?;
    let mut all: Vec<PluginRecord> =
        scan_prefix::<PluginRecord, _>(&plugins, "plugins", &format!("{}/{name}/", who.tenant))?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
    if all.is_empty() {
        return Err(Error::not_found("plugin", name));
    }
    all.sort_by(|a, b| {
        let va = semver::Version::parse(&a.version).ok();
        let vb = semver::Version::parse(&b.version).ok();
        va.cmp(&vb)
    });
    Ok(all)
}

fn latest_version(w: &Warden, who: &Principal, name: &str) -> Result<String> {
    versions(w, who, name)?
        .pop()
        .map(|r| r.version)
        .ok_or_else(|| Error::not_found("plugin", name))
}

/// Every plugin of the caller's tenant plus the built-ins.
pub fn list(w: &Warden, who: &Principal) -> Result<Vec<PluginSummary>> {
    let mut out: Vec<PluginSummary> = w
        .builtins
        .iter()
        .map(|b| PluginSummary {
            name: b.name.to_owned(),
            world: b.world.name().to_owned(),
            builtin: true,
            versions: vec![env!("CARGO_PKG_VERSION").to_owned()],
            latest: env!("CARGO_PKG_VERSION").to_owned(),
        })
        .collect();
    let txn = w.db.read()?;
    let plugins = txn
        .open_table(tables::PLUGINS)
        .map_err(StorageError::from)?;
    let mut by_name: BTreeMap<String, Vec<PluginRecord>> = BTreeMap::new();
    for (_, r) in scan_prefix::<PluginRecord, _>(&plugins, "plugins", &format!("{}/", who.tenant))?
    {
        by_name.entry(r.name.clone()).or_default().push(r);
    }
    for (name, mut records) in by_name {
        records.sort_by_key(|r| semver::Version::parse(&r.version).ok());
        let Some(last) = records.last() else { continue };
        out.push(PluginSummary {
            name,
            world: last.world.clone(),
            builtin: false,
            latest: last.version.clone(),
            versions: records.iter().map(|r| r.version.clone()).collect(),
        });
    }
    Ok(out)
}

/// Deletes one version, or every version when `version` is `None`; refused while a template
/// version or a session uses it.
pub fn delete(w: &Warden, who: &Principal, name: &str, version: Option<&str>) -> Result<()> {
    crate::names::check("plugin", name)?;
    if w.builtins.iter().any(|b| b.name == name) {
        return Err(Error::Conflict(format!(
            "`{name}` is a built-in plugin and cannot be deleted"
        )));
    }
    let targets: Vec<PluginRecord> = match version {
        Some(v) => vec![get(w, who, name, v)?],
        None => versions(w, who, name)?,
    };
    let mut orphaned = Vec::new();
    w.db.write(|txn| {
        let templates = txn
            .open_table(tables::TEMPLATES)
            .map_err(StorageError::from)?;
        let tenant_prefix = format!("{}/", who.tenant);
        let versions: Vec<(String, crate::registry::templates::TemplateVersion)> =
            scan_prefix(&templates, "templates", &tenant_prefix)?;
        let sessions = txn
            .open_table(tables::SESSIONS)
            .map_err(StorageError::from)?;
        let live: Vec<(String, crate::sessions::SessionRecord)> =
            scan_prefix(&sessions, "sessions", &tenant_prefix)?;
        let pipelines = txn
            .open_table(tables::PIPELINES)
            .map_err(StorageError::from)?;
        let pipeline_versions: Vec<(String, crate::pipelines::PipelineVersion)> =
            scan_prefix(&pipelines, "pipelines", &tenant_prefix)?;
        for t in &targets {
            if let Some((_, pv)) = pipeline_versions
                .iter()
                .find(|(_, v)| v.pins.plugins.values().any(|d| *d == t.digest))
            {
                return Err(Error::Conflict(format!(
                    "plugin {name}@{} is used by pipeline `{}` version {}; it cannot be deleted",
                    t.version, pv.name, pv.version
                )));
            }
            if let Some((_, tv)) = versions.iter().find(|(_, v)| v.engine.digest == t.digest) {
                return Err(Error::Conflict(format!(
                    "plugin {name}@{} is used by template `{}` version {}; it cannot be deleted",
                    t.version, tv.name, tv.version
                )));
            }
            if let Some((_, s)) = live.iter().find(|(_, s)| s.runner.digest == t.digest) {
                return Err(Error::Conflict(format!(
                    "plugin {name}@{} is used by session {}; delete the session first",
                    t.version, s.id
                )));
            }
        }
        let mut plugins = txn
            .open_table(tables::PLUGINS)
            .map_err(StorageError::from)?;
        for t in &targets {
            plugins
                .remove(key(&who.tenant, name, &t.version).as_str())
                .map_err(StorageError::from)?;
            audit::append(
                txn,
                AuditEvent::new(
                    &who.tenant,
                    &who.actor,
                    "plugin.delete",
                    format!("plugin/{name}/{}", t.version),
                ),
            )?;
        }
        // Drop bytes nothing of any tenant refers to any more: the same bytes may be another
        // tenant's upload, or a built-in that another tenant's template, session or pipeline
        // pinned.
        // redb allows one open handle per table in a transaction.
        drop((plugins, templates, sessions, pipelines));
        let still_used = referenced_digests(txn)?;
        let mut blobs = txn.open_table(tables::BLOBS).map_err(StorageError::from)?;
        for t in &targets {
            if !still_used.contains(&t.digest) {
                blobs
                    .remove(t.digest.as_str())
                    .map_err(StorageError::from)?;
                orphaned.push(t.digest.clone());
            }
        }
        Ok::<_, Error>(())
    })?;
    for d in orphaned {
        w.unload(&d);
    }
    Ok(())
}

/// Every component digest that a stored record of any tenant refers to: plugin versions,
/// template versions, sessions and pipeline pins. A blob outside this set is an orphan.
fn referenced_digests(txn: &redb::WriteTransaction) -> Result<std::collections::HashSet<String>> {
    let mut used = std::collections::HashSet::new();
    let plugins = txn
        .open_table(tables::PLUGINS)
        .map_err(StorageError::from)?;
    for (_, r) in scan_prefix::<PluginRecord, _>(&plugins, "plugins", "")? {
        used.insert(r.digest);
    }
    let templates = txn
        .open_table(tables::TEMPLATES)
        .map_err(StorageError::from)?;
    for (_, v) in
        scan_prefix::<crate::registry::templates::TemplateVersion, _>(&templates, "templates", "")?
    {
        used.insert(v.engine.digest);
    }
    let sessions = txn
        .open_table(tables::SESSIONS)
        .map_err(StorageError::from)?;
    for (_, s) in scan_prefix::<crate::sessions::SessionRecord, _>(&sessions, "sessions", "")? {
        used.insert(s.runner.digest);
    }
    let pipelines = txn
        .open_table(tables::PIPELINES)
        .map_err(StorageError::from)?;
    for (_, p) in scan_prefix::<crate::pipelines::PipelineVersion, _>(&pipelines, "pipelines", "")?
    {
        used.extend(p.pins.plugins.into_values());
    }
    Ok(used)
}

/// Resolves `reference` (`name` for its newest version, or `name@version`) to a component of
/// `world` in the caller's tenant or among the built-ins, and loads it.
pub async fn resolve(
    w: &Warden,
    who: &Principal,
    reference: &str,
    world: World,
) -> Result<(PluginRef, Arc<Plugin>)> {
    let (name, version) = match reference.split_once('@') {
        Some((n, v)) => (n, v),
        None => (reference, "latest"),
    };
    let record = get(w, who, name, version)?;
    if record.world != world.name() {
        return Err(Error::BadRequest(format!(
            "plugin {name} implements {}, but a {world} is needed here",
            record.world
        )));
    }
    let plugin = w.plugin(&record.digest).await?;
    Ok((
        PluginRef {
            name: record.name,
            version: record.version,
            digest: record.digest,
        },
        plugin,
    ))
}

/// Stores a built-in's bytes in the blob table when something pins its digest, so a template
/// version or session keeps rendering with the exact same component after Warden is upgraded
/// and the embedded built-in changes.
pub fn pin_builtin(w: &Warden, txn: &redb::WriteTransaction, digest: &str) -> Result<()> {
    let Some(b) = w.builtins.iter().find(|b| b.digest == digest) else {
        return Ok(());
    };
    let mut blobs = txn.open_table(tables::BLOBS).map_err(StorageError::from)?;
    if blobs.get(digest).map_err(StorageError::from)?.is_none() {
        blobs.insert(digest, b.bytes).map_err(StorageError::from)?;
    }
    Ok(())
}

/// The default limits a stored plugin declared (none for built-ins).
pub fn declared_limits(w: &Warden, who: &Principal, r: &PluginRef) -> LimitOverrides {
    get(w, who, &r.name, &r.version)
        .map(|p| p.limits)
        .unwrap_or_default()
}
