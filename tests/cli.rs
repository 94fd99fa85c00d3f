//! The `warden` binary, run as a user runs it: JSON on stdout, one-line errors on stderr,
//! exit codes 0 (ok), 1 (the call failed) and 2 (bad input).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn warden(args: &[&str], stdin: Option<&str>) -> Output {
    warm_cache();
    let cache = common::cache_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .env("WARDEN_CACHE_DIR", cache)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Compiles the built-ins into the shared cache once, before tests run the binary in
/// parallel (otherwise every test process would compile the Python interpreter at once).
fn warm_cache() {
    static WARM: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    WARM.get_or_init(|| {
        for args in [
            &["run", "python", "--code", "1"][..],
            &["run", "pii", "--text", "x"],
            &["run", "template", "--template", "x"],
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_warden"))
                .args(args)
                .env("WARDEN_CACHE_DIR", common::cache_dir())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "warming the cache: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
}

fn json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn run_template_prints_the_rendered_text() {
    let out = warden(
        &[
            "run",
            "template",
            "--template",
            "Hi {{ name | upper }}",
            "--context",
            r#"{"name": "ada"}"#,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["ok"], true);
    assert_eq!(v["result"], "Hi ADA");
    assert!(v["report"]["fuel_used"].as_u64().unwrap() > 0);
}

#[test]
fn run_template_renders_a_tokenizer_config_and_takes_whitespace_and_dialect_flags() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tokenizer_config.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "chat_template": "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
            "eos_token": "<|im_end|>"
        })
        .to_string(),
    )
    .unwrap();
    let conversation =
        r#"{"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": true}"#;
    let out = warden(
        &[
            "run",
            "template",
            "--chat",
            config.to_str().unwrap(),
            "--context",
            conversation,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json(&out)["result"],
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
    let out = warden(
        &[
            "run",
            "template",
            "--template",
            "{% if x %}\n  yes\n{% endif %}",
            "--context",
            r#"{"x": true}"#,
            "--trim-blocks",
            "--lstrip-blocks",
        ],
        None,
    );
    assert_eq!(json(&out)["result"], "  yes\n", "{}", stderr(&out));
    let out = warden(
        &[
            "run",
            "template",
            "--template",
            "{{ 'a-b'.split('-') }}",
            "--dialect",
            "jinja2",
        ],
        None,
    );
    assert_eq!(json(&out)["result"], "['a', 'b']", "{}", stderr(&out));
    // A JSON object without a chat template is a usage error (exit 2).
    std::fs::write(&config, "{\"bos_token\": \"<s>\"}").unwrap();
    let out = warden(
        &["run", "template", "--chat", config.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn template_errors_are_results_with_exit_code_1() {
    let out = warden(&["run", "template", "--template", "Hi {{ nobody }}"], None);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["outcome"], "invalid_input");
    assert_eq!(v["error"]["detail"]["kind"], "undefined");
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    for (args, needle) in [
        (
            vec!["run", "template", "--template", "x", "--context", "{nope"],
            "not valid JSON",
        ),
        (
            vec!["run", "template", "--template", "x", "--context", "[1, 2]"],
            "JSON object",
        ),
        (
            vec!["run", "template", "--file", "/definitely/missing.j2"],
            "cannot read template file",
        ),
        (
            vec!["run", "/definitely/missing.wasm"],
            "neither a built-in",
        ),
        (
            vec!["inspect", "/definitely/missing.wasm"],
            "cannot read component",
        ),
    ] {
        let out = warden(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn running_a_file_that_is_not_a_component_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.wasm");
    std::fs::write(&path, "just text").unwrap();
    let out = warden(&["run", path.to_str().unwrap(), "--template", "x"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a valid WebAssembly binary"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_a_local_component_with_its_worlds_options_and_limits() {
    let hostile = common::fixture("hostile");
    let h = hostile.to_str().unwrap();
    let out = warden(&["run", h, "--template", "ok"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["result"], "fine");

    let out = warden(&["run", h, "--template", "loop", "--fuel", "1000000"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["outcome"], "out_of_fuel");

    let out = warden(&["run", h, "--template", "memory", "--memory", "8M"], None);
    assert_eq!(json(&out)["error"]["outcome"], "memory_limit");
}

#[test]
fn forbidden_components_are_refused_by_run_and_explained_by_inspect() {
    let forbidden = common::fixture("forbidden");
    let f = forbidden.to_str().unwrap();
    let out = warden(&["run", f, "--template", "/etc/passwd"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("imports warden:plugin/tools@"),
        "{}",
        stderr(&out)
    );

    let out = warden(&["inspect", f], None);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["accepted"], false);
    assert_eq!(v["world"], "template-engine");
    assert!(
        v["refusal"]
            .as_str()
            .unwrap()
            .contains("only the code-runner world")
    );
    assert!(
        v["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i.as_str().unwrap().starts_with("warden:plugin/tools@"))
    );
}

#[test]
fn inspect_accepts_a_good_component() {
    let out = warden(
        &["inspect", common::fixture("hostile").to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["accepted"], true);
    assert_eq!(v["exports"][0], "warden:plugin/template@0.1.0");
}

#[test]
fn run_pii_scans_json_lines_in_bulk() {
    let input = concat!(
        r#"{"id": "a", "text": "Mail jane.doe@example.com about the invoice"}"#,
        "\n",
        "not json\n",
        r#"{"text": "nothing personal here"}"#,
        "\n",
    );
    let out = warden(&["run", "pii"], Some(input));
    assert_eq!(
        out.status.code(),
        Some(1),
        "one bad line makes the run fail: {}",
        stderr(&out)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["line"], 1);
    let findings = lines[0]["result"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["entity_type"], "EMAIL_ADDRESS");
    assert_eq!(
        (findings[0]["start"].as_u64(), findings[0]["end"].as_u64()),
        (Some(5), Some(25))
    );
    assert_eq!(lines[1]["ok"], false);
    assert_eq!(lines[2]["result"].as_array().unwrap().len(), 0);
}

#[test]
fn run_pii_single_text_with_entity_filter() {
    let out = warden(
        &[
            "run",
            "pii",
            "--text",
            "Call +61 2 9374 4000 or mail a@b.co",
            "--entities",
            "PHONE_NUMBER",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    let findings = v["result"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["entity_type"] == "PHONE_NUMBER"));
}

#[test]
fn run_python_carries_state_between_cells_and_across_snapshots() {
    // Both built-in runners: monty's snapshot is its heap, CPython's a record it replays.
    for runner in ["python", "cpython"] {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("session.bin");
        let out = warden(
            &[
                "run",
                "python",
                "--runner",
                runner,
                "--code",
                "x = 41\ndef inc(v):\n    return v + 1",
                "--code",
                "print('hi')\ninc(x)",
                "--snapshot-out",
                snap.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{runner}: {}", stderr(&out));
        let v = json(&out);
        assert_eq!(v["cells"][1]["result"]["repr"], "42", "{runner}");
        assert_eq!(v["cells"][1]["result"]["stdout"], "hi\n", "{runner}");

        let out = warden(
            &[
                "run",
                "python",
                "--runner",
                runner,
                "--restore",
                snap.to_str().unwrap(),
                "--code",
                "inc(x) * 2",
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{runner}: {}", stderr(&out));
        assert_eq!(json(&out)["cells"][0]["result"]["json"], "84", "{runner}");
    }
    // A runner that is not built in is a usage error naming the choices.
    let out = warden(&["run", "python", "--runner", "pypy", "--code", "1"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cpython"), "{}", stderr(&out));
}

#[test]
fn run_python_stops_hostile_code() {
    let out = warden(
        &[
            "run",
            "python",
            "--code",
            "while True:\n    pass",
            "--fuel",
            "20000000",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["cells"][0]["error"]["outcome"], "out_of_fuel");
}
