//! The built-in components, compiled from `plugins/` by the build script and embedded in the
//! binary, so a user never builds a plugin by hand to run Warden.

/// Every built-in: its short name and its component bytes.
pub const ALL: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

mod versions;
pub use versions::{COMPONENTIZE_PY, PYTEST};

/// The bytes of built-in `name` (`template`, `pii`, `python` or `cpython`).
pub fn get(name: &str) -> Option<&'static [u8]> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}
