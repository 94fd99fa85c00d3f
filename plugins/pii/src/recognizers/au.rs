//! Recognizers for Australia (ported from Presidio's predefined recognizers). The TFN, ABN and
//! Medicare recognizers are hand-written elsewhere (`patterns`); this table adds the ACN.

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&ACN];

/// Australian Company Number: nine digits, the last a modulus 10 check digit (Presidio
/// `AuAcnRecognizer`). Off by default: one nine-digit number in ten passes, and TFNs are
/// written the same way (`123 456 782`), so on by default it would take TFNs whose digits
/// happen to pass both checks.
static ACN: Spec = Spec {
    entity: EntityType::named("AU_ACN"),
    country: Some("AU"),
    kind: Kind::Pii,
    description: "An Australian Company Number.",
    validation: "ASIC modulus 10 check digit",
    default_enabled: false,
    patterns: &[
        // Presidio separates the groups with `\s`; a line break inside a number is not how
        // an ACN is written, so Warden takes a space only.
        Pat {
            name: "ACN (Medium)",
            regex: r"\b\d{3} \d{3} \d{3}\b",
            score: 0.1,
        },
        Pat {
            name: "ACN (Low)",
            regex: r"\b\d{9}\b",
            score: 0.01,
        },
    ],
    context: &["australian company number", "acn", "company number"],
    validate: Some(acn),
    around: Some(acn_around),
};

/// ASIC's check: weights 8..1 over the first eight digits; the ninth is the complement of the
/// sum modulo 10 (0 when the sum is a multiple of 10).
fn acn(m: &str) -> Check {
    let Some(d) = warden_sdk::checksum::digits(m) else {
        return Check::Invalid;
    };
    let Some((&check, body)) = d.split_last() else {
        return Check::Invalid;
    };
    if body.len() != 8 {
        return Check::Invalid;
    }
    let sum: u32 = body
        .iter()
        .zip((1..=8).rev())
        .map(|(&x, w)| u32::from(x) * w)
        .sum();
    Check::from((10 - sum % 10) % 10 == u32::from(check))
}

/// Labels of other identifiers and of telephone numbers, for [`labelled_otherwise`].
const OTHER_LABELS: &[&str] = &[
    "tfn",
    "tax file",
    "abn",
    "medicare",
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

/// An ACN candidate stands alone and is not labelled as another number.
fn acn_around(text: &str, start: usize, end: usize) -> bool {
    !part_of_longer_number(text, start, end)
        && !labelled_otherwise(text, start, end, ACN.context, OTHER_LABELS)
}

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;

    /// Presidio's `test_au_acn_recognizer.py` cases: (text, spans); valid ones score 1.0. All
    /// carry over.
    #[test]
    fn presidio_acn_cases() {
        let cases: &[(&str, &[(usize, usize)])] = &[
            ("000 000 019", &[(0, 11)]),
            ("005 499 981", &[(0, 11)]),
            ("006249976", &[(0, 9)]),
            ("000000180", &[(0, 9)]),
            ("824 753 557", &[]),
            ("824753557", &[]),
            ("5282475355632", &[]),
            ("52824753556AF", &[]),
            ("51 824 753 5564", &[]),
            ("123 456\n789", &[]),
        ];
        for &(text, spans) in cases {
            presidio_case("AU_ACN", text, spans, 1.0, 1.0);
        }
    }

    /// Off by default: a checksum-valid ACN, or a TFN-shaped order number, is not reported
    /// unless the caller asks for AU_ACN or Australia.
    #[test]
    fn off_by_default() {
        let found = crate::detect("ACN 005 499 981", &crate::DetectOptions::default());
        assert!(found.iter().all(|f| f.entity_type.as_str() != "AU_ACN"));
        let opts = crate::DetectOptions::from_wire(&[] as &[&str], &["AU"], None, false).unwrap();
        let found = crate::detect("ACN 005 499 981", &opts);
        assert!(found.iter().any(|f| f.entity_type.as_str() == "AU_ACN"));
    }

    /// Warden's own: a group of a longer number (an ABN, a telephone number) and a number
    /// labelled as a TFN are not ACNs (Presidio reports all three).
    #[test]
    fn not_part_of_other_numbers() {
        presidio_case("AU_ACN", "my ABN is 32 078 716 168", &[], 0.0, 1.0);
        presidio_case("AU_ACN", "called from +61 427 839 585", &[], 0.0, 1.0);
        presidio_case("AU_ACN", "supplied TFN 877 800 630 today", &[], 0.0, 1.0);
        presidio_case("AU_ACN", "ACN 005 499 981", &[(4, 15)], 1.0, 1.0);
    }
}
