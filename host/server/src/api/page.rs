//! Pagination and name filtering shared by every list endpoint: `limit`, `cursor` and
//! `prefix` in the query; the page is the JSON array it always was, and the next page's cursor
//! comes in a `Link: <…>; rel="next"` header (RFC 8288) and `X-Next-Cursor`.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use warden_core::error::Error;

/// Items on a page when the request does not say.
pub const DEFAULT_LIMIT: usize = 100;
/// Most items on one page.
pub const MAX_LIMIT: usize = 1000;

/// Which page of a list, and which names.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Items per page (default 100, at most 1000).
    pub limit: Option<usize>,
    /// The `X-Next-Cursor` of the previous page: items after it.
    pub cursor: Option<String>,
    /// Only names (ids) starting with this.
    pub prefix: Option<String>,
}

/// One page of a list, answered as a JSON array with the next cursor in headers.
pub struct Paged<T> {
    items: Vec<T>,
    next: Option<String>,
    limit: usize,
    prefix: Option<String>,
}

impl Page {
    /// The page of `items` (in any order) this query asks for, ordered by `key`.
    pub fn apply<T>(self, mut items: Vec<T>, key: impl Fn(&T) -> &str) -> Result<Paged<T>, Error> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(Error::BadRequest(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        items.sort_by(|a, b| key(a).cmp(key(b)));
        items.retain(|i| {
            self.prefix.as_deref().is_none_or(|p| key(i).starts_with(p))
                && self.cursor.as_deref().is_none_or(|c| key(i) > c)
        });
        let next = (items.len() > limit).then(|| key(&items[limit - 1]).to_owned());
        items.truncate(limit);
        Ok(Paged {
            items,
            next,
            limit,
            prefix: self.prefix,
        })
    }
}

/// Percent-encodes a query value (names are `[a-z0-9._-]`, but a prefix is the caller's text).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.items).into_response();
        if let Some(next) = self.next {
            let mut query = format!("cursor={}&limit={}", encode(&next), self.limit);
            if let Some(p) = &self.prefix {
                query.push_str(&format!("&prefix={}", encode(p)));
            }
            if let Ok(v) = HeaderValue::from_str(&format!("<?{query}>; rel=\"next\"")) {
                response.headers_mut().insert(header::LINK, v);
            }
            if let Ok(v) = HeaderValue::from_str(&next) {
                response.headers_mut().insert("x-next-cursor", v);
            }
        }
        response
    }
}
