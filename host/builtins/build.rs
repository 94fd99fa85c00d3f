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
use std::process::Command;

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
