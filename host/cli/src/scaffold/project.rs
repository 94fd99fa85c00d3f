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
    /// The manifest, parsed.
    pub(super) manifest: toml::Table,
}

impl Project {
    /// Reads the project in `dir`: a `pyproject.toml` with a `[tool.warden]` table is Python, a
    /// `Cargo.toml` is Rust.
    pub(super) fn open(dir: &Path) -> Result<Project, Failure> {
        // Absolute: the tools run in the project's directory and take paths inside it.
        let dir = &dir
            .canonicalize()
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
        let read = |file: &str| -> Result<Option<toml::Table>, Failure> {
            let path = dir.join(file);
            match std::fs::read_to_string(&path) {
                Ok(text) => text.parse::<toml::Table>().map(Some).map_err(|e| {
                    Failure::usage(format!("{} is not valid TOML: {e}", path.display()))
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Failure::usage(format!(
                    "cannot read {}: {e}",
                    path.display()
                ))),
            }
        };
        let (lang, manifest, section) = if let Some(py) = read("pyproject.toml")?
            .filter(|t| t.get("tool").and_then(|t| t.get("warden")).is_some())
        {
            (Lang::Python, py, "project")
        } else if let Some(cargo) = read("Cargo.toml")? {
            (Lang::Rust, cargo, "package")
        } else {
            return Err(Failure::usage(format!(
                "{} holds neither a Cargo.toml nor a pyproject.toml with a [tool.warden] table, \
                 so it is not a plugin project (create one with `warden plugin new`)",
                dir.display()
            )));
        };
        let name = manifest
            .get(section)
            .and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str)
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
