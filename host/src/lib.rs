//! Warden runs untrusted, user-supplied logic for AI applications — prompt templates, PII
//! detectors and Python code steps — as WebAssembly components under hard fuel, memory,
//! time and output limits.
//!
//! This library is the `warden` binary's core, public so that tests and benchmarks drive the
//! real code: [`engine`] (the sandbox), [`builtins`] (the embedded components), [`cli`] (the
//! command line), [`server`] with [`api`] (HTTP), the services behind it ([`registry`],
//! [`pii`], [`sessions`]) and [`storage`] (redb and the audit chain).

pub mod api;
pub mod app;
pub mod auth;
pub mod builtins;
pub mod cli;
pub mod client;
pub mod config;
pub mod documents;
pub mod engine;
pub mod error;
pub mod fuzzing;
pub mod metrics;
pub mod names;
pub mod pii;
pub mod pipelines;
pub mod quota;
pub mod registry;
pub mod scaffold;
pub mod server;
pub mod sessions;
pub mod storage;
pub mod tenants;
