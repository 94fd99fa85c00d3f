//! The error type every world shares: what the plugin tells Warden when a call fails.

/// A place in the caller's input, 1-based, counted in Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number, starting at 1.
    pub column: u32,
}

/// What was wrong with the caller's input, precisely enough to show to whoever wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// A short machine-readable reason, such as `syntax`, `undefined`, `json` or `option`.
    pub kind: String,
    /// A human-readable explanation.
    pub message: String,
    /// Where in the input, when known.
    pub position: Option<Position>,
}

/// Why a call failed, as the plugin reports it. Traps, fuel, deadlines and memory limits are
/// reported by Warden itself; a plugin never needs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The caller's input was rejected: fixing the input fixes the call (HTTP 422
    /// `invalid_input`).
    InvalidInput(InputError),
    /// The plugin failed for a reason of its own (HTTP 422 `guest_failure`).
    GuestFailure(String),
}

impl Error {
    /// An input error of `kind` with `message` and no position.
    pub fn invalid_input(kind: impl Into<String>, message: impl Into<String>) -> Error {
        Error::InvalidInput(InputError {
            kind: kind.into(),
            message: message.into(),
            position: None,
        })
    }

    /// An input error at `line`:`column` (1-based).
    pub fn invalid_input_at(
        kind: impl Into<String>,
        message: impl Into<String>,
        line: u32,
        column: u32,
    ) -> Error {
        Error::InvalidInput(InputError {
            kind: kind.into(),
            message: message.into(),
            position: Some(Position { line, column }),
        })
    }

    /// A failure of the plugin's own.
    pub fn guest_failure(message: impl Into<String>) -> Error {
        Error::GuestFailure(message.into())
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some(p) => write!(
                f,
                "{} at {}:{}: {}",
                self.kind, p.line, p.column, self.message
            ),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

impl std::error::Error for InputError {}

impl From<InputError> for Error {
    fn from(e: InputError) -> Error {
        Error::InvalidInput(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidInput(e) => e.fmt(f),
            Error::GuestFailure(m) => write!(f, "plugin failure: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Conversions between these types and the generated ones (wasm32 builds only).
#[cfg(all(
    target_arch = "wasm32",
    any(
        feature = "pii-detector",
        feature = "template-engine",
        feature = "code-runner"
    )
))]
pub(crate) mod wire {
    use crate::__bindings::warden::plugin::types as w;

    impl From<crate::Error> for w::Error {
        fn from(e: crate::Error) -> w::Error {
            match e {
                crate::Error::InvalidInput(i) => w::Error::InvalidInput(w::InputError {
                    kind: i.kind,
                    message: i.message,
                    position: i.position.map(|p| w::Position {
                        line: p.line,
                        column: p.column,
                    }),
                }),
                crate::Error::GuestFailure(m) => w::Error::GuestFailure(m),
            }
        }
    }
}
