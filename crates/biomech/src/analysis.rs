//! From a recording to a report: the signal prepared once, checks on it,
//! segmentation into stretches and flights, the test kind (given or
//! detected), and the analysis each kind calls for.

use std::collections::BTreeMap;

use crate::ANALYSIS_VERSION;
use crate::balance::analyze_balance;
use crate::cmj::asymmetry_index;
use crate::detect::{Detection, detect_kind};
use crate::flags::{Flag, FlagCode, any_blocking};
use crate::recording::{GRAVITY, Recording, SampleRate, Side, TrialKind};
use crate::report::{
    HopSummary, KindSource, Metrics, RecordingSummary, Report, SideComparison, Summary, TrialResult,
};
use crate::segment::{Segments, loaded_spans, segment};
use crate::signal::{Signal, mean_sd};
use crate::weighing::{self, WEIGH_IN_RANGE_KG, Weighing};
use crate::{cmj, drop_jump, hops, imtp, landing, squat_jump};

/// What the caller knows about the athlete and the test, beyond the file.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct AnalysisOptions {
    /// The athlete's recent weigh-in, kg: the body weight of reps that have
    /// no steady second of standing anywhere in the recording (flagged
    /// `body_weight_from_weigh_in`). Outside 10–400 kg it is ignored.
    pub body_mass_kg: Option<f64>,
    /// Box height of a drop jump or landing test, m, reported beside the
    /// drop height estimated from the signal.
    pub box_height_m: Option<f64>,
    /// The body mass an earlier assessment of the athlete measured, kg: the
    /// last resort when neither the recording nor a weigh-in (the caller's
    /// or the file's) can weigh a rep (flagged
    /// `body_weight_from_earlier_assessment`). Outside 10–400 kg it is
    /// ignored.
    pub earlier_body_mass_kg: Option<f64>,
}

impl AnalysisOptions {
    /// Options with the athlete's weigh-in, kg.
    pub fn with_body_mass_kg(mut self, kg: f64) -> Self {
        self.body_mass_kg = Some(kg);
        self
    }

    /// Options with the box height of a drop jump or landing, m.
    pub fn with_box_height_m(mut self, m: f64) -> Self {
        self.box_height_m = Some(m);
        self
    }

    /// Options with the body mass an earlier assessment measured, kg.
    pub fn with_earlier_body_mass_kg(mut self, kg: f64) -> Self {
        self.earlier_body_mass_kg = Some(kg);
        self
    }
}

/// A body mass from outside the recording, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WeighIn {
    /// kg.
    pub kg: f64,
    /// True when it is an earlier assessment's, not a weigh-in given with
    /// the recording.
    pub earlier: bool,
}

impl WeighIn {
    /// The caller's weigh-in, else the file's, else an earlier assessment's;
    /// each only within 10–400 kg.
    fn of(options: &AnalysisOptions, recording: &Recording) -> Option<Self> {
        let valid =
            |kg: &f64| kg.is_finite() && (WEIGH_IN_RANGE_KG.0..=WEIGH_IN_RANGE_KG.1).contains(kg);
        options
            .body_mass_kg
            .filter(valid)
            .or(recording.metadata.body_mass_kg.filter(valid))
            .map(|kg| WeighIn { kg, earlier: false })
            .or(options
                .earlier_body_mass_kg
                .filter(valid)
                .map(|kg| WeighIn { kg, earlier: true }))
    }

    /// The flag of a body weight taken from it: `missing` says what the
    /// recording lacked ("no steady second of standing before the pull").
    pub fn flag(self, missing: &str) -> Flag {
        if self.earlier {
            Flag::new(
                FlagCode::BodyWeightFromEarlierAssessment,
                format!(
                    "{missing} and no weigh-in given: body weight from the athlete's latest earlier assessment that weighed them"
                ),
            )
        } else {
            Flag::new(
                FlagCode::BodyWeightFromWeighIn,
                format!("{missing}: body weight from the weigh-in given with it"),
            )
        }
    }
}

/// Analyses every trial of a recording. Deterministic: the same recording
/// always gives the same report.
///
/// The trial kind is the recording's `test` metadata; without it, the kind
/// is detected from the signal (see [`crate::detect`]) and the report says
/// so (`recording.kind_source`).
pub fn analyze_recording(recording: &Recording) -> Report {
    analyze_recording_with(recording, &AnalysisOptions::default())
}

/// [`analyze_recording`] with what the caller knows beyond the file: the
/// athlete's weigh-in and a drop jump's box height.
pub fn analyze_recording_with(recording: &Recording, options: &AnalysisOptions) -> Report {
    let signal = Signal::new(recording);
    let given = recording.metadata.test;
    let kind_source = if given.is_some() {
        KindSource::Given
    } else {
        KindSource::Detected
    };
    let (kind, trials) = analyze_signal(recording, signal, options);
    let summary = summarise(kind, &trials);
    Report {
        file: String::new(),
        analysis_version: ANALYSIS_VERSION.to_owned(),
        recording: RecordingSummary::of(recording, kind_source),
        trials,
        summary,
    }
}

/// Everything the kind-specific analyses share.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    /// The recording (metadata, centre of pressure).
    pub recording: &'a Recording,
    /// The prepared force.
    pub signal: Signal<'a>,
    /// Below this the plate is unloaded, N.
    pub threshold: f64,
    /// Standing force (body weight) pushes and landings are measured
    /// against, N.
    pub level: f64,
    /// Stretches, flights and steps.
    pub segments: Segments,
    /// The steadiest second of the whole recording, if steady.
    pub recording_weighing: Option<Weighing>,
    /// The caller's (or the file's, or an earlier assessment's) weigh-in.
    pub weigh_in: Option<WeighIn>,
    /// The caller's options.
    pub options: &'a AnalysisOptions,
}

/// One trial before it becomes a [`TrialResult`].
#[derive(Debug, Clone)]
pub(crate) struct Trial {
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
    /// Flags (unsorted).
    pub flags: Vec<Flag>,
    /// Metrics, unless a flag blocks them.
    pub metrics: Option<Metrics>,
    /// The samples the analysis read, `[start, end)`, for the checks on the
    /// raw signal (clipping, negative force); `None` checks the whole trial.
    pub checked: Option<(usize, usize)>,
    /// Phase boundaries (sample indices) of a jump whose phases were found.
    pub phases: Option<crate::report::PhaseIndices>,
}

impl Trial {
    /// A trial with only a blocking flag.
    pub fn blocked(start: usize, end: usize, flag: Flag) -> Self {
        Self {
            start,
            end,
            flags: vec![flag],
            metrics: None,
            checked: None,
            phases: None,
        }
    }

    /// A trial from an analysis outcome.
    pub fn of(start: usize, end: usize, outcome: Result<(Metrics, Vec<Flag>), Flag>) -> Self {
        match outcome {
            Ok((metrics, flags)) => Self {
                start,
                end,
                flags,
                metrics: Some(metrics),
                checked: None,
                phases: None,
            },
            Err(flag) => Self::blocked(start, end, flag),
        }
    }
}

impl Context<'_> {
    /// The body weight for a movement without a steady second before it:
    /// the recording's steadiest second, else the weigh-in (with the noise
    /// of the quietest 0.25 s in `[lo, hi)`, else 1 % of body weight), each
    /// with the flag that says so; `Err` when neither exists.
    pub fn fallback_weighing(&self, lo: usize, hi: usize) -> Result<(Weighing, Flag), Flag> {
        if let Some(w) = self.recording_weighing {
            let at = w.start as f64 * self.signal.rate.dt();
            return Ok((
                w,
                Flag::new(
                    FlagCode::BodyWeightFromRecording,
                    format!(
                        "no steady second of standing before this movement: body weight from the steadiest second of the recording (at {at:.2} s)"
                    ),
                ),
            ));
        }
        if let Some(weigh_in) = self.weigh_in {
            let kg = weigh_in.kg;
            let short = weighing::short_window_blocks(&self.signal);
            let quiet = weighing::steadiest(&self.signal, lo, hi, short, self.threshold)
                .filter(|w| w.sd <= 0.03 * kg * GRAVITY);
            let sd = quiet.map_or(0.01 * kg * GRAVITY, |w| w.sd);
            return Ok((
                Weighing::weigh_in(kg, sd, quiet.map(|w| w.mean)),
                weigh_in.flag("no steady second of standing in the recording"),
            ));
        }
        Err(Flag::new(
            FlagCode::NoStableWeighing,
            "no steady second of standing anywhere in the recording (SD within 3 % of body weight) and no weigh-in given: pass the athlete's body mass to analyse it",
        ))
    }

    /// The rate.
    pub fn rate(&self) -> SampleRate {
        self.signal.rate
    }
}

/// Checks, segmentation, kind and per-kind analysis.
fn analyze_signal(
    recording: &Recording,
    signal: Signal<'_>,
    options: &AnalysisOptions,
) -> (TrialKind, Vec<TrialResult>) {
    let n = signal.len();
    let given = recording.metadata.test;
    let fallback_kind = given.unwrap_or(TrialKind::Cmj);
    let cop_finite = recording
        .cop
        .as_ref()
        .is_none_or(|c| c.x.iter().chain(&c.y).all(|v| v.is_finite()));
    if !signal.finite || !cop_finite {
        let flag = Flag::new(
            FlagCode::NonFiniteForce,
            "the recording holds NaN or infinite samples (dropped samples?)",
        );
        return (
            fallback_kind,
            finish(
                recording,
                &signal,
                0.0,
                fallback_kind,
                vec![Trial::blocked(0, n, flag)],
            ),
        );
    }
    let threshold = signal.unloaded_threshold();
    if !signal.total.iter().any(|&f| f >= threshold) {
        let flag = Flag::new(FlagCode::EmptyPlate, "nobody stood on the plate");
        return (
            fallback_kind,
            finish(
                recording,
                &signal,
                threshold,
                fallback_kind,
                vec![Trial::blocked(0, n, flag)],
            ),
        );
    }
    let recording_weighing = weighing::recording_weighing(&signal, threshold);
    let weigh_in = WeighIn::of(options, recording);
    let level = recording_weighing
        .map(|w| w.mean)
        .or(weigh_in.map(|w| w.kg * GRAVITY))
        .unwrap_or_else(|| loaded_median(&signal, threshold));
    let segments = segment(&signal, threshold, level);
    let ctx = Context {
        recording,
        signal,
        threshold,
        level,
        segments,
        recording_weighing,
        weigh_in,
        options,
    };
    let detection = match given {
        Some(kind) => Detection { kind, doubt: None },
        None => detect_kind(&ctx),
    };
    let kind = detection.kind;
    let mut trials = match kind {
        TrialKind::Cmj => cmj::trials(&ctx, false),
        TrialKind::SingleLegCmj => cmj::trials(&ctx, true),
        TrialKind::Balance | TrialKind::Plank => balance_trials(&ctx),
        TrialKind::SquatJump => squat_jump::trials(&ctx),
        TrialKind::DropJump => drop_jump::trials(&ctx),
        TrialKind::RepeatedHops => hops::trials(&ctx, false),
        TrialKind::SingleLegHop => hops::trials(&ctx, true),
        TrialKind::Imtp => imtp::trials(&ctx),
        TrialKind::Landing => landing::trials(&ctx),
    };
    if trials.is_empty() {
        trials.push(Trial::blocked(
            0,
            n,
            Flag::new(
                FlagCode::MovementTooEarly,
                "no stretch of at least 1 s on the plate",
            ),
        ));
    }
    if let Some(doubt) = detection.doubt {
        for trial in &mut trials {
            trial
                .flags
                .push(Flag::new(FlagCode::KindUncertain, doubt.clone()));
        }
    }
    let results = finish(recording, &ctx.signal, threshold, kind, trials);
    (kind, results)
}

/// Balance and plank: every loaded stretch is a trial.
fn balance_trials(ctx: &Context<'_>) -> Vec<Trial> {
    let total = &ctx.signal.total;
    loaded_spans(&ctx.signal, ctx.threshold)
        .into_iter()
        .map(|(start, end)| {
            let outcome =
                analyze_balance(total, ctx.recording.cop.as_ref(), (start, end), ctx.rate())
                    .map(|m| (Metrics::Balance(m), Vec::new()));
            Trial::of(start, end, outcome)
        })
        .collect()
}

/// Median of the loaded blocks' means: the standing level when nothing
/// steady and no weigh-in say better.
fn loaded_median(signal: &Signal<'_>, threshold: f64) -> f64 {
    let mut means: Vec<f64> = signal
        .blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.min >= threshold)
        .map(|(k, b)| b.sum / signal.block_samples(k, k + 1).len().max(1) as f64)
        .collect();
    if means.is_empty() {
        return threshold * 20.0;
    }
    let mid = means.len() / 2;
    let (_, median, _) = means.select_nth_unstable_by(mid, f64::total_cmp);
    *median
}

/// Adds the signal checks to each trial, drops the metrics of blocked
/// trials, sorts flags and numbers the trials.
fn finish(
    recording: &Recording,
    signal: &Signal<'_>,
    threshold: f64,
    kind: TrialKind,
    trials: Vec<Trial>,
) -> Vec<TrialResult> {
    let dt = signal.rate.dt();
    trials
        .into_iter()
        .enumerate()
        .map(|(index, mut trial)| {
            if signal.finite && !signal.total.is_empty() {
                let (a, b) = trial.checked.unwrap_or((trial.start, trial.end));
                trial
                    .flags
                    .extend(signal_flags(recording, signal, threshold, a, b));
            }
            if any_blocking(&trial.flags) {
                trial.metrics = None;
                trial.flags.retain(|f| !f.code.describes_metrics());
            }
            trial.flags.sort_by_key(|f| f.code);
            trial.flags.dedup_by_key(|f| f.code);
            TrialResult {
                index,
                kind,
                start_s: trial.start as f64 * dt,
                end_s: trial.end as f64 * dt,
                flags: trial.flags,
                phases: trial
                    .phases
                    .filter(|_| trial.metrics.is_some())
                    .map(|p| p.seconds(dt)),
                metrics: trial.metrics,
            }
        })
        .collect()
}

/// Checks on the raw signal of one trial: sampling, clipping, negative
/// force. Force is checked over `[start, end)`: the range the trial's
/// analysis read (for a jump, onset to the end of the landing, where the
/// peaks are and where an unzeroed or miswired plate shows).
fn signal_flags(
    recording: &Recording,
    signal: &Signal<'_>,
    threshold: f64,
    start: usize,
    end: usize,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    if recording.timing.is_some_and(|t| t.is_irregular()) {
        flags.push(Flag::new(
            FlagCode::IrregularSampling,
            "timestamps are irregular (a dropped or repeated sample): flight time and impulse would be wrong",
        ));
    }
    let channels: Vec<&[f64]> = match signal.sides {
        None => vec![&signal.total],
        Some((left, right)) => vec![left, right],
    };
    let min_run = signal.rate.samples(0.005).max(3);
    let stats: Vec<ChannelStats> = channels
        .iter()
        .map(|c| channel_stats(c.get(start..end).unwrap_or_default(), min_run))
        .collect();
    if stats
        .iter()
        .any(|s| s.longest_run_at_max >= min_run && s.max > 1.2 * s.mean)
    {
        flags.push(Flag::new(
            FlagCode::Clipping,
            "force stays at its maximum for 5 ms or more: the amplifier saturated or the signal was clipped",
        ));
    }
    // Well below zero means an unzeroed or miswired plate; noise in flight
    // stays within a few SD of zero. The limit scales with the unloaded
    // threshold (≈ 5 % of body weight), at least 50 N.
    let negative_limit = -(2.0 * threshold).max(50.0);
    if stats.iter().any(|s| s.min < negative_limit) {
        flags.push(Flag::new(
            FlagCode::NegativeForce,
            "force well below zero: the plate was not zeroed, or a channel is miswired",
        ));
    }
    flags
}

#[derive(Debug, Clone, Copy)]
struct ChannelStats {
    min: f64,
    max: f64,
    mean: f64,
    longest_run_at_max: usize,
}

/// Extremes, mean and the longest run at the maximum of one channel.
/// Clipping is the maximum held for ≥ 5 ms (and ≥ 3 samples) at a level
/// above 1.2 × the channel's mean over the range (over a jump from onset to
/// the end of the landing, where the athlete is still at both ends, the
/// mean force is body weight), so that a flat quiet stance is not taken for
/// saturation.
fn channel_stats(x: &[f64], min_run: usize) -> ChannelStats {
    // Extremes and sums per part: samples at the maximum can only be in
    // the parts whose own maximum it is (for a jump, the landing), so only
    // those are read again to count them.
    let mut parts = [(0.0, f64::INFINITY, f64::NEG_INFINITY); MAX_PARTS];
    let part_len = x.len().div_ceil(MAX_PARTS).max(STATS_PART);
    let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for (part, stats) in x.chunks(part_len).zip(parts.iter_mut()) {
        *stats = crate::signal::sum_min_max(part);
        sum += stats.0;
        min = if stats.1 < min { stats.1 } else { min };
        max = if stats.2 > max { stats.2 } else { max };
    }
    // Runs are looked for only when enough samples sit at the maximum
    // (counting them is one vectorised pass over the parts that hold it;
    // a clean signal has one).
    let at_max: usize = x
        .chunks(part_len)
        .zip(parts.iter())
        .filter(|(_, stats)| stats.2 == max)
        .map(|(part, _)| part.iter().filter(|&&v| v == max).count())
        .sum();
    let longest_run_at_max = if at_max < min_run {
        at_max
    } else {
        let (mut run, mut longest) = (0usize, 0usize);
        for &v in x {
            run = if v == max { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        longest
    };
    ChannelStats {
        min,
        max,
        mean: sum / x.len().max(1) as f64,
        longest_run_at_max,
    }
}

/// Parts a channel's range is cut into by [`channel_stats`], at most.
const MAX_PARTS: usize = 16;
/// Shortest part, samples.
const STATS_PART: usize = 128;

/// The loaded side of a stretch of a single-leg test on two plates: the
/// side carrying at least 80 % of the force over `range`.
pub(crate) fn loaded_side(signal: &Signal<'_>, range: std::ops::Range<usize>) -> Option<Side> {
    let (left, right) = signal.sides?;
    let l = crate::signal::sum(left.get(range.clone()).unwrap_or_default());
    let r = crate::signal::sum(right.get(range).unwrap_or_default());
    let total = l + r;
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    if l >= 0.8 * total {
        Some(Side::Left)
    } else if r >= 0.8 * total {
        Some(Side::Right)
    } else {
        None
    }
}

/// Figures over several trials: limb symmetry of single-leg tests, the
/// hops of a hop test.
fn summarise(kind: TrialKind, trials: &[TrialResult]) -> Option<Summary> {
    let mut summary = Summary::default();
    let metric_of = |m: &Metrics, name: &str| -> Option<(Option<Side>, f64)> {
        match (m, name) {
            (Metrics::Cmj(c), "jump_height_impulse_m") => Some((c.side, c.jump_height_impulse_m)),
            (Metrics::Cmj(c), "peak_propulsive_force_n") => {
                Some((c.side, c.peak_propulsive_force_n))
            }
            (Metrics::Cmj(c), "concentric_impulse_n_s") => Some((c.side, c.concentric_impulse_n_s)),
            (Metrics::Hop(h), "rsi") => Some((h.side, h.rsi)),
            (Metrics::Hop(h), "jump_height_flight_m") => Some((h.side, h.jump_height_flight_m)),
            (Metrics::Hop(h), "contact_time_s") => Some((h.side, h.contact_time_s)),
            _ => None,
        }
    };
    let names: &[&'static str] = match kind {
        TrialKind::SingleLegCmj => &[
            "jump_height_impulse_m",
            "peak_propulsive_force_n",
            "concentric_impulse_n_s",
        ],
        TrialKind::SingleLegHop => &["rsi", "jump_height_flight_m", "contact_time_s"],
        _ => &[],
    };
    for &name in names {
        let mut sides: BTreeMap<Side, Vec<f64>> = BTreeMap::new();
        for m in trials.iter().filter_map(|t| t.metrics.as_ref()) {
            if let Some((Some(side), value)) = metric_of(m, name) {
                sides.entry(side).or_default().push(value);
            }
        }
        let mean = |side: Side| {
            sides
                .get(&side)
                .filter(|v| !v.is_empty())
                .map(|v| mean_sd(v).0)
        };
        let count = |side: Side| sides.get(&side).map_or(0, Vec::len);
        let (left, right) = (mean(Side::Left), mean(Side::Right));
        if left.is_none() && right.is_none() {
            continue;
        }
        let (lsi, asym) = match (left, right) {
            (Some(l), Some(r)) if l.abs().max(r.abs()) > 0.0 => (
                Some(100.0 * l.abs().min(r.abs()) / l.abs().max(r.abs())),
                Some(asymmetry_index(l, r)),
            ),
            _ => (None, None),
        };
        summary.limb_symmetry.insert(
            name,
            SideComparison {
                left,
                right,
                left_reps: count(Side::Left),
                right_reps: count(Side::Right),
                limb_symmetry_index_pct: lsi,
                asymmetry_pct: asym,
            },
        );
    }
    if matches!(kind, TrialKind::RepeatedHops | TrialKind::SingleLegHop) {
        let hops: Vec<&hops::HopMetrics> = trials
            .iter()
            .filter_map(|t| match &t.metrics {
                Some(Metrics::Hop(h)) => Some(h.as_ref()),
                _ => None,
            })
            .collect();
        if !hops.is_empty() {
            let n = hops.len() as f64;
            summary.hops = Some(HopSummary {
                hops: hops.len(),
                mean_rsi: hops.iter().map(|h| h.rsi).sum::<f64>() / n,
                best_rsi: hops.iter().map(|h| h.rsi).fold(f64::NEG_INFINITY, f64::max),
                mean_contact_time_s: hops.iter().map(|h| h.contact_time_s).sum::<f64>() / n,
                mean_flight_time_s: hops.iter().map(|h| h.flight_time_s).sum::<f64>() / n,
            });
        }
    }
    (!summary.limb_symmetry.is_empty() || summary.hops.is_some()).then_some(summary)
}
