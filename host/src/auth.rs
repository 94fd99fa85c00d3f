//! Who is calling: the tenant and the actor every handler and every stored key is scoped by.
//!
//! Until token authentication lands, every request is the anonymous local identity in tenant
//! `default`; handlers already take a [`Principal`] so nothing changes for them when it does.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::api::error::ApiError;

/// The tenant everything belongs to until tenants are configured.
pub const DEFAULT_TENANT: &str = "default";

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant whose objects the caller sees.
    pub tenant: String,
    /// The caller's name, written to the audit log.
    pub actor: String,
}

impl Principal {
    /// The anonymous local identity.
    pub fn local() -> Principal {
        Principal {
            tenant: DEFAULT_TENANT.into(),
            actor: "local".into(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Principal::local())
    }
}
