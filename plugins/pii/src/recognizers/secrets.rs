//! Recognizers for secrets: credentials pasted into a prompt, the most common leak to an LLM.
//! Presidio has none; the rules are those of gitleaks' default configuration and of
//! detect-secrets' plugins, with their false-positive filters, plus validations where a
//! format has one (CRC-32 checksums of GitHub, npm, GitLab and Grafana tokens, bech32 of age
//! keys, JSON headers of JWTs, decodable private keys).
//!
//! Fixed-prefix tokens are recognizer tables (`tokens`) run by the shared engine. Rules that
//! report part of a match — the password inside a URL, the value after a keyword, a key block
//! from BEGIN through END — run in [`scan`], which `recognizers::scan` calls; their types are
//! listed in [`SPECS`] with no patterns, so they are in the catalogue.

/// The keyword rule (values assigned to secret-sounding names).
mod assign;
/// Rules spanning several matches: key blocks, URL passwords, AWS key pairs.
mod blocks;
/// Entropy, checksums and decoders.
mod codec;
/// False-positive filters.
mod filters;
/// gitleaks' stop words.
mod stopwords;
/// Fixed-prefix token tables.
mod tokens;

/// End-to-end cases, with ports of gitleaks' and detect-secrets' fixtures.
#[cfg(test)]
mod tests;

use regex::{Regex, RegexBuilder};

use super::Spec;
use crate::entity::{EntityType, Kind};
use crate::{Candidate, Why};

/// A password: after a password keyword, in a URL, a connection string, a command line.
const PASSWORD: EntityType = EntityType::named("PASSWORD");
/// A high-entropy value assigned to a secret keyword (`secret`, `token`, `api_key`, …).
const GENERIC_SECRET: EntityType = EntityType::named("GENERIC_SECRET");
/// A private key block.
const PRIVATE_KEY: EntityType = EntityType::named("PRIVATE_KEY");
/// An AWS secret access key.
const AWS_SECRET_ACCESS_KEY: EntityType = EntityType::named("AWS_SECRET_ACCESS_KEY");
/// An Azure storage account key or shared access key.
const AZURE_ACCESS_KEY: EntityType = EntityType::named("AZURE_ACCESS_KEY");
/// Base64 `user:password` (HTTP Basic, Docker `auth`).
const BASIC_AUTH: EntityType = EntityType::named("BASIC_AUTH");
/// A Heroku API key (also found by the keyword rule as a UUID).
const HEROKU_API_KEY: EntityType = EntityType::named("HEROKU_API_KEY");
/// An npm token (also found by the keyword rule after `_authToken`).
const NPM_TOKEN: EntityType = EntityType::named("NPM_TOKEN");
/// A Telegram bot token (a table, also found by [`scan`] in Bot API URLs).
const TELEGRAM_BOT_TOKEN: EntityType = EntityType::named("TELEGRAM_BOT_TOKEN");
/// A quoted high-entropy string (off by default).
const HIGH_ENTROPY_STRING: EntityType = EntityType::named("HIGH_ENTROPY_STRING");

/// Declares a type that only [`scan`] reports: a table entry with no patterns.
macro_rules! custom {
    ($(#[$doc:meta])* $name:ident, $entity:expr, $desc:literal, $validation:literal, $enabled:expr) => {
        $(#[$doc])*
        static $name: Spec = Spec {
            entity: $entity,
            country: None,
            kind: Kind::Secret,
            description: $desc,
            validation: $validation,
            default_enabled: $enabled,
            patterns: &[],
            context: &[],
            validate: None,
            around: None,
        };
    };
}

custom! {
    /// Catalogue entry of [`PASSWORD`].
    PASSWORD_SPEC, PASSWORD,
    "A password: assigned to a password keyword (any language), in a URL's userinfo, a connection string, a command line (curl -u, mysql -p, --password) or SQL.",
    "not a template, placeholder, code reference, path, sequence or letters-only word",
    true
}
custom! {
    /// Catalogue entry of [`GENERIC_SECRET`].
    GENERIC_SECRET_SPEC, GENERIC_SECRET,
    "A high-entropy value assigned to a secret keyword (secret, token, api_key, key, auth, credential) or sent as a Bearer token.",
    "entropy 3.5 bits (3.8 for weak keywords); gitleaks stop words; detect-secrets heuristics",
    true
}
custom! {
    /// Catalogue entry of [`PRIVATE_KEY`].
    PRIVATE_KEY_SPEC, PRIVATE_KEY,
    "A private key block (PEM, OpenSSH, PGP, PuTTY), also JSON-escaped as in a GCP service-account file.",
    "64 or more base64 characters; DER or OpenSSH structure",
    true
}
custom! {
    /// Catalogue entry of [`AWS_SECRET_ACCESS_KEY`].
    AWS_SECRET_ACCESS_KEY_SPEC, AWS_SECRET_ACCESS_KEY,
    "An AWS secret access key (40 base64 characters next to an AWS name or access key id).",
    "mixed-case base64, entropy 4; not AWS's documentation example",
    true
}
custom! {
    /// Catalogue entry of [`AZURE_ACCESS_KEY`].
    AZURE_ACCESS_KEY_SPEC, AZURE_ACCESS_KEY,
    "An Azure storage AccountKey or a SharedAccessKey in a connection string.",
    "base64 of the key length",
    true
}
custom! {
    /// Catalogue entry of [`BASIC_AUTH`].
    BASIC_AUTH_SPEC, BASIC_AUTH,
    "Base64 user:password credentials (Authorization: Basic, Docker config auth).",
    "decodes to user:password",
    true
}
custom! {
    /// Catalogue entry of [`HIGH_ENTROPY_STRING`]: noisy, so off by default.
    HIGH_ENTROPY_STRING_SPEC, HIGH_ENTROPY_STRING,
    "A quoted base64 or hex string of high entropy (detect-secrets' entropy plugins): noisy, so off by default.",
    "entropy 4.5 bits (base64) or 3.0 (hex)",
    false
}

/// This module's recognizers: the fixed-prefix tables, then the types only [`scan`] reports.
pub(crate) const SPECS: &[&Spec] = &[
    &PASSWORD_SPEC,
    &GENERIC_SECRET_SPEC,
    &PRIVATE_KEY_SPEC,
    &AWS_SECRET_ACCESS_KEY_SPEC,
    &AZURE_ACCESS_KEY_SPEC,
    &BASIC_AUTH_SPEC,
    &HIGH_ENTROPY_STRING_SPEC,
    &tokens::AWS_ACCESS_KEY_ID,
    &tokens::AWS_BEDROCK_API_KEY,
    &tokens::GITHUB_TOKEN,
    &tokens::GITLAB_TOKEN,
    &tokens::SLACK_TOKEN,
    &tokens::SLACK_WEBHOOK_URL,
    &tokens::STRIPE_KEY,
    &tokens::STRIPE_PUBLISHABLE_KEY,
    &tokens::OPENAI_API_KEY,
    &tokens::ANTHROPIC_API_KEY,
    &tokens::GOOGLE_API_KEY,
    &tokens::GOOGLE_CLIENT_SECRET,
    &tokens::GOOGLE_OAUTH_TOKEN,
    &tokens::JWT,
    &tokens::AZURE_CLIENT_SECRET,
    &tokens::TWILIO_API_KEY,
    &tokens::SENDGRID_API_KEY,
    &tokens::NPM_TOKEN,
    &tokens::PYPI_TOKEN,
    &tokens::DOCKER_TOKEN,
    &tokens::HEROKU_API_KEY,
    &tokens::SHOPIFY_TOKEN,
    &tokens::MAILGUN_API_KEY,
    &tokens::MAILCHIMP_API_KEY,
    &tokens::SQUARE_TOKEN,
    &tokens::HASHICORP_VAULT_TOKEN,
    &tokens::HASHICORP_TF_TOKEN,
    &tokens::DATABRICKS_TOKEN,
    &tokens::DIGITALOCEAN_TOKEN,
    &tokens::DISCORD_TOKEN,
    &tokens::DISCORD_WEBHOOK_URL,
    &tokens::TEAMS_WEBHOOK_URL,
    &tokens::TELEGRAM_BOT_TOKEN,
    &tokens::HUGGINGFACE_TOKEN,
    &tokens::NOTION_TOKEN,
    &tokens::LINEAR_API_KEY,
    &tokens::AGE_SECRET_KEY,
    &tokens::ONEPASSWORD_SECRET,
    &tokens::ADOBE_CLIENT_SECRET,
    &tokens::ALIBABA_ACCESS_KEY_ID,
    &tokens::ARTIFACTORY_TOKEN,
    &tokens::ATLASSIAN_API_TOKEN,
    &tokens::AUTHRESS_KEY,
    &tokens::CLICKHOUSE_API_SECRET,
    &tokens::CLOJARS_TOKEN,
    &tokens::CLOUDFLARE_API_KEY,
    &tokens::DOPPLER_TOKEN,
    &tokens::DUFFEL_TOKEN,
    &tokens::DYNATRACE_TOKEN,
    &tokens::EASYPOST_TOKEN,
    &tokens::FACEBOOK_TOKEN,
    &tokens::FLUTTERWAVE_KEY,
    &tokens::FLYIO_TOKEN,
    &tokens::FRAMEIO_TOKEN,
    &tokens::GRAFANA_TOKEN,
    &tokens::HARNESS_TOKEN,
    &tokens::INFRACOST_TOKEN,
    &tokens::INTRA42_SECRET,
    &tokens::MAXMIND_LICENSE_KEY,
    &tokens::NEW_RELIC_KEY,
    &tokens::OCTOPUS_DEPLOY_KEY,
    &tokens::OPENSHIFT_TOKEN,
    &tokens::PERPLEXITY_API_KEY,
    &tokens::PLANETSCALE_TOKEN,
    &tokens::POSTMAN_API_KEY,
    &tokens::PREFECT_TOKEN,
    &tokens::PULUMI_TOKEN,
    &tokens::README_TOKEN,
    &tokens::RUBYGEMS_TOKEN,
    &tokens::SCALINGO_TOKEN,
    &tokens::SENDINBLUE_API_KEY,
    &tokens::SENTRY_TOKEN,
    &tokens::SETTLEMINT_TOKEN,
    &tokens::SHIPPO_TOKEN,
    &tokens::SOURCEGRAPH_TOKEN,
    &tokens::YANDEX_TOKEN,
    &tokens::AIRTABLE_TOKEN,
    &tokens::PLAID_TOKEN,
];

/// Compiles one of this module's patterns the way the table engine does (no Unicode: ASCII
/// classes, no `.`).
// The patterns are constants of this crate, compiled by `warm()` in every test run, so a
// failure here is a bug caught before release rather than a runtime condition.
fn regex(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .unwrap_or_else(|e| panic!("secrets pattern {pattern:?}: {e}"))
}

/// Where [`scan`]'s rules put their candidates: only types the caller wants.
struct Sink<'a> {
    /// Whether the caller wants a type.
    want: &'a dyn Fn(EntityType) -> bool,
    /// The candidates.
    out: &'a mut Vec<Candidate>,
}

impl Sink<'_> {
    /// Adds a candidate of `entity` at `text[start..end]`.
    fn push(
        &mut self,
        entity: EntityType,
        start: usize,
        end: usize,
        score: f32,
        why: &'static str,
    ) {
        if start < end && (self.want)(entity) {
            self.out.push(Candidate {
                entity,
                start,
                end,
                score,
                why: Why::pattern(why),
            });
        }
    }

    /// Adds a keyword rule's candidate unless a fixed-prefix token the tables already found
    /// (at a reportable score) overlaps it: `GITHUB_TOKEN=ghp_…` is a GitHub token, not a
    /// generic secret.
    fn push_value(
        &mut self,
        entity: EntityType,
        start: usize,
        end: usize,
        score: f32,
        why: &'static str,
    ) {
        let token = self.out.iter().any(|c| {
            c.start < end
                && start < c.end
                && c.score >= crate::DEFAULT_MIN_SCORE
                && !CUSTOM.contains(&c.entity)
                && c.entity.info().is_some_and(|i| i.kind == Kind::Secret)
        });
        if !token {
            self.push(entity, start, end, score, why);
        }
    }
}

/// The types [`scan`] reports.
const CUSTOM: [EntityType; 9] = [
    PASSWORD,
    GENERIC_SECRET,
    PRIVATE_KEY,
    AWS_SECRET_ACCESS_KEY,
    AZURE_ACCESS_KEY,
    BASIC_AUTH,
    HIGH_ENTROPY_STRING,
    HEROKU_API_KEY,
    NPM_TOKEN,
];

/// Runs the rules that report part of a match (keyword values, URL passwords, key blocks,
/// AWS secret keys near their ids, high-entropy strings), appending candidates of the types
/// `want` accepts to `out`. `recognizers::scan` calls it after the tables, so that a keyword's
/// value that is a known token (already in `out`) is left to the token's type.
pub(crate) fn scan(text: &str, want: &dyn Fn(EntityType) -> bool, out: &mut Vec<Candidate>) {
    if !wanted(want) {
        return;
    }
    let mut sink = Sink { want, out };
    blocks::scan(text, &mut sink);
    assign::scan(text, &mut sink);
}

/// Whether `want` accepts any type [`scan`] reports.
pub(crate) fn wanted(want: &dyn Fn(EntityType) -> bool) -> bool {
    CUSTOM.into_iter().chain([TELEGRAM_BOT_TOKEN]).any(want)
}

/// Forces this module's own regexes to compile (the tables' are compiled by the engine).
pub(crate) fn warm() {
    blocks::warm();
    assign::warm();
}
