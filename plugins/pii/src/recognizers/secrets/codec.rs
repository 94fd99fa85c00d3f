//! Decoders and checksums the secret recognizers validate with: Shannon entropy (gitleaks'
//! measure), CRC-32, base62 and base36 numbers, base64, bech32 and a JSON syntax check.

/// Shannon entropy of `s` in bits per byte: gitleaks' `entropy` threshold is on this measure.
pub(super) fn entropy(s: &str) -> f32 {
    let b = s.as_bytes();
    if b.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &x in b {
        counts[usize::from(x)] += 1;
    }
    let n = b.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// The CRC-32 (IEEE 802.3, as zlib's `crc32`) lookup table, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 of `data` (zlib's `crc32`): GitHub, npm, GitLab and Grafana tokens carry one.
pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = CRC_TABLE[usize::from((c as u8) ^ b)] ^ (c >> 8);
    }
    !c
}

/// Value of a base62 number written with digits, then upper case, then lower case (GitHub's
/// token checksum alphabet); `None` past `u64` or on another character.
pub(super) fn base62(s: &str) -> Option<u64> {
    s.bytes().try_fold(0u64, |n, c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return None,
        };
        n.checked_mul(62)?.checked_add(u64::from(d))
    })
}

/// Value of a lower-case base36 number (Ruby's `to_s(36)`, GitLab's token checksum).
pub(super) fn base36(s: &str) -> Option<u64> {
    s.bytes().try_fold(0u64, |n, c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'z' => c - b'a' + 10,
            _ => return None,
        };
        n.checked_mul(36)?.checked_add(u64::from(d))
    })
}

/// Decodes base64 in either alphabet (`+/` or `-_`), padding optional; `None` on any other
/// character, on an impossible length or on padding before the end.
pub(super) fn base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The bech32 alphabet (BIP 173).
const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Whether `s` is bech32 (BIP 173, constant 1) with a valid checksum, either all upper or all
/// lower case: age secret keys are.
pub(super) fn bech32_ok(s: &str) -> bool {
    if s.bytes().any(|b| b.is_ascii_lowercase()) && s.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let Some(sep) = lower.rfind('1') else {
        return false;
    };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 {
        return false;
    }
    let mut values: Vec<u8> = hrp.bytes().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|c| c & 31));
    for c in data.bytes() {
        let Some(v) = BECH32.iter().position(|&x| x == c) else {
            return false;
        };
        values.push(v as u8);
    }
    polymod(&values) == 1
}

/// The bech32 checksum generator's remainder.
fn polymod(values: &[u8]) -> u32 {
    /// BIP 173's generator constants.
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk = 1u32;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// Whether `b` is one JSON object (RFC 8259 syntax, surrounding white space allowed).
pub(super) fn is_json_object(b: &[u8]) -> bool {
    let mut p = Json { b, i: 0 };
    p.ws();
    if p.peek() != Some(b'{') || !p.value(0) {
        return false;
    }
    p.ws();
    p.i == b.len()
}

/// Whether the JSON object `b` has the member `key` at its top level.
pub(super) fn json_has_key(b: &[u8], key: &str) -> bool {
    let mut p = Json { b, i: 0 };
    p.ws();
    if !p.eat(b'{') {
        return false;
    }
    loop {
        p.ws();
        let start = p.i;
        if !p.string() {
            return false;
        }
        if b.get(start + 1..p.i - 1) == Some(key.as_bytes()) {
            return true;
        }
        p.ws();
        if !p.eat(b':') || !p.value(1) {
            return false;
        }
        p.ws();
        if !p.eat(b',') {
            return false;
        }
    }
}

/// A recursive-descent JSON syntax checker.
struct Json<'a> {
    b: &'a [u8],
    i: usize,
}

impl Json<'_> {
    /// The next byte.
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    /// Consumes `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    /// Skips white space.
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    /// One value; `depth` bounds nesting.
    fn value(&mut self, depth: usize) -> bool {
        if depth > 64 {
            return false;
        }
        self.ws();
        match self.peek() {
            Some(b'{') => self.container(b'}', true, depth),
            Some(b'[') => self.container(b']', false, depth),
            Some(b'"') => self.string(),
            Some(b't') => self.word(b"true"),
            Some(b'f') => self.word(b"false"),
            Some(b'n') => self.word(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => false,
        }
    }
    /// An object (`keyed`) or an array, opening bracket next.
    fn container(&mut self, close: u8, keyed: bool, depth: usize) -> bool {
        self.i += 1;
        self.ws();
        if self.eat(close) {
            return true;
        }
        loop {
            if keyed {
                self.ws();
                if !self.string() {
                    return false;
                }
                self.ws();
                if !self.eat(b':') {
                    return false;
                }
            }
            if !self.value(depth + 1) {
                return false;
            }
            self.ws();
            if self.eat(close) {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
    }
    /// A string, opening quote next.
    fn string(&mut self) -> bool {
        if !self.eat(b'"') {
            return false;
        }
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => return true,
                b'\\' => {
                    if self.peek().is_none() {
                        return false;
                    }
                    self.i += 1;
                }
                0..=0x1f => return false,
                _ => {}
            }
        }
        false
    }
    /// A literal word.
    fn word(&mut self, w: &[u8]) -> bool {
        if self.b.get(self.i..self.i + w.len()) == Some(w) {
            self.i += w.len();
            true
        } else {
            false
        }
    }
    /// A number (lenient about its exact grammar).
    fn number(&mut self) -> bool {
        let start = self.i;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.i += 1;
        }
        self.i > start
    }
}

/// Known vectors.
#[cfg(test)]
mod tests {
    use super::*;

    /// zlib's check value.
    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// Number bases and both base64 alphabets.
    #[test]
    fn numbers_and_base64() {
        assert_eq!(base62("zz"), Some(61 * 62 + 61));
        assert_eq!(base62("0A"), Some(10));
        assert_eq!(base36("z1"), Some(35 * 36 + 1));
        assert_eq!(base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64("-_-_").as_deref(), Some(&[0xfb, 0xff, 0xbf][..]));
        assert_eq!(base64("a"), None);
        assert_eq!(base64("a.b"), None);
    }

    /// JSON objects and their top-level keys.
    #[test]
    fn json_syntax() {
        assert!(is_json_object(br#"{"alg":"HS256","typ":"JWT"}"#));
        assert!(is_json_object(
            br#" { "a" : [1, -2.5e3, true, null, {"b": "\"x"}] } "#
        ));
        assert!(!is_json_object(br#"{"alg":"HS256""#));
        assert!(!is_json_object(br#"{"alg":HS256}"#));
        assert!(!is_json_object(b"[1]"));
        assert!(json_has_key(br#"{"typ":"JWT","alg":"none"}"#, "alg"));
        assert!(!json_has_key(br#"{"typ":"JWT","x":{"alg":"none"}}"#, "alg"));
    }

    /// The age specification's example identity.
    #[test]
    fn bech32_age_spec_example() {
        // age's specification example identity (32 bytes of 0x42).
        let k = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
        assert!(bech32_ok(k));
        assert!(bech32_ok(&k.to_ascii_lowercase()));
        assert!(!bech32_ok(&k.replace("Q4EGAEX", "Q4EGAEY")));
    }

    /// Shannon entropy in bits.
    #[test]
    fn entropy_bits() {
        assert!(entropy("aaaa").abs() < 1e-6);
        assert!((entropy("abcd") - 2.0).abs() < 1e-6);
    }
}
