//! Recognizers for Singapore (ported from Presidio's predefined recognizers: NRIC/FIN and UEN).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&NRIC_FIN, &UEN];

/// NRIC or FIN: a series letter, seven digits and a check letter (Presidio `SgFinRecognizer`,
/// which checks only the shape). Warden checks the letter (mod 11 over weights 2 7 6 5 4 3 2,
/// per series), so a match scores 1.0 or is dropped; on by default.
static NRIC_FIN: Spec = Spec {
    entity: EntityType::named("SG_NRIC_FIN"),
    country: Some("SG"),
    kind: Kind::Pii,
    description: "A Singapore NRIC or FIN (identity card / foreign identification number).",
    validation: "NRIC/FIN check letter (S, T, F, G and M series)",
    default_enabled: true,
    patterns: &[
        Pat {
            name: "Nric (weak)",
            regex: r"(?i)\b[A-Z][0-9]{7}[A-Z]\b",
            score: 0.3,
        },
        Pat {
            name: "Nric (medium)",
            regex: r"(?i)\b[STFGM][0-9]{7}[A-Z]\b",
            score: 0.5,
        },
    ],
    context: &[
        "fin",
        "fin#",
        "nric",
        "nric#",
        "nric number",
        "identity card",
        "ic number",
        "kad pengenalan",
        "身份证",
        "身份证号码",
    ],
    validate: Some(nric),
    around: None,
};

/// Unique Entity Number: ACRA's business (format A), local company (B) and other-entity (C)
/// formats, each with its check letter (Presidio `SgUenRecognizer`). On by default: every match
/// is checked.
static UEN: Spec = Spec {
    entity: EntityType::named("SG_UEN"),
    country: Some("SG"),
    kind: Kind::Pii,
    description: "A Singapore Unique Entity Number (businesses, companies, other entities).",
    validation: "UEN check letter (formats A, B and C) and entity type",
    default_enabled: true,
    patterns: &[Pat {
        name: "UEN (low)",
        regex: r"\b\d{8}[A-Z]\b|\b\d{9}[A-Z]\b|\b[TSR]\d{2}[A-Z]{2}\d{4}[A-Z]\b",
        score: 0.3,
    }],
    context: &[
        "uen",
        "unique entity number",
        "business registration",
        "acra",
        "company registration",
        "roc",
    ],
    validate: Some(uen),
    around: None,
};

/// The NRIC/FIN check letter: digits weighted 2 7 6 5 4 3 2, plus 4 for the T and G series and
/// 3 for M; the remainder mod 11 picks the letter from the series' table (the M table is read
/// from the end, as ICA's published algorithm does). Other series letters are not issued.
fn nric(m: &str) -> Check {
    let b: Vec<u8> = m.bytes().map(|c| c.to_ascii_uppercase()).collect();
    let [series, ref digits @ .., check] = b[..] else {
        return Check::Invalid;
    };
    if digits.len() != 7 {
        return Check::Invalid;
    }
    let mut sum: usize = digits
        .iter()
        .zip([2, 7, 6, 5, 4, 3, 2])
        .map(|(&d, w)| usize::from(d - b'0') * w)
        .sum();
    sum += match series {
        b'T' | b'G' => 4,
        b'M' => 3,
        _ => 0,
    };
    let r = sum % 11;
    let expected = match series {
        b'S' | b'T' => b"JZIHGFEDCBA"[r],
        b'F' | b'G' => b"XWUTRQPNMLK"[r],
        b'M' => b"KLJNPQRTUWX"[10 - r],
        _ => return Check::Invalid,
    };
    Check::from(check == expected)
}

/// ACRA's entity-type codes of format C (`T08LL0001A`: LL is a limited liability partnership).
const UEN_ENTITY_TYPES: &[&[u8; 2]] = &[
    b"LP", b"LL", b"FC", b"PF", b"RF", b"MQ", b"MM", b"NB", b"CC", b"CS", b"MB", b"FM", b"GS",
    b"DP", b"CP", b"NR", b"CM", b"CD", b"MD", b"HS", b"VH", b"CH", b"MH", b"CL", b"XL", b"CX",
    b"HC", b"RP", b"TU", b"TC", b"FB", b"FN", b"PA", b"PB", b"SS", b"MC", b"SM", b"GA", b"GB",
];

/// Checks a UEN by its length and first character: format A (eight digits and a letter),
/// B (a year and five digits, then a letter) or C (T/S/R for the century, two year digits, an
/// entity type, four digits, a letter).
///
/// Presidio also rejects a format B year after the current one; Warden has no clock (the
/// sandbox may deny it, and detection must be deterministic), so it bounds the year to
/// 1800-2099.
fn uen(m: &str) -> Check {
    let b = m.as_bytes();
    let ok = match b.len() {
        9 => uen_weighted(b, &[10, 4, 9, 3, 8, 2, 7, 1], b"XMKECAWLJDB"),
        10 if b[0].is_ascii_digit() => {
            let year = b[..4]
                .iter()
                .fold(0u32, |y, &d| y * 10 + u32::from(d - b'0'));
            (1800..=2099).contains(&year)
                && uen_weighted(b, &[10, 8, 6, 4, 9, 7, 5, 3, 1], b"ZKCMDNERGWH")
        }
        10 => uen_format_c(b),
        _ => false,
    };
    Check::from(ok)
}

/// Formats A and B: the digits before the check letter weighted by `weights`, the sum mod 11
/// indexing `letters`.
fn uen_weighted(b: &[u8], weights: &[u32], letters: &[u8; 11]) -> bool {
    let Some((&check, body)) = b.split_last() else {
        return false;
    };
    if body.len() != weights.len() || !body.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = body
        .iter()
        .zip(weights)
        .map(|(&d, &w)| u32::from(d - b'0') * w)
        .sum();
    usize::try_from(sum % 11).is_ok_and(|i| letters[i] == check)
}

/// Format C: a known entity type, then characters valued by their place in ACRA's alphabet,
/// weighted 4 3 5 3 10 2 2 5 7; (sum - 5) mod 11 indexes the alphabet for the check letter.
fn uen_format_c(b: &[u8]) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWX0123456789";
    if !matches!(b[0], b'T' | b'S' | b'R') || !UEN_ENTITY_TYPES.iter().any(|t| t[..] == b[3..5]) {
        return false;
    }
    let Some(values) = b[..9]
        .iter()
        .map(|c| ALPHABET.iter().position(|a| a == c))
        .collect::<Option<Vec<usize>>>()
    else {
        return false;
    };
    let sum: usize = values
        .iter()
        .zip([4, 3, 5, 3, 10, 2, 2, 5, 7])
        .map(|(v, w)| v * w)
        .sum();
    // (sum - 5) mod 11, kept non-negative.
    ALPHABET[(sum + 6) % 11] == b[9]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::presidio_case;

    /// A ported case: text, expected spans, least and greatest score.
    type Case = (&'static str, &'static [(usize, usize)], f32, f32);

    /// The types found in `text` with default options.
    fn by_default(text: &str) -> Vec<String> {
        crate::detect(text, &crate::DetectOptions::default())
            .into_iter()
            .map(|f| f.entity_type.to_string())
            .collect()
    }

    /// Presidio's `test_sg_fin_recognizer.py` cases: (text, spans, min, max). Warden differs
    /// in checking the check letter, which Presidio does not: a valid number scores 1.0 (not
    /// 0.5-0.8: "checked"); `T1234567Z` and `G1122144L` have wrong check letters and the
    /// A and B series are not issued, so those are dropped ("dropped", Presidio: found).
    #[test]
    fn presidio_fin_cases() {
        let cases: &[Case] = &[
            ("S2740116C", &[(0, 9)], 1.0, 1.0),                     // checked
            ("T1234567Z", &[], 0.0, 1.0),                           // dropped: check letter J
            ("F2346401L", &[(0, 9)], 1.0, 1.0),                     // checked
            ("G1122144L", &[], 0.0, 1.0),                           // dropped: check letter R
            ("M4332674T", &[(0, 9)], 1.0, 1.0),                     // checked
            ("S9108268C T7572225C", &[(0, 9), (10, 19)], 1.0, 1.0), // checked
            ("NRIC S2740116C was processed", &[(5, 14)], 1.0, 1.0), // checked
            ("A1234567Z", &[], 0.0, 1.0),                           // dropped: no A series
            ("B1234567Z", &[], 0.0, 1.0),                           // dropped: no B series
            ("PA12348L", &[], 0.0, 1.0),
            ("", &[], 0.0, 1.0),
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("SG_NRIC_FIN", text, spans, min, max);
        }
        // The two Presidio numbers with their right check letters, and each series.
        for ok in [
            "T1234567J",
            "G1122144R",
            "S1234567D",
            "F1234567N",
            "G1234567X",
            "M1234567K",
            "s1234567d",
        ] {
            presidio_case("SG_NRIC_FIN", ok, &[(0, 9)], 1.0, 1.0);
        }
        for bad in [
            "S1234567A",
            "T1234567D",
            "F1234567X",
            "G1234567N",
            "M1234567X",
        ] {
            presidio_case("SG_NRIC_FIN", bad, &[], 0.0, 1.0);
        }
    }

    /// Presidio's `test_sg_uen_recognizer.py` cases: (text, spans); valid ones score 1.0. All
    /// carry over.
    #[test]
    fn presidio_uen_cases() {
        let cases: &[(&str, &[(usize, usize)])] = &[
            ("53125226D", &[(0, 9)]),
            ("201434292D", &[(0, 10)]),
            ("T16RF0037C", &[(0, 10)]),
            ("S57TU0392K", &[(0, 10)]),
            ("R16RF0037F", &[(0, 10)]),
            (
                "53125226D 201434292D S57TU0392K",
                &[(0, 9), (10, 20), (21, 31)],
            ),
            ("UEN 53125226D was processed", &[(4, 13)]),
            ("53125226", &[]),
            ("", &[]),
        ];
        for &(text, spans) in cases {
            presidio_case("SG_UEN", text, spans, 1.0, 1.0);
        }
        // Warden's own: wrong check letters, an unknown entity type, an impossible year.
        for bad in [
            "53125226E",
            "201434292E",
            "T16ZZ0037C",
            "T16RF0037D",
            "290034292Z",
        ] {
            presidio_case("SG_UEN", bad, &[], 0.0, 1.0);
        }
    }

    /// On by default, and order numbers, dates and versions are not identifiers.
    #[test]
    fn on_by_default_without_false_alarms() {
        assert_eq!(by_default("NRIC S2740116C"), ["SG_NRIC_FIN"]);
        assert_eq!(by_default("UEN 201434292D"), ["SG_UEN"]);
        for no in [
            "order S1234567A shipped",
            "ticket 20240315A",
            "invoice 12345678X",
            "version 1.2.3, build A1234567Z, on 2024-03-02",
        ] {
            assert!(by_default(no).is_empty(), "{no}: {:?}", by_default(no));
        }
    }

    /// The format C check on its own (ACRA's example T08LL0001, check letter K).
    #[test]
    fn format_c() {
        assert!(uen_format_c(b"T08LL0001K"));
        assert!(uen_format_c(b"S57TU0392K"));
        assert!(!uen_format_c(b"T08LL0001A"));
        assert!(!uen_format_c(b"A57TU0392K"));
    }
}
