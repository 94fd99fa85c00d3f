//! What the commands read besides their flags: component and text files, and request bodies
//! from a file or stdin, with the one-line message a missing or unreadable input gets.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::output::Failure;

/// Reads a local file's bytes; `what` names it in the error (`component`, `snapshot`, …).
pub fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::usage(format!("cannot read {what} {}: {e}", path.display())))
}

/// Reads a local file as UTF-8 text, refusing other bytes.
pub fn read_text(path: &Path, what: &str) -> Result<String, Failure> {
    String::from_utf8(read_file(path, what)?)
        .map_err(|_| Failure::usage(format!("{what} {} is not UTF-8 text", path.display())))
}

/// Reads what a remote command sends: a file, or stdin when the path is `-`.
pub fn read_or_stdin(path: &Path, what: &str) -> Result<String, Failure> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::usage(format!("reading {what} from stdin: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {what} {}: {e}", path.display())))
}

/// Parses JSON a remote command sends; `what` names it in the error.
pub fn parse_json(text: &str, what: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::usage(format!("{what} is not JSON: {e}")))
}
