//! Warden's services: the registries, PII, pipelines, sessions, tenants, quotas and the
//! authorization policy, over the sandbox ([`warden_engine`]) and the state
//! ([`warden_storage`]).
//!
//! **Architecture Invariant:** nothing here knows HTTP, the command line or how configuration
//! is loaded: this crate does not depend on axum, hyper, tower, clap or figment. A service is a
//! struct whose dependencies are handed to its constructor; `warden-server` assembles them
//! all in one place. Every sandbox call goes through [`sandbox::Sandbox`].
//!
//! **API Boundary:** operations take a [`auth::Principal`] and return [`error::Error`]; the
//! server maps those to HTTP.

pub mod auth;
pub mod documents;
pub mod error;
pub mod gateway;
pub mod metrics;
pub mod names;
pub mod pii;
pub mod pipelines;
pub mod quota;
pub mod refs;
pub mod registry;
pub mod sandbox;
pub mod sessions;
pub mod settings;
pub mod tenants;
#[cfg(test)]
pub(crate) mod testing;
