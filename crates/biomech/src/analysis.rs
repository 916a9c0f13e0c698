//! From a recording to a report: checks on the whole signal, segmentation
//! into trials, and the analysis each trial's kind calls for.

use crate::ANALYSIS_VERSION;
use crate::balance::analyze_balance;
use crate::cmj::{CmjInput, analyze_cmj};
use crate::flags::{Flag, FlagCode, any_blocking};
use crate::recording::{Plates, Recording, SampleRate, TrialKind};
use crate::report::{Metrics, RecordingSummary, Report, TrialResult};
use crate::segment::{Span, jump_spans, loaded_spans, unloaded_threshold};

/// Analyses every trial of a recording. Deterministic: the same recording
/// always gives the same report.
///
/// The trial kind is the recording's `test` metadata; without it, a
/// recording with centre-of-pressure data and no flight is a balance test,
/// anything else a countermovement jump.
pub fn analyze_recording(recording: &Recording) -> Report {
    let trials = analyze_trials(recording);
    Report {
        file: String::new(),
        analysis_version: ANALYSIS_VERSION.to_owned(),
        recording: RecordingSummary::of(recording),
        trials,
    }
}

fn analyze_trials(recording: &Recording) -> Vec<TrialResult> {
    let total = recording.plates.total();
    let rate = recording.sample_rate;
    let whole = Span {
        start: 0,
        end: total.len(),
        flight: None,
        double_bounce: false,
    };
    if !all_finite(recording) {
        let kind = recording.metadata.test.unwrap_or(TrialKind::Cmj);
        let flag = Flag::new(
            FlagCode::NonFiniteForce,
            "the recording holds NaN or infinite samples (dropped samples?)",
        );
        return vec![blocked(0, kind, &whole, rate, flag)];
    }
    let threshold = unloaded_threshold(&total);
    if total.iter().all(|&f| f < threshold) {
        let kind = recording.metadata.test.unwrap_or(TrialKind::Cmj);
        let flag = Flag::new(FlagCode::EmptyPlate, "nobody stood on the plate");
        return vec![blocked(0, kind, &whole, rate, flag)];
    }
    let jumps = jump_spans(&total, rate, threshold);
    let kind = recording
        .metadata
        .test
        .unwrap_or_else(|| guess_kind(recording, &jumps));
    let spans = match kind {
        TrialKind::Cmj => jumps,
        TrialKind::Balance | TrialKind::Plank => loaded_spans(&total, rate, threshold),
    };
    if spans.is_empty() {
        let flag = Flag::new(
            FlagCode::MovementTooEarly,
            "no stretch of at least 1 s on the plate",
        );
        return vec![blocked(0, kind, &whole, rate, flag)];
    }
    spans
        .iter()
        .enumerate()
        .map(|(index, span)| analyze_trial(recording, &total, threshold, index, kind, span))
        .collect()
}

fn analyze_trial(
    recording: &Recording,
    total: &[f64],
    threshold: f64,
    index: usize,
    kind: TrialKind,
    span: &Span,
) -> TrialResult {
    let rate = recording.sample_rate;
    let mut flags = signal_flags(recording, span, threshold);
    if span.double_bounce {
        flags.push(Flag::new(
            FlagCode::DoubleBounce,
            "the subject left the plate again within 1 s of landing; landing metrics include it",
        ));
    }
    let mut metrics = None;
    if !any_blocking(&flags) {
        let outcome = match kind {
            TrialKind::Cmj => {
                let input = CmjInput {
                    total,
                    sides: match &recording.plates {
                        Plates::Dual { left, right } => Some((left.as_slice(), right.as_slice())),
                        Plates::Single { .. } => None,
                    },
                    span: *span,
                    rate,
                };
                analyze_cmj(&input).map(|(m, warnings)| (Metrics::Cmj(Box::new(m)), warnings))
            }
            TrialKind::Balance | TrialKind::Plank => {
                analyze_balance(total, recording.cop.as_ref(), span, rate)
                    .map(|m| (Metrics::Balance(m), Vec::new()))
            }
        };
        match outcome {
            Ok((m, warnings)) => {
                metrics = Some(m);
                flags.extend(warnings);
            }
            Err(flag) => flags.push(flag),
        }
    }
    flags.sort_by_key(|f| f.code);
    TrialResult {
        index,
        kind,
        start_s: span.start as f64 * rate.dt(),
        end_s: span.end as f64 * rate.dt(),
        flags,
        metrics,
    }
}

/// Checks on the raw signal of one trial: sampling, clipping, negative force.
fn signal_flags(recording: &Recording, span: &Span, threshold: f64) -> Vec<Flag> {
    let mut flags = Vec::new();
    if recording.timing.is_some_and(|t| t.is_irregular()) {
        flags.push(Flag::new(
            FlagCode::IrregularSampling,
            "timestamps are irregular (a dropped or repeated sample): flight time and impulse would be wrong",
        ));
    }
    let channels: Vec<&[f64]> = match &recording.plates {
        Plates::Single { fz } => vec![fz.as_slice()],
        Plates::Dual { left, right } => vec![left.as_slice(), right.as_slice()],
    };
    let rate = recording.sample_rate;
    if channels.iter().any(|c| is_clipped(c, span, rate)) {
        flags.push(Flag::new(
            FlagCode::Clipping,
            "force stays at its maximum for 5 ms or more: the amplifier saturated or the signal was clipped",
        ));
    }
    // Well below zero means an unzeroed or miswired plate; noise in flight
    // stays within a few SD of zero. The limit scales with the unloaded
    // threshold (≈ 5 % of body weight), at least 50 N.
    let negative_limit = -(2.0 * threshold).max(50.0);
    if channels.iter().any(|c| {
        c.get(span.start..span.end)
            .unwrap_or(&[])
            .iter()
            .any(|&f| f < negative_limit)
    }) {
        flags.push(Flag::new(
            FlagCode::NegativeForce,
            "force well below zero: the plate was not zeroed, or a channel is miswired",
        ));
    }
    flags
}

/// Clipping: the trial's maximum held for ≥ 5 ms (and ≥ 3 samples), at a
/// level above 1.2 × the median force, so that a flat quiet stance is not
/// taken for saturation.
fn is_clipped(channel: &[f64], span: &Span, rate: SampleRate) -> bool {
    let Some(slice) = channel.get(span.start..span.end) else {
        return false;
    };
    let max = slice.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return false;
    }
    let min_run = rate.samples(0.005).max(3);
    let mut run = 0usize;
    let mut longest = 0usize;
    for &f in slice {
        run = if f == max { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if longest < min_run {
        return false;
    }
    let mut sorted = slice.to_vec();
    let mid = sorted.len() / 2;
    let (_, median, _) = sorted.select_nth_unstable_by(mid, f64::total_cmp);
    max > 1.2 * *median
}

fn guess_kind(recording: &Recording, jumps: &[Span]) -> TrialKind {
    let any_flight = jumps.iter().any(|s| s.flight.is_some());
    if recording.cop.is_some() && !any_flight {
        TrialKind::Balance
    } else {
        TrialKind::Cmj
    }
}

fn all_finite(recording: &Recording) -> bool {
    let plates_ok = match &recording.plates {
        Plates::Single { fz } => fz.iter().all(|f| f.is_finite()),
        Plates::Dual { left, right } => left.iter().chain(right).all(|f| f.is_finite()),
    };
    let cop_ok = recording
        .cop
        .as_ref()
        .is_none_or(|c| c.x.iter().chain(&c.y).all(|v| v.is_finite()));
    plates_ok && cop_ok
}

fn blocked(
    index: usize,
    kind: TrialKind,
    span: &Span,
    rate: SampleRate,
    flag: Flag,
) -> TrialResult {
    TrialResult {
        index,
        kind,
        start_s: span.start as f64 * rate.dt(),
        end_s: span.end as f64 * rate.dt(),
        flags: vec![flag],
        metrics: None,
    }
}
