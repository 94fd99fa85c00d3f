//! Presidio's REST API under `/presidio` (analyzer and anonymizer on one prefix), so a
//! Presidio client switches to Warden by changing its base URL. Behind the same
//! authentication as every route: a bearer token, or — for clients that cannot set headers —
//! the token as the password of the URL's user info (`http://warden:<token>@host/presidio/`),
//! which HTTP clients send as Basic credentials.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use warden_core::pii::presidio::{
    ANONYMIZERS, AnalyzeRequest, AnonymizeRequest, DeanonymizeRequest, DecryptRequest,
    EngineResult, presidio_decrypt,
};

use super::error::{ApiError, Problem};
use super::extract::{ApiJson, ApiQuery, Caller};
use crate::app::Warden;

type AppState = State<Arc<Warden>>;
type ApiResult<T> = Result<T, ApiError>;

/// Presidio's `language` query parameter (accepted; Warden's recognizers serve every language).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LanguageQuery {
    /// Language code.
    pub language: Option<String>,
}

/// Presidio analyzer's `/analyze`: results with character offsets.
#[utoipa::path(post, path = "/presidio/analyze", tag = "presidio", request_body = AnalyzeRequest,
    responses((status = 200, body = Object), (status = 400, body = Problem)))]
pub async fn analyze(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<AnalyzeRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(w.pii.presidio_analyze(&who, body).await?))
}

/// Presidio analyzer's `/supportedentities`.
#[utoipa::path(get, path = "/presidio/supportedentities", tag = "presidio", params(LanguageQuery),
    responses((status = 200, body = Vec<String>)))]
pub async fn supported_entities(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(_q): ApiQuery<LanguageQuery>,
) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(w.pii.presidio_supported_entities(&who).await?))
}

/// Presidio analyzer's `/recognizers`.
#[utoipa::path(get, path = "/presidio/recognizers", tag = "presidio", params(LanguageQuery),
    responses((status = 200, body = Vec<String>)))]
pub async fn recognizers(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(_q): ApiQuery<LanguageQuery>,
) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(w.pii.presidio_recognizers(&who).await?))
}

/// Presidio anonymizer's `/anonymize`: operators applied to given spans.
#[utoipa::path(post, path = "/presidio/anonymize", tag = "presidio", request_body = AnonymizeRequest,
    responses((status = 200, body = EngineResult), (status = 400, body = Problem)))]
pub async fn anonymize(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<AnonymizeRequest>,
) -> ApiResult<Json<EngineResult>> {
    Ok(Json(w.pii.presidio_anonymize(&who, body).await?))
}

/// Presidio anonymizer's `/deanonymize`: `decrypt` of what `encrypt` produced.
#[utoipa::path(post, path = "/presidio/deanonymize", tag = "presidio", request_body = DeanonymizeRequest,
    responses((status = 200, body = EngineResult), (status = 400, body = Problem)))]
pub async fn deanonymize(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<DeanonymizeRequest>,
) -> ApiResult<Json<EngineResult>> {
    Ok(Json(w.pii.presidio_deanonymize(&who, body).await?))
}

/// Presidio anonymizer's older `/decrypt`: `{"result": <plain text>}`.
#[utoipa::path(post, path = "/presidio/decrypt", tag = "presidio", request_body = DecryptRequest,
    responses((status = 200, body = Object), (status = 400, body = Problem)))]
pub async fn decrypt(
    Caller(_who): Caller,
    ApiJson(body): ApiJson<DecryptRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        serde_json::json!({ "result": presidio_decrypt(&body)? }),
    ))
}

/// Presidio anonymizer's `/anonymizers`: the operator names it accepts.
#[utoipa::path(get, path = "/presidio/anonymizers", tag = "presidio",
    responses((status = 200, body = Vec<String>)))]
pub async fn anonymizers(Caller(_who): Caller) -> Json<&'static [&'static str]> {
    Json(ANONYMIZERS)
}

/// Presidio anonymizer's `/deanonymizers`.
#[utoipa::path(get, path = "/presidio/deanonymizers", tag = "presidio",
    responses((status = 200, body = Vec<String>)))]
pub async fn deanonymizers(Caller(_who): Caller) -> Json<&'static [&'static str]> {
    Json(&["decrypt"])
}

/// Presidio's `/health`: a plain-text liveness answer (public, like `/healthz`).
#[utoipa::path(get, path = "/presidio/health", tag = "presidio",
    responses((status = 200, body = String)))]
pub async fn health() -> &'static str {
    "Presidio Analyzer service is up"
}
