//! The OpenAI-compatible gateway behind `/v1/openai`: an application keeps calling "OpenAI",
//! and every request passes the PII guard on its way out — detected, routed by its findings,
//! pseudonymised for a provider that may not see personal data, re-checked on the exact bytes
//! sent (a failing analyzer refuses the request, it never forwards it) — and has its
//! placeholders restored on the way back, streamed or not, in text and tool-call arguments.

pub mod record;
pub mod relay;
pub mod restore;
pub mod scan;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::pii::allow::AllowList;
use crate::pii::anonymize::{self, Operators, Pseudonyms, Span};
use crate::pii::service::{Pii, Scan};
use crate::pipelines::llm::{self, Cleared, Endpoint, ProviderConfig, Providers};
use crate::pipelines::registry::Rule;
use crate::pipelines::run::{count, matches};
use crate::pipelines::{Budget, Pipelines, RunEvent, RunRequest};
use crate::sandbox::Sandbox;
use crate::settings::Invalid;
use record::{Meta, counts_text};
use relay::now_secs;
use restore::{Encoding, restore_all};
use scan::AnswerScan;
use warden_engine::LimitOverrides;
use warden_storage::audit::AuditEvent;

/// `[gateway]`: what `/v1/openai` offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Offer every provider as a model under its own name (default true).
    pub expose_providers: bool,
    /// Scan answers for personal data the conversation did not contain, mask and flag it
    /// (default false; a routed model may say otherwise).
    pub scan_answers: bool,
    /// Models that route by findings (`[gateway.models.NAME]`).
    pub models: BTreeMap<String, RouteConfig>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            expose_providers: true,
            scan_answers: false,
            models: BTreeMap::new(),
        }
    }
}

/// A model that picks its provider from what the guard finds in each request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The first rule whose condition holds picks the provider.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The provider when no rule holds.
    pub default: String,
    /// Entity types to look for; empty means the tenant's defaults.
    #[serde(default)]
    pub entities: Vec<String>,
    /// With no `entities`: the defaults plus these countries' types.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Findings scored below this are ignored.
    #[serde(default)]
    pub min_score: Option<f32>,
    /// Detectors (`pii` and the tenant's pii-detector plugins); default the built-in.
    #[serde(default)]
    pub detectors: Option<Vec<String>>,
    /// Scan answers (default: `gateway.scan_answers`).
    #[serde(default)]
    pub scan_answers: Option<bool>,
}

impl GatewayConfig {
    /// Checks model names and that every provider a model names is configured.
    pub fn validate(&self, providers: &Providers) -> std::result::Result<(), Invalid> {
        let bad = |message: String| {
            Err(Invalid {
                key: "gateway",
                message,
            })
        };
        for (name, m) in &self.models {
            if !crate::names::is_valid(name) {
                return bad(format!("`{name}` is not a valid model name"));
            }
            if self.expose_providers && providers.contains_key(name) {
                return bad(format!(
                    "gateway.models.{name} has the name of a provider, which is also a model \
                     (rename it, or set gateway.expose_providers = false)"
                ));
            }
            for (i, p) in std::iter::once(&m.default)
                .chain(m.rules.iter().map(|r| &r.provider))
                .enumerate()
            {
                if !providers.contains_key(p) {
                    let at = if i == 0 {
                        "default".to_owned()
                    } else {
                        format!("rules[{}].provider", i - 1)
                    };
                    return bad(format!(
                        "gateway.models.{name}.{at} names provider `{p}`, which is not configured"
                    ));
                }
            }
            if m.min_score.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
                return bad(format!(
                    "gateway.models.{name}.min_score must be within 0 and 1"
                ));
            }
        }
        Ok(())
    }
}

/// What the guard looks for in one request.
struct Policy<'a> {
    entities: &'a [String],
    countries: &'a [String],
    min_score: Option<f32>,
    detectors: Option<&'a [String]>,
    scan_answers: bool,
}

/// A model the caller named, resolved.
enum Target<'a> {
    Provider(&'a str),
    Route(&'a RouteConfig),
}

/// What a chat completion returns: a JSON answer, or a stream of server-sent events.
pub enum Reply {
    /// The whole answer.
    Json(Value),
    /// `text/event-stream` bytes in OpenAI's chunk format, ending with `data: [DONE]`.
    Stream(relay::EventStream),
}

/// One text of a request the guard reads and may rewrite: where it is (a JSON pointer into
/// the body) and how values restored into it are written.
struct Slot {
    pointer: String,
    text: String,
}

/// The guard's decision for one request, shared by chat and embeddings.
struct Guarded<'a> {
    provider_name: &'a str,
    provider: &'a ProviderConfig,
    cleared: Cleared,
    vault: Arc<Pseudonyms>,
    counts: BTreeMap<String, usize>,
    originals: Vec<String>,
    scan_answers: bool,
    detect_us: u64,
}

/// Where a request may go, owned: the guard decides on the sandbox's thread, between the
/// scan of the request and the re-check of the bytes to send.
struct Route {
    choice: Choice,
    providers: Arc<Providers>,
    min_score: Option<f32>,
}

/// A named provider, or a routed model's rules and default.
enum Choice {
    Provider(String),
    Rules(Vec<Rule>, String),
}

/// The guard's decision before the re-check: the provider, the body to send, how it was
/// pseudonymised, and the threshold to re-check it at (none for a provider with `allow_pii`).
struct Decided {
    provider: String,
    text: String,
    vault: Pseudonyms,
    originals: Vec<String>,
    findings: Vec<(String, f32)>,
    recheck: Option<f32>,
}

impl Route {
    /// Picks the provider for what was `found` in `slots`, names its model in `body`,
    /// pseudonymises the slots there for a provider without `allow_pii`, and encodes the
    /// body to send.
    fn decide(&self, found: &[Vec<Span>], mut body: Value, slots: &[Slot]) -> Result<Decided> {
        let findings: Vec<(String, f32)> = found
            .iter()
            .flatten()
            .map(|s| (s.entity_type.clone(), s.score))
            .collect();
        let name = match &self.choice {
            Choice::Provider(name) => name.as_str(),
            Choice::Rules(rules, default) => rules
                .iter()
                .find(|rule| matches(&rule.when, &findings))
                .map_or(default.as_str(), |rule| rule.provider.as_str()),
        };
        let provider = self
            .providers
            .get(name)
            .ok_or_else(|| Error::Internal(format!("provider `{name}` is not configured")))?;
        if let Some(model) = body.get_mut("model") {
            *model = Value::String(provider.model.clone());
        }
        let mut vault = Pseudonyms::default();
        let mut originals = Vec::new();
        for (slot, spans) in slots.iter().zip(found) {
            originals.extend(spans.iter().map(|s| slot.text[s.start..s.end].to_owned()));
        }
        if !provider.allow_pii && !findings.is_empty() {
            let ops = Operators::pseudonymize_all();
            for (slot, spans) in slots.iter().zip(found) {
                let done = anonymize::anonymize(&slot.text, spans, &ops, &[], &mut vault)
                    .map_err(|e| Error::Internal(format!("pseudonymisation failed: {e}")))?;
                if let Some(v) = body.pointer_mut(&slot.pointer) {
                    *v = Value::String(done.text);
                }
            }
        }
        let text = serde_json::to_string(&body)
            .map_err(|e| Error::Internal(format!("cannot encode the request: {e}")))?;
        let recheck = (!provider.allow_pii).then(|| {
            self.min_score
                .map_or(provider.pii_threshold, |m| m.max(provider.pii_threshold))
        });
        Ok(Decided {
            provider: name.to_owned(),
            text,
            vault,
            originals,
            findings,
            recheck,
        })
    }
}

/// An analyzer failure as the guard answers it: refused, never forwarded (fail closed);
/// being over a quota or busy stays what it is, which the caller may retry.
fn fail_closed(e: Error) -> Error {
    match e {
        e @ (Error::RateLimited(_) | Error::Busy { .. }) => e,
        e => Error::GuardFailed(format!(
            "the PII analyzer failed, so the request was not forwarded: {e}"
        )),
    }
}

impl<'a> Policy<'a> {
    /// The detection pass over `texts` this policy asks for.
    fn scan<'s>(
        &'s self,
        texts: Vec<&'s str>,
        min_score: Option<f32>,
        limits: &'s LimitOverrides,
    ) -> Scan<'s> {
        Scan {
            texts,
            entities: self.entities,
            countries: self.countries,
            language: None,
            context: &[],
            allow: AllowList::default(),
            recognizers: &[],
            min_score,
            explain: false,
            detectors: self.detectors,
            dictionaries: true,
            limits,
        }
    }
}

/// The gateway service.
pub struct Gateway {
    pii: Arc<Pii>,
    sandbox: Arc<Sandbox>,
    pipelines: Arc<Pipelines>,
    providers: Arc<Providers>,
    config: GatewayConfig,
    budget: Budget,
}

impl Gateway {
    /// The gateway over `providers`, within `budget` per request (tokens and wall-clock).
    pub fn new(
        pii: Arc<Pii>,
        sandbox: Arc<Sandbox>,
        pipelines: Arc<Pipelines>,
        providers: Providers,
        config: GatewayConfig,
        budget: Budget,
    ) -> Gateway {
        Gateway {
            pii,
            sandbox,
            pipelines,
            providers: Arc::new(providers),
            config,
            budget,
        }
    }

    /// `GET /v1/openai/models`: the providers (unless hidden), the routed models and the
    /// tenant's pipelines (each also as `name@label`).
    pub async fn models(&self, who: &Principal) -> Result<Value> {
        let mut data = Vec::new();
        if self.config.expose_providers {
            data.extend(self.providers.keys().map(|n| model_entry(n, "provider")));
        }
        data.extend(self.config.models.keys().map(|n| model_entry(n, "route")));
        for p in self.pipelines.list(who).await? {
            if self.is_configured(&p.name) {
                continue; // shadowed by a configured model of that name
            }
            data.push(model_entry(&p.name, "pipeline"));
            for label in p.labels.keys() {
                data.push(model_entry(&format!("{}@{label}", p.name), "pipeline"));
            }
        }
        Ok(json!({"object": "list", "data": data}))
    }

    fn is_configured(&self, model: &str) -> bool {
        self.config.models.contains_key(model)
            || (self.config.expose_providers && self.providers.contains_key(model))
    }

    fn target<'a>(&'a self, model: &str) -> Result<(Target<'a>, &'a str)> {
        if let Some((name, m)) = self.config.models.get_key_value(model) {
            return Ok((Target::Route(m), name.as_str()));
        }
        if self.config.expose_providers
            && let Some((name, _)) = self.providers.get_key_value(model)
        {
            return Ok((Target::Provider(name.as_str()), name.as_str()));
        }
        Err(Error::not_found(
            "model",
            model.chars().take(100).collect::<String>(),
        ))
    }

    fn policy<'a>(&'a self, target: &Target<'a>) -> Policy<'a> {
        match target {
            Target::Provider(_) => Policy {
                entities: &[],
                countries: &[],
                min_score: None,
                detectors: None,
                scan_answers: self.config.scan_answers,
            },
            Target::Route(r) => Policy {
                entities: &r.entities,
                countries: &r.countries,
                min_score: r.min_score,
                detectors: r.detectors.as_deref(),
                scan_answers: r.scan_answers.unwrap_or(self.config.scan_answers),
            },
        }
    }

    /// Findings in `texts` under `policy`, in chunks of at most `pii.max_batch` texts; any
    /// failure of the analyzer is `GuardFailed` (fail closed).
    async fn detect(
        &self,
        who: &Principal,
        policy: &Policy<'_>,
        texts: &[&str],
        min_score: Option<f32>,
    ) -> Result<Vec<Vec<Span>>> {
        let mut out = Vec::with_capacity(texts.len());
        let none = LimitOverrides::default();
        for chunk in texts.chunks(self.pii.max_batch().max(1)) {
            let scan = policy.scan(chunk.to_vec(), min_score, &none);
            let (spans, _, _) = self.pii.find(who, scan).await.map_err(fail_closed)?;
            out.extend(spans);
        }
        Ok(out)
    }

    /// Detects personal data in `slots`, picks the provider, pseudonymises the slots in
    /// `body` for a provider without `allow_pii`, and clears the exact bytes to send. A
    /// request whose texts fit one detection batch is scanned and re-checked in one sandbox
    /// call (one instance for the request, the decision taken between the two scans); a
    /// longer one in batches, then re-checked.
    async fn guard<'a>(
        &'a self,
        who: &Principal,
        target: &Target<'a>,
        body: Value,
        slots: Vec<Slot>,
    ) -> Result<Guarded<'a>> {
        let policy = self.policy(target);
        let started = Instant::now();
        let route = Route {
            choice: match target {
                Target::Provider(name) => Choice::Provider((*name).to_owned()),
                Target::Route(r) => Choice::Rules(r.rules.clone(), r.default.clone()),
            },
            providers: self.providers.clone(),
            min_score: policy.min_score,
        };
        let texts: Vec<String> = slots.iter().map(|s| s.text.clone()).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (decided, left) = if refs.len() <= self.pii.max_batch().max(1) {
            let none = LimitOverrides::default();
            let scan = policy.scan(refs, policy.min_score, &none);
            let found = self
                .pii
                .find_then(who, scan, move |found| {
                    let decided = route.decide(found, body, &slots);
                    let next = match &decided {
                        Ok(d) => d.recheck.map(|t| (d.text.clone(), Some(t))),
                        Err(_) => None,
                    };
                    (decided, next)
                })
                .await
                .map_err(fail_closed)?;
            (found.value?, found.second.unwrap_or_default())
        } else {
            let found = self.detect(who, &policy, &refs, policy.min_score).await?;
            let decided = route.decide(&found, body, &slots)?;
            let left = match decided.recheck {
                Some(t) => self
                    .detect(who, &policy, &[decided.text.as_str()], Some(t))
                    .await?
                    .pop()
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            (decided, left)
        };
        let Some((provider_name, provider)) = self.providers.get_key_value(&decided.provider)
        else {
            return Err(Error::Internal(format!(
                "provider `{}` is not configured",
                decided.provider
            )));
        };
        if !left.is_empty() {
            let left: Vec<(String, f32)> = left
                .iter()
                .map(|s| (s.entity_type.clone(), s.score))
                .collect();
            let what = counts_text(&count(&left));
            self.sandbox.audit(
                AuditEvent::new(
                    &who.tenant,
                    &who.actor,
                    "openai.refused",
                    format!("provider/{provider_name}"),
                )
                .outcome("policy_refused")
                .detail(what.clone()),
            );
            return Err(Error::PolicyRefused(format!(
                "the request for provider `{provider_name}` (allow_pii = false) still holds \
                 personal data ({what}) outside the message texts and tool-call arguments the \
                 gateway pseudonymises (tool definitions, names, other fields); nothing was sent"
            )));
        }
        Ok(Guarded {
            provider_name,
            provider,
            cleared: Cleared::new(decided.text.into_bytes()),
            vault: Arc::new(decided.vault),
            counts: count(&decided.findings),
            originals: decided.originals,
            scan_answers: policy.scan_answers,
            detect_us: micros(started.elapsed()),
        })
    }

    /// The record of a request `g` cleared, started at `started`.
    fn meta(
        &self,
        who: &Principal,
        model: &str,
        g: &Guarded<'_>,
        started: Instant,
        stream: bool,
    ) -> Meta {
        Meta {
            sandbox: self.sandbox.clone(),
            tenant: who.tenant.clone(),
            actor: who.actor.clone(),
            model: model.to_owned(),
            provider: g.provider_name.to_owned(),
            counts: g.counts.clone(),
            pseudonymised: g.vault.len(),
            started,
            detect_us: g.detect_us,
            stream,
            tokens: 0,
            restored: 0,
            flagged: BTreeMap::new(),
            outcome: "ok",
            attempts: 0,
        }
    }

    /// `POST /v1/openai/chat/completions`.
    pub async fn chat(&self, who: &Principal, mut body: Value) -> Result<Reply> {
        let started = Instant::now();
        let Some(obj) = body.as_object_mut() else {
            return Err(Error::BadRequest("the body must be a JSON object".into()));
        };
        let model = model_of(obj)?;
        let stream = match obj.get("stream") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(Error::BadRequest("`stream` must be a boolean".into())),
        };
        let include_usage = obj
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let slots = chat_slots(obj)?;
        self.cap_tokens(obj)?;
        if stream {
            obj.insert("stream_options".into(), json!({"include_usage": true}));
        }
        if !self.is_configured(&model) {
            return self
                .run_pipeline(who, &model, obj, stream, include_usage)
                .await;
        }
        let prompt_bytes: usize = slots.iter().map(|s| s.text.len()).sum();
        let (target, model_name) = self.target(&model)?;
        let deadline = started + Duration::from_millis(self.budget.wall_time_ms);
        let g = self.guard(who, &target, body, slots).await?;
        let mut meta = self.meta(who, model_name, &g, started, stream);
        let sent = match llm::send(
            g.provider_name,
            g.provider,
            Endpoint::ChatCompletions,
            &g.cleared,
            deadline,
        )
        .await
        {
            Ok(s) => s,
            Err(e) => {
                let e = upstream(e);
                meta.outcome = e.outcome();
                meta.record();
                return Err(e);
            }
        };
        meta.attempts = sent.attempts;
        if stream {
            let answers = self.answer_scanner(who, &g);
            return Ok(Reply::Stream(relay::relay(
                sent.response,
                relay::Settings {
                    vault: g.vault.clone(),
                    model: model_name.to_owned(),
                    include_usage,
                    idle: g.provider.timeout,
                    deadline,
                    prompt_bytes,
                },
                answers,
                meta,
            )));
        }
        let raw = match llm::read_body(g.provider_name, g.provider, sent, deadline).await {
            Ok(b) => b,
            Err(e) => {
                let e = upstream(e);
                meta.outcome = e.outcome();
                meta.record();
                return Err(e);
            }
        };
        let mut answer: Value = match serde_json::from_slice(&raw) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                meta.outcome = "upstream_failed";
                meta.record();
                return Err(Error::Upstream(format!(
                    "provider `{}` did not answer with a chat completion",
                    g.provider_name
                )));
            }
        };
        answer["model"] = Value::String(model_name.to_owned());
        let mut restored = 0;
        if let Some(choices) = answer.get_mut("choices").and_then(Value::as_array_mut) {
            for choice in choices {
                let Some(message) = choice.get_mut("message") else {
                    continue;
                };
                if !g.vault.is_empty() {
                    restored += restore_message(message, &g.vault);
                }
                if g.scan_answers
                    && let Some(Value::String(text)) = message.get_mut("content")
                {
                    let (masked, flags) = self.scan_answer(who, &g, text).await?;
                    *text = masked;
                    for (k, n) in flags {
                        *meta.flagged.entry(k).or_insert(0) += n;
                    }
                }
            }
        }
        if !meta.flagged.is_empty() {
            answer["warden"] = json!({"flagged": meta.flagged});
        }
        meta.restored = restored;
        meta.tokens = answer
            .pointer("/usage/total_tokens")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| {
                llm::estimate_bytes(prompt_bytes) + llm::estimate(&answer.to_string())
            });
        meta.record();
        Ok(Reply::Json(answer))
    }

    /// A tenant's pipeline as the model: run with the chat as variables `messages` and
    /// `prompt` (the last user message's text) plus the request's `metadata` entries — and the
    /// prompt also as the one declared input still unset, if there is exactly one; its
    /// output is the answer. Streamed, its last `llm` step's text arrives as it is written.
    /// The pipeline's own steps are the guard (its `llm` steps refuse personal data for
    /// providers without `allow_pii`).
    async fn run_pipeline(
        &self,
        who: &Principal,
        model: &str,
        obj: &Map<String, Value>,
        stream: bool,
        include_usage: bool,
    ) -> Result<Reply> {
        let (name, at) = match model.split_once('@') {
            Some((n, at)) => (n, Some(at)),
            None => (model, None),
        };
        let (version, label) = match at {
            Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => (v.parse().ok(), None),
            Some(l) => (None, Some(l.to_owned())),
            None => (None, None),
        };
        let mut variables = Map::new();
        if let Some(Value::Object(meta)) = obj.get("metadata") {
            for (k, v) in meta {
                variables.insert(k.clone(), v.clone());
            }
        }
        let messages = obj.get("messages").cloned().unwrap_or(Value::Null);
        let prompt = messages
            .as_array()
            .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
            .map(|m| text_content(&m["content"]))
            .unwrap_or_default();
        variables.insert("messages".into(), messages);
        variables.insert("prompt".into(), Value::String(prompt.clone()));
        let unknown = |e: Error| match e {
            Error::NotFound {
                kind: "pipeline", ..
            } => Error::not_found("model", model.chars().take(100).collect::<String>()),
            other => other,
        };
        // A pipeline written for one input of its own (`ticket`, say) gets the prompt there.
        let inputs = self
            .pipelines
            .inputs(who, name, version, label.as_deref())
            .await
            .map_err(unknown)?;
        let missing: Vec<&String> = inputs
            .iter()
            .filter(|i| !variables.contains_key(*i))
            .collect();
        if let [only] = missing.as_slice() {
            variables.insert((*only).clone(), Value::String(prompt));
        }
        let req = RunRequest {
            variables,
            version,
            label,
            stream,
            ..RunRequest::default()
        };
        if !stream {
            let r = self.pipelines.run(who, name, req).await.map_err(unknown)?;
            let text = match r.output {
                Value::String(s) => s,
                other => other.to_string(),
            };
            return Ok(Reply::Json(json!({
                "id": format!("chatcmpl-{}", hex::encode(rand::random::<[u8; 12]>())),
                "object": "chat.completion",
                "created": now_secs(),
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0,
                          "total_tokens": r.totals.llm_tokens},
            })));
        }
        let mut events = self.pipelines.run_streamed(who, name, req);
        let first = match events.recv().await {
            None => return Err(Error::Internal("the run ended without a result".into())),
            Some(RunEvent::Done(result)) => match *result {
                Err(e) => return Err(unknown(e)),
                Ok(r) => RunEvent::Done(Box::new(Ok(r))),
            },
            Some(delta) => delta,
        };
        Ok(Reply::Stream(relay::pipeline_stream(
            first,
            events,
            model.to_owned(),
            include_usage,
        )))
    }

    /// The request's `max_tokens` (or `max_completion_tokens`) within the per-request token
    /// budget; set to the budget when the request gives none.
    fn cap_tokens(&self, obj: &mut Map<String, Value>) -> Result<()> {
        let cap = self.budget.llm_tokens;
        let mut asked = false;
        for key in ["max_tokens", "max_completion_tokens"] {
            match obj.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n > 0) => {
                    asked = true;
                    if n.as_u64().is_some_and(|n| n > cap) {
                        obj.insert(key.into(), json!(cap));
                    }
                }
                Some(_) => {
                    return Err(Error::BadRequest(format!(
                        "`{key}` must be a positive integer"
                    )));
                }
            }
        }
        if !asked {
            obj.insert("max_tokens".into(), json!(cap));
        }
        Ok(())
    }

    fn answer_scanner(&self, who: &Principal, g: &Guarded<'_>) -> Option<relay::Scanner> {
        g.scan_answers.then(|| relay::Scanner {
            gateway: AnswerScan {
                pii: self.pii.clone(),
                who: who.clone(),
            },
            originals: g.originals.clone(),
        })
    }

    async fn scan_answer(
        &self,
        who: &Principal,
        g: &Guarded<'_>,
        text: &str,
    ) -> Result<(String, BTreeMap<String, usize>)> {
        AnswerScan {
            pii: self.pii.clone(),
            who: who.clone(),
        }
        .mask_new(text, &g.originals)
        .await
    }

    /// `POST /v1/openai/embeddings`: the same guard; token-array inputs cannot be checked and
    /// are refused for a provider without `allow_pii`.
    pub async fn embeddings(&self, who: &Principal, mut body: Value) -> Result<Value> {
        let started = Instant::now();
        let Some(obj) = body.as_object_mut() else {
            return Err(Error::BadRequest("the body must be a JSON object".into()));
        };
        let model = model_of(obj)?;
        let (slots, tokens_only) = embedding_slots(obj)?;
        let (target, model_name) = self.target(&model)?;
        if tokens_only {
            let refuse = match &target {
                Target::Provider(p) => self.providers.get(*p).is_none_or(|p| !p.allow_pii),
                Target::Route(_) => true,
            };
            if refuse {
                return Err(Error::PolicyRefused(
                    "token-id inputs cannot be checked for personal data; send text, or use a \
                     provider with allow_pii = true"
                        .into(),
                ));
            }
        }
        let prompt_bytes: usize = slots.iter().map(|s| s.text.len()).sum();
        let deadline = started + Duration::from_millis(self.budget.wall_time_ms);
        let g = self.guard(who, &target, body, slots).await?;
        let mut meta = self.meta(who, model_name, &g, started, false);
        meta.model = format!("{model_name} (embeddings)");
        let result = async {
            let sent = llm::send(
                g.provider_name,
                g.provider,
                Endpoint::Embeddings,
                &g.cleared,
                deadline,
            )
            .await
            .map_err(upstream)?;
            let raw = llm::read_body(g.provider_name, g.provider, sent, deadline)
                .await
                .map_err(upstream)?;
            match serde_json::from_slice::<Value>(&raw) {
                Ok(v @ Value::Object(_)) => Ok(v),
                _ => Err(Error::Upstream(format!(
                    "provider `{}` did not answer with embeddings",
                    g.provider_name
                ))),
            }
        }
        .await;
        match result {
            Ok(mut answer) => {
                answer["model"] = Value::String(model_name.to_owned());
                meta.tokens = answer
                    .pointer("/usage/total_tokens")
                    .and_then(Value::as_u64)
                    .unwrap_or_else(|| llm::estimate_bytes(prompt_bytes));
                meta.record();
                Ok(answer)
            }
            Err(e) => {
                meta.outcome = e.outcome();
                meta.record();
                Err(e)
            }
        }
    }
}

/// The text of a message's `content`: the string, or its text parts joined.
fn text_content(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn model_entry(name: &str, kind: &str) -> Value {
    json!({"id": name, "object": "model", "created": 0, "owned_by": format!("warden:{kind}")})
}

fn model_of(obj: &Map<String, Value>) -> Result<String> {
    match obj.get("model") {
        Some(Value::String(m)) if !m.is_empty() => Ok(m.clone()),
        _ => Err(Error::BadRequest(
            "`model` is required: a model listed by GET /v1/openai/models".into(),
        )),
    }
}

fn upstream(e: llm::LlmError) -> Error {
    match e {
        llm::LlmError::Deadline(_) => Error::BudgetExhausted(e.to_string()),
        other => Error::Upstream(other.to_string()),
    }
}

/// Every text of a chat request the guard reads: each message's `content` (a string, or the
/// `text` of its text parts) and each tool call's (or legacy function call's) `arguments`.
fn chat_slots(obj: &Map<String, Value>) -> Result<Vec<Slot>> {
    let Some(Value::Array(messages)) = obj.get("messages") else {
        return Err(Error::BadRequest(
            "`messages` must be a list of messages".into(),
        ));
    };
    if messages.is_empty() {
        return Err(Error::BadRequest("`messages` must not be empty".into()));
    }
    let mut slots = Vec::new();
    let mut push = |pointer: String, v: &Value| {
        if let Value::String(s) = v {
            slots.push(Slot {
                pointer,
                text: s.clone(),
            });
        }
    };
    for (i, m) in messages.iter().enumerate() {
        let Value::Object(m) = m else {
            return Err(Error::BadRequest(format!("messages[{i}] is not an object")));
        };
        match m.get("content") {
            Some(v @ Value::String(_)) => push(format!("/messages/{i}/content"), v),
            Some(Value::Array(parts)) => {
                for (j, p) in parts.iter().enumerate() {
                    match p.get("type").and_then(Value::as_str) {
                        Some("text") => {
                            if let Some(t) = p.get("text") {
                                push(format!("/messages/{i}/content/{j}/text"), t);
                            }
                        }
                        Some("refusal") => {
                            if let Some(t) = p.get("refusal") {
                                push(format!("/messages/{i}/content/{j}/refusal"), t);
                            }
                        }
                        // Images, audio and files cannot be checked here.
                        other => {
                            return Err(Error::BadRequest(format!(
                                "messages[{i}].content[{j}] is of type {other:?}; the gateway \
                                 checks text parts only"
                            )));
                        }
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => {
                return Err(Error::BadRequest(format!(
                    "messages[{i}].content must be a string or a list of parts"
                )));
            }
        }
        if let Some(Value::Array(calls)) = m.get("tool_calls") {
            for (j, c) in calls.iter().enumerate() {
                if let Some(a) = c.pointer("/function/arguments") {
                    push(
                        format!("/messages/{i}/tool_calls/{j}/function/arguments"),
                        a,
                    );
                }
            }
        }
        if let Some(a) = m.get("function_call").and_then(|f| f.get("arguments")) {
            push(format!("/messages/{i}/function_call/arguments"), a);
        }
    }
    Ok(slots)
}

/// The texts of an embeddings request, and whether it holds only token ids.
fn embedding_slots(obj: &Map<String, Value>) -> Result<(Vec<Slot>, bool)> {
    let text = |pointer: String, s: &str| Slot {
        pointer,
        text: s.to_owned(),
    };
    match obj.get("input") {
        Some(Value::String(s)) => Ok((vec![text("/input".into(), s)], false)),
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut slots = Vec::new();
            let mut ids = false;
            for (i, it) in items.iter().enumerate() {
                match it {
                    Value::String(s) => slots.push(text(format!("/input/{i}"), s)),
                    Value::Number(_) | Value::Array(_) => ids = true,
                    _ => {
                        return Err(Error::BadRequest(format!(
                            "input[{i}] must be a string or token ids"
                        )));
                    }
                }
            }
            Ok((slots, ids))
        }
        _ => Err(Error::BadRequest(
            "`input` must be a string or a non-empty list".into(),
        )),
    }
}

/// Restores placeholders in a non-streamed answer message: its text and every tool call's
/// arguments. Returns how many were put back.
fn restore_message(message: &mut Value, vault: &Arc<Pseudonyms>) -> usize {
    let mut n = 0;
    let mut fix = |v: Option<&mut Value>, enc: Encoding| {
        if let Some(Value::String(s)) = v {
            let (out, k) = restore_all(s, vault, enc);
            *s = out;
            n += k;
        }
    };
    fix(message.get_mut("content"), Encoding::Plain);
    fix(message.get_mut("refusal"), Encoding::Plain);
    if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
        for c in calls {
            fix(c.pointer_mut("/function/arguments"), Encoding::JsonString);
        }
    }
    fix(
        message.pointer_mut("/function_call/arguments"),
        Encoding::JsonString,
    );
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_of_a_chat_is_a_slot() {
        let body = json!({"model": "m", "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": [{"type": "text", "text": "t"}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
            {"role": "tool", "tool_call_id": "c", "content": "r"},
        ]});
        let slots = chat_slots(body.as_object().unwrap()).unwrap();
        let pointers: Vec<&str> = slots.iter().map(|s| s.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/messages/0/content",
                "/messages/1/content/0/text",
                "/messages/2/tool_calls/0/function/arguments",
                "/messages/3/content"
            ]
        );
        for s in &slots {
            assert_eq!(
                body.pointer(&s.pointer).and_then(Value::as_str),
                Some(s.text.as_str())
            );
        }
    }

    #[test]
    fn parts_the_guard_cannot_read_are_refused() {
        let body = json!({"model": "m", "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]});
        assert!(chat_slots(body.as_object().unwrap()).is_err());
        let empty = json!({"model": "m", "messages": []});
        assert!(chat_slots(empty.as_object().unwrap()).is_err());
    }

    #[test]
    fn a_model_must_name_configured_providers() {
        let mut providers = Providers::new();
        providers.insert(
            "local".into(),
            serde_json::from_value(json!({"base_url": "http://127.0.0.1:1/v1", "model": "m"}))
                .unwrap(),
        );
        let mut c = GatewayConfig::default();
        c.models.insert(
            "assistant".into(),
            serde_json::from_value(json!({"default": "nowhere"})).unwrap(),
        );
        let e = c.validate(&providers).unwrap_err();
        assert!(e.message.contains("nowhere"), "{}", e.message);
        c.models.insert(
            "local".into(),
            serde_json::from_value(json!({"default": "local"})).unwrap(),
        );
        c.models.remove("assistant");
        assert!(
            c.validate(&providers).is_err(),
            "a model may not shadow a provider"
        );
        c.expose_providers = false;
        assert!(c.validate(&providers).is_ok());
    }
}
