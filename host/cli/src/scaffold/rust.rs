//! Rust plugins: a crate depending on the `warden-sdk` crate, built by cargo for
//! `wasm32-wasip2` with the pinned toolchain (rustup installs it on first use).

use std::path::Path;
use std::process::Command;

use super::project::{NewWorld, Project};
use super::toolchain::run;
use crate::output::Failure;

/// The toolchain file Warden itself is built with (same compiler, wasm32-wasip2 target).
const TOOLCHAIN: &str = include_str!("../../../../rust-toolchain.toml");

/// What to do after `warden plugin new --lang rust`.
pub(super) const NEXT: &str = "  warden plugin test      # cargo test: the logic, natively\n  warden plugin build     # the component, in build/\n  warden run build/{name}.wasm ...\n";

/// The scaffold's files, relative to its directory.
pub(super) fn files(name: &str, world: NewWorld, sdk: &Path) -> Vec<(String, String)> {
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
         ```sh\nwarden plugin test    # or: cargo test (the logic, natively)\n\
         warden plugin build   # build/{name}.wasm; or: cargo build --release --target wasm32-wasip2\n\
         warden inspect target/wasm32-wasip2/release/{stem}.wasm\n\
         warden plugin push target/wasm32-wasip2/release/{stem}.wasm --name {name} --version 0.1.0\n```\n\n\
         `warden run target/wasm32-wasip2/release/{stem}.wasm …` calls it locally with the same \
         engine and limits the server uses (`--fuel`, `--memory`, `--timeout-ms`).\n\
         See docs/plugin-authoring.md in Warden's repository for the worlds, limits and outcomes.\n"
    );
    [
        ("Cargo.toml", cargo),
        ("rust-toolchain.toml", TOOLCHAIN.to_owned()),
        (".gitignore", "/target\n/build\n".to_owned()),
        ("README.md", readme),
        ("src/lib.rs", lib),
    ]
    .into_iter()
    .map(|(path, text)| (path.to_owned(), text))
    .collect()
}

const PII_LIB: &str = include_str!("../../templates/pii-detector.rs");

const TEMPLATE_LIB: &str = include_str!("../../templates/template-engine.rs");

const RUNNER_LIB: &str = include_str!("../../templates/code-runner.rs");

/// `cargo build --release --target wasm32-wasip2`, then the one `.wasm` artifact copied to `out`.
pub(super) fn build(project: &Project, out: &Path) -> Result<(), Failure> {
    install_pinned(project)?;
    let mut cargo = Command::new("cargo");
    cargo
        .current_dir(&project.dir)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .args(["--message-format", "json-render-diagnostics"]);
    let stdout = super::toolchain::capture(&mut cargo, "cargo build")?;
    // The artifact's path from cargo's own report: right whatever CARGO_TARGET_DIR says.
    let wasm = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .flat_map(|m| {
            m["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
        })
        .rfind(|f| f.ends_with(".wasm"))
        .ok_or_else(|| {
            Failure::usage(format!(
                "cargo built no .wasm file for {}: is its [lib] crate-type \"cdylib\"?",
                project.name
            ))
        })?;
    std::fs::copy(&wasm, out)
        .map_err(|e| Failure::usage(format!("cannot copy {wasm} to {}: {e}", out.display())))?;
    Ok(())
}

/// `cargo test` in the project.
pub(super) fn test(project: &Project) -> Result<u8, Failure> {
    install_pinned(project)?;
    run(
        Command::new("cargo").current_dir(&project.dir).arg("test"),
        "cargo test",
    )
}

/// `rustup toolchain install` when the project pins a toolchain (rustup does not install one by
/// itself for a `rust-toolchain.toml`).
fn install_pinned(project: &Project) -> Result<(), Failure> {
    if project.dir.join("rust-toolchain.toml").exists() {
        let code = run(
            Command::new("rustup")
                .current_dir(&project.dir)
                .args(["toolchain", "install"]),
            "rustup toolchain install",
        )?;
        if code != 0 {
            return Err(Failure::usage(
                "rustup could not install the toolchain rust-toolchain.toml pins",
            ));
        }
    }
    Ok(())
}
