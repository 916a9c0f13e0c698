use mhp_biomech::{Metrics, TrialKind, analyze_bytes};

use crate::orgs;

/// Analyses the file of assessment `i` and checks it against the plan.
fn round_trip(org: &mhp_demo::DemoOrg, i: usize) {
    let planned = &org.assessments[i];
    let csv = mhp_demo::recording_csv(org, i).unwrap();
    let subject = &org.subjects[planned.subject].external_id;
    assert!(csv.contains(&format!("# subject: {subject}\n")));
    let report = analyze_bytes("x.csv", csv.as_bytes(), &Default::default()).unwrap();
    assert_eq!(report.trials.len(), 3, "{}", report.render_table());
    for trial in &report.trials {
        assert_eq!(trial.kind, TrialKind::Cmj);
        let Some(Metrics::Cmj(m)) = &trial.metrics else {
            panic!("no CMJ metrics: {}", report.render_table());
        };
        let height_error = (m.jump_height_impulse_m - planned.jump_height_m).abs();
        assert!(
            height_error < 0.015,
            "{} vs {}",
            m.jump_height_impulse_m,
            planned.jump_height_m
        );
        let asym = m.asymmetry.as_ref().unwrap();
        for measured in [asym.propulsive_impulse_pct, asym.peak_propulsive_force_pct] {
            assert!(
                (measured - planned.asymmetry_pct).abs() < 1.5,
                "{measured} vs {}",
                planned.asymmetry_pct
            );
        }
        assert!((m.body_mass_kg - planned.body_mass_kg).abs() < 1.0);
    }
}

#[test]
fn recordings_round_trip_through_the_engine() {
    let org = &orgs()[0];
    let a = &org.assessments;
    let by = |key: &dyn Fn(&mhp_demo::PlannedAssessment) -> f64| {
        (0..a.len())
            .max_by(|x, y| key(&a[*x]).total_cmp(&key(&a[*y])))
            .unwrap()
    };
    let picks = [
        0,
        a.len() / 2,
        by(&|p| p.jump_height_m),
        by(&|p| -p.jump_height_m),
        by(&|p| p.asymmetry_pct),
        by(&|p| -p.asymmetry_pct),
    ];
    for i in picks {
        round_trip(org, i);
    }
}
