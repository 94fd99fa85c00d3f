//! Builds the built-in plugins for `wasm32-wasip2` so the host can embed them.
//!
//! Each plugin is built by its own cargo invocation (features never unify across plugins, so
//! one plugin's dependencies cannot bloat another's), with the workspace's `plugin` profile,
//! into `<target>/plugins`, a target directory of its own so the outer cargo's lock is not
//! contended. The results are copied into `OUT_DIR` and embedded with `include_bytes!`.

// A build script reports failure by panicking with a message; that is its error channel.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

include!("src/versions.rs");

/// (package, file stem, name Warden knows it by).
const PLUGINS: &[(&str, &str, &str)] = &[
    (
        "warden-plugin-template",
        "warden_plugin_template",
        "template",
    ),
    ("warden-plugin-pii", "warden_plugin_pii", "pii"),
    ("warden-plugin-python", "warden_plugin_python", "python"),
];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("host/builtins sits two levels below the workspace root")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_base = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target_dir = target_base.join("plugins");

    // The built-ins are written on the SDK: its manifest (features, dependencies) counts too.
    for dir in [
        "wit",
        "plugins",
        "sdk/src",
        "sdk/Cargo.toml",
        "sdk/python/src",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.toml").display()
    );

    let mut listing = String::new();
    for (package, stem, name) in PLUGINS {
        build_plugin(&root, &target_dir, package);
        let built = target_dir
            .join("wasm32-wasip2/plugin")
            .join(format!("{stem}.wasm"));
        let dest = out_dir.join(format!("{name}.wasm"));
        std::fs::copy(&built, &dest)
            .unwrap_or_else(|e| panic!("copying {} to {}: {e}", built.display(), dest.display()));
        listing.push_str(&format!(
            "(\"{name}\", include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}.wasm\"))),\n"
        ));
    }
    build_cpython(
        &root,
        &target_base.join("toolchains"),
        &out_dir.join("cpython.wasm"),
    );
    listing.push_str(
        "(\"cpython\", include_bytes!(concat!(env!(\"OUT_DIR\"), \"/cpython.wasm\"))),\n",
    );
    std::fs::write(out_dir.join("builtins.rs"), format!("&[\n{listing}]\n"))
        .expect("writing builtins.rs");
}

fn build_plugin(root: &Path, target_dir: &Path, package: &str) {
    // Guests always build with the project's pinned toolchain (rust-toolchain.toml, which
    // carries wasm32-wasip2), even when the host is built with another one: `cargo +nightly
    // fuzz` builds the host with nightly, whose wasm32-wasip2 standard library may not exist.
    // Under rustup that means its `cargo` proxy with the toolchain choice cleared; without
    // rustup, the cargo building us.
    let mut cmd = if env::var_os("RUSTUP_TOOLCHAIN").is_some() {
        let mut c = Command::new("cargo");
        c.env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUSTUP_TOOLCHAIN_SOURCE");
        c
    } else {
        Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
    };
    cmd.current_dir(root)
        .args([
            "build",
            "--quiet",
            "--package",
            package,
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
            "--target-dir",
        ])
        .arg(target_dir)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"));
    // Flags meant for the host build (sanitisers, clippy, coverage) must not leak into the guests.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run cargo to build {package}: {e}"));
    if !status.success() {
        panic!(
            "building the built-in plugin {package} for wasm32-wasip2 failed (see the output above). \
             If the target is missing, run `rustup toolchain install` in the project root."
        );
    }
}

/// The CPython runner: `plugins/cpython` on the Python kit, built by componentize-py (the
/// interpreter, the standard library it preloads, and a snapshot of both after start-up).
fn build_cpython(root: &Path, toolchains: &Path, out: &Path) {
    let venv = python_toolchain(toolchains);
    // componentize-py writes bytecode caches beside the sources whatever the environment
    // says; they would re-trigger this script on every build, so it reads copies.
    let staged = out.with_extension("src");
    if staged.exists() {
        std::fs::remove_dir_all(&staged)
            .unwrap_or_else(|e| panic!("removing {}: {e}", staged.display()));
    }
    copy_python(&root.join("plugins/cpython"), &staged.join("runner"));
    copy_python(&root.join("sdk/python/src"), &staged.join("kit"));
    let output = Command::new(venv.join("bin/componentize-py"))
        .current_dir(&staged)
        .arg("-d")
        .arg(root.join("wit"))
        .args(["-w", "code-runner", "componentize", "warden_app", "-p"])
        .arg(staged.join("runner"))
        .arg("-p")
        .arg(staged.join("kit"))
        .arg("-o")
        .arg(out)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("could not run componentize-py: {e}"));
    if !output.status.success() {
        panic!(
            "building the CPython runner (plugins/cpython) failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Copies the `.py` files under `from` (tests and caches left out) to `to`.
fn copy_python(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let path = entry.expect("reading a source folder").path();
        let name = path.file_name().unwrap_or_default();
        if path.is_dir() {
            if !matches!(name.to_str(), Some("tests" | "__pycache__")) {
                copy_python(&path, &to.join(name));
            }
        } else if path.extension().is_some_and(|e| e == "py") {
            std::fs::copy(&path, to.join(name))
                .unwrap_or_else(|e| panic!("copying {}: {e}", path.display()));
        }
    }
}

/// componentize-py in a virtual environment under `toolchains`, installed on first use: the
/// same folder, completion mark and lock as `warden plugin build --toolchains`, so the tests'
/// Python plugins reuse it.
fn python_toolchain(toolchains: &Path) -> PathBuf {
    let venv = toolchains.join(format!("python-componentize-py-{COMPONENTIZE_PY}"));
    let done = venv.join(".warden-complete");
    if done.exists() {
        return venv;
    }
    std::fs::create_dir_all(toolchains)
        .unwrap_or_else(|e| panic!("creating {}: {e}", toolchains.display()));
    let lock = std::fs::File::create(toolchains.join(".lock"))
        .unwrap_or_else(|e| panic!("creating the toolchain lock: {e}"));
    lock.lock()
        .unwrap_or_else(|e| panic!("locking the toolchain cache: {e}"));
    if done.exists() {
        return venv;
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv)
            .unwrap_or_else(|e| panic!("removing {}: {e}", venv.display()));
    }
    let run = |cmd: &mut Command, what: &str| {
        let status = cmd
            .stdin(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("could not run {what}: {e}"));
        assert!(status.success(), "{what} failed ({status})");
    };
    run(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "python3 -m venv (the CPython runner is built with componentize-py; on Debian: apt-get install python3 python3-venv)",
    );
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("componentize-py=={COMPONENTIZE_PY}"))
            .arg(format!("pytest=={PYTEST}")),
        "pip install componentize-py",
    );
    std::fs::write(&done, "").unwrap_or_else(|e| panic!("writing {}: {e}", done.display()));
    venv
}
