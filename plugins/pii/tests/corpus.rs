//! Scores the detector against the labelled development corpus (`shared/pii/dev.jsonl`, beside
//! the repository) and fails when any metric drops below its floor.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use warden_plugin_pii::{DetectOptions, EntityType, detect};

/// Floors, set just under what the detector reaches, so a regression cannot pass silently.
const MICRO_F1_FLOOR: f64 = 0.99;
const PERSON_F1_FLOOR: f64 = 0.99;
const FP_LINE_RATE_CEILING: f64 = 0.01;

#[derive(Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn prf(&self) -> (f64, f64, f64) {
        let p = if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        };
        let r = if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        };
        let f = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        (p, r, f)
    }
}

/// The corpus file's path and contents; the tests need it, so a missing file fails them.
fn corpus() -> (std::path::PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pii/dev.jsonl");
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the PII corpus is required for this test but could not be read at {}: {e}",
            path.display()
        )
    });
    (path, data)
}

#[test]
fn corpus_scores() {
    let (path, data) = corpus();
    let verbose = std::env::var_os("PII_CORPUS_VERBOSE").is_some();
    let mut counts: BTreeMap<&'static str, Counts> = BTreeMap::new();
    let (mut clean_lines, mut flagged_clean) = (0usize, 0usize);
    let mut lines = 0usize;
    for (n, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let text = v["text"]
            .as_str()
            .unwrap_or_else(|| panic!("line {}: no text", n + 1));
        let gold: HashSet<(String, usize, usize)> = v["entities"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["type"].as_str().unwrap_or_default().to_owned(),
                            e["start"].as_u64().unwrap_or_default() as usize,
                            e["end"].as_u64().unwrap_or_default() as usize,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let found = detect(text, &DetectOptions::default());
        let got: HashSet<(String, usize, usize)> = found
            .iter()
            .map(|f| (f.entity_type.as_str().to_owned(), f.start, f.end))
            .collect();
        if gold.is_empty() {
            clean_lines += 1;
            if !got.is_empty() {
                flagged_clean += 1;
                if verbose {
                    println!("FP-LINE {}: {text:?} -> {got:?}", v["id"]);
                }
            }
        }
        for t in EntityType::all() {
            let c = counts.entry(t.as_str()).or_default();
            let g: HashSet<_> = gold.iter().filter(|x| x.0 == t.as_str()).collect();
            let f: HashSet<_> = got.iter().filter(|x| x.0 == t.as_str()).collect();
            c.tp += g.intersection(&f).count();
            for x in f.difference(&g) {
                c.fp += 1;
                if verbose {
                    println!("FP {} {:?} in {}: {text:?}", x.0, &text[x.1..x.2], v["id"]);
                }
            }
            for x in g.difference(&f) {
                c.fn_ += 1;
                if verbose {
                    println!(
                        "FN {} {:?} in {}: {text:?} got {got:?}",
                        x.0,
                        &text[x.1..x.2],
                        v["id"]
                    );
                }
            }
        }
    }
    println!("{lines} lines");
    println!(
        "{:<14} {:>5} {:>5} {:>5}  {:>6} {:>6} {:>6}",
        "type", "tp", "fp", "fn", "P", "R", "F1"
    );
    let mut micro = Counts::default();
    for (t, c) in &counts {
        let (p, r, f) = c.prf();
        println!(
            "{t:<14} {:>5} {:>5} {:>5}  {p:>6.3} {r:>6.3} {f:>6.3}",
            c.tp, c.fp, c.fn_
        );
        if *t != "PERSON" {
            micro.tp += c.tp;
            micro.fp += c.fp;
            micro.fn_ += c.fn_;
        }
    }
    let (mp, mr, mf) = micro.prf();
    let (_, _, pf) = counts.get("PERSON").map(Counts::prf).unwrap_or_default();
    let fp_rate = if clean_lines == 0 {
        0.0
    } else {
        flagged_clean as f64 / clean_lines as f64
    };
    println!("micro (non-PERSON): P {mp:.3} R {mr:.3} F1 {mf:.4}");
    println!("PERSON F1 {pf:.4}");
    println!("PII-free lines flagged: {flagged_clean}/{clean_lines} = {fp_rate:.4}");
    assert!(
        lines >= 100,
        "corpus at {} has only {lines} lines",
        path.display()
    );
    assert!(
        mf >= MICRO_F1_FLOOR,
        "micro F1 {mf:.4} fell below {MICRO_F1_FLOOR}"
    );
    assert!(
        pf >= PERSON_F1_FLOOR,
        "PERSON F1 {pf:.4} fell below {PERSON_F1_FLOOR}"
    );
    assert!(
        fp_rate <= FP_LINE_RATE_CEILING,
        "{fp_rate:.4} of PII-free lines flagged (ceiling {FP_LINE_RATE_CEILING})"
    );
}

/// Findings of `text` as (type, original substring with `strip` applied), for comparing a
/// disguised line with its plain form.
fn spans(text: &str, strip: impl Fn(&str) -> String) -> Vec<(EntityType, String)> {
    detect(text, &DetectOptions::default())
        .iter()
        .map(|f| (f.entity_type, strip(&text[f.start..f.end])))
        .collect()
}

/// Disguising every line with invisible or compatibility characters changes nothing: the same
/// findings (so no new false positive on the hard negatives, and no lost true positive), each
/// covering exactly the disguised text of the value.
#[test]
fn corpus_findings_survive_unicode_disguise() {
    let (_, data) = corpus();
    let mut lines = 0usize;
    for (n, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let text = v["text"]
            .as_str()
            .unwrap_or_else(|| panic!("line {}: no text", n + 1));
        let plain = spans(text, str::to_owned);
        // Spaces become NBSP; a zero-width space follows every character; digits, letters and
        // `@` become fullwidth.
        let nbsp = text.replace(' ', "\u{A0}");
        let zwsp: String = text.chars().flat_map(|c| [c, '\u{200B}']).collect();
        let wide: String = text
            .chars()
            .map(|c| match c {
                '0'..='9' | 'A'..='Z' | 'a'..='z' | '@' => {
                    char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c)
                }
                c => c,
            })
            .collect();
        let narrow = |s: &str| -> String {
            s.chars()
                .map(|c| match u32::from(c) {
                    0xFF01..=0xFF5E => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
                    _ => c,
                })
                .collect()
        };
        for (kind, disguised, got) in [
            ("NBSP", &nbsp, spans(&nbsp, |s| s.replace('\u{A0}', " "))),
            ("ZWSP", &zwsp, spans(&zwsp, |s| s.replace('\u{200B}', ""))),
            ("fullwidth", &wide, spans(&wide, narrow)),
        ] {
            assert_eq!(
                got,
                plain,
                "{kind} disguise of line {} changed the findings: {disguised:?}",
                n + 1
            );
        }
        // A span never starts or ends on a zero-width space it did not need.
        for f in detect(&zwsp, &DetectOptions::default()) {
            assert!(!zwsp[f.start..].starts_with('\u{200B}'), "line {}", n + 1);
            assert!(!zwsp[..f.end].ends_with('\u{200B}'), "line {}", n + 1);
        }
    }
    assert!(lines >= 100);
}

/// Choosing a country switches on every type of that country, most of which are off by default
/// because their shape alone is ambiguous; on the corpus's gold-free lines (tickets with order
/// numbers, versions, dates, amounts and hashes) each country's types together may flag at
/// most a few lines.
#[test]
fn each_country_keeps_clean_lines_nearly_clean() {
    let (_, data) = corpus();
    let clean: Vec<String> = data
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["entities"].as_array().is_none_or(|a| a.is_empty()))
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect();
    assert!(
        clean.len() >= 100,
        "the corpus has {} clean lines",
        clean.len()
    );
    let mut countries: Vec<&str> = warden_plugin_pii::catalogue()
        .iter()
        .filter_map(|i| i.country)
        .collect();
    countries.sort_unstable();
    countries.dedup();
    let mut report = Vec::new();
    for c in countries {
        let opts = DetectOptions::from_wire(&[] as &[&str], &[c], None, false).unwrap();
        let flagged: Vec<String> = clean
            .iter()
            .filter_map(|t| {
                let found = detect(t, &opts);
                (!found.is_empty()).then(|| {
                    let f = &found[0];
                    format!("{} {:?} in {t:?}", f.entity_type, &t[f.start..f.end])
                })
            })
            .collect();
        if flagged.len() * 50 > clean.len() {
            report.push(format!(
                "{c}: {} of {} clean lines flagged: {flagged:#?}",
                flagged.len(),
                clean.len()
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}
