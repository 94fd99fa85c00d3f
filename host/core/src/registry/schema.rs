//! A small, checked subset of JSON Schema so template versions can declare, validate and default their variables.
//!
//! Supported keywords: `type` (one name or an array of names), `properties`, `required`,
//! `default`, `enum`, `items` (a single schema), `description`, `title`, `additionalProperties`
//! (a boolean), `minimum`, `maximum`, `minLength`, `maxLength`, `minItems` and `maxItems`;
//! `$schema` and `$comment` are accepted and ignored. Anything else (`$ref`, `oneOf`, `pattern`,
//! `format`, ...) is refused when the schema is parsed, so a schema never silently promises a
//! check that is not made.
//!
//! Every path, in a [`SchemaError`] or a [`Violation`], is a JSON pointer (RFC 6901); the empty
//! pointer is the root. A violation points at the value it is about, or at where a missing value
//! should be (`/user/name` for a missing required `name` in `user`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Number, Value};

/// How deeply schemas may nest through `properties` and `items`, so a hostile schema cannot exhaust the stack.
pub const MAX_DEPTH: usize = 32;

/// How many violations [`VariablesSchema::apply`] reports at most, so a huge bad input gets a bounded answer.
pub const MAX_VIOLATIONS: usize = 100;

/// A parsed, checked variables schema.
#[derive(Debug, Clone, PartialEq)]
pub struct VariablesSchema {
    root: Node,
}

/// Why a variables schema was refused, and where in the schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {}", display_path(.path))]
pub struct SchemaError {
    /// JSON pointer into the schema document ("" for the root).
    pub path: String,
    /// What is wrong, for the template's author.
    pub message: String,
}

/// One reason a variables object does not match its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON pointer into the variables ("" for the root), e.g. "/user/name".
    pub path: String,
    /// What is wrong, for the caller.
    pub message: String,
}

/// What a template uses compared with what the schema declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VariableCheck {
    /// Used by the template, not declared in the schema (sorted).
    pub undeclared: Vec<String>,
    /// Declared in the schema, never used by the template (sorted).
    pub unused: Vec<String>,
}

/// Compares the variables a template uses with the top-level variables its schema declares.
pub fn check_variables(schema: &VariablesSchema, used: &BTreeSet<String>) -> VariableCheck {
    let declared = schema.top_level();
    VariableCheck {
        undeclared: used.difference(&declared).cloned().collect(),
        unused: declared.difference(used).cloned().collect(),
    }
}

impl VariablesSchema {
    /// Parses and checks a schema document, refusing unsupported keywords and invalid defaults or enum values.
    pub fn parse(schema: &Value) -> Result<VariablesSchema, SchemaError> {
        let mut root = parse_node(schema, "", 0)?;
        match root.kinds.take() {
            None => {}
            Some(kinds) if kinds.as_slice() == [Kind::Object] => {}
            Some(_) => {
                return Err(schema_error(
                    "/type",
                    "the root schema must have type `object` (or no `type`)",
                ));
            }
        }
        // An omitted root `type` means object, so both spellings parse to the same schema.
        Ok(VariablesSchema { root })
    }

    /// Validates `vars` and returns them with defaults applied (recursively for nested objects present or created from defaults); all violations, not just the first, sorted by path.
    ///
    /// At most [`MAX_VIOLATIONS`] violations are reported.
    pub fn apply(&self, vars: &Map<String, Value>) -> Result<Map<String, Value>, Vec<Violation>> {
        let mut checker = Checker::default();
        let mut value = Value::Object(vars.clone());
        checker.check(&self.root, &mut value, "");
        let mut violations = checker.violations;
        match value {
            Value::Object(map) if violations.is_empty() => Ok(map),
            _ => {
                if violations.is_empty() {
                    // Unreachable in practice: checking never changes a value's kind.
                    violations.push(Violation {
                        path: String::new(),
                        message: "variables must be an object".to_owned(),
                    });
                }
                violations.sort_by(|a, b| compare_pointers(&a.path, &b.path));
                Err(violations)
            }
        }
    }

    /// The declared top-level variable names.
    ///
    /// These are the root's `properties` and any root `required` names.
    pub fn top_level(&self) -> BTreeSet<String> {
        self.root
            .properties
            .keys()
            .chain(self.root.required.iter())
            .cloned()
            .collect()
    }

    /// Whether undeclared top-level variables are refused (additionalProperties: false at the root).
    pub fn closed(&self) -> bool {
        self.root.closed
    }
}

/// The JSON types a schema can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::String,
        Kind::Number,
        Kind::Integer,
        Kind::Boolean,
        Kind::Array,
        Kind::Object,
        Kind::Null,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Integer => "integer",
            Kind::Boolean => "boolean",
            Kind::Array => "array",
            Kind::Object => "object",
            Kind::Null => "null",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    fn matches(self, value: &Value) -> bool {
        match (self, value) {
            (Kind::String, Value::String(_))
            | (Kind::Number, Value::Number(_))
            | (Kind::Boolean, Value::Bool(_))
            | (Kind::Array, Value::Array(_))
            | (Kind::Object, Value::Object(_))
            | (Kind::Null, Value::Null) => true,
            (Kind::Integer, Value::Number(n)) => is_integral(n),
            _ => false,
        }
    }
}

/// One checked schema (the root or a nested one).
#[derive(Debug, Clone, PartialEq, Default)]
struct Node {
    /// Allowed types; `None` allows any.
    kinds: Option<Vec<Kind>>,
    properties: BTreeMap<String, Node>,
    required: Vec<String>,
    /// `additionalProperties: false`.
    closed: bool,
    items: Option<Box<Node>>,
    default: Option<Value>,
    allowed: Option<Vec<Value>>,
    minimum: Option<Number>,
    maximum: Option<Number>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
}

const SUPPORTED: [&str; 17] = [
    "type",
    "properties",
    "required",
    "default",
    "enum",
    "items",
    "description",
    "title",
    "additionalProperties",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "$schema",
    "$comment",
];

fn parse_node(value: &Value, path: &str, depth: usize) -> Result<Node, SchemaError> {
    if depth > MAX_DEPTH {
        return Err(schema_error(
            path,
            format!("schema nesting is deeper than {MAX_DEPTH} levels"),
        ));
    }
    let Value::Object(object) = value else {
        return Err(schema_error(
            path,
            format!("a schema must be a JSON object, got {}", value_kind(value)),
        ));
    };
    if let Some(keyword) = object.keys().find(|k| !SUPPORTED.contains(&k.as_str())) {
        return Err(schema_error(
            path,
            format!("unsupported keyword `{keyword}`"),
        ));
    }

    let mut node = Node::default();
    for keyword in ["title", "description"] {
        if let Some(v) = object.get(keyword)
            && !v.is_string()
        {
            return Err(schema_error(
                &push(path, keyword),
                format!("`{keyword}` must be a string"),
            ));
        }
    }
    if let Some(v) = object.get("type") {
        node.kinds = Some(parse_kinds(v, &push(path, "type"))?);
    }
    if let Some(v) = object.get("properties") {
        let here = push(path, "properties");
        let Value::Object(props) = v else {
            return Err(schema_error(
                &here,
                "`properties` must be an object of schemas",
            ));
        };
        for (name, child) in props {
            let child = parse_node(child, &push(&here, name), depth + 1)?;
            node.properties.insert(name.clone(), child);
        }
    }
    if let Some(v) = object.get("additionalProperties") {
        let Value::Bool(allowed) = v else {
            return Err(schema_error(
                &push(path, "additionalProperties"),
                "`additionalProperties` must be true or false (schemas are not supported)",
            ));
        };
        node.closed = !allowed;
    }
    if let Some(v) = object.get("required") {
        node.required = parse_required(v, &node, &push(path, "required"))?;
    }
    if let Some(v) = object.get("items") {
        let here = push(path, "items");
        match v {
            Value::Object(_) => node.items = Some(Box::new(parse_node(v, &here, depth + 1)?)),
            Value::Array(_) => {
                return Err(schema_error(
                    &here,
                    "tuple-form `items` (an array of schemas) is not supported",
                ));
            }
            _ => return Err(schema_error(&here, "`items` must be a schema object")),
        }
    }
    node.minimum = parse_number(object, "minimum", path)?;
    node.maximum = parse_number(object, "maximum", path)?;
    if let (Some(min), Some(max)) = (&node.minimum, &node.maximum)
        && compare_numbers(min, max) == Some(Ordering::Greater)
    {
        return Err(schema_error(
            &push(path, "minimum"),
            format!("minimum {min} is greater than maximum {max}"),
        ));
    }
    node.min_length = parse_count(object, "minLength", path)?;
    node.max_length = parse_count(object, "maxLength", path)?;
    check_bounds(
        path,
        "minLength",
        node.min_length,
        "maxLength",
        node.max_length,
    )?;
    node.min_items = parse_count(object, "minItems", path)?;
    node.max_items = parse_count(object, "maxItems", path)?;
    check_bounds(path, "minItems", node.min_items, "maxItems", node.max_items)?;

    if let Some(v) = object.get("enum") {
        let here = push(path, "enum");
        let Value::Array(values) = v else {
            return Err(schema_error(&here, "`enum` must be a non-empty array"));
        };
        if values.is_empty() {
            return Err(schema_error(&here, "`enum` must be a non-empty array"));
        }
        // Each allowed value must satisfy the rest of the schema, or it could never be chosen.
        for (i, allowed) in values.iter().enumerate() {
            if let Some(v) = first_violation(&node, allowed) {
                return Err(schema_error(
                    &format!("{}{}", push(&here, &i.to_string()), v.path),
                    format!("enum value does not match the schema: {}", v.message),
                ));
            }
        }
        node.allowed = Some(values.clone());
    }
    if let Some(default) = object.get("default") {
        if let Some(v) = first_violation(&node, default) {
            return Err(schema_error(
                &format!("{}{}", push(path, "default"), v.path),
                format!("default does not match the schema: {}", v.message),
            ));
        }
        node.default = Some(default.clone());
    }
    Ok(node)
}

fn parse_kinds(value: &Value, path: &str) -> Result<Vec<Kind>, SchemaError> {
    let kind = |name: &Value, path: &str| -> Result<Kind, SchemaError> {
        let Value::String(name) = name else {
            return Err(schema_error(path, "a type name must be a string"));
        };
        Kind::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            schema_error(
                path,
                format!("unknown type `{name}` (expected {})", known.join(", ")),
            )
        })
    };
    match value {
        Value::String(_) => Ok(vec![kind(value, path)?]),
        Value::Array(names) => {
            if names.is_empty() {
                return Err(schema_error(path, "`type` must not be an empty array"));
            }
            let mut kinds = Vec::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                let here = push(path, &i.to_string());
                let k = kind(name, &here)?;
                if kinds.contains(&k) {
                    return Err(schema_error(
                        &here,
                        format!("duplicate type `{}`", k.name()),
                    ));
                }
                kinds.push(k);
            }
            Ok(kinds)
        }
        _ => Err(schema_error(
            path,
            "`type` must be a type name or an array of type names",
        )),
    }
}

fn parse_required(value: &Value, node: &Node, path: &str) -> Result<Vec<String>, SchemaError> {
    let Value::Array(names) = value else {
        return Err(schema_error(
            path,
            "`required` must be an array of property names",
        ));
    };
    let mut required: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let here = push(path, &i.to_string());
        let Value::String(name) = name else {
            return Err(schema_error(
                &here,
                "a required property name must be a string",
            ));
        };
        if required.contains(name) {
            return Err(schema_error(
                &here,
                format!("duplicate required property `{name}`"),
            ));
        }
        if node.closed && !node.properties.contains_key(name) {
            return Err(schema_error(
                &here,
                format!(
                    "required property `{name}` is not in `properties`, and additionalProperties is false"
                ),
            ));
        }
        required.push(name.clone());
    }
    Ok(required)
}

fn parse_number(
    object: &Map<String, Value>,
    keyword: &str,
    path: &str,
) -> Result<Option<Number>, SchemaError> {
    match object.get(keyword) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.clone())),
        Some(_) => Err(schema_error(
            &push(path, keyword),
            format!("`{keyword}` must be a number"),
        )),
    }
}

fn parse_count(
    object: &Map<String, Value>,
    keyword: &str,
    path: &str,
) -> Result<Option<u64>, SchemaError> {
    let Some(value) = object.get(keyword) else {
        return Ok(None);
    };
    let count = match value {
        Value::Number(n) if is_integral(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        }),
        _ => None,
    };
    count.map(Some).ok_or_else(|| {
        schema_error(
            &push(path, keyword),
            format!("`{keyword}` must be a non-negative integer"),
        )
    })
}

fn check_bounds(
    path: &str,
    min_name: &str,
    min: Option<u64>,
    max_name: &str,
    max: Option<u64>,
) -> Result<(), SchemaError> {
    match (min, max) {
        (Some(min), Some(max)) if min > max => Err(schema_error(
            &push(path, min_name),
            format!("{min_name} {min} is greater than {max_name} {max}"),
        )),
        _ => Ok(()),
    }
}

/// The first violation (in path order) of `value` against `node`, used to check defaults and enum values.
fn first_violation(node: &Node, value: &Value) -> Option<Violation> {
    let mut checker = Checker::default();
    let mut value = value.clone();
    checker.check(node, &mut value, "");
    checker
        .violations
        .into_iter()
        .min_by(|a, b| compare_pointers(&a.path, &b.path))
}

/// Collects violations (up to [`MAX_VIOLATIONS`]) while filling in defaults.
#[derive(Default)]
struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    fn full(&self) -> bool {
        self.violations.len() >= MAX_VIOLATIONS
    }

    fn report(&mut self, path: &str, message: String) {
        if !self.full() {
            self.violations.push(Violation {
                path: path.to_owned(),
                message,
            });
        }
    }

    /// Checks `value` against `node`, inserting defaults for absent properties into objects on the way.
    fn check(&mut self, node: &Node, value: &mut Value, path: &str) {
        if self.full() {
            return;
        }
        if let Some(kinds) = &node.kinds
            && !kinds.iter().any(|k| k.matches(value))
        {
            let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
            let got = match &*value {
                Value::Number(n) if kinds.contains(&Kind::Integer) => format!("number {n}"),
                _ => value_kind(value).to_owned(),
            };
            self.report(path, format!("expected {}, got {got}", or_list(&names)));
            return;
        }
        if let Some(allowed) = &node.allowed
            && !allowed.iter().any(|a| json_eq(a, value))
        {
            let list = serde_json::to_string(allowed).unwrap_or_default();
            self.report(path, format!("value must be one of {list}"));
            return;
        }
        match value {
            Value::Number(n) => {
                if let Some(min) = &node.minimum
                    && compare_numbers(n, min) == Some(Ordering::Less)
                {
                    self.report(path, format!("value {n} is below minimum {min}"));
                }
                if let Some(max) = &node.maximum
                    && compare_numbers(n, max) == Some(Ordering::Greater)
                {
                    self.report(path, format!("value {n} is above maximum {max}"));
                }
            }
            Value::String(s) => {
                let len = s.chars().count() as u64;
                if let Some(min) = node.min_length
                    && len < min
                {
                    self.report(path, format!("length {len} is below minLength {min}"));
                }
                if let Some(max) = node.max_length
                    && len > max
                {
                    self.report(path, format!("length {len} is above maxLength {max}"));
                }
            }
            Value::Array(items) => {
                let len = items.len() as u64;
                if let Some(min) = node.min_items
                    && len < min
                {
                    self.report(
                        path,
                        format!("{} is below minItems {min}", count_items(len)),
                    );
                }
                if let Some(max) = node.max_items
                    && len > max
                {
                    self.report(
                        path,
                        format!("{} is above maxItems {max}", count_items(len)),
                    );
                }
                if let Some(item_node) = &node.items {
                    for (i, item) in items.iter_mut().enumerate() {
                        if self.full() {
                            break;
                        }
                        self.check(item_node, item, &push(path, &i.to_string()));
                    }
                }
            }
            Value::Object(map) => self.check_object(node, map, path),
            Value::Null | Value::Bool(_) => {}
        }
    }

    fn check_object(&mut self, node: &Node, map: &mut Map<String, Value>, path: &str) {
        if node.closed {
            for key in map.keys() {
                if !node.properties.contains_key(key) {
                    self.report(
                        &push(path, key),
                        format!("unknown property `{key}` (additionalProperties is false)"),
                    );
                }
            }
        }
        for (name, child) in &node.properties {
            if self.full() {
                return;
            }
            let here = push(path, name);
            if let Some(value) = map.get_mut(name) {
                self.check(child, value, &here);
            } else if let Some(default) = &child.default {
                // Defaults were checked at parse time; checking again fills in nested defaults.
                let mut value = default.clone();
                self.check(child, &mut value, &here);
                map.insert(name.clone(), value);
            } else if node.required.contains(name) {
                self.report(&here, format!("missing required property `{name}`"));
            }
        }
        for name in &node.required {
            if !node.properties.contains_key(name) && !map.contains_key(name) {
                self.report(
                    &push(path, name),
                    format!("missing required property `{name}`"),
                );
            }
        }
    }
}

fn schema_error(path: &str, message: impl Into<String>) -> SchemaError {
    SchemaError {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "the schema root"
    } else {
        path
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/`.
fn push(path: &str, token: &str) -> String {
    format!("{path}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// Orders JSON pointers token by token, numerically where both tokens are array indices.
fn compare_pointers(a: &str, b: &str) -> Ordering {
    let mut left = a.split('/');
    let mut right = b.split('/');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n).then_with(|| x.cmp(y)),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn is_integral(n: &Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// Compares two JSON numbers by value (so 1 and 1.0 are equal).
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (a.as_i128(), b.as_i128()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// JSON equality as JSON Schema defines it: numbers compare by value.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_eq(v, w))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// "a", "a or b", "a, b or c".
fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn count_items(len: u64) -> String {
    if len == 1 {
        "1 item".to_owned()
    } else {
        format!("{len} items")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(text: &str) -> VariablesSchema {
        let value: Value = serde_json::from_str(text).expect("test schema is JSON");
        VariablesSchema::parse(&value).expect("test schema parses")
    }

    /// Parses `schema`; `expected` is "ok" or the error's display text.
    fn check_schema(schema: &str, expected: &str) {
        let value: Value = serde_json::from_str(schema).expect("test schema is JSON");
        let got = match VariablesSchema::parse(&value) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, expected, "schema: {schema}");
    }

    /// Applies `schema` to `vars`; `expected` is the resulting JSON object, or the violations as
    /// "path: message" joined by " | ".
    fn check(schema_text: &str, vars: &str, expected: &str) {
        let vars: Map<String, Value> = serde_json::from_str(vars).expect("test vars are JSON");
        match schema(schema_text).apply(&vars) {
            Ok(out) => {
                let want: Value = serde_json::from_str(expected)
                    .unwrap_or_else(|_| panic!("expected violations `{expected}`, got {out:?}"));
                assert_eq!(Value::Object(out), want, "schema: {schema_text}");
            }
            Err(violations) => {
                let got: Vec<String> = violations
                    .iter()
                    .map(|v| format!("{}: {}", v.path, v.message))
                    .collect();
                assert_eq!(got.join(" | "), expected, "schema: {schema_text}");
            }
        }
    }

    // One case a line: a table reads better than rustfmt's three-line calls.
    #[rustfmt::skip]
    #[test]
    fn parse_accepts_and_refuses_schemas() {
        check_schema(r#"{}"#, "ok");
        check_schema(r#"{"type":"object"}"#, "ok");
        check_schema(r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","$comment":"x"}"#, "ok");
        check_schema(r#"{"title":"T","description":"D","properties":{"a":{"type":["string","null"],"title":"A"}}}"#, "ok");
        check_schema(r##"{"properties":{"user":{"$ref":"#/defs/u"}}}"##, "unsupported keyword `$ref` at /properties/user");
        check_schema(r#"{"oneOf":[]}"#, "unsupported keyword `oneOf` at the schema root");
        check_schema(r#"{"properties":{"s":{"type":"string","pattern":"^a"}}}"#, "unsupported keyword `pattern` at /properties/s");
        check_schema(r#"{"properties":{"s":{"type":"string","format":"email"}}}"#, "unsupported keyword `format` at /properties/s");
        check_schema(r#"{"properties":{"a/b~c":{"if":true}}}"#, "unsupported keyword `if` at /properties/a~1b~0c");
        check_schema(r#"{"properties":{"l":{"items":{"items":{"anyOf":[]}}}}}"#, "unsupported keyword `anyOf` at /properties/l/items/items");
        check_schema(r#"{"type":"array"}"#, "the root schema must have type `object` (or no `type`) at /type");
        check_schema(r#"{"type":["object","null"]}"#, "the root schema must have type `object` (or no `type`) at /type");
        check_schema(r#"true"#, "a schema must be a JSON object, got boolean at the schema root");
        check_schema(r#"{"properties":{"a":false}}"#, "a schema must be a JSON object, got boolean at /properties/a");
        check_schema(r#"{"properties":{"a":{"type":"text"}}}"#, "unknown type `text` (expected string, number, integer, boolean, array, object, null) at /properties/a/type");
        check_schema(r#"{"properties":{"a":{"type":["string","strin"]}}}"#, "unknown type `strin` (expected string, number, integer, boolean, array, object, null) at /properties/a/type/1");
        check_schema(r#"{"properties":{"a":{"type":[]}}}"#, "`type` must not be an empty array at /properties/a/type");
        check_schema(r#"{"properties":{"a":{"type":["string","string"]}}}"#, "duplicate type `string` at /properties/a/type/1");
        check_schema(r#"{"properties":{"a":{"type":3}}}"#, "`type` must be a type name or an array of type names at /properties/a/type");
        check_schema(r#"{"properties":[]}"#, "`properties` must be an object of schemas at /properties");
        check_schema(r#"{"required":"a"}"#, "`required` must be an array of property names at /required");
        check_schema(r#"{"required":["a",1]}"#, "a required property name must be a string at /required/1");
        check_schema(r#"{"required":["a","a"]}"#, "duplicate required property `a` at /required/1");
        check_schema(r#"{"required":["a"]}"#, "ok");
        check_schema(r#"{"required":["a"],"additionalProperties":false}"#, "required property `a` is not in `properties`, and additionalProperties is false at /required/0");
        check_schema(r#"{"additionalProperties":{"type":"string"}}"#, "`additionalProperties` must be true or false (schemas are not supported) at /additionalProperties");
        check_schema(r#"{"properties":{"l":{"items":[{}]}}}"#, "tuple-form `items` (an array of schemas) is not supported at /properties/l/items");
        check_schema(r#"{"properties":{"l":{"items":true}}}"#, "`items` must be a schema object at /properties/l/items");
        check_schema(r#"{"properties":{"n":{"minimum":"1"}}}"#, "`minimum` must be a number at /properties/n/minimum");
        check_schema(r#"{"properties":{"n":{"minimum":5,"maximum":1}}}"#, "minimum 5 is greater than maximum 1 at /properties/n/minimum");
        check_schema(r#"{"properties":{"n":{"minimum":1,"maximum":1}}}"#, "ok");
        check_schema(r#"{"properties":{"s":{"minLength":-1}}}"#, "`minLength` must be a non-negative integer at /properties/s/minLength");
        check_schema(r#"{"properties":{"s":{"maxLength":1.5}}}"#, "`maxLength` must be a non-negative integer at /properties/s/maxLength");
        check_schema(r#"{"properties":{"s":{"maxLength":2.0}}}"#, "ok");
        check_schema(r#"{"properties":{"s":{"minLength":3,"maxLength":2}}}"#, "minLength 3 is greater than maxLength 2 at /properties/s/minLength");
        check_schema(r#"{"properties":{"l":{"minItems":3,"maxItems":2}}}"#, "minItems 3 is greater than maxItems 2 at /properties/l/minItems");
        check_schema(r#"{"title":1}"#, "`title` must be a string at /title");
        check_schema(r#"{"properties":{"a":{"description":null}}}"#, "`description` must be a string at /properties/a/description");
        check_schema(r#"{"properties":{"e":{"enum":[]}}}"#, "`enum` must be a non-empty array at /properties/e/enum");
        check_schema(r#"{"properties":{"e":{"enum":"a"}}}"#, "`enum` must be a non-empty array at /properties/e/enum");
        check_schema(r#"{"properties":{"e":{"type":"string","enum":["a",2]}}}"#, "enum value does not match the schema: expected string, got number at /properties/e/enum/1");
        check_schema(r#"{"properties":{"e":{"type":"string","maxLength":2,"enum":["ab","abc"]}}}"#, "enum value does not match the schema: length 3 is above maxLength 2 at /properties/e/enum/1");
        check_schema(r#"{"properties":{"e":{"enum":[{"a":1}],"properties":{"a":{"type":"string"}}}}}"#, "enum value does not match the schema: expected string, got number at /properties/e/enum/0/a");
        check_schema(r#"{"properties":{"n":{"type":"integer","default":"5"}}}"#, "default does not match the schema: expected integer, got string at /properties/n/default");
        check_schema(r#"{"properties":{"n":{"type":"integer","default":5.5}}}"#, "default does not match the schema: expected integer, got number 5.5 at /properties/n/default");
        check_schema(r#"{"properties":{"n":{"type":"integer","default":5.0}}}"#, "ok");
        check_schema(r#"{"properties":{"n":{"type":"integer","minimum":10,"default":5}}}"#, "default does not match the schema: value 5 is below minimum 10 at /properties/n/default");
        check_schema(r#"{"properties":{"c":{"enum":["red","blue"],"default":"green"}}}"#, r#"default does not match the schema: value must be one of ["red","blue"] at /properties/c/default"#);
        check_schema(r#"{"properties":{"c":{"enum":["red","blue"],"default":"blue"}}}"#, "ok");
        check_schema(r#"{"properties":{"s":{"type":"string","default":null}}}"#, "default does not match the schema: expected string, got null at /properties/s/default");
        check_schema(r#"{"properties":{"u":{"type":"object","properties":{"n":{"type":"string"}},"default":{"n":1}}}}"#, "default does not match the schema: expected string, got number at /properties/u/default/n");
        check_schema(r#"{"properties":{"u":{"type":"object","required":["id"],"default":{}}}}"#, "default does not match the schema: missing required property `id` at /properties/u/default/id");
        check_schema(r#"{"properties":{"u":{"type":"object","additionalProperties":false,"default":{"x":1}}}}"#, "default does not match the schema: unknown property `x` (additionalProperties is false) at /properties/u/default/x");
        check_schema(r#"{"properties":{"l":{"type":"array","items":{"type":"integer"},"default":[1,"2"]}}}"#, "default does not match the schema: expected integer, got string at /properties/l/default/1");
    }

    /// A schema whose `properties` nest `levels` deep below the root.
    fn nested(levels: usize) -> Value {
        let mut value = json!({"type": "string"});
        for _ in 0..levels {
            value = json!({"type": "object", "properties": {"x": value}});
        }
        value
    }

    #[test]
    fn nesting_is_limited_to_max_depth() {
        assert!(VariablesSchema::parse(&nested(MAX_DEPTH)).is_ok());
        let err = VariablesSchema::parse(&nested(MAX_DEPTH + 1)).expect_err("too deep");
        assert_eq!(err.message, "schema nesting is deeper than 32 levels");
        assert_eq!(err.path, "/properties/x".repeat(MAX_DEPTH + 1));
        // Arrays nest too.
        let mut value = json!({});
        for _ in 0..=MAX_DEPTH {
            value = json!({"items": value});
        }
        let err = VariablesSchema::parse(&json!({"properties": {"l": value}})).expect_err("deep");
        assert_eq!(err.message, "schema nesting is deeper than 32 levels");
    }

    const PERSON: &str = r#"{
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 2, "maxLength": 5},
            "age": {"type": "integer", "minimum": 0, "maximum": 150},
            "score": {"type": "number"},
            "tone": {"enum": ["a", "b"], "default": "a"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
            "nick": {"type": ["string", "null"]},
            "flag": {"type": "boolean", "default": false}
        }
    }"#;

    // One case a line: a table reads better than rustfmt's three-line calls.
    #[rustfmt::skip]
    #[test]
    fn apply_validates_and_fills_defaults() {
        check(PERSON, r#"{"name":"Ann"}"#, r#"{"name":"Ann","tone":"a","flag":false}"#);
        check(PERSON, r#"{"name":"Ann","tone":"b","flag":true}"#, r#"{"name":"Ann","tone":"b","flag":true}"#);
        check(PERSON, r#"{"name":"Ann","extra":[1]}"#, r#"{"name":"Ann","extra":[1],"tone":"a","flag":false}"#);
        check(PERSON, r#"{}"#, "/name: missing required property `name`");
        check(PERSON, r#"{"name":5}"#, "/name: expected string, got number");
        check(PERSON, r#"{"name":null}"#, "/name: expected string, got null");
        check(PERSON, r#"{"name":"A"}"#, "/name: length 1 is below minLength 2");
        check(PERSON, r#"{"name":"Alexandra"}"#, "/name: length 9 is above maxLength 5");
        check(PERSON, r#"{"name":"Zoë"}"#, r#"{"name":"Zoë","tone":"a","flag":false}"#);
        check(PERSON, r#"{"name":"Ann","age":"3"}"#, "/age: expected integer, got string");
        check(PERSON, r#"{"name":"Ann","age":3.5}"#, "/age: expected integer, got number 3.5");
        check(PERSON, r#"{"name":"Ann","age":30.0}"#, r#"{"name":"Ann","age":30.0,"tone":"a","flag":false}"#);
        check(PERSON, r#"{"name":"Ann","age":-1}"#, "/age: value -1 is below minimum 0");
        check(PERSON, r#"{"name":"Ann","age":151}"#, "/age: value 151 is above maximum 150");
        check(PERSON, r#"{"name":"Ann","score":7}"#, r#"{"name":"Ann","score":7,"tone":"a","flag":false}"#);
        check(PERSON, r#"{"name":"Ann","score":true}"#, "/score: expected number, got boolean");
        check(PERSON, r#"{"name":"Ann","tone":"c"}"#, r#"/tone: value must be one of ["a","b"]"#);
        check(PERSON, r#"{"name":"Ann","tags":[]}"#, "/tags: 0 items is below minItems 1");
        check(PERSON, r#"{"name":"Ann","tags":["a","b","c"]}"#, "/tags: 3 items is above maxItems 2");
        check(PERSON, r#"{"name":"Ann","tags":["a",2]}"#, "/tags/1: expected string, got number");
        check(PERSON, r#"{"name":"Ann","tags":{}}"#, "/tags: expected array, got object");
        check(PERSON, r#"{"name":"Ann","nick":null}"#, r#"{"name":"Ann","nick":null,"tone":"a","flag":false}"#);
        check(PERSON, r#"{"name":"Ann","nick":1}"#, "/nick: expected string or null, got number");
        check(
            PERSON,
            r#"{"age":"x","name":"A","tags":[1,"ok",3],"tone":"z"}"#,
            r#"/age: expected integer, got string | /name: length 1 is below minLength 2 | /tags: 3 items is above maxItems 2 | /tags/0: expected string, got number | /tags/2: expected string, got number | /tone: value must be one of ["a","b"]"#,
        );
    }

    // One case a line: a table reads better than rustfmt's three-line calls.
    #[rustfmt::skip]
    #[test]
    fn apply_handles_keyword_edge_cases() {
        let closed = r#"{"additionalProperties":false,"properties":{"a":{}}}"#;
        check(closed, r#"{"a":1}"#, r#"{"a":1}"#);
        check(closed, r#"{"a":1,"foo":2,"bar":3}"#, "/bar: unknown property `bar` (additionalProperties is false) | /foo: unknown property `foo` (additionalProperties is false)");
        check(r#"{"required":["x"]}"#, r#"{"x":[]}"#, r#"{"x":[]}"#);
        check(r#"{"required":["x"]}"#, r#"{}"#, "/x: missing required property `x`");
        check(r#"{"required":["a"],"properties":{"a":{"default":1}}}"#, r#"{}"#, r#"{"a":1}"#);
        check(r#"{"properties":{"i":{"type":"integer"}}}"#, r#"{"i":1e2}"#, r#"{"i":100.0}"#);
        check(r#"{"properties":{"i":{"type":"integer"}}}"#, r#"{"i":-9223372036854775808}"#, r#"{"i":-9223372036854775808}"#);
        check(r#"{"properties":{"i":{"type":"integer"}}}"#, r#"{"i":18446744073709551615}"#, r#"{"i":18446744073709551615}"#);
        check(r#"{"properties":{"n":{"type":["integer","string"]}}}"#, r#"{"n":0.5}"#, "/n: expected integer or string, got number 0.5");
        check(r#"{"properties":{"n":{"type":["boolean","array","object"]}}}"#, r#"{"n":"s"}"#, "/n: expected boolean, array or object, got string");
        check(r#"{"properties":{"n":{"minimum":0.5}}}"#, r#"{"n":0}"#, "/n: value 0 is below minimum 0.5");
        check(r#"{"properties":{"n":{"maximum":1}}}"#, r#"{"n":1.0}"#, r#"{"n":1.0}"#);
        check(r#"{"properties":{"n":{"maximum":1}}}"#, r#"{"n":1.25}"#, "/n: value 1.25 is above maximum 1");
        check(r#"{"properties":{"n":{"minimum":5}}}"#, r#"{"n":"x"}"#, r#"{"n":"x"}"#);
        check(r#"{"properties":{"e":{"enum":[1,"x",null]}}}"#, r#"{"e":1.0}"#, r#"{"e":1.0}"#);
        check(r#"{"properties":{"e":{"enum":[1,"x",null]}}}"#, r#"{"e":null}"#, r#"{"e":null}"#);
        check(r#"{"properties":{"e":{"enum":[1,"x",null]}}}"#, r#"{"e":2}"#, r#"/e: value must be one of [1,"x",null]"#);
        check(r#"{"properties":{"e":{"enum":[{"a":[1]}]}}}"#, r#"{"e":{"a":[1.0]}}"#, r#"{"e":{"a":[1.0]}}"#);
        check(r#"{"properties":{"e":{"enum":[{"a":[1]}]}}}"#, r#"{"e":{"a":[1],"b":2}}"#, r#"/e: value must be one of [{"a":[1]}]"#);
        check(r#"{"properties":{"s":{"maxLength":0}}}"#, r#"{"s":""}"#, r#"{"s":""}"#);
        check(r#"{"properties":{"s":{"maxLength":1}}}"#, r#"{"s":"👍"}"#, r#"{"s":"👍"}"#);
        check(r#"{"properties":{"l":{"minItems":2}}}"#, r#"{"l":[1]}"#, "/l: 1 item is below minItems 2");
        check(r#"{"properties":{"a/b":{"type":"string"}}}"#, r#"{"a/b":1}"#, "/a~1b: expected string, got number");
    }

    // One case a line: a table reads better than rustfmt's three-line calls.
    #[rustfmt::skip]
    #[test]
    fn apply_fills_nested_defaults() {
        let nested = r#"{"properties":{"user":{"type":"object","default":{},"properties":{
            "name":{"type":"string","default":"anon"},
            "prefs":{"type":"object","properties":{"lang":{"default":"en"},"tz":{"type":"string"}},"required":["tz"]}
        }}}}"#;
        check(nested, r#"{}"#, r#"{"user":{"name":"anon"}}"#);
        check(nested, r#"{"user":{"name":"Bo"}}"#, r#"{"user":{"name":"Bo"}}"#);
        check(nested, r#"{"user":{"prefs":{"tz":"UTC"}}}"#, r#"{"user":{"name":"anon","prefs":{"tz":"UTC","lang":"en"}}}"#);
        check(nested, r#"{"user":{"prefs":{}}}"#, "/user/prefs/tz: missing required property `tz`");
        check(nested, r#"{"user":{"prefs":{"tz":1},"name":2}}"#, "/user/name: expected string, got number | /user/prefs/tz: expected string, got number");
        check(nested, r#"{"user":"Bo"}"#, "/user: expected object, got string");
        // A default object gets the defaults of its own properties filled in.
        let from_default = r#"{"properties":{"cfg":{"default":{"a":1},"properties":{"a":{},"b":{"default":2}}}}}"#;
        check(from_default, r#"{}"#, r#"{"cfg":{"a":1,"b":2}}"#);
        // Array items that are objects get their defaults too.
        let items = r#"{"properties":{"l":{"items":{"properties":{"k":{"default":0}}}}}}"#;
        check(items, r#"{"l":[{},{"k":5},7]}"#, r#"{"l":[{"k":0},{"k":5},7]}"#);
    }

    #[test]
    fn violations_are_sorted_by_path_and_capped() {
        let list = r#"{"properties":{"l":{"items":{"type":"string"}},"a":{"type":"string"}}}"#;
        let vars: Map<String, Value> =
            serde_json::from_value(json!({"a": 1, "l": [1, 2, "x", 4, 5, 6, 7, 8, 9, 10, 11]}))
                .expect("object");
        let violations = schema(list).apply(&vars).expect_err("invalid");
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/a", "/l/0", "/l/1", "/l/3", "/l/4", "/l/5", "/l/6", "/l/7", "/l/8", "/l/9",
                "/l/10"
            ]
        );

        let many: Vec<Value> = (0..1000).map(Value::from).collect();
        let vars: Map<String, Value> = serde_json::from_value(json!({"l": many})).expect("object");
        let violations = schema(list).apply(&vars).expect_err("invalid");
        assert_eq!(violations.len(), MAX_VIOLATIONS);
        assert_eq!(violations[0].path, "/l/0");
        assert_eq!(violations[MAX_VIOLATIONS - 1].path, "/l/99");
    }

    #[test]
    fn compare_pointers_orders_indices_numerically() {
        let cases = [
            ("", "/a", Ordering::Less),
            ("/a/2", "/a/10", Ordering::Less),
            ("/b", "/a/1", Ordering::Greater),
            ("/a", "/a", Ordering::Equal),
            ("/01", "/1", Ordering::Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_pointers(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn top_level_closed_and_variable_check() {
        let s =
            schema(r#"{"properties":{"a":{},"b":{"properties":{"inner":{}}}},"required":["c"]}"#);
        assert_eq!(
            s.top_level(),
            BTreeSet::from(["a".into(), "b".into(), "c".into()])
        );
        assert!(!s.closed());
        assert!(schema(r#"{"additionalProperties":false}"#).closed());
        assert!(!schema(r#"{"additionalProperties":true}"#).closed());
        assert!(schema(r#"{}"#).top_level().is_empty());

        let cases: [(&[&str], &[&str], &[&str]); 4] = [
            (&["a", "b", "c"], &[], &[]),
            (&["a", "x"], &["x"], &["b", "c"]),
            (&[], &[], &["a", "b", "c"]),
            (&["z", "y", "b"], &["y", "z"], &["a", "c"]),
        ];
        for (used, undeclared, unused) in cases {
            let used: BTreeSet<String> = used.iter().map(|s| (*s).to_owned()).collect();
            let got = check_variables(&s, &used);
            assert_eq!(got.undeclared, undeclared, "used {used:?}");
            assert_eq!(got.unused, unused, "used {used:?}");
        }
    }

    #[test]
    fn errors_and_violations_serialise_for_callers() {
        let err = SchemaError {
            path: "/properties/user".into(),
            message: "unsupported keyword `$ref`".into(),
        };
        assert_eq!(
            err.to_string(),
            "unsupported keyword `$ref` at /properties/user"
        );
        let v = Violation {
            path: "/user/name".into(),
            message: "missing required property `name`".into(),
        };
        assert_eq!(
            serde_json::to_value(&v).expect("serialises"),
            json!({"path": "/user/name", "message": "missing required property `name`"})
        );
        let c = VariableCheck {
            undeclared: vec!["x".into()],
            unused: vec![],
        };
        assert_eq!(
            serde_json::to_value(&c).expect("serialises"),
            json!({"undeclared": ["x"], "unused": []})
        );
    }

    #[test]
    fn parsed_schemas_compare_by_content() {
        assert_eq!(
            schema(r#"{"properties":{"a":{"type":"string"}}}"#),
            schema(
                r#"{"type":"object","$comment":"c","properties":{"a":{"type":"string","title":"A"}}}"#
            )
        );
        assert_ne!(
            schema(r#"{"properties":{"a":{"type":"string"}}}"#),
            schema(r#"{"properties":{"a":{"type":"number"}}}"#)
        );
    }
}
