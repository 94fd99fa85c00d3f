//! Warden's built-in PII detector as an Extism plugin: the `warden-plugin-pii` crate (the very
//! code the built-in component runs) behind an `extism-pdk` export, so that the comparison
//! measures the two hosts' call overhead on the same work.

use extism_pdk::{FnResult, Json, plugin_fn};
use serde::Serialize;

/// One finding on the wire: Extism passes bytes, so findings travel as JSON.
#[derive(Serialize)]
pub struct Found {
    /// The entity type, such as `EMAIL_ADDRESS`.
    pub entity_type: &'static str,
    /// Start, in UTF-8 bytes.
    pub start: usize,
    /// End, in UTF-8 bytes (exclusive).
    pub end: usize,
    /// Confidence, 0..=1.
    pub score: f32,
}

/// Detects PII in the input text with the default options (every type, minimum score 0.5).
#[plugin_fn]
pub fn detect(text: String) -> FnResult<Json<Vec<Found>>> {
    let opts = warden_plugin_pii::DetectOptions::default();
    Ok(Json(
        warden_plugin_pii::detect(&text, &opts)
            .into_iter()
            .map(|f| Found {
                entity_type: f.entity_type.as_str(),
                start: f.start,
                end: f.end,
                score: f.score,
            })
            .collect(),
    ))
}
