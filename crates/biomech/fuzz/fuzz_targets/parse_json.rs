//! Any bytes through the JSON parser: an error or a recording, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mhp_biomech::{Format, ParseOptions, parse_recording};

fuzz_target!(|data: &[u8]| {
    let opts = ParseOptions::default().with_format(Format::Json);
    if let Ok(recording) = parse_recording("fuzz.json", data, &opts) {
        assert!(recording.len() >= 2);
    }
});
