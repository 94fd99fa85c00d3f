// Shared by `lib.rs` and `build.rs` (which `include!`s it), so the CPython runner and the
// Python plugin kit are built by the same toolchain.

/// The componentize-py release every Python component is built with: the CPython runner here,
/// Python plugins by `warden plugin build`.
pub const COMPONENTIZE_PY: &str = "0.25.1";
/// The pytest release installed beside it, for `warden plugin test`.
pub const PYTEST: &str = "9.2.0";
