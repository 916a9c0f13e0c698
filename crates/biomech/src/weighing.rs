//! Weighing the athlete: body weight from quiet standing.
//!
//! A jump is analysed with the body weight measured just before it: the
//! steadiest 1 s of quiet standing before its movement (McMahon et al.
//! 2018, Strength Cond J 40(4):96–106: at least 1 s of quiet standing).
//! When reps follow each other without a steady second between them, the
//! body weight is the steadiest second anywhere in the recording (among
//! windows within 10 % of the heaviest steady one, so that a stance with
//! one foot on the plate is not taken for the athlete's weight); without
//! one, the weigh-in the caller passes ([`crate::AnalysisOptions`]); without
//! that, the rep is not analysed. Each result says which source it used
//! ([`WeighingSource`], and a flag for the two fallbacks).
//!
//! Windows are searched on the block grid (50 ms steps) and ranked by the
//! spread of their 50 ms block means (sway and movement change block
//! means; amplifier noise, the same everywhere, averages out within a
//! block), which the block sums give without reading samples again. The
//! chosen window's mean and SD are then computed from its samples, and
//! its SD must be within 3 % of its mean.

use serde::Serialize;

use crate::recording::GRAVITY;
use crate::signal::{Signal, mean_sd_shifted};

/// Length of a weighing window, s (McMahon et al. 2018).
pub const WEIGHING_WINDOW_S: f64 = 1.0;
/// Weighing is unstable when its SD exceeds this fraction of body weight.
pub const MAX_WEIGHING_SD_FRACTION: f64 = 0.03;
/// Lightest body weight accepted, N (≈ 10 kg).
pub const MIN_BODY_WEIGHT_N: f64 = 100.0;
/// Steady windows lighter than this fraction of the heaviest steady window
/// are not the athlete's weight (one foot on the plate).
pub const HEAVIEST_FRACTION: f64 = 0.9;
/// A short quiet window, s: measures noise when the body weight comes from
/// elsewhere.
pub const SHORT_WINDOW_S: f64 = 0.25;
/// Lightest and heaviest weigh-in accepted from a caller, kg.
pub const WEIGH_IN_RANGE_KG: (f64, f64) = (10.0, 400.0);

/// Where a body weight came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeighingSource {
    /// Quiet standing before the movement (the standard).
    BeforeMovement,
    /// The steadiest second elsewhere in the recording.
    Recording,
    /// The caller's weigh-in (or the body mass the file stated).
    WeighIn,
}

/// A body weight and the window it was measured over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Weighing {
    /// First sample of the window (equal to `end` for a weigh-in).
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
    /// Body weight, N.
    pub mean: f64,
    /// SD of force over the window, N (for a weigh-in, of the quietest
    /// stretch found, or 1 % of body weight).
    pub sd: f64,
    /// Where it came from.
    pub source: WeighingSource,
    /// How far the standing force before the movement lies from `mean`, N:
    /// zero when the weighing is the standing itself; for a weigh-in, the
    /// gap to the quietest stretch found, which widens the onset band so
    /// that standing is not taken for movement.
    pub standing_gap: f64,
}

impl Weighing {
    /// A weigh-in of `kg`, with the noise (`sd`) and force (`standing`) of
    /// the quietest standing found, if any.
    pub fn weigh_in(kg: f64, sd: f64, standing: Option<f64>) -> Self {
        let mean = kg * GRAVITY;
        Self {
            start: 0,
            end: 0,
            mean,
            sd,
            source: WeighingSource::WeighIn,
            standing_gap: standing.map_or(0.0, |s| (s - mean).abs()),
        }
    }

    /// The onset band: 5 SD, at least 10 N (Owen et al. 2014), widened by
    /// [`Weighing::standing_gap`].
    pub fn band(&self) -> f64 {
        crate::cmj::onset_band(self.sd) + self.standing_gap
    }

    /// Steady enough to weigh: heavier than [`MIN_BODY_WEIGHT_N`] and SD at
    /// most [`MAX_WEIGHING_SD_FRACTION`] of the mean.
    pub fn is_steady(&self) -> bool {
        self.mean >= MIN_BODY_WEIGHT_N && self.sd <= MAX_WEIGHING_SD_FRACTION * self.mean
    }
}

/// Blocks in a weighing window: at least 1 s.
pub(crate) fn window_blocks(signal: &Signal<'_>) -> usize {
    signal
        .rate
        .samples(WEIGHING_WINDOW_S)
        .div_ceil(signal.block_len)
        .max(1)
}

/// Blocks in a short quiet window (0.25 s), used to measure noise when the
/// body weight comes from elsewhere.
pub(crate) fn short_window_blocks(signal: &Signal<'_>) -> usize {
    signal
        .rate
        .samples(SHORT_WINDOW_S)
        .div_ceil(signal.block_len)
        .max(1)
}

/// The steadiest window of `len` blocks lying inside samples `[lo, hi)`
/// with every block loaded (minimum at or above `threshold`), measured
/// from its samples.
pub(crate) fn steadiest(
    signal: &Signal<'_>,
    lo: usize,
    hi: usize,
    len: usize,
    threshold: f64,
) -> Option<Weighing> {
    let first = signal.block_at_or_after(lo);
    let last = (hi / signal.block_len).min(signal.blocks.len());
    let mut best: Option<(usize, f64)> = None;
    for_each_window(signal, first, last, len, threshold, |a, _, spread| {
        if best.is_none_or(|(_, v)| spread < v) {
            best = Some((a, spread));
        }
    });
    best.map(|(a, _)| measure(signal, a, a + len, WeighingSource::BeforeMovement))
}

/// [`steadiest`], reusing `known` (a window already measured) when the
/// steadiest window is the same one.
pub(crate) fn steadiest_reusing(
    signal: &Signal<'_>,
    (lo, hi): (usize, usize),
    len: usize,
    threshold: f64,
    known: Option<&Weighing>,
) -> Option<Weighing> {
    let first = signal.block_at_or_after(lo);
    let last = (hi / signal.block_len).min(signal.blocks.len());
    let mut best: Option<(usize, f64, f64)> = None;
    for_each_window(signal, first, last, len, threshold, |a, mean, spread| {
        if best.is_none_or(|(_, _, v)| spread < v) {
            best = Some((a, mean, spread));
        }
    });
    let (a, mean, spread2) = best?;
    // Block means that already spread beyond the steadiness limit: not
    // steady, whatever its samples say (and not worth reading them).
    let limit = MAX_WEIGHING_SD_FRACTION * mean;
    if spread2 > limit * limit {
        return None;
    }
    let range = signal.block_samples(a, a + len);
    match known {
        Some(w) if w.start == range.start && w.end == range.end => Some(Weighing {
            source: WeighingSource::BeforeMovement,
            ..*w
        }),
        _ => Some(measure(signal, a, a + len, WeighingSource::BeforeMovement)),
    }
}

/// The steadiest steady window of the whole recording, among those within
/// [`HEAVIEST_FRACTION`] of the heaviest steady window.
pub(crate) fn recording_weighing(signal: &Signal<'_>, threshold: f64) -> Option<Weighing> {
    let len = window_blocks(signal);
    let last = signal.blocks.len();
    // Block means vary less than samples: a window whose block means
    // spread by more than the steadiness limit is not steady.
    let steady = |mean: f64, spread2: f64| {
        let limit = MAX_WEIGHING_SD_FRACTION * mean;
        mean >= MIN_BODY_WEIGHT_N && spread2 <= limit * limit
    };
    // One sweep keeps the steady windows; the heaviest decides which count.
    let mut candidates: Vec<(usize, f64, f64)> = Vec::new();
    for_each_window(signal, 0, last, len, threshold, |a, mean, spread| {
        if steady(mean, spread) {
            candidates.push((a, mean, spread));
        }
    });
    let heaviest = candidates
        .iter()
        .map(|c| c.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let best = candidates
        .iter()
        .filter(|c| c.1 >= HEAVIEST_FRACTION * heaviest)
        .min_by(|a, b| a.2.total_cmp(&b.2))?;
    let w = measure(signal, best.0, best.0 + len, WeighingSource::Recording);
    w.is_steady().then_some(w)
}

/// The earliest steady second of the recording (the standing before a
/// test such as a pull, whose held force may be steadier than standing).
pub(crate) fn first_steady(signal: &Signal<'_>, threshold: f64) -> Option<Weighing> {
    let len = window_blocks(signal);
    let mut first: Option<usize> = None;
    for_each_window(
        signal,
        0,
        signal.blocks.len(),
        len,
        threshold,
        |a, mean, spread2| {
            let limit = MAX_WEIGHING_SD_FRACTION * mean;
            if first.is_none() && mean >= MIN_BODY_WEIGHT_N && spread2 <= limit * limit {
                first = Some(a);
            }
        },
    );
    let w = measure(signal, first?, first? + len, WeighingSource::Recording);
    w.is_steady().then_some(w)
}

/// Calls `visit(first_block, mean, spread²)` for every window of `len`
/// loaded blocks starting in `[first, last − len]`: `mean` of its samples
/// and the variance of its block means, sliding the sums.
fn for_each_window(
    signal: &Signal<'_>,
    first: usize,
    last: usize,
    len: usize,
    threshold: f64,
    mut visit: impl FnMut(usize, f64, f64),
) {
    let blocks = signal.blocks.get(first..last).unwrap_or_default();
    let means = signal.means.get(first..last).unwrap_or_default();
    if blocks.len() < len || len < 2 || means.len() != blocks.len() {
        return;
    }
    let (mut sum, mut sumsq, mut unloaded) = (0.0, 0.0, 0usize);
    for (b, &m) in blocks.iter().zip(means).take(len) {
        sum += m;
        sumsq += m * m;
        unloaded += usize::from(b.min < threshold);
    }
    let n = len as f64;
    let report = |a: usize, sum: f64, sumsq: f64, visit: &mut dyn FnMut(usize, f64, f64)| {
        let mean = sum / n;
        visit(first + a, mean, ((sumsq - sum * mean) / (n - 1.0)).max(0.0));
    };
    if unloaded == 0 {
        report(0, sum, sumsq, &mut visit);
    }
    let leaving = blocks.iter().zip(means);
    let entering = blocks.iter().zip(means).skip(len);
    for (a, ((out_b, &out), (in_b, &inn))) in leaving.zip(entering).enumerate() {
        sum += inn - out;
        sumsq += inn * inn - out * out;
        unloaded =
            unloaded + usize::from(in_b.min < threshold) - usize::from(out_b.min < threshold);
        if unloaded == 0 {
            report(a + 1, sum, sumsq, &mut visit);
        }
    }
}

/// Mean and SD of blocks `[a, b)` from their samples.
fn measure(signal: &Signal<'_>, a: usize, b: usize, source: WeighingSource) -> Weighing {
    let range = signal.block_samples(a, b);
    let (mean, sd) = mean_sd_shifted(signal.total.get(range.clone()).unwrap_or_default());
    Weighing {
        start: range.start,
        end: range.end,
        mean,
        sd,
        source,
        standing_gap: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Metadata, Plates, Recording, SampleRate};

    fn rec(fz: Vec<f64>) -> Recording {
        Recording {
            sample_rate: SampleRate::new(1000.0).unwrap(),
            plates: Plates::Single { fz },
            cop: None,
            timing: None,
            metadata: Metadata::default(),
        }
    }

    fn wobble(i: usize, amplitude: f64) -> f64 {
        amplitude * ((i * 7919) % 13) as f64 / 13.0
    }

    #[test]
    fn the_steadiest_second_is_found() {
        let fz: Vec<f64> = (0..5000)
            .map(|i| 800.0 + wobble(i, if (2000..3200).contains(&i) { 2.0 } else { 20.0 }))
            .collect();
        let r = rec(fz);
        let s = Signal::new(&r);
        let w = steadiest(&s, 0, 5000, window_blocks(&s), 40.0).unwrap();
        assert!(w.start >= 2000 && w.end <= 3200, "{w:?}");
        assert!(w.is_steady());
    }

    #[test]
    fn one_foot_on_the_plate_is_not_the_weight() {
        // 1.5 s with half the weight, very steady; then the athlete, less so.
        let fz: Vec<f64> = (0..5000)
            .map(|i| {
                if i < 1500 {
                    400.0 + wobble(i, 1.0)
                } else {
                    800.0 + wobble(i, 8.0)
                }
            })
            .collect();
        let r = rec(fz);
        let s = Signal::new(&r);
        let w = recording_weighing(&s, 40.0).unwrap();
        assert!((w.mean - 804.0).abs() < 2.0, "{w:?}");
        assert_eq!(w.source, WeighingSource::Recording);
    }

    #[test]
    fn nothing_steady_nothing_weighed() {
        let fz: Vec<f64> = (0..3000)
            .map(|i| 800.0 + 100.0 * (i as f64 / 40.0).sin())
            .collect();
        let r = rec(fz);
        assert!(recording_weighing(&Signal::new(&r), 40.0).is_none());
    }
}
