//! End-to-end cases of the secret recognizers.

use super::*;
use crate::{DEFAULT_MIN_SCORE, DetectOptions};

/// Runs the tables and [`scan`] like `detect` does, for the given types (all defaults when
/// empty), and returns (type, text, score) of what survives the minimum score and overlaps.
fn run(text: &str, entities: &[&str], min: f32) -> Vec<(String, String, f32)> {
    let opts = if entities.is_empty() {
        DetectOptions::default()
    } else {
        DetectOptions::from_wire(entities, &[], Some(min), false).unwrap()
    };
    let want = |e: EntityType| opts.wants(e);
    let mut cands = Vec::new();
    crate::patterns::scan(text, want, &mut cands);
    crate::recognizers::scan(text, &want, &mut cands);
    scan(text, &want, &mut cands);
    cands.retain(|c| c.score >= min);
    warden_sdk::span::resolve_overlaps(cands)
        .into_iter()
        .map(|c| (c.entity.as_str().to_owned(), text[c.start..c.end].to_owned(), c.score))
        .collect()
}

/// What the defaults find.
fn find(text: &str) -> Vec<(String, String, f32)> {
    run(text, &[], DEFAULT_MIN_SCORE)
}

#[test]
fn smoke() {
    warm();
    let f = find("password = \"hunter2!\"");
    assert_eq!(f.len(), 1, "{f:?}");
}
