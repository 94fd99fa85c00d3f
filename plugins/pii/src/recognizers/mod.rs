//! Recognizers written as data: per entity type, its patterns with scores, its context words
//! and its validation, run by one engine (`run`). Presidio's predefined pattern recognizers
//! are ported here, one module per country (`generic` for types found everywhere, `secrets`
//! for credentials).
//!
//! Scoring follows Presidio's pattern recognizers, so their test cases carry over: a match
//! scores its pattern's score; a validation that passes raises it to 1.0, one that fails
//! drops the match, one that cannot tell keeps it; a context word within a few words before
//! (or just after) adds 0.35, to at least 0.4.

mod au;
mod ca;
mod de;
mod es;
mod fi;
mod generic;
mod in_;
mod it;
mod kr;
mod ng;
mod ph;
mod pl;
mod se;
mod secrets;
mod sg;
mod th;
mod tr;
mod uk;
mod us;
mod za;

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

use crate::context::{nearest, nearest_before};
use crate::entity::{EntityType, Kind};
use crate::{Candidate, Why};

/// One regular expression of a recognizer and the score of its matches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pat {
    /// Shown in explanations, such as `NIF (weak)`.
    pub name: &'static str,
    /// The pattern. Compiled without Unicode: `\d`, `\w`, `\b` and `(?i)` are ASCII, and
    /// `.` must not be used (write a class). Leftmost-first, non-overlapping matches.
    pub regex: &'static str,
    /// Score of a match before validation and context.
    pub score: f32,
}

/// What a validation says about a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// The check passed: the score becomes 1.0.
    Valid,
    /// The check failed: the match is dropped.
    Invalid,
    /// The check cannot tell: the score stays.
    Unknown,
}

impl From<bool> for Check {
    fn from(ok: bool) -> Check {
        if ok { Check::Valid } else { Check::Invalid }
    }
}

/// One recognizer: an entity type, its patterns, context words and validation.
pub(crate) struct Spec {
    /// The type it reports.
    pub entity: EntityType,
    /// ISO 3166-1 alpha-2 country, `None` for types found everywhere.
    pub country: Option<&'static str>,
    /// Personal data or a credential.
    pub kind: Kind,
    /// One line for the catalogue.
    pub description: &'static str,
    /// What `validate` checks, for the catalogue and explanations (`none` without one).
    pub validation: &'static str,
    /// Whether it runs when the caller names neither entities nor countries.
    pub default_enabled: bool,
    /// The patterns, tried in order; a later pattern's match overlapping an earlier one's
    /// is resolved by score with every other candidate.
    pub patterns: &'static [Pat],
    /// Words (lower case, any language) that make a nearby match more likely; several words
    /// are matched as a phrase.
    pub context: &'static [&'static str],
    /// Checks a match's text (exactly the matched bytes).
    pub validate: Option<fn(&str) -> Check>,
    /// Whether a match at `text[start..end]` stands in its surroundings: what Presidio writes
    /// as look-around, which the regex crate does not have. `None` accepts every match.
    pub around: Option<fn(text: &str, start: usize, end: usize) -> bool>,
}

/// How far before a match a context word counts (about five words, Presidio's window).
pub(crate) const CONTEXT_BEFORE: usize = 48;
/// How far after a match a context word counts.
pub(crate) const CONTEXT_AFTER: usize = 24;
/// What a context word adds to the score (Presidio's similarity factor).
pub(crate) const CONTEXT_BOOST: f32 = 0.35;
/// The least score of a match with a context word near it.
pub(crate) const CONTEXT_MIN: f32 = 0.4;

/// The most a match scores when a word just before it (`serial`, `order`, `ref`, …) says it
/// is something else: under the default threshold.
const NAMED_OTHERWISE: f32 = 0.4;

/// A score raised by a context word near its match.
pub(crate) fn boosted(score: f32) -> f32 {
    (score + CONTEXT_BOOST).clamp(CONTEXT_MIN, 1.0)
}

/// Every table recognizer, in module order.
pub(crate) fn all() -> impl Iterator<Item = &'static Spec> {
    TABLES.iter().flat_map(|t| t.iter().copied())
}

/// Each module's list.
const TABLES: &[&[&Spec]] = &[
    generic::SPECS,
    secrets::SPECS,
    us::SPECS,
    uk::SPECS,
    au::SPECS,
    ca::SPECS,
    de::SPECS,
    es::SPECS,
    it::SPECS,
    in_::SPECS,
    kr::SPECS,
    sg::SPECS,
    fi::SPECS,
    se::SPECS,
    pl::SPECS,
    th::SPECS,
    tr::SPECS,
    ng::SPECS,
    ph::SPECS,
    za::SPECS,
];

/// The compiled patterns of every spec, in [`all`] order.
static COMPILED: LazyLock<Vec<Vec<Regex>>> = LazyLock::new(|| all().map(compile).collect());

/// Compiles a spec's patterns.
// The patterns are constants of this crate, compiled by `warm()` in every test run, so a failure
// here is a bug caught before release rather than a runtime condition.
#[allow(clippy::expect_used)]
fn compile(spec: &Spec) -> Vec<Regex> {
    spec.patterns
        .iter()
        .map(|p| {
            RegexBuilder::new(p.regex)
                .unicode(false)
                .build()
                .unwrap_or_else(|e| panic!("{} pattern {:?}: {e}", spec.entity, p.name))
        })
        .collect()
}

/// The prefilter: every pattern whose matches must start with one of a few literals (a
/// token's `ghp_`, `xoxb-`, `AKIA`…, found by regex-syntax's literal extraction), as one
/// Aho-Corasick automaton. A pattern runs only when one of its literals occurs in the text
/// (or it has none), so the ~400 compiled patterns' memory is not touched for a prompt that
/// holds none of their prefixes — what makes a fresh instance slow is the pages it touches.
struct Prefilter {
    /// Literals of every prefiltered pattern.
    automaton: Option<aho_corasick::AhoCorasick>,
    /// Literal index → pattern index (in [`all`] order, flattened).
    owner: Vec<usize>,
    /// Per pattern: whether it has literals (else it always runs).
    filtered: Vec<bool>,
}

/// Shortest literal worth filtering on: shorter ones occur in most texts.
const MIN_LITERAL: usize = 3;
/// Most literals one pattern may contribute (a longer set means a class, not a prefix).
const MAX_LITERALS: usize = 64;

/// The literal prefixes every match of `pattern` starts with, if they are few and long.
fn prefixes(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let mut extractor = Extractor::new();
    extractor
        .kind(ExtractKind::Prefix)
        .limit_total(MAX_LITERALS);
    let seq = extractor.extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > MAX_LITERALS {
        return None;
    }
    if lits.iter().any(|l| l.as_bytes().len() < MIN_LITERAL) {
        return None;
    }
    Some(lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

static PREFILTER: LazyLock<Prefilter> = LazyLock::new(|| {
    let mut literals: Vec<Vec<u8>> = Vec::new();
    let mut owner = Vec::new();
    let mut filtered = Vec::new();
    for (i, p) in all().flat_map(|s| s.patterns.iter()).enumerate() {
        match prefixes(p.regex) {
            Some(lits) => {
                for l in lits {
                    literals.push(l);
                    owner.push(i);
                }
                filtered.push(true);
            }
            None => filtered.push(false),
        }
    }
    let automaton = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::Standard)
        .build(&literals)
        .ok();
    // Without an automaton (it failed to build) every pattern runs: slower, never wrong.
    if automaton.is_none() {
        filtered.iter_mut().for_each(|f| *f = false);
    }
    Prefilter {
        automaton,
        owner,
        filtered,
    }
});

impl Prefilter {
    /// Per pattern: whether it may match `text`.
    fn candidates(&self, text: &str) -> Vec<bool> {
        let mut may: Vec<bool> = self.filtered.iter().map(|f| !f).collect();
        if let Some(ac) = &self.automaton
            && let Ok(iter) = ac.try_find_overlapping_iter(text)
        {
            for m in iter {
                if let Some(&p) = self.owner.get(m.pattern().as_usize())
                    && let Some(slot) = may.get_mut(p)
                {
                    *slot = true;
                }
            }
        }
        may
    }
}

/// Forces every pattern to compile.
pub(crate) fn warm() {
    LazyLock::force(&COMPILED);
    LazyLock::force(&PREFILTER);
    secrets::warm();
}

/// Whether `want` accepts any type the secrets scan reports.
pub(crate) fn secrets_wanted(want: &dyn Fn(EntityType) -> bool) -> bool {
    secrets::wanted(want)
}

/// Runs every spec that `tables` (one flag per spec, in [`all`] order) lets run, then the
/// secrets scan when `secrets` is set (its findings filtered by `want`), appending candidates
/// to `out`.
pub(crate) fn scan(
    text: &str,
    tables: &[bool],
    secrets: bool,
    want: &dyn Fn(EntityType) -> bool,
    out: &mut Vec<Candidate>,
) {
    let may = PREFILTER.candidates(text);
    let mut first = 0;
    for ((spec, regexes), on) in all().zip(COMPILED.iter()).zip(tables) {
        let n = spec.patterns.len();
        let live = may.get(first..first + n).unwrap_or(&[]);
        if *on && live.iter().any(|m| *m) {
            run(spec, regexes, live, text, out);
        }
        first += n;
    }
    // After the tables: a keyword's value that is already a known token keeps that type.
    if secrets {
        secrets::scan(text, want, out);
    }
}

/// One spec over `text`: the patterns the prefilter lets through (`live`, one per pattern).
fn run(spec: &Spec, regexes: &[Regex], live: &[bool], text: &str, out: &mut Vec<Candidate>) {
    for ((pat, re), _) in spec
        .patterns
        .iter()
        .zip(regexes)
        .zip(live)
        .filter(|(_, live)| **live)
    {
        for m in re.find_iter(text) {
            let (s, e) = (m.start(), m.end());
            if s == e || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                continue;
            }
            if spec.around.is_some_and(|ok| !ok(text, s, e)) {
                continue;
            }
            let mut why = Why::pattern(pat.name);
            let mut score = pat.score;
            match spec.validate.map_or(Check::Unknown, |v| v(m.as_str())) {
                Check::Invalid => continue,
                Check::Valid => {
                    score = 1.0;
                    why = why.check(spec.validation);
                }
                Check::Unknown => {}
            }
            if let Some((w, _)) = nearest(text, s, e, CONTEXT_BEFORE, CONTEXT_AFTER, spec.context) {
                if score < 1.0 {
                    score = boosted(score);
                    why = why.context(w);
                }
            } else if let Some((w, _)) = nearest_before(text, s, 20, crate::context::THING_NUMBER) {
                // "serial 2801233255605", "batch 3150469670": the text says what the number
                // is, and it is not this type (Presidio has no such rule; its tests have no
                // such words).
                score = score.min(NAMED_OTHERWISE);
                why = why.context(w);
            }
            out.push(Candidate {
                entity: spec.entity,
                start: s,
                end: e,
                score,
                why,
            });
        }
    }
}

#[cfg(test)]
mod prefilter_tests {
    use super::*;

    #[test]
    fn fixed_prefixes_are_extracted_and_classes_are_not() {
        assert_eq!(
            prefixes("ghp_[0-9A-Za-z]{36}"),
            Some(vec![b"ghp_".to_vec()])
        );
        assert!(prefixes("(?i)xox[bp]-[0-9]+").is_some_and(|l| l.len() >= 2));
        assert_eq!(prefixes(r"\b[0-9]{3}-[0-9]{2}"), None);
        assert_eq!(
            prefixes("a[0-9]"),
            None,
            "two bytes is too short to filter on"
        );
        // Something is filtered, and a prefixed token still reaches its pattern.
        assert!(PREFILTER.filtered.iter().any(|f| *f));
        let may = PREFILTER.candidates("token ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert!(may.iter().filter(|m| **m).count() < may.len());
    }
}
