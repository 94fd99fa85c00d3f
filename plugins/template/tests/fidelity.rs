//! Fidelity: the built-in engine against Python's Jinja2, byte for byte.
//!
//! Real Hugging Face chat templates (tests/fidelity/chat_templates.json, each with the model
//! repository it comes from) render every conversation they are paired with
//! (tests/fidelity/conversations.json) in the plugin ([`render_chat_template`]) and in Jinja2 with
//! transformers' exact environment (tests/fidelity/render.py); Jinja2's own test-suite cases
//! (tests/fidelity/jinja2_cases.json) render in the plugin's Jinja2 dialect and in a default
//! `jinja2.Environment()`. Jinja2 runs in a virtual environment under the cargo target directory
//! (created on first use, then reused) with a pinned Jinja2 from PyPI.
//!
//! The test fails if any chat template renders differently, if fewer than 95% of the Jinja2
//! cases match, or if tests/fidelity/known_differences.json is not exactly the list of Jinja2
//! cases that differ (a listed case that now matches must be taken off the list).

// A test: failing loudly on unreadable fixtures is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use minijinja::Value as MjValue;
use serde_json::Value as Json;
use warden_plugin_template::{
    Dialect, RAISED_KIND, RenderOptions, Settings, UndefinedMode, render_chat_template, render_with,
};

/// The Jinja2 release the reference renders with (what transformers' users get today).
const JINJA2_VERSION: &str = "3.1.6";

fn fidelity_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fidelity")
}

fn read_json(name: &str) -> Json {
    let path = fidelity_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A data file as template values, with every object's keys in file order.
fn read_ordered(name: &str) -> MjValue {
    let path = fidelity_dir().join(name);
    let text = std::fs::read_to_string(&path).expect("fidelity data");
    serde_json::from_str(&text).expect("fidelity data is JSON")
}

/// The virtual environments the tests create (shared with the black-box tests).
#[path = "../../../tests/common/python.rs"]
mod python;

/// The virtual environment's python, with the pinned Jinja2 installed (created if need be).
fn reference_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fidelity-venv");
    python::venv(
        &venv,
        &[&format!("jinja2=={JINJA2_VERSION}")],
        &format!("import jinja2, sys; sys.exit(jinja2.__version__ != '{JINJA2_VERSION}')"),
    )
}

/// Jinja2's results for every case, from render.py.
fn reference_results() -> Json {
    let dir = fidelity_dir();
    let out = Command::new(reference_python())
        .arg(dir.join("render.py"))
        .arg(dir.join("chat_templates.json"))
        .arg(dir.join("conversations.json"))
        .arg(dir.join("jinja2_cases.json"))
        // transformers' strftime_now reads local time; the plugin's clock is UTC (WASI).
        .env("TZ", "UTC")
        .output()
        .expect("cannot run render.py");
    assert!(
        out.status.success(),
        "render.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Json = serde_json::from_slice(&out.stdout).expect("render.py printed no JSON");
    assert_eq!(results["jinja2_version"], JINJA2_VERSION);
    results
}

/// What one side made of a case: its output, or that it failed (and, for raise_exception,
/// with which message).
#[derive(Debug, PartialEq)]
enum Outcome {
    Output(String),
    Raised(String),
    Failed,
}

fn reference_outcome(r: &Json) -> Outcome {
    if let Some(out) = r["output"].as_str() {
        Outcome::Output(out.to_owned())
    } else if r["raised"] == Json::Bool(true) {
        Outcome::Raised(r["error"].as_str().unwrap_or_default().to_owned())
    } else {
        Outcome::Failed
    }
}

fn plugin_outcome(r: Result<String, warden_plugin_template::TemplateError>) -> (Outcome, String) {
    match r {
        Ok(out) => (Outcome::Output(out), String::new()),
        Err(e) if e.kind == RAISED_KIND => (Outcome::Raised(e.message.clone()), e.to_string()),
        Err(e) => (Outcome::Failed, format!("{}: {}", e.kind, e.message)),
    }
}

/// Where two renderings part, with some text either side.
fn show_diff(id: &str, want: &Outcome, got: &Outcome, detail: &str) -> String {
    if let (Outcome::Output(w), Outcome::Output(g)) = (want, got) {
        let at = w
            .char_indices()
            .zip(g.chars())
            .find(|((_, a), b)| a != b)
            .map_or(w.len().min(g.len()), |((i, _), _)| i);
        let around = |s: &str| {
            let start = s.floor_char_boundary(at.saturating_sub(60));
            let end = s.ceil_char_boundary((at + 60).min(s.len()));
            format!("{:?}", &s[start..end])
        };
        return format!(
            "--- {id}: differs at byte {at} (lengths {} vs {})\n  jinja2: {}\n  plugin: {}\n",
            w.len(),
            g.len(),
            around(w),
            around(g)
        );
    }
    let short = |o: &Outcome| {
        let s = format!("{o:?}");
        s.chars().take(300).collect::<String>()
    };
    format!(
        "--- {id}\n  jinja2: {}\n  plugin: {} {detail}\n",
        short(want),
        short(got)
    )
}

#[test]
fn the_engine_renders_what_jinja2_renders() {
    let reference = reference_results();
    let templates = read_json("chat_templates.json");
    let cases = read_json("jinja2_cases.json");
    let known: BTreeMap<String, Json> =
        serde_json::from_value(read_json("known_differences.json")).expect("known differences");

    // Chat templates: every one must match.
    let mut chat_total = 0;
    let mut chat_match = 0;
    let mut chat_failures = String::new();
    let mut models = std::collections::BTreeSet::new();
    let ordered_templates = read_ordered("chat_templates.json");
    let t_ordered: Vec<MjValue> = ordered_templates.try_iter().expect("templates").collect();
    let ordered = MjValue::from_pairs([("conversations", read_ordered("conversations.json"))]);
    for (i, t) in templates
        .as_array()
        .expect("a list of templates")
        .iter()
        .enumerate()
    {
        let id = t["id"].as_str().expect("template id");
        models.insert(id.to_owned());
        let template = t["template"].as_str().expect("template text");
        for conv in t["conversations"].as_array().expect("conversations") {
            let conv = conv.as_str().expect("conversation id");
            // The request keeps the conversation's key order (serde_json's map would sort it).
            let mut pairs: Vec<(MjValue, MjValue)> = Vec::new();
            let mut put = |k: MjValue, v: MjValue| match pairs.iter_mut().find(|(key, _)| *key == k)
            {
                Some(slot) => slot.1 = v,
                None => pairs.push((k, v)),
            };
            let attr = |v: &MjValue, name: &str| v.get_attr(name).unwrap_or_default();
            let parts = [
                attr(&attr(&ordered, "conversations"), conv),
                attr(&t_ordered[i], "tokens"),
                attr(&t_ordered[i], "extra"),
            ];
            for part in &parts {
                if let Ok(keys) = part.try_iter() {
                    for k in keys {
                        let v = part.get_item(&k).unwrap_or_default();
                        put(k, v);
                    }
                }
            }
            let request = serde_json::to_string(&MjValue::from_pairs(pairs)).expect("request JSON");
            let key = format!("{id}@{conv}");
            let want = reference_outcome(&reference["chat"][&key]);
            let (got, detail) = plugin_outcome(render_chat_template(
                template,
                &request,
                &RenderOptions::default(),
            ));
            chat_total += 1;
            if want == got {
                chat_match += 1;
            } else {
                chat_failures.push_str(&show_diff(&key, &want, &got, &detail));
            }
        }
    }

    // Jinja2 cases: the default environment, Jinja2's default undefined.
    let case_contexts = read_ordered("jinja2_cases.json");
    let mut j_total = 0;
    let mut j_match = 0;
    let mut differing = BTreeMap::new();
    for case in cases.as_array().expect("a list of cases") {
        let id = case["id"].as_str().expect("case id").to_owned();
        let env = &case["env"];
        let opts = RenderOptions {
            trim_blocks: env["trim_blocks"].as_bool(),
            lstrip_blocks: env["lstrip_blocks"].as_bool(),
            keep_trailing_newline: env["keep_trailing_newline"].as_bool(),
            ..Default::default()
        };
        let settings = Settings {
            dialect: Dialect::Jinja2,
            undefined: Some(UndefinedMode::Lenient),
        };
        let context = case_contexts
            .get_item(&MjValue::from(j_total))
            .ok()
            .and_then(|c| c.get_attr("context").ok())
            .filter(|c| !c.is_undefined())
            .map(|c| serde_json::to_string(&c).expect("context JSON"))
            .unwrap_or_else(|| "{}".to_owned());
        let want = reference_outcome(&reference["jinja2"][&id]);
        let (got, detail) = plugin_outcome(render_with(
            case["template"].as_str().expect("case template"),
            &context,
            &opts,
            &settings,
        ));
        j_total += 1;
        if want == got {
            j_match += 1;
        } else {
            differing.insert(id.clone(), show_diff(&id, &want, &got, &detail));
        }
    }

    println!(
        "chat templates: {} templates, {chat_match}/{chat_total} renderings byte-identical",
        models.len()
    );
    println!(
        "jinja2 cases: {j_match}/{j_total} match ({:.1}%)",
        100.0 * j_match as f64 / j_total.max(1) as f64
    );
    for d in differing.values() {
        print!("{d}");
    }

    let mut problems = String::new();
    if !chat_failures.is_empty() {
        problems.push_str(&format!("chat templates that differ:\n{chat_failures}"));
    }
    if j_match * 100 < j_total * 95 {
        problems.push_str("fewer than 95% of the Jinja2 cases match\n");
    }
    for id in known.keys() {
        if !differing.contains_key(id) {
            problems.push_str(&format!(
                "{id} is listed in known_differences.json but now matches (or no longer exists): \
                 take it off the list\n"
            ));
        }
    }
    for (id, diff) in &differing {
        if !known.contains_key(id) {
            problems.push_str(&format!(
                "{id} differs and is not in known_differences.json:\n{diff}"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems}");
}
