//! `warden plugin new`: scaffolds a plugin crate for one world — Cargo.toml with the right
//! crate type and release profile, the pinned toolchain with the `wasm32-wasip2` target, a
//! working example implementation with a test, and a README — so an author goes from nothing to
//! a component that passes `warden inspect` with one build command.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::cli::Failure;

/// The world a new plugin targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewWorld {
    /// Finds personal data (`warden:plugin/pii-detector`).
    PiiDetector,
    /// Renders prompt templates (`warden:plugin/template-engine`).
    TemplateEngine,
    /// Runs code in sessions (`warden:plugin/code-runner`).
    CodeRunner,
}

impl NewWorld {
    fn feature(self) -> &'static str {
        match self {
            NewWorld::PiiDetector => "pii-detector",
            NewWorld::TemplateEngine => "template-engine",
            NewWorld::CodeRunner => "code-runner",
        }
    }
}

/// `warden plugin new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The plugin's name (also the crate's): a-z, 0-9, `-`, `_`.
    pub name: String,
    /// The world it implements.
    #[arg(long, value_enum)]
    pub world: NewWorld,
    /// Where to create it [default: ./NAME].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The warden-sdk crate to depend on (a path) [default: the SDK of this Warden's source].
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

/// The toolchain file Warden itself is built with (same compiler, wasm32-wasip2 target).
const TOOLCHAIN: &str = include_str!("../../rust-toolchain.toml");

fn valid_crate_name(s: &str) -> bool {
    crate::names::is_valid(s) && !s.contains('.') && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// Writes the crate; refuses to touch an existing directory.
pub fn new(args: &NewArgs) -> Result<u8, Failure> {
    if !valid_crate_name(&args.name) {
        return Err(Failure::usage(format!(
            "`{}` is not a usable plugin name: start with a-z, then a-z, 0-9, `-` or `_` \
             (at most 64)",
            args.name
        )));
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        return Err(Failure::usage(format!(
            "{} already exists; choose another --dir",
            dir.display()
        )));
    }
    let sdk = match &args.sdk {
        Some(p) => p.clone(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk"),
    };
    let sdk = sdk.canonicalize().map_err(|e| {
        Failure::usage(format!(
            "the warden-sdk crate is not at {} ({e}); pass --sdk PATH",
            sdk.display()
        ))
    })?;
    let files = files(&args.name, args.world, &sdk);
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::usage(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    }
    let stem = args.name.replace('-', "_");
    eprintln!(
        "created {dir} ({world}). Next:\n  cd {dir}\n  cargo test\n  cargo build --release --target wasm32-wasip2\n  warden inspect target/wasm32-wasip2/release/{stem}.wasm",
        dir = dir.display(),
        world = args.world.feature(),
    );
    Ok(0)
}

/// The scaffold's files, relative to its directory.
fn files(name: &str, world: NewWorld, sdk: &Path) -> Vec<(&'static str, String)> {
    let feature = world.feature();
    let cargo = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# cdylib: the component; rlib: so `cargo test` runs the logic natively.
crate-type = ["cdylib", "rlib"]

[dependencies]
warden-sdk = {{ path = "{sdk}", features = ["{feature}"] }}

# Small, fast components: what Warden compiles and instantiates on every call.
[profile.release]
opt-level = 3
lto = true
codegen-units = 1
strip = "debuginfo"
panic = "abort"

# A crate of its own, not part of any enclosing workspace.
[workspace]
"#,
        sdk = sdk.display().to_string().replace('\\', "/"),
    );
    let lib = match world {
        NewWorld::PiiDetector => PII_LIB,
        NewWorld::TemplateEngine => TEMPLATE_LIB,
        NewWorld::CodeRunner => RUNNER_LIB,
    }
    .replace("{{NAME}}", name);
    let stem = name.replace('-', "_");
    let readme = format!(
        "# {name}\n\nA Warden `{feature}` plugin, scaffolded by `warden plugin new`.\n\n\
         ```sh\ncargo test                                      # the logic, natively\n\
         cargo build --release --target wasm32-wasip2    # the component\n\
         warden inspect target/wasm32-wasip2/release/{stem}.wasm\n\
         warden plugin push target/wasm32-wasip2/release/{stem}.wasm --name {name} --version 0.1.0\n```\n\n\
         `warden run target/wasm32-wasip2/release/{stem}.wasm …` calls it locally with the same \
         engine and limits the server uses (`--fuel`, `--memory`, `--timeout-ms`).\n\
         See docs/plugin-authoring.md in Warden's repository for the worlds, limits and outcomes.\n"
    );
    vec![
        ("Cargo.toml", cargo),
        ("rust-toolchain.toml", TOOLCHAIN.to_owned()),
        (".gitignore", "/target\n".to_owned()),
        ("README.md", readme),
        ("src/lib.rs", lib),
    ]
}

const PII_LIB: &str = r##"//! {{NAME}}: a Warden PII detector. It finds employee ids such as `EMP-123456`; replace the
//! logic with your own.

use warden_sdk::Error;
use warden_sdk::context::ContextScorer;
use warden_sdk::pii::{DetectOptions, DetectorInfo, Finding, PiiDetector};
use warden_sdk::span::{Span, resolve_overlaps};

/// The detector.
pub struct Detector;

impl PiiDetector for Detector {
    fn describe() -> DetectorInfo {
        DetectorInfo::new("{{NAME}}", env!("CARGO_PKG_VERSION"), ["EMPLOYEE_ID"])
    }

    fn detect(text: &str, options: &DetectOptions) -> Result<Vec<Finding>, Error> {
        let cues = ContextScorer::new(["employee", "staff"], 30, 0.2);
        let mut found = Vec::new();
        if options.wants("EMPLOYEE_ID") {
            for (at, _) in text.match_indices("EMP-") {
                let digits = text[at + 4..].bytes().take_while(u8::is_ascii_digit).count();
                let span = Span::new(at, at + 4 + digits);
                if digits == 6 && span.is_whole_word(text) {
                    let score = cues.score(text, span, 0.7);
                    found.push(Finding::new("EMPLOYEE_ID", span.start, span.end, score)
                        .explained("EMP- followed by six digits"));
                }
            }
        }
        found.retain(|f| options.keeps(f.score));
        Ok(resolve_overlaps(found))
    }
}

warden_sdk::export_pii_detector!(Detector);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_employee_ids() {
        let text = "Ask employee EMP-123456, not EMP-12 or XEMP-123456.";
        let found = Detector::detect(text, &DetectOptions::default()).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].start..found[0].end], "EMP-123456");
        assert!(found[0].score > 0.8);
    }
}
"##;

const TEMPLATE_LIB: &str = r##"//! {{NAME}}: a Warden template engine. It replaces `{{ path.to.value }}` placeholders with
//! values from the context and refuses undefined ones; replace the logic with your own.

use warden_sdk::Error;
use warden_sdk::json::Context;
use warden_sdk::template::{RenderOptions, TemplateEngine, TemplateInfo};

/// The engine.
pub struct Engine;

/// The placeholders of `template`: (byte range of `{{ … }}`, the trimmed path inside).
fn placeholders(template: &str) -> Result<Vec<(usize, usize, String)>, Error> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(open) = template[rest..].find("{{") {
        let start = rest + open;
        let Some(close) = template[start..].find("}}") else {
            let line = template[..start].lines().count().max(1) as u32;
            return Err(Error::invalid_input_at("syntax", "`{{` without `}}`", line, 1));
        };
        let end = start + close + 2;
        out.push((start, end, template[start + 2..end - 2].trim().to_owned()));
        rest = end;
    }
    Ok(out)
}

impl TemplateEngine for Engine {
    fn render(template: &str, context_json: &str, options: &RenderOptions) -> Result<String, Error> {
        let ctx = Context::parse(context_json)?;
        let strict = options.strict_undefined.unwrap_or(true);
        let mut out = String::with_capacity(template.len());
        let mut last = 0;
        for (start, end, path) in placeholders(template)? {
            out.push_str(&template[last..start]);
            match ctx.text(&path) {
                Some(v) => out.push_str(&v),
                None if strict => return Err(ctx.require(&path).unwrap_err()),
                None => {}
            }
            last = end;
        }
        out.push_str(&template[last..]);
        Ok(out)
    }

    fn inspect(template: &str) -> Result<TemplateInfo, Error> {
        let mut variables = Vec::new();
        let mut paths = Vec::new();
        for (_, _, path) in placeholders(template)? {
            let top = path.split('.').next().unwrap_or_default().to_owned();
            if path.contains('.') {
                paths.push(path);
            }
            variables.push(top);
        }
        variables.sort();
        variables.dedup();
        paths.sort();
        paths.dedup();
        Ok(TemplateInfo { variables, paths })
    }
}

warden_sdk::export_template_engine!(Engine);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_refuses_undefined() {
        let o = RenderOptions::default();
        let out = Engine::render("Hi {{ user.name }}!", r#"{"user": {"name": "Ada"}}"#, &o).unwrap();
        assert_eq!(out, "Hi Ada!");
        assert!(Engine::render("{{ nope }}", "{}", &o).is_err());
        assert_eq!(Engine::inspect("{{ a.b }} {{ c }}").unwrap().variables, ["a", "c"]);
    }
}
"##;

const RUNNER_LIB: &str = r##"//! {{NAME}}: a Warden code runner. Its language is a tiny calculator — `x = 41`, then
//! `x + 1` — whose variables persist between evaluations and survive snapshots; replace it with
//! your own interpreter.

use std::collections::BTreeMap;

use warden_sdk::Error;
use warden_sdk::runner::{CodeRunner, EvalOutput, Session, SessionOptions};

/// The runner.
pub struct Runner;

/// One session: named integers.
#[derive(Default)]
pub struct Calc {
    vars: BTreeMap<String, i64>,
}

impl Calc {
    fn value(&self, term: &str) -> Result<i64, Error> {
        let term = term.trim();
        if let Ok(n) = term.parse() {
            return Ok(n);
        }
        self.vars
            .get(term)
            .copied()
            .ok_or_else(|| Error::invalid_input("exception", format!("NameError: `{term}` is not defined")))
    }

    fn expr(&self, e: &str) -> Result<i64, Error> {
        let mut total = 0i64;
        for (i, part) in e.split('+').enumerate() {
            let v = self.value(part)?;
            total = if i == 0 { v } else { total.checked_add(v).ok_or_else(|| Error::invalid_input("exception", "OverflowError"))? };
        }
        Ok(total)
    }
}

impl Session for Calc {
    fn new(_options: &SessionOptions) -> Self {
        Calc::default()
    }

    fn eval(&mut self, code: &str) -> Result<EvalOutput, Error> {
        let mut last = None;
        for line in code.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some((name, e)) = line.split_once('=') {
                let v = self.expr(e)?;
                self.vars.insert(name.trim().to_owned(), v);
                last = None;
            } else {
                last = Some(self.expr(line)?);
            }
        }
        Ok(EvalOutput {
            stdout: String::new(),
            repr: last.map(|v| v.to_string()),
            json: last.map(|v| v.to_string()),
        })
    }

    fn snapshot(&self) -> Result<Vec<u8>, Error> {
        Ok(self.vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect::<String>().into_bytes())
    }

    fn restore(snapshot: &[u8], options: &SessionOptions) -> Result<Self, Error> {
        let text = std::str::from_utf8(snapshot)
            .map_err(|_| Error::invalid_input("snapshot", "not a snapshot of this runner"))?;
        let mut s = Calc::new(options);
        s.eval(text)?;
        Ok(s)
    }
}

impl CodeRunner for Runner {
    type Session = Calc;
}

warden_sdk::export_code_runner!(Runner);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_persists_and_survives_snapshots() {
        let mut s = Calc::new(&SessionOptions::default());
        s.eval("x = 41").unwrap();
        assert_eq!(s.eval("x + 1").unwrap().repr.as_deref(), Some("42"));
        let mut r = Calc::restore(&s.snapshot().unwrap(), &SessionOptions::default()).unwrap();
        assert_eq!(r.eval("x + x").unwrap().repr.as_deref(), Some("82"));
        assert!(r.eval("y").is_err());
    }
}
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_existing_directories_are_refused() {
        assert!(valid_crate_name("my-detector"));
        assert!(!valid_crate_name("9lives"));
        assert!(!valid_crate_name("has.dot"));
        let dir = tempfile::tempdir().unwrap();
        let args = NewArgs {
            name: "demo".into(),
            world: NewWorld::PiiDetector,
            dir: Some(dir.path().to_owned()),
            sdk: None,
        };
        assert!(new(&args).is_err(), "an existing directory must be refused");
        let target = dir.path().join("demo");
        let args = NewArgs {
            dir: Some(target.clone()),
            ..args
        };
        assert_eq!(new(&args).ok(), Some(0));
        let cargo = std::fs::read_to_string(target.join("Cargo.toml")).unwrap();
        assert!(cargo.contains(r#"features = ["pii-detector"]"#), "{cargo}");
        assert!(
            std::fs::read_to_string(target.join("rust-toolchain.toml"))
                .unwrap()
                .contains("wasm32-wasip2")
        );
    }
}
