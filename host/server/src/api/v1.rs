//! The `/v1` handlers: thin translations between HTTP and the services.
//!
//! Each handler takes the caller's [`Principal`], parses its input with the problem-reporting
//! extractors and calls one service function; status codes for success live here, error
//! statuses in `api::error`.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::{ApiError, Problem};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::page::{Page, Paged};
use warden_core::error::Error;
use warden_core::pii::dictionary::Dictionary;
use warden_core::pii::recognizers::{Imported, StoredRecognizer, from_presidio_yaml};
use warden_core::pii::service as pii;
use warden_core::pipelines::{self, registry as pipeline_registry};
use warden_core::registry::approvals;
use warden_core::registry::plugins::{PluginRecord, PluginSummary, UploadMeta};
use warden_core::registry::templates::{
    Created, ImportReport, InlineRender, NewVersion, RenderRequest, Rendered, TemplateSummary,
    TemplateVersion,
};
use warden_core::sessions::{CreateSession, EvalRequest, EvalResponse, OneShot, SessionRecord};
use warden_engine::LimitOverrides;
use warden_storage::audit::{AuditPage, AuditQuery, Verification};

use super::extract::Caller;
use crate::app::Warden;

type AppState = State<Arc<Warden>>;
type ApiResult<T> = Result<T, ApiError>;

// ---------------------------------------------------------------- plugins

/// Lists plugins: the tenant's uploads and the built-ins.
#[utoipa::path(get, path = "/v1/plugins", tag = "plugins", params(Page),
    responses((status = 200, body = Vec<PluginSummary>)))]
pub async fn list_plugins(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Paged<PluginSummary>> {
    Ok(page.apply(w.plugins.list(&who).await?, |p| p.name.as_str())?)
}

/// Lists a plugin's versions.
#[utoipa::path(get, path = "/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<PluginRecord>), (status = 404, body = Problem)))]
pub async fn plugin_versions(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Vec<PluginRecord>>> {
    Ok(Json(w.plugins.versions(&who, &name).await?))
}

/// Gets one plugin version (`latest` allowed).
#[utoipa::path(get, path = "/v1/plugins/{name}/versions/{version}", tag = "plugins",
    params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = PluginRecord), (status = 404, body = Problem)))]
pub async fn get_plugin(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> ApiResult<Json<PluginRecord>> {
    Ok(Json(w.plugins.get(&who, &name, &version).await?))
}

fn header_meta(headers: &HeaderMap) -> Result<UploadMeta, Error> {
    let text = |name: &str| -> Result<Option<String>, Error> {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .map(str::to_owned)
                    .map_err(|_| Error::BadRequest(format!("header {name} is not valid text")))
            })
            .transpose()
    };
    let limits = match text("x-warden-limits")? {
        Some(j) => serde_json::from_str::<LimitOverrides>(&j)
            .map_err(|e| Error::BadRequest(format!("header x-warden-limits: {e}")))?,
        None => LimitOverrides::default(),
    };
    Ok(UploadMeta {
        world: text("x-warden-world")?,
        description: text("x-warden-description")?.unwrap_or_default(),
        limits,
    })
}

/// Uploads a component as a new plugin version: the body is the component
/// (`application/wasm`, metadata in `X-Warden-World`, `X-Warden-Description` and
/// `X-Warden-Limits` headers) or `multipart/form-data` with a `component` part and an optional
/// JSON `metadata` part.
#[utoipa::path(post, path = "/v1/plugins/{name}/versions/{version}", tag = "plugins",
    params(("name" = String, Path), ("version" = String, Path, description = "semver")),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = PluginRecord), (status = 400, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn upload_plugin(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, version)): ApiPath<(String, String)>,
    request: Request,
) -> ApiResult<Response> {
    let limit = w.config.server.max_upload_bytes;
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let too_large = |size: u64| Error::TooLarge {
        what: "the component",
        size,
        limit,
    };
    let (meta, bytes) = if is_multipart {
        let mut multipart = Multipart::from_request(request, &w)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        let mut meta = UploadMeta::default();
        let mut bytes = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| Error::BadRequest(format!("malformed multipart body: {e}")))?
        {
            match field.name() {
                Some("component") => {
                    let b = field
                        .bytes()
                        .await
                        .map_err(|e| Error::BadRequest(format!("component part: {e}")))?;
                    if b.len() as u64 > limit {
                        return Err(too_large(b.len() as u64).into());
                    }
                    bytes = Some(b.to_vec());
                }
                Some("metadata") => {
                    let b = field
                        .bytes()
                        .await
                        .map_err(|e| Error::BadRequest(format!("metadata part: {e}")))?;
                    meta = serde_json::from_slice(&b)
                        .map_err(|e| Error::BadRequest(format!("metadata part: {e}")))?;
                }
                other => {
                    return Err(Error::BadRequest(format!(
                        "unexpected multipart part {:?}; send `component` and optionally `metadata`",
                        other.unwrap_or("")
                    ))
                    .into());
                }
            }
        }
        let bytes = bytes.ok_or_else(|| {
            Error::BadRequest("the multipart body has no `component` part".into())
        })?;
        (meta, bytes)
    } else {
        let meta = header_meta(request.headers())?;
        let body = axum::body::to_bytes(
            request.into_body(),
            usize::try_from(limit).unwrap_or(usize::MAX),
        )
        .await
        .map_err(|_| too_large(limit + 1))?;
        (meta, body.to_vec())
    };
    if bytes.is_empty() {
        return Err(
            Error::BadRequest("the body is empty: send the component's bytes".into()).into(),
        );
    }
    let record = w.plugins.upload(&who, &name, &version, meta, bytes).await?;
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

/// Deletes one plugin version.
#[utoipa::path(delete, path = "/v1/plugins/{name}/versions/{version}", tag = "plugins",
    params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_plugin_version(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    w.plugins.delete(&who, &name, Some(&version)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes every version of a plugin.
#[utoipa::path(delete, path = "/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_plugin(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    w.plugins.delete(&who, &name, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- templates

/// Lists templates with their versions and labels.
#[utoipa::path(get, path = "/v1/templates", tag = "templates", params(Page),
    responses((status = 200, body = Vec<TemplateSummary>)))]
pub async fn list_templates(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Paged<TemplateSummary>> {
    Ok(page.apply(w.templates.list(&who).await?, |t| t.name.as_str())?)
}

/// Deletes a template: every version, label and pending change request (409 while a pipeline
/// renders it; 403 for a non-admin while a label of it is protected).
#[utoipa::path(delete, path = "/v1/templates/{name}", tag = "templates",
    params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn delete_template(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    w.templates.delete(&who, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One template's versions and labels.
#[utoipa::path(get, path = "/v1/templates/{name}", tag = "templates",
    params(("name" = String, Path)),
    responses((status = 200, body = TemplateSummary), (status = 404, body = Problem)))]
pub async fn get_template(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<TemplateSummary>> {
    Ok(Json(w.templates.summary(&who, &name).await?))
}

/// Creates a new version (the template is created with its first version).
#[utoipa::path(post, path = "/v1/templates/{name}/versions", tag = "templates",
    params(("name" = String, Path)), request_body = NewVersion,
    responses((status = 201, body = Created), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn create_template_version(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<NewVersion>,
) -> ApiResult<Response> {
    let created = w.templates.create_version(&who, &name, body).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// One version.
#[utoipa::path(get, path = "/v1/templates/{name}/versions/{version}", tag = "templates",
    params(("name" = String, Path), ("version" = u64, Path)),
    responses((status = 200, body = TemplateVersion), (status = 404, body = Problem)))]
pub async fn get_template_version(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, version)): ApiPath<(String, u64)>,
) -> ApiResult<Json<TemplateVersion>> {
    Ok(Json(w.templates.get_version(&who, &name, version).await?))
}

/// Where a label should point.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelBody {
    /// The version.
    pub version: u64,
}

/// Points a label at a version (a rollback is a label move).
#[utoipa::path(put, path = "/v1/templates/{name}/labels/{label}", tag = "templates",
    params(("name" = String, Path), ("label" = String, Path)), request_body = LabelBody,
    responses((status = 200, body = TemplateSummary), (status = 404, body = Problem)))]
pub async fn set_label(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, label)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<LabelBody>,
) -> ApiResult<Json<TemplateSummary>> {
    w.templates
        .set_label(&who, &name, &label, body.version)
        .await?;
    Ok(Json(w.templates.summary(&who, &name).await?))
}

/// Removes a label.
#[utoipa::path(delete, path = "/v1/templates/{name}/labels/{label}", tag = "templates",
    params(("name" = String, Path), ("label" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_label(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, label)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    w.templates.delete_label(&who, &name, &label).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which versions to compare.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The old version.
    pub from: u64,
    /// The new version.
    pub to: u64,
}

/// The diff between two versions.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DiffResponse {
    /// Unified diff (empty when identical).
    pub diff: String,
}

/// A unified diff between two versions.
#[utoipa::path(get, path = "/v1/templates/{name}/diff", tag = "templates",
    params(("name" = String, Path), DiffQuery),
    responses((status = 200, body = DiffResponse), (status = 404, body = Problem)))]
pub async fn diff_template(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<DiffResponse>> {
    Ok(Json(DiffResponse {
        diff: w.templates.diff(&who, &name, q.from, q.to).await?,
    }))
}

/// Renders a template in the sandbox.
#[utoipa::path(post, path = "/v1/templates/{name}/render", tag = "templates",
    params(("name" = String, Path)), request_body = RenderRequest,
    responses((status = 200, body = Rendered), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 504, body = Problem)))]
pub async fn render_template(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<RenderRequest>,
) -> ApiResult<Json<Rendered>> {
    Ok(Json(w.templates.render(&who, &name, body).await?))
}

/// Renders a template given in the request without storing it: text, chat messages, or a
/// Hugging Face chat template (text or a whole `tokenizer_config.json`).
#[utoipa::path(post, path = "/v1/templates/render", tag = "templates", request_body = InlineRender,
    responses((status = 200, body = Rendered), (status = 400, body = Problem),
        (status = 422, body = Problem), (status = 504, body = Problem)))]
pub async fn render_inline(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<InlineRender>,
) -> ApiResult<Json<Rendered>> {
    Ok(Json(w.templates.render_inline(&who, body).await?))
}

/// Every template as YAML, one document per template.
#[utoipa::path(get, path = "/v1/templates/export", tag = "templates", params(ExportFilter),
    responses((status = 200, content_type = "application/yaml", body = Option<String>,
        description = "A YAML stream, one document per template; a tenant with no templates gets an empty stream, which parses as null")))]
pub async fn export_templates(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(filter): ApiQuery<ExportFilter>,
) -> ApiResult<Response> {
    let names: Vec<String> = filter
        .names
        .iter()
        .flat_map(|n| n.split(','))
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let yaml = w
        .templates
        .export(&who, filter.prefix.as_deref(), &names)
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/yaml")], yaml).into_response())
}

/// Which templates an export holds.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportFilter {
    /// Only templates whose name starts with this.
    pub prefix: Option<String>,
    /// Only these templates, comma-separated (`names=greet,triage`).
    pub names: Option<String>,
}

/// Imports templates from YAML written by export; idempotent.
#[utoipa::path(post, path = "/v1/templates/import", tag = "templates",
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 200, body = ImportReport), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn import_templates(
    State(w): AppState,
    Caller(who): Caller,
    body: Body,
) -> ApiResult<Json<ImportReport>> {
    let limit = w.config.server.max_upload_bytes;
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| Error::TooLarge {
            what: "the import",
            size: limit + 1,
            limit,
        })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::BadRequest("the import is not UTF-8 text".into()))?;
    Ok(Json(w.templates.import(&who, text).await?))
}

// ---------------------------------------------------------------- pii

/// Detects personal data.
#[utoipa::path(post, path = "/v1/pii/detect", tag = "pii", request_body = pii::DetectRequest,
    responses((status = 200, body = pii::Detected), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn detect(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<pii::DetectRequest>,
) -> ApiResult<Json<pii::Detected>> {
    Ok(Json(w.pii.detect(&who, body).await?))
}

/// Anonymises a text; pseudonyms go into an encrypted vault.
#[utoipa::path(post, path = "/v1/pii/anonymize", tag = "pii", request_body = pii::AnonymizeRequest,
    responses((status = 200, body = pii::AnonymizeResponse), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 504, body = Problem)))]
pub async fn anonymize(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<pii::AnonymizeRequest>,
) -> ApiResult<Json<pii::AnonymizeResponse>> {
    Ok(Json(w.pii.anonymize(&who, body).await?))
}

/// Restores a vault's values in a text.
#[utoipa::path(post, path = "/v1/pii/deanonymize", tag = "pii", request_body = pii::DeanonymizeRequest,
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub async fn deanonymize(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<pii::DeanonymizeRequest>,
) -> ApiResult<Json<warden_core::pii::anonymize::Deanonymized>> {
    Ok(Json(w.pii.deanonymize(&who, body).await?))
}

/// Deletes a vault before its TTL.
#[utoipa::path(delete, path = "/v1/pii/vaults/{id}", tag = "pii",
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_vault(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    w.pii.delete_vault(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists the tenant's dictionaries.
#[utoipa::path(get, path = "/v1/pii/dictionaries", tag = "pii", params(Page),
    responses((status = 200, body = Vec<pii::DictionaryInfo>)))]
pub async fn list_dictionaries(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Paged<pii::DictionaryInfo>> {
    Ok(page.apply(w.pii.list_dictionaries(&who).await?, |d| d.name.as_str())?)
}

/// Lists the tenant's live vaults (metadata only: never a token or a value).
#[utoipa::path(get, path = "/v1/pii/vaults", tag = "pii", params(Page),
    responses((status = 200, body = Vec<pii::VaultInfo>)))]
pub async fn list_vaults(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Paged<pii::VaultInfo>> {
    Ok(page.apply(w.pii.list_vaults(&who).await?, |v| v.id.as_str())?)
}

/// One dictionary with its terms.
#[utoipa::path(get, path = "/v1/pii/dictionaries/{name}", tag = "pii",
    params(("name" = String, Path)), responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub async fn get_dictionary(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Dictionary>> {
    Ok(Json(w.pii.get_dictionary(&who, &name).await?))
}

/// Creates or replaces a dictionary: `{"kind": "deny"|"allow", "entity_type": ..., "terms": [...]}`.
#[utoipa::path(put, path = "/v1/pii/dictionaries/{name}", tag = "pii",
    params(("name" = String, Path)), request_body = Object,
    responses((status = 201), (status = 200), (status = 422, body = Problem)))]
pub async fn put_dictionary(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Dictionary>,
) -> ApiResult<Response> {
    let created = w.pii.put_dictionary(&who, &name, body).await?;
    let info = w
        .pii
        .list_dictionaries(&who)
        .await?
        .into_iter()
        .find(|d| d.name == name);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(info)).into_response())
}

/// Deletes a dictionary.
#[utoipa::path(delete, path = "/v1/pii/dictionaries/{name}", tag = "pii",
    params(("name" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_dictionary(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    w.pii.delete_dictionary(&who, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which detector's catalogue to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EntitiesQuery {
    /// `pii` (the built-in, default) or an uploaded detector (`name` or `name@version`).
    pub detector: Option<String>,
}

/// Lists every entity type a detector finds, with its country, kind, validation, default
/// score and whether it runs by default.
#[utoipa::path(get, path = "/v1/pii/entities", tag = "pii", params(EntitiesQuery),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub async fn pii_entities(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<EntitiesQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let info = w.pii.entities(&who, q.detector.as_deref()).await?;
    Ok(Json(serde_json::json!({
        "detector": info.name,
        "version": info.version,
        "entities": info.entities,
    })))
}

/// Lists the tenant's stored recognizers.
#[utoipa::path(get, path = "/v1/pii/recognizers", tag = "pii", params(Page),
    responses((status = 200, body = Vec<StoredRecognizer>)))]
pub async fn list_recognizers(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Paged<StoredRecognizer>> {
    Ok(page.apply(w.pii.list_recognizers(&who).await?, |r| r.name.as_str())?)
}

/// Reads one stored recognizer.
#[utoipa::path(get, path = "/v1/pii/recognizers/{name}", tag = "pii",
    params(("name" = String, Path)),
    responses((status = 200, body = StoredRecognizer), (status = 404, body = Problem)))]
pub async fn get_recognizer(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<StoredRecognizer>> {
    Ok(Json(w.pii.get_recognizer(&who, &name).await?))
}

/// Creates or replaces a stored recognizer; it runs with every detection of the tenant.
#[utoipa::path(put, path = "/v1/pii/recognizers/{name}", tag = "pii",
    params(("name" = String, Path)), request_body = StoredRecognizer,
    responses((status = 201, body = StoredRecognizer), (status = 200, body = StoredRecognizer), (status = 422, body = Problem)))]
pub async fn put_recognizer(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(mut body): ApiJson<StoredRecognizer>,
) -> ApiResult<Response> {
    if !body.name.is_empty() && body.name != name {
        return Err(Error::BadRequest(format!(
            "the body names recognizer {:?} but the path {name:?}",
            body.name
        ))
        .into());
    }
    body.name = name;
    let created = w.pii.put_recognizers(&who, vec![body.clone()]).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(body)).into_response())
}

/// Deletes a stored recognizer.
#[utoipa::path(delete, path = "/v1/pii/recognizers/{name}", tag = "pii",
    params(("name" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_recognizer(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    w.pii.delete_recognizer(&who, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports recognizers from Presidio's YAML recognizer format (body: the YAML file);
/// predefined and disabled entries are skipped and listed.
#[utoipa::path(post, path = "/v1/pii/recognizers/import", tag = "pii",
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 200, body = Imported), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn import_recognizers(
    State(w): AppState,
    Caller(who): Caller,
    body: String,
) -> ApiResult<Json<Imported>> {
    let (list, skipped) = from_presidio_yaml(&body).await?;
    let stored = list.iter().map(|r| r.name.clone()).collect();
    if !list.is_empty() {
        w.pii.put_recognizers(&who, list).await?;
    }
    Ok(Json(Imported { stored, skipped }))
}

// ---------------------------------------------------------------- sessions

/// Creates a code session.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = CreateSession,
    responses((status = 201, body = SessionRecord), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create_session(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateSession>,
) -> ApiResult<Response> {
    let s = w.sessions.create(&who, body).await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

/// Lists sessions.
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions", params(Page),
    responses((status = 200, body = Vec<SessionRecord>)))]
pub async fn list_sessions(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Paged<SessionRecord>> {
    Ok(page.apply(w.sessions.list(&who).await?, |s| s.id.as_str())?)
}

/// One session.
#[utoipa::path(get, path = "/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path)), responses((status = 200, body = SessionRecord), (status = 404, body = Problem)))]
pub async fn get_session(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SessionRecord>> {
    Ok(Json(w.sessions.get(&who, &id).await?))
}

/// Evaluates code in a session.
#[utoipa::path(post, path = "/v1/sessions/{id}/eval", tag = "sessions",
    params(("id" = String, Path)), request_body = EvalRequest,
    responses((status = 200, body = EvalResponse), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 504, body = Problem)))]
pub async fn eval_session(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<EvalRequest>,
) -> ApiResult<Json<EvalResponse>> {
    Ok(Json(w.sessions.eval(&who, &id, body.code).await?))
}

/// Forks a session: a new id with the same state.
#[utoipa::path(post, path = "/v1/sessions/{id}/fork", tag = "sessions",
    params(("id" = String, Path)), responses((status = 201, body = SessionRecord), (status = 404, body = Problem)))]
pub async fn fork_session(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let s = w.sessions.fork(&who, &id).await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

/// Deletes a session.
#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_session(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    w.sessions.delete(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Evaluates code once, without a session.
#[utoipa::path(post, path = "/v1/code/eval", tag = "sessions", request_body = OneShot,
    responses((status = 200, body = EvalResponse), (status = 422, body = Problem), (status = 504, body = Problem)))]
pub async fn eval_once(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(body): ApiJson<OneShot>,
) -> ApiResult<Json<EvalResponse>> {
    Ok(Json(w.sessions.one_shot(&who, body).await?))
}

// ---------------------------------------------------------------- audit

/// Audit log filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Records at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Records before this time (RFC 3339).
    pub until: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action, or a prefix ending in `.`.
    pub action: Option<String>,
    /// Only this target.
    pub target: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<u64>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<usize>,
}

fn parse_time(name: &str, s: &Option<String>) -> Result<Option<u64>, Error> {
    s.as_ref()
        .map(|t| {
            humantime::parse_rfc3339_weak(t)
                .ok()
                .and_then(|st| st.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .ok_or_else(|| Error::BadRequest(format!("`{name}` must be an RFC 3339 time")))
        })
        .transpose()
}

/// Reads the tenant's audit log.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem)))]
pub async fn audit_log(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    let limit = p.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(Error::BadRequest("`limit` must be between 1 and 1000".into()).into());
    }
    let q = AuditQuery {
        since_ms: parse_time("since", &p.since)?,
        until_ms: parse_time("until", &p.until)?,
        actor: p.actor,
        action: p.action,
        target: p.target,
        cursor: p.cursor,
        limit,
    };
    w.sandbox.audit_flush().await;
    let page = w.sandbox.store().audit_query(&who.tenant, &q).await?;
    Ok(Json(page))
}

/// Walks the tenant's audit chain and reports the first broken link.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Verification)))]
pub async fn audit_verify(
    State(w): AppState,
    Caller(who): Caller,
) -> ApiResult<Json<Verification>> {
    w.sandbox.audit_flush().await;
    let v = w.sandbox.store().audit_verify(Some(&who.tenant)).await?;
    Ok(Json(v))
}

// ---------------------------------------------------------------- admin

/// What a key reload found.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Reloaded {
    /// Keys now in force.
    pub keys: usize,
}

/// Re-reads the signing keys (also done on SIGHUP); on error the old keys stay in force.
#[utoipa::path(post, path = "/v1/admin/keys/reload", tag = "system",
    responses((status = 200, body = Reloaded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn reload_keys(State(w): AppState, Caller(who): Caller) -> ApiResult<Json<Reloaded>> {
    let result = w.verifier.reload();
    let outcome = if result.is_ok() {
        "ok"
    } else {
        "unprocessable"
    };
    w.record(&who, "auth.keys.reload", "keys", outcome);
    let keys = result.map_err(|e| Error::Unprocessable {
        message: e.to_string(),
        errors: vec![],
    })?;
    Ok(Json(Reloaded { keys }))
}

/// The caller's tenant's settings in force: quota, protected labels, what its admin set and
/// the host-wide caps.
#[utoipa::path(get, path = "/v1/admin/tenant", tag = "system",
    responses((status = 200, body = warden_core::tenants::TenantView), (status = 403, body = Problem)))]
pub async fn get_tenant(
    State(w): AppState,
    Caller(who): Caller,
) -> Json<warden_core::tenants::TenantView> {
    Json(w.tenants.view(&who))
}

/// Changes the caller's tenant's settings: a part left out keeps its value, a part sent as
/// `null` returns to the host's default; quota values above the host-wide caps are refused.
#[utoipa::path(put, path = "/v1/admin/tenant", tag = "system",
    request_body = warden_core::tenants::TenantSettingsUpdate,
    responses((status = 200, body = warden_core::tenants::TenantView), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn put_tenant(
    State(w): AppState,
    Caller(who): Caller,
    ApiJson(settings): ApiJson<warden_core::tenants::TenantSettingsUpdate>,
) -> ApiResult<Json<warden_core::tenants::TenantView>> {
    if let Some(Some(d)) = &settings.pii {
        w.pii.check_defaults(&who, d).await?;
    }
    Ok(Json(w.tenants.put(&who, settings).await?))
}

// ---------------------------------------------------------------- approvals

/// A decision on a change request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why (kept with the request).
    pub reason: Option<String>,
}

/// The optional JSON body of a decision.
fn decision(body: &[u8]) -> Result<Option<String>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<Decision>(body)
        .map(|d| d.reason)
        .map_err(|e| Error::BadRequest(format!("the body does not have the expected fields: {e}")))
}

/// The outcome of a decision.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Decided {
    /// The request.
    pub request: approvals::ChangeRequest,
    /// The template's labels after an approval.
    pub template: Option<TemplateSummary>,
}

/// Requests a move of a protected label (approved by another author or an admin).
#[utoipa::path(post, path = "/v1/templates/{name}/labels/{label}/requests", tag = "templates",
    params(("name" = String, Path), ("label" = String, Path)), request_body = LabelBody,
    responses((status = 201, body = approvals::ChangeRequest), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn request_label_move(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, label)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<LabelBody>,
) -> ApiResult<Response> {
    let cr = w
        .templates
        .request_move(&who, &name, &label, body.version)
        .await?;
    Ok((StatusCode::CREATED, Json(cr)).into_response())
}

/// Lists a template's change requests.
#[utoipa::path(get, path = "/v1/templates/{name}/requests", tag = "templates",
    params(("name" = String, Path)), responses((status = 200, body = Vec<approvals::ChangeRequest>)))]
pub async fn list_label_requests(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Vec<approvals::ChangeRequest>>> {
    Ok(Json(w.templates.list_requests(&who, &name).await?))
}

/// Approves a change request: the label moves. Not by its requester.
#[utoipa::path(post, path = "/v1/templates/{name}/requests/{id}/approve", tag = "templates",
    params(("name" = String, Path), ("id" = String, Path)), request_body = Decision,
    responses((status = 200, body = Decided), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn approve_label_request(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, id)): ApiPath<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Decided>> {
    let reason = decision(&body)?;
    let (request, template) = w.templates.decide(&who, &name, &id, true, reason).await?;
    Ok(Json(Decided { request, template }))
}

/// Rejects a change request. Not by its requester.
#[utoipa::path(post, path = "/v1/templates/{name}/requests/{id}/reject", tag = "templates",
    params(("name" = String, Path), ("id" = String, Path)), request_body = Decision,
    responses((status = 200, body = Decided), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn reject_label_request(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, id)): ApiPath<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Decided>> {
    let reason = decision(&body)?;
    let (request, template) = w.templates.decide(&who, &name, &id, false, reason).await?;
    Ok(Json(Decided { request, template }))
}

// ---------------------------------------------------------------- pipelines

/// Every pipeline of the caller's tenant.
#[utoipa::path(get, path = "/v1/pipelines", tag = "pipelines", params(Page),
    responses((status = 200, body = Vec<pipelines::PipelineSummary>)))]
pub async fn list_pipelines(
    State(w): AppState,
    Caller(who): Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Paged<pipelines::PipelineSummary>> {
    Ok(page.apply(w.pipelines.list(&who).await?, |p| p.name.as_str())?)
}

/// Deletes a pipeline: every version and label (403 for a non-admin while a label of it is
/// protected).
#[utoipa::path(delete, path = "/v1/pipelines/{name}", tag = "pipelines",
    params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_pipeline(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    w.pipelines.delete(&who, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A pipeline's versions and labels.
#[utoipa::path(get, path = "/v1/pipelines/{name}", tag = "pipelines",
    params(("name" = String, Path)),
    responses((status = 200, body = pipelines::PipelineSummary), (status = 404, body = Problem)))]
pub async fn get_pipeline(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<pipelines::PipelineSummary>> {
    Ok(Json(w.pipelines.summary(&who, &name).await?))
}

/// Creates a new version (the pipeline is created with its first); what it uses is pinned.
#[utoipa::path(post, path = "/v1/pipelines/{name}/versions", tag = "pipelines",
    params(("name" = String, Path)), request_body = pipeline_registry::NewVersion,
    responses((status = 201, body = pipelines::PipelineVersion), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn create_pipeline_version(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<pipeline_registry::NewVersion>,
) -> ApiResult<Response> {
    let created = w.pipelines.create_version(&who, &name, body).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// One version.
#[utoipa::path(get, path = "/v1/pipelines/{name}/versions/{version}", tag = "pipelines",
    params(("name" = String, Path), ("version" = u64, Path)),
    responses((status = 200, body = pipelines::PipelineVersion), (status = 404, body = Problem)))]
pub async fn get_pipeline_version(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, version)): ApiPath<(String, u64)>,
) -> ApiResult<Json<pipelines::PipelineVersion>> {
    Ok(Json(w.pipelines.get_version(&who, &name, version).await?))
}

/// Points a label at a version.
#[utoipa::path(put, path = "/v1/pipelines/{name}/labels/{label}", tag = "pipelines",
    params(("name" = String, Path), ("label" = String, Path)), request_body = LabelBody,
    responses((status = 200, body = pipelines::PipelineSummary), (status = 404, body = Problem)))]
pub async fn set_pipeline_label(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath((name, label)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<LabelBody>,
) -> ApiResult<Json<pipelines::PipelineSummary>> {
    w.pipelines
        .set_label(&who, &name, &label, body.version)
        .await?;
    Ok(Json(w.pipelines.summary(&who, &name).await?))
}

/// Runs a pipeline: the output and a per-step trace (costs, routing, entity counts; never
/// content). A failed step answers its problem with `step` and the `trace` so far.
#[utoipa::path(post, path = "/v1/pipelines/{name}/run", tag = "pipelines",
    params(("name" = String, Path)), request_body = pipelines::RunRequest,
    responses((status = 200, description = "The result; with `stream`, `text/event-stream` of `delta`, then `result` or `error`, events", body = pipelines::RunResult), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 504, body = Problem)))]
pub async fn run_pipeline(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<pipelines::RunRequest>,
) -> ApiResult<Response> {
    if !body.stream {
        return Ok(Json(w.pipelines.run(&who, &name, body).await?).into_response());
    }
    let mut events = w.pipelines.run_streamed(&who, &name, body);
    // A run that fails before its first token (unknown pipeline, missing variables, a refused
    // prompt) is an ordinary problem response; after that, an `error` event.
    let first = match events.recv().await {
        None => return Err(Error::Internal("the run ended without a result".into()).into()),
        Some(pipelines::RunEvent::Done(result)) => match *result {
            Err(e) => return Err(e.into()),
            Ok(r) => pipelines::RunEvent::Done(Box::new(Ok(r))),
        },
        Some(delta) => delta,
    };
    let stream =
        futures_util::stream::unfold((Some(first), events), |(pending, mut events)| async move {
            let event = match pending {
                Some(e) => e,
                None => events.recv().await?,
            };
            Some((
                Ok::<_, std::convert::Infallible>(run_event(event)),
                (None, events),
            ))
        });
    let mut r = Response::new(axum::body::Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/event-stream"),
    );
    Ok(r)
}

/// One event of a streamed run as server-sent event text.
fn run_event(event: pipelines::RunEvent) -> String {
    match event {
        pipelines::RunEvent::Delta(text) => {
            format!(
                "event: delta\ndata: {}\n\n",
                serde_json::json!({ "text": text })
            )
        }
        pipelines::RunEvent::Done(result) => match *result {
            Ok(r) => format!(
                "event: result\ndata: {}\n\n",
                serde_json::to_string(&r).unwrap_or_default()
            ),
            Err(e) => format!(
                "event: error\ndata: {}\n\n",
                serde_json::to_string(&ApiError(e).problem()).unwrap_or_default()
            ),
        },
    }
}

/// A pipeline as YAML (its versions' definitions and labels).
#[utoipa::path(get, path = "/v1/pipelines/{name}/export", tag = "pipelines",
    params(("name" = String, Path)),
    responses((status = 200, content_type = "application/yaml", body = String), (status = 404, body = Problem)))]
pub async fn export_pipeline(
    State(w): AppState,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Response> {
    let yaml = w.pipelines.export(&who, &name).await?;
    Ok(([(header::CONTENT_TYPE, "application/yaml")], yaml).into_response())
}

/// Imports a pipeline from YAML written by export; idempotent, checked before anything is
/// written.
#[utoipa::path(post, path = "/v1/pipelines/import", tag = "pipelines",
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 200, body = pipeline_registry::ImportReport), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn import_pipeline(
    State(w): AppState,
    Caller(who): Caller,
    body: Body,
) -> ApiResult<Json<pipeline_registry::ImportReport>> {
    let limit = w.config.server.max_body_bytes;
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| Error::TooLarge {
            what: "the import",
            size: limit + 1,
            limit,
        })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::BadRequest("the import is not UTF-8 text".into()))?;
    Ok(Json(w.pipelines.import(&who, text).await?))
}
