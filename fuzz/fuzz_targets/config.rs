#![no_main]

#[path = "../targets/mod.rs"]
#[allow(dead_code)] // each target uses one of the bodies
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::config::run(data));
