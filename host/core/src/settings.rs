//! How a service refuses its own configuration section: each section type has a `validate`
//! that names the offending key, and the server stops start-up with that message.

/// A configuration value that parsed but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}` {message}")]
pub struct Invalid {
    /// The dotted key (`sessions.idle_ttl`).
    pub key: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// `Err(Invalid)` for `key`, the shape every `validate` returns.
pub fn invalid(key: &'static str, message: impl Into<String>) -> Result<(), Invalid> {
    Err(Invalid {
        key,
        message: message.into(),
    })
}
