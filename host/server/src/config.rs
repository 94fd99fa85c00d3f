//! The server's configuration: defaults, then a TOML file, then `WARDEN_*` environment
//! variables, then command-line flags, each overriding the one before.
//!
//! Configuration is checked completely before anything starts: an unknown key, a value of the
//! wrong type or an out-of-range setting stops start-up with a message naming the key. Secrets
//! (the vault master key) are masked whenever the configuration is printed or logged.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use warden_core::auth::AuthConfig;
use warden_core::pii::service::PiiConfig;
use warden_core::sandbox::LimitsConfig;
use warden_core::sessions::SessionsConfig;
use warden_core::settings::Invalid;

/// The complete server configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Listening, data directory, request limits.
    pub server: ServerConfig,
    /// Where the state lives: the embedded redb file, or PostgreSQL for replicas.
    pub storage: StorageConfig,
    /// Sandbox limits: what a call gets by default and the most it may ask for.
    pub limits: LimitsConfig,
    /// Python (code-runner) sessions.
    pub sessions: SessionsConfig,
    /// PII vaults.
    pub pii: PiiConfig,
    /// Authentication.
    pub auth: AuthConfig,
    /// Abuse limits per tenant and actor.
    pub quota: warden_core::quota::QuotaConfig,
    /// Cross-origin access (off unless origins are listed).
    pub cors: CorsConfig,
    /// LLM providers pipelines may call (`[providers.NAME]`); no other host is reachable.
    pub providers: warden_core::pipelines::llm::Providers,
    /// Pipeline budgets.
    pub pipelines: warden_core::pipelines::PipelinesConfig,
    /// The OpenAI-compatible gateway (`/v1/openai`): which models it offers and how they route.
    pub gateway: warden_core::gateway::GatewayConfig,
}

/// Which database holds the state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// One redb file in the data directory, for one machine (the default).
    #[default]
    Redb,
    /// A PostgreSQL database (or a Postgres-compatible service) shared by replicas.
    Postgres,
}

/// Where the state lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `redb` (the default: `DATA_DIR/warden.redb`) or `postgres`.
    pub backend: StorageBackend,
    /// With `postgres`: the database URL, `postgres://USER:PASSWORD@HOST:PORT/DB` (set it with
    /// `WARDEN_STORAGE__URL` to keep the password out of files); `?sslmode=require` (or
    /// `verify-full`) connects over TLS and verifies the server's certificate against the
    /// system roots or `sslrootcert=PATH`.
    pub url: Option<String>,
    /// Connections each replica keeps in its pool.
    pub pool_size: usize,
    /// Longest a statement (lock waits included) may run before the database cancels it.
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
    /// Longest a connection attempt, or a wait for a free pooled connection, may take.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            backend: StorageBackend::Redb,
            url: None,
            pool_size: 16,
            statement_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl StorageConfig {
    /// The PostgreSQL options, when the backend is `postgres`.
    pub fn postgres(&self) -> Option<warden_storage::postgres::PgOptions> {
        match (self.backend, &self.url) {
            (StorageBackend::Postgres, Some(url)) => Some(warden_storage::postgres::PgOptions {
                url: url.clone(),
                pool_size: self.pool_size,
                statement_timeout: self.statement_timeout,
                connect_timeout: self.connect_timeout,
            }),
            _ => None,
        }
    }

    fn validate(&self) -> Result<(), Invalid> {
        use warden_core::settings::invalid;
        match (self.backend, &self.url) {
            (StorageBackend::Redb, Some(_)) => invalid(
                "storage.url",
                "is set, but storage.backend is `redb`; set storage.backend = \"postgres\" to use it",
            ),
            (StorageBackend::Postgres, None) => invalid(
                "storage.url",
                "must be set when storage.backend is `postgres` (postgres://USER:PASSWORD@HOST/DB; \
                 WARDEN_STORAGE__URL)",
            ),
            (StorageBackend::Postgres, Some(u))
                if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) =>
            {
                invalid("storage.url", "must be a postgres:// or postgresql:// URL")
            }
            _ if self.pool_size == 0 || self.pool_size > 1000 => {
                invalid("storage.pool_size", "must be between 1 and 1000")
            }
            _ if self.statement_timeout < Duration::from_millis(100) => {
                invalid("storage.statement_timeout", "must be at least 100ms")
            }
            _ if self.connect_timeout < Duration::from_millis(100) => {
                invalid("storage.connect_timeout", "must be at least 100ms")
            }
            _ => Ok(()),
        }
    }
}

/// Cross-origin resource sharing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Origins (`https://app.example.com`) allowed to call the API from a browser; empty means
    /// no cross-origin access at all.
    pub allowed_origins: Vec<String>,
}

/// Where and how the HTTP server runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory holding the database, the compiled-component cache and the master key.
    pub data_dir: PathBuf,
    /// Where compiled components are cached [default: DATA_DIR/cache]; servers may share one.
    pub cache_dir: Option<PathBuf>,
    /// How long shutdown waits for in-flight requests.
    #[serde(with = "humantime_serde")]
    pub grace_period: Duration,
    /// Largest request body accepted, bytes (plugin uploads have their own cap).
    pub max_body_bytes: u64,
    /// Largest plugin upload accepted, bytes.
    pub max_upload_bytes: u64,
    /// Longest a request may take before it is answered with a timeout.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Sandbox calls running at once; more wait their turn.
    pub max_concurrent_calls: usize,
    /// Bytes of the pages a call dirtied that each sandbox slot resets by copying the snapshot
    /// back instead of unmapping them, so the next fresh instance faults none of them in (at
    /// most 256 MiB). The 1 MiB default covers what a built-in call writes (a 1 KB PII call:
    /// about 520 KiB); raise it for plugins that write more, at up to this much memory per
    /// concurrent call.
    pub keep_resident_bytes: u64,
    /// Longest a call waits for a sandbox slot before it is answered 503 with `Retry-After`.
    /// The wait counts against the call's own wall-clock limit.
    #[serde(with = "humantime_serde")]
    pub max_queue_wait: Duration,
    /// Connections served at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Connections one source address (an IPv4 address, or an IPv6 /64) may hold at once, so
    /// one client cannot take every slot; a connection over it is closed as soon as it is
    /// accepted. Unset: the smaller of 64 and `max_connections`. At most `max_connections`.
    pub max_connections_per_ip: Option<usize>,
    /// Largest request head (request line plus headers), bytes; more is answered with 431.
    pub max_header_bytes: usize,
    /// Most headers one request may carry; more is answered with 431.
    pub max_headers: usize,
    /// Longest request target (path and query), bytes; longer is answered with 414.
    pub max_uri_bytes: usize,
    /// How long a client may take to send a complete request head (slow-loris guard): the
    /// clock starts when the connection is accepted (so the TLS handshake counts) and, on a
    /// kept-alive connection, at the first byte of each further request.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may sit idle between requests before it is closed.
    #[serde(with = "humantime_serde")]
    pub keep_alive_timeout: Duration,
    /// TLS certificate chain (PEM); with `tls_key`, the server speaks only HTTPS and sends HSTS.
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
}

impl ServerConfig {
    /// The per-source connection cap in force: the configured one, or the smaller of 64 and
    /// `max_connections`.
    pub fn connections_per_ip(&self) -> usize {
        self.max_connections_per_ip
            .unwrap_or(DEFAULT_CONNECTIONS_PER_IP.min(self.max_connections))
    }
}

/// The per-source connection cap when `server.max_connections_per_ip` is unset (capped by
/// `server.max_connections`).
pub const DEFAULT_CONNECTIONS_PER_IP: usize = 64;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./warden-data"),
            cache_dir: None,
            grace_period: Duration::from_secs(10),
            max_body_bytes: 1 << 20,
            max_upload_bytes: 50 << 20,
            request_timeout: Duration::from_secs(60),
            max_concurrent_calls: 64,
            keep_resident_bytes: warden_engine::DEFAULT_KEEP_RESIDENT,
            max_queue_wait: Duration::from_secs(10),
            max_connections: 1024,
            max_connections_per_ip: None,
            max_header_bytes: 16 << 10,
            max_headers: 100,
            max_uri_bytes: 8 << 10,
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(60),
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// Why the configuration cannot be used; the message names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file given with `--config` does not exist or cannot be read.
    #[error("cannot read the configuration file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A value could not be parsed (figment's message names the key and where it came from).
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// A value parsed but is out of range (the message names the key).
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Invalid),
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--tls-cert`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`.
    pub tls_key: Option<PathBuf>,
}

/// Environment variables that belong to the CLI, not to this configuration.
const NOT_CONFIG_ENV: &[&str] = &["LOG", "CACHE_DIR", "CONFIG"];

impl Config {
    /// Builds the effective configuration from all layers and checks it.
    pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<Config, ConfigError> {
        Self::load_from(file, flags, Env::prefixed("WARDEN_"))
    }

    fn load_from(
        file: Option<&Path>,
        flags: &FlagOverrides,
        env: Env,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
                path: path.to_owned(),
                source,
            })?;
            figment = figment.merge(Toml::string(&text));
        }
        figment = figment.merge(env.ignore(NOT_CONFIG_ENV).split("__"));
        if let Some(listen) = flags.listen {
            figment = figment.merge(Serialized::default("server.listen", listen));
        }
        if let Some(dir) = &flags.data_dir {
            figment = figment.merge(Serialized::default("server.data_dir", dir));
        }
        if let Some(p) = &flags.tls_cert {
            figment = figment.merge(Serialized::default("server.tls_cert", p));
        }
        if let Some(p) = &flags.tls_key {
            figment = figment.merge(Serialized::default("server.tls_key", p));
        }
        let config: Config = figment.extract().map_err(|e| {
            ConfigError::Parse(
                e.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges and relations the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn bad(key: &'static str, message: impl Into<String>) -> Result<(), ConfigError> {
            Ok(warden_core::settings::invalid(key, message)?)
        }
        let s = &self.server;
        if s.data_dir.as_os_str().is_empty() {
            return bad("server.data_dir", "must not be empty");
        }
        if s.max_body_bytes < 1024 {
            return bad("server.max_body_bytes", "must be at least 1024");
        }
        if s.max_upload_bytes < 1024 {
            return bad("server.max_upload_bytes", "must be at least 1024");
        }
        if s.max_queue_wait.is_zero() {
            return bad("server.max_queue_wait", "must be more than zero");
        }
        if s.max_concurrent_calls == 0 {
            return bad("server.max_concurrent_calls", "must be at least 1");
        }
        if s.keep_resident_bytes > 256 << 20 {
            return bad(
                "server.keep_resident_bytes",
                "must be at most 268435456 (256 MiB)",
            );
        }
        if s.request_timeout < Duration::from_millis(100) {
            return bad("server.request_timeout", "must be at least 100ms");
        }
        if s.max_connections == 0 {
            return bad("server.max_connections", "must be at least 1");
        }
        // hyper's read buffer cannot be smaller than 8 KiB.
        if s.max_header_bytes < 8192 {
            return bad("server.max_header_bytes", "must be at least 8192");
        }
        if s.max_headers == 0 {
            return bad("server.max_headers", "must be at least 1");
        }
        if s.max_uri_bytes < 256 {
            return bad("server.max_uri_bytes", "must be at least 256");
        }
        if s.header_read_timeout < Duration::from_millis(100) {
            return bad("server.header_read_timeout", "must be at least 100ms");
        }
        if s.keep_alive_timeout < Duration::from_millis(100) {
            return bad("server.keep_alive_timeout", "must be at least 100ms");
        }
        match s.max_connections_per_ip {
            Some(0) => return bad("server.max_connections_per_ip", "must be at least 1"),
            Some(n) if n > s.max_connections => {
                return bad(
                    "server.max_connections_per_ip",
                    format!(
                        "({n}) must not be above server.max_connections ({})",
                        s.max_connections
                    ),
                );
            }
            _ => {}
        }
        match (&s.tls_cert, &s.tls_key) {
            (Some(_), None) => return bad("server.tls_key", "must be set with server.tls_cert"),
            (None, Some(_)) => return bad("server.tls_cert", "must be set with server.tls_key"),
            _ => {}
        }
        self.storage.validate()?;
        if self.storage.backend == StorageBackend::Postgres {
            // Replicas share one database: a secret one machine generated for itself would not
            // be the others'.
            if self.pii.master_key.is_none() {
                return bad(
                    "pii.master_key",
                    "must be set when storage.backend is `postgres`: every replica needs the \
                     same vault master key (WARDEN_PII__MASTER_KEY, base64 of 32 bytes)",
                );
            }
            if self.auth.keys.is_empty() {
                return bad(
                    "auth.keys",
                    "must list the token verification keys when storage.backend is `postgres`: \
                     a bootstrap secret generated on one replica would not be the others'",
                );
            }
            if let Some(k) = self.auth.keys.iter().find_map(|k| {
                k.secret_file
                    .as_ref()
                    .filter(|f| !f.exists())
                    .map(|f| f.display().to_string())
            }) {
                return bad(
                    "auth.keys.secret_file",
                    format!(
                        "({k}) does not exist: with storage.backend `postgres` it is not created, \
                         since a secret generated on one replica would not be the others' (mount \
                         the same secret on every replica)"
                    ),
                );
            }
        }
        self.quota.validate()?;
        self.limits.validate()?;
        self.sessions.validate()?;
        self.pii.validate()?;
        for o in &self.cors.allowed_origins {
            let ok = (o.starts_with("https://") || o.starts_with("http://"))
                && !o.ends_with('/')
                && o != "*"
                && axum::http::HeaderValue::from_str(o).is_ok();
            if !ok {
                return bad(
                    "cors.allowed_origins",
                    format!(
                        "`{o}` is not an origin such as https://app.example.com (no wildcards)"
                    ),
                );
            }
        }
        warden_core::pipelines::llm::validate_providers(&self.providers)?;
        self.gateway.validate(&self.providers)?;
        self.pipelines.validate()?;
        self.auth.validate()?;
        Ok(())
    }

    /// The configuration with secrets replaced by `********`, for printing and logs.
    pub fn masked(&self) -> Config {
        let mut c = self.clone();
        if c.pii.master_key.is_some() {
            c.pii.master_key = Some("********".into());
        }
        if let Some(u) = &c.storage.url {
            c.storage.url = Some(warden_storage::postgres::redact_url(u));
        }
        for k in &mut c.auth.keys {
            if k.secret.is_some() {
                k.secret = Some("********".into());
            }
        }
        c
    }

    /// The masked configuration as TOML, what `warden config` prints.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(&self.masked())
            .unwrap_or_else(|e| format!("# cannot print the configuration: {e}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("warden.toml");
        std::fs::write(&file, toml).unwrap();
        Config::load_from(
            Some(&file),
            &FlagOverrides::default(),
            Env::prefixed("WARDEN_TEST_NEVER_SET_"),
        )
    }

    #[test]
    fn file_values_override_defaults() {
        let c = load("[server]\nlisten = \"127.0.0.1:9999\"\n").unwrap();
        assert_eq!(c.server.listen.port(), 9999);
        assert_eq!(c.server.data_dir, PathBuf::from("./warden-data"));
    }

    #[test]
    fn unknown_key_is_named() {
        let e = load("[server]\nlisen = \"127.0.0.1:9999\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lisen"), "{e}");
    }

    #[test]
    fn wrong_type_is_named() {
        let e = load("[server]\nmax_body_bytes = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_body_bytes"), "{e}");
    }

    #[test]
    fn out_of_range_is_named() {
        let e = load("[limits.defaults]\nfuel = 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("limits.defaults"), "{e}");
        let e = load("[pii]\nmaster_key = \"short\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pii.master_key"), "{e}");
        let e = load("[server]\nkeep_resident_bytes = 1073741824\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.keep_resident_bytes"), "{e}");
        let c = load("[server]\nkeep_resident_bytes = 16777216\n").unwrap();
        assert_eq!(c.server.keep_resident_bytes, 16 << 20);
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail's signature, not ours
    fn env_overrides_file_and_flags_override_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("warden.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:1111\"\n").unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("WARDEN_SERVER__LISTEN", "127.0.0.1:2222");
            jail.set_env("WARDEN_LOG", "debug");
            let c = Config::load(Some(&file), &FlagOverrides::default()).unwrap();
            assert_eq!(c.server.listen.port(), 2222);
            let flags = FlagOverrides {
                listen: Some("127.0.0.1:3333".parse().unwrap()),
                ..FlagOverrides::default()
            };
            let c = Config::load(Some(&file), &flags).unwrap();
            assert_eq!(c.server.listen.port(), 3333);
            Ok(())
        });
    }

    #[test]
    fn tls_needs_both_files_and_quota_defaults_stay_under_caps() {
        let e = load("[server]\ntls_cert = \"cert.pem\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.tls_key"), "{e}");
        let e = load("[quota.defaults]\nconcurrent_calls = 100000\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("quota.defaults") && e.contains("concurrent_calls"),
            "{e}"
        );
    }

    #[test]
    fn connection_caps_are_checked_together() {
        let c = load("[server]\nmax_connections = 20\n").unwrap();
        assert_eq!(c.server.connections_per_ip(), 20);
        assert_eq!(Config::default().server.connections_per_ip(), 64);
        let e = load("[server]\nmax_connections = 20\nmax_connections_per_ip = 21\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("server.max_connections_per_ip") && e.contains("server.max_connections"),
            "{e}"
        );
        let e = load("[server]\nkeep_alive_timeout = \"1ms\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.keep_alive_timeout"), "{e}");
    }

    #[test]
    fn secrets_are_masked() {
        let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]);
        let c = load(&format!("[pii]\nmaster_key = \"{key}\"\n")).unwrap();
        let printed = c.to_toml();
        assert!(!printed.contains(&key), "{printed}");
        assert!(printed.contains("********"));
    }
}
