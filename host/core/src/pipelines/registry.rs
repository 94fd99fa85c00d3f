//! Pipeline definitions and their versions and labels: what a pipeline is, stored like
//! templates (numbered versions, movable labels, protected labels, import and export).

use crate::settings::{Invalid, invalid};
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use std::sync::Arc;

use warden_storage::audit::AuditEvent;
use warden_storage::{Scope, Store, Tx, now_ms, rfc3339, tables};

use super::llm::Providers;
use crate::auth::Principal;
use crate::error::{Error, FieldError, Result};
use crate::pii::service::Pii;
use crate::refs::{Referrer, Usage};
use crate::registry::plugins::Plugins;
use crate::registry::templates::Templates;
use crate::sandbox::Sandbox;
use crate::tenants::Tenants;

/// The host functions a pipeline's `python` step may call (the `tools` it lists).
pub const TOOLS: &[&str] = &["llm_query", "render", "detect_pii", "call"];

pub use crate::registry::versioned::LATEST;
use crate::registry::versioned::{Versioned, check_label};

/// Where pipeline versions and labels are stored.
const STORED: Versioned = Versioned {
    versions: tables::PIPELINES,
    labels: tables::PIPELINE_LABELS,
};

/// What a budget covers: everything a run does, nested tool calls included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Budget {
    /// Fuel of every sandbox call in the run.
    pub fuel: u64,
    /// Wall-clock for the whole run, milliseconds.
    pub wall_time_ms: u64,
    /// Host tool calls made by code steps.
    pub tool_calls: u32,
    /// LLM tokens (prompt plus completion) across every provider call.
    pub llm_tokens: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            fuel: 20_000_000_000,
            wall_time_ms: 120_000,
            tool_calls: 100,
            llm_tokens: 100_000,
        }
    }
}

impl Budget {
    /// Each field at most `caps`'s.
    pub fn clamp_to(self, caps: &Budget) -> Budget {
        Budget {
            fuel: self.fuel.min(caps.fuel),
            wall_time_ms: self.wall_time_ms.min(caps.wall_time_ms),
            tool_calls: self.tool_calls.min(caps.tool_calls),
            llm_tokens: self.llm_tokens.min(caps.llm_tokens),
        }
    }
}

/// A run's request to change parts of its budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetOverrides {
    /// See [`Budget::fuel`].
    pub fuel: Option<u64>,
    /// See [`Budget::wall_time_ms`].
    pub wall_time_ms: Option<u64>,
    /// See [`Budget::tool_calls`].
    pub tool_calls: Option<u32>,
    /// See [`Budget::llm_tokens`].
    pub llm_tokens: Option<u64>,
}

impl BudgetOverrides {
    /// `base` with the set fields replaced.
    pub fn apply(&self, base: Budget) -> Budget {
        Budget {
            fuel: self.fuel.unwrap_or(base.fuel),
            wall_time_ms: self.wall_time_ms.unwrap_or(base.wall_time_ms),
            tool_calls: self.tool_calls.unwrap_or(base.tool_calls),
            llm_tokens: self.llm_tokens.unwrap_or(base.llm_tokens),
        }
    }
}

/// `[pipelines]`: budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelinesConfig {
    /// What a run gets unless its definition or request says otherwise.
    pub default_budget: Budget,
    /// The most any run may have.
    pub max_budget: Budget,
}

impl Default for PipelinesConfig {
    fn default() -> Self {
        PipelinesConfig {
            default_budget: Budget::default(),
            max_budget: Budget {
                fuel: 200_000_000_000,
                wall_time_ms: 600_000,
                tool_calls: 1_000,
                llm_tokens: 1_000_000,
            },
        }
    }
}

/// A condition of a routing rule; every field given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// Any finding of one of these entity types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_entity: Vec<String>,
    /// The highest finding score is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_score_at_least: Option<f32>,
    /// At least this many findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_at_least: Option<usize>,
}

/// One routing rule: where to go when it matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The condition.
    pub when: When,
    /// The provider.
    pub provider: String,
}

/// One step. Each reads named values and writes one (`output`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Renders a template; `variables` maps the template's variables to values (`"$name"`
    /// reads a run value; anything else is literal). Default: every run value.
    Render {
        /// The template.
        template: String,
        /// A label (resolved and pinned when the version is created) …
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        /// … or a version number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        /// The template's variables.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<Object>)]
        variables: Option<BTreeMap<String, Value>>,
        /// Where the text goes.
        output: String,
    },
    /// Finds personal data in a text value; the output is the findings (types, offsets, scores).
    Detect {
        /// The text value.
        input: String,
        /// Detectors (`pii`, `name@version`); default the built-in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detectors: Option<Vec<String>>,
        /// Only these entity types.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        entities: Vec<String>,
        /// Drop findings below this score.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_score: Option<f32>,
        /// Where the findings go.
        output: String,
    },
    /// Pseudonymises a text value into the run's vault (consistent tokens across steps).
    Anonymize {
        /// The text value.
        input: String,
        /// Detectors; default the built-in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detectors: Option<Vec<String>>,
        /// Only these entity types.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        entities: Vec<String>,
        /// Drop findings below this score.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_score: Option<f32>,
        /// Where the pseudonymised text goes (its findings are kept for `route`).
        output: String,
    },
    /// Chooses a provider from the findings of a `detect` or `anonymize` step.
    Route {
        /// The output name of that step.
        findings: String,
        /// Rules, first match wins.
        rules: Vec<Rule>,
        /// The provider when no rule matches.
        default: String,
        /// Where the provider's name goes.
        output: String,
    },
    /// Asks a provider; refused if the prompt holds personal data and the provider may not
    /// see it.
    Llm {
        /// A provider by name …
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
        /// … or the value a `route` step wrote.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_from: Option<String>,
        /// The prompt (a text value).
        input: String,
        /// A system message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        system: Option<String>,
        /// Completion length cap.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_tokens: Option<u32>,
        /// Where the answer goes.
        output: String,
    },
    /// Python with every run value bound as a variable; the last expression is the output.
    Code {
        /// The code.
        code: String,
        /// Host tools it may call: `llm_query`, `render`, `detect_pii`, `call`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tools: Vec<String>,
        /// The code-runner: the built-in `python` (default) or `cpython`, or an uploaded plugin.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        runner: Option<String>,
        /// Where the value goes.
        output: String,
    },
    /// Puts the vault's original values back into a text value.
    Deanonymize {
        /// The text value.
        input: String,
        /// Where the restored text goes.
        output: String,
    },
}

impl Step {
    /// The step's type, for traces and audit records.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Render { .. } => "render",
            Step::Detect { .. } => "detect",
            Step::Anonymize { .. } => "anonymize",
            Step::Route { .. } => "route",
            Step::Llm { .. } => "llm",
            Step::Code { .. } => "code",
            Step::Deanonymize { .. } => "deanonymize",
        }
    }

    /// The value it writes.
    pub fn output(&self) -> &str {
        match self {
            Step::Render { output, .. }
            | Step::Detect { output, .. }
            | Step::Anonymize { output, .. }
            | Step::Route { output, .. }
            | Step::Llm { output, .. }
            | Step::Code { output, .. }
            | Step::Deanonymize { output, .. } => output,
        }
    }

    /// The values it reads (besides the run variables a render or code step may read).
    fn inputs(&self) -> Vec<&str> {
        match self {
            Step::Detect { input, .. }
            | Step::Anonymize { input, .. }
            | Step::Deanonymize { input, .. } => vec![input],
            Step::Llm {
                input,
                provider_from,
                ..
            } => std::iter::once(input.as_str())
                .chain(provider_from.as_deref())
                .collect(),
            Step::Route { findings, .. } => vec![findings],
            Step::Render { variables, .. } => variables
                .iter()
                .flat_map(|m| m.values())
                .filter_map(|v| v.as_str().and_then(|s| s.strip_prefix('$')))
                .collect(),
            Step::Code { .. } => vec![],
        }
    }
}

/// A pipeline definition as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The run variables it needs.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The value returned (default: the last step's output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Its budget (within the host's maximum; a run may lower or raise it within that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetOverrides>,
}

impl Definition {
    /// Whether a step renders template `name` (what template deletion checks).
    pub fn renders(&self, name: &str) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s, Step::Render { template, .. } if template == name))
    }
}

/// What a stored version pins, resolved when it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pins {
    /// Step index → template version it renders.
    pub templates: BTreeMap<usize, u64>,
    /// `name@version` → digest of each plugin it names.
    pub plugins: BTreeMap<String, String>,
}

/// The two shapes [`NewVersion`] accepts, before they are told apart.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVersionBody {
    #[serde(default)]
    definition: Option<Definition>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    inputs: Option<Vec<String>>,
    #[serde(default)]
    steps: Option<Vec<Step>>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    budget: Option<BudgetOverrides>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    labels: Vec<String>,
}

impl TryFrom<NewVersionBody> for NewVersion {
    type Error = String;

    fn try_from(b: NewVersionBody) -> std::result::Result<Self, String> {
        let flat = b.description.is_some()
            || b.inputs.is_some()
            || b.steps.is_some()
            || b.output.is_some()
            || b.budget.is_some();
        let d = match (b.definition, flat) {
            (Some(_), true) => {
                return Err(
                    "give the definition either under `definition` or at the top level, \
                            not both"
                        .into(),
                );
            }
            (Some(d), false) => d,
            (None, _) => Definition {
                description: b.description.unwrap_or_default(),
                inputs: b.inputs.unwrap_or_default(),
                steps: b.steps.ok_or("missing field `steps`")?,
                output: b.output,
                budget: b.budget,
            },
        };
        Ok(NewVersion {
            description: d.description,
            inputs: d.inputs,
            steps: d.steps,
            output: d.output,
            budget: d.budget,
            message: b.message,
            labels: b.labels,
        })
    }
}

/// One stored, immutable version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PipelineVersion {
    /// The pipeline.
    pub name: String,
    /// Its number, from 1.
    pub version: u64,
    /// The definition.
    pub definition: Definition,
    /// What it pins.
    pub pins: Pins,
    /// The commit message.
    pub message: String,
    /// Who created it.
    pub author: String,
    /// When (RFC 3339).
    pub created_at: String,
}

/// `POST /v1/pipelines/{name}/versions`: the definition's fields at the top level, or (the shape
/// exports and the YAML examples use) under `definition`, beside `message` and `labels`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "NewVersionBody")]
pub struct NewVersion {
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The run variables it needs.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The value returned (default: the last step's output).
    #[serde(default)]
    pub output: Option<String>,
    /// Its budget.
    #[serde(default)]
    pub budget: Option<BudgetOverrides>,
    /// The commit message.
    #[serde(default)]
    pub message: String,
    /// Labels to point at it.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// A pipeline's versions and labels.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PipelineSummary {
    /// The name.
    pub name: String,
    /// Version numbers, oldest first.
    pub versions: Vec<u64>,
    /// Label → version.
    pub labels: BTreeMap<String, u64>,
}

/// A value name: a Python identifier in lower case, so code steps can read it as a variable.
fn is_value_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
        && !matches!(
            s,
            "and"
                | "as"
                | "def"
                | "del"
                | "for"
                | "if"
                | "in"
                | "is"
                | "not"
                | "or"
                | "pass"
                | "return"
                | "while"
                | "with"
                | "class"
                | "import"
                | "from"
                | "lambda"
                | "try"
                | "except"
                | "finally"
                | "raise"
                | "global"
                | "yield"
                | "break"
                | "continue"
                | "elif"
                | "else"
                | "assert"
                | "async"
                | "await"
                | "nonlocal"
        )
}

/// The pipeline registry and runner: versions and labels like templates, and runs that call
/// the other services (render, detect, anonymise, Python, LLM providers) under one budget.
pub struct Pipelines {
    pub(super) store: Store,
    pub(super) sandbox: Arc<Sandbox>,
    pub(super) plugins: Arc<Plugins>,
    pub(super) templates: Arc<Templates>,
    pub(super) pii: Arc<Pii>,
    tenants: Arc<Tenants>,
    pub(super) providers: Providers,
    pub(super) config: PipelinesConfig,
}

impl Pipelines {
    /// The service over `sandbox`'s database, running steps through the other services;
    /// `providers` are the LLM endpoints runs may call.
    pub fn new(
        sandbox: Arc<Sandbox>,
        plugins: Arc<Plugins>,
        templates: Arc<Templates>,
        pii: Arc<Pii>,
        tenants: Arc<Tenants>,
        providers: Providers,
        config: PipelinesConfig,
    ) -> Pipelines {
        Pipelines {
            store: sandbox.store().clone(),
            sandbox,
            plugins,
            templates,
            pii,
            tenants,
            providers,
            config,
        }
    }

    /// Checks names, references and providers; every problem, with its JSON pointer.
    fn validate(&self, d: &Definition) -> Result<()> {
        let mut errors = Vec::new();
        let mut err = |path: String, message: String| errors.push(FieldError { path, message });
        if d.steps.is_empty() {
            err("/steps".into(), "a pipeline needs at least one step".into());
        }
        if d.steps.len() > 64 {
            err("/steps".into(), "at most 64 steps".into());
        }
        let mut known: BTreeSet<&str> = BTreeSet::new();
        for (i, name) in d.inputs.iter().enumerate() {
            if !is_value_name(name) {
                err(
                    format!("/inputs/{i}"),
                    format!("`{name}` is not a value name (a-z, 0-9, _)"),
                );
            }
            known.insert(name);
        }
        let mut findings: BTreeSet<&str> = BTreeSet::new();
        for (i, step) in d.steps.iter().enumerate() {
            for input in step.inputs() {
                let is_findings = matches!(step, Step::Route { .. });
                if is_findings && !findings.contains(input) {
                    err(
                        format!("/steps/{i}/findings"),
                        format!(
                            "`{input}` is not the output of an earlier detect or anonymize step"
                        ),
                    );
                } else if !is_findings && !known.contains(input) {
                    err(
                        format!("/steps/{i}"),
                        format!("reads `{input}`, which no input or earlier step provides"),
                    );
                }
            }
            let providers: Vec<&str> = match step {
                Step::Route { rules, default, .. } => rules
                    .iter()
                    .map(|r| r.provider.as_str())
                    .chain(std::iter::once(default.as_str()))
                    .collect(),
                Step::Llm {
                    provider,
                    provider_from,
                    ..
                } => {
                    if provider.is_some() == provider_from.is_some() {
                        err(
                            format!("/steps/{i}"),
                            "give exactly one of `provider` and `provider_from`".into(),
                        );
                    }
                    provider.iter().map(String::as_str).collect()
                }
                _ => vec![],
            };
            for p in providers {
                if !self.providers.contains_key(p) {
                    err(
                        format!("/steps/{i}"),
                        format!("provider `{p}` is not configured on this server"),
                    );
                }
            }
            if let Step::Code { tools, .. } = step {
                for (j, t) in tools.iter().enumerate() {
                    if !TOOLS.contains(&t.as_str()) {
                        err(
                            format!("/steps/{i}/tools/{j}"),
                            format!("`{t}` is not a tool; tools are {}", TOOLS.join(", ")),
                        );
                    }
                }
            }
            let out = step.output();
            if !is_value_name(out) {
                err(
                    format!("/steps/{i}/output"),
                    format!("`{out}` is not a value name (a-z, 0-9, _)"),
                );
            }
            if matches!(step, Step::Detect { .. } | Step::Anonymize { .. }) {
                findings.insert(out);
            }
            known.insert(out);
        }
        if let Some(o) = &d.output
            && !known.contains(o.as_str())
        {
            err(
                "/output".into(),
                format!("`{o}` is not produced by any step"),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Unprocessable {
                message: "invalid pipeline definition".into(),
                errors,
            })
        }
    }

    /// Resolves what the definition names to what a version pins.
    async fn pin(&self, who: &Principal, d: &Definition) -> Result<Pins> {
        use warden_engine::World;
        let mut pins = Pins::default();
        for (i, step) in d.steps.iter().enumerate() {
            match step {
                Step::Render {
                    template,
                    label,
                    version,
                    ..
                } => {
                    let v = match (version, label) {
                        (Some(v), _) => {
                            self.templates.get_version(who, template, *v).await?;
                            *v
                        }
                        (None, Some(l)) => self.templates.resolve_label(who, template, l).await?,
                        (None, None) => match self
                            .templates
                            .resolve_label(who, template, "production")
                            .await
                        {
                            Ok(v) => v,
                            Err(_) => self.templates.resolve_label(who, template, LATEST).await?,
                        },
                    };
                    pins.templates.insert(i, v);
                }
                Step::Detect { detectors, .. } | Step::Anonymize { detectors, .. } => {
                    for d in detectors.iter().flatten().filter(|d| d.as_str() != "pii") {
                        let (r, _) = self.plugins.resolve(who, d, World::PiiDetector).await?;
                        pins.plugins
                            .insert(format!("{}@{}", r.name, r.version), r.digest);
                    }
                }
                Step::Code {
                    runner: Some(r), ..
                } => {
                    let (r, _) = self.plugins.resolve(who, r, World::CodeRunner).await?;
                    pins.plugins
                        .insert(format!("{}@{}", r.name, r.version), r.digest);
                }
                _ => {}
            }
        }
        Ok(pins)
    }

    async fn all_versions(&self, tenant: &str, name: &str) -> Result<Vec<PipelineVersion>> {
        STORED.versions(&self.store, tenant, name).await
    }

    async fn labels_of(&self, tenant: &str, name: &str) -> Result<BTreeMap<String, u64>> {
        STORED.labels(&self.store, tenant, name).await
    }

    /// Creates the next version of `name`, pinning what it uses, with its labels.
    pub async fn create_version(
        &self,
        who: &Principal,
        name: &str,
        req: NewVersion,
    ) -> Result<PipelineVersion> {
        crate::names::check("pipeline", name)?;
        for l in &req.labels {
            check_label(l)?;
        }
        let definition = Definition {
            description: req.description,
            inputs: req.inputs,
            steps: req.steps,
            output: req.output,
            budget: req.budget,
        };
        self.validate(&definition)?;
        let pins = self.pin(who, &definition).await?;
        let (labels, message) = (&req.labels, &req.message);
        let (definition, pins) = (&definition, &pins);
        let record = self
            .store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    for l in labels {
                        self.tenants.check_direct_move_in(&tx, who, l).await?;
                    }
                    let record = PipelineVersion {
                        name: name.to_owned(),
                        version: STORED.next_version(&tx, &who.tenant, name).await?,
                        definition: definition.clone(),
                        pins: pins.clone(),
                        message: message.clone(),
                        author: who.actor.clone(),
                        created_at: rfc3339(now_ms()),
                    };
                    STORED
                        .put_version(&tx, &who.tenant, name, record.version, &record)
                        .await?;
                    for l in labels.iter().map(String::as_str).chain([LATEST]) {
                        STORED
                            .set_label(&tx, &who.tenant, name, l, record.version)
                            .await?;
                    }
                    tx.audit(
                        AuditEvent::new(
                            &who.tenant,
                            &who.actor,
                            "pipeline.version.create",
                            format!("pipeline/{name}/{}", record.version),
                        )
                        .input(&warden_storage::encode(&record.definition)?)
                        .detail(format!(
                            "{} steps; labels {}",
                            record.definition.steps.len(),
                            labels.join(",")
                        )),
                    )
                    .await?;
                    Ok::<_, Error>(record)
                })
            })
            .await?;
        Ok(record)
    }

    /// Every pipeline of the caller's tenant.
    pub async fn list(&self, who: &Principal) -> Result<Vec<PipelineSummary>> {
        let prefix = format!("{}/", who.tenant);
        let mut names = BTreeSet::new();
        for k in self
            .store
            .read()
            .await?
            .keys(tables::PIPELINE_LABELS, &prefix)
            .await?
        {
            if let Some((name, _)) = k[prefix.len()..].split_once('/') {
                names.insert(name.to_owned());
            }
        }
        let mut out = Vec::with_capacity(names.len());
        for n in &names {
            out.push(self.summary(who, n).await?);
        }
        Ok(out)
    }

    /// One pipeline's versions and labels.
    pub async fn summary(&self, who: &Principal, name: &str) -> Result<PipelineSummary> {
        crate::names::check("pipeline", name)?;
        let versions: Vec<u64> = self
            .all_versions(&who.tenant, name)
            .await?
            .iter()
            .map(|v| v.version)
            .collect();
        if versions.is_empty() {
            return Err(Error::not_found("pipeline", name));
        }
        Ok(PipelineSummary {
            name: name.to_owned(),
            versions,
            labels: self.labels_of(&who.tenant, name).await?,
        })
    }

    /// One version.
    pub async fn get_version(
        &self,
        who: &Principal,
        name: &str,
        version: u64,
    ) -> Result<PipelineVersion> {
        crate::names::check("pipeline", name)?;
        STORED
            .version(&self.store, &who.tenant, name, version)
            .await?
            .ok_or_else(|| Error::not_found("pipeline version", format!("{name}/{version}")))
    }

    /// The version a label points at.
    pub async fn resolve_label(&self, who: &Principal, name: &str, label: &str) -> Result<u64> {
        crate::names::check("label", label)?;
        self.summary(who, name)
            .await?
            .labels
            .get(label)
            .copied()
            .ok_or_else(|| Error::not_found("label", format!("{name}:{label}")))
    }

    /// Deletes a pipeline: every version and label, in one transaction with its audit record;
    /// (403) for a non-admin while one of its labels is protected.
    pub async fn delete(&self, who: &Principal, name: &str) -> Result<()> {
        crate::names::check("pipeline", name)?;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    STORED
                        .delete(&tx, &self.tenants, who, "pipeline", name)
                        .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Points `label` at `version` (protected labels: admins only, as for templates).
    pub async fn set_label(
        &self,
        who: &Principal,
        name: &str,
        label: &str,
        version: u64,
    ) -> Result<()> {
        check_label(label)?;
        crate::names::check("pipeline", name)?;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    self.tenants.check_direct_move_in(&tx, who, label).await?;
                    if STORED
                        .version_in::<PipelineVersion>(&tx, &who.tenant, name, version)
                        .await?
                        .is_none()
                    {
                        return Err(Error::not_found(
                            "pipeline version",
                            format!("{name}/{version}"),
                        ));
                    }
                    let old = STORED
                        .set_label(&tx, &who.tenant, name, label, version)
                        .await?;
                    tx.audit(
                        AuditEvent::new(
                            &who.tenant,
                            &who.actor,
                            "pipeline.label.move",
                            format!("pipeline/{name}/labels/{label}"),
                        )
                        .detail(format!(
                            "{label}: {} -> {version}",
                            old.map_or("none".to_owned(), |v| v.to_string())
                        )),
                    )
                    .await?;
                    Ok::<_, Error>(())
                })
            })
            .await
    }

    /// A pipeline as YAML.
    pub async fn export(&self, who: &Principal, name: &str) -> Result<String> {
        let s = self.summary(who, name).await?;
        let doc = ExportDoc {
            name: name.to_owned(),
            versions: self
                .all_versions(&who.tenant, name)
                .await?
                .into_iter()
                .map(|v| ExportVersion {
                    definition: v.definition,
                    message: v.message,
                })
                .collect(),
            labels: s.labels.into_iter().filter(|(l, _)| l != LATEST).collect(),
        };
        serde_yaml_ng::to_string(&doc)
            .map_err(|e| Error::Internal(format!("cannot encode YAML: {e}")))
    }

    /// Imports one exported pipeline: versions already present must be identical (409 otherwise),
    /// new ones are created in order, then labels are set. Checked before anything is written.
    pub async fn import(&self, who: &Principal, yaml: &str) -> Result<ImportReport> {
        let doc: ExportDoc = crate::documents::parse_yaml(yaml, Error::BadRequest, |yaml| {
            serde_yaml_ng::from_str(yaml)
                .map_err(|e| Error::BadRequest(format!("not a pipeline export: {e}")))
        })
        .await?;
        crate::names::check("pipeline", &doc.name)?;
        let existing = self.all_versions(&who.tenant, &doc.name).await?;
        for (i, v) in doc.versions.iter().enumerate() {
            match existing.get(i) {
                Some(e) if e.definition != v.definition => {
                    return Err(Error::Conflict(format!(
                        "version {} of pipeline {} differs from the one stored",
                        i + 1,
                        doc.name
                    )));
                }
                _ => self.validate(&v.definition)?,
            }
        }
        for (l, v) in &doc.labels {
            check_label(l)?;
            self.tenants.check_direct_move(who, l)?;
            if *v == 0 || *v as usize > doc.versions.len().max(existing.len()) {
                return Err(Error::BadRequest(format!(
                    "label {l} points at a missing version {v}"
                )));
            }
        }
        let mut report = ImportReport::default();
        for v in doc.versions.iter().skip(existing.len()) {
            self.create_version(
                who,
                &doc.name,
                NewVersion {
                    description: v.definition.description.clone(),
                    inputs: v.definition.inputs.clone(),
                    steps: v.definition.steps.clone(),
                    output: v.definition.output.clone(),
                    budget: v.definition.budget,
                    message: v.message.clone(),
                    labels: vec![],
                },
            )
            .await?;
            report.created += 1;
        }
        report.unchanged = existing.len().min(doc.versions.len());
        for (l, v) in &doc.labels {
            self.set_label(who, &doc.name, l, *v).await?;
            report.labels_set += 1;
        }
        Ok(report)
    }
}

/// One pipeline in an export: its versions' definitions and its labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportDoc {
    /// The name.
    pub name: String,
    /// Definitions with their messages, oldest first.
    pub versions: Vec<ExportVersion>,
    /// Label → version (`latest` excluded).
    #[serde(default)]
    pub labels: BTreeMap<String, u64>,
}

/// One version in an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportVersion {
    /// The definition.
    pub definition: Definition,
    /// Its commit message.
    #[serde(default)]
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Versions created.
    pub created: usize,
    /// Versions already present with the same definition.
    pub unchanged: usize,
    /// Labels set.
    pub labels_set: usize,
}

impl PipelinesConfig {
    /// Checks that the default budget is within the maximum.
    pub fn validate(&self) -> Result<(), Invalid> {
        let (b, m) = (&self.default_budget, &self.max_budget);
        if b.fuel > m.fuel
            || b.wall_time_ms > m.wall_time_ms
            || b.tool_calls > m.tool_calls
            || b.llm_tokens > m.llm_tokens
        {
            return invalid(
                "pipelines.default_budget",
                "must not exceed pipelines.max_budget",
            );
        }
        Ok(())
    }
}

/// Pipeline versions pin the components their steps call and render templates.
pub struct PipelinePins;

#[async_trait::async_trait]
impl Referrer for PipelinePins {
    async fn digest_user(&self, tx: &Tx, tenant: &str, digest: &str) -> Result<Option<Usage>> {
        Ok(tenant_versions(tx, tenant)
            .await?
            .into_iter()
            .find(|v| v.pins.plugins.values().any(|d| d == digest))
            .map(|v| Usage {
                by: format!("pipeline `{}` version {}", v.name, v.version),
                remedy: "it cannot be deleted",
            }))
    }

    async fn pinned_digests(
        &self,
        tx: &Tx,
        out: &mut std::collections::HashSet<String>,
    ) -> Result<()> {
        for v in tenant_versions(tx, "").await? {
            out.extend(v.pins.plugins.into_values());
        }
        Ok(())
    }

    async fn template_user(&self, tx: &Tx, tenant: &str, name: &str) -> Result<Option<String>> {
        Ok(tenant_versions(tx, tenant)
            .await?
            .into_iter()
            .find(|v| v.definition.renders(name))
            .map(|v| format!("pipeline `{}` version {}", v.name, v.version)))
    }
}

/// Every stored pipeline version of `tenant` (of every tenant for `""`).
async fn tenant_versions(tx: &Tx, tenant: &str) -> Result<Vec<PipelineVersion>> {
    let prefix = if tenant.is_empty() {
        String::new()
    } else {
        format!("{tenant}/")
    };
    Ok(tx
        .scan_json::<PipelineVersion>(tables::PIPELINES, &prefix)
        .await?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_names_are_python_identifiers() {
        assert!(is_value_name("safe_prompt"));
        assert!(is_value_name("_x1"));
        assert!(!is_value_name("1x"));
        assert!(!is_value_name("Prompt"));
        assert!(!is_value_name("for"));
        assert!(!is_value_name("a-b"));
    }

    #[test]
    fn steps_parse_from_yaml() {
        let d: Definition = serde_yaml_ng::from_str(
            "inputs: [ticket]\nsteps:\n  - type: anonymize\n    input: ticket\n    output: safe\n  - type: route\n    findings: safe\n    rules:\n      - when: {any_entity: [AU_TFN]}\n        provider: local\n    default: external\n    output: provider\n",
        )
        .unwrap();
        assert_eq!(d.steps.len(), 2);
        assert_eq!(d.steps[1].kind(), "route");
        let bad =
            serde_yaml_ng::from_str::<Definition>("steps:\n  - type: teleport\n    output: x\n");
        assert!(bad.is_err());
    }
}
