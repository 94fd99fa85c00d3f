//! JSON context access for template engines: the render context arrives as JSON text; this
//! parses it once and reads values by dotted path (`user.name`, `items.0.title`).

use serde_json::Value;

use crate::Error;

/// A parsed render context (always a JSON object).
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    root: Value,
}

impl Context {
    /// Parses `context_json`; anything but a JSON object is an `invalid_input` error of kind
    /// `json`.
    pub fn parse(context_json: &str) -> Result<Context, Error> {
        let root: Value = serde_json::from_str(context_json)
            .map_err(|e| Error::invalid_input("json", format!("the context is not JSON: {e}")))?;
        if !root.is_object() {
            return Err(Error::invalid_input(
                "json",
                "the context must be a JSON object",
            ));
        }
        Ok(Context { root })
    }

    /// The value at a dotted `path`; numeric parts index arrays.
    pub fn get(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(&self.root, |v, part| match v {
            Value::Object(m) => m.get(part),
            Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        })
    }

    /// The value at `path` as text: strings as they are, numbers and booleans printed, `null`
    /// and missing as `None`; arrays and objects as compact JSON.
    pub fn text(&self, path: &str) -> Option<String> {
        match self.get(path)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// Like [`Context::text`] but a missing value is an `invalid_input` error of kind
    /// `undefined` naming the path (what a strict engine reports).
    pub fn require(&self, path: &str) -> Result<String, Error> {
        self.text(path)
            .ok_or_else(|| Error::invalid_input("undefined", format!("`{path}` is undefined")))
    }

    /// The whole context.
    pub fn value(&self) -> &Value {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_objects_and_arrays() {
        let c = Context::parse(r#"{"user": {"name": "Ada", "tags": ["x", "y"]}, "n": 3}"#).unwrap();
        assert_eq!(c.text("user.name").as_deref(), Some("Ada"));
        assert_eq!(c.text("user.tags.1").as_deref(), Some("y"));
        assert_eq!(c.text("n").as_deref(), Some("3"));
        assert_eq!(c.get("user.missing"), None);
        assert!(matches!(c.require("nope"), Err(Error::InvalidInput(e)) if e.kind == "undefined"));
        assert!(Context::parse("[1]").is_err());
        assert!(Context::parse("{").is_err());
    }
}
