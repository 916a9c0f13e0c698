//! Squat-jump analysis: a push from a held squat, without a
//! countermovement.
//!
//! 1. **Body weight**: as for the CMJ (the steadiest second before the
//!    movement: usually the held squat, which loads the plate with body
//!    weight; else the fallbacks of [`crate::weighing`]).
//! 2. **Take-off and landing**: as for the CMJ.
//! 3. **Push onset**: walking back from take-off over the end of the push
//!    and the push (force above body weight + 5 SD, at least 10 N) to its
//!    first sample, moved back 30 ms (the CMJ's onset rule mirrored for a
//!    push, after Owen et al. 2014).
//! 4. **Countermovement**: a dip below body weight − 5 SD (at least 10 N)
//!    in the 300 ms before the push, which a squat jump should not have
//!    (the descent into the squat, before the hold, is earlier). It is
//!    flagged (`countermovement`) and the onset moves back to the dip's
//!    start, so that the impulse includes it (Petronijevic et al. 2018,
//!    J Strength Cond Res 32(9):2471–2477: most squat jumps show a small
//!    countermovement; counting it keeps take-off velocity right).
//! 5. **Kinematics**: (F − BW)/m integrated from onset to take-off,
//!    trapezoid rule (Linthorne 2001).

use serde::Serialize;

use crate::analysis::{Context, Trial};
use crate::cmj::{
    HEIGHT_DISAGREEMENT_M, MAX_PUSH_S, ONSET_BACKTRACK_S, asymmetry_index, refine_flight,
    weigh_before,
};
use crate::flags::{Flag, FlagCode};
use crate::recording::GRAVITY;
use crate::report::Metrics;
use crate::segment::{Flight, group_reps};
use crate::signal::{Signal, max_at, max_of, mean_of, sum_min_max};
use crate::weighing::Weighing;

/// How far before the push a dip counts as a countermovement, s.
pub const COUNTERMOVEMENT_WINDOW_S: f64 = 0.3;

/// Metrics of one squat jump, SI units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SquatJumpMetrics {
    /// Body weight / g, kg.
    pub body_mass_kg: f64,
    /// Body weight, N.
    pub body_weight_n: f64,
    /// SD of force over the weighing window, N.
    pub body_weight_sd_n: f64,
    /// v_to² / 2g (impulse-momentum method; Linthorne 2001).
    pub jump_height_impulse_m: f64,
    /// g·t_flight² / 8 (flight-time method).
    pub jump_height_flight_m: f64,
    /// Net impulse from onset / mass, m/s.
    pub takeoff_velocity_m_s: f64,
    /// Take-off to landing, s.
    pub flight_time_s: f64,
    /// Onset to take-off, s.
    pub propulsion_duration_s: f64,
    /// Largest force of the push, N.
    pub peak_force_n: f64,
    /// `peak_force_n` / body mass, N/kg.
    pub peak_force_n_per_kg: f64,
    /// Onset to the largest force, s.
    pub time_to_peak_force_s: f64,
    /// Mean force from onset to take-off, N.
    pub mean_force_n: f64,
    /// Largest force × velocity, W.
    pub peak_power_w: f64,
    /// `peak_power_w` / body mass, W/kg.
    pub peak_power_w_per_kg: f64,
    /// Mean force × velocity from onset to take-off, W.
    pub mean_power_w: f64,
    /// Net impulse from onset to take-off, N·s (= m·v_to).
    pub net_impulse_n_s: f64,
    /// (peak force − force at onset) / time to peak force, N/s.
    pub rfd_to_peak_n_s: f64,
    /// How far force dipped below body weight before the push, N (0 without
    /// a countermovement).
    pub countermovement_dip_n: f64,
    /// Largest force after landing, N.
    pub landing_peak_force_n: f64,
    /// `landing_peak_force_n` / body weight.
    pub landing_peak_force_bw: f64,
    /// Left/right asymmetry, dual plates only.
    pub asymmetry: Option<SquatJumpAsymmetry>,
}

/// Left/right asymmetry of a squat jump, %, signed (L − R) / max(|L|, |R|)
/// × 100 as for the CMJ ([`crate::cmj::Asymmetry`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SquatJumpAsymmetry {
    /// Weight bearing in the weighing window.
    pub body_weight_pct: f64,
    /// Peak force of the push.
    pub peak_force_pct: f64,
    /// Mean force of the push.
    pub mean_force_pct: f64,
    /// Net impulse of the push, each side against its own standing share.
    pub net_impulse_pct: f64,
}

/// The push found for a weighing: its onset, and the dip before it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Push {
    onset: usize,
    dip_n: f64,
}

/// The trials of a squat-jump recording: one per jump.
pub(crate) fn trials(ctx: &Context<'_>) -> Vec<Trial> {
    let signal = &ctx.signal;
    let mut out = Vec::new();
    for stretch in &ctx.segments.stretches {
        let reps = group_reps(signal, &stretch.flights, ctx.level);
        let mut lo = stretch.start;
        for (i, flights) in reps.iter().enumerate() {
            let (Some(&first), Some(&last)) = (flights.first(), flights.last()) else {
                continue;
            };
            let hi = reps
                .get(i + 1)
                .and_then(|r| r.first())
                .map_or(stretch.end, |f| f.takeoff);
            let end = if i + 1 == reps.len() {
                stretch.end
            } else {
                (last.landing + ctx.rate().samples(0.3)).min(hi)
            };
            out.push(analyze_one(ctx, lo, first, hi, end));
            lo = last.landing;
        }
    }
    out
}

fn analyze_one(ctx: &Context<'_>, lo: usize, first: Flight, hi: usize, end: usize) -> Trial {
    let signal = &ctx.signal;
    let flight = match refine_flight(signal, first, lo, hi) {
        Ok(f) => f,
        Err(flag) => return Trial::blocked(lo, end, flag),
    };
    let weighed = match weigh_before(ctx, lo, flight.takeoff, |w| {
        find_push(signal, w, lo, flight.takeoff).map(|p| (p.onset, p))
    }) {
        Ok(w) => w,
        Err(flag) => return Trial::blocked(lo, end, flag),
    };
    let w = weighed.weighing;
    let push = match weighed
        .crossing
        .unwrap_or_else(|| find_push(signal, &w, lo, flight.takeoff))
    {
        Ok(p) => p,
        Err(flag) => return Trial::blocked(lo, end, flag),
    };
    let mut flags: Vec<Flag> = weighed.flag.into_iter().collect();
    let outcome = metrics(signal, &w, push, flight, hi).map(|m| {
        if m.countermovement_dip_n > 0.0 {
            flags.push(Flag::new(
                FlagCode::Countermovement,
                "the push began with a dip below body weight: a countermovement, not a pure squat jump",
            ));
        }
        if (m.jump_height_impulse_m - m.jump_height_flight_m).abs() > HEIGHT_DISAGREEMENT_M {
            flags.push(Flag::new(
                FlagCode::HeightMethodsDisagree,
                "jump height by impulse and by flight time differ by more than 5 cm",
            ));
        }
        (Metrics::SquatJump(Box::new(m)), std::mem::take(&mut flags))
    });
    let mut trial = Trial::of(lo, end, outcome);
    trial.flags.extend(flags);
    trial.checked = Some((push.onset, end.min(hi)));
    trial
}

/// Walks back from take-off over the end of the push (force at or below
/// body weight + band) and the push (above it) to the push's first sample;
/// then looks for a dip below body weight − band in the 300 ms before it.
fn find_push(signal: &Signal<'_>, w: &Weighing, lo: usize, takeoff: usize) -> Result<Push, Flag> {
    let band = w.band();
    let (high, low) = (w.mean + band, w.mean - band);
    let f = signal
        .total
        .get(lo..takeoff.min(signal.len()))
        .unwrap_or_default();
    let rate = signal.rate;
    let no_push = || {
        Flag::new(
            FlagCode::PhaseDetectionFailed,
            "no push above body weight before take-off",
        )
    };
    let end_of_push = f.iter().rposition(|&x| x > high).ok_or_else(no_push)?;
    let bridge = rate.samples(0.01).max(1);
    let mut start = end_of_push;
    loop {
        let from = f
            .get(..start)
            .unwrap_or_default()
            .iter()
            .rposition(|&x| x <= high)
            .map_or(0, |k| k + 1);
        start = from;
        let gap = f
            .get(start.saturating_sub(bridge)..start)
            .unwrap_or_default();
        match gap.iter().rposition(|&x| x > high) {
            Some(k) => start = start.saturating_sub(bridge) + k + 1,
            None => break,
        }
    }
    if end_of_push - start > rate.samples(MAX_PUSH_S) {
        return Err(no_push());
    }
    if start == 0 {
        return Err(Flag::new(
            FlagCode::MovementTooEarly,
            "the push started before the athlete stood still on the plate",
        ));
    }
    let backtrack = rate.samples(ONSET_BACKTRACK_S);
    // A dip just before the push: a countermovement.
    let window = start.saturating_sub(rate.samples(COUNTERMOVEMENT_WINDOW_S))..start;
    let before = f.get(window.clone()).unwrap_or_default();
    let (_, lowest, _) = sum_min_max(before);
    if lowest.is_finite() && lowest < low {
        // Back from the dip's deepest point to where it began.
        let deepest = window.start + before.iter().position(|&x| x == lowest).unwrap_or_default();
        let dip_start = f
            .get(..deepest)
            .unwrap_or_default()
            .iter()
            .rposition(|&x| x >= low)
            .map_or(0, |k| k + 1);
        if dip_start == 0 {
            return Err(Flag::new(
                FlagCode::MovementTooEarly,
                "the movement started before the athlete stood still on the plate",
            ));
        }
        return Ok(Push {
            onset: lo + dip_start.saturating_sub(backtrack),
            dip_n: w.mean - lowest,
        });
    }
    Ok(Push {
        onset: lo + start.saturating_sub(backtrack),
        dip_n: 0.0,
    })
}

fn metrics(
    signal: &Signal<'_>,
    w: &Weighing,
    push: Push,
    flight: Flight,
    hi: usize,
) -> Result<SquatJumpMetrics, Flag> {
    let f = &signal.total;
    let dt = signal.rate.dt();
    let bw = w.mean;
    let mass = bw / GRAVITY;
    let c = 0.5 * dt / mass;
    let (onset, takeoff) = (push.onset, flight.takeoff);
    let movement = f.get(onset..=takeoff).unwrap_or_default();
    if movement.len() < 3 {
        return Err(Flag::new(
            FlagCode::PhaseDetectionFailed,
            "no push before take-off",
        ));
    }
    // Velocity and power from onset (v = 0), trapezoid rule.
    let (mut v, mut a_prev) = (0.0_f64, movement.first().map_or(0.0, |x| x - bw));
    let (mut peak_power, mut power_sum) = (f64::NEG_INFINITY, 0.0);
    for (k, &x) in movement.iter().enumerate() {
        if k > 0 {
            let a = x - bw;
            v += c * (a_prev + a);
            a_prev = a;
        }
        if k + 1 < movement.len() {
            let p = x * v;
            peak_power = if p > peak_power { p } else { peak_power };
            power_sum += p;
        }
    }
    let v_takeoff = v;
    if v_takeoff <= 0.0 {
        return Err(Flag::new(
            FlagCode::PhaseDetectionFailed,
            "take-off velocity is not upward",
        ));
    }
    let pushing = onset..takeoff;
    let (peak_index, peak_force) = max_at(f, pushing.clone()).unwrap_or((onset, bw));
    let mean_force = mean_of(f, pushing.clone());
    let time_to_peak = (peak_index - onset) as f64 * dt;
    let force_at_onset = f.get(onset).copied().unwrap_or(bw);
    let flight_time = (flight.landing - flight.takeoff) as f64 * dt;
    let landing_end = (flight.landing + signal.rate.samples(0.5)).min(hi);
    let landing_peak = max_of(f, flight.landing..landing_end);
    let n = pushing.len().max(1) as f64;
    let asymmetry = signal.sides.map(|(l, r)| {
        let quiet = if w.end > w.start {
            w.start..w.end
        } else {
            onset.saturating_sub(signal.rate.samples(0.1))..onset.max(1)
        };
        let (bl, br) = (mean_of(l, quiet.clone()), mean_of(r, quiet));
        let side = |x: &[f64], bw_side: f64| {
            let (sum, _, max) = sum_min_max(x.get(pushing.clone()).unwrap_or_default());
            (max, sum / n, (sum - bw_side * n) * dt)
        };
        let ((pl, ml, il), (pr, mr, ir)) = (side(l, bl), side(r, br));
        SquatJumpAsymmetry {
            body_weight_pct: asymmetry_index(bl, br),
            peak_force_pct: asymmetry_index(pl, pr),
            mean_force_pct: asymmetry_index(ml, mr),
            net_impulse_pct: asymmetry_index(il, ir),
        }
    });
    Ok(SquatJumpMetrics {
        body_mass_kg: mass,
        body_weight_n: bw,
        body_weight_sd_n: w.sd,
        jump_height_impulse_m: v_takeoff * v_takeoff / (2.0 * GRAVITY),
        jump_height_flight_m: GRAVITY * flight_time * flight_time / 8.0,
        takeoff_velocity_m_s: v_takeoff,
        flight_time_s: flight_time,
        propulsion_duration_s: (takeoff - onset) as f64 * dt,
        peak_force_n: peak_force,
        peak_force_n_per_kg: peak_force / mass,
        time_to_peak_force_s: time_to_peak,
        mean_force_n: mean_force,
        peak_power_w: if peak_power.is_finite() {
            peak_power
        } else {
            0.0
        },
        peak_power_w_per_kg: if peak_power.is_finite() {
            peak_power / mass
        } else {
            0.0
        },
        mean_power_w: power_sum / n,
        net_impulse_n_s: mass * v_takeoff,
        rfd_to_peak_n_s: if time_to_peak > 0.0 {
            (peak_force - force_at_onset) / time_to_peak
        } else {
            0.0
        },
        countermovement_dip_n: push.dip_n,
        landing_peak_force_n: landing_peak,
        landing_peak_force_bw: landing_peak / bw,
        asymmetry,
    })
}
