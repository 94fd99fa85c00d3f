//! Check-digit algorithms that identifiers use, so a detector reports numbers that are valid,
//! not merely number-shaped.
//!
//! **Separators.** Every function that takes text follows one rule: the decimal digits (and,
//! for IBANs, ASCII letters) count, the [`SEPARATORS`] — space, `-` and `.` — are skipped
//! wherever they occur, and any other character makes the identifier invalid. So
//! `4111 1111 1111 1111`, `4111-1111-1111-1111` and `4111.1111.1111.1111` check the same and
//! `4111/1111/1111/1111` fails. Whether the separators sit where an identifier prints them
//! (and are the same throughout) is the detector's pattern's business, not the checksum's.
//! The `*_digits` / `*_compact` forms take an identifier already reduced to its digits (or
//! characters), for a detector that has extracted them once and runs several checks.

/// The characters the text functions of this module skip: space, `-` and `.`.
pub const SEPARATORS: &[u8] = b" -.";

/// Whether `b` is one of the [`SEPARATORS`].
pub fn is_separator(b: u8) -> bool {
    SEPARATORS.contains(&b)
}

/// The decimal digits of `s` as values 0-9, skipping [`SEPARATORS`]; `None` if anything else
/// occurs.
///
/// ```
/// use warden_sdk::checksum::digits;
/// assert_eq!(digits("12-3.4 5"), Some(vec![1, 2, 3, 4, 5]));
/// assert_eq!(digits("12/34"), None);
/// ```
pub fn digits(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => out.push(b - b'0'),
            b if is_separator(b) => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Luhn (mod 10), used by payment cards, IMEI numbers and Canadian SINs; text with
/// [`SEPARATORS`] allowed.
///
/// ```
/// assert!(warden_sdk::checksum::luhn("4111 1111 1111 1111"));
/// assert!(!warden_sdk::checksum::luhn("4111 1111 1111 1112"));
/// ```
pub fn luhn(s: &str) -> bool {
    digits(s).is_some_and(|d| luhn_digits(&d))
}

/// [`luhn`] on digits already extracted (values 0-9, as [`digits`] returns them); fewer than
/// two digits, or a value above 9, is invalid.
pub fn luhn_digits(d: &[u8]) -> bool {
    if d.len() < 2 || d.iter().any(|&x| x > 9) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let v = u32::from(x) * if i % 2 == 1 { 2 } else { 1 };
            if v > 9 { v - 9 } else { v }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 7064 mod 97-10 as IBANs use it: the first four characters move to the end, letters
/// become 10..35, and the number must leave remainder 1 when divided by 97. Text with
/// [`SEPARATORS`] allowed; letters in either case.
///
/// ```
/// assert!(warden_sdk::checksum::iban_mod97("GB82 WEST 1234 5698 7654 32"));
/// assert!(!warden_sdk::checksum::iban_mod97("GB82 WEST 1234 5698 7654 33"));
/// ```
pub fn iban_mod97(s: &str) -> bool {
    let compact: Vec<u8> = s
        .bytes()
        .filter(|&b| !is_separator(b))
        .map(|b| b.to_ascii_uppercase())
        .collect();
    iban_mod97_compact(&compact)
}

/// [`iban_mod97`] on an IBAN already compacted: upper-case ASCII letters and digits only
/// (anything else, lower case included, is invalid), at least five of them.
pub fn iban_mod97_compact(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let mut rem = 0u32;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        rem = match c {
            b'0'..=b'9' => (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// A weighted mod-11 check: the digits before the last are multiplied by `weights` (from the
/// left) and summed; `check(sum % 11)` gives the expected last digit, or `None` when that
/// remainder is not allowed. Used by NZ IRD numbers, Norwegian and Dutch identifiers, ISBN-10
/// and many others, each with its own weights and rule for the remainder.
///
/// ```
/// use warden_sdk::checksum::mod11;
/// // ISBN-10: weights 10..2, check digit (11 - sum % 11) % 11 (10 is written `X`).
/// let isbn = |s: &str| mod11(&s[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2], |r| Some((11 - r) % 11))
///     .is_some_and(|c| c == s[9..].parse::<u32>().unwrap_or(10));
/// assert!(isbn("0306406152"));
/// assert!(!isbn("0306406153"));
/// ```
pub fn mod11(body: &str, weights: &[u32], check: impl Fn(u32) -> Option<u32>) -> Option<u32> {
    let d = digits(body)?;
    if d.len() != weights.len() {
        return None;
    }
    let sum: u32 = d.iter().zip(weights).map(|(&x, &w)| u32::from(x) * w).sum();
    check(sum % 11)
}

/// Whether the last digit of `s` is the [`mod11`] check digit of the digits before it.
pub fn mod11_valid(s: &str, weights: &[u32], check: impl Fn(u32) -> Option<u32>) -> bool {
    let Some(d) = digits(s) else { return false };
    let Some((&last, body)) = d.split_last() else {
        return false;
    };
    let body: String = body.iter().map(|x| char::from(b'0' + x)).collect();
    mod11(&body, weights, check) == Some(u32::from(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_space_dash_and_dot_only() {
        assert_eq!(digits("4111 1111-1111.1111").map(|d| d.len()), Some(16));
        assert_eq!(digits(""), Some(vec![]));
        for other in [
            "4111/1111",
            "4111_1111",
            "4111\u{a0}1111",
            "(4111)",
            "4111x",
            "4111,1",
        ] {
            assert_eq!(digits(other), None, "{other}");
            assert!(!luhn(other), "{other}");
        }
        // One rule for every check: IBANs and mod-11 identifiers accept the same separators.
        assert!(luhn("4111.1111.1111.1111"));
        assert!(iban_mod97("GB82.WEST.1234.5698.7654.32"));
        assert!(iban_mod97("GB82-WEST-1234-5698-7654-32"));
        assert!(!iban_mod97("GB82/WEST/1234/5698/7654/32"));
        let rule = |r: u32| (r != 1).then_some((11 - r) % 11);
        let w = [3, 2, 7, 6, 5, 4, 3, 2];
        assert!(mod11_valid("923.609.016", &w, rule));
        assert!(mod11_valid("923-609-016", &w, rule));
        assert!(!mod11_valid("923_609_016", &w, rule));
    }

    #[test]
    fn digit_and_compact_forms_agree_with_the_text_forms() {
        let card = digits("5500 0000 0000 0004").unwrap_or_default();
        assert!(luhn_digits(&card));
        assert!(!luhn_digits(&[0]));
        assert!(!luhn_digits(&[]));
        assert!(!luhn_digits(&[1, 10, 8]));
        assert!(iban_mod97_compact(b"GB82WEST12345698765432"));
        assert!(!iban_mod97_compact(b"GB82WEST12345698765433"));
        // Compact means already upper case: the text form folds case, the compact one does not.
        assert!(iban_mod97("gb82west12345698765432"));
        assert!(!iban_mod97_compact(b"gb82west12345698765432"));
        assert!(!iban_mod97_compact(b"GB82 WEST12345698765432"));
        assert!(!iban_mod97_compact(b"GB82"));
    }

    #[test]
    fn luhn_accepts_valid_cards_and_rejects_typos() {
        assert!(luhn("4111111111111111"));
        assert!(luhn("5500-0000-0000-0004"));
        assert!(!luhn("4111111111111121"));
        assert!(!luhn("41x1111111111111"));
        assert!(!luhn("0"));
    }

    #[test]
    fn iban_accepts_real_formats() {
        assert!(iban_mod97("DE89370400440532013000"));
        assert!(iban_mod97("fr14 2004 1010 0505 0001 3m02 606"));
        assert!(!iban_mod97("DE89370400440532013001"));
        assert!(!iban_mod97("DE8"));
    }

    #[test]
    fn mod11_with_a_remainder_rule() {
        // Norwegian organisation numbers: weights 3 2 7 6 5 4 3 2, check 11 - r, r = 1 invalid.
        let rule = |r: u32| match r {
            0 => Some(0),
            1 => None,
            r => Some(11 - r),
        };
        let w = [3, 2, 7, 6, 5, 4, 3, 2];
        assert!(mod11_valid("923 609 016", &w, rule));
        assert!(!mod11_valid("923 609 017", &w, rule));
        assert!(!mod11_valid("92360901", &w, rule));
    }
}
