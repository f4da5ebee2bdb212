//! libFuzzer target: see `harness::npy`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cortecs_fuzz::npy(data));
