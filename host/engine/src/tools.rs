//! Host functions that code running in a code-runner session may call by name.
//!
//! The engine knows tools only through this trait; which tools exist (LLM queries, template
//! rendering, PII detection) is decided by whoever starts the session. A host with no tools
//! answers every call with "unknown tool".

use std::time::Instant;

/// Why a tool call failed; mirrors the WIT `tool-error` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// No tool of that name is available to this caller.
    #[error("unknown tool: {0}")]
    UnknownTool(String),
    /// The arguments were not what the tool takes.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The tool ran and failed; the message is safe to show to the code's author.
    #[error("tool failed: {0}")]
    Failed(String),
}

/// The tools available to one session or call.
pub trait Tools: Send + Sync {
    /// Calls tool `name` with JSON arguments and returns JSON. Must return by `deadline`: the
    /// engine's epoch interruption only stops guest code, not host code.
    fn call(&self, name: &str, args_json: &str, deadline: Instant) -> Result<String, ToolError>;
}

/// The empty tool set.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTools;

impl Tools for NoTools {
    fn call(&self, name: &str, _args_json: &str, _deadline: Instant) -> Result<String, ToolError> {
        Err(ToolError::UnknownTool(name.to_owned()))
    }
}
