//! The one place errors become HTTP: a status code and an RFC 9457 problem document.
//!
//! Problem `type`s are stable URNs (`urn:warden:problem:<slug>`) a client can switch on.
//! Sandbox outcomes map as documented in the README: the plugin's own error or invalid input,
//! a trap and every resource limit except time are 422 (the request's content made the plugin
//! fail; retrying the same request fails the same way), a wall-clock deadline is 504, and a
//! host fault is 500. Server faults are logged with their cause; the response says only that
//! the server failed, never a path, a backtrace or a database message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use warden_core::error::{Error, FieldError};
use warden_engine::{CallError, GuestError};

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// An RFC 9457 problem document, with Warden's extension members.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URN identifying the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this request.
    pub detail: String,
    /// For sandbox calls: the typed outcome (`out_of_fuel`, `trap`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Field-level reasons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Where in the input (templates, code), 1-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<ProblemPosition>,
    /// What the failed call cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// How long the failed call ran, microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<u64>,
    /// For pipeline runs: the index of the step that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// For pipeline runs: the trace of the steps that ran (never content).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub trace: Option<serde_json::Value>,
}

/// A line and column in the caller's input.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemPosition {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl Problem {
    /// A problem of `status` with a slug and detail.
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("urn:warden:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            outcome: None,
            errors: vec![],
            position: None,
            fuel: None,
            duration_us: None,
            step: None,
            trace: None,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

fn call_problem(error: &CallError) -> Problem {
    let (status, slug) = match error {
        CallError::DeadlineExceeded { .. } => (StatusCode::GATEWAY_TIMEOUT, "deadline-exceeded"),
        CallError::OutOfFuel { .. } | CallError::EngineOutOfFuel { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "out-of-fuel")
        }
        CallError::MemoryLimit { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "memory-limit"),
        CallError::OutputTooLarge { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "output-too-large"),
        CallError::Trap { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "plugin-trapped"),
        CallError::Guest(GuestError::InvalidInput { .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid-input")
        }
        CallError::Guest(GuestError::GuestFailure { .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "plugin-failed")
        }
        CallError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-component"),
        CallError::Host(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    };
    let detail = match error {
        CallError::Host(_) => "the server failed to run the call".to_owned(),
        other => other.to_string(),
    };
    let mut p = Problem::new(status, slug, detail);
    p.outcome = Some(error.outcome().to_owned());
    if let CallError::Guest(GuestError::InvalidInput {
        position: Some(pos),
        ..
    }) = error
    {
        p.position = Some(ProblemPosition {
            line: pos.line,
            column: pos.column,
        });
    }
    p
}

impl ApiError {
    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        problem_for(&self.0)
    }
}

/// The problem document for `error` (recursive for a pipeline step's cause).
fn problem_for(error: &Error) -> Problem {
    match error {
        Error::BadRequest(m) => Problem::new(StatusCode::BAD_REQUEST, "bad-request", m),
        Error::Unprocessable { message, errors } => {
            let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message);
            p.errors = errors.clone();
            p
        }
        Error::Unauthenticated(m) => Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", m),
        Error::Forbidden(m) => Problem::new(StatusCode::FORBIDDEN, "forbidden", m),
        Error::RateLimited(e) => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            format!(
                "over {}; retry in {} s",
                e.what,
                e.retry_after.as_secs_f64().ceil().max(1.0)
            ),
        ),
        e @ Error::NotFound { .. } => {
            Problem::new(StatusCode::NOT_FOUND, "not-found", e.to_string())
        }
        Error::Conflict(m) => Problem::new(StatusCode::CONFLICT, "conflict", m),
        e @ (Error::TooLarge { .. } | Error::TooMany { .. }) => {
            Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", e.to_string())
        }
        Error::InvalidComponent(e) => {
            let too_large = matches!(e, warden_engine::InvalidComponent::TooLarge { .. });
            if too_large {
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", e.to_string())
            } else {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-component",
                    e.to_string(),
                )
            }
        }
        Error::Call { error, report } => {
            let mut p = call_problem(error);
            p.fuel = Some(report.fuel_used);
            p.duration_us = Some(u64::try_from(report.duration.as_micros()).unwrap_or(0));
            p
        }
        Error::Unavailable(m) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
        e @ Error::Busy { .. } => {
            let mut p = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string());
            p.outcome = Some("busy".into());
            p
        }
        Error::BudgetExhausted(m) => {
            let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "budget-exhausted", m);
            p.outcome = Some("budget_exhausted".into());
            p
        }
        Error::PolicyRefused(m) => {
            let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "pii-refused", m);
            p.outcome = Some("policy_refused".into());
            p
        }
        Error::GuardFailed(m) => {
            let mut p = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "pii-analyzer-failed", m);
            p.outcome = Some("guard_failed".into());
            p
        }
        Error::Upstream(m) => {
            let mut p = Problem::new(StatusCode::BAD_GATEWAY, "provider-unavailable", m);
            p.outcome = Some("upstream_failed".into());
            p
        }
        Error::Pipeline {
            step,
            source,
            trace,
        } => {
            let mut p = problem_for(source);
            if !matches!(**source, Error::Storage(_) | Error::Internal(_)) {
                p.detail = format!("step {step}: {}", p.detail);
            }
            p.step = Some(*step);
            p.trace = Some(trace.clone());
            p
        }
        Error::Storage(_) | Error::Internal(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to handle the request; the cause is in its log",
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        // Warden's own faults are errors; a sandbox hitting its deadline or a provider being
        // down is the request's outcome, logged quietly.
        match problem.status {
            500 => tracing::error!(error = %self.0, "request failed"),
            s if s > 500 => tracing::debug!(error = %self.0, "request failed"),
            _ => {}
        }
        let unauthenticated = problem.status == 401;
        let retry_after = match &self.0 {
            Error::RateLimited(e) => Some(e.retry_after.as_secs_f64().ceil().max(1.0) as u64),
            Error::Busy { .. } => Some(1),
            _ => None,
        };
        let mut response = problem.into_response();
        if let Some(secs) = retry_after
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        if unauthenticated {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"warden\""),
            );
        }
        response
    }
}
