//! Abuse limits per tenant and per actor: request rates (token buckets), concurrent sandbox
//! calls, and fuel burned per minute. Each trips with 429 and `Retry-After`, and one tenant
//! hitting its limits leaves every other tenant untouched.
//!
//! Every tenant starts with `[quota.defaults]`; a tenant's admin may change its own tenant's
//! values (`PUT /v1/admin/tenant`) anywhere up to the host-wide `[quota.caps]`.
//!
//! Replicas over one database hold the limits for the cluster as a whole: each enforces its
//! share (`⌈limit ÷ live replicas⌉`) of the request rates, bursts and concurrent calls, and fuel
//! is counted per wall-clock minute in the database, each replica adding what it burned about
//! once a second. The tolerance is documented in `docs/deployment.md`.

use crate::settings::{Invalid, invalid};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One tenant's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TenantQuota {
    /// Sustained requests per second the tenant may make.
    pub requests_per_second: u32,
    /// Burst above the sustained rate.
    pub burst: u32,
    /// Sustained requests per second one actor (token `sub`) of the tenant may make.
    pub actor_requests_per_second: u32,
    /// Burst, per actor.
    pub actor_burst: u32,
    /// Sandbox calls the tenant may run at once.
    pub concurrent_calls: u32,
    /// Fuel the tenant may burn per minute.
    pub fuel_per_minute: u64,
}

impl Default for TenantQuota {
    fn default() -> Self {
        TenantQuota {
            requests_per_second: 200,
            burst: 400,
            actor_requests_per_second: 100,
            actor_burst: 200,
            concurrent_calls: 32,
            fuel_per_minute: 2_000_000_000_000,
        }
    }
}

impl TenantQuota {
    /// The fields by name, for validation messages.
    fn fields(&self) -> [(&'static str, u64); 6] {
        [
            ("requests_per_second", self.requests_per_second.into()),
            ("burst", self.burst.into()),
            (
                "actor_requests_per_second",
                self.actor_requests_per_second.into(),
            ),
            ("actor_burst", self.actor_burst.into()),
            ("concurrent_calls", self.concurrent_calls.into()),
            ("fuel_per_minute", self.fuel_per_minute),
        ]
    }

    /// Each value is at least 1 and at most its cap; the first violation, by field name.
    pub fn check_within(&self, caps: &TenantQuota) -> Result<(), (&'static str, String)> {
        for ((name, v), (_, cap)) in self.fields().into_iter().zip(caps.fields()) {
            if v == 0 {
                return Err((name, "must be at least 1".into()));
            }
            if v > cap {
                return Err((name, format!("({v}) is above the host-wide cap ({cap})")));
            }
        }
        Ok(())
    }
}

/// The host's quota settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaConfig {
    /// What every tenant gets until its admin changes it.
    pub defaults: TenantQuota,
    /// The most a tenant's admin may set.
    pub caps: TenantQuota,
    /// Failed authentications one source address (IPv4 address or IPv6 /64) may make per
    /// second; past it (and its burst) the source's requests are answered 429 without
    /// their token being verified, until the bucket refills.
    pub failed_auth_per_second: u32,
    /// Burst of failed authentications above that rate, per source.
    pub failed_auth_burst: u32,
    /// Audit window for failed authentications: the first failure per source in a window is
    /// recorded in full, the rest (and the 429s) in one summary record when it closes.
    #[serde(with = "humantime_serde")]
    pub failed_auth_audit_window: Duration,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            defaults: TenantQuota::default(),
            caps: TenantQuota {
                requests_per_second: 5_000,
                burst: 10_000,
                actor_requests_per_second: 5_000,
                actor_burst: 10_000,
                concurrent_calls: 256,
                fuel_per_minute: 100_000_000_000_000,
            },
            failed_auth_per_second: 20,
            failed_auth_burst: 40,
            failed_auth_audit_window: Duration::from_secs(60),
        }
    }
}

/// Why a request must wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeded {
    /// What was exceeded, for the problem's detail.
    pub what: String,
    /// When a retry may succeed.
    pub retry_after: Duration,
}

/// One tenant's live counters, built from its quota and this replica's share of it.
struct TenantState {
    quota: TenantQuota,
    requests: DefaultDirectRateLimiter,
    actors: DefaultKeyedRateLimiter<String>,
    slots: Arc<Semaphore>,
    fuel: Mutex<Fuel>,
}

/// Fuel burned in the current wall-clock minute.
#[derive(Debug, Default, Clone, Copy)]
struct Fuel {
    /// The minute (milliseconds since the epoch, a multiple of 60 000).
    window_ms: u64,
    /// Burned here and not yet added to the cluster's count.
    pending: u64,
    /// The cluster's count as last heard (this replica's flushed fuel included).
    counted: u64,
}

impl Fuel {
    /// Starts a new minute if the clock has moved past this one.
    fn roll(&mut self, now_ms: u64) {
        let window = now_ms - now_ms % FUEL_WINDOW_MS;
        if window != self.window_ms {
            *self = Fuel {
                window_ms: window,
                ..Fuel::default()
            };
        }
    }
}

impl TenantState {
    fn new(quota: TenantQuota, replicas: u32) -> TenantState {
        let share = |v: u32| v.div_ceil(replicas.max(1)).max(1);
        TenantState {
            requests: governor::RateLimiter::direct(rate(
                share(quota.requests_per_second),
                share(quota.burst),
            )),
            actors: governor::RateLimiter::keyed(rate(
                share(quota.actor_requests_per_second),
                share(quota.actor_burst),
            )),
            slots: Arc::new(Semaphore::new(share(quota.concurrent_calls) as usize)),
            fuel: Mutex::new(Fuel::default()),
            quota,
        }
    }
}

/// The live counters of every tenant seen since start.
pub struct Quotas {
    defaults: TenantQuota,
    tenants: RwLock<HashMap<String, Arc<TenantState>>>,
    /// Live replicas sharing the limits (1 on one machine).
    replicas: AtomicU32,
    /// Failed authentications per source, checked before any token is verified.
    pub failed_auth: FailedAuth,
}

/// Fuel one replica burned for one tenant in one minute, to add to the cluster's count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuelDelta {
    /// The tenant.
    pub tenant: String,
    /// The minute, in milliseconds since the epoch.
    pub window_ms: u64,
    /// Fuel burned.
    pub fuel: u64,
}

fn rate(per_second: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(per_second).max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

const FUEL_WINDOW_MS: u64 = 60_000;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The address a per-source limit counts under: an IPv4 address (IPv4-mapped IPv6 included)
/// as is, an IPv6 address by its /64, since one host commonly holds a whole /64.
pub fn source_key(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip.to_canonical() {
        std::net::IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            std::net::IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

impl Quotas {
    /// Counters for `config`, with the tenants whose admins changed their quota.
    pub fn new(
        config: &QuotaConfig,
        overrides: impl IntoIterator<Item = (String, TenantQuota)>,
    ) -> Quotas {
        let tenants = overrides
            .into_iter()
            .map(|(t, q)| (t, Arc::new(TenantState::new(q, 1))))
            .collect();
        Quotas {
            defaults: config.defaults,
            tenants: RwLock::new(tenants),
            replicas: AtomicU32::new(1),
            failed_auth: FailedAuth::new(config),
        }
    }

    fn state(&self, tenant: &str) -> Arc<TenantState> {
        if let Some(s) = self
            .tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
        {
            return s.clone();
        }
        self.tenants
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(tenant.to_owned())
            .or_insert_with(|| {
                Arc::new(TenantState::new(
                    self.defaults,
                    self.replicas.load(Ordering::Relaxed),
                ))
            })
            .clone()
    }

    /// Live replicas now sharing the limits. When the count changes each tenant's rate and
    /// concurrency share is rebuilt (its buckets start full; fuel counts carry over).
    pub fn set_replicas(&self, replicas: u32) {
        let replicas = replicas.max(1);
        if self.replicas.swap(replicas, Ordering::Relaxed) == replicas {
            return;
        }
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        for state in tenants.values_mut() {
            let fresh = TenantState::new(state.quota, replicas);
            *fresh.fuel.lock().unwrap_or_else(|p| p.into_inner()) =
                *state.fuel.lock().unwrap_or_else(|p| p.into_inner());
            *state = Arc::new(fresh);
        }
    }

    /// Takes the fuel burned here since the last call, per tenant, for the cluster's count;
    /// until [`Quotas::counted`] reports back, it still counts against this replica's budget.
    pub fn take_fuel(&self) -> Vec<FuelDelta> {
        let tenants = self.tenants.read().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for (tenant, s) in tenants.iter() {
            let mut f = s.fuel.lock().unwrap_or_else(|p| p.into_inner());
            if f.pending > 0 {
                out.push(FuelDelta {
                    tenant: tenant.clone(),
                    window_ms: f.window_ms,
                    fuel: f.pending,
                });
                f.counted = f.counted.saturating_add(f.pending);
                f.pending = 0;
            }
        }
        out
    }

    /// The cluster's fuel count for `tenant` in the minute starting at `window_ms`, as the
    /// database returned it.
    pub fn counted(&self, tenant: &str, window_ms: u64, total: u64) {
        let s = self.state(tenant);
        let mut f = s.fuel.lock().unwrap_or_else(|p| p.into_inner());
        if f.window_ms == window_ms {
            f.counted = f.counted.max(total);
        }
    }

    /// The quota in force for `tenant`.
    pub fn quota(&self, tenant: &str) -> TenantQuota {
        self.state(tenant).quota
    }

    /// Puts a new quota in force for `tenant` (`None`: back to the defaults). Counters start
    /// afresh; calls running under the old concurrency slots finish normally.
    pub fn set(&self, tenant: &str, quota: Option<TenantQuota>) {
        let state = Arc::new(TenantState::new(
            quota.unwrap_or(self.defaults),
            self.replicas.load(Ordering::Relaxed),
        ));
        self.tenants
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant.to_owned(), state);
    }

    /// Forgets actors that have not made a request for a while (bounds the per-actor maps).
    pub fn sweep(&self) {
        for s in self
            .tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            s.actors.retain_recent();
            s.actors.shrink_to_fit();
        }
        self.failed_auth.sweep();
    }

    /// Counts one request of `actor` in `tenant`.
    pub fn request(&self, tenant: &str, actor: &str) -> Result<(), Exceeded> {
        use governor::clock::Clock;
        // The limiters' own clock: a new `DefaultClock` calibrates a TSC clock (cpuid and
        // timing), which cost about 3% of a render request's CPU when made on every request.
        let s = self.state(tenant);
        let clock = s.requests.clock();
        if let Err(not_until) = s.requests.check() {
            return Err(Exceeded {
                what: format!(
                    "this tenant's request rate ({} per second)",
                    s.quota.requests_per_second
                ),
                retry_after: not_until.wait_time_from(clock.now()),
            });
        }
        if let Err(not_until) = s.actors.check_key(&actor.to_owned()) {
            return Err(Exceeded {
                what: format!(
                    "your request rate ({} per second)",
                    s.quota.actor_requests_per_second
                ),
                retry_after: not_until.wait_time_from(clock.now()),
            });
        }
        Ok(())
    }

    /// Takes one of the tenant's concurrent-call slots and checks its fuel budget; the slot is
    /// held until the permit drops.
    pub fn start_call(&self, tenant: &str) -> Result<OwnedSemaphorePermit, Exceeded> {
        let s = self.state(tenant);
        {
            let now = now_ms();
            let mut fuel = s.fuel.lock().unwrap_or_else(|p| p.into_inner());
            fuel.roll(now);
            if fuel.counted.saturating_add(fuel.pending) >= s.quota.fuel_per_minute {
                return Err(Exceeded {
                    what: format!(
                        "this tenant's fuel budget ({} per minute)",
                        s.quota.fuel_per_minute
                    ),
                    retry_after: Duration::from_millis(
                        (fuel.window_ms + FUEL_WINDOW_MS).saturating_sub(now).max(1),
                    ),
                });
            }
        }
        s.slots.clone().try_acquire_owned().map_err(|_| Exceeded {
            what: format!(
                "this tenant's concurrent sandbox calls ({})",
                s.quota.concurrent_calls
            ),
            retry_after: Duration::from_secs(1),
        })
    }

    /// Adds fuel a finished call burned to its tenant's budget.
    pub fn burned(&self, tenant: &str, fuel: u64) {
        let s = self.state(tenant);
        let mut f = s.fuel.lock().unwrap_or_else(|p| p.into_inner());
        f.roll(now_ms());
        f.pending = f.pending.saturating_add(fuel);
    }
}

/// Failed authentications by source: a token bucket per source that, once empty, refuses the
/// source's requests before their token is verified; and the aggregation that keeps the audit
/// log to at most two records per source and window however many failures arrive.
pub struct FailedAuth {
    limiter: DefaultKeyedRateLimiter<std::net::IpAddr>,
    per_second: u32,
    /// Sources refused until the given time (their bucket was empty).
    blocked: Mutex<HashMap<std::net::IpAddr, Instant>>,
    window: Duration,
    windows: Mutex<HashMap<std::net::IpAddr, FailureWindow>>,
}

/// One source's failures in the current audit window, after the first (recorded in full).
struct FailureWindow {
    started: Instant,
    started_ms: u64,
    /// Failed authentications not recorded one by one.
    failures: u64,
    /// Requests refused with 429 before verification.
    throttled: u64,
    /// The reason of the latest failure.
    last_reason: String,
}

/// What the audit log gets for one source's window of failures after the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureSummary {
    /// The source (IPv4 address, or IPv6 /64 prefix).
    pub source: std::net::IpAddr,
    /// When the window began, ms since the epoch.
    pub since_ms: u64,
    /// Failed authentications after the first.
    pub failures: u64,
    /// Requests refused with 429 before verification.
    pub throttled: u64,
    /// The latest failure's reason.
    pub last_reason: String,
}

/// Whether a failed authentication gets its own audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureOutcome {
    /// The first failure of its source in this window: record it in full.
    pub record: bool,
    /// The source's previous window, now closed, to record as a summary.
    pub closed: Option<FailureSummary>,
    /// The source has now used up its bucket: answer 429 rather than 401.
    pub exceeded: Option<Exceeded>,
}

impl FailedAuth {
    fn new(config: &QuotaConfig) -> FailedAuth {
        FailedAuth {
            limiter: governor::RateLimiter::keyed(rate(
                config.failed_auth_per_second,
                config.failed_auth_burst,
            )),
            per_second: config.failed_auth_per_second,
            blocked: Mutex::new(HashMap::new()),
            window: config.failed_auth_audit_window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn exceeded(&self, retry_after: Duration) -> Exceeded {
        Exceeded {
            what: format!(
                "failed authentications from your address ({} per second)",
                self.per_second
            ),
            retry_after: retry_after.max(Duration::from_secs(1)),
        }
    }

    /// Called before a token is verified: refuses a source whose bucket is empty (counting the
    /// refusal in its audit window).
    pub fn check(&self, ip: std::net::IpAddr) -> Result<(), Exceeded> {
        let key = source_key(ip);
        let until = {
            let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
            match blocked.get(&key) {
                Some(t) if *t > Instant::now() => Some(*t),
                Some(_) => {
                    blocked.remove(&key);
                    None
                }
                None => None,
            }
        };
        let Some(until) = until else {
            return Ok(());
        };
        if let Some(w) = self
            .windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&key)
        {
            w.throttled += 1;
        }
        Err(self.exceeded(until.saturating_duration_since(Instant::now())))
    }

    /// Counts one failed authentication from `ip` and says what to audit and answer.
    pub fn failed(&self, ip: std::net::IpAddr, reason: &str) -> FailureOutcome {
        use governor::clock::Clock;
        let key = source_key(ip);
        let exceeded = match self.limiter.check_key(&key) {
            Ok(()) => None,
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                self.blocked
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key, Instant::now() + wait);
                Some(self.exceeded(wait))
            }
        };
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let (record, closed) = match windows.get_mut(&key) {
            Some(w) if w.started.elapsed() < self.window => {
                w.failures += 1;
                w.last_reason = reason.to_owned();
                (false, None)
            }
            _ => {
                let old = windows.insert(
                    key,
                    FailureWindow {
                        started: Instant::now(),
                        started_ms: warden_storage::now_ms(),
                        failures: 0,
                        throttled: 0,
                        last_reason: reason.to_owned(),
                    },
                );
                (true, old.and_then(|w| summary(key, w)))
            }
        };
        FailureOutcome {
            record,
            closed,
            exceeded,
        }
    }

    /// Closes the windows that are over (or all of them, at shutdown) and returns their
    /// summaries, for the audit log.
    pub fn close_windows(&self, all: bool) -> Vec<FailureSummary> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let over: Vec<std::net::IpAddr> = windows
            .iter()
            .filter(|(_, w)| all || w.started.elapsed() >= self.window)
            .map(|(k, _)| *k)
            .collect();
        over.into_iter()
            .filter_map(|k| windows.remove(&k).and_then(|w| summary(k, w)))
            .collect()
    }

    /// Forgets sources that have not failed for a while (bounds the maps).
    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        let now = Instant::now();
        self.blocked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, until| *until > now);
    }
}

fn summary(source: std::net::IpAddr, w: FailureWindow) -> Option<FailureSummary> {
    (w.failures + w.throttled > 0).then_some(FailureSummary {
        source,
        since_ms: w.started_ms,
        failures: w.failures,
        throttled: w.throttled,
        last_reason: w.last_reason,
    })
}

impl QuotaConfig {
    /// Checks the failed-auth limits and that the default quota is within the caps.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.failed_auth_per_second == 0 {
            return invalid("quota.failed_auth_per_second", "must be at least 1");
        }
        if self.failed_auth_burst == 0 {
            return invalid("quota.failed_auth_burst", "must be at least 1");
        }
        if self.failed_auth_audit_window < Duration::from_secs(1) {
            return invalid("quota.failed_auth_audit_window", "must be at least 1s");
        }
        if let Err((field, message)) = self.defaults.check_within(&self.caps) {
            return Err(Invalid {
                key: "quota.defaults",
                message: format!("`{field}` {message}"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_counted_by_ipv4_address_or_ipv6_prefix() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_key(a), source_key(b));
        assert_ne!(source_key(a), source_key(c));
        let mapped: std::net::IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            source_key(mapped),
            "10.0.0.1".parse::<std::net::IpAddr>().unwrap()
        );
    }

    #[test]
    fn failed_authentications_are_limited_and_summarised_per_source() {
        let config = QuotaConfig {
            failed_auth_per_second: 1,
            failed_auth_burst: 3,
            ..QuotaConfig::default()
        };
        let f = FailedAuth::new(&config);
        let a: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let b: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let first = f.failed(a, "malformed token");
        assert!(first.record && first.exceeded.is_none());
        for _ in 0..2 {
            let o = f.failed(a, "bad signature");
            assert!(!o.record && o.exceeded.is_none(), "{o:?}");
        }
        assert!(f.check(a).is_ok());
        assert!(f.failed(a, "bad signature").exceeded.is_some());
        let e = f.check(a).unwrap_err();
        assert!(e.what.contains("1 per second") && e.retry_after >= Duration::from_secs(1));
        assert!(f.check(b).is_ok(), "another source is not affected");
        let summaries = f.close_windows(true);
        assert_eq!(summaries.len(), 1);
        assert_eq!(
            (
                summaries[0].failures,
                summaries[0].throttled,
                summaries[0].source
            ),
            (3, 1, a)
        );
        assert_eq!(summaries[0].last_reason, "bad signature");
    }

    #[test]
    fn values_are_checked_against_the_caps() {
        let caps = QuotaConfig::default().caps;
        assert!(TenantQuota::default().check_within(&caps).is_ok());
        let over = TenantQuota {
            concurrent_calls: caps.concurrent_calls + 1,
            ..TenantQuota::default()
        };
        assert_eq!(over.check_within(&caps).unwrap_err().0, "concurrent_calls");
        let zero = TenantQuota {
            burst: 0,
            ..TenantQuota::default()
        };
        assert_eq!(zero.check_within(&caps).unwrap_err().0, "burst");
    }

    #[test]
    fn a_tenant_quota_applies_to_that_tenant_only() {
        let q = Quotas::new(&QuotaConfig::default(), []);
        q.set(
            "acme",
            Some(TenantQuota {
                requests_per_second: 1,
                burst: 1,
                ..TenantQuota::default()
            }),
        );
        assert!(q.request("acme", "a").is_ok());
        let e = q.request("acme", "a").unwrap_err();
        assert!(e.what.contains("1 per second"), "{e:?}");
        for _ in 0..50 {
            assert!(q.request("globex", "b").is_ok());
        }
        q.set("acme", None);
        assert_eq!(q.quota("acme"), TenantQuota::default());
        assert!(q.request("acme", "a").is_ok());
    }

    fn small() -> TenantQuota {
        TenantQuota {
            requests_per_second: 4,
            burst: 4,
            concurrent_calls: 4,
            fuel_per_minute: 1_000,
            ..TenantQuota::default()
        }
    }

    #[test]
    fn each_replica_enforces_its_share_of_the_cluster_limits() {
        let q = Quotas::new(&QuotaConfig::default(), []);
        q.set("acme", Some(small()));
        q.set_replicas(2);
        assert!(q.request("acme", "a").is_ok());
        assert!(q.request("acme", "a").is_ok());
        assert!(q.request("acme", "a").is_err(), "half of a burst of 4");
        let held = [q.start_call("acme").unwrap(), q.start_call("acme").unwrap()];
        assert!(q.start_call("acme").is_err(), "half of 4 concurrent calls");
        drop(held);
        q.set_replicas(1);
        for _ in 0..4 {
            assert!(q.request("acme", "a").is_ok());
        }
        assert!(q.request("acme", "a").is_err());
    }

    #[test]
    fn fuel_burned_on_another_replica_counts_against_the_budget() {
        let replicas = [
            Quotas::new(&QuotaConfig::default(), [("acme".to_owned(), small())]),
            Quotas::new(&QuotaConfig::default(), [("acme".to_owned(), small())]),
        ];
        for r in &replicas {
            r.burned("acme", 600);
            assert!(r.start_call("acme").is_ok(), "600 of 1000 seen here");
        }
        // What the database does: a running count per tenant and minute.
        let mut total = 0;
        for d in replicas.iter().flat_map(|r| r.take_fuel()) {
            total += d.fuel;
            for r in &replicas {
                r.counted(&d.tenant, d.window_ms, total);
            }
        }
        assert_eq!(total, 1_200);
        for r in &replicas {
            let e = r.start_call("acme").unwrap_err();
            assert!(e.what.contains("fuel budget"), "{e:?}");
            assert!(e.retry_after <= Duration::from_secs(60));
        }
        assert!(replicas[0].take_fuel().is_empty(), "flushed once");
    }
}
