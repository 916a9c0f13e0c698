//! Quantile bins for histogram tree growing.
//!
//! Each feature gets up to `n_bins - 1` cut points chosen on the training values. A value
//! falls in bin `k` when exactly `k` cuts lie strictly below it, so "bin ≤ k" is the same
//! test as "value ≤ cut k": a split found on bins is stored as a threshold on raw values and
//! sends every training row the same way at prediction time.

use crate::Dataset;

/// The bin of a missing value; real bins are `0..=253` at most (`n_bins ≤ 255`).
pub(crate) const MISSING_BIN: u8 = u8::MAX;

/// Slots per feature in a histogram: every real bin plus [`MISSING_BIN`].
pub(crate) const SLOTS: usize = 256;

/// The training rows as bin indices, row-major, with the cuts of each feature.
#[derive(Debug)]
pub(crate) struct BinnedMatrix {
    pub(crate) n_features: usize,
    pub(crate) bins: Vec<u8>,
    pub(crate) cuts: Vec<Vec<f64>>,
}

impl BinnedMatrix {
    /// `n_bins` must lie in `2..=255` (checked by the caller).
    pub(crate) fn build(data: &Dataset, n_bins: usize) -> Self {
        let n_features = data.n_features();
        let cuts: Vec<Vec<f64>> = (0..n_features)
            .map(|j| {
                let mut values: Vec<f64> =
                    data.rows().map(|r| r[j]).filter(|x| !x.is_nan()).collect();
                quantile_cuts(&mut values, n_bins)
            })
            .collect();
        let mut bins = Vec::with_capacity(data.n_rows() * n_features);
        for row in data.rows() {
            bins.extend(row.iter().zip(&cuts).map(|(&x, c)| bin_of(c, x)));
        }
        Self {
            n_features,
            bins,
            cuts,
        }
    }

    pub(crate) fn row(&self, index: usize) -> &[u8] {
        &self.bins[index * self.n_features..(index + 1) * self.n_features]
    }
}

/// Up to `max_bins - 1` increasing cuts splitting the (non-missing) `values` into bins of
/// roughly equal counts; every gap between distinct values gets a cut when there are no
/// more distinct values than bins. Cuts lie halfway between neighbouring distinct values.
pub(crate) fn quantile_cuts(values: &mut [f64], max_bins: usize) -> Vec<f64> {
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    // Distinct values with the number of values ≤ each.
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for (i, &v) in values.iter().enumerate() {
        match distinct.last_mut() {
            Some((last, cum)) if *last == v => *cum = i + 1,
            _ => distinct.push((v, i + 1)),
        }
    }
    let mut cuts = Vec::new();
    if distinct.len() <= max_bins {
        for pair in distinct.windows(2) {
            cuts.push(midpoint(pair[0].0, pair[1].0));
        }
    } else {
        // Walk the distinct values, closing a bin once it holds its share of the values not
        // yet binned; recomputing the share after each cut keeps a heavy tie (e.g. many
        // zeros) from using up the bins of the values after it.
        let mut binned = 0;
        let mut bins_left = max_bins;
        for pair in distinct.windows(2) {
            if cuts.len() + 1 >= max_bins {
                break;
            }
            let (value, cum) = pair[0];
            let share = (n - binned) as f64 / bins_left as f64;
            if (cum - binned) as f64 >= share {
                cuts.push(midpoint(value, pair[1].0));
                binned = cum;
                bins_left -= 1;
            }
        }
    }
    cuts.dedup();
    cuts
}

/// The bin of `x` given increasing `cuts`: the number of cuts strictly below `x`.
pub(crate) fn bin_of(cuts: &[f64], x: f64) -> u8 {
    if x.is_nan() {
        return MISSING_BIN;
    }
    // At most 254 cuts, so the count fits below MISSING_BIN.
    cuts.partition_point(|&c| c < x)
        .min(usize::from(MISSING_BIN - 1)) as u8
}

fn midpoint(a: f64, b: f64) -> f64 {
    // Halving first cannot overflow; the result lies in [a, b].
    a / 2.0 + b / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_values_get_a_cut_in_every_gap() {
        let mut v = vec![3.0, 1.0, 2.0, 2.0, 1.0];
        assert_eq!(quantile_cuts(&mut v, 8), vec![1.5, 2.5]);
        assert_eq!(quantile_cuts(&mut [], 8), Vec::<f64>::new());
        assert_eq!(quantile_cuts(&mut [4.0, 4.0], 8), Vec::<f64>::new());
    }

    #[test]
    fn many_values_get_equal_count_bins() {
        let mut v: Vec<f64> = (0..1000).map(f64::from).collect();
        let cuts = quantile_cuts(&mut v, 4);
        assert_eq!(cuts, vec![249.5, 499.5, 749.5]);
        let mut counts = [0usize; 4];
        for x in 0..1000 {
            counts[usize::from(bin_of(&cuts, f64::from(x)))] += 1;
        }
        assert_eq!(counts, [250; 4]);
    }

    #[test]
    fn heavy_ties_never_produce_more_bins_than_asked() {
        // 90 % zeros, then a spread: the zeros take one bin.
        let mut v: Vec<f64> = (0..1000)
            .map(|i| if i < 900 { 0.0 } else { f64::from(i) })
            .collect();
        let cuts = quantile_cuts(&mut v, 10);
        assert_eq!(cuts.len(), 9);
        assert_eq!(cuts[0], 450.0);
        // The remaining 100 values share the other 9 bins.
        let top = (900..1000)
            .filter(|&x| bin_of(&cuts, f64::from(x)) == 9)
            .count();
        assert!((5..=20).contains(&top), "{top}");
        assert!(cuts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn bin_test_matches_threshold_test() {
        let cuts = [0.5, 1.5, 2.5];
        for x in [-1.0, 0.5, 0.6, 1.5, 2.0, 2.5, 9.0] {
            let b = bin_of(&cuts, x);
            for (k, &c) in cuts.iter().enumerate() {
                assert_eq!(usize::from(b) <= k, x <= c, "x={x} k={k}");
            }
        }
        assert_eq!(bin_of(&cuts, f64::NAN), MISSING_BIN);
        assert_eq!(bin_of(&cuts, f64::INFINITY), 3);
    }
}
