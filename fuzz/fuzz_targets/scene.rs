//! libFuzzer target: see `harness::scene`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cortecs_fuzz::scene(data));
