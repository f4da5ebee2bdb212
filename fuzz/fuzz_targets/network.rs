//! libFuzzer target: see `harness::network`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cortecs_fuzz::network(data));
