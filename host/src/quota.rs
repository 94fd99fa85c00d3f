//! Abuse limits per tenant and per actor: request rates (token buckets), concurrent sandbox
//! calls, and fuel burned per minute. Each trips with 429 and `Retry-After`, and one tenant
//! hitting its limits leaves every other tenant untouched.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::Error;

/// The limits, per tenant and per actor (defaults on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaConfig {
    /// Sustained requests per second one tenant may make.
    pub tenant_requests_per_second: u32,
    /// Burst above the sustained rate, per tenant.
    pub tenant_burst: u32,
    /// Sustained requests per second one actor may make.
    pub actor_requests_per_second: u32,
    /// Burst, per actor.
    pub actor_burst: u32,
    /// Sandbox calls one tenant may run at once.
    pub tenant_concurrent_calls: u32,
    /// Fuel one tenant may burn per minute.
    pub tenant_fuel_per_minute: u64,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            tenant_requests_per_second: 200,
            tenant_burst: 400,
            actor_requests_per_second: 100,
            actor_burst: 200,
            tenant_concurrent_calls: 32,
            tenant_fuel_per_minute: 2_000_000_000_000,
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

/// The live counters.
pub struct Quotas {
    config: QuotaConfig,
    tenants: DefaultKeyedRateLimiter<String>,
    actors: DefaultKeyedRateLimiter<String>,
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    fuel: Mutex<HashMap<String, (Instant, u64)>>,
}

fn quota(per_second: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(per_second).max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

const FUEL_WINDOW: Duration = Duration::from_secs(60);

impl Quotas {
    /// Counters for `config`.
    pub fn new(config: &QuotaConfig) -> Quotas {
        Quotas {
            tenants: governor::RateLimiter::keyed(quota(
                config.tenant_requests_per_second,
                config.tenant_burst,
            )),
            actors: governor::RateLimiter::keyed(quota(
                config.actor_requests_per_second,
                config.actor_burst,
            )),
            config: config.clone(),
            slots: Mutex::new(HashMap::new()),
            fuel: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `actor` in `tenant`.
    pub fn request(&self, tenant: &str, actor: &str) -> Result<(), Exceeded> {
        let clock = governor::clock::DefaultClock::default();
        use governor::clock::Clock;
        if let Err(not_until) = self.tenants.check_key(&tenant.to_owned()) {
            return Err(Exceeded {
                what: format!(
                    "this tenant's request rate ({} per second)",
                    self.config.tenant_requests_per_second
                ),
                retry_after: not_until.wait_time_from(clock.now()),
            });
        }
        let key = format!("{tenant}/{actor}");
        if let Err(not_until) = self.actors.check_key(&key) {
            return Err(Exceeded {
                what: format!(
                    "your request rate ({} per second)",
                    self.config.actor_requests_per_second
                ),
                retry_after: not_until.wait_time_from(clock.now()),
            });
        }
        Ok(())
    }

    /// Takes one of the tenant's concurrent-call slots and checks its fuel budget; the slot is
    /// held until the permit drops.
    pub fn start_call(&self, tenant: &str) -> Result<OwnedSemaphorePermit, Error> {
        {
            let mut fuel = self.fuel.lock().unwrap_or_else(|p| p.into_inner());
            let entry = fuel.entry(tenant.to_owned()).or_insert((Instant::now(), 0));
            if entry.0.elapsed() >= FUEL_WINDOW {
                *entry = (Instant::now(), 0);
            }
            if entry.1 >= self.config.tenant_fuel_per_minute {
                return Err(Error::RateLimited(Exceeded {
                    what: format!(
                        "this tenant's fuel budget ({} per minute)",
                        self.config.tenant_fuel_per_minute
                    ),
                    retry_after: FUEL_WINDOW.saturating_sub(entry.0.elapsed()),
                }));
            }
        }
        let sem = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots
                .entry(tenant.to_owned())
                .or_insert_with(|| {
                    Arc::new(Semaphore::new(
                        self.config.tenant_concurrent_calls.max(1) as usize
                    ))
                })
                .clone()
        };
        sem.try_acquire_owned().map_err(|_| {
            Error::RateLimited(Exceeded {
                what: format!(
                    "this tenant's concurrent sandbox calls ({})",
                    self.config.tenant_concurrent_calls
                ),
                retry_after: Duration::from_secs(1),
            })
        })
    }

    /// Adds fuel a finished call burned to its tenant's budget.
    pub fn burned(&self, tenant: &str, fuel: u64) {
        let mut map = self.fuel.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(tenant.to_owned()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= FUEL_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(fuel);
    }
}
