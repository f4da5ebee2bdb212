//! libFuzzer target: see `harness::expr`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cortecs_fuzz::expr(data));
