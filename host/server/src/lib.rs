//! Warden's HTTP server: loads the configuration ([`config`]), assembles the services of
//! `warden-core` in one place ([`app`]), serves the `/v1` API ([`api`]) on its own accept loop
//! with connection, header and TLS limits ([`listen`]).
//!
//! **Architecture Invariant:** this is the only crate that knows HTTP and how configuration is
//! loaded; the services never see a request, a route or a figment provider.

pub mod api;
pub mod app;
pub mod config;
pub mod listen;
