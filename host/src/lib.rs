//! Warden runs untrusted, user-supplied logic for AI applications — prompt templates, PII
//! detectors and Python code steps — as WebAssembly components under hard fuel, memory,
//! time and output limits.
//!
//! This library is the `warden` binary's core, public so that tests and benchmarks drive the
//! real engine: [`engine`] (the sandbox), [`builtins`] (the embedded components) and [`cli`]
//! (the command line).

pub mod builtins;
pub mod cli;
pub mod engine;
