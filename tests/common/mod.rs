//! Shared helpers for the black-box tests: building test-only components from source and
//! locating the real `warden` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod python;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The precompiled-component cache the test binaries share.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("test-cache")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("plugins")
}

/// Builds the test fixture crate `tests/fixtures/<name>` for wasm32-wasip2 (once per test
/// process) and returns the path of its component.
pub fn fixture(name: &str) -> PathBuf {
    component(
        &format!("warden-fixture-{name}"),
        &format!("warden_fixture_{name}"),
    )
}

/// Builds the workspace package `package` for wasm32-wasip2 with the `plugin` profile (once per
/// test process; one package per cargo invocation, so features never unify across components)
/// and returns the path of its component, `<stem>.wasm`.
pub fn component(package: &str, stem: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(package) {
        return p.clone();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root())
        .args([
            "build",
            "--quiet",
            "--package",
            package,
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
            "--target-dir",
        ])
        .arg(target_dir())
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .status()
        .expect("running cargo to build a component");
    assert!(status.success(), "building {package} failed");
    let path = target_dir().join(format!("wasm32-wasip2/plugin/{stem}.wasm"));
    assert!(
        path.exists(),
        "component {} missing after build",
        path.display()
    );
    built.insert(package.to_owned(), path.clone());
    path
}

/// An HTTP client (https capable: the process's rustls provider is ring, as in `warden`).
pub fn http() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::new()
}

/// Reads a fixture's bytes.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

/// The findings of a detect response as (entity type, the text they cover) pairs; their
/// offsets are UTF-8 byte offsets into `text`.
pub fn found_in(d: &serde_json::Value, text: &str) -> Vec<(String, String)> {
    d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let (a, b) = (
                f["start"].as_u64().unwrap() as usize,
                f["end"].as_u64().unwrap() as usize,
            );
            (
                f["entity_type"].as_str().unwrap().to_owned(),
                text[a..b].to_owned(),
            )
        })
        .collect()
}

/// Asserts what the `nz-uk-ids` example detectors (Rust and Python) find, beside the
/// built-in, in a text with `ada@example.com`, `49-091-850`, `AB 12 34 56 C` and the order
/// number `12345678` (which nobody may report).
pub fn assert_nz_uk_ids_found(d: &serde_json::Value, text: &str) {
    let found = found_in(d, text);
    let has = |t: &str, v: &str| found.iter().any(|(e, s)| e == t && s == v);
    assert!(has("EMAIL_ADDRESS", "ada@example.com"), "{found:?}");
    assert!(has("NZ_IRD", "49-091-850"), "{found:?}");
    assert!(has("UK_NINO", "AB 12 34 56 C"), "{found:?}");
    assert!(!found.iter().any(|(_, s)| s == "12345678"), "{found:?}");
}

/// A real `warden serve` on an ephemeral loopback port with its own data directory, sharing
/// the test compiled-component cache. Killed on drop.
pub struct Server {
    child: Option<std::process::Child>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The data directory (kept across [`Server::restart`]).
    pub data: std::sync::Arc<tempfile::TempDir>,
    extra: String,
    client: reqwest::blocking::Client,
    /// The bearer token requests carry (every role, tenant `default`) unless changed.
    pub token: String,
}

/// Whether the black-box servers run on PostgreSQL (`TEST_STORAGE_BACKEND=postgres`, which
/// `make test` sets for a second pass of the server suite) instead of the embedded redb.
pub fn on_postgres() -> bool {
    std::env::var("TEST_STORAGE_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The vault master key of the test servers on PostgreSQL (the backend requires one).
pub const TEST_MASTER_KEY: &str = "d2FyZGVuLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg=";

/// A new, empty database on this test process's throw-away PostgreSQL cluster.
pub fn new_database() -> String {
    warden_storage::pg_cluster::shared().create_database()
}

/// The database of the server on data directory `dir`: created with the directory (and
/// remembered in it, so a restart on the same directory finds the same state).
pub fn database_of(dir: &Path) -> String {
    let file = dir.join("test-database-url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return url;
    }
    let url = new_database();
    std::fs::write(&file, &url).unwrap();
    url
}

/// Points a `warden` command at PostgreSQL database `url`, with the test master key.
pub fn on_database(cmd: &mut Command, url: &str) {
    cmd.env("WARDEN_STORAGE__BACKEND", "postgres")
        .env("WARDEN_STORAGE__URL", url)
        .env("WARDEN_STORAGE__POOL_SIZE", "4")
        .env("WARDEN_PII__MASTER_KEY", TEST_MASTER_KEY);
}

/// The HS256 secret every test server accepts (kid `test`).
pub const TEST_SECRET: &[u8; 32] = b"warden-test-secret-0123456789abc";

/// Every role.
pub const ALL_ROLES: &[&str] = &["admin", "author", "operator", "auditor", "pii-reader"];

/// A valid token for the test servers.
pub fn token(tenant: &str, sub: &str, roles: &[&str]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    sign(&serde_json::json!({
        "sub": sub, "tenant": tenant, "roles": roles, "exp": now + 3600, "nbf": now - 5
    }))
}

/// Signs arbitrary claims with the test secret (kid `test`).
pub fn sign(claims: &serde_json::Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("test".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET),
    )
    .unwrap()
}

impl Server {
    /// Starts a server with default configuration.
    pub fn start() -> Server {
        Server::with_config("")
    }

    /// Starts a server with extra TOML configuration.
    pub fn with_config(extra: &str) -> Server {
        let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
        Server::launch(data, extra)
    }

    /// Starts a server (with its own data directory) on PostgreSQL database `url`: one of
    /// several replicas when others use the same URL.
    pub fn on_database(url: &str, extra: &str) -> Server {
        Server::on_database_with_key(url, TEST_MASTER_KEY, extra)
    }

    /// Like [`Server::on_database`], with vault master key `key` (base64).
    pub fn on_database_with_key(url: &str, key: &str, extra: &str) -> Server {
        let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
        std::fs::write(data.path().join("test-database-url"), url).unwrap();
        std::fs::write(data.path().join("test-master-key"), key.trim()).unwrap();
        Server::launch(data, extra)
    }

    fn launch(data: std::sync::Arc<tempfile::TempDir>, extra: &str) -> Server {
        use std::io::BufRead;
        let config = data.path().join("warden.toml");
        std::fs::write(
            &config,
            format!(
                "{extra}\n[[auth.keys]]\nkid = \"test\"\nalgorithm = \"HS256\"\nsecret = \"{}\"\n",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, TEST_SECRET)
            ),
        )
        .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(data.path())
            .env("WARDEN_SERVER__CACHE_DIR", cache_dir().join("server"))
            .env("WARDEN_LOG", "warn");
        if on_postgres() || data.path().join("test-database-url").exists() {
            on_database(&mut cmd, &database_of(data.path()));
            if let Ok(key) = std::fs::read_to_string(data.path().join("test-master-key")) {
                cmd.env("WARDEN_PII__MASTER_KEY", key);
            }
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("starting warden serve");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("warden listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .unwrap();
        let server = Server {
            child: Some(child),
            url,
            data,
            extra: extra.to_owned(),
            client,
            token: token("default", "tester", ALL_ROLES),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
        loop {
            if let Ok(r) = server.client.get(format!("{}/readyz", server.url)).send()
                && r.status() == 200
            {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "server not ready in time"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        server
    }

    /// Stops the server with SIGTERM and waits; returns its exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server already stopped");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().unwrap()
    }

    /// Stops the server and starts a new one on the same data directory.
    pub fn restart(mut self) -> Server {
        let status = self.stop();
        assert!(status.success(), "graceful stop failed: {status:?}");
        let data = self.data.clone();
        let extra = self.extra.clone();
        Server::launch(data, &extra)
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.data.path().join("warden.redb")
    }

    /// Sends a request; returns status and JSON body (Null when empty or not JSON).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        self.call_as(Some(&self.token), method, path, body)
    }

    /// Sends a request with another bearer token (or none).
    pub fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::parse(req.send().unwrap())
    }

    /// This server's HTTP client (cheap to clone), for requests sent without holding it.
    pub fn clone_client(&self) -> reqwest::blocking::Client {
        self.client.clone()
    }

    /// One request to the server at `url`; a connection failure (a server that died) is
    /// returned, not a panic, so a client can retry on another replica.
    pub fn send_with(
        client: &reqwest::blocking::Client,
        url: &str,
        token: &str,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), reqwest::Error> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = client
            .request(method, format!("{url}{path}"))
            .timeout(std::time::Duration::from_secs(60))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().map(Self::parse)
    }

    /// Sends raw bytes with headers.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        self.raw_as(&self.token, method, path, headers, body)
    }

    /// Sends raw bytes with headers and another bearer token.
    pub fn raw_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token)
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::parse(req.send().unwrap())
    }

    /// Uploads a component as `name@version` with another bearer token; returns the status.
    pub fn upload_as(&self, token: &str, name: &str, version: &str, bytes: Vec<u8>) -> u16 {
        let path = format!("/v1/plugins/{name}/versions/{version}");
        self.raw_as(
            token,
            "POST",
            &path,
            &[("content-type", "application/wasm")],
            bytes,
        )
        .0
    }

    /// POSTs a YAML export to an import endpoint (`/v1/templates/import`,
    /// `/v1/pipelines/import`) with another bearer token.
    pub fn import_as(&self, token: &str, path: &str, yaml: &str) -> (u16, serde_json::Value) {
        self.raw_as(
            token,
            "POST",
            path,
            &[("content-type", "application/yaml")],
            yaml.as_bytes().to_vec(),
        )
    }

    /// GET returning the body as text.
    pub fn text(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    }

    fn parse(r: reqwest::blocking::Response) -> (u16, serde_json::Value) {
        let status = r.status().as_u16();
        let is_error = status >= 400;
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let openai = r.url().path().starts_with("/v1/openai/");
        let text = r.text().unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        if is_error && openai {
            // OpenAI's routes answer OpenAI error objects, made from the same problem.
            assert_eq!(ct, "application/json", "error {status}: {text}");
            for field in ["message", "type", "code", "warden_type"] {
                assert!(
                    json["error"].get(field).is_some(),
                    "error without {field}: {text}"
                );
            }
            return (status, json);
        }
        if is_error {
            assert_eq!(
                ct, "application/problem+json",
                "error {status} is not a problem document: {text}"
            );
        }
        if is_error {
            for field in ["type", "title", "status", "detail"] {
                assert!(json.get(field).is_some(), "problem without {field}: {text}");
            }
            assert_eq!(json["status"], status);
        }
        (status, json)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Server {
    /// Kills the server with SIGKILL — no shutdown, no flush — and returns what a restart needs.
    pub fn crash(mut self) -> (std::sync::Arc<tempfile::TempDir>, String) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        (self.data.clone(), self.extra.clone())
    }

    /// Starts a server on an existing data directory with the given extra configuration.
    pub fn start_on(data: std::sync::Arc<tempfile::TempDir>, extra: &str) -> Server {
        Server::launch(data, extra)
    }

    /// Starts a new server on a stopped server's data directory and configuration.
    pub fn launch_on(other: &Server) -> Server {
        Server::launch(other.data.clone(), &other.extra)
    }
}

/// A child process killed (and reaped) on drop, so a failing assertion leaves no server behind.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl KillOnDrop {
    /// Stops the process with SIGTERM and waits; returns its exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        self.0.wait().unwrap()
    }
}

/// `warden serve` on an ephemeral loopback port with the shared compiled-component cache and
/// warnings-only logs; the caller adds the configuration, data directory and pipes.
pub fn serve_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("WARDEN_SERVER__CACHE_DIR", cache_dir().join("server"))
        .env("WARDEN_LOG", "warn");
    cmd
}

/// Reads the server's first stdout line and returns what follows `warden listening on `.
pub fn listening_on(stdout: &mut impl std::io::BufRead) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    line.trim()
        .strip_prefix("warden listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned()
}
