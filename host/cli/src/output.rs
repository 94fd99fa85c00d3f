//! What every command prints and how it fails: JSON on stdout, one line on stderr and an exit
//! code.

use std::io::{IsTerminal, Write};

use serde_json::Value;

/// A command-line failure: one line for the user, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub(crate) message: String,
    pub(crate) code: u8,
}

impl Failure {
    /// Bad input or a local problem: exit code 2.
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

/// Prints JSON on stdout: pretty on a terminal, one line otherwise.
pub(crate) fn print_json(v: &Value) {
    emit(v);
}

pub(crate) fn emit(v: &Value) {
    let mut out = std::io::stdout().lock();
    let text = if std::io::stdout().is_terminal() {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    let _ = writeln!(out, "{}", text.unwrap_or_default());
}
