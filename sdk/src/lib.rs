//! The crate plugin authors use to write Warden plugins against the `warden:plugin` WIT worlds.
//!
//! It starts small: the contract itself, so that a plugin crate and the host it targets can be
//! checked against the same text. World traits, the export macro and helpers come with the SDK
//! issue.

/// The WIT package (name and version) this SDK targets; Warden accepts plugins built against it.
pub const WIT_PACKAGE: &str = "warden:plugin@0.1.0";

/// The full text of the WIT contract, as shipped with this SDK.
pub const WIT: &str = include_str!("../../wit/warden.wit");

#[cfg(test)]
mod tests {
    #[test]
    fn wit_declares_the_package_this_sdk_names() {
        assert!(super::WIT.contains(&format!("package {};", super::WIT_PACKAGE)));
    }
}
