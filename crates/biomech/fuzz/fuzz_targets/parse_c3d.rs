//! The C3D reader on any bytes (named `.c3d`, so the reader runs even
//! without the key byte), then the analysis of whatever it reads: never a
//! panic, never a non-finite number in a report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mhp_biomech::{ParseOptions, analyze_bytes};

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = analyze_bytes("fuzz.c3d", data, &ParseOptions::default()) {
        let text = format!("{:?}", report.trials);
        assert!(
            !text.contains("NaN") && !text.contains("inf"),
            "non-finite metric"
        );
    }
});
