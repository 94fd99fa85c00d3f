//! What stored records refer to, asked across services without one decoding another's records:
//! the plugin registry asks whether a component is still pinned before it deletes the bytes,
//! the template registry whether a template is still rendered before it deletes it.
//!
//! **Architecture Invariant:** a service reads only its own tables' records; what another
//! service needs to know about them it asks through [`Referrer`], inside the same write
//! transaction as the change it guards.

use std::collections::HashSet;

use async_trait::async_trait;
use warden_storage::Tx;

use crate::error::Result;

/// One stored record that still uses a thing, for the message refusing its deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The record (`template \`t\` version 2`, `session s_…`).
    pub by: String,
    /// What the caller does about it (`it cannot be deleted`, `delete the session first`).
    pub remedy: &'static str,
}

/// A service whose stored records may pin components or render templates.
#[async_trait]
pub trait Referrer: Send + Sync {
    /// The first of `tenant`'s records that pins component `digest`, or `None`.
    async fn digest_user(&self, tx: &Tx, tenant: &str, digest: &str) -> Result<Option<Usage>>;

    /// Adds every component digest the service's records of any tenant pin to `out`.
    async fn pinned_digests(&self, tx: &Tx, out: &mut HashSet<String>) -> Result<()>;

    /// Names the first of `tenant`'s records that renders template `name` (for the refusal
    /// message), or `None`.
    async fn template_user(&self, _tx: &Tx, _tenant: &str, _name: &str) -> Result<Option<String>> {
        Ok(None)
    }
}
