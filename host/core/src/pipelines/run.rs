//! Running a pipeline version: values flow from step to step, one [`Meter`] charges every
//! sandbox call, tool call and LLM token to the run's budget, each step is traced (counts and
//! costs, never content) and audited, and personal data is checked once more right before it
//! would leave for a provider that may not see it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::llm::{self, Message};
use super::registry::{Budget, BudgetOverrides, PipelineVersion, Pipelines, Step, When};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::pii::anonymize;
use crate::pii::service as pii;
use crate::registry::templates;
use warden_engine::{LimitOverrides, SessionOptions, ToolError, Tools, World};
use warden_storage::audit::AuditEvent;

/// `POST /v1/pipelines/{name}/run`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The run variables (the definition's `inputs`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
    /// A version number; takes precedence over `label`.
    pub version: Option<u64>,
    /// A label; default `production`, then `latest`.
    pub label: Option<String>,
    /// Budget changes for this run (within the host's maximum).
    #[serde(default)]
    pub budget: BudgetOverrides,
    /// Answer as server-sent events: the last `llm` step's text as it arrives (`delta`
    /// events), then the result (`result`) or the problem (`error`).
    #[serde(default)]
    pub stream: bool,
}

/// One step as it ran: what it cost and decided, never what it read or wrote.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct StepTrace {
    /// Its index.
    pub index: usize,
    /// Its type.
    pub kind: String,
    /// The value it wrote.
    pub output: String,
    /// `ok`, or the failure's outcome.
    pub outcome: String,
    /// Wall-clock, microseconds.
    pub duration_us: u64,
    /// Fuel of its sandbox calls (nested tool calls included).
    pub fuel: u64,
    /// The provider chosen (`route`) or asked (`llm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Findings per entity type (`detect`, `anonymize`, and the PII check of `llm`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub entities: BTreeMap<String, usize>,
    /// LLM tokens used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    /// Provider attempts (1 plus retries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Tool calls made (`code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<u32>,
}

/// What a run used of its budget.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Fuel.
    pub fuel: u64,
    /// Wall-clock, microseconds.
    pub duration_us: u64,
    /// Tool calls.
    pub tool_calls: u32,
    /// LLM tokens.
    pub llm_tokens: u64,
}

/// A finished run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunResult {
    /// The pipeline.
    pub pipeline: String,
    /// The version that ran.
    pub version: u64,
    /// The output value.
    #[schema(value_type = Object)]
    pub output: Value,
    /// The vault the run's pseudonyms are in, if it pseudonymised anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    /// Each step, in order.
    pub trace: Vec<StepTrace>,
    /// What it used.
    pub totals: Totals,
    /// The budget it had.
    pub budget: Budget,
}

/// Charges a run's spending against its budget; shared with the code step's host tools.
pub struct Meter {
    budget: Budget,
    started: Instant,
    deadline: Instant,
    fuel: AtomicU64,
    tool_calls: AtomicU32,
    tokens: AtomicU64,
    exhausted: Mutex<Option<String>>,
}

impl Meter {
    fn new(budget: Budget) -> Meter {
        let started = Instant::now();
        Meter {
            budget,
            started,
            deadline: started + Duration::from_millis(budget.wall_time_ms),
            fuel: AtomicU64::new(0),
            tool_calls: AtomicU32::new(0),
            tokens: AtomicU64::new(0),
            exhausted: Mutex::new(None),
        }
    }

    fn exhaust(&self, why: String) -> Error {
        let mut e = self.exhausted.lock().unwrap_or_else(|p| p.into_inner());
        e.get_or_insert(why.clone());
        Error::BudgetExhausted(why)
    }

    /// The first exhaustion recorded (a code step may have swallowed the tool's error).
    fn exhausted(&self) -> Option<Error> {
        self.exhausted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .map(Error::BudgetExhausted)
    }

    /// Fails once the wall-clock or fuel budget is gone.
    fn check(&self) -> Result<()> {
        if let Some(e) = self.exhausted() {
            return Err(e);
        }
        if Instant::now() >= self.deadline {
            return Err(self.exhaust(format!(
                "the run's wall-clock budget ({} ms) is used up",
                self.budget.wall_time_ms
            )));
        }
        if self.fuel.load(Ordering::Relaxed) >= self.budget.fuel {
            return Err(self.exhaust(format!(
                "the run's fuel budget ({}) is used up",
                self.budget.fuel
            )));
        }
        Ok(())
    }

    fn add_fuel(&self, fuel: u64) {
        self.fuel.fetch_add(fuel, Ordering::Relaxed);
    }

    fn tool_call(&self) -> Result<()> {
        self.check()?;
        let n = self.tool_calls.fetch_add(1, Ordering::Relaxed) + 1;
        if n > self.budget.tool_calls {
            return Err(self.exhaust(format!(
                "the run's tool-call budget ({}) is used up",
                self.budget.tool_calls
            )));
        }
        Ok(())
    }

    fn tokens_left(&self) -> Result<u64> {
        let used = self.tokens.load(Ordering::Relaxed);
        if used >= self.budget.llm_tokens {
            return Err(self.exhaust(format!(
                "the run's LLM token budget ({}) is used up",
                self.budget.llm_tokens
            )));
        }
        Ok(self.budget.llm_tokens - used)
    }

    /// Limits for one sandbox call: what is left of the fuel and the wall-clock.
    fn limits(&self) -> LimitOverrides {
        let left = self.deadline.saturating_duration_since(Instant::now());
        LimitOverrides {
            fuel: Some(
                self.budget
                    .fuel
                    .saturating_sub(self.fuel.load(Ordering::Relaxed))
                    .max(1),
            ),
            wall_time_ms: Some(u64::try_from(left.as_millis()).unwrap_or(u64::MAX).max(1)),
            ..LimitOverrides::default()
        }
    }

    fn totals(&self) -> Totals {
        Totals {
            fuel: self.fuel.load(Ordering::Relaxed),
            duration_us: u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            tool_calls: self.tool_calls.load(Ordering::Relaxed),
            llm_tokens: self.tokens.load(Ordering::Relaxed),
        }
    }
}

/// A run in progress.
struct Run {
    w: Arc<Pipelines>,
    who: Principal,
    meter: Arc<Meter>,
    values: BTreeMap<String, Value>,
    /// Findings of detect/anonymize outputs: (entity type, score).
    findings: BTreeMap<String, Vec<(String, f32)>>,
    vault: Option<String>,
    /// The last provider a `route` step chose (what `llm_query` uses by default).
    routed: Arc<Mutex<Option<String>>>,
    target: String,
    /// For a streamed run: where the last step's LLM text goes as it arrives.
    deltas: Option<tokio::sync::mpsc::Sender<String>>,
    last: usize,
}

/// What a streamed run sends: the last `llm` step's text as it arrives, then the result.
#[derive(Debug)]
pub enum RunEvent {
    /// A piece of the last step's text.
    Delta(String),
    /// The run ended.
    Done(Box<Result<RunResult>>),
}

impl Pipelines {
    /// Runs `name` (the requested version or label) with `req`'s variables.
    pub async fn run(
        self: &Arc<Self>,
        who: &Principal,
        name: &str,
        req: RunRequest,
    ) -> Result<RunResult> {
        execute(self.clone(), who, name, req, None).await
    }

    /// The version a run of `name` uses: `version`, else `label`'s, else `production`'s, else
    /// the latest.
    async fn version_to_run(
        &self,
        who: &Principal,
        name: &str,
        version: Option<u64>,
        label: Option<&str>,
    ) -> Result<u64> {
        match (version, label) {
            (Some(v), _) => Ok(v),
            (None, Some(l)) => self.resolve_label(who, name, l).await,
            (None, None) => match self.resolve_label(who, name, "production").await {
                Ok(v) => Ok(v),
                Err(_) => self.resolve_label(who, name, super::registry::LATEST).await,
            },
        }
    }

    /// The inputs (run variables) the version of `name` a run would use declares.
    pub async fn inputs(
        &self,
        who: &Principal,
        name: &str,
        version: Option<u64>,
        label: Option<&str>,
    ) -> Result<Vec<String>> {
        let v = self.version_to_run(who, name, version, label).await?;
        Ok(self.get_version(who, name, v).await?.definition.inputs)
    }

    /// Runs `name` in the background, streaming: when its last step is `llm`, that step's text
    /// arrives as [`RunEvent::Delta`]s, and [`RunEvent::Done`] ends every run. Dropping the
    /// receiver (the client went away) cancels the run and its provider request.
    pub fn run_streamed(
        self: &Arc<Self>,
        who: &Principal,
        name: &str,
        req: RunRequest,
    ) -> tokio::sync::mpsc::Receiver<RunEvent> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let (w, who, name) = (self.clone(), who.clone(), name.to_owned());
        tokio::spawn(async move {
            let (dtx, mut drx) = tokio::sync::mpsc::channel::<String>(64);
            let run = execute(w, &who, &name, req, Some(dtx));
            tokio::pin!(run);
            loop {
                tokio::select! {
                    result = &mut run => {
                        while let Ok(d) = drx.try_recv() {
                            let _ = tx.send(RunEvent::Delta(d)).await;
                        }
                        let _ = tx.send(RunEvent::Done(Box::new(result))).await;
                        return;
                    }
                    Some(d) = drx.recv() => {
                        if tx.send(RunEvent::Delta(d)).await.is_err() {
                            return; // the client went away: dropping `run` cancels it
                        }
                    }
                    () = tx.closed() => return,
                }
            }
        });
        rx
    }
}

async fn execute(
    w: Arc<Pipelines>,
    who: &Principal,
    name: &str,
    req: RunRequest,
    deltas: Option<tokio::sync::mpsc::Sender<String>>,
) -> Result<RunResult> {
    let version = w
        .version_to_run(who, name, req.version, req.label.as_deref())
        .await?;
    let pv = w.get_version(who, name, version).await?;
    let missing: Vec<&String> = pv
        .definition
        .inputs
        .iter()
        .filter(|i| !req.variables.contains_key(*i))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Unprocessable {
            message: "missing run variables".into(),
            errors: missing
                .into_iter()
                .map(|m| crate::error::FieldError {
                    path: format!("/variables/{m}"),
                    message: "required by the pipeline's inputs".into(),
                })
                .collect(),
        });
    }
    let cfg = &w.config;
    let budget = req
        .budget
        .apply(
            pv.definition
                .budget
                .unwrap_or_default()
                .apply(cfg.default_budget),
        )
        .clamp_to(&cfg.max_budget);
    let mut run = Run {
        w: w.clone(),
        who: who.clone(),
        meter: Arc::new(Meter::new(budget)),
        values: req.variables.into_iter().collect(),
        findings: BTreeMap::new(),
        vault: None,
        routed: Arc::new(Mutex::new(None)),
        target: format!("pipeline/{name}/{version}"),
        deltas,
        last: pv.definition.steps.len().saturating_sub(1),
    };
    let mut trace = Vec::new();
    for (i, step) in pv.definition.steps.iter().enumerate() {
        let started = Instant::now();
        let fuel_before = run.meter.fuel.load(Ordering::Relaxed);
        let mut t = StepTrace {
            index: i,
            kind: step.kind().to_owned(),
            output: step.output().to_owned(),
            ..StepTrace::default()
        };
        let result = match run.meter.check() {
            Ok(()) => run.step(i, step, &pv, &mut t).await,
            Err(e) => Err(e),
        };
        let result = result.and_then(|v| match run.meter.exhausted() {
            Some(e) => Err(e),
            None => Ok(v),
        });
        t.duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        t.fuel = run.meter.fuel.load(Ordering::Relaxed) - fuel_before;
        t.outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.outcome().to_owned(),
        };
        let mut event = AuditEvent::new(
            &who.tenant,
            &who.actor,
            &format!("pipeline.step.{}", step.kind()),
            format!("{}/step/{i}", run.target),
        )
        .outcome(&t.outcome);
        event.fuel = Some(t.fuel);
        event.duration_us = Some(t.duration_us);
        if let Some(p) = &t.provider {
            event = event.detail(format!("provider {p}"));
        }
        w.sandbox.audit(event);
        trace.push(t);
        match result {
            Ok(value) => {
                run.values.insert(step.output().to_owned(), value);
            }
            Err(source) => {
                w.sandbox.audit(
                    AuditEvent::new(&who.tenant, &who.actor, "pipeline.run", &run.target)
                        .outcome(source.outcome())
                        .detail(format!("failed at step {i}")),
                );
                return Err(Error::Pipeline {
                    step: i,
                    source: Box::new(source),
                    trace: serde_json::to_value(&trace).unwrap_or(Value::Null),
                });
            }
        }
    }
    let out_name = pv
        .definition
        .output
        .clone()
        .or_else(|| pv.definition.steps.last().map(|s| s.output().to_owned()))
        .unwrap_or_default();
    let output = run.values.remove(&out_name).unwrap_or(Value::Null);
    let totals = run.meter.totals();
    let mut event = AuditEvent::new(&who.tenant, &who.actor, "pipeline.run", &run.target)
        .outcome("ok")
        .output(output.to_string().as_bytes());
    event.fuel = Some(totals.fuel);
    event.duration_us = Some(totals.duration_us);
    w.sandbox.audit(event);
    Ok(RunResult {
        pipeline: name.to_owned(),
        version,
        output,
        vault_id: run.vault,
        trace,
        totals,
        budget,
    })
}

fn text_of(values: &BTreeMap<String, Value>, name: &str) -> Result<String> {
    match values.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(Error::BadRequest(format!(
            "value `{name}` is {}, but text is needed here",
            kind_of(other)
        ))),
        None => Err(Error::BadRequest(format!("value `{name}` is not set"))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn count(entities: &[(String, f32)]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (e, _) in entities {
        *m.entry(e.clone()).or_insert(0) += 1;
    }
    m
}

/// Whether `when` holds for `findings` (every condition given must).
pub(crate) fn matches(when: &When, findings: &[(String, f32)]) -> bool {
    let any = when.any_entity.is_empty()
        || findings
            .iter()
            .any(|(e, _)| when.any_entity.iter().any(|w| w == e));
    let score = when
        .max_score_at_least
        .is_none_or(|min| findings.iter().any(|(_, s)| *s >= min));
    let n = when.count_at_least.is_none_or(|n| findings.len() >= n);
    any && score && n
}

/// Refuses `messages` for `provider` if it may not see personal data and the built-in detector
/// finds some: the last check before data leaves (no fail-open). Returns what it found.
async fn guard(
    w: &Pipelines,
    who: &Principal,
    name: &str,
    provider: &llm::ProviderConfig,
    messages: &[Message],
    body: Vec<u8>,
    meter: &Meter,
) -> Result<(llm::Cleared, BTreeMap<String, usize>)> {
    if provider.allow_pii {
        return Ok((llm::Cleared::new(body), BTreeMap::new()));
    }
    let mut found = Vec::new();
    for m in messages {
        let d = w
            .pii
            .detect(
                who,
                pii::DetectRequest {
                    text: Some(m.content.clone()),
                    min_score: Some(provider.pii_threshold),
                    limits: meter.limits(),
                    ..pii::DetectRequest::default()
                },
            )
            .await?;
        meter.add_fuel(d.fuel);
        found.extend(d.findings.into_iter().map(|f| (f.entity_type, 1.0)));
    }
    let counts = count(&found);
    if !counts.is_empty() {
        let what: Vec<String> = counts.iter().map(|(e, n)| format!("{e} ×{n}")).collect();
        w.sandbox.audit(
            AuditEvent::new(&who.tenant, &who.actor, "pipeline.llm.refused", name)
                .outcome("policy_refused")
                .detail(what.join(", ")),
        );
        return Err(Error::PolicyRefused(format!(
            "the prompt for provider `{name}` holds personal data ({}) and `{name}` has \
             allow_pii = false: pseudonymise it first (an `anonymize` step) or route it to a \
             provider allowed to see it",
            what.join(", ")
        )));
    }
    Ok((llm::Cleared::new(body), counts))
}

/// One LLM request under the run's policy and budget.
async fn ask(
    w: &Pipelines,
    who: &Principal,
    meter: &Meter,
    name: &str,
    messages: Vec<Message>,
    max_tokens: Option<u32>,
    deltas: Option<&tokio::sync::mpsc::Sender<String>>,
) -> Result<(llm::Completion, BTreeMap<String, usize>)> {
    let provider = w
        .providers
        .get(name)
        .ok_or_else(|| Error::BadRequest(format!("provider `{name}` is not configured")))?;
    let left = meter.tokens_left()?;
    let cap = max_tokens
        .unwrap_or(provider.max_tokens)
        .min(u32::try_from(left).unwrap_or(u32::MAX));
    let body = llm::chat_body(provider, &messages, Some(cap.max(1)), deltas.is_some());
    let (cleared, entities) = guard(w, who, name, provider, &messages, body, meter).await?;
    let answer = match deltas {
        Some(tx) => llm::stream_chat(name, provider, &cleared, &messages, meter.deadline, tx).await,
        None => llm::chat(name, provider, &cleared, &messages, meter.deadline).await,
    };
    let c = answer.map_err(|e| match e {
        llm::LlmError::Deadline(_) => meter.exhaust(e.to_string()),
        other => Error::Upstream(other.to_string()),
    })?;
    meter.tokens.fetch_add(c.tokens, Ordering::Relaxed);
    w.sandbox.audit(
        AuditEvent::new(&who.tenant, &who.actor, "pipeline.llm.call", name)
            .outcome("ok")
            .detail(format!("{} tokens, {} attempt(s)", c.tokens, c.attempts)),
    );
    Ok((c, entities))
}

impl Run {
    async fn step(
        &mut self,
        i: usize,
        step: &Step,
        pv: &PipelineVersion,
        t: &mut StepTrace,
    ) -> Result<Value> {
        let w = self.w.clone();
        let who = self.who.clone();
        match step {
            Step::Render {
                template,
                variables,
                ..
            } => {
                let vars: Map<String, Value> = match variables {
                    None => self
                        .values
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    Some(m) => m
                        .iter()
                        .map(|(k, v)| {
                            let v = match v.as_str().and_then(|s| s.strip_prefix('$')) {
                                Some(r) => self.values.get(r).cloned().unwrap_or(Value::Null),
                                None => v.clone(),
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                };
                let version = pv.pins.templates.get(&i).copied();
                let r = w
                    .templates
                    .render(
                        &who,
                        template,
                        templates::RenderRequest {
                            variables: vars,
                            version,
                            label: None,
                            limits: self.meter.limits(),
                            ..templates::RenderRequest::default()
                        },
                    )
                    .await?;
                self.meter.add_fuel(r.fuel);
                Ok(match (r.text, r.messages) {
                    (Some(text), _) => Value::String(text),
                    (None, Some(m)) => serde_json::to_value(m).unwrap_or(Value::Null),
                    _ => Value::Null,
                })
            }
            Step::Detect {
                input,
                detectors,
                entities,
                min_score,
                output,
            } => {
                let d = w
                    .pii
                    .detect(
                        &who,
                        pii::DetectRequest {
                            text: Some(text_of(&self.values, input)?),
                            entities: entities.clone(),
                            min_score: *min_score,
                            detectors: detectors.clone(),
                            limits: self.meter.limits(),
                            ..pii::DetectRequest::default()
                        },
                    )
                    .await?;
                self.meter.add_fuel(d.fuel);
                let found: Vec<(String, f32)> = d
                    .findings
                    .iter()
                    .map(|f| (f.entity_type.clone(), f.score as f32))
                    .collect();
                t.entities = count(&found);
                self.findings.insert(output.clone(), found);
                Ok(serde_json::to_value(&d.findings).unwrap_or(Value::Null))
            }
            Step::Anonymize {
                input,
                detectors,
                entities,
                min_score,
                output,
            } => {
                let operators = anonymize::Operators::pseudonymize_all();
                let a = w
                    .pii
                    .anonymize(
                        &who,
                        pii::AnonymizeRequest {
                            text: Some(text_of(&self.values, input)?),
                            operators,
                            entities: entities.clone(),
                            min_score: *min_score,
                            detectors: detectors.clone(),
                            vault_id: self.vault.clone(),
                            limits: self.meter.limits(),
                            ..pii::AnonymizeRequest::default()
                        },
                    )
                    .await?;
                self.meter.add_fuel(a.fuel);
                if a.vault_id.is_some() {
                    self.vault = a.vault_id.clone();
                }
                let found: Vec<(String, f32)> = a
                    .items
                    .iter()
                    .map(|f| (f.entity_type.clone(), f.score))
                    .collect();
                t.entities = count(&found);
                self.findings.insert(output.clone(), found);
                Ok(Value::String(a.text))
            }
            Step::Route {
                findings,
                rules,
                default,
                ..
            } => {
                let found = self.findings.get(findings).cloned().unwrap_or_default();
                let provider = rules
                    .iter()
                    .find(|r| matches(&r.when, &found))
                    .map_or(default, |r| &r.provider)
                    .clone();
                t.provider = Some(provider.clone());
                *self.routed.lock().unwrap_or_else(|p| p.into_inner()) = Some(provider.clone());
                Ok(Value::String(provider))
            }
            Step::Llm {
                provider,
                provider_from,
                input,
                system,
                max_tokens,
                ..
            } => {
                let name = match (provider, provider_from) {
                    (Some(p), _) => p.clone(),
                    (None, Some(from)) => text_of(&self.values, from)?,
                    (None, None) => return Err(Error::BadRequest("no provider".into())),
                };
                t.provider = Some(name.clone());
                let mut messages: Vec<Message> = system
                    .iter()
                    .map(|s| Message {
                        role: "system".into(),
                        content: s.clone(),
                    })
                    .collect();
                match self.values.get(input) {
                    Some(Value::Array(a)) => {
                        for m in a {
                            messages.push(serde_json::from_value(m.clone()).map_err(|e| {
                                Error::BadRequest(format!(
                                    "value `{input}` is not chat messages: {e}"
                                ))
                            })?);
                        }
                    }
                    _ => messages.push(Message {
                        role: "user".into(),
                        content: text_of(&self.values, input)?,
                    }),
                }
                let deltas = self.deltas.as_ref().filter(|_| i == self.last);
                let (c, entities) =
                    ask(&w, &who, &self.meter, &name, messages, *max_tokens, deltas).await?;
                t.entities = entities;
                t.tokens = Some(c.tokens);
                t.attempts = Some(c.attempts);
                Ok(Value::String(c.text))
            }
            Step::Code {
                code,
                tools,
                runner,
                ..
            } => {
                let runner = runner.as_deref().unwrap_or("python");
                let (pref, plugin) = w.plugins.resolve(&who, runner, World::CodeRunner).await?;
                if let Some(pinned) = pv
                    .pins
                    .plugins
                    .get(&format!("{}@{}", pref.name, pref.version))
                    && *pinned != pref.digest
                {
                    return Err(Error::Conflict(format!(
                        "runner {runner} changed since this version was created"
                    )));
                }
                let mut program = String::new();
                for (name, value) in &self.values {
                    program.push_str(name);
                    program.push_str(" = ");
                    python_literal(value, &mut program);
                    program.push('\n');
                }
                program.push_str(code);
                let host = Arc::new(PipelineTools {
                    w: w.clone(),
                    who: who.clone(),
                    meter: self.meter.clone(),
                    handle: tokio::runtime::Handle::current(),
                    allowed: tools.clone(),
                    routed: self.routed.clone(),
                });
                let options = SessionOptions {
                    tools: tools.clone(),
                    ..SessionOptions::default()
                };
                let limits = w.sandbox.limits(&self.meter.limits());
                let calls_before = self.meter.tool_calls.load(Ordering::Relaxed);
                let event = AuditEvent::new(
                    &who.tenant,
                    &who.actor,
                    "pipeline.code",
                    format!("{}/step/{i}", self.target),
                )
                .input(code.as_bytes());
                let result = w
                    .sandbox
                    .call(
                        event,
                        plugin,
                        move |engine, plugin| {
                            let opened = engine.start_session(plugin, &options, limits, host);
                            match opened.result {
                                Ok(mut s) => {
                                    let mut out = s.eval(&program);
                                    s.close();
                                    out.report.fuel_used += opened.report.fuel_used;
                                    out
                                }
                                Err(e) => warden_engine::Outcome {
                                    result: Err(e),
                                    report: opened.report,
                                },
                            }
                        },
                        |o: &warden_engine::EvalOutput| serde_json::to_vec(o).unwrap_or_default(),
                    )
                    .await;
                t.tool_calls = Some(self.meter.tool_calls.load(Ordering::Relaxed) - calls_before);
                let (out, report) = match result {
                    Ok(v) => v,
                    Err(e) => {
                        if let Error::Call { report, .. } = &e {
                            self.meter.add_fuel(report.fuel_used);
                        }
                        return Err(self.meter.exhausted().unwrap_or(e));
                    }
                };
                self.meter.add_fuel(report.fuel_used);
                Ok(match (out.json, out.repr) {
                    (Some(j), _) => serde_json::from_str(&j).unwrap_or(Value::String(j)),
                    (None, Some(r)) => Value::String(r),
                    (None, None) if !out.stdout.is_empty() => Value::String(out.stdout),
                    _ => Value::Null,
                })
            }
            Step::Deanonymize { input, .. } => {
                let text = text_of(&self.values, input)?;
                let Some(vault) = self.vault.clone() else {
                    // Nothing was pseudonymised in this run: nothing to restore.
                    return Ok(Value::String(text));
                };
                let d = w
                    .pii
                    .deanonymize(
                        &who,
                        pii::DeanonymizeRequest {
                            text,
                            vault_id: vault,
                        },
                    )
                    .await?;
                Ok(Value::String(d.text))
            }
        }
    }
}

/// Writes `v` as a Python literal (what a code step's variables are bound to).
fn python_literal(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&n.to_string()),
        // A JSON string literal is a valid Python one (same escapes; non-ASCII stays UTF-8).
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_literal(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                python_literal(x, out);
            }
            out.push('}');
        }
    }
}

/// The host tools of one code step: they run on the step's blocking thread, charge the run's
/// budget and never outlive the call's deadline.
struct PipelineTools {
    w: Arc<Pipelines>,
    who: Principal,
    meter: Arc<Meter>,
    handle: tokio::runtime::Handle,
    allowed: Vec<String>,
    routed: Arc<Mutex<Option<String>>>,
}

/// Positional (`[a, b]`) or keyword (`{"x": a}`) arguments, by position and name.
fn arg<'a>(args: &'a Value, i: usize, name: &str) -> Option<&'a Value> {
    match args {
        Value::Array(a) => a.get(i),
        Value::Object(m) => m.get(name),
        _ => None,
    }
}

fn text_arg(args: &Value, i: usize, name: &str) -> std::result::Result<String, ToolError> {
    arg(args, i, name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            ToolError::InvalidArguments(format!("`{name}` (argument {}) must be text", i + 1))
        })
}

impl PipelineTools {
    async fn dispatch(&self, name: &str, args: Value) -> std::result::Result<Value, ToolError> {
        let failed = |e: Error| match e {
            Error::BudgetExhausted(m) => ToolError::Failed(format!("budget exhausted: {m}")),
            other => ToolError::Failed(other.to_string()),
        };
        let (w, who, meter) = (&self.w, &self.who, &self.meter);
        match name {
            "llm_query" => {
                let prompt = text_arg(&args, 0, "prompt")?;
                let provider = match arg(&args, 1, "provider") {
                    Some(Value::String(p)) => p.clone(),
                    Some(Value::Null) | None => self
                        .routed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone()
                        .or_else(|| {
                            (w.providers.len() == 1)
                                .then(|| w.providers.keys().next().cloned().unwrap_or_default())
                        })
                        .ok_or_else(|| {
                            ToolError::InvalidArguments(
                                "no provider: pass provider=… (no route step chose one)".into(),
                            )
                        })?,
                    Some(_) => {
                        return Err(ToolError::InvalidArguments(
                            "`provider` must be text".into(),
                        ));
                    }
                };
                let messages = vec![Message {
                    role: "user".into(),
                    content: prompt,
                }];
                let (c, _) = ask(w, who, meter, &provider, messages, None, None)
                    .await
                    .map_err(failed)?;
                Ok(Value::String(c.text))
            }
            "render" => {
                let template = text_arg(&args, 0, "template")?;
                let vars = match arg(&args, 1, "variables") {
                    Some(Value::Object(m)) => m.clone(),
                    None | Some(Value::Null) => Map::new(),
                    Some(_) => {
                        return Err(ToolError::InvalidArguments(
                            "`variables` must be a dict".into(),
                        ));
                    }
                };
                let r = w
                    .templates
                    .render(
                        who,
                        &template,
                        templates::RenderRequest {
                            variables: vars,
                            limits: meter.limits(),
                            ..templates::RenderRequest::default()
                        },
                    )
                    .await
                    .map_err(failed)?;
                meter.add_fuel(r.fuel);
                Ok(r.text.map_or_else(
                    || serde_json::to_value(r.messages).unwrap_or(Value::Null),
                    Value::String,
                ))
            }
            "detect_pii" | "call" => {
                let (detectors, text) = if name == "call" {
                    let plugin = text_arg(&args, 0, "plugin")?;
                    (Some(vec![plugin]), text_arg(&args, 1, "text")?)
                } else {
                    (None, text_arg(&args, 0, "text")?)
                };
                let d = w
                    .pii
                    .detect(
                        who,
                        pii::DetectRequest {
                            text: Some(text),
                            detectors,
                            limits: meter.limits(),
                            ..pii::DetectRequest::default()
                        },
                    )
                    .await
                    .map_err(failed)?;
                meter.add_fuel(d.fuel);
                Ok(serde_json::to_value(d.findings).unwrap_or(Value::Null))
            }
            other => Err(ToolError::UnknownTool(other.to_owned())),
        }
    }
}

impl Tools for PipelineTools {
    fn call(
        &self,
        name: &str,
        args_json: &str,
        deadline: Instant,
    ) -> std::result::Result<String, ToolError> {
        if !self.allowed.iter().any(|t| t == name) {
            return Err(ToolError::UnknownTool(name.to_owned()));
        }
        self.meter
            .tool_call()
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        let args: Value = serde_json::from_str(args_json)
            .map_err(|e| ToolError::InvalidArguments(format!("not JSON: {e}")))?;
        // The tool counts against the calling code's deadline and the run's.
        let deadline = deadline.min(self.meter.deadline);
        let fut = self.dispatch(name, args);
        let result = self.handle.block_on(async move {
            tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), fut).await
        });
        match result {
            Ok(Ok(v)) => Ok(v.to_string()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ToolError::Failed(format!(
                "{name} did not finish before the deadline"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_literals() {
        let mut s = String::new();
        python_literal(
            &json!({"a": [1, 2.5, true, null], "b": "it's \"q\"\n"}),
            &mut s,
        );
        assert_eq!(s, r#"{"a": [1, 2.5, True, None], "b": "it's \"q\"\n"}"#);
    }

    #[test]
    fn rules_need_every_condition() {
        let f = vec![
            ("AU_TFN".to_owned(), 0.9),
            ("EMAIL_ADDRESS".to_owned(), 0.6),
        ];
        let when = |any: &[&str], score: Option<f32>, n: Option<usize>| When {
            any_entity: any.iter().map(|s| (*s).to_owned()).collect(),
            max_score_at_least: score,
            count_at_least: n,
        };
        assert!(matches(&when(&["AU_TFN"], None, None), &f));
        assert!(!matches(&when(&["US_SSN"], None, None), &f));
        assert!(matches(&when(&[], Some(0.85), Some(2)), &f));
        assert!(!matches(&when(&[], Some(0.95), None), &f));
        assert!(!matches(&when(&[], None, Some(3)), &f));
        assert!(!matches(&when(&["AU_TFN"], None, None), &[]));
    }

    #[test]
    fn the_meter_stops_at_each_budget() {
        let m = Meter::new(Budget {
            fuel: 100,
            wall_time_ms: 60_000,
            tool_calls: 2,
            llm_tokens: 10,
        });
        assert!(m.tool_call().is_ok() && m.tool_call().is_ok());
        assert!(matches!(m.tool_call(), Err(Error::BudgetExhausted(_))));
        // Once exhausted, every later check fails too.
        assert!(m.check().is_err());
        let m = Meter::new(Budget {
            fuel: 100,
            ..Budget::default()
        });
        m.add_fuel(100);
        assert!(m.check().is_err());
    }
}
