//! `warden_testkit::json_body` under libFuzzer; the invariants and the input format are
//! documented there (`tests/fuzz.rs` replays this target's corpus on stable). The in-process
//! server starts before the first input.
#![no_main]

libfuzzer_sys::fuzz_target!(init: warden_testkit::prepare_http(), |data: &[u8]| {
    warden_testkit::json_body(data)
});
