//! False-positive filters for values found next to a keyword or inside a URL: detect-secrets'
//! heuristics (`detect_secrets/filters/heuristic.py`: sequential strings, UUIDs, templated
//! values, indirect references, non-alphanumeric strings) and gitleaks' allowlists (its global
//! allowlist regexes, the generic rule's stop words and its letters-only rule), plus the
//! placeholders people write in prompts and documentation.

use super::stopwords::STOPWORDS;

/// Whether `v` is a template or a variable rather than a value: `{x}`, `<x>`, `${X}`, `$X`,
/// `$(cmd)`, `{{ x }}`, `%X%`, `%s`, `%(x)s`, `{0}`, `@X@`, `#{x}`, `[X]`, `__X__`, `<%= x %>`
/// (detect-secrets' `is_templated_secret`, gitleaks' global allowlist).
pub(super) fn is_templated(v: &str) -> bool {
    let b = v.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return true;
    };
    if b.len() < 2 {
        return true;
    }
    let ident = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
    };
    (first == b'{' && last == b'}')
        || (first == b'<' && last == b'>')
        || (first == b'[' && last == b']')
        || (first == b'(' && last == b')')
        || (first == b'$' && matches!(b[1], b'{' | b'(' | b'_' | b'0'..=b'9'))
        || (first == b'$' && ident(&b[1..]))
        || (first == b'%' && last == b'%' && ident(&b[1..b.len() - 1]))
        || (first == b'%' && b.len() <= 3 && b[b.len() - 1].is_ascii_alphabetic())
        || (first == b'@' && last == b'@' && ident(&b[1..b.len() - 1]))
        || (first == b'#' && b[1] == b'{')
        || (v.starts_with("__") && v.ends_with("__"))
        || v.contains("{{")
        || v.contains("${")
        || v.contains("$(")
        || v.contains("%(")
        || v.contains("<%")
        || v.contains("#{")
}

/// Words that stand for a value instead of being one (after trailing digits and punctuation
/// are removed: `password1!` is `password`).
const PLACEHOLDER_WORDS: &[&str] = &[
    "abc",
    "abcd",
    "abcdef",
    "accesskey",
    "apikey",
    "bar",
    "baz",
    "change",
    "changeit",
    "changeme",
    "default",
    "dummy",
    "empty",
    "example",
    "fake",
    "false",
    "foo",
    "foobar",
    "guest",
    "hidden",
    "masked",
    "mypass",
    "mypassword",
    "mysecret",
    "mytoken",
    "nil",
    "none",
    "null",
    "omitted",
    "pass",
    "passw",
    "passwd",
    "password",
    "placeholder",
    "privatekey",
    "pw",
    "pwd",
    "qwerty",
    "redacted",
    "removed",
    "sample",
    "secret",
    "secretkey",
    "string",
    "test",
    "testing",
    "testpass",
    "testpassword",
    "token",
    "true",
    "undefined",
    "user",
    "username",
    "value",
    "yourpassword",
    "yoursecret",
    "yourtoken",
];

/// Fragments that mark a placeholder wherever they appear.
const PLACEHOLDER_PARTS: &[&str] = &[
    "xxxx",
    "****",
    "...",
    "\u{2026}",
    "•••",
    "example",
    "placeholder",
    "redacted",
    "changeme",
    "change_me",
    "change-me",
    "dummy",
    "sample",
    "_here",
    "-here",
    " here",
    "replace",
    "insert_",
    "insert-",
    "fixme",
    "todo",
    "not_a_real",
    "notareal",
    "fake_",
    "fake-",
];

/// Whether `v` is a placeholder: a stand-in word (`changeme`, `password`, `secret123`), one
/// character repeated (`xxxxxxxx`, `********`, gitleaks' `^(?i:a+|b+|…|\*+|\.+)$`), a fragment
/// such as `example`, `your_…` or `…_here`, a keyword inside the value (`my-secret-token`), or
/// a bracketed description (`<your password>`).
pub(super) fn is_placeholder(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    let mut chars = lower.chars();
    if let Some(c) = chars.next()
        && chars.all(|d| d == c)
    {
        return true;
    }
    let core = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let core = core.trim_start_matches(|c: char| c.is_ascii_punctuation());
    if !core.is_empty() && PLACEHOLDER_WORDS.contains(&core) {
        return true;
    }
    if lower.starts_with("your") || lower.starts_with("<") || lower.starts_with("my_") {
        return true;
    }
    PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p))
        || [
            "password", "passwd", "secret", "token", "apikey", "api_key", "api-key",
        ]
        .iter()
        .any(|k| lower.contains(k))
}

/// Whether `v` (upper-cased) is a run of an alphabet, as `ABCDEF`, `123456`, `0123456789ABCDEF`
/// (detect-secrets' `is_sequential_string`).
pub(super) fn is_sequential(v: &str) -> bool {
    /// detect-secrets' sequences (and keyboard rows).
    const SEQUENCES: &[&str] = &[
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/",
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ+/",
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "01234567890123456789",
        "0123456789ABCDEF0123456789ABCDEF",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ=/",
        "ZYXWVUTSRQPONMLKJIHGFEDCBA",
        "9876543210",
        "QWERTYUIOPASDFGHJKLZXCVBNM",
    ];
    let upper = v.to_ascii_uppercase();
    SEQUENCES.iter().any(|s| s.contains(upper.as_str()))
}

/// Whether `v` is exactly a UUID (detect-secrets' `is_potential_uuid`).
pub(super) fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether `v` contains one of gitleaks' stop words (the generic rule's allowlist).
pub(super) fn has_stopword(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    STOPWORDS.iter().any(|w| lower.contains(w))
}

/// Values gitleaks knows to be public (its global stop words and the generic rule's extra
/// one, yarn berry's shared key), Stripe publishable keys, and alphabets written out
/// (`abcdefgh…`, `01234567…`).
pub(super) fn is_known_public(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    // Stripe publishable keys are public by design.
    if lower.starts_with("pk_live_") || lower.starts_with("pk_test_") {
        return true;
    }
    [
        "014df517-39d1-4453-b7b3-9930c563627c",
        "6fe4476ee5a1832882e326b506d14126",
        "abcdefgh",
        "01234567",
        "qwertyui",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Whether an unquoted `v` reads as code rather than a value: a dotted identifier chain such
/// as `config.db_password` or `process.env.TOKEN`, or a call or an index such as
/// `get_secret()` or `os.environ['X']` (detect-secrets' `is_indirect_reference`).
pub(super) fn is_code_reference(v: &str) -> bool {
    // A name: letters, `_` and `$`, digits only at the end (`db2`, not `s3cr3t`).
    let ident = |s: &str| {
        let name = s.trim_end_matches(|c: char| c.is_ascii_digit());
        let mut c = name.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == '$')
            && c.all(|x| x.is_ascii_alphabetic() || x == '_' || x == '$')
    };
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() >= 2 && parts.iter().all(|p| ident(p)) {
        return true;
    }
    if let Some(i) = v.find(['(', '['])
        && i > 0
        && v[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'))
    {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    [
        "env.", "env[", "getenv", "environ", "secrets.", "vars.", "::",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// File extensions of paths that name where a secret is kept rather than the secret.
const PATH_EXTENSIONS: &[&str] = &[
    ".pem",
    ".key",
    ".crt",
    ".cer",
    ".der",
    ".p12",
    ".pfx",
    ".jks",
    ".keystore",
    ".json",
    ".txt",
    ".env",
    ".yaml",
    ".yml",
    ".cfg",
    ".conf",
    ".ini",
    ".gpg",
    ".asc",
    ".pub",
    ".xml",
    ".properties",
];

/// Whether `v` is a file path or a plain URL: a place, not a secret (gitleaks' global
/// allowlist has `^/(?:bin|etc|home|opt|tmp|usr|var)/…` and `^/Users/…`).
pub(super) fn is_path_or_url(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    lower.starts_with('/')
        || lower.starts_with("./")
        || lower.starts_with("../")
        || lower.starts_with("~/")
        || lower.starts_with("file:")
        || lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("arn:")
        || (lower.len() > 2 && lower.as_bytes()[1] == b':' && lower.as_bytes()[2] == b'\\')
        || PATH_EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// Whether `v` is a labelled digest (`sha512-…`, `sha256:…`, `md5:…`): lock files and
/// integrity attributes are full of them.
pub(super) fn is_digest(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    [
        "sha1", "sha256", "sha384", "sha512", "md5", "blake2b", "blake3", "xxh64", "h1",
    ]
    .iter()
    .any(|p| {
        lower
            .strip_prefix(p)
            .is_some_and(|r| r.starts_with('-') || r.starts_with(':') || r.starts_with('='))
    })
}

/// What kinds of characters a value has.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Classes {
    /// ASCII upper-case letters.
    pub upper: usize,
    /// ASCII lower-case letters.
    pub lower: usize,
    /// ASCII digits.
    pub digit: usize,
    /// Everything else.
    pub other: usize,
}

impl Classes {
    /// Counts the classes of `v`'s characters.
    pub(super) fn of(v: &str) -> Classes {
        let mut c = Classes::default();
        for ch in v.chars() {
            match ch {
                'A'..='Z' => c.upper += 1,
                'a'..='z' => c.lower += 1,
                '0'..='9' => c.digit += 1,
                _ => c.other += 1,
            }
        }
        c
    }
    /// Whether there is a letter (detect-secrets' `is_not_alphanumeric_string` drops values
    /// without one).
    pub(super) fn has_letter(&self) -> bool {
        self.upper + self.lower > 0
    }
    /// Whether every character is a letter, `_`, `.`, `-` or a space (gitleaks' generic rule
    /// drops these: `^[a-zA-Z_.-]+$`; words with spaces are prose); `v` is the value the
    /// classes were counted on.
    pub(super) fn letters_only(&self, v: &str) -> bool {
        self.digit == 0
            && v.chars()
                .all(|c| c.is_ascii_alphabetic() || "_.- ".contains(c))
    }
}

/// The heuristics on detect-secrets' and gitleaks' examples.
#[cfg(test)]
mod tests {
    use super::*;

    /// detect-secrets' `tests/filters/heuristic_filter_test.py` cases, and gitleaks' global
    /// allowlist regexes as examples.
    #[test]
    fn heuristics() {
        for s in [
            "ABCDEF",
            "abcdef",
            "0123456789",
            "1234567890",
            "ABCDEF0123",
            "+/",
        ] {
            assert!(is_sequential(s), "{s}");
        }
        assert!(!is_sequential("BEEF1234"));
        assert!(is_uuid("3636dd46-ea21-11e9-81b4-2a2ae2dbcce4"));
        assert!(!is_uuid("3636dd46-ea21-11e9-81b4-2a2ae2dbcce"));
        for s in [
            "{secret}",
            "<secret>",
            "${secret}",
            "$SECRET",
            "$secret",
            "$1",
            "${{ secrets.TOKEN }}",
            "{{ password }}",
            "%PASSWORD%",
            "%s",
            "%(password)s",
            "{0}",
            "@PASSWORD@",
            "#{password}",
            "[PASSWORD]",
            "__PASSWORD__",
            "<%= password %>",
            "$(cat /run/secrets/x)",
        ] {
            assert!(is_templated(s), "{s}");
        }
        for s in ["hunter2", "Tr0ub4dor&3", "$ecret!9x", "a{b}c"] {
            assert!(!is_templated(s), "{s}");
        }
        for s in [
            "xxxxxxxx",
            "********",
            "changeme",
            "password",
            "password123",
            "Secret1!",
            "<your password>",
            "your-api-key",
            "YOUR_TOKEN_HERE",
            "put-key-here",
            "my-secret-token",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "sk_live_xxxxxxxxxxxxxxxx",
            "...",
        ] {
            assert!(is_placeholder(s), "{s}");
        }
        for s in ["hunter2", "Tr0ub4dor&3", "9f8e7d6c5b4a", "P@ssw0rd!"] {
            assert!(!is_placeholder(s), "{s}");
        }
        for s in [
            "config.db_password",
            "process.env.TOKEN",
            "get_secret()",
            "os.environ['X']",
            "request.headers['apikey']",
            "ENV['TOKEN']",
        ] {
            assert!(is_code_reference(s), "{s}");
        }
        for s in ["hunter2", "v1.2.3", "s3cr3t.Pa55"] {
            assert!(!is_code_reference(s), "{s}");
        }
        assert!(is_path_or_url("/etc/ssl/private/server.key"));
        assert!(is_path_or_url("secrets/db.json"));
        assert!(!is_path_or_url("hunter2"));
        assert!(is_digest("sha512-9WcqjStYjqPZSOdvBeOcqsRoVBbA=="));
        assert!(has_stopword("this_is_not_a_secret"));
        assert!(!has_stopword("Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"));
    }
}
