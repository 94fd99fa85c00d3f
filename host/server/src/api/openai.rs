//! OpenAI's API under `/v1/openai`, so an application that calls "OpenAI" switches to Warden by
//! changing its base URL (and using its Warden token as the API key): thin handlers over
//! [`warden_core::gateway::Gateway`]. Errors on these routes are OpenAI error objects
//! (`{"error": {"message", "type", "param", "code"}}`), which [`openai_error`] makes from the
//! problem document every other route answers with.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use warden_core::gateway::Reply;

use super::error::{ApiError, Problem};
use super::extract::{ApiJson, Caller};
use crate::app::Warden;

type AppState = State<Arc<Warden>>;
type ApiResult<T> = Result<T, ApiError>;

/// The path prefix of the OpenAI-compatible routes.
pub const PREFIX: &str = "/v1/openai/";

/// `POST /v1/openai/chat/completions`: a chat completion through the PII guard; with
/// `"stream": true`, server-sent events in OpenAI's chunk format.
#[utoipa::path(post, path = "/v1/openai/chat/completions", tag = "openai",
    request_body(content = Object, description = "OpenAI's chat-completions request; `model` is a model of GET /v1/openai/models"),
    responses((status = 200, description = "A chat completion, or `text/event-stream` chunks", body = Object),
        (status = 404, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem),
        (status = 503, body = Problem)))]
pub async fn chat_completions(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    Ok(match w.gateway.chat(&who, body).await? {
        Reply::Json(v) => Json(v).into_response(),
        Reply::Stream(events) => {
            let mut r = Response::new(Body::from_stream(events));
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
    })
}

/// `POST /v1/openai/embeddings`: embeddings through the same guard.
#[utoipa::path(post, path = "/v1/openai/embeddings", tag = "openai",
    request_body(content = Object, description = "OpenAI's embeddings request"),
    responses((status = 200, body = Object), (status = 404, body = Problem), (status = 502, body = Problem)))]
pub async fn embeddings(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    Ok(Json(w.gateway.embeddings(&who, body).await?))
}

/// `GET /v1/openai/models`: the models this gateway offers.
#[utoipa::path(get, path = "/v1/openai/models", tag = "openai",
    responses((status = 200, body = Object)))]
pub async fn models(State(w): AppState, Caller(who): Caller) -> ApiResult<Json<Value>> {
    Ok(Json(w.gateway.models(&who).await?))
}

/// OpenAI's error `type` for a status.
fn error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

/// A problem document on an OpenAI route, rewritten as an OpenAI error object (same status and
/// headers; the problem's URN kept as `warden_type`). Other responses pass unchanged.
pub async fn openai_error(response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let problem: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let kind = problem["type"]
        .as_str()
        .unwrap_or("urn:warden:problem:internal");
    let code = kind
        .rsplit(':')
        .next()
        .unwrap_or("internal")
        .replace('-', "_");
    let message = problem["detail"].as_str().unwrap_or("request failed");
    let param = problem
        .pointer("/errors/0/path")
        .cloned()
        .unwrap_or(Value::Null);
    let error = json!({"error": {
        "message": message,
        "type": error_type(parts.status),
        "param": param,
        "code": code,
        "warden_type": kind,
    }});
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(error.to_string()))
}
