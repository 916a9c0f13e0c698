//! Any bytes through the CSV parser: an error or a recording, never a panic;
//! errors that name a line say so first.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mhp_biomech::{Format, ParseOptions, parse_recording};

fuzz_target!(|data: &[u8]| {
    let opts = ParseOptions::default().with_format(Format::Csv);
    match parse_recording("fuzz.csv", data, &opts) {
        Ok(recording) => assert!(recording.len() >= 2),
        Err(err) => {
            if let Some(line) = err.line() {
                assert!(err.to_string().starts_with(&format!("line {line}: ")));
            }
        }
    }
});
