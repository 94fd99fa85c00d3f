//! Where one fresh PII call's cost goes: the built-in detector on the gateway benchmark's 1 KB
//! prompt, natively, in a fresh instance per call and in one reused instance, with its fuel and
//! peak memory (`PROBE=fresh|reused` for one of them, for `perf record`; `PROBE=alloc` for the
//! native warm-up's heap and a call's allocations, counted by a global allocator;
//! `PROBE=phases` for one fresh call phase by phase, and its page faults; `PROBE=dirty` for the
//! private pages a slot keeps after 1, 2, 10 and 100 calls; `PROBE_TEXT=<file>` for another
//! text, `PROBE_KEEP=<bytes>` for another keep-resident budget). Figures are
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
    // `PROBE_KEEP=<bytes>`: the pool's `keep_resident_bytes` for this run.
    let keep = std::env::var("PROBE_KEEP")
        .ok()
        .and_then(|s| s.parse().ok());
    let engine = Engine::new(EngineConfig {
        cache_dir: Some(cache),
        keep_resident_bytes: keep.unwrap_or(warden_engine::DEFAULT_KEEP_RESIDENT),
        ..Default::default()
    })
    .unwrap();
    let limits = engine.limits(&LimitOverrides::default());
    let pii = engine.load(warden_builtins::get("pii").unwrap()).unwrap();
    // `PROBE_TEXT=<file>`: that file's text instead of the gateway prompt.
    let text = std::env::var("PROBE_TEXT").map_or_else(
        |_| report::gateway_prompt(),
        |f| std::fs::read_to_string(f).unwrap(),
    );
    if std::env::var("PROBE").as_deref() == Ok("dirty") {
        dirty(&engine, &pii, &text, limits);
        return;
    }
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

/// `PROBE=dirty` (with `PROBE_KEEP` above the snapshot's size): the pages fresh calls leave
/// private in the pool slot's mapping of the snapshot, after 1, 2, 10 and 100 calls — what the
/// reset after each call copies back (`PROBE_ENTITIES=A,B` narrows the scan).
fn dirty(engine: &Engine, pii: &warden_engine::Plugin, text: &str, limits: warden_engine::Limits) {
    let entities: Vec<String> = std::env::var("PROBE_ENTITIES")
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let opts = DetectOptions {
        entities,
        ..Default::default()
    };
    let anon = || -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut total = 0;
        let mut ours = false;
        for line in smaps.lines() {
            if line
                .split_whitespace()
                .next()
                .is_some_and(|f| f.contains('-') && f.len() > 20)
            {
                ours = line.contains("probe-cache");
            } else if ours && let Some(v) = line.strip_prefix("Anonymous:") {
                total += v
                    .trim()
                    .trim_end_matches(" kB")
                    .trim()
                    .parse::<u64>()
                    .unwrap();
            }
        }
        total
    };
    {
        let mut kept = engine.reused_instance(pii, limits).unwrap();
        println!("clean slot, instantiated: {} KiB private", anon());
        kept.detect(pii, text).unwrap();
        println!("after a kept instance's first call: {} KiB private", anon());
        print_runs("present file pages", |e| {
            e >> 63 & 1 == 1 && e >> 61 & 1 == 1
        });
        if std::env::var("PROBE_WAIT").is_ok() {
            println!("waiting: pid {}", std::process::id());
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }
    println!("after its reset: {} KiB private", anon());
    let mut done = 0;
    for n in [1, 2, 10, 100] {
        while done < n {
            engine.detect(pii, text, &opts, limits).result.unwrap();
            done += 1;
        }
        println!("after {n} calls: {} KiB private", anon());
    }
    print_runs("private pages", |e| e >> 63 & 1 == 1 && e >> 61 & 1 == 0);
    // What one call writes: a kept instance's first call, with the soft-dirty bits cleared
    // just before it.
    // (With `PROBE_KEEP=0` the slot holds no private page when the instance starts.)
    let mut kept = engine.reused_instance(pii, limits).unwrap();
    println!("instantiated: {} KiB private", anon());
    kept.detect(pii, text).unwrap();
    println!("after its first call: {} KiB private", anon());
    print_runs("private pages", |e| e >> 63 & 1 == 1 && e >> 61 & 1 == 0);
}

/// Prints the runs of pages of the snapshot's mappings whose `/proc/self/pagemap` entry
/// satisfies `pick`, by offset in the mapping.
fn print_runs(what: &str, pick: impl Fn(u64) -> bool) {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut pm = std::fs::File::open("/proc/self/pagemap").unwrap();
    for line in maps
        .lines()
        .filter(|l| l.contains("probe-cache") && l.contains("rw-p"))
    {
        let range = line.split_whitespace().next().unwrap();
        let (a, b) = range.split_once('-').unwrap();
        let (a, b) = (
            u64::from_str_radix(a, 16).unwrap(),
            u64::from_str_radix(b, 16).unwrap(),
        );
        let pages = (b - a) / 4096;
        let mut buf = vec![0u8; usize::try_from(pages * 8).unwrap()];
        pm.seek(SeekFrom::Start(a / 4096 * 8)).unwrap();
        pm.read_exact(&mut buf).unwrap();
        let private: Vec<bool> = buf
            .chunks(8)
            .map(|c| pick(u64::from_le_bytes(c.try_into().unwrap())))
            .collect();
        let n = private.iter().filter(|p| **p).count();
        println!("{what}, mapping {range} ({} KiB): {} KiB", pages * 4, n * 4);
        let mut i = 0;
        while i < private.len() {
            if private[i] {
                let j = (i..private.len())
                    .find(|&j| !private[j])
                    .unwrap_or(private.len());
                println!("  {:>8} KiB +{} KiB", i * 4, (j - i) * 4);
                i = j;
            } else {
                i += 1;
            }
        }
    }
}
