//! The same detector in Rust, Python and JavaScript: the `nz-uk-ids` examples built with
//! `warden plugin build`, then, per language, the component's size, its load (pre-initialise +
//! Cranelift compile, no cache), one call in a fresh instance and in a reused one, with fuel and
//! peak memory. Writes the "Plugin kits" section of docs/benchmarks.md:
//! `cargo bench --package warden --bench kits`. The toolchains install into
//! `target/toolchains` on first use, as in the tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "report/mod.rs"]
mod report;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

use report::{measure, replace_section, root};
use warden_engine::{DetectOptions, Engine, EngineConfig, LimitOverrides};

const SECTION: &str = "## Plugin kits: one detector in Rust, Python and JavaScript";
const TEXT: &str = "Mail ada@example.com, IRD 49-091-850, NI number AB 12 34 56 C, order 12345678";

/// `warden plugin build examples/NAME` into `target/bench-kits/NAME.wasm`.
fn build(name: &str) -> PathBuf {
    let out = root().join(format!("target/bench-kits/{name}.wasm"));
    let status = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["plugin", "build", "--toolchains"])
        .arg(root().join("target/toolchains"))
        .arg("--out")
        .arg(&out)
        .arg(root().join("examples").join(name))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "building {name}");
    out
}

fn ms(d: std::time::Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn us(d: std::time::Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let iters: usize = std::env::var("WARDEN_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let limits = engine.limits(&LimitOverrides::default());
    let opts = DetectOptions::default();
    let mut rows = String::new();
    let mut rust_fresh = None;
    for (lang, example) in [
        ("Rust", "pii-nz-uk-ids"),
        ("Python (componentize-py 0.25.1)", "python-nz-uk-ids"),
        ("JavaScript (componentize-js 0.23.0)", "js-nz-uk-ids"),
    ] {
        let wasm = build(example);
        let bytes = std::fs::read(&wasm).unwrap();
        // Load without a cache: pre-initialise (if the component asks) and compile.
        let cold = Engine::new(EngineConfig {
            cache_dir: None,
            pooling: false,
            ..Default::default()
        })
        .unwrap();
        let loaded = cold.load(&bytes).unwrap();
        let load = loaded.load_report().clone();
        let c = engine.load(&bytes).unwrap();
        let first = engine.detect(&c, TEXT, &opts, limits);
        let found = first.result.as_ref().unwrap();
        assert_eq!(found.len(), 2, "{lang}: {found:?}");
        let fresh = measure(iters, || {
            black_box(
                engine
                    .detect(&c, black_box(TEXT), &opts, limits)
                    .result
                    .unwrap(),
            );
        });
        let mut kept = engine.reused_instance(&c, limits).unwrap();
        let reused = measure(iters, || {
            black_box(kept.detect(&c, black_box(TEXT)).unwrap());
        });
        let ratio = rust_fresh.map_or("1.0×".to_owned(), |r: f64| {
            format!("{:.1}×", fresh.median.as_secs_f64() / r)
        });
        rust_fresh.get_or_insert(fresh.median.as_secs_f64());
        let _ = writeln!(
            rows,
            "| {lang} | {} KiB | {} | {} | {} | {} | {} | {ratio} | {:.2} M | {:.1} MB |",
            bytes.len() / 1024,
            ms(load.preinit),
            ms(load.compile),
            us(fresh.median),
            us(fresh.p99),
            us(reused.median),
            first.report.fuel_used as f64 / 1e6,
            first.report.peak_memory_bytes as f64 / 1e6,
        );
        println!(
            "{lang}: fresh {:?} reused {:?}",
            fresh.median, reused.median
        );
    }
    let section = format!(
        "{SECTION}\n\n\
         From `cargo bench --package warden --bench kits` ({iters} calls per row after a warm-up, \
         this machine, 2 cores). The same logic — NZ IRD numbers with their mod-11 check and UK \
         National Insurance numbers with HMRC's prefix rules, scored up by cue words — in \
         `examples/pii-nz-uk-ids` (Rust), `examples/python-nz-uk-ids` and \
         `examples/js-nz-uk-ids`, each built with `warden plugin build` and called on an 80-byte \
         text with two findings. *Pre-initialise* is Warden's wizer step at load (the Rust SDK's \
         export macro asks for it; componentize-py and componentize-js pre-initialise at build \
         time instead, so it is 0 for them); *compile* is Cranelift; both are paid once per \
         component, at upload (cached after).\n\n\
         | language | size | pre-initialise | compile | fresh call median | fresh p99 | reused instance | fresh vs Rust | fuel | peak memory |\n\
         |---|---|---|---|---|---|---|---|---|---|\n{rows}"
    );
    let path = root().join("docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, replace_section(&doc, SECTION, &section)).unwrap();
    println!("{section}");
}
