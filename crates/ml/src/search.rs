//! Model search: the regularisation, the shape of each feature's effect and the model kind
//! chosen by time-ordered cross-validation inside the training weeks, and the chosen model
//! calibrated on the held-out (latest) training weeks.
//!
//! The folds expand with time: the latest `validation_fraction` of the training weeks is cut
//! into `folds` consecutive blocks, and each block is predicted by a model trained on every week
//! before it, as the model will be used (trained on the past, scoring the next weeks). A
//! candidate's score is the blocks' AUCs averaged with weights proportional to the rows their
//! models trained on.
//!
//! The search, for a given seed, is deterministic:
//! 1. groups without data in the training weeks (no feature with two distinct values) are
//!    dropped;
//! 2. each remaining group alone (logistic regression, `l2 = 1`) is scored and recorded: what
//!    carries risk on its own, for the lineage; beyond `max_groups` groups the weakest alone are
//!    left out (the fits' cost grows with the square of the columns);
//! 3. logistic regression on every group kept, its `l2` from `l2_grid`;
//! 4. the same on linear splines ([`ModelConfig::SplineLogistic`], hinges at the training
//!    quantiles `knots`): each feature's effect may bend where the risk does (a threshold, a
//!    U); the splines are the linear model unless the plain fit scores more than `min_gain`
//!    above them;
//! 5. each boosting configuration on every group (trees choose their own splits), and blends
//!    of the linear model with the best boosting;
//! 6. boosting or a blend is chosen only when it beats the linear model by more than
//!    `flexible_gain` (the additive model, with exact explanations, wins a tie);
//! 7. the winner's out-of-fold log-odds fit a Platt calibration ([`Calibration::fit`]), and
//!    the winner is refitted on every training week and calibrated.
//!
//! Groups are weighed by the penalty, not selected: choosing a subset of groups by the same
//! few validation blocks that then compare the subset with everything else overfits those
//! blocks. Measured on the honesty cohorts (docs/design/pipelines.md), forward selection of
//! groups lost 0.02–0.03 AUC against the true hazard to ridge on every group at 80 and 240
//! athletes, and screening out groups that score at chance alone lost 0.017 at 80.
//!
//! Everything tried is recorded ([`SearchRecord`]) for the model's lineage.

use serde::{Deserialize, Serialize};

use crate::features::FeatureGroup;
use crate::model::{Blend, Calibration};
use crate::{Dataset, MlError, Model, ModelConfig, Predictions};

/// What the search may try.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpace {
    /// The candidate feature groups.
    pub groups: Vec<FeatureGroup>,
    /// Penalties tried for logistic regression, plain and on splines.
    pub l2_grid: Vec<f64>,
    /// Quantiles where the splines' features may bend (none: no spline candidates).
    pub knots: Vec<f64>,
    /// Boosting configurations tried (their seed is replaced by [`SearchSpace::seed`]).
    pub boosting: Vec<ModelConfig>,
    /// A configuration given by a person: no search over models; it reads every group with
    /// data, and is still scored on the folds and calibrated.
    pub fixed: Option<ModelConfig>,
    /// Validation blocks.
    pub folds: usize,
    /// Share of the training weeks (the latest) cut into validation blocks.
    pub validation_fraction: f64,
    /// Most groups read: the best by their score alone (every group when there are no more).
    pub max_groups: usize,
    /// Smallest gain of score by which the plain logistic regression must beat the splines
    /// to be chosen.
    pub min_gain: f64,
    /// Weights of logistic regression tried in blends with boosting.
    pub blend_weights: Vec<f64>,
    /// Smallest gain of score over the best logistic regression that prefers boosting or a
    /// blend.
    pub flexible_gain: f64,
    /// Seed of every random draw (boosting's subsampling).
    pub seed: u64,
}

impl SearchSpace {
    /// The platform's default search over `groups`: `l2` in {1, 3, 10, 30, 100, 300}, spline
    /// knots at the 10th, 50th and 90th percentiles, the slow and shallow boosting of
    /// docs/design/pipelines.md, 4 folds over the latest half of the training weeks, a gain of
    /// 0.002.
    #[must_use]
    pub fn standard(groups: Vec<FeatureGroup>, seed: u64) -> Self {
        Self {
            groups,
            l2_grid: vec![1.0, 3.0, 10.0, 30.0, 100.0, 300.0],
            knots: vec![0.1, 0.5, 0.9],
            boosting: vec![slow_boosting(seed)],
            fixed: None,
            folds: 4,
            validation_fraction: 0.5,
            max_groups: 10,
            min_gain: 0.05,
            blend_weights: vec![0.25, 0.5, 0.75],
            flexible_gain: 0.02,
            seed,
        }
    }
}

/// Slow, shallow boosting: 300 trees, rate 0.03, depth 3, 100 rows a leaf, subsample 0.8, 64
/// bins, λ = 10 (within 0.011 AUC of the demo's true hazard where faster settings overfit).
#[must_use]
pub fn slow_boosting(seed: u64) -> ModelConfig {
    ModelConfig::GradientBoosting {
        n_trees: 300,
        learning_rate: 0.03,
        max_depth: 3,
        min_samples_leaf: 100,
        subsample: 0.8,
        n_bins: 64,
        seed,
        l2: 10.0,
    }
}

/// One validation block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fold {
    /// First time (day or week) of the block; its model trained on the times before.
    pub from: i64,
    /// Last time of the block.
    pub to: i64,
    /// Rows its model trained on.
    pub train_rows: usize,
    /// Rows of the block.
    pub rows: usize,
    /// Positives of the block.
    pub positives: usize,
}

/// One candidate tried and its scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// `screen`, `l2`, `spline`, `boosting` or `blend` (or `fixed`).
    pub stage: String,
    /// The configuration.
    pub config: ModelConfig,
    /// The groups it read.
    pub groups: Vec<String>,
    /// AUC on each block (`None` for a block with one class).
    pub fold_aucs: Vec<Option<f64>>,
    /// AUC of the pooled out-of-fold predictions.
    pub auc: Option<f64>,
    /// What the search compares: the blocks' AUCs averaged with weights proportional to the
    /// rows their models trained on.
    #[serde(default)]
    pub score: Option<f64>,
    /// For a blend: the candidates blended (indices among the candidates) and their weights;
    /// `config` is then the first part's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend: Option<BlendOf>,
}

/// The parts of a blended candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlendOf {
    /// Indices of the blended candidates.
    pub parts: Vec<usize>,
    /// Their weights (summing to 1).
    pub weights: Vec<f64>,
}

/// The search, as recorded in the lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRecord {
    /// The validation blocks.
    pub folds: Vec<Fold>,
    /// Groups left out for want of data in the training weeks.
    pub no_data: Vec<String>,
    /// Every candidate scored, in the order tried.
    pub candidates: Vec<Candidate>,
    /// Index of the chosen one in `candidates`, `None` when the search could not run.
    pub chosen: Option<usize>,
    /// Why the search could not run (then the fallback configuration on every group with data).
    pub skipped: Option<String>,
    /// The chosen configuration.
    pub config: ModelConfig,
    /// The chosen groups.
    pub groups: Vec<String>,
    /// The model's features, in order.
    pub features: Vec<String>,
    /// The Platt calibration fitted on the out-of-fold predictions, if any.
    pub calibration: Option<Calibration>,
    /// Out-of-fold rows the calibration was fitted on.
    pub calibration_rows: usize,
}

/// The chosen model, trained on every training row (and calibrated), with its record.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// The model.
    pub model: Model,
    /// How it was chosen.
    pub record: SearchRecord,
}

struct FoldData {
    train: Dataset,
    validate: Dataset,
    info: Fold,
}

struct Scored {
    candidate: Candidate,
    /// Out-of-fold log-odds, per fold (the fold's validation rows in order).
    oof: Vec<Vec<f64>>,
}

/// Runs the search on the training rows (times as in [`Dataset::split_by_time`]).
///
/// # Errors
/// [`MlError::EmptyDataset`], [`MlError::SingleClass`] for rows nothing can be learnt from,
/// [`MlError::InvalidParameter`] for a bad configuration or space, and any fitting error.
pub fn search(space: &SearchSpace, train: &Dataset) -> Result<SearchResult, MlError> {
    train.check_trainable()?;
    if let Some(c) = &space.fixed {
        c.validate()?;
    }
    for c in &space.boosting {
        c.validate()?;
    }
    if space.folds == 0 || !(space.validation_fraction > 0.0 && space.validation_fraction < 1.0) {
        return Err(MlError::InvalidParameter {
            name: "search",
            expected: "at least one fold and a validation fraction in (0, 1)",
        });
    }
    if space
        .blend_weights
        .iter()
        .any(|w| !(w.is_finite() && *w > 0.0 && *w < 1.0))
    {
        return Err(MlError::InvalidParameter {
            name: "blend_weights",
            expected: "weights in (0, 1)",
        });
    }
    let (usable, no_data) = usable_groups(&space.groups, train);
    if usable.is_empty() {
        return Err(MlError::InvalidParameter {
            name: "groups",
            expected: "at least one feature group with data in the training rows",
        });
    }
    let all: Vec<&FeatureGroup> = usable.clone();
    let mut folds = folds(train, space.folds, space.validation_fraction);
    if space.fixed.is_some() {
        // A given configuration is not compared with anything: the latest block alone
        // calibrates it (one extra fit, not one per block).
        let keep = folds.len().saturating_sub(1);
        folds.drain(..keep);
    }
    let fallback = space.fixed.clone().unwrap_or(ModelConfig::Logistic {
        l2: 1.0,
        max_iter: 100,
        tol: 1e-8,
    });
    let pooled_classes = {
        let p: usize = folds.iter().map(|f| f.info.positives).sum();
        let n: usize = folds.iter().map(|f| f.info.rows).sum();
        p > 0 && p < n
    };
    if folds.is_empty() || !pooled_classes {
        let features = features_of(&all);
        let model = Model::fit(&with_seed(&fallback, space.seed), &train.select(&features)?)?;
        return Ok(SearchResult {
            model,
            record: SearchRecord {
                folds: folds.into_iter().map(|f| f.info).collect(),
                no_data,
                candidates: Vec::new(),
                chosen: None,
                skipped: Some(
                    "too few training weeks or injuries for validation blocks with both \
                     outcomes: the fallback configuration on every group with data, \
                     uncalibrated"
                        .into(),
                ),
                config: with_seed(&fallback, space.seed),
                groups: all.iter().map(|g| g.name.clone()).collect(),
                features,
                calibration: None,
                calibration_rows: 0,
            },
        });
    }

    let mut tried: Vec<Scored> = Vec::new();
    let chosen = match &space.fixed {
        Some(config) => {
            tried.push(score(
                "fixed",
                &with_seed(config, space.seed),
                &all,
                &folds,
            )?);
            0
        }
        None => run_search(space, &all, &folds, &mut tried)?,
    };
    let best = &tried[chosen];
    let z: Vec<f64> = best.oof.iter().flatten().copied().collect();
    let y: Vec<bool> = folds
        .iter()
        .flat_map(|f| f.validate.labels().iter().copied())
        .collect();
    let calibration = Calibration::fit(&z, &y);
    let fit_on = |c: &Candidate| -> Result<Model, MlError> {
        let groups: Vec<&FeatureGroup> = all
            .iter()
            .copied()
            .filter(|g| c.groups.contains(&g.name))
            .collect();
        Model::fit(&c.config, &train.select(&features_of(&groups))?)
    };
    let mut model = match &best.candidate.blend {
        None => fit_on(&best.candidate)?,
        Some(b) => {
            let mut parts = Vec::with_capacity(b.parts.len());
            for (&i, &w) in b.parts.iter().zip(&b.weights) {
                parts.push((w, fit_on(&tried[i].candidate)?));
            }
            Model::Blend(Blend::new(parts)?)
        }
    };
    if let Some(c) = calibration {
        model = model.calibrated(c);
    }
    let features = model.feature_names().to_vec();
    let config = best.candidate.config.clone();
    let calibration_rows = z.len();
    let group_names = best.candidate.groups.clone();
    Ok(SearchResult {
        model,
        record: SearchRecord {
            folds: folds.into_iter().map(|f| f.info).collect(),
            no_data,
            candidates: tried.into_iter().map(|s| s.candidate).collect(),
            chosen: Some(chosen),
            skipped: None,
            config,
            groups: group_names,
            features,
            calibration,
            calibration_rows,
        },
    })
}

fn run_search(
    space: &SearchSpace,
    all: &[&FeatureGroup],
    folds: &[FoldData],
    tried: &mut Vec<Scored>,
) -> Result<usize, MlError> {
    let logistic = |l2: f64| ModelConfig::Logistic {
        l2,
        max_iter: 100,
        tol: 1e-8,
    };
    let spline = |l2: f64| ModelConfig::SplineLogistic {
        l2,
        knots: space.knots.clone(),
        max_iter: 100,
        tol: 1e-8,
    };
    let auc = |s: &Scored| s.candidate.score.unwrap_or(0.0);

    // Each group alone: recorded for the lineage (what carries risk on its own); only where
    // there are more than `max_groups` does it drop the weakest (the fits' cost grows with the
    // square of the columns).
    let mut alone: Vec<(usize, f64)> = Vec::with_capacity(all.len());
    for (i, g) in all.iter().enumerate() {
        let s = score("screen", &logistic(1.0), &[*g], folds)?;
        alone.push((i, auc(&s)));
        tried.push(s);
    }
    alone.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    alone.truncate(space.max_groups.max(1));
    alone.sort_by_key(|a| a.0);
    let kept: Vec<&FeatureGroup> = alone.iter().map(|a| all[a.0]).collect();
    let all = kept.as_slice();

    // Logistic regression on every group, plain and on linear splines, the penalty by
    // validation.
    let best_of = |stage: &str,
                   config: &dyn Fn(f64) -> ModelConfig,
                   tried: &mut Vec<Scored>|
     -> Result<Option<(usize, f64)>, MlError> {
        let mut best: Option<(usize, f64)> = None;
        for &l2 in &space.l2_grid {
            let s = score(stage, &config(l2), all, folds)?;
            if best.is_none_or(|(_, a)| auc(&s) > a) {
                best = Some((tried.len(), auc(&s)));
            }
            tried.push(s);
        }
        Ok(best)
    };
    let plain = best_of("l2", &logistic, tried)?;
    let bent = if space.knots.is_empty() {
        None
    } else {
        best_of("spline", &spline, tried)?
    };
    // The linear model: the splines unless the plain fit scores more than `min_gain` above.
    let best_linear = match (plain, bent) {
        (Some(p), Some(b)) if p.1 > b.1 + space.min_gain => p,
        (_, Some(b)) => b,
        (Some(p), None) => p,
        (None, None) => {
            return Err(MlError::InvalidParameter {
                name: "l2_grid",
                expected: "at least one penalty",
            });
        }
    };

    // Boosting on every group (trees choose their own splits).
    let mut best_boosting: Option<(usize, f64)> = None;
    for config in &space.boosting {
        let s = score("boosting", &with_seed(config, space.seed), all, folds)?;
        if best_boosting.is_none_or(|(_, a)| auc(&s) > a) {
            best_boosting = Some((tried.len(), auc(&s)));
        }
        tried.push(s);
    }

    // Blends of the linear model and the best boosting.
    let mut best_blend: Option<(usize, f64)> = None;
    if let Some((b, _)) = best_boosting {
        for &w in &space.blend_weights {
            let s = blend(tried, &[best_linear.0, b], &[w, 1.0 - w], folds)?;
            if best_blend.is_none_or(|(_, a)| auc(&s) > a) {
                best_blend = Some((tried.len(), auc(&s)));
            }
            tried.push(s);
        }
    }

    // The choice: the more flexible model needs more than `flexible_gain` over the linear one.
    let mut best = best_linear;
    for (i, a) in [best_boosting, best_blend].into_iter().flatten() {
        if a > best.1 + space.flexible_gain {
            best = (i, a);
        }
    }
    Ok(best.0)
}

/// Scores one candidate on every fold.
fn score(
    stage: &str,
    config: &ModelConfig,
    groups: &[&FeatureGroup],
    folds: &[FoldData],
) -> Result<Scored, MlError> {
    let features = features_of(groups);
    let mut oof = Vec::with_capacity(folds.len());
    for f in folds {
        let model = Model::fit(config, &f.train.select(&features)?)?;
        let validate = f.validate.select(&features)?;
        let mut z = Vec::with_capacity(validate.n_rows());
        for row in validate.rows() {
            z.push(model.predict_log_odds(row)?);
        }
        oof.push(z);
    }
    scored(
        Candidate {
            stage: stage.to_owned(),
            config: config.clone(),
            groups: groups.iter().map(|g| g.name.clone()).collect(),
            fold_aucs: Vec::new(),
            auc: None,
            score: None,
            blend: None,
        },
        oof,
        folds,
    )
}

/// Scores a blend of earlier candidates from their out-of-fold log-odds (nothing is fitted).
fn blend(
    tried: &[Scored],
    parts: &[usize],
    weights: &[f64],
    folds: &[FoldData],
) -> Result<Scored, MlError> {
    let oof: Vec<Vec<f64>> = (0..folds.len())
        .map(|f| {
            let n = folds[f].validate.n_rows();
            (0..n)
                .map(|r| {
                    parts
                        .iter()
                        .zip(weights)
                        .map(|(&i, &w)| w * tried[i].oof[f][r])
                        .sum()
                })
                .collect()
        })
        .collect();
    let mut groups: Vec<String> = Vec::new();
    for &i in parts {
        for g in &tried[i].candidate.groups {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
    }
    scored(
        Candidate {
            stage: "blend".to_owned(),
            config: tried[parts[0]].candidate.config.clone(),
            groups,
            fold_aucs: Vec::new(),
            auc: None,
            score: None,
            blend: Some(BlendOf {
                parts: parts.to_vec(),
                weights: weights.to_vec(),
            }),
        },
        oof,
        folds,
    )
}

/// Fills in a candidate's figures from its out-of-fold log-odds: each block's AUC, the pooled
/// AUC, and the score (the blocks' AUCs averaged with weights proportional to the rows their
/// models trained on: the later blocks' models are the closest in size to the final one).
fn scored(mut c: Candidate, oof: Vec<Vec<f64>>, folds: &[FoldData]) -> Result<Scored, MlError> {
    let (mut sum, mut weight) = (0.0, 0.0);
    let mut pooled_y = Vec::new();
    let mut pooled_p = Vec::new();
    for (f, z) in folds.iter().zip(&oof) {
        let y = f.validate.labels().to_vec();
        let p: Vec<f64> = z.iter().map(|v| crate::logistic::sigmoid(*v)).collect();
        pooled_y.extend_from_slice(&y);
        pooled_p.extend_from_slice(&p);
        let a = Predictions::new(y, p)?.roc_auc();
        if let Some(a) = a {
            let w = f.info.train_rows as f64;
            sum += w * a;
            weight += w;
        }
        c.fold_aucs.push(a);
    }
    c.auc = Predictions::new(pooled_y, pooled_p)?.roc_auc();
    c.score = (weight > 0.0).then(|| sum / weight);
    Ok(Scored { candidate: c, oof })
}

fn with_seed(config: &ModelConfig, seed: u64) -> ModelConfig {
    let mut c = config.clone();
    if let ModelConfig::GradientBoosting { seed: s, .. } = &mut c {
        *s = seed;
    }
    c
}

fn features_of(groups: &[&FeatureGroup]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| g.features.iter().cloned())
        .collect()
}

/// Groups with a feature that takes two distinct values in the training rows, and the names of
/// the others.
fn usable_groups<'a>(
    groups: &'a [FeatureGroup],
    train: &Dataset,
) -> (Vec<&'a FeatureGroup>, Vec<String>) {
    let mut usable = Vec::new();
    let mut no_data = Vec::new();
    for g in groups {
        let varies = match train.columns_of(&g.features) {
            Ok(columns) => columns.iter().any(|&j| {
                let mut first = None;
                train.rows().map(|r| r[j]).filter(|v| !v.is_nan()).any(|v| {
                    let f = *first.get_or_insert(v);
                    v != f
                })
            }),
            Err(_) => false,
        };
        if varies {
            usable.push(g);
        } else {
            no_data.push(g.name.clone());
        }
    }
    (usable, no_data)
}

/// The expanding-window folds: the latest `fraction` of the distinct times (at least one per
/// fold, at most all but the first) cut into `k` consecutive blocks; a block whose earlier
/// rows lack an outcome is left out.
fn folds(train: &Dataset, k: usize, fraction: f64) -> Vec<FoldData> {
    let mut times = train.times().to_vec();
    times.sort_unstable();
    times.dedup();
    let m = times.len();
    if m < 2 {
        return Vec::new();
    }
    let n_val = ((fraction * m as f64).round() as usize).clamp(1, m - 1);
    let k = k.min(n_val);
    let first_val = m - n_val;
    let mut out = Vec::new();
    for b in 0..k {
        let lo = first_val + b * n_val / k;
        let hi = first_val + (b + 1) * n_val / k;
        if lo >= hi {
            continue;
        }
        let (from, to) = (times[lo], times[hi - 1]);
        let (before, rest) = train.split_by_time(from);
        let (validate, _) = rest.split_by_time(to + 1);
        let p = before.positives();
        if p == 0 || p == before.n_rows() || validate.is_empty() {
            continue;
        }
        out.push(FoldData {
            info: Fold {
                from,
                to,
                train_rows: before.n_rows(),
                rows: validate.n_rows(),
                positives: validate.positives(),
            },
            train: before,
            validate,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::features::GroupKind;
    use crate::rng::Rng;

    fn group(name: &str, features: &[&str]) -> FeatureGroup {
        FeatureGroup {
            name: name.into(),
            kind: GroupKind::Load,
            features: features.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    /// Risk follows `a` (a threshold) and `b` (linear); `c` and `d` are noise, `e` is empty.
    fn data(n_per_week: usize, weeks: i64, seed: u64) -> Dataset {
        let names = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let mut d = Dataset::new(names).unwrap();
        let mut rng = Rng::new(seed);
        for w in 0..weeks {
            for _ in 0..n_per_week {
                let x: Vec<f64> = (0..4).map(|_| rng.normal()).collect();
                let eta = -3.5 + 1.5 * f64::from(u8::from(x[0] > 0.8)) + 0.8 * x[1];
                let y = rng.bernoulli(1.0 / (1.0 + (-eta).exp()));
                d.push(&[x[0], x[1], x[2], x[3], f64::NAN], y, w, &[])
                    .unwrap();
            }
        }
        d
    }

    fn space(seed: u64) -> SearchSpace {
        let mut s = SearchSpace::standard(
            vec![
                group("A", &["a"]),
                group("B", &["b"]),
                group("C", &["c"]),
                group("D", &["d"]),
                group("E", &["e"]),
            ],
            seed,
        );
        s.boosting = vec![ModelConfig::GradientBoosting {
            n_trees: 60,
            learning_rate: 0.1,
            max_depth: 2,
            min_samples_leaf: 50,
            subsample: 0.8,
            n_bins: 32,
            seed: 0,
            l2: 10.0,
        }];
        s
    }

    #[test]
    fn the_search_keeps_the_groups_that_carry_risk_and_records_what_it_tried() {
        let train = data(200, 20, 3);
        let r = search(&space(5), &train).unwrap();
        let rec = &r.record;
        assert_eq!(rec.no_data, vec!["E".to_owned()]);
        assert_eq!(rec.folds.len(), 4);
        // Expanding windows: each block is later than the rows its model learnt from.
        assert!(rec.folds.windows(2).all(|w| w[0].to < w[1].from));
        assert_eq!(rec.folds[0].train_rows, 200 * rec.folds[0].from as usize);
        // Every group with data is read, weighed by the penalty; each was scored alone.
        assert_eq!(rec.groups, ["A", "B", "C", "D"]);
        let alone: Vec<&str> = rec
            .candidates
            .iter()
            .filter(|c| c.stage == "screen")
            .map(|c| c.groups[0].as_str())
            .collect();
        assert_eq!(alone, ["A", "B", "C", "D"]);
        let chosen = &rec.candidates[rec.chosen.unwrap()];
        assert_eq!(chosen.groups, rec.groups);
        assert_eq!(chosen.fold_aucs.len(), 4);
        for stage in ["l2", "spline"] {
            let n = rec.candidates.iter().filter(|c| c.stage == stage).count();
            assert_eq!(n, 6, "{stage}: one per penalty");
        }
        assert!(rec.candidates.iter().any(|c| c.stage == "boosting"));
        // `a` is a threshold: the splines are the linear model, and `a` and `b` carry the risk
        // (the noise's contributions are smaller on a row where they are large).
        assert_eq!(r.model.kind(), "spline_logistic", "{chosen:?}");
        let c = r.model.contributions(&[2.0, 2.0, 0.3, -0.3]).unwrap();
        let noise = c[2].1.abs().max(c[3].1.abs());
        assert!(c[0].1 > 3.0 * noise && c[1].1 > 3.0 * noise, "{c:?}");
        // The model reads the chosen groups' features and is calibrated.
        assert_eq!(r.model.feature_names(), rec.features.as_slice());
        assert!(r.model.calibration().is_some());
        assert_eq!(r.model.calibration(), rec.calibration);
        // Deterministic for a seed.
        let again = search(&space(5), &train).unwrap();
        assert_eq!(again.model, r.model);
        assert_eq!(again.record, r.record);
    }

    #[test]
    fn beyond_max_groups_the_weakest_alone_are_left_out() {
        let train = data(200, 20, 3);
        let mut s = space(5);
        s.max_groups = 2;
        let r = search(&s, &train).unwrap();
        assert_eq!(r.record.groups, ["A", "B"]);
        let screened = r.record.candidates.iter().filter(|c| c.stage == "screen");
        assert_eq!(screened.count(), 4, "every group with data is scored alone");
    }

    #[test]
    fn boosting_wins_where_the_risk_is_an_interaction() {
        // Risk only where `a` and `c` are far from 0 with the same sign, and a large cohort: an
        // additive model (even bent) cannot express it, trees find it.
        let names = ["a", "c"].map(String::from).to_vec();
        let mut d = Dataset::new(names).unwrap();
        let mut rng = Rng::new(11);
        for w in 0..20 {
            for _ in 0..500 {
                let (a, c) = (rng.normal(), rng.normal());
                let eta: f64 = if a * c > 0.8 { -1.0 } else { -4.0 };
                let y = rng.bernoulli(1.0 / (1.0 + (-eta).exp()));
                d.push(&[a, c], y, w, &[]).unwrap();
            }
        }
        let mut s = space(1);
        s.groups = vec![group("A", &["a"]), group("C", &["c"])];
        let r = search(&s, &d).unwrap();
        // Boosting alone, or a blend in which boosting weighs most.
        let chosen = &r.record.candidates[r.record.chosen.unwrap()];
        let boosting_weight = match &chosen.blend {
            None => f64::from(u8::from(r.model.kind() == "gradient_boosting")),
            Some(b) => b
                .parts
                .iter()
                .zip(&b.weights)
                .filter(|(i, _)| r.record.candidates[**i].stage == "boosting")
                .map(|(_, w)| *w)
                .sum(),
        };
        assert!(boosting_weight >= 0.5, "{chosen:?}");
        assert!(matches!(r.model.kind(), "gradient_boosting" | "blend"));
    }

    #[test]
    fn a_blend_adds_up_its_parts_and_explains_exactly() {
        let train = data(200, 12, 6);
        let names = train.feature_names().to_vec();
        let a = Model::fit(
            &ModelConfig::logistic(),
            &train.select(&names[..2]).unwrap(),
        )
        .unwrap();
        let b = Model::fit(&space(0).boosting[0], &train.select(&names[1..4]).unwrap()).unwrap();
        let blend = Model::Blend(Blend::new(vec![(0.25, a.clone()), (0.75, b.clone())]).unwrap());
        assert_eq!(blend.feature_names(), &names[..4]);
        let row = [0.3, -1.2, 0.5, f64::NAN];
        let z = blend.predict_log_odds(&row).unwrap();
        let za = a.predict_log_odds(&row[..2]).unwrap();
        let zb = b.predict_log_odds(&row[1..4]).unwrap();
        assert!((z - (0.25 * za + 0.75 * zb)).abs() < 1e-12);
        let sum: f64 = blend.contributions(&row).unwrap().iter().map(|c| c.1).sum();
        assert!((blend.baseline().unwrap() + sum - z).abs() < 1e-9);
        // The artifact reads back, and a malformed blend is refused.
        assert_eq!(Model::from_json(&blend.to_json().unwrap()).unwrap(), blend);
        let mut bad = blend.to_json().unwrap();
        bad = bad.replacen("\"weight\":0.25", "\"weight\":-1.0", 1);
        assert!(Model::from_json(&bad).is_err());
    }

    #[test]
    fn platt_scaling_recovers_a_known_miscalibration() {
        let mut rng = Rng::new(4);
        let (mut z, mut y) = (Vec::new(), Vec::new());
        for _ in 0..40_000 {
            let v = rng.normal() * 1.5;
            y.push(rng.bernoulli(crate::logistic::sigmoid(0.5 * v - 1.0)));
            z.push(v);
        }
        let c = Calibration::fit(&z, &y).unwrap();
        assert!((c.slope - 0.5).abs() < 0.05, "{c:?}");
        assert!((c.intercept + 1.0).abs() < 0.05, "{c:?}");
        // A model that ranks backwards has nothing to calibrate.
        let backwards: Vec<f64> = z.iter().map(|v| -v).collect();
        assert_eq!(Calibration::fit(&backwards, &y), None);
        assert_eq!(Calibration::fit(&z, &vec![false; z.len()]), None);
    }

    #[test]
    fn the_auc_interval_resamples_athletes_and_is_reproducible() {
        // 50 athletes of 20 weeks; scores carry a real signal.
        let mut rng = Rng::new(9);
        let (mut y, mut p, mut athlete) = (Vec::new(), Vec::new(), Vec::new());
        for a in 0..50u32 {
            let frailty = rng.normal();
            for _ in 0..20 {
                let s = frailty + rng.normal();
                y.push(rng.bernoulli(crate::logistic::sigmoid(s - 3.0)));
                p.push(crate::logistic::sigmoid(s));
                athlete.push(a * 7 + 3);
            }
        }
        let pred = Predictions::new(y, p).unwrap();
        let auc = pred.roc_auc().unwrap();
        let i = pred.roc_auc_interval(&athlete, 500, 0.95, 1).unwrap();
        assert!(i.low < auc && auc < i.high, "{i:?} {auc}");
        assert_eq!(i.clusters, 50);
        assert_eq!(
            Some(i.clone()),
            pred.roc_auc_interval(&athlete, 500, 0.95, 1)
        );
        // Resampling rows as if every week were its own athlete understates the spread.
        let rows: Vec<u32> = (0..athlete.len() as u32).collect();
        let naive = pred.roc_auc_interval(&rows, 500, 0.95, 1).unwrap();
        assert!(naive.high - naive.low < i.high - i.low, "{naive:?} {i:?}");
        assert_eq!(pred.roc_auc_interval(&rows[1..], 500, 0.95, 1), None);
    }

    #[test]
    fn calibration_error_is_the_rows_mean_gap_of_the_bins() {
        let y = [false, false, true, true];
        let p = Predictions::new(y.to_vec(), vec![0.1, 0.1, 0.9, 0.9]).unwrap();
        let m = p.metrics();
        // Bins of {0.1, 0.1} (observed 0) and {0.9, 0.9} (observed 1): gaps of 0.1.
        assert!(
            (m.calibration_error - 0.1).abs() < 1e-12,
            "{}",
            m.calibration_error
        );
    }

    #[test]
    fn too_little_history_falls_back_and_says_so() {
        let mut d = Dataset::new(vec!["a".into()]).unwrap();
        d.push(&[0.0], false, 0, &[]).unwrap();
        d.push(&[1.0], true, 0, &[]).unwrap();
        let r = search(&space(0), &d).unwrap();
        assert!(r.record.skipped.is_some());
        assert!(r.record.calibration.is_none());
        assert_eq!(r.model.kind(), "logistic");
    }

    #[test]
    fn a_fixed_configuration_is_scored_and_calibrated_not_searched() {
        let train = data(100, 16, 8);
        let mut s = space(2);
        s.fixed = Some(ModelConfig::logistic());
        let r = search(&s, &train).unwrap();
        assert_eq!(r.record.candidates.len(), 1);
        assert_eq!(r.record.candidates[0].stage, "fixed");
        assert_eq!(r.record.groups, ["A", "B", "C", "D"]);
    }
}
