//! Abuse limits per tenant and per actor: request rates (token buckets), concurrent sandbox
//! calls, and fuel burned per minute. Each trips with 429 and `Retry-After`, and one tenant
//! hitting its limits leaves every other tenant untouched.
//!
//! Every tenant starts with `[quota.defaults]`; a tenant's admin may change its own tenant's
//! values (`PUT /v1/admin/tenant`) anywhere up to the host-wide `[quota.caps]`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::Error;

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

/// One tenant's live counters, built from its quota.
struct TenantState {
    quota: TenantQuota,
    requests: DefaultDirectRateLimiter,
    actors: DefaultKeyedRateLimiter<String>,
    slots: Arc<Semaphore>,
    fuel: Mutex<(Instant, u64)>,
}

impl TenantState {
    fn new(quota: TenantQuota) -> TenantState {
        TenantState {
            requests: governor::RateLimiter::direct(rate(quota.requests_per_second, quota.burst)),
            actors: governor::RateLimiter::keyed(rate(
                quota.actor_requests_per_second,
                quota.actor_burst,
            )),
            slots: Arc::new(Semaphore::new(quota.concurrent_calls.max(1) as usize)),
            fuel: Mutex::new((Instant::now(), 0)),
            quota,
        }
    }
}

/// The live counters of every tenant seen since start.
pub struct Quotas {
    defaults: TenantQuota,
    tenants: RwLock<HashMap<String, Arc<TenantState>>>,
}

fn rate(per_second: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(per_second).max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

const FUEL_WINDOW: Duration = Duration::from_secs(60);

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
            .map(|(t, q)| (t, Arc::new(TenantState::new(q))))
            .collect();
        Quotas {
            defaults: config.defaults,
            tenants: RwLock::new(tenants),
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
            .or_insert_with(|| Arc::new(TenantState::new(self.defaults)))
            .clone()
    }

    /// The quota in force for `tenant`.
    pub fn quota(&self, tenant: &str) -> TenantQuota {
        self.state(tenant).quota
    }

    /// Puts a new quota in force for `tenant` (`None`: back to the defaults). Counters start
    /// afresh; calls running under the old concurrency slots finish normally.
    pub fn set(&self, tenant: &str, quota: Option<TenantQuota>) {
        let state = Arc::new(TenantState::new(quota.unwrap_or(self.defaults)));
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
    }

    /// Counts one request of `actor` in `tenant`.
    pub fn request(&self, tenant: &str, actor: &str) -> Result<(), Exceeded> {
        use governor::clock::Clock;
        let clock = governor::clock::DefaultClock::default();
        let s = self.state(tenant);
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
    pub fn start_call(&self, tenant: &str) -> Result<OwnedSemaphorePermit, Error> {
        let s = self.state(tenant);
        {
            let mut fuel = s.fuel.lock().unwrap_or_else(|p| p.into_inner());
            if fuel.0.elapsed() >= FUEL_WINDOW {
                *fuel = (Instant::now(), 0);
            }
            if fuel.1 >= s.quota.fuel_per_minute {
                return Err(Error::RateLimited(Exceeded {
                    what: format!(
                        "this tenant's fuel budget ({} per minute)",
                        s.quota.fuel_per_minute
                    ),
                    retry_after: FUEL_WINDOW.saturating_sub(fuel.0.elapsed()),
                }));
            }
        }
        s.slots.clone().try_acquire_owned().map_err(|_| {
            Error::RateLimited(Exceeded {
                what: format!(
                    "this tenant's concurrent sandbox calls ({})",
                    s.quota.concurrent_calls
                ),
                retry_after: Duration::from_secs(1),
            })
        })
    }

    /// Adds fuel a finished call burned to its tenant's budget.
    pub fn burned(&self, tenant: &str, fuel: u64) {
        let s = self.state(tenant);
        let mut f = s.fuel.lock().unwrap_or_else(|p| p.into_inner());
        if f.0.elapsed() >= FUEL_WINDOW {
            *f = (Instant::now(), 0);
        }
        f.1 = f.1.saturating_add(fuel);
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
}
