//! Fixed-prefix tokens as recognizer tables: every fixed-prefix rule family of gitleaks'
//! default configuration (`config/gitleaks.toml`, from `cmd/generate/config/rules/*.go`) and
//! of detect-secrets' plugins, with their entropy thresholds and allowlists, and a real
//! validation where the format has one (CRC-32 checksums, bech32, decodable JSON).
//!
//! Boundaries are checked by [`edges`] instead of gitleaks' terminator group, so a token at
//! the end of a sentence (`…, key sk_live_… .`) is still found.

use super::codec;
use crate::entity::{EntityType, Kind};
use crate::recognizers::{Check, Pat, Spec};

/// Declares one fixed-prefix token recognizer (a `static` [`Spec`] of kind secret).
macro_rules! token {
    (
        $(#[$doc:meta])*
        $name:ident, $entity:literal, $desc:literal, $validation:literal, enabled: $enabled:expr,
        patterns: [$($pat:expr),+ $(,)?],
        context: [$($ctx:literal),* $(,)?],
        validate: $validate:expr,
        around: $around:expr $(,)?
    ) => {
        $(#[$doc])*
        pub(super) static $name: Spec = Spec {
            entity: EntityType::named($entity),
            country: None,
            kind: Kind::Secret,
            description: $desc,
            validation: $validation,
            default_enabled: $enabled,
            patterns: &[$($pat),+],
            context: &[$($ctx),*],
            validate: $validate,
            around: $around,
        };
    };
}

/// A pattern of a token table.
const fn pat(name: &'static str, regex: &'static str, score: f32) -> Pat {
    Pat { name, regex, score }
}

// ---------------------------------------------------------------------------------------------
// Boundaries and validations shared by the tables.

/// Whether the byte at `i` can continue a token (letters, digits, `_`, `-`).
fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether `text[s..e]` stands alone as a token: not preceded by a letter or digit (nor by a
/// dot inside a name, as in `video_box.ico-…`), not followed by a token character (nor by a
/// dot that continues a name, as in `….png`). gitleaks' `\b(…)(?:[\x60'"\s;]|\\[nr]|$)`,
/// relaxed to accept sentence punctuation after the token.
pub(super) fn edges(text: &str, s: usize, e: usize) -> bool {
    let b = text.as_bytes();
    let before = s == 0 || {
        let p = b[s - 1];
        !p.is_ascii_alphanumeric() && !(p == b'.' && s >= 2 && b[s - 2].is_ascii_alphanumeric())
    };
    let after = e >= b.len() || {
        let n = b[e];
        !token_byte(n) && !(n == b'.' && b.get(e + 1).is_some_and(|c| token_byte(*c)))
    };
    before && after
}

/// [`edges`] for tokens that may end in base64 (`+`, `/`, `=`).
fn edges_b64(text: &str, s: usize, e: usize) -> bool {
    edges(text, s, e)
        && text
            .as_bytes()
            .get(e)
            .is_none_or(|&n| !matches!(n, b'+' | b'/' | b'='))
}

/// gitleaks' boundaries of an Azure AD client secret: before it the start or one of
/// ``\'"`>=:(,)`` or white space; after it the end, one of ``\'"`<),`` or white space (or a
/// sentence's final dot).
fn azure_edges(text: &str, s: usize, e: usize) -> bool {
    let b = text.as_bytes();
    let before = s == 0 || b"\\'\"`>=:(,) \t\r\n".contains(&b[s - 1]);
    let after = e >= b.len()
        || b"\\'\"`<), \t\r\n".contains(&b[e])
        || (b[e] == b'.' && b.get(e + 1).is_none_or(|c| c.is_ascii_whitespace()));
    before && after
}

/// Keeps a match whose Shannon entropy reaches `TENTHS / 10` bits (gitleaks' `entropy`):
/// `ghp_xxxxxxxx…` and other filler do not.
fn entropy<const TENTHS: u32>(m: &str) -> Check {
    if codec::entropy(m) >= TENTHS as f32 / 10.0 {
        Check::Unknown
    } else {
        Check::Invalid
    }
}

/// Whether the base64 (either alphabet) `s` decodes to one JSON object.
fn b64_json(s: &str) -> bool {
    codec::base64(s).is_some_and(|b| codec::is_json_object(&b))
}

// ---------------------------------------------------------------------------------------------
// AWS

token! {
    /// AWS access key id (gitleaks `aws-access-token`, detect-secrets `AWSKeyDetector`).
    AWS_ACCESS_KEY_ID, "AWS_ACCESS_KEY_ID",
    "An AWS access key id (AKIA, ASIA, ABIA, ACCA and A3T prefixes).",
    "prefix and base32 charset; entropy; not AWS's documentation example",
    enabled: true,
    patterns: [pat(
        "AWS access key id",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        0.9,
    )],
    context: ["aws", "amazon", "access key", "key id", "iam"],
    validate: Some(aws_key_id),
    around: Some(edges),
}

/// gitleaks' allowlist `.+EXAMPLE$` (AWS's documentation keys) and entropy 3.
fn aws_key_id(m: &str) -> Check {
    if m.ends_with("EXAMPLE") {
        return Check::Invalid;
    }
    entropy::<30>(m)
}

token! {
    /// Amazon Bedrock API keys (gitleaks `aws-amazon-bedrock-api-key-long-lived` and
    /// `-short-lived`).
    AWS_BEDROCK_API_KEY, "AWS_BEDROCK_API_KEY",
    "An Amazon Bedrock API key (ABSK… long-lived, bedrock-api-key-… short-lived).",
    "long-lived keys decode to BedrockAPIKey-…",
    enabled: true,
    patterns: [
        pat("Bedrock API key (long-lived)", r"\bABSK[A-Za-z0-9+/]{109,269}={0,2}", 0.85),
        pat(
            "Bedrock API key (short-lived)",
            r"\bbedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%_-]*",
            0.9,
        ),
    ],
    context: ["bedrock", "aws"],
    validate: Some(bedrock),
    around: Some(edges_b64),
}

/// A long-lived key is `ABSK` and base64 of `BedrockAPIKey-…`; entropy 3 otherwise.
fn bedrock(m: &str) -> Check {
    if let Some(rest) = m.strip_prefix("ABSK") {
        let head: String = rest.chars().take(20).collect();
        if codec::base64(&head).is_some_and(|b| b.starts_with(b"BedrockAPIKey-")) {
            return Check::Valid;
        }
    }
    entropy::<30>(m)
}

// ---------------------------------------------------------------------------------------------
// Source hosting

token! {
    /// GitHub tokens (gitleaks `github-pat`, `-oauth`, `-app-token`, `-refresh-token`,
    /// `-fine-grained-pat`; detect-secrets `GitHubTokenDetector`).
    GITHUB_TOKEN, "GITHUB_TOKEN",
    "A GitHub token: personal (ghp_, github_pat_), OAuth (gho_), app (ghu_, ghs_), refresh (ghr_).",
    "CRC-32 checksum in the last six base62 characters (ghp_, gho_, ghu_, ghs_, ghr_)",
    enabled: true,
    patterns: [
        pat("GitHub token", r"\bgh[pousr]_[0-9A-Za-z]{36}", 0.9),
        pat("GitHub fine-grained token", r"\bgithub_pat_[0-9A-Za-z_]{82}", 0.9),
    ],
    context: ["github", "gh", "token", "pat"],
    validate: Some(github),
    around: Some(edges),
}

/// The 30 random characters' CRC-32 must equal the base62 number of the last six (GitHub's
/// 2021 token format); fine-grained tokens get gitleaks' entropy 3.
fn github(m: &str) -> Check {
    if m.starts_with("github_pat_") {
        return entropy::<30>(m);
    }
    crc32_base62(&m[4..])
}

/// A body of 30 random base62 characters and their CRC-32 in six base62 characters.
fn crc32_base62(body: &str) -> Check {
    if body.len() != 36 {
        return Check::Invalid;
    }
    let (random, sum) = body.split_at(30);
    Check::from(codec::base62(sum) == Some(u64::from(codec::crc32(random.as_bytes()))))
}

token! {
    /// GitLab tokens (gitleaks' fourteen `gitlab-*` rules, detect-secrets
    /// `GitLabTokenDetector`).
    GITLAB_TOKEN, "GITLAB_TOKEN",
    "A GitLab token: personal, deploy, runner, CI job, feed, SCIM, trigger, agent, OAuth secret, incoming mail, feature flag, runner registration.",
    "CRC-32 (base36) of routable tokens; entropy otherwise",
    enabled: true,
    patterns: [
        pat(
            "GitLab routable token",
            r"\b(?:glpat-|glrt-t[0-9]_)[0-9A-Za-z_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7}\b",
            0.9,
        ),
        pat("GitLab token", r"\bgl(?:pat|dt|rt|ft|soat|ffct)-[0-9A-Za-z_-]{20,50}", 0.85),
        pat("GitLab CI job token", r"\bglcbt-(?:[0-9A-Za-z]{1,5}_)?[0-9A-Za-z_-]{20,50}", 0.85),
        pat("GitLab incoming mail token", r"\bglimt-[0-9A-Za-z_-]{25}", 0.85),
        pat("GitLab trigger token", r"\bglptt-[0-9A-Za-z_-]{40}", 0.85),
        pat("GitLab agent token", r"\bglagent-[0-9A-Za-z_-]{50,1024}", 0.85),
        pat("GitLab OAuth secret", r"\bgloas-[0-9A-Za-z_-]{64}", 0.85),
        pat("GitLab runner registration token", r"\bGR1348941[0-9A-Za-z_-]{20,50}", 0.85),
        pat("GitLab session cookie", r"_gitlab_session=[0-9a-z]{32}", 0.7),
    ],
    context: ["gitlab", "token"],
    validate: Some(gitlab),
    around: Some(edges),
}

/// Routable tokens end in `.`, the payload length in two base36 digits and the CRC-32 of
/// everything before it in seven (GitLab's `RoutableToken`); others need entropy 3.
fn gitlab(m: &str) -> Check {
    let routable = (m.starts_with("glpat-") || m.starts_with("glrt-t"))
        && m.rfind('.').is_some_and(|d| m.len() - d == 10);
    if !routable {
        return entropy::<30>(m);
    }
    let dot = m.len() - 10;
    let (signed, sum) = m.split_at(m.len() - 7);
    let crc_ok = codec::base36(sum) == Some(u64::from(codec::crc32(signed.as_bytes())));
    // The payload starts after `glpat-`, or after `glrt-` or `glrt-t1_` for runner tokens.
    let starts: &[usize] = if m.starts_with("glrt-") {
        &[5, 8]
    } else {
        &[6]
    };
    let len = codec::base36(&m[dot + 1..dot + 3]);
    let len_ok = starts.iter().any(|&p| len == Some((dot - p) as u64));
    Check::from(crc_ok && len_ok)
}

// ---------------------------------------------------------------------------------------------
// Chat and webhooks

token! {
    /// Slack tokens (gitleaks' eight `slack-*` token rules, detect-secrets `SlackDetector`).
    SLACK_TOKEN, "SLACK_TOKEN",
    "A Slack token: bot (xoxb-), user (xoxp-), app (xapp-), configuration (xoxe-), legacy (xoxa-, xoxo-, xoxr-, xoxs-).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Slack bot token", r"\bxoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9-]*", 0.9),
        pat("Slack legacy bot token", r"\bxoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26}", 0.85),
        pat("Slack user token", r"\bxox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9-]{28,40}", 0.9),
        pat("Slack app token", r"(?i)\bxapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]+", 0.9),
        pat("Slack configuration token", r"(?i)\bxoxe\.xox[bp]-[0-9]-[A-Z0-9]{163,166}", 0.9),
        pat("Slack configuration refresh token", r"(?i)\bxoxe-[0-9]-[A-Z0-9]{146}", 0.9),
        pat("Slack legacy token", r"\bxox[os]-[0-9]+-[0-9]+-[0-9]+-[A-Fa-f0-9]+", 0.85),
        pat("Slack legacy workspace token", r"\bxox[ar]-(?:[0-9]-)?[0-9A-Za-z-]{8,120}", 0.8),
    ],
    context: ["slack", "token", "bot"],
    validate: Some(slack),
    around: Some(edges),
}

/// gitleaks' entropy: 3 for bot tokens, 2 for the others; a digit-free or letter-free body
/// (`xoxb-xoxb-my-bot-token`, `xoxp-1234567890`) is filler.
fn slack(m: &str) -> Check {
    let body = m.get(5..).unwrap_or_default();
    if !body.bytes().any(|b| b.is_ascii_digit()) || !body.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Check::Invalid;
    }
    if m.starts_with("xoxb-") {
        entropy::<30>(m)
    } else {
        entropy::<20>(m)
    }
}

token! {
    /// Slack incoming-webhook, workflow and trigger URLs (gitleaks `slack-webhook-url`).
    SLACK_WEBHOOK_URL, "SLACK_WEBHOOK_URL",
    "A Slack incoming-webhook, workflow or trigger URL (anyone holding it can post).",
    "none",
    enabled: true,
    patterns: [pat(
        "Slack webhook",
        r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,120}",
        0.95,
    )],
    context: ["slack", "webhook"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Discord bot tokens (detect-secrets `DiscordBotTokenDetector`).
    DISCORD_TOKEN, "DISCORD_TOKEN",
    "A Discord bot token (base64 user id, timestamp, HMAC).",
    "first part decodes to a numeric user id",
    enabled: true,
    patterns: [pat(
        "Discord bot token",
        r"\b[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}",
        0.8,
    )],
    context: ["discord", "bot", "token"],
    validate: Some(discord),
    around: Some(edges),
}

/// The first part of a bot token is the bot's snowflake id (17 to 20 digits) in base64.
fn discord(m: &str) -> Check {
    let id = m.split('.').next().unwrap_or_default();
    let ok = codec::base64(id)
        .is_some_and(|b| (17..=20).contains(&b.len()) && b.iter().all(u8::is_ascii_digit));
    Check::from(ok)
}

token! {
    /// Discord webhook URLs.
    DISCORD_WEBHOOK_URL, "DISCORD_WEBHOOK_URL",
    "A Discord webhook URL (anyone holding it can post).",
    "none",
    enabled: true,
    patterns: [pat(
        "Discord webhook",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}",
        0.95,
    )],
    context: ["discord", "webhook"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Microsoft Teams incoming-webhook URLs (gitleaks `microsoft-teams-webhook`).
    TEAMS_WEBHOOK_URL, "TEAMS_WEBHOOK_URL",
    "A Microsoft Teams incoming-webhook URL (anyone holding it can post).",
    "none",
    enabled: true,
    patterns: [pat(
        "Teams webhook",
        r"https://[a-z0-9]+\.webhook\.office\.com/webhookb2/[a-z0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12}@[a-z0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12}/IncomingWebhook/[a-z0-9]{32}/[a-z0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12}(?:/[A-Za-z0-9_-]+)?",
        0.95,
    )],
    context: ["teams", "webhook"],
    validate: None,
    around: Some(edges),
}

token! {
    /// Telegram bot tokens (gitleaks `telegram-bot-api-token`, detect-secrets
    /// `TelegramBotTokenDetector`); in a Bot API URL (`/bot<token>/`) `scan` finds them.
    TELEGRAM_BOT_TOKEN, "TELEGRAM_BOT_TOKEN",
    "A Telegram bot token (bot id, colon, 35-character secret).",
    "entropy",
    enabled: true,
    patterns: [pat("Telegram bot token", r"\b[0-9]{5,16}:A[A-Za-z0-9_-]{34}", 0.75)],
    context: ["telegram", "bot", "botfather", "token"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

// ---------------------------------------------------------------------------------------------
// Payments

token! {
    /// Stripe secret and restricted keys and webhook secrets (gitleaks `stripe-access-token`,
    /// detect-secrets `StripeDetector`).
    STRIPE_KEY, "STRIPE_KEY",
    "A Stripe secret (sk_) or restricted (rk_) key, live or test, or a webhook signing secret (whsec_).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Stripe live key", r"\b(?:sk|rk)_(?:live|prod)_[A-Za-z0-9]{10,99}", 0.95),
        pat("Stripe test key", r"\b(?:sk|rk)_test_[A-Za-z0-9]{10,99}", 0.85),
        pat("Stripe webhook secret", r"\bwhsec_[A-Za-z0-9]{32,64}", 0.9),
    ],
    context: ["stripe"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Stripe publishable keys: public by design (they ship in web pages), so off by default.
    STRIPE_PUBLISHABLE_KEY, "STRIPE_PUBLISHABLE_KEY",
    "A Stripe publishable key (pk_live_, pk_test_): meant to be public, so off by default.",
    "entropy",
    enabled: false,
    patterns: [pat("Stripe publishable key", r"\bpk_(?:live|test)_[A-Za-z0-9]{10,99}", 0.6)],
    context: ["stripe"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Square access tokens and OAuth secrets (gitleaks `square-access-token`, detect-secrets
    /// `SquareOAuthDetector`).
    SQUARE_TOKEN, "SQUARE_TOKEN",
    "A Square access token (EAAA…, sq0atp-) or OAuth secret (sq0csp-).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Square access token", r"\b(?:EAAA|sq0atp-)[0-9A-Za-z_-]{22,60}", 0.85),
        pat("Square OAuth secret", r"\bsq0csp-[0-9A-Za-z_-]{43}", 0.9),
    ],
    context: ["square", "token"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Shopify tokens (gitleaks' four `shopify-*` rules).
    SHOPIFY_TOKEN, "SHOPIFY_TOKEN",
    "A Shopify access token, custom-app token, private-app token or shared secret.",
    "entropy",
    enabled: true,
    patterns: [pat("Shopify token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", 0.9)],
    context: ["shopify"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Flutterwave keys (gitleaks `flutterwave-*`).
    FLUTTERWAVE_KEY, "FLUTTERWAVE_KEY",
    "A Flutterwave secret, public or encryption key.",
    "entropy",
    enabled: true,
    patterns: [
        pat("Flutterwave key", r"\bFLW(?:SECK|PUBK)(?:_TEST)?-[a-hA-H0-9]{32}-X", 0.9),
        pat("Flutterwave encryption key", r"\bFLWSECK_TEST-[a-hA-H0-9]{12}\b", 0.85),
    ],
    context: ["flutterwave"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Duffel API tokens (gitleaks `duffel-api-token`).
    DUFFEL_TOKEN, "DUFFEL_TOKEN",
    "A Duffel API token.",
    "entropy",
    enabled: true,
    patterns: [pat("Duffel token", r"\bduffel_(?:test|live)_[A-Za-z0-9_=-]{43}", 0.9)],
    context: ["duffel"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Shippo API tokens (gitleaks `shippo-api-token`).
    SHIPPO_TOKEN, "SHIPPO_TOKEN",
    "A Shippo API token.",
    "entropy",
    enabled: true,
    patterns: [pat("Shippo token", r"\bshippo_(?:live|test)_[a-fA-F0-9]{40}", 0.9)],
    context: ["shippo"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// EasyPost API tokens (gitleaks `easypost-api-token`, `easypost-test-api-token`).
    EASYPOST_TOKEN, "EASYPOST_TOKEN",
    "An EasyPost API token (EZAK live, EZTK test).",
    "entropy",
    enabled: true,
    patterns: [pat("EasyPost token", r"\bEZ[AT]K[A-Za-z0-9]{54}\b", 0.9)],
    context: ["easypost"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

// ---------------------------------------------------------------------------------------------
// AI providers

token! {
    /// OpenAI API keys (gitleaks `openai-api-key`, detect-secrets `OpenAIDetector`).
    OPENAI_API_KEY, "OPENAI_API_KEY",
    "An OpenAI API key (sk-, sk-proj-, sk-svcacct-, sk-admin-).",
    "the T3BlbkFJ marker (base64 of OpenAI); entropy",
    enabled: true,
    patterns: [
        pat(
            "OpenAI key",
            r"\bsk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,74}T3BlbkFJ[A-Za-z0-9_-]{20,74}",
            0.95,
        ),
        pat("OpenAI project key", r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{80,200}", 0.85),
    ],
    context: ["openai", "gpt", "chatgpt"],
    validate: Some(entropy::<35>),
    around: Some(edges),
}

token! {
    /// Anthropic API and admin keys (gitleaks `anthropic-api-key`, `anthropic-admin-api-key`).
    ANTHROPIC_API_KEY, "ANTHROPIC_API_KEY",
    "An Anthropic API key (sk-ant-api03-, sk-ant-admin01-, other sk-ant- credentials).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Anthropic key", r"\bsk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA", 0.95),
        pat("Anthropic credential", r"\bsk-ant-[a-z]{3,8}[0-9]{2}-[A-Za-z0-9_-]{80,120}", 0.85),
    ],
    context: ["anthropic", "claude"],
    validate: Some(anthropic),
    around: Some(edges),
}

/// API and admin keys end in `AA` (gitleaks' false positives end otherwise); entropy 3.
fn anthropic(m: &str) -> Check {
    if (m.starts_with("sk-ant-api03-") || m.starts_with("sk-ant-admin01-")) && !m.ends_with("AA") {
        return Check::Invalid;
    }
    entropy::<30>(m)
}

token! {
    /// Hugging Face tokens (gitleaks `huggingface-access-token`,
    /// `huggingface-organization-api-token`).
    HUGGINGFACE_TOKEN, "HUGGINGFACE_TOKEN",
    "A Hugging Face user (hf_) or organisation (api_org_) token.",
    "entropy",
    enabled: true,
    patterns: [pat("Hugging Face token", r"\b(?:hf_|api_org_)[A-Za-z]{34}\b", 0.85)],
    context: ["hugging face", "huggingface", "hf", "token"],
    validate: Some(huggingface),
    around: Some(edges),
}

/// gitleaks' entropy 2, and random letters have both cases (a lower-case identifier that
/// happens to be 34 letters long has not).
fn huggingface(m: &str) -> Check {
    let body = m.rsplit('_').next().unwrap_or_default();
    if !body.bytes().any(|b| b.is_ascii_uppercase())
        || !body.bytes().any(|b| b.is_ascii_lowercase())
    {
        return Check::Invalid;
    }
    entropy::<35>(m)
}

token! {
    /// Perplexity API keys (gitleaks `perplexity-api-key`).
    PERPLEXITY_API_KEY, "PERPLEXITY_API_KEY",
    "A Perplexity API key.",
    "entropy",
    enabled: true,
    patterns: [pat("Perplexity key", r"\bpplx-[A-Za-z0-9]{48}", 0.9)],
    context: ["perplexity"],
    validate: Some(entropy::<40>),
    around: Some(edges),
}

// ---------------------------------------------------------------------------------------------
// Google and Microsoft

/// Google API keys published in Google's own libraries and samples (gitleaks' `gcp-api-key`
/// allowlist): public, not secrets.
const PUBLIC_GOOGLE_KEYS: &[&str] = &[
    "AIzaSyabcdefghijklmnopqrstuvwxyz1234567",
    "AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs",
    "AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM",
    "AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU",
    "AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0",
    "AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A",
    "AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c",
    "AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4",
    "AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY",
    "AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM",
    "AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ",
    "AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g",
    "AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU",
    "AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw",
    "AIzaSyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE",
    "AIzaSyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY",
];

token! {
    /// Google (GCP, Firebase, Maps) API keys (gitleaks `gcp-api-key`).
    GOOGLE_API_KEY, "GOOGLE_API_KEY",
    "A Google API key (AIza…): GCP, Firebase, Maps, Gemini.",
    "entropy; Google's published sample keys are not reported",
    enabled: true,
    patterns: [pat("Google API key", r"\bAIza[0-9A-Za-z_-]{35}", 0.9)],
    context: ["google", "gcp", "firebase", "gemini", "maps", "api key"],
    validate: Some(google_api_key),
    around: Some(edges),
}

/// gitleaks' entropy 4 and allowlist of public keys.
fn google_api_key(m: &str) -> Check {
    if PUBLIC_GOOGLE_KEYS.contains(&m) {
        return Check::Invalid;
    }
    entropy::<40>(m)
}

token! {
    /// Google OAuth client secrets (`GOCSPX-`).
    GOOGLE_CLIENT_SECRET, "GOOGLE_CLIENT_SECRET",
    "A Google OAuth client secret (GOCSPX-).",
    "entropy",
    enabled: true,
    patterns: [pat("Google OAuth client secret", r"\bGOCSPX-[A-Za-z0-9_-]{28}", 0.9)],
    context: ["google", "oauth", "client secret"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Google OAuth access tokens (`ya29.`) and refresh tokens (`1//`).
    GOOGLE_OAUTH_TOKEN, "GOOGLE_OAUTH_TOKEN",
    "A Google OAuth access token (ya29.) or refresh token (1//0…).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Google OAuth access token", r"\bya29\.[A-Za-z0-9_-]{30,}", 0.85),
        pat("Google OAuth refresh token", r"\b1//0[A-Za-z0-9_-]{40,}", 0.7),
    ],
    context: ["google", "oauth", "token", "refresh"],
    validate: Some(entropy::<35>),
    around: Some(edges),
}

token! {
    /// Azure AD (Entra ID) application client secrets (gitleaks `azure-ad-client-secret`).
    AZURE_CLIENT_SECRET, "AZURE_CLIENT_SECRET",
    "An Azure AD (Entra ID) application client secret (…8Q~…).",
    "entropy",
    enabled: true,
    patterns: [pat(
        "Azure AD client secret",
        r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}",
        0.85,
    )],
    context: ["azure", "client secret", "entra", "aad", "tenant"],
    validate: Some(entropy::<30>),
    around: Some(azure_edges),
}

// ---------------------------------------------------------------------------------------------
// Messaging and e-mail

token! {
    /// Twilio API keys and account ids (gitleaks `twilio-api-key`, detect-secrets
    /// `TwilioKeyDetector`).
    TWILIO_API_KEY, "TWILIO_API_KEY",
    "A Twilio API key (SK…) or, near a Twilio word, an account id (AC…).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Twilio API key", r"\bSK[0-9a-fA-F]{32}\b", 0.8),
        pat("Twilio account id", r"\bAC[0-9a-f]{32}\b", 0.3),
    ],
    context: ["twilio", "sid", "auth token"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// SendGrid API keys (gitleaks `sendgrid-api-token`, detect-secrets `SendGridDetector`).
    SENDGRID_API_KEY, "SENDGRID_API_KEY",
    "A SendGrid API key (SG.…).",
    "entropy",
    enabled: true,
    patterns: [pat("SendGrid key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", 0.95)],
    context: ["sendgrid"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Mailgun keys (gitleaks `mailgun-private-api-token`, `mailgun-pub-key`): the prefixes are
    /// short, so a Mailgun word nearby counts.
    MAILGUN_API_KEY, "MAILGUN_API_KEY",
    "A Mailgun private API key (key-…) or public validation key (pubkey-…).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Mailgun private key", r"\bkey-[0-9a-f]{32}\b", 0.55),
        pat("Mailgun public key", r"\bpubkey-[0-9a-f]{32}\b", 0.4),
    ],
    context: ["mailgun", "api key"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Mailchimp API keys (detect-secrets `MailchimpDetector`, gitleaks `mailchimp-api-key`).
    MAILCHIMP_API_KEY, "MAILCHIMP_API_KEY",
    "A Mailchimp API key (32 hex digits and a data-centre suffix).",
    "entropy",
    enabled: true,
    patterns: [pat("Mailchimp key", r"\b[0-9a-f]{32}-us[0-9]{1,2}\b", 0.8)],
    context: ["mailchimp"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Sendinblue (Brevo) API keys (gitleaks `sendinblue-api-token`).
    SENDINBLUE_API_KEY, "SENDINBLUE_API_KEY",
    "A Sendinblue (Brevo) API or SMTP key.",
    "entropy",
    enabled: true,
    patterns: [pat(
        "Sendinblue key",
        r"\bx(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}",
        0.9,
    )],
    context: ["sendinblue", "brevo"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

// ---------------------------------------------------------------------------------------------
// Package registries and CI

token! {
    /// npm access tokens (gitleaks `npm-access-token`).
    NPM_TOKEN, "NPM_TOKEN",
    "An npm access token (npm_…).",
    "CRC-32 checksum in the last six base62 characters",
    enabled: true,
    patterns: [pat("npm token", r"\bnpm_[0-9A-Za-z]{36}", 0.9)],
    context: ["npm", "npmrc", "token"],
    validate: Some(npm),
    around: Some(edges),
}

/// npm tokens use GitHub's format: 30 random characters and their CRC-32.
fn npm(m: &str) -> Check {
    crc32_base62(&m[4..])
}

token! {
    /// PyPI upload tokens (gitleaks `pypi-upload-token`, detect-secrets `PypiTokenDetector`).
    PYPI_TOKEN, "PYPI_TOKEN",
    "A PyPI or TestPyPI upload token (a macaroon for pypi.org).",
    "the macaroon header names pypi.org",
    enabled: true,
    patterns: [pat(
        "PyPI token",
        r"\bpypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{70,1000}",
        0.95,
    )],
    context: ["pypi", "twine", "token"],
    validate: None,
    around: Some(edges),
}

token! {
    /// Docker Hub personal and organisation access tokens.
    DOCKER_TOKEN, "DOCKER_TOKEN",
    "A Docker Hub personal (dckr_pat_) or organisation (dckr_oat_) access token.",
    "entropy",
    enabled: true,
    patterns: [pat("Docker Hub token", r"\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{27,32}", 0.9)],
    context: ["docker", "token"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// RubyGems API tokens (gitleaks `rubygems-api-token`).
    RUBYGEMS_TOKEN, "RUBYGEMS_TOKEN",
    "A RubyGems API token.",
    "entropy",
    enabled: true,
    patterns: [pat("RubyGems token", r"\brubygems_[a-f0-9]{48}", 0.9)],
    context: ["rubygems", "gem"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Clojars deploy tokens (gitleaks `clojars-api-token`).
    CLOJARS_TOKEN, "CLOJARS_TOKEN",
    "A Clojars deploy token.",
    "entropy",
    enabled: true,
    patterns: [pat("Clojars token", r"(?i)\bCLOJARS_[a-z0-9]{60}", 0.9)],
    context: ["clojars"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// JFrog Artifactory API keys and reference tokens (gitleaks `artifactory-api-key`,
    /// `artifactory-reference-token`).
    ARTIFACTORY_TOKEN, "ARTIFACTORY_TOKEN",
    "A JFrog Artifactory API key (AKCp…) or reference token (cmVmd…).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Artifactory API key", r"\bAKCp[A-Za-z0-9]{69}\b", 0.9),
        pat("Artifactory reference token", r"\bcmVmd[A-Za-z0-9]{59}\b", 0.85),
    ],
    context: ["artifactory", "jfrog"],
    validate: Some(entropy::<45>),
    around: Some(edges),
}

token! {
    /// Octopus Deploy API keys (gitleaks `octopus-deploy-api-key`).
    OCTOPUS_DEPLOY_KEY, "OCTOPUS_DEPLOY_KEY",
    "An Octopus Deploy API key (API-…).",
    "entropy; letters and digits",
    enabled: true,
    patterns: [pat("Octopus Deploy key", r"\bAPI-[A-Z0-9]{26}\b", 0.8)],
    context: ["octopus"],
    validate: Some(octopus),
    around: Some(edges),
}

/// gitleaks' entropy 3, and a generated key mixes letters and digits.
fn octopus(m: &str) -> Check {
    let body = &m[4..];
    if !body.bytes().any(|b| b.is_ascii_digit()) || !body.bytes().any(|b| b.is_ascii_uppercase()) {
        return Check::Invalid;
    }
    entropy::<30>(m)
}

token! {
    /// Prefect API keys (gitleaks `prefect-api-token`).
    PREFECT_TOKEN, "PREFECT_TOKEN",
    "A Prefect API key (pnu_…).",
    "entropy",
    enabled: true,
    patterns: [pat("Prefect key", r"\bpnu_[A-Za-z0-9]{36}", 0.9)],
    context: ["prefect"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Pulumi access tokens (gitleaks `pulumi-api-token`).
    PULUMI_TOKEN, "PULUMI_TOKEN",
    "A Pulumi access token (pul-…).",
    "entropy",
    enabled: true,
    patterns: [pat("Pulumi token", r"\bpul-[a-f0-9]{40}", 0.9)],
    context: ["pulumi"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// ReadMe API keys (gitleaks `readme-api-token`).
    README_TOKEN, "README_TOKEN",
    "A ReadMe (readme.com) API key (rdme_…).",
    "entropy",
    enabled: true,
    patterns: [pat("ReadMe key", r"\brdme_[a-z0-9]{70}", 0.9)],
    context: ["readme"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Scalingo API tokens (gitleaks `scalingo-api-token`).
    SCALINGO_TOKEN, "SCALINGO_TOKEN",
    "A Scalingo API token (tk-us-…).",
    "entropy",
    enabled: true,
    patterns: [pat("Scalingo token", r"\btk-us-[A-Za-z0-9_-]{48}", 0.9)],
    context: ["scalingo"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Sourcegraph access tokens (gitleaks `sourcegraph-access-token`, prefixed forms).
    SOURCEGRAPH_TOKEN, "SOURCEGRAPH_TOKEN",
    "A Sourcegraph access token (sgp_…).",
    "entropy",
    enabled: true,
    patterns: [pat(
        "Sourcegraph token",
        r"\bsgp_(?:(?:[a-fA-F0-9]{16}|local)_)?[a-fA-F0-9]{40}\b",
        0.9,
    )],
    context: ["sourcegraph"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Harness API keys and service-account tokens (gitleaks `harness-api-key`).
    HARNESS_TOKEN, "HARNESS_TOKEN",
    "A Harness personal (pat.) or service-account (sat.) token.",
    "entropy",
    enabled: true,
    patterns: [pat(
        "Harness token",
        r"\b(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
        0.9,
    )],
    context: ["harness"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Infracost API tokens (gitleaks `infracost-api-token`).
    INFRACOST_TOKEN, "INFRACOST_TOKEN",
    "An Infracost API token (ico-…).",
    "entropy",
    enabled: true,
    patterns: [pat("Infracost token", r"\bico-[A-Za-z0-9]{32}\b", 0.85)],
    context: ["infracost"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

// ---------------------------------------------------------------------------------------------
// Cloud and infrastructure

token! {
    /// HashiCorp Vault tokens (gitleaks `vault-service-token`, `vault-batch-token`).
    HASHICORP_VAULT_TOKEN, "HASHICORP_VAULT_TOKEN",
    "A HashiCorp Vault service (hvs.), batch (hvb.) or recovery (hvr.) token; legacy s. tokens near a Vault word.",
    "entropy; legacy tokens need a digit",
    enabled: true,
    patterns: [
        pat("Vault service token", r"\bhv[sr]\.[A-Za-z0-9_-]{90,120}", 0.9),
        pat("Vault batch token", r"\bhvb\.[A-Za-z0-9_-]{138,300}", 0.9),
        pat("Vault legacy token", r"\bs\.[A-Za-z0-9]{24}\b", 0.3),
    ],
    context: ["vault", "vault_token", "token"],
    validate: Some(vault),
    around: Some(edges),
}

/// gitleaks' entropy 3.5 and its allowlist `s\.[A-Za-z]{24}` (a legacy token has a digit).
fn vault(m: &str) -> Check {
    if m.starts_with("s.") && !m.bytes().any(|b| b.is_ascii_digit()) {
        return Check::Invalid;
    }
    entropy::<35>(m)
}

token! {
    /// Terraform Cloud / Enterprise API tokens (gitleaks `hashicorp-tf-api-token`).
    HASHICORP_TF_TOKEN, "HASHICORP_TF_TOKEN",
    "A HashiCorp Terraform Cloud or Enterprise API token (….atlasv1.…).",
    "entropy",
    enabled: true,
    patterns: [pat(
        "Terraform Cloud token",
        r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}",
        0.95,
    )],
    context: ["terraform", "hashicorp"],
    validate: Some(entropy::<35>),
    around: Some(edges),
}

token! {
    /// Databricks personal access tokens (gitleaks `databricks-api-token`).
    DATABRICKS_TOKEN, "DATABRICKS_TOKEN",
    "A Databricks personal access token (dapi…).",
    "entropy",
    enabled: true,
    patterns: [pat("Databricks token", r"\bdapi[a-f0-9]{32}(?:-[0-9])?", 0.85)],
    context: ["databricks"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// DigitalOcean tokens (gitleaks `digitalocean-pat`, `-access-token`, `-refresh-token`).
    DIGITALOCEAN_TOKEN, "DIGITALOCEAN_TOKEN",
    "A DigitalOcean personal access (dop_v1_), OAuth (doo_v1_) or refresh (dor_v1_) token.",
    "entropy",
    enabled: true,
    patterns: [pat("DigitalOcean token", r"\bdo[opr]_v1_[a-f0-9]{64}", 0.95)],
    context: ["digitalocean"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Heroku API keys, new format (gitleaks `heroku-api-key-v2`); the UUID form needs a
    /// Heroku keyword and is found by the keyword rule.
    HEROKU_API_KEY, "HEROKU_API_KEY",
    "A Heroku API key (HRKU-AA…, or a UUID assigned to a Heroku key).",
    "entropy",
    enabled: true,
    patterns: [pat("Heroku key", r"\bHRKU-AA[0-9A-Za-z_-]{58}", 0.95)],
    context: ["heroku"],
    validate: Some(entropy::<40>),
    around: Some(edges),
}

token! {
    /// Alibaba Cloud AccessKey ids (gitleaks `alibaba-access-key-id`).
    ALIBABA_ACCESS_KEY_ID, "ALIBABA_ACCESS_KEY_ID",
    "An Alibaba Cloud AccessKey id (LTAI…).",
    "entropy",
    enabled: true,
    patterns: [pat("Alibaba AccessKey id", r"\bLTAI[A-Za-z0-9]{20}\b", 0.85)],
    context: ["alibaba", "aliyun", "accesskey"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Cloudflare origin CA keys (gitleaks `cloudflare-origin-ca-key`); the other Cloudflare
    /// keys have no prefix and are found by the keyword rule.
    CLOUDFLARE_API_KEY, "CLOUDFLARE_API_KEY",
    "A Cloudflare origin CA key (v1.0-…).",
    "entropy",
    enabled: true,
    patterns: [pat("Cloudflare origin CA key", r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}", 0.9)],
    context: ["cloudflare"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Doppler tokens (gitleaks `doppler-api-token`, with Doppler's other token prefixes).
    DOPPLER_TOKEN, "DOPPLER_TOKEN",
    "A Doppler token (dp.pt., dp.st., dp.sa., dp.ct., dp.scim., dp.audit.).",
    "entropy",
    enabled: true,
    patterns: [pat(
        "Doppler token",
        r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}\b",
        0.9,
    )],
    context: ["doppler"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Dynatrace API tokens (gitleaks `dynatrace-api-token`).
    DYNATRACE_TOKEN, "DYNATRACE_TOKEN",
    "A Dynatrace API token (dt0c01.…).",
    "entropy",
    enabled: true,
    patterns: [pat(
        "Dynatrace token",
        r"\bdt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}",
        0.95,
    )],
    context: ["dynatrace"],
    validate: Some(entropy::<40>),
    around: Some(edges),
}

token! {
    /// Fly.io tokens (gitleaks `flyio-access-token`).
    FLYIO_TOKEN, "FLYIO_TOKEN",
    "A Fly.io access token (fo1_, fm1a_, fm1r_, fm2_).",
    "entropy",
    enabled: true,
    patterns: [pat(
        "Fly.io token",
        r"\b(?:fo1_[A-Za-z0-9_-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3})",
        0.9,
    )],
    context: ["fly", "flyctl"],
    validate: Some(entropy::<40>),
    around: Some(edges_b64),
}

token! {
    /// Grafana tokens (gitleaks `grafana-api-key`, `grafana-cloud-api-token`,
    /// `grafana-service-account-token`).
    GRAFANA_TOKEN, "GRAFANA_TOKEN",
    "A Grafana API key (eyJrIjoi…), Cloud token (glc_) or service-account token (glsa_).",
    "CRC-32 of service-account tokens; JSON payload of the others",
    enabled: true,
    patterns: [
        pat("Grafana service-account token", r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b", 0.9),
        pat("Grafana Cloud token", r"\bglc_[A-Za-z0-9+/]{32,400}={0,3}", 0.85),
        pat("Grafana API key", r"\beyJrIjoi[A-Za-z0-9]{70,400}={0,3}", 0.85),
    ],
    context: ["grafana", "loki", "token"],
    validate: Some(grafana),
    around: Some(edges_b64),
}

/// A service-account token ends in the CRC-32 of `glsa_<random>`, little-endian hex (checked
/// against tokens Grafana issued); the others decode to a JSON object or need entropy 3.
fn grafana(m: &str) -> Check {
    if let Some(body) = m.strip_prefix("glsa_") {
        let Some((_, sum)) = body.rsplit_once('_') else {
            return Check::Invalid;
        };
        let crc = codec::crc32(&m.as_bytes()[..m.len() - 9]);
        let want = format!("{:08x}", crc.swap_bytes());
        return Check::from(sum.eq_ignore_ascii_case(&want));
    }
    let payload = m.strip_prefix("glc_").unwrap_or(m);
    if b64_json(payload) {
        return Check::Valid;
    }
    entropy::<30>(m)
}

token! {
    /// New Relic keys with a fixed prefix (gitleaks' `new-relic-*` rules, without their
    /// keyword requirement: the prefixes are specific).
    NEW_RELIC_KEY, "NEW_RELIC_KEY",
    "A New Relic user API key (NRAK-), insert key (NRII-) or browser key (NRJS-).",
    "entropy",
    enabled: true,
    patterns: [
        pat("New Relic user key", r"\bNRAK-[A-Z0-9]{27}\b", 0.9),
        pat("New Relic insert key", r"\bNRII-[A-Za-z0-9_-]{32}\b", 0.85),
        pat("New Relic browser key", r"\bNRJS-[a-f0-9]{19}\b", 0.5),
    ],
    context: ["new relic", "newrelic", "new_relic"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// OpenShift user tokens (gitleaks `openshift-user-token`).
    OPENSHIFT_TOKEN, "OPENSHIFT_TOKEN",
    "An OpenShift user token (sha256~…).",
    "entropy",
    enabled: true,
    patterns: [pat("OpenShift token", r"\bsha256~[A-Za-z0-9_-]{43}", 0.9)],
    context: ["openshift", "oc login", "token"],
    validate: Some(entropy::<35>),
    around: Some(edges),
}

token! {
    /// PlanetScale tokens and passwords (gitleaks `planetscale-*`).
    PLANETSCALE_TOKEN, "PLANETSCALE_TOKEN",
    "A PlanetScale API token, OAuth token or database password.",
    "entropy",
    enabled: true,
    patterns: [pat(
        "PlanetScale token",
        r"\bpscale_(?:tkn|oauth|pw)_[A-Za-z0-9_-]{32,64}",
        0.9,
    )],
    context: ["planetscale"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// ClickHouse Cloud API secret keys (gitleaks `clickhouse-cloud-api-secret-key`).
    CLICKHOUSE_API_SECRET, "CLICKHOUSE_API_SECRET",
    "A ClickHouse Cloud API secret key (4b1d…).",
    "entropy",
    enabled: true,
    patterns: [pat("ClickHouse secret", r"\b4b1d[A-Za-z0-9]{38}\b", 0.75)],
    context: ["clickhouse"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Yandex Cloud tokens with a recognisable shape (gitleaks `yandex-access-token`,
    /// `yandex-api-key`).
    YANDEX_TOKEN, "YANDEX_TOKEN",
    "A Yandex Cloud IAM token (t1.…) or API key (AQVN…).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Yandex IAM token", r"\bt1\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}={0,2}", 0.85),
        pat("Yandex API key", r"\bAQVN[A-Za-z0-9_-]{35,38}\b", 0.75),
    ],
    context: ["yandex"],
    validate: Some(entropy::<35>),
    around: Some(edges_b64),
}

// ---------------------------------------------------------------------------------------------
// Identity, productivity and others

token! {
    /// JSON Web Tokens (gitleaks `jwt` and `jwt-base64`, detect-secrets `JwtTokenDetector`).
    JWT, "JWT",
    "A JSON Web Token (JWS or JWE), or one base64-encoded.",
    "header decodes to a JSON object with alg; payload and signature decode",
    enabled: true,
    patterns: [
        pat(
            "JWT",
            r"\beyJ[A-Za-z0-9_-]{10,}={0,2}\.[A-Za-z0-9_-]{10,}={0,2}(?:\.[A-Za-z0-9_-]*={0,2}(?:\.[A-Za-z0-9_-]+){0,2})?",
            0.8,
        ),
        pat("base64 JWT", r"\bZXlK[A-Za-z0-9+/]{40,}={0,2}", 0.7),
    ],
    context: ["jwt", "bearer", "token", "authorization"],
    validate: Some(jwt),
    around: Some(edges_b64),
}

/// The header must decode to a JSON object with `alg`, a payload that looks like JSON must be
/// JSON, the signature must decode (detect-secrets' `is_formally_valid`); a base64 JWT must
/// decode to one.
fn jwt(m: &str) -> Check {
    if m.starts_with("ZXlK") {
        let Some(inner) = codec::base64(m) else {
            return Check::Invalid;
        };
        let Ok(inner) = std::str::from_utf8(&inner) else {
            return Check::Invalid;
        };
        let inner = inner.trim_end_matches(['\n', '\r']);
        return Check::from(jwt_parts_ok(inner));
    }
    Check::from(jwt_parts_ok(m))
}

/// Whether the dotted parts of a JWT decode as JWS or JWE parts.
fn jwt_parts_ok(m: &str) -> bool {
    let parts: Vec<&str> = m.split('.').collect();
    if !(2..=5).contains(&parts.len()) {
        return false;
    }
    let Some(header) = codec::base64(parts[0]) else {
        return false;
    };
    if !codec::is_json_object(&header) || !codec::json_has_key(&header, "alg") {
        return false;
    }
    let Some(payload) = codec::base64(parts[1]) else {
        return false;
    };
    if parts.len() <= 3 && payload.first() == Some(&b'{') && !codec::is_json_object(&payload) {
        return false;
    }
    parts[2..]
        .iter()
        .all(|p| p.is_empty() || codec::base64(p).is_some())
}

token! {
    /// age encryption secret keys (gitleaks `age-secret-key`).
    AGE_SECRET_KEY, "AGE_SECRET_KEY",
    "An age encryption secret key (AGE-SECRET-KEY-1…).",
    "bech32 checksum",
    enabled: true,
    patterns: [pat(
        "age secret key",
        r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
        0.9,
    )],
    context: ["age"],
    validate: Some(age),
    around: Some(edges),
}

/// An age secret key is bech32 with the human-readable part `age-secret-key-`.
fn age(m: &str) -> Check {
    Check::from(codec::bech32_ok(m))
}

token! {
    /// 1Password secret keys and service-account tokens (gitleaks `1password-secret-key`,
    /// `1password-service-account-token`).
    ONEPASSWORD_SECRET, "ONEPASSWORD_SECRET",
    "A 1Password account Secret Key (A3-…) or service-account token (ops_eyJ…).",
    "service-account tokens decode to JSON; entropy",
    enabled: true,
    patterns: [
        pat(
            "1Password secret key",
            r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b",
            0.9,
        ),
        pat("1Password service-account token", r"\bops_eyJ[A-Za-z0-9+/]{250,}={0,3}", 0.95),
    ],
    context: ["1password", "op", "secret key"],
    validate: Some(onepassword),
    around: Some(edges_b64),
}

/// A service-account token's payload is base64 JSON; gitleaks' entropy (3.8 and 4) else.
fn onepassword(m: &str) -> Check {
    if let Some(payload) = m.strip_prefix("ops_") {
        if b64_json(payload) {
            return Check::Valid;
        }
        return entropy::<40>(m);
    }
    entropy::<38>(m)
}

token! {
    /// Notion integration tokens (gitleaks `notion-api-token`; legacy `secret_` tokens near a
    /// Notion word).
    NOTION_TOKEN, "NOTION_TOKEN",
    "A Notion integration token (ntn_…, or a legacy secret_… near a Notion word).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Notion token", r"\bntn_[0-9]{11}[A-Za-z0-9]{35}\b", 0.9),
        pat("Notion legacy token", r"\bsecret_[A-Za-z0-9]{43}\b", 0.45),
    ],
    context: ["notion"],
    validate: Some(entropy::<40>),
    around: Some(edges),
}

token! {
    /// Linear API keys (gitleaks `linear-api-key`).
    LINEAR_API_KEY, "LINEAR_API_KEY",
    "A Linear API key (lin_api_…).",
    "entropy",
    enabled: true,
    patterns: [pat("Linear key", r"\blin_api_[A-Za-z0-9]{40}\b", 0.9)],
    context: ["linear"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Adobe client secrets (gitleaks `adobe-client-secret`).
    ADOBE_CLIENT_SECRET, "ADOBE_CLIENT_SECRET",
    "An Adobe OAuth client secret (p8e-…).",
    "entropy",
    enabled: true,
    patterns: [pat("Adobe client secret", r"\bp8e-[A-Za-z0-9]{32}\b", 0.85)],
    context: ["adobe"],
    validate: Some(entropy::<20>),
    around: Some(edges),
}

token! {
    /// Atlassian API tokens (gitleaks `atlassian-api-token`, prefixed form).
    ATLASSIAN_API_TOKEN, "ATLASSIAN_API_TOKEN",
    "An Atlassian (Jira, Confluence) API token (ATATT3…).",
    "entropy",
    enabled: true,
    patterns: [pat("Atlassian token", r"\bATATT3[A-Za-z0-9_=-]{186}", 0.9)],
    context: ["atlassian", "jira", "confluence"],
    validate: Some(entropy::<35>),
    around: Some(edges),
}

token! {
    /// Authress service client access keys (gitleaks `authress-service-client-access-key`).
    AUTHRESS_KEY, "AUTHRESS_KEY",
    "An Authress service client access key.",
    "entropy",
    enabled: true,
    patterns: [pat(
        "Authress key",
        r"\b(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][A-Za-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120}",
        0.85,
    )],
    context: ["authress"],
    validate: Some(entropy::<20>),
    around: Some(edges_b64),
}

token! {
    /// Facebook access tokens (gitleaks `facebook-page-access-token`, `facebook-access-token`).
    FACEBOOK_TOKEN, "FACEBOOK_TOKEN",
    "A Facebook (Meta) page access token (EAAM…, EAAC…) or app access token (id|secret).",
    "entropy",
    enabled: true,
    patterns: [
        pat("Facebook page access token", r"\bEAA[MC][A-Za-z0-9]{100,}", 0.9),
        pat("Facebook app access token", r"\b[0-9]{15,16}(?:\||%7[Cc])[0-9A-Za-z_-]{27,40}", 0.7),
    ],
    context: ["facebook", "meta", "graph api", "fb"],
    validate: Some(entropy::<35>),
    around: Some(edges),
}

token! {
    /// Frame.io API tokens (gitleaks `frameio-api-token`).
    FRAMEIO_TOKEN, "FRAMEIO_TOKEN",
    "A Frame.io API token (fio-u-…).",
    "entropy",
    enabled: true,
    patterns: [pat("Frame.io token", r"\bfio-u-[A-Za-z0-9_=-]{64}", 0.9)],
    context: ["frame.io", "frameio"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// 42 Intra client secrets (gitleaks `intra42-client-secret`).
    INTRA42_SECRET, "INTRA42_SECRET",
    "A 42 Intra API client secret (s-s4t2ud-, s-s4t2af-).",
    "entropy",
    enabled: true,
    patterns: [pat("Intra42 secret", r"\bs-s4t2(?:ud|af)-[a-fA-F0-9]{64}", 0.9)],
    context: ["42", "intra"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// MaxMind license keys (gitleaks `maxmind-license-key`).
    MAXMIND_LICENSE_KEY, "MAXMIND_LICENSE_KEY",
    "A MaxMind license key (…_mmk).",
    "entropy",
    enabled: true,
    patterns: [pat("MaxMind key", r"\b[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk\b", 0.9)],
    context: ["maxmind", "geoip"],
    validate: Some(entropy::<40>),
    around: Some(edges),
}

token! {
    /// Postman API keys (gitleaks `postman-api-token`).
    POSTMAN_API_KEY, "POSTMAN_API_KEY",
    "A Postman API key (PMAK-…).",
    "entropy",
    enabled: true,
    patterns: [pat("Postman key", r"\bPMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}", 0.9)],
    context: ["postman"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Sentry organisation and user tokens (gitleaks `sentry-org-token`, `sentry-user-token`).
    SENTRY_TOKEN, "SENTRY_TOKEN",
    "A Sentry organisation (sntrys_) or user (sntryu_) auth token.",
    "organisation tokens decode to JSON; entropy",
    enabled: true,
    patterns: [
        pat(
            "Sentry organisation token",
            r"\bsntrys_eyJpYXQiO[A-Za-z0-9+/]{10,200}(?:LCJyZWdpb25fdXJs|InJlZ2lvbl91cmwi|cmVnaW9uX3VybCI6)[A-Za-z0-9+/]{10,200}={0,2}_[A-Za-z0-9+/]{43}",
            0.95,
        ),
        pat("Sentry user token", r"\bsntryu_[a-f0-9]{64}\b", 0.9),
    ],
    context: ["sentry"],
    validate: Some(sentry),
    around: Some(edges_b64),
}

/// An organisation token's middle decodes to a JSON object; gitleaks' entropy otherwise.
fn sentry(m: &str) -> Check {
    if let Some(rest) = m.strip_prefix("sntrys_")
        && let Some((payload, _)) = rest.rsplit_once('_')
        && b64_json(payload)
    {
        return Check::Valid;
    }
    entropy::<35>(m)
}

token! {
    /// SettleMint tokens (gitleaks `settlemint-*-access-token`).
    SETTLEMINT_TOKEN, "SETTLEMINT_TOKEN",
    "A SettleMint application, personal or service access token.",
    "entropy",
    enabled: true,
    patterns: [pat("SettleMint token", r"\bsm_(?:aat|pat|sat)_[A-Za-z0-9]{16}\b", 0.85)],
    context: ["settlemint"],
    validate: Some(entropy::<30>),
    around: Some(edges),
}

token! {
    /// Airtable personal access tokens (gitleaks `airtable-personnal-access-token`).
    AIRTABLE_TOKEN, "AIRTABLE_TOKEN",
    "An Airtable personal access token (pat….…).",
    "entropy",
    enabled: true,
    patterns: [pat("Airtable token", r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b", 0.9)],
    context: ["airtable"],
    validate: Some(entropy::<35>),
    around: Some(edges),
}

token! {
    /// Plaid access tokens (gitleaks `plaid-api-token`, whose prefix is specific enough to
    /// need no keyword).
    PLAID_TOKEN, "PLAID_TOKEN",
    "A Plaid access token (access-sandbox-…, access-development-…, access-production-…).",
    "none",
    enabled: true,
    patterns: [pat(
        "Plaid access token",
        r"\baccess-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        0.9,
    )],
    context: ["plaid"],
    validate: None,
    around: Some(edges),
}
