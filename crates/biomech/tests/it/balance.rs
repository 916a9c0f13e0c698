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

/// Two plates exporting each their own centre of pressure (in one frame, mm) read as the
/// force-weighted combination: the same sway as a file with the combined centre of pressure.
#[test]
fn two_plates_with_their_own_centre_of_pressure_read_as_the_combined_one() {
    use std::fmt::Write as _;
    let recording = synth::balance(&BalanceSpec {
        duration_s: 30.0,
        ..BalanceSpec::default()
    })
    .unwrap();
    let fz = recording.plates.total();
    let cop = recording.cop.as_ref().unwrap();
    let dt = 1.0 / recording.sample_rate.hz();
    let mut combined =
        String::from("# test: balance\ntime_s,fz_left_n,fz_right_n,cop_x_m,cop_y_m\n");
    let mut per_plate = String::from(
        "# test: balance\ntime_s,fz_left_n,fz_right_n,cop_x_left_mm,cop_y_left_mm,cop_x_right_mm,cop_y_right_mm\n",
    );
    for (i, f) in fz.iter().enumerate() {
        let share = 0.5 + 0.1 * (i as f64 / 50.0).sin();
        let (l, r) = (f * share, f * (1.0 - share));
        // The left foot's own centre of pressure 10 cm to the left of the body's, the right
        // one's where the weighted mean puts it.
        let (dxl, dyl) = (-0.10, 0.02);
        let (dxr, dyr) = (-dxl * l / r, -dyl * l / r);
        let t = i as f64 * dt;
        writeln!(
            combined,
            "{t:.4},{l:.6},{r:.6},{:.9},{:.9}",
            cop.x[i], cop.y[i]
        )
        .unwrap();
        writeln!(
            per_plate,
            "{t:.4},{l:.6},{r:.6},{:.6},{:.6},{:.6},{:.6}",
            (cop.x[i] + dxl) * 1000.0,
            (cop.y[i] + dyl) * 1000.0,
            (cop.x[i] + dxr) * 1000.0,
            (cop.y[i] + dyr) * 1000.0
        )
        .unwrap();
    }
    let sway = |csv: &str| {
        let report = analyze_bytes("sway.csv", csv.as_bytes(), &Default::default()).unwrap();
        match &report.trials[0].metrics {
            Some(Metrics::Balance(m)) => m.clone(),
            _ => panic!("{:?}", report.trials[0].flags),
        }
    };
    let (want, got) = (sway(&combined), sway(&per_plate));
    for (name, a, b) in [
        (
            "ellipse area",
            want.ellipse_area_95_m2,
            got.ellipse_area_95_m2,
        ),
        ("path length", want.path_length_m, got.path_length_m),
        ("range ML", want.range_ml_m, got.range_ml_m),
        ("range AP", want.range_ap_m, got.range_ap_m),
        (
            "mean velocity",
            want.mean_velocity_m_s,
            got.mean_velocity_m_s,
        ),
    ] {
        assert!(
            (a - b).abs() <= 1e-6 * a.abs().max(1e-9),
            "{name}: {a} against {b}"
        );
    }

    // The same columns under names MHP does not know, read through a column map (metres).
    let mut foreign = String::from("# test: balance\nt,a,b,c,d,e,f\n");
    for line in per_plate.lines().skip(2) {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        writeln!(
            foreign,
            "{},{},{},{},{},{},{}",
            v[0],
            v[1],
            v[2],
            v[3] / 1000.0,
            v[4] / 1000.0,
            v[5] / 1000.0,
            v[6] / 1000.0
        )
        .unwrap();
    }
    let map = mhp_biomech::ColumnMap::parse(
        "time_s,left,right,left_cop_x,left_cop_y,right_cop_x,right_cop_y",
    )
    .unwrap();
    assert_eq!(
        map.to_string(),
        "time_s,left,right,left_cop_x,left_cop_y,right_cop_x,right_cop_y"
    );
    let report = analyze_bytes(
        "mapped.csv",
        foreign.as_bytes(),
        &mhp_biomech::ParseOptions::default().with_columns(map),
    )
    .unwrap();
    let Some(Metrics::Balance(mapped)) = &report.trials[0].metrics else {
        panic!("{:?}", report.trials[0].flags)
    };
    assert!((mapped.path_length_m / want.path_length_m - 1.0).abs() < 1e-6);

    // Three of the four coordinates, or plate coordinates on one plate, are refused by name.
    for header in [
        "time_s,fz_left_n,fz_right_n,cop_x_left_mm,cop_y_left_mm,cop_x_right_mm\n0,400,400,1,1,1\n0.01,400,400,1,1,1\n",
        "time_s,fz_n,cop_x_left_mm,cop_y_left_mm\n0,800,1,1\n0.01,800,1,1\n",
    ] {
        let err = analyze_bytes("bad.csv", header.as_bytes(), &Default::default()).unwrap_err();
        assert!(err.to_string().contains("cop_x_left_mm"), "{err}");
    }
}

/// A plate under 2 % of the load does not count; where nobody stands the point holds (the
/// first defined one before anyone stood).
#[test]
fn an_unloaded_plate_does_not_move_the_combined_centre_of_pressure() {
    use mhp_biomech::recording::CentreOfPressure;
    let cop = |x: &[f64], y: &[f64]| CentreOfPressure {
        x: x.to_vec(),
        y: y.to_vec(),
    };
    let left = cop(&[0.0, -0.1, -0.1, -0.1, 9.0], &[0.0, 0.0, 0.0, 0.0, 9.0]);
    let right = cop(&[0.0, 0.1, 7.0, 0.3, 0.2], &[0.0, 0.2, 7.0, 0.2, 0.2]);
    let c = CentreOfPressure::combined(
        &[0.0, 300.0, 400.0, 0.0, 5.0],
        &[0.0, 100.0, 4.0, 0.0, 400.0],
        &left,
        &right,
    );
    let want_x = [-0.05, -0.05, -0.1, -0.1, 0.2];
    let want_y = [0.05, 0.05, 0.0, 0.0, 0.2];
    for i in 0..5 {
        assert!((c.x[i] - want_x[i]).abs() < 1e-12, "x[{i}] = {}", c.x[i]);
        assert!((c.y[i] - want_y[i]).abs() < 1e-12, "y[{i}] = {}", c.y[i]);
    }
}
