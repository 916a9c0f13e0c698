//! Model configuration, training, prediction, contributions and the JSON artifact.

use serde::{Deserialize, Serialize};

use crate::gbt::{BoostParams, BoostedTrees};
use crate::logistic::{LogisticModel, sigmoid};
use crate::tree::GrowParams;
use crate::{Dataset, MlError};

/// Which model to train, with its hyper-parameters; deserialisable from a settings file:
///
/// ```
/// let config: mhp_ml::ModelConfig = serde_json::from_str(
///     r#"{"model": "logistic", "l2": 1.0, "max_iter": 100, "tol": 1e-8}"#,
/// )?;
/// assert_eq!(config, mhp_ml::ModelConfig::logistic());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelConfig {
    /// L2-regularised logistic regression on standardised features ([`LogisticModel`]).
    Logistic {
        /// Penalty `l2/2 · ‖w‖²` on the standardised weights (`C = 1/l2` in scikit-learn);
        /// `>= 0`.
        l2: f64,
        /// Most Newton steps; `>= 1`.
        max_iter: u32,
        /// Stop when the largest gradient component per row is at most this; `> 0`.
        tol: f64,
    },
    /// Logistic regression on a linear-spline basis ([`LogisticModel`]): each feature with more
    /// than two distinct training values also enters as hinges `max(0, x − c)` at the training
    /// quantiles `knots`, so its effect can bend (a threshold, a U) and stays additive.
    SplineLogistic {
        /// Penalty on the standardised weights of every basis column; `> 0` (the hinges of a
        /// feature are correlated with it).
        l2: f64,
        /// Quantiles of each feature's training values where it may bend; 1 to 9 of them, each
        /// in (0, 1), increasing.
        knots: Vec<f64>,
        /// Most Newton steps; `>= 1`.
        max_iter: u32,
        /// As for [`ModelConfig::Logistic`]; `> 0`.
        tol: f64,
    },
    /// Gradient-boosted trees for log-loss ([`BoostedTrees`]).
    GradientBoosting {
        /// Boosting rounds; `1..=100_000`.
        n_trees: u32,
        /// Shrinkage of each tree's values; `> 0`.
        learning_rate: f64,
        /// Depth limit of a tree (a stump has depth 1); `1..=16`.
        max_depth: u32,
        /// Fewest (subsampled) training rows in a leaf; `>= 1`.
        min_samples_leaf: u32,
        /// Fraction of rows drawn, without replacement, for each tree; `(0, 1]`.
        subsample: f64,
        /// Most quantile bins per feature (missing values get their own); `2..=255`.
        n_bins: u32,
        /// Seed of the subsampling generator.
        seed: u64,
        /// Penalty λ on leaf values: a leaf is −G/(H+λ); `>= 0`.
        l2: f64,
    },
}

impl ModelConfig {
    /// Logistic regression with `l2 = 1`, `max_iter = 100`, `tol = 1e-8`.
    #[must_use]
    pub fn logistic() -> Self {
        Self::Logistic {
            l2: 1.0,
            max_iter: 100,
            tol: 1e-8,
        }
    }

    /// Linear splines with knots at the 10th, 50th and 90th percentiles, `l2 = 10`,
    /// `max_iter = 100`, `tol = 1e-8`.
    #[must_use]
    pub fn spline_logistic() -> Self {
        Self::SplineLogistic {
            l2: 10.0,
            knots: vec![0.1, 0.5, 0.9],
            max_iter: 100,
            tol: 1e-8,
        }
    }

    /// Boosting with 200 trees, learning rate 0.1, depth 4, 20 rows per leaf, subsample
    /// 0.8, 64 bins, seed 0, λ = 1.
    #[must_use]
    pub fn gradient_boosting() -> Self {
        Self::GradientBoosting {
            n_trees: 200,
            learning_rate: 0.1,
            max_depth: 4,
            min_samples_leaf: 20,
            subsample: 0.8,
            n_bins: 64,
            seed: 0,
            l2: 1.0,
        }
    }

    /// Checks every hyper-parameter against its documented range.
    ///
    /// # Errors
    /// [`MlError::InvalidParameter`] naming the first parameter out of range.
    pub fn validate(&self) -> Result<(), MlError> {
        match *self {
            Self::Logistic { l2, max_iter, tol } => {
                require(l2.is_finite() && l2 >= 0.0, "l2", "a finite number >= 0")?;
                require(max_iter >= 1, "max_iter", "at least 1")?;
                require(tol.is_finite() && tol > 0.0, "tol", "a finite number > 0")
            }
            Self::SplineLogistic {
                l2,
                ref knots,
                max_iter,
                tol,
            } => {
                require(l2.is_finite() && l2 > 0.0, "l2", "a finite number > 0")?;
                require(
                    (1..=9).contains(&knots.len())
                        && knots.iter().all(|q| *q > 0.0 && *q < 1.0)
                        && knots.windows(2).all(|w| w[0] < w[1]),
                    "knots",
                    "1 to 9 increasing quantiles in (0, 1)",
                )?;
                require(max_iter >= 1, "max_iter", "at least 1")?;
                require(tol.is_finite() && tol > 0.0, "tol", "a finite number > 0")
            }
            Self::GradientBoosting {
                n_trees,
                learning_rate,
                max_depth,
                min_samples_leaf,
                subsample,
                n_bins,
                seed: _,
                l2,
            } => {
                require((1..=100_000).contains(&n_trees), "n_trees", "in 1..=100000")?;
                require(
                    learning_rate.is_finite() && learning_rate > 0.0,
                    "learning_rate",
                    "a finite number > 0",
                )?;
                require((1..=16).contains(&max_depth), "max_depth", "in 1..=16")?;
                require(min_samples_leaf >= 1, "min_samples_leaf", "at least 1")?;
                require(
                    subsample > 0.0 && subsample <= 1.0,
                    "subsample",
                    "in (0, 1]",
                )?;
                require((2..=255).contains(&n_bins), "n_bins", "in 2..=255")?;
                require(l2.is_finite() && l2 >= 0.0, "l2", "a finite number >= 0")
            }
        }
    }
}

/// A trained model: the artifact stored in the object store (as JSON, see
/// [`Model::to_json`]), carrying the names of the features it expects, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Model {
    /// Logistic regression.
    Logistic(LogisticModel),
    /// Gradient-boosted trees.
    GradientBoosting(BoostedTrees),
    /// A model whose log-odds are recalibrated (Platt scaling, [`Calibration`]).
    Calibrated(Calibrated),
    /// A weighted sum of models' log-odds ([`Blend`]).
    Blend(Blend),
}

/// A blend: the log-odds are `Σ weight · part's log-odds`, each part reading its own columns
/// of the blend's features. Linear in the parts' log-odds, so each part's contributions scale
/// by its weight and add up exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blend {
    /// The features the blend reads: the union of its parts', in order.
    pub features: Vec<String>,
    /// The parts.
    pub parts: Vec<BlendPart>,
}

/// One part of a [`Blend`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlendPart {
    /// Weight of its log-odds; `> 0`.
    pub weight: f64,
    /// For each of the part's features, its column among the blend's features.
    pub columns: Vec<usize>,
    /// The part (neither a blend nor calibrated).
    pub model: Model,
}

impl Blend {
    /// Blends `parts` (weight, model) over the union of their features (in the order first
    /// met).
    ///
    /// # Errors
    /// [`MlError::MalformedModel`] for no part, a weight that is not finite and positive, or
    /// a part that is itself a blend or calibrated.
    pub fn new(parts: Vec<(f64, Model)>) -> Result<Blend, MlError> {
        let mut features: Vec<String> = Vec::new();
        let mut out = Vec::with_capacity(parts.len());
        for (weight, model) in parts {
            let columns = model
                .feature_names()
                .iter()
                .map(|n| match features.iter().position(|f| f == n) {
                    Some(j) => j,
                    None => {
                        features.push(n.clone());
                        features.len() - 1
                    }
                })
                .collect();
            out.push(BlendPart {
                weight,
                columns,
                model,
            });
        }
        let blend = Blend {
            features,
            parts: out,
        };
        blend.check_shape()?;
        Ok(blend)
    }

    fn check_shape(&self) -> Result<(), MlError> {
        if self.parts.is_empty() {
            return Err(MlError::MalformedModel("a blend needs a part"));
        }
        for p in &self.parts {
            if !(p.weight.is_finite() && p.weight > 0.0) {
                return Err(MlError::MalformedModel(
                    "a blend's weights must be finite and positive",
                ));
            }
            if matches!(p.model, Model::Blend(_) | Model::Calibrated(_)) {
                return Err(MlError::MalformedModel("a blend's parts are plain models"));
            }
            p.model.check_shape()?;
            let names = p.model.feature_names();
            if names.len() != p.columns.len()
                || p.columns
                    .iter()
                    .zip(names)
                    .any(|(&j, n)| self.features.get(j) != Some(n))
            {
                return Err(MlError::MalformedModel(
                    "a blend part's columns do not name its features",
                ));
            }
        }
        Ok(())
    }

    fn part_row(p: &BlendPart, row: &[f64]) -> Vec<f64> {
        p.columns.iter().map(|&j| row[j]).collect()
    }
}

/// Platt scaling: the calibrated log-odds are `slope · z + intercept` for the base model's
/// log-odds `z`, fitted by logistic regression of held-out outcomes on held-out `z`
/// ([`Calibration::fit`]). Monotone, so it keeps the ranking (AUC) and scales each feature's
/// contribution by `slope`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Multiplies the base log-odds; `> 0`.
    pub slope: f64,
    /// Added after.
    pub intercept: f64,
}

impl Calibration {
    /// Fits the map on held-out `(base log-odds, outcome)` pairs by Newton's method on the
    /// two-parameter log-likelihood (a tiny ridge keeps it solvable when the pairs separate).
    /// `None` without both outcomes, or when the fitted slope is not positive (the base model
    /// ranks held-out rows no better than chance: nothing to calibrate).
    #[must_use]
    pub fn fit(log_odds: &[f64], labels: &[bool]) -> Option<Calibration> {
        let n = log_odds.len().min(labels.len());
        let positives = labels.iter().take(n).filter(|&&y| y).count();
        if positives == 0 || positives == n {
            return None;
        }
        let (mut a, mut b) = (1.0_f64, 0.0_f64);
        let ridge = 1e-6;
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) =
                (ridge * (a - 1.0), 0.0, ridge, 0.0, 0.0);
            for (&z, &y) in log_odds.iter().zip(labels).take(n) {
                let p = sigmoid(a * z + b);
                let r = p - f64::from(u8::from(y));
                let w = (p * (1.0 - p)).max(1e-12);
                ga += r * z;
                gb += r;
                haa += w * z * z;
                hab += w * z;
                hbb += w;
            }
            let det = haa * hbb - hab * hab;
            if !(det.is_finite() && det > 0.0) {
                break;
            }
            let da = (hbb * ga - hab * gb) / det;
            let db = (haa * gb - hab * ga) / det;
            a -= da;
            b -= db;
            if da.abs().max(db.abs()) < 1e-10 {
                break;
            }
        }
        (a.is_finite() && b.is_finite() && a > 0.0).then_some(Calibration {
            slope: a,
            intercept: b,
        })
    }

    /// The calibrated log-odds of base log-odds `z`.
    #[must_use]
    pub fn apply(&self, z: f64) -> f64 {
        self.slope * z + self.intercept
    }
}

/// A base model with its [`Calibration`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibrated {
    /// The model trained on the features.
    pub base: Box<Model>,
    /// The map of its log-odds.
    pub calibration: Calibration,
}

impl Model {
    /// Trains the configured model on `train`.
    ///
    /// # Errors
    /// [`MlError::InvalidParameter`] for a bad configuration; [`MlError::EmptyDataset`] and
    /// [`MlError::SingleClass`] for data a classifier cannot learn from;
    /// [`MlError::SingularSystem`] if a logistic fit cannot be solved.
    pub fn fit(config: &ModelConfig, train: &Dataset) -> Result<Model, MlError> {
        config.validate()?;
        train.check_trainable()?;
        match *config {
            ModelConfig::Logistic { l2, max_iter, tol } => {
                LogisticModel::fit(train, l2, max_iter, tol).map(Model::Logistic)
            }
            ModelConfig::SplineLogistic {
                l2,
                ref knots,
                max_iter,
                tol,
            } => LogisticModel::fit_spline(train, knots, l2, max_iter, tol).map(Model::Logistic),
            ModelConfig::GradientBoosting {
                n_trees,
                learning_rate,
                max_depth,
                min_samples_leaf,
                subsample,
                n_bins,
                seed,
                l2,
            } => {
                let params = BoostParams {
                    n_trees,
                    subsample,
                    n_bins: n_bins as usize,
                    seed,
                    grow: GrowParams {
                        max_depth,
                        min_samples_leaf,
                        l2,
                        learning_rate,
                    },
                };
                BoostedTrees::fit(train, params).map(Model::GradientBoosting)
            }
        }
    }

    /// The feature names the model expects, in row order.
    #[must_use]
    pub fn feature_names(&self) -> &[String] {
        match self {
            Model::Logistic(m) => m.feature_names(),
            Model::GradientBoosting(m) => m.feature_names(),
            Model::Calibrated(c) => c.base.feature_names(),
            Model::Blend(b) => &b.features,
        }
    }

    /// This model with `calibration` applied to its log-odds (replacing any earlier one).
    #[must_use]
    pub fn calibrated(self, calibration: Calibration) -> Model {
        let base = match self {
            Model::Calibrated(c) => c.base,
            other => Box::new(other),
        };
        Model::Calibrated(Calibrated { base, calibration })
    }

    /// The calibration, if the model has one.
    #[must_use]
    pub fn calibration(&self) -> Option<Calibration> {
        match self {
            Model::Calibrated(c) => Some(c.calibration),
            _ => None,
        }
    }

    /// `logistic`, `spline_logistic`, `gradient_boosting` or `blend`, of the base model when
    /// calibrated.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Model::Logistic(m) if m.knots().is_empty() => "logistic",
            Model::Logistic(_) => "spline_logistic",
            Model::GradientBoosting(_) => "gradient_boosting",
            Model::Calibrated(c) => c.base.kind(),
            Model::Blend(_) => "blend",
        }
    }

    /// The log-odds that [`Model::contributions`] are relative to: the intercept for
    /// logistic regression (a row at the training means), the base score plus every tree's
    /// root value for boosting.
    ///
    /// # Errors
    /// [`MlError::MalformedModel`] for an inconsistent deserialised model.
    pub fn baseline(&self) -> Result<f64, MlError> {
        match self {
            Model::Logistic(m) => {
                m.check_shape()?;
                Ok(m.intercept())
            }
            Model::GradientBoosting(m) => m.baseline(),
            Model::Calibrated(c) => Ok(c.calibration.apply(c.base.baseline()?)),
            Model::Blend(b) => b
                .parts
                .iter()
                .map(|p| Ok(p.weight * p.model.baseline()?))
                .sum(),
        }
    }

    /// The predicted log-odds of the positive class for one row (`NaN` = missing).
    ///
    /// # Errors
    /// [`MlError::FeatureCountMismatch`], [`MlError::InfiniteFeature`] (with row 0),
    /// [`MlError::MalformedModel`].
    pub fn predict_log_odds(&self, row: &[f64]) -> Result<f64, MlError> {
        self.check_row(row)?;
        match self {
            Model::Logistic(m) => m.log_odds(row),
            Model::GradientBoosting(m) => m.log_odds(row),
            Model::Calibrated(c) => Ok(c.calibration.apply(c.base.predict_log_odds(row)?)),
            Model::Blend(b) => b
                .parts
                .iter()
                .map(|p| Ok(p.weight * p.model.predict_log_odds(&Blend::part_row(p, row))?))
                .sum(),
        }
    }

    /// The predicted probability of the positive class for one row (`NaN` = missing).
    ///
    /// # Errors
    /// As [`Model::predict_log_odds`].
    pub fn predict_proba(&self, row: &[f64]) -> Result<f64, MlError> {
        self.predict_log_odds(row).map(sigmoid)
    }

    /// Probabilities for every row of `data`, whose feature names must equal the model's.
    ///
    /// # Errors
    /// [`MlError::FeatureNamesMismatch`], [`MlError::MalformedModel`].
    pub fn predict_dataset(&self, data: &Dataset) -> Result<Vec<f64>, MlError> {
        self.check_feature_names(data.feature_names())?;
        data.rows().map(|row| self.predict_proba(row)).collect()
    }

    /// Each feature's contribution to the row's log-odds relative to [`Model::baseline`],
    /// as `(feature index, contribution)` for every feature in order, so that
    /// baseline + Σ contributions = [`Model::predict_log_odds`] (exactly for logistic
    /// regression, to rounding for boosting).
    ///
    /// Logistic regression: `w_j · z_j` with `z_j` the standardised value (0 when missing).
    /// Boosting: path attribution (Saabas): along the row's path in each tree, the change of
    /// node value at a split is credited to the split's feature.
    ///
    /// # Errors
    /// As [`Model::predict_log_odds`].
    pub fn contributions(&self, row: &[f64]) -> Result<Vec<(usize, f64)>, MlError> {
        self.check_row(row)?;
        let mut values = vec![0.0; row.len()];
        match self {
            Model::Logistic(m) => m.contributions_into(row, &mut values)?,
            Model::GradientBoosting(m) => m.contributions_into(row, &mut values)?,
            Model::Calibrated(c) => {
                // The calibration is linear in the log-odds: each term scales by its slope.
                return Ok(c
                    .base
                    .contributions(row)?
                    .into_iter()
                    .map(|(j, v)| (j, v * c.calibration.slope))
                    .collect());
            }
            Model::Blend(b) => {
                for p in &b.parts {
                    for (k, v) in p.model.contributions(&Blend::part_row(p, row))? {
                        values[p.columns[k]] += p.weight * v;
                    }
                }
            }
        }
        Ok(values.into_iter().enumerate().collect())
    }

    /// The `k` largest contributions by absolute value, largest first (ties: lower index
    /// first); zero contributions are left out.
    ///
    /// # Errors
    /// As [`Model::predict_log_odds`].
    pub fn top_contributions(&self, row: &[f64], k: usize) -> Result<Vec<(usize, f64)>, MlError> {
        let mut all = self.contributions(row)?;
        all.retain(|&(_, v)| v != 0.0);
        all.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        all.truncate(k);
        Ok(all)
    }

    /// The artifact: compact JSON that [`Model::from_json`] turns back into an equal model
    /// (every `f64` round-trips exactly).
    ///
    /// # Errors
    /// [`MlError::Artifact`] if serialisation fails (it does not for a trained model).
    pub fn to_json(&self) -> Result<String, MlError> {
        serde_json::to_string(self).map_err(|e| MlError::Artifact(e.to_string()))
    }

    /// Reads an artifact and checks that it is internally consistent.
    ///
    /// # Errors
    /// [`MlError::Artifact`] for invalid JSON; [`MlError::MalformedModel`] for a model whose
    /// parts do not fit together.
    pub fn from_json(json: &str) -> Result<Model, MlError> {
        let model: Model =
            serde_json::from_str(json).map_err(|e| MlError::Artifact(e.to_string()))?;
        model.check_shape()?;
        Ok(model)
    }

    /// Refuses a model whose parts do not fit together (only possible after deserialising).
    ///
    /// # Errors
    /// [`MlError::MalformedModel`].
    pub fn check_shape(&self) -> Result<(), MlError> {
        match self {
            Model::Logistic(m) => m.check_shape(),
            Model::GradientBoosting(m) => m.check_shape(),
            Model::Calibrated(c) => {
                let k = c.calibration;
                if !(k.slope.is_finite() && k.slope > 0.0 && k.intercept.is_finite()) {
                    return Err(MlError::MalformedModel(
                        "a calibration needs a finite positive slope and a finite intercept",
                    ));
                }
                if matches!(*c.base, Model::Calibrated(_)) {
                    return Err(MlError::MalformedModel("a calibration of a calibration"));
                }
                c.base.check_shape()
            }
            Model::Blend(b) => b.check_shape(),
        }
    }

    /// Refuses a dataset whose feature names differ from the model's.
    pub(crate) fn check_feature_names(&self, names: &[String]) -> Result<(), MlError> {
        let ours = self.feature_names();
        match ours.iter().zip(names).position(|(a, b)| a != b) {
            Some(position) => Err(MlError::FeatureNamesMismatch { position }),
            None if ours.len() != names.len() => Err(MlError::FeatureNamesMismatch {
                position: ours.len().min(names.len()),
            }),
            None => Ok(()),
        }
    }

    fn check_row(&self, row: &[f64]) -> Result<(), MlError> {
        let expected = self.feature_names().len();
        if row.len() != expected {
            return Err(MlError::FeatureCountMismatch {
                expected,
                found: row.len(),
            });
        }
        if let Some(feature) = row.iter().position(|v| v.is_infinite()) {
            return Err(MlError::InfiniteFeature { row: 0, feature });
        }
        Ok(())
    }
}

fn require(ok: bool, name: &'static str, expected: &'static str) -> Result<(), MlError> {
    if ok {
        Ok(())
    } else {
        Err(MlError::InvalidParameter { name, expected })
    }
}
