//! `warden_testkit::component` under libFuzzer; the invariants and the input format are documented
//! there (`tests/fuzz.rs` replays this target's corpus on stable).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| warden_testkit::component(data));
