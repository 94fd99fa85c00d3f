//! Recognizers for the Philippines (ported from Presidio's `country_specific/philippines`).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&TIN];

/// Taxpayer Identification Number: `XXX-XXX-XXX` and an optional three-digit branch code,
/// the ninth digit a weighted mod 11 check (Presidio `PhTinRecognizer`). Presidio only
/// invalidates with the check (a passing number keeps its low score), and so does Warden:
/// the check is not documented by the BIR. Presidio's 0.05 and 0.01 cannot reach the
/// default threshold even beside "TIN", so Warden scores the grouped form 0.25 and bare
/// digits 0.2: alone they stay under 0.5, beside a context word they are reported. Off by
/// default.
static TIN: Spec = Spec {
    entity: EntityType::named("PH_TIN"),
    country: Some("PH"),
    kind: Kind::Pii,
    description: "A Philippine Taxpayer Identification Number (TIN).",
    validation: "weighted mod 11 check digit (refuses only)",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "TIN (grouped)",
            regex: r"\b\d{3}-\d{3}-\d{3}(?:-\d{3})?\b",
            score: 0.25,
        },
        Pat {
            name: "TIN (digits)",
            regex: r"\b(?:\d{9}|\d{12})\b",
            score: 0.2,
        },
    ],
    context: &[
        "tin",
        "tin no",
        "tin number",
        "taxpayer identification number",
        "taxpayer id",
        "tax identification number",
        "tax id",
        "bir",
        "rdo",
        "revenue district office",
    ],
    validate: Some(tin),
    around: None,
};

/// TIN: nine or twelve digits whose ninth is `Σ dᵢ·(9 − i) mod 11` over the first eight
/// (weights 9..2); a remainder of 10 matches no digit. A passing number cannot be told
/// from chance (one in eleven), so it keeps its score.
fn tin(m: &str) -> Check {
    let Some(d) = warden_sdk::checksum::digits(m).filter(|d| d.len() == 9 || d.len() == 12) else {
        return Check::Invalid;
    };
    let sum: u32 = d[..8]
        .iter()
        .zip((2..=9).rev())
        .map(|(&x, w)| u32::from(x) * w)
        .sum();
    if sum % 11 == u32::from(d[8]) {
        Check::Unknown
    } else {
        Check::Invalid
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;
    use crate::{DetectOptions, detect};

    /// Presidio's `test_ph_tin_recognizer.py`. Spans and the "no match" cases are Presidio's;
    /// scores differ by design: Warden scores the grouped form 0.25 and bare digits 0.2
    /// (Presidio 0.05 and 0.01), and adds 0.35 beside a context word ("TIN", "Tax ID",
    /// "BIR"), which Presidio's raw recognizer test does not apply.
    #[test]
    fn presidio_cases() {
        for (text, spans, score) in [
            ("My TIN is 000-123-456-000", &[(10, 25)][..], 0.6),
            ("TIN: 000123456", &[(5, 14)], 0.55),
            ("BIR TIN: 000123456000", &[(9, 21)], 0.55),
            ("Tax ID: 000-123-456-001", &[(8, 23)], 0.6),
            ("TIN 000-123-456", &[(4, 15)], 0.6),
            ("Invalid TIN 000-123-457-000", &[], 0.0),
            ("Not a TIN 123456789", &[], 0.0),
            ("Invalid TIN 600-000-000", &[], 0.0),
            ("TIN: 000-123-456-000", &[(5, 20)], 0.6),
            ("Please use 000-123-456-000 as your ID", &[(11, 26)], 0.25),
        ] {
            presidio_case("PH_TIN", text, spans, score, score);
        }
    }

    /// Hard negatives: off by default; when asked for, a failing check digit is refused.
    #[test]
    fn hard_negatives() {
        for text in [
            "order 000-123-456-000 shipped",
            "due 2024-03-02, version 1.2.3",
            "hash 8d35e59 ref 000123456",
        ] {
            let found = detect(text, &DetectOptions::default());
            assert!(
                found.iter().all(|f| f.entity_type.as_str() != "PH_TIN"),
                "{text}: {found:?}"
            );
        }
        presidio_case("PH_TIN", "order 123-456-789 shipped", &[], 0.0, 0.0);
    }
}
