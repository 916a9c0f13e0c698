//! Gradient-boosted trees for log-loss (XGBoost-style second-order boosting on histograms).

use serde::{Deserialize, Serialize};

use crate::binning::BinnedMatrix;
use crate::logistic::sigmoid;
use crate::rng::Rng;
use crate::tree::{self, GrowParams, Tree};
use crate::{Dataset, MlError};

/// A fitted ensemble: log-odds = `base_score` + the sum of the trees' leaf values.
///
/// Training starts from the log-odds of the training base rate; each round takes the
/// gradient `p − y` and hessian `p(1 − p)` of the log-loss at the current scores, draws a
/// subsample of rows (without replacement, from a seeded generator), and grows a tree on
/// quantile-binned features whose leaves are Newton steps −G/(H+λ) scaled by the learning
/// rate. Missing values follow a default direction learnt at each split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoostedTrees {
    feature_names: Vec<String>,
    base_score: f64,
    trees: Vec<Tree>,
}

/// Hyper-parameters of a boosting run (validated by the caller).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoostParams {
    pub(crate) n_trees: u32,
    pub(crate) subsample: f64,
    pub(crate) n_bins: usize,
    pub(crate) seed: u64,
    pub(crate) grow: GrowParams,
}

/// Lower bound of a hessian, so that a node of confident rows still has a finite Newton step.
const MIN_HESSIAN: f64 = 1e-16;

impl BoostedTrees {
    /// The log-odds every prediction starts from (the training base rate).
    #[must_use]
    pub fn base_score(&self) -> f64 {
        self.base_score
    }

    /// Number of trees.
    #[must_use]
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Total number of nodes over all trees.
    #[must_use]
    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(Tree::len).sum()
    }

    pub(crate) fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    pub(crate) fn fit(data: &Dataset, params: BoostParams) -> Result<BoostedTrees, MlError> {
        data.check_trainable()?;
        let n = data.n_rows();
        let bins = BinnedMatrix::build(data, params.n_bins);
        let labels: Vec<f64> = data
            .labels()
            .iter()
            .map(|&y| f64::from(u8::from(y)))
            .collect();
        let base_rate = data.positives() as f64 / n as f64;
        let base_score = (base_rate / (1.0 - base_rate)).ln();

        let mut scores = vec![base_score; n];
        let mut grad = vec![0.0; n];
        let mut hess = vec![0.0; n];
        let mut sampler = Subsampler::new(n, params.subsample, params.seed);
        let mut trees = Vec::with_capacity(params.n_trees as usize);
        for _ in 0..params.n_trees {
            for i in 0..n {
                let p = sigmoid(scores[i]);
                grad[i] = p - labels[i];
                hess[i] = (p * (1.0 - p)).max(MIN_HESSIAN);
            }
            let rows = sampler.draw();
            let tree = tree::grow(&bins, &grad, &hess, rows, params.grow);
            for (score, row) in scores.iter_mut().zip(data.rows()) {
                *score += tree.leaf_value(row)?;
            }
            trees.push(tree);
        }
        Ok(BoostedTrees {
            feature_names: data.feature_names().to_vec(),
            base_score,
            trees,
        })
    }

    pub(crate) fn log_odds(&self, row: &[f64]) -> Result<f64, MlError> {
        let mut z = self.base_score;
        for tree in &self.trees {
            z += tree.leaf_value(row)?;
        }
        Ok(z)
    }

    /// The log-odds of a row that reaches every root: base score plus the roots' values.
    pub(crate) fn baseline(&self) -> Result<f64, MlError> {
        let mut z = self.base_score;
        for tree in &self.trees {
            z += tree.root_value()?;
        }
        Ok(z)
    }

    pub(crate) fn contributions_into(&self, row: &[f64], out: &mut [f64]) -> Result<(), MlError> {
        for tree in &self.trees {
            tree.attribute(row, out)?;
        }
        Ok(())
    }

    pub(crate) fn check_shape(&self) -> Result<(), MlError> {
        if !self.base_score.is_finite() {
            return Err(MlError::MalformedModel("the base score is not finite"));
        }
        let n_features = self.feature_names.len();
        self.trees
            .iter()
            .try_for_each(|tree| tree.check_shape(n_features))
    }
}

/// Draws the rows of each round: all of them, or `round(subsample · n)` (at least one)
/// without replacement by a partial Fisher–Yates shuffle, returned in ascending order so
/// that sums run in a fixed order.
struct Subsampler {
    permutation: Vec<u32>,
    take: usize,
    rng: Rng,
}

impl Subsampler {
    fn new(n: usize, subsample: f64, seed: u64) -> Self {
        let take = ((subsample * n as f64).round() as usize).clamp(1, n);
        Self {
            permutation: (0..n as u32).collect(),
            take,
            rng: Rng::new(seed),
        }
    }

    fn draw(&mut self) -> Vec<u32> {
        let n = self.permutation.len();
        if self.take < n {
            for i in 0..self.take {
                let j = i + self.rng.below((n - i) as u64) as usize;
                self.permutation.swap(i, j);
            }
        }
        let mut rows = self.permutation[..self.take].to_vec();
        rows.sort_unstable();
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsampler_draws_distinct_rows_of_the_asked_size() {
        let mut s = Subsampler::new(100, 0.3, 9);
        let a = s.draw();
        let b = s.draw();
        assert_eq!(a.len(), 30);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert!(a.iter().all(|&r| r < 100));
        assert_ne!(a, b);
        let mut all = Subsampler::new(5, 1.0, 9);
        assert_eq!(all.draw(), vec![0, 1, 2, 3, 4]);
        assert_eq!(Subsampler::new(5, 0.01, 9).draw().len(), 1);
    }
}
