//! Balance and plank sway from synthetic CoP with known spread.

use mhp_biomech::synth::{self, BalanceSpec};
use mhp_biomech::{FlagCode, Metrics, TrialKind, analyze_bytes, analyze_recording, to_mhp_csv};

#[test]
fn ellipse_area_matches_the_generating_spread() {
    let spec = BalanceSpec {
        duration_s: 120.0,
        ..BalanceSpec::default()
    };
    let recording = synth::balance(&spec).unwrap();
    let report = analyze_recording(&recording);
    assert_eq!(report.trials.len(), 1);
    let Some(Metrics::Balance(m)) = &report.trials[0].metrics else {
        panic!("{:?}", report.trials[0].flags)
    };
    let expected = std::f64::consts::PI * 5.991 * spec.sway_sd_ml_m * spec.sway_sd_ap_m;
    assert!(
        (m.ellipse_area_95_m2 / expected - 1.0).abs() < 0.25,
        "{} vs {expected}",
        m.ellipse_area_95_m2
    );
    assert!((m.body_mass_kg - spec.body_mass_kg).abs() < 0.1);
    assert!(m.range_ap_m > m.range_ml_m);
    assert!(
        m.mean_velocity_m_s > 0.0
            && (m.path_length_m / m.duration_s - m.mean_velocity_m_s).abs() < 1e-12
    );
}

#[test]
fn plank_kind_and_csv_round_trip() {
    let recording = synth::balance(&BalanceSpec {
        kind: TrialKind::Plank,
        ..BalanceSpec::default()
    })
    .unwrap();
    let csv = to_mhp_csv(&recording);
    let report = analyze_bytes("plank.csv", csv.as_bytes(), &Default::default()).unwrap();
    assert_eq!(report.trials[0].kind, TrialKind::Plank);
    assert!(report.trials[0].metrics.is_some());
}

#[test]
fn kind_is_guessed_from_cop_without_flight() {
    let mut recording = synth::balance(&BalanceSpec::default()).unwrap();
    recording.metadata.test = None;
    let report = analyze_recording(&recording);
    assert_eq!(report.trials[0].kind, TrialKind::Balance);
}

#[test]
fn balance_without_cop_is_flagged() {
    let mut recording = synth::balance(&BalanceSpec::default()).unwrap();
    recording.cop = None;
    let report = analyze_recording(&recording);
    assert_eq!(report.trials[0].flags[0].code, FlagCode::NoCentreOfPressure);
}

#[test]
fn short_balance_is_flagged() {
    let recording = synth::balance(&BalanceSpec {
        duration_s: 3.0,
        ..BalanceSpec::default()
    })
    .unwrap();
    let report = analyze_recording(&recording);
    assert_eq!(report.trials[0].flags[0].code, FlagCode::TrialTooShort);
}
