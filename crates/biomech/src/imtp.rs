//! Isometric mid-thigh pull (IMTP) analysis.
//!
//! * **Body weight**: the steadiest second of standing before the pull
//!   (the athlete stands in the rack holding the bar without pulling), else
//!   the recording's fallbacks (flagged).
//! * **Onset**: the first sample of the pull above body weight + 5 SD of
//!   the quiet force (at least 10 N), without moving it back (Dos'Santos et
//!   al. 2017, J Strength Cond Res 31(11):3030–3036, "Comparison of
//!   different onset thresholds for isometric mid-thigh pull testing").
//! * **Peak force** (gross) and **net peak force** (minus body weight), and
//!   the time from onset to peak.
//! * **RFD** over 0–50, 0–100, 0–150, 0–200 and 0–250 ms: (F(onset + t) −
//!   F(onset)) / t; **net impulse** over the same windows, ∫(F − BW)dt by
//!   the trapezoid rule; **force at 100 and 200 ms** (gross) (Haff et al.
//!   2015, J Strength Cond Res 29(2):386–395; Comfort et al. 2019, "Standardization
//!   and methodological considerations for the isometric midthigh pull",
//!   Strength Cond J 41(2):57–79).
//! * A pull is force above body weight + 20 % of it; several pulls in one
//!   recording are separate trials.

use serde::Serialize;

use crate::analysis::{Context, Trial};
use crate::cmj::{LOCAL_SD_FACTOR, asymmetry_index};
use crate::flags::{Flag, FlagCode};
use crate::recording::GRAVITY;
use crate::report::Metrics;
use crate::signal::{Signal, max_at, max_of, sum};
use crate::weighing::{Weighing, steadiest, window_blocks};

/// A pull rises at least this fraction of body weight above it.
pub const MIN_PULL_FRACTION: f64 = 0.2;
/// Time windows of RFD and impulse, ms.
pub const WINDOWS_MS: [u32; 5] = [50, 100, 150, 200, 250];

/// Metrics of one isometric pull, SI units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImtpMetrics {
    /// Body mass, kg.
    pub body_mass_kg: f64,
    /// Body weight, N.
    pub body_weight_n: f64,
    /// SD of force over the weighing window, N.
    pub body_weight_sd_n: f64,
    /// Force above which the pull begins (body weight + 5 SD, at least
    /// 10 N), N.
    pub onset_threshold_n: f64,
    /// Largest force, N.
    pub peak_force_n: f64,
    /// `peak_force_n` − body weight, N.
    pub net_peak_force_n: f64,
    /// `peak_force_n` / body mass, N/kg.
    pub peak_force_n_per_kg: f64,
    /// Onset to the largest force, s.
    pub time_to_peak_force_s: f64,
    /// Force 100 ms after onset, N.
    pub force_at_100ms_n: f64,
    /// Force 200 ms after onset, N.
    pub force_at_200ms_n: f64,
    /// RFD over 0–50 ms, N/s.
    pub rfd_0_50ms_n_s: f64,
    /// RFD over 0–100 ms, N/s.
    pub rfd_0_100ms_n_s: f64,
    /// RFD over 0–150 ms, N/s.
    pub rfd_0_150ms_n_s: f64,
    /// RFD over 0–200 ms, N/s.
    pub rfd_0_200ms_n_s: f64,
    /// RFD over 0–250 ms, N/s.
    pub rfd_0_250ms_n_s: f64,
    /// Net impulse over 0–50 ms, N·s.
    pub impulse_0_50ms_n_s: f64,
    /// Net impulse over 0–100 ms, N·s.
    pub impulse_0_100ms_n_s: f64,
    /// Net impulse over 0–150 ms, N·s.
    pub impulse_0_150ms_n_s: f64,
    /// Net impulse over 0–200 ms, N·s.
    pub impulse_0_200ms_n_s: f64,
    /// Net impulse over 0–250 ms, N·s.
    pub impulse_0_250ms_n_s: f64,
    /// Left/right asymmetry of peak force, % (signed, positive when the
    /// left is larger), dual plates only.
    pub peak_force_asymmetry_pct: Option<f64>,
}

/// The trials of an IMTP recording: one per pull.
pub(crate) fn trials(ctx: &Context<'_>) -> Vec<Trial> {
    let mut out = Vec::new();
    for stretch in &ctx.segments.stretches {
        let mut from = stretch.start;
        while from < stretch.end {
            match next_pull(ctx, from, stretch.end) {
                Some((trial, end)) => {
                    out.push(trial);
                    from = end;
                }
                None => break,
            }
        }
    }
    if out.is_empty() {
        out.push(Trial::blocked(
            0,
            ctx.signal.len(),
            Flag::new(
                FlagCode::PhaseDetectionFailed,
                "no pull: force never rose 20 % above body weight",
            ),
        ));
    }
    out
}

/// The next pull in `[from, to)`: its trial and the sample after it.
fn next_pull(ctx: &Context<'_>, from: usize, to: usize) -> Option<(Trial, usize)> {
    let signal = &ctx.signal;
    let rate = signal.rate;
    // The largest force left decides whether a pull remains; the standing
    // before it weighs the athlete.
    let (peak_index, peak) = max_at(&signal.total, from..to)?;
    let noise_floor = ctx
        .recording_weighing
        .map_or(f64::INFINITY, |r| LOCAL_SD_FACTOR * r.sd + 0.5);
    let local = steadiest(
        signal,
        from,
        peak_index.saturating_sub(rate.samples(0.1)),
        window_blocks(signal),
        ctx.threshold,
    )
    .filter(|w| w.is_steady() && w.sd <= noise_floor && w.mean < peak);
    let mut flags = Vec::new();
    // The recording's steadiest second is no fallback here: in an IMTP
    // recording it may be a held pull. The weigh-in is.
    let w = match (local, ctx.weigh_in) {
        (Some(w), _) => w,
        (None, Some(weigh_in)) => {
            flags.push(weigh_in.flag("no steady second of standing before the pull"));
            let kg = weigh_in.kg;
            Weighing::weigh_in(kg, 0.01 * kg * GRAVITY, None)
        }
        (None, None) => {
            let level = ctx.recording_weighing.map_or(ctx.level, |r| r.mean);
            if peak < level * (1.0 + MIN_PULL_FRACTION) {
                return None;
            }
            let end = pull_end(signal, peak_index, to, level.min(peak));
            let flag = Flag::new(
                FlagCode::NoStableWeighing,
                "no steady second of standing before the pull and no weigh-in given: pass the athlete's body mass to analyse it",
            );
            return Some((
                Trial::blocked(from, end.max(from + 1), flag),
                end.max(from + 1),
            ));
        }
    };
    if peak < w.mean * (1.0 + MIN_PULL_FRACTION) {
        return None;
    }
    let band = w.band();
    let end = pull_end(signal, peak_index, to, w.mean + band);
    // Onset: back from the peak to the first sample of the run above the
    // threshold.
    let threshold = w.mean + band;
    let onset = signal
        .total
        .get(from..peak_index)
        .unwrap_or_default()
        .iter()
        .rposition(|&x| x <= threshold)
        .map_or(from, |k| from + k + 1);
    let start = if w.end > w.start && w.start >= from {
        w.start
    } else {
        from
    };
    if onset <= start || onset <= from {
        let flag = Flag::new(
            FlagCode::MovementTooEarly,
            "the pull started before the athlete stood still on the plate",
        );
        return Some((Trial::blocked(from, end, flag), end));
    }
    let m = metrics(signal, &w, band, onset, peak_index, peak);
    let mut trial = Trial::of(from, end, Ok((Metrics::Imtp(Box::new(m)), flags)));
    trial.checked = Some((onset, end));
    Some((trial, end))
}

/// The first sample after the peak where force is back at or below
/// `level` (the end of the stretch if it never is).
fn pull_end(signal: &Signal<'_>, peak_index: usize, to: usize, level: f64) -> usize {
    signal
        .total
        .get(peak_index..to)
        .unwrap_or_default()
        .iter()
        .position(|&x| x <= level)
        .map_or(to, |k| peak_index + k)
}

fn metrics(
    signal: &Signal<'_>,
    w: &Weighing,
    band: f64,
    onset: usize,
    peak_index: usize,
    peak: f64,
) -> ImtpMetrics {
    let f = &signal.total;
    let rate = signal.rate;
    let dt = rate.dt();
    let bw = w.mean;
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0);
    let f0 = at(onset);
    let window = |ms: u32| {
        let n = rate.samples(f64::from(ms) / 1000.0).max(1);
        let slice = f.get(onset..=onset + n).unwrap_or_default();
        let rfd = (at(onset + n) - f0) / (n as f64 * dt);
        let (first, last) = (
            slice.first().copied().unwrap_or(0.0),
            slice.last().copied().unwrap_or(0.0),
        );
        let steps = slice.len().saturating_sub(1) as f64;
        let impulse = (sum(slice) - 0.5 * (first + last) - bw * steps) * dt;
        (rfd, impulse)
    };
    let [w50, w100, w150, w200, w250] = WINDOWS_MS.map(window);
    let force_at = |ms: f64| at(onset + rate.samples(ms / 1000.0));
    let asymmetry = signal.sides.map(|(l, r)| {
        let range = onset..(peak_index + 1);
        asymmetry_index(max_of(l, range.clone()), max_of(r, range))
    });
    ImtpMetrics {
        body_mass_kg: bw / GRAVITY,
        body_weight_n: bw,
        body_weight_sd_n: w.sd,
        onset_threshold_n: bw + band,
        peak_force_n: peak,
        net_peak_force_n: peak - bw,
        peak_force_n_per_kg: peak / (bw / GRAVITY),
        time_to_peak_force_s: (peak_index - onset) as f64 * dt,
        force_at_100ms_n: force_at(100.0),
        force_at_200ms_n: force_at(200.0),
        rfd_0_50ms_n_s: w50.0,
        rfd_0_100ms_n_s: w100.0,
        rfd_0_150ms_n_s: w150.0,
        rfd_0_200ms_n_s: w200.0,
        rfd_0_250ms_n_s: w250.0,
        impulse_0_50ms_n_s: w50.1,
        impulse_0_100ms_n_s: w100.1,
        impulse_0_150ms_n_s: w150.1,
        impulse_0_200ms_n_s: w200.1,
        impulse_0_250ms_n_s: w250.1,
        peak_force_asymmetry_pct: asymmetry,
    }
}
