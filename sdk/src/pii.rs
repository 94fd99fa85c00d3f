//! The `pii-detector` world: implement [`PiiDetector`], then `export_pii_detector!(YourType)`.
//!
//! Warden merges your findings with the built-in detector's and any other uploaded detector's
//! by score, so report only what you are sure of and score honestly. Offsets are UTF-8 byte
//! offsets into the text, on character boundaries, sorted and non-overlapping: Warden checks
//! this and fails the call (`guest_failure`) otherwise; [`crate::span::resolve_overlaps`] puts
//! any list into that shape.

use crate::Error;

/// What the detector is and what it finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectorInfo {
    /// A short stable name, such as `nz-ird`.
    pub name: String,
    /// The detector's own version (semver).
    pub version: String,
    /// Entity types it reports, such as `NZ_IRD`.
    pub entity_types: Vec<String>,
}

impl DetectorInfo {
    /// Info from a name, a version and the entity types.
    pub fn new<I, S>(name: &str, version: &str, entity_types: I) -> DetectorInfo
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        DetectorInfo {
            name: name.to_owned(),
            version: version.to_owned(),
            entity_types: entity_types.into_iter().map(Into::into).collect(),
        }
    }
}

/// Per-call options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetectOptions {
    /// Only report these entity types; empty means all.
    pub entities: Vec<String>,
    /// Drop findings scoring below this, if set.
    pub min_score: Option<f32>,
    /// Fill in [`Finding::explanation`].
    pub explain: bool,
    /// Language hint (BCP 47), if any.
    pub language: Option<String>,
}

impl DetectOptions {
    /// Whether `entity_type` is wanted by this call.
    pub fn wants(&self, entity_type: &str) -> bool {
        self.entities.is_empty() || self.entities.iter().any(|e| e == entity_type)
    }

    /// Whether a finding of `score` passes `min_score`.
    pub fn keeps(&self, score: f32) -> bool {
        self.min_score.is_none_or(|m| score >= m)
    }
}

/// One piece of personal data found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The entity type, one of [`DetectorInfo::entity_types`].
    pub entity_type: String,
    /// Start, in UTF-8 bytes (inclusive).
    pub start: usize,
    /// End, in UTF-8 bytes (exclusive).
    pub end: usize,
    /// Confidence from 0.0 to 1.0.
    pub score: f32,
    /// Why it was reported, when the call asked for explanations.
    pub explanation: Option<String>,
}

impl Finding {
    /// A finding without explanation.
    pub fn new(entity_type: &str, start: usize, end: usize, score: f32) -> Finding {
        Finding {
            entity_type: entity_type.to_owned(),
            start,
            end,
            score,
            explanation: None,
        }
    }

    /// The same finding with an explanation.
    pub fn explained(mut self, why: impl Into<String>) -> Finding {
        self.explanation = Some(why.into());
        self
    }
}

impl crate::span::Scored for Finding {
    fn span(&self) -> crate::span::Span {
        crate::span::Span::new(self.start, self.end)
    }
    fn score(&self) -> f32 {
        self.score
    }
}

/// One entity type a detector reports, and what it means (the `analyzer` catalogue).
#[derive(Debug, Clone, PartialEq)]
pub struct EntityInfo {
    /// The type's name, such as `DE_TAX_ID`.
    pub entity_type: String,
    /// ISO 3166-1 alpha-2 country, `None` for types found everywhere.
    pub country: Option<String>,
    /// `pii` for personal data, `secret` for credentials.
    pub kind: String,
    /// How a candidate is validated beyond its shape, or `none`.
    pub validation: String,
    /// Score of a match with no context word and no passed validation.
    pub default_score: f32,
    /// Whether it runs when the caller names neither entities nor countries.
    pub default_enabled: bool,
    /// One line for people choosing what to detect.
    pub description: String,
}

/// One regular expression of a caller's ad-hoc [`Recognizer`].
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// Shown in explanations.
    pub name: String,
    /// The expression.
    pub regex: String,
    /// Score of a match.
    pub score: f32,
}

/// A recognizer the caller supplies with a call: patterns and a deny-list for one type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recognizer {
    /// A name for explanations and errors.
    pub name: String,
    /// The entity type its matches are reported as.
    pub entity_type: String,
    /// Patterns with scores.
    pub patterns: Vec<Pattern>,
    /// Words or phrases always reported (case-insensitive, whole words).
    pub deny_list: Vec<String>,
    /// Score of a deny-list match (default 1.0).
    pub deny_list_score: Option<f32>,
    /// Words near a match that raise its score.
    pub context: Vec<String>,
}

/// The richer per-call options of [`Analyzer::analyze`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalyzeOptions {
    /// The options every detector gets.
    pub base: DetectOptions,
    /// With no entities: the defaults plus every type of these countries.
    pub countries: Vec<String>,
    /// Extra context words from the caller.
    pub context: Vec<String>,
    /// Ad-hoc recognizers to run besides the detector's own.
    pub recognizers: Vec<Recognizer>,
}

/// A detector that also exports the optional `analyzer` interface: Warden then calls
/// [`Analyzer::analyze`] instead of [`PiiDetector::detect`] and lists [`Analyzer::entities`]
/// in its catalogue. Export with [`crate::export_pii_analyzer!`] (feature `pii-analyzer`).
pub trait Analyzer: PiiDetector {
    /// Every entity type it reports, with what each means.
    fn entities() -> Vec<EntityInfo>;

    /// Finds personal data in `text` with the richer options.
    fn analyze(text: &str, options: &AnalyzeOptions) -> Result<Vec<Finding>, Error>;
}

/// A PII detector. Each call runs in a fresh instance, so there is no `self`: keep compiled
/// patterns in a `static` (`std::sync::LazyLock`) and touch them in [`PiiDetector::initialize`]
/// so they are built once, when Warden pre-initialises the component, not on every call.
pub trait PiiDetector {
    /// Describes the detector; cheap and the same every call.
    fn describe() -> DetectorInfo;

    /// Finds personal data in `text`.
    fn detect(text: &str, options: &DetectOptions) -> Result<Vec<Finding>, Error>;

    /// Runs once when Warden loads the component; its memory is snapshotted afterwards.
    fn initialize() {}
}

/// Exports a [`PiiDetector`] implementation as the component's `pii-detector` world (needs the
/// SDK's `pii-detector` feature; expands to nothing outside wasm32, so native tests build).
#[macro_export]
macro_rules! export_pii_detector {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct WardenExport;
            impl $crate::__bindings::exports::warden::plugin::detector::Guest for WardenExport {
                fn describe() -> $crate::__bindings::exports::warden::plugin::detector::DetectorInfo
                {
                    $crate::pii::__glue::describe::<$t>()
                }
                fn detect(
                    text: ::std::string::String,
                    options: $crate::__bindings::exports::warden::plugin::detector::DetectOptions,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::__bindings::exports::warden::plugin::detector::Finding>,
                    $crate::__bindings::warden::plugin::types::Error,
                > {
                    $crate::pii::__glue::detect::<$t>(text, options)
                }
            }
            impl $crate::__bindings::Guest for WardenExport {
                fn wizer_initialize() {
                    <$t as $crate::pii::PiiDetector>::initialize()
                }
            }
    $crate::__bindings::__warden_export!(WardenExport with_types_in $crate::__bindings);
        };
    };
}

/// Exports an [`Analyzer`] (which is also a [`PiiDetector`]) as the `pii-detector` world plus
/// the optional `analyzer` interface (needs the SDK's `pii-analyzer` feature).
#[macro_export]
macro_rules! export_pii_analyzer {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct WardenExport;
            impl $crate::__bindings::exports::warden::plugin::detector::Guest for WardenExport {
                fn describe() -> $crate::__bindings::exports::warden::plugin::detector::DetectorInfo
                {
                    $crate::pii::__glue::describe::<$t>()
                }
                fn detect(
                    text: ::std::string::String,
                    options: $crate::__bindings::exports::warden::plugin::detector::DetectOptions,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::__bindings::exports::warden::plugin::detector::Finding>,
                    $crate::__bindings::warden::plugin::types::Error,
                > {
                    $crate::pii::__glue::detect::<$t>(text, options)
                }
            }
            impl $crate::__bindings::exports::warden::plugin::analyzer::Guest for WardenExport {
                fn entities() -> ::std::vec::Vec<
                    $crate::__bindings::exports::warden::plugin::analyzer::EntityInfo,
                > {
                    $crate::pii::__glue::entities::<$t>()
                }
                fn analyze(
                    text: ::std::string::String,
                    options: $crate::__bindings::exports::warden::plugin::analyzer::AnalyzeOptions,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::__bindings::exports::warden::plugin::detector::Finding>,
                    $crate::__bindings::warden::plugin::types::Error,
                > {
                    $crate::pii::__glue::analyze::<$t>(text, options)
                }
            }
            impl $crate::__bindings::Guest for WardenExport {
                fn wizer_initialize() {
                    <$t as $crate::pii::PiiDetector>::initialize()
                }
            }
    $crate::__bindings::__warden_export!(WardenExport with_types_in $crate::__bindings);
        };
    };
}

/// What the export macro calls (wasm32 with the `pii-detector` feature only).
#[cfg(all(target_arch = "wasm32", feature = "pii-detector"))]
#[doc(hidden)]
pub mod __glue {
    use crate::__bindings::exports::warden::plugin::detector as w;
    use crate::__bindings::warden::plugin::types::Error as WireError;

    /// `describe`, converted.
    pub fn describe<T: super::PiiDetector>() -> w::DetectorInfo {
        let i = T::describe();
        w::DetectorInfo {
            name: i.name,
            version: i.version,
            entity_types: i.entity_types,
        }
    }

    /// `detect`, converted; an offset past 4 GiB (impossible in wasm32 memory) is a
    /// `guest-failure`, never a silently truncated span.
    pub fn detect<T: super::PiiDetector>(
        text: String,
        o: w::DetectOptions,
    ) -> Result<Vec<w::Finding>, WireError> {
        let options = super::DetectOptions {
            entities: o.entities,
            min_score: o.min_score,
            explain: o.explain,
            language: o.language,
        };
        let found = T::detect(&text, &options).map_err(WireError::from)?;
        findings(found, options.explain)
    }

    /// Findings converted to the wire; an offset past 4 GiB (impossible in wasm32 memory) is a
    /// `guest-failure`, never a silently truncated span.
    fn findings(found: Vec<super::Finding>, explain: bool) -> Result<Vec<w::Finding>, WireError> {
        let mut out = Vec::with_capacity(found.len());
        for f in found {
            // A component's memory (and so `text`) is below 4 GiB, so offsets fit.
            let (Ok(start), Ok(end)) = (u32::try_from(f.start), u32::try_from(f.end)) else {
                return Err(WireError::GuestFailure("offset beyond 4 GiB".to_owned()));
            };
            out.push(w::Finding {
                entity_type: f.entity_type,
                start,
                end,
                score: f.score,
                explanation: if explain { f.explanation } else { None },
            });
        }
        Ok(out)
    }

    /// `analyzer.entities`, converted.
    #[cfg(feature = "pii-analyzer")]
    pub fn entities<T: super::Analyzer>()
    -> Vec<crate::__bindings::exports::warden::plugin::analyzer::EntityInfo> {
        use crate::__bindings::exports::warden::plugin::analyzer as a;
        T::entities()
            .into_iter()
            .map(|e| a::EntityInfo {
                entity_type: e.entity_type,
                country: e.country,
                kind: e.kind,
                validation: e.validation,
                default_score: e.default_score,
                default_enabled: e.default_enabled,
                description: e.description,
            })
            .collect()
    }

    /// `analyzer.analyze`, converted.
    #[cfg(feature = "pii-analyzer")]
    pub fn analyze<T: super::Analyzer>(
        text: String,
        o: crate::__bindings::exports::warden::plugin::analyzer::AnalyzeOptions,
    ) -> Result<Vec<w::Finding>, WireError> {
        let options = super::AnalyzeOptions {
            base: super::DetectOptions {
                entities: o.entities,
                min_score: o.min_score,
                explain: o.explain,
                language: o.language,
            },
            countries: o.countries,
            context: o.context,
            recognizers: o
                .recognizers
                .into_iter()
                .map(|r| super::Recognizer {
                    name: r.name,
                    entity_type: r.entity_type,
                    patterns: r
                        .patterns
                        .into_iter()
                        .map(|p| super::Pattern {
                            name: p.name,
                            regex: p.regex,
                            score: p.score,
                        })
                        .collect(),
                    deny_list: r.deny_list,
                    deny_list_score: r.deny_list_score,
                    context: r.context,
                })
                .collect(),
        };
        let found = T::analyze(&text, &options).map_err(WireError::from)?;
        findings(found, options.base.explain)
    }
}
