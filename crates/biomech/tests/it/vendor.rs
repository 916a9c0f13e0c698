//! Other systems' CSV exports: metadata blocks above the header (with keys
//! MHP does not know), a row of units under the header, plates that export
//! each of their four load cells, and the refusals that name the layouts
//! MHP expects.

use mhp_biomech::recording::Plates;
use mhp_biomech::synth::{self, CmjSpec};
use mhp_biomech::{
    AnalysisOptions, ColumnMap, ColumnRole, FlagCode, Metrics, ParseOptions, analyze_bytes,
    analyze_recording_with, parse_recording,
};

fn jump(left_share: Option<f64>) -> synth::Synthetic {
    synth::cmj(&CmjSpec {
        left_share,
        ..CmjSpec::default()
    })
    .unwrap()
}

fn height(report: &mhp_biomech::Report) -> f64 {
    match &report.trials[0].metrics {
        Some(Metrics::Cmj(m)) => m.jump_height_impulse_m,
        other => panic!("{other:?} {}", report.render_table()),
    }
}

/// A vendor-style export: a metadata block, a header, a units row, and
/// the plates' four load cells each, in kgf.
fn vendor_export(s: &synth::Synthetic) -> String {
    let Plates::Dual { left, right } = &s.recording.plates else {
        panic!("dual expected")
    };
    let mut text = String::from(
        "Export Version,3.2\nTest Name,CMJ 3\nAthlete Name,Jane Roe\nTest Date,2024-05-01\nSampling Frequency (Hz),1000\nBody Weight (kg),80\nForce Plate,Dual 4-cell\n\n",
    );
    text.push_str(
        "Time,Left Fz1,Left Fz2,Left Fz3,Left Fz4,Right Fz1,Right Fz2,Right Fz3,Right Fz4,Marker\n",
    );
    text.push_str("s,kgf,kgf,kgf,kgf,kgf,kgf,kgf,kgf,\n");
    let kgf = 9.806_65;
    for (i, (l, r)) in left.iter().zip(right).enumerate() {
        let cells = |f: f64| {
            let f = f / kgf;
            [0.3 * f, 0.2 * f, 0.25 * f, 0.25 * f]
        };
        let (a, b) = (cells(*l), cells(*r));
        text.push_str(&format!(
            "{:.3},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{}\n",
            i as f64 / 1000.0,
            a[0],
            a[1],
            a[2],
            a[3],
            b[0],
            b[1],
            b[2],
            b[3],
            if i == 10 { "start" } else { "" }
        ));
    }
    text
}

#[test]
fn a_vendor_export_with_a_metadata_block_units_row_and_load_cells_is_read() {
    let s = jump(Some(0.45));
    let text = vendor_export(&s);
    let r = parse_recording("export.csv", text.as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(r.sample_rate.hz(), 1000.0);
    assert_eq!(r.metadata.body_mass_kg, Some(80.0));
    assert!(format!("{r:?}").contains("redacted"));
    let (
        Plates::Dual { left, right },
        Plates::Dual {
            left: l0,
            right: r0,
        },
    ) = (&r.plates, &s.recording.plates)
    else {
        panic!("dual expected")
    };
    for (got, want) in left.iter().zip(l0).chain(right.iter().zip(r0)) {
        assert!((got - want).abs() < 0.01, "{got} vs {want}");
    }
    let report = analyze_bytes("export.csv", text.as_bytes(), &ParseOptions::default()).unwrap();
    assert!((height(&report) - 0.35).abs() < 0.01);
    let json = report.to_json().to_string();
    assert!(!json.contains("Jane") && !report.render_table().contains("Jane"));
}

#[test]
fn one_plate_of_four_load_cells_and_a_column_map_for_them() {
    let s = jump(None);
    let Plates::Single { fz } = &s.recording.plates else {
        panic!("single expected")
    };
    let mut text = String::from("time_ms;Fz 1;Fz 2;Fz 3;Fz 4\n");
    for (i, f) in fz.iter().enumerate() {
        text.push_str(
            &format!(
                "{i};{:.4};{:.4};{:.4};{:.4}\n",
                f / 4.0,
                f / 4.0,
                f / 4.0,
                f / 4.0
            )
            .replace('.', ","),
        );
    }
    let report = analyze_bytes("cells.txt", text.as_bytes(), &ParseOptions::default()).unwrap();
    assert!((height(&report) - 0.35).abs() < 0.01);
    let opts = ParseOptions::default().with_columns(ColumnMap::new([
        ColumnRole::TimeMilliseconds,
        ColumnRole::LoadCell(1),
        ColumnRole::LoadCell(2),
        ColumnRole::LoadCell(3),
        ColumnRole::LoadCell(4),
    ]));
    let mapped = analyze_bytes("cells.txt", text.as_bytes(), &opts).unwrap();
    assert!((height(&mapped) - height(&report)).abs() < 1e-12);
}

#[test]
fn incomplete_or_ambiguous_load_cells_are_refused_with_the_expected_layout() {
    for header in ["time_s,fz1,fz2,fz3", "time_s,Fz1,Fz2"] {
        let text = format!("{header}\n0,1,2,3\n0.001,1,2,3\n");
        let err = parse_recording("x.csv", text.as_bytes(), &ParseOptions::default()).unwrap_err();
        assert_eq!(err.code(), "incomplete_load_cells", "{header}: {err}");
        assert!(err.to_string().contains("fz1, fz2, fz3 and fz4"), "{err}");
    }
}

#[test]
fn the_files_body_mass_weighs_when_nothing_else_can() {
    // A recording without a steady second: the file's body mass weighs it.
    let s = jump(None);
    let Plates::Single { fz } = &s.recording.plates else {
        panic!("single expected")
    };
    let start = s.truth[0].movement_start - 300;
    let mut text = String::from("Body Mass: 80 kg\nSample Rate: 1000\nForce (N)\n");
    // Only the jump and 0.4 s of landing: no steady second anywhere.
    for f in &fz[start..s.truth[0].landing + 700] {
        text.push_str(&format!("{f:.3}\n"));
    }
    let report = analyze_bytes("x.csv", text.as_bytes(), &ParseOptions::default()).unwrap();
    let codes: Vec<FlagCode> = report.trials[0].flags.iter().map(|f| f.code).collect();
    assert_eq!(codes, vec![FlagCode::BodyWeightFromWeighIn]);
    assert!((height(&report) - 0.35).abs() < 0.01);
    // The caller's weigh-in wins over the file's.
    let r = parse_recording("x.csv", text.as_bytes(), &ParseOptions::default()).unwrap();
    let report = analyze_recording_with(&r, &AnalysisOptions::default().with_body_mass_kg(85.0));
    let Some(Metrics::Cmj(m)) = &report.trials[0].metrics else {
        panic!()
    };
    assert!((m.body_mass_kg - 85.0).abs() < 1e-9);
}

#[test]
fn out_of_range_options_are_refused() {
    let csv = mhp_biomech::to_mhp_csv(&jump(None).recording);
    let err = analyze_bytes(
        "x.csv",
        csv.as_bytes(),
        &ParseOptions::default().with_body_mass_kg(-3.0),
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_option");
    assert_eq!(
        err.to_string(),
        "option body_mass_kg is out of range (10..=400 kg)"
    );
    let err = analyze_bytes(
        "x.csv",
        csv.as_bytes(),
        &ParseOptions::default().with_box_height_m(f64::NAN),
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_option");
}
