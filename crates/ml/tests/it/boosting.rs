//! Gradient-boosted trees: interactions, determinism, missing values.

use mhp_ml::rng::Rng;
use mhp_ml::{Dataset, Model, ModelConfig, synth};

use crate::{auc, auc_of, boosting, split};

#[test]
fn learns_an_interaction_logistic_regression_cannot() {
    let sample = synth::xor(6_000, 3).unwrap();
    let (train, test, truth) = split(&sample);
    let trees = Model::fit(&boosting(1, 0.8), &train).unwrap();
    let linear = Model::fit(&ModelConfig::logistic(), &train).unwrap();
    let trees_auc = auc(&trees, &test);
    let linear_auc = auc(&linear, &test);
    let true_auc = auc_of(&test, &truth);
    assert!(trees_auc > 0.8, "boosting AUC {trees_auc}");
    assert!(linear_auc < 0.6, "logistic AUC {linear_auc}");
    assert!(trees_auc > linear_auc + 0.2);
    assert!(
        trees_auc > true_auc - 0.05,
        "{trees_auc} vs true {true_auc}"
    );
}

#[test]
fn same_seed_gives_a_bit_identical_artifact() {
    let sample = synth::injury_like(3_000, 8, 0.1, 9).unwrap();
    let a = Model::fit(&boosting(42, 0.7), &sample.data).unwrap();
    let b = Model::fit(&boosting(42, 0.7), &sample.data).unwrap();
    assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
    let c = Model::fit(&boosting(43, 0.7), &sample.data).unwrap();
    assert_ne!(a.to_json().unwrap(), c.to_json().unwrap());
    // Without subsampling the seed is unused.
    let d = Model::fit(&boosting(1, 1.0), &sample.data).unwrap();
    let e = Model::fit(&boosting(2, 1.0), &sample.data).unwrap();
    assert_eq!(d.to_json().unwrap(), e.to_json().unwrap());
}

#[test]
fn logistic_fit_is_deterministic_too() {
    let sample = synth::injury_like(2_000, 5, 0.1, 1).unwrap();
    let a = Model::fit(&ModelConfig::logistic(), &sample.data).unwrap();
    let b = Model::fit(&ModelConfig::logistic(), &sample.data).unwrap();
    assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
}

#[test]
fn missing_values_learn_their_own_direction() {
    // x0 is missing for a fifth of the rows, and exactly those rows are high risk.
    let mut rng = Rng::new(17);
    let mut data = Dataset::new(vec!["x0".into(), "x1".into()]).unwrap();
    for week in 0..5_000 {
        let missing = rng.bernoulli(0.2);
        let x0 = rng.normal();
        let p = if missing {
            0.7
        } else {
            1.0 / (1.0 + (2.0 - x0).exp())
        };
        let x = [if missing { f64::NAN } else { x0 }, rng.normal()];
        data.push(&x, rng.bernoulli(p), week, &[]).unwrap();
    }
    let model = Model::fit(&boosting(5, 0.8), &data).unwrap();
    let p_missing = model.predict_proba(&[f64::NAN, 0.0]).unwrap();
    let p_typical = model.predict_proba(&[0.0, 0.0]).unwrap();
    assert!((p_missing - 0.7).abs() < 0.1, "missing → {p_missing}");
    assert!(p_typical < 0.25, "x0 = 0 → {p_typical}");
    // A row with everything missing still gets a probability.
    let p = model.predict_proba(&[f64::NAN, f64::NAN]).unwrap();
    assert!(p > 0.0 && p < 1.0);
}

#[test]
fn more_rounds_fit_the_training_data_better() {
    let sample = synth::injury_like(3_000, 6, 0.0, 2).unwrap();
    let loss = |n_trees| {
        let config = ModelConfig::GradientBoosting {
            n_trees,
            learning_rate: 0.1,
            max_depth: 3,
            min_samples_leaf: 10,
            subsample: 1.0,
            n_bins: 32,
            seed: 0,
            l2: 1.0,
        };
        let model = Model::fit(&config, &sample.data).unwrap();
        let p = model.predict_dataset(&sample.data).unwrap();
        mhp_ml::Predictions::new(sample.data.labels().to_vec(), p)
            .unwrap()
            .log_loss()
    };
    let (few, many) = (loss(5), loss(60));
    assert!(many < few - 0.01, "{few} → {many}");
}
