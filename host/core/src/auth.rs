//! Who is calling and what they may do: bearer-token authentication (JWT) and the role ×
//! action policy, decided in one place.
//!
//! Every `/v1` request carries `Authorization: Bearer <JWT>`. [`Verifier`] checks the
//! signature against the configured keys (HS256 secrets, RS256/ES256/EdDSA public keys from
//! PEM files or a JWKS file; `kid` selects), `exp` and `nbf` with a small leeway, and `iss`/`aud`
//! when configured. A key only ever verifies tokens of its own algorithm, so an HS256 token can
//! never be checked with an RSA public key used as an HMAC secret; `alg: none` does not parse.
//! [`authorize`] maps a principal and an [`Action`] to allow or deny (deny by default); the API
//! layer calls it once per request from the route's action, so handlers never check roles.

use crate::settings::Invalid;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The tenant of the bootstrap admin token.
pub const DEFAULT_TENANT: &str = "default";

/// A role a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Tenant settings, quotas, keys and everything authors and operators do.
    Admin,
    /// Uploads and deletes plugins, creates template versions, moves labels, imports.
    Author,
    /// Renders, detects, anonymises, runs sessions; reads the registry.
    Operator,
    /// Reads and verifies the audit log; reads registry metadata, never content.
    Auditor,
    /// May restore personal data from vaults (deanonymize); granted explicitly.
    PiiReader,
}

impl Role {
    /// Every role, for tests and help texts.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Author,
        Role::Operator,
        Role::Auditor,
        Role::PiiReader,
    ];

    /// The role's name in tokens.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Author => "author",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::PiiReader => "pii-reader",
        }
    }
}

impl std::str::FromStr for Role {
    // Tokens carry names; unknown ones are ignored by the verifier.
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                format!("unknown role `{s}` (admin, author, operator, auditor, pii-reader)")
            })
    }
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant whose objects the caller sees.
    pub tenant: String,
    /// The caller's name (the token's `sub`), written to the audit log.
    pub actor: String,
    /// What the caller may do.
    pub roles: BTreeSet<Role>,
}

impl Principal {
    /// Whether the caller holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// What a request wants to do; each route maps to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// List and read plugin metadata.
    PluginRead,
    /// Upload or delete plugins.
    PluginWrite,
    /// List templates, versions numbers and labels.
    TemplateList,
    /// Read template content (a version's text, diff, export).
    TemplateContent,
    /// Create versions, move labels, import.
    TemplateWrite,
    /// Render a template.
    Render,
    /// Detect or anonymise personal data.
    PiiProcess,
    /// Restore personal data from a vault.
    PiiReveal,
    /// Delete a vault.
    VaultDelete,
    /// List vaults (ids and times only).
    VaultList,
    /// Read dictionaries.
    DictionaryRead,
    /// Change dictionaries.
    DictionaryWrite,
    /// Create, use, list and delete code sessions; one-shot evals.
    CodeRun,
    /// Ask LLMs through the OpenAI-compatible gateway (`/v1/openai`).
    LlmChat,
    /// Read and verify the audit log.
    AuditRead,
    /// Read metrics.
    Metrics,
    /// Move a protected label directly, without an approved change request.
    ProtectedLabelMove,
    /// Reload signing keys and other tenant administration.
    Admin,
}

impl Action {
    /// The roles that allow the action (any one suffices).
    pub fn allowed_roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::PluginRead | Action::TemplateList => &[Admin, Author, Operator, Auditor],
            Action::TemplateContent => &[Admin, Author, Operator],
            Action::PluginWrite | Action::TemplateWrite => &[Admin, Author],
            Action::DictionaryRead => &[Admin, Author, Operator],
            Action::DictionaryWrite => &[Admin, Author],
            Action::Render | Action::PiiProcess | Action::CodeRun | Action::LlmChat => {
                &[Admin, Operator]
            }
            Action::PiiReveal => &[PiiReader],
            Action::VaultDelete | Action::VaultList => &[Admin, Operator],
            Action::AuditRead => &[Admin, Auditor],
            Action::Metrics => &[Admin, Operator, Auditor],
            Action::Admin | Action::ProtectedLabelMove => &[Admin],
        }
    }
}

/// Allows `action` if the principal holds one of its roles; denies otherwise.
pub fn authorize(p: &Principal, action: Action) -> Result<(), Error> {
    if action.allowed_roles().iter().any(|r| p.has(*r)) {
        Ok(())
    } else {
        let needed: Vec<&str> = action.allowed_roles().iter().map(|r| r.name()).collect();
        Err(Error::Forbidden(format!(
            "this needs one of the roles: {}",
            needed.join(", ")
        )))
    }
}

/// The claims Warden reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The actor.
    pub sub: String,
    /// The tenant.
    pub tenant: String,
    /// Role names; unknown names are ignored.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// Why a token was refused (the reason is audited; the response says only "invalid token" plus
/// the reason class, never echoing the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// Not a well-formed JWT (or `alg: none`, or an unsupported algorithm).
    #[error("malformed token")]
    Malformed,
    /// The `kid` names no configured key.
    #[error("unknown key id")]
    UnknownKid,
    /// No configured key uses the token's algorithm.
    #[error("no key for algorithm {0}")]
    NoKeyForAlgorithm(String),
    /// Signature, expiry, not-before, issuer or audience check failed.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Signed and valid but the claims are unusable (bad tenant name, no subject).
    #[error("invalid claims: {0}")]
    Claims(String),
    /// The header lists critical extensions (`crit`, RFC 7515 §4.1.11); Warden understands
    /// none, so such a token must be refused whatever else it says.
    #[error("the token header lists critical extensions (crit) this server does not understand")]
    UnsupportedCritical,
}

struct Key {
    kid: Option<String>,
    alg: Algorithm,
    decoding: DecodingKey,
    /// Only HS256 keys can sign (`warden token issue`, the bootstrap token).
    encoding: Option<EncodingKey>,
}

/// The configured verification keys; reloadable without a restart.
pub struct Verifier {
    keys: RwLock<Arc<Vec<Key>>>,
    config: AuthConfig,
    data_dir: PathBuf,
}

/// Why keys could not be loaded; names the key and file.
#[derive(Debug, thiserror::Error)]
#[error("auth key {which}: {message}")]
pub struct KeyError {
    which: String,
    message: String,
}

/// The bootstrap secret's file name in the data directory.
pub const BOOTSTRAP_SECRET: &str = "jwt-hs256.key";

fn key_err(which: &str, message: impl Into<String>) -> KeyError {
    KeyError {
        which: which.to_owned(),
        message: message.into(),
    }
}

fn parse_alg(s: &str) -> Option<Algorithm> {
    match s {
        "HS256" => Some(Algorithm::HS256),
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

fn load_key(i: usize, k: &KeyConfig) -> Result<Vec<Key>, KeyError> {
    let which = k.kid.clone().unwrap_or_else(|| format!("#{i}"));
    if let Some(path) = &k.jwks_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| key_err(&which, format!("cannot read {}: {e}", path.display())))?;
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&text)
            .map_err(|e| key_err(&which, format!("{} is not a JWKS: {e}", path.display())))?;
        let mut out = Vec::new();
        for jwk in &set.keys {
            let decoding = DecodingKey::from_jwk(jwk)
                .map_err(|e| key_err(&which, format!("JWKS key: {e}")))?;
            let alg = match &jwk.common.key_algorithm {
                Some(a) => parse_alg(&a.to_string()).ok_or_else(|| {
                    key_err(&which, format!("JWKS key algorithm {a} is not supported"))
                })?,
                None => match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
                    _ => {
                        return Err(key_err(
                            &which,
                            "a JWKS key without `alg` must be RSA, EC or OKP (symmetric keys are not accepted)",
                        ));
                    }
                },
            };
            if alg == Algorithm::HS256 {
                return Err(key_err(&which, "symmetric keys in a JWKS are not accepted"));
            }
            out.push(Key {
                kid: jwk.common.key_id.clone(),
                alg,
                decoding,
                encoding: None,
            });
        }
        return Ok(out);
    }
    let alg = parse_alg(&k.algorithm).ok_or_else(|| {
        key_err(
            &which,
            format!(
                "algorithm `{}` is not one of HS256, RS256, ES256, EdDSA",
                k.algorithm
            ),
        )
    })?;
    if alg == Algorithm::HS256 {
        let secret = match (&k.secret, &k.secret_file) {
            (Some(s), None) => {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s.trim())
                    .map_err(|_| key_err(&which, "secret must be base64"))?
            }
            (None, Some(path)) => crate::pii::crypto::MasterKey::load_or_create(path)
                .map_err(|e| key_err(&which, e.to_string()))?
                .0
                .expose_secret()
                .to_vec(),
            _ => {
                return Err(key_err(
                    &which,
                    "an HS256 key needs exactly one of secret, secret_file",
                ));
            }
        };
        if secret.len() < 32 {
            return Err(key_err(&which, "an HS256 secret must be at least 32 bytes"));
        }
        return Ok(vec![Key {
            kid: k.kid.clone(),
            alg,
            decoding: DecodingKey::from_secret(&secret),
            encoding: Some(EncodingKey::from_secret(&secret)),
        }]);
    }
    let path = k.pem_file.as_ref().ok_or_else(|| {
        key_err(
            &which,
            "an asymmetric key needs pem_file (or use jwks_file)",
        )
    })?;
    let pem = std::fs::read(path)
        .map_err(|e| key_err(&which, format!("cannot read {}: {e}", path.display())))?;
    let decoding = match alg {
        Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
        Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
        _ => DecodingKey::from_ed_pem(&pem),
    }
    .map_err(|e| {
        key_err(
            &which,
            format!(
                "{} is not a {} public key: {e}",
                path.display(),
                k.algorithm
            ),
        )
    })?;
    Ok(vec![Key {
        kid: k.kid.clone(),
        alg,
        decoding,
        encoding: None,
    }])
}

fn load_keys(config: &AuthConfig, data_dir: &Path) -> Result<(Vec<Key>, bool), KeyError> {
    let mut keys = Vec::new();
    for (i, k) in config.keys.iter().enumerate() {
        keys.extend(load_key(i, k)?);
    }
    let mut created = false;
    if keys.is_empty() {
        if config.require_keys {
            return Err(key_err(
                "configuration",
                "auth.require_keys is set but no key is configured in [[auth.keys]]",
            ));
        }
        let path = data_dir.join(BOOTSTRAP_SECRET);
        let (secret, new) = crate::pii::crypto::MasterKey::load_or_create(&path)
            .map_err(|e| key_err("bootstrap", e.to_string()))?;
        created = new;
        let bytes = secret.expose_secret();
        keys.push(Key {
            kid: None,
            alg: Algorithm::HS256,
            decoding: DecodingKey::from_secret(bytes),
            encoding: Some(EncodingKey::from_secret(bytes)),
        });
    }
    Ok((keys, created))
}

impl Verifier {
    /// Loads the configured keys (or the bootstrap secret); the flag says whether the bootstrap
    /// secret was created just now.
    pub fn new(config: &AuthConfig, data_dir: &Path) -> Result<(Verifier, bool), KeyError> {
        let (keys, created) = load_keys(config, data_dir)?;
        Ok((
            Verifier {
                keys: RwLock::new(Arc::new(keys)),
                config: config.clone(),
                data_dir: data_dir.to_owned(),
            },
            created,
        ))
    }

    /// Re-reads every key file; on error the old keys stay in force.
    pub fn reload(&self) -> Result<usize, KeyError> {
        let (keys, _) = load_keys(&self.config, &self.data_dir)?;
        let n = keys.len();
        if let Ok(mut k) = self.keys.write() {
            *k = Arc::new(keys);
        }
        Ok(n)
    }

    fn keys(&self) -> Arc<Vec<Key>> {
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Checks a bearer token and returns its principal.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        // jsonwebtoken parses `crit` but does not act on it; a `crit` member in any form
        // (RFC 7515 forbids an empty list too) names extensions this verifier cannot honour.
        if header.crit.is_some() || raw_header(token)?.contains_key("crit") {
            return Err(AuthError::UnsupportedCritical);
        }
        let keys = self.keys();
        let candidates: Vec<&Key> = match &header.kid {
            Some(kid) => {
                let k: Vec<&Key> = keys
                    .iter()
                    .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                    .collect();
                if k.is_empty() {
                    return Err(AuthError::UnknownKid);
                }
                k
            }
            None => keys.iter().collect(),
        };
        let candidates: Vec<&Key> = candidates
            .into_iter()
            .filter(|k| k.alg == header.alg)
            .collect();
        if candidates.is_empty() {
            return Err(AuthError::NoKeyForAlgorithm(format!("{:?}", header.alg)));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.config.leeway_seconds;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if self.config.issuer.is_some() {
            required.push("iss");
        }
        if self.config.audience.is_some() {
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        match &self.config.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &self.config.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let mut last = AuthError::Invalid("no key matched".into());
        for key in candidates {
            match jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation) {
                Ok(data) => return principal(data.claims),
                Err(e) => {
                    last = AuthError::Invalid(match e.kind() {
                        jsonwebtoken::errors::ErrorKind::ExpiredSignature => "expired".into(),
                        jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                            "not yet valid".into()
                        }
                        jsonwebtoken::errors::ErrorKind::InvalidSignature => "bad signature".into(),
                        jsonwebtoken::errors::ErrorKind::InvalidIssuer => "wrong issuer".into(),
                        jsonwebtoken::errors::ErrorKind::InvalidAudience => "wrong audience".into(),
                        jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(c) => {
                            format!("missing claim {c}")
                        }
                        _ => "rejected".into(),
                    })
                }
            }
        }
        Err(last)
    }

    /// Signs a token with the first HS256 key (the bootstrap secret or a configured one).
    pub fn issue(&self, claims: &Claims) -> Result<String, Error> {
        let keys = self.keys();
        let key = keys
            .iter()
            .find(|k| k.encoding.is_some())
            .ok_or_else(|| {
                Error::BadRequest(
                    "no HS256 key is configured: tokens for asymmetric keys are minted by your identity provider".into(),
                )
            })?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = key.kid.clone();
        let encoding = key
            .encoding
            .as_ref()
            .ok_or_else(|| Error::Internal("no signing key".into()))?;
        jsonwebtoken::encode(&header, claims, encoding)
            .map_err(|e| Error::Internal(format!("cannot sign a token: {e}")))
    }
}

/// The token's header as a JSON object, decoded here rather than by jsonwebtoken so members
/// it ignores (or folds away) can be checked.
fn raw_header(token: &str) -> Result<serde_json::Map<String, serde_json::Value>, AuthError> {
    let first = token.split('.').next().ok_or(AuthError::Malformed)?;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, first)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

/// Longest `sub` accepted, bytes.
pub const MAX_SUBJECT_BYTES: usize = 256;

/// Whether `sub` may become an audit actor: 1 to [`MAX_SUBJECT_BYTES`] bytes of letters, marks,
/// numbers, punctuation and symbols, with plain spaces (U+0020) inside only. Refused: control
/// (Cc) and format (Cf) characters — bidi overrides and isolates, zero-width characters —,
/// line and paragraph separators, other spaces (no-break, ideographic, ...), private-use and
/// unassigned code points, and leading or trailing spaces, so an actor always reads as what
/// it is in logs, audit pages and terminals.
pub fn is_valid_subject(sub: &str) -> bool {
    use unicode_general_category::{GeneralCategory as G, get_general_category};
    !sub.is_empty()
        && sub.len() <= MAX_SUBJECT_BYTES
        && !sub.starts_with(' ')
        && !sub.ends_with(' ')
        && sub.chars().all(|c| {
            c == ' '
                || !matches!(
                    get_general_category(c),
                    G::Control
                        | G::Format
                        | G::LineSeparator
                        | G::ParagraphSeparator
                        | G::SpaceSeparator
                        | G::PrivateUse
                        | G::Surrogate
                        | G::Unassigned
                )
        })
}

fn principal(c: Claims) -> Result<Principal, AuthError> {
    if !crate::names::is_valid(&c.tenant) {
        return Err(AuthError::Claims(
            "tenant must be a name of a-z, 0-9, '.', '_' and '-' (1 to 64 characters)".into(),
        ));
    }
    if !is_valid_subject(&c.sub) {
        return Err(AuthError::Claims(format!(
            "sub must be 1 to {MAX_SUBJECT_BYTES} bytes of printable characters: no control or \
             format characters (bidi overrides, zero-width), line separators, spaces other than \
             U+0020, or leading and trailing spaces"
        )));
    }
    Ok(Principal {
        tenant: c.tenant,
        actor: c.sub,
        roles: c.roles.iter().filter_map(|r| r.parse().ok()).collect(),
    })
}

/// Claims for a new token valid for `ttl` from now.
pub fn claims(
    tenant: &str,
    sub: &str,
    roles: &[Role],
    ttl: std::time::Duration,
    config: &AuthConfig,
) -> Claims {
    let now = warden_storage::now_ms() / 1000;
    Claims {
        sub: sub.to_owned(),
        tenant: tenant.to_owned(),
        roles: roles.iter().map(|r| r.name().to_owned()).collect(),
        exp: now + ttl.as_secs(),
        nbf: Some(now),
        iat: Some(now),
        iss: config.issuer.clone(),
        aud: config.audience.clone(),
    }
}

/// Bearer-token authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Fail start-up when no key is configured, instead of generating a bootstrap secret.
    pub require_keys: bool,
    /// Verification keys; `kid` selects when tokens carry one.
    pub keys: Vec<KeyConfig>,
    /// Required `iss`, if set.
    pub issuer: Option<String>,
    /// Required `aud`, if set.
    pub audience: Option<String>,
    /// Clock skew allowed for `exp` and `nbf`, seconds.
    pub leeway_seconds: u64,
    /// Serve `/metrics` without a token (the host view of every tenant: only for a scrape
    /// network the operator controls).
    pub public_metrics: bool,
    /// The tenant whose operators and admins see the host view of `/metrics` (every tenant's
    /// series); any other token sees its own tenant's series only. Unset: nobody does.
    pub host_tenant: Option<String>,
    /// Serve `/openapi.json` without a token.
    pub public_openapi: bool,
    /// Labels only an admin, or an approved change request, may move.
    pub protected_labels: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            require_keys: false,
            keys: Vec::new(),
            issuer: None,
            audience: None,
            leeway_seconds: 30,
            public_metrics: false,
            host_tenant: None,
            public_openapi: true,
            protected_labels: vec!["production".into()],
        }
    }
}

/// One verification key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyConfig {
    /// Key id tokens name in their `kid` header.
    pub kid: Option<String>,
    /// `HS256`, `RS256`, `ES256` or `EdDSA`.
    pub algorithm: String,
    /// HS256 secret, base64 (at least 32 bytes). Masked when printed.
    pub secret: Option<String>,
    /// HS256 secret in a 0600 file (created if missing).
    pub secret_file: Option<PathBuf>,
    /// Public key (PEM) for RS256, ES256, EdDSA.
    pub pem_file: Option<PathBuf>,
    /// A JWKS file of public keys (each key's `kid` and `alg` are used).
    pub jwks_file: Option<PathBuf>,
}

impl AuthConfig {
    /// Checks what the types cannot express: each key names a supported algorithm.
    pub fn validate(&self) -> Result<(), Invalid> {
        for (i, k) in self.keys.iter().enumerate() {
            if !matches!(k.algorithm.as_str(), "HS256" | "RS256" | "ES256" | "EdDSA")
                && k.jwks_file.is_none()
            {
                return Err(Invalid {
                    key: "auth.keys.algorithm",
                    message: format!(
                        "(key {i}) `{}` is not one of HS256, RS256, ES256, EdDSA",
                        k.algorithm
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid_subject;

    #[test]
    fn subjects_must_print_as_they_are() {
        for ok in ["alice", "svc:renderer@acme", "Zoë Ångström", "李雷", "a b"] {
            assert!(is_valid_subject(ok), "{ok}");
        }
        for bad in [
            "",
            "admin\u{202e}nimda",
            "ali\u{200b}ce",
            "a\u{2066}b",
            "a\nb",
            "a\u{2028}b",
            "alice\u{a0}",
            " alice",
            "alice ",
            "\u{e000}",
            &"a".repeat(257),
        ] {
            assert!(!is_valid_subject(bad), "{bad:?}");
        }
    }
}
