//! `cargo bench --bench engine`: each built-in natively (the same crate, in-process) vs in a
//! fresh pre-initialised sandbox instance per call vs in one reused instance, plus fuel per
//! call, compile time and precompiled load time. Writes `docs/benchmarks.md`.
//!
//! Medians and p99 over many iterations on prompt-sized input (about 1 KB). Run on an idle
//! machine; nothing here is asserted, these are measurements.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fmt::Write as _;

#[path = "report/mod.rs"]
mod report;
use report::{Stats, measure};
use std::hint::black_box;
use std::time::{Duration, Instant};

use warden_engine::{
    DetectOptions, Engine, EngineConfig, LimitOverrides, NoTools, RenderOptions, SessionOptions,
};

const TEMPLATE: &str = r#"You are a support assistant for {{ company }}.
Answer in {{ language | default("English") }} and keep it under {{ max_words }} words.
{% if customer.vip %}This customer is a VIP: be extra courteous.{% endif %}
Customer: {{ customer.name | title }} (since {{ customer.since }})
Recent orders:
{% for o in orders %}- #{{ o.id }}: {{ o.item }} x{{ o.qty }} — {{ "%.2f" | format(o.price) }} EUR{% if o.late %} (late){% endif %}
{% endfor %}
Previous messages:
{% for m in history[-3:] %}[{{ m.role }}] {{ m.text | trim }}
{% endfor %}
Question: {{ question }}
"#;

const CONTEXT: &str = r#"{"company": "Acme Widgets", "max_words": 120,
 "customer": {"name": "jane q. public", "since": "2019-04-01", "vip": true},
 "orders": [{"id": 1001, "item": "Widget", "qty": 2, "price": 19.5, "late": false},
            {"id": 1002, "item": "Gadget", "qty": 1, "price": 99.0, "late": true},
            {"id": 1003, "item": "Sprocket", "qty": 12, "price": 2.25, "late": false}],
 "history": [{"role": "user", "text": " Where is my order? "}, {"role": "assistant", "text": "Checking now."},
             {"role": "user", "text": "It has been a week."}, {"role": "assistant", "text": "Sorry about that."}],
 "question": "Can I get a refund for the late gadget?"}"#;

const PII_TEXT: &str = "Hi team, please update the account for Mario L. Diaz (mario.diaz@example.com, \
phone +44 (0)7918 362361). His card 4111 1111 1111 1111 was declined yesterday; the backup is \
5555-5555-5555-4444. Refund to IBAN GB82 WEST 1234 5698 7654 32. For tax purposes his TFN is \
123 456 782 and the company ABN is 51 824 753 556. The request came from 203.0.113.42 via \
https://portal.example.com/tickets/8812?ref=mail. Note: release 7.4.4.16 fixed the export bug, \
order #3926030 shipped on 2024-03-02 at 14:30 for $1,249.99. SSN on file: 536-22-1234. Medicare \
card 2123 45670 1. Thanks, Renee Johnson, Customer Care. Call back on (212) 555-0199 or 0412 345 678.";

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

fn main() {
    let iters: usize = std::env::var("WARDEN_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let limits = engine.limits(&LimitOverrides::default());
    let mut report = String::new();
    let mut rows = String::new();
    let mut load_rows = String::new();

    // Compile (cache miss) and precompiled load (cache hit) per built-in.
    let cache = tempfile::tempdir().unwrap();
    for name in ["template", "pii", "python"] {
        let bytes = warden_builtins::get(name).unwrap();
        let cold = Engine::new(EngineConfig {
            cache_dir: Some(cache.path().into()),
            pooling: false,
            ..Default::default()
        })
        .unwrap();
        let p = cold.load(bytes).unwrap();
        let r = p.load_report().clone();
        let warm = Engine::new(EngineConfig {
            cache_dir: Some(cache.path().into()),
            pooling: false,
            ..Default::default()
        })
        .unwrap();
        let t = Instant::now();
        let p2 = warm.load(bytes).unwrap();
        let hit_total = t.elapsed();
        assert!(p2.load_report().cache_hit);
        let _ = writeln!(
            load_rows,
            "| {name} | {} KiB | {} | {} | {} | {} |",
            bytes.len() / 1024,
            ms(r.preinit),
            ms(r.compile),
            ms(p2.load_report().deserialize),
            ms(hit_total)
        );
    }

    // Template.
    let template = engine
        .load(warden_builtins::get("template").unwrap())
        .unwrap();
    let native_out =
        warden_plugin_template::render(TEMPLATE, CONTEXT, &Default::default()).unwrap();
    let sandbox = engine.render(
        &template,
        TEMPLATE,
        CONTEXT,
        RenderOptions::default(),
        limits,
    );
    assert_eq!(sandbox.result.as_deref().unwrap(), native_out);
    let fuel = sandbox.report.fuel_used;
    let native = measure(iters, || {
        black_box(
            warden_plugin_template::render(black_box(TEMPLATE), CONTEXT, &Default::default())
                .unwrap(),
        );
    });
    let fresh = measure(iters, || {
        black_box(
            engine
                .render(
                    &template,
                    black_box(TEMPLATE),
                    CONTEXT,
                    RenderOptions::default(),
                    limits,
                )
                .result
                .unwrap(),
        );
    });
    let mut reused_instance = engine.reused_instance(&template, limits).unwrap();
    let reused = measure(iters, || {
        black_box(
            reused_instance
                .render(&template, black_box(TEMPLATE), CONTEXT)
                .unwrap(),
        );
    });
    row(
        &mut rows,
        "template (render, 1.1 KB out)",
        &native,
        &fresh,
        &reused,
        fuel,
    );

    // PII.
    let pii = engine.load(warden_builtins::get("pii").unwrap()).unwrap();
    let native_n = warden_plugin_pii::detect(PII_TEXT, &Default::default()).len();
    let sandbox = engine.detect(&pii, PII_TEXT, &DetectOptions::default(), limits);
    assert_eq!(sandbox.result.as_ref().unwrap().len(), native_n);
    let fuel = sandbox.report.fuel_used;
    let native = measure(iters, || {
        black_box(warden_plugin_pii::detect(
            black_box(PII_TEXT),
            &Default::default(),
        ));
    });
    let fresh = measure(iters, || {
        black_box(
            engine
                .detect(&pii, black_box(PII_TEXT), &DetectOptions::default(), limits)
                .result
                .unwrap(),
        );
    });
    let mut reused_instance = engine.reused_instance(&pii, limits).unwrap();
    let reused = measure(iters, || {
        black_box(reused_instance.detect(&pii, black_box(PII_TEXT)).unwrap());
    });
    row(
        &mut rows,
        &format!("pii (detect, {} B, {native_n} findings)", PII_TEXT.len()),
        &native,
        &fresh,
        &reused,
        fuel,
    );

    // Python: fresh sandbox + new session + first eval, vs the same natively, vs next eval.
    let python = engine
        .load(warden_builtins::get("python").unwrap())
        .unwrap();
    let code = "sum([i * i for i in range(10)])";
    let mut no_tools =
        |_: &str, _: &str| Err(warden_plugin_python::ToolError::UnknownTool("none".into()));
    let py_iters = iters / 2;
    let native = measure(py_iters, || {
        let mut s = warden_plugin_python::Session::new(&Default::default());
        black_box(s.eval(black_box(code), &mut no_tools).unwrap());
    });
    let first = {
        let mut s = engine
            .start_session(
                &python,
                &SessionOptions::default(),
                limits,
                std::sync::Arc::new(NoTools),
            )
            .result
            .unwrap();
        let o = s.eval(code);
        assert_eq!(o.result.unwrap().repr.as_deref(), Some("285"));
        o.report.fuel_used
    };
    let fresh = measure(py_iters, || {
        let mut s = engine
            .start_session(
                &python,
                &SessionOptions::default(),
                limits,
                std::sync::Arc::new(NoTools),
            )
            .result
            .unwrap();
        black_box(s.eval(black_box(code)).result.unwrap());
    });
    let mut session = engine
        .start_session(
            &python,
            &SessionOptions::default(),
            limits,
            std::sync::Arc::new(NoTools),
        )
        .result
        .unwrap();
    let reused = measure(py_iters, || {
        black_box(session.eval(black_box(code)).result.unwrap());
    });
    row(
        &mut rows,
        "python (new session + eval of a small expression)",
        &native,
        &fresh,
        &reused,
        first,
    );

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let _ = writeln!(report, "# Benchmarks\n");
    let _ = writeln!(
        report,
        "Generated by `cargo bench --package warden --bench engine` (`make bench`). Machine: {cpu}, {cores} cores. \
         wasmtime 50.0.1 (Cranelift, fuel + epoch interruption on, pooling allocator: {}), {iters} iterations per row \
         (python: {py_iters}), after a warm-up. Built-ins are pre-initialised with wasmtime-wizer at load.\n",
        engine.pooling()
    );
    let _ = writeln!(report, "## Per call: native vs sandboxed\n");
    let _ = writeln!(
        report,
        "*Native* runs the built-in's own crate in-process. *Fresh* is what Warden does for every call: a new instance (from a cached `InstancePre`) in a new store with fuel, memory, deadline and output limits, then the call, then teardown. *Reused* calls one kept instance again (not done in production; shown to isolate the per-instance cost).\n"
    );
    let _ = writeln!(
        report,
        "| built-in | native median | native p99 | fresh median | fresh p99 | reused median | fresh / native | fuel per call |"
    );
    let _ = writeln!(report, "|---|---|---|---|---|---|---|---|");
    report.push_str(&rows);
    let _ = writeln!(
        report,
        "\nFor python the native column creates a monty session and evaluates the cell in-process; *fresh* adds a new sandbox instance and session; *reused* is the next eval in a live session.\n"
    );
    let _ = writeln!(report, "## Loading a component\n");
    let _ = writeln!(
        report,
        "| built-in | size | pre-initialise | Cranelift compile | precompiled load (`deserialize_file`) | cache-hit load total (checksum + deserialize + link) |"
    );
    let _ = writeln!(report, "|---|---|---|---|---|---|");
    report.push_str(&load_rows);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // Keep the sections other benchmarks own (the HTTP bench writes `## HTTP ...`).
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    if let Some(at) = previous.find("\n## HTTP") {
        report.push_str(&previous[at..]);
    }
    std::fs::write(&path, &report).unwrap();
    println!("{report}");
    println!("wrote {}", path.display());
}

fn row(out: &mut String, name: &str, native: &Stats, fresh: &Stats, reused: &Stats, fuel: u64) {
    let _ = writeln!(
        out,
        "| {name} | {} | {} | {} | {} | {} | {} | {fuel} |",
        us(native.median),
        us(native.p99),
        us(fresh.median),
        us(fresh.p99),
        us(reused.median),
        ratio(fresh.median, native.median),
    );
}
