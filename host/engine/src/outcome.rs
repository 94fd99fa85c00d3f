//! What a call produced: its value or a typed reason it stopped, and what it cost.
//!
//! Callers act on the variant, never on message text: a `Fuel` or `Deadline` outcome is the
//! caller's budget, `InvalidInput` is the caller's input, `Trap` and `GuestFailure` are the
//! plugin's fault, `Invalid` is the component's, and `Host` is ours.

use std::time::Duration;

use serde::Serialize;

/// A place in the caller's input (1-based), as reported by a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

/// Why a component was refused before it ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum InvalidComponent {
    /// The bytes are not WebAssembly at all, or are truncated or malformed.
    #[error("not a valid WebAssembly binary: {detail}")]
    Malformed {
        /// What the validator said.
        detail: String,
    },
    /// A core module where a component is required.
    #[error(
        "this is a core WebAssembly module, not a component; build it for wasm32-wasip2 (or run `wasm-tools component new`)"
    )]
    CoreModule,
    /// The component exports none of Warden's worlds (or more than one).
    #[error("{detail}")]
    WrongWorld {
        /// What it exports instead.
        detail: String,
    },
    /// The component exports the wrong world for the call asked of it.
    #[error("this component implements the {actual} world, not {expected}")]
    WorldMismatch {
        /// The world the caller needed.
        expected: String,
        /// The world the component implements.
        actual: String,
    },
    /// The component imports something its world does not grant.
    #[error("imports {import}, which is not allowed: {why}")]
    ForbiddenImport {
        /// The import, as named in the component (for example `wasi:sockets/tcp@0.2.0`).
        import: String,
        /// Why it is refused.
        why: String,
    },
    /// The component is larger than the host accepts.
    #[error("component is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Pre-initialisation (`wizer-initialize`) failed.
    #[error("pre-initialisation failed: {detail}")]
    PreinitFailed {
        /// What went wrong, including the limit hit if any.
        detail: String,
    },
    /// Cranelift refused to compile it, or the linker could not satisfy its imports.
    #[error("could not compile or link the component: {detail}")]
    Compile {
        /// The compiler's or linker's message.
        detail: String,
    },
}

/// The error a plugin reported itself through its world's `error` type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GuestError {
    /// The caller's input was rejected.
    InvalidInput {
        /// Short reason, such as `syntax` or `undefined`.
        kind: String,
        /// Human-readable explanation.
        message: String,
        /// Where, when known.
        position: Option<Position>,
    },
    /// The plugin failed for a reason of its own.
    GuestFailure {
        /// What it said.
        message: String,
    },
}

impl std::fmt::Display for GuestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuestError::InvalidInput {
                kind,
                message,
                position: Some(p),
            } => {
                write!(
                    f,
                    "{kind} at line {}, column {}: {message}",
                    p.line, p.column
                )
            }
            GuestError::InvalidInput {
                kind,
                message,
                position: None,
            } => write!(f, "{kind}: {message}"),
            GuestError::GuestFailure { message } => write!(f, "plugin failed: {message}"),
        }
    }
}

/// Why a call did not produce a value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The call burned all its fuel.
    #[error("out of fuel: the call used its budget of {limit} fuel")]
    OutOfFuel {
        /// The budget.
        limit: u64,
    },
    /// A template engine's own instruction budget (`engine_fuel`, counted by the engine, not
    /// wasm fuel) ran out: the plugin's `invalid-input` of kind `fuel`. The same
    /// `out_of_fuel` outcome as [`CallError::OutOfFuel`]; raise `engine_fuel`, not `fuel`.
    #[error("out of fuel: the template engine's own budget (engine_fuel) ran out: {message}")]
    EngineOutOfFuel {
        /// What the plugin said, with where in the template it stopped.
        message: String,
    },
    /// The call ran past its wall-clock deadline.
    #[error("deadline exceeded: the call ran longer than {limit:?}")]
    DeadlineExceeded {
        /// The deadline.
        limit: Duration,
    },
    /// The instance tried to grow its memory past the limit.
    #[error("memory limit: the call tried to use more than {limit} bytes of memory")]
    MemoryLimit {
        /// The limit in bytes.
        limit: u64,
    },
    /// The result was larger than the caller accepts.
    #[error("output too large: {size} bytes, over the {limit}-byte limit")]
    OutputTooLarge {
        /// The result's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The guest trapped (a panic, an `unreachable`, a stack overflow, an out-of-bounds access).
    #[error("plugin trapped: {message}")]
    Trap {
        /// wasmtime's description of the trap, plus the plugin's last stderr line if any.
        message: String,
    },
    /// The plugin returned its own error value.
    #[error("{0}")]
    Guest(GuestError),
    /// The component cannot be run at all.
    #[error("invalid component: {0}")]
    Invalid(InvalidComponent),
    /// Warden itself failed (I/O, an exhausted instance pool); the plugin is not at fault.
    #[error("host error: {0}")]
    Host(String),
}

impl CallError {
    /// A stable snake_case name for the outcome, for logs, metrics and JSON.
    pub fn outcome(&self) -> &'static str {
        match self {
            CallError::OutOfFuel { .. } | CallError::EngineOutOfFuel { .. } => "out_of_fuel",
            CallError::DeadlineExceeded { .. } => "deadline_exceeded",
            CallError::MemoryLimit { .. } => "memory_limit",
            CallError::OutputTooLarge { .. } => "output_too_large",
            CallError::Trap { .. } => "trap",
            CallError::Guest(GuestError::InvalidInput { .. }) => "invalid_input",
            CallError::Guest(GuestError::GuestFailure { .. }) => "guest_failure",
            CallError::Invalid(_) => "invalid_component",
            CallError::Host(_) => "host_error",
        }
    }
}

impl From<InvalidComponent> for CallError {
    fn from(e: InvalidComponent) -> Self {
        CallError::Invalid(e)
    }
}

/// What one call cost, reported whatever its outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallReport {
    /// Fuel burned (instantiation included).
    pub fuel_used: u64,
    /// Largest total linear memory the instance reached, in bytes.
    pub peak_memory_bytes: u64,
    /// Wall-clock time of the call, instantiation included.
    #[serde(serialize_with = "micros")]
    pub duration: Duration,
    /// What the plugin wrote to stdout and stderr (lossy UTF-8), up to the log limit.
    pub logs: String,
    /// Whether logs were cut at the limit.
    pub logs_truncated: bool,
}

fn micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// A call's result together with its cost.
#[derive(Debug)]
pub struct Outcome<T> {
    /// The value, or why there is none.
    pub result: Result<T, CallError>,
    /// What the call cost.
    pub report: CallReport,
}
