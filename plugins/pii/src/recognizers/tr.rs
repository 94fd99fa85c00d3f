//! Recognizers for Türkiye (ported from Presidio's `country_specific/turkey`).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&NATIONAL_ID, &LICENSE_PLATE];

/// T.C. Kimlik No: eleven digits, the first not 0, two check digits (Presidio
/// `TrNationalIdRecognizer`). On by default: the two check digits pass one number in a
/// hundred.
static NATIONAL_ID: Spec = Spec {
    entity: EntityType::named("TR_NATIONAL_ID"),
    country: Some("TR"),
    kind: Kind::Pii,
    description: "A Turkish national identification number (T.C. Kimlik No).",
    validation: "NVI check digits (10th and 11th)",
    default_enabled: true,
    patterns: &[Pat {
        name: "TCKN",
        regex: r"\b[1-9]\d{10}\b",
        score: 0.3,
    }],
    context: &[
        "tc kimlik",
        "t.c. kimlik",
        "tc kimlik no",
        "kimlik no",
        "kimlik numarası",
        "kimlik numaram",
        "kimlik",
        "kİmlİk",
        "tckn",
        "tckno",
        "tc no",
        "nüfus cüzdanı",
        "national id",
        "turkish id",
        "türk kimlik",
    ],
    validate: Some(tckn),
    around: None,
};

/// Vehicle licence plate (plaka): a province code 01-81, one to three letters (no Q, W, X),
/// two to four digits (Presidio `TrLicensePlateRecognizer`). Shape only, so off by default.
/// Presidio scores every match 1.0 (its validation re-checks the province code its pattern
/// already requires); Warden keeps the pattern's score: 0.5 for the upper-case plate as it
/// is printed, 0.2 in lower or mixed case (`12 am 2024` is text, not a plate).
static LICENSE_PLATE: Spec = Spec {
    entity: EntityType::named("TR_LICENSE_PLATE"),
    country: Some("TR"),
    kind: Kind::Pii,
    description: "A Turkish vehicle licence plate (plaka).",
    validation: "province code 01-81; not a unit or time abbreviation",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "TR plate",
            regex: r"\b(?:0[1-9]|[1-7]\d|8[01])(?: ?[A-PR-VYZ]{1,3} ?|-[A-PR-VYZ]{1,3}-)\d{2,4}\b",
            score: 0.5,
        },
        Pat {
            name: "TR plate (any case)",
            regex: r"(?i)\b(?:0[1-9]|[1-7]\d|8[01])(?: ?[A-PR-VYZ]{1,3} ?|-[A-PR-VYZ]{1,3}-)\d{2,4}\b",
            score: 0.2,
        },
    ],
    context: &[
        "plaka",
        "plakası",
        "plakalı",
        "araç plakası",
        "plaka numarası",
        "plaka no",
        "kayıt plakası",
        "tr plaka",
        "taşıt plakası",
        "kayıt",
        "license plate",
        "licence plate",
        "number plate",
        "plate",
        "plate number",
    ],
    validate: Some(plate),
    around: None,
};

/// TCKN: with digits d1…d11, `d10 = (7·(d1+d3+d5+d7+d9) − (d2+d4+d6+d8)) mod 10` and
/// `d11 = (d1+…+d10) mod 10`.
fn tckn(m: &str) -> Check {
    if m.len() != 11 || !m.bytes().all(|c| c.is_ascii_digit()) || m.starts_with('0') {
        return Check::Invalid;
    }
    let d: Vec<i32> = m.bytes().map(|c| i32::from(c - b'0')).collect();
    let odd: i32 = d[..9].iter().step_by(2).sum();
    let even: i32 = d[1..8].iter().step_by(2).sum();
    let tenth = (odd * 7 - even).rem_euclid(10);
    let eleventh = d[..10].iter().sum::<i32>() % 10;
    Check::from(tenth == d[9] && eleventh == d[10])
}

/// Letter groups that are units or times rather than a plate series (`10 AM 2024`,
/// `16 GB 512`, `50 TL 20`).
const NOT_SERIES: &[&str] = &[
    "AM", "PM", "GB", "MB", "KB", "TB", "KM", "CM", "MM", "KG", "MG", "ML", "TL", "USD", "EUR",
    "GBP", "MHZ", "GHZ", "KHZ", "DK", "SN",
];

/// A plate whose letters are a unit or time abbreviation is refused; any other keeps its
/// pattern's score (the province code is in the pattern).
fn plate(m: &str) -> Check {
    let letters: String = m
        .bytes()
        .filter(u8::is_ascii_alphabetic)
        .map(|c| char::from(c.to_ascii_uppercase()))
        .collect();
    if NOT_SERIES.contains(&letters.as_str()) {
        Check::Invalid
    } else {
        Check::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::{Check, plate, tckn};
    use crate::tests::presidio_case;
    use crate::{DetectOptions, EntityType, detect};

    /// [`presidio_case`] with Presidio's character offsets, converted to byte offsets.
    fn case(entity: &str, text: &str, spans: &[(usize, usize)], min: f32, max: f32) {
        let byte = |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
        let spans: Vec<(usize, usize)> = spans.iter().map(|&(s, e)| (byte(s), byte(e))).collect();
        presidio_case(entity, text, &spans, min, max);
    }

    /// Presidio's `test_tr_national_id_recognizer.py`: every case as Presidio expects it
    /// (a valid number scores within 0.5..=1.0; Warden's is 1.0).
    #[test]
    fn presidio_national_id_cases() {
        for (text, spans) in [
            ("10000000146", &[(0, 11)][..]),
            ("76543210794", &[(0, 11)]),
            ("36493665440", &[(0, 11)]),
            ("53857632436", &[(0, 11)]),
            ("94357219628", &[(0, 11)]),
            ("79059236630", &[(0, 11)]),
            ("64625294480", &[(0, 11)]),
            ("TC Kimlik No: 10000000146", &[(14, 25)]),
            (
                "Başvuru sahibinin TCKN numarası 10000000146 olarak tescil edilmiştir.",
                &[(32, 43)],
            ),
            (
                "Birinci kişi: 10000000146, ikinci kişi: 76543210794",
                &[(14, 25), (40, 51)],
            ),
            ("00000000000", &[]),
            ("02531814694", &[]),
            ("12345678900", &[]),
            ("76543210780", &[]),
            ("83219500748", &[]),
            ("11798724308", &[]),
            ("10000000145", &[]),
            ("62286775983", &[]),
            ("97485249605", &[]),
            ("1234567890", &[]),
            ("123456789012", &[]),
            ("abcdefghijk", &[]),
            ("Turkish ID 10000000146", &[(11, 22)]),
            ("Türk kimlik numarası 36493665440", &[(21, 32)]),
        ] {
            case("TR_NATIONAL_ID", text, spans, 0.5, 1.0);
        }
    }

    /// Presidio's `test_validate_result_*` functions for the national id: the validation
    /// alone, as Presidio expects it.
    #[test]
    fn presidio_national_id_validate_cases() {
        for (text, valid) in [
            ("10000000146", true),
            ("76543210794", true),
            ("36493665440", true),
            ("53857632436", true),
            ("94357219628", true),
            ("79059236630", true),
            ("64625294480", true),
            ("00000000000", false),
            ("02531814694", false),
            ("12345678900", false),
            ("76543210780", false),
            ("83219500748", false),
            ("11798724308", false),
            ("10000000145", false),
            ("62286775983", false),
            ("97485249605", false),
            ("1234567890", false),
            ("123456789012", false),
            ("abcdefghijk", false),
        ] {
            assert_eq!(tckn(text), Check::from(valid), "{text}");
        }
    }

    /// Presidio's `test_tr_license_plate_recognizer.py`, the cases Warden scores within
    /// Presidio's range (0.5..=1.0): upper-case plates score 0.5, or 0.85 beside a context
    /// word.
    #[test]
    fn presidio_plate_cases() {
        for (text, spans) in [
            ("34 ABC 1234", &[(0, 11)][..]),
            ("06 A 123", &[(0, 8)]),
            ("35 JK 12", &[(0, 8)]),
            ("16 B 1234", &[(0, 9)]),
            ("34ABC1234", &[(0, 9)]),
            ("Araç plakası 34 ABC 1234 olarak kayıtlıdır.", &[(13, 24)]),
            ("Plaka 34 ABC 1234 ve 06 JK 567", &[(6, 17), (21, 30)]),
            ("01 A 12", &[(0, 7)]),
            ("81 A 12", &[(0, 7)]),
            ("07 AB 123", &[(0, 9)]),
            ("00 ABC 123", &[]),
            ("82 ABC 123", &[]),
            ("99 ABC 123", &[]),
            ("hello world", &[]),
            ("1234567890", &[]),
            ("License plate 34 ABC 1234", &[(14, 25)]),
            ("Plaka numarası 06 A 123 olarak kayıtlı", &[(15, 23)]),
        ] {
            case("TR_LICENSE_PLATE", text, spans, 0.5, 1.0);
        }
        // Differs: a lower-case plate scores 0.2 in Warden (Presidio: 0.5..=1.0), because
        // "12 am 2024" and the like are ordinary text in lower case.
        case("TR_LICENSE_PLATE", "34 abc 1234", &[(0, 11)], 0.2, 0.2);
    }

    /// Presidio's `test_validate_result_*` functions for plates. Presidio's validation says
    /// True for a province code 01-81 and False outside; Warden's pattern holds the
    /// province code, so its validation only refuses unit abbreviations and otherwise
    /// cannot tell (it never raises a plate to 1.0). Presidio's "None" cases (too short, no
    /// province code) give Unknown here too.
    #[test]
    fn presidio_plate_validate_cases() {
        for text in [
            "34 ABC 1234",
            "06 A 123",
            "01 A 12",
            "81 A 12",
            "12",
            "",
            "AB ABC 123",
        ] {
            assert_eq!(plate(text), Check::Unknown, "{text}");
        }
        // Presidio's False cases: the pattern refuses them before validation.
        case("TR_LICENSE_PLATE", "00 ABC 123", &[], 0.0, 0.0);
        case("TR_LICENSE_PLATE", "82 ABC 123", &[], 0.0, 0.0);
        assert_eq!(plate("XY 123"), Check::Unknown);
    }

    /// Hard negatives: the national id needs both check digits even when asked for, and
    /// times and sizes are not plates.
    #[test]
    fn hard_negatives() {
        let id = EntityType::named("TR_NATIONAL_ID");
        for text in [
            "order 10000000145 shipped",
            "due 2024-03-02, version 10.0.0.146",
            "hash 9f10000000146ab",
            "batch 30255613422",
        ] {
            let found = detect(text, &DetectOptions::default());
            assert!(
                found.iter().all(|f| f.entity_type != id),
                "{text}: {found:?}"
            );
        }
        for text in ["at 10 AM 2024", "16 GB 512 SSD", "12 am 2024", "50 TL 20"] {
            case("TR_LICENSE_PLATE", text, &[], 0.0, 0.0);
        }
    }
}
