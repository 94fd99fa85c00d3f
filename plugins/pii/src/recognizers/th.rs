//! Recognizers for Thailand (ported from Presidio's `country_specific/thai`).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&TNIN];

/// National identification number: thirteen digits, the first not 0, the second and third
/// an assigned province code, the last a mod 11 check digit (Presidio `ThTninRecognizer`).
/// Off by default: one check digit in eleven, and millisecond timestamps of this decade
/// (`17…`, province code 70-77) have exactly this shape.
static TNIN: Spec = Spec {
    entity: EntityType::named("TH_TNIN"),
    country: Some("TH"),
    kind: Kind::Pii,
    description: "A Thai national identification number (เลขประจำตัวประชาชน).",
    validation: "province code; mod 11 check digit",
    default_enabled: false,
    patterns: &[Pat {
        name: "TNIN (medium)",
        regex: r"\b[1-9](?:[134]\d|2[0-7]|5[0-8]|[67][0-7]|[89][0-6])\d{10}\b",
        score: 0.5,
    }],
    context: &[
        "thai national id",
        "thai id number",
        "thai id",
        "tnin",
        "national id",
        "เลขประจำตัวประชาชน",
        "เลขบัตรประชาชน",
        "บัตรประชาชน",
        "รหัสปชช",
    ],
    validate: Some(tnin),
    around: None,
};

/// TNIN check digit: `S = Σ dᵢ·(13 - i)` over the first twelve digits, check `(11 - S mod 11)
/// mod 10`.
fn tnin(m: &str) -> Check {
    if m.len() != 13 || !m.bytes().all(|c| c.is_ascii_digit()) {
        return Check::Invalid;
    }
    let d: Vec<u32> = m.bytes().map(|c| u32::from(c - b'0')).collect();
    let sum: u32 = d[..12]
        .iter()
        .zip((2..=13).rev())
        .map(|(&x, w)| x * w)
        .sum();
    Check::from((11 - sum % 11) % 10 == d[12])
}

#[cfg(test)]
mod tests {
    use super::{Check, tnin};
    use crate::tests::presidio_case;
    use crate::{DetectOptions, EntityType, detect};

    /// [`presidio_case`] with Presidio's character offsets, converted to byte offsets.
    fn case(text: &str, spans: &[(usize, usize)], min: f32, max: f32) {
        let byte = |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
        let spans: Vec<(usize, usize)> = spans.iter().map(|&(s, e)| (byte(s), byte(e))).collect();
        presidio_case("TH_TNIN", text, &spans, min, max);
    }

    /// Presidio's `test_th_tnin_recognizer.py`: every case as Presidio expects it (a valid
    /// number scores within 0.5..=1.0; Warden's is 1.0).
    #[test]
    fn presidio_cases() {
        for (text, spans) in [
            ("1234567890121", &[(0, 13)][..]),
            ("2345678901234", &[(0, 13)]),
            ("3456789012347", &[(0, 13)]),
            ("4567890123459", &[(0, 13)]),
            ("5678901234560", &[(0, 13)]),
            ("1220000000007", &[(0, 13)]),
            ("1520000000004", &[(0, 13)]),
            ("1580000000004", &[(0, 13)]),
            ("My Thai ID is 1234567890121", &[(14, 27)]),
            ("TNIN: 2345678901234", &[(6, 19)]),
            ("เลขประจำตัวประชาชน: 3456789012347", &[(20, 33)]),
            ("123456789012", &[]),
            ("12345678901234", &[]),
            ("123456789012a", &[]),
            ("123456789012 ", &[]),
            ("0234567890124", &[]),
            ("0034567890124", &[]),
            ("1034567890124", &[]),
            ("1304567890124", &[]),
            ("1284567890124", &[]),
            ("1294567890124", &[]),
            ("1594567890124", &[]),
            ("1684567890124", &[]),
            ("1694567890124", &[]),
            ("1784567890124", &[]),
            ("1794567890124", &[]),
            ("1874567890124", &[]),
            ("1884567890124", &[]),
            ("1894567890124", &[]),
            ("1974567890124", &[]),
            ("1984567890124", &[]),
            ("1994567890124", &[]),
            ("1234567890123", &[]),
            ("2345678901235", &[]),
            ("3456789012346", &[]),
            ("0000000000000", &[]),
            ("1111111111111", &[]),
            ("Thai National ID 1234567890121", &[(17, 30)]),
            ("เลขบัตรประชาชน 2345678901234", &[(15, 28)]),
        ] {
            case(text, spans, 0.5, 1.0);
        }
    }

    /// Presidio's `test_validate_result_*` functions: the validation alone. (Presidio's
    /// `validate_result` also refuses a bad province code, which Warden's pattern refuses
    /// before validation; the checksum of those four numbers happens to fail as well.)
    #[test]
    fn presidio_validate_cases() {
        for (text, valid) in [
            ("1234567890121", true),
            ("2345678901234", true),
            ("3456789012347", true),
            ("0234567890124", false),
            ("1034567890124", false),
            ("1284567890124", false),
            ("1294567890124", false),
            ("123456789012", false),
            ("12345678901234", false),
            ("123456789012a", false),
            ("123456789012 ", false),
        ] {
            assert_eq!(tnin(text), Check::from(valid), "{text}");
        }
    }

    /// Hard negatives: off by default, so nothing is reported without asking; when asked
    /// for, an order number with a failing check digit is still refused.
    #[test]
    fn hard_negatives() {
        let t = EntityType::named("TH_TNIN");
        for text in [
            "ts=1709251200123 order 1234567890121",
            "due 2024-03-02, version 1.2.3",
            "hash 9f1234567890121ab",
        ] {
            let found = detect(text, &DetectOptions::default());
            assert!(
                found.iter().all(|f| f.entity_type != t),
                "{text}: {found:?}"
            );
        }
        case("order 1234567890122", &[], 0.0, 0.0);
        case("hash 9f1234567890121ab", &[], 0.0, 0.0);
    }
}
