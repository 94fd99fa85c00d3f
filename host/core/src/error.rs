//! The error every server operation returns: what went wrong, in terms a caller can act on.
//!
//! **API Boundary:** this type knows nothing of HTTP; `api::error` maps each variant to a
//! status and an RFC 9457 problem document in one place. Variants that are Warden's own fault
//! ([`Error::Storage`], [`Error::Internal`]) carry details for the log only.

use warden_engine::{CallError, CallReport, InvalidComponent};
use warden_storage::StorageError;

/// One field-level problem with a request (a schema violation, a bad dictionary term).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer to the field ("" for the whole value).
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed: a bad name, a bad parameter, a value out of range.
    #[error("{0}")]
    BadRequest(String),
    /// The request is well-formed but its content is refused, with field-level reasons.
    #[error("{message}")]
    Unprocessable {
        /// Summary.
        message: String,
        /// Field-level reasons.
        errors: Vec<FieldError>,
    },
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials without the needed role.
    #[error("{0}")]
    Forbidden(String),
    /// A rate, concurrency or fuel quota is exhausted.
    #[error("over {}: retry after {:?}", .0.what, .0.retry_after)]
    RateLimited(crate::quota::Exceeded),
    /// No such object in the caller's tenant.
    #[error("{kind} `{name}` not found")]
    NotFound {
        /// What kind of object (`plugin`, `template`, ...).
        kind: &'static str,
        /// Its name as the caller gave it.
        name: String,
    },
    /// The change conflicts with what is stored (an existing version, a referrer).
    #[error("{0}")]
    Conflict(String),
    /// A body or value over its size limit.
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A list in a request holds more items than configured.
    #[error("{what} holds {count} items, over the limit of {limit} ({setting})")]
    TooMany {
        /// The field.
        what: &'static str,
        /// How many it holds.
        count: usize,
        /// The limit.
        limit: usize,
        /// The setting that sets the limit.
        setting: &'static str,
    },
    /// An uploaded component was refused.
    #[error("{0}")]
    InvalidComponent(#[from] InvalidComponent),
    /// A sandbox call failed; the report says what it cost.
    #[error("{error}")]
    Call {
        /// The typed outcome.
        error: CallError,
        /// Its cost.
        report: Box<CallReport>,
    },
    /// The server is starting or stopping.
    #[error("{0}")]
    Unavailable(String),
    /// Every sandbox slot stayed busy for the longest a caller may wait.
    #[error("every sandbox slot stayed busy for {} ms; retry shortly", .waited.as_millis())]
    Busy {
        /// How long the request waited.
        waited: std::time::Duration,
    },
    /// A pipeline run used up its budget (fuel, wall-clock, tool calls or LLM tokens).
    #[error("{0}")]
    BudgetExhausted(String),
    /// A policy refused the operation: personal data bound for a provider that may not see it.
    #[error("{0}")]
    PolicyRefused(String),
    /// The PII guard could not check a request bound for a provider (its analyzer failed), so
    /// the request was refused rather than forwarded unchecked.
    #[error("{0}")]
    GuardFailed(String),
    /// An upstream service (an LLM provider) failed after retries.
    #[error("{0}")]
    Upstream(String),
    /// A pipeline step failed; the trace of the steps so far comes with it.
    #[error("step {step} failed: {source}")]
    Pipeline {
        /// The failed step's index.
        step: usize,
        /// Why.
        source: Box<Error>,
        /// What ran, step by step, the failed one last.
        trace: serde_json::Value,
    },
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Any other fault of Warden's own.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A stable snake_case name for the audit log and metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad_request",
            Error::Unprocessable { .. } => "unprocessable",
            Error::NotFound { .. } => "not_found",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::RateLimited(_) => "rate_limited",
            Error::Conflict(_) => "conflict",
            Error::TooLarge { .. } | Error::TooMany { .. } => "too_large",
            Error::InvalidComponent(_) => "invalid_component",
            Error::Call { error, .. } => error.outcome(),
            Error::Unavailable(_) => "unavailable",
            Error::Busy { .. } => "busy",
            Error::BudgetExhausted(_) => "budget_exhausted",
            Error::PolicyRefused(_) => "policy_refused",
            Error::GuardFailed(_) => "guard_failed",
            Error::Upstream(_) => "upstream_failed",
            Error::Pipeline { source, .. } => source.outcome(),
            Error::Storage(_) => "storage_error",
            Error::Internal(_) => "internal_error",
        }
    }

    /// A not-found error.
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> Error {
        Error::NotFound {
            kind,
            name: name.into(),
        }
    }

    /// A sandbox call failure with its report.
    pub fn call(error: CallError, report: CallReport) -> Error {
        Error::Call {
            error,
            report: Box::new(report),
        }
    }
}

impl From<crate::quota::Exceeded> for Error {
    fn from(e: crate::quota::Exceeded) -> Self {
        Error::RateLimited(e)
    }
}

impl From<warden_engine::PoolError> for Error {
    fn from(e: warden_engine::PoolError) -> Self {
        match e {
            warden_engine::PoolError::Busy { waited } => Error::Busy { waited },
            warden_engine::PoolError::Host(m) => Error::Internal(m),
        }
    }
}

/// Result of a server operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
