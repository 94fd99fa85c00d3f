//! Per-call resource limits, and the host-wide ceilings that per-call requests are clamped to.
//!
//! Limits are plain `Copy` data handed to the engine with every call: there are no globals, and
//! tests set tiny values. Each limit is enforced by a different mechanism: fuel by wasmtime's
//! fuel metering (CPU work, deterministic), memory by a `ResourceLimiter` on the store, the
//! wall-clock deadline by epoch interruption (a ticker thread), output size by the host when it
//! lifts results and by the bounded stdout/stderr pipes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The limits one call runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Wasm fuel (roughly one unit per instruction) the call may burn.
    pub fuel: u64,
    /// Bytes of linear memory the instance may hold in total (all memories).
    pub memory_bytes: u64,
    /// Wall-clock time from the start of the call, instantiation included.
    #[serde(with = "millis")]
    pub wall_time: Duration,
    /// Bytes of result the host accepts (a rendered template, the findings, eval output).
    pub output_bytes: u64,
    /// Bytes of stdout/stderr kept as plugin logs; more is dropped and flagged as truncated.
    pub log_bytes: u64,
}

impl Default for Limits {
    /// Sized for prompt-sized work: the built-ins need well under 16 MiB and a few million fuel
    /// on kilobyte inputs, so the defaults leave headroom without letting a plugin hog the host.
    fn default() -> Self {
        Limits {
            fuel: 2_000_000_000,
            memory_bytes: 64 << 20,
            wall_time: Duration::from_secs(1),
            output_bytes: 4 << 20,
            log_bytes: 64 << 10,
        }
    }
}

impl Limits {
    /// The same limits with every field lowered to at most `caps`.
    pub fn clamp_to(self, caps: &Limits) -> Limits {
        Limits {
            fuel: self.fuel.min(caps.fuel),
            memory_bytes: self.memory_bytes.min(caps.memory_bytes),
            wall_time: self.wall_time.min(caps.wall_time),
            output_bytes: self.output_bytes.min(caps.output_bytes),
            log_bytes: self.log_bytes.min(caps.log_bytes),
        }
    }

    /// Applies the fields set in `overrides` on top of these limits.
    pub fn with(self, overrides: &LimitOverrides) -> Limits {
        Limits {
            fuel: overrides.fuel.unwrap_or(self.fuel),
            memory_bytes: overrides.memory_bytes.unwrap_or(self.memory_bytes),
            wall_time: overrides
                .wall_time_ms
                .map_or(self.wall_time, Duration::from_millis),
            output_bytes: overrides.output_bytes.unwrap_or(self.output_bytes),
            log_bytes: overrides.log_bytes.unwrap_or(self.log_bytes),
        }
    }

    /// The largest limits a caller may ask for on this host unless configured otherwise.
    pub fn default_caps() -> Limits {
        Limits {
            fuel: 50_000_000_000,
            memory_bytes: 512 << 20,
            wall_time: Duration::from_secs(30),
            output_bytes: 64 << 20,
            log_bytes: 1 << 20,
        }
    }
}

/// A caller's request to change some limits for one call; unset fields keep their defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// See [`Limits::fuel`].
    pub fuel: Option<u64>,
    /// See [`Limits::memory_bytes`].
    pub memory_bytes: Option<u64>,
    /// See [`Limits::wall_time`], in milliseconds.
    pub wall_time_ms: Option<u64>,
    /// See [`Limits::output_bytes`].
    pub output_bytes: Option<u64>,
    /// See [`Limits::log_bytes`].
    pub log_bytes: Option<u64>,
}

impl LimitOverrides {
    /// `top`'s fields where set, otherwise `base`'s: a request's limits over a plugin's
    /// declared defaults.
    pub fn merge(base: &LimitOverrides, top: &LimitOverrides) -> LimitOverrides {
        LimitOverrides {
            fuel: top.fuel.or(base.fuel),
            memory_bytes: top.memory_bytes.or(base.memory_bytes),
            wall_time_ms: top.wall_time_ms.or(base.wall_time_ms),
            output_bytes: top.output_bytes.or(base.output_bytes),
            log_bytes: top.log_bytes.or(base.log_bytes),
        }
    }
}

mod millis {
    //! Durations as whole milliseconds in JSON, which is what people write by hand.
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_then_clamp_to_caps() {
        let caps = Limits {
            fuel: 10,
            ..Limits::default()
        };
        let asked = LimitOverrides {
            fuel: Some(1_000),
            wall_time_ms: Some(5),
            ..Default::default()
        };
        let got = Limits::default().with(&asked).clamp_to(&caps);
        assert_eq!(got.fuel, 10);
        assert_eq!(got.wall_time, Duration::from_millis(5));
        assert_eq!(got.memory_bytes, Limits::default().memory_bytes);
    }
}
