//! Where one fresh PII call's cost goes: the built-in detector on the gateway benchmark's 1 KB
//! prompt, natively, in a fresh instance per call and in one reused instance, with its fuel and
//! peak memory (`PROBE=fresh|reused` for one of them, for `perf record`; `PROBE=alloc` for the
//! native warm-up's heap and a call's allocations, counted by a global allocator;
//! `PROBE=phases` for one fresh call phase by phase, and its page faults). Figures are
//! copied into docs/benchmarks.md by hand: `cargo bench --package warden --bench probe`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
#[path = "report/mod.rs"]
mod report;
use report::measure;
use std::hint::black_box;
use warden_engine::{DetectOptions, Engine, EngineConfig, LimitOverrides};

fn main() {
    let iters: usize = std::env::var("WARDEN_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    if std::env::var("PROBE").as_deref() == Ok("alloc") {
        use std::sync::atomic::Ordering::Relaxed;
        let l0 = count::LIVE.load(Relaxed);
        let t = std::time::Instant::now();
        warden_plugin_pii::warm();
        println!("warm {:?}", t.elapsed());
        let l1 = count::LIVE.load(Relaxed);
        println!("warm live {} KB", (l1 - l0) / 1024);
        let text = report::gateway_prompt();
        for _ in 0..3 {
            let t0 = count::TOTAL.load(Relaxed);
            let n = warden_plugin_pii::detect(&text, &Default::default()).len();
            println!(
                "detect {n}: allocated {} KB, live now {} KB",
                (count::TOTAL.load(Relaxed) - t0) / 1024,
                (count::LIVE.load(Relaxed) - l0) / 1024
            );
        }
        return;
    }
    let cache = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("probe-cache");
    let _ = Engine::new(EngineConfig {
        cache_dir: Some(cache.clone()),
        ..Default::default()
    })
    .unwrap()
    .load(warden_builtins::get("pii").unwrap())
    .unwrap();
    let engine = Engine::new(EngineConfig {
        cache_dir: Some(cache),
        ..Default::default()
    })
    .unwrap();
    let limits = engine.limits(&LimitOverrides::default());
    let pii = engine.load(warden_builtins::get("pii").unwrap()).unwrap();
    let text = report::gateway_prompt();
    if std::env::var("PROBE").as_deref() == Ok("phases") {
        phases(&engine, &pii, &text, limits, iters);
        return;
    }
    let opts = DetectOptions::default();
    let r = engine.detect(&pii, &text, &opts, limits);
    println!(
        "findings {} fuel {} peak {}",
        r.result.as_ref().unwrap().len(),
        r.report.fuel_used,
        r.report.peak_memory_bytes
    );
    let native = measure(iters, || {
        black_box(warden_plugin_pii::detect(
            black_box(&text),
            &Default::default(),
        ));
    });
    println!("native {:?}", native.median);
    let mode = std::env::var("PROBE").unwrap_or_default();
    if mode != "reused" {
        let fresh = measure(iters, || {
            black_box(
                engine
                    .detect(&pii, black_box(&text), &opts, limits)
                    .result
                    .unwrap(),
            );
        });
        println!("fresh {:?} p99 {:?}", fresh.median, fresh.p99);
    }
    if mode != "fresh" {
        let mut ri = engine.reused_instance(&pii, limits).unwrap();
        let reused = measure(iters, || {
            black_box(ri.detect(&pii, black_box(&text)).unwrap());
        });
        println!("reused {:?}", reused.median);
    }
}

/// `PROBE=phases`: the median of each phase of a fresh call, then the minor page faults of a
/// fresh and of a reused call (counted in a second pass, so reading the counter does not skew
/// the times).
fn phases(
    engine: &Engine,
    pii: &warden_engine::Plugin,
    text: &str,
    limits: warden_engine::Limits,
    iters: usize,
) {
    use warden_engine::CallPhases;
    type Phase = fn(&CallPhases) -> std::time::Duration;
    let pick: [(&str, Phase); 5] = [
        ("store", |p| p.store),
        ("instantiate", |p| p.instantiate),
        ("describe (a trivial export)", |p| p.describe),
        ("detect (1 KB)", |p| p.detect),
        ("teardown", |p| p.teardown),
    ];
    let mut all: Vec<CallPhases> = (0..iters)
        .map(|_| engine.detect_phases(pii, text, limits).unwrap())
        .collect();
    all.drain(..iters / 10);
    for (name, f) in pick {
        let mut d: Vec<_> = all.iter().map(f).collect();
        d.sort();
        println!("{name}: median {:?}", d[d.len() / 2]);
    }
    // Minor faults per phase, from /proc/thread-self/stat (field 10).
    let faults = || -> u64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        after.split(' ').nth(7).unwrap().parse().unwrap()
    };
    let n = 200u64;
    let f0 = faults();
    for _ in 0..n {
        engine.detect_phases(pii, text, limits).unwrap();
    }
    println!("minor faults per fresh call: {}", (faults() - f0) / n);
    let mut kept = engine.reused_instance(pii, limits).unwrap();
    let f0 = faults();
    for _ in 0..n {
        kept.detect(pii, text).unwrap();
    }
    println!("minor faults per reused call: {}", (faults() - f0) / n);
}

#[allow(unsafe_code)]
mod count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicUsize, Ordering};
    pub static LIVE: AtomicUsize = AtomicUsize::new(0);
    pub static TOTAL: AtomicUsize = AtomicUsize::new(0);
    pub struct Counting;
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            LIVE.fetch_add(l.size(), Ordering::Relaxed);
            TOTAL.fetch_add(l.size(), Ordering::Relaxed);
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            LIVE.fetch_sub(l.size(), Ordering::Relaxed);
            unsafe { System.dealloc(p, l) }
        }
    }
    #[global_allocator]
    static A: Counting = Counting;
}
