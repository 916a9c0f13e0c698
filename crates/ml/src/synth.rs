//! Synthetic datasets with a known truth, for tests and benchmarks.
//!
//! Each generator is deterministic for its seed and returns the true probability of every
//! row beside the data, so a model can be judged against the best possible one. Rows are
//! spread evenly over 52 weekly times (0..=51) in order, and tagged with `sex` (F/M) and,
//! for [`injury_like`], `sport`. Realistic injury data lives in `mhp-demo`; these are
//! deliberately simple shapes.

use crate::logistic::sigmoid;
use crate::rng::Rng;
use crate::{Dataset, MlError};

/// A synthetic dataset and the true probability of each row.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The rows.
    pub data: Dataset,
    /// The probability each label was drawn with.
    pub true_probabilities: Vec<f64>,
}

/// Rows from a logistic model: feature `x{j}` is normal with mean `j` and standard
/// deviation `1 + j/2`, and the label is drawn with probability
/// `sigmoid(intercept + Σ coefficients[j]·x{j})`.
///
/// # Errors
/// [`MlError::NoFeatures`] when `coefficients` is empty.
pub fn logistic(
    rows: usize,
    intercept: f64,
    coefficients: &[f64],
    seed: u64,
) -> Result<Sample, MlError> {
    let mut rng = Rng::new(seed);
    let mut builder = Builder::new(names(coefficients.len()), rows)?;
    for i in 0..rows {
        let x: Vec<f64> = (0..coefficients.len())
            .map(|j| j as f64 + (1.0 + j as f64 / 2.0) * rng.normal())
            .collect();
        let logit = intercept + x.iter().zip(coefficients).map(|(x, c)| x * c).sum::<f64>();
        builder.push(&mut rng, i, &x, sigmoid(logit), &[])?;
    }
    Ok(builder.finish())
}

/// An interaction no additive model can express: `x0`, `x1` uniform on (−1, 1), `x2` pure
/// noise; the label is positive with probability `sigmoid(2.5)` ≈ 0.92 when `x0·x1 > 0`
/// and `sigmoid(−2.5)` ≈ 0.08 otherwise.
///
/// # Errors
/// None in practice; the signature matches the other generators.
pub fn xor(rows: usize, seed: u64) -> Result<Sample, MlError> {
    let mut rng = Rng::new(seed);
    let mut builder = Builder::new(names(3), rows)?;
    for i in 0..rows {
        let x = [
            2.0 * rng.next_f64() - 1.0,
            2.0 * rng.next_f64() - 1.0,
            rng.normal(),
        ];
        let logit = if x[0] * x[1] > 0.0 { 2.5 } else { -2.5 };
        builder.push(&mut rng, i, &x, sigmoid(logit), &[])?;
    }
    Ok(builder.finish())
}

/// An injury-like shape over `features` standard-normal features (at least 4): a base rate
/// near 19 %, a linear effect of `x0`, a threshold effect of `x1` above 0.5, an interaction
/// `x2·x3`, small effects of the next few features, the rest noise; a small effect of
/// `sex` and `sport`. Each feature value is then hidden (`NaN`) with probability
/// `missing_rate`, independently of everything (the truth uses the full values).
///
/// # Errors
/// None in practice; the signature matches the other generators.
pub fn injury_like(
    rows: usize,
    features: usize,
    missing_rate: f64,
    seed: u64,
) -> Result<Sample, MlError> {
    const SPORTS: [&str; 3] = ["rugby", "football", "military"];
    let features = features.max(4);
    let mut rng = Rng::new(seed);
    let mut builder = Builder::new(names(features), rows)?;
    for i in 0..rows {
        let mut x: Vec<f64> = (0..features).map(|_| rng.normal()).collect();
        let sport = SPORTS[rng.below(3) as usize];
        let female = rng.bernoulli(0.4);
        let small: f64 = x
            .iter()
            .skip(4)
            .take(4)
            .enumerate()
            .map(|(k, v)| if k % 2 == 0 { 0.15 } else { -0.15 } * v)
            .sum();
        let logit = -2.3
            + 0.8 * x[0]
            + 1.2 * (x[1] - 0.5).max(0.0)
            + 0.9 * x[2] * x[3]
            + small
            + if female { 0.2 } else { 0.0 }
            + if sport == "rugby" { 0.3 } else { 0.0 };
        for v in &mut x {
            if rng.bernoulli(missing_rate) {
                *v = f64::NAN;
            }
        }
        let sex = if female { "F" } else { "M" };
        builder.push(
            &mut rng,
            i,
            &x,
            sigmoid(logit),
            &[("sport", sport), ("sex", sex)],
        )?;
    }
    Ok(builder.finish())
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|j| format!("x{j}")).collect()
}

/// Accumulates rows, drawing labels and (unless given) a `sex` tag.
struct Builder {
    data: Dataset,
    truth: Vec<f64>,
    rows: usize,
}

impl Builder {
    fn new(names: Vec<String>, rows: usize) -> Result<Self, MlError> {
        Ok(Self {
            data: Dataset::new(names)?,
            truth: Vec::with_capacity(rows),
            rows: rows.max(1),
        })
    }

    fn push(
        &mut self,
        rng: &mut Rng,
        index: usize,
        x: &[f64],
        probability: f64,
        tags: &[(&str, &str)],
    ) -> Result<(), MlError> {
        let label = rng.bernoulli(probability);
        let week = (index * 52 / self.rows) as i64;
        if tags.is_empty() {
            let sex = if rng.bernoulli(0.5) { "F" } else { "M" };
            self.data.push(x, label, week, &[("sex", sex)])?;
        } else {
            self.data.push(x, label, week, tags)?;
        }
        self.truth.push(probability);
        Ok(())
    }

    fn finish(self) -> Sample {
        Sample {
            data: self.data,
            true_probabilities: self.truth,
        }
    }
}
