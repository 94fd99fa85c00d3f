//! Recognizers for the Republic of Korea (ported from Presidio's `country_specific/korea`).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&RRN, &FRN, &BRN, &PASSPORT, &DRIVER_LICENSE];

/// Resident registration number: `YYMMDD-GXXXXXX`, G 1-4 (Presidio `KrRrnRecognizer`).
/// Off by default: numbers issued since October 2020 carry no check digit, so a bare
/// date-shaped 13-digit number (a millisecond timestamp) would be reported at 0.5.
static RRN: Spec = Spec {
    entity: EntityType::named("KR_RRN"),
    country: Some("KR"),
    kind: Kind::Pii,
    description: "A Korean resident registration number (주민등록번호).",
    validation: "birth date; mod 11 check digit (numbers issued before October 2020)",
    default_enabled: false,
    patterns: &[Pat {
        name: "RRN (medium)",
        regex: r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-?[1-4]\d{6}",
        score: 0.5,
    }],
    context: &[
        "korean rrn",
        "korean resident registration number",
        "resident registration number",
        "resident registration no",
        "rrn",
        "rrn#",
        "주민등록번호",
        "주민번호",
        "주민등록",
    ],
    validate: Some(rrn),
    around: Some(standalone),
};

/// Foreigner registration number: the RRN layout with G 5-8 (Presidio `KrFrnRecognizer`).
/// Off by default for the same reason as [`RRN`].
static FRN: Spec = Spec {
    entity: EntityType::named("KR_FRN"),
    country: Some("KR"),
    kind: Kind::Pii,
    description: "A Korean foreigner registration number (외국인등록번호).",
    validation: "birth date; mod 11 check digit (numbers issued before October 2020)",
    default_enabled: false,
    patterns: &[Pat {
        name: "FRN (medium)",
        regex: r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-?[5-8]\d{6}",
        score: 0.5,
    }],
    context: &[
        "외국인등록번호",
        "외국인번호",
        "외국인등록증",
        "korean frn",
        "frn",
        "foreigner registration number",
        "korean foreigner registration number",
        "alien registration number",
    ],
    validate: Some(frn),
    around: Some(standalone),
};

/// Business registration number: `AAA-BB-CCCCC`, weighted check digit (Presidio
/// `KrBrnRecognizer`). Off by default: one check digit over ten bare digits passes one
/// number in ten, and it identifies a business rather than a person.
static BRN: Spec = Spec {
    entity: EntityType::named("KR_BRN"),
    country: Some("KR"),
    kind: Kind::Pii,
    description: "A Korean business registration number (사업자등록번호).",
    validation: "BRN weighted check digit",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "BRN (weak)",
            regex: r"\d{3}-\d{2}-\d{5}",
            score: 0.1,
        },
        Pat {
            name: "BRN (very weak)",
            regex: r"\d{10}",
            score: 0.05,
        },
    ],
    context: &[
        "사업자등록번호",
        "사업자번호",
        "사업자",
        "brn",
        "business registration number",
        "korean brn",
        "business number",
        "tax registration number",
    ],
    validate: Some(brn),
    around: Some(standalone),
};

/// Passport number: `M123A4567` (current) or `M12345678` (previous), first letter
/// M/S/R/O/D (Presidio `KrPassportRecognizer`). Shape only, so off by default. Presidio
/// scores these 0.1 and 0.05, which a context word (+0.35) cannot lift to Warden's default
/// threshold of 0.5; Warden scores them 0.25 and 0.2, so the shape alone stays under the
/// threshold and the shape next to "passport" / "여권" is reported.
static PASSPORT: Spec = Spec {
    entity: EntityType::named("KR_PASSPORT"),
    country: Some("KR"),
    kind: Kind::Pii,
    description: "A Korean passport number (여권번호).",
    validation: "none",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Passport (current)",
            regex: r"(?i)[MSROD]\d{3}[A-Z]\d{4}",
            score: 0.25,
        },
        Pat {
            name: "Passport (previous)",
            regex: r"(?i)[MSROD]\d{8}",
            score: 0.2,
        },
    ],
    context: &[
        "korean passport",
        "korean passport number",
        "대한민국 여권",
        "여권",
        "여권번호",
        "passport",
        "passport number",
        "passport no",
    ],
    validate: None,
    around: Some(passport_around),
};

/// Driver's licence number: `RR-YY-NNNNNN-CC`, RR a regional code (Presidio
/// `KrDriverLicenseRecognizer`). Presidio scores a known regional code 1.0; a two-digit
/// code from a list of seventeen is not a checksum, so Warden keeps the pattern's score and
/// drops unknown codes. Presidio's 0.05 cannot reach the default threshold even with a
/// context word, so Warden scores the grouped form 0.25 and the others 0.2.
static DRIVER_LICENSE: Spec = Spec {
    entity: EntityType::named("KR_DRIVER_LICENSE"),
    country: Some("KR"),
    kind: Kind::Pii,
    description: "A Korean driver's licence number (운전면허번호).",
    validation: "regional code",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Driver licence (grouped)",
            regex: r"\d{2}[- ]\d{2}[- ]\d{6}[- ]\d{2}",
            score: 0.25,
        },
        Pat {
            name: "Driver licence (weak)",
            regex: r"\d{2}[- ]?\d{2}[- ]?\d{6}[- ]?\d{2}",
            score: 0.2,
        },
    ],
    context: &[
        "운전면허",
        "운전면허번호",
        "운전면허증",
        "면허번호",
        "korean driver license",
        "korean driver's license",
        "driver license",
        "driver's license",
        "driving licence",
        "driving license",
        "license",
        "licence",
    ],
    validate: Some(driver_license),
    around: Some(standalone),
};

/// Presidio's `(?<!\d)` … `(?!\d)`, stricter: the match is not part of a longer word of
/// letters and digits (a hash, a serial), though letters alone may be glued before it
/// (`RRN9601211021413`).
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let before = b[..start]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric())
        .all(u8::is_ascii_alphabetic);
    let after = end >= b.len() || !b[end].is_ascii_alphanumeric();
    before && after
}

/// Presidio's `(?<![A-Z0-9a-z])` … `(?![0-9])` around a passport number.
fn passport_around(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let before = start == 0 || !b[start - 1].is_ascii_alphanumeric();
    let after = end >= b.len() || !b[end].is_ascii_digit();
    before && after
}

/// The digits of a match, when there are exactly `n`.
fn digits_n(m: &str, n: usize) -> Option<Vec<u8>> {
    warden_sdk::checksum::digits(m).filter(|d| d.len() == n)
}

/// Whether the Gregorian `year` is a leap year.
fn leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Whether `day`/`month`/`year` is a real calendar date.
fn is_date(year: u32, month: u32, day: u32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(year) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// The number `d[i]d[i+1]` of two decimal digits.
fn two(d: &[u8], i: usize) -> u32 {
    u32::from(d[i]) * 10 + u32::from(d[i + 1])
}

/// Whether the birth date of a 13-digit RRN/FRN exists, its century from the 7th digit.
fn birth_date(d: &[u8]) -> bool {
    let century = match d[6] {
        1 | 2 | 5 | 6 => 1900,
        3 | 4 | 7 | 8 => 2000,
        9 | 0 => 1800,
        _ => return false,
    };
    is_date(century + two(d, 0), two(d, 2), two(d, 4))
}

/// The weighted sum 2,3,4,5,6,7,8,9,2,3,4,5 over the first 12 digits, mod 11.
fn rrn_sum(d: &[u8]) -> u32 {
    const W: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    d.iter().zip(W).map(|(&x, w)| u32::from(x) * w).sum::<u32>() % 11
}

/// RRN: a real birth date is required; the check digit `(11 - sum) % 10` with a regional code
/// of 00-95 makes it certain, otherwise (numbers issued since 2020 are random) it stays.
fn rrn(m: &str) -> Check {
    registration(m, 11)
}

/// FRN: as [`rrn`], check digit `(13 - sum) % 10`.
fn frn(m: &str) -> Check {
    registration(m, 13)
}

/// The shared RRN/FRN validation, `base` being 11 (RRN) or 13 (FRN).
fn registration(m: &str, base: u32) -> Check {
    let Some(d) = digits_n(m, 13) else {
        return Check::Invalid;
    };
    if !birth_date(&d) {
        return Check::Invalid;
    }
    let check = (base - rrn_sum(&d)) % 10;
    if two(&d, 7) <= 95 && check == u32::from(d[12]) {
        Check::Valid
    } else {
        Check::Unknown
    }
}

/// BRN check digit: weights 1,3,7,1,3,7,1,3,5, the ninth product's tens added again.
fn brn(m: &str) -> Check {
    let Some(d) = digits_n(m, 10) else {
        return Check::Invalid;
    };
    const W: [u32; 8] = [1, 3, 7, 1, 3, 7, 1, 3];
    let mut sum: u32 = d.iter().zip(W).map(|(&x, w)| u32::from(x) * w).sum();
    let last = u32::from(d[8]) * 5;
    sum += last / 10 + last;
    Check::from((10 - sum % 10) % 10 == u32::from(d[9]))
}

/// Driver's licence: twelve digits whose first two are a regional code (11-26, 28).
fn driver_license(m: &str) -> Check {
    let Some(d) = digits_n(m, 12) else {
        return Check::Invalid;
    };
    let region = two(&d, 0);
    if (11..=26).contains(&region) || region == 28 {
        Check::Unknown
    } else {
        Check::Invalid
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;
    use crate::{DetectOptions, detect};

    /// [`presidio_case`] with Presidio's character offsets, converted to byte offsets.
    fn case(entity: &str, text: &str, spans: &[(usize, usize)], min: f32, max: f32) {
        let byte = |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
        let spans: Vec<(usize, usize)> = spans.iter().map(|&(s, e)| (byte(s), byte(e))).collect();
        presidio_case(entity, text, &spans, min, max);
    }

    /// Presidio's `test_kr_rrn_recognizer.py`, the cases Warden scores as Presidio does.
    #[test]
    fn presidio_rrn_cases() {
        for (text, spans, lo, hi) in [
            ("960121-1234567", &[(0, 14)][..], 0.5, 0.5),
            ("9601211234567", &[(0, 13)], 0.5, 0.5),
            ("000505-3637892", &[(0, 14)], 0.5, 0.5),
            ("0005053637892", &[(0, 13)], 0.5, 0.5),
            ("960121-1021413", &[(0, 14)], 1.0, 1.0),
            ("9601211021413", &[(0, 13)], 1.0, 1.0),
            ("050912-2000019", &[(0, 14)], 1.0, 1.0),
            ("0509122000019", &[(0, 13)], 1.0, 1.0),
            ("His RRN is 9601211021413", &[(11, 24)], 1.0, 1.0),
            ("001332-1234567", &[], 0.0, 0.0),
            ("0013321234567", &[], 0.0, 0.0),
            ("960121+1021413", &[], 0.0, 0.0),
            ("960111-10214131", &[], 0.0, 0.0),
            ("960303-0021413", &[], 0.0, 0.0),
            ("760413-5212134", &[], 0.0, 0.0),
            ("000402-6214431", &[], 0.0, 0.0),
            ("051102-9234110", &[], 0.0, 0.0),
        ] {
            case("KR_RRN", text, spans, lo, hi);
        }
        // Differs: Presidio's raw recognizer test applies no context; in Warden "Korean RRN"
        // before the number adds 0.35 to the unverified 0.5 (Presidio expects 0.5).
        case(
            "KR_RRN",
            "His Korean RRN is 960121-1234567",
            &[(18, 32)],
            0.85,
            0.85,
        );
    }

    /// Presidio's `test_kr_frn_recognizer.py`, the cases Warden scores as Presidio does.
    #[test]
    fn presidio_frn_cases() {
        for (text, spans, lo, hi) in [
            ("911124-5678901", &[(0, 14)][..], 0.5, 0.5),
            ("9111245678901", &[(0, 13)], 0.5, 0.5),
            ("000505-7637892", &[(0, 14)], 0.5, 0.5),
            ("0005056637892", &[(0, 13)], 0.5, 0.5),
            ("911124-5678906", &[(0, 14)], 1.0, 1.0),
            ("9111245678906", &[(0, 13)], 1.0, 1.0),
            ("050912-6000012", &[(0, 14)], 1.0, 1.0),
            ("0509126000012", &[(0, 13)], 1.0, 1.0),
            ("His FRN is 9111245678906", &[(11, 24)], 1.0, 1.0),
            ("001332-1234567", &[], 0.0, 0.0),
            ("0013321234567", &[], 0.0, 0.0),
            ("960121+1021413", &[], 0.0, 0.0),
            ("960111-10214131", &[], 0.0, 0.0),
            ("960303-0021413", &[], 0.0, 0.0),
            ("760413-1212134", &[], 0.0, 0.0),
            ("000402-2214431", &[], 0.0, 0.0),
            ("051102-9234110", &[], 0.0, 0.0),
        ] {
            case("KR_FRN", text, spans, lo, hi);
        }
        // Differs: the context word "Korean FRN" adds 0.35 in Warden (Presidio expects 0.5).
        case(
            "KR_FRN",
            "His Korean FRN is 911124-5678901",
            &[(18, 32)],
            0.85,
            0.85,
        );
    }

    /// Presidio's `test_kr_brn_recognizer.py`: every case as Presidio expects it.
    #[test]
    fn presidio_brn_cases() {
        for (text, spans) in [
            ("104-86-56659", &[(0, 12)][..]),
            ("1048656659", &[(0, 10)]),
            ("104-82-13138", &[(0, 12)]),
            ("My BRN is 1048656659", &[(10, 20)]),
            ("104-86-56658", &[]),
            ("110-81-4127", &[]),
            ("110-81-412722", &[]),
            ("110-81-4127A", &[]),
            ("123-45-67890", &[]),
        ] {
            case("KR_BRN", text, spans, 1.0, 1.0);
        }
    }

    /// Presidio's `test_kr_passport_recognizer.py`. Every span and every "no match" case is
    /// Presidio's; every score differs by design: Warden scores the current format 0.25 and
    /// the previous 0.2 (Presidio 0.1 and 0.05), and adds 0.35 for a context word, which
    /// Presidio's raw recognizer test does not apply.
    #[test]
    fn presidio_passport_cases() {
        for (text, spans, score) in [
            ("M123A4567", &[(0, 9)][..], 0.25),
            ("m456B7890", &[(0, 9)], 0.25),
            ("d789C1234", &[(0, 9)], 0.25),
            ("S012D5678", &[(0, 9)], 0.25),
            ("M345E9012", &[(0, 9)], 0.25),
            ("M678f3456", &[(0, 9)], 0.25),
            ("M901g7890", &[(0, 9)], 0.25),
            ("My passport number is M123A4567", &[(22, 31)], 0.6),
            ("Korean passport: M456B7890", &[(17, 26)], 0.6),
            ("여권번호는 M789C1234입니다", &[(6, 15)], 0.6),
            ("M12345678", &[(0, 9)], 0.2),
            ("m87654321", &[(0, 9)], 0.2),
            ("d11223344", &[(0, 9)], 0.2),
            ("s99887766", &[(0, 9)], 0.2),
            ("My old passport M12345678", &[(16, 25)], 0.55),
            ("대한민국 여권 S87654321", &[(8, 17)], 0.55),
            ("M123A4567 and M456B7890", &[(0, 9), (14, 23)], 0.25),
            ("A123B4567", &[], 0.0),
            ("M12A4567", &[], 0.0),
            ("M1234A567", &[], 0.0),
            ("M123AB567", &[], 0.0),
            ("M123A456", &[], 0.0),
            ("M123A45678", &[], 0.0),
            ("M1234567", &[], 0.0),
            ("M123456789", &[], 0.0),
            ("M1234567", &[], 0.0),
            ("123A4567", &[], 0.0),
            ("MM123A4567", &[], 0.0),
            ("M123 A4567", &[], 0.0),
            ("M123-A4567", &[], 0.0),
            ("", &[], 0.0),
            ("passport", &[], 0.0),
            ("M123a456", &[], 0.0),
        ] {
            case("KR_PASSPORT", text, spans, score, score);
        }
    }

    /// Presidio's `test_kr_driver_license_recognizer.py`. Spans and "no match" cases are
    /// Presidio's; the scores differ by design: Presidio raises a known regional code to 1.0,
    /// Warden keeps 0.25 for the grouped form and 0.2 for the bare twelve digits, plus 0.35
    /// for a context word ("license").
    #[test]
    fn presidio_driver_license_cases() {
        for (text, spans, score) in [
            ("11-22-123456-12", &[(0, 15)][..], 0.25),
            ("112212345612", &[(0, 12)], 0.2),
            ("My license is 13-22-123456-12", &[(14, 29)], 0.6),
            ("28 22 123456 12", &[(0, 15)], 0.25),
            ("99-22-123456-12", &[], 0.0),
            ("11-22-12345-12", &[], 0.0),
            ("11-22-123456-1", &[], 0.0),
            ("11-22-123A56-12", &[], 0.0),
            ("111-22-123456-12", &[], 0.0),
            ("11-22-123456-123", &[], 0.0),
        ] {
            case("KR_DRIVER_LICENSE", text, spans, score, score);
        }
    }

    /// Warden's own: an impossible birth date (30 February) is not an RRN even with a valid
    /// check digit, and a Korean context word is recognised.
    #[test]
    fn rrn_birth_date_and_korean_context() {
        // 960230-1XXXXXX: the pattern accepts day 30 of any month.
        case("KR_RRN", "960230-1234567", &[], 0.0, 0.0);
        case(
            "KR_RRN",
            "주민등록번호: 960121-1234567",
            &[(8, 22)],
            0.85,
            0.85,
        );
        case(
            "KR_DRIVER_LICENSE",
            "운전면허번호 112212345612",
            &[(7, 19)],
            0.55,
            0.55,
        );
    }

    /// Hard negatives: with default options none of these types runs, and even when asked
    /// for, a checksum-failing BRN is dropped.
    #[test]
    fn hard_negatives() {
        for text in [
            "order 1048656658 shipped",
            "build 1709251200000 at 2024-03-02",
            "version 11.22.123456.12",
            "sha1 9601211021413a9f0c2b7d1e8f6a5b4c3d2e1f0a",
            "ts=1709251200123",
        ] {
            let found = detect(text, &DetectOptions::default());
            assert!(
                found
                    .iter()
                    .all(|f| !f.entity_type.as_str().starts_with("KR_")),
                "{text}: {found:?}"
            );
        }
        case("KR_BRN", "order 1048656658 shipped", &[], 0.0, 0.0);
        // Inside a hexadecimal hash: not a standalone number; glued to a word, it is.
        case("KR_RRN", "3fa9601211021413", &[], 0.0, 0.0);
        case("KR_RRN", "a9601211021413f", &[], 0.0, 0.0);
        case("KR_RRN", "RRN9601211021413", &[(3, 16)], 1.0, 1.0);
    }
}
