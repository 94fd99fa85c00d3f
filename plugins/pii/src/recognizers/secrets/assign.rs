//! The keyword rule: a value assigned to a secret-sounding name, reported (the value only)
//! when it passes the false-positive filters. It covers detect-secrets' `KeywordDetector`
//! (every file type's assignment forms: `key = "v"`, `key: v`, `"key": "v"`, `key := v`,
//! `key => v`, `key == "v"`, `key("v")`, `key "v";`), gitleaks' `generic-api-key` (its
//! keywords, entropy 3.5, letters-only allowlist, key allowlist and stop words) and
//! `hashicorp-tf-password`, and adds what prompts carry: command-line flags (`--password v`),
//! prose (`my password is v`), XML elements and attributes, SQL `IDENTIFIED BY 'v'`, HTTP
//! `Authorization` headers, connection strings (`Password=v;`), URL query parameters and
//! keys in other languages (`contraseña`, `passwort`, `пароль`).
//!
//! Values of some keys have a known shape and get their own type: an AWS secret access key
//! (40 base64 characters next to an AWS name, detect-secrets' `AWSKeyDetector`), a Heroku API
//! key (a UUID next to `heroku`, gitleaks `heroku-api-key`), an npm `_authToken`, an Azure
//! `AccountKey` / `SharedAccessKey`, and base64 `user:password` (`Authorization: Basic`,
//! Docker's `"auth"`).

use std::sync::LazyLock;

use regex::Regex;

use super::codec::entropy;
use super::filters::{self, Classes};
use super::{
    AWS_SECRET_ACCESS_KEY, AZURE_ACCESS_KEY, BASIC_AUTH, GENERIC_SECRET, HEROKU_API_KEY, NPM_TOKEN,
    PASSWORD, Sink, regex,
};

/// Command-line flags followed by white space and a value: `--password hunter2`.
static CLI: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[ \t])(--?[A-Za-z][A-Za-z0-9_-]{2,40})[ \t]+"));
/// Prose: `my password is …`, `the api key for prod was …`.
static PROSE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(passwords?|passwd|passphrase|passcode|pwd|api[ _-]?keys?|access[ _-]?keys?|secret(?:[ _-]keys?)?|tokens?)(?:[ \t]+for[ \t]+(?:[!-~]{1,30}[ \t]+){0,3}?[!-~]{1,30})?[ \t]+(?:is|was|are):?[ \t]+(?:now[ \t]+|still[ \t]+)?(?:set[ \t]+to[ \t]+)?",
    )
});
/// XML key/value attributes: `<add key="DbPassword" value="…" />` (gitleaks
/// `nuget-config-password`, .NET `appSettings`).
static XML_ATTRIBUTES: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?i)\b(?:key|name)[ \t]*=[ \t]*"([\x20\x21\x23-\x7E]{1,80})"[ \t]+value[ \t]*=[ \t]*"([\x20\x21\x23-\x7E]{0,300})""#,
    )
});
/// curl's user option: `curl -u user:password`, `--user "user:password"` (gitleaks
/// `curl-auth-user`).
static CURL_USER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[ \t])(?:-u|--user)(?:=|[ \t]+)"));
/// Calls with a literal argument: `setPassword("…")`, `api_key('…')`.
static CALL: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\b([A-Za-z_][A-Za-z0-9_.]{2,60})[ \t]*\([ \t]*["']"#));
/// A keyword, white space and a quoted value closed by `;`: `password "…";` (detect-secrets'
/// `FOLLOWED_BY_QUOTES_AND_SEMICOLON_REGEX`, nginx and Ruby DSLs).
static SPACED: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\b([A-Za-z_][A-Za-z0-9_.-]{1,60})[ \t]+["'`]"#));
/// SQL: `IDENTIFIED BY '…'`, `WITH PASSWORD '…'`, `PASSWORD('…')`.
static SQL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)\b(?:identified[ \t]+by|password)[ \t]+(?:password[ \t]*\([ \t]*)?'")
});

/// Forces this module's regexes to compile.
pub(super) fn warm() {
    for r in [
        &CLI,
        &PROSE,
        &XML_ATTRIBUTES,
        &CURL_USER,
        &CALL,
        &SPACED,
        &SQL,
    ] {
        LazyLock::force(r);
    }
}

/// What a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A password (any language).
    Password,
    /// A secret, token or key; `strong` when the name says so unambiguously (`secret`,
    /// `token`, `api_key`), weak for `key`, `auth`, `access` alone.
    Secret { strong: bool },
}

/// A classified key.
#[derive(Debug, Clone)]
struct Key {
    /// What it names.
    kind: Kind,
    /// Its lower-case segments joined (`db_Password` is `dbpassword`).
    joined: String,
}

/// How a value was written, which sets its score and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `key = v`, `key: v` and the like.
    Assign,
    /// A URL query parameter (`?password=…&`): it must outscore the URL around it.
    Query,
    /// `Password=…;` in a connection string.
    Connection,
    /// A command-line flag.
    Flag,
    /// Prose (`password is …`).
    Prose,
    /// A call or an XML element or attribute.
    Markup,
}

/// A value span and whether it was quoted.
#[derive(Debug, Clone, Copy)]
struct Value {
    start: usize,
    end: usize,
    quoted: bool,
}

/// Words in keys that mean a password, in several languages (lower case, matched inside the
/// joined key).
const PASSWORD_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "passwort",
    "kennwort",
    "contrasena",
    "contraseña",
    "wachtwoord",
    "motdepasse",
    "salasana",
    "adgangskode",
    "losenord",
    "lösenord",
    "haslo",
    "hasło",
    "heslo",
    "jelszo",
    "jelszó",
    "sifre",
    "şifre",
    "senha",
    "пароль",
    "密码",
    "密碼",
    "パスワード",
    "비밀번호",
];
/// Key segments that mean a password on their own.
const PASSWORD_SEGMENTS: &[&str] = &["pass", "pwd", "pw", "pword", "psw", "pswd", "passw"];
/// Words in keys that mean a secret unambiguously.
const STRONG_WORDS: &[&str] = &[
    "secret",
    "token",
    "apikey",
    "credential",
    "privatekey",
    "accesskey",
    "authkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "clientkey",
    "servicekey",
    "accountkey",
    "sessionkey",
    "sharedkey",
    "licensekey",
    "webhookkey",
    "bearer",
    "authorization",
];
/// Key segments that suggest a secret but also name other things.
const WEAK_SEGMENTS: &[&str] = &["key", "auth", "access", "cred", "creds", "apikeys", "keys"];
/// Segments that make a key something other than a secret wherever they are (gitleaks'
/// generic allowlist: `primary_key`, `public_token`, `csrf_token`, `random_access`; and
/// LLM settings such as `max_tokens`).
const NOT_SECRET_SEGMENTS: &[&str] = &[
    "public",
    "pub",
    "publishable",
    "primary",
    "foreign",
    "sort",
    "partition",
    "range",
    "cache",
    "bucket",
    "hot",
    "idx",
    "natural",
    "schema",
    "sequence",
    "composite",
    "unique",
    "row",
    "max",
    "min",
    "num",
    "total",
    "prompt",
    "completion",
    "input",
    "output",
    "tokens",
    "csrf",
    "xsrf",
    "random",
    "turkey",
    "monkey",
    "donkey",
    "forgot",
    "reset",
];
/// Last segments that make a key name an attribute of a secret, not the secret (gitleaks'
/// `key_id`, `secret_name`, `token_url`, `key_file`…; detect-secrets' `is_likely_id_string`).
const NOT_SECRET_LAST: &[&str] = &[
    "id",
    "ids",
    "name",
    "names",
    "type",
    "types",
    "length",
    "len",
    "size",
    "count",
    "file",
    "files",
    "path",
    "paths",
    "dir",
    "url",
    "uri",
    "urls",
    "endpoint",
    "endpoints",
    "enabled",
    "required",
    "policy",
    "format",
    "version",
    "label",
    "prompt",
    "field",
    "header",
    "hint",
    "placeholder",
    "regex",
    "pattern",
    "expiry",
    "expires",
    "expiration",
    "expire",
    "ttl",
    "timeout",
    "env",
    "var",
    "variable",
    "limit",
    "limits",
    "mode",
    "method",
    "algorithm",
    "alg",
    "provider",
    "source",
    "location",
    "store",
    "storetype",
    "vault",
    "ring",
    "pair",
    "alias",
    "code",
    "word",
    "board",
    "press",
    "pressed",
    "up",
    "down",
    "left",
    "right",
    "frame",
    "mesh",
    "selector",
    "signature",
    "stone",
    "tab",
    "manager",
    "generator",
    "validator",
    "handler",
    "helper",
    "parser",
    "class",
    "kind",
    "usage",
    "index",
    "ref",
    "reference",
    "arn",
    "lifetime",
    "rotation",
    "strength",
    "complexity",
    "changed",
    "updated",
    "created",
    "at",
];
/// Joined keys gitleaks allowlists by name.
const NOT_SECRET_JOINED: &[&str] = &[
    "csrf",
    "xsrf",
    "withcredentials",
    "keyvault",
    "jsonwebtoken",
    "tokenizer",
    "tokenize",
    "passwordless",
    "secretsmanager",
    "keyword",
    "keystore",
    "keytab",
    "keying",
    "issuerkeyhash",
];
/// What follows `key`, `secret`, `token` or `api` in a name that is not a secret (gitleaks'
/// `key[_.-]?(?:alias|board|…)`, `secret[_.-]?(?:length|name|size)`,
/// `(?:api|credentials|token)[_.-]?(?:endpoint|ur[il])`), matched in the joined key.
const NOT_SECRET_AFTER: &[(&str, &[&str])] = &[
    (
        "key",
        &[
            "alias",
            "board",
            "code",
            "frame",
            "id",
            "length",
            "mesh",
            "name",
            "pair",
            "press",
            "ring",
            "selector",
            "signature",
            "size",
            "stone",
            "storetype",
            "word",
            "up",
            "down",
            "left",
            "right",
            "store",
            "tab",
            "file",
            "path",
            "vault",
            "event",
            "stroke",
            "map",
        ],
    ),
    ("secret", &["length", "name", "size", "ref", "arn"]),
    (
        "token",
        &[
            "endpoint", "url", "uri", "type", "expir", "count", "limit", "file",
        ],
    ),
    ("credentials", &["endpoint", "url", "uri", "id", "file"]),
];

/// Words that, before `key`, `token`, `secret` or `password`, belong to the name (`API key:`).
const NAME_WORDS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "auth",
    "client",
    "bearer",
    "app",
    "application",
    "service",
    "account",
    "master",
    "signing",
    "encryption",
    "license",
    "admin",
    "root",
    "user",
    "db",
    "database",
    "wifi",
    "ssh",
    "gpg",
    "pgp",
    "vault",
    "aws",
    "github",
    "gitlab",
    "slack",
    "stripe",
    "openai",
    "anthropic",
    "google",
    "azure",
    "heroku",
    "personal",
    "refresh",
    "session",
    "webhook",
];

/// A key's lower-case segments: split at non-alphanumerics and at camel-case humps
/// (`dbPassword`, `APIKey`, `X-Api-Key`).
fn segments(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Classifies a key, or `None` when it does not name a secret.
///
/// What the key names comes first: most keys an assignment scan meets (`model`, `role`,
/// `content`) name nothing secret, and the exceptions below only matter for those that do.
fn classify(key: &str) -> Option<Key> {
    let segs = segments(key);
    let last = segs.last()?;
    let joined: String = segs.concat();
    let kind = if PASSWORD_WORDS.iter().any(|w| joined.contains(w))
        || segs.iter().any(|s| PASSWORD_SEGMENTS.contains(&s.as_str()))
    {
        Kind::Password
    } else if STRONG_WORDS.iter().any(|w| joined.contains(w)) {
        Kind::Secret { strong: true }
    } else if segs.iter().any(|s| WEAK_SEGMENTS.contains(&s.as_str())) {
        Kind::Secret { strong: false }
    } else {
        return None;
    };
    if NOT_SECRET_JOINED.iter().any(|w| joined.contains(w)) {
        return None;
    }
    let secret_id = segs.len() >= 2 && segs[segs.len() - 2] == "secret" && last == "id";
    if !secret_id && NOT_SECRET_LAST.contains(&last.as_str()) {
        return None;
    }
    if segs
        .iter()
        .any(|s| NOT_SECRET_SEGMENTS.contains(&s.as_str()))
    {
        return None;
    }
    for (word, after) in NOT_SECRET_AFTER {
        let mut from = 0;
        while let Some(i) = joined[from..].find(word).map(|i| from + i) {
            let rest = &joined[i + word.len()..];
            if after.iter().any(|a| rest.starts_with(a)) {
                return None;
            }
            from = i + word.len();
        }
    }
    Some(Key { kind, joined })
}

/// Runs every form of the keyword rule over `text`.
pub(super) fn scan(text: &str, sink: &mut Sink<'_>) {
    operators(text, sink);
    flags(text, sink);
    prose(text, sink);
    markup(text, sink);
}

/// `key <op> value` for every assignment operator in `text`.
fn operators(text: &str, sink: &mut Sink<'_>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !matches!(c, b'=' | b':' | b',') {
            i += 1;
            continue;
        }
        let Some((op_start, op_end, op)) = operator(b, i) else {
            i += 1;
            while i < b.len() && matches!(b[i], b':' | b'=') {
                i += 1;
            }
            continue;
        };
        i = op_end;
        if op == "==" {
            reverse_comparison(text, op_start, op_end, sink);
        }
        let Some((ks, ke, quoted_key)) = key_before(text, op_start) else {
            continue;
        };
        if op == "," && !quoted_key {
            continue;
        }
        let key = &text[ks..ke];
        let Some(k) = classify(key) else {
            continue;
        };
        let prev = text[..ks]
            .trim_end_matches([' ', '\t', '"', '\''])
            .bytes()
            .next_back();
        let conn = op == "=" && prev == Some(b';');
        let query = op == "=" && matches!(prev, Some(b'?' | b'&'));
        let Some(mut v) = value_in(text, op_end, conn, query) else {
            continue;
        };
        if op == "," && !v.quoted {
            continue;
        }
        // `Password=…;` at the start of a connection string.
        let conn = conn
            || (op == "=" && !v.quoted && b.get(v.end) == Some(&b';') && connection_line(text, ks));
        if conn
            && !v.quoted
            && let Some(w) = value_at(text, op_end, true)
        {
            v = w;
        }
        let form = if conn {
            Form::Connection
        } else if query {
            Form::Query
        } else {
            Form::Assign
        };
        emit(text, ks, &k, v, form, sink);
    }
}

/// `"value" == password`: a quoted literal compared with a secret-named variable on its
/// right (detect-secrets' `PRECEDED_BY_EQUAL_COMPARISON_SIGNS_QUOTES_REQUIRED_REGEX`).
fn reverse_comparison(text: &str, op_start: usize, op_end: usize, sink: &mut Sink<'_>) {
    let b = text.as_bytes();
    let mut k = op_start;
    while k > 0 && matches!(b[k - 1], b' ' | b'\t') {
        k -= 1;
    }
    let Some(&q) = k.checked_sub(1).and_then(|i| b.get(i)) else {
        return;
    };
    if !matches!(q, b'"' | b'\'' | b'`') {
        return;
    }
    let line_start = text[..k - 1].rfind('\n').map_or(0, |i| i + 1);
    let Some(open) = text[line_start..k - 1]
        .rfind(char::from(q))
        .map(|i| line_start + i)
    else {
        return;
    };
    let right = text[op_end..].trim_start_matches([' ', '\t']);
    let rs = text.len() - right.len();
    let re = rs
        + right
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '$')))
            .unwrap_or(right.len());
    let Some(key) = classify(&text[rs..re]) else {
        return;
    };
    let v = Value {
        start: open + 1,
        end: k - 1,
        quoted: true,
    };
    if v.end > v.start {
        emit(text, rs, &key, v, Form::Assign, sink);
    }
}

/// Markers of a connection string (ADO.NET, ODBC, JDBC, Azure) on a line.
const CONNECTION_MARKERS: &[&str] = &[
    "server=",
    "data source=",
    "host=",
    "uid=",
    "user id=",
    "userid=",
    "user=",
    "username=",
    "database=",
    "initial catalog=",
    "accountname=",
    "endpoint=",
    "dsn=",
    "driver=",
    "port=",
];

/// Whether the line around `pos` reads as a connection string.
fn connection_line(text: &str, pos: usize) -> bool {
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    let line = text[start..end].to_ascii_lowercase();
    CONNECTION_MARKERS.iter().any(|m| line.contains(m))
}

/// The assignment operator around `text[i]` (`=`, `==`, `===`, `:=`, `::=`, `?=`, `!=`, `=>`,
/// `:`, or `,` between quoted strings): its span and text, or `None` for `://`, `::`, `<=`.
fn operator(b: &[u8], i: usize) -> Option<(usize, usize, &'static str)> {
    let mut start = i;
    if b[i] == b'=' && i > 0 {
        match b[i - 1] {
            b'!' | b'?' | b'+' | b'.' => start = i - 1,
            b'<' | b'>' => return None,
            _ => {}
        }
    }
    if b[i] == b',' {
        return Some((i, i + 1, ","));
    }
    let mut end = i;
    while end < b.len() && end - i < 4 && matches!(b[end], b':' | b'=') {
        end += 1;
    }
    if end < b.len() && b[end] == b'>' && b[end - 1] == b'=' {
        end += 1;
    }
    let op = match &b[start..end] {
        b"=" => "=",
        b"==" | b"===" | b"!=" | b"!==" => "==",
        b":=" | b"::=" | b":::=" | b"?=" | b"+=" | b".=" => ":=",
        b"=>" => "=>",
        b":" => {
            if b.get(end..end + 2) == Some(b"//") {
                return None;
            }
            ":"
        }
        _ => return None,
    };
    Some((start, end, op))
}

/// The key that ends before `op_start`: white space, up to two closing quotes or brackets, a
/// `[…]` index, then identifier characters (any script). With a type between key and operator
/// (`password: str = …`, `var password string = …`) the key before the type. Also takes one
/// naming word before it (`API key:`). Returns its span and whether it was quoted.
fn key_before(text: &str, op_start: usize) -> Option<(usize, usize, bool)> {
    let b = text.as_bytes();
    let mut k = op_start;
    let mut spaces = 0;
    while k > 0 && matches!(b[k - 1], b' ' | b'\t') && spaces < 8 {
        k -= 1;
        spaces += 1;
    }
    let mut quoted = false;
    for _ in 0..3 {
        if k == 0 {
            break;
        }
        match b[k - 1] {
            b'"' | b'\'' | b'`' => {
                quoted = true;
                k -= 1;
            }
            b']' => match text[..k - 1].rfind('[') {
                // `password[]`, `password[25]`: a C array.
                Some(o)
                    if k - 1 - o <= 6 && text[o + 1..k - 1].bytes().all(|c| c.is_ascii_digit()) =>
                {
                    k = o;
                }
                // `config['password']`: the quote inside comes next.
                _ => k -= 1,
            },
            _ => break,
        }
    }
    let ke = k;
    let ks = ident_start(text, ke);
    if ks == ke {
        return None;
    }
    let key = &text[ks..ke];
    if !quoted && matches!(key, "str" | "string" | "String") {
        // `password: str = …`, `let token: &str = …`, `var password string = …`.
        let before = text[..ks].trim_end_matches([' ', '\t', '&', ':', '*']);
        let s2 = ident_start(text, before.len());
        if s2 < before.len() {
            return Some((s2, before.len(), false));
        }
    }
    // `API key:` — one naming word before a bare keyword.
    let lower = key.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "key" | "token" | "secret" | "password" | "keys" | "tokens"
    ) && ks >= 2
        && b[ks - 1] == b' '
    {
        let ws = ident_start(text, ks - 1);
        let word = text[ws..ks - 1].to_ascii_lowercase();
        if NAME_WORDS.contains(&word.as_str()) {
            return Some((ws, ke, quoted));
        }
    }
    Some((ks, ke, quoted))
}

/// The start of the identifier (letters and digits of any script, `_`, `-`, `.`) ending at
/// `end`, at most 64 bytes long.
fn ident_start(text: &str, end: usize) -> usize {
    let mut s = end;
    for (i, c) in text[..end].char_indices().rev() {
        if end - i > 64 || !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            break;
        }
        s = i;
    }
    // A leading `.` or `-` belongs to the syntax (`--password`, `.password`).
    s + text[s..end].len() - text[s..end].trim_start_matches(['-', '.']).len()
}

/// Parses the value that starts after white space at `i`: quoted (`"`, `'`, `` ` ``, with a C#
/// `@` allowed before), an ODBC `{…}` in a connection string, or unquoted up to white space or
/// punctuation that ends values (in a connection string: up to `;`).
fn value_at(text: &str, i: usize, conn: bool) -> Option<Value> {
    value_in(text, i, conn, false)
}

/// [`value_at`], in a URL query (`&` and `#` end the value) when `query`.
fn value_in(text: &str, mut i: usize, conn: bool, query: bool) -> Option<Value> {
    let b = text.as_bytes();
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    if b.get(i) == Some(&b'@') && matches!(b.get(i + 1), Some(b'"')) {
        i += 1;
    }
    let q = *b.get(i)?;
    if matches!(q, b'"' | b'\'' | b'`') {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && j - start <= 512 {
            match b[j] {
                b'\\' => j += 2,
                b'\n' | b'\r' => return None,
                c if c == q => {
                    return (j > start).then_some(Value {
                        start,
                        end: j,
                        quoted: true,
                    });
                }
                _ => j += 1,
            }
        }
        return None;
    }
    if conn && q == b'{' {
        let end = text[i..].find('}').map(|e| i + e)?;
        return (end > i + 1).then_some(Value {
            start: i + 1,
            end,
            quoted: true,
        });
    }
    let start = i;
    let mut end = i;
    for (o, c) in text[i..].char_indices() {
        let escape =
            c == '\\' && matches!(text.as_bytes().get(i + o + 1), Some(b'n' | b'r' | b't'));
        let stop = escape
            || if conn {
                matches!(c, ';' | '"' | '\'' | '\n' | '\r')
            } else {
                c.is_whitespace()
                    || matches!(
                        c,
                        '"' | '\'' | '`' | ',' | ';' | '<' | '>' | ')' | ']' | '}'
                    )
                    || (query && matches!(c, '&' | '#'))
            };
        if stop || o > 512 {
            break;
        }
        end = i + o + c.len_utf8();
    }
    let trimmed = text[start..end].trim_end_matches(['.', ':', ' ', '\t']);
    let end = start + trimmed.len();
    (end > start).then_some(Value {
        start,
        end,
        quoted: false,
    })
}

/// Checks a value of `key` written in `form` and reports it.
fn emit(text: &str, key_start: usize, key: &Key, v: Value, form: Form, sink: &mut Sink<'_>) {
    let value = &text[v.start..v.end];
    if special(text, key_start, key, v, form, sink) {
        return;
    }
    match key.kind {
        Kind::Password => {
            if let Some(score) = password_score(value, v.quoted, form) {
                let why = match form {
                    Form::Connection => "password in a connection string",
                    Form::Query => "password in a URL query",
                    Form::Flag => "password flag",
                    Form::Prose => "password in prose",
                    Form::Markup => "password element or call",
                    Form::Assign => "password assignment",
                };
                sink.push_value(PASSWORD, v.start, v.end, score, why);
            }
        }
        Kind::Secret { strong } => {
            if let Some(score) = secret_score(value, v.quoted, strong, form) {
                let why = match form {
                    Form::Query => "secret in a URL query",
                    Form::Flag => "secret flag",
                    Form::Prose => "secret in prose",
                    _ => "keyword and high-entropy value",
                };
                sink.push_value(GENERIC_SECRET, v.start, v.end, score, why);
            }
        }
    }
}

/// Values of keys with a known shape (AWS secret keys, Heroku keys, npm auth tokens, Azure
/// account keys, HTTP authorization headers, base64 `user:password`): reports them and
/// returns true when the value belongs to one.
fn special(
    text: &str,
    key_start: usize,
    key: &Key,
    v: Value,
    form: Form,
    sink: &mut Sink<'_>,
) -> bool {
    let value = &text[v.start..v.end];
    let j = key.joined.as_str();
    if filters::is_templated(value) || filters::is_placeholder(value) {
        return false;
    }
    // `Authorization: Bearer …`, `Authorization: Basic …`, `Authorization: token …`: the
    // scheme and its credential, unquoted or in one quoted string.
    if j.ends_with("authorization") || j == "auth" {
        let line = text[v.start..]
            .split(['\n', '\r', '"', '\''])
            .next()
            .unwrap_or_default();
        for (scheme, basic) in [
            ("Basic ", true),
            ("basic ", true),
            ("Bearer ", false),
            ("bearer ", false),
            ("Token ", false),
            ("token ", false),
        ] {
            let Some(rest) = line.strip_prefix(scheme) else {
                continue;
            };
            let rest_trim = rest.trim_start();
            let s = v.start + (line.len() - rest_trim.len());
            let tok = rest_trim.split_whitespace().next().unwrap_or_default();
            let e = s + tok.len();
            if basic {
                if basic_auth(tok) {
                    sink.push(BASIC_AUTH, s, e, 0.9, "Authorization: Basic header");
                }
            } else if let Some(score) = secret_score(tok, true, true, form) {
                sink.push_value(
                    GENERIC_SECRET,
                    s,
                    e,
                    score.max(0.8),
                    "Authorization header token",
                );
            }
            return true;
        }
        if j == "auth" && basic_auth(value) {
            sink.push(BASIC_AUTH, v.start, v.end, 0.85, "base64 user:password");
            return true;
        }
    }
    // detect-secrets' AWS rule: 40 base64 characters next to an AWS name.
    let near = &text[key_start.saturating_sub(40)..key_start];
    let aws = j.contains("aws")
        || near.to_ascii_lowercase().contains("aws")
        || j.contains("secretaccesskey");
    if aws && matches!(key.kind, Kind::Secret { .. } | Kind::Password) && aws_secret(value) {
        sink.push(
            AWS_SECRET_ACCESS_KEY,
            v.start,
            v.end,
            0.85,
            "AWS secret access key",
        );
        return true;
    }
    if j.contains("heroku") && filters::is_uuid(value) {
        sink.push(HEROKU_API_KEY, v.start, v.end, 0.8, "Heroku API key (UUID)");
        return true;
    }
    if j.ends_with("authtoken") && (filters::is_uuid(value) || value.starts_with("npm_")) {
        sink.push(NPM_TOKEN, v.start, v.end, 0.85, "npm _authToken");
        return true;
    }
    if (j == "accountkey" && b64_len(value, 88)) || (j == "sharedaccesskey" && b64_len(value, 44)) {
        sink.push(
            AZURE_ACCESS_KEY,
            v.start,
            v.end,
            0.9,
            "Azure account or shared access key",
        );
        return true;
    }
    false
}

/// Whether `v` is `n` characters of standard base64 ending in padding.
fn b64_len(v: &str, n: usize) -> bool {
    v.len() == n
        && v.ends_with('=')
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
}

/// Whether `v` is an AWS secret access key: 40 base64 characters with upper and lower case
/// letters and a digit or `+/`, not AWS's documentation example.
pub(super) fn aws_secret(v: &str) -> bool {
    let c = Classes::of(v);
    v.len() == 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
        && c.upper > 0
        && c.lower > 0
        && (c.digit > 0 || c.other > 0)
        && !v.contains("EXAMPLE")
        && entropy(v) >= 4.0
}

/// Whether `v` is base64 of `user:password` with a password that is not a placeholder.
pub(super) fn basic_auth(v: &str) -> bool {
    if v.len() < 8
        || !v
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
    {
        return false;
    }
    let Some(raw) = super::codec::base64(v) else {
        return false;
    };
    let Ok(s) = std::str::from_utf8(&raw) else {
        return false;
    };
    let Some((user, pass)) = s.split_once(':') else {
        return false;
    };
    !user.is_empty()
        && !pass.is_empty()
        && s.chars().all(|c| !c.is_control())
        && !filters::is_placeholder(pass)
        && !filters::is_templated(pass)
}

/// The score of a password value, or `None` when a filter says it is not one: templates,
/// placeholders, paths, code references, letters-only and sequential values, low entropy.
fn password_score(v: &str, quoted: bool, form: Form) -> Option<f32> {
    let n = v.chars().count();
    let min = if form == Form::Connection { 4 } else { 6 };
    if n < min || n > 256 {
        return None;
    }
    if filters::is_templated(v) || filters::is_placeholder(v) || filters::is_path_or_url(v) {
        return None;
    }
    if !quoted {
        if filters::is_code_reference(v)
            || v.starts_with(['!', '&', '*', '|', '>', '(', '[', '{', '$', '%'])
        {
            return None;
        }
        if v.chars().any(char::is_whitespace) && form != Form::Connection {
            return None;
        }
    }
    let c = Classes::of(v);
    // Trailing sentence punctuation does not make a word a password (`is strong?`).
    let core = if quoted {
        v
    } else {
        v.trim_end_matches(['?', '!', ')', '\''])
    };
    if c.letters_only(v) || Classes::of(core).letters_only(core) || filters::is_sequential(v) {
        return None;
    }
    if !c.has_letter() && !(quoted && c.digit == n) {
        // Digits alone only as a quoted value (a PIN-like password); not `password: 2024`.
        return None;
    }
    if entropy(v) < 2.0 {
        return None;
    }
    Some(match form {
        Form::Connection => 0.85,
        Form::Query => 0.92,
        Form::Flag | Form::Assign if quoted => 0.8,
        Form::Flag | Form::Assign => 0.75,
        Form::Markup => 0.7,
        Form::Prose => 0.65,
    })
}

/// The score of a secret value, or `None` when a filter says it is not one: gitleaks' generic
/// rule (10 to 500 characters, entropy 3.5, not letters-only, no stop word) and detect-secrets'
/// heuristics (templates, sequences, UUIDs for weak names, code references).
fn secret_score(v: &str, quoted: bool, strong: bool, form: Form) -> Option<f32> {
    let n = v.chars().count();
    let min = if strong { 10 } else { 16 };
    if n < min || n > 500 || v.chars().any(char::is_whitespace) {
        return None;
    }
    if filters::is_templated(v)
        || filters::is_placeholder(v)
        || filters::is_path_or_url(v)
        || filters::is_digest(v)
        || v.starts_with("-----BEGIN")
    {
        return None;
    }
    if !quoted && filters::is_code_reference(v) {
        return None;
    }
    let c = Classes::of(v);
    if !c.has_letter() || c.letters_only(v) || filters::is_sequential(v) {
        return None;
    }
    // A weak name (`key`) before a UUID or a SHA-1 / SHA-256 digest is an id or a hash.
    let digest =
        matches!(v.len(), 40 | 64) && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !strong && (filters::is_uuid(v) || digest) {
        return None;
    }
    let e = entropy(v);
    if e < if strong { 3.5 } else { 3.8 } || filters::has_stopword(v) || filters::is_known_public(v)
    {
        return None;
    }
    let mut score: f32 = if strong { 0.7 } else { 0.65 };
    if e >= 4.2 {
        score += 0.05;
    }
    if form == Form::Query {
        score = score.max(0.92);
    }
    Some(score)
}

/// `--password value`, `--api-key value`: a flag, white space, a value that is not a flag.
fn flags(text: &str, sink: &mut Sink<'_>) {
    for m in CLI.captures_iter(text) {
        let (Some(all), Some(flag)) = (m.get(0), m.get(1)) else {
            continue;
        };
        let Some(k) = classify(flag.as_str()) else {
            continue;
        };
        let Some(v) = value_at(text, all.end(), false) else {
            continue;
        };
        if text[v.start..].starts_with('-') {
            continue;
        }
        emit(text, flag.start(), &k, v, Form::Flag, sink);
    }
    mysql(text, sink);
    curl(text, sink);
}

/// The password of curl's `-u user:password` on a line that runs curl.
fn curl(text: &str, sink: &mut Sink<'_>) {
    for (ls, l) in lines(text) {
        if !l.contains("curl") {
            continue;
        }
        for m in CURL_USER.find_iter(l) {
            let rest = &l[m.end()..];
            let tok = match rest.as_bytes().first() {
                Some(&q @ (b'"' | b'\'')) => rest[1..]
                    .find(char::from(q))
                    .map_or(rest, |e| &rest[..e + 2]),
                _ => rest.split_whitespace().next().unwrap_or_default(),
            };
            let (s, e) = strip_quotes(ls + m.end(), tok);
            let cred = &text[s..e];
            let Some(colon) = cred.find(':') else {
                continue;
            };
            let (ps, pe) = strip_quotes(s + colon + 1, &cred[colon + 1..]);
            let user = cred[..colon].trim_matches(['"', '\'']);
            if user.is_empty()
                || filters::is_templated(user) && filters::is_templated(&text[ps..pe])
            {
                continue;
            }
            if let Some(score) = password_score(&text[ps..pe], true, Form::Flag) {
                sink.push_value(PASSWORD, ps, pe, score, "curl user password");
            }
        }
    }
}

/// `mysql -u root -pS3cret`: the password attached to `-p` of the MySQL and MariaDB clients.
fn mysql(text: &str, sink: &mut Sink<'_>) {
    for line in lines(text) {
        let (ls, l) = line;
        let lower = l.to_ascii_lowercase();
        if !["mysql", "mariadb"].iter().any(|c| lower.contains(c)) {
            continue;
        }
        let mut from = 0;
        while let Some(p) = l[from..].find(" -p").map(|p| from + p) {
            from = p + 3;
            let rest = &l[p + 3..];
            let tok = rest.split_whitespace().next().unwrap_or_default();
            if tok.is_empty()
                || tok.contains('=')
                || tok.starts_with("assword")
                || tok.starts_with("ort")
            {
                continue;
            }
            let (s, e) = strip_quotes(ls + p + 3, tok);
            let val = &text[s..e];
            if let Some(score) = password_score(val, true, Form::Flag) {
                sink.push_value(PASSWORD, s, e, score, "mysql -p password");
            }
        }
    }
}

/// The lines of `text` with their start offsets.
pub(super) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |l| {
        let s = start;
        start += l.len();
        (s, l.trim_end_matches(['\n', '\r']))
    })
}

/// The span of `tok` (starting at `s`) without one pair of surrounding quotes.
pub(super) fn strip_quotes(s: usize, tok: &str) -> (usize, usize) {
    let b = tok.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'"' | b'\'') && b[b.len() - 1] == b[0] {
        (s + 1, s + tok.len() - 1)
    } else {
        (s, s + tok.len())
    }
}

/// `my password is …`, `the API key for staging was …`.
fn prose(text: &str, sink: &mut Sink<'_>) {
    for m in PROSE.captures_iter(text) {
        let (Some(all), Some(word)) = (m.get(0), m.get(1)) else {
            continue;
        };
        let Some(k) = classify(&word.as_str().replace(' ', "_")) else {
            continue;
        };
        let Some(v) = value_at(text, all.end(), false) else {
            continue;
        };
        emit(text, word.start(), &k, v, Form::Prose, sink);
    }
}

/// XML elements with a one-line value: `<password>…</password>`. The tag name's and value's
/// spans of every match of
/// `<([A-Za-z_][A-Za-z0-9_.:-]{0,60})>[ \t\r\n]*([\x21-\x3B\x3D-\x7E][\x20-\x3B\x3D-\x7E]{0,300}?)[ \t\r\n]*</`,
/// leftmost first, without overlaps.
///
/// Written out by hand rather than left to a regex: a lazy DFA builds a state per value
/// length it meets (up to 301 of them after every `<tag>`), and a fresh sandbox instance
/// starts from the snapshot's states, so a text with a `<PLACEHOLDER_1>` followed by a long
/// paragraph (every request the OpenAI gateway re-checks) paid for building them on every
/// call: about 1.9 M of the re-check's 3.1 M fuel.
fn xml_elements(text: &str) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let b = text.as_bytes();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    // The value's bytes: printable ASCII but `<`, the first also not a space.
    let value_byte = |c: u8| (0x20..=0x7E).contains(&c) && c != b'<';
    let name_byte = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'-');
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(off) = text[at..].find('<') {
        let lt = at + off;
        at = lt + 1;
        let name_start = lt + 1;
        if !b
            .get(name_start)
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
        {
            continue;
        }
        let mut name_end = name_start + 1;
        while name_end < b.len() && name_end - name_start < 61 && name_byte(b[name_end]) {
            name_end += 1;
        }
        if b.get(name_end) != Some(&b'>') {
            continue;
        }
        let mut start = name_end + 1;
        while start < b.len() && ws(b[start]) {
            start += 1;
        }
        if !b.get(start).is_some_and(|&c| value_byte(c) && c != b' ') {
            continue;
        }
        // The shortest value that optional white space and `</` follow.
        let mut end = start + 1;
        let found = loop {
            let mut k = end;
            while k < b.len() && ws(b[k]) {
                k += 1;
            }
            if b[k..].starts_with(b"</") {
                break Some(k + 2);
            }
            if end - start == 301 || !b.get(end).is_some_and(|&c| value_byte(c)) {
                break None;
            }
            end += 1;
        };
        if let Some(after) = found {
            out.push((name_start..name_end, start..end));
            at = after;
        }
    }
    out
}

/// XML elements and attributes, calls with a literal, SQL passwords.
fn markup(text: &str, sink: &mut Sink<'_>) {
    for (tag, val) in xml_elements(text) {
        let Some(k) = classify(&text[tag.clone()]) else {
            continue;
        };
        let raw = text[val.clone()].trim_end();
        let v = Value {
            start: val.start,
            end: val.start + raw.len(),
            quoted: true,
        };
        emit(text, tag.start, &k, v, Form::Markup, sink);
    }
    for m in XML_ATTRIBUTES.captures_iter(text) {
        let (Some(name), Some(val)) = (m.get(1), m.get(2)) else {
            continue;
        };
        let Some(k) = classify(name.as_str()) else {
            continue;
        };
        if val.as_str().is_empty() {
            continue;
        }
        let v = Value {
            start: val.start(),
            end: val.end(),
            quoted: true,
        };
        emit(text, name.start(), &k, v, Form::Markup, sink);
    }
    for m in CALL.captures_iter(text) {
        let (Some(all), Some(name)) = (m.get(0), m.get(1)) else {
            continue;
        };
        let Some(k) = classify(name.as_str()) else {
            continue;
        };
        // The value parser wants the opening quote.
        let Some(v) = value_at(text, all.end() - 1, false) else {
            continue;
        };
        emit(text, name.start(), &k, v, Form::Markup, sink);
    }
    for m in SPACED.captures_iter(text) {
        let (Some(all), Some(name)) = (m.get(0), m.get(1)) else {
            continue;
        };
        let Some(k) = classify(name.as_str()) else {
            continue;
        };
        let Some(v) = value_at(text, all.end() - 1, false) else {
            continue;
        };
        if text.as_bytes().get(v.end + 1) != Some(&b';') {
            continue;
        }
        emit(text, name.start(), &k, v, Form::Markup, sink);
    }
    for m in SQL.find_iter(text) {
        let Some(v) = value_at(text, m.end() - 1, false) else {
            continue;
        };
        let val = &text[v.start..v.end];
        if let Some(score) = password_score(val, true, Form::Assign) {
            sink.push_value(PASSWORD, v.start, v.end, score, "SQL password");
        }
    }
}

/// Key parsing.
#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written element scanner finds exactly what the regex it replaced found: the
    /// same tag and value spans, in the same order, over tricky and generated texts.
    #[test]
    fn xml_elements_match_the_regex_they_replace() {
        let oracle = regex(
            r"<([A-Za-z_][A-Za-z0-9_.:-]{0,60})>[ \t\r\n]*([\x21-\x3B\x3D-\x7E][\x20-\x3B\x3D-\x7E]{0,300}?)[ \t\r\n]*</",
        );
        let long = "x".repeat(300);
        let name61 = format!("a{}", "b".repeat(60));
        let mut texts: Vec<String> = [
            "<password>Xml$ecret9</password>",
            "<password></password>",
            "<password> \t\n v a l </password>",
            "<password>value \t\r\n </password>",
            "<a><password>s3cret!</password></a>",
            "<a>x <b>y</b>",
            "<pw>tab\tinside</pw>",
            "< password>x</password>",
            "<1abc>x</x>",
            "<_x.y:z-w>v</_x>",
            "<x>\u{e9}t\u{e9}</x> <y>ok</y>",
            "<x>a</ <y>b</y>",
            "<x>a<</x> <y>b</y>",
            "<<x>a</x>",
            "<x>>a</x>",
            "text <PHONE_NUMBER_1> and <EMAIL_ADDRESS_1>. More prose follows here without any tag.",
            "<x>a</x><y>b</y><z> c </z>",
            "<x>",
            "<x>a",
            "<x>a</",
            "",
        ]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
        texts.push(format!("<k>{long}</k>"));
        texts.push(format!("<k>{long}y</k>"));
        texts.push(format!("<k>{long}  </k>"));
        texts.push(format!("<{name61}>v</x>"));
        texts.push(format!("<{name61}c>v</x>"));
        // Generated: every short string over the bytes that matter here.
        let alphabet = ["<", ">", "/", "a", " ", "\t", "1", "é", "-"];
        let mut frontier = vec![String::new()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for t in &frontier {
                for c in alphabet {
                    next.push(format!("{t}{c}"));
                }
            }
            texts.extend(next.iter().map(|t| format!("<a>{t}")));
            texts.extend(next.iter().map(|t| format!("{t}</")));
            frontier = next;
        }
        for t in &texts {
            let want: Vec<_> = oracle
                .captures_iter(t)
                .filter_map(|m| Some((m.get(1)?.range(), m.get(2)?.range())))
                .collect();
            assert_eq!(xml_elements(t), want, "{t:?}");
        }
    }

    /// Keys split at separators and camel-case humps, in any script.
    #[test]
    fn key_segments() {
        assert_eq!(segments("dbPassword"), ["db", "password"]);
        assert_eq!(segments("APIKey"), ["api", "key"]);
        assert_eq!(segments("X-Api-Key"), ["x", "api", "key"]);
        assert_eq!(
            segments("AWS_SECRET_ACCESS_KEY"),
            ["aws", "secret", "access", "key"]
        );
        assert_eq!(segments("contraseña"), ["contraseña"]);
    }

    /// Password and secret names, and the names gitleaks' allowlist and detect-secrets' ID
    /// filter say are not secrets.
    #[test]
    fn key_classes() {
        let kind = |k: &str| classify(k).map(|c| c.kind);
        assert_eq!(kind("db_password"), Some(Kind::Password));
        assert_eq!(kind("PGPASSWORD"), Some(Kind::Password));
        assert_eq!(kind("MYSQL_PWD"), Some(Kind::Password));
        assert_eq!(kind("contraseña"), Some(Kind::Password));
        assert_eq!(kind("Passwort"), Some(Kind::Password));
        assert_eq!(kind("пароль"), Some(Kind::Password));
        assert_eq!(kind("client_secret"), Some(Kind::Secret { strong: true }));
        assert_eq!(kind("apiKey"), Some(Kind::Secret { strong: true }));
        assert_eq!(kind("x-api-key"), Some(Kind::Secret { strong: true }));
        assert_eq!(kind("key"), Some(Kind::Secret { strong: false }));
        for not in [
            "passport",
            "bypass",
            "compass",
            "author",
            "accessor",
            "keyboard",
            "keyword",
            "monkey",
            "max_tokens",
            "prompt_tokens",
            "public_key",
            "primary_key",
            "key_id",
            "access_key_id",
            "secret_name",
            "token_url",
            "token_endpoint",
            "key_file",
            "csrf_token",
            "password_length",
            "password_policy",
            "tokenizer",
            "withCredentials",
            "credentialsId",
            "UserSecretsId",
            "random_access",
        ] {
            assert_eq!(kind(not), None, "{not}");
        }
        assert_eq!(kind("secret_id"), Some(Kind::Secret { strong: true }));
    }
}
