//! The prompt registry: templates with immutable numbered versions and movable labels.
//!
//! A version pins the digest of the template-engine component it renders with, so it renders
//! the same forever; labels (`production`, `staging`, any name) point at versions, `latest` is
//! always the newest, and moving a label is how a rollback happens. Creating a version checks
//! its syntax and its variables in the sandbox; rendering validates variables against the
//! version's schema, applies defaults and runs under the sandbox's limits.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use std::sync::Arc;

use warden_engine::{
    CallReport, ChatMessage, ChatTemplate, Dialect, LimitOverrides, RenderOptions, TemplateInfo,
    UndefinedMode, World,
};
use warden_storage::audit::AuditEvent;
use warden_storage::{Scope, Store, Tx, rfc3339, tables};

use super::compose::{self, Pinned};
use super::plugins::{PluginRef, Plugins};
use super::schema::{VariableCheck, VariablesSchema, check_variables};
use super::versioned::{Versioned, check_label};
use crate::auth::Principal;
use crate::error::{Error, FieldError, Result};
use crate::refs::{Referrer, Usage};
use crate::sandbox::Sandbox;
use crate::tenants::Tenants;

/// The label every render falls back to before `latest`.
pub const PRODUCTION: &str = "production";
/// The automatic label of the newest version.
pub use super::versioned::LATEST;

/// Where template versions and labels are stored.
pub(super) const STORED: Versioned = Versioned {
    versions: tables::TEMPLATES,
    labels: tables::LABELS,
};

/// One immutable template version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemplateVersion {
    /// The template's name.
    pub name: String,
    /// The version number, from 1.
    pub version: u64,
    /// The template text (for text templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The chat messages (for chat templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub messages: Option<Vec<ChatMessage>>,
    /// A Hugging Face chat template (`chat_template` of a model's `tokenizer_config.json`):
    /// rendered with `messages`, `tools`, `add_generation_prompt` … as transformers does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_template: Option<String>,
    /// A Hugging Face `tokenizer_config.json` (its chat templates and special tokens), kept
    /// without `added_tokens_decoder`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub tokenizer_config: Option<Value>,
    /// JSON Schema (subset) of the variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables_schema: Option<Value>,
    /// Free configuration (model parameters and the like), returned with renders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// Rendering options.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: RenderOptions,
    /// The other templates it includes, imports or extends, by the name it uses, pinned to
    /// the version each resolved to when this version was created.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub includes: BTreeMap<String, Pinned>,
    /// The commit message.
    #[serde(default)]
    pub message: String,
    /// Who created it.
    pub author: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// The template-engine component it renders with.
    pub engine: PluginRef,
    /// The variables the template reads.
    pub variables: Vec<String>,
    /// Set when the version came in through an import: what the imported document claimed.
    /// `author` and `created_at` above are always the importing actor and time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub imported: Option<ImportedClaims>,
}

/// Provenance an imported document claimed for a version: kept for reference, never trusted
/// (anyone can edit an export before importing it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedClaims {
    /// The `author` the document named.
    pub claimed_author: String,
    /// The `created_at` the document named.
    pub claimed_created_at: String,
}

/// A request to create a version.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    /// The template text; give this or `messages`.
    pub template: Option<String>,
    /// Chat messages whose contents are templates; give this or `template`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub messages: Option<Vec<ChatMessage>>,
    /// A Hugging Face chat template (text); or give `tokenizer_config`.
    pub chat_template: Option<String>,
    /// A Hugging Face `tokenizer_config.json`, whole: its `chat_template` (one or several
    /// named) and special tokens are used.
    #[schema(value_type = Option<Object>)]
    pub tokenizer_config: Option<Value>,
    /// JSON Schema (subset) of the variables.
    pub variables_schema: Option<Value>,
    /// Free configuration.
    pub config: Option<Value>,
    /// Rendering options.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: RenderOptions,
    /// The commit message.
    #[serde(default)]
    pub message: String,
    /// The template-engine plugin (`name` or `name@version`); default the built-in.
    pub engine: Option<String>,
    /// Labels to point at the new version.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// A created version and what its variable check found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    /// The stored version.
    pub version: TemplateVersion,
    /// Variables used but not declared, and declared but not used.
    #[schema(value_type = Object)]
    pub warnings: VariableCheck,
}

/// A template with its versions' numbers and its labels.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateSummary {
    /// The name.
    pub name: String,
    /// Version numbers, oldest first.
    pub versions: Vec<u64>,
    /// Label → version (`latest` included).
    pub labels: BTreeMap<String, u64>,
}

/// A render request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// The variables (a JSON object).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
    /// A version number; takes precedence over `label`.
    pub version: Option<u64>,
    /// A label; default `production`, then `latest`.
    pub label: Option<String>,
    /// Options for this render over the version's own (whitespace, dialect, undefined).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: RenderOverrides,
    /// Limits for this call (within host caps).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub limits: LimitOverrides,
}

/// Render options a request may set over a version's: set fields win.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderOverrides {
    /// Remove the first newline after a block tag.
    pub trim_blocks: Option<bool>,
    /// Strip whitespace before a block tag on its line.
    pub lstrip_blocks: Option<bool>,
    /// Keep the template's final newline.
    pub keep_trailing_newline: Option<bool>,
    /// `minijinja` or `jinja2`.
    #[schema(value_type = Option<String>)]
    pub dialect: Option<Dialect>,
    /// `strict`, `chainable` or `lenient`.
    #[schema(value_type = Option<String>)]
    pub undefined: Option<UndefinedMode>,
}

impl RenderOverrides {
    /// `base` with these overrides applied.
    pub fn over(&self, base: RenderOptions) -> RenderOptions {
        RenderOptions {
            trim_blocks: self.trim_blocks.or(base.trim_blocks),
            lstrip_blocks: self.lstrip_blocks.or(base.lstrip_blocks),
            keep_trailing_newline: self.keep_trailing_newline.or(base.keep_trailing_newline),
            dialect: self.dialect.or(base.dialect),
            undefined: self.undefined.or(base.undefined),
            ..base
        }
    }
}

/// A template rendered without storing it (`POST /v1/templates/render`): the same kinds and
/// options as a version.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InlineRender {
    /// Template text.
    pub template: Option<String>,
    /// Chat messages whose contents are templates.
    #[schema(value_type = Option<Vec<Object>>)]
    pub messages: Option<Vec<ChatMessage>>,
    /// A Hugging Face chat template.
    pub chat_template: Option<String>,
    /// A Hugging Face `tokenizer_config.json`.
    #[schema(value_type = Option<Object>)]
    pub tokenizer_config: Option<Value>,
    /// Which named chat template of `tokenizer_config` (default: `tool_use` with tools, else
    /// `default`).
    pub template_name: Option<String>,
    /// The variables; for chat templates the conversation: `messages`, `tools`,
    /// `documents`, `add_generation_prompt`, `bos_token`, `eos_token`, ….
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
    /// Rendering options.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: RenderOptions,
    /// The template-engine plugin (`name` or `name@version`); default the built-in.
    pub engine: Option<String>,
    /// Limits for this call (within host caps).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub limits: LimitOverrides,
}

/// A render's result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rendered {
    /// The template's name.
    pub name: String,
    /// The version rendered.
    pub version: u64,
    /// The label resolved, if one was.
    pub label: Option<String>,
    /// The text (text templates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The messages (chat templates).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub messages: Option<Vec<ChatMessage>>,
    /// The version's configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// Fuel burned.
    pub fuel: u64,
    /// Call duration, microseconds.
    pub duration_us: u64,
}

/// One template in an export: every version and every label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportDoc {
    /// The name.
    pub name: String,
    /// The versions, oldest first.
    pub versions: Vec<TemplateVersion>,
    /// Label → version (`latest` excluded: it is automatic).
    #[serde(default)]
    pub labels: BTreeMap<String, u64>,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Templates in the document.
    pub templates: usize,
    /// Versions created.
    pub created: usize,
    /// Versions already present with the same content.
    pub unchanged: usize,
    /// Labels set or moved.
    pub labels_set: usize,
}

/// The template registry: versions, labels (with the approval workflow of
/// [`super::approvals`]), import and export, and rendering through the sandbox.
pub struct Templates {
    pub(super) store: Store,
    sandbox: Arc<Sandbox>,
    plugins: Arc<Plugins>,
    pub(super) tenants: Arc<Tenants>,
    users: Vec<Arc<dyn Referrer>>,
}

impl Templates {
    /// The registry over `sandbox`'s database; `users` are asked before a template is deleted
    /// whether one of their records still renders it (pipelines do).
    pub fn new(
        sandbox: Arc<Sandbox>,
        plugins: Arc<Plugins>,
        tenants: Arc<Tenants>,
        users: Vec<Arc<dyn Referrer>>,
    ) -> Templates {
        Templates {
            store: sandbox.store().clone(),
            sandbox,
            plugins,
            tenants,
            users,
        }
    }

    async fn all_versions(&self, tenant: &str, name: &str) -> Result<Vec<TemplateVersion>> {
        STORED.versions(&self.store, tenant, name).await
    }

    async fn labels_of(&self, tenant: &str, name: &str) -> Result<BTreeMap<String, u64>> {
        STORED.labels(&self.store, tenant, name).await
    }

    /// Inspects the template text(s) of a version in the sandbox; syntax errors become 422s with
    /// their line and column.
    async fn inspect(
        &self,
        who: &Principal,
        engine: &PluginRef,
        plugin: std::sync::Arc<warden_engine::Plugin>,
        texts: Vec<String>,
    ) -> Result<BTreeSet<String>> {
        let limits = self.sandbox.limits(&LimitOverrides::default());
        let input: Vec<u8> = texts.join("\n").into_bytes();
        let event = AuditEvent::new(
            &who.tenant,
            &who.actor,
            "template.inspect",
            format!("plugin/{}/{}", engine.name, engine.version),
        )
        .input(&input);
        let (infos, _) = self
            .sandbox
            .call(
                event,
                plugin,
                move |engine, plugin| {
                    let mut infos = Vec::new();
                    let mut report = CallReport::default();
                    for text in &texts {
                        let out = engine.inspect_template(plugin, text, limits);
                        report.fuel_used += out.report.fuel_used;
                        report.duration += out.report.duration;
                        match out.result {
                            Ok(info) => infos.push(info),
                            Err(e) => {
                                return warden_engine::Outcome {
                                    result: Err(e),
                                    report,
                                };
                            }
                        }
                    }
                    warden_engine::Outcome {
                        result: Ok(infos),
                        report,
                    }
                },
                |infos: &Vec<TemplateInfo>| {
                    infos
                        .iter()
                        .flat_map(|i| i.variables.iter())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(",")
                        .into_bytes()
                },
            )
            .await?;
        Ok(infos.into_iter().flat_map(|i| i.variables).collect())
    }

    /// Checks and stores a new version of template `name` (created on its first version).
    pub async fn create_version(
        &self,
        who: &Principal,
        name: &str,
        new: NewVersion,
    ) -> Result<Created> {
        crate::names::check("template", name)?;
        for l in &new.labels {
            check_label(l)?;
        }
        let kind = Kind::of(
            new.template.as_deref(),
            new.messages.as_deref(),
            new.chat_template.as_deref(),
            new.tokenizer_config.as_ref(),
        )?;
        let tokenizer_config = new.tokenizer_config.as_ref().map(trim_config);
        let texts: Vec<String> = match kind {
            Kind::Text => new.template.iter().cloned().collect(),
            Kind::Chat => new
                .messages
                .iter()
                .flatten()
                .map(|m| m.content.clone())
                .collect(),
            Kind::HfChat => Vec::new(),
        };
        let schema = match &new.variables_schema {
            Some(s) => Some(VariablesSchema::parse(s).map_err(|e| Error::Unprocessable {
                message: format!("invalid variables_schema: {e}"),
                errors: vec![FieldError {
                    path: format!("/variables_schema{}", e.path),
                    message: e.message.clone(),
                }],
            })?),
            None => None,
        };
        let engine_ref = new.engine.as_deref().unwrap_or("template");
        let (engine, plugin) = self
            .plugins
            .resolve(who, engine_ref, World::TemplateEngine)
            .await?;
        let (used, includes) = if kind == Kind::HfChat {
            let template =
                chat_template_of(new.chat_template.clone(), tokenizer_config.as_ref(), None)?;
            self.check_chat_template(who, &engine, plugin, template, new.options)
                .await?;
            (BTreeSet::new(), BTreeMap::new())
        } else {
            let includes = compose::pin(&self.store, who, name, &texts).await?;
            (self.inspect(who, &engine, plugin, texts).await?, includes)
        };
        let warnings = schema
            .as_ref()
            .map(|s| check_variables(s, &used))
            .unwrap_or_default();
        let record = TemplateVersion {
            name: name.to_owned(),
            version: 0,
            template: new.template,
            messages: new.messages,
            chat_template: new.chat_template,
            tokenizer_config,
            variables_schema: new.variables_schema,
            config: new.config,
            options: new.options,
            includes,
            message: new.message,
            author: who.actor.clone(),
            created_at: rfc3339(warden_storage::now_ms()),
            engine,
            variables: used.into_iter().collect(),
            imported: None,
        };
        let (labels, record) = (&new.labels, &record);
        let record = self
            .store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    let mut record = record.clone();
                    for l in labels {
                        self.tenants.check_direct_move_in(&tx, who, l).await?;
                    }
                    record.version = STORED.next_version(&tx, &who.tenant, name).await?;
                    self.plugins.pin_builtin(&tx, &record.engine.digest).await?;
                    STORED
                        .put_version(&tx, &who.tenant, name, record.version, &record)
                        .await?;
                    tx.audit(
                        AuditEvent::new(
                            &who.tenant,
                            &who.actor,
                            "template.version.create",
                            format!("template/{name}/{}", record.version),
                        )
                        .input(&warden_storage::encode(&record)?),
                    )
                    .await?;
                    for l in labels {
                        let old = STORED
                            .set_label(&tx, &who.tenant, name, l, record.version)
                            .await?;
                        tx.audit(label_event(who, name, l, old, Some(record.version)))
                            .await?;
                    }
                    Ok::<_, Error>(record)
                })
            })
            .await?;
        Ok(Created {
            version: record,
            warnings,
        })
    }

    /// Every template of the caller's tenant.
    pub async fn list(&self, who: &Principal) -> Result<Vec<TemplateSummary>> {
        let mut names: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for (_, v) in self
            .store
            .scan_json::<TemplateVersion>(tables::TEMPLATES, &format!("{}/", who.tenant))
            .await?
        {
            names.entry(v.name).or_default().push(v.version);
        }
        let mut out = Vec::with_capacity(names.len());
        for (name, versions) in names {
            let mut labels = self.labels_of(&who.tenant, &name).await?;
            if let Some(last) = versions.last() {
                labels.insert(LATEST.into(), *last);
            }
            out.push(TemplateSummary {
                name,
                versions,
                labels,
            });
        }
        Ok(out)
    }

    /// One template's versions and labels.
    pub async fn summary(&self, who: &Principal, name: &str) -> Result<TemplateSummary> {
        crate::names::check("template", name)?;
        let versions: Vec<u64> = self
            .all_versions(&who.tenant, name)
            .await?
            .into_iter()
            .map(|v| v.version)
            .collect();
        let Some(last) = versions.last().copied() else {
            return Err(Error::not_found("template", name));
        };
        let mut labels = self.labels_of(&who.tenant, name).await?;
        labels.insert(LATEST.into(), last);
        Ok(TemplateSummary {
            name: name.to_owned(),
            versions,
            labels,
        })
    }

    /// One version.
    pub async fn get_version(
        &self,
        who: &Principal,
        name: &str,
        version: u64,
    ) -> Result<TemplateVersion> {
        crate::names::check("template", name)?;
        STORED
            .version(&self.store, &who.tenant, name, version)
            .await?
            .ok_or_else(|| {
                Error::not_found("template version", format!("{name} version {version}"))
            })
    }

    /// The version a label points at (`latest` included).
    pub async fn resolve_label(&self, who: &Principal, name: &str, label: &str) -> Result<u64> {
        crate::names::check("label", label)?;
        let summary = self.summary(who, name).await?;
        summary
            .labels
            .get(label)
            .copied()
            .ok_or_else(|| Error::not_found("label", format!("{name}:{label}")))
    }

    /// Points `label` at `version` (audited with the old and new versions).
    pub async fn set_label(
        &self,
        who: &Principal,
        name: &str,
        label: &str,
        version: u64,
    ) -> Result<()> {
        crate::names::check("template", name)?;
        check_label(label)?;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    self.tenants.check_direct_move_in(&tx, who, label).await?;
                    move_label_in(&tx, who, name, label, version).await
                })
            })
            .await
    }

    /// Removes a label.
    pub async fn delete_label(&self, who: &Principal, name: &str, label: &str) -> Result<()> {
        crate::names::check("template", name)?;
        check_label(label)?;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    self.tenants.check_direct_move_in(&tx, who, label).await?;
                    let old = STORED.remove_label(&tx, &who.tenant, name, label).await?;
                    if old.is_none() {
                        return Err(Error::not_found("label", format!("{name}:{label}")));
                    }
                    tx.audit(label_event(who, name, label, old, None)).await?;
                    Ok(())
                })
            })
            .await
    }

    /// Deletes a template: every version, label and pending change request, in one transaction
    /// with its audit record. Refused (409) while a pipeline version of the tenant renders it, and
    /// (403) for a non-admin while one of its labels is protected, as moving that label would be.
    pub async fn delete(&self, who: &Principal, name: &str) -> Result<()> {
        crate::names::check("template", name)?;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    for users in &self.users {
                        if let Some(user) = users.template_user(&tx, &who.tenant, name).await? {
                            return Err(Error::Conflict(format!(
                                "template `{name}` is rendered by {user}; it cannot be deleted"
                            )));
                        }
                    }
                    STORED
                        .delete(&tx, &self.tenants, who, "template", name)
                        .await?;
                    tx.delete_prefix(tables::CHANGE_REQUESTS, &format!("{}/{name}/", who.tenant))
                        .await?;
                    Ok(())
                })
            })
            .await
    }

    /// A unified diff between two versions (the text, or the messages one per block).
    pub async fn diff(&self, who: &Principal, name: &str, from: u64, to: u64) -> Result<String> {
        let a = self.get_version(who, name, from).await?;
        let b = self.get_version(who, name, to).await?;
        fn text(v: &TemplateVersion) -> String {
            match (&v.template, &v.messages) {
                (Some(t), _) => t.clone(),
                (None, Some(m)) => m
                    .iter()
                    .map(|m| format!("[{}]\n{}\n", m.role, m.content))
                    .collect(),
                (None, None) => String::new(),
            }
        }
        Ok(super::diff::unified(
            &format!("{name}@{from}"),
            &format!("{name}@{to}"),
            &text(&a),
            &text(&b),
            3,
        ))
    }

    /// Renders a version of `name` in the sandbox.
    pub async fn render(
        &self,
        who: &Principal,
        name: &str,
        req: RenderRequest,
    ) -> Result<Rendered> {
        crate::names::check("template", name)?;
        let (version, label) = match (req.version, &req.label) {
            (Some(v), _) => (v, None),
            (None, Some(l)) => (self.resolve_label(who, name, l).await?, Some(l.clone())),
            (None, None) => match self.resolve_label(who, name, PRODUCTION).await {
                Ok(v) => (v, Some(PRODUCTION.to_owned())),
                Err(Error::NotFound { kind: "label", .. }) => (
                    self.resolve_label(who, name, LATEST).await?,
                    Some(LATEST.to_owned()),
                ),
                Err(e) => return Err(e),
            },
        };
        let tv = self.get_version(who, name, version).await?;
        let variables = match &tv.variables_schema {
            Some(s) => {
                let schema = VariablesSchema::parse(s)
                    .map_err(|e| Error::Internal(format!("stored schema is invalid: {e}")))?;
                schema
                    .apply(&req.variables)
                    .map_err(|violations| Error::Unprocessable {
                        message: "the variables do not match the template's schema".into(),
                        errors: violations
                            .into_iter()
                            .map(|v| FieldError {
                                path: format!("/variables{}", v.path),
                                message: v.message,
                            })
                            .collect(),
                    })?
            }
            None => req.variables,
        };
        let context = serde_json::to_string(&variables)
            .map_err(|e| Error::Internal(format!("cannot encode variables: {e}")))?;
        let (plugin, limits) = self.plugins.prepare(who, &tv.engine, &req.limits).await?;
        let event = AuditEvent::new(
            &who.tenant,
            &who.actor,
            "template.render",
            format!("template/{name}/{version}"),
        )
        .input(context.as_bytes());
        let options = req.options.over(tv.options);
        let sources = compose::sources(&self.store, who, &tv.includes).await?;
        let hf = match (&tv.chat_template, &tv.tokenizer_config) {
            (None, None) => None,
            (text, config) => Some(chat_template_of(text.clone(), config.as_ref(), None)?),
        };
        let mut out = Rendered {
            name: name.to_owned(),
            version,
            label,
            text: None,
            messages: None,
            config: tv.config.clone(),
            fuel: 0,
            duration_us: 0,
        };
        let report = match (tv.template, tv.messages, hf) {
            (_, _, Some(chat)) => {
                let (rendered, report) = self
                    .sandbox
                    .call(
                        event,
                        plugin,
                        move |e, p| e.render_chat_template(p, &chat, &context, options, limits),
                        |s: &String| s.as_bytes().to_vec(),
                    )
                    .await?;
                out.text = Some(rendered);
                report
            }
            (Some(text), _, None) => {
                let (rendered, report) = self
                    .sandbox
                    .call(
                        event,
                        plugin,
                        move |e, p| e.render_with(p, &text, &context, options, &sources, limits),
                        |s: &String| s.as_bytes().to_vec(),
                    )
                    .await?;
                out.text = Some(rendered);
                report
            }
            (None, Some(messages), None) => {
                let (rendered, report) = self
                    .sandbox
                    .call(
                        event,
                        plugin,
                        move |e, p| {
                            e.render_chat_with(p, &messages, &context, options, &sources, limits)
                        },
                        |m: &Vec<ChatMessage>| serde_json::to_vec(m).unwrap_or_default(),
                    )
                    .await?;
                out.messages = Some(rendered);
                report
            }
            (None, None, None) => {
                return Err(Error::Internal("stored version has no template".into()));
            }
        };
        out.fuel = report.fuel_used;
        out.duration_us = u64::try_from(report.duration.as_micros()).unwrap_or(u64::MAX);
        Ok(out)
    }

    /// Renders a template given in the request, without storing it (`POST
    /// /v1/templates/render`): text, chat messages or a Hugging Face chat template (text or a
    /// whole `tokenizer_config.json`). Audited like a stored render.
    pub async fn render_inline(&self, who: &Principal, req: InlineRender) -> Result<Rendered> {
        let kind = Kind::of(
            req.template.as_deref(),
            req.messages.as_deref(),
            req.chat_template.as_deref(),
            req.tokenizer_config.as_ref(),
        )?;
        let engine_ref = req.engine.as_deref().unwrap_or("template");
        let (pinned, _) = self
            .plugins
            .resolve(who, engine_ref, World::TemplateEngine)
            .await?;
        let (plugin, limits) = self.plugins.prepare(who, &pinned, &req.limits).await?;
        let context = serde_json::to_string(&req.variables)
            .map_err(|e| Error::Internal(format!("cannot encode variables: {e}")))?;
        let event = AuditEvent::new(
            &who.tenant,
            &who.actor,
            "template.render",
            "template/inline",
        )
        .input(context.as_bytes());
        let options = req.options;
        let mut out = Rendered {
            name: String::new(),
            version: 0,
            label: None,
            text: None,
            messages: None,
            config: None,
            fuel: 0,
            duration_us: 0,
        };
        let report = match kind {
            Kind::HfChat => {
                let chat = chat_template_of(
                    req.chat_template,
                    req.tokenizer_config.map(|c| trim_config(&c)).as_ref(),
                    req.template_name,
                )?;
                let (rendered, report) = self
                    .sandbox
                    .call(
                        event,
                        plugin,
                        move |e, p| e.render_chat_template(p, &chat, &context, options, limits),
                        |s: &String| s.as_bytes().to_vec(),
                    )
                    .await?;
                out.text = Some(rendered);
                report
            }
            Kind::Text => {
                let text = req.template.unwrap_or_default();
                let (rendered, report) = self
                    .sandbox
                    .call(
                        event,
                        plugin,
                        move |e, p| e.render(p, &text, &context, options, limits),
                        |s: &String| s.as_bytes().to_vec(),
                    )
                    .await?;
                out.text = Some(rendered);
                report
            }
            Kind::Chat => {
                let messages = req.messages.unwrap_or_default();
                let (rendered, report) = self
                    .sandbox
                    .call(
                        event,
                        plugin,
                        move |e, p| e.render_chat(p, &messages, &context, options, limits),
                        |m: &Vec<ChatMessage>| serde_json::to_vec(m).unwrap_or_default(),
                    )
                    .await?;
                out.messages = Some(rendered);
                report
            }
        };
        out.fuel = report.fuel_used;
        out.duration_us = u64::try_from(report.duration.as_micros()).unwrap_or(u64::MAX);
        Ok(out)
    }

    /// Renders a new chat template once with a one-message conversation, so a syntax error is
    /// refused when the version is created; the template's own `raise_exception` (it may
    /// insist on a system message, say) is not a syntax error.
    async fn check_chat_template(
        &self,
        who: &Principal,
        engine: &PluginRef,
        plugin: Arc<warden_engine::Plugin>,
        template: ChatTemplate,
        options: RenderOptions,
    ) -> Result<()> {
        let limits = self.sandbox.limits(&LimitOverrides::default());
        let event = AuditEvent::new(
            &who.tenant,
            &who.actor,
            "template.inspect",
            format!("plugin/{}/{}", engine.name, engine.version),
        );
        let request = r#"{"messages": [{"role": "user", "content": "Hello"}], "add_generation_prompt": true}"#;
        match self
            .sandbox
            .call(
                event,
                plugin,
                move |e, p| e.render_chat_template(p, &template, request, options, limits),
                |s: &String| s.as_bytes().to_vec(),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(Error::Call {
                error:
                    warden_engine::CallError::Guest(warden_engine::GuestError::InvalidInput {
                        kind,
                        ..
                    }),
                ..
            }) if kind == "raised" => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every template of the tenant as YAML, one document per template.
    ///
    /// `prefix` keeps only names starting with it, `names` (when not empty) only those names.
    pub async fn export(
        &self,
        who: &Principal,
        prefix: Option<&str>,
        names: &[String],
    ) -> Result<String> {
        for n in names {
            crate::names::check("template", n)?;
        }
        let mut out = String::new();
        let wanted = |name: &str| {
            prefix.is_none_or(|p| name.starts_with(p))
                && (names.is_empty() || names.iter().any(|n| n == name))
        };
        for t in self
            .list(who)
            .await?
            .into_iter()
            .filter(|t| wanted(&t.name))
        {
            let mut labels = self.labels_of(&who.tenant, &t.name).await?;
            labels.remove(LATEST);
            let doc = ExportDoc {
                versions: self.all_versions(&who.tenant, &t.name).await?,
                name: t.name,
                labels,
            };
            let yaml = serde_yaml_ng::to_string(&doc)
                .map_err(|e| Error::Internal(format!("cannot write YAML: {e}")))?;
            out.push_str("---\n");
            out.push_str(&yaml);
        }
        Ok(out)
    }

    /// Imports YAML written by [`export`]: creates missing versions, skips identical ones, refuses
    /// a version whose number exists with different content, and sets labels. Idempotent; all or
    /// nothing.
    pub async fn import(&self, who: &Principal, yaml: &str) -> Result<ImportReport> {
        let refuse = |message: String| Error::Unprocessable {
            message,
            errors: vec![],
        };
        let docs: Vec<ExportDoc> = crate::documents::parse_yaml(yaml, refuse, |yaml| {
            let mut docs = Vec::new();
            for (i, d) in serde_yaml_ng::Deserializer::from_str(yaml).enumerate() {
                let doc = ExportDoc::deserialize(d).map_err(|e| Error::Unprocessable {
                    message: format!("document {} is not a template export: {e}", i + 1),
                    errors: vec![],
                })?;
                docs.push(doc);
            }
            Ok(docs)
        })
        .await?;
        // Check everything before writing anything.
        for doc in &docs {
            crate::names::check("template", &doc.name)?;
            for (label, v) in &doc.labels {
                check_label(label)?;
                if !doc.versions.iter().any(|x| x.version == *v) {
                    return Err(Error::Unprocessable {
                        message: format!(
                            "template {}: label {label} points at missing version {v}",
                            doc.name
                        ),
                        errors: vec![],
                    });
                }
            }
            for (i, v) in doc.versions.iter().enumerate() {
                if v.version != i as u64 + 1 || v.name != doc.name {
                    return Err(Error::Unprocessable {
                        message: format!(
                            "template {}: versions must be numbered 1, 2, ... in order and carry the template's name",
                            doc.name
                        ),
                        errors: vec![],
                    });
                }
                if let Some(s) = &v.variables_schema {
                    VariablesSchema::parse(s).map_err(|e| Error::Unprocessable {
                        message: format!("template {} version {}: {e}", doc.name, v.version),
                        errors: vec![],
                    })?;
                }
                let known = self
                    .sandbox
                    .builtins()
                    .iter()
                    .any(|b| b.digest == v.engine.digest)
                    || self
                        .plugins
                        .get(who, &v.engine.name, &v.engine.version)
                        .await
                        .is_ok_and(|p| p.digest == v.engine.digest);
                if !known {
                    return Err(Error::Unprocessable {
                        message: format!(
                            "template {} version {} renders with {}@{} ({}), which is not in this registry",
                            doc.name, v.version, v.engine.name, v.engine.version, v.engine.digest
                        ),
                        errors: vec![],
                    });
                }
            }
        }
        let docs = &docs;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    let mut report = ImportReport {
                        templates: docs.len(),
                        ..Default::default()
                    };
                    for doc in docs {
                        for v in &doc.versions {
                            let existing: Option<TemplateVersion> =
                                STORED.version_in(&tx, &who.tenant, &doc.name, v.version).await?;
                            match existing {
                                Some(e) if same_content(&e, v) => report.unchanged += 1,
                                Some(_) => {
                                    return Err(Error::Conflict(format!(
                                        "template {} version {} already exists with different content",
                                        doc.name, v.version
                                    )));
                                }
                                None => {
                                    if v.version > 1
                                        && STORED
                                            .version_in::<TemplateVersion>(
                                                &tx,
                                                &who.tenant,
                                                &doc.name,
                                                v.version - 1,
                                            )
                                            .await?
                                            .is_none()
                                    {
                                        return Err(Error::Conflict(format!(
                                            "template {} version {} would leave a gap",
                                            doc.name, v.version
                                        )));
                                    }
                                    self.plugins.pin_builtin(&tx, &v.engine.digest).await?;
                                    let stored = TemplateVersion {
                                        author: who.actor.clone(),
                                        created_at: rfc3339(warden_storage::now_ms()),
                                        // A re-exported import keeps the first claim it carried.
                                        imported: Some(v.imported.clone().unwrap_or(
                                            ImportedClaims {
                                                claimed_author: v.author.clone(),
                                                claimed_created_at: v.created_at.clone(),
                                            },
                                        )),
                                        ..v.clone()
                                    };
                                    STORED
                                        .put_version(&tx, &who.tenant, &doc.name, v.version, &stored)
                                        .await?;
                                    tx.audit(
                                        AuditEvent::new(
                                            &who.tenant,
                                            &who.actor,
                                            "template.version.create",
                                            format!("template/{}/{}", doc.name, v.version),
                                        )
                                        .detail("import")
                                        .input(&warden_storage::encode(v)?),
                                    )
                                    .await?;
                                    report.created += 1;
                                }
                            }
                        }
                        for (label, v) in &doc.labels {
                            let old = STORED
                                .set_label(&tx, &who.tenant, &doc.name, label, *v)
                                .await?;
                            if old != Some(*v) {
                                // A protected label moves on import only for an admin (nothing
                                // is written).
                                self.tenants.check_direct_move_in(&tx, who, label).await?;
                                tx.audit(label_event(who, &doc.name, label, old, Some(*v)))
                                    .await?;
                                report.labels_set += 1;
                            }
                        }
                    }
                    Ok::<_, Error>(report)
                })
            })
            .await
    }
}

fn label_event(
    who: &Principal,
    name: &str,
    label: &str,
    old: Option<u64>,
    new: Option<u64>,
) -> AuditEvent {
    let show = |v: Option<u64>| v.map_or("none".to_owned(), |v| v.to_string());
    AuditEvent::new(
        &who.tenant,
        &who.actor,
        if new.is_some() {
            "template.label.move"
        } else {
            "template.label.delete"
        },
        format!("template/{name}/labels/{label}"),
    )
    .detail(format!("{label}: {} -> {}", show(old), show(new)))
}

/// Points `label` at an existing `version` inside `tx`, with its audit record.
pub async fn move_label_in(
    tx: &Tx,
    who: &Principal,
    name: &str,
    label: &str,
    version: u64,
) -> Result<()> {
    if STORED
        .version_in::<TemplateVersion>(tx, &who.tenant, name, version)
        .await?
        .is_none()
    {
        return Err(Error::not_found(
            "template version",
            format!("{name} version {version}"),
        ));
    }
    let old = STORED
        .set_label(tx, &who.tenant, name, label, version)
        .await?;
    tx.audit(label_event(who, name, label, old, Some(version)))
        .await?;
    Ok(())
}

fn same_content(a: &TemplateVersion, b: &TemplateVersion) -> bool {
    a.template == b.template
        && a.messages == b.messages
        && a.chat_template == b.chat_template
        && a.tokenizer_config == b.tokenizer_config
        && a.includes == b.includes
        && a.variables_schema == b.variables_schema
        && a.config == b.config
        && a.options == b.options
        && a.engine.digest == b.engine.digest
}

/// What a version (or an inline render) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One text template.
    Text,
    /// Chat messages whose contents are templates.
    Chat,
    /// A Hugging Face chat template (text or tokenizer config).
    HfChat,
}

impl Kind {
    /// Exactly one of the four ways to give a template.
    fn of(
        template: Option<&str>,
        messages: Option<&[ChatMessage]>,
        chat_template: Option<&str>,
        tokenizer_config: Option<&Value>,
    ) -> Result<Kind> {
        let given = [
            template.is_some(),
            messages.is_some(),
            chat_template.is_some(),
            tokenizer_config.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(Error::BadRequest(
                "give exactly one of `template` (text), `messages` (chat), `chat_template` or `tokenizer_config` (Hugging Face)".into(),
            ));
        }
        if messages.is_some_and(<[ChatMessage]>::is_empty) {
            return Err(Error::BadRequest("`messages` must not be empty".into()));
        }
        if let Some(c) = tokenizer_config
            && c.get("chat_template").is_none()
        {
            return Err(Error::Unprocessable {
                message: "the tokenizer_config has no chat_template".into(),
                errors: vec![FieldError {
                    path: "/tokenizer_config/chat_template".into(),
                    message: "required: the model's chat template (a string, or a list of {name, template})".into(),
                }],
            });
        }
        Ok(if template.is_some() {
            Kind::Text
        } else if messages.is_some() {
            Kind::Chat
        } else {
            Kind::HfChat
        })
    }
}

/// A tokenizer config without what rendering never reads (`added_tokens_decoder` holds every
/// token of the vocabulary's additions and is most of the file).
fn trim_config(config: &Value) -> Value {
    let mut c = config.clone();
    if let Some(o) = c.as_object_mut() {
        o.remove("added_tokens_decoder");
    }
    c
}

/// The chat template a version or request names.
fn chat_template_of(
    text: Option<String>,
    config: Option<&Value>,
    name: Option<String>,
) -> Result<ChatTemplate> {
    match (text, config) {
        (Some(t), _) => Ok(ChatTemplate::Text(t)),
        (None, Some(c)) => Ok(ChatTemplate::Config {
            json: serde_json::to_string(c)
                .map_err(|e| Error::Internal(format!("cannot encode tokenizer config: {e}")))?,
            name,
        }),
        (None, None) => Err(Error::Internal("no chat template".into())),
    }
}

/// Template versions pin the component that renders them.
pub struct TemplatePins;

#[async_trait::async_trait]
impl Referrer for TemplatePins {
    async fn digest_user(&self, tx: &Tx, tenant: &str, digest: &str) -> Result<Option<Usage>> {
        let versions: Vec<(String, TemplateVersion)> = tx
            .scan_json(tables::TEMPLATES, &format!("{tenant}/"))
            .await?;
        Ok(versions
            .into_iter()
            .find(|(_, v)| v.engine.digest == digest)
            .map(|(_, v)| Usage {
                by: format!("template `{}` version {}", v.name, v.version),
                remedy: "it cannot be deleted",
            }))
    }

    async fn pinned_digests(
        &self,
        tx: &Tx,
        out: &mut std::collections::HashSet<String>,
    ) -> Result<()> {
        for (_, v) in tx
            .scan_json::<TemplateVersion>(tables::TEMPLATES, "")
            .await?
        {
            out.insert(v.engine.digest);
        }
        Ok(())
    }

    /// A version of another template that includes, imports or extends `name`.
    async fn template_user(&self, tx: &Tx, tenant: &str, name: &str) -> Result<Option<String>> {
        Ok(tx
            .scan_json::<TemplateVersion>(tables::TEMPLATES, &format!("{tenant}/"))
            .await?
            .into_iter()
            .map(|(_, v)| v)
            .find(|v| v.name != name && v.includes.values().any(|p| p.name == name))
            .map(|v| {
                format!(
                    "template `{}` version {} (it includes it)",
                    v.name, v.version
                )
            }))
    }
}
