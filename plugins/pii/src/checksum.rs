//! Issuing rules and country-specific check digits for the numeric identifiers; the generic
//! algorithms (Luhn, IBAN mod 97, digit extraction) are the SDK's (`warden_sdk::checksum`).

/// The decimal digits of `s` by the SDK's separator rule (space, `-`, `.`), or `None` when
/// anything else occurs or there are more than `max` of them.
pub(crate) fn digits(s: &str, max: usize) -> Option<Vec<u8>> {
    warden_sdk::checksum::digits(s).filter(|d| d.len() <= max)
}

/// Card scheme for an issuer identification number prefix and length, if it is a current one.
pub(crate) fn card_scheme(d: &[u8]) -> Option<&'static str> {
    let len = d.len();
    let p = |n: usize| d.iter().take(n).fold(0u32, |a, &x| a * 10 + u32::from(x));
    let (p1, p2, p3, p4, p6) = (p(1), p(2), p(3), p(4), p(6));
    if p1 == 4 && matches!(len, 13 | 16 | 19) {
        return Some("Visa");
    }
    if (51..=55).contains(&p2) && len == 16 || (2221..=2720).contains(&p4) && len == 16 {
        return Some("Mastercard");
    }
    if matches!(p2, 34 | 37) && len == 15 {
        return Some("American Express");
    }
    if (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6))
        && (16..=19).contains(&len)
    {
        return Some("Discover");
    }
    if (3528..=3589).contains(&p4) && (16..=19).contains(&len) {
        return Some("JCB");
    }
    if ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&len) {
        return Some("Diners Club");
    }
    if p2 == 62 && (16..=19).contains(&len) {
        return Some("UnionPay");
    }
    if (2200..=2204).contains(&p4) && (16..=19).contains(&len) {
        return Some("Mir");
    }
    if (matches!(p4, 5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761..=6763))
        && (12..=19).contains(&len)
    {
        return Some("Maestro");
    }
    if (p2 == 60 || p2 == 81 || p2 == 82 || p3 == 508 || p3 == 353 || p3 == 356) && len == 16 {
        return Some("RuPay");
    }
    if (506_099..=506_198).contains(&p6) || (650_002..=650_027).contains(&p6) {
        return (16..=19).contains(&len).then_some("Verve");
    }
    if p4 == 9792 && len == 16 {
        return Some("Troy");
    }
    None
}

/// Australian Tax File Number weighted check (9 digits; the older 8-digit form too).
pub(crate) fn tfn(d: &[u8]) -> bool {
    const W9: [u32; 9] = [1, 4, 3, 7, 5, 8, 6, 9, 10];
    const W8: [u32; 8] = [10, 7, 8, 4, 6, 3, 5, 1];
    let w: &[u32] = match d.len() {
        9 => &W9,
        8 => &W8,
        _ => return false,
    };
    if d.iter().all(|&x| x == 0) {
        return false;
    }
    d.iter()
        .zip(w)
        .map(|(&x, &w)| u32::from(x) * w)
        .sum::<u32>()
        .is_multiple_of(11)
}

/// Australian Business Number mod-89 check (11 digits).
pub(crate) fn abn(d: &[u8]) -> bool {
    const W: [u32; 11] = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let sum: u32 = d
        .iter()
        .zip(W)
        .enumerate()
        .map(|(i, (&x, w))| (u32::from(x) - u32::from(i == 0)) * w)
        .sum();
    sum.is_multiple_of(89)
}

/// Australian Medicare card number: first digit 2-6, weighted check digit, issue number 1-9
/// (10 digits; an 11th digit, the individual reference number, is accepted when 1-9).
pub(crate) fn medicare(d: &[u8]) -> bool {
    const W: [u32; 8] = [1, 3, 7, 9, 1, 3, 7, 9];
    if !(d.len() == 10 || d.len() == 11) || !(2..=6).contains(&d[0]) {
        return false;
    }
    let sum: u32 = d.iter().zip(W).map(|(&x, w)| u32::from(x) * w).sum();
    sum % 10 == u32::from(d[8]) && d[9] != 0 && (d.len() == 10 || d[10] != 0)
}

/// US Social Security Number issuing rules: no area 000, 666 or 900-999, no group 00, no serial
/// 0000, and not one of the numbers famously printed on sample cards.
pub(crate) fn ssn(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let n = |a: usize, b: usize| d[a..b].iter().fold(0u32, |acc, &x| acc * 10 + u32::from(x));
    let (area, group, serial) = (n(0, 3), n(3, 5), n(5, 9));
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !(area == 78 && group == 5 && serial == 1120)
        && !(area == 219 && group == 9 && serial == 9999)
        && !(area == 123 && group == 45 && serial == 6789)
}

/// IBAN length registered for a country code (ISO 13616 registry), if the country uses IBANs.
pub(crate) fn iban_length(cc: &[u8]) -> Option<usize> {
    let n = match cc {
        b"NO" => 15,
        b"BE" => 16,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"MN" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"OM" | b"SO" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"LY" | b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"BI" | b"DJ" | b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HU" | b"LB" | b"NI" | b"PL" | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        b"DK" | b"FI" | b"FK" | b"FO" | b"GL" | b"NL" | b"SD" => 18,
        _ => return None,
    };
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_sdk::checksum::{iban_mod97_compact as iban_mod97, luhn_digits as luhn};

    fn d(s: &str) -> Vec<u8> {
        digits(s, 64).unwrap_or_default()
    }

    #[test]
    fn luhn_known_numbers() {
        assert!(luhn(&d("4111 1111 1111 1111")));
        assert!(!luhn(&d("4111 1111 1111 1112")));
        assert!(luhn(&d("378282246310005")));
        assert_eq!(card_scheme(&d("2221000000000009")), Some("Mastercard"));
        assert_eq!(card_scheme(&d("2720990000000007")), Some("Mastercard"));
        assert_eq!(card_scheme(&d("2721000000000004")), None);
        assert_eq!(card_scheme(&d("378282246310005")), Some("American Express"));
        assert_eq!(card_scheme(&d("7947858590138818")), None);
    }

    #[test]
    fn tfn_abn_medicare_ssn() {
        assert!(tfn(&d("123 456 782")));
        assert!(!tfn(&d("123 456 789")));
        assert!(abn(&d("51 824 753 556")));
        assert!(!abn(&d("51 824 753 557")));
        assert!(medicare(&d("2123 45670 1")));
        assert!(!medicare(&d("2123 45671 1")));
        assert!(!medicare(&d("1123 45670 1")));
        assert!(ssn(&d("214-13-6899")));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "214-00-3456",
            "214-13-0000",
        ] {
            assert!(!ssn(&d(bad)), "{bad}");
        }
    }

    #[test]
    fn iban_check() {
        assert!(iban_mod97(b"GB82WEST12345698765432"));
        assert!(!iban_mod97(b"GB82WEST12345698765433"));
        assert_eq!(iban_length(b"GB"), Some(22));
        assert_eq!(iban_length(b"US"), None);
    }
}
