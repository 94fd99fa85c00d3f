//! Pattern recognizers for the structured entity types: a regular expression proposes
//! candidates, then checksums, issuing rules, boundaries and context words decide.

use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::Regex;

use crate::checksum;
use crate::context::{self, nearest, nearest_before};
use crate::{Candidate, EntityType, Why};

/// Letters outside ASCII that may appear in internationalised e-mail addresses (Latin, Greek,
/// Cyrillic, Hebrew, Arabic, Indic, Thai, CJK, Hangul); written as ranges because the regex
/// crate is built without Unicode tables.
const INTL: &str = r"\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{2AF}\u{370}-\u{3FF}\u{400}-\u{52F}\u{5D0}-\u{5EA}\u{620}-\u{64A}\u{900}-\u{DFF}\u{E00}-\u{E7F}\u{1E00}-\u{1FFF}\u{3040}-\u{30FF}\u{4E00}-\u{9FFF}\u{AC00}-\u{D7AF}";

/// Compiles a built-in pattern.
// The patterns are constants of this crate, compiled by `warm()` in every test run, so a failure
// here is a bug caught before release rather than a runtime condition.
#[allow(clippy::expect_used)]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in pattern compiles")
}

// The top-level domain is letters, or an IDNA A-label (`xn--p1ai`), tried first because the
// alternation is leftmost-first and `xn` alone would match the letters branch.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let l = INTL;
    re(&format!(
        r"[A-Za-z0-9_%+\-{l}](?:[A-Za-z0-9._%+\-{l}]*[A-Za-z0-9_%+\-{l}])?@(?:[A-Za-z0-9{l}](?:[A-Za-z0-9\-{l}]*[A-Za-z0-9{l}])?\.)+(?:[Xx][Nn]--[A-Za-z0-9]{{1,59}}|[A-Za-z{l}]{{2,24}})"
    ))
});
static URL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ff][Tt][Pp]://|[Ww][Ww][Ww]\.)[^\x00-\x20<>"'`{}|\\^\u{7F}-\u{A0}\u{2000}-\u{200F}\u{2028}-\u{202F}\u{3000}]+"#,
    )
});
// Each grouped form with one separator throughout, so that the optional fifth group cannot
// take the first digits of a neighbouring number grouped otherwise
// (`4012-8888-8888-1881 4012 8888 8888 1881`).
static CARD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"[0-9]{4}(?: [0-9]{4}){3}(?: [0-9]{3})?|[0-9]{4}(?:-[0-9]{4}){3}(?:-[0-9]{3})?|[0-9]{4} [0-9]{6} [0-9]{4,5}|[0-9]{4}-[0-9]{6}-[0-9]{4,5}|[0-9]{13,19}",
    )
});
static IBAN: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Z]{2}[0-9]{2}(?:[ \-]?[A-Z0-9]){10,32}"));
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| re(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?:/[0-9]{1,3})?"));
// Hex groups, then optionally an embedded IPv4 (`::ffff:192.0.2.1`), a zone (`%eth0`) and a
// prefix length; `Ipv6Addr` parsing decides.
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?:\.[0-9]{1,3}){3})?(?:%[0-9A-Za-z]{1,16})?(?:/[0-9]{1,3})?",
    )
});
// The last two alternatives are mis-grouped (`078-051121`, `07805-1121`), which Presidio
// reports at a very weak score; so does Warden (never reported by default).
static SSN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"[0-9]{3}[ \-.][0-9]{2}[ \-.][0-9]{4}|[0-9]{9}|[0-9]{3}-[0-9]{6}|[0-9]{5}-[0-9]{4}")
});
static TFN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"[0-9]{3}[ \-][0-9]{3}[ \-][0-9]{3}|[0-9]{9}|[0-9]{3}[ \-][0-9]{3}[ \-][0-9]{2}|[0-9]{8}")
});
static MEDICARE: LazyLock<Regex> =
    LazyLock::new(|| re(r"[2-6][0-9]{3}[ \-][0-9]{5}[ \-][0-9]|[2-6][0-9]{9}"));
static ABN: LazyLock<Regex> =
    LazyLock::new(|| re(r"[0-9]{2} [0-9]{3} [0-9]{3} [0-9]{3}|[0-9]{11}"));
static PHONE_INTL: LazyLock<Regex> = LazyLock::new(|| re(r"\+[0-9][0-9 .\-()]{5,24}[0-9]"));
static PHONE_NATIONAL: LazyLock<Regex> =
    LazyLock::new(|| re(r"\(?[0-9]{1,5}\)?(?:[ .\-]?\(?[0-9]{1,8}\)?){0,4}"));

/// Forces every regex of this module to compile.
pub(crate) fn warm() {
    for r in [
        &EMAIL,
        &URL,
        &CARD,
        &IBAN,
        &IPV4,
        &IPV6,
        &SSN,
        &TFN,
        &MEDICARE,
        &ABN,
        &PHONE_INTL,
        &PHONE_NATIONAL,
    ] {
        LazyLock::force(r);
    }
    warm_plans();
}

/// The bytes numbers are written with: digits and the separators of the number patterns
/// (`CARD`, `SSN`, `TFN`, `MEDICARE`, `ABN`, `IPV4`, `PHONE_INTL`, `PHONE_NATIONAL`: each
/// matches only these bytes, and has no look-around).
fn numeric(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b' ' | b'.' | b'-' | b'(' | b')' | b'/' | b'+')
}

/// The bytes an IBAN is written with (`IBAN` matches only these).
fn iban_byte(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_uppercase() || matches!(b, b' ' | b'-')
}

/// The stretches of a text where a pattern that matches only certain bytes, and needs a digit,
/// can match: the maximal runs of those bytes that hold a digit. Searching them instead of the
/// whole text finds the same matches (none can cross a byte outside the set, and every match
/// needs a digit), while prose is skipped in one pass instead of once per pattern: eight
/// patterns each read every byte of a 1 KB prompt before.
struct Stretches(Vec<(usize, usize)>);

impl Stretches {
    /// The stretches of `text` made of bytes `allowed` accepts.
    fn of(text: &str, allowed: impl Fn(u8) -> bool) -> Stretches {
        let mut out = Vec::new();
        let (mut start, mut digit) = (None, false);
        for (i, &b) in text.as_bytes().iter().enumerate() {
            if allowed(b) {
                start.get_or_insert(i);
                digit |= b.is_ascii_digit();
            } else if let Some(s) = start.take() {
                if digit {
                    out.push((s, i));
                }
                digit = false;
            }
        }
        if let Some(s) = start
            && digit
        {
            out.push((s, text.len()));
        }
        Stretches(out)
    }

    /// The matches of `re` in `text`, as `re.find_iter(text)` would find them.
    fn find_iter<'t>(&'t self, re: &'t Regex, text: &'t str) -> impl Iterator<Item = Found<'t>> {
        self.0.iter().flat_map(move |&(a, b)| {
            re.find_iter(&text[a..b]).map(move |m| Found {
                start: a + m.start(),
                end: a + m.end(),
                text: &text[a + m.start()..a + m.end()],
            })
        })
    }
}

/// One match found in a stretch, with offsets into the whole text.
struct Found<'t> {
    start: usize,
    end: usize,
    text: &'t str,
}

/// The three things the recognizers ask of a match, named as `regex::Match` names them.
impl<'t> Found<'t> {
    /// Where it starts in the whole text.
    fn start(&self) -> usize {
        self.start
    }
    /// Where it ends in the whole text.
    fn end(&self) -> usize {
        self.end
    }
    /// Its text.
    fn as_str(&self) -> &'t str {
        self.text
    }
}

/// Runs every recognizer enabled by `want`, appending candidates to `out`.
pub(crate) fn scan(
    text: &str,
    want: impl Fn(EntityType) -> bool,
    countries: &[&'static str],
    out: &mut Vec<Candidate>,
) {
    let nums = &Stretches::of(text, numeric);
    if want(EntityType::EMAIL_ADDRESS) {
        emails(text, out);
    }
    if want(EntityType::URL) {
        urls(text, out);
    }
    if want(EntityType::CREDIT_CARD) {
        cards(text, nums, out);
    }
    if want(EntityType::IBAN_CODE) {
        ibans(text, &Stretches::of(text, iban_byte), out);
    }
    if want(EntityType::IP_ADDRESS) {
        ipv4(text, nums, out);
        ipv6(text, out);
    }
    if want(EntityType::US_SSN) {
        ssns(text, nums, out);
    }
    if want(EntityType::AU_TFN) {
        tfns(text, nums, out);
    }
    if want(EntityType::AU_MEDICARE) {
        medicares(text, nums, out);
    }
    if want(EntityType::AU_ABN) {
        abns(text, nums, out);
    }
    if want(EntityType::PHONE_NUMBER) {
        phones(text, nums, countries, out);
    }
}

fn byte_at(text: &str, i: usize) -> u8 {
    text.as_bytes().get(i).copied().unwrap_or(b' ')
}

/// Whether `text[s..e]` stands alone as a number: not glued to letters or digits, and not one
/// group of a longer number (a digit followed by one of `seps` on either side).
fn isolated(text: &str, s: usize, e: usize, seps: &[u8]) -> bool {
    let b = text.as_bytes();
    if s > 0 {
        let p = b[s - 1];
        if p.is_ascii_alphanumeric() || p == b'_' {
            return false;
        }
        if seps.contains(&p) && s >= 2 && b[s - 2].is_ascii_digit() {
            return false;
        }
    }
    if e < b.len() {
        let n = b[e];
        if n.is_ascii_alphanumeric() || n == b'_' {
            return false;
        }
        if seps.contains(&n) && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
            return false;
        }
    }
    true
}

/// Whether each digit run just across one separator from `text[s..e]` (on either side that has
/// one) is card-length (13+ digits): then it is a number of its own, as in a list of card
/// numbers, rather than another group of the same number.
fn beside_long_numbers(text: &str, s: usize, e: usize) -> bool {
    let b = text.as_bytes();
    let run =
        |bytes: &mut dyn Iterator<Item = &u8>| bytes.take_while(|c| c.is_ascii_digit()).count();
    let before = match s.checked_sub(1) {
        Some(p) if !b[p].is_ascii_digit() => run(&mut b[..p].iter().rev()),
        _ => 0,
    };
    let after = match b.get(e) {
        Some(c) if !c.is_ascii_digit() => run(&mut b[e + 1..].iter()),
        _ => 0,
    };
    let own_number = |n: usize| n == 0 || n >= 13;
    own_number(before) && own_number(after)
}

/// Whether every non-digit character of `s` is the same separator.
fn consistent_separators(s: &str) -> bool {
    let mut sep = None;
    s.bytes()
        .filter(|b| !b.is_ascii_digit())
        .all(|b| *sep.get_or_insert(b) == b)
}

fn push(out: &mut Vec<Candidate>, entity: EntityType, s: usize, e: usize, score: f32, why: Why) {
    out.push(Candidate {
        entity,
        start: s,
        end: e,
        score: score.clamp(0.0, 1.0),
        why,
    });
}

fn emails(text: &str, out: &mut Vec<Candidate>) {
    for m in EMAIL.find_iter(text) {
        let (s, e) = (m.start(), m.end());
        let prev = text[..s].chars().next_back();
        if prev.is_some_and(|c| c == '@' || c == '.') {
            continue;
        }
        let next = text[e..].chars().next();
        if next.is_some_and(|c| c.is_alphanumeric() || c == '@') {
            continue;
        }
        push(
            out,
            EntityType::EMAIL_ADDRESS,
            s,
            e,
            0.95,
            Why::pattern("e-mail address"),
        );
    }
}

fn urls(text: &str, out: &mut Vec<Candidate>) {
    for m in URL.find_iter(text) {
        let s = m.start();
        let prev = text[..s].chars().next_back();
        if prev.is_some_and(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '/' | '-' | '_')) {
            continue;
        }
        let mut u = m.as_str();
        // Trailing punctuation belongs to the sentence, and a closing bracket only to the URL
        // when it opened one.
        while let Some(c) = u.chars().next_back() {
            let strip = match c {
                '.' | ',' | ';' | ':' | '!' | '?' | '*' | '\'' | '"' => true,
                ')' => u.matches('(').count() < u.matches(')').count(),
                ']' => u.matches('[').count() < u.matches(']').count(),
                _ => false,
            };
            if !strip {
                break;
            }
            u = &u[..u.len() - c.len_utf8()];
        }
        let lower_scheme = u.len() >= 4 && u.as_bytes()[..4].eq_ignore_ascii_case(b"www.");
        let rest = match u.find("://") {
            Some(i) => &u[i + 3..],
            None => u,
        };
        let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let host = &rest[..host_end];
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let host = host.split(':').next().unwrap_or(host);
        let labels: Vec<&str> = host.split('.').collect();
        let valid_host = host == "localhost"
            || host.starts_with('[')
            || (labels.len() >= 2
                && labels
                    .iter()
                    .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
                && labels.last().is_some_and(|t| t.len() >= 2));
        if !valid_host || (lower_scheme && labels.len() < 3) {
            continue;
        }
        let score = if lower_scheme { 0.8 } else { 0.9 };
        let why = Why::pattern(if lower_scheme {
            "www. address"
        } else {
            "URL with scheme"
        });
        push(out, EntityType::URL, s, s + u.len(), score, why);
    }
}

/// Schemes `checksum::card_scheme` does not know yet: UATP (1, fifteen digits) and Dankort
/// (5019, sixteen digits), both in Presidio's cases.
fn extra_card_scheme(d: &[u8]) -> Option<&'static str> {
    match (d.first(), d.len()) {
        (Some(1), 15) => Some("UATP"),
        (_, 16) if d[..4] == [5, 0, 1, 9] => Some("Dankort"),
        _ => None,
    }
}

/// The scheme of a card number's digits, if any.
fn scheme_of(d: &[u8]) -> Option<&'static str> {
    checksum::card_scheme(d).or_else(|| extra_card_scheme(d))
}

/// The spans of the card-shaped matches that are card numbers on their own digits (a known
/// scheme and Luhn), whatever their surroundings.
fn card_spans(text: &str, nums: &Stretches) -> Vec<(usize, usize)> {
    nums.find_iter(&CARD, text)
        .filter(|m| consistent_separators(m.as_str()))
        .filter(|m| {
            checksum::digits(m.as_str(), 19)
                .is_some_and(|d| scheme_of(&d).is_some() && warden_sdk::checksum::luhn_digits(&d))
        })
        .map(|m| (m.start(), m.end()))
        .collect()
}

/// Whether `text[s..e]` is one of a list of card numbers: not glued to letters or digits, and
/// where a digit follows a separator on either side, that neighbour is a card number of its
/// own (`4012888888881881 4012-8888-8888-1881`), not another group of this one.
fn among_cards(text: &str, s: usize, e: usize, spans: &[(usize, usize)]) -> bool {
    let b = text.as_bytes();
    if !isolated(text, s, e, b"") {
        return false;
    }
    let sep = |c: u8| c == b' ' || c == b'-';
    let before = s < 2
        || !(sep(b[s - 1]) && b[s - 2].is_ascii_digit())
        || spans.iter().any(|&(_, pe)| pe == s - 1);
    let after = e + 1 >= b.len()
        || !(sep(b[e]) && b[e + 1].is_ascii_digit())
        || spans.iter().any(|&(ns, _)| ns == e + 1);
    before && after
}

fn cards(text: &str, nums: &Stretches, out: &mut Vec<Candidate>) {
    let spans = card_spans(text, nums);
    for m in nums.find_iter(&CARD, text) {
        let (s, mut e) = (m.start(), m.end());
        let mut t = m.as_str();
        if !consistent_separators(t) {
            continue;
        }
        let grouped = t.bytes().any(|b| !b.is_ascii_digit());
        // A 4-4-4-4 card followed by another short number: try without the last group.
        let mut tries = 0;
        loop {
            tries += 1;
            let Some(d) = checksum::digits(t, 19) else {
                break;
            };
            let scheme = scheme_of(&d);
            // A grouped number continues only with its own separator: a hyphen-grouped card
            // followed by a space and digits (a CVV, a quantity) still stands alone.
            let own: &[u8] = match t.bytes().find(|b| !b.is_ascii_digit()) {
                Some(b'-') => b"-",
                Some(b' ') => b" ",
                _ => b" -",
            };
            let alone = isolated(text, s, e, own)
                || (!grouped && isolated(text, s, e, b"") && beside_long_numbers(text, s, e))
                || among_cards(text, s, e, &spans);
            if alone && scheme.is_some() && warden_sdk::checksum::luhn_digits(&d) {
                let mut score = if grouped { 0.75 } else { 0.6 };
                let mut why = Why::pattern(scheme.unwrap_or("card")).check("Luhn");
                if let Some((w, _)) = nearest(text, s, e, 40, 24, context::CARD) {
                    score += 0.2;
                    why = why.context(w);
                } else if let Some((w, _)) = nearest_before(text, s, 20, context::NOT_PERSONAL) {
                    score -= 0.35;
                    why = why.context(w);
                }
                push(out, EntityType::CREDIT_CARD, s, e, score, why);
                break;
            }
            if tries > 1 || !(grouped && t.len() == 23) {
                break;
            }
            t = &t[..19];
            e = s + 19;
        }
    }
}

fn ibans(text: &str, codes: &Stretches, out: &mut Vec<Candidate>) {
    for m in codes.find_iter(&IBAN, text) {
        let s = m.start();
        if s > 0 && byte_at(text, s - 1).is_ascii_alphanumeric() {
            continue;
        }
        let t = m.as_str().as_bytes();
        let Some(len) = checksum::iban_length(&t[..2]) else {
            continue;
        };
        let mut compact = Vec::with_capacity(len);
        let mut end = 0;
        let mut sep = None;
        let mut mixed = false;
        for (i, &c) in t.iter().enumerate() {
            if matches!(c, b' ' | b'-') {
                mixed |= *sep.get_or_insert(c) != c;
            } else {
                compact.push(c);
                if compact.len() == len {
                    end = i + 1;
                    break;
                }
            }
        }
        // Printed IBANs group with spaces or (less often) hyphens, never both.
        if compact.len() != len || mixed {
            continue;
        }
        let e = s + end;
        // The IBAN must end at a word boundary (a following group would make it too long).
        if byte_at(text, e).is_ascii_alphanumeric() {
            continue;
        }
        if byte_at(text, e) == b'-' && byte_at(text, e + 1).is_ascii_alphanumeric() {
            continue;
        }
        if byte_at(text, e) == b' ' {
            let after = text.as_bytes().get(e + 1..).unwrap_or_default();
            let next: Vec<u8> = after
                .iter()
                .copied()
                .take_while(u8::is_ascii_alphanumeric)
                .collect();
            if (1..=4).contains(&next.len()) && next.iter().all(u8::is_ascii_digit) {
                continue;
            }
        }
        if !warden_sdk::checksum::iban_mod97_compact(&compact) {
            continue;
        }
        push(
            out,
            EntityType::IBAN_CODE,
            s,
            e,
            0.95,
            Why::pattern("IBAN").check("mod 97 and country length"),
        );
    }
}

fn ipv4(text: &str, nums: &Stretches, out: &mut Vec<Candidate>) {
    for m in nums.find_iter(&IPV4, text) {
        let (s, mut e) = (m.start(), m.end());
        let b = text.as_bytes();
        if s > 0 && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'.') {
            continue;
        }
        if e < b.len()
            && (b[e].is_ascii_alphanumeric()
                || (b[e] == b'.' && b.get(e + 1).is_some_and(u8::is_ascii_digit)))
        {
            continue;
        }
        let t = m.as_str();
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (t, None),
        };
        let ok = addr.split('.').all(|o| {
            o.parse::<u16>().is_ok_and(|v| v <= 255) && !(o.len() > 1 && o.starts_with('0'))
        });
        if !ok {
            continue;
        }
        if let Some(p) = prefix
            && !p.parse::<u8>().is_ok_and(|v| v <= 32)
        {
            e = s + addr.len();
        }
        // A version word before the quad outweighs network words after it; a network word
        // between the version word and the quad wins.
        let ip_ctx = nearest(text, s, e, 40, 24, context::IP);
        let ip_before = nearest_before(text, s, 40, context::IP);
        let ver_ctx = nearest_before(text, s, 40, context::VERSION);
        let mut why = Why::pattern("IPv4 address");
        let score = match (ip_ctx, ver_ctx) {
            (_, Some((v, dv))) if ip_before.is_none_or(|(_, di)| dv < di) => {
                why = why.context(v);
                0.1
            }
            (Some((w, _)), _) => {
                why = why.context(w);
                0.9
            }
            _ => 0.65,
        };
        push(out, EntityType::IP_ADDRESS, s, e, score, why);
    }
}

fn ipv6(text: &str, out: &mut Vec<Candidate>) {
    for m in IPV6.find_iter(text) {
        let s = m.start();
        let b = text.as_bytes();
        if s > 0 && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b':' | b'.')) {
            continue;
        }
        let mut t = m.as_str();
        let mut tail = "";
        if let Some(i) = t.find(['%', '/']) {
            tail = &t[i..];
            t = &t[..i];
        }
        while t.ends_with(':') && !t.ends_with("::") {
            t = &t[..t.len() - 1];
            tail = "";
        }
        let e_addr = s + t.len();
        if e_addr < b.len()
            && tail.is_empty()
            && (b[e_addr].is_ascii_alphanumeric()
                || (b[e_addr] == b'.' && b.get(e_addr + 1).is_some_and(u8::is_ascii_digit)))
        {
            continue;
        }
        let groups: Vec<&str> = t.split(':').filter(|g| !g.is_empty()).collect();
        // Short groups only are times and ratios (`11:43:58`, `1::2`); the loopback `::1` is
        // the exception everyone writes. An embedded IPv4 address (`::192.168.1.1`) counts as
        // a long group, and so does one long group before `::` with a prefix length: a
        // network (`fe80::/10`).
        let long_group = groups.len() >= 2 && groups.iter().any(|g| g.len() >= 3);
        let embedded_v4 = groups.last().is_some_and(|g| g.contains('.'));
        let network =
            groups.len() == 1 && groups[0].len() >= 3 && t.ends_with("::") && tail.starts_with('/');
        // The unspecified address `::` is no host at all: kept, as Presidio does, at a score
        // no context raises to a finding.
        let unspecified = t == "::";
        if !(long_group || embedded_v4 || network || unspecified || t == "::1") {
            continue;
        }
        if t.parse::<Ipv6Addr>().is_err() {
            continue;
        }
        // A zone (`%eth0`) is part of a scoped address; a prefix length only when in range.
        let (zone, prefix) = match tail.strip_prefix('%') {
            Some(z) => z.split_once('/').map_or((z, None), |(z, p)| (z, Some(p))),
            None => ("", tail.strip_prefix('/')),
        };
        let mut e = e_addr;
        if !zone.is_empty() {
            e += 1 + zone.len();
        }
        if let Some(p) = prefix
            && p.parse::<u8>().is_ok_and(|v| v <= 128)
        {
            e += 1 + p.len();
        }
        if e < b.len() && b[e].is_ascii_alphanumeric() {
            continue;
        }
        if unspecified {
            let why = Why::pattern("unspecified IPv6 address");
            push(out, EntityType::IP_ADDRESS, s, e, 0.1, why);
            continue;
        }
        let mut why = Why::pattern("IPv6 address");
        let mut score = 0.8;
        if let Some((w, _)) = nearest(text, s, e, 40, 24, context::IP) {
            score = 0.95;
            why = why.context(w);
        }
        push(out, EntityType::IP_ADDRESS, s, e, score, why);
    }
}

fn ssns(text: &str, nums: &Stretches, out: &mut Vec<Candidate>) {
    for m in nums.find_iter(&SSN, text) {
        let (s, e) = (m.start(), m.end());
        let t = m.as_str();
        // One hyphen in ten characters: mis-grouped. A space beside it separates it from
        // another number rather than continuing this one (`078-051121 07805-1121`).
        let misgrouped = t.len() == 10;
        let seps: &[u8] = if misgrouped { b"-./" } else { b" -./" };
        if !consistent_separators(t) || !isolated(text, s, e, seps) {
            continue;
        }
        let Some(d) = checksum::digits(t, 9) else {
            continue;
        };
        if !checksum::ssn(&d) {
            continue;
        }
        let (mut score, boost, pat) = match t.as_bytes()[3] {
            _ if misgrouped => (0.1, 0.3, "SSN, mis-grouped"),
            b'-' => (0.6, 0.35, "SSN ddd-dd-dddd"),
            b' ' => (0.5, 0.4, "SSN ddd dd dddd"),
            // Dotted groups are rarer and look like other dotted numbers: reported only with
            // a context word.
            b'.' => (0.4, 0.5, "SSN ddd.dd.dddd"),
            _ => (0.2, 0.6, "nine digits"),
        };
        let mut why = Why::pattern(pat).check("SSA issuing rules");
        if let Some((w, _)) = nearest(text, s, e, 64, 48, context::SSN) {
            score += boost;
            why = why.context(w);
        } else if let Some((w, _)) = nearest_before(text, s, 20, context::NOT_PERSONAL) {
            score -= 0.3;
            why = why.context(w);
        }
        push(out, EntityType::US_SSN, s, e, score, why);
    }
}

fn tfns(text: &str, nums: &Stretches, out: &mut Vec<Candidate>) {
    for m in nums.find_iter(&TFN, text) {
        let (s, e) = (m.start(), m.end());
        let t = m.as_str();
        if !consistent_separators(t) || !isolated(text, s, e, b" -./") {
            continue;
        }
        let Some(d) = checksum::digits(t, 9) else {
            continue;
        };
        if !checksum::tfn(&d) {
            continue;
        }
        let grouped = t.len() > d.len();
        // A checksum-valid number is reported without a context word (Presidio reports every
        // valid one); a word saying it is an order or reference number lowers it below.
        let (mut score, boost) = match (d.len(), grouped) {
            (9, true) => (0.55, 0.4),
            (9, false) => (0.5, 0.45),
            _ => (0.2, 0.6),
        };
        let mut why = Why::pattern("tax file number").check("TFN mod 11");
        if let Some((w, _)) = nearest(text, s, e, 64, 40, context::TFN) {
            score += boost;
            why = why.context(w);
        } else if let Some((w, _)) = nearest_before(text, s, 20, context::NOT_PERSONAL) {
            score -= 0.3;
            why = why.context(w);
        }
        push(out, EntityType::AU_TFN, s, e, score, why);
    }
}

fn medicares(text: &str, nums: &Stretches, out: &mut Vec<Candidate>) {
    for m in nums.find_iter(&MEDICARE, text) {
        let (s, e) = (m.start(), m.end());
        let t = m.as_str();
        if !consistent_separators(t) || !isolated(text, s, e, b" -./") {
            continue;
        }
        let Some(d) = checksum::digits(t, 10) else {
            continue;
        };
        if !checksum::medicare(&d) {
            continue;
        }
        let grouped = t.len() > d.len();
        let (mut score, boost) = if grouped { (0.65, 0.3) } else { (0.5, 0.45) };
        let mut why = Why::pattern("Medicare number").check("Medicare check digit");
        if let Some((w, _)) = nearest(text, s, e, 64, 40, context::MEDICARE) {
            score += boost;
            why = why.context(w);
        } else if let Some((w, _)) = nearest_before(text, s, 20, context::NOT_PERSONAL) {
            score -= 0.3;
            why = why.context(w);
        }
        push(out, EntityType::AU_MEDICARE, s, e, score, why);
    }
}

fn abns(text: &str, nums: &Stretches, out: &mut Vec<Candidate>) {
    for m in nums.find_iter(&ABN, text) {
        let (s, e) = (m.start(), m.end());
        let t = m.as_str();
        if !isolated(text, s, e, b" -./") {
            continue;
        }
        let Some(d) = checksum::digits(t, 11) else {
            continue;
        };
        if !checksum::abn(&d) {
            continue;
        }
        let grouped = t.len() > d.len();
        let (mut score, boost) = if grouped { (0.6, 0.35) } else { (0.5, 0.45) };
        let mut why = Why::pattern("ABN").check("ABN mod 89");
        if let Some((w, _)) = nearest(text, s, e, 64, 40, context::ABN) {
            score += boost;
            why = why.context(w);
        } else if let Some((w, _)) = nearest_before(text, s, 20, context::NOT_PERSONAL) {
            score -= 0.3;
            why = why.context(w);
        }
        push(out, EntityType::AU_ABN, s, e, score, why);
    }
}

/// One run of digits in a phone-number candidate.
#[derive(Clone, Copy)]
struct Group {
    /// Byte offset just past the group (in the candidate).
    end: usize,
    /// Number of digits.
    len: usize,
    /// Whether the group is wrapped in parentheses.
    paren: bool,
    /// The separator before the group (`0` for none).
    sep: u8,
}

/// Splits a candidate into digit groups; `None` when brackets are unbalanced or misplaced.
fn groups(t: &str) -> Option<Vec<Group>> {
    let mut out: Vec<Group> = Vec::new();
    let mut open = false;
    let mut last = 0u8;
    let mut cur: Option<Group> = None;
    for (i, c) in t.bytes().enumerate() {
        if c.is_ascii_digit() {
            let g = cur.get_or_insert(Group {
                end: i,
                len: 0,
                paren: open,
                sep: last,
            });
            g.len += 1;
            g.end = i + 1;
            continue;
        }
        if let Some(mut g) = cur.take() {
            if c == b')' {
                g.end = i + 1;
            }
            out.push(g);
        }
        match c {
            b'(' if open => return None,
            b'(' => open = true,
            b')' if !open => return None,
            b')' => open = false,
            _ if open => return None,
            _ => {}
        }
        last = c;
    }
    if open {
        return None;
    }
    out.extend(cur);
    Some(out)
}

fn phones(text: &str, nums: &Stretches, countries: &[&'static str], out: &mut Vec<Candidate>) {
    for m in nums.find_iter(&PHONE_INTL, text) {
        let s = m.start();
        if s > 0 && byte_at(text, s - 1).is_ascii_alphanumeric() {
            continue;
        }
        if let Some((e, score, why)) = international(m.as_str()) {
            phone_candidate(text, s, s + e, score, why, out);
        }
    }
    for m in nums.find_iter(&PHONE_NATIONAL, text) {
        let s = m.start();
        let b = text.as_bytes();
        if s > 0
            && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'+' | b'.' | b'-' | b'/'))
        {
            continue;
        }
        if let Some((e, score, why)) = national(m.as_str()) {
            phone_candidate(text, s, s + e, score, why, out);
        } else if !after_code(text, s)
            && let Some((e, score, why)) = national_elsewhere(m.as_str(), countries)
        {
            phone_candidate(text, s, s + e, score, why, out);
        }
    }
}

fn phone_candidate(
    text: &str,
    s: usize,
    e: usize,
    mut score: f32,
    mut why: Why,
    out: &mut Vec<Candidate>,
) {
    let b = text.as_bytes();
    if e < b.len()
        && (b[e].is_ascii_alphanumeric()
            || (matches!(b[e], b'-' | b'.' | b'/') && b.get(e + 1).is_some_and(u8::is_ascii_digit)))
    {
        return;
    }
    if let Some((w, _)) = nearest(text, s, e, 40, 24, context::PHONE) {
        score += 0.25;
        why = why.context(w);
    }
    push(out, EntityType::PHONE_NUMBER, s, e, score, why);
}

/// Validates an international (`+`) candidate against the numbering plan of its country code
/// (libphonenumber's metadata), trying shorter prefixes of its digit groups.
fn international(t: &str) -> Option<(usize, f32, Why)> {
    let body = &t[1..];
    let gs = groups(body)?;
    for n in (1..=gs.len()).rev() {
        let end = 1 + gs[n - 1].end;
        let cand = &t[..end];
        if cand.ends_with(['(', ' ', '-', '.']) {
            continue;
        }
        // A "(0)" trunk prefix after the country code is not part of the number.
        let plain = cand.replacen("(0)", "", 1);
        if valid_number(None, &plain) {
            return Some((
                end,
                0.75,
                Why::pattern("international (E.164) number").check("numbering plan"),
            ));
        }
    }
    None
}

/// Whether `number` is a valid number of `region` (or, with `None`, of the country its `+`
/// code names) by libphonenumber's metadata.
fn valid_number(region: Option<&str>, number: &str) -> bool {
    let region = match region.map(str::parse::<phonenumber::country::Id>) {
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return false,
        None => None,
    };
    let parsed = match region {
        Some(_) => phonenumber::parse(region, number).ok(),
        None => crate::plans::parse_international(number),
    };
    parsed.is_some_and(|n| crate::plans::is_valid(&n))
}

/// Whether a national number of `digits` digits (a trunk prefix included or not) has a length
/// `region`'s numbering plan allows at all: a cheap test that spares most of the full parses,
/// each of which runs several of the plan's regexes.
fn possible_length(region: &str, digits: usize) -> bool {
    let Some(meta) = phonenumber::metadata::DATABASE.by_id(region) else {
        return false;
    };
    let lengths = meta.descriptors().general().possible_length();
    lengths.is_empty()
        || lengths
            .iter()
            .any(|&l| usize::from(l) == digits || usize::from(l) + 1 == digits)
}

/// Regions whose numbering plans are compiled before the first call (the pre-initialised
/// snapshot keeps them): the national fallbacks, the catalogue's countries and the most
/// common international codes. Others compile on first use.
const WARM_REGIONS: &[&str] = &[
    "US", "GB", "AU", "CA", "NZ", "IE", "JP", "CN", "DE", "FR", "IT", "ES", "IN", "BR", "MX", "KR",
    "NL", "PH", "TR", "NG", "ZA", "SG", "FI", "SE", "PL", "TH", "BE", "CH", "AT", "PT", "DK", "NO",
    "RU", "HK", "AE", "IL",
];

/// How many of libphonenumber's regexes stay compiled: its default of 100 is smaller than the
/// plans of [`WARM_REGIONS`], and an evicted regex is compiled again on its next use.
const PLAN_REGEXES: usize = 4096;

/// Compiles the numbering plans of [`WARM_REGIONS`] by validating each plan's example numbers,
/// national and international.
fn warm_plans() {
    if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
        cache.set_capacity(PLAN_REGEXES);
    }
    crate::plans::warm();
    for region in WARM_REGIONS {
        let Some(meta) = phonenumber::metadata::DATABASE.by_id(*region) else {
            continue;
        };
        let code = meta.country_code();
        let d = meta.descriptors();
        let examples = [d.fixed_line(), d.mobile(), d.toll_free(), d.voip()]
            .into_iter()
            .flatten()
            .filter_map(|desc| desc.example());
        for example in examples {
            let national = format!("{}{example}", meta.national_prefix().unwrap_or(""));
            let _ = valid_number(Some(region), &national);
            let _ = valid_number(None, &format!("+{code} {example}"));
        }
    }
}

/// Whether the word just before `s` (one space away) is an upper-case code such as `INGB`,
/// `NL49` or `ABN`: then the digits that follow continue that identifier, not a phone number.
fn after_code(text: &str, s: usize) -> bool {
    let Some(before) = text[..s].strip_suffix(' ') else {
        return false;
    };
    let word: &str = before
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or("");
    word.len() >= 2
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Regions whose national formats are tried for a number none of the US/UK/AU shapes takes,
/// besides the caller's countries: the most populous numbering plans that print a trunk `0`
/// or (China) an 11-digit mobile number.
const NATIONAL_REGIONS: &[&str] = &[
    "JP", "CN", "DE", "FR", "IT", "ES", "IN", "BR", "MX", "KR", "NL", "PH", "TR", "NG", "ZA",
];

/// Validates a national candidate of another country against its numbering plan: 9 to 11
/// digits, with the trunk `0` most plans print or as a Chinese mobile number; the caller's
/// countries are tried first, and for them a number without its trunk `0` counts too (the
/// caller said whose numbers these are; `532 123 45 67` is a Turkish mobile, but without that
/// it is ten digits of anything; such a number scores 0.3, reported at the default threshold
/// only with a phone word near it). Found bare, a number scores under the default threshold
/// unless a phone word is near it.
fn national_elsewhere(t: &str, countries: &[&'static str]) -> Option<(usize, f32, Why)> {
    let gs = groups(t)?;
    if gs.iter().any(|g| g.paren) && !gs[0].paren {
        return None;
    }
    for n in (1..=gs.len().min(5)).rev() {
        let gs = &gs[..n];
        let end = gs[n - 1].end;
        let cand = &t[..end];
        let digits: Vec<u8> = cand.bytes().filter(u8::is_ascii_digit).collect();
        if !(9..=11).contains(&digits.len()) {
            continue;
        }
        let seps: Vec<u8> = gs.iter().skip(1).map(|g| g.sep).collect();
        if !consistent_separators(&seps.iter().map(|&c| char::from(c)).collect::<String>()) {
            continue;
        }
        let trunk = digits[0] == b'0';
        // Chinese mobile numbers print bare or as 3-4-4.
        let lens: Vec<usize> = gs.iter().map(|g| g.len).collect();
        let cn_mobile = digits.len() == 11
            && digits[0] == b'1'
            && (b'3'..=b'9').contains(&digits[1])
            && matches!(lens.as_slice(), [11] | [3, 4, 4]);
        // Without a trunk prefix only the caller's own countries are asked.
        let only_callers = !trunk && !cn_mobile;
        if only_callers && countries.is_empty() {
            continue;
        }
        let others = NATIONAL_REGIONS
            .iter()
            .copied()
            .filter(|r| !only_callers && !countries.contains(r));
        let regions = countries.iter().copied().chain(others);
        for region in regions {
            if !possible_length(region, digits.len()) {
                continue;
            }
            if valid_number(Some(region), cand) {
                // Without its trunk prefix a number needs a phone word nearby to be reported
                // at the default threshold (0.3 + 0.25).
                let score = if only_callers {
                    0.3
                } else if n > 1 {
                    0.5
                } else {
                    0.4
                };
                return Some((
                    end,
                    score,
                    Why::pattern("national number").check("numbering plan"),
                ));
            }
        }
    }
    None
}

/// Validates a national US/UK/AU candidate, trying shorter prefixes of its digit groups.
fn national(t: &str) -> Option<(usize, f32, Why)> {
    let gs = groups(t)?;
    for n in (1..=gs.len().min(4)).rev() {
        let gs = &gs[..n];
        let end = gs[n - 1].end;
        let lens: Vec<usize> = gs.iter().map(|g| g.len).collect();
        let digits: Vec<u8> = t[..end].bytes().filter(u8::is_ascii_digit).collect();
        let nd = digits.len();
        if !(10..=11).contains(&nd) {
            continue;
        }
        let seps: Vec<u8> = gs.iter().skip(1).map(|g| g.sep).collect();
        let spaced = seps.iter().all(|&c| c == b' ' || c == b')');
        let d = |i: usize| digits.get(i).copied().unwrap_or(b'0');
        // North American: [1] (NXX) NXX-XXXX.
        let nanp_groups = match lens.as_slice() {
            [3, 3, 4] => Some(0),
            [1, 3, 3, 4] if d(0) == b'1' => Some(1),
            _ => None,
        };
        if let Some(off) = nanp_groups
            && (b'2'..=b'9').contains(&d(off))
            && (b'2'..=b'9').contains(&d(off + 3))
        {
            let styled =
                gs[off].paren || seps.iter().all(|&c| c == b'-') || seps.iter().all(|&c| c == b'.');
            let mixed_ok = gs[off].paren && !gs[off + 1..].iter().any(|g| g.paren);
            if styled || mixed_ok || spaced {
                let score = if styled || mixed_ok { 0.7 } else { 0.55 };
                return Some((end, score, Why::pattern("North American number")));
            }
        }
        if gs.iter().any(|g| g.paren) && !(gs[0].paren && n > 1 && gs[1..].iter().all(|g| !g.paren))
        {
            continue;
        }
        if d(0) != b'0' {
            // Australian 1300 / 1800 numbers.
            if nd == 10
                && d(0) == b'1'
                && matches!(d(1), b'3' | b'8')
                && d(2) == b'0'
                && d(3) == b'0'
                && matches!(lens.as_slice(), [4, 3, 3] | [10])
            {
                return Some((
                    end,
                    if n == 1 { 0.45 } else { 0.6 },
                    Why::pattern("Australian 1300/1800 number"),
                ));
            }
            continue;
        }
        if !(spaced || seps.iter().all(|&c| c == b'-')) {
            continue;
        }
        // Australian: 0X XXXX XXXX, 04XX XXX XXX, (0X) XXXX XXXX, or ten digits.
        if nd == 10 && matches!(d(1), b'2' | b'3' | b'4' | b'7' | b'8') {
            let shape_ok = match lens.as_slice() {
                [2, 4, 4] => true,
                [4, 3, 3] => d(1) == b'4',
                [10] => true,
                _ => false,
            };
            if shape_ok {
                let score = match (n, d(1)) {
                    (1, b'4') => 0.5,
                    (1, _) => 0.4,
                    _ => 0.65,
                };
                return Some((end, score, Why::pattern("Australian number")));
            }
        }
        // United Kingdom: 0XXX XXX XXXX, 0XX XXXX XXXX, 07XXX XXXXXX, 0XXXX XXXXXX, or eleven digits.
        if nd == 11 && matches!(d(1), b'1' | b'2' | b'3' | b'7' | b'8') {
            let shape_ok = matches!(
                lens.as_slice(),
                [4, 3, 4] | [3, 4, 4] | [5, 6] | [5, 3, 3] | [4, 7] | [11]
            );
            if shape_ok {
                let score = if n == 1 { 0.45 } else { 0.65 };
                return Some((end, score, Why::pattern("United Kingdom number")));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::{DetectOptions, EntityType, detect};

    /// The spans and scores of `entity` in `text`, with only that type asked for at `min`.
    fn found(entity: &str, text: &str, min: f32) -> Vec<(usize, usize, f32)> {
        let opts = DetectOptions::from_wire(&[entity], &[] as &[&str], Some(min), false)
            .unwrap_or_else(|e| panic!("{e:?}"));
        detect(text, &opts)
            .into_iter()
            .map(|f| (f.start, f.end, f.score))
            .collect()
    }

    /// The unspecified address `::` is a candidate (as in Presidio) but never a finding at the
    /// default threshold, even beside a network word; `::` in code is not even a candidate
    /// when glued to a name.
    #[test]
    fn unspecified_ipv6_is_never_reported() {
        for text in [
            "Use local ipv6 ::",
            "server :: up",
            "x :: Int",
            "src=:: dst",
        ] {
            assert!(found("IP_ADDRESS", text, 0.5).is_empty(), "{text}");
        }
        assert!(found("IP_ADDRESS", "std::cout and Foo::bar", 0.0).is_empty());
        let all = detect("Use local ipv6 ::", &DetectOptions::default());
        assert!(all.iter().all(|f| f.entity_type != EntityType::IP_ADDRESS));
    }

    /// A network with one group before `::` needs its prefix length; an IPv4-compatible
    /// address is one span; an out-of-range IPv4 prefix is left out of the span.
    #[test]
    fn ipv6_networks_and_embedded_ipv4() {
        assert_eq!(found("IP_ADDRESS", "fe80::/10", 0.5).len(), 1);
        assert!(found("IP_ADDRESS", "cafe:: is open", 0.0).is_empty());
        assert_eq!(found("IP_ADDRESS", "::10.0.0.1", 0.5)[0].0, 0);
        assert_eq!(found("IP_ADDRESS", "10.0.0.0/123", 0.5)[0].1, 8);
        assert_eq!(found("IP_ADDRESS", "10.0.0.0/24", 0.5)[0].1, 11);
    }

    /// Mis-grouped SSNs are very weak candidates: not reported by default even beside "SSN".
    #[test]
    fn misgrouped_ssn_is_never_reported() {
        assert_eq!(found("US_SSN", "078-051121 07805-1121", 0.0).len(), 2);
        assert!(found("US_SSN", "SSN 078-051121", 0.5).is_empty());
        assert!(found("US_SSN", "order 12345-6789 shipped", 0.5).is_empty());
    }

    /// Card numbers listed with spaces between them are each found, whatever their grouping;
    /// a card followed by a short number grouped differently is still found alone, and two
    /// numbers that are not cards on their own do not make a card.
    #[test]
    fn lists_of_cards() {
        let t = "4111111111111111 5555-5555-5555-4444 4012 8888 8888 1881";
        assert_eq!(found("CREDIT_CARD", t, 0.5).len(), 3);
        let t = "card 4012-8888-8888-1881 123 ok";
        assert_eq!(found("CREDIT_CARD", t, 0.5), vec![(5, 24, 0.95)]);
        assert!(found("CREDIT_CARD", "ref 4111111111111112 4111111111111113", 0.0).is_empty());
        assert_eq!(found("CREDIT_CARD", "UATP 122000000000003", 0.5).len(), 1);
        assert_eq!(
            found("CREDIT_CARD", "Dankort 5019717010103742", 0.5).len(),
            1
        );
    }

    /// Every byte `hir` can match is one `allowed` accepts, it looks at nothing around its
    /// match, and every match holds a digit: what [`super::Stretches`] relies on.
    fn confined(hir: &regex_syntax::hir::Hir, allowed: fn(u8) -> bool) -> bool {
        use regex_syntax::hir::{Class, HirKind};
        match hir.kind() {
            HirKind::Empty => true,
            HirKind::Look(_) => false,
            HirKind::Literal(l) => l.0.iter().all(|b| allowed(*b)),
            HirKind::Class(Class::Bytes(c)) => c
                .ranges()
                .iter()
                .all(|r| (r.start()..=r.end()).all(allowed)),
            HirKind::Class(Class::Unicode(c)) => c
                .ranges()
                .iter()
                .all(|r| (r.start()..=r.end()).all(|ch| u8::try_from(ch).is_ok_and(allowed))),
            HirKind::Repetition(r) => confined(&r.sub, allowed),
            HirKind::Capture(c) => confined(&c.sub, allowed),
            HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().all(|h| confined(h, allowed)),
        }
    }

    #[test]
    fn the_number_patterns_match_only_inside_their_stretches() {
        use super::*;
        type Allowed = fn(u8) -> bool;
        let numbers: [(&Regex, Allowed); 9] = [
            (&CARD, numeric),
            (&SSN, numeric),
            (&TFN, numeric),
            (&MEDICARE, numeric),
            (&ABN, numeric),
            (&IPV4, numeric),
            (&PHONE_INTL, numeric),
            (&PHONE_NATIONAL, numeric),
            (&IBAN, iban_byte),
        ];
        for (re, allowed) in numbers {
            let hir = regex_syntax::Parser::new()
                .parse(re.as_str())
                .expect("parses");
            assert!(
                confined(&hir, allowed),
                "{} matches outside its stretches",
                re.as_str()
            );
            assert!(
                crate::recognizers::digit_run(re.as_str()) >= 1,
                "{} can match without a digit",
                re.as_str()
            );
        }
        // The same matches as a search of the whole text, on the corpus and on awkward text.
        let corpus = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pii/dev.jsonl"),
        )
        .expect("the shared corpus");
        let awkward = [
            "+1 (212) 555-0147/8 or 4111 1111 1111 1111-1234, ip 10.0.0.1/24.",
            "DE89 3704 0044 0532 0130 00DE89370400440532013000 GB82-WEST-1234-5698-7654-32",
            "(03) 9999 9999 ext. 12; 123-45-6789; 123 456 782; 12 345 678 901.",
            "9",
            "a1b2 3c4 5.6.7.8.9.10 --99-- ((7)) ++44 20 7946 0958",
        ];
        let mut compared = 0;
        for text in corpus.lines().chain(awkward) {
            for (re, allowed) in numbers {
                let whole: Vec<(usize, usize)> =
                    re.find_iter(text).map(|m| (m.start(), m.end())).collect();
                let stretches: Vec<(usize, usize)> = Stretches::of(text, allowed)
                    .find_iter(re, text)
                    .map(|m| (m.start(), m.end()))
                    .collect();
                assert_eq!(whole, stretches, "{} in {text:?}", re.as_str());
                compared += whole.len();
            }
        }
        assert!(compared > 1000, "too few matches compared: {compared}");
    }
}
