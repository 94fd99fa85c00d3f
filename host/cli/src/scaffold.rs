//! `warden plugin new`: scaffolds a plugin crate for one world — Cargo.toml with the right
//! crate type and release profile, the pinned toolchain with the `wasm32-wasip2` target, a
//! working example implementation with a test, and a README — so an author goes from nothing to
//! a component that passes `warden inspect` with one build command.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

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
const TOOLCHAIN: &str = include_str!("../../../rust-toolchain.toml");

fn valid_crate_name(s: &str) -> bool {
    warden_core::names::is_valid(s)
        && !s.contains('.')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
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
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk"),
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

const PII_LIB: &str = include_str!("../templates/pii-detector.rs");

const TEMPLATE_LIB: &str = include_str!("../templates/template-engine.rs");

const RUNNER_LIB: &str = include_str!("../templates/code-runner.rs");

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
