//! The remote client the server-side subcommands share (`warden plugin push/ls`, `template`,
//! `pii`, `pipeline`, `api`), so the common operations against a running server need no curl.
//!
//! The server comes from `--server` or `WARDEN_SERVER` (default `http://127.0.0.1:8080`), the
//! token from `--token` or `WARDEN_TOKEN`. Responses are printed as JSON on stdout; a refused
//! request prints the server's problem document and exits 1; a local problem (a missing file,
//! an unreachable server) is one line on stderr and exit 2.

use clap::Args;
use serde_json::{Value, json};

use crate::output::{Failure, print_json};

/// Where the server is and who we are.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The server's base URL.
    #[arg(
        long,
        env = "WARDEN_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// The bearer token (see `warden token issue`).
    #[arg(long, env = "WARDEN_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
}

impl Connection {
    /// The full URL of `path` (which starts with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.trim_end_matches('/'))
    }

    /// Adds the bearer token to a request; without one, says how to get one.
    pub fn authed(
        &self,
        req: reqwest::blocking::RequestBuilder,
    ) -> Result<reqwest::blocking::RequestBuilder, Failure> {
        let token = self.token.as_deref().ok_or_else(|| {
            Failure::usage(
                "no token: pass --token or set WARDEN_TOKEN (mint one with `warden token issue`)",
            )
        })?;
        Ok(req.bearer_auth(token))
    }

    /// Sends, prints the JSON answer and maps the status to an exit code.
    pub fn finish(&self, req: reqwest::blocking::RequestBuilder) -> Result<u8, Failure> {
        let resp = req.send().map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let text = resp
            .text()
            .map_err(|e| Failure::usage(format!("reading the server's answer: {e}")))?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        print_json(&body);
        if status.is_success() {
            Ok(0)
        } else {
            let detail = body["detail"].as_str().unwrap_or("");
            let title = body["title"].as_str().unwrap_or("request refused");
            eprintln!("error: {} {title}: {detail}", status.as_u16());
            Ok(1)
        }
    }

    /// Fetches every page of a list endpoint (following `X-Next-Cursor`), prints the items as
    /// one JSON array and maps the status to an exit code, as [`Connection::finish`] does for
    /// one answer.
    pub fn list_all(&self, path: &str) -> Result<u8, Failure> {
        let http = client()?;
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut target = format!("{path}?limit=1000");
            if let Some(c) = &cursor {
                // Cursors are names and ids: `[a-z0-9._-]`, nothing to escape; refuse anything
                // else.
                if !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
                {
                    return Err(Failure::usage(format!(
                        "the server sent an unexpected cursor {c:?}"
                    )));
                }
                target.push_str("&cursor=");
                target.push_str(c);
            }
            let req = self.authed(http.get(self.url(&target)))?;
            let resp = req.send().map_err(|e| self.unreachable(&e))?;
            if !resp.status().is_success() {
                // Print the problem as a single answer would be printed.
                let req = self.authed(http.get(self.url(path)))?;
                return self.finish(req);
            }
            let next = resp
                .headers()
                .get("x-next-cursor")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let page: Value = resp
                .json()
                .map_err(|e| Failure::usage(format!("reading the server's answer: {e}")))?;
            if let Value::Array(a) = page {
                items.extend(a);
            }
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        print_json(&Value::Array(items));
        Ok(0)
    }

    /// POSTs `{"variables", "label"?, "version"?}` to the render or run endpoint of a
    /// versioned object (templates and pipelines share the shape).
    pub fn run_versioned(
        &self,
        path: &str,
        variables: Value,
        label: Option<String>,
        version: Option<u64>,
    ) -> Result<u8, Failure> {
        let mut body = json!({ "variables": variables });
        if let Some(l) = label {
            body["label"] = json!(l);
        }
        if let Some(v) = version {
            body["version"] = json!(v);
        }
        let req = self.authed(client()?.post(self.url(path)).json(&body))?;
        self.finish(req)
    }

    /// The one-line failure when the server cannot be reached.
    fn unreachable(&self, e: &reqwest::Error) -> Failure {
        Failure::usage(format!(
            "cannot reach the server at {}: {e} (is `warden serve` running? see --server)",
            self.server
        ))
    }
}

/// The HTTP client every remote command sends with (http and https, a long timeout for big
/// uploads and slow runs).
pub fn client() -> Result<reqwest::blocking::Client, Failure> {
    // One process-wide crypto provider for https servers; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .map_err(|e| Failure::usage(format!("cannot set up the HTTP client: {e}")))
}
