//! Typed calls into each world: the host-side types, their conversion to and from the
//! generated bindings, and the checks on what a plugin returns.
//!
//! Results from plugins are untrusted: findings are checked (offsets in range and on character
//! boundaries, sorted, non-overlapping, finite scores in [0, 1]) before anyone sees them.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use wasmtime::Store;
use wasmtime::component::{InstancePre, ResourceAny};

use super::bindings::{analyzer, detector, rendering, runner, template, types};
use super::outcome::{CallError, GuestError, Outcome, Position};
use super::policy::{ANALYZER_EXPORT, ComponentInfo, RENDERING_EXPORT};
use super::state::CallState;
use super::{Engine, Limits, Plugin, Tools, World, classify, report};

/// The export indices of a plugin's world, resolved once at load.
pub(crate) enum Exports {
    Template(template::GuestIndices, Option<rendering::GuestIndices>),
    Pii(detector::GuestIndices, Option<analyzer::GuestIndices>),
    Code(runner::GuestIndices),
}

impl Exports {
    pub(crate) fn new(
        world: World,
        info: &ComponentInfo,
        pre: &InstancePre<CallState>,
    ) -> wasmtime::Result<Exports> {
        Ok(match world {
            World::TemplateEngine => Exports::Template(
                template::GuestIndices::new(pre)?,
                if exports(info, RENDERING_EXPORT) {
                    Some(rendering::GuestIndices::new(pre)?)
                } else {
                    None
                },
            ),
            World::PiiDetector => {
                let analyzer = exports(info, ANALYZER_EXPORT);
                Exports::Pii(
                    detector::GuestIndices::new(pre)?,
                    if analyzer {
                        Some(analyzer::GuestIndices::new(pre)?)
                    } else {
                        None
                    },
                )
            }
            World::CodeRunner => Exports::Code(runner::GuestIndices::new(pre)?),
        })
    }
}

/// Whether the component exports `interface` (any version).
fn exports(info: &ComponentInfo, interface: &str) -> bool {
    info.exports
        .iter()
        .any(|e| e.split('@').next() == Some(interface))
}

/// Included sources as the WIT's records.
fn wit_sources(sources: &[(String, String)]) -> Vec<rendering::Source> {
    sources
        .iter()
        .map(|(name, template)| rendering::Source {
            name: name.clone(),
            template: template.clone(),
        })
        .collect()
}

/// The outcome of asking a template engine without `rendering` for what only it offers.
fn without_rendering<T>(plugin: &Plugin) -> Outcome<T> {
    Outcome {
        result: Err(CallError::Guest(GuestError::GuestFailure {
            message: format!(
                "template engine {} does not export warden:plugin/rendering: it cannot render a dialect, an undefined mode, included templates or chat templates",
                plugin.digest
            ),
        })),
        report: Default::default(),
    }
}

fn guest_error(e: types::Error) -> GuestError {
    match e {
        types::Error::InvalidInput(i) => GuestError::InvalidInput {
            kind: i.kind,
            message: i.message,
            position: i.position.map(|p| Position {
                line: p.line,
                column: p.column,
            }),
        },
        types::Error::GuestFailure(message) => GuestError::GuestFailure { message },
    }
}

/// A template engine reporting that its own budget ran out (`invalid-input` of kind `fuel`)
/// is the call's `out_of_fuel` outcome: the caller's budget, not the caller's input.
fn engine_fuel<T>(mut out: Outcome<T>) -> Outcome<T> {
    let message = match &out.result {
        Err(CallError::Guest(GuestError::InvalidInput { kind, message, .. })) if kind == "fuel" => {
            message.clone()
        }
        _ => return out,
    };
    out.result = Err(CallError::EngineOutOfFuel { message });
    out
}

/// Options for rendering a template; unset fields take the plugin's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderOptions {
    /// Refuse undefined variables (built-in default: true).
    pub strict_undefined: Option<bool>,
    /// The template engine's own instruction budget.
    pub engine_fuel: Option<u64>,
    /// Maximum nesting of macros, loops and recursion.
    pub max_recursion: Option<u32>,
    /// Remove the first newline after a block tag.
    pub trim_blocks: Option<bool>,
    /// Strip whitespace before a block tag.
    pub lstrip_blocks: Option<bool>,
    /// Keep the template's final newline.
    pub keep_trailing_newline: Option<bool>,
    /// The template language (`minijinja`, the default, or `jinja2`); needs an engine that
    /// exports `rendering`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<Dialect>,
    /// What a missing value does (`strict`, `chainable`, `lenient`); needs `rendering`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undefined: Option<UndefinedMode>,
}

/// The template language a render uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// minijinja's own.
    Minijinja,
    /// Python Jinja2's.
    Jinja2,
}

/// What a missing variable or attribute does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndefinedMode {
    /// Using a missing value is an error with its position; testing one is not.
    Strict,
    /// Missing values and their attributes render empty.
    Chainable,
    /// Jinja2's default: a missing value renders empty, its attributes are an error.
    Lenient,
}

impl RenderOptions {
    /// Whether this render needs the `rendering` interface.
    fn needs_rendering(&self) -> bool {
        self.dialect.is_some() || self.undefined.is_some()
    }

    /// The `rendering` settings.
    fn settings(&self) -> rendering::Settings {
        rendering::Settings {
            dialect: self.dialect.map(|d| match d {
                Dialect::Minijinja => rendering::Dialect::Minijinja,
                Dialect::Jinja2 => rendering::Dialect::Jinja2,
            }),
            undefined: self.undefined.map(|u| match u {
                UndefinedMode::Strict => rendering::UndefinedMode::Strict,
                UndefinedMode::Chainable => rendering::UndefinedMode::Chainable,
                UndefinedMode::Lenient => rendering::UndefinedMode::Lenient,
            }),
        }
    }
}

/// A Hugging Face chat template to render: its text, or a whole `tokenizer_config.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatTemplate {
    /// The template text.
    Text(String),
    /// A `tokenizer_config.json` (its `chat_template` and special tokens), and which of its
    /// named templates to use.
    Config {
        /// The JSON document.
        json: String,
        /// A named template; by default `tool_use` for chats with tools, else `default`.
        name: Option<String>,
    },
}

impl From<RenderOptions> for template::RenderOptions {
    fn from(o: RenderOptions) -> Self {
        template::RenderOptions {
            strict_undefined: o.strict_undefined,
            engine_fuel: o.engine_fuel,
            max_recursion: o.max_recursion,
            trim_blocks: o.trim_blocks,
            lstrip_blocks: o.lstrip_blocks,
            keep_trailing_newline: o.keep_trailing_newline,
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant`, ...
    pub role: String,
    /// The text (a template, before rendering).
    pub content: String,
}

/// What a template reads from its context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateInfo {
    /// Top-level variables, sorted.
    pub variables: Vec<String>,
    /// Nested attribute paths, sorted.
    pub paths: Vec<String>,
}

/// Options for one detection call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectOptions {
    /// Only these entity types; empty means the detector's defaults for `countries`.
    #[serde(default)]
    pub entities: Vec<String>,
    /// With no `entities`: the defaults plus every type of these countries (ISO 3166-1
    /// alpha-2). Only detectors that export `analyzer` see it.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Drop findings below this score.
    pub min_score: Option<f32>,
    /// Ask for explanations.
    #[serde(default)]
    pub explain: bool,
    /// Language hint (BCP 47).
    pub language: Option<String>,
    /// Extra context words that raise the score of candidates near them (`analyzer` only).
    #[serde(default)]
    pub context: Vec<String>,
    /// Ad-hoc recognizers (`analyzer` only).
    #[serde(default)]
    pub recognizers: Vec<Recognizer>,
}

/// A recognizer supplied by the caller: patterns and a deny-list for one entity type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recognizer {
    /// A name for explanations and errors.
    pub name: String,
    /// The entity type its matches are reported as.
    pub entity_type: String,
    /// Regular expressions with the score of their matches.
    #[serde(default)]
    pub patterns: Vec<Pattern>,
    /// Words or phrases always reported (case-insensitive, whole words).
    #[serde(default)]
    pub deny_list: Vec<String>,
    /// Score of a deny-list match (default 1.0).
    #[serde(default)]
    pub deny_list_score: Option<f32>,
    /// Words near a match that raise its score.
    #[serde(default)]
    pub context: Vec<String>,
}

/// One regular expression of a [`Recognizer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    /// Shown in explanations.
    pub name: String,
    /// The expression (Rust `regex` syntax).
    pub regex: String,
    /// Score of a match.
    pub score: f32,
}

/// One entity type a detector reports, and what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityInfo {
    /// The type's name.
    pub entity_type: String,
    /// ISO 3166-1 alpha-2 country, none for types found everywhere.
    pub country: Option<String>,
    /// `pii` or `secret`.
    pub kind: String,
    /// How a candidate is validated beyond its shape, or `none`.
    pub validation: String,
    /// Score of a match with no context and no passed validation.
    #[serde(serialize_with = "four_decimals")]
    pub default_score: f32,
    /// Whether it runs when the caller names neither entities nor countries.
    pub default_enabled: bool,
    /// One line for people choosing what to detect.
    pub description: String,
}

impl EntityInfo {
    /// What is known of a type a detector without `analyzer` lists by name only.
    fn named(entity_type: String) -> EntityInfo {
        EntityInfo {
            entity_type,
            country: None,
            kind: "pii".into(),
            validation: "unknown".into(),
            default_score: 0.0,
            default_enabled: true,
            description: String::new(),
        }
    }
}

impl From<&DetectOptions> for analyzer::AnalyzeOptions {
    fn from(o: &DetectOptions) -> analyzer::AnalyzeOptions {
        analyzer::AnalyzeOptions {
            entities: o.entities.clone(),
            countries: o.countries.clone(),
            min_score: o.min_score,
            explain: o.explain,
            language: o.language.clone(),
            context: o.context.clone(),
            recognizers: o
                .recognizers
                .iter()
                .map(|r| analyzer::Recognizer {
                    name: r.name.clone(),
                    entity_type: r.entity_type.clone(),
                    patterns: r
                        .patterns
                        .iter()
                        .map(|p| analyzer::Pattern {
                            name: p.name.clone(),
                            regex: p.regex.clone(),
                            score: p.score,
                        })
                        .collect(),
                    deny_list: r.deny_list.clone(),
                    deny_list_score: r.deny_list_score,
                    context: r.context.clone(),
                })
                .collect(),
        }
    }
}

impl From<&DetectOptions> for detector::DetectOptions {
    fn from(o: &DetectOptions) -> detector::DetectOptions {
        detector::DetectOptions {
            entities: o.entities.clone(),
            min_score: o.min_score,
            explain: o.explain,
            language: o.language.clone(),
        }
    }
}

/// One piece of personal data found in a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Entity type, such as `EMAIL_ADDRESS`.
    pub entity_type: String,
    /// Start, UTF-8 bytes, inclusive.
    pub start: u32,
    /// End, UTF-8 bytes, exclusive.
    pub end: u32,
    /// Confidence in [0, 1] (JSON shows it rounded to 4 decimals, not as f32 noise).
    #[serde(serialize_with = "four_decimals")]
    pub score: f32,
    /// Why it was reported, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

fn four_decimals<S: serde::Serializer>(score: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((f64::from(*score) * 1e4).round() / 1e4)
}

/// What a detector is and what it finds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorInfo {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The entity types it reports.
    pub entity_types: Vec<String>,
    /// What each type means (from `analyzer`; by name only for detectors without it).
    pub entities: Vec<EntityInfo>,
}

/// Options for a new code-runner session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionOptions {
    /// Interpreter recursion limit.
    pub max_recursion: Option<u32>,
    /// Interpreter heap budget, bytes.
    pub max_heap_bytes: Option<u64>,
    /// Interpreter allocation budget per eval.
    pub max_allocations: Option<u64>,
    /// Host tools the code may call.
    #[serde(default)]
    pub tools: Vec<String>,
}

impl From<&SessionOptions> for runner::SessionOptions {
    fn from(o: &SessionOptions) -> Self {
        runner::SessionOptions {
            max_recursion: o.max_recursion,
            max_heap_bytes: o.max_heap_bytes,
            max_allocations: o.max_allocations,
            tools: o.tools.clone(),
        }
    }
}

/// What evaluating one cell produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalOutput {
    /// Everything printed.
    pub stdout: String,
    /// `repr()` of the last expression, if any and not `None`.
    pub repr: Option<String>,
    /// The same value as JSON, when representable.
    pub json: Option<String>,
}

/// Checks a plugin's findings against the text; the first problem found, if any.
fn check_findings(text: &str, findings: &[Finding]) -> Result<(), String> {
    let mut previous_end = 0u32;
    for (i, f) in findings.iter().enumerate() {
        let (s, e) = (f.start as usize, f.end as usize);
        if f.start >= f.end || e > text.len() {
            return Err(format!(
                "finding {i} has offsets {}..{} outside the {}-byte text",
                f.start,
                f.end,
                text.len()
            ));
        }
        if !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            return Err(format!(
                "finding {i} ({}..{}) splits a UTF-8 character",
                f.start, f.end
            ));
        }
        if !f.score.is_finite() || !(0.0..=1.0).contains(&f.score) {
            return Err(format!("finding {i} has score {}, outside [0, 1]", f.score));
        }
        if i > 0 && f.start < previous_end {
            return Err(format!(
                "finding {i} ({}..{}) overlaps or precedes the one before it",
                f.start, f.end
            ));
        }
        if f.entity_type.is_empty() || f.entity_type.len() > 64 {
            return Err(format!("finding {i} has an invalid entity type"));
        }
        previous_end = f.end;
    }
    Ok(())
}

impl Engine {
    /// Renders `template` with the JSON object `context_json` in a fresh instance of `plugin`.
    pub fn render(
        &self,
        plugin: &Plugin,
        template: &str,
        context_json: &str,
        options: RenderOptions,
        limits: Limits,
    ) -> Outcome<String> {
        self.render_with(plugin, template, context_json, options, &[], limits)
    }

    /// Renders `template` where `{% include %}`, `{% import %}` and `{% extends %}` find the
    /// given `(name, text)` sources; a dialect, an undefined mode or sources need an engine
    /// that exports `rendering` (one that does not is refused with `guest_failure`).
    pub fn render_with(
        &self,
        plugin: &Plugin,
        template: &str,
        context_json: &str,
        options: RenderOptions,
        sources: &[(String, String)],
        limits: Limits,
    ) -> Outcome<String> {
        let Exports::Template(idx, ext) = &plugin.exports else {
            return mismatch(plugin, World::TemplateEngine);
        };
        let rich = options.needs_rendering() || !sources.is_empty();
        let ext = match (rich, ext) {
            (true, None) => return without_rendering(plugin),
            (true, Some(ext)) => Some(ext),
            (false, _) => None,
        };
        let wit_sources = wit_sources(sources);
        engine_fuel(self.call(plugin, limits, String::len, |store, instance| {
            let out = match ext {
                Some(ext) => ext.load(&mut *store, instance)?.call_render_with(
                    &mut *store,
                    template,
                    context_json,
                    options.into(),
                    options.settings(),
                    &wit_sources,
                )?,
                None => idx.load(&mut *store, instance)?.call_render(
                    &mut *store,
                    template,
                    context_json,
                    options.into(),
                )?,
            };
            Ok(out.map_err(guest_error))
        }))
    }

    /// Renders each message's content with one context.
    pub fn render_chat(
        &self,
        plugin: &Plugin,
        messages: &[ChatMessage],
        context_json: &str,
        options: RenderOptions,
        limits: Limits,
    ) -> Outcome<Vec<ChatMessage>> {
        self.render_chat_with(plugin, messages, context_json, options, &[], limits)
    }

    /// [`Engine::render_chat`] with included sources, as [`Engine::render_with`].
    pub fn render_chat_with(
        &self,
        plugin: &Plugin,
        messages: &[ChatMessage],
        context_json: &str,
        options: RenderOptions,
        sources: &[(String, String)],
        limits: Limits,
    ) -> Outcome<Vec<ChatMessage>> {
        let Exports::Template(idx, ext) = &plugin.exports else {
            return mismatch(plugin, World::TemplateEngine);
        };
        let rich = options.needs_rendering() || !sources.is_empty();
        let ext = match (rich, ext) {
            (true, None) => return without_rendering(plugin),
            (true, Some(ext)) => Some(ext),
            (false, _) => None,
        };
        let wit: Vec<template::ChatMessage> = messages
            .iter()
            .map(|m| template::ChatMessage {
                role: m.role.clone(),
                content: m.content.clone(),
            })
            .collect();
        let wit_sources = wit_sources(sources);
        let size =
            |out: &Vec<ChatMessage>| out.iter().map(|m| m.role.len() + m.content.len()).sum();
        engine_fuel(self.call(plugin, limits, size, |store, instance| {
            let out = match ext {
                Some(ext) => ext.load(&mut *store, instance)?.call_render_chat_with(
                    &mut *store,
                    &wit,
                    context_json,
                    options.into(),
                    options.settings(),
                    &wit_sources,
                )?,
                None => idx.load(&mut *store, instance)?.call_render_chat(
                    &mut *store,
                    &wit,
                    context_json,
                    options.into(),
                )?,
            };
            Ok(out
                .map(|out| {
                    out.into_iter()
                        .map(|m| ChatMessage {
                            role: m.role,
                            content: m.content,
                        })
                        .collect()
                })
                .map_err(guest_error))
        }))
    }

    /// Renders a Hugging Face chat template from a JSON request (`messages`, `tools`,
    /// `documents`, `add_generation_prompt`, tokens, other variables) as transformers'
    /// `apply_chat_template` does; needs an engine that exports `rendering`.
    pub fn render_chat_template(
        &self,
        plugin: &Plugin,
        template: &ChatTemplate,
        request_json: &str,
        options: RenderOptions,
        limits: Limits,
    ) -> Outcome<String> {
        let Exports::Template(_, ext) = &plugin.exports else {
            return mismatch(plugin, World::TemplateEngine);
        };
        let Some(ext) = ext else {
            return without_rendering(plugin);
        };
        let (text, config, name) = match template {
            ChatTemplate::Text(t) => (t.as_str(), None, None),
            ChatTemplate::Config { json, name } => ("", Some(json.as_str()), name.as_deref()),
        };
        engine_fuel(self.call(plugin, limits, String::len, |store, instance| {
            Ok(ext
                .load(&mut *store, instance)?
                .call_render_chat_template(
                    &mut *store,
                    text,
                    config,
                    name,
                    request_json,
                    options.into(),
                    options.settings(),
                )?
                .map_err(guest_error))
        }))
    }

    /// Lists the variables a template reads; a syntax error comes back with its position.
    pub fn inspect_template(
        &self,
        plugin: &Plugin,
        template: &str,
        limits: Limits,
    ) -> Outcome<TemplateInfo> {
        let Exports::Template(idx, _) = &plugin.exports else {
            return mismatch(plugin, World::TemplateEngine);
        };
        let size = |i: &TemplateInfo| i.variables.iter().chain(&i.paths).map(String::len).sum();
        self.call(plugin, limits, size, |store, instance| {
            let guest = idx.load(&mut *store, instance)?;
            Ok(guest
                .call_inspect(&mut *store, template)?
                .map(|i| TemplateInfo {
                    variables: i.variables,
                    paths: i.paths,
                })
                .map_err(guest_error))
        })
    }

    /// Asks a detector what it is (and, through `analyzer`, what each of its types means).
    pub fn describe(&self, plugin: &Plugin, limits: Limits) -> Outcome<DetectorInfo> {
        let Exports::Pii(idx, analyzer) = &plugin.exports else {
            return mismatch(plugin, World::PiiDetector);
        };
        let size = |i: &DetectorInfo| {
            i.name.len()
                + i.version.len()
                + i.entity_types.iter().map(String::len).sum::<usize>()
                + i.entities
                    .iter()
                    .map(|e| 16 + e.entity_type.len() + e.validation.len() + e.description.len())
                    .sum::<usize>()
        };
        self.call(plugin, limits, size, |store, instance| {
            let guest = idx.load(&mut *store, instance)?;
            let i = guest.call_describe(&mut *store)?;
            let entities = match analyzer {
                Some(a) => a
                    .load(&mut *store, instance)?
                    .call_entities(&mut *store)?
                    .into_iter()
                    .map(|e| EntityInfo {
                        entity_type: e.entity_type,
                        country: e.country,
                        kind: e.kind,
                        validation: e.validation,
                        default_score: e.default_score,
                        default_enabled: e.default_enabled,
                        description: e.description,
                    })
                    .collect(),
                None => i
                    .entity_types
                    .iter()
                    .cloned()
                    .map(EntityInfo::named)
                    .collect(),
            };
            Ok(Ok(DetectorInfo {
                name: i.name,
                version: i.version,
                entity_types: i.entity_types,
                entities,
            }))
        })
    }

    /// Finds personal data in `text`; the findings are checked before they are returned.
    pub fn detect(
        &self,
        plugin: &Plugin,
        text: &str,
        options: &DetectOptions,
        limits: Limits,
    ) -> Outcome<Vec<Finding>> {
        let out = self.detect_batch(plugin, &[text], options, limits);
        Outcome {
            result: out.result.map(|mut all| all.pop().unwrap_or_default()),
            report: out.report,
        }
    }

    /// Finds personal data in each of `texts` with one instance (the texts belong to one
    /// request; the limits cover the whole batch). Each text's findings are checked.
    pub fn detect_batch(
        &self,
        plugin: &Plugin,
        texts: &[&str],
        options: &DetectOptions,
        limits: Limits,
    ) -> Outcome<Vec<Vec<Finding>>> {
        let Exports::Pii(idx, analyzer) = &plugin.exports else {
            return mismatch(plugin, World::PiiDetector);
        };
        let size = |all: &Vec<Vec<Finding>>| findings_size(all.iter().flatten());
        self.call(plugin, limits, size, |store, instance| {
            scan_batch(store, instance, idx, analyzer.as_ref(), texts, options)
        })
    }

    /// Scans `texts`, then what `then` makes of their findings, in the same instance under
    /// the same limits: a text the caller derives from the findings within the same request,
    /// such as the bytes a gateway is about to send once it has pseudonymised what the first
    /// scan found. `then` runs on the calling thread between the two scans and also returns
    /// a value for the caller; without a second text the call ends after the first scan.
    pub fn detect_batch_then<X>(
        &self,
        plugin: &Plugin,
        texts: &[&str],
        options: &DetectOptions,
        limits: Limits,
        then: impl FnOnce(&[Vec<Finding>]) -> (X, Option<(String, DetectOptions)>),
    ) -> Outcome<Rescanned<X>> {
        let Exports::Pii(idx, analyzer) = &plugin.exports else {
            return mismatch(plugin, World::PiiDetector);
        };
        let size = |r: &Rescanned<X>| {
            findings_size(
                r.first
                    .iter()
                    .flatten()
                    .chain(r.second.iter().flat_map(|s| &s.1)),
            )
        };
        self.call(plugin, limits, size, |store, instance| {
            let first = match scan_batch(store, instance, idx, analyzer.as_ref(), texts, options)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            let (value, next) = then(&first);
            let second = match next {
                None => None,
                Some((text, options)) => {
                    match scan_batch(store, instance, idx, analyzer.as_ref(), &[&text], &options)? {
                        Ok(mut found) => Some((text, found.pop().unwrap_or_default())),
                        Err(e) => return Ok(Err(e)),
                    }
                }
            };
            Ok(Ok(Rescanned {
                first,
                value,
                second,
            }))
        })
    }

    /// Starts a code-runner session whose instance lives until the [`CodeSession`] is dropped.
    pub fn start_session(
        &self,
        plugin: &Plugin,
        options: &SessionOptions,
        limits: Limits,
        tools: Arc<dyn Tools>,
    ) -> Outcome<CodeSession> {
        self.open_session(plugin, options, limits, tools, None)
    }

    /// Rebuilds a session from [`CodeSession::snapshot`] output in a fresh instance.
    pub fn restore_session(
        &self,
        plugin: &Plugin,
        snapshot: &[u8],
        options: &SessionOptions,
        limits: Limits,
        tools: Arc<dyn Tools>,
    ) -> Outcome<CodeSession> {
        self.open_session(plugin, options, limits, tools, Some(snapshot))
    }

    fn open_session(
        &self,
        plugin: &Plugin,
        options: &SessionOptions,
        limits: Limits,
        tools: Arc<dyn Tools>,
        snapshot: Option<&[u8]>,
    ) -> Outcome<CodeSession> {
        let Exports::Code(idx) = &plugin.exports else {
            return mismatch(plugin, World::CodeRunner);
        };
        let limits = limits.clamp_to(&self.inner.config.caps);
        let start = Instant::now();
        let mut store = self.store(&limits, tools, start);
        let opts = runner::SessionOptions::from(options);
        let opened = (|| -> wasmtime::Result<Result<(runner::Guest, ResourceAny), GuestError>> {
            let instance = plugin.pre.instantiate(&mut store)?;
            let guest = idx.load(&mut store, &instance)?;
            let made = match snapshot {
                None => Ok(guest.session().call_constructor(&mut store, &opts)?),
                Some(bytes) => guest
                    .session()
                    .call_restore(&mut store, bytes, &opts)?
                    .map_err(guest_error),
            };
            Ok(made.map(|session| (guest, session)))
        })();
        let result = match opened {
            Ok(Ok(pair)) => Ok(pair),
            Ok(Err(e)) => Err(CallError::Guest(e)),
            Err(e) => Err(classify(&e, store.data(), &limits)),
        };
        let report = report(&store, &limits, start);
        let result = result.map(|(guest, session)| CodeSession {
            store,
            guest,
            session,
            limits,
            broken: None,
        });
        Outcome { result, report }
    }
}

/// What [`Engine::detect_batch_then`] found: the first scan's findings per text, the value its
/// continuation returned, and the second scan's findings (if it asked for one).
#[derive(Debug)]
pub struct Rescanned<X> {
    /// Findings per text of the first scan.
    pub first: Vec<Vec<Finding>>,
    /// What the continuation returned.
    pub value: X,
    /// The continuation's text and the findings in it, if it gave one.
    pub second: Option<(String, Vec<Finding>)>,
}

/// The bytes a detector's findings count against the output limit.
fn findings_size<'a>(found: impl IntoIterator<Item = &'a Finding>) -> usize {
    found
        .into_iter()
        .map(|f| 16 + f.entity_type.len() + f.explanation.as_ref().map_or(0, String::len))
        .sum()
}

/// Scans each of `texts` in `instance`, through `analyzer` when the component exports it, and
/// checks every text's findings.
fn scan_batch(
    store: &mut Store<CallState>,
    instance: &wasmtime::component::Instance,
    idx: &detector::GuestIndices,
    analyzer: Option<&analyzer::GuestIndices>,
    texts: &[&str],
    options: &DetectOptions,
) -> wasmtime::Result<Result<Vec<Vec<Finding>>, GuestError>> {
    let plain = detector::DetectOptions::from(options);
    let rich = analyzer::AnalyzeOptions::from(options);
    let mut all = Vec::with_capacity(texts.len());
    for text in texts {
        let found = match analyzer {
            Some(a) => a
                .load(&mut *store, instance)?
                .call_analyze(&mut *store, text, &rich)?,
            None => idx
                .load(&mut *store, instance)?
                .call_detect(&mut *store, text, &plain)?,
        };
        let found = match found {
            Ok(found) => found,
            Err(e) => return Ok(Err(guest_error(e))),
        };
        let findings: Vec<Finding> = found
            .into_iter()
            .map(|f| Finding {
                entity_type: f.entity_type,
                start: f.start,
                end: f.end,
                score: f.score,
                explanation: f.explanation,
            })
            .collect();
        if let Err(why) = check_findings(text, &findings) {
            return Ok(Err(GuestError::GuestFailure {
                message: format!("the detector returned an invalid result: {why}"),
            }));
        }
        all.push(findings);
    }
    Ok(Ok(all))
}

fn mismatch<T>(plugin: &Plugin, world: World) -> Outcome<T> {
    Outcome {
        result: plugin
            .expect_world(world)
            .and(Err(CallError::Host("world mismatch".into()))),
        report: Default::default(),
    }
}

/// A live code-runner session: one instance whose interpreter state persists between evals.
/// Each eval gets the session's fuel, deadline and output limits afresh; memory is the
/// session's for its whole life. After a trap or a limit the session is unusable (its
/// instance may be mid-update) and every later call says so: restore from a snapshot.
pub struct CodeSession {
    store: Store<CallState>,
    guest: runner::Guest,
    session: ResourceAny,
    limits: Limits,
    broken: Option<String>,
}

impl CodeSession {
    fn begin(&mut self) -> Result<Instant, CallError> {
        if let Some(why) = &self.broken {
            return Err(CallError::Trap {
                message: format!(
                    "this session ended after an earlier failure ({why}); restore it from a snapshot"
                ),
            });
        }
        let start = Instant::now();
        let (deadline, left) = super::deadline(start, self.limits.wall_time);
        let _ = self.store.set_fuel(self.limits.fuel);
        self.store.set_epoch_deadline(super::ticks(left));
        self.store.data_mut().deadline = deadline;
        Ok(start)
    }

    fn finish<T>(
        &mut self,
        start: Instant,
        result: wasmtime::Result<Result<T, GuestError>>,
        size: impl FnOnce(&T) -> usize,
    ) -> Outcome<T> {
        let limits = self.limits;
        let result = match result {
            Ok(Ok(v)) => {
                let n = size(&v) as u64;
                if n > limits.output_bytes {
                    Err(CallError::OutputTooLarge {
                        size: n,
                        limit: limits.output_bytes,
                    })
                } else {
                    Ok(v)
                }
            }
            Ok(Err(e)) => Err(CallError::Guest(e)),
            Err(e) => {
                let err = classify(&e, self.store.data(), &limits);
                self.broken = Some(err.outcome().to_owned());
                Err(err)
            }
        };
        let report = report(&self.store, &limits, start);
        Outcome {
            result: result.map_err(|e| super::with_panic_message(e, &report.logs)),
            report,
        }
    }

    /// Runs one call on the session's instance with fresh per-call budgets.
    fn run<T>(
        &mut self,
        call: impl FnOnce(
            &runner::Guest,
            &mut Store<CallState>,
            ResourceAny,
        ) -> wasmtime::Result<Result<T, GuestError>>,
        size: impl FnOnce(&T) -> usize,
    ) -> Outcome<T> {
        let start = match self.begin() {
            Ok(s) => s,
            Err(e) => {
                return Outcome {
                    result: Err(e),
                    report: Default::default(),
                };
            }
        };
        let r = call(&self.guest, &mut self.store, self.session);
        self.finish(start, r, size)
    }

    /// Evaluates one cell; variables and functions persist to the next.
    pub fn eval(&mut self, code: &str) -> Outcome<EvalOutput> {
        self.run(
            |guest, store, session| {
                Ok(guest
                    .session()
                    .call_eval(store, session, code)?
                    .map(|o| EvalOutput {
                        stdout: o.stdout,
                        repr: o.repr,
                        json: o.json,
                    })
                    .map_err(guest_error))
            },
            |o| {
                o.stdout.len()
                    + o.repr.as_ref().map_or(0, String::len)
                    + o.json.as_ref().map_or(0, String::len)
            },
        )
    }

    /// Serialises the session's state, to be given to [`Engine::restore_session`].
    pub fn snapshot(&mut self) -> Outcome<Vec<u8>> {
        self.run(
            |guest, store, session| {
                Ok(guest
                    .session()
                    .call_snapshot(store, session)?
                    .map_err(guest_error))
            },
            Vec::len,
        )
    }

    /// Largest memory the session's instance has reached, bytes.
    pub fn peak_memory_bytes(&self) -> u64 {
        self.store.data().limiter.peak as u64
    }

    /// Ends the session. Dropping it does the same, but inside a [`super::CallPool`] call this
    /// lets the instance's teardown (the reset of its memory) run after the caller has its
    /// answer, as for one-shot calls.
    pub fn close(self) {
        super::pool::retire(self.store);
    }
}

/// One instance kept across calls, for measuring what a fresh instance per call costs.
/// Benchmarks only (the `bench` feature): Warden never reuses an instance between calls in
/// production, and the shipped build does not contain this type.
#[cfg(feature = "bench")]
pub struct ReusedInstance {
    store: Store<CallState>,
    instance: wasmtime::component::Instance,
    limits: Limits,
}

/// Where one fresh detector call's time goes, phase by phase (benchmarks only: the `bench`
/// feature). The phases are those of every sandbox call, timed separately.
#[cfg(feature = "bench")]
#[derive(Debug, Clone, Copy, Default)]
pub struct CallPhases {
    /// A new `Store` with its limits (fuel, epoch deadline, memory limiter, WASI context).
    pub store: std::time::Duration,
    /// Instantiating the pre-linked component: every core instance, its memory from the
    /// snapshot (copy-on-write), tables, globals.
    pub instantiate: std::time::Duration,
    /// A trivial export (`describe`): entering the guest and lowering/lifting small values.
    pub describe: std::time::Duration,
    /// `detect` itself: lowering the text, the detector's work, lifting the findings.
    pub detect: std::time::Duration,
    /// Dropping the store: the instance's memory reset and returned to the pool.
    pub teardown: std::time::Duration,
}

#[cfg(feature = "bench")]
impl Engine {
    /// One fresh detector call (with the default options) timed phase by phase.
    pub fn detect_phases(
        &self,
        plugin: &Plugin,
        text: &str,
        limits: Limits,
    ) -> Result<CallPhases, CallError> {
        let Exports::Pii(idx, _) = &plugin.exports else {
            return Err(CallError::Host("not a detector".into()));
        };
        let opts = detector::DetectOptions::from(&DetectOptions::default());
        let mut phases = CallPhases::default();
        let t = Instant::now();
        let mut store = self.store(&limits, Arc::new(super::NoTools), t);
        phases.store = t.elapsed();
        let fail =
            |e: wasmtime::Error, store: &Store<CallState>| classify(&e, store.data(), &limits);
        let t = Instant::now();
        let instance = plugin
            .pre
            .instantiate(&mut store)
            .map_err(|e| fail(e, &store))?;
        phases.instantiate = t.elapsed();
        let guest = idx
            .load(&mut store, &instance)
            .map_err(|e| fail(e, &store))?;
        let t = Instant::now();
        guest
            .call_describe(&mut store)
            .map_err(|e| fail(e, &store))?;
        phases.describe = t.elapsed();
        let t = Instant::now();
        let found = guest
            .call_detect(&mut store, text, &opts)
            .map_err(|e| fail(e, &store))?;
        phases.detect = t.elapsed();
        if let Err(e) = found {
            return Err(CallError::Guest(guest_error(e)));
        }
        let t = Instant::now();
        drop(store);
        phases.teardown = t.elapsed();
        Ok(phases)
    }

    /// Instantiates `plugin` once for [`ReusedInstance`] calls (benchmarks only).
    pub fn reused_instance(
        &self,
        plugin: &Plugin,
        limits: Limits,
    ) -> Result<ReusedInstance, CallError> {
        let mut store = self.store(&limits, Arc::new(super::NoTools), Instant::now());
        let instance = plugin
            .pre
            .instantiate(&mut store)
            .map_err(|e| classify(&e, store.data(), &limits))?;
        Ok(ReusedInstance {
            store,
            instance,
            limits,
        })
    }
}

#[cfg(feature = "bench")]
impl ReusedInstance {
    fn reset(&mut self) {
        let _ = self.store.set_fuel(self.limits.fuel);
        self.store
            .set_epoch_deadline(super::ticks(self.limits.wall_time));
    }

    /// Renders in the kept instance.
    pub fn render(
        &mut self,
        plugin: &Plugin,
        template: &str,
        context_json: &str,
    ) -> Result<String, CallError> {
        let Exports::Template(idx, _) = &plugin.exports else {
            return Err(CallError::Host("not a template engine".into()));
        };
        self.reset();
        let mut run = || -> wasmtime::Result<Result<String, types::Error>> {
            let guest = idx.load(&mut self.store, &self.instance)?;
            guest.call_render(
                &mut self.store,
                template,
                context_json,
                RenderOptions::default().into(),
            )
        };
        match run() {
            Ok(r) => r.map_err(|e| CallError::Guest(guest_error(e))),
            Err(e) => Err(classify(&e, self.store.data(), &self.limits)),
        }
    }

    /// Detects in the kept instance.
    pub fn detect(&mut self, plugin: &Plugin, text: &str) -> Result<usize, CallError> {
        let Exports::Pii(idx, _) = &plugin.exports else {
            return Err(CallError::Host("not a detector".into()));
        };
        self.reset();
        let opts = detector::DetectOptions::from(&DetectOptions::default());
        let mut run = || -> wasmtime::Result<Result<Vec<detector::Finding>, types::Error>> {
            let guest = idx.load(&mut self.store, &self.instance)?;
            guest.call_detect(&mut self.store, text, &opts)
        };
        match run() {
            Ok(r) => r
                .map(|f| f.len())
                .map_err(|e| CallError::Guest(guest_error(e))),
            Err(e) => Err(classify(&e, self.store.data(), &self.limits)),
        }
    }

    /// Fuel the last call used.
    pub fn fuel_used(&self) -> u64 {
        self.limits
            .fuel
            .saturating_sub(self.store.get_fuel().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(start: u32, end: u32, score: f32) -> Finding {
        Finding {
            entity_type: "X".into(),
            start,
            end,
            score,
            explanation: None,
        }
    }

    #[test]
    fn findings_from_plugins_are_checked() {
        let text = "héllo wörld";
        assert!(check_findings(text, &[f(0, 3, 0.5), f(4, 6, 1.0)]).is_ok());
        assert!(
            check_findings(text, &[f(0, 2, 0.5)])
                .unwrap_err()
                .contains("splits")
        );
        assert!(
            check_findings(text, &[f(0, 99, 0.5)])
                .unwrap_err()
                .contains("outside")
        );
        assert!(check_findings(text, &[f(3, 3, 0.5)]).is_err());
        assert!(
            check_findings(text, &[f(0, 3, f32::NAN)])
                .unwrap_err()
                .contains("score")
        );
        assert!(check_findings(text, &[f(0, 3, 1.5)]).is_err());
        assert!(
            check_findings(text, &[f(0, 6, 0.5), f(4, 6, 0.5)])
                .unwrap_err()
                .contains("overlaps")
        );
    }
}
