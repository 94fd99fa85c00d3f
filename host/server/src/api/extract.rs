//! Request extractors whose rejections are problem documents, not axum's plain-text bodies.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use warden_core::auth::Principal;
use warden_core::error::Error;

use super::error::ApiError;
use crate::app::Warden;

/// A JSON body; invalid JSON is a 400 naming the field, an oversized body a 413 with the limit.
///
/// Stricter than `axum::Json`: the body must be one JSON object with no repeated key (serde would
/// take an array positionally and keep the last of two equal keys), and messages use JSON's
/// type names, never Rust's.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<Warden>> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<Warden>) -> Result<Self, Self::Rejection> {
        let limit = state.config.server.max_body_bytes;
        if !is_json(req.headers()) {
            return Err(Error::BadRequest(
                "the body must be JSON, sent with `Content-Type: application/json`".into(),
            )
            .into());
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Error::TooLarge {
                        what: "the request body",
                        size: limit + 1,
                        limit,
                    }
                } else {
                    Error::BadRequest(format!("the body could not be read: {}", r.body_text()))
                }
            })?;
        warden_core::documents::check_json_body(&bytes)
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let message = warden_core::documents::plain_serde_message(&e.into_inner().to_string());
            Error::BadRequest(if path == "." {
                format!("the body does not have the expected fields: {message}")
            } else {
                format!("the body does not have the expected fields: {path}: {message}")
            })
        })?;
        Ok(ApiJson(value))
    }
}

/// `application/json` or any `+json` media type, as `axum::Json` accepts.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// axum prefixes serde's message with its own sentence; keep serde's part (field and position).
fn inner(text: &str) -> String {
    text.split_once(": ")
        .map_or(text, |(_, rest)| rest)
        .to_owned()
}

/// Path parameters; a bad one is a 400.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| {
                Error::BadRequest(warden_core::documents::plain_serde_message(&inner(
                    &e.body_text(),
                )))
                .into()
            })
    }
}

/// Query parameters; a bad one is a 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiQuery(p.0))
            .map_err(|e: QueryRejection| {
                Error::BadRequest(format!(
                    "invalid query: {}",
                    warden_core::documents::plain_serde_message(&inner(&e.body_text()))
                ))
                .into()
            })
    }
}

/// The caller of a `/v1` request: the principal the auth layer verified and put in the
/// request (a `/v1` handler always has one; without it the request is unauthenticated).
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError(Error::Unauthenticated("missing bearer token".into())))
    }
}
