//! Bounded, strict reading of untrusted documents (JSON request bodies, YAML imports): checks
//! that run before a document is deserialised, so a hostile body costs linear time and gets a
//! clear error in the API's own terms instead of a Rust type name.
//!
//! YAML parsers (libyaml behind `serde_yaml_ng` included) spend time proportional to the nesting
//! depth on every token, so a 200 KB document nested 100,000 levels deep takes minutes. The
//! depth check streams the document through `saphyr-parser`'s event parser and stops at the
//! first event past [`MAX_DEPTH`], so its own cost is bounded by that depth.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Deepest nesting of collections a YAML or JSON document may have. Exports nest 6 levels;
/// JSON Schemas and tool definitions rarely pass 20.
pub const MAX_DEPTH: usize = 64;

/// Why a document was refused before it was deserialised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// Collections nest deeper than [`MAX_DEPTH`].
    #[error("the document nests deeper than {max} levels (at line {line}, column {column})")]
    TooDeep {
        /// The limit.
        max: usize,
        /// 1-based line of the first collection past the limit.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Not well-formed YAML.
    #[error("the document is not valid YAML: {0}")]
    Syntax(String),
    /// A JSON body that is not an object.
    #[error("the body must be a JSON object, not {0}")]
    NotAnObject(&'static str),
    /// An object repeats a key (JSON parsers disagree on which copy wins, so none is taken).
    #[error("the key \"{key}\" appears twice in the same object{}", at(.path))]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// Where the object is (`/variables/user`), empty at the top.
        path: String,
    },
    /// Not well-formed JSON.
    #[error("the body is not valid JSON: {0}")]
    Json(String),
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    }
}

/// Refuses a YAML stream whose collections nest deeper than [`MAX_DEPTH`], in time linear in
/// its length. A syntax error refuses the document too: the check cannot vouch for what
/// follows it.
pub fn check_yaml_depth(text: &str) -> Result<(), DocumentError> {
    use saphyr_parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            // The parser's own nesting guard (deeper than this check's) is the same refusal.
            if e.info() == "recursion limit exceeded" {
                DocumentError::TooDeep {
                    max: MAX_DEPTH,
                    line: e.marker().line(),
                    column: e.marker().col() + 1,
                }
            } else {
                DocumentError::Syntax(e.to_string())
            }
        })?;
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(DocumentError::TooDeep {
                        max: MAX_DEPTH,
                        line: span.start.line(),
                        column: span.start.col() + 1,
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            Event::StreamEnd => break,
            _ => {}
        }
    }
    Ok(())
}

/// Checks a JSON request body before it is deserialised: it must be an object, no object in it
/// may repeat a key, and it may nest at most [`MAX_DEPTH`] levels.
///
/// serde accepts a JSON array for a struct (fields by position) and keeps the last of two
/// equal keys; both let a client send what a reader of the body would not expect.
pub fn check_json_body(bytes: &[u8]) -> Result<(), DocumentError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let kind = Strict {
        path: String::new(),
        depth: 0,
    }
    .deserialize(&mut de)
    .map_err(|e| {
        let text = e.to_string();
        match text.strip_prefix(STRICT) {
            Some(rest) => decode_strict(rest),
            None => DocumentError::Json(plain_serde_message(&text)),
        }
    })?;
    de.end()
        .map_err(|e| DocumentError::Json(plain_serde_message(&e.to_string())))?;
    match kind {
        Kind::Object => Ok(()),
        other => Err(DocumentError::NotAnObject(other.name())),
    }
}

/// Marks errors raised by [`Strict`] so they can be told from syntax errors.
const STRICT: &str = "\u{1}strict:";

fn decode_strict(rest: &str) -> DocumentError {
    // `dup <path>\u{0}<key>` or `deep <line>`; serde_json appends " at line L column C".
    let rest = rest.rsplit_once(" at line ").map_or(rest, |(r, _)| r);
    if let Some(dup) = rest.strip_prefix("dup ") {
        let (path, key) = dup.split_once('\u{0}').unwrap_or(("", dup));
        return DocumentError::DuplicateKey {
            key: key.to_owned(),
            path: path.to_owned(),
        };
    }
    DocumentError::TooDeep {
        max: MAX_DEPTH,
        line: 0,
        column: 0,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    Array,
    Other(&'static str),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Object => "an object",
            Kind::Array => "an array",
            Kind::Other(n) => n,
        }
    }
}

/// A visitor that walks any JSON value, remembering keys per object.
struct Strict {
    path: String,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Kind;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(self)
    }
}

impl Strict {
    fn child(&self, segment: &str) -> Result<Strict, String> {
        if self.depth + 1 > MAX_DEPTH {
            return Err(format!("{STRICT}deep"));
        }
        Ok(Strict {
            path: format!(
                "{}/{}",
                self.path,
                segment.replace('~', "~0").replace('/', "~1")
            ),
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Other("a number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::Other("a string"))
    }
    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Other("null"))
    }
    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Other("null"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut i = 0usize;
        loop {
            let child = self.child(&i.to_string()).map_err(de::Error::custom)?;
            if seq.next_element_seed(child)?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(Kind::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.child(&key).map_err(de::Error::custom)?;
            if seen.contains(&key) {
                return Err(de::Error::custom(format!(
                    "{STRICT}dup {}\u{0}{key}",
                    self.path
                )));
            }
            map.next_value_seed(child)?;
            seen.insert(key);
        }
        Ok(Kind::Object)
    }
}

/// Rewrites serde's messages in the API's own terms: JSON type names instead of Rust's
/// (`struct RenderRequest`, `u64`, `a sequence`), so no implementation detail leaks and a
/// client author knows what to send.
pub fn plain_serde_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    // "struct Name" and "enum Name" name Rust types: say what JSON shape is meant instead.
    while let Some(i) = rest.find("struct ").or_else(|| rest.find("enum ")) {
        let (before, after) = rest.split_at(i);
        out.push_str(before);
        let is_struct = after.starts_with("struct ");
        let name_start = if is_struct { 7 } else { 5 };
        let name_len = after[name_start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len() - name_start);
        if name_len == 0 {
            out.push_str(&after[..name_start]);
        } else {
            out.push_str(if is_struct {
                "an object"
            } else {
                "one of the listed values"
            });
        }
        rest = &after[name_start + name_len..];
    }
    out.push_str(rest);
    let mut text = out;
    for (rust, json) in [
        ("a `u64`", "a non-negative integer"),
        ("a `u32`", "a non-negative integer"),
        ("a `usize`", "a non-negative integer"),
        ("a `i64`", "an integer"),
        ("a `f32`", "a number"),
        ("a `f64`", "a number"),
        ("expected u8", "expected a non-negative integer below 256"),
        (
            "expected u16",
            "expected a non-negative integer below 65536",
        ),
        ("expected u32", "expected a non-negative integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected usize", "expected a non-negative integer"),
        ("expected i32", "expected an integer"),
        ("expected i64", "expected an integer"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("a sequence", "an array"),
        ("sequence", "array"),
        ("expected a map", "expected an object"),
        ("invalid type: map", "invalid type: object"),
        ("unit value", "null"),
        ("floating point", "number"),
        ("a borrowed string", "a string"),
        ("`", "\""),
    ] {
        text = text.replace(rust, json);
    }
    text
}

/// Parses an untrusted YAML document with `parse` on the blocking pool, after
/// [`check_yaml_depth`], so neither a deep nor a merely large document occupies an async worker
/// that other tenants' requests need.
///
/// `refuse` turns a refusal of the check into the endpoint's own error (each import endpoint
/// already answers malformed documents with its own status).
pub async fn parse_yaml<T, F>(
    text: &str,
    refuse: fn(String) -> crate::error::Error,
    parse: F,
) -> crate::error::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&str) -> crate::error::Result<T> + Send + 'static,
{
    let text = text.to_owned();
    tokio::task::spawn_blocking(move || {
        check_yaml_depth(&text).map_err(|e| refuse(e.to_string()))?;
        parse(&text)
    })
    .await
    .map_err(|e| crate::error::Error::Internal(format!("YAML parse did not complete: {e}")))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn deep_yaml_is_refused_quickly_and_shallow_yaml_passes() {
        let deep = format!("name: {}x{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        let err = check_yaml_depth(&deep).unwrap_err();
        assert!(
            matches!(err, DocumentError::TooDeep { line: 1, .. }),
            "{err}"
        );
        // Not a timing assertion on the server: the check itself must stop at the limit.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let block: String = (0..70)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        assert!(matches!(
            check_yaml_depth(&block),
            Err(DocumentError::TooDeep { .. })
        ));
        check_yaml_depth("name: greet\nversions:\n  - template: \"{{ a[0] }}\"\n    n: [1, [2]]\n")
            .unwrap();
        check_yaml_depth("a: 1\n---\nb: 2\n").unwrap();
    }

    #[test]
    fn json_bodies_must_be_objects_without_repeated_keys() {
        check_json_body(br#"{"a": {"b": [1, {"c": 2}]}, "d": null}"#).unwrap();
        assert_eq!(
            check_json_body(br#"[{"name":"Ada"},null,null,{}]"#),
            Err(DocumentError::NotAnObject("an array"))
        );
        assert_eq!(
            check_json_body(b"null"),
            Err(DocumentError::NotAnObject("null"))
        );
        assert_eq!(
            check_json_body(br#"{"a": 1, "a": 2}"#),
            Err(DocumentError::DuplicateKey {
                key: "a".into(),
                path: String::new()
            })
        );
        let err = check_json_body(br#"{"v": {"u/x": {"k": 1, "k": 1}}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the key \"k\" appears twice in the same object at /v/u~1x"
        );
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(matches!(
            check_json_body(deep.as_bytes()),
            Err(DocumentError::TooDeep { .. })
        ));
        assert!(matches!(
            check_json_body(b"{\"a\": "),
            Err(DocumentError::Json(_))
        ));
        assert!(matches!(
            check_json_body(b"{} {}"),
            Err(DocumentError::Json(_))
        ));
    }

    #[test]
    fn serde_messages_name_json_types_not_rust_types() {
        assert_eq!(
            plain_serde_message("invalid type: sequence, expected struct RenderRequest"),
            "invalid type: array, expected an object"
        );
        assert_eq!(
            plain_serde_message("invalid type: string \"x\", expected u64 at line 1 column 9"),
            "invalid type: string \"x\", expected a non-negative integer at line 1 column 9"
        );
        assert_eq!(
            plain_serde_message("unknown field `x`, expected `a` or `b`"),
            "unknown field \"x\", expected \"a\" or \"b\""
        );
        assert!(
            !plain_serde_message("invalid type: map, expected struct LimitOverrides")
                .contains("LimitOverrides")
        );
    }
}
