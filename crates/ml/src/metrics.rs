//! Metrics of predicted probabilities against binary outcomes.

use serde::{Deserialize, Serialize};

use crate::MlError;

/// Probabilities in log-loss are clipped to `[EPS, 1 − EPS]` so that a confident mistake
/// costs a large but finite amount.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// Outcomes with their predicted probabilities: non-empty, equally long, every probability
/// finite and in [0, 1]. Checked once here, so the metrics cannot fail.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    labels: Vec<bool>,
    probabilities: Vec<f64>,
}

/// The metrics of one set of predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Number of rows.
    pub rows: usize,
    /// Number of positive rows.
    pub positives: usize,
    /// Area under the ROC curve; `None` unless both classes are present.
    pub roc_auc: Option<f64>,
    /// Average precision (area under the precision–recall curve); `None` unless both
    /// classes are present.
    pub pr_auc: Option<f64>,
    /// Mean squared error of the probabilities.
    pub brier: f64,
    /// Mean negative log-likelihood (natural log).
    pub log_loss: f64,
    /// Calibration by deciles of predicted probability.
    pub calibration: Vec<CalibrationBin>,
    /// Expected calibration error: the rows' mean of |mean predicted − observed rate| over
    /// the bins of `calibration` (0 for a perfectly calibrated model; evaluations stored
    /// before it was reported read as 0).
    #[serde(default)]
    pub calibration_error: f64,
}

/// A bootstrap interval of the ROC AUC, resampling clusters (athletes) rather than rows, so
/// that the weeks of one athlete, which are not independent, count as one draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AucInterval {
    /// Lower end (the `(1 − level)/2` quantile of the resampled AUCs).
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// Coverage, e.g. 0.95.
    pub level: f64,
    /// Resamples drawn.
    pub resamples: usize,
    /// Clusters resampled.
    pub clusters: usize,
}

/// The rows' mean of |mean predicted − observed rate| over calibration bins (ECE).
#[must_use]
pub fn expected_calibration_error(bins: &[CalibrationBin]) -> f64 {
    let n: usize = bins.iter().map(|b| b.count).sum();
    if n == 0 {
        return 0.0;
    }
    bins.iter()
        .map(|b| b.count as f64 * (b.mean_predicted - b.observed_rate).abs())
        .sum::<f64>()
        / n as f64
}

/// One bin of a calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Rows in the bin.
    pub count: usize,
    /// Smallest predicted probability in the bin.
    pub min_predicted: f64,
    /// Largest predicted probability in the bin.
    pub max_predicted: f64,
    /// Mean predicted probability.
    pub mean_predicted: f64,
    /// Fraction of the bin's rows that are positive.
    pub observed_rate: f64,
}

impl Predictions {
    /// Pairs outcomes with probabilities.
    ///
    /// # Errors
    /// [`MlError::EmptyDataset`], [`MlError::LengthMismatch`],
    /// [`MlError::InvalidProbability`].
    pub fn new(labels: Vec<bool>, probabilities: Vec<f64>) -> Result<Self, MlError> {
        if labels.is_empty() {
            return Err(MlError::EmptyDataset);
        }
        if labels.len() != probabilities.len() {
            return Err(MlError::LengthMismatch {
                what: "probabilities",
                expected: labels.len(),
                found: probabilities.len(),
            });
        }
        if let Some(index) = probabilities.iter().position(|p| !(0.0..=1.0).contains(p)) {
            return Err(MlError::InvalidProbability { index });
        }
        Ok(Self {
            labels,
            probabilities,
        })
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always `false`: empty predictions are refused by [`Predictions::new`].
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of positive outcomes.
    #[must_use]
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&y| y).count()
    }

    /// The outcomes.
    #[must_use]
    pub fn labels(&self) -> &[bool] {
        &self.labels
    }

    /// The predicted probabilities.
    #[must_use]
    pub fn probabilities(&self) -> &[f64] {
        &self.probabilities
    }

    /// Area under the ROC curve: the probability that a random positive scores above a
    /// random negative, a tie counting one half (average ranks; equal to the trapezoid
    /// rule). `None` unless both classes are present.
    #[must_use]
    pub fn roc_auc(&self) -> Option<f64> {
        let positives = self.positives();
        let negatives = self.len() - positives;
        if positives == 0 || negatives == 0 {
            return None;
        }
        let order = self.order_ascending();
        let mut positive_rank_sum = 0.0;
        let mut start = 0;
        while start < order.len() {
            let score = self.probabilities[order[start]];
            let end = start
                + order[start..]
                    .iter()
                    .take_while(|&&i| self.probabilities[i] == score)
                    .count();
            // Ranks start+1 ..= end share their average.
            let average_rank = (start + 1 + end) as f64 / 2.0;
            let tied_positives = order[start..end]
                .iter()
                .filter(|&&i| self.labels[i])
                .count();
            positive_rank_sum += average_rank * tied_positives as f64;
            start = end;
        }
        let (p, n) = (positives as f64, negatives as f64);
        Some((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * n))
    }

    /// Average precision as scikit-learn defines it: Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the distinct
    /// predicted values in decreasing order, with precision Pₖ and recall Rₖ of the rows at
    /// or above the k-th value (no interpolation). `None` unless both classes are present.
    #[must_use]
    pub fn average_precision(&self) -> Option<f64> {
        let positives = self.positives();
        if positives == 0 || positives == self.len() {
            return None;
        }
        let mut order = self.order_ascending();
        order.reverse();
        let mut ap = 0.0;
        let (mut tp, mut fp) = (0usize, 0usize);
        let mut previous_recall = 0.0;
        let mut start = 0;
        while start < order.len() {
            let score = self.probabilities[order[start]];
            let end = start
                + order[start..]
                    .iter()
                    .take_while(|&&i| self.probabilities[i] == score)
                    .count();
            for &i in &order[start..end] {
                if self.labels[i] {
                    tp += 1;
                } else {
                    fp += 1;
                }
            }
            let recall = tp as f64 / positives as f64;
            let precision = tp as f64 / (tp + fp) as f64;
            ap += (recall - previous_recall) * precision;
            previous_recall = recall;
            start = end;
        }
        Some(ap)
    }

    /// Mean of (p − y)².
    #[must_use]
    pub fn brier(&self) -> f64 {
        let sum: f64 = self
            .pairs()
            .map(|(y, p)| {
                let d = p - f64::from(u8::from(y));
                d * d
            })
            .sum();
        sum / self.len() as f64
    }

    /// Mean of −[y·ln p + (1 − y)·ln(1 − p)], with p clipped to [`LOG_LOSS_EPS`].
    #[must_use]
    pub fn log_loss(&self) -> f64 {
        let sum: f64 = self
            .pairs()
            .map(|(y, p)| {
                let p = p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
                if y { -p.ln() } else { -(1.0 - p).ln() }
            })
            .sum();
        sum / self.len() as f64
    }

    /// A calibration table of up to `n_bins` quantile bins of predicted probability (deciles
    /// for 10): rows sorted by probability and cut into groups of equal size, except that
    /// rows with equal probability always share a bin (a boundary moves past a tie), so a
    /// model with few distinct outputs (e.g. shallow trees) gives fewer, larger bins.
    /// Empty bins are left out.
    #[must_use]
    pub fn calibration(&self, n_bins: usize) -> Vec<CalibrationBin> {
        let n = self.len();
        let bins = n_bins.max(1);
        let order = self.order_ascending();
        let mut table = Vec::with_capacity(bins);
        let mut start = 0;
        for b in 0..bins {
            let mut end = ((b + 1) * n / bins).max(start);
            while end > 0
                && end < n
                && self.probabilities[order[end]] == self.probabilities[order[end - 1]]
            {
                end += 1;
            }
            let members = &order[start..end];
            start = end;
            if members.is_empty() {
                continue;
            }
            let probabilities = || members.iter().map(|&i| self.probabilities[i]);
            let count = members.len();
            table.push(CalibrationBin {
                count,
                min_predicted: probabilities().fold(f64::INFINITY, f64::min),
                max_predicted: probabilities().fold(f64::NEG_INFINITY, f64::max),
                mean_predicted: probabilities().sum::<f64>() / count as f64,
                observed_rate: members.iter().filter(|&&i| self.labels[i]).count() as f64
                    / count as f64,
            });
        }
        table
    }

    /// Every metric, with a decile calibration table.
    #[must_use]
    pub fn metrics(&self) -> Metrics {
        Metrics {
            rows: self.len(),
            positives: self.positives(),
            roc_auc: self.roc_auc(),
            pr_auc: self.average_precision(),
            brier: self.brier(),
            log_loss: self.log_loss(),
            calibration_error: expected_calibration_error(&self.calibration(10)),
            calibration: self.calibration(10),
        }
    }

    /// The percentile bootstrap interval of [`Predictions::roc_auc`] when whole clusters are
    /// resampled with replacement (`clusters[i]` is row `i`'s athlete): `resamples` draws from
    /// a generator seeded with `seed`, so the interval is reproducible. Draws with a single
    /// class are skipped. `None` without both classes, with fewer than two clusters, or when
    /// `clusters` is not one per row.
    #[must_use]
    pub fn roc_auc_interval(
        &self,
        clusters: &[u32],
        resamples: usize,
        level: f64,
        seed: u64,
    ) -> Option<AucInterval> {
        if clusters.len() != self.len() || self.roc_auc().is_none() || !(0.0..1.0).contains(&level)
        {
            return None;
        }
        // Clusters renumbered 0..k in order of appearance.
        let mut ids = std::collections::HashMap::new();
        let dense: Vec<usize> = clusters
            .iter()
            .map(|c| {
                let next = ids.len();
                *ids.entry(*c).or_insert(next)
            })
            .collect();
        let k = ids.len();
        if k < 2 {
            return None;
        }
        let order = self.order_ascending();
        let mut rng = crate::rng::Rng::new(seed);
        let mut weights = vec![0u32; k];
        let mut aucs = Vec::with_capacity(resamples);
        for _ in 0..resamples {
            weights.iter_mut().for_each(|w| *w = 0);
            for _ in 0..k {
                weights[rng.below(k as u64) as usize] += 1;
            }
            if let Some(auc) = self.weighted_auc(&order, |i| f64::from(weights[dense[i]])) {
                aucs.push(auc);
            }
        }
        if aucs.is_empty() {
            return None;
        }
        aucs.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let i = ((q * (aucs.len() - 1) as f64).round() as usize).min(aucs.len() - 1);
            aucs[i]
        };
        let tail = (1.0 - level) / 2.0;
        Some(AucInterval {
            low: at(tail),
            high: at(1.0 - tail),
            level,
            resamples: aucs.len(),
            clusters: k,
        })
    }

    /// The AUC with a weight per row (a row drawn twice counts twice), over rows in ascending
    /// order of probability; ties count one half.
    fn weighted_auc(&self, order: &[usize], weight: impl Fn(usize) -> f64) -> Option<f64> {
        let (mut below_neg, mut sum, mut w_pos, mut w_neg) = (0.0, 0.0, 0.0, 0.0);
        let mut start = 0;
        while start < order.len() {
            let score = self.probabilities[order[start]];
            let (mut tie_pos, mut tie_neg) = (0.0, 0.0);
            let mut end = start;
            while end < order.len() && self.probabilities[order[end]] == score {
                let i = order[end];
                if self.labels[i] {
                    tie_pos += weight(i);
                } else {
                    tie_neg += weight(i);
                }
                end += 1;
            }
            sum += tie_pos * (below_neg + tie_neg / 2.0);
            below_neg += tie_neg;
            w_pos += tie_pos;
            w_neg += tie_neg;
            start = end;
        }
        (w_pos > 0.0 && w_neg > 0.0).then(|| sum / (w_pos * w_neg))
    }

    /// The predictions of the rows at `indices` (in range, non-empty: the caller's duty).
    pub(crate) fn subset(&self, indices: &[usize]) -> Predictions {
        Predictions {
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            probabilities: indices.iter().map(|&i| self.probabilities[i]).collect(),
        }
    }

    fn pairs(&self) -> impl Iterator<Item = (bool, f64)> + '_ {
        self.labels
            .iter()
            .copied()
            .zip(self.probabilities.iter().copied())
    }

    /// Row indices by increasing probability, ties by index (a stable, total order).
    fn order_ascending(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&a, &b| self.probabilities[a].total_cmp(&self.probabilities[b]));
        order
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn preds(labels: &[u8], probabilities: &[f64]) -> Predictions {
        Predictions::new(
            labels.iter().map(|&y| y == 1).collect(),
            probabilities.to_vec(),
        )
        .unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn roc_auc_counts_pairs_and_half_ties() {
        // Pairs (pos, neg): (0.9,0.1) 1, (0.9,0.4) 1, (0.4,0.1) 1, (0.4,0.4) ½ → 3.5/4.
        let p = preds(&[1, 0, 1, 0], &[0.9, 0.1, 0.4, 0.4]);
        assert!(close(p.roc_auc().unwrap(), 0.875));
        // Perfect, inverted and all-tied rankings.
        assert!(close(
            preds(&[0, 0, 1], &[0.1, 0.2, 0.3]).roc_auc().unwrap(),
            1.0
        ));
        assert!(close(
            preds(&[1, 0, 0], &[0.1, 0.2, 0.3]).roc_auc().unwrap(),
            0.0
        ));
        assert!(close(
            preds(&[1, 0, 1, 0], &[0.5; 4]).roc_auc().unwrap(),
            0.5
        ));
        // Positives 0.8, 0.6, 0.6; negatives 0.6, 0.3:
        // 0.8 beats both (2), each 0.6 beats 0.3 and ties 0.6 (1.5 + 1.5) → 5/6.
        let p = preds(&[1, 1, 1, 0, 0], &[0.8, 0.6, 0.6, 0.6, 0.3]);
        assert!(close(p.roc_auc().unwrap(), 5.0 / 6.0));
    }

    #[test]
    fn roc_auc_needs_both_classes() {
        assert_eq!(preds(&[1, 1], &[0.2, 0.4]).roc_auc(), None);
        assert_eq!(preds(&[0, 0], &[0.2, 0.4]).average_precision(), None);
    }

    #[test]
    fn average_precision_matches_hand_computation() {
        // Descending: 0.8 (+) P=1 R=½; 0.4 (−) P=½ R=½; 0.35 (+) P=⅔ R=1; 0.1 (−).
        // AP = ½·1 + 0 + ½·⅔ = 5/6 (scikit-learn's documented example).
        let p = preds(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]);
        assert!(close(p.average_precision().unwrap(), 5.0 / 6.0));
        // A tie at the top: {0.5: +, −} gives P=½ R=½; then 0.3 (+) P=⅔ R=1.
        // AP = ½·½ + ½·⅔ = 7/12.
        let p = preds(&[1, 0, 1, 0], &[0.5, 0.5, 0.3, 0.1]);
        assert!(close(p.average_precision().unwrap(), 7.0 / 12.0));
    }

    #[test]
    fn brier_and_log_loss_match_hand_computation() {
        let p = preds(&[0, 1, 0], &[0.1, 0.9, 0.8]);
        assert!(close(p.brier(), (0.01 + 0.01 + 0.64) / 3.0));
        let want = -(0.9f64.ln() + 0.9f64.ln() + 0.2f64.ln()) / 3.0;
        assert!(close(p.log_loss(), want));
        // A confident mistake is clipped, not infinite.
        let p = preds(&[1], &[0.0]);
        assert!(close(p.log_loss(), -(LOG_LOSS_EPS.ln())));
    }

    #[test]
    fn calibration_bins_split_sorted_rows_evenly() {
        let probabilities: Vec<f64> = (0..20).map(|i| f64::from(i) / 20.0).collect();
        let labels: Vec<u8> = (0..20).map(|i| u8::from(i >= 15)).collect();
        let table = preds(&labels, &probabilities).calibration(4);
        assert_eq!(table.len(), 4);
        assert!(table.iter().all(|b| b.count == 5));
        assert!(close(table[0].mean_predicted, 0.1));
        assert_eq!(table[0].min_predicted, 0.0);
        assert_eq!(table[0].max_predicted, 0.2);
        assert_eq!(table[3].observed_rate, 1.0);
        assert_eq!(table[2].observed_rate, 0.0);
        // Ties share a bin: the boundary after row 2 moves past the three 0.5s.
        let table = preds(&[0, 0, 1, 1, 0, 1], &[0.1, 0.2, 0.5, 0.5, 0.5, 0.9]).calibration(3);
        let counts: Vec<usize> = table.iter().map(|b| b.count).collect();
        assert_eq!(counts, [2, 3, 1]);
        assert!(close(table[1].observed_rate, 2.0 / 3.0));
        assert_eq!(table[1].min_predicted, table[1].max_predicted);
        // Fewer rows than bins: only non-empty bins.
        let table = preds(&[1, 0, 1], &[0.2, 0.4, 0.6]).calibration(10);
        assert_eq!(table.iter().map(|b| b.count).sum::<usize>(), 3);
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn bad_predictions_are_refused() {
        assert_eq!(Predictions::new(vec![], vec![]), Err(MlError::EmptyDataset));
        assert!(matches!(
            Predictions::new(vec![true], vec![0.1, 0.2]),
            Err(MlError::LengthMismatch { .. })
        ));
        assert_eq!(
            Predictions::new(vec![true, false], vec![0.1, f64::NAN]),
            Err(MlError::InvalidProbability { index: 1 })
        );
        assert_eq!(
            Predictions::new(vec![true], vec![1.5]),
            Err(MlError::InvalidProbability { index: 0 })
        );
    }
}
