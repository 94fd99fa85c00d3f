//! `warden run`: run a built-in (template, pii, python) or a local component file once, with
//! the server's engine and limits.
//!
//! Results go to stdout as JSON (pretty on a terminal, followed by a one-line human summary on
//! stderr). Bad input — a missing file, bytes that are not a component, the wrong world,
//! invalid JSON — is one line on stderr and exit code 2; a call that ran and failed (a limit, a
//! trap, a template error) is a JSON result with `"ok": false` and exit code 1.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

use crate::input::{read_file, read_text};
use crate::output::{Failure, emit};

use warden_engine::{
    CallError, CallReport, DetectOptions, Engine, EngineConfig, LimitOverrides, Outcome, Plugin,
    RenderOptions, SessionOptions, World,
};

/// `warden run` and where to find compiled components.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Directory for precompiled components [default: $XDG_CACHE_HOME/warden or ~/.cache/warden].
    #[arg(long, env = "WARDEN_CACHE_DIR", global = true)]
    pub cache_dir: Option<PathBuf>,
    /// Compile in memory every time instead of using the disk cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// The plugin to run.
    #[command(subcommand)]
    pub target: RunTarget,
}

/// What `warden run` runs.
#[derive(Debug, Subcommand)]
pub enum RunTarget {
    /// Render a template (built-in minijinja, or --plugin).
    Template(TemplateArgs),
    /// Detect personal data (built-in detector, or --plugin); reads JSON lines on stdin when
    /// neither --text nor --file is given.
    Pii(PiiArgs),
    /// Evaluate Python cells in one session (built-in monty, or --plugin).
    Python(PythonArgs),
    /// A component file (`warden run my.wasm …`): takes the options of its world's built-in.
    #[command(external_subcommand)]
    File(Vec<OsString>),
}

/// Per-call limits; unset ones take the engine's defaults, and all are capped by the host.
#[derive(Debug, Clone, Args, Default)]
pub struct LimitArgs {
    /// Wasm fuel (about one unit per instruction).
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Memory limit, bytes (suffixes K, M, G, KiB, MiB, GiB accepted).
    #[arg(long, value_parser = parse_bytes)]
    pub memory: Option<u64>,
    /// Wall-clock limit in milliseconds.
    #[arg(long = "timeout-ms")]
    pub timeout_ms: Option<u64>,
    /// Largest accepted result, bytes (suffixes accepted).
    #[arg(long = "max-output", value_parser = parse_bytes)]
    pub max_output: Option<u64>,
}

impl LimitArgs {
    fn overrides(&self) -> LimitOverrides {
        LimitOverrides {
            fuel: self.fuel,
            memory_bytes: self.memory,
            wall_time_ms: self.timeout_ms,
            output_bytes: self.max_output,
            log_bytes: None,
        }
    }
}

/// Options of `warden run template`.
#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// The template text.
    #[arg(long, short = 't', conflicts_with_all = ["file", "chat"])]
    pub template: Option<String>,
    /// Read the template from a file.
    #[arg(long, short = 'f', conflicts_with = "chat")]
    pub file: Option<PathBuf>,
    /// Render a chat: a JSON file holding a list of {"role", "content"} messages, or a
    /// Hugging Face `tokenizer_config.json` (its chat template, rendered with the conversation
    /// given by --context: {"messages": [...], "tools": [...], "add_generation_prompt": true}).
    #[arg(long)]
    pub chat: Option<PathBuf>,
    /// Render --template/--file as a Hugging Face chat template (the conversation in
    /// --context), as transformers' apply_chat_template does.
    #[arg(long, conflicts_with = "chat")]
    pub hf: bool,
    /// Which named template of a tokenizer config with several (default: tool_use when the
    /// chat has tools, else default).
    #[arg(long)]
    pub template_name: Option<String>,
    /// Remove the first newline after a block tag.
    #[arg(long)]
    pub trim_blocks: bool,
    /// Strip whitespace before a block tag on its line.
    #[arg(long)]
    pub lstrip_blocks: bool,
    /// Keep the template's final newline.
    #[arg(long)]
    pub keep_trailing_newline: bool,
    /// The template language: minijinja (default) or jinja2.
    #[arg(long, value_parser = ["minijinja", "jinja2"])]
    pub dialect: Option<String>,
    /// What a missing value does: strict (default), chainable or lenient.
    #[arg(long, value_parser = ["strict", "chainable", "lenient"], conflicts_with = "lenient")]
    pub undefined: Option<String>,
    /// Variables as a JSON object.
    #[arg(long, short = 'c', conflicts_with = "context_file")]
    pub context: Option<String>,
    /// Read the variables (a JSON object) from a file.
    #[arg(long)]
    pub context_file: Option<PathBuf>,
    /// List the variables the template uses instead of rendering it.
    #[arg(long)]
    pub inspect: bool,
    /// Render undefined variables as empty instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Use this template-engine component instead of the built-in.
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Options of `warden run pii`.
#[derive(Debug, Clone, Args)]
pub struct PiiArgs {
    /// The text to scan.
    #[arg(long, conflicts_with = "file")]
    pub text: Option<String>,
    /// Scan a whole file as one text.
    #[arg(long, short = 'f')]
    pub file: Option<PathBuf>,
    /// Only these entity types (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub entities: Vec<String>,
    /// With no --entities: the default types plus every type of these countries (ISO codes,
    /// comma-separated, e.g. DE,GB).
    #[arg(long, value_delimiter = ',')]
    pub countries: Vec<String>,
    /// Language hint (BCP 47, e.g. de).
    #[arg(long)]
    pub language: Option<String>,
    /// JSON-lines mode: texts per sandbox instance (the limits cover each batch).
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Drop findings scoring below this.
    #[arg(long)]
    pub min_score: Option<f32>,
    /// Explain each finding.
    #[arg(long)]
    pub explain: bool,
    /// Print what the detector is and what it finds, and exit.
    #[arg(long)]
    pub describe: bool,
    /// Use this pii-detector component instead of the built-in.
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// Limits (per text).
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Options of `warden run python`.
#[derive(Debug, Clone, Args)]
pub struct PythonArgs {
    /// A cell of code; repeat for several cells, evaluated in order in one session.
    #[arg(long, short = 'c')]
    pub code: Vec<String>,
    /// Files of code, each one cell, evaluated after the --code cells.
    pub files: Vec<PathBuf>,
    /// Start from a session snapshot written by --snapshot-out.
    #[arg(long)]
    pub restore: Option<PathBuf>,
    /// Write the session's snapshot here after the last cell.
    #[arg(long)]
    pub snapshot_out: Option<PathBuf>,
    /// Interpreter recursion limit.
    #[arg(long)]
    pub max_recursion: Option<u32>,
    /// The built-in runner: `python` (monty: fast start, a subset of the language) or
    /// `cpython` (the whole language and the pure-Python standard library).
    #[arg(long, default_value = "python", value_parser = ["python", "cpython"], conflicts_with = "plugin")]
    pub runner: String,
    /// Use this code-runner component instead of the built-in.
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// Limits (per cell; memory is for the whole session).
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Runs `warden run …`: exit 0 when the call succeeded, 1 when it ran and failed.
pub fn execute(args: &RunArgs) -> Result<u8, Failure> {
    let engine = engine(args)?;
    match &args.target {
        RunTarget::Template(t) => {
            let plugin = load(
                &engine,
                t.plugin.as_deref(),
                "template",
                World::TemplateEngine,
            )?;
            run_template(&engine, &plugin, t)
        }
        RunTarget::Pii(p) => {
            let plugin = load(&engine, p.plugin.as_deref(), "pii", World::PiiDetector)?;
            run_pii(&engine, &plugin, p)
        }
        RunTarget::Python(p) => {
            let plugin = load(&engine, p.plugin.as_deref(), &p.runner, World::CodeRunner)?;
            run_python(&engine, &plugin, p)
        }
        RunTarget::File(argv) => run_file(&engine, argv),
    }
}

/// The engine `warden run` calls with: the disk cache unless `--no-cache`.
fn engine(args: &RunArgs) -> Result<Engine, Failure> {
    let cache_dir = if args.no_cache {
        None
    } else {
        args.cache_dir.clone().or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .map(|d| d.join("warden"))
        })
    };
    Engine::new(EngineConfig {
        cache_dir,
        ..EngineConfig::default()
    })
    .map_err(|e| Failure::usage(e.to_string()))
}

/// Loads `file`, or the built-in named `builtin`, and checks that it implements `world`.
fn load(
    engine: &Engine,
    file: Option<&Path>,
    builtin: &str,
    world: World,
) -> Result<Plugin, Failure> {
    let (bytes, label) = match file {
        Some(path) => (read_file(path, "component")?, path.display().to_string()),
        None => (
            warden_builtins::get(builtin)
                .ok_or_else(|| Failure::usage(format!("no built-in named {builtin}")))?
                .to_vec(),
            format!("built-in {builtin}"),
        ),
    };
    let plugin = engine
        .load(&bytes)
        .map_err(|e| Failure::usage(format!("{label}: {e}")))?;
    if plugin.world() != world {
        return Err(Failure::usage(format!(
            "{label} implements the {} world, not {world}",
            plugin.world()
        )));
    }
    Ok(plugin)
}

/// `warden run FILE …`: parses the rest of the line as the options of the file's world.
fn run_file(engine: &Engine, argv: &[OsString]) -> Result<u8, Failure> {
    let Some(first) = argv.first() else {
        return Err(Failure::usage("missing the component file"));
    };
    let path = PathBuf::from(first);
    if !path.exists() {
        return Err(Failure::usage(format!(
            "{} is neither a built-in (template, pii, python) nor an existing component file",
            path.display()
        )));
    }
    let bytes = read_file(&path, "component")?;
    let plugin = engine
        .load(&bytes)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let rest = argv[1..].iter().cloned();
    let name = format!("warden run {}", path.display());
    let parse_err = |e: clap::Error| Failure::usage(e.to_string().trim().to_owned());
    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: TemplateArgs,
    }
    #[derive(Parser)]
    struct P {
        #[command(flatten)]
        a: PiiArgs,
    }
    #[derive(Parser)]
    struct Y {
        #[command(flatten)]
        a: PythonArgs,
    }
    let argv = std::iter::once(OsString::from(name)).chain(rest);
    match plugin.world() {
        World::TemplateEngine => run_template(
            engine,
            &plugin,
            &T::try_parse_from(argv).map_err(parse_err)?.a,
        ),
        World::PiiDetector => run_pii(
            engine,
            &plugin,
            &P::try_parse_from(argv).map_err(parse_err)?.a,
        ),
        World::CodeRunner => run_python(
            engine,
            &plugin,
            &Y::try_parse_from(argv).map_err(parse_err)?.a,
        ),
    }
}

/// A failed call as JSON: its outcome, message and typed detail.
fn error_json(e: &CallError) -> Value {
    let detail = match e {
        CallError::Guest(g) => serde_json::to_value(g).unwrap_or(Value::Null),
        CallError::Invalid(i) => serde_json::to_value(i).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    json!({ "outcome": e.outcome(), "message": e.to_string(), "detail": detail })
}

/// A call's result and report as JSON, and whether it succeeded.
fn outcome_json<T: serde::Serialize>(o: &Outcome<T>) -> (Value, bool) {
    let report = serde_json::to_value(&o.report).unwrap_or(Value::Null);
    match &o.result {
        Ok(v) => (json!({ "ok": true, "result": v, "report": report }), true),
        Err(e) => (
            json!({ "ok": false, "error": error_json(e), "report": report }),
            false,
        ),
    }
}

/// The one-line human summary on stderr, on a terminal only.
fn summary(ok: bool, what: &str, report: &CallReport) {
    if std::io::stdout().is_terminal() {
        eprintln!(
            "{} {what} · {:.2} ms · {} fuel · peak memory {:.1} MiB",
            if ok { "ok" } else { "failed" },
            report.duration.as_secs_f64() * 1e3,
            report.fuel_used,
            report.peak_memory_bytes as f64 / (1 << 20) as f64,
        );
    }
}

/// Prints a call's outcome and summary; returns its exit code.
fn finish<T: serde::Serialize>(o: &Outcome<T>, what: &str) -> u8 {
    let (v, ok) = outcome_json(o);
    emit(&v);
    summary(ok, what, &o.report);
    if ok { 0 } else { 1 }
}

/// The template variables from `--context` or `--context-file`, checked to be a JSON object.
fn context(t: &TemplateArgs) -> Result<String, Failure> {
    let (text, source) = match (&t.context, &t.context_file) {
        (Some(c), _) => (c.clone(), "--context".to_owned()),
        (None, Some(f)) => (read_text(f, "context file")?, f.display().to_string()),
        (None, None) => return Ok("{}".into()),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(_)) => Ok(text),
        Ok(_) => Err(Failure::usage(format!(
            "{source} must be a JSON object of variables"
        ))),
        Err(e) => Err(Failure::usage(format!("{source} is not valid JSON: {e}"))),
    }
}

/// `warden run template`: render, render a chat, or list the variables.
fn run_template(engine: &Engine, plugin: &Plugin, t: &TemplateArgs) -> Result<u8, Failure> {
    let limits = engine.limits(&t.limits.overrides());
    let on = |flag: bool| flag.then_some(true);
    let options = RenderOptions {
        strict_undefined: Some(!t.lenient),
        trim_blocks: on(t.trim_blocks),
        lstrip_blocks: on(t.lstrip_blocks),
        keep_trailing_newline: on(t.keep_trailing_newline),
        dialect: match t.dialect.as_deref() {
            Some("jinja2") => Some(warden_engine::Dialect::Jinja2),
            Some(_) => Some(warden_engine::Dialect::Minijinja),
            None => None,
        },
        undefined: match t.undefined.as_deref() {
            Some("strict") => Some(warden_engine::UndefinedMode::Strict),
            Some("chainable") => Some(warden_engine::UndefinedMode::Chainable),
            Some("lenient") => Some(warden_engine::UndefinedMode::Lenient),
            _ => None,
        },
        ..Default::default()
    };
    if let Some(chat) = &t.chat {
        let text = read_text(chat, "chat file")?;
        // A tokenizer config is an object with a chat template; a chat is a list of messages.
        if let Ok(Value::Object(config)) = serde_json::from_str::<Value>(&text) {
            if !config.contains_key("chat_template") {
                return Err(Failure::usage(format!(
                    "{} is a JSON object without a chat_template: give a tokenizer_config.json or a list of messages",
                    chat.display()
                )));
            }
            let template = warden_engine::ChatTemplate::Config {
                json: text,
                name: t.template_name.clone(),
            };
            return Ok(finish(
                &engine.render_chat_template(plugin, &template, &context(t)?, options, limits),
                "render-chat-template",
            ));
        }
        let messages: Vec<warden_engine::ChatMessage> =
            serde_json::from_str(&text).map_err(|e| {
                Failure::usage(format!(
                    "{} is neither a tokenizer_config.json nor a JSON list of {{\"role\", \"content\"}} messages: {e}",
                    chat.display()
                ))
            })?;
        let ctx = context(t)?;
        return Ok(finish(
            &engine.render_chat(plugin, &messages, &ctx, options, limits),
            "render-chat",
        ));
    }
    let template = match (&t.template, &t.file) {
        (Some(s), _) => s.clone(),
        (None, Some(f)) => read_text(f, "template file")?,
        (None, None) => {
            return Err(Failure::usage(
                "give the template with --template, --file or --chat",
            ));
        }
    };
    if t.inspect {
        return Ok(finish(
            &engine.inspect_template(plugin, &template, limits),
            "inspect",
        ));
    }
    if t.hf {
        let template = warden_engine::ChatTemplate::Text(template);
        return Ok(finish(
            &engine.render_chat_template(plugin, &template, &context(t)?, options, limits),
            "render-chat-template",
        ));
    }
    let ctx = context(t)?;
    Ok(finish(
        &engine.render(plugin, &template, &ctx, options, limits),
        "render",
    ))
}

/// `warden run pii`: describe, scan one text, or scan JSON lines from stdin.
fn run_pii(engine: &Engine, plugin: &Plugin, p: &PiiArgs) -> Result<u8, Failure> {
    let limits = engine.limits(&p.limits.overrides());
    if p.describe {
        return Ok(finish(&engine.describe(plugin, limits), "describe"));
    }
    let options = DetectOptions {
        entities: p.entities.clone(),
        countries: p.countries.clone(),
        min_score: p.min_score,
        explain: p.explain,
        language: p.language.clone(),
        ..DetectOptions::default()
    };
    let text = match (&p.text, &p.file) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(f)) => Some(read_text(f, "text file")?),
        (None, None) => None,
    };
    if let Some(text) = text {
        return Ok(finish(
            &engine.detect(plugin, &text, &options, limits),
            "detect",
        ));
    }
    // Bulk: one JSON object per stdin line, one result line per input, streamed in batches
    // of --batch lines (one sandbox instance per batch, whose limits cover the batch).
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(Failure::usage(
            "give --text or --file, or pipe JSON lines ({\"text\": …}) on stdin",
        ));
    }
    if p.batch == 0 {
        return Err(Failure::usage("--batch must be at least 1"));
    }
    let mut failed = 0usize;
    let mut out = std::io::stdout().lock();
    // Lines read but not yet scanned: (line number, text, id).
    let mut pending: Vec<(usize, String, Option<Value>)> = Vec::new();
    let flush = |pending: &mut Vec<(usize, String, Option<Value>)>,
                 out: &mut std::io::StdoutLock<'_>,
                 failed: &mut usize| {
        if pending.is_empty() {
            return;
        }
        let texts: Vec<&str> = pending.iter().map(|(_, t, _)| t.as_str()).collect();
        let o = engine.detect_batch(plugin, &texts, &options, limits);
        for (i, (n, _, id)) in pending.iter().enumerate() {
            let mut v = match &o.result {
                Ok(all) => json!({ "ok": true, "result": all.get(i), "report": o.report }),
                Err(e) => {
                    *failed += 1;
                    json!({ "ok": false, "error": error_json(e), "report": o.report })
                }
            };
            v["line"] = json!(n);
            if let Some(id) = id {
                v["id"] = id.clone();
            }
            let _ = writeln!(out, "{v}");
        }
        let _ = out.flush();
        pending.clear();
    };
    for (i, line) in stdin.lock().lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| Failure::usage(format!("reading stdin line {n}: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<Value, _> = serde_json::from_str(&line);
        let (text, id) = match &parsed {
            Ok(Value::Object(o)) => (o.get("text").and_then(Value::as_str), o.get("id").cloned()),
            _ => (None, None),
        };
        match text {
            None => {
                // Results keep input order: scan what came before, then report this line.
                flush(&mut pending, &mut out, &mut failed);
                failed += 1;
                let v = json!({ "line": n, "ok": false, "error": { "outcome": "invalid_input", "message": "expected a JSON object with a string field \"text\"" } });
                let _ = writeln!(out, "{v}");
            }
            Some(text) => {
                pending.push((n, text.to_owned(), id));
                if pending.len() >= p.batch {
                    flush(&mut pending, &mut out, &mut failed);
                }
            }
        }
    }
    flush(&mut pending, &mut out, &mut failed);
    Ok(if failed == 0 { 0 } else { 1 })
}

/// `warden run python`: evaluate the cells in one session, optionally from and to a snapshot.
fn run_python(engine: &Engine, plugin: &Plugin, p: &PythonArgs) -> Result<u8, Failure> {
    let mut cells = p.code.clone();
    for f in &p.files {
        cells.push(read_text(f, "code file")?);
    }
    if cells.is_empty() && p.snapshot_out.is_none() {
        return Err(Failure::usage(
            "give at least one cell with --code or a file",
        ));
    }
    let limits = engine.limits(&p.limits.overrides());
    let options = SessionOptions {
        max_recursion: p.max_recursion,
        ..Default::default()
    };
    let tools = Arc::new(warden_engine::NoTools);
    let opened = match &p.restore {
        Some(path) => engine.restore_session(
            plugin,
            &read_file(path, "snapshot")?,
            &options,
            limits,
            tools,
        ),
        None => engine.start_session(plugin, &options, limits, tools),
    };
    let mut session = match opened.result {
        Ok(s) => s,
        Err(e) => {
            emit(&json!({ "ok": false, "error": error_json(&e), "report": opened.report }));
            summary(false, "session", &opened.report);
            return Ok(1);
        }
    };
    let mut results = Vec::new();
    let mut ok = true;
    let mut total = opened.report;
    for (i, cell) in cells.iter().enumerate() {
        let o = session.eval(cell);
        total.fuel_used += o.report.fuel_used;
        total.duration += o.report.duration;
        total.logs.push_str(&o.report.logs);
        let (mut v, cell_ok) = outcome_json(&o);
        v["cell"] = json!(i + 1);
        results.push(v);
        if !cell_ok {
            ok = false;
            break;
        }
    }
    if ok && let Some(path) = &p.snapshot_out {
        let o = session.snapshot();
        match o.result {
            Ok(bytes) => std::fs::write(path, bytes).map_err(|e| {
                Failure::usage(format!("cannot write snapshot {}: {e}", path.display()))
            })?,
            Err(e) => {
                ok = false;
                results.push(json!({ "ok": false, "snapshot": true, "error": error_json(&e) }));
            }
        }
    }
    total.peak_memory_bytes = session.peak_memory_bytes();
    emit(&json!({ "ok": ok, "cells": results, "report": total }));
    summary(ok, &format!("{} cell(s)", cells.len()), &total);
    Ok(if ok { 0 } else { 1 })
}

/// Parses a byte size such as `65536`, `64M` or `64MiB`.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a byte size such as 65536, 64M or 64MiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}; use K, M or G")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn byte_sizes_parse_with_units() {
        assert_eq!(parse_bytes("65536"), Ok(65536));
        assert_eq!(parse_bytes("64M"), Ok(64 << 20));
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
    }
}
