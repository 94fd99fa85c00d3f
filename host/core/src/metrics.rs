//! Prometheus metrics: what an operator graphs and alerts on (request rates and latency, plugin
//! calls by outcome, fuel burned, compiled-component cache hits).
//!
//! Two views, because a tenant must learn nothing of the others, not even their volume: the
//! host view (every tenant's series, labelled with the tenant, plus host-only series such as
//! the compiled cache) for the operator, and one registry per tenant holding only that
//! tenant's series, which is all `/metrics` shows a tenant's token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The tenant of the authenticated caller (`-` before authentication).
    pub tenant: String,
    /// Method.
    pub method: String,
    /// The route pattern (never the raw path, which would hold names).
    pub route: String,
    /// Status code.
    pub status: u16,
}

/// Labels of a route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The tenant.
    pub tenant: String,
    /// The route pattern.
    pub route: String,
}

/// Labels of a sandbox call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// The tenant.
    pub tenant: String,
    /// The world (template-engine, pii-detector, code-runner).
    pub world: String,
    /// `ok` or the typed outcome.
    pub outcome: String,
}

/// Labels naming a world.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorldLabels {
    /// The tenant.
    pub tenant: String,
    /// The world.
    pub world: String,
}

/// Labels of a component load.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    /// `hit` or `miss`.
    pub result: String,
}

/// Labels of a connection the server closed on its own.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClosedLabels {
    /// `per_ip_cap`, `header_timeout` or `idle_timeout`.
    pub reason: String,
}

/// One registry's families: the host's (every tenant) or one tenant's.
struct Families {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_latency: Family<RouteLabels, Histogram>,
    calls: Family<CallLabels, Counter>,
    fuel: Family<WorldLabels, Counter>,
    call_latency: Family<WorldLabels, Histogram>,
    cache: Option<Family<CacheLabels, Counter>>,
    closed: Option<Family<ClosedLabels, Counter>>,
}

/// Every metric the server exports, in the host view and per tenant.
pub struct Metrics {
    host: Families,
    tenants: Mutex<HashMap<String, Arc<Families>>>,
}

/// The tenant label of requests answered before a caller was authenticated.
pub const NO_TENANT: &str = "-";

fn latency_buckets() -> Histogram {
    Histogram::new([
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        5.0, 10.0,
    ])
}

impl Families {
    fn new(host: bool) -> Families {
        let mut registry = Registry::with_prefix("warden");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_latency =
            Family::<RouteLabels, Histogram>::new_with_constructor(latency_buckets as fn() -> _);
        let calls = Family::<CallLabels, Counter>::default();
        let fuel = Family::<WorldLabels, Counter>::default();
        let call_latency =
            Family::<WorldLabels, Histogram>::new_with_constructor(latency_buckets as fn() -> _);
        let cache = host.then(Family::<CacheLabels, Counter>::default);
        registry.register(
            "http_requests",
            "HTTP requests answered",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_latency.clone(),
        );
        registry.register("plugin_calls", "Sandbox calls by outcome", calls.clone());
        registry.register("plugin_fuel", "Fuel burned by sandbox calls", fuel.clone());
        registry.register(
            "plugin_call_duration_seconds",
            "Sandbox call latency, instantiation included",
            call_latency.clone(),
        );
        let closed = host.then(Family::<ClosedLabels, Counter>::default);
        if let Some(closed) = &closed {
            registry.register(
                "connections_closed",
                "Connections the server closed: over the per-source cap, no request head in time, idle",
                closed.clone(),
            );
        }
        if let Some(cache) = &cache {
            registry.register(
                "component_cache",
                "Component loads by compiled-cache result",
                cache.clone(),
            );
        }
        Families {
            closed,
            registry,
            http_requests,
            http_latency,
            calls,
            fuel,
            call_latency,
            cache,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            host: Families::new(true),
            tenants: Mutex::new(HashMap::new()),
        }
    }
}

impl Families {
    fn request(&self, tenant: &str, method: &str, route: &str, status: u16, took: Duration) {
        self.http_requests
            .get_or_create(&HttpLabels {
                tenant: tenant.to_owned(),
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_latency
            .get_or_create(&RouteLabels {
                tenant: tenant.to_owned(),
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    fn call(&self, tenant: &str, world: &str, outcome: &str, fuel: u64, took: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                tenant: tenant.to_owned(),
                world: world.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        let w = WorldLabels {
            tenant: tenant.to_owned(),
            world: world.to_owned(),
        };
        self.fuel.get_or_create(&w).inc_by(fuel);
        self.call_latency
            .get_or_create(&w)
            .observe(took.as_secs_f64());
    }

    fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Metrics {
    fn tenant(&self, tenant: &str) -> Option<Arc<Families>> {
        if tenant == NO_TENANT {
            return None;
        }
        let mut map = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        Some(
            map.entry(tenant.to_owned())
                .or_insert_with(|| Arc::new(Families::new(false)))
                .clone(),
        )
    }

    /// Counts one answered request of `tenant` ([`NO_TENANT`] when nobody was authenticated).
    pub fn request(&self, tenant: &str, method: &str, route: &str, status: u16, took: Duration) {
        self.host.request(tenant, method, route, status, took);
        if let Some(t) = self.tenant(tenant) {
            t.request(tenant, method, route, status, took);
        }
    }

    /// Counts one sandbox call of `tenant`.
    pub fn call(&self, tenant: &str, world: &str, outcome: &str, fuel: u64, took: Duration) {
        self.host.call(tenant, world, outcome, fuel, took);
        if let Some(t) = self.tenant(tenant) {
            t.call(tenant, world, outcome, fuel, took);
        }
    }

    /// Counts one component load (host view only: loads are shared by every tenant).
    pub fn cache(&self, hit: bool) {
        if let Some(cache) = &self.host.cache {
            cache
                .get_or_create(&CacheLabels {
                    result: if hit { "hit" } else { "miss" }.into(),
                })
                .inc();
        }
    }

    /// Counts one connection the server closed on its own (`reason` as in [`ClosedLabels`]);
    /// host view only, as connections belong to no tenant before authentication.
    pub fn connection_closed(&self, reason: &str) {
        if let Some(closed) = &self.host.closed {
            closed
                .get_or_create(&ClosedLabels {
                    reason: reason.to_owned(),
                })
                .inc();
        }
    }

    /// The host view: every tenant's series and the host-only ones. For the operator only.
    pub fn render(&self) -> String {
        self.host.render()
    }

    /// One tenant's view: its own series and nothing of any other tenant's.
    pub fn render_tenant(&self, tenant: &str) -> String {
        match self.tenant(tenant) {
            Some(t) => t.render(),
            None => "# EOF\n".to_owned(),
        }
    }
}
