//! Landing analysis: a drop from a box onto the plate, landed and held
//! without a rebound (a stick landing).
//!
//! * **Touchdown**: as for the drop jump ([`crate::drop_jump`]).
//! * **Body weight**: the steadiest second after the landing (the athlete
//!   stands still), else the recording's steadiest second or the weigh-in
//!   (flagged); without one the landing is not analysed.
//! * **Peak landing force** in newtons and body weights, its time from
//!   touchdown, and the loading rate (peak / time to peak, body weights per
//!   second).
//! * **Time to stabilisation**: from touchdown to the first sample after
//!   which vertical force stays within ±5 % of body weight for 1 s (the
//!   vertical-force form of Colby et al. 1999, Am J Sports Med 27(2):
//!   150–156; Fransz et al. 2015, Gait Posture 41(1):1–8, review the
//!   variants). When force never settles for 1 s before the trial ends the
//!   time is absent and the trial flagged `not_stabilised`.
//! * **Drop height**: the touchdown velocity by reverse integration from
//!   standing still after the landing, as for the drop jump.

use serde::Serialize;

use crate::analysis::{Context, Trial};
use crate::drop_jump::{SETTLE_S, integrate_back, still_after, touchdown};
use crate::flags::{Flag, FlagCode};
use crate::recording::GRAVITY;
use crate::report::Metrics;
use crate::signal::max_at;

/// Force band around body weight that counts as stable.
pub const STABLE_BAND_FRACTION: f64 = 0.05;
/// How long force must stay in the band, s.
pub const STABLE_FOR_S: f64 = 1.0;

/// Metrics of one landing, SI units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LandingMetrics {
    /// Body mass, kg.
    pub body_mass_kg: f64,
    /// Body weight, N.
    pub body_weight_n: f64,
    /// Largest force of the landing, N.
    pub peak_force_n: f64,
    /// `peak_force_n` / body weight.
    pub peak_force_bw: f64,
    /// Touchdown to the largest force, s.
    pub time_to_peak_force_s: f64,
    /// `peak_force_bw` / `time_to_peak_force_s`, body weights per second.
    pub loading_rate_bw_s: f64,
    /// Touchdown to the start of 1 s within ±5 % of body weight, s.
    pub time_to_stabilisation_s: Option<f64>,
    /// Velocity at touchdown (negative: down), by reverse integration from
    /// standing still after the landing, m/s.
    pub touchdown_velocity_m_s: Option<f64>,
    /// v_td² / 2g, m.
    pub drop_height_m: Option<f64>,
    /// The box height the caller gave, m.
    pub box_height_m: Option<f64>,
}

/// The trials of a landing recording: one per arrival on the plate from
/// off it.
pub(crate) fn trials(ctx: &Context<'_>) -> Vec<Trial> {
    let mut out = Vec::new();
    for stretch in ctx.segments.stretches.iter().filter(|s| s.arrived) {
        let end = stretch.flights.first().map_or(stretch.end, |f| f.takeoff);
        out.push(analyze_one(ctx, stretch.start, end));
    }
    if out.is_empty() {
        out.push(Trial::blocked(
            0,
            ctx.signal.len(),
            Flag::new(
                FlagCode::PhaseDetectionFailed,
                "no landing: the athlete never came onto the plate from off it",
            ),
        ));
    }
    out
}

fn analyze_one(ctx: &Context<'_>, start: usize, end: usize) -> Trial {
    let signal = &ctx.signal;
    let dt = ctx.rate().dt();
    let touchdown = touchdown(signal, start);
    let settle = touchdown + signal.rate.samples(SETTLE_S);
    let mut flags = Vec::new();
    let (weighing, still) = match still_after(ctx, settle, end) {
        Some(w) => (w, true),
        None => match ctx.fallback_weighing(settle, end) {
            Ok((w, flag)) => {
                flags.push(flag);
                (w, false)
            }
            Err(flag) => return Trial::blocked(start, end, flag),
        },
    };
    let bw = weighing.mean;
    let Some((peak_index, peak)) = max_at(&signal.total, touchdown..end) else {
        return Trial::blocked(
            start,
            end,
            Flag::new(FlagCode::PhaseDetectionFailed, "no landing force"),
        );
    };
    let time_to_peak = (peak_index - touchdown) as f64 * dt;
    let tts = time_to_stabilisation(
        &signal.total,
        touchdown,
        end,
        bw,
        signal.rate.samples(STABLE_FOR_S),
    );
    if tts.is_none() {
        flags.push(Flag::new(
            FlagCode::NotStabilised,
            "force did not stay within 5 % of body weight for 1 s after the landing",
        ));
    }
    let touchdown_velocity =
        still.then(|| integrate_back(signal, bw, weighing.start, 0.0, touchdown));
    let m = LandingMetrics {
        body_mass_kg: bw / GRAVITY,
        body_weight_n: bw,
        peak_force_n: peak,
        peak_force_bw: peak / bw,
        time_to_peak_force_s: time_to_peak,
        loading_rate_bw_s: if time_to_peak > 0.0 {
            peak / bw / time_to_peak
        } else {
            0.0
        },
        time_to_stabilisation_s: tts.map(|i| (i - touchdown) as f64 * dt),
        touchdown_velocity_m_s: touchdown_velocity,
        drop_height_m: touchdown_velocity.map(|v| v * v / (2.0 * GRAVITY)),
        box_height_m: ctx.options.box_height_m,
    };
    let mut trial = Trial::of(start, end, Ok((Metrics::Landing(m), flags)));
    trial.checked = Some((touchdown, end));
    trial
}

/// The first sample from `from` after which force stays within ±5 % of
/// body weight for `hold` samples (before `end`).
pub(crate) fn time_to_stabilisation(
    f: &[f64],
    from: usize,
    end: usize,
    bw: f64,
    hold: usize,
) -> Option<usize> {
    let band = STABLE_BAND_FRACTION * bw;
    let mut run_start = from;
    for (k, &x) in f.get(from..end).unwrap_or_default().iter().enumerate() {
        let i = from + k;
        if (x - bw).abs() > band {
            run_start = i + 1;
        } else if i + 1 - run_start >= hold {
            return Some(run_start);
        }
    }
    None
}
