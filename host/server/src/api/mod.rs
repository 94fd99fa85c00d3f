//! The HTTP API: routes, the layers around them, the OpenAPI document and the health, readiness
//! and metrics endpoints.
//!
//! **Architecture Invariant:** every response is JSON, and every error response is a problem
//! document — including the ones axum and tower-http produce themselves (unknown route, wrong
//! method, body over the limit, timeout), which [`problem_fallback`] rewrites.

pub mod error;
pub mod extract;
pub mod page;
pub mod v1;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;

use self::error::Problem;
use crate::app::Warden;

/// The OpenAPI document of every route.
#[derive(OpenApi)]
#[openapi(
    info(title = "Warden", description = "Run untrusted logic for AI applications in WebAssembly sandboxes."),
    paths(
        healthz, readyz, metrics,
        v1::list_plugins, v1::plugin_versions, v1::get_plugin, v1::upload_plugin,
        v1::delete_plugin_version, v1::delete_plugin,
        v1::list_templates, v1::get_template, v1::delete_template, v1::create_template_version, v1::get_template_version,
        v1::set_label, v1::delete_label, v1::diff_template, v1::render_template,
        v1::export_templates, v1::import_templates,
        v1::detect, v1::anonymize, v1::deanonymize, v1::list_vaults, v1::delete_vault,
        v1::list_dictionaries, v1::get_dictionary, v1::put_dictionary, v1::delete_dictionary,
        v1::create_session, v1::list_sessions, v1::get_session, v1::eval_session,
        v1::fork_session, v1::delete_session, v1::eval_once,
        v1::audit_log, v1::audit_verify, v1::reload_keys, v1::get_tenant, v1::put_tenant,
        v1::request_label_move, v1::list_label_requests, v1::approve_label_request,
        v1::reject_label_request,
        v1::list_pipelines, v1::get_pipeline, v1::delete_pipeline, v1::create_pipeline_version, v1::get_pipeline_version,
        v1::set_pipeline_label, v1::run_pipeline, v1::export_pipeline, v1::import_pipeline,
    ),
    modifiers(&BearerAuth, &ProblemResponses),
    security(("bearer" = [])),
    components(schemas(Problem, Health)),
    tags(
        (name = "plugins", description = "Upload and manage components"),
        (name = "templates", description = "The prompt registry"),
        (name = "pii", description = "Detect, anonymise and restore personal data"),
        (name = "sessions", description = "Python code sessions"),
        (name = "pipelines", description = "Render, pseudonymise, route, ask, run code, restore"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "system", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme in the OpenAPI document.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Documents error responses as they are sent: every problem is `application/problem+json`,
/// and every `/v1` operation may also answer 400, 401, 403, 413, 414, 429 and 500 (the layers
/// in front of every handler produce them).
struct ProblemResponses;

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = || {
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
                .build()
        };
        let common = [
            ("400", "Malformed request or name"),
            ("401", "No valid bearer token"),
            ("403", "The token lacks the role this route needs"),
            ("413", "Over a size limit"),
            ("414", "The request target is too long"),
            (
                "429",
                "Over a rate, concurrency or fuel quota (see Retry-After)",
            ),
            ("500", "Warden's own fault (details in the log only)"),
        ];
        for (path, item) in openapi.paths.paths.iter_mut() {
            let authed = path.starts_with("/v1") || path == "/metrics";
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for (code, response) in op.responses.responses.iter_mut() {
                    if (code.starts_with('4') || code.starts_with('5'))
                        && let RefOr::T(r) = response
                        && let Some(c) = r.content.shift_remove("application/json")
                    {
                        r.content.insert("application/problem+json".into(), c);
                    }
                }
                if authed {
                    for (code, description) in common {
                        op.responses
                            .responses
                            .entry(code.to_owned())
                            .or_insert_with(|| {
                                RefOr::T(
                                    ResponseBuilder::new()
                                        .description(description)
                                        .content("application/problem+json", problem())
                                        .build(),
                                )
                            });
                    }
                }
            }
        }
    }
}

/// The whole application: routes, state and layers. Tests may drive it without a socket.
pub fn app(state: Arc<Warden>) -> Router {
    let body_limit = usize::try_from(state.config.server.max_body_bytes).unwrap_or(usize::MAX);
    let upload_limit = usize::try_from(state.config.server.max_upload_bytes).unwrap_or(usize::MAX);
    let uploads = Router::new()
        .route(
            "/v1/plugins/{name}/versions/{version}",
            post(v1::upload_plugin)
                .get(v1::get_plugin)
                .delete(v1::delete_plugin_version),
        )
        .route("/v1/templates/import", post(v1::import_templates))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(
            upload_limit.saturating_add(64 << 10),
        ));
    let api = Router::new()
        .route("/v1/plugins", get(v1::list_plugins))
        .route(
            "/v1/plugins/{name}",
            get(v1::plugin_versions).delete(v1::delete_plugin),
        )
        .route("/v1/templates", get(v1::list_templates))
        .route("/v1/templates/export", get(v1::export_templates))
        .route(
            "/v1/templates/{name}",
            get(v1::get_template).delete(v1::delete_template),
        )
        .route(
            "/v1/templates/{name}/versions",
            post(v1::create_template_version),
        )
        .route(
            "/v1/templates/{name}/versions/{version}",
            get(v1::get_template_version),
        )
        .route(
            "/v1/templates/{name}/labels/{label}",
            put(v1::set_label).delete(v1::delete_label),
        )
        .route("/v1/templates/{name}/diff", get(v1::diff_template))
        .route(
            "/v1/templates/{name}/labels/{label}/requests",
            post(v1::request_label_move),
        )
        .route(
            "/v1/templates/{name}/requests",
            get(v1::list_label_requests),
        )
        .route(
            "/v1/templates/{name}/requests/{id}/approve",
            post(v1::approve_label_request),
        )
        .route(
            "/v1/templates/{name}/requests/{id}/reject",
            post(v1::reject_label_request),
        )
        .route("/v1/templates/{name}/render", post(v1::render_template))
        .route("/v1/pii/detect", post(v1::detect))
        .route("/v1/pii/anonymize", post(v1::anonymize))
        .route("/v1/pii/deanonymize", post(v1::deanonymize))
        .route(
            "/v1/pii/vaults/{id}",
            axum::routing::delete(v1::delete_vault),
        )
        .route("/v1/pii/dictionaries", get(v1::list_dictionaries))
        .route("/v1/pii/vaults", get(v1::list_vaults))
        .route(
            "/v1/pii/dictionaries/{name}",
            get(v1::get_dictionary)
                .put(v1::put_dictionary)
                .delete(v1::delete_dictionary),
        )
        .route(
            "/v1/sessions",
            post(v1::create_session).get(v1::list_sessions),
        )
        .route(
            "/v1/sessions/{id}",
            get(v1::get_session).delete(v1::delete_session),
        )
        .route("/v1/sessions/{id}/eval", post(v1::eval_session))
        .route("/v1/sessions/{id}/fork", post(v1::fork_session))
        .route("/v1/code/eval", post(v1::eval_once))
        .route("/v1/pipelines", get(v1::list_pipelines))
        .route("/v1/pipelines/import", post(v1::import_pipeline))
        .route(
            "/v1/pipelines/{name}",
            get(v1::get_pipeline).delete(v1::delete_pipeline),
        )
        .route(
            "/v1/pipelines/{name}/versions",
            post(v1::create_pipeline_version),
        )
        .route(
            "/v1/pipelines/{name}/versions/{version}",
            get(v1::get_pipeline_version),
        )
        .route(
            "/v1/pipelines/{name}/labels/{label}",
            put(v1::set_pipeline_label),
        )
        .route("/v1/pipelines/{name}/run", post(v1::run_pipeline))
        .route("/v1/pipelines/{name}/export", get(v1::export_pipeline))
        .route("/v1/audit", get(v1::audit_log))
        .route("/v1/audit/verify", get(v1::audit_verify))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit));
    let cors = cors_layer(&state.config.cors);
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .merge(api)
        .merge(uploads)
        .route("/v1/admin/keys/reload", post(v1::reload_keys))
        .route("/v1/admin/tenant", get(v1::get_tenant).put(v1::put_tenant))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        // Inside the problem fallback, so a request that outlives `server.request_timeout`
        // (a plugin's first compile, say) is a problem document too, not an empty 503 (found
        // by the `json_body` fuzzer).
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            state.config.server.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            problem_fallback,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http().on_failure(
            // Server errors are logged where they happen, with their cause.
            tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG),
        ))
        .with_state(state);
    match cors {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

/// CORS for the configured origins only; `None` (no layer, no `Access-Control-*` headers
/// ever) when none are listed, so browsers refuse every cross-origin read.
fn cors_layer(config: &crate::config::CorsConfig) -> Option<tower_http::cors::CorsLayer> {
    if config.allowed_origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = config
        .allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        tower_http::cors::CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([
                axum::http::Method::GET,
                axum::http::Method::POST,
                axum::http::Method::PUT,
                axum::http::Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The tenant whose audit chain records failed authentications (no valid token, so no tenant
/// is known); not a valid tenant name, so no tenant can own it.
pub const SYSTEM_TENANT: &str = "_system";

/// Authenticates every non-public request, authorises its route's action in one place, and
/// hands the principal to the handler. Failures are audited with the reason and source address,
/// never the token.
async fn authenticate(State(w): State<Arc<Warden>>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let Some(route) = route else {
        return next.run(req).await; // unknown route: 404 from the fallback
    };
    let auth = &w.config.auth;
    let public = matches!(route.as_str(), "/healthz" | "/readyz")
        || (route == "/openapi.json" && auth.public_openapi)
        || (route == "/metrics" && auth.public_metrics);
    if public {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let source = peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    // A source that keeps failing is refused before its token costs a verification.
    if let Some(ip) = peer
        && let Err(e) = w.quotas.failed_auth.check(ip)
    {
        return error::ApiError(warden_core::error::Error::RateLimited(e)).into_response();
    }
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let verified = match token {
        None => Err(warden_core::auth::AuthError::Missing),
        Some(t) => w.verifier.verify(t),
    };
    let principal = match verified {
        Ok(p) => p,
        Err(e) => {
            let reason = e.to_string();
            let outcome = peer.map(|ip| w.quotas.failed_auth.failed(ip, &reason));
            // The first failure per source and audit window is recorded in full; the rest go
            // into one summary record when the window closes, so the log stays bounded.
            if outcome.as_ref().is_none_or(|o| o.record) {
                w.audit(
                    warden_storage::audit::AuditEvent::new(
                        SYSTEM_TENANT,
                        "anonymous",
                        "auth.failed",
                        &route,
                    )
                    .outcome("unauthenticated")
                    .detail(format!("{e}; from {source}")),
                );
            }
            if let Some(o) = outcome {
                if let Some(summary) = o.closed {
                    record_failure_summary(&w, &summary);
                }
                if let Some(exceeded) = o.exceeded {
                    return error::ApiError(warden_core::error::Error::RateLimited(exceeded))
                        .into_response();
                }
            }
            return error::ApiError(warden_core::error::Error::Unauthenticated(format!(
                "{e}: send `Authorization: Bearer <token>`"
            )))
            .into_response();
        }
    };
    let method = req.method().as_str().to_owned();
    // HEAD is GET without the body (RFC 9110 §9.3.2; axum answers it from the `get` handler),
    // so it needs exactly what GET needs.
    let policy_method = if req.method() == axum::http::Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    let Some(action) = route_action(policy_method, &route) else {
        return Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            format!("{method} is not allowed on this route"),
        )
        .into_response();
    };
    if let Err(e) = warden_core::auth::authorize(&principal, action) {
        w.audit(
            warden_storage::audit::AuditEvent::new(
                &principal.tenant,
                &principal.actor,
                "auth.denied",
                format!("{method} {route}"),
            )
            .outcome("forbidden")
            .detail(format!("{e}; from {source}")),
        );
        return error::ApiError(e).into_response();
    }
    let tenant = TenantTag(principal.tenant.clone());
    if let Err(e) = w.quotas.request(&principal.tenant, &principal.actor) {
        return tagged(
            error::ApiError(warden_core::error::Error::RateLimited(e)).into_response(),
            tenant,
        );
    }
    req.extensions_mut().insert(principal);
    tagged(next.run(req).await, tenant)
}

/// The authenticated tenant of a request, carried on its response so the metrics layer (which
/// runs outside authentication) counts the request in that tenant's view.
#[derive(Clone)]
struct TenantTag(String);

fn tagged(mut response: Response, tenant: TenantTag) -> Response {
    response.extensions_mut().insert(tenant);
    response
}

/// Records one source's aggregated failed authentications (after the first of its window) in
/// the system audit chain.
pub fn record_failure_summary(w: &Warden, s: &warden_core::quota::FailureSummary) {
    w.audit(
        warden_storage::audit::AuditEvent::new(
            SYSTEM_TENANT,
            "anonymous",
            "auth.failed.summary",
            format!("source/{}", s.source),
        )
        .outcome("unauthenticated")
        .detail(format!(
            "{} more failed authentications and {} refused unverified (429) from {} since {} ms; last: {}",
            s.failures, s.throttled, s.source, s.since_ms, s.last_reason
        )),
    );
}

/// The token of an `Authorization: Bearer <token>` value; the scheme is case-insensitive
/// (RFC 9110 §11.1), so `bearer`, `Bearer` and `BEARER` all work.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "no such route")
}

/// Counts every request in the metrics and turns any error response that is not already a
/// problem document (axum's and tower-http's own) into one.
async fn problem_fallback(State(w): State<Arc<Warden>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let response = if uri_len > w.config.server.max_uri_bytes {
        Problem::new(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            format!(
                "the request target is {uri_len} bytes, over the {}-byte limit",
                w.config.server.max_uri_bytes
            ),
        )
        .into_response()
    } else {
        checked(w.clone(), req, next, started).await
    };
    security_headers(response, w.config.server.tls_cert.is_some())
}

/// [`problem_fallback`] for a request within the URI limit.
async fn checked(w: Arc<Warden>, req: Request, next: Next, started: Instant) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status();
    let tenant = response
        .extensions()
        .get::<TenantTag>()
        .map_or(warden_core::metrics::NO_TENANT, |t| t.0.as_str());
    w.metrics.request(
        tenant,
        method.as_str(),
        &route,
        status.as_u16(),
        started.elapsed(),
    );
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        let detail = match status {
            StatusCode::PAYLOAD_TOO_LARGE => format!(
                "the request body is over the {}-byte limit",
                if route.starts_with("/v1/plugins") || route == "/v1/templates/import" {
                    w.config.server.max_upload_bytes
                } else {
                    w.config.server.max_body_bytes
                }
            ),
            StatusCode::METHOD_NOT_ALLOWED => format!("{method} is not allowed on this route"),
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => format!(
                "the request took longer than the {:?} request timeout",
                w.config.server.request_timeout
            ),
            StatusCode::NOT_FOUND => "no such route".to_owned(),
            other => other.canonical_reason().unwrap_or("error").to_owned(),
        };
        let slug = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too-large",
            StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => "timeout",
            _ => "error",
        };
        let allow = response.headers().get(header::ALLOW).cloned();
        let mut r = Problem::new(status, slug, detail).into_response();
        if let Some(a) = allow {
            r.headers_mut().insert(header::ALLOW, a);
        }
        r
    } else {
        response
    }
}

/// The headers every response carries; HSTS when the server speaks TLS.
fn security_headers(mut response: Response, tls: bool) -> Response {
    let h = response.headers_mut();
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Nothing here is HTML; if a browser ever renders a response, it may load nothing.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    response
}

/// Liveness.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `starting` while components load.
    pub status: String,
    /// The Warden version.
    pub version: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Readiness: the built-ins and stored plugins are compiled and loaded.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn readyz(State(w): State<Arc<Warden>>) -> Response {
    if w.is_ready() {
        Json(Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        })
        .into_response()
    } else {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting",
            "components are still being compiled",
        )
        .into_response()
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String)))]
pub async fn metrics(
    State(w): State<Arc<Warden>>,
    who: Option<axum::Extension<warden_core::auth::Principal>>,
) -> Response {
    // A tenant's token sees its own series only; the host view is for an operator of the
    // configured host tenant, or for an unauthenticated scrape the operator enabled.
    let body = match who {
        None => w.metrics.render(),
        Some(axum::Extension(p))
            if w.config.auth.host_tenant.as_deref() == Some(p.tenant.as_str())
                && (p.has(warden_core::auth::Role::Operator)
                    || p.has(warden_core::auth::Role::Admin)) =>
        {
            w.metrics.render()
        }
        Some(axum::Extension(p)) => w.metrics.render_tenant(&p.tenant),
    };
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The action of a `/v1` route (method and route pattern); `None` means no route grants it,
/// which the layer denies.
pub fn route_action(method: &str, route: &str) -> Option<warden_core::auth::Action> {
    use warden_core::auth::Action::*;
    Some(match (method, route) {
        ("GET", "/v1/plugins" | "/v1/plugins/{name}" | "/v1/plugins/{name}/versions/{version}") => {
            PluginRead
        }
        ("POST" | "DELETE", "/v1/plugins/{name}/versions/{version}")
        | ("DELETE", "/v1/plugins/{name}") => PluginWrite,
        ("GET", "/v1/templates" | "/v1/templates/{name}") => TemplateList,
        (
            "GET",
            "/v1/templates/{name}/versions/{version}"
            | "/v1/templates/{name}/diff"
            | "/v1/templates/export",
        ) => TemplateContent,
        (
            "POST",
            "/v1/templates/{name}/versions"
            | "/v1/templates/import"
            | "/v1/templates/{name}/labels/{label}/requests"
            | "/v1/templates/{name}/requests/{id}/approve"
            | "/v1/templates/{name}/requests/{id}/reject",
        )
        | ("PUT" | "DELETE", "/v1/templates/{name}/labels/{label}")
        | ("DELETE", "/v1/templates/{name}" | "/v1/pipelines/{name}") => TemplateWrite,
        ("GET", "/v1/templates/{name}/requests") => TemplateList,
        ("POST", "/v1/templates/{name}/render") => Render,
        ("POST", "/v1/pii/detect" | "/v1/pii/anonymize") => PiiProcess,
        ("POST", "/v1/pii/deanonymize") => PiiReveal,
        ("DELETE", "/v1/pii/vaults/{id}") => VaultDelete,
        ("GET", "/v1/pii/vaults") => VaultList,
        ("GET", "/v1/pii/dictionaries" | "/v1/pii/dictionaries/{name}") => DictionaryRead,
        ("PUT" | "DELETE", "/v1/pii/dictionaries/{name}") => DictionaryWrite,
        (
            _,
            "/v1/sessions"
            | "/v1/sessions/{id}"
            | "/v1/sessions/{id}/eval"
            | "/v1/sessions/{id}/fork"
            | "/v1/code/eval",
        ) => CodeRun,
        ("GET", "/v1/audit" | "/v1/audit/verify") => AuditRead,
        ("GET", "/v1/pipelines" | "/v1/pipelines/{name}") => TemplateList,
        ("GET", "/v1/pipelines/{name}/versions/{version}" | "/v1/pipelines/{name}/export") => {
            TemplateContent
        }
        ("POST", "/v1/pipelines/{name}/versions" | "/v1/pipelines/import")
        | ("PUT", "/v1/pipelines/{name}/labels/{label}") => TemplateWrite,
        ("POST", "/v1/pipelines/{name}/run") => Render,
        ("GET", "/metrics") => Metrics,
        ("POST", "/v1/admin/keys/reload") | ("GET" | "PUT", "/v1/admin/tenant") => Admin,
        _ => return None,
    })
}
