//! Secrets that need more than one match to find their span: private key blocks from BEGIN
//! through END (gitleaks `private-key`, detect-secrets `PrivateKeyDetector`, also JSON-escaped
//! as in a GCP service-account file), PuTTY key files, the password inside a URL's userinfo
//! (detect-secrets `BasicAuthDetector`, gitleaks `sidekiq-sensitive-url`), an AWS secret key
//! next to an access key id, and quoted high-entropy strings (detect-secrets'
//! `Base64HighEntropyString` and `HexHighEntropyString`, off by default).

use std::sync::LazyLock;

use regex::Regex;

use super::assign::aws_secret;
use super::codec::{self, entropy};
use super::filters;
use super::{
    AWS_SECRET_ACCESS_KEY, GENERIC_SECRET, HIGH_ENTROPY_STRING, PASSWORD, PRIVATE_KEY, Sink,
    TELEGRAM_BOT_TOKEN, regex,
};

/// The armour line that opens a private key (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP
/// `PRIVATE KEY BLOCK`, SSH2 `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`).
static BEGIN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)-{4,5} ?BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)? ?-{4,5}"));
/// The armour line that closes one.
static END: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)-{4,5} ?END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)? ?-{4,5}"));
/// A PuTTY private key file's first line.
static PUTTY: LazyLock<Regex> =
    LazyLock::new(|| regex(r"PuTTY-User-Key-File-[23]: [A-Za-z0-9@.-]+"));
/// A URL scheme.
static SCHEME: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[A-Za-z][A-Za-z0-9+.-]{1,30}://"));
/// An AWS access key id (as in the `AWS_ACCESS_KEY_ID` table).
static AWS_KEY_ID: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b"));
/// A run of base64 characters, for the AWS secret near a key id.
static B64_RUN: LazyLock<Regex> = LazyLock::new(|| regex(r"[A-Za-z0-9/+]{40,}"));
/// A Telegram Bot API URL's token (`https://api.telegram.org/bot<token>/getMe`), which the
/// table's word boundary misses after `bot`.
static TELEGRAM_URL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"/bot([0-9]{5,16}:A[A-Za-z0-9_-]{34})"));
/// Quoted strings of base64 or hex characters (detect-secrets requires quotes).
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| regex(r#""([A-Za-z0-9+/=_-]{20,})"|'([A-Za-z0-9+/=_-]{20,})'"#));

/// Forces this module's regexes to compile.
pub(super) fn warm() {
    for r in [
        &BEGIN,
        &END,
        &PUTTY,
        &SCHEME,
        &AWS_KEY_ID,
        &B64_RUN,
        &TELEGRAM_URL,
        &QUOTED,
    ] {
        LazyLock::force(r);
    }
}

/// Runs every block rule.
pub(super) fn scan(text: &str, sink: &mut Sink<'_>) {
    private_keys(text, sink);
    putty(text, sink);
    url_passwords(text, sink);
    aws_pairs(text, sink);
    telegram_urls(text, sink);
    kubernetes_secrets(text, sink);
    high_entropy(text, sink);
}

/// The values of a Kubernetes `Secret` manifest's `data:` (base64) and `stringData:` maps
/// (gitleaks `kubernetes-secret-yaml`): reported whatever their entropy, since the manifest
/// says they are secrets; templates and empty values are not.
fn kubernetes_secrets(text: &str, sink: &mut Sink<'_>) {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("kind: secret") && !lower.contains("kind: \"secret\"") {
        return;
    }
    // Each YAML document on its own.
    let mut doc_start = 0;
    for doc in text.split("\n---") {
        let doc_lower = doc.to_ascii_lowercase();
        let is_secret = doc_lower.lines().any(|l| {
            matches!(
                l.trim(),
                "kind: secret" | "kind: \"secret\"" | "kind: 'secret'"
            )
        });
        if is_secret {
            kubernetes_doc(text, doc_start, doc, sink);
        }
        doc_start += doc.len() + 4;
    }
}

/// The `data:` and `stringData:` entries of one Secret document starting at `start`.
fn kubernetes_doc(text: &str, start: usize, doc: &str, sink: &mut Sink<'_>) {
    let mut block: Option<(usize, bool)> = None;
    for (ls, line) in super::assign::lines(doc) {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_end();
        let body = trimmed.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if let Some((base, encoded)) = block {
            if indent > base {
                if let Some(colon) = body.find(':') {
                    let after = &body[colon + 1..];
                    let lead = after.len() - after.trim_start().len();
                    let mut s = start + ls + indent + colon + 1 + lead;
                    let mut v = after.trim_start();
                    if let Some(q) = v.chars().next().filter(|c| matches!(c, '"' | '\''))
                        && let Some(close) = v[1..].find(q)
                    {
                        v = &v[1..=close];
                        s += 1;
                    } else {
                        v = v.split(" #").next().unwrap_or_default().trim_end();
                    }
                    let ok = v.len() >= 8
                        && !filters::is_templated(v)
                        && !v.starts_with(['|', '>'])
                        && (!encoded || codec::base64(v).is_some());
                    if ok && text.get(s..s + v.len()) == Some(v) {
                        sink.push_value(
                            GENERIC_SECRET,
                            s,
                            s + v.len(),
                            0.8,
                            "Kubernetes Secret data",
                        );
                    }
                }
                continue;
            }
            block = None;
        }
        if body == "data:" {
            block = Some((indent, true));
        } else if body == "stringData:" {
            block = Some((indent, false));
        }
    }
}

/// How far after BEGIN an END may be (an 8192-bit RSA key is under 7 KB of base64).
const KEY_WINDOW: usize = 16 * 1024;

/// Private key blocks: BEGIN through END when END follows, else BEGIN and the base64 lines
/// after it (a pasted, truncated key). The body must hold at least 64 base64 characters
/// (gitleaks' `[\s\S-]{64,}?`), so `-----BEGIN PRIVATE KEY-----…-----END PRIVATE KEY-----`
/// placeholders are not reported. 1.0 when the body decodes to a DER sequence or an OpenSSH
/// key, 0.95 with END, 0.85 without.
fn private_keys(text: &str, sink: &mut Sink<'_>) {
    let mut from = 0;
    while let Some(begin) = BEGIN.find_at(text, from) {
        from = begin.end();
        let limit = floor_boundary(text, (begin.end() + KEY_WINDOW).min(text.len()));
        let window = &text[begin.end()..limit];
        let (body, end, closed) = match END.find(window) {
            Some(e) => (&window[..e.start()], begin.end() + e.end(), true),
            None => {
                let n = body_len(window);
                (&window[..n], begin.end() + n, false)
            }
        };
        let b64 = body_base64(body);
        if b64.len() < 64 || filters::is_placeholder(body.trim()) && b64.len() < 200 {
            continue;
        }
        let structured = structured_key(&b64);
        let score = match (structured, closed) {
            (true, _) => 1.0,
            (false, true) => 0.95,
            (false, false) => 0.85,
        };
        let why = if closed {
            "private key block"
        } else {
            "private key block (no END line)"
        };
        sink.push(PRIVATE_KEY, begin.start(), end, score, why);
        from = end;
    }
}

/// The largest char boundary of `text` at or before `i`.
fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The length of the key body at the start of `s` when no END line follows: line breaks
/// (also JSON-escaped `\n`), `Key: value` header lines, then lines of base64 only.
fn body_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        match b[i] {
            b'\r' | b'\n' | b' ' | b'\t' => i += 1,
            b'\\' if matches!(b.get(i + 1), Some(b'n' | b'r')) => i += 2,
            c if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=') => {
                // One line: base64 up to a break, or a `Proc-Type: …` header.
                let line_end = s[i..]
                    .find(['\n', '\r', '\\', '"', '\''])
                    .map_or(b.len(), |e| i + e);
                let line = &s[i..line_end];
                let base64 = line
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='));
                let header = ["Proc-Type:", "DEK-Info:", "Comment:", "Version:", "Hash:"]
                    .iter()
                    .any(|h| line.starts_with(h));
                if !base64 && !header {
                    break;
                }
                i = line_end;
                last = i;
            }
            _ => break,
        }
    }
    last
}

/// The base64 characters of a key body, header lines and escaped line breaks left out.
fn body_base64(body: &str) -> String {
    let unescaped = body.replace("\\n", "\n").replace("\\r", "\n");
    unescaped
        .lines()
        .map(str::trim)
        .filter(|l| !l.contains(':'))
        .flat_map(|l| l.chars())
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect()
}

/// Whether a key body decodes to a DER `SEQUENCE` (PKCS#1, PKCS#8, SEC 1) or an OpenSSH
/// `openssh-key-v1` key.
fn structured_key(b64: &str) -> bool {
    let head: String = b64.chars().take(64).collect();
    let Some(raw) = codec::base64(&head[..head.len() / 4 * 4]) else {
        return false;
    };
    let der = raw.first() == Some(&0x30)
        && raw
            .get(1)
            .is_some_and(|&l| l < 0x80 || (0x81..=0x84).contains(&l));
    der || raw.starts_with(b"openssh-key-v1\0")
}

/// PuTTY key files, from the header through the `Private-MAC` line.
fn putty(text: &str, sink: &mut Sink<'_>) {
    for m in PUTTY.find_iter(text) {
        let rest = &text[m.end()..floor_boundary(text, (m.end() + KEY_WINDOW).min(text.len()))];
        let Some(mac) = rest.find("Private-MAC:") else {
            continue;
        };
        if !rest[..mac].contains("Private-Lines:") {
            continue;
        }
        let mac_end = rest[mac..]
            .find(['\n', '\r'])
            .map_or(rest.len(), |e| mac + e);
        sink.push(
            PRIVATE_KEY,
            m.start(),
            m.end() + mac_end,
            0.95,
            "PuTTY private key",
        );
    }
}

/// `scheme://user:password@host`: reports the password. The authority ends at `/`, `?`, `#`,
/// white space or a quote; the password is what follows the first `:` of the userinfo (before
/// the last `@`). Templates, placeholders (`user:password@`, `guest:guest@`, `****`) and
/// filler are not reported. Scores 0.96, above an e-mail address (0.95) that the
/// `password@host` part also looks like, and above the URL itself (0.9).
fn url_passwords(text: &str, sink: &mut Sink<'_>) {
    for m in SCHEME.find_iter(text) {
        let rest = &text[m.end()..];
        let auth_len = rest
            .find(|c: char| c.is_whitespace() || "/?#\"'<>`\\".contains(c))
            .unwrap_or(rest.len());
        let auth = &rest[..auth_len];
        let Some(at) = auth.rfind('@') else {
            continue;
        };
        let host = &auth[at + 1..];
        if !host
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '[')
        {
            continue;
        }
        let userinfo = &auth[..at];
        let Some(colon) = userinfo.find(':') else {
            continue;
        };
        let pass = &userinfo[colon + 1..];
        if !url_password_ok(pass) {
            continue;
        }
        let s = m.end() + colon + 1;
        sink.push(PASSWORD, s, s + pass.len(), 0.96, "password in a URL");
    }
}

/// The filters for a URL's password: 3 to 256 characters, not a template (`${PASS}`, `<pass>`,
/// `%s`, `{{ x }}`, percent-encoded brackets), not a placeholder.
fn url_password_ok(p: &str) -> bool {
    let n = p.chars().count();
    if !(3..=256).contains(&n) {
        return false;
    }
    let lower = p.to_ascii_lowercase();
    if lower.contains("%3c") || lower.contains("%7b") || lower.contains("%24%7b") {
        return false;
    }
    !filters::is_templated(p) && !filters::is_placeholder(p) && !filters::is_sequential(p)
}

/// The token in a Telegram Bot API URL.
fn telegram_urls(text: &str, sink: &mut Sink<'_>) {
    for c in TELEGRAM_URL.captures_iter(text) {
        if let Some(m) = c.get(1)
            && text
                .as_bytes()
                .get(m.end())
                .is_none_or(|&b| !b.is_ascii_alphanumeric() && b != b'_' && b != b'-')
        {
            sink.push(
                TELEGRAM_BOT_TOKEN,
                m.start(),
                m.end(),
                0.95,
                "Telegram Bot API URL",
            );
        }
    }
}

/// How far from an AWS access key id its secret key is looked for.
const AWS_WINDOW: usize = 300;

/// An AWS secret access key (40 base64 characters, mixed case) near an access key id, in any
/// form (`id / secret` in prose, a CSV row, two environment variables).
fn aws_pairs(text: &str, sink: &mut Sink<'_>) {
    for id in AWS_KEY_ID.find_iter(text) {
        let lo = floor_boundary(text, id.start().saturating_sub(AWS_WINDOW));
        let hi = floor_boundary(text, (id.end() + AWS_WINDOW).min(text.len()));
        for m in B64_RUN.find_iter(&text[lo..hi]) {
            let (s, e) = (lo + m.start(), lo + m.end());
            if e - s != 40 || (s < id.end() && e > id.start()) {
                continue;
            }
            let b = text.as_bytes();
            let part = |c: u8| c.is_ascii_alphanumeric() || b"=_-/+".contains(&c);
            let clean_before = s == 0 || !part(b[s - 1]);
            let clean_after = e >= b.len() || !part(b[e]);
            if clean_before && clean_after && aws_secret(m.as_str()) {
                sink.push(
                    AWS_SECRET_ACCESS_KEY,
                    s,
                    e,
                    0.8,
                    "AWS secret key near an access key id",
                );
            }
        }
    }
}

/// Quoted strings with detect-secrets' entropy limits: 4.5 bits for base64, 3.0 for hex (less
/// for digits only), after its sequential, UUID and digest filters.
fn high_entropy(text: &str, sink: &mut Sink<'_>) {
    for c in QUOTED.captures_iter(text) {
        let Some(m) = c.get(1).or_else(|| c.get(2)) else {
            continue;
        };
        let v = m.as_str();
        if filters::is_sequential(v)
            || filters::is_uuid(v)
            || filters::is_digest(v)
            || filters::is_placeholder(v)
        {
            continue;
        }
        let hex = v.bytes().all(|b| b.is_ascii_hexdigit());
        let e = if hex {
            let mut e = entropy(v);
            if v.bytes().all(|b| b.is_ascii_digit()) {
                e -= 1.2 / (v.len() as f32).log2();
            }
            e
        } else {
            entropy(v)
        };
        let limit = if hex { 3.0 } else { 4.5 };
        if e > limit {
            sink.push(
                HIGH_ENTROPY_STRING,
                m.start(),
                m.end(),
                0.6,
                "quoted high-entropy string",
            );
        }
    }
}
