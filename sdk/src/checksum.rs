//! Check-digit algorithms that identifiers use, so a detector reports numbers that are valid,
//! not merely number-shaped.
//!
//! Every function takes the identifier as text and ignores spaces, dashes and dots, so
//! `4111 1111 1111 1111` and `4111-1111-1111-1111` check the same.

/// The decimal digits of `s`, skipping ` `, `-` and `.`; `None` if anything else occurs.
pub fn digits(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => out.push(b - b'0'),
            b' ' | b'-' | b'.' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Luhn (mod 10), used by payment cards, IMEI numbers and Canadian SINs.
///
/// ```
/// assert!(warden_sdk::checksum::luhn("4111 1111 1111 1111"));
/// assert!(!warden_sdk::checksum::luhn("4111 1111 1111 1112"));
/// ```
pub fn luhn(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() < 2 {
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
/// become 10..35, and the number must leave remainder 1 when divided by 97.
///
/// ```
/// assert!(warden_sdk::checksum::iban_mod97("GB82 WEST 1234 5698 7654 32"));
/// assert!(!warden_sdk::checksum::iban_mod97("GB82 WEST 1234 5698 7654 33"));
/// ```
pub fn iban_mod97(s: &str) -> bool {
    let chars: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'-'))
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if chars.len() < 5 || !chars.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let mut rem = 0u32;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
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
