//! libFuzzer target: see `harness::checkpoint`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cortecs_fuzz::checkpoint(data));
