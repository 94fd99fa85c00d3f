//! The plugin kits for Python and JavaScript, tested as an author meets them: `warden plugin
//! new --lang python|js` scaffolds a project per world whose tests pass with `warden plugin
//! test` and which `warden plugin build` turns into a component Warden accepts and runs; each
//! language's example detector uploads to a real server and finds what its README says; a
//! hostile plugin in each language that tries to read files, reach the network, read the
//! environment, spin or hoard memory is stopped each time with its typed outcome.
//! componentize-py and componentize-js are installed by `warden plugin build` itself, into
//! `target/toolchains`, shared by every test and run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use common::Server;
use serde_json::{Value, json};

fn toolchains() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join("target"))
        .join("toolchains")
}

fn warden(args: &[&str], dir: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.args(args);
    if let Some(d) = dir {
        cmd.arg(d);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `warden plugin build DIR` (one build per project per test process); the component's path.
fn build(dir: &Path, lang: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<(PathBuf, PathBuf)>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    if let Some((_, wasm)) = built.lock().unwrap().iter().find(|(d, _)| d == dir) {
        return wasm.clone();
    }
    let t = toolchains();
    let out = warden(
        &["plugin", "build", "--toolchains", t.to_str().unwrap()],
        Some(dir),
    );
    assert!(
        out.status.success(),
        "building {}: {} {}",
        dir.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["accepted"], true, "{info}");
    assert_eq!(info["language"], lang, "{info}");
    let wasm = PathBuf::from(info["file"].as_str().unwrap());
    built.lock().unwrap().push((dir.to_owned(), wasm.clone()));
    wasm
}

/// A copy of `tests/fixtures/NAME` or `examples/NAME` in a temporary directory (builds write
/// into the project's `build/`, which must not land in the checkout).
fn copy_project(from: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = vec![from.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(from).unwrap();
            if rel.starts_with("build") || rel.ends_with("__pycache__") {
                continue;
            }
            if p.is_dir() {
                std::fs::create_dir_all(tmp.path().join(rel)).unwrap();
                stack.push(p);
            } else {
                std::fs::copy(&p, tmp.path().join(rel)).unwrap();
            }
        }
    }
    tmp
}

/// Scaffolds a `lang` plugin of `world`, runs its tests, builds it, and checks that `warden
/// run KIND --plugin` with `probe` prints `expected`.
fn scaffold_builds_and_runs(lang: &str, world: &str, kind: &str, probe: &[&str], expected: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let name = format!("{lang}-{world}");
    let dir = tmp.path().join(&name);
    let out = warden(
        &[
            "plugin", "new", &name, "--world", world, "--lang", lang, "--dir",
        ],
        Some(&dir),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = toolchains();
    let tested = warden(
        &["plugin", "test", "--toolchains", t.to_str().unwrap()],
        Some(&dir),
    );
    let report = text(&tested.stderr);
    assert!(
        tested.status.success(),
        "{lang} {world}: the tests failed: {report}"
    );
    // pytest's "1 passed", node's "# pass 1": the scaffold's test ran.
    assert!(
        report.contains("1 passed") || report.contains("# pass 1"),
        "{report}"
    );
    let wasm = build(&dir, lang);
    let inspect = warden(&["inspect"], Some(&wasm));
    let info: Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(info["world"], world, "{info}");
    // What componentize-py and componentize-js import for files (and sockets) is linked
    // deny-all, and said so.
    assert!(
        info["deny_all"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i.as_str().unwrap().starts_with("wasi:filesystem/")),
        "{info}"
    );
    let mut args = vec![
        "run",
        "--no-cache",
        kind,
        "--plugin",
        wasm.to_str().unwrap(),
    ];
    args.extend_from_slice(probe);
    let out = warden(&args, None);
    assert!(
        out.status.success(),
        "{world}: {} {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains(expected),
        "{world}: {}",
        text(&out.stdout)
    );
}

const EMPLOYEE: [&str; 2] = ["--text", "ask employee EMP-123456"];
const TEMPLATE: [&str; 4] = [
    "-t",
    "Hi ${user.name}",
    "-c",
    r#"{"user": {"name": "Ada"}}"#,
];
const CELLS: [&str; 4] = ["-c", "x = 41", "-c", "x + 1"];

#[test]
fn a_js_pii_detector_scaffold_tests_builds_and_runs() {
    scaffold_builds_and_runs("js", "pii-detector", "pii", &EMPLOYEE, "EMPLOYEE_ID");
}

#[test]
fn a_js_template_engine_scaffold_tests_builds_and_runs() {
    scaffold_builds_and_runs("js", "template-engine", "template", &TEMPLATE, "Hi Ada");
}

#[test]
fn a_js_code_runner_scaffold_tests_builds_and_runs() {
    scaffold_builds_and_runs("js", "code-runner", "python", &CELLS, "42");
}

#[test]
fn a_python_pii_detector_scaffold_tests_builds_and_runs() {
    scaffold_builds_and_runs(
        "python",
        "pii-detector",
        "pii",
        &["--text", "ask employee EMP-123456"],
        "EMPLOYEE_ID",
    );
}

#[test]
fn a_python_template_engine_scaffold_tests_builds_and_runs() {
    scaffold_builds_and_runs(
        "python",
        "template-engine",
        "template",
        &[
            "-t",
            "Hi ${user.name}",
            "-c",
            r#"{"user": {"name": "Ada"}}"#,
        ],
        "Hi Ada",
    );
}

#[test]
fn a_python_code_runner_scaffold_tests_builds_and_runs() {
    scaffold_builds_and_runs(
        "python",
        "code-runner",
        "python",
        &["-c", "x = 41", "-c", "x + 1"],
        "42",
    );
}

/// The example's text: an email (the built-in's), an IRD number and a NINO (the example's),
/// an order number (nobody's), and non-ASCII text before them so byte offsets matter.
const IDS_TEXT: &str =
    "Zoë — mail ada@example.com, IRD 49-091-850, NI number AB 12 34 56 C, order 12345678";

/// Builds the `examples/NAME` detector, uploads it to a real server and detects with it beside
/// the built-in.
fn example_detector_finds_its_ids(name: &str, lang: &str) {
    let project = copy_project(&common::root().join("examples").join(name));
    let wasm = build(project.path(), lang);
    let s = Server::start();
    let status = s.upload_as(&s.token, name, "1.0.0", std::fs::read(&wasm).unwrap());
    assert_eq!(status, 201);
    let detector = format!("{name}@1.0.0");
    let (st, d) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({"text": IDS_TEXT, "detectors": ["pii", detector], "explain": true})),
    );
    assert_eq!(st, 200, "{d}");
    common::assert_nz_uk_ids_found(&d, IDS_TEXT);
}

#[test]
fn the_python_example_detector_uploads_and_finds_its_ids_alongside_the_built_in() {
    example_detector_finds_its_ids("python-nz-uk-ids", "python");
}

#[test]
fn the_js_example_detector_uploads_and_finds_its_ids_alongside_the_built_in() {
    example_detector_finds_its_ids("js-nz-uk-ids", "js");
}

/// Builds `examples/NAME` and uploads it to a fresh server as `NAME@1.0.0`.
fn push_example(name: &str, lang: &str) -> Server {
    let project = copy_project(&common::root().join("examples").join(name));
    let wasm = build(project.path(), lang);
    let s = Server::start();
    let status = s.upload_as(&s.token, name, "1.0.0", std::fs::read(&wasm).unwrap());
    assert_eq!(status, 201, "{name}");
    s
}

/// The `examples/NAME` template engine, pinned by a stored template, renders with its filters
/// and refuses a bad template with its position.
fn example_engine_renders_with_its_filters(name: &str, lang: &str) {
    let s = push_example(name, lang);
    let (st, v) = s.call(
        "POST",
        "/v1/templates/triage/versions",
        Some(json!({"engine": format!("{name}@1.0.0"),
                    "template": "Ticket: ${ticket | truncate_tokens(3)}\n{\"q\": \"${ticket | json_escape}\"}\n${steps | bullet_list}"})),
    );
    assert_eq!(st, 201, "{v}");
    let (st, r) = s.call(
        "POST",
        "/v1/templates/triage/render",
        Some(json!({"variables": {"ticket": "Zoë's order \"never\" arrived", "steps": ["look", "reply"]}})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        r["text"],
        "Ticket: Zoë's order \"never\"…\n{\"q\": \"Zoë's order \\\"never\\\" arrived\"}\n- look\n- reply",
        "{r}"
    );
    let (st, p) = s.call(
        "POST",
        "/v1/templates/triage/render",
        Some(json!({"variables": {"steps": []}})),
    );
    assert_eq!(st, 422, "{p}");
    assert!(p.to_string().contains("ticket"), "{p}");
}

#[test]
fn the_python_example_template_engine_renders_a_stored_template_with_its_filters() {
    example_engine_renders_with_its_filters("python-prompt-filters", "python");
}

#[test]
fn the_js_example_template_engine_renders_a_stored_template_with_its_filters() {
    example_engine_renders_with_its_filters("js-prompt-filters", "js");
}

/// A session on the `examples/NAME` code runner runs `cells` (each's JSON value expected),
/// survives a restart (the example's snapshot, restored), and refuses `refused`.
fn example_runner_keeps_a_session(name: &str, lang: &str, cells: &[(&str, Value)], refused: &str) {
    let s = push_example(name, lang);
    let (st, sess) = s.call(
        "POST",
        "/v1/sessions",
        Some(json!({"runner": format!("{name}@1.0.0")})),
    );
    assert_eq!(st, 201, "{sess}");
    let id = sess["id"].as_str().unwrap().to_owned();
    let eval = |s: &Server, code: &str| {
        s.call(
            "POST",
            &format!("/v1/sessions/{id}/eval"),
            Some(json!({"code": code})),
        )
    };
    let (last, earlier) = cells.split_last().unwrap();
    for (code, want) in earlier {
        let (st, r) = eval(&s, code);
        assert_eq!((st, &r["json"]), (200, want), "{code}: {r}");
    }
    let (st, p) = eval(&s, refused);
    assert_eq!(
        (st, p["outcome"].as_str()),
        (422, Some("invalid_input")),
        "{p}"
    );
    let s = s.restart();
    let (st, r) = eval(&s, last.0);
    assert_eq!((st, &r["json"]), (200, &last.1), "after a restart: {r}");
}

#[test]
fn the_python_example_code_runner_keeps_a_session_across_a_restart() {
    example_runner_keeps_a_session(
        "python-stats-cells",
        "python",
        &[
            ("revenue = [120, 135, 160.5]", Value::Null),
            (
                "round((revenue[-1] - revenue[0]) / revenue[0] * 100, 1)",
                json!(33.8),
            ),
            ("median(revenue), max(revenue) > 150", json!([135, true])),
        ],
        "import os",
    );
}

#[test]
fn the_js_example_code_runner_keeps_a_session_across_a_restart() {
    example_runner_keeps_a_session(
        "js-repl",
        "js",
        &[
            (
                "const xs = [3, 1, 2]\nfunction sq(v) { return v * v }",
                Value::Null,
            ),
            (
                "console.log('sorting'); xs.sort().map(sq)",
                json!([1, 4, 9]),
            ),
            ("xs.map(sq).reduce((a, b) => a + b, 0)", json!(14)),
        ],
        "null.x",
    );
}

/// `warden plugin test` on a copy of `examples/NAME` passes, printing `expected`.
fn example_tests_pass(name: &str, expected: &str) {
    let project = copy_project(&common::root().join("examples").join(name));
    let t = toolchains();
    let out = warden(
        &["plugin", "test", "--toolchains", t.to_str().unwrap()],
        Some(project.path()),
    );
    let report = text(&out.stderr);
    assert!(out.status.success(), "{name}: {report}");
    assert!(report.contains(expected), "{name}: {report}");
}

#[test]
fn the_js_kit_and_the_js_example_pass_their_own_tests() {
    example_tests_pass("js-nz-uk-ids", "# pass 3");
    succeeds(
        Command::new("node")
            .current_dir(common::root().join("sdk/js"))
            .args(["--test", "test/"]),
    );
}

/// Runs `cmd`, which must succeed (its output in the failure message).
fn succeeds(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{} {}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn the_kit_the_python_example_and_the_cpython_runner_pass_their_own_tests() {
    // The example's logic, as its README runs it.
    example_tests_pass("python-nz-uk-ids", "3 passed");
    let t = toolchains();
    // The kit's own tests, with the interpreter `warden plugin test` just installed.
    let python = std::fs::read_dir(&t)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python-componentize-py-"))
        })
        .unwrap()
        .join("bin/python");
    let kit = common::root().join("sdk/python");
    // The kit's suite, then the CPython runner's session logic (written on the kit).
    for (dir, path) in [
        (kit.clone(), kit.join("src")),
        (
            common::root().join("plugins/cpython"),
            std::env::join_paths([kit.join("src"), common::root().join("plugins/cpython")])
                .unwrap()
                .into(),
        ),
    ] {
        succeeds(
            Command::new(&python)
                .current_dir(&dir)
                .env("PYTHONPATH", path)
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]),
        );
    }
}

/// `warden run pii --plugin hostile-LANG --text TEXT` with small limits: (exit code, stdout
/// JSON).
fn hostile(lang: &str, input: &str) -> (i32, Value) {
    static PROJECTS: OnceLock<Mutex<Vec<(String, tempfile::TempDir)>>> = OnceLock::new();
    let dir = {
        let mut projects = PROJECTS.get_or_init(Default::default).lock().unwrap();
        if !projects.iter().any(|(l, _)| l == lang) {
            let from = common::root().join(format!("tests/fixtures/hostile-{lang}"));
            projects.push((lang.to_owned(), copy_project(&from)));
        }
        let (_, p) = projects.iter().find(|(l, _)| l == lang).unwrap();
        p.path().to_owned()
    };
    let wasm = build(&dir, lang);
    // Compiled once, then loaded from the shared test cache by every attempt.
    let cache = common::cache_dir();
    let out = warden(
        &[
            "run",
            "--cache-dir",
            cache.to_str().unwrap(),
            "pii",
            "--plugin",
            wasm.to_str().unwrap(),
            "--timeout-ms",
            "3000",
            "--memory",
            "256M",
            "--text",
            input,
        ],
        None,
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

/// The guest failure's message of a refused attempt (and that nothing leaked).
fn refused(lang: &str, input: &str) -> String {
    let (code, v) = hostile(lang, input);
    assert_eq!(code, 1, "{input}: {v}");
    assert_eq!(v["error"]["outcome"], "guest_failure", "{input}: {v}");
    let message = v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("refused"), "{input}: {v}");
    message
}

/// Spinning ends at the fuel or time limit, hoarding at the memory cap.
fn spin_and_hoard_are_stopped(lang: &str) {
    let (code, v) = hostile(lang, "spin");
    assert_eq!(code, 1, "{v}");
    let outcome = v["error"]["outcome"].as_str().unwrap_or_default();
    assert!(
        outcome == "out_of_fuel" || outcome == "deadline_exceeded",
        "{v}"
    );
    let (code, v) = hostile(lang, "memory");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["outcome"], "memory_limit", "{v}");
}

#[test]
fn a_hostile_python_plugin_touches_nothing_and_is_stopped_with_typed_outcomes() {
    // Files: nothing is preopened, so nothing can be opened, written or listed.
    let m = refused("python", "file /etc/passwd");
    assert!(
        m.contains("FileNotFoundError") && !m.contains("root:"),
        "{m}"
    );
    for attempt in ["write", "listdir /"] {
        let m = refused("python", attempt);
        assert!(m.contains("FileNotFoundError"), "{attempt}: {m}");
    }
    // Sockets and name lookups reach the deny-all WASI interfaces (the module is bundled:
    // imported at build time) and are refused; the listener never sees a connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let m = refused("python", &format!("socket 127.0.0.1:{port}"));
    assert!(m.contains("PermissionError"), "{m}");
    assert!(
        listener.accept().is_err(),
        "the plugin reached the listener"
    );
    let m = refused("python", "dns localhost");
    assert!(m.contains("gaierror"), "{m}");
    // The environment is empty, whatever the host's holds.
    let m = refused("python", "env");
    assert!(m.contains("empty"), "{m}");
    spin_and_hoard_are_stopped("python");
}

#[test]
fn a_hostile_js_plugin_touches_nothing_and_is_stopped_with_typed_outcomes() {
    // The engine offers no file API, no module loader and no process: each attempt fails.
    let m = refused("js", "file /etc/passwd");
    assert!(m.contains("TypeError") && !m.contains("root:"), "{m}");
    let m = refused("js", "env");
    assert!(m.contains("process is undefined"), "{m}");
    // fetch() without its wasi:http imports stops the call; the listener sees nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (code, v) = hostile("js", &format!("socket 127.0.0.1:{port}"));
    assert_eq!(code, 1, "{v}");
    let outcome = v["error"]["outcome"].as_str().unwrap_or_default();
    assert!(outcome == "trap" || outcome == "guest_failure", "{v}");
    assert!(
        listener.accept().is_err(),
        "the plugin reached the listener"
    );
    spin_and_hoard_are_stopped("js");
}
