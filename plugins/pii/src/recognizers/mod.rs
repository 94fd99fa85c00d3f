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
///
/// Most of the other patterns are identifiers that need a run of consecutive digits
/// (`[A-Z][0-9]{9}`, `[0-9]{8}-?[A-Z]`) or tokens that need a long run of letters and digits
/// (`[A-Za-z0-9]{29}`, a 16-character fiscal code); without a literal to look for, each
/// searched the whole text. So each pattern also has the longest run of digits, and of
/// letters and digits, every match must hold ([`needs`]), and it runs only if the text has
/// runs that long: prose with a telephone number in it (runs of four digits, words of a dozen
/// letters) skips every identifier that needs five digits and every token of twenty.
struct Prefilter {
    /// Literals of every prefiltered pattern.
    automaton: Option<aho_corasick::AhoCorasick>,
    /// Literal index → pattern index (in [`all`] order, flattened).
    owner: Vec<usize>,
    /// Per pattern: whether it has literals (else it always runs).
    filtered: Vec<bool>,
    /// Per pattern: the consecutive ASCII digits, and letters or digits, every match holds
    /// somewhere.
    runs: Vec<Needs>,
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

/// What every match of a piece of a pattern holds in consecutive bytes of one set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    /// Every match is made of the set's bytes only, `pre` of them at least (then `suf` and
    /// `best` are too).
    all: bool,
    /// The set's bytes every match starts with.
    pre: usize,
    /// The set's bytes every match ends with.
    suf: usize,
    /// The longest run every match holds somewhere.
    best: usize,
}

impl Run {
    /// Only the set's bytes, at least `n` of them.
    fn digits(n: usize) -> Run {
        Run {
            all: true,
            pre: n,
            suf: n,
            best: n,
        }
    }

    /// Nothing known.
    const NONE: Run = Run {
        all: false,
        pre: 0,
        suf: 0,
        best: 0,
    };

    /// `self` followed by `next`: the runs at the seam join.
    fn then(self, next: Run) -> Run {
        if self.all && next.all {
            return Run::digits(self.pre + next.pre);
        }
        Run {
            all: false,
            pre: if self.all {
                self.pre + next.pre
            } else {
                self.pre
            },
            suf: if next.all {
                self.suf + next.suf
            } else {
                next.suf
            },
            best: self.best.max(next.best).max(self.suf + next.pre),
        }
    }

    /// `self` or `other`: only what both guarantee.
    fn or(self, other: Run) -> Run {
        if self.all && other.all {
            return Run::digits(self.pre.min(other.pre));
        }
        Run {
            all: false,
            pre: self.pre.min(other.pre),
            suf: self.suf.min(other.suf),
            best: self.best.min(other.best),
        }
    }
}

/// The run of consecutive bytes of `set` every match of `hir` holds.
fn run_of(hir: &regex_syntax::hir::Hir, set: fn(u8) -> bool) -> Run {
    use regex_syntax::hir::{Class, HirKind};
    let one = |b: u8| if set(b) { Run::digits(1) } else { Run::NONE };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Run::digits(0),
        HirKind::Literal(lit) => lit.0.iter().fold(Run::digits(0), |r, b| r.then(one(*b))),
        HirKind::Class(class) => {
            let inside = match class {
                Class::Unicode(c) => c.ranges().iter().all(|r| {
                    (u32::from(r.start())..=u32::from(r.end()))
                        .all(|c| u8::try_from(c).is_ok_and(|b| b.is_ascii() && set(b)))
                }),
                Class::Bytes(c) => c
                    .ranges()
                    .iter()
                    .all(|r| (r.start()..=r.end()).all(|b| b.is_ascii() && set(b))),
            };
            if inside { Run::digits(1) } else { Run::NONE }
        }
        HirKind::Repetition(rep) => {
            let one = run_of(&rep.sub, set);
            match rep.min {
                0 if one.all => Run::digits(0),
                0 => Run::NONE,
                _ if one.all => Run::digits(one.pre * rep.min as usize),
                1 => one,
                _ => one.then(one),
            }
        }
        HirKind::Capture(cap) => run_of(&cap.sub, set),
        HirKind::Concat(parts) => parts
            .iter()
            .map(|p| run_of(p, set))
            .fold(Run::digits(0), Run::then),
        HirKind::Alternation(arms) => arms
            .iter()
            .map(|a| run_of(a, set))
            .reduce(Run::or)
            .unwrap_or(Run::NONE),
    }
}

/// The runs every match of a pattern holds: consecutive ASCII digits, and consecutive ASCII
/// letters or digits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Needs {
    /// Digits in a row.
    pub digits: usize,
    /// Letters or digits in a row.
    pub alnum: usize,
}

impl Needs {
    /// Whether a text with these longest runs can hold a match.
    fn met_by(self, text: Needs) -> bool {
        self.digits <= text.digits && self.alnum <= text.alnum
    }
}

/// What every match of `pattern` needs (nothing when the pattern does not parse: then it
/// always runs).
pub(crate) fn needs(pattern: &str) -> Needs {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_or(Needs::default(), |hir| Needs {
            digits: run_of(&hir, |b| b.is_ascii_digit()).best,
            alnum: run_of(&hir, |b| b.is_ascii_alphanumeric()).best,
        })
}

/// The consecutive ASCII digits every match of `pattern` holds.
#[cfg(test)]
pub(crate) fn digit_run(pattern: &str) -> usize {
    needs(pattern).digits
}

/// The longest runs of `text`, in one pass.
fn longest_runs(text: &str) -> Needs {
    let (mut best, mut digits, mut alnum) = (Needs::default(), 0, 0);
    for b in text.bytes() {
        digits = if b.is_ascii_digit() { digits + 1 } else { 0 };
        alnum = if b.is_ascii_alphanumeric() {
            alnum + 1
        } else {
            0
        };
        best.digits = best.digits.max(digits);
        best.alnum = best.alnum.max(alnum);
    }
    best
}

static PREFILTER: LazyLock<Prefilter> = LazyLock::new(|| {
    let mut literals: Vec<Vec<u8>> = Vec::new();
    let mut owner = Vec::new();
    let mut filtered = Vec::new();
    let mut runs = Vec::new();
    for (i, p) in all().flat_map(|s| s.patterns.iter()).enumerate() {
        runs.push(needs(p.regex));
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
    // A DFA: one table lookup per byte of every text; the literals are few enough that its
    // table is small, and it is built once, into the snapshot.
    let automaton = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::Standard)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
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
        runs,
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
        let longest = longest_runs(text);
        for (slot, need) in may.iter_mut().zip(&self.runs) {
            *slot &= need.met_by(longest);
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

    #[test]
    fn the_digit_run_a_pattern_needs_is_what_its_matches_hold() {
        for (pattern, digits, why) in [
            (r"(?i)\b[A-Z][0-9]{9}\b", 9, "a class repeated"),
            (
                r"\b[0-9]?[0-9]{7}-?[A-Z]\b",
                7,
                "an optional digit does not count",
            ),
            (r"\b(?:[0-9][ _]?){11}\b", 1, "separators may split it"),
            (
                r"\b\d{8}[A-Z]\b|\b[TSR]\d{2}[A-Z]{2}\d{4}[A-Z]\b",
                4,
                "the shorter arm",
            ),
            (r"\d{3}-\d{2}-\d{4}", 4, "the longest group"),
            (
                r"(?:12|3)[0-9]{2}x",
                3,
                "a literal joins the class after it",
            ),
            (r"x[0-9]*", 0, "none at all"),
            (r"(?:[0-9]{3}){2,}", 6, "a repeated group"),
            (r"(?:[0-9]{2}a[0-9]){2}", 3, "the seam of two repeats"),
        ] {
            assert_eq!(digit_run(pattern), digits, "{pattern}: {why}");
        }
        assert_eq!(
            longest_runs("call +1 212-555-0147, ref 98765x"),
            Needs {
                digits: 5,
                alnum: 6
            }
        );
        assert_eq!(needs(r"\b[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk\b").alnum, 29);
        assert_eq!(needs(r"(?i)\b[A-Z]{2}[0-9]{7}\b").alnum, 9);
        assert_eq!(
            needs(r"[A-Za-z0-9_~.]{3}[0-9]Q~").alnum,
            2,
            "`_~.` are not letters"
        );
        // The gate: an identifier of nine digits after a letter is searched only in a text
        // with such a run.
        let kvnr = all()
            .flat_map(|s| s.patterns.iter())
            .position(|p| p.regex == r"(?i)\b[A-Z][0-9]{9}\b")
            .expect("the KVNR pattern");
        assert!(!PREFILTER.candidates("call me at +1 212-555-0147")[kvnr]);
        assert!(PREFILTER.candidates("KVNR A123456789")[kvnr]);
    }

    /// A small deterministic generator (xorshift) for [`sample`].
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    /// Appends a random string `hir` may match (look-arounds are ignored, so the caller
    /// checks with the compiled pattern).
    fn sample(hir: &regex_syntax::hir::Hir, rng: &mut Rng, out: &mut Vec<u8>) {
        use regex_syntax::hir::{Class, HirKind};
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(lit) => out.extend_from_slice(&lit.0),
            HirKind::Class(Class::Bytes(c)) => {
                let ascii: Vec<(u8, u8)> = c
                    .ranges()
                    .iter()
                    .filter(|r| r.start() < 0x7f)
                    .map(|r| (r.start().max(b' '), r.end().min(0x7e)))
                    .filter(|(a, b)| a <= b)
                    .collect();
                if let Some(&(a, b)) = ascii.get(rng.below(ascii.len())) {
                    out.push(a + rng.below(usize::from(b - a) + 1) as u8);
                }
            }
            HirKind::Class(Class::Unicode(c)) => {
                let ranges = c.ranges();
                if let Some(r) = ranges.get(rng.below(ranges.len())) {
                    let span = (r.end() as u32 - r.start() as u32).min(64);
                    let ch = char::from_u32(r.start() as u32 + rng.below(span as usize + 1) as u32)
                        .unwrap_or(r.start());
                    out.extend_from_slice(ch.to_string().as_bytes());
                }
            }
            HirKind::Repetition(rep) => {
                let extra = rep.max.map_or(3, |m| (m - rep.min).min(3)) as usize;
                // Often the fewest repeats: where the bound is tight.
                let n = rep.min as usize
                    + if rng.below(2) == 0 {
                        0
                    } else {
                        rng.below(extra + 1)
                    };
                for _ in 0..n {
                    sample(&rep.sub, rng, out);
                }
            }
            HirKind::Capture(cap) => sample(&cap.sub, rng, out),
            HirKind::Concat(parts) => parts.iter().for_each(|p| sample(p, rng, out)),
            HirKind::Alternation(arms) => {
                if let Some(arm) = arms.get(rng.below(arms.len())) {
                    sample(arm, rng, out);
                }
            }
        }
    }

    /// The gate must never hide a match: every match of every pattern, on strings generated
    /// from the pattern itself, holds the run the pattern is said to need.
    #[test]
    fn no_match_of_any_pattern_is_shorter_than_the_runs_it_needs() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut checked = 0;
        let mut gated = 0;
        for (spec, regexes) in all().zip(COMPILED.iter()) {
            for (pat, re) in spec.patterns.iter().zip(regexes) {
                let need = needs(pat.regex);
                let hir = regex_syntax::ParserBuilder::new()
                    .unicode(false)
                    .utf8(false)
                    .build()
                    .parse(pat.regex)
                    .expect("every pattern parses");
                let mut matched = 0;
                for _ in 0..300 {
                    let mut bytes = b" ".to_vec();
                    sample(&hir, &mut rng, &mut bytes);
                    bytes.push(b' ');
                    let text = String::from_utf8_lossy(&bytes);
                    for m in re.find_iter(&text) {
                        matched += 1;
                        assert!(
                            need.met_by(longest_runs(m.as_str())),
                            "{} {:?} needs {need:?} in a row, yet matched {:?}",
                            spec.entity,
                            pat.name,
                            m.as_str()
                        );
                    }
                }
                if need != Needs::default() && matched > 0 {
                    gated += 1;
                }
                checked += matched;
            }
        }
        assert!(checked > 10_000, "too few matches generated: {checked}");
        assert!(gated > 100, "too few gated patterns exercised: {gated}");
    }
}
