//! The component glue: exports the `pii-detector` world (and `wizer-initialize`).
// Generated bindings contain the canonical-ABI glue, which is `unsafe` by nature and undocumented.
#![allow(unsafe_code, missing_docs)]

wit_bindgen::generate!({
    path: "../../wit",
    inline: "package warden:builtin-pii; world plugin { include warden:plugin/pii-detector@0.1.0; include warden:plugin/preinit@0.1.0; }",
    world: "warden:builtin-pii/plugin",
    generate_all,
});

use exports::warden::plugin::detector::{DetectOptions, DetectorInfo, Finding, Guest as Detector};
use warden::plugin::types::{Error, InputError};

struct Component;

export!(Component);

impl Guest for Component {
    fn wizer_initialize() {
        crate::warm();
    }
}

impl Detector for Component {
    fn describe() -> DetectorInfo {
        let info = crate::describe();
        DetectorInfo {
            name: info.name.to_owned(),
            version: info.version.to_owned(),
            entity_types: info.entity_types.into_iter().map(str::to_owned).collect(),
        }
    }

    fn detect(text: String, options: DetectOptions) -> Result<Vec<Finding>, Error> {
        let opts =
            crate::DetectOptions::from_wire(&options.entities, options.min_score, options.explain)
                .map_err(|e| {
                    Error::InvalidInput(InputError {
                        kind: "option".to_owned(),
                        message: e.message,
                        position: None,
                    })
                })?;
        let mut out = Vec::new();
        for f in crate::detect(&text, &opts) {
            // Offsets fit: a component's memory (and so `text`) is below 4 GiB.
            let (Ok(start), Ok(end)) = (u32::try_from(f.start), u32::try_from(f.end)) else {
                return Err(Error::GuestFailure("offset beyond 4 GiB".to_owned()));
            };
            out.push(Finding {
                entity_type: f.entity_type.as_str().to_owned(),
                start,
                end,
                score: f.score,
                explanation: f.explanation,
            });
        }
        Ok(out)
    }
}
