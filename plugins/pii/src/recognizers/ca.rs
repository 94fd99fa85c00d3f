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
    around: Some(sin_around),
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

/// Labels of other identifiers and of telephone numbers, for [`labelled_otherwise`].
const OTHER_LABELS: &[&str] = &[
    "tfn",
    "tax file",
    "abn",
    "medicare",
    "ssn",
    "social security",
    "phone",
    "mobile",
    "call",
    "called",
    "tel",
    "telephone",
    "fax",
];

/// Whether `start..end` is one group of a longer run of digit groups: `32 078 716 168` (an ABN)
/// holds a nine-digit `078 716 168`, and `+1-303-456-5178` (a telephone number) a ten-digit
/// `303-456-5178`; Presidio's `\b` lets both through.
fn part_of_longer_number(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let sep = |c: u8| matches!(c, b' ' | b'-' | b'.' | b'/');
    let before = start >= 2 && sep(b[start - 1]) && b[start - 2].is_ascii_digit();
    let after = end + 1 < b.len() && sep(b[end]) && b[end + 1].is_ascii_digit();
    before || after
}

/// Whether the nearest label around `start..end` names something else (one of `others`) rather
/// than this type (one of `own`): `TFN 877 800 630` is not an ACN, `Medicare 2807334369` not an
/// NHS number, `called from 0429472447` a telephone number.
fn labelled_otherwise(
    text: &str,
    start: usize,
    end: usize,
    own: &[&'static str],
    others: &[&'static str],
) -> bool {
    use super::{CONTEXT_AFTER, CONTEXT_BEFORE};
    let near =
        |words| crate::context::nearest(text, start, end, CONTEXT_BEFORE, CONTEXT_AFTER, words);
    match (near(others), near(own)) {
        (Some((_, other)), Some((_, mine))) => other < mine,
        (Some(_), None) => true,
        _ => false,
    }
}

/// A SIN candidate stands alone and is not labelled as another number.
fn sin_around(text: &str, start: usize, end: usize) -> bool {
    !part_of_longer_number(text, start, end)
        && !labelled_otherwise(text, start, end, SIN.context, OTHER_LABELS)
}

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;

    /// A ported case: text, expected spans, least and greatest score.
    type Case = (&'static str, &'static [(usize, usize)], f32, f32);

    /// Presidio's `test_ca_sin_recognizer.py` cases: (text, spans, min, max). Two differ:
    /// Presidio scores the recognizer without context words, Warden applies them in the same
    /// pass, so `my SIN is ...` and `mon NAS: ...` score 0.85, not at most 0.81 ("context").
    #[test]
    fn presidio_sin_cases() {
        let cases: &[Case] = &[
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

    /// Warden's own: a number labelled as a TFN, or inside an ABN, is not a SIN.
    #[test]
    fn not_part_of_other_numbers() {
        presidio_case("CA_SIN", "Her TFN is 471 257 790.", &[], 0.0, 1.0);
        presidio_case("CA_SIN", "ABN 26 496 331 190", &[], 0.0, 1.0);
        presidio_case(
            "CA_SIN",
            "SIN 130 692 544, TFN later",
            &[(4, 15)],
            0.85,
            0.85,
        );
    }
}
