#![no_main]
use libfuzzer_sys::fuzz_target;
use test_report::parse::{detect, sniff, FormatChoice};

fuzz_target!(|data: &[u8]| {
    let _ = sniff(data);
    if let Ok(format) = detect(data, FormatChoice::Auto) {
        // Detection and the full parse agree on what they picked.
        if let Ok((parsed_as, _)) = test_report_fuzz::parse_checked(data, FormatChoice::Auto) {
            assert_eq!(parsed_as, format);
        }
    }
});
