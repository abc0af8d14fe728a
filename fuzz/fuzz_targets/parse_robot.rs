#![no_main]
use libfuzzer_sys::fuzz_target;
use test_report::parse::Format;

fuzz_target!(|data: &[u8]| test_report_fuzz::parse_as(data, Format::Robot));
