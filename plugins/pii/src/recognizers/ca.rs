//! Recognizers for Canada (ported from Presidio's predefined recognizers).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&SIN];

/// Social Insurance Number: nine digits from 1-7 or 9, Luhn-valid (Presidio
/// `CaSinRecognizer`). As in Presidio, passing Luhn keeps the pattern's score rather than
/// raising it: one nine-digit number in ten passes. Off by default for the same reason, and
/// because telephone numbers and TFNs are written `DDD DDD DDD` too.
static SIN: Spec = Spec {
    entity: EntityType::named("CA_SIN"),
    country: Some("CA"),
    kind: Kind::Pii,
    description: "A Canadian Social Insurance Number.",
    validation: "Luhn checksum",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "SIN (weak)",
            regex: r"\b[1-79]\d{8}\b",
            score: 0.05,
        },
        // Presidio writes the same separator twice with a back-reference.
        Pat {
            name: "SIN (medium)",
            regex: r"\b[1-79]\d{2}-\d{3}-\d{3}\b|\b[1-79]\d{2} \d{3} \d{3}\b",
            score: 0.5,
        },
    ],
    context: &[
        "sin",
        "sin number",
        "social insurance",
        "social insurance number",
        "canada",
        "nas",
        "numéro nas",
        "numéro d'assurance sociale",
        "assurance sociale",
    ],
    validate: Some(sin),
    around: None,
};

/// Drops a number that fails Luhn or repeats one digit; a Luhn-valid one keeps its score.
fn sin(m: &str) -> Check {
    let Some(d) = warden_sdk::checksum::digits(m) else {
        return Check::Invalid;
    };
    if d.len() != 9 || d.iter().all(|&x| x == d[0]) || !warden_sdk::checksum::luhn_digits(&d) {
        return Check::Invalid;
    }
    Check::Unknown
}

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;

    /// Presidio's `test_ca_sin_recognizer.py` cases: (text, spans, min, max). Two differ:
    /// Presidio scores the recognizer without context words, Warden applies them in the same
    /// pass, so `my SIN is ...` and `mon NAS: ...` score 0.85, not at most 0.81 ("context").
    #[test]
    fn presidio_sin_cases() {
        let cases: &[(&str, &[(usize, usize)], f32, f32)] = &[
            ("130 692 544", &[(0, 11)], 0.5, 0.81),
            ("435 418 165", &[(0, 11)], 0.5, 0.81),
            ("948 584 792", &[(0, 11)], 0.5, 0.81),
            ("347-677-452", &[(0, 11)], 0.5, 0.81),
            ("731-530-150", &[(0, 11)], 0.5, 0.81),
            ("130692544", &[(0, 9)], 0.0, 0.3),
            ("550090112", &[(0, 9)], 0.0, 0.3),
            ("my SIN is 130-692-544", &[(10, 21)], 0.85, 0.85), // context
            ("mon NAS: 258 933 688", &[(9, 20)], 0.85, 0.85),   // context
            ("130 692 545", &[], 0.0, 1.0),
            ("130692545", &[], 0.0, 1.0),
            ("435-418-166", &[], 0.0, 1.0),
            ("046 454 286", &[], 0.0, 1.0),
            ("812 345 678", &[], 0.0, 1.0),
            ("111 111 111", &[], 0.0, 1.0),
            ("999 999 999", &[], 0.0, 1.0),
            ("046-454 286", &[], 0.0, 1.0),
            ("046 454-286", &[], 0.0, 1.0),
            ("13069254", &[], 0.0, 1.0),
            ("1306925440", &[], 0.0, 1.0),
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("CA_SIN", text, spans, min, max);
        }
        // Warden's own: mixed separators with a valid first digit are not a SIN either.
        presidio_case("CA_SIN", "130-692 544", &[], 0.0, 1.0);
    }

    /// Off by default.
    #[test]
    fn off_by_default() {
        let found = crate::detect("SIN 130 692 544", &crate::DetectOptions::default());
        assert!(found.iter().all(|f| f.entity_type.as_str() != "CA_SIN"));
    }
}
