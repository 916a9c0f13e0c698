//! Jump scenarios: several jumps per file, every quality flag, every input
//! format reaching the same numbers.

use mhp_biomech::recording::{Plates, Subject};
use mhp_biomech::synth::{self, CmjSpec, Synthetic};
use mhp_biomech::{
    FlagCode, Metrics, ParseError, ParseOptions, Recording, Report, analyze_bytes,
    analyze_recording, to_mhp_csv,
};

fn single(seed: u64, noise: f64) -> Synthetic {
    synth::cmj(&CmjSpec {
        left_share: None,
        noise_fraction: noise,
        seed,
        ..CmjSpec::default()
    })
    .unwrap()
}

fn fz(recording: &mut Recording) -> &mut Vec<f64> {
    match &mut recording.plates {
        Plates::Single { fz } => fz,
        Plates::Dual { .. } => panic!("expected a single plate"),
    }
}

fn codes(report: &Report, trial: usize) -> Vec<FlagCode> {
    report.trials[trial].flags.iter().map(|f| f.code).collect()
}

fn cmj_height(report: &Report, trial: usize) -> f64 {
    match &report.trials[trial].metrics {
        Some(Metrics::Cmj(m)) => m.jump_height_impulse_m,
        other => panic!("no CMJ metrics: {other:?} {:?}", report.trials[trial].flags),
    }
}

#[test]
fn three_jumps_make_three_trials() {
    let s = synth::cmj(&CmjSpec {
        jumps: 3,
        ..CmjSpec::default()
    })
    .unwrap();
    let report = analyze_recording(&s.recording);
    assert_eq!(report.trials.len(), 3);
    for i in 0..3 {
        assert!(codes(&report, i).is_empty());
        assert!((cmj_height(&report, i) - 0.35).abs() < 0.01);
    }
}

#[test]
fn step_off_without_jump_is_no_flight() {
    let mut s = single(1, 0.005);
    let takeoff = s.truth[0].movement_start;
    fz(&mut s.recording)[takeoff..].fill(0.0);
    let report = analyze_recording(&s.recording);
    assert_eq!(codes(&report, 0), vec![FlagCode::NoFlight]);
    assert!(report.trials[0].metrics.is_none());
}

#[test]
fn hop_after_landing_is_a_double_bounce_warning() {
    let mut s = single(2, 0.005);
    let t = &s.truth[0];
    let hop = t.landing + 500;
    fz(&mut s.recording)[hop..hop + 150].fill(0.0);
    let report = analyze_recording(&s.recording);
    assert_eq!(report.trials.len(), 1);
    assert_eq!(codes(&report, 0), vec![FlagCode::DoubleBounce]);
    assert!((cmj_height(&report, 0) - 0.35).abs() < 0.01);
}

#[test]
fn saturated_amplifier_is_clipping() {
    let mut s = single(3, 0.0);
    let cap = 0.9 * s.truth[0].peak_force_n;
    for f in fz(&mut s.recording) {
        *f = f.min(cap);
    }
    let report = analyze_recording(&s.recording);
    assert_eq!(codes(&report, 0), vec![FlagCode::Clipping]);
}

#[test]
fn nan_sample_is_flagged() {
    let mut s = single(4, 0.005);
    fz(&mut s.recording)[100] = f64::NAN;
    let report = analyze_recording(&s.recording);
    assert_eq!(codes(&report, 0), vec![FlagCode::NonFiniteForce]);
}

#[test]
fn negative_force_is_flagged() {
    let mut s = single(5, 0.005);
    for f in fz(&mut s.recording) {
        *f -= 300.0;
    }
    let report = analyze_recording(&s.recording);
    assert!(
        codes(&report, 0).contains(&FlagCode::NegativeForce),
        "{:?}",
        codes(&report, 0)
    );
}

#[test]
fn short_quiet_standing_is_weighed_on_the_standing_after_the_landing() {
    let mut s = single(6, 0.005);
    let cut = s.truth[0].movement_start - 300;
    fz(&mut s.recording).drain(..cut);
    let report = analyze_recording(&s.recording);
    assert_eq!(codes(&report, 0), vec![FlagCode::BodyWeightFromRecording]);
    assert!((cmj_height(&report, 0) - 0.35).abs() < 0.01);
}

#[test]
fn a_recording_that_starts_mid_movement_is_movement_too_early() {
    let mut s = single(6, 0.005);
    let cut = s.truth[0].movement_start + 100;
    fz(&mut s.recording).drain(..cut);
    let report = analyze_recording(&s.recording);
    assert_eq!(codes(&report, 0), vec![FlagCode::MovementTooEarly]);
}

#[test]
fn swaying_before_the_jump_is_weighed_on_the_standing_after_it() {
    let mut s = single(7, 0.005);
    let start = s.truth[0].movement_start;
    let bw = s.truth[0].body_weight_n;
    for (i, f) in fz(&mut s.recording)[..start].iter_mut().enumerate() {
        *f += 0.08 * bw * (i as f64 * 0.05).sin();
    }
    let report = analyze_recording(&s.recording);
    assert_eq!(codes(&report, 0), vec![FlagCode::BodyWeightFromRecording]);
    assert!((cmj_height(&report, 0) - 0.35).abs() < 0.02);
}

#[test]
fn swaying_throughout_is_no_stable_weighing() {
    let mut s = single(7, 0.005);
    let bw = s.truth[0].body_weight_n;
    let (start, landing) = (s.truth[0].movement_start, s.truth[0].landing);
    for (i, f) in fz(&mut s.recording).iter_mut().enumerate() {
        if i < start || i > landing + 400 {
            *f += 0.08 * bw * (i as f64 * 0.05).sin();
        }
    }
    let report = analyze_recording(&s.recording);
    assert_eq!(codes(&report, 0), vec![FlagCode::NoStableWeighing]);
}

#[test]
fn empty_plate_is_flagged() {
    let mut s = single(8, 0.0);
    fz(&mut s.recording).fill(0.0);
    let report = analyze_recording(&s.recording);
    assert_eq!(codes(&report, 0), vec![FlagCode::EmptyPlate]);
}

#[test]
fn dropped_sample_is_irregular_sampling() {
    let s = single(9, 0.005);
    let csv = to_mhp_csv(&s.recording);
    // Drop one data row: the time column then has a double step.
    let lines: Vec<&str> = csv.lines().collect();
    let kept: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 500)
        .map(|(_, l)| *l)
        .filter(|l| !l.starts_with("# sample_rate_hz"))
        .collect();
    let report = analyze_bytes(
        "x.csv",
        kept.join("\n").as_bytes(),
        &ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(codes(&report, 0), vec![FlagCode::IrregularSampling]);
}

#[test]
fn json_csv_and_memory_agree() {
    let s = synth::cmj(&CmjSpec::default()).unwrap();
    let r = &s.recording;
    let Plates::Dual { left, right } = &r.plates else {
        panic!("dual expected")
    };
    let json = serde_json::json!({
        "sample_rate_hz": r.sample_rate.hz(),
        "test": "cmj",
        "channels": {"fz_left": left, "fz_right": right},
    })
    .to_string();
    let from_json = analyze_bytes("a.json", json.as_bytes(), &ParseOptions::default()).unwrap();
    let from_csv =
        analyze_bytes("a.csv", to_mhp_csv(r).as_bytes(), &ParseOptions::default()).unwrap();
    let in_memory = analyze_recording(r);
    let h = [&from_json, &from_csv, &in_memory].map(|rep| cmj_height(rep, 0));
    assert!((h[0] - h[2]).abs() < 1e-12, "{h:?}");
    // CSV keeps 3 decimals of a newton.
    assert!((h[1] - h[2]).abs() < 1e-4, "{h:?}");
}

#[test]
fn foreign_dialect_kgf_semicolons_decimal_commas_no_time() {
    let s = single(10, 0.005);
    let Plates::Single { fz } = &s.recording.plates else {
        panic!()
    };
    let mut text = String::from("Athlete;Jane Roe\nUnits;kgf\nForce (kgf)\n");
    for f in fz {
        text.push_str(&format!("{:.4}\n", f / 9.806_65).replace('.', ","));
    }
    let err = analyze_bytes("plate.txt", text.as_bytes(), &ParseOptions::default()).unwrap_err();
    assert!(matches!(err, ParseError::MissingSampleRate));
    let opts = ParseOptions::default().with_sample_rate(1000.0);
    let report = analyze_bytes("plate.txt", text.as_bytes(), &opts).unwrap();
    assert!((cmj_height(&report, 0) - 0.35).abs() < 0.01);
    let json = report.to_json().to_string();
    let table = report.render_table();
    assert!(!json.contains("Jane") && !table.contains("Jane"));
}

#[test]
fn subject_stays_in_metadata_only() {
    let mut s = single(11, 0.005);
    s.recording.metadata.subject = Some(Subject::new("Jane Roe"));
    let mut csv = to_mhp_csv(&s.recording);
    csv.push_str("oops,1\n");
    let parsed = mhp_biomech::parse_recording(
        "a.csv",
        to_mhp_csv(&s.recording).as_bytes(),
        &ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(
        parsed.metadata.subject.as_ref().map(Subject::expose),
        Some("Jane Roe")
    );
    assert!(!format!("{parsed:?}").contains("Jane"));
    let err = analyze_bytes("a.csv", csv.as_bytes(), &ParseOptions::default()).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("Jane"));
    assert!(err.line().is_some());
}

#[test]
fn every_jump_reports_its_phases_in_order_and_on_its_events() {
    let s = synth::cmj(&CmjSpec {
        jumps: 2,
        ..CmjSpec::default()
    })
    .unwrap();
    let report = analyze_recording(&s.recording);
    let dt = 1.0 / s.recording.sample_rate.hz();
    assert_eq!(report.trials.len(), 2);
    for (trial, truth) in report.trials.iter().zip(&s.truth) {
        let p = trial.phases.expect("a clean jump has phases");
        let order = [
            p.onset_s,
            p.braking_s,
            p.propulsion_s,
            p.takeoff_s,
            p.landing_s,
            p.landing_end_s,
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{p:?}");
        // Take-off and touch-down within two samples of the truth; onset at or before it.
        assert!(
            (p.takeoff_s - truth.takeoff as f64 * dt).abs() <= 2.0 * dt,
            "{p:?}"
        );
        assert!(
            (p.landing_s - truth.landing as f64 * dt).abs() <= 2.0 * dt,
            "{p:?}"
        );
        assert!(
            p.onset_s <= truth.movement_start as f64 * dt + 0.05,
            "{p:?}"
        );
        // The phases' durations are the metrics' own.
        let Some(Metrics::Cmj(m)) = &trial.metrics else {
            panic!("no CMJ metrics")
        };
        assert!((p.takeoff_s - p.onset_s - m.time_to_takeoff_s).abs() < 1e-9);
        assert!((p.propulsion_s - p.braking_s - m.braking_duration_s).abs() < 1e-9);
        assert!((p.landing_s - p.takeoff_s - m.flight_time_s).abs() < 1e-9);
    }
    // Other tests and blocked trials carry none.
    let mut blocked = single(3, 0.005);
    let start = blocked.truth[0].movement_start;
    fz(&mut blocked.recording)[start..].fill(0.0);
    let report = analyze_recording(&blocked.recording);
    assert!(report.trials.iter().all(|t| t.phases.is_none()));
}
