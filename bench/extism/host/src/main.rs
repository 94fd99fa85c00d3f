//! The Extism side of `bench/run`: loads the PII plugin (`bench/extism/plugin`, the same
//! detection crate Warden's built-in runs) into the crates.io `extism` host with limits on
//! (fuel, memory, timeout, as Warden's defaults), runs it over the PII corpus, and writes
//! the figures as JSON for `cargo bench --bench compare` to put beside Warden's.
//!
//!   warden-bench-extism PLUGIN.wasm CORPUS.jsonl OUT.json
//!
//! Two modes: a fresh plugin instance per text (what Warden does for every call) and one
//! instance reused for every text (Extism's usual mode: state carries over between calls).

use std::time::{Duration, Instant};

use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, Wasm};
use serde_json::{Value, json};

/// Warden's default per-call limits, so both hosts meter the same way.
const FUEL: u64 = 2_000_000_000;
const MEMORY_PAGES: u32 = (64 << 20) / 65536;
const TIMEOUT: Duration = Duration::from_secs(1);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, wasm, corpus, out] = args.as_slice() else {
        return Err("usage: warden-bench-extism PLUGIN.wasm CORPUS.jsonl OUT.json".into());
    };
    let texts: Vec<String> = std::fs::read_to_string(corpus)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l)?;
            Ok(v["text"].as_str().unwrap_or_default().to_owned())
        })
        .collect::<Result<_, serde_json::Error>>()?;
    let bytes: usize = texts.iter().map(String::len).sum();
    let manifest = Manifest::new([Wasm::file(wasm)])
        .with_memory_max(MEMORY_PAGES)
        .with_timeout(TIMEOUT);
    let started = Instant::now();
    let compiled = CompiledPlugin::new(
        PluginBuilder::new(manifest)
            .with_wasi(false)
            .with_fuel_limit(FUEL),
    )?;
    let compile_ms = started.elapsed().as_secs_f64() * 1e3;

    // A fresh instance per text, after one warm-up pass.
    let fresh_call = |text: &str| -> Result<usize, extism::Error> {
        let mut plugin = Plugin::new_from_compiled(&compiled)?;
        let found: Value = serde_json::from_slice(plugin.call::<&str, &[u8]>("detect", text)?)?;
        Ok(found.as_array().map_or(0, Vec::len))
    };
    for t in &texts {
        fresh_call(t)?;
    }
    let (fresh, findings) = run(&texts, |t| fresh_call(t))?;

    // One instance for every text.
    let mut plugin = Plugin::new_from_compiled(&compiled)?;
    let mut reused_call = |text: &str| -> Result<usize, extism::Error> {
        let found: Value = serde_json::from_slice(plugin.call::<&str, &[u8]>("detect", text)?)?;
        Ok(found.as_array().map_or(0, Vec::len))
    };
    for t in &texts {
        reused_call(t)?;
    }
    let (reused, reused_findings) = run(&texts, &mut reused_call)?;

    let lock = include_str!("../../Cargo.lock");
    let pkg_version = |name: &str| {
        lock.split("[[package]]")
            .find(|p| p.contains(&format!("name = \"{name}\"\n")))
            .and_then(|p| p.lines().find(|l| l.starts_with("version = ")))
            .map(|l| {
                l.trim_start_matches("version = ")
                    .trim_matches('"')
                    .to_owned()
            })
            .unwrap_or_else(|| "?".to_owned())
    };
    let report = json!({
        "version": pkg_version("extism"),
        "pdk_version": pkg_version("extism-pdk"),
        "wasmtime": pkg_version("wasmtime"),
        "plugin_bytes": std::fs::metadata(wasm)?.len(),
        "compile_ms": compile_ms,
        "texts": texts.len(),
        "bytes": bytes,
        "fresh": fresh,
        "reused": reused,
        "findings": findings,
        "reused_findings": reused_findings,
    });
    std::fs::write(out, serde_json::to_vec_pretty(&report)?)?;
    println!(
        "extism: fresh {} texts/s, reused {} texts/s",
        fresh["texts_per_s"], reused["texts_per_s"]
    );
    Ok(())
}

/// Calls `f` once per text, timing each call: throughput, median and p99, findings in all.
fn run(
    texts: &[String],
    mut f: impl FnMut(&str) -> Result<usize, extism::Error>,
) -> Result<(Value, usize), extism::Error> {
    let mut samples = Vec::with_capacity(texts.len());
    let mut findings = 0;
    let started = Instant::now();
    for t in texts {
        let t0 = Instant::now();
        findings += f(t)?;
        samples.push(t0.elapsed());
    }
    let total = started.elapsed().as_secs_f64();
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    Ok((
        json!({
            "texts_per_s": texts.len() as f64 / total,
            "median_us": us(samples[samples.len() / 2]),
            "p99_us": us(samples[(samples.len() * 99 / 100).min(samples.len() - 1)]),
        }),
        findings,
    ))
}
