//! Request extractors whose rejections are problem documents, not axum's plain-text bodies.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::Warden;
use crate::error::Error;

/// A JSON body; invalid JSON is a 400 naming the field, an oversized body a 413 with the limit.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<Warden>> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<Warden>) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(json_rejection(r, state.config.server.max_body_bytes).into()),
        }
    }
}

fn json_rejection(r: JsonRejection, limit: u64) -> Error {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Error::TooLarge {
            what: "the request body",
            size: limit + 1,
            limit,
        };
    }
    match r {
        JsonRejection::MissingJsonContentType(_) => Error::BadRequest(
            "the body must be JSON, sent with `Content-Type: application/json`".into(),
        ),
        JsonRejection::JsonSyntaxError(e) => Error::BadRequest(format!(
            "the body is not valid JSON: {}",
            inner(&e.body_text())
        )),
        JsonRejection::JsonDataError(e) => Error::BadRequest(format!(
            "the body does not have the expected fields: {}",
            inner(&e.body_text())
        )),
        other => Error::BadRequest(other.body_text()),
    }
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
            .map_err(|e: PathRejection| Error::BadRequest(inner(&e.body_text())).into())
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
                Error::BadRequest(format!("invalid query: {}", inner(&e.body_text()))).into()
            })
    }
}
