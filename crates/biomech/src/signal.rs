//! The prepared signal: total vertical force plus statistics of 50 ms
//! blocks, computed in one pass over the samples.
//!
//! Everything that used to scan the whole recording (the unloaded
//! threshold, finding who is on the plate, ranking weighing windows) works
//! on the blocks instead: a block whose minimum is at or above a threshold
//! is loaded without looking at its samples, and a 1 s weighing window is
//! 20 block means. Only the few blocks where something changes are read
//! sample by sample. A block keeps only its sum and minimum: each further
//! statistic costs a pass's worth of time over the whole recording.

use std::borrow::Cow;
use std::ops::Range;

use crate::recording::{Plates, Recording, SampleRate};
use crate::segment::MIN_UNLOADED_THRESHOLD_N;

/// Length of a block, s: the step at which weighing windows are searched.
pub const BLOCK_S: f64 = 0.05;

/// Statistics of one block of the total force.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Block {
    /// Sum of the samples.
    pub sum: f64,
    /// Smallest sample.
    pub min: f64,
}

/// A recording's force, ready for analysis.
#[derive(Debug)]
pub(crate) struct Signal<'a> {
    /// Total vertical force, N (borrowed for a single plate).
    pub total: Cow<'a, [f64]>,
    /// Left and right plates, when there are two.
    pub sides: Option<(&'a [f64], &'a [f64])>,
    /// Sample rate.
    pub rate: SampleRate,
    /// Samples per block (the last block may be shorter).
    pub block_len: usize,
    /// Statistics of each block of the total.
    pub blocks: Vec<Block>,
    /// Mean of each block of the total.
    pub means: Vec<f64>,
    /// True when every force sample is finite.
    pub finite: bool,
}

impl<'a> Signal<'a> {
    /// Prepares a recording's force in one pass.
    pub fn new(recording: &'a Recording) -> Self {
        let rate = recording.sample_rate;
        let block_len = rate.samples(BLOCK_S).max(1);
        match &recording.plates {
            Plates::Single { fz } => {
                let blocks: Vec<Block> = fz.chunks(block_len).map(block_stats).collect();
                let finite = blocks_finite(&blocks, fz, block_len);
                Self {
                    total: Cow::Borrowed(fz.as_slice()),
                    sides: None,
                    rate,
                    block_len,
                    means: block_means(&blocks, fz.len(), block_len),
                    blocks,
                    finite,
                }
            }
            Plates::Dual { left, right } => {
                let n = left.len().min(right.len());
                let (left, right) = (
                    left.get(..n).unwrap_or_default(),
                    right.get(..n).unwrap_or_default(),
                );
                let total: Vec<f64> = left.iter().zip(right).map(|(l, r)| l + r).collect();
                let blocks: Vec<Block> = total.chunks(block_len).map(block_stats).collect();
                // A finite sum of finite sides is finite; a non-finite side
                // makes the total non-finite.
                let finite = blocks_finite(&blocks, &total, block_len);
                Self {
                    means: block_means(&blocks, total.len(), block_len),
                    total: Cow::Owned(total),
                    sides: Some((left, right)),
                    rate,
                    block_len,
                    blocks,
                    finite,
                }
            }
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.total.len()
    }

    /// The samples of blocks `[a, b)`.
    pub fn block_samples(&self, a: usize, b: usize) -> Range<usize> {
        let n = self.len();
        (a * self.block_len).min(n)..(b * self.block_len).min(n)
    }

    /// The first block that starts at or after sample `i`.
    pub fn block_at_or_after(&self, i: usize) -> usize {
        i.div_ceil(self.block_len)
    }

    /// Mean of block `k` (0 past the end).
    pub fn block_mean(&self, k: usize) -> f64 {
        self.means.get(k).copied().unwrap_or(0.0)
    }

    /// Threshold below which the plate counts as unloaded: 5 % of the 90th
    /// percentile of the block means (≈ body weight, since most of a
    /// recording is standing), at least [`MIN_UNLOADED_THRESHOLD_N`].
    /// Scaling with load keeps plate noise, which grows with load on real
    /// amplifiers, from splitting a flight.
    pub fn unloaded_threshold(&self) -> f64 {
        let mut means: Vec<f64> = (0..self.blocks.len()).map(|k| self.block_mean(k)).collect();
        if means.is_empty() {
            return MIN_UNLOADED_THRESHOLD_N;
        }
        let k = ((means.len() * 9) / 10).min(means.len() - 1);
        let (_, p90, _) = means.select_nth_unstable_by(k, f64::total_cmp);
        (0.05 * *p90).max(MIN_UNLOADED_THRESHOLD_N)
    }
}

/// Sum and minimum of one block, in four lanes so that the compiler keeps
/// them in vector registers (one running sum is one long dependency
/// chain). `if v < m { v } else { m }` is the x86 MINPD rule (NaN keeps the
/// old value); `f64::min`'s NaN rule is not, and stays scalar.
#[allow(clippy::needless_range_loop)] // four lanes side by side vectorise
fn block_stats(x: &[f64]) -> Block {
    let mut sum = [0.0; 4];
    let mut min = [f64::INFINITY; 4];
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        if let Ok(c) = <&[f64; 4]>::try_from(c) {
            for k in 0..4 {
                sum[k] += c[k];
                min[k] = if c[k] < min[k] { c[k] } else { min[k] };
            }
        }
    }
    let pick = |a: f64, b: f64| if b < a { b } else { a };
    let mut block = Block {
        sum: (sum[0] + sum[1]) + (sum[2] + sum[3]),
        min: pick(pick(min[0], min[1]), pick(min[2], min[3])),
    };
    for &v in rest {
        block.sum += v;
        block.min = pick(block.min, v);
    }
    block
}

/// Independent running sums (and minima, maxima) in the reductions over
/// many samples: SSE2 holds two `f64` per register and an addition takes
/// three to four cycles, so four lanes (two registers) wait on their own
/// additions; eight keep the adder busy.
const LANES: usize = 8;

/// Sum of eight lanes, pairwise.
fn lane_sum(s: [f64; LANES]) -> f64 {
    let [a, b, c, d, e, f, g, h] = s;
    ((a + e) + (c + g)) + ((b + f) + (d + h))
}

/// Smaller of two by the MINPD rule (NaN in `b` keeps `a`).
fn lo(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// Larger of two by the MAXPD rule (NaN in `b` keeps `a`).
fn hi(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// Sum, minimum and maximum of a slice, in four lanes (three running
/// statistics of eight lanes would not fit SSE2's sixteen registers).
#[allow(clippy::needless_range_loop)] // four lanes side by side vectorise
pub(crate) fn sum_min_max(x: &[f64]) -> (f64, f64, f64) {
    let mut sum = [0.0; 4];
    let mut min = [f64::INFINITY; 4];
    let mut max = [f64::NEG_INFINITY; 4];
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        if let Ok(c) = <&[f64; 4]>::try_from(c) {
            for k in 0..4 {
                sum[k] += c[k];
                min[k] = if c[k] < min[k] { c[k] } else { min[k] };
                max[k] = if c[k] > max[k] { c[k] } else { max[k] };
            }
        }
    }
    let (mut s, mut mn, mut mx) = (
        (sum[0] + sum[1]) + (sum[2] + sum[3]),
        lo(lo(min[0], min[1]), lo(min[2], min[3])),
        hi(hi(max[0], max[1]), hi(max[2], max[3])),
    );
    for &v in rest {
        s += v;
        mn = lo(mn, v);
        mx = hi(mx, v);
    }
    (s, mn, mx)
}

/// Each block's mean (the last block may be shorter).
fn block_means(blocks: &[Block], n: usize, block_len: usize) -> Vec<f64> {
    let full = 1.0 / block_len as f64;
    let last = n - (blocks.len().saturating_sub(1)) * block_len;
    blocks
        .iter()
        .enumerate()
        .map(|(k, b)| {
            if k + 1 == blocks.len() {
                b.sum / last.max(1) as f64
            } else {
                b.sum * full
            }
        })
        .collect()
}

/// True when every sample is finite. A block's sum is finite only if all
/// its samples are (NaN and infinities propagate); a sum that overflowed
/// from huge finite samples is checked sample by sample.
fn blocks_finite(blocks: &[Block], x: &[f64], block_len: usize) -> bool {
    blocks
        .iter()
        .zip(x.chunks(block_len))
        .all(|(block, samples)| block.sum.is_finite() || samples.iter().all(|v| v.is_finite()))
}

/// Sum in sixteen lanes (vectorised; the order of additions differs from
/// a sequential sum only in the last bits).
#[allow(clippy::needless_range_loop)] // lanes side by side vectorise
pub(crate) fn sum(x: &[f64]) -> f64 {
    let mut s = [0.0; 2 * LANES];
    let chunks = x.chunks_exact(2 * LANES);
    let rest = chunks.remainder();
    for c in chunks {
        if let Ok(c) = <&[f64; 2 * LANES]>::try_from(c) {
            for k in 0..2 * LANES {
                s[k] += c[k];
            }
        }
    }
    let mut half = [0.0; LANES];
    for k in 0..LANES {
        half[k] = s[k] + s[k + LANES];
    }
    let mut total = lane_sum(half);
    for &v in rest {
        total += v;
    }
    total
}

/// Mean and sample SD (n − 1) in one pass: sums of the samples less the
/// first one (a value near the mean of a steady window, so that the sum
/// of squares does not lose the variance to cancellation).
#[allow(clippy::needless_range_loop)] // lanes side by side vectorise
pub(crate) fn mean_sd_shifted(x: &[f64]) -> (f64, f64) {
    let Some(&shift) = x.first() else {
        return (0.0, 0.0);
    };
    let (mut s, mut q) = ([0.0; LANES], [0.0; LANES]);
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        if let Ok(c) = <&[f64; LANES]>::try_from(c) {
            for k in 0..LANES {
                let d = c[k] - shift;
                s[k] += d;
                q[k] += d * d;
            }
        }
    }
    let (mut sum, mut sumsq) = (lane_sum(s), lane_sum(q));
    for &v in rest {
        sum += v - shift;
        sumsq += (v - shift) * (v - shift);
    }
    let n = x.len() as f64;
    let mean = sum / n;
    if x.len() < 2 {
        return (shift + mean, 0.0);
    }
    let var = ((sumsq - sum * mean) / (n - 1.0)).max(0.0);
    (shift + mean, var.sqrt())
}

/// Mean and sample SD (n − 1), two passes.
#[allow(clippy::needless_range_loop)] // lanes side by side vectorise
pub(crate) fn mean_sd(x: &[f64]) -> (f64, f64) {
    if x.is_empty() {
        return (0.0, 0.0);
    }
    let n = x.len() as f64;
    let mean = sum(x) / n;
    if x.len() < 2 {
        return (mean, 0.0);
    }
    let mut q = [0.0; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        if let Ok(c) = <&[f64; LANES]>::try_from(c) {
            for k in 0..LANES {
                q[k] += (c[k] - mean) * (c[k] - mean);
            }
        }
    }
    let mut ss = lane_sum(q);
    for &v in rest {
        ss += (v - mean) * (v - mean);
    }
    (mean, (ss / (n - 1.0)).sqrt())
}

/// Largest value of `x[range]` and its first index; `None` when the range
/// is empty or outside `x`.
pub(crate) fn max_at(x: &[f64], range: Range<usize>) -> Option<(usize, f64)> {
    let start = range.start;
    let slice = x.get(range)?;
    let mut best: Option<(usize, f64)> = None;
    for (k, &v) in slice.iter().enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((start + k, v));
        }
    }
    best
}

/// Largest value of `x[range]`, or 0 for an empty range.
pub(crate) fn max_of(x: &[f64], range: Range<usize>) -> f64 {
    let (_, _, m) = sum_min_max(x.get(range).unwrap_or_default());
    if m.is_finite() { m } else { 0.0 }
}

/// Mean of `x[range]`, or 0 for an empty range.
pub(crate) fn mean_of(x: &[f64], range: Range<usize>) -> f64 {
    let slice = x.get(range).unwrap_or_default();
    if slice.is_empty() {
        return 0.0;
    }
    sum(slice) / slice.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::Metadata;

    fn recording(plates: Plates) -> Recording {
        Recording {
            sample_rate: SampleRate::new(1000.0).unwrap(),
            plates,
            cop: None,
            timing: None,
            metadata: Metadata::default(),
        }
    }

    #[test]
    fn blocks_agree_with_the_samples() {
        let left: Vec<f64> = (0..1234).map(|i| 400.0 + (i as f64 * 0.37).sin()).collect();
        let right: Vec<f64> = (0..1234).map(|i| 380.0 + (i as f64 * 0.11).cos()).collect();
        let r = recording(Plates::Dual { left, right });
        let s = Signal::new(&r);
        assert_eq!(s.block_len, 50);
        assert_eq!(s.blocks.len(), 25);
        let total = r.plates.total();
        for (b, block) in s.blocks.iter().enumerate() {
            let range = s.block_samples(b, b + 1);
            let x = &total[range];
            assert!((block.sum - x.iter().sum::<f64>()).abs() < 1e-9);
            assert_eq!(block.min, x.iter().copied().fold(f64::MAX, f64::min));
            let (sum, min, max) = sum_min_max(x);
            assert!((sum - block.sum).abs() < 1e-9);
            assert_eq!(
                (min, max),
                (block.min, x.iter().copied().fold(f64::MIN, f64::max))
            );
        }
        assert!(s.finite);
    }

    #[test]
    fn non_finite_and_overflowing_samples() {
        let mut fz = vec![800.0; 300];
        fz[7] = 1e308;
        fz[8] = 1e308;
        let r = recording(Plates::Single { fz: fz.clone() });
        assert!(Signal::new(&r).finite, "a sum overflowing is not a NaN");
        fz[200] = f64::NAN;
        let r = recording(Plates::Single { fz });
        assert!(!Signal::new(&r).finite);
    }
}
