//! The registries: uploaded plugins and versioned prompt templates, stored in redb.
//!
//! **API Boundary:** nothing here sees HTTP types; operations take a [`crate::auth::Principal`]
//! and return [`crate::error::Error`].

pub mod approvals;
pub mod compose;
pub mod diff;
pub mod plugins;
pub mod schema;
pub mod templates;
pub mod versioned;
