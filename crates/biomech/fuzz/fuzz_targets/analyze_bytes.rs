//! The whole pipeline (format detection, parsing, segmentation, analysis,
//! JSON and table rendering) on any bytes, with a sample rate from the
//! first byte when the file has none: never a panic, never a non-finite
//! number in a report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mhp_biomech::{ParseOptions, analyze_bytes};

fuzz_target!(|data: &[u8]| {
    let Some((&rate_byte, rest)) = data.split_first() else {
        return;
    };
    let mut opts = ParseOptions::default();
    if rate_byte & 1 == 1 {
        opts = opts.with_sample_rate(50.0 + f64::from(rate_byte) * 10.0);
    }
    let name = if rate_byte & 2 == 2 {
        "fuzz.json"
    } else {
        "fuzz"
    };
    if let Ok(report) = analyze_bytes(name, rest, &opts) {
        let json = report.to_json();
        assert!(!json.is_null());
        let _ = report.render_table();
        for trial in &report.trials {
            if let Some(metrics) = &trial.metrics {
                let text = format!("{metrics:?}");
                assert!(
                    !text.contains("NaN") && !text.contains("inf"),
                    "non-finite metric"
                );
            }
        }
    }
});
