//! What a plugin project is: its world, its language and the manifest that names them (the
//! leaf every language module and the commands share).

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::output::Failure;

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

/// The language a plugin is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust, with the `warden-sdk` crate (built with cargo for wasm32-wasip2).
    Rust,
    /// Python, with the `warden-sdk` package in `sdk/python` (built with componentize-py).
    Python,
    /// JavaScript, with the `warden-sdk` npm package in `sdk/js` (bundled with esbuild, built
    /// with componentize-js).
    Js,
}

impl NewWorld {
    /// The world's WIT name.
    pub(super) fn feature(self) -> &'static str {
        match self {
            NewWorld::PiiDetector => "pii-detector",
            NewWorld::TemplateEngine => "template-engine",
            NewWorld::CodeRunner => "code-runner",
        }
    }
}

/// The world a manifest's `value` names; `key` says where, in the message.
pub(super) fn world_named(value: Option<&str>, key: &str) -> Result<NewWorld, Failure> {
    value
        .and_then(|w| NewWorld::from_str(w, false).ok())
        .ok_or_else(|| {
            Failure::usage(format!(
                "{key} must be pii-detector, template-engine or code-runner"
            ))
        })
}

/// Whether `s` can name a plugin (and its crate or package).
pub(super) fn valid_crate_name(s: &str) -> bool {
    warden_core::names::is_valid(s)
        && !s.contains('.')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// A plugin project, as its manifest describes it.
#[derive(Debug)]
pub(crate) struct Project {
    /// The project's directory, absolute.
    pub(super) dir: PathBuf,
    /// Its name, from the manifest.
    pub(super) name: String,
    /// Its language.
    pub(super) lang: Lang,
    /// The manifest (Cargo.toml, pyproject.toml or package.json), parsed.
    pub(super) manifest: serde_json::Value,
}

impl Project {
    /// Reads the project in `dir`: a `package.json` with a `warden` key is JavaScript, a
    /// `pyproject.toml` with a `[tool.warden]` table is Python, a `Cargo.toml` is Rust.
    pub(super) fn open(dir: &Path) -> Result<Project, Failure> {
        // Absolute: the tools run in the project's directory and take paths inside it.
        let dir = &dir
            .canonicalize()
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
        let read = |file: &str| -> Result<Option<serde_json::Value>, Failure> {
            let path = dir.join(file);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => {
                    return Err(Failure::usage(format!(
                        "cannot read {}: {e}",
                        path.display()
                    )));
                }
            };
            let parsed = if file.ends_with(".json") {
                serde_json::from_str(&text).map_err(|e| e.to_string())
            } else {
                text.parse::<toml::Table>()
                    .map_err(|e| e.to_string())
                    .and_then(|t| serde_json::to_value(t).map_err(|e| e.to_string()))
            };
            parsed
                .map(Some)
                .map_err(|e| Failure::usage(format!("{} is not valid: {e}", path.display())))
        };
        let (lang, manifest, section) = if let Some(js) =
            read("package.json")?.filter(|t| t.get("warden").is_some())
        {
            (Lang::Js, js, None)
        } else if let Some(py) = read("pyproject.toml")?
            .filter(|t| t.get("tool").and_then(|t| t.get("warden")).is_some())
        {
            (Lang::Python, py, Some("project"))
        } else if let Some(cargo) = read("Cargo.toml")? {
            (Lang::Rust, cargo, Some("package"))
        } else {
            return Err(Failure::usage(format!(
                "{} holds neither a Cargo.toml, nor a pyproject.toml with a [tool.warden] table, \
                 nor a package.json with a \"warden\" key, so it is not a plugin project \
                 (create one with `warden plugin new`)",
                dir.display()
            )));
        };
        let table = match section {
            Some(s) => manifest.get(s),
            None => Some(&manifest),
        };
        let section = section.unwrap_or("package.json");
        let name = table
            .and_then(|p| p.get("name"))
            .and_then(serde_json::Value::as_str)
            .filter(|n| valid_crate_name(n))
            .ok_or_else(|| {
                Failure::usage(format!(
                    "the manifest in {} has no usable [{section}] name (a-z first, then a-z, \
                     0-9, `-` or `_`)",
                    dir.display()
                ))
            })?
            .to_owned();
        Ok(Project {
            dir: dir.to_owned(),
            name,
            lang,
            manifest,
        })
    }
}
