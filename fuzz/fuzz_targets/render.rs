#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| test_report_fuzz::render_all(data));
