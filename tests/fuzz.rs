//! The fuzzers' short form, on stable and in CI: every input in `fuzz/corpus/<target>/` (the
//! seeds plus whatever a fuzzing run found worth keeping) goes through the same harness the
//! libFuzzer target runs (`warden_testkit`), so a finding saved there stays fixed. The
//! component target also gets the built-ins, whole and truncated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn replay(target: &str, harness: fn(&[u8])) {
    for (name, data) in corpus(target) {
        let result = std::panic::catch_unwind(|| harness(&data));
        assert!(result.is_ok(), "{name} broke the {target} harness");
    }
}

#[test]
fn component_corpus_and_truncated_builtins() {
    replay("component", warden_testkit::component);
    let (_, pii) = warden_builtins::ALL
        .iter()
        .find(|(n, _)| *n == "pii")
        .expect("the pii built-in");
    // Whole (it loads), then cut inside the header, a section and the last byte (refused).
    for len in [pii.len(), 0, 4, 8, 9, 100, pii.len() / 2, pii.len() - 1] {
        warden_testkit::component(&pii[..len]);
    }
}

#[test]
fn jwt_corpus() {
    replay("jwt", warden_testkit::jwt);
}

#[test]
fn json_body_corpus() {
    replay("json_body", warden_testkit::json_body);
}

#[test]
fn pii_and_template_corpora_through_the_sandbox() {
    replay("pii_detect", warden_testkit::pii_text);
    replay("template", warden_testkit::template_source);
}
