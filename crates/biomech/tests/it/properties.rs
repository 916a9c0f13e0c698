//! Property tests: synthetic jumps with known physics, analysed, must give
//! back their truth within the tolerances the platform promises.

use mhp_biomech::synth::{self, CmjSpec};
use mhp_biomech::{Metrics, analyze_recording};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn spec_strategy() -> impl Strategy<Value = (CmjSpec, f64)> {
    (
        prop::sample::select(vec![500.0, 1000.0, 2000.0]),
        50.0..120.0f64,
        0.15..0.60f64,
        0.0..0.01f64,
        prop::option::of(-20.0..20.0f64),
        1usize..=2,
        any::<u64>(),
    )
        .prop_map(|(rate, mass, height, noise, asymmetry, jumps, seed)| {
            let spec = CmjSpec {
                body_mass_kg: mass,
                takeoff_velocity_m_s: synth::takeoff_velocity_for_height(height),
                sample_rate_hz: rate,
                noise_fraction: noise,
                left_share: asymmetry.map(synth::left_share_for_asymmetry),
                jumps,
                seed,
            };
            (spec, height)
        })
}

proptest! {
    // A fixed seed keeps CI reproducible; change it to explore new cases.
    // Measured spread at 1 % noise and 500 Hz: impulse height SD 1.9 mm,
    // impulse asymmetry SD 0.22 pp, so the tolerances sit at 4.5-5 SD.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x4d48_5042),
        ..ProptestConfig::default()
    })]

    #[test]
    fn analysis_recovers_synthetic_truth((spec, height) in spec_strategy()) {
        let synthetic = synth::cmj(&spec).unwrap();
        let report = analyze_recording(&synthetic.recording);
        prop_assert_eq!(report.trials.len(), spec.jumps);
        for (trial, truth) in report.trials.iter().zip(&synthetic.truth) {
            prop_assert!(trial.flags.is_empty(), "flags: {:?}", trial.flags);
            let Some(Metrics::Cmj(m)) = &trial.metrics else {
                return Err(TestCaseError::fail("no CMJ metrics"));
            };
            prop_assert!((m.jump_height_impulse_m - height).abs() <= 0.01,
                "impulse height {} vs {}", m.jump_height_impulse_m, height);
            prop_assert!((m.jump_height_flight_m - height).abs() <= 0.02,
                "flight height {} vs {}", m.jump_height_flight_m, height);
            let bw_error = (m.body_weight_n - truth.body_weight_n).abs() / truth.body_weight_n;
            prop_assert!(bw_error <= 0.005, "body weight off by {}", bw_error);
            match (truth.asymmetry_pct, &m.asymmetry) {
                (Some(expected), Some(a)) => {
                    prop_assert!((a.propulsive_impulse_pct - expected).abs() <= 1.0,
                        "propulsive impulse asymmetry {} vs {}", a.propulsive_impulse_pct, expected);
                    prop_assert!((a.mean_propulsive_force_pct - expected).abs() <= 1.0,
                        "mean propulsive force asymmetry {} vs {}", a.mean_propulsive_force_pct, expected);
                    prop_assert!((a.body_weight_pct - expected).abs() <= 1.0,
                        "weight-bearing asymmetry {} vs {}", a.body_weight_pct, expected);
                }
                (None, None) => {}
                (expected, got) => {
                    return Err(TestCaseError::fail(format!("asymmetry {expected:?} vs {got:?}")));
                }
            }
        }
    }
}
