//! The crate plugin authors use to write Warden plugins in plain Rust.
//!
//! A plugin is a WebAssembly component targeting one world of the `warden:plugin` WIT package
//! ([`WIT`]). With this crate you implement one trait — [`pii::PiiDetector`],
//! [`template::TemplateEngine`] or [`runner::CodeRunner`] — and name your type in that world's
//! export macro; you never touch generated bindings. Enable the matching cargo feature
//! (`pii-detector`, `template-engine` or `code-runner`): it generates that world's bindings when
//! you build for `wasm32-wasip2`, and nothing at all natively, so your logic unit-tests as
//! ordinary Rust.
//!
//! ```
//! use warden_sdk::pii::{DetectOptions, DetectorInfo, Finding, PiiDetector};
//! use warden_sdk::Error;
//!
//! struct Shouting;
//!
//! impl PiiDetector for Shouting {
//!     fn describe() -> DetectorInfo {
//!         DetectorInfo::new("shouting", "1.0.0", ["SHOUT"])
//!     }
//!     fn detect(text: &str, _options: &DetectOptions) -> Result<Vec<Finding>, Error> {
//!         Ok(text
//!             .match_indices("HEY")
//!             .map(|(at, m)| Finding::new("SHOUT", at, at + m.len(), 0.9))
//!             .collect())
//!     }
//! }
//!
//! warden_sdk::export_pii_detector!(Shouting);
//!
//! let found = Shouting::detect("oh HEY there", &DetectOptions::default()).unwrap();
//! assert_eq!((found[0].start, found[0].end), (3, 6));
//! ```
//!
//! Helpers every plugin author ends up writing are here too: check digits ([`checksum`]),
//! spans on UTF-8 byte offsets ([`span`]), context-word scoring ([`context`]) and JSON context
//! access for template engines ([`json`]).
//!
//! **Compatibility:** this SDK targets `warden:plugin@0.1.0`; every Warden 0.1.x accepts the
//! components it builds. A new WIT version comes with a new SDK minor version.

pub mod checksum;
pub mod context;
pub mod json;
pub mod pii;
pub mod runner;
pub mod span;
pub mod template;

mod types;
pub use types::{Error, InputError, Position};

#[cfg(all(
    target_arch = "wasm32",
    any(
        all(feature = "pii-detector", feature = "template-engine"),
        all(feature = "pii-detector", feature = "code-runner"),
        all(feature = "template-engine", feature = "code-runner"),
    )
))]
compile_error!(
    "warden-sdk: enable exactly one of the features `pii-detector`, `template-engine`, \
     `code-runner`: a component targets one world"
);

/// The WIT package (name and version) this SDK targets; Warden accepts plugins built against it.
pub const WIT_PACKAGE: &str = "warden:plugin@0.1.0";

/// The Warden versions that accept components built with this SDK (a semver requirement).
pub const WARDEN_VERSIONS: &str = "^0.1";

/// The full text of the WIT contract, as shipped with this SDK.
pub const WIT: &str = include_str!("../../wit/warden.wit");

/// Generated bindings of the world the enabled feature selects (wasm32 only); used by the
/// export macros, not by plugin code.
#[cfg(all(
    target_arch = "wasm32",
    feature = "pii-detector",
    not(feature = "pii-analyzer")
))]
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod __bindings {
    wit_bindgen::generate!({
        path: "../wit",
        inline: "package warden:sdk; world plugin { include warden:plugin/pii-detector@0.1.0; include warden:plugin/preinit@0.1.0; }",
        world: "warden:sdk/plugin",
        pub_export_macro: true,
        export_macro_name: "__warden_export",
        default_bindings_module: "warden_sdk::__bindings",
        generate_all,
    });
}

/// Generated bindings of a detector that also exports `analyzer` (wasm32 only).
#[cfg(all(target_arch = "wasm32", feature = "pii-analyzer"))]
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod __bindings {
    wit_bindgen::generate!({
        path: "../wit",
        inline: "package warden:sdk; world plugin { include warden:plugin/pii-detector@0.1.0; include warden:plugin/pii-analyzer@0.1.0; include warden:plugin/preinit@0.1.0; }",
        world: "warden:sdk/plugin",
        pub_export_macro: true,
        export_macro_name: "__warden_export",
        default_bindings_module: "warden_sdk::__bindings",
        generate_all,
    });
}

/// Generated bindings of the world the enabled feature selects (wasm32 only).
#[cfg(all(
    target_arch = "wasm32",
    feature = "template-engine",
    not(feature = "template-renderer")
))]
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod __bindings {
    wit_bindgen::generate!({
        path: "../wit",
        inline: "package warden:sdk; world plugin { include warden:plugin/template-engine@0.1.0; include warden:plugin/preinit@0.1.0; }",
        world: "warden:sdk/plugin",
        pub_export_macro: true,
        export_macro_name: "__warden_export",
        default_bindings_module: "warden_sdk::__bindings",
        generate_all,
    });
}

/// Generated bindings of a template engine that also exports `rendering` (wasm32 only).
#[cfg(all(target_arch = "wasm32", feature = "template-renderer"))]
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod __bindings {
    wit_bindgen::generate!({
        path: "../wit",
        inline: "package warden:sdk; world plugin { include warden:plugin/template-engine@0.1.0; include warden:plugin/template-renderer@0.1.0; include warden:plugin/preinit@0.1.0; }",
        world: "warden:sdk/plugin",
        pub_export_macro: true,
        export_macro_name: "__warden_export",
        default_bindings_module: "warden_sdk::__bindings",
        generate_all,
    });
}

/// Generated bindings of the world the enabled feature selects (wasm32 only).
#[cfg(all(target_arch = "wasm32", feature = "code-runner"))]
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod __bindings {
    wit_bindgen::generate!({
        path: "../wit",
        inline: "package warden:sdk; world plugin { include warden:plugin/code-runner@0.1.0; include warden:plugin/preinit@0.1.0; }",
        world: "warden:sdk/plugin",
        pub_export_macro: true,
        export_macro_name: "__warden_export",
        default_bindings_module: "warden_sdk::__bindings",
        generate_all,
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn wit_declares_the_package_this_sdk_names() {
        assert!(super::WIT.contains(&format!("package {};", super::WIT_PACKAGE)));
    }
}
