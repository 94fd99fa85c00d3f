//! Warden's built-in template engine: minijinja, locked down for untrusted prompt templates.
//!
//! The same code runs natively (for tests and the host's benchmarks) and as the
//! `template-engine` component Warden embeds. Every render gets a fresh minijinja
//! environment with minijinja's own fuel and recursion limits, no loader (a template cannot
//! read other templates or files) and auto-escaping off, because prompts are not HTML.
//!
//! Two dialects: minijinja's own (the default) and [`Dialect::Jinja2`], which renders what
//! Python's Jinja2 renders (Python methods and output, Jinja2's filters, insertion-ordered
//! maps). Hugging Face chat templates ([`render_chat_template`]) render on the Jinja2 dialect
//! with transformers' environment, so their output is byte for byte what `apply_chat_template`
//! produces.

use std::collections::BTreeSet;

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};
use warden_sdk::Error;
use warden_sdk::template::TemplateEngine;

mod hf;
pub mod jinja2;
mod source;

pub use hf::{RAISED_KIND, SPECIAL_TOKENS, TokenizerConfig};

/// minijinja instructions a render may execute unless the caller asks for fewer.
pub const DEFAULT_ENGINE_FUEL: u64 = 5_000_000;
/// Nesting depth (macros, loops, recursion) a render may reach unless the caller asks for less.
pub const DEFAULT_MAX_RECURSION: u32 = 64;
/// Hard ceiling on the recursion limit a caller may request.
pub const MAX_RECURSION_CEILING: u32 = 500;
/// The [`TemplateError::kind`] (and WIT `input-error.kind`) of a render that used up its
/// engine fuel: the host reports it as the `out_of_fuel` outcome, like wasm fuel exhaustion,
/// because the caller's budget ran out, not because the template is wrong.
pub const FUEL_KIND: &str = "fuel";

/// A 1-based line and column (in characters) inside a template: the SDK's position.
pub use warden_sdk::Position;
/// Per-render options, the SDK's; `None` means the default: undefined [`UndefinedMode::Strict`]
/// (`strict_undefined: Some(false)` means [`UndefinedMode::Lenient`]), engine fuel
/// [`DEFAULT_ENGINE_FUEL`] for the whole call ([`render_chat`] shares it across the messages),
/// recursion [`DEFAULT_MAX_RECURSION`] (capped at [`MAX_RECURSION_CEILING`]), trim and lstrip
/// blocks off, the final newline dropped.
pub use warden_sdk::template::RenderOptions;
/// Chat messages and inspection results are the SDK's types, so the export needs no copies.
pub use warden_sdk::template::{ChatMessage, TemplateInfo};

/// Why a template could not be rendered or inspected; always the caller's input, so it is the
/// SDK's input error. `kind` is one of `syntax`, `undefined`, `json`, [`FUEL_KIND`],
/// `recursion`, `include`, [`RAISED_KIND`], `render`.
pub type TemplateError = warden_sdk::InputError;

/// What a variable or attribute that is not there does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UndefinedMode {
    /// The default: printing, iterating or otherwise using a missing variable is an error with
    /// its position; testing one is not, so `{% if message.tool_calls %}`, `is defined` and
    /// `| default(...)` work on anything, as in Jinja2.
    #[default]
    Strict,
    /// Like [`UndefinedMode::Lenient`], and attribute access on a missing value is missing too
    /// (`a.b.c` with no `a` renders empty).
    Chainable,
    /// Jinja2's default `Undefined`: a missing value renders empty, iterates as empty and is
    /// false; only attribute access on it is an error.
    Lenient,
}

impl UndefinedMode {
    fn behavior(self) -> UndefinedBehavior {
        match self {
            UndefinedMode::Strict => UndefinedBehavior::SemiStrict,
            UndefinedMode::Chainable => UndefinedBehavior::Chainable,
            UndefinedMode::Lenient => UndefinedBehavior::Lenient,
        }
    }
}

/// Which template language a template is written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialect {
    /// minijinja's own (what Warden has always rendered).
    #[default]
    Minijinja,
    /// Python Jinja2's: Python `str`/`list`/`dict` methods, Python-style output (`None`,
    /// `True`, `['a', 1]`), Jinja2's filters and their arguments, `tojson` with sorted keys and
    /// HTML-safe escapes, markupsafe's `escape` spelling. Where minijinja and Jinja2 disagree,
    /// this dialect does what Jinja2 does.
    Jinja2,
}

/// The plugin's own per-render settings that the SDK's [`RenderOptions`] does not carry (yet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// The template language.
    pub dialect: Dialect,
    /// What a missing value does; `None` follows `RenderOptions::strict_undefined`
    /// (unset or true: [`UndefinedMode::Strict`]; false: [`UndefinedMode::Lenient`]).
    pub undefined: Option<UndefinedMode>,
}

impl Settings {
    fn undefined_mode(&self, opts: &RenderOptions) -> UndefinedMode {
        self.undefined.unwrap_or(match opts.strict_undefined {
            Some(false) => UndefinedMode::Lenient,
            _ => UndefinedMode::Strict,
        })
    }
}

/// The environment a render gets: the dialect's plus, for chat templates, transformers' extras.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Minijinja,
    Jinja2,
    HuggingFace,
}

const TEMPLATE_NAME: &str = "template";

fn environment(
    opts: &RenderOptions,
    flavor: Flavor,
    undefined: UndefinedMode,
) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_debug(true);
    env.set_undefined_behavior(undefined.behavior());
    env.set_fuel(Some(opts.engine_fuel.unwrap_or(DEFAULT_ENGINE_FUEL)));
    let depth = opts
        .max_recursion
        .unwrap_or(DEFAULT_MAX_RECURSION)
        .min(MAX_RECURSION_CEILING);
    env.set_recursion_limit(depth as usize);
    let hf = flavor == Flavor::HuggingFace;
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(hf || opts.trim_blocks.unwrap_or(false))
        .lstrip_blocks(hf || opts.lstrip_blocks.unwrap_or(false))
        .keep_trailing_newline(!hf && opts.keep_trailing_newline.unwrap_or(false))
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    match flavor {
        Flavor::Minijinja => {}
        Flavor::Jinja2 => jinja2::install(&mut env, jinja2::JsonFlavor::Jinja2),
        Flavor::HuggingFace => {
            jinja2::install(&mut env, jinja2::JsonFlavor::HuggingFace);
            hf::install(&mut env);
        }
    }
    if flavor != Flavor::Minijinja {
        env.add_function(source::ITERABLE_GUARD, source::iterable_guard);
    }
    env
}

fn settings_env(opts: &RenderOptions, settings: &Settings) -> Environment<'static> {
    let flavor = match settings.dialect {
        Dialect::Minijinja => Flavor::Minijinja,
        Dialect::Jinja2 => Flavor::Jinja2,
    };
    environment(opts, flavor, settings.undefined_mode(opts))
}

fn builtins_env() -> Environment<'static> {
    environment(
        &RenderOptions::default(),
        Flavor::Minijinja,
        UndefinedMode::Strict,
    )
}

/// Forces one-time set-up (environment construction, first parse) so that a pre-initialised
/// component never pays it on a call.
pub fn warm() {
    let env = builtins_env();
    if let Ok(t) = env.template_from_named_str(
        TEMPLATE_NAME,
        "{{ x | upper }}{% for i in y %}{{ i }}{% endfor %}",
    ) {
        let _ = t.render(minijinja::context! { x => "warm", y => vec![1, 2] });
    }
    let _ = render_chat_template(
        "{% for m in messages %}{{ m.content.strip() | tojson }}{% endfor %}",
        r#"{"messages": [{"role": "user", "content": " warm "}]}"#,
        &RenderOptions::default(),
    );
}

/// Parses JSON straight into template values, keeping every object's keys in document order.
fn parse_json(json: &str) -> Result<Value, TemplateError> {
    serde_json::from_str::<Value>(json).map_err(|e| TemplateError {
        kind: "json".to_owned(),
        message: format!("context is not valid JSON: {e}"),
        position: Some(Position {
            line: u32::try_from(e.line()).unwrap_or(u32::MAX),
            column: u32::try_from(e.column()).unwrap_or(u32::MAX),
        }),
    })
}

fn parse_context(context_json: &str) -> Result<Value, TemplateError> {
    let trimmed = context_json.trim();
    if trimmed.is_empty() {
        return Ok(Value::from_pairs(std::iter::empty::<(String, Value)>()));
    }
    let value = parse_json(trimmed)?;
    if value.kind() != minijinja::value::ValueKind::Map {
        return Err(TemplateError {
            kind: "json".to_owned(),
            message: "context must be a JSON object (variable name to value)".to_owned(),
            position: None,
        });
    }
    Ok(value)
}

fn position_of(
    source: &str,
    rewritten: Option<&source::Rewritten<'_>>,
    err: &minijinja::Error,
) -> Option<Position> {
    let start = err
        .range()
        .map(|r| rewritten.map_or(r.start, |rw| rw.original_offset(r.start)));
    if let Some(start) = start
        && let Some(before) = source.get(..source.floor_char_boundary(start.min(source.len())))
    {
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        return Some(Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        });
    }
    err.line().map(|line| Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: 1,
    })
}

fn raised(err: &minijinja::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = cur {
        if e.is::<hf::Raised>() {
            return true;
        }
        cur = e.source();
    }
    false
}

fn convert(source: &str, err: &minijinja::Error) -> TemplateError {
    convert_rewritten(source, None, err)
}

/// [`convert`] for an error in a rewritten `source` (positions are the original's).
fn convert_rewritten(
    source: &str,
    rewritten: Option<&source::Rewritten<'_>>,
    err: &minijinja::Error,
) -> TemplateError {
    if raised(err) {
        return TemplateError {
            kind: RAISED_KIND.to_owned(),
            message: err.detail().unwrap_or_default().to_owned(),
            position: position_of(source, rewritten, err),
        };
    }
    let kind = match err.kind() {
        ErrorKind::SyntaxError => "syntax",
        ErrorKind::UndefinedError => "undefined",
        ErrorKind::OutOfFuel => FUEL_KIND,
        ErrorKind::InvalidOperation if err.detail().is_some_and(|d| d.contains("recursion")) => {
            "recursion"
        }
        ErrorKind::TemplateNotFound => "include",
        _ => "render",
    };
    let message = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    TemplateError {
        kind: kind.to_owned(),
        message,
        position: position_of(source, rewritten, err),
    }
}

/// Renders `source` with the JSON object `context_json` (empty string = no variables).
pub fn render(
    source: &str,
    context_json: &str,
    opts: &RenderOptions,
) -> Result<String, TemplateError> {
    render_with(source, context_json, opts, &Settings::default())
}

/// [`render`] with the plugin's own [`Settings`] (dialect, undefined behaviour).
pub fn render_with(
    source: &str,
    context_json: &str,
    opts: &RenderOptions,
    settings: &Settings,
) -> Result<String, TemplateError> {
    render_with_sources(source, context_json, opts, settings, &[])
}

/// [`render_with`] where `{% include %}`, `{% import %}`, `{% from %}` and `{% extends %}` find
/// the given `(name, text)` sources (and nothing else: there is no loader of files).
pub fn render_with_sources(
    source: &str,
    context_json: &str,
    opts: &RenderOptions,
    settings: &Settings,
    sources: &[(String, String)],
) -> Result<String, TemplateError> {
    let ctx = parse_context(context_json)?;
    let jinja2 = settings.dialect == Dialect::Jinja2;
    let mut env = settings_env(opts, settings);
    add_sources(&mut env, sources, jinja2)?;
    render_metered(&env, source, &ctx, jinja2).map(|(out, _)| out)
}

/// Adds the included sources to `env` by name; a syntax error names the source. In the Jinja2
/// dialect each source gets the dialect's rewrites too.
fn add_sources(
    env: &mut Environment<'static>,
    sources: &[(String, String)],
    jinja2: bool,
) -> Result<(), TemplateError> {
    for (name, text) in sources {
        if name == TEMPLATE_NAME {
            return Err(TemplateError {
                kind: "include".into(),
                message: format!("an included template may not be named {TEMPLATE_NAME:?}"),
                position: None,
            });
        }
        let body = if jinja2 {
            source::rewrite(text).text.into_owned()
        } else {
            text.clone()
        };
        env.add_template_owned(name.clone(), body).map_err(|e| {
            let mut err = convert(text, &e);
            err.message = format!("in included template {name:?}: {}", err.message);
            err
        })?;
    }
    Ok(())
}

/// Renders `source` and says how much engine fuel the render consumed; `jinja2` applies the
/// Jinja2 dialect's source rewrites first (see the `source` module).
fn render_metered(
    env: &Environment<'_>,
    source: &str,
    ctx: &Value,
    jinja2: bool,
) -> Result<(String, u64), TemplateError> {
    let rewritten = jinja2.then(|| source::rewrite(source));
    let text = rewritten.as_ref().map_or(source, |rw| &rw.text);
    let fail = |e: minijinja::Error| convert_rewritten(source, rewritten.as_ref(), &e);
    let tmpl = env
        .template_from_named_str(TEMPLATE_NAME, text)
        .map_err(fail)?;
    let captured = tmpl.render_captured(ctx).map_err(fail)?;
    let used = captured.state().fuel_levels().map_or(0, |(used, _)| used);
    Ok((captured.output().to_owned(), used))
}

/// Renders every message's content as a template with the same context, under one engine
/// fuel budget for all of them (each message gets what the ones before it left).
pub fn render_chat(
    messages: &[ChatMessage],
    context_json: &str,
    opts: &RenderOptions,
) -> Result<Vec<ChatMessage>, TemplateError> {
    render_chat_with(messages, context_json, opts, &Settings::default())
}

/// [`render_chat`] with the plugin's own [`Settings`] (dialect, undefined behaviour).
pub fn render_chat_with(
    messages: &[ChatMessage],
    context_json: &str,
    opts: &RenderOptions,
    settings: &Settings,
) -> Result<Vec<ChatMessage>, TemplateError> {
    render_chat_with_sources(messages, context_json, opts, settings, &[])
}

/// [`render_chat_with`] with included sources, as [`render_with_sources`].
pub fn render_chat_with_sources(
    messages: &[ChatMessage],
    context_json: &str,
    opts: &RenderOptions,
    settings: &Settings,
    sources: &[(String, String)],
) -> Result<Vec<ChatMessage>, TemplateError> {
    let ctx = parse_context(context_json)?;
    let mut fuel = opts.engine_fuel.unwrap_or(DEFAULT_ENGINE_FUEL);
    let mut out = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let message_opts = RenderOptions {
            engine_fuel: Some(fuel),
            ..*opts
        };
        let jinja2 = settings.dialect == Dialect::Jinja2;
        let mut env = settings_env(&message_opts, settings);
        add_sources(&mut env, sources, jinja2)?;
        let (content, used) = render_metered(&env, &m.content, &ctx, jinja2).map_err(|mut e| {
            e.message = format!("message {i} ({}): {}", m.role, e.message);
            e
        })?;
        fuel = fuel.saturating_sub(used);
        out.push(ChatMessage {
            role: m.role.clone(),
            content,
        });
    }
    Ok(out)
}

/// Renders a Hugging Face chat template as transformers' `apply_chat_template(...,
/// tokenize=False)` does, from `request_json`: `{"messages": [...], "tools": [...],
/// "documents": [...], "add_generation_prompt": bool, "continue_final_message": bool,
/// "bos_token": ..., "eos_token": ..., <any other template variable>}`.
///
/// The environment is transformers': the Jinja2 dialect with `trim_blocks` and `lstrip_blocks`
/// on (whatever `opts` says about them), `tojson` as `json.dumps(ensure_ascii=False)`,
/// `raise_exception` (an error of kind [`RAISED_KIND`] with the template's message),
/// `strftime_now` (the WASI clock, UTC) and `{% generation %}`. Undefined values behave as in
/// Jinja2 ([`UndefinedMode::Lenient`]) unless `undefined` says otherwise. Engine fuel and the
/// recursion limit are `opts`'s, as for any render.
pub fn render_chat_template(
    template: &str,
    request_json: &str,
    opts: &RenderOptions,
) -> Result<String, TemplateError> {
    render_chat_template_with(template, request_json, opts, None, &[])
}

/// [`render_chat_template`] with the template (and the special tokens) taken from a Hugging
/// Face `tokenizer_config.json`: `name` picks one of several named templates (by default
/// `tool_use` when the chat has tools, else `default`); tokens in the request win over the
/// config's.
pub fn render_chat_template_from_config(
    tokenizer_config_json: &str,
    name: Option<&str>,
    request_json: &str,
    opts: &RenderOptions,
    undefined: Option<UndefinedMode>,
) -> Result<String, TemplateError> {
    let config = TokenizerConfig::parse(tokenizer_config_json)?;
    let has_tools = hf::parse_request(request_json, &[])?.has_tools;
    let template = config.template(name, has_tools)?;
    render_chat_template_with(
        template,
        request_json,
        opts,
        undefined,
        &config.special_tokens,
    )
}

/// [`render_chat_template`] with an undefined behaviour other than Jinja2's and default
/// special tokens (overridden by the request's).
pub fn render_chat_template_with(
    template: &str,
    request_json: &str,
    opts: &RenderOptions,
    undefined: Option<UndefinedMode>,
    special_tokens: &[(String, String)],
) -> Result<String, TemplateError> {
    let request = hf::parse_request(request_json, special_tokens)?;
    let source = hf::rewrite_generation_tags(template);
    let env = environment(
        opts,
        Flavor::HuggingFace,
        undefined.unwrap_or(UndefinedMode::Lenient),
    );
    let (rendered, _) = render_metered(&env, &source, &request.context, true)?;
    match (&request.final_message, request.continue_final_message) {
        (Some(final_message), true) => hf::continue_final(rendered, final_message),
        _ => Ok(rendered),
    }
}

/// Parses `source` and lists the variables and attribute paths it reads.
pub fn inspect(source: &str) -> Result<TemplateInfo, TemplateError> {
    let env = builtins_env();
    let tmpl = env
        .template_from_named_str(TEMPLATE_NAME, source)
        .map_err(|e| convert(source, &e))?;
    let globals: BTreeSet<String> = env.globals().map(|(name, _)| name.to_string()).collect();
    let keep = |name: &String| {
        let root = name.split('.').next().unwrap_or(name);
        !globals.contains(root)
    };
    let variables: BTreeSet<String> = tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(keep)
        .collect();
    let paths: BTreeSet<String> = tmpl
        .undeclared_variables(true)
        .into_iter()
        .filter(keep)
        .collect();
    Ok(TemplateInfo {
        variables: variables.into_iter().collect(),
        paths: paths.into_iter().collect(),
    })
}

/// The built-in as the SDK's [`TemplateEngine`]: what the component exports (through
/// [`warden_sdk::export_template_engine!`]). Every error is the caller's input as far as the
/// WIT contract goes; the host turns kind [`FUEL_KIND`] into the `out_of_fuel` outcome.
pub struct Builtin;

impl TemplateEngine for Builtin {
    fn render(
        template: &str,
        context_json: &str,
        options: &RenderOptions,
    ) -> Result<String, Error> {
        render(template, context_json, options).map_err(Error::InvalidInput)
    }

    fn render_chat(
        messages: Vec<ChatMessage>,
        context_json: &str,
        options: &RenderOptions,
    ) -> Result<Vec<ChatMessage>, Error> {
        render_chat(&messages, context_json, options).map_err(Error::InvalidInput)
    }

    fn inspect(template: &str) -> Result<TemplateInfo, Error> {
        inspect(template).map_err(Error::InvalidInput)
    }

    fn initialize() {
        warm();
    }
}

/// The SDK's settings as the plugin's.
fn plugin_settings(s: &warden_sdk::template::Settings) -> Settings {
    use warden_sdk::template as sdk;
    Settings {
        dialect: match s.dialect {
            Some(sdk::Dialect::Jinja2) => Dialect::Jinja2,
            Some(sdk::Dialect::Minijinja) | None => Dialect::Minijinja,
        },
        undefined: s.undefined.map(|u| match u {
            sdk::UndefinedMode::Strict => UndefinedMode::Strict,
            sdk::UndefinedMode::Chainable => UndefinedMode::Chainable,
            sdk::UndefinedMode::Lenient => UndefinedMode::Lenient,
        }),
    }
}

/// Sources as `(name, text)` pairs.
fn pairs(sources: &[warden_sdk::template::Source]) -> Vec<(String, String)> {
    sources
        .iter()
        .map(|s| (s.name.clone(), s.template.clone()))
        .collect()
}

impl warden_sdk::template::Renderer for Builtin {
    fn render_with(
        template: &str,
        context_json: &str,
        options: &RenderOptions,
        settings: &warden_sdk::template::Settings,
        sources: &[warden_sdk::template::Source],
    ) -> Result<String, Error> {
        render_with_sources(
            template,
            context_json,
            options,
            &plugin_settings(settings),
            &pairs(sources),
        )
        .map_err(Error::InvalidInput)
    }

    fn render_chat_with(
        messages: Vec<ChatMessage>,
        context_json: &str,
        options: &RenderOptions,
        settings: &warden_sdk::template::Settings,
        sources: &[warden_sdk::template::Source],
    ) -> Result<Vec<ChatMessage>, Error> {
        render_chat_with_sources(
            &messages,
            context_json,
            options,
            &plugin_settings(settings),
            &pairs(sources),
        )
        .map_err(Error::InvalidInput)
    }

    fn render_chat_template(
        template: &str,
        tokenizer_config: Option<&str>,
        name: Option<&str>,
        request_json: &str,
        options: &RenderOptions,
        settings: &warden_sdk::template::Settings,
    ) -> Result<String, Error> {
        let undefined = plugin_settings(settings).undefined;
        match tokenizer_config {
            Some(config) => {
                render_chat_template_from_config(config, name, request_json, options, undefined)
            }
            None => render_chat_template_with(template, request_json, options, undefined, &[]),
        }
        .map_err(Error::InvalidInput)
    }
}

warden_sdk::export_template_renderer!(Builtin);

#[cfg(test)]
mod tests {
    use super::*;

    fn r(src: &str, ctx: &str) -> Result<String, TemplateError> {
        render(src, ctx, &RenderOptions::default())
    }

    #[test]
    fn renders_variables_filters_and_loops() {
        let out = r(
            "Hello {{ name | title }}!{% for t in topics %} #{{ loop.index }} {{ t }}{% endfor %}",
            r#"{"name": "ada lovelace", "topics": ["math", "engines"]}"#,
        );
        assert_eq!(out.as_deref(), Ok("Hello Ada Lovelace! #1 math #2 engines"));
    }

    #[test]
    fn strict_undefined_is_the_default() {
        let err = r("Hi {{ missing }}", "{}").unwrap_err();
        assert_eq!(err.kind, "undefined");
        let lenient = render(
            "Hi {{ missing }}",
            "{}",
            &RenderOptions {
                strict_undefined: Some(false),
                ..Default::default()
            },
        );
        assert_eq!(lenient.as_deref(), Ok("Hi "));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = inspect("line one\n  {{ user. }}").unwrap_err();
        assert_eq!(err.kind, "syntax");
        let pos = err.position.unwrap();
        assert_eq!(pos.line, 2);
        assert!(pos.column > 1, "{pos:?}");
    }

    /// The Jinja2 dialect's source rewrites: `for` over `none` fails as in Jinja2 (minijinja's
    /// own dialect still loops zero times), a backslash before a line break continues a string
    /// literal, and error positions are the template's own, not the rewritten text's.
    #[test]
    fn jinja2_dialect_fails_on_none_loops_and_continues_string_lines() {
        let jinja2 = Settings {
            dialect: Dialect::Jinja2,
            undefined: Some(UndefinedMode::Lenient),
        };
        let opts = RenderOptions::default();
        let none_loop = "{% for x in v %}{{ x }}{% endfor %}";
        let err = render_with(none_loop, r#"{"v": null}"#, &opts, &jinja2).unwrap_err();
        assert_eq!(err.kind, "render");
        assert_eq!(r(none_loop, r#"{"v": null}"#).as_deref(), Ok(""));
        assert_eq!(
            render_with(none_loop, r#"{"v": "ab"}"#, &opts, &jinja2).as_deref(),
            Ok("ab")
        );
        let continued = render_with("{{ 'one \\\ntwo' }}", "{}", &opts, &jinja2);
        assert_eq!(continued.as_deref(), Ok("one two"));
        let err = render_with(
            "{% for a in [1] %}{% endfor %}\n{{ '\\/' }} {{ x.y.z }}",
            "{}",
            &opts,
            &jinja2,
        )
        .unwrap_err();
        let pos = err.position.unwrap();
        assert_eq!((pos.line, pos.column), (2, 15), "{err:?}");
    }

    #[test]
    fn no_autoescape_for_prompts() {
        assert_eq!(
            r("{{ x }}", r#"{"x": "<b>&'\""}"#).as_deref(),
            Ok("<b>&'\"")
        );
    }

    #[test]
    fn includes_have_no_loader() {
        let err = r("{% include 'secrets.txt' %}", "{}").unwrap_err();
        assert_eq!(err.kind, "include");
    }

    #[test]
    fn engine_fuel_stops_runaway_loops() {
        let err = render(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "{}",
            &RenderOptions {
                engine_fuel: Some(10_000),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.kind, FUEL_KIND);
    }

    /// Fuel exhaustion is reported with [`FUEL_KIND`] (which the host turns into the
    /// `out_of_fuel` outcome) wherever it happens, and the budget is the call's, not each
    /// message's: a chat of N messages does not get N budgets.
    #[test]
    fn engine_fuel_exhaustion_is_always_the_fuel_kind_and_one_budget_per_call() {
        let small = RenderOptions {
            engine_fuel: Some(2_000),
            ..Default::default()
        };
        let spin = "{% for i in range(100000) %}x{% endfor %}";
        for src in [
            spin.to_owned(),
            format!("{{% macro f() %}}{spin}{{% endmacro %}}{{{{ f() }}}}"),
            format!(
                "{{% macro f() %}}{{{{ caller() }}}}{{% endmacro %}}{{% call f() %}}{spin}{{% endcall %}}"
            ),
            format!("{{% set x %}}{spin}{{% endset %}}{{{{ x }}}}"),
            format!("{{% filter upper %}}{spin}{{% endfilter %}}"),
            "{{ range(100000) | map('string') | join(',') }}".to_owned(),
        ] {
            let err = render(&src, "{}", &small).unwrap_err();
            assert_eq!(err.kind, FUEL_KIND, "{src}: {err}");
            assert!(err.position.is_some(), "{src}");
        }

        // Each message alone fits in the budget; together they do not.
        let loop_of = |n: u32| format!("{{% for i in range({n}) %}}x{{% endfor %}}");
        let opts = RenderOptions {
            engine_fuel: Some(1_000),
            ..Default::default()
        };
        assert!(render(&loop_of(150), "{}", &opts).is_ok());
        let message = |content: String| ChatMessage {
            role: "user".into(),
            content,
        };
        let msgs = vec![message(loop_of(150)), message(loop_of(150))];
        let err = render_chat(&msgs, "{}", &opts).unwrap_err();
        assert_eq!(err.kind, FUEL_KIND, "{err}");
        assert!(
            err.message.starts_with("message 1 (user)"),
            "{}",
            err.message
        );
        // A chat within the budget renders.
        let msgs = vec![message(loop_of(20)), message(loop_of(20))];
        let out = render_chat(&msgs, "{}", &opts).unwrap();
        assert_eq!(out[1].content, "x".repeat(20));
    }

    /// What the component exports goes through the SDK trait: every error is invalid input,
    /// with the same kind (fuel included) and position as the native call's.
    #[test]
    fn the_sdk_export_keeps_kinds_and_positions() {
        let fuel = RenderOptions {
            engine_fuel: Some(2_000),
            ..Default::default()
        };
        let spin = "{% for i in range(100000) %}x{% endfor %}";
        let native = render(spin, "{}", &fuel).unwrap_err();
        assert_eq!(
            <Builtin as TemplateEngine>::render(spin, "{}", &fuel),
            Err(Error::InvalidInput(native))
        );
        let native = inspect("{{ user. }}").unwrap_err();
        assert_eq!(native.kind, "syntax");
        assert_eq!(
            <Builtin as TemplateEngine>::inspect("{{ user. }}"),
            Err(Error::InvalidInput(native))
        );
        let msgs = vec![ChatMessage {
            role: "user".into(),
            content: "{{ q }}".into(),
        }];
        let out = <Builtin as TemplateEngine>::render_chat(msgs, r#"{"q": "Why?"}"#, &fuel);
        assert_eq!(out.map(|m| m[0].content.clone()).as_deref(), Ok("Why?"));
    }

    #[test]
    fn recursion_limit_stops_runaway_macros() {
        let err = r(
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            "{}",
        )
        .unwrap_err();
        assert_eq!(err.kind, "recursion", "{err}");
    }

    #[test]
    fn context_must_be_a_json_object() {
        assert_eq!(r("x", "[1]").unwrap_err().kind, "json");
        let err = r("x", "{\"a\": ").unwrap_err();
        assert_eq!(err.kind, "json");
        assert!(err.position.is_some());
        assert_eq!(r("plain", "").as_deref(), Ok("plain"));
    }

    #[test]
    fn inspect_lists_variables_but_not_builtins_or_locals() {
        let info = inspect("{% set greeting = 'hi' %}{{ greeting }} {{ user.name }}{% for d in docs %}{{ d.title }}{% endfor %}{{ range(3) | list }}").unwrap();
        assert_eq!(info.variables, vec!["docs", "user"]);
        assert_eq!(info.paths, vec!["docs", "user.name"]);
    }

    #[test]
    fn chat_messages_render_with_one_context() {
        let msgs = vec![
            ChatMessage {
                role: "system".into(),
                content: "You help {{ team }}.".into(),
            },
            ChatMessage {
                role: "user".into(),
                content: "{{ question }}".into(),
            },
        ];
        let out = render_chat(
            &msgs,
            r#"{"team": "support", "question": "Why?"}"#,
            &RenderOptions::default(),
        )
        .unwrap();
        assert_eq!(out[0].content, "You help support.");
        assert_eq!(out[1].role, "user");
        assert_eq!(out[1].content, "Why?");
        let err = render_chat(&msgs, "{}", &RenderOptions::default()).unwrap_err();
        assert!(
            err.message.starts_with("message 0 (system)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn included_imported_and_extended_sources_come_only_from_the_caller() {
        let sources = vec![
            (
                "base@2".to_owned(),
                "<{% block body %}{% endblock %}>".to_owned(),
            ),
            (
                "macros".to_owned(),
                "{% macro hi(n) %}hi {{ n }}{% endmacro %}".to_owned(),
            ),
            ("footer".to_owned(), "-- {{ sig }}".to_owned()),
        ];
        let src = r#"{% extends "base@2" %}{% block body %}{% from "macros" import hi %}{{ hi(name) }} {% include "footer" %}{% endblock %}"#;
        let out = render_with_sources(
            src,
            r#"{"name": "Ada", "sig": "W"}"#,
            &RenderOptions::default(),
            &Settings::default(),
            &sources,
        );
        assert_eq!(out.as_deref(), Ok("<hi Ada -- W>"));
        let missing = render_with_sources(
            r#"{% include "other" %}"#,
            "{}",
            &RenderOptions::default(),
            &Settings::default(),
            &sources,
        )
        .unwrap_err();
        assert!(missing.message.contains("other"), "{missing:?}");
        let broken = render_with_sources(
            "x",
            "{}",
            &RenderOptions::default(),
            &Settings::default(),
            &[("bad".to_owned(), "{% if %}".to_owned())],
        )
        .unwrap_err();
        assert!(broken.message.contains("bad"), "{broken:?}");
    }
}
