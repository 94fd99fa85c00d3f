//! Uploaded plugins: immutable semver versions of components, stored content-addressed.
//!
//! An upload is checked (a component, one of the worlds, only allowed imports, under the size
//! cap) and compiled before anything is stored; then the bytes go into [`tables::BLOBS`] under
//! their sha256 (once, however often they are uploaded) and the version record into
//! [`tables::PLUGINS`], with its audit record, in one transaction. The built-ins are listed
//! beside the uploads, read-only, under their reserved names.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use warden_engine::{LimitOverrides, Limits, Plugin, World};
use warden_storage::audit::AuditEvent;
use warden_storage::{Scope, Store, Tx, rfc3339, tables};

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::refs::Referrer;
use crate::sandbox::{Builtin, Sandbox};

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

/// The plugin registry: uploaded components per tenant, the built-ins beside them, and the
/// resolution of a reference (`name`, `name@version`) to a loaded component.
pub struct Plugins {
    store: Store,
    sandbox: Arc<Sandbox>,
    max_upload_bytes: u64,
    referrers: Vec<Arc<dyn Referrer>>,
}

impl Plugins {
    /// The registry over `sandbox`'s database. Uploads over `max_upload_bytes` are refused;
    /// `referrers` are asked whether a component is still pinned before its version or bytes
    /// are deleted.
    pub fn new(
        sandbox: Arc<Sandbox>,
        max_upload_bytes: u64,
        referrers: Vec<Arc<dyn Referrer>>,
    ) -> Plugins {
        Plugins {
            store: sandbox.store().clone(),
            sandbox,
            max_upload_bytes,
            referrers,
        }
    }

    /// Resolves `reference` to a component of `world` like [`Plugins::resolve`], with the
    /// limits a call of it gets: what its version declared, then `asked`, within the caps.
    pub async fn resolve_limited(
        &self,
        who: &Principal,
        reference: &str,
        world: World,
        asked: &LimitOverrides,
    ) -> Result<(PluginRef, Arc<Plugin>, Limits)> {
        let (pinned, plugin) = self.resolve(who, reference, world).await?;
        let declared = self.declared_limits(who, &pinned).await;
        let limits = self
            .sandbox
            .limits(&LimitOverrides::merge(&declared, asked));
        Ok((pinned, plugin, limits))
    }

    /// The component a stored reference pins, loaded, and the limits a call of it gets: what
    /// its version declared, then what the caller asked for, within the host's caps.
    pub async fn prepare(
        &self,
        who: &Principal,
        pinned: &PluginRef,
        asked: &LimitOverrides,
    ) -> Result<(Arc<Plugin>, Limits)> {
        let plugin = self.sandbox.plugin(&pinned.digest).await?;
        let declared = self.declared_limits(who, pinned).await;
        let limits = self
            .sandbox
            .limits(&LimitOverrides::merge(&declared, asked));
        Ok((plugin, limits))
    }

    fn builtin_record(b: &Builtin) -> PluginRecord {
        PluginRecord {
            name: b.name.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            world: b.world.name().to_owned(),
            description: match b.world {
                World::TemplateEngine => "Built-in minijinja template engine".into(),
                World::PiiDetector => "Built-in PII detector (regex and checksums)".into(),
                World::CodeRunner if b.name == "cpython" => {
                    "Built-in CPython interpreter: the whole language and the pure-Python standard library".into()
                }
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

    /// Checks, compiles and stores a new plugin version.
    pub async fn upload(
        &self,
        who: &Principal,
        name: &str,
        version: &str,
        meta: UploadMeta,
        bytes: Vec<u8>,
    ) -> Result<PluginRecord> {
        crate::names::check("plugin", name)?;
        let parsed = parse_version(version)?;
        let version = parsed.to_string();
        if self.sandbox.builtins().iter().any(|b| b.name == name) {
            return Err(Error::Conflict(format!(
                "`{name}` is the name of a built-in plugin; choose another name"
            )));
        }
        let expected = match &meta.world {
            Some(s) => Some(s.parse::<World>().map_err(Error::BadRequest)?),
            None => None,
        };
        let limit = self.max_upload_bytes;
        if bytes.len() as u64 > limit {
            return Err(Error::TooLarge {
                what: "the component",
                size: bytes.len() as u64,
                limit,
            });
        }
        if self.get(who, name, &version).await.is_ok() {
            return Err(Error::Conflict(format!(
                "plugin {name} version {version} already exists; versions are immutable, upload a new version"
            )));
        }
        let size = bytes.len() as u64;
        let plugin = self.sandbox.load_bytes(bytes.clone()).await?;
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
            created_at: rfc3339(warden_storage::now_ms()),
            builtin: false,
        };
        let k = key(&who.tenant, name, &version);
        let (record, bytes, parsed, k, version) = (&record, &bytes, &parsed, &k, &version);
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    if let Some(existing) = same_version(&tx, &who.tenant, name, parsed).await? {
                        return Err(Error::Conflict(format!(
                            "plugin {name} version {} already exists; versions are immutable \
                             (build metadata does not make a new version), upload a new version",
                            existing.version
                        )));
                    }
                    tx.put_json(tables::PLUGINS, k, record).await?;
                    // `exists` locks the shared blob, so a concurrent delete in another tenant
                    // cannot remove it between this test and the commit.
                    if !tx.exists(tables::BLOBS, &record.digest).await? {
                        tx.put_bytes(tables::BLOBS, &record.digest, bytes).await?;
                    }
                    let mut event = AuditEvent::new(
                        &who.tenant,
                        &who.actor,
                        "plugin.upload",
                        format!("plugin/{name}/{version}"),
                    )
                    .input(bytes);
                    event.plugin_digest = Some(record.digest.clone());
                    tx.audit(event).await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        let record = record.clone();
        self.sandbox.remember(plugin);
        Ok(record)
    }

    /// One version's record (built-ins included).
    pub async fn get(&self, who: &Principal, name: &str, version: &str) -> Result<PluginRecord> {
        crate::names::check("plugin", name)?;
        if let Some(b) = self.sandbox.builtins().iter().find(|b| b.name == name) {
            let record = Self::builtin_record(b);
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
            self.latest_version(who, name).await?
        } else {
            parse_version(version)?.to_string()
        };
        let found = self
            .store
            .get_json(tables::PLUGINS, &key(&who.tenant, name, &version))
            .await?;
        if let Some(found) = found {
            return Ok(found);
        }
        // Build metadata does not make another version (SemVer §10): `1.0.0` finds `1.0.0+build`.
        let wanted = parse_version(&version)?;
        let all = self.stored_versions(&who.tenant, name).await?;
        find_same_version(all, &wanted)
            .ok_or_else(|| Error::not_found("plugin version", format!("{name}@{version}")))
    }

    /// All versions of one plugin, oldest first.
    pub async fn versions(&self, who: &Principal, name: &str) -> Result<Vec<PluginRecord>> {
        crate::names::check("plugin", name)?;
        if let Some(b) = self.sandbox.builtins().iter().find(|b| b.name == name) {
            return Ok(vec![Self::builtin_record(b)]);
        }
        let mut all = self.stored_versions(&who.tenant, name).await?;
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

    async fn stored_versions(&self, tenant: &str, name: &str) -> Result<Vec<PluginRecord>> {
        Ok(self
            .store
            .scan_json::<PluginRecord>(tables::PLUGINS, &format!("{tenant}/{name}/"))
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    async fn latest_version(&self, who: &Principal, name: &str) -> Result<String> {
        self.versions(who, name)
            .await?
            .pop()
            .map(|r| r.version)
            .ok_or_else(|| Error::not_found("plugin", name))
    }

    /// Every plugin of the caller's tenant plus the built-ins.
    pub async fn list(&self, who: &Principal) -> Result<Vec<PluginSummary>> {
        let mut out: Vec<PluginSummary> = self
            .sandbox
            .builtins()
            .iter()
            .map(|b| PluginSummary {
                name: b.name.to_owned(),
                world: b.world.name().to_owned(),
                builtin: true,
                versions: vec![env!("CARGO_PKG_VERSION").to_owned()],
                latest: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .collect();
        let mut by_name: BTreeMap<String, Vec<PluginRecord>> = BTreeMap::new();
        for (_, r) in self
            .store
            .scan_json::<PluginRecord>(tables::PLUGINS, &format!("{}/", who.tenant))
            .await?
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
    pub async fn delete(&self, who: &Principal, name: &str, version: Option<&str>) -> Result<()> {
        crate::names::check("plugin", name)?;
        if self.sandbox.builtins().iter().any(|b| b.name == name) {
            return Err(Error::Conflict(format!(
                "`{name}` is a built-in plugin and cannot be deleted"
            )));
        }
        let targets: Vec<PluginRecord> = match version {
            Some(v) => vec![self.get(who, name, v).await?],
            None => self.versions(who, name).await?,
        };
        let targets = &targets;
        let orphaned = self
            .store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    for t in targets {
                        for referrer in &self.referrers {
                            if let Some(usage) =
                                referrer.digest_user(&tx, &who.tenant, &t.digest).await?
                            {
                                return Err(Error::Conflict(format!(
                                    "plugin {name}@{} is used by {}; {}",
                                    t.version, usage.by, usage.remedy
                                )));
                            }
                        }
                    }
                    for t in targets {
                        tx.delete(tables::PLUGINS, &key(&who.tenant, name, &t.version))
                            .await?;
                        tx.audit(AuditEvent::new(
                            &who.tenant,
                            &who.actor,
                            "plugin.delete",
                            format!("plugin/{name}/{}", t.version),
                        ))
                        .await?;
                    }
                    // Drop bytes nothing of any tenant refers to any more: the same bytes may be
                    // another tenant's upload, or a built-in that another tenant's template,
                    // session or pipeline pinned. The blobs are locked first, so an upload of
                    // the same bytes in another tenant either committed before the references
                    // are read (and is counted) or waits and stores them again.
                    for t in targets {
                        tx.exists(tables::BLOBS, &t.digest).await?;
                    }
                    let still_used = self.referenced_digests(&tx).await?;
                    let mut orphaned = Vec::new();
                    for t in targets {
                        if !still_used.contains(&t.digest) && !orphaned.contains(&t.digest) {
                            tx.delete(tables::BLOBS, &t.digest).await?;
                            orphaned.push(t.digest.clone());
                        }
                    }
                    Ok::<_, Error>(orphaned)
                })
            })
            .await?;
        for d in orphaned {
            self.sandbox.unload(&d);
        }
        Ok(())
    }

    /// Removes stored component bytes that no record of any tenant refers to any more (a
    /// built-in's bytes once the last template version, session or pipeline pinning them is
    /// gone). Safe on every replica at once: candidates are locked before the references are
    /// read again, so an upload or pin running meanwhile keeps its bytes.
    pub async fn sweep_orphans(&self) -> Result<usize> {
        let digests = self.store.read().await?.keys(tables::BLOBS, "").await?;
        let candidates: Vec<String> = {
            let used = self
                .store
                .write(Scope::Global, |tx| {
                    Box::pin(async move { self.referenced_digests(&tx).await })
                })
                .await?;
            digests.into_iter().filter(|d| !used.contains(d)).collect()
        };
        if candidates.is_empty() {
            return Ok(0);
        }
        let candidates = &candidates;
        let removed = self
            .store
            .write(Scope::Global, |tx| {
                Box::pin(async move {
                    for d in candidates {
                        tx.exists(tables::BLOBS, d).await?;
                    }
                    let used = self.referenced_digests(&tx).await?;
                    let mut removed = Vec::new();
                    for d in candidates {
                        if !used.contains(d) && tx.delete(tables::BLOBS, d).await? {
                            removed.push(d.clone());
                        }
                    }
                    Ok::<_, Error>(removed)
                })
            })
            .await?;
        for d in &removed {
            self.sandbox.unload(d);
        }
        Ok(removed.len())
    }

    /// Every component digest that a stored record of any tenant refers to: plugin versions and
    /// whatever the referrers (template versions, sessions, pipeline pins) pin. A blob outside
    /// this set is an orphan.
    async fn referenced_digests(&self, tx: &Tx) -> Result<HashSet<String>> {
        let mut used = HashSet::new();
        for (_, r) in tx.scan_json::<PluginRecord>(tables::PLUGINS, "").await? {
            used.insert(r.digest);
        }
        for referrer in &self.referrers {
            referrer.pinned_digests(tx, &mut used).await?;
        }
        Ok(used)
    }

    /// Resolves `reference` (`name` for its newest version, or `name@version`) to a component of
    /// `world` in the caller's tenant or among the built-ins, and loads it.
    pub async fn resolve(
        &self,
        who: &Principal,
        reference: &str,
        world: World,
    ) -> Result<(PluginRef, Arc<Plugin>)> {
        let (name, version) = match reference.split_once('@') {
            Some((n, v)) => (n, v),
            None => (reference, "latest"),
        };
        let record = self.get(who, name, version).await?;
        if record.world != world.name() {
            return Err(Error::BadRequest(format!(
                "plugin {name} implements {}, but a {world} is needed here",
                record.world
            )));
        }
        let plugin = self.sandbox.plugin(&record.digest).await?;
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
    pub async fn pin_builtin(&self, tx: &Tx, digest: &str) -> Result<()> {
        let Some(b) = self.sandbox.builtins().iter().find(|b| b.digest == digest) else {
            return Ok(());
        };
        if !tx.exists(tables::BLOBS, digest).await? {
            tx.put_bytes(tables::BLOBS, digest, b.bytes).await?;
        }
        Ok(())
    }

    /// The default limits a stored plugin declared (none for built-ins).
    pub async fn declared_limits(&self, who: &Principal, r: &PluginRef) -> LimitOverrides {
        self.get(who, &r.name, &r.version)
            .await
            .map(|p| p.limits)
            .unwrap_or_default()
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

/// The stored version of `name` equal to `wanted` when build metadata is ignored, read in `tx`.
async fn same_version(
    tx: &Tx,
    tenant: &str,
    name: &str,
    wanted: &semver::Version,
) -> Result<Option<PluginRecord>> {
    let all = tx
        .scan_json::<PluginRecord>(tables::PLUGINS, &format!("{tenant}/{name}/"))
        .await?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    Ok(find_same_version(all, wanted))
}

/// The one of `all` equal to `wanted` when build metadata is ignored (SemVer §10).
fn find_same_version(all: Vec<PluginRecord>, wanted: &semver::Version) -> Option<PluginRecord> {
    all.into_iter().find(|r| {
        semver::Version::parse(&r.version)
            .is_ok_and(|v| v.cmp_precedence(wanted) == std::cmp::Ordering::Equal)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::refs::Usage;
    use crate::testing::{sandbox, store, who};

    /// Claims every digest, as a record of another service pinning everything would.
    struct PinsEverything;

    #[async_trait::async_trait]
    impl Referrer for PinsEverything {
        async fn digest_user(
            &self,
            _tx: &Tx,
            _tenant: &str,
            _digest: &str,
        ) -> Result<Option<Usage>> {
            Ok(Some(Usage {
                by: "template `t` version 1".into(),
                remedy: "it cannot be deleted",
            }))
        }

        async fn pinned_digests(&self, _tx: &Tx, _out: &mut HashSet<String>) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_builtins_are_listed_for_every_tenant_and_cannot_be_deleted() {
        let s = store();
        let plugins = Plugins::new(sandbox(&s.store), 1 << 20, vec![Arc::new(PinsEverything)]);
        let author = who("acme", &[Role::Author]);
        let mut names: Vec<String> = plugins
            .list(&author)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        names.sort();
        assert_eq!(names, ["cpython", "pii", "python", "template"]);
        let record = plugins.get(&author, "pii", "latest").await.unwrap();
        assert!(record.builtin);
        assert!(matches!(
            plugins.delete(&author, "pii", None).await,
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            plugins.get(&author, "nope", "latest").await,
            Err(Error::NotFound { .. })
        ));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_reference_to_the_wrong_world_is_refused_before_anything_loads() {
        let s = store();
        let plugins = Plugins::new(sandbox(&s.store), 1 << 20, Vec::new());
        let op = who("acme", &[Role::Operator]);
        let refused = plugins.resolve(&op, "template", World::PiiDetector).await;
        assert!(matches!(refused, Err(Error::BadRequest(m)) if m.contains("pii-detector")));
    }

    #[test]
    fn an_upload_over_the_cap_is_refused_without_compiling() {
        let s = store();
        let plugins = Plugins::new(sandbox(&s.store), 1024, Vec::new());
        let author = who("acme", &[Role::Author]);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let refused = rt.block_on(plugins.upload(
            &author,
            "big",
            "1.0.0",
            UploadMeta::default(),
            vec![0; 2048],
        ));
        assert!(
            matches!(refused, Err(Error::TooLarge { .. })),
            "{refused:?}"
        );
    }
}
