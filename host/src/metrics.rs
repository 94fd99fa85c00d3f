//! Prometheus metrics: what an operator graphs and alerts on (request rates and latency, plugin
//! calls by outcome, fuel burned, compiled-component cache hits).

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
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
    /// The route pattern.
    pub route: String,
}

/// Labels of a sandbox call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// The world (template-engine, pii-detector, code-runner).
    pub world: String,
    /// `ok` or the typed outcome.
    pub outcome: String,
}

/// Labels naming a world.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorldLabels {
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

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_latency: Family<RouteLabels, Histogram>,
    calls: Family<CallLabels, Counter>,
    fuel: Family<WorldLabels, Counter>,
    call_latency: Family<WorldLabels, Histogram>,
    cache: Family<CacheLabels, Counter>,
    closed: Family<ClosedLabels, Counter>,
}

fn latency_buckets() -> Histogram {
    Histogram::new([
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        5.0, 10.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("warden");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_latency =
            Family::<RouteLabels, Histogram>::new_with_constructor(latency_buckets as fn() -> _);
        let calls = Family::<CallLabels, Counter>::default();
        let fuel = Family::<WorldLabels, Counter>::default();
        let call_latency =
            Family::<WorldLabels, Histogram>::new_with_constructor(latency_buckets as fn() -> _);
        let cache = Family::<CacheLabels, Counter>::default();
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
        registry.register(
            "component_cache",
            "Component loads by compiled-cache result",
            cache.clone(),
        );
        let closed = Family::<ClosedLabels, Counter>::default();
        registry.register(
            "connections_closed",
            "Connections the server closed: over the per-source cap, no request head in time, idle",
            closed.clone(),
        );
        Metrics {
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

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http_requests
            .get_or_create(&HttpLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts one sandbox call.
    pub fn call(&self, world: &str, outcome: &str, fuel: u64, took: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                world: world.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        let w = WorldLabels {
            world: world.to_owned(),
        };
        self.fuel.get_or_create(&w).inc_by(fuel);
        self.call_latency
            .get_or_create(&w)
            .observe(took.as_secs_f64());
    }

    /// Counts one component load.
    pub fn cache(&self, hit: bool) {
        self.cache
            .get_or_create(&CacheLabels {
                result: if hit { "hit" } else { "miss" }.into(),
            })
            .inc();
    }

    /// Counts one connection the server closed on its own (`reason` as in [`ClosedLabels`]).
    pub fn connection_closed(&self, reason: &str) {
        self.closed
            .get_or_create(&ClosedLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
