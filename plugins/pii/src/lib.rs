//! Warden's built-in PII detector: finds personal data in prompts with patterns, checksums,
//! context words and a name gazetteer, so it runs anywhere (natively or as a component) with
//! no model download.
//!
//! [`detect`] runs every recognizer, drops findings under the minimum score, then resolves
//! overlaps (higher score wins, then the longer span), so findings never overlap and are
//! sorted by start. Offsets are UTF-8 byte offsets on character boundaries.
//!
//! Recognizers run on a normalised view of the text (invisible and format characters removed,
//! fullwidth forms and Unicode spaces folded; see `normalise`), so PII disguised with them is
//! still found; offsets always refer to the original text.

mod adhoc;
mod checksum;
mod context;
mod entity;
mod normalise;
mod patterns;
mod person;
mod plans;
mod recognizers;

use warden_sdk::InputError;
use warden_sdk::pii::PiiDetector;
use warden_sdk::span::{Scored, Span};

/// The detector's stable name.
pub const NAME: &str = "builtin-pii";
/// The detector's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Minimum score of a reported finding unless the caller asks otherwise.
pub const DEFAULT_MIN_SCORE: f32 = 0.5;

pub use adhoc::AdHoc;
pub use entity::{EntityInfo, EntityType, Kind, catalogue};

/// What this detector is and what it can find: the SDK's description.
pub use warden_sdk::pii::DetectorInfo;

/// Describes the detector.
pub fn describe() -> DetectorInfo {
    DetectorInfo::new(NAME, VERSION, EntityType::all().map(|e| e.as_str()))
}

/// Per-call options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetectOptions {
    /// Only report these types; empty means the defaults for `countries`.
    pub entities: Vec<EntityType>,
    /// With no `entities`: run the types found everywhere that are on by default, plus every
    /// type of these countries (ISO 3166-1 alpha-2, upper case). Empty means the defaults.
    pub countries: Vec<&'static str>,
    /// Drop findings scoring below this (default [`DEFAULT_MIN_SCORE`]).
    pub min_score: Option<f32>,
    /// Fill in [`Finding::explanation`].
    pub explain: bool,
    /// The caller's context words (lower case): a candidate near one scores higher.
    pub context: Vec<String>,
    /// The caller's recognizers, compiled ([`adhoc::compile`]).
    pub recognizers: Vec<AdHoc>,
}

/// The [`InputError::kind`] of options the detector rejects.
pub const OPTION_KIND: &str = "option";

impl DetectOptions {
    /// Builds options from wire values, rejecting unknown entity names, unknown countries and
    /// a minimum score outside 0.0..=1.0 (or NaN) with an input error of kind [`OPTION_KIND`].
    pub fn from_wire<S: AsRef<str>, C: AsRef<str>>(
        entities: &[S],
        countries: &[C],
        min_score: Option<f32>,
        explain: bool,
    ) -> Result<DetectOptions, InputError> {
        let invalid = |message: String| InputError {
            kind: OPTION_KIND.to_owned(),
            message,
            position: None,
        };
        let mut list = Vec::with_capacity(entities.len());
        for name in entities {
            let name = name.as_ref();
            let Some(e) = EntityType::parse(name) else {
                let known: Vec<&str> = EntityType::all().map(|e| e.as_str()).collect();
                return Err(invalid(format!(
                    "unknown entity type {name}; known: {}",
                    known.join(", ")
                )));
            };
            if !list.contains(&e) {
                list.push(e);
            }
        }
        let mut codes: Vec<&'static str> = Vec::with_capacity(countries.len());
        for code in countries {
            let code = code.as_ref();
            let Some(known) = catalogue()
                .iter()
                .filter_map(|i| i.country)
                .find(|c| c.eq_ignore_ascii_case(code))
            else {
                let mut known: Vec<&str> = catalogue().iter().filter_map(|i| i.country).collect();
                known.sort_unstable();
                known.dedup();
                return Err(invalid(format!(
                    "no entity types for country {code}; known: {}",
                    known.join(", ")
                )));
            };
            if !codes.contains(&known) {
                codes.push(known);
            }
        }
        if let Some(s) = min_score
            && !(0.0..=1.0).contains(&s)
        {
            return Err(invalid(format!(
                "min-score must be between 0.0 and 1.0, got {s}"
            )));
        }
        Ok(DetectOptions {
            entities: list,
            countries: codes,
            min_score,
            explain,
            context: Vec::new(),
            recognizers: Vec::new(),
        })
    }

    /// Whether this call runs the recognizers of `e`.
    pub fn wants(&self, e: EntityType) -> bool {
        if !self.entities.is_empty() {
            return self.entities.contains(&e);
        }
        // A type outside the catalogue is a caller's recognizer's: it runs unless excluded.
        let Some(info) = e.info() else { return true };
        match info.country {
            Some(c) if !self.countries.is_empty() => self.countries.contains(&c),
            _ => info.default_enabled,
        }
    }
}

/// One piece of personal data found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The entity type.
    pub entity_type: EntityType,
    /// Start, in UTF-8 bytes (inclusive), on a character boundary.
    pub start: usize,
    /// End, in UTF-8 bytes (exclusive), on a character boundary.
    pub end: usize,
    /// Confidence from 0.0 to 1.0.
    pub score: f32,
    /// Why it was reported, when [`DetectOptions::explain`] was set.
    pub explanation: Option<String>,
}

/// The reasons behind a candidate, turned into text only when asked for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Why {
    /// The pattern or recognizer that proposed it.
    pattern: &'static str,
    /// The checksum or rule it passed.
    check: Option<&'static str>,
    /// The context word that changed its score.
    context: Option<&'static str>,
}

impl Why {
    /// Reason with just the proposing pattern.
    pub(crate) fn pattern(pattern: &'static str) -> Why {
        Why {
            pattern,
            check: None,
            context: None,
        }
    }
    /// Adds the validation it passed.
    pub(crate) fn check(self, check: &'static str) -> Why {
        Why {
            check: Some(check),
            ..self
        }
    }
    /// Adds the context word that changed the score.
    pub(crate) fn context(self, word: &'static str) -> Why {
        Why {
            context: Some(word),
            ..self
        }
    }
    fn text(&self) -> String {
        let mut s = format!("pattern: {}", self.pattern);
        if let Some(c) = self.check {
            s.push_str("; valid: ");
            s.push_str(c);
        }
        if let Some(c) = self.context {
            s.push_str("; context: \"");
            s.push_str(c);
            s.push('"');
        }
        s
    }
}

/// A proposed finding before filtering and overlap resolution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub(crate) entity: EntityType,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) score: f32,
    pub(crate) why: Why,
}

impl Scored for Candidate {
    fn span(&self) -> Span {
        // Field by field: `Span::new` would swap a reversed span instead of letting
        // `Span::fits` refuse it.
        Span {
            start: self.start,
            end: self.end,
        }
    }
    fn score(&self) -> f32 {
        self.score
    }
}

/// Compiles every regex and loads every table, so that no later call pays for it.
pub fn warm() {
    patterns::warm();
    recognizers::warm();
    person::warm();
    // Run every recognizer once over text that exercises it, so the regex engines' lazily
    // built automata and caches already exist in a pre-initialised snapshot.
    let opts = DetectOptions {
        explain: true,
        ..DetectOptions::default()
    };
    let _ = detect(WARM_TEXT, &opts);
    let _ = detect(&WARM_TEXT.to_ascii_lowercase(), &opts);
    // The regex engines build their automata lazily, state by state, as text drives them; a
    // fresh instance starts from the snapshot's states, so every state built here is one that
    // no call builds again. Shapes rather than examples: numbers of every length with each
    // separator, words in each case, mixed letters and digits, punctuation.
    for line in warm_shapes() {
        let _ = detect(&line, &opts);
    }
    // What a pseudonymised text looks like (the OpenAI gateway re-checks the request body it
    // is about to send): placeholders named after the entity types, whose words (`phone`,
    // `number`, `address`) are context words, inside prose and inside JSON.
    let placeholders: Vec<String> = catalogue()
        .iter()
        .map(|e| format!("<{0}_1> or <{0}>", e.entity))
        .collect();
    for group in placeholders.chunks(8) {
        let prose = format!("Please call me back at {}. Thanks!", group.join(", "));
        let _ = detect(&prose, &opts);
        let json = format!(
            "{{\"messages\":[{{\"content\":\"{prose}\",\"role\":\"user\"}}],\"model\":\"m\"}}"
        );
        let _ = detect(&json, &opts);
    }
}

/// Lines of text covering the shapes prompts are made of, for [`warm`].
fn warm_shapes() -> Vec<String> {
    const DIGITS: &str = "4839205716483920571648392057";
    let mut lines = Vec::new();
    for n in 1..=24 {
        let run = &DIGITS[..n];
        let mut line = format!("no {run} no, #{run}. ({run}) +{run} {run}x x{run} {run}");
        for sep in [" ", "-", ".", "/", ":", ","] {
            let grouped: Vec<&str> = [3, 2, 4, 4, 3]
                .iter()
                .scan(0, |at, len| {
                    let start = *at;
                    *at = (start + len).min(n);
                    Some(&run[start.min(n)..*at])
                })
                .filter(|g| !g.is_empty())
                .collect();
            line.push_str(&format!(" ref {} ok", grouped.join(sep)));
        }
        lines.push(line);
    }
    lines.push(
        "The quick brown Fox, JUMPS over the lazy dog! Is it (really) [so]? \"Yes\" - 'no'; \
         id=AB12CD34 key: deadbeef0123 v2.1.0 on 12/03/2024 at 10:45 user_name x-y_z A1 b2 \
         C3PO R2D2 token abcDEF123ghiJKL456mnoPQR789 #tag @handle 50% $20 & more... * ~ ^ | \\"
            .to_owned(),
    );
    lines
}

/// Text touching every recognizer, used only by [`warm`].
const WARM_TEXT: &str = "Hi team, my name is Mario L. Diaz (mario.diaz@example.com, +44 (0)7918 362361, \
(212) 555-0199, 0412 345 678, +61 2 9374 4000). Card 4111 1111 1111 1111 and 5555-5555-5555-4444, \
IBAN GB82 WEST 1234 5698 7654 32, TFN 123 456 782, ABN 51 824 753 556, Medicare 2123 45670 1, \
SSN 536-22-1234, from 203.0.113.42 and 2001:db8::8a2e:370:7334 via https://portal.example.com/t?id=1. \
Release 7.4.4.16 shipped on 2024-03-02 at 14:30 for $1,249.99, order #3926030. Thanks, Renee Johnson.";

/// Finds personal data in `text`: sorted by start, never overlapping.
pub fn detect(text: &str, opts: &DetectOptions) -> Vec<Finding> {
    detect_planned(text, opts, &Plan::new(opts))
}

/// What a call's options decide once for any number of texts: which recognizer tables run.
/// Worked out per call rather than per text, because asking [`DetectOptions::wants`] of ~160
/// tables costs as much as scanning a short prompt.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Per table (in `recognizers::all` order): whether it runs.
    tables: Vec<bool>,
    /// Whether any type of the secrets scan runs.
    secrets: bool,
}

impl Plan {
    /// The plan of `opts`.
    pub fn new(opts: &DetectOptions) -> Plan {
        let want = |e: EntityType| opts.wants(e);
        Plan {
            tables: recognizers::all().map(|s| want(s.entity)).collect(),
            secrets: recognizers::secrets_wanted(&want),
        }
    }
}

/// [`detect`] with the plan of `opts` worked out already ([`Plan::new`]).
pub fn detect_planned(text: &str, opts: &DetectOptions, plan: &Plan) -> Vec<Finding> {
    let Some(norm) = normalise::Normalised::of(text) else {
        return detect_plain(text, opts, plan);
    };
    let mut out: Vec<Finding> = Vec::new();
    for mut f in detect_plain(norm.text(), opts, plan) {
        let Some((start, end)) = norm.original_span(f.start, f.end) else {
            continue;
        };
        // The mapping is monotonic, so order and disjointness carry over; checked anyway
        // because callers redact by these offsets.
        let disjoint = out.last().is_none_or(|p| p.end <= start);
        if disjoint && text.is_char_boundary(start) && text.is_char_boundary(end) {
            f.start = start;
            f.end = end;
            out.push(f);
        }
    }
    out
}

/// [`detect`] on text that needs no normalisation (or already is normalised).
fn detect_plain(text: &str, opts: &DetectOptions, plan: &Plan) -> Vec<Finding> {
    let want = |e: EntityType| opts.wants(e);
    let min = match opts.min_score {
        Some(s) if s.is_finite() => s.clamp(0.0, 1.0),
        _ => DEFAULT_MIN_SCORE,
    };
    let mut cands = Vec::new();
    patterns::scan(text, want, &opts.countries, &mut cands);
    recognizers::scan(text, &plan.tables, plan.secrets, &want, &mut cands);
    if want(EntityType::PERSON) {
        person::scan(text, &mut cands);
    }
    adhoc::scan(text, &opts.recognizers, &want, &mut cands);
    if !opts.context.is_empty() {
        for c in cands.iter_mut().filter(|c| c.score < 1.0) {
            if context::nearest_owned(text, c.start, c.end, &opts.context).is_some() {
                c.score = recognizers::boosted(c.score);
                c.why = c.why.context("caller's context word");
            }
        }
    }
    cands.retain(|c| c.score >= min && c.span().fits(text));
    // Highest score first, then the longer span, then the earlier one; sorted by start.
    let kept = warden_sdk::span::resolve_overlaps(cands);
    kept.into_iter()
        .map(|c| Finding {
            entity_type: c.entity,
            start: c.start,
            end: c.end,
            score: c.score,
            explanation: opts.explain.then(|| c.why.text()),
        })
        .collect()
}

/// The built-in as the SDK's [`PiiDetector`]: what the component exports (through
/// [`warden_sdk::export_pii_detector!`]). The `language` hint is ignored: the patterns and the
/// gazetteer are the same for every language.
pub struct Builtin;

impl PiiDetector for Builtin {
    fn describe() -> DetectorInfo {
        describe()
    }

    fn detect(
        text: &str,
        options: &warden_sdk::pii::DetectOptions,
    ) -> Result<Vec<warden_sdk::pii::Finding>, warden_sdk::Error> {
        let wire_options = warden_sdk::pii::AnalyzeOptions {
            base: options.clone(),
            ..Default::default()
        };
        prepared(&wire_options, |o| {
            let no_countries: [String; 0] = [];
            Ok(DetectOptions::from_wire(
                &o.base.entities,
                &no_countries,
                o.base.min_score,
                o.base.explain,
            )?)
        })
        .map(|p| wire(detect_planned(text, &p.opts, &p.plan)))
    }

    fn initialize() {
        warm();
    }
}

impl warden_sdk::pii::Analyzer for Builtin {
    fn entities() -> Vec<warden_sdk::pii::EntityInfo> {
        catalogue()
            .iter()
            .map(|i| warden_sdk::pii::EntityInfo {
                entity_type: i.entity.as_str().to_owned(),
                country: i.country.map(str::to_owned),
                kind: i.kind.as_str().to_owned(),
                validation: i.validation.to_owned(),
                default_score: i.default_score,
                default_enabled: i.default_enabled,
                description: i.description.to_owned(),
            })
            .collect()
    }

    fn analyze(
        text: &str,
        options: &warden_sdk::pii::AnalyzeOptions,
    ) -> Result<Vec<warden_sdk::pii::Finding>, warden_sdk::Error> {
        prepared(options, analyze_options).map(|p| wire(detect_planned(text, &p.opts, &p.plan)))
    }
}

/// Options and plan resolved from one call's wire options.
struct Prepared {
    opts: DetectOptions,
    plan: Plan,
}

/// The options and plan of `wire` (built by `resolve`), kept from the previous call when it
/// had the same options: a batch sends the same options with every text, and resolving them
/// (entity names, countries, compiling the caller's recognizers) costs more than a short text.
fn prepared(
    wire: &warden_sdk::pii::AnalyzeOptions,
    resolve: impl FnOnce(&warden_sdk::pii::AnalyzeOptions) -> Result<DetectOptions, warden_sdk::Error>,
) -> Result<std::rc::Rc<Prepared>, warden_sdk::Error> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(warden_sdk::pii::AnalyzeOptions, std::rc::Rc<Prepared>)>> =
            const { std::cell::RefCell::new(None) };
    }
    if let Some(hit) = LAST.with_borrow(|last| {
        last.as_ref()
            .filter(|(w, _)| w == wire)
            .map(|(_, p)| p.clone())
    }) {
        return Ok(hit);
    }
    let opts = resolve(wire)?;
    let plan = Plan::new(&opts);
    let p = std::rc::Rc::new(Prepared { opts, plan });
    LAST.set(Some((wire.clone(), p.clone())));
    Ok(p)
}

/// The detector's options from the analyzer's wire options.
fn analyze_options(
    options: &warden_sdk::pii::AnalyzeOptions,
) -> Result<DetectOptions, warden_sdk::Error> {
    let base = &options.base;
    let recognizers = adhoc::compile(&options.recognizers)?;
    // Entities may name the caller's own recognizers' types as well as the catalogue's.
    let (own, listed): (Vec<&String>, Vec<&String>) = base
        .entities
        .iter()
        .partition(|e| recognizers.iter().any(|r| r.entity.as_str() == e.as_str()));
    let mut opts =
        DetectOptions::from_wire(&listed, &options.countries, base.min_score, base.explain)?;
    if listed.is_empty() && !own.is_empty() {
        // Only the caller's types were asked for: none of the built-in recognizers runs.
        opts.entities = own
            .iter()
            .filter_map(|e| recognizers.iter().find(|r| r.entity.as_str() == e.as_str()))
            .map(|r| r.entity)
            .collect();
    } else if !listed.is_empty() {
        opts.entities.extend(
            own.iter()
                .filter_map(|e| recognizers.iter().find(|r| r.entity.as_str() == e.as_str()))
                .map(|r| r.entity),
        );
    }
    opts.context = options.context.iter().map(|w| w.to_lowercase()).collect();
    opts.recognizers = recognizers;
    Ok(opts)
}

/// Findings as the SDK's.
fn wire(found: Vec<Finding>) -> Vec<warden_sdk::pii::Finding> {
    found
        .into_iter()
        .map(|f| warden_sdk::pii::Finding {
            entity_type: f.entity_type.as_str().to_owned(),
            start: f.start,
            end: f.end,
            score: f.score,
            explanation: f.explanation,
        })
        .collect()
}

// Only for the component target: the same logic also builds as a core module (the Extism
// comparison in bench/extism), where the component glue has no place.
#[cfg(all(target_arch = "wasm32", target_env = "p2"))]
warden_sdk::export_pii_analyzer!(Builtin);

#[cfg(test)]
mod tests;
