//! Integration tests of `mhp-ml`: models judged against synthetic data with a known truth.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod artifact;
mod boosting;
mod demo_histories;
mod evaluation;
mod explain;
mod features;
mod inputs;
mod logistic;
#[cfg(feature = "onnx")]
mod onnx;

use mhp_ml::synth::Sample;
use mhp_ml::{Dataset, Model, ModelConfig, Predictions};

/// Boosting settings for the tests: small and quick, seeded.
pub fn boosting(seed: u64, subsample: f64) -> ModelConfig {
    ModelConfig::GradientBoosting {
        n_trees: 80,
        learning_rate: 0.1,
        max_depth: 3,
        min_samples_leaf: 10,
        subsample,
        n_bins: 32,
        seed,
        l2: 1.0,
    }
}

/// The first 70 % of weeks train, the rest test; with the true probabilities of the test rows.
pub fn split(sample: &Sample) -> (Dataset, Dataset, Vec<f64>) {
    let cutoff = sample.data.time_cutoff(0.7).unwrap();
    let (train, test) = sample.data.split_by_time(cutoff);
    let truth = sample
        .data
        .times()
        .iter()
        .zip(&sample.true_probabilities)
        .filter(|(t, _)| **t >= cutoff)
        .map(|(_, p)| *p)
        .collect();
    (train, test, truth)
}

/// ROC AUC of `model` on `data`.
pub fn auc(model: &Model, data: &Dataset) -> f64 {
    let p = model.predict_dataset(data).unwrap();
    Predictions::new(data.labels().to_vec(), p)
        .unwrap()
        .roc_auc()
        .unwrap()
}

/// ROC AUC of given probabilities on `data`.
pub fn auc_of(data: &Dataset, probabilities: &[f64]) -> f64 {
    Predictions::new(data.labels().to_vec(), probabilities.to_vec())
        .unwrap()
        .roc_auc()
        .unwrap()
}
