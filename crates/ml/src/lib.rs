//! MHP's injury-risk models: training and evaluating binary classifiers ("injured within the
//! horizon or not") on tabular features.
//!
//! Pure: no I/O, no database, no clock, no global randomness. Training is deterministic for
//! a configuration (boosting's subsampling draws from a generator seeded by the
//! configuration), so the same data and configuration give a bit-identical artifact.
//!
//! # What it owns
//!
//! * [`Dataset`]: named `f64` features (`NaN` = missing), labels, a time per row (week or
//!   day index) and group tags (`sex`, `sport`, …), checked row by row; time-based splits
//!   ([`Dataset::split_by_time`], [`Dataset::time_cutoff`]) so that a model is always tested
//!   on a later period than it learnt from.
//! * [`ModelConfig`] (deserialisable from settings) and the trained [`Model`]:
//!   [`LogisticModel`], L2-regularised logistic regression on standardised features fitted
//!   by Newton's method, and [`BoostedTrees`], gradient-boosted trees for log-loss on
//!   quantile histograms with learnt directions for missing values.
//! * Explanations: [`Model::contributions`] splits a prediction's log-odds into one term per
//!   feature over [`Model::baseline`] (weights × standardised values; path attribution for
//!   trees); [`Model::top_contributions`] keeps the largest.
//! * The artifact: [`Model::to_json`] / [`Model::from_json`], exact round trip, checked on
//!   load so a corrupted artifact gives an error, not a panic.
//! * Evaluation: [`Predictions`] (ROC AUC, average precision, Brier score, log-loss, decile
//!   calibration) and [`Evaluation`], the same overall and per group value.
//!
//! * `onnx` (cargo feature `onnx`): two-class models trained elsewhere (scikit-learn,
//!   LightGBM, XGBoost) imported as ONNX, checked against their feature schema and run by
//!   tract, a pure-Rust runtime; explanations by substituting reference values.
//! * [`search`]: feature groups, regularisation and model kind chosen by time-ordered
//!   cross-validation inside the training weeks, then a Platt calibration on the held-out
//!   weeks ([`Calibration`]).
//! * [`features`]: one subject's de-identified history (metrics, load, injuries) to one row
//!   of features as of a day, with the label "injured within the horizon" for training.
//!
//! Not here: reading histories from storage, scheduling training, storing artifacts, serving
//! predictions; those belong to the layers that call this crate.
//!
//! # Use
//!
//! ```
//! use mhp_ml::{Evaluation, Model, ModelConfig, synth};
//!
//! let sample = synth::injury_like(2_000, 6, 0.05, 7)?;
//! let cutoff = sample.data.time_cutoff(0.7)?;
//! let (train, test) = sample.data.split_by_time(cutoff);
//!
//! let model = Model::fit(&ModelConfig::logistic(), &train)?;
//! let evaluation = Evaluation::of(&model, &test)?;
//! assert!(evaluation.overall.roc_auc.is_some_and(|auc| auc > 0.6));
//!
//! let row = test.row(0).unwrap_or_default();
//! let why = model.top_contributions(row, 3)?;
//! assert!(why.len() <= 3);
//!
//! let artifact = model.to_json()?;
//! assert_eq!(Model::from_json(&artifact)?, model);
//! # Ok::<(), mhp_ml::MlError>(())
//! ```

mod binning;
mod dataset;
mod error;
mod evaluation;
pub mod explain;
pub mod features;
mod gbt;
mod linalg;
mod logistic;
mod metrics;
mod model;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod reliability;
pub mod rng;
pub mod search;
pub mod synth;
mod tree;

pub use dataset::{Dataset, Group};
pub use error::MlError;
pub use evaluation::{Evaluation, GroupMetrics};
pub use gbt::BoostedTrees;
pub use logistic::{Hinge, LogisticModel};
pub use metrics::{
    AucInterval, CalibrationBin, LOG_LOSS_EPS, Metrics, Predictions, expected_calibration_error,
};
pub use model::{Blend, BlendPart, Calibrated, Calibration, Model, ModelConfig};
