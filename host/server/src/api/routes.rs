//! How a route is declared: one [`Routes::add`] call names who may call it ([`Access`]) and
//! the handlers (through utoipa-axum's `routes!`), whose `#[utoipa::path]` attributes give
//! the path, the method and the OpenAPI entry. The router, the OpenAPI document and the
//! [`AccessTable`] the auth layer reads all come out of the same [`Routes`].
//!
//! **Architecture Invariant:** routes reach the router only through [`Routes`], so each has an
//! [`Access`]; the auth layer refuses a matched route and method without one (a route added to
//! the axum router some other way) before its handler runs.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, Route};
use tower::{Layer, Service};
use utoipa::openapi::path::PathItem;
use utoipa::openapi::{HttpMethod, OpenApi};
use utoipa_axum::PathItemExt as _;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use warden_core::auth::{Action, AuthConfig};

/// Who may call a route: the second half of its declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// A verified token whose roles allow the action.
    Token(Action),
    /// Anyone, without a token, while the `[auth]` switch is on; otherwise a token allowed the
    /// action, or nobody (`None`: refused like an undeclared route).
    PublicIf(Switch, Option<Action>),
}

impl From<Action> for Access {
    fn from(action: Action) -> Access {
        Access::Token(action)
    }
}

impl Access {
    /// Whether the route is served without a token under these settings.
    pub fn is_public(self, auth: &AuthConfig) -> bool {
        match self {
            Access::Public => true,
            Access::Token(_) => false,
            Access::PublicIf(switch, _) => switch.is_on(auth),
        }
    }

    /// The action a token needs when the route is not public; `None` when no token does.
    pub fn action(self) -> Option<Action> {
        match self {
            Access::Public => None,
            Access::Token(action) => Some(action),
            Access::PublicIf(_, action) => action,
        }
    }
}

/// An `[auth]` setting that makes a route public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// `auth.public_metrics`.
    Metrics,
    /// `auth.public_openapi`.
    OpenApi,
}

impl Switch {
    fn is_on(self, auth: &AuthConfig) -> bool {
        match self {
            Switch::Metrics => auth.public_metrics,
            Switch::OpenApi => auth.public_openapi,
        }
    }
}

/// Every declared operation: route pattern (as axum's `MatchedPath` spells it) → method (upper
/// case) → who may call it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessTable(BTreeMap<String, BTreeMap<&'static str, Access>>);

impl AccessTable {
    /// Who may call `method` on `route`; `None` if that operation is not declared.
    pub fn get(&self, method: &str, route: &str) -> Option<Access> {
        self.0.get(route)?.get(method).copied()
    }

    /// Whether `route` is declared and every operation on it is public under these settings
    /// (then an undeclared method on it is answered by the router, without a token).
    pub fn all_public(&self, route: &str, auth: &AuthConfig) -> bool {
        self.0
            .get(route)
            .is_some_and(|ops| ops.values().all(|a| a.is_public(auth)))
    }

    /// Every declared operation as (method, route, access).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str, Access)> {
        self.0.iter().flat_map(|(route, ops)| {
            ops.iter()
                .map(move |(method, access)| (*method, route.as_str(), *access))
        })
    }

    fn insert(&mut self, route: &str, method: &'static str, access: Access) {
        self.0
            .entry(route.to_owned())
            .or_default()
            .insert(method, access);
    }
}

/// Routes being declared: the axum router, its OpenAPI document and the access table, built
/// together so that none can list a route the others lack.
pub struct Routes<S> {
    router: OpenApiRouter<S>,
    table: AccessTable,
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// Routes whose document starts from `doc` (its info, security, shared schemas and tags).
    pub fn new(doc: OpenApi) -> Routes<S> {
        Routes {
            router: OpenApiRouter::with_openapi(doc),
            table: AccessTable::default(),
        }
    }

    /// A group to [`merge`](Routes::merge) into the routes built with [`Routes::new`] (after
    /// giving it its own layers).
    pub fn group() -> Routes<S> {
        Routes {
            router: OpenApiRouter::default(),
            table: AccessTable::default(),
        }
    }

    /// Declares the operations of `handlers` (`utoipa_axum::routes!(…)`: the path, methods and
    /// OpenAPI entries from each handler's `#[utoipa::path]`), all callable with `access`. The
    /// handlers of one call share one path: utoipa-axum would serve each of them on every path
    /// of the call (the auth layer refuses those undeclared pairs; the route tests fail on them).
    pub fn add(mut self, access: impl Into<Access>, handlers: UtoipaMethodRouter<S>) -> Self {
        let access = access.into();
        for (route, item) in &handlers.1.paths {
            for method in methods(item) {
                self.table.insert(route, method_name(&method), access);
            }
        }
        self.router = self.router.routes(handlers);
        self
    }

    /// Declares one operation that has no OpenAPI entry (the document itself).
    pub fn undocumented<H, T>(
        mut self,
        access: impl Into<Access>,
        method: HttpMethod,
        route: &str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.table
            .insert(route, method_name(&method), access.into());
        self.router = self.router.route(
            route,
            MethodRouter::new().on(method.to_method_filter(), handler),
        );
        self
    }

    /// Wraps every route declared so far in `layer` (as `axum::Router::layer`).
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    /// Adds the routes of `other` (as `axum::Router::merge`: a route declared in both panics).
    pub fn merge(mut self, other: Routes<S>) -> Self {
        self.router = self.router.merge(other.router);
        for (method, route, access) in other.table.iter() {
            self.table.insert(route, method, access);
        }
        self
    }

    /// The router, the OpenAPI document and the access table.
    pub fn into_parts(self) -> (Router<S>, OpenApi, AccessTable) {
        let (router, doc) = self.router.split_for_parts();
        (router, doc, self.table)
    }
}

/// The methods a path item has operations for.
fn methods(item: &PathItem) -> impl Iterator<Item = HttpMethod> {
    [
        (HttpMethod::Get, &item.get),
        (HttpMethod::Put, &item.put),
        (HttpMethod::Post, &item.post),
        (HttpMethod::Delete, &item.delete),
        (HttpMethod::Options, &item.options),
        (HttpMethod::Head, &item.head),
        (HttpMethod::Patch, &item.patch),
        (HttpMethod::Trace, &item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.is_some().then_some(method))
}

/// A method as `http::Method::as_str` spells it.
fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Put => "PUT",
        HttpMethod::Post => "POST",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Head => "HEAD",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Trace => "TRACE",
    }
}
