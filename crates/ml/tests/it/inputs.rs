//! Bad inputs give errors, never panics.

use mhp_ml::{Dataset, MlError, Model, ModelConfig, synth};

use crate::boosting;

fn configs() -> [ModelConfig; 2] {
    [ModelConfig::logistic(), boosting(0, 0.8)]
}

#[test]
fn training_needs_rows_and_both_classes() {
    let empty = Dataset::new(vec!["x".into()]).unwrap();
    let one_class = Dataset::from_rows(
        vec!["x".into()],
        &[vec![1.0], vec![2.0]],
        &[false, false],
        &[0, 1],
    )
    .unwrap();
    for config in configs() {
        assert_eq!(Model::fit(&config, &empty), Err(MlError::EmptyDataset));
        assert_eq!(
            Model::fit(&config, &one_class),
            Err(MlError::SingleClass { label: false })
        );
    }
}

#[test]
fn predicting_checks_the_row() {
    let sample = synth::injury_like(500, 4, 0.0, 1).unwrap();
    for config in configs() {
        let model = Model::fit(&config, &sample.data).unwrap();
        assert_eq!(
            model.predict_proba(&[1.0, 2.0, 3.0]),
            Err(MlError::FeatureCountMismatch {
                expected: 4,
                found: 3
            })
        );
        assert_eq!(
            model.contributions(&[1.0; 5]),
            Err(MlError::FeatureCountMismatch {
                expected: 4,
                found: 5
            })
        );
        assert_eq!(
            model.predict_proba(&[0.0, f64::INFINITY, 0.0, 0.0]),
            Err(MlError::InfiniteFeature { row: 0, feature: 1 })
        );
        assert!(model.predict_proba(&[f64::NAN; 4]).is_ok());
    }
}

#[test]
fn hyper_parameters_out_of_range_are_named() {
    let sample = synth::injury_like(200, 4, 0.0, 1).unwrap();
    let bad = [
        (
            ModelConfig::Logistic {
                l2: -1.0,
                max_iter: 10,
                tol: 1e-6,
            },
            "l2",
        ),
        (
            ModelConfig::Logistic {
                l2: 1.0,
                max_iter: 0,
                tol: 1e-6,
            },
            "max_iter",
        ),
        (
            ModelConfig::Logistic {
                l2: 1.0,
                max_iter: 10,
                tol: f64::NAN,
            },
            "tol",
        ),
    ];
    for (config, name) in bad {
        assert!(matches!(
            Model::fit(&config, &sample.data),
            Err(MlError::InvalidParameter { name: n, .. }) if n == name
        ));
    }
    let good = boosting(0, 0.8);
    let tweak = |f: &dyn Fn(&mut ModelConfig)| {
        let mut c = good.clone();
        f(&mut c);
        c
    };
    let set = |name: &'static str, c: ModelConfig| (c, name);
    let cases = [
        set(
            "n_trees",
            tweak(&|c| {
                if let ModelConfig::GradientBoosting { n_trees, .. } = c {
                    *n_trees = 0
                }
            }),
        ),
        set(
            "learning_rate",
            tweak(&|c| {
                if let ModelConfig::GradientBoosting { learning_rate, .. } = c {
                    *learning_rate = 0.0
                }
            }),
        ),
        set(
            "max_depth",
            tweak(&|c| {
                if let ModelConfig::GradientBoosting { max_depth, .. } = c {
                    *max_depth = 17
                }
            }),
        ),
        set(
            "min_samples_leaf",
            tweak(&|c| {
                if let ModelConfig::GradientBoosting {
                    min_samples_leaf, ..
                } = c
                {
                    *min_samples_leaf = 0
                }
            }),
        ),
        set(
            "subsample",
            tweak(&|c| {
                if let ModelConfig::GradientBoosting { subsample, .. } = c {
                    *subsample = 1.5
                }
            }),
        ),
        set(
            "n_bins",
            tweak(&|c| {
                if let ModelConfig::GradientBoosting { n_bins, .. } = c {
                    *n_bins = 256
                }
            }),
        ),
        set(
            "l2",
            tweak(&|c| {
                if let ModelConfig::GradientBoosting { l2, .. } = c {
                    *l2 = f64::INFINITY
                }
            }),
        ),
    ];
    for (config, name) in cases {
        assert_eq!(
            Model::fit(&config, &sample.data),
            Err(MlError::InvalidParameter {
                name,
                expected: match config.validate() {
                    Err(MlError::InvalidParameter { expected, .. }) => expected,
                    other => panic!("{name}: {other:?}"),
                }
            })
        );
    }
    assert!(Model::fit(&good, &sample.data).is_ok());
}

#[test]
fn extreme_but_valid_settings_still_train() {
    let sample = synth::injury_like(300, 4, 0.3, 2).unwrap();
    let configs = [
        ModelConfig::GradientBoosting {
            n_trees: 3,
            learning_rate: 1.0,
            max_depth: 16,
            min_samples_leaf: 1,
            subsample: 0.001,
            n_bins: 2,
            seed: u64::MAX,
            l2: 0.0,
        },
        ModelConfig::GradientBoosting {
            n_trees: 2,
            learning_rate: 0.5,
            max_depth: 1,
            min_samples_leaf: 1_000,
            subsample: 1.0,
            n_bins: 255,
            seed: 0,
            l2: 1e6,
        },
        ModelConfig::Logistic {
            l2: 1e9,
            max_iter: 1,
            tol: 1e-300,
        },
    ];
    for config in configs {
        let model = Model::fit(&config, &sample.data).unwrap();
        for row in sample.data.rows() {
            let p = model.predict_proba(row).unwrap();
            assert!((0.0..=1.0).contains(&p));
        }
        assert_eq!(Model::from_json(&model.to_json().unwrap()).unwrap(), model);
    }
}
