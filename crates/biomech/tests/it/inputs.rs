//! What the parser accepts and refuses at the door: unrecognised columns,
//! files without one usable force sample, and the format it detects (and
//! reports) for uploads with a byte-order mark or leading blank space.

use mhp_biomech::recording::Plates;
use mhp_biomech::synth::{self, CmjSpec};
use mhp_biomech::{
    ColumnMap, ColumnRole, FlagCode, Format, ParseError, ParseOptions, Report, analyze_bytes,
    analyze_recording, detect_format, to_mhp_csv,
};

fn jump_csv() -> String {
    to_mhp_csv(&synth::cmj(&CmjSpec::default()).unwrap().recording)
}

fn jump_json() -> String {
    let r = synth::cmj(&CmjSpec::default()).unwrap().recording;
    let Plates::Dual { left, right } = &r.plates else {
        panic!("dual expected")
    };
    serde_json::json!({
        "sample_rate_hz": r.sample_rate.hz(),
        "channels": {"fz_left": left, "fz_right": right},
    })
    .to_string()
}

fn analyze(name: &str, bytes: &[u8]) -> Result<Report, ParseError> {
    analyze_bytes(name, bytes, &ParseOptions::default())
}

/// The analysed jump: one CMJ trial with metrics.
fn assert_jump(report: &Report) {
    assert_eq!(report.trials.len(), 1);
    assert!(
        report.trials[0].metrics.is_some(),
        "{:?}",
        report.trials[0].flags
    );
}

#[test]
fn unknown_columns_are_refused_unless_mapped() {
    let csv = jump_csv();
    // The synthetic jump's dual-plate columns renamed to words the parser
    // does not know, and its time column to `sec`.
    let renamed = csv.replace("time_s,fz_left_n,fz_right_n", "sec,foo,bar");
    let err = analyze("upload.csv", renamed.as_bytes()).unwrap_err();
    assert_eq!(err.code(), "unknown_columns");
    assert!(
        err.to_string()
            .contains("(columns 1, 2 and 3 not recognised)"),
        "{err}"
    );
    let map = ColumnMap::new([
        ColumnRole::TimeSeconds,
        ColumnRole::ForceLeft,
        ColumnRole::ForceRight,
    ]);
    let opts = ParseOptions::default().with_columns(map);
    let mapped = analyze_bytes("upload.csv", renamed.as_bytes(), &opts).unwrap();
    let named = analyze("upload.csv", csv.as_bytes()).unwrap();
    assert_jump(&mapped);
    assert_eq!(mapped.trials, named.trials);

    let two = "sec,reading\n0.000,800\n0.001,801\n0.002,802\n";
    let err = analyze("a.csv", two.as_bytes()).unwrap_err();
    assert!(
        matches!(err, ParseError::UnknownColumns { line: 1, .. }),
        "{err}"
    );
    let opts = ParseOptions::default()
        .with_columns(ColumnMap::new([ColumnRole::TimeSeconds, ColumnRole::Force]));
    let report = analyze_bytes("a.csv", two.as_bytes(), &opts).unwrap();
    assert_eq!(report.recording.samples, 3);
    assert_eq!(report.recording.plates, "single");
}

#[test]
fn files_without_usable_force_are_refused_in_both_formats() {
    let csv = jump_csv();
    let json = jump_json();
    let rows = csv
        .lines()
        .filter(|l| l.starts_with(char::is_numeric))
        .count();
    for bad in ["NaN", "inf", "-inf", "1e308", "-1e308", "250000"] {
        let mut text = String::from("# sample_rate_hz: 1000\ntime_s,fz_left_n,fz_right_n\n");
        for i in 0..rows {
            text.push_str(&format!("{:.3},{bad},{bad}\n", i as f64 / 1000.0));
        }
        let err = analyze("a.csv", text.as_bytes()).unwrap_err();
        assert!(matches!(err, ParseError::NoUsableForce), "{bad}: {err}");
        assert_eq!(err.code(), "no_usable_force");
        assert!(
            !err.to_string().contains(bad.trim_start_matches('-')),
            "{err}"
        );
    }
    for bad in ["1e308", "-1e308", "100001"] {
        let n = json.matches(',').count();
        let values = vec![bad; n].join(",");
        let text = format!(
            "{{\"sample_rate_hz\": 1000, \"channels\": {{\"fz_left\": [{values}], \"fz_right\": [{values}]}}}}"
        );
        let err = analyze("a.json", text.as_bytes()).unwrap_err();
        assert!(matches!(err, ParseError::NoUsableForce), "{bad}: {err}");
    }
    // JSON has no NaN or infinity: such tokens, or numbers past f64, are
    // malformed JSON, refused as before.
    for bad in ["NaN", "Infinity", "-Infinity", "1e999"] {
        let text =
            format!("{{\"sample_rate_hz\": 1000, \"channels\": {{\"fz\": [{bad}, {bad}]}}}}");
        let err = analyze("a.json", text.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "invalid_json", "{bad}: {err}");
    }
}

#[test]
fn a_few_bad_samples_are_flagged_as_before() {
    let csv = jump_csv();
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    let header = lines.iter().position(|l| l.starts_with("time_s")).unwrap();
    for offset in [10, 500, 2000] {
        let row = &mut lines[header + offset];
        let time = row.split(',').next().unwrap().to_owned();
        *row = format!("{time},NaN,NaN");
    }
    let report = analyze("a.csv", lines.join("\n").as_bytes()).unwrap();
    assert_eq!(report.trials.len(), 1);
    let codes: Vec<FlagCode> = report.trials[0].flags.iter().map(|f| f.code).collect();
    assert_eq!(codes, vec![FlagCode::NonFiniteForce]);
    assert!(report.trials[0].metrics.is_none());

    // The left plate missing at every instant but one: that one instant is
    // enough for the file to be read (and flagged); at none, it is refused.
    let one_usable: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i > header && i != header + 1 {
                let time = l.split(',').next().unwrap();
                format!("{time},NaN,400\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let report = analyze("a.csv", one_usable.as_bytes()).unwrap();
    assert_eq!(report.trials[0].flags[0].code, FlagCode::NonFiniteForce);
    let none_usable = one_usable.replacen(&lines[header + 1], "0.000000,NaN,400", 1);
    let err = analyze("a.csv", none_usable.as_bytes()).unwrap_err();
    assert!(matches!(err, ParseError::NoUsableForce), "{err}");
}

#[test]
fn detected_format_is_the_one_read_and_reported() {
    let json = jump_json();
    let csv = jump_csv();
    let cases: [(&str, Vec<u8>, Format); 7] = [
        (
            "upload",
            [b"\xEF\xBB\xBF", json.as_bytes()].concat(),
            Format::Json,
        ),
        (
            "upload",
            [b"\r\n  \t", json.as_bytes()].concat(),
            Format::Json,
        ),
        (
            "upload",
            [b"\xEF\xBB\xBF\n ", json.as_bytes()].concat(),
            Format::Json,
        ),
        (
            "upload.json",
            [b"\xEF\xBB\xBF", json.as_bytes()].concat(),
            Format::Json,
        ),
        (
            "upload",
            [b"\xEF\xBB\xBF", csv.as_bytes()].concat(),
            Format::Csv,
        ),
        ("upload", [b"\n\n", csv.as_bytes()].concat(), Format::Csv),
        (
            "upload.csv",
            [b"\xEF\xBB\xBF", csv.as_bytes()].concat(),
            Format::Csv,
        ),
    ];
    for (name, bytes, expected) in cases {
        assert_eq!(detect_format(name, &bytes), expected, "{name}");
        let report = analyze(name, &bytes).unwrap();
        assert_eq!(report.recording.format, Some(expected), "{name}");
        assert_eq!(report.to_json()["recording"]["format"], expected.as_str());
        assert_jump(&report);
        // A reader handing out a few bytes at a time decides the same.
        let reader = std::io::BufReader::with_capacity(2, bytes.as_slice());
        let report = analyze_bytes(name, reader, &ParseOptions::default()).unwrap();
        assert_eq!(report.recording.format, Some(expected), "{name}");
    }
    // A fixed format is reported as fixed; an in-memory recording has none.
    let opts = ParseOptions::default().with_format(Format::Json);
    let report = analyze_bytes("upload.csv", json.as_bytes(), &opts).unwrap();
    assert_eq!(report.recording.format, Some(Format::Json));
    let memory = analyze_recording(&synth::cmj(&CmjSpec::default()).unwrap().recording);
    assert_eq!(memory.recording.format, None);
    assert!(memory.to_json()["recording"]["format"].is_null());
}
