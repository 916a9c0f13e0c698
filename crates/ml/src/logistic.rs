//! L2-regularised logistic regression on standardised features, fitted by Newton's method.

use serde::{Deserialize, Serialize};

use crate::linalg::solve_spd;
use crate::{Dataset, MlError};

/// A fitted logistic regression.
///
/// Features are standardised with the training mean and standard deviation (population,
/// missing values ignored); a missing value becomes the training mean, i.e. 0 after
/// standardisation. The fit minimises
///
/// ```text
/// Σᵢ log-loss(yᵢ, b + w·zᵢ) + (l2 / 2)·‖w‖²     (intercept b not penalised)
/// ```
///
/// which is scikit-learn's `make_pipeline(StandardScaler(), SimpleImputer(),
/// LogisticRegression(C = 1 / l2))`. The objective is strictly convex for `l2 > 0`, so the
/// optimum is unique and Newton's method reaches it in a handful of steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticModel {
    feature_names: Vec<String>,
    means: Vec<f64>,
    scales: Vec<f64>,
    intercept: f64,
    weights: Vec<f64>,
    l2: f64,
    iterations: u32,
    converged: bool,
}

impl LogisticModel {
    /// The intercept on the standardised scale: the log-odds of a row at the training means.
    #[must_use]
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// The weights on the standardised scale (log-odds per training standard deviation).
    #[must_use]
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The training means used for standardisation and imputation.
    #[must_use]
    pub fn means(&self) -> &[f64] {
        &self.means
    }

    /// The training standard deviations used for standardisation (1 for a constant feature).
    #[must_use]
    pub fn scales(&self) -> &[f64] {
        &self.scales
    }

    /// The intercept and weights in the features' own units (log-odds per unit), for rows
    /// without missing values.
    #[must_use]
    pub fn raw_coefficients(&self) -> (f64, Vec<f64>) {
        let mut intercept = self.intercept;
        let mut weights = Vec::with_capacity(self.weights.len());
        for ((w, mean), scale) in self.weights.iter().zip(&self.means).zip(&self.scales) {
            let raw = w / scale;
            intercept -= raw * mean;
            weights.push(raw);
        }
        (intercept, weights)
    }

    /// Number of Newton steps taken.
    #[must_use]
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Whether the gradient criterion was met within `max_iter` steps.
    #[must_use]
    pub fn converged(&self) -> bool {
        self.converged
    }

    pub(crate) fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Fits the model; `l2 >= 0`, `max_iter >= 1` and `tol > 0` are checked by the caller.
    /// Stops when the largest absolute component of the objective's gradient, divided by
    /// the number of rows, is at most `tol`.
    pub(crate) fn fit(
        data: &Dataset,
        l2: f64,
        max_iter: u32,
        tol: f64,
    ) -> Result<LogisticModel, MlError> {
        data.check_trainable()?;
        let (means, scales) = standardisation(data);
        let problem = Problem::new(data, &means, &scales, l2);

        let base_rate = data.positives() as f64 / data.n_rows() as f64;
        let mut beta = vec![0.0; problem.dim];
        beta[0] = (base_rate / (1.0 - base_rate)).ln();

        let mut iterations = 0;
        let mut converged = false;
        loop {
            let (objective, gradient, hessian) = problem.derivatives(&beta);
            let largest = gradient.iter().fold(0.0_f64, |m, g| m.max(g.abs()));
            if largest / problem.n as f64 <= tol {
                converged = true;
                break;
            }
            if iterations >= max_iter {
                break;
            }
            let step = solve_with_jitter(&hessian, &gradient)?;
            match problem.line_search(&beta, &step, &gradient, objective) {
                Some(next) => beta = next,
                // No decrease is representable: the optimum is reached to rounding.
                None => break,
            }
            iterations += 1;
        }

        Ok(LogisticModel {
            feature_names: data.feature_names().to_vec(),
            means,
            scales,
            intercept: beta[0],
            weights: beta[1..].to_vec(),
            l2,
            iterations,
            converged,
        })
    }

    /// The log-odds for a row of the right length; the sum runs in the same order as
    /// [`LogisticModel::contributions_into`], so baseline plus contributions is bit-exact.
    pub(crate) fn log_odds(&self, row: &[f64]) -> Result<f64, MlError> {
        self.check_shape()?;
        let mut z = self.intercept;
        for (j, &x) in row.iter().enumerate() {
            z += self.weights[j] * standardise(x, self.means[j], self.scales[j]);
        }
        Ok(z)
    }

    pub(crate) fn contributions_into(&self, row: &[f64], out: &mut [f64]) -> Result<(), MlError> {
        self.check_shape()?;
        for (j, (&x, slot)) in row.iter().zip(out.iter_mut()).enumerate() {
            *slot = self.weights[j] * standardise(x, self.means[j], self.scales[j]);
        }
        Ok(())
    }

    /// A deserialised model must have one weight, mean and positive scale per feature.
    pub(crate) fn check_shape(&self) -> Result<(), MlError> {
        let n = self.feature_names.len();
        if self.weights.len() != n || self.means.len() != n || self.scales.len() != n {
            return Err(MlError::MalformedModel(
                "weights, means and scales must have one entry per feature",
            ));
        }
        let finite = |v: &f64| v.is_finite();
        if !(self.intercept.is_finite()
            && self.weights.iter().all(finite)
            && self.means.iter().all(finite)
            && self.scales.iter().all(|s| s.is_finite() && *s > 0.0))
        {
            return Err(MlError::MalformedModel(
                "coefficients must be finite and scales positive",
            ));
        }
        Ok(())
    }
}

/// Per-feature mean and population standard deviation over the non-missing training values;
/// a feature with no spread (or no values) gets scale 1, so it standardises to 0.
fn standardisation(data: &Dataset) -> (Vec<f64>, Vec<f64>) {
    let f = data.n_features();
    let mut means = Vec::with_capacity(f);
    let mut scales = Vec::with_capacity(f);
    for j in 0..f {
        let present = || data.rows().map(|r| r[j]).filter(|x| !x.is_nan());
        let count = present().count();
        if count == 0 {
            means.push(0.0);
            scales.push(1.0);
            continue;
        }
        let mean = present().sum::<f64>() / count as f64;
        let var = present().map(|x| (x - mean) * (x - mean)).sum::<f64>() / count as f64;
        let sd = var.sqrt();
        means.push(mean);
        scales.push(if sd > 0.0 && sd.is_finite() { sd } else { 1.0 });
    }
    (means, scales)
}

fn standardise(x: f64, mean: f64, scale: f64) -> f64 {
    if x.is_nan() { 0.0 } else { (x - mean) / scale }
}

/// The standardised design (with a leading 1 for the intercept), labels and penalty.
struct Problem {
    n: usize,
    dim: usize,
    design: Vec<f64>,
    labels: Vec<f64>,
    l2: f64,
}

impl Problem {
    fn new(data: &Dataset, means: &[f64], scales: &[f64], l2: f64) -> Self {
        let dim = data.n_features() + 1;
        let mut design = Vec::with_capacity(data.n_rows() * dim);
        for row in data.rows() {
            design.push(1.0);
            for ((&x, &m), &s) in row.iter().zip(means).zip(scales) {
                design.push(standardise(x, m, s));
            }
        }
        Self {
            n: data.n_rows(),
            dim,
            design,
            labels: data
                .labels()
                .iter()
                .map(|&y| f64::from(u8::from(y)))
                .collect(),
            l2,
        }
    }

    fn rows(&self) -> impl Iterator<Item = (&[f64], f64)> {
        self.design
            .chunks_exact(self.dim)
            .zip(self.labels.iter().copied())
    }

    fn penalty(&self, beta: &[f64]) -> f64 {
        0.5 * self.l2 * beta[1..].iter().map(|w| w * w).sum::<f64>()
    }

    fn objective(&self, beta: &[f64]) -> f64 {
        let loss: f64 = self
            .rows()
            .map(|(z, y)| {
                let eta = dot(z, beta);
                softplus(eta) - y * eta
            })
            .sum();
        loss + self.penalty(beta)
    }

    /// Objective, gradient and Hessian (row-major, `dim × dim`) at `beta`.
    fn derivatives(&self, beta: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        let d = self.dim;
        let mut loss = 0.0;
        let mut gradient = vec![0.0; d];
        let mut hessian = vec![0.0; d * d];
        for (z, y) in self.rows() {
            let eta = dot(z, beta);
            loss += softplus(eta) - y * eta;
            let p = sigmoid(eta);
            let r = p - y;
            let s = p * (1.0 - p);
            for a in 0..d {
                gradient[a] += r * z[a];
                let sz = s * z[a];
                // Lower triangle only; mirrored below.
                for b in 0..=a {
                    hessian[a * d + b] += sz * z[b];
                }
            }
        }
        for a in 1..d {
            gradient[a] += self.l2 * beta[a];
            hessian[a * d + a] += self.l2;
        }
        for a in 0..d {
            for b in 0..a {
                hessian[b * d + a] = hessian[a * d + b];
            }
        }
        (loss + self.penalty(beta), gradient, hessian)
    }

    /// Backtracking (Armijo) along the Newton direction `beta - t·step`.
    fn line_search(
        &self,
        beta: &[f64],
        step: &[f64],
        gradient: &[f64],
        objective: f64,
    ) -> Option<Vec<f64>> {
        let decrement = dot(gradient, step);
        // Rounding in a sum over many rows; a step within it is as good as any.
        let slack = 8.0 * f64::EPSILON * objective.abs().max(1.0);
        let mut t = 1.0;
        for _ in 0..40 {
            let candidate: Vec<f64> = beta.iter().zip(step).map(|(b, s)| b - t * s).collect();
            let value = self.objective(&candidate);
            if value <= objective - 1e-4 * t * decrement + slack {
                return Some(candidate);
            }
            t *= 0.5;
        }
        None
    }
}

/// Solves the Newton system, adding a growing ridge when the Hessian is numerically singular
/// (possible only with `l2 = 0`, e.g. separable data or a constant feature).
fn solve_with_jitter(hessian: &[f64], gradient: &[f64]) -> Result<Vec<f64>, MlError> {
    if let Some(step) = solve_spd(hessian, gradient) {
        return Ok(step);
    }
    let d = gradient.len();
    let largest = (0..d)
        .map(|a| hessian[a * d + a].abs())
        .fold(1e-300, f64::max);
    let mut ridge = largest * 1e-12;
    for _ in 0..12 {
        let mut damped = hessian.to_vec();
        for a in 0..d {
            damped[a * d + a] += ridge;
        }
        if let Some(step) = solve_spd(&damped, gradient) {
            return Ok(step);
        }
        ridge *= 100.0;
    }
    Err(MlError::SingularSystem)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `ln(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// The logistic function without overflow.
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn standardisation_ignores_missing_values() {
        let rows = [vec![1.0, 5.0], vec![3.0, f64::NAN], vec![f64::NAN, 5.0]];
        let data = Dataset::from_rows(
            vec!["a".into(), "b".into()],
            &rows,
            &[true, false, true],
            &[0, 0, 0],
        )
        .unwrap();
        let (means, scales) = standardisation(&data);
        assert_eq!(means, [2.0, 5.0]);
        // a: values 1 and 3, population sd 1; b: constant, scale 1.
        assert_eq!(scales, [1.0, 1.0]);
        assert_eq!(standardise(f64::NAN, 2.0, 1.0), 0.0);
        assert_eq!(standardise(3.0, 2.0, 0.5), 2.0);
    }

    #[test]
    fn sigmoid_and_softplus_are_stable_at_extremes() {
        assert_eq!(sigmoid(800.0), 1.0);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-15);
        assert_eq!(softplus(800.0), 800.0);
        assert!(softplus(-800.0) >= 0.0);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn one_feature_fit_meets_the_optimality_condition() {
        // y = 1 more often for larger x; not separable.
        let xs = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0];
        let ys = [false, false, true, false, true, false, true, true];
        let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![x]).collect();
        let data = Dataset::from_rows(vec!["x".into()], &rows, &ys, &[0; 8]).unwrap();
        let l2 = 0.5;
        let model = LogisticModel::fit(&data, l2, 50, 1e-12).unwrap();
        assert!(model.converged());
        assert!(model.weights()[0] > 0.0);
        // Stationarity: Σ(p − y) = 0 and Σ(p − y)·z + l2·w = 0.
        let (mut g0, mut g1) = (0.0, 0.0);
        for (row, &y) in rows.iter().zip(&ys) {
            let z = (row[0] - model.means()[0]) / model.scales()[0];
            let p = sigmoid(model.log_odds(row).unwrap());
            let r = p - f64::from(u8::from(y));
            g0 += r;
            g1 += r * z;
        }
        g1 += l2 * model.weights()[0];
        assert!(g0.abs() < 1e-10, "{g0}");
        assert!(g1.abs() < 1e-10, "{g1}");
    }

    #[test]
    fn separable_data_without_penalty_ends_finite_and_separating() {
        // Without a penalty the optimum lies at infinity; the fit must still stop with
        // finite coefficients (the gradient vanishes as the weights grow).
        let rows: Vec<Vec<f64>> = (0..6).map(|i| vec![f64::from(i)]).collect();
        let ys = [false, false, false, true, true, true];
        let data = Dataset::from_rows(vec!["x".into()], &rows, &ys, &[0; 6]).unwrap();
        let model = LogisticModel::fit(&data, 0.0, 30, 1e-10).unwrap();
        assert!(model.check_shape().is_ok());
        assert!(model.weights()[0] > 5.0);
        for (row, &y) in rows.iter().zip(&ys) {
            let p = sigmoid(model.log_odds(row).unwrap());
            assert_eq!(p > 0.5, y);
            assert!(!(0.01..0.99).contains(&p), "{p}");
        }
    }
}
