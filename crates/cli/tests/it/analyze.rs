//! `mhp analyze`: the real binary on files written to disk.

use mhp_biomech::synth::{self, CmjSpec};
use mhp_biomech::{ANALYSIS_VERSION, Plates, to_mhp_csv};

use crate::{mhp, stderr, stdout};

fn two_jumps() -> synth::Synthetic {
    synth::cmj(&CmjSpec {
        body_mass_kg: 72.0,
        takeoff_velocity_m_s: synth::takeoff_velocity_for_height(0.31),
        left_share: Some(synth::left_share_for_asymmetry(6.0)),
        jumps: 2,
        seed: 7,
        ..CmjSpec::default()
    })
    .unwrap()
}

#[test]
fn analyze_prints_the_json_contract_for_every_trial() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("athlete-cmj.csv");
    let jumps = two_jumps();
    std::fs::write(&path, to_mhp_csv(&jumps.recording)).unwrap();

    let out = mhp(&["analyze", path.to_str().unwrap()], &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["file"], "athlete-cmj.csv");
    assert_eq!(report["analysis_version"], ANALYSIS_VERSION);
    let trials = report["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 2, "{report:#}");
    for (i, (trial, truth)) in trials.iter().zip(&jumps.truth).enumerate() {
        assert_eq!(trial["index"], i);
        assert_eq!(trial["kind"], "cmj");
        assert_eq!(trial["flags"], serde_json::json!([]), "{trial:#}");
        let m = &trial["metrics"];
        let height = m["jump_height_impulse_m"].as_f64().unwrap();
        assert!((height - truth.jump_height_m).abs() < 0.01, "{height}");
        let flight = m["jump_height_flight_m"].as_f64().unwrap();
        assert!((flight - truth.jump_height_m).abs() < 0.02, "{flight}");
        let mass = m["body_mass_kg"].as_f64().unwrap();
        assert!((mass - 72.0).abs() < 0.36, "{mass}");
        for key in ["takeoff_velocity_m_s", "flight_time_s"] {
            assert!(m[key].as_f64().is_some(), "{key} missing: {m:#}");
        }
        let asym = m["asymmetry"]["propulsive_impulse_pct"].as_f64().unwrap();
        assert!((asym - 6.0).abs() < 1.0, "{asym}");
    }
}

#[test]
fn analyze_table_is_for_people_and_stdin_is_accepted() {
    let jumps = two_jumps();
    let csv = to_mhp_csv(&jumps.recording);
    let out = mhp(&["analyze", "-", "--format", "table"], &[], Some(&csv));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("trial 0 (cmj)") && text.contains("trial 1 (cmj)"),
        "{text}"
    );
    assert!(
        text.contains("jump_height_impulse_m") || text.contains("jump height"),
        "{text}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
}

#[test]
fn a_file_without_a_rate_needs_the_sample_rate_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.txt");
    // Another system's export: two force columns, tab separated, decimal commas, no time.
    let jumps = two_jumps();
    let mut text = String::from("Left\tRight\n");
    let Plates::Dual { left, right } = &jumps.recording.plates else {
        panic!("the synthetic jumps are dual-plate");
    };
    for (l, r) in left.iter().zip(right) {
        text.push_str(&format!("{l:.3}\t{r:.3}\n").replace('.', ","));
    }
    std::fs::write(&path, text).unwrap();
    let file = path.to_str().unwrap();

    let out = mhp(&["analyze", file], &[], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(file) && err.contains("sample"), "{err}");
    assert!(stdout(&out).is_empty());

    let out = mhp(&["analyze", file, "--sample-rate", "1000"], &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["trials"].as_array().unwrap().len(), 2);
}

#[test]
fn columns_no_export_names_are_read_by_the_map_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.csv");
    // A lab's own logger: time in milliseconds, then the two plates, under its own names.
    let jumps = two_jumps();
    let Plates::Dual { left, right } = &jumps.recording.plates else {
        panic!("the synthetic jumps are dual-plate");
    };
    let mut text = String::from("ms,plate_a,plate_b\n");
    for (i, (l, r)) in left.iter().zip(right).enumerate() {
        text.push_str(&format!("{i},{l:.3},{r:.3}\n"));
    }
    std::fs::write(&path, text).unwrap();
    let file = path.to_str().unwrap();

    let out = mhp(&["analyze", file], &[], None);
    assert_eq!(out.status.code(), Some(2), "unknown names are refused");
    let out = mhp(
        &["analyze", file, "--columns", "time_ms,left,bogus"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("column 3"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());

    let out = mhp(
        &["analyze", file, "--columns", "time_ms,left,right"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["trials"].as_array().unwrap().len(), 2);
}

#[test]
fn unreadable_input_exits_2_naming_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "# sample_rate_hz: 1000\ntime_s,fz_n\n0.000,800.0\n0.001,eight hundred\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let out = mhp(&["analyze", file, "--format", "table"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("{file}:4: ")), "{err}");
    assert!(stdout(&out).is_empty());

    let missing = dir.path().join("nowhere.csv");
    let out = mhp(&["analyze", missing.to_str().unwrap()], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nowhere.csv: cannot open"),
        "{}",
        stderr(&out)
    );
}
