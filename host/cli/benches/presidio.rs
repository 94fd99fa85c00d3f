//! Warden's detector on Presidio's own recognizer test cases, every pattern type: the cases of
//! `presidio-analyzer/tests/test_*_recognizer.py` (commit 0aa9f8e) that `bench/presidio_cases.py`
//! extracts into `bench/presidio_cases.jsonl` (1059 cases, 76 types). Each case's text is
//! scanned for its entity type alone with a minimum score of 0 (as Presidio's tests run), the
//! built-in detection crate natively (the same code the sandbox runs), and its spans compared
//! exactly with the ones Presidio's test expects (character offsets). Presidio passes every
//! one of these cases by construction; a case where Warden deliberately differs (stricter
//! check digits, context words, upper-case plates: see the recognizer modules' tests) counts
//! against Warden here. Writes the "PII: Presidio's test cases, every type" section of
//! docs/benchmarks.md: `cargo bench --package warden --bench presidio`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "report/mod.rs"]
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use report::{replace_section, root};
use serde_json::Value;
use warden_plugin_pii::{DetectOptions, EntityType, detect};

const SECTION: &str = "## PII: Presidio's test cases, every type";
/// Presidio types that are one country's telephone numbers: Warden finds them as
/// `PHONE_NUMBER`, validated against that country's numbering plan, with the country named in
/// the request (`countries`), as a caller asking for that country's numbers would.
const ALIASES: &[(&str, &str, &str)] = &[
    ("PH_MOBILE_NUMBER", "PHONE_NUMBER", "PH"),
    ("TR_PHONE_NUMBER", "PHONE_NUMBER", "TR"),
];

#[derive(Default)]
struct Tally {
    cases: usize,
    passed: usize,
    expected: usize,
    tp: usize,
    fp: usize,
    fn_: usize,
    supported: bool,
}

/// A byte offset in `text` as a character offset (Presidio's unit).
fn chars(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].chars().count()
}

fn ratio(n: usize, d: usize) -> String {
    if d == 0 {
        "—".into()
    } else {
        format!("{:.3}", n as f64 / d as f64)
    }
}

fn main() {
    let data = std::fs::read_to_string(root().join("bench/presidio_cases.jsonl")).unwrap();
    let mut by_type: BTreeMap<String, Tally> = BTreeMap::new();
    let mut missed = Vec::new();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let text = case["text"].as_str().unwrap();
        let entities: BTreeSet<String> = case["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_owned())
            .collect();
        let expected: BTreeSet<(usize, usize)> = case["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s[0].as_u64().unwrap() as usize,
                    s[1].as_u64().unwrap() as usize,
                )
            })
            .collect();
        let name = entities.iter().next().unwrap().clone();
        let alias = ALIASES.iter().find(|(p, _, _)| *p == name);
        let countries: Vec<&str> = alias.map(|(_, _, c)| *c).into_iter().collect();
        let entities: BTreeSet<String> = entities
            .into_iter()
            .map(|e| {
                ALIASES
                    .iter()
                    .find(|(p, _, _)| *p == e)
                    .map_or(e, |(_, w, _)| (*w).to_owned())
            })
            .collect();
        let supported = entities.iter().all(|e| EntityType::parse(e).is_some());
        let found: BTreeSet<(usize, usize)> = if supported {
            let list: Vec<&str> = entities.iter().map(String::as_str).collect();
            let opts = DetectOptions::from_wire(&list, &countries, Some(0.0), false).unwrap();
            detect(text, &opts)
                .into_iter()
                .filter(|f| entities.contains(f.entity_type.as_str()))
                .map(|f| (chars(text, f.start), chars(text, f.end)))
                .collect()
        } else {
            BTreeSet::new()
        };
        let t = by_type.entry(name.clone()).or_default();
        t.supported = supported;
        t.cases += 1;
        t.expected += expected.len();
        let tp = found.intersection(&expected).count();
        t.tp += tp;
        t.fp += found.len() - tp;
        t.fn_ += expected.len() - tp;
        if found == expected {
            t.passed += 1;
        } else if supported {
            missed.push(format!(
                "{name}: {text:?} expected {expected:?}, found {found:?}"
            ));
        }
    }
    let total = |f: fn(&Tally) -> usize| by_type.values().map(f).sum::<usize>();
    let (cases, passed, tp, fp, fn_) = (
        total(|t| t.cases),
        total(|t| t.passed),
        total(|t| t.tp),
        total(|t| t.fp),
        total(|t| t.fn_),
    );
    let supported = by_type.values().filter(|t| t.supported).count();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{SECTION}\n\n`cargo bench --package warden --bench presidio`: Presidio's parametrised recognizer tests \
         (`presidio-analyzer/tests`, commit 0aa9f8e; {cases} cases with a text and its expected spans, extracted by \
         `bench/presidio_cases.py`), each text scanned for its entity type alone at minimum score 0, spans compared \
         exactly in characters. Presidio passes all of them; a deliberate difference (stricter check digits, context \
         words, upper-case plates; each explained in the recognizer modules' tests) counts against Warden here.\n\n\
         Warden knows **{supported} of the {} types** (Presidio's Philippine and Turkish telephone types as \
         `PHONE_NUMBER`); it passes **{passed} of {cases} cases ({:.1}%)**; micro precision {} \
         and recall {} over all types.\n\n| type | cases | passed | expected spans | P | R |\n|---|---|---|---|---|---|",
        by_type.len(),
        100.0 * passed as f64 / cases as f64,
        ratio(tp, tp + fp),
        ratio(tp, tp + fn_),
    );
    for (name, t) in &by_type {
        let _ = writeln!(
            out,
            "| {name}{} | {} | {} | {} | {} | {} |",
            match ALIASES.iter().find(|(p, _, _)| p == name) {
                Some((_, w, c)) => format!(" (as {w}, countries {c})"),
                None if !t.supported => " (not a Warden type)".to_owned(),
                None => String::new(),
            },
            t.cases,
            t.passed,
            t.expected,
            ratio(t.tp, t.tp + t.fp),
            ratio(t.tp, t.tp + t.fn_),
        );
    }
    let _ = writeln!(
        out,
        "\n<details><summary>Every case Warden answers differently ({})</summary>\n\n```\n{}\n```\n</details>",
        missed.len(),
        missed.join("\n")
    );
    println!("{out}");
    let path = root().join("docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, replace_section(&doc, SECTION, &out)).unwrap();
}
