//! Context words: keywords near a candidate that make it more (or less) likely to be real.

/// Words that make a nearby number an `AU_TFN`.
pub(crate) const TFN: &[&str] = &["tfn", "tax file", "tax-file", "taxfile"];
/// Words that make a nearby number a `US_SSN`.
pub(crate) const SSN: &[&str] = &[
    "ssn",
    "ssns",
    "social security",
    "social-security",
    "ss#",
    "ssn#",
];
/// Words that make a nearby number an `AU_MEDICARE` number.
pub(crate) const MEDICARE: &[&str] = &["medicare"];
/// Words that make a nearby number an `AU_ABN`.
pub(crate) const ABN: &[&str] = &["abn", "australian business number", "business number"];
/// Words that make a nearby number a payment card.
pub(crate) const CARD: &[&str] = &[
    "card",
    "cards",
    "visa",
    "mastercard",
    "amex",
    "american express",
    "discover",
    "jcb",
    "diners",
    "credit",
    "debit",
    "cc",
    "cardholder",
    "payment",
    "paid",
    "charged",
    "charge",
    "unionpay",
    "maestro",
];
/// Words that make a nearby number a telephone number.
pub(crate) const PHONE: &[&str] = &[
    "phone",
    "phones",
    "call",
    "called",
    "calling",
    "mobile",
    "mob",
    "tel",
    "telephone",
    "ring",
    "number",
    "contact",
    "fax",
    "cell",
    "sms",
    "text",
    "whatsapp",
    "landline",
    "callback",
    "dial",
    "reach",
    "ph",
];
/// Words that say a number is something other than personal data.
pub(crate) const NOT_PERSONAL: &[&str] = &[
    "ref",
    "reference",
    "batch",
    "serial",
    "order",
    "invoice",
    "tracking",
    "sku",
    "part",
    "id",
    "ticket",
    "build",
    "version",
    "qty",
    "units",
];
/// Words that name a number as a thing's, not a person's or account's: a table recognizer's
/// match right after one is not reported by default (`NOT_PERSONAL` without `id`, which
/// also precedes personal identifiers: "id code", "ID number").
pub(crate) const THING_NUMBER: &[&str] = &[
    "ref",
    "reference",
    "batch",
    "serial",
    "order",
    "invoice",
    "tracking",
    "sku",
    "part",
    "build",
    "version",
    "qty",
    "units",
    "lot",
    "model",
    "item",
];
/// Words that make a dotted quad or hex group an IP address.
pub(crate) const IP: &[&str] = &[
    "ip",
    "ips",
    "ipv4",
    "ipv6",
    "server",
    "host",
    "address",
    "addr",
    "from",
    "src",
    "dst",
    "source",
    "destination",
    "whitelist",
    "allowlist",
    "blocklist",
    "blacklist",
    "connection",
    "connections",
    "connect",
    "ping",
    "subnet",
    "gateway",
    "dns",
    "firewall",
    "vpn",
    "proxy",
    "login",
    "access",
    "route",
    "node",
    "client",
    "peer",
    "remote",
    "nat",
];
/// Words that make a dotted number a software version rather than an address.
pub(crate) const VERSION: &[&str] = &[
    "version",
    "versions",
    "ver",
    "build",
    "builds",
    "firmware",
    "release",
    "released",
    "releases",
    "upgrade",
    "upgraded",
    "upgrading",
    "update",
    "updated",
    "patch",
    "v",
    "sdk",
    "kernel",
    "driver",
    "package",
    "pkg",
    "library",
    "app",
    "api",
    "rc",
    "beta",
    "alpha",
];

/// The keyword of `words` nearest to `text[start..end]`, looking `before` bytes back and `after`
/// bytes ahead, with its distance in bytes. Matching is ASCII case-insensitive on whole words;
/// ties go to the keyword listed first.
///
/// A keyword of letters and digits only matches exactly the window's maximal runs of ASCII
/// letters and digits equal to it, so the window is split into those runs once and each run
/// compared with the keywords (of its length): about one comparison per word of the window
/// instead of one per byte and keyword. Keywords with other characters (`tax file`, `ss#`) are
/// searched for byte by byte, as before ([`nearest_scan`], which the tests compare against).
pub(crate) fn nearest(
    text: &str,
    start: usize,
    end: usize,
    before: usize,
    after: usize,
    words: &[&'static str],
) -> Option<(&'static str, usize)> {
    let window = Window::new(text, start, end, before, after);
    let Window { bytes, lo, hi, .. } = window;
    // Nearest distance per keyword (lists are short: at most a few dozen).
    let mut dist = [usize::MAX; 64];
    if words.len() > dist.len() {
        return nearest_scan(&window, words);
    }
    let plain = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric());
    // Runs that start inside the window; a run cut by `lo` starts before it and cannot count.
    let mut i = lo;
    while i < hi {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let ts = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let te = i;
        if ts > 0 && bytes[ts - 1].is_ascii_alphanumeric() {
            continue; // the run began before the window
        }
        let d = if te <= start {
            start - te
        } else if ts >= end && te <= hi {
            ts - end
        } else {
            continue;
        };
        let run = &bytes[ts..te];
        for (k, w) in words.iter().enumerate() {
            if w.len() == run.len()
                && d < dist[k]
                && plain(w)
                && run.eq_ignore_ascii_case(w.as_bytes())
            {
                dist[k] = d;
            }
        }
    }
    let mut best: Option<(&'static str, usize)> = None;
    for (k, &w) in words.iter().enumerate() {
        let d = if plain(w) {
            (dist[k] != usize::MAX).then_some(dist[k])
        } else {
            nearest_scan(&window, &[w]).map(|(_, d)| d)
        };
        if let Some(d) = d
            && best.is_none_or(|(_, b)| d < b)
        {
            best = Some((w, d));
        }
    }
    best
}

/// A span and the bytes around it that context words are looked for in: `lo..start` before it,
/// `end..hi` after it.
#[derive(Clone, Copy)]
struct Window<'t> {
    bytes: &'t [u8],
    start: usize,
    end: usize,
    lo: usize,
    hi: usize,
}

impl<'t> Window<'t> {
    fn new(text: &'t str, start: usize, end: usize, before: usize, after: usize) -> Window<'t> {
        let bytes = text.as_bytes();
        Window {
            bytes,
            start,
            end,
            lo: start.saturating_sub(before),
            hi: end.saturating_add(after).min(bytes.len()),
        }
    }
}

/// [`nearest`] by scanning the window byte by byte for each keyword: for keywords with spaces
/// or punctuation, and the reference the tests compare the run-based search with.
fn nearest_scan(window: &Window<'_>, words: &[&'static str]) -> Option<(&'static str, usize)> {
    let Window {
        bytes,
        start,
        end,
        lo,
        hi,
    } = *window;
    let mut best: Option<(&'static str, usize)> = None;
    for &w in words {
        let wb = w.as_bytes();
        // Before the span: search backwards so the first hit is the nearest.
        let mut i = start;
        while i >= lo + wb.len() {
            let s = i - wb.len();
            if word_at(bytes, s, wb) {
                let dist = start - i;
                if best.is_none_or(|(_, d)| dist < d) {
                    best = Some((w, dist));
                }
                break;
            }
            i -= 1;
        }
        let mut s = end;
        while s + wb.len() <= hi {
            if word_at(bytes, s, wb) {
                let dist = s - end;
                if best.is_none_or(|(_, d)| dist < d) {
                    best = Some((w, dist));
                }
                break;
            }
            s += 1;
        }
    }
    best
}

/// Whether any of the caller's `words` occurs as a whole word within the usual context window
/// of `text[start..end]` (the window table recognizers use).
pub(crate) fn nearest_owned(
    text: &str,
    start: usize,
    end: usize,
    words: &[String],
) -> Option<usize> {
    let bytes = text.as_bytes();
    let lo = start.saturating_sub(crate::recognizers::CONTEXT_BEFORE);
    let hi = end
        .saturating_add(crate::recognizers::CONTEXT_AFTER)
        .min(bytes.len());
    words
        .iter()
        .filter(|w| !w.is_empty())
        .filter_map(|w| {
            let wb = w.as_bytes();
            let before = (lo..start)
                .rev()
                .filter(|&s| s + wb.len() <= start)
                .find(|&s| word_at(bytes, s, wb))
                .map(|s| start - (s + wb.len()));
            let after = (end..hi)
                .filter(|&s| s + wb.len() <= hi)
                .find(|&s| word_at(bytes, s, wb))
                .map(|s| s - end);
            before.into_iter().chain(after).min()
        })
        .min()
}

/// Whether `w` (lower-case ASCII) occurs at `bytes[s..]` as a whole word.
fn word_at(bytes: &[u8], s: usize, w: &[u8]) -> bool {
    let e = s + w.len();
    // Cheapest tests first: this runs for every word at every position of the window.
    if e > bytes.len() || (s > 0 && bytes[s - 1].is_ascii_alphanumeric()) {
        return false;
    }
    match (bytes.get(s), w.first()) {
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b) => return false,
        _ => {}
    }
    bytes[s..e].eq_ignore_ascii_case(w) && (e == bytes.len() || !bytes[e].is_ascii_alphanumeric())
}

/// The keyword of `words` nearest before `start` (within `before` bytes), if any.
pub(crate) fn nearest_before(
    text: &str,
    start: usize,
    before: usize,
    words: &[&'static str],
) -> Option<(&'static str, usize)> {
    nearest(text, start, start, before, 0, words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run-based search answers exactly what the byte scan answers, on every window of
    /// texts with keywords at edges, in other words, in upper case, beside digits and non-ASCII.
    #[test]
    fn the_run_based_search_agrees_with_the_byte_scan() {
        let texts = [
            "my tfn is 123 456 782, TFN: 123456782 (tax file number) ssn# 078-05-1120",
            "Zoë's phone: +61 2 9999 9999 or mobile0412345678, tel 0298765432; Fax:0291234567",
            "visa card 4111 1111 1111 1111 american express 378282246310005 amex,card;CARD",
            "ip 10.0.0.1 host-ip:192.168.0.1 ipv6 ::1 address server ip6 fe80::1 ips",
            "social security 078-05-1120 social-security number ssn ssns xssn ssn",
        ];
        let lists: [&[&'static str]; 5] = [TFN, PHONE, CARD, IP, SSN];
        for text in texts {
            for words in lists {
                for start in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
                    for end in [
                        start,
                        (start + 3).min(text.len()),
                        (start + 11).min(text.len()),
                    ] {
                        if !text.is_char_boundary(end) {
                            continue;
                        }
                        for (before, after) in [(40, 24), (64, 40), (5, 0), (0, 7)] {
                            assert_eq!(
                                nearest(text, start, end, before, after, words),
                                nearest_scan(&Window::new(text, start, end, before, after), words),
                                "{text:?} {start}..{end} -{before} +{after}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn finds_nearest_whole_word() {
        let t = "my TFN is 123 456 782 ok";
        assert_eq!(nearest(t, 10, 21, 30, 10, TFN), Some(("tfn", 4)));
        assert_eq!(nearest("abn123", 3, 6, 10, 0, ABN), None);
        assert_eq!(nearest("ß tfn é", 0, 0, 0, 8, TFN), Some(("tfn", 3)));
    }
}
