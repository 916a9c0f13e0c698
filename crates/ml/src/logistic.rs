//! L2-regularised logistic regression on standardised features, fitted by Newton's method,
//! optionally on a linear-spline basis of each feature (knots at training quantiles).

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
///
/// **Linear splines** ([`LogisticModel::fit_spline`]): a feature with knots `c₁ < … < c_k` enters
/// as `x` and one hinge per knot, each standardised and weighted like a feature of its own: its
/// effect on the log-odds is then any continuous piecewise-linear function bending at the knots
/// (a threshold, a U), still additive over features, so every feature's contribution is exact.
/// A knot below the median has the hinge `max(0, c − x)`, one at or above it `max(0, x − c)`:
/// each hinge is non-zero only in its tail, so the penalty shrinks a bend there, not the whole
/// line. A missing value leaves every term of its feature at the training mean. Means,
/// scales and weights then hold one entry per basis column, the feature's own first, in feature
/// order.
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
    /// Per feature, its hinges in increasing order of knot; empty for a plain logistic
    /// regression.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    knots: Vec<Vec<Hinge>>,
}

/// One hinge of a linear spline: `max(0, at − x)` when `below`, else `max(0, x − at)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hinge {
    /// The knot, in the feature's units.
    pub at: f64,
    /// Whether the hinge is non-zero below the knot (else above).
    pub below: bool,
}

impl Hinge {
    /// The hinge's value at `x`; missing stays missing.
    #[must_use]
    pub fn of(&self, x: f64) -> f64 {
        if x.is_nan() {
            x
        } else if self.below {
            (self.at - x).max(0.0)
        } else {
            (x - self.at).max(0.0)
        }
    }
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

    /// Each feature's hinges (linear splines), empty for a plain logistic regression.
    #[must_use]
    pub fn knots(&self) -> &[Vec<Hinge>] {
        &self.knots
    }

    /// The intercept and weights in the features' own units (log-odds per unit), for rows
    /// without missing values; on a spline basis, one weight per basis column.
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
            knots: Vec::new(),
        })
    }

    /// Fits on the linear-spline basis: each feature with more than two distinct training
    /// values gets knots at the training `quantiles` (linear interpolation between order
    /// statistics, as numpy's default; below the median they bend below), keeping those
    /// strictly inside its range and distinct; the others enter linearly. `quantiles` in (0, 1) and `l2 > 0` are checked by the caller.
    pub(crate) fn fit_spline(
        data: &Dataset,
        quantiles: &[f64],
        l2: f64,
        max_iter: u32,
        tol: f64,
    ) -> Result<LogisticModel, MlError> {
        data.check_trainable()?;
        let knots: Vec<Vec<Hinge>> = (0..data.n_features())
            .map(|j| knots_of(data.rows().map(|r| r[j]), quantiles))
            .collect();
        let mut names = Vec::new();
        for (name, ks) in data.feature_names().iter().zip(&knots) {
            names.push(name.clone());
            names.extend((0..ks.len()).map(|i| format!("{name}\u{1f}{i}")));
        }
        let mut basis = Dataset::new(names)?;
        let mut row_out = Vec::new();
        for ((row, &label), &time) in data.rows().zip(data.labels()).zip(data.times()) {
            row_out.clear();
            for (&x, ks) in row.iter().zip(&knots) {
                row_out.push(x);
                row_out.extend(ks.iter().map(|h| h.of(x)));
            }
            basis.push(&row_out, label, time, &[])?;
        }
        let inner = Self::fit(&basis, l2, max_iter, tol)?;
        Ok(LogisticModel {
            feature_names: data.feature_names().to_vec(),
            knots: if knots.iter().all(Vec::is_empty) {
                Vec::new()
            } else {
                knots
            },
            ..inner
        })
    }

    /// Calls `term(j, t)` for every basis term `t` of every feature `j`, in basis order.
    fn terms(&self, row: &[f64], mut term: impl FnMut(usize, f64)) {
        let mut k = 0;
        for (j, &x) in row.iter().enumerate() {
            term(
                j,
                self.weights[k] * standardise(x, self.means[k], self.scales[k]),
            );
            k += 1;
            for h in self.knots.get(j).map_or(&[][..], Vec::as_slice) {
                term(
                    j,
                    self.weights[k] * standardise(h.of(x), self.means[k], self.scales[k]),
                );
                k += 1;
            }
        }
    }

    /// The log-odds for a row of the right length: the intercept plus each feature's
    /// contribution, summed as [`LogisticModel::contributions_into`] sums them, so baseline
    /// plus contributions is bit-exact.
    pub(crate) fn log_odds(&self, row: &[f64]) -> Result<f64, MlError> {
        self.check_shape()?;
        if self.knots.is_empty() {
            let mut z = self.intercept;
            self.terms(row, |_, t| z += t);
            return Ok(z);
        }
        let mut per_feature = vec![0.0; row.len()];
        self.terms(row, |j, t| per_feature[j] += t);
        Ok(per_feature.iter().fold(self.intercept, |z, c| z + c))
    }

    pub(crate) fn contributions_into(&self, row: &[f64], out: &mut [f64]) -> Result<(), MlError> {
        self.check_shape()?;
        out.iter_mut().for_each(|v| *v = 0.0);
        self.terms(row, |j, t| out[j] += t);
        Ok(())
    }

    /// A deserialised model must have one weight, mean and positive scale per basis column,
    /// and knots (if any) for every feature, finite and increasing.
    pub(crate) fn check_shape(&self) -> Result<(), MlError> {
        let f = self.feature_names.len();
        if !self.knots.is_empty()
            && (self.knots.len() != f
                || self.knots.iter().flatten().any(|h| !h.at.is_finite())
                || self
                    .knots
                    .iter()
                    .any(|ks| ks.windows(2).any(|w| w[0].at >= w[1].at)))
        {
            return Err(MlError::MalformedModel(
                "knots must be given for every feature, finite and increasing",
            ));
        }
        let n = f + self.knots.iter().map(Vec::len).sum::<usize>();
        if self.weights.len() != n || self.means.len() != n || self.scales.len() != n {
            return Err(MlError::MalformedModel(
                "weights, means and scales must have one entry per basis column",
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

/// The knots of one feature's values (missing ones ignored): its `quantiles`, interpolated
/// between order statistics, strictly inside the range and distinct; none for a feature with
/// at most two distinct values (a flag has no shape to bend).
fn knots_of(values: impl Iterator<Item = f64>, quantiles: &[f64]) -> Vec<Hinge> {
    let mut v: Vec<f64> = values.filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    let distinct = v.windows(2).filter(|w| w[0] != w[1]).count() + usize::from(!v.is_empty());
    if distinct <= 2 {
        return Vec::new();
    }
    let (lo, hi) = (v[0], v[v.len() - 1]);
    let mut knots: Vec<Hinge> = quantiles
        .iter()
        .map(|&q| {
            let pos = q * (v.len() - 1) as f64;
            let i = pos.floor() as usize;
            let frac = pos - i as f64;
            let at = match v.get(i + 1) {
                Some(&next) => v[i] + frac * (next - v[i]),
                None => v[i],
            };
            Hinge { at, below: q < 0.5 }
        })
        .filter(|h| h.at > lo && h.at < hi)
        .collect();
    knots.sort_by(|a, b| a.at.total_cmp(&b.at));
    knots.dedup_by(|a, b| a.at == b.at);
    knots
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

    /// Risk only beyond a threshold of `a` (a U in `b`): the splines find both shapes that a
    /// straight line cannot.
    fn bent(n: usize, seed: u64) -> Dataset {
        let mut rng = crate::rng::Rng::new(seed);
        let mut d = Dataset::new(vec!["a".into(), "b".into(), "flag".into()]).unwrap();
        for i in 0..n {
            let (a, b) = (rng.normal(), rng.normal());
            let flag = f64::from(u8::from(rng.bernoulli(0.3)));
            let eta = -3.0 + 2.0 * (a - 1.0).max(0.0) + 0.8 * b * b + 0.5 * flag;
            let a = if i % 17 == 0 { f64::NAN } else { a };
            d.push(&[a, b, flag], rng.bernoulli(sigmoid(eta)), 0, &[])
                .unwrap();
        }
        d
    }

    #[test]
    fn splines_bend_where_the_risk_does_and_explain_exactly() {
        let train = bent(20_000, 1);
        let test = bent(20_000, 2);
        let auc = |m: &LogisticModel| {
            let p: Vec<f64> = test.rows().map(|r| m.log_odds(r).unwrap()).collect();
            crate::Predictions::new(
                test.labels().to_vec(),
                p.iter().map(|z| sigmoid(*z)).collect(),
            )
            .unwrap()
            .roc_auc()
            .unwrap()
        };
        let plain = LogisticModel::fit(&train, 1.0, 100, 1e-8).unwrap();
        let spline = LogisticModel::fit_spline(&train, &[0.1, 0.5, 0.9], 1.0, 100, 1e-8).unwrap();
        assert!(
            auc(&spline) > auc(&plain) + 0.05,
            "{} {}",
            auc(&spline),
            auc(&plain)
        );
        // Knots below the median bend below; the flag (two values) enters linearly.
        let knots = spline.knots();
        assert_eq!(knots.len(), 3);
        assert_eq!(
            knots[0].iter().map(|h| h.below).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert!(knots[0].windows(2).all(|w| w[0].at < w[1].at));
        assert!(knots[2].is_empty());
        assert_eq!(spline.weights().len(), (1 + 3) + (1 + 3) + 1);
        // The fitted effect of `b` is a U: higher at both ends than in the middle.
        let at = |b: f64| spline.log_odds(&[0.0, b, 0.0]).unwrap();
        assert!(at(-2.0) > at(0.0) + 1.0 && at(2.0) > at(0.0) + 1.0);
        // Baseline plus each feature's contribution is the log-odds, bit for bit, missing too.
        for row in [[0.3, -1.7, 1.0], [f64::NAN, 2.5, 0.0]] {
            let mut c = [0.0; 3];
            spline.contributions_into(&row, &mut c).unwrap();
            let sum = c.iter().fold(spline.intercept(), |z, v| z + v);
            assert_eq!(sum.to_bits(), spline.log_odds(&row).unwrap().to_bits());
        }
        // The same data gives the same model.
        let again = LogisticModel::fit_spline(&train, &[0.1, 0.5, 0.9], 1.0, 100, 1e-8).unwrap();
        assert_eq!(again, spline);
    }

    #[test]
    fn knots_sit_inside_the_range_once_each() {
        let v = |xs: &[f64]| knots_of(xs.iter().copied(), &[0.1, 0.5, 0.9]);
        // numpy.quantile([0, 1, 2, 3, 4], [0.1, 0.5, 0.9]) = [0.4, 2, 3.6]
        let k = v(&[4.0, 0.0, 2.0, f64::NAN, 1.0, 3.0]);
        let at: Vec<f64> = k.iter().map(|h| h.at).collect();
        assert_eq!(at.len(), 3);
        assert!((at[0] - 0.4).abs() < 1e-12 && at[1] == 2.0 && (at[2] - 3.6).abs() < 1e-12);
        // Mostly one value: the quantiles coincide (one knot) or fall on an end (none).
        let mut middle = vec![1.0; 100];
        middle.extend([0.0, 2.0, 3.0]);
        assert_eq!(v(&middle).iter().map(|h| h.at).collect::<Vec<_>>(), [1.0]);
        let mut bottom = vec![0.0; 100];
        bottom.extend([2.0, 3.0]);
        assert!(v(&bottom).is_empty());
        // Two values (a flag) or none: no knot.
        assert!(v(&[0.0, 1.0, 1.0, 0.0]).is_empty());
        assert!(v(&[f64::NAN]).is_empty());
    }

    #[test]
    fn a_spline_artifact_reads_back_and_a_malformed_one_is_refused() {
        use crate::{Model, ModelConfig};
        let train = bent(3_000, 3);
        let m = Model::fit(&ModelConfig::spline_logistic(), &train).unwrap();
        assert_eq!(m.kind(), "spline_logistic");
        let json = m.to_json().unwrap();
        assert_eq!(Model::from_json(&json).unwrap(), m);
        // Knots out of order, or one short of the weights, are refused.
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let first = v["knots"][0].as_array().unwrap().clone();
        v["knots"][0] = serde_json::Value::Array(first.iter().rev().cloned().collect());
        assert!(Model::from_json(&v.to_string()).is_err());
        v["knots"][0] = serde_json::Value::Array(first[1..].to_vec());
        assert!(Model::from_json(&v.to_string()).is_err());
        // A plain model's artifact has no knots: artifacts stored before splines read as before.
        let plain = Model::fit(&ModelConfig::logistic(), &train).unwrap();
        assert!(!plain.to_json().unwrap().contains("knots"));
        // The configuration's ranges.
        let bad = ModelConfig::SplineLogistic {
            l2: 1.0,
            knots: vec![0.5, 0.1],
            max_iter: 100,
            tol: 1e-8,
        };
        assert!(bad.validate().is_err());
    }
}
