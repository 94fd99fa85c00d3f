//! A Warden PII detector for two identifiers the built-in detector does not know:
//!
//! - `NZ_IRD`: New Zealand Inland Revenue numbers, 8 or 9 digits (`49-091-850`,
//!   `136-410-132`), valid only in the issued range and with a correct mod-11 check digit.
//! - `UK_NINO`: UK National Insurance numbers (`QQ 12 34 56 C`), with the prefix rules HMRC
//!   publishes (no D, F, I, Q, U or V first; no D, F, I, O, Q, U or V second; never BG, GB,
//!   KN, NK, NT, TN or ZZ).
//!
//! Both score higher when a cue word ("IRD", "national insurance", …) is near.

use std::sync::LazyLock;

use regex::Regex;
use warden_sdk::Error;
use warden_sdk::checksum;
use warden_sdk::context::ContextScorer;
use warden_sdk::pii::{DetectOptions, DetectorInfo, Finding, PiiDetector};
use warden_sdk::span::{Span, resolve_overlaps};

static IRD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\b(?:\d{2,3}[- ]?\d{3}[- ]?\d{3})\b").unwrap_or_else(|e| panic!("IRD: {e}"))
});
static NINO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
        .unwrap_or_else(|e| panic!("NINO: {e}"))
});
static IRD_CUES: LazyLock<ContextScorer> = LazyLock::new(|| {
    ContextScorer::new(["ird", "inland revenue", "tax number", "tax file"], 40, 0.3)
});
static NINO_CUES: LazyLock<ContextScorer> = LazyLock::new(|| {
    ContextScorer::new(
        ["national insurance", "nino", "ni number", "ni no"],
        40,
        0.25,
    )
});

/// The detector.
pub struct NzUkIds;

/// Whether `s` (digits with optional `-` or space) is a valid IRD number.
pub fn valid_ird(s: &str) -> bool {
    let Some(mut d) = checksum::digits(s) else {
        return false;
    };
    if d.len() == 8 {
        d.insert(0, 0);
    }
    if d.len() != 9 {
        return false;
    }
    let n = d.iter().fold(0u64, |a, &x| a * 10 + u64::from(x));
    if !(10_000_000..=150_000_000).contains(&n) {
        return false;
    }
    let body: String = d[1..8].iter().map(|x| char::from(b'0' + x)).collect();
    let body = format!("{}{body}", d[0]);
    let rule = |r: u32| Some(if r == 0 { 0 } else { 11 - r });
    let check = match checksum::mod11(&body, &[3, 2, 7, 6, 5, 4, 3, 2], rule) {
        Some(10) => checksum::mod11(&body, &[7, 4, 3, 2, 5, 2, 7, 6], rule),
        c => c,
    };
    check.is_some_and(|c| c < 10 && c == u32::from(d[8]))
}

/// Whether `s` is a National Insurance number HMRC could have issued.
pub fn valid_nino(s: &str) -> bool {
    let c: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if c.len() != 9 {
        return false;
    }
    let (a, b) = (c[0], c[1]);
    let bad_first = b"DFIQUV".contains(&a);
    let bad_second = b"DFIOQUV".contains(&b);
    let bad_prefix = [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"]
        .iter()
        .any(|p| p[..] == c[..2]);
    !(bad_first || bad_second || bad_prefix)
        && c[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&c[8])
}

impl PiiDetector for NzUkIds {
    fn describe() -> DetectorInfo {
        DetectorInfo::new(
            "nz-uk-ids",
            env!("CARGO_PKG_VERSION"),
            ["NZ_IRD", "UK_NINO"],
        )
    }

    fn detect(text: &str, options: &DetectOptions) -> Result<Vec<Finding>, Error> {
        let mut found = Vec::new();
        if options.wants("NZ_IRD") {
            for m in IRD.find_iter(text) {
                if valid_ird(m.as_str()) {
                    let span = Span::new(m.start(), m.end());
                    let score = IRD_CUES.score(text, span, 0.55);
                    let why = match IRD_CUES.cue(text, span) {
                        Some(w) => format!("IRD mod-11 check digit valid; cue word `{w}`"),
                        None => "IRD mod-11 check digit valid".to_owned(),
                    };
                    found.push(Finding::new("NZ_IRD", span.start, span.end, score).explained(why));
                }
            }
        }
        if options.wants("UK_NINO") {
            for m in NINO.find_iter(text) {
                if valid_nino(m.as_str()) {
                    let span = Span::new(m.start(), m.end());
                    let score = NINO_CUES.score(text, span, 0.6);
                    found.push(
                        Finding::new("UK_NINO", span.start, span.end, score)
                            .explained("NINO format and prefix rules"),
                    );
                }
            }
        }
        found.retain(|f| options.keeps(f.score));
        Ok(resolve_overlaps(found))
    }

    fn initialize() {
        // Compile the patterns now, while Warden pre-initialises: never on a call.
        LazyLock::force(&IRD);
        LazyLock::force(&NINO);
        LazyLock::force(&IRD_CUES);
        LazyLock::force(&NINO_CUES);
    }
}

warden_sdk::export_pii_detector!(NzUkIds);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ird_check_digits() {
        for ok in [
            "49091850",
            "49-091-850",
            "35901981",
            "49098576",
            "136410132",
            "136 410 132",
        ] {
            assert!(valid_ird(ok), "{ok}");
        }
        for bad in ["136410133", "9125568", "150000001", "49091851"] {
            assert!(!valid_ird(bad), "{bad}");
        }
    }

    #[test]
    fn nino_prefix_rules() {
        assert!(valid_nino("AB 12 34 56 C"));
        assert!(valid_nino("ab123456d"));
        assert!(!valid_nino("GB 12 34 56 A"));
        assert!(!valid_nino("DA 12 34 56 A"));
        assert!(!valid_nino("AO 12 34 56 A"));
        assert!(!valid_nino("AB 12 34 56 E"));
    }

    #[test]
    fn finds_both_with_context_and_filters() {
        let text = "My IRD number is 49-091-850 and my NI number is AB 12 34 56 C; order 12345678.";
        let all = NzUkIds::detect(text, &DetectOptions::default()).unwrap();
        let kinds: Vec<(&str, &str)> = all
            .iter()
            .map(|f| (f.entity_type.as_str(), &text[f.start..f.end]))
            .collect();
        assert_eq!(
            kinds,
            [("NZ_IRD", "49-091-850"), ("UK_NINO", "AB 12 34 56 C")]
        );
        assert!(all[0].score > 0.8, "{:?}", all[0]);
        let only = DetectOptions {
            entities: vec!["UK_NINO".into()],
            ..DetectOptions::default()
        };
        assert_eq!(NzUkIds::detect(text, &only).unwrap().len(), 1);
    }
}
