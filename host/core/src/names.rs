//! The one pattern every user-chosen name must match, so no name can traverse a path, break a
//! storage key or smuggle control characters into logs.

use crate::error::Error;

/// Longest name accepted.
pub const MAX_NAME: usize = 64;

/// Whether `s` matches `[a-z0-9][a-z0-9._-]{0,63}`.
pub fn is_valid(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NAME
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(c))
}

/// Checks a name of `kind` (plugin, template, label, dictionary, tenant).
pub fn check(kind: &str, s: &str) -> Result<(), Error> {
    if is_valid(s) {
        Ok(())
    } else {
        let shown: String = s.chars().take(80).flat_map(char::escape_default).collect();
        Err(Error::BadRequest(format!(
            "invalid {kind} name \"{shown}\": names are 1 to {MAX_NAME} characters of a-z, 0-9, \
             '.', '_' and '-', starting with a letter or digit"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn names() {
        for ok in ["a", "0", "my-plugin", "v1.2_x", &"a".repeat(64)] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            ".",
            "..",
            "../etc",
            "A",
            "a/b",
            "a b",
            "a\n",
            "é",
            &"a".repeat(65),
            "a%2f",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }
}
