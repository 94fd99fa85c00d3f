//! The HTTP API: routes, the layers around them, the OpenAPI document and the health, readiness
//! and metrics endpoints.
//!
//! **Architecture Invariant:** every response is JSON (or, for a streamed chat completion,
//! server-sent events of JSON), and every error response is a problem document — including the
//! ones axum and tower-http produce themselves (unknown route, wrong method, body over the
//! limit, timeout), which [`problem_fallback`] rewrites — except under `/v1/openai/`, where
//! the same problem becomes an OpenAI error object for OpenAI's clients.

pub mod error;
pub mod extract;
pub mod openai;
pub mod page;
pub mod presidio;
pub mod routes;
pub mod v1;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa::openapi::HttpMethod;
use utoipa_axum::routes;

use self::error::Problem;
use self::routes::{Access, AccessTable, Routes, Switch};
use crate::app::Warden;

/// The frame of the OpenAPI document: info, security, shared schemas and tags. The operations
/// come from the route declarations ([`all_routes`]); [`document`] is the whole document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Warden", description = "Run untrusted logic for AI applications in WebAssembly sandboxes."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem, Health)),
    tags(
        (name = "plugins", description = "Upload and manage components"),
        (name = "templates", description = "The prompt registry"),
        (name = "pii", description = "Detect, anonymise and restore personal data"),
        (name = "presidio", description = "Presidio-compatible analyzer and anonymizer (character offsets, Presidio shapes)"),
        (name = "sessions", description = "Python code sessions"),
        (name = "pipelines", description = "Render, pseudonymise, route, ask, run code, restore"),
        (name = "openai", description = "OpenAI-compatible chat completions, embeddings and models through the PII guard (errors are OpenAI error objects)"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "system", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document of every route, as `/openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    declared(&crate::config::ServerConfig::default()).1
}

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
            // The OpenAI routes answer errors as OpenAI error objects (`application/json`).
            let ctype = if path.starts_with("/v1/openai/") {
                "application/json"
            } else {
                "application/problem+json"
            };
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
                        r.content.insert(ctype.into(), c);
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
                                        .content(ctype, problem())
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
    let (router, _, access) = declared(&state.config.server);
    guarded(state, router, access)
}

/// Every route, each declared once: who may call it, and its handlers, whose
/// `#[utoipa::path]` gives the path, the method and the OpenAPI entry.
fn all_routes(server: &crate::config::ServerConfig) -> Routes<Arc<Warden>> {
    use warden_core::auth::Action::*;
    let body_limit = usize::try_from(server.max_body_bytes).unwrap_or(usize::MAX);
    let upload_limit = usize::try_from(server.max_upload_bytes).unwrap_or(usize::MAX);
    let uploads = Routes::group()
        .add(PluginRead, routes!(v1::get_plugin))
        .add(
            PluginWrite,
            routes!(v1::upload_plugin, v1::delete_plugin_version),
        )
        .add(TemplateWrite, routes!(v1::import_templates))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(
            upload_limit.saturating_add(64 << 10),
        ));
    let api = Routes::group()
        .add(PluginRead, routes!(v1::list_plugins))
        .add(PluginRead, routes!(v1::plugin_versions))
        .add(PluginWrite, routes!(v1::delete_plugin))
        .add(TemplateList, routes!(v1::list_templates))
        .add(TemplateContent, routes!(v1::export_templates))
        .add(TemplateList, routes!(v1::get_template))
        .add(TemplateWrite, routes!(v1::delete_template))
        .add(TemplateWrite, routes!(v1::create_template_version))
        .add(TemplateContent, routes!(v1::get_template_version))
        .add(TemplateWrite, routes!(v1::set_label, v1::delete_label))
        .add(TemplateContent, routes!(v1::diff_template))
        .add(TemplateWrite, routes!(v1::request_label_move))
        .add(TemplateList, routes!(v1::list_label_requests))
        .add(TemplateWrite, routes!(v1::approve_label_request))
        .add(TemplateWrite, routes!(v1::reject_label_request))
        .add(Render, routes!(v1::render_template))
        .add(Render, routes!(v1::render_inline))
        .add(PiiProcess, routes!(v1::detect))
        .add(PiiProcess, routes!(v1::anonymize))
        .add(PiiReveal, routes!(v1::deanonymize))
        .add(VaultDelete, routes!(v1::delete_vault))
        .add(DictionaryRead, routes!(v1::list_dictionaries))
        .add(VaultList, routes!(v1::list_vaults))
        .add(DictionaryRead, routes!(v1::get_dictionary))
        .add(
            DictionaryWrite,
            routes!(v1::put_dictionary, v1::delete_dictionary),
        )
        .add(PiiProcess, routes!(v1::pii_entities))
        .add(DictionaryRead, routes!(v1::list_recognizers))
        .add(DictionaryRead, routes!(v1::get_recognizer))
        .add(
            DictionaryWrite,
            routes!(v1::put_recognizer, v1::delete_recognizer),
        )
        .add(DictionaryWrite, routes!(v1::import_recognizers))
        .add(CodeRun, routes!(v1::create_session, v1::list_sessions))
        .add(CodeRun, routes!(v1::get_session, v1::delete_session))
        .add(CodeRun, routes!(v1::eval_session))
        .add(CodeRun, routes!(v1::fork_session))
        .add(CodeRun, routes!(v1::eval_once))
        .add(TemplateList, routes!(v1::list_pipelines))
        .add(TemplateWrite, routes!(v1::import_pipeline))
        .add(TemplateList, routes!(v1::get_pipeline))
        .add(TemplateWrite, routes!(v1::delete_pipeline))
        .add(TemplateWrite, routes!(v1::create_pipeline_version))
        .add(TemplateContent, routes!(v1::get_pipeline_version))
        .add(TemplateWrite, routes!(v1::set_pipeline_label))
        .add(Render, routes!(v1::run_pipeline))
        .add(TemplateContent, routes!(v1::export_pipeline))
        .add(PiiProcess, routes!(presidio::analyze))
        .add(PiiProcess, routes!(presidio::supported_entities))
        .add(PiiProcess, routes!(presidio::recognizers))
        .add(PiiProcess, routes!(presidio::anonymize))
        .add(PiiReveal, routes!(presidio::deanonymize))
        .add(PiiReveal, routes!(presidio::decrypt))
        .add(PiiProcess, routes!(presidio::anonymizers))
        .add(PiiProcess, routes!(presidio::deanonymizers))
        .add(LlmChat, routes!(openai::chat_completions))
        .add(LlmChat, routes!(openai::embeddings))
        .add(LlmChat, routes!(openai::models))
        .add(AuditRead, routes!(v1::audit_log))
        .add(AuditRead, routes!(v1::audit_verify))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit));
    Routes::new(ApiDoc::openapi())
        .add(Access::Public, routes!(healthz))
        .add(Access::Public, routes!(readyz))
        .add(Access::Public, routes!(presidio::health))
        .add(
            Access::PublicIf(Switch::Metrics, Some(Metrics)),
            routes!(metrics),
        )
        // Without `auth.public_openapi`, no token is allowed the document either.
        .undocumented(
            Access::PublicIf(Switch::OpenApi, None),
            HttpMethod::Get,
            "/openapi.json",
            openapi_json,
        )
        .merge(api)
        .merge(uploads)
        .add(Admin, routes!(v1::reload_keys))
        .add(Admin, routes!(v1::get_tenant, v1::put_tenant))
}

/// The declared routes' router, their finished OpenAPI document (problem responses filled in)
/// and who may call each.
fn declared(
    server: &crate::config::ServerConfig,
) -> (Router<Arc<Warden>>, utoipa::openapi::OpenApi, AccessTable) {
    let (router, mut doc, access) = all_routes(server).into_parts();
    utoipa::Modify::modify(&ProblemResponses, &mut doc);
    (router, doc, access)
}

/// The state of the auth layer: the services, and who may call each declared route.
#[derive(Clone)]
struct Gate {
    warden: Arc<Warden>,
    access: Arc<AccessTable>,
}

/// `router` behind the fallback and the layers every request passes: the auth layer (reading
/// `access`), the request timeout, problem documents and metrics, tracing, CORS.
fn guarded(state: Arc<Warden>, router: Router<Arc<Warden>>, access: AccessTable) -> Router {
    let cors = cors_layer(&state.config.cors);
    let gate = Gate {
        warden: state.clone(),
        access: Arc::new(access),
    };
    let router = router
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(gate, authenticate))
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

/// Authenticates every non-public request, authorises the action its route declares in one
/// place, and hands the principal to the handler; a route and method with no declared access is
/// refused. Failures are audited with the reason and source address, never the token.
async fn authenticate(
    State(Gate { warden: w, access }): State<Gate>,
    mut req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let Some(route) = route else {
        return next.run(req).await; // unknown route: 404 from the fallback
    };
    let method = req.method().as_str().to_owned();
    // HEAD is GET without the body (RFC 9110 §9.3.2; axum answers it from the `get` handler),
    // so it needs exactly what GET needs.
    let policy_method = if req.method() == axum::http::Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    let declared = access.get(policy_method, &route);
    let auth = &w.config.auth;
    // An undeclared method on a public route is the router's 405, without a token.
    let public = declared.map_or_else(|| access.all_public(&route, auth), |a| a.is_public(auth));
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
        .and_then(|v| credential(v, &route));
    let verified = match token {
        None => Err(warden_core::auth::AuthError::Missing),
        Some(t) => w.verifier.verify(&t),
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
    let Some(action) = declared.and_then(Access::action) else {
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

/// The token a request presents: `Bearer <token>` everywhere; on the Presidio routes also
/// `Basic` credentials whose password is the token (the user name is ignored), because
/// Presidio clients cannot set headers but send a URL's user info (`http://warden:<token>@…`).
fn credential(value: &str, route: &str) -> Option<String> {
    if let Some(t) = bearer_token(value) {
        return Some(t.to_owned());
    }
    if !route.starts_with("/presidio/") {
        return None;
    }
    use base64::Engine as _;
    let (scheme, encoded) = value.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    let (_, password) = pair.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
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
    let openai = req.uri().path().starts_with(openai::PREFIX);
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
    let response = if openai {
        openai::openai_error(response).await
    } else {
        response
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
    /// On `/readyz`: which database holds the state (`redb` or `postgres`), which answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        database: None,
    })
}

/// Readiness: the built-ins and stored plugins are compiled and loaded, and the database
/// answers (a replica that lost its database leaves the load balancer's rotation).
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn readyz(State(w): State<Arc<Warden>>) -> Response {
    if !w.is_ready() {
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting",
            "components are still being compiled",
        )
        .into_response();
    }
    let store = w.sandbox.store();
    let database = if store.shared() { "postgres" } else { "redb" };
    match tokio::time::timeout(std::time::Duration::from_secs(2), store.ping()).await {
        Ok(Ok(())) => Json(Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            database: Some(database.into()),
        })
        .into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database did not answer");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database",
                format!("the {database} database is unavailable"),
            )
            .into_response()
        }
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database",
            format!("the {database} database did not answer within 2s"),
        )
        .into_response(),
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

/// `/openapi.json`: the document of the declared routes, built once.
async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    static DOCUMENT: std::sync::LazyLock<utoipa::openapi::OpenApi> =
        std::sync::LazyLock::new(document);
    Json(&*DOCUMENT)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::body::Body;
    use axum::http::Method;
    use tower::ServiceExt as _;
    use warden_core::auth::Role;

    use super::*;

    /// A Warden on a fresh data directory (not warmed up: no handler here runs a component).
    async fn open(
        edit: impl FnOnce(&mut crate::config::Config),
    ) -> (tempfile::TempDir, Arc<Warden>) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::config::Config::default();
        config.server.data_dir = dir.path().join("data");
        edit(&mut config);
        (dir, Arc::new(Warden::open(config).await.unwrap()))
    }

    fn token(w: &Warden, roles: &[Role]) -> String {
        let claims = warden_core::auth::claims(
            "acme",
            "tester",
            roles,
            std::time::Duration::from_secs(600),
            &w.config.auth,
        );
        w.verifier.issue(&claims).unwrap()
    }

    /// `route` with every `{parameter}` filled in.
    fn concrete(route: &str) -> String {
        route
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }

    async fn send(app: &Router, method: &str, path: &str, token: Option<&str>) -> Response {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        app.clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    /// The problem type of an error response: a problem document's `type`, or on the OpenAI
    /// routes the OpenAI error object's `warden_type`.
    async fn problem_type(r: Response, route: &str) -> String {
        let ct = r.headers().get(header::CONTENT_TYPE).unwrap().clone();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if route.starts_with(openai::PREFIX) {
            assert_eq!(ct, "application/json", "{route}");
            return doc["error"]["warden_type"].as_str().unwrap().to_owned();
        }
        assert_eq!(ct, "application/problem+json", "{route}");
        doc["type"].as_str().unwrap().to_owned()
    }

    #[test]
    fn every_documented_operation_has_an_access_and_only_the_document_is_undocumented() {
        let (_, doc, access) = declared(&crate::config::ServerConfig::default());
        let doc = serde_json::to_value(&doc).unwrap();
        let mut documented = BTreeSet::new();
        for (route, item) in doc["paths"].as_object().unwrap() {
            for key in item.as_object().unwrap().keys() {
                if !["summary", "description", "servers", "parameters", "$ref"]
                    .contains(&key.as_str())
                {
                    documented.insert((key.to_uppercase(), route.clone()));
                }
            }
        }
        let declared: BTreeSet<_> = access
            .iter()
            .map(|(m, r, _)| (m.to_owned(), r.to_owned()))
            .collect();
        let no_access: Vec<_> = documented.difference(&declared).collect();
        assert!(
            no_access.is_empty(),
            "documented without access: {no_access:?}"
        );
        let undocumented: Vec<_> = declared.difference(&documented).collect();
        assert_eq!(
            undocumented,
            [&("GET".to_owned(), "/openapi.json".to_owned())]
        );
        // The declarations are the document: one route of each kind is in it as before.
        assert_eq!(documented.len(), 73, "{documented:?}");
        for (method, route) in [
            ("GET", "/healthz"),
            ("GET", "/metrics"),
            ("POST", "/v1/plugins/{name}/versions/{version}"),
            ("PUT", "/v1/admin/tenant"),
        ] {
            assert!(documented.contains(&(method.to_owned(), route.to_owned())));
        }
        assert_eq!(
            access.get("POST", "/v1/pii/deanonymize"),
            Some(Access::Token(warden_core::auth::Action::PiiReveal))
        );
    }

    #[tokio::test]
    async fn every_declared_operation_is_routed_and_guarded_as_declared() {
        for public in [true, false] {
            let (_dir, w) = open(|c| {
                c.auth.public_metrics = public;
                c.auth.public_openapi = public;
            })
            .await;
            let (router, _, access) = declared(&w.config.server);
            // The bare router's 405 lists the methods each declared route serves: exactly the
            // declared ones (and HEAD with GET), so no route has a handler without an access.
            let bare = router.with_state(w.clone());
            let mut routes = BTreeSet::new();
            for (_, route, _) in access.iter() {
                routes.insert(route.to_owned());
            }
            for route in &routes {
                let r = send(&bare, "PROBE", &concrete(route), None).await;
                assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{route}");
                let allow = r.headers().get(header::ALLOW).unwrap().to_str().unwrap();
                let served: BTreeSet<&str> = allow.split(',').map(str::trim).collect();
                let mut expected: BTreeSet<&str> = access
                    .iter()
                    .filter(|(_, r, _)| r == route)
                    .map(|(m, _, _)| m)
                    .collect();
                if expected.contains("GET") {
                    expected.insert("HEAD");
                }
                assert_eq!(served, expected, "{route}");
            }
            let app = app(w.clone());
            for (method, route, declared) in access.iter() {
                let path = concrete(route);
                let anonymous = send(&app, method, &path, None).await.status();
                if declared.is_public(&w.config.auth) {
                    assert!(
                        anonymous.is_success() || anonymous == StatusCode::SERVICE_UNAVAILABLE,
                        "{method} {route}: {anonymous}"
                    );
                    continue;
                }
                assert_eq!(anonymous, StatusCode::UNAUTHORIZED, "{method} {route}");
                let r = match declared.action() {
                    // A token without one of the action's roles is refused by that action.
                    Some(action) => {
                        let role = Role::ALL
                            .into_iter()
                            .find(|r| !action.allowed_roles().contains(r))
                            .unwrap();
                        let r = send(&app, method, &path, Some(&token(&w, &[role]))).await;
                        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{method} {route}");
                        r
                    }
                    // No token is allowed it.
                    None => {
                        let r = send(&app, method, &path, Some(&token(&w, &Role::ALL))).await;
                        assert_eq!(
                            r.status(),
                            StatusCode::METHOD_NOT_ALLOWED,
                            "{method} {route}"
                        );
                        r
                    }
                };
                assert!(
                    problem_type(r, route)
                        .await
                        .starts_with("urn:warden:problem:")
                );
            }
        }
    }

    #[tokio::test]
    async fn an_undeclared_route_is_refused_before_its_handler_runs() {
        static RAN: AtomicBool = AtomicBool::new(false);
        async fn handler() -> &'static str {
            RAN.store(true, Ordering::SeqCst);
            "ran"
        }
        let (_dir, w) = open(|_| {}).await;
        let (router, _, access) = declared(&w.config.server);
        // A new route, and a new method on a declared route, added past the declarations.
        let router = router
            .route("/v1/undeclared", axum::routing::get(handler))
            .route("/v1/plugins", axum::routing::post(handler));
        let app = guarded(w.clone(), router, access);
        let admin = token(&w, &Role::ALL);
        for (method, path) in [
            ("GET", "/v1/undeclared"),
            ("HEAD", "/v1/undeclared"),
            ("POST", "/v1/plugins"),
        ] {
            let r = send(&app, method, path, Some(&admin)).await;
            assert_eq!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            if method != "HEAD" {
                assert_eq!(
                    problem_type(r, path).await,
                    "urn:warden:problem:method-not-allowed"
                );
            }
            let anonymous = send(&app, method, path, None).await;
            assert_eq!(
                anonymous.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path}"
            );
        }
        assert!(
            !RAN.load(Ordering::SeqCst),
            "an undeclared route's handler ran"
        );
        // The declared method on the same route still works.
        let r = send(&app, "GET", "/v1/plugins", Some(&admin)).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
}
