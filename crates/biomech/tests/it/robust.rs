//! Any signal, any kind: the analysis never panics and never reports a
//! non-finite number. Signals are built from random pieces (levels, ramps,
//! zeros, spikes, oscillations, drops to zero), so they hit the edges of
//! every rule: flights of one sample, stretches at the ends, pulls without
//! standing, landings without a drop.

use mhp_biomech::recording::{Metadata, Plates, Recording, SampleRate};
use mhp_biomech::{AnalysisOptions, TrialKind, analyze_recording_with};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

#[derive(Debug, Clone)]
enum Piece {
    Level(f64, usize),
    Ramp(f64, f64, usize),
    Wave(f64, f64, usize),
    Spike(f64),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        (-100.0..4000.0f64, 1usize..3000).prop_map(|(l, n)| Piece::Level(l, n)),
        (0.0..3000.0f64, 0.0..3000.0f64, 1usize..800).prop_map(|(a, b, n)| Piece::Ramp(a, b, n)),
        (0.0..2000.0f64, 1.0..400.0f64, 1usize..2000).prop_map(|(a, p, n)| Piece::Wave(a, p, n)),
        (-1e5..1e5f64).prop_map(Piece::Spike),
    ]
}

fn build(pieces: &[Piece]) -> Vec<f64> {
    let mut f = Vec::new();
    for p in pieces {
        match *p {
            Piece::Level(l, n) => f.extend(std::iter::repeat_n(l, n)),
            Piece::Ramp(a, b, n) => f.extend((0..n).map(|j| a + (b - a) * j as f64 / n as f64)),
            Piece::Wave(a, period, n) => f.extend(
                (0..n).map(|j| 800.0 + a * (j as f64 * std::f64::consts::TAU / period).sin()),
            ),
            Piece::Spike(v) => f.push(v),
        }
    }
    if f.len() < 2 {
        f.extend([0.0, 0.0]);
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x726f_6275),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_signal_any_kind_never_panics_nor_reports_non_finite_numbers(
        pieces in prop::collection::vec(piece(), 1..24),
        kind in prop::option::of(prop::sample::select(TrialKind::ALL.to_vec())),
        dual in any::<bool>(),
        rate in prop::sample::select(vec![50.0, 200.0, 1000.0, 2000.0]),
        weigh_in in prop::option::of(-10.0..500.0f64),
    ) {
        let total = build(&pieces);
        let plates = if dual {
            Plates::Dual {
                left: total.iter().map(|f| 0.6 * f).collect(),
                right: total.iter().map(|f| 0.4 * f).collect(),
            }
        } else {
            Plates::Single { fz: total }
        };
        let recording = Recording {
            sample_rate: SampleRate::new(rate).unwrap(),
            plates,
            cop: None,
            timing: None,
            metadata: Metadata { test: kind, ..Metadata::default() },
        };
        let mut options = AnalysisOptions::default().with_box_height_m(0.3);
        if let Some(kg) = weigh_in {
            options = options.with_body_mass_kg(kg);
        }
        let report = analyze_recording_with(&recording, &options);
        prop_assert!(!report.trials.is_empty());
        let text = format!("{:?} {:?}", report.trials, report.summary);
        prop_assert!(!text.contains("NaN") && !text.contains("inf"), "{}", report.render_table());
        let _ = report.to_json();
    }
}
