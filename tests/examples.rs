//! The SDK's promises, tested as a plugin author meets them: the examples build for
//! wasm32-wasip2, upload to a real server and behave as their READMEs say; `warden plugin new`
//! scaffolds crates that build and pass `warden inspect`; the walkthrough runs end to end; the
//! client commands report refusals with the documented exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::{ALL_ROLES, Server, token};
use serde_json::{Value, json};

fn nz_uk_ids() -> std::path::PathBuf {
    common::component("pii-nz-uk-ids", "pii_nz_uk_ids")
}

fn prompt_filters() -> std::path::PathBuf {
    common::component("template-prompt-filters", "template_prompt_filters")
}

/// `warden …` as a client of `s`; returns (exit code, stdout as JSON, stderr).
fn cli(s: &Server, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .env("WARDEN_SERVER", &s.url)
        .env("WARDEN_TOKEN", &s.token)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Uploads the `pii-nz-uk-ids` example with `warden plugin push`.
fn push_nz_uk_ids(s: &Server) {
    let (code, v, err) = cli(
        s,
        &[
            "plugin",
            "push",
            nz_uk_ids().to_str().unwrap(),
            "--name",
            "nz-uk-ids",
            "--version",
            "1.0.0",
        ],
    );
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(v["world"], "pii-detector", "{v}");
}

/// A text with an email (the built-in's), an IRD number and a NINO (the example's) and an
/// order number (nobody's).
const IDS_TEXT: &str =
    "Mail ada@example.com, IRD 49-091-850, NI number AB 12 34 56 C, order 12345678";

#[test]
fn the_pii_detector_example_finds_its_ids_alongside_the_built_in() {
    let s = Server::start();
    push_nz_uk_ids(&s);
    let text = IDS_TEXT;
    let (st, d) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({"text": text, "detectors": ["pii", "nz-uk-ids@1.0.0"]})),
    );
    assert_eq!(st, 200, "{d}");
    common::assert_nz_uk_ids_found(&d, text);
}

#[test]
fn anonymising_with_the_pii_detector_example_replaces_its_findings() {
    let s = Server::start();
    push_nz_uk_ids(&s);
    let (st, a) = s.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": IDS_TEXT, "detectors": ["pii", "nz-uk-ids@1.0.0"]})),
    );
    assert_eq!(st, 200, "{a}");
    let out = a["text"].as_str().unwrap();
    assert!(
        !out.contains("49-091-850") && out.contains("<NZ_IRD>"),
        "{out}"
    );
}

/// Uploads the `template-prompt-filters` example as a template engine and pins it with the
/// template `triage`, all with the client commands.
fn push_prompt_filters_and_a_template(s: &Server) {
    let (code, v, err) = cli(
        s,
        &[
            "plugin",
            "push",
            prompt_filters().to_str().unwrap(),
            "--name",
            "prompt-filters",
            "--version",
            "1.0.0",
            "--world",
            "template-engine",
        ],
    );
    assert_eq!(code, 0, "{v} {err}");
    let (code, v, err) = cli(
        s,
        &[
            "template",
            "push",
            "triage",
            "--engine",
            "prompt-filters@1.0.0",
            "-t",
            "Ticket: {{ ticket | truncate_tokens(3) }} {\"q\": \"{{ ticket | json_escape }}\"}",
        ],
    );
    assert_eq!(code, 0, "{v} {err}");
}

#[test]
fn the_template_engine_example_renders_with_its_filters() {
    let s = Server::start();
    push_prompt_filters_and_a_template(&s);
    let (code, v, err) = cli(
        &s,
        &[
            "template",
            "render",
            "triage",
            "--vars",
            r#"{"ticket": "it said \"no\" twice"}"#,
        ],
    );
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(
        v["text"], "Ticket: it said \"no\"… {\"q\": \"it said \\\"no\\\" twice\"}",
        "{v}"
    );
}

#[test]
fn the_template_engine_example_cannot_be_deleted_while_a_template_pins_it() {
    let s = Server::start();
    push_prompt_filters_and_a_template(&s);
    let (st, p) = s.call("DELETE", "/v1/plugins/prompt-filters/versions/1.0.0", None);
    assert_eq!(st, 409, "{p}");
}

#[test]
fn a_syntax_error_for_the_template_engine_example_is_refused_with_its_position() {
    let s = Server::start();
    push_prompt_filters_and_a_template(&s);
    let (code, v, _) = cli(
        &s,
        &[
            "template",
            "push",
            "broken",
            "--engine",
            "prompt-filters@1.0.0",
            "-t",
            "line one\n{% if %}",
        ],
    );
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["status"], 422, "{v}");
}

#[test]
fn plugin_ls_lists_the_built_ins() {
    let s = Server::start();
    let (code, v, _) = cli(&s, &["plugin", "ls"]);
    assert_eq!(code, 0);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "pii" && p["builtin"] == true),
        "{v}"
    );
}

#[test]
fn a_refused_request_prints_the_problem_and_exits_1() {
    let s = Server::start();
    // The problem on stdout, a summary on stderr.
    let (code, v, err) = cli(&s, &["template", "render", "missing"]);
    assert_eq!(code, 1);
    assert_eq!(v["status"], 404, "{v}");
    assert!(err.contains("404"), "{err}");
    // A token without the role: 403, exit 1.
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["pii", "detect", "--text", "a@b.io"])
        .env("WARDEN_SERVER", &s.url)
        .env("WARDEN_TOKEN", token("default", "aud", &["auditor"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn local_problems_exit_2_with_one_line() {
    let s = Server::start();
    // No token.
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["plugin", "ls", "--server", &s.url])
        .env_remove("WARDEN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("WARDEN_TOKEN"));
    // A missing file.
    let (code, _, err) = cli(
        &s,
        &[
            "plugin",
            "push",
            "/nonexistent.wasm",
            "--name",
            "x",
            "--version",
            "1.0.0",
        ],
    );
    assert_eq!(code, 2, "{err}");
    // An unreachable server.
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["plugin", "ls", "--server", "http://127.0.0.1:9"])
        .env("WARDEN_TOKEN", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}

/// Scaffolds a `world` plugin with `warden plugin new` (and checks a second scaffold over it is
/// refused), builds it for wasm32-wasip2, and checks that `warden inspect` accepts it for that
/// world and that `warden run KIND --plugin` with `probe` prints `expected`.
fn scaffold_builds_and_runs(world: &str, kind: &str, probe: &[&str], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let target = common::root().join("target/scaffold");
    let name = format!("my-{world}");
    let crate_dir = dir.path().join(&name);
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["plugin", "new", &name, "--world", world, "--dir"])
        .arg(&crate_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Scaffolding again over it is refused.
    let again = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["plugin", "new", &name, "--world", world, "--dir"])
        .arg(&crate_dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    // The workspace's lock file keeps dependency versions (and so build artifacts) shared.
    std::fs::copy(
        common::root().join("Cargo.lock"),
        crate_dir.join("Cargo.lock"),
    )
    .unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let st = Command::new(&cargo)
        .current_dir(&crate_dir)
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .status()
        .unwrap();
    assert!(st.success(), "building the scaffolded {world} failed");
    let wasm = target.join(format!(
        "wasm32-wasip2/release/{}.wasm",
        name.replace('-', "_")
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .arg("inspect")
        .arg(&wasm)
        .output()
        .unwrap();
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["accepted"], true, "{info}");
    assert_eq!(info["world"], world, "{info}");
    // And it works under the real engine, as `warden run` runs it.
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["run", "--no-cache", kind, "--plugin"])
        .arg(&wasm)
        .args(probe)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{world}: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(expected), "{world}: {text}");
}

#[test]
fn a_scaffolded_pii_detector_builds_passes_inspect_and_runs() {
    scaffold_builds_and_runs(
        "pii-detector",
        "pii",
        &["--text", "ask employee EMP-123456"],
        "EMPLOYEE_ID",
    );
}

#[test]
fn a_scaffolded_template_engine_builds_passes_inspect_and_runs() {
    scaffold_builds_and_runs(
        "template-engine",
        "template",
        &[
            "-t",
            "Hi {{ user.name }}",
            "-c",
            r#"{"user": {"name": "Ada"}}"#,
        ],
        "Hi Ada",
    );
}

#[test]
fn a_scaffolded_code_runner_builds_passes_inspect_and_runs() {
    scaffold_builds_and_runs(
        "code-runner",
        "python",
        &["-c", "x = 41", "-c", "x + 1"],
        "42",
    );
}

#[test]
fn walkthrough_runs_end_to_end() {
    let s = Server::start();
    let out = Command::new("bash")
        .arg(common::root().join("examples/walkthrough.sh"))
        .env("WARDEN", env!("CARGO_BIN_EXE_warden"))
        .env("WARDEN_SERVER", &s.url)
        .env("WARDEN_TOKEN", token("default", "walker", ALL_ROLES))
        .env("PII_PLUGIN", nz_uk_ids())
        .env("TEMPLATE_PLUGIN", prompt_filters())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("walkthrough complete"), "{stdout}");
}
