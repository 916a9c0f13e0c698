//! Drop-jump analysis: a drop from a box onto the plate, a ground contact,
//! a rebound flight and a landing.
//!
//! * **Contact and flight**: touchdown is the first of two samples at or
//!   above the unloaded threshold (5 SD of the plate before touchdown, at
//!   least 20 N) after the athlete was off the plate; take-off and landing
//!   as for the CMJ.
//! * **Jump height** from flight time, g·t²/8; **reactive strength index**
//!   = jump height / contact time (Flanagan & Comyns 2008, Strength Cond J
//!   30(5):32–38; Young 1995).
//! * **Drop height** from the signal: the touchdown velocity v_td, and
//!   v_td²/2g. When the athlete stands still after the landing (a steady
//!   second, which also weighs them), velocity is zero there and (F −
//!   BW)/m is integrated backwards to touchdown, through the landing, the
//!   flight and the contact (reverse integration; Baca 1999, Med Sci Sports
//!   Exerc 31(3):437–442, "A comparison of methods for analyzing drop jump
//!   performance"). Otherwise the take-off velocity from flight time,
//!   g·t/2, is integrated backwards over the contact only, with the body
//!   weight from elsewhere in the recording or the weigh-in, and flagged
//!   `drop_height_from_flight_time`; without any body weight there is no
//!   drop height. The box height, when the caller gives it, is reported
//!   beside the estimate (athletes rarely drop from exactly box height).

use serde::Serialize;

use crate::analysis::{Context, Trial};
use crate::cmj::{LOCAL_SD_FACTOR, refine_flight};
use crate::flags::{Flag, FlagCode};
use crate::recording::GRAVITY;
use crate::report::Metrics;
use crate::segment::{Flight, MIN_UNLOADED_THRESHOLD_N, Stretch};
use crate::signal::{Signal, max_at, max_of, mean_sd_shifted};
use crate::weighing::{Weighing, steadiest, window_blocks};

/// Longest first contact of a drop jump, s; a longer one is a landing.
pub const MAX_DROP_CONTACT_S: f64 = 1.0;
/// Time after the last landing before a still window may start, s.
pub const SETTLE_S: f64 = 0.3;

/// How a drop height was estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropHeightMethod {
    /// Integrated backwards from standing still after the landing.
    ReverseIntegration,
    /// Integrated backwards over the contact from the flight-time take-off
    /// velocity.
    FlightTime,
}

/// Metrics of one drop jump, SI units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DropJumpMetrics {
    /// Touchdown to take-off, s.
    pub contact_time_s: f64,
    /// Take-off to landing, s.
    pub flight_time_s: f64,
    /// g·t_flight² / 8, m.
    pub jump_height_flight_m: f64,
    /// Reactive strength index: jump height / contact time, m/s.
    pub rsi: f64,
    /// Flight time / contact time.
    pub flight_contact_ratio: f64,
    /// Largest force of the contact, N.
    pub peak_force_n: f64,
    /// Touchdown to the largest force, s.
    pub time_to_peak_force_s: f64,
    /// `peak_force_n` / body weight, when body weight is known.
    pub peak_force_bw: Option<f64>,
    /// Largest force after the rebound's landing, N.
    pub landing_peak_force_n: f64,
    /// Body mass, kg, when known.
    pub body_mass_kg: Option<f64>,
    /// Velocity at touchdown (negative: down), m/s.
    pub touchdown_velocity_m_s: Option<f64>,
    /// v_td² / 2g, m: the height the centre of mass fell from.
    pub drop_height_m: Option<f64>,
    /// How `drop_height_m` was estimated.
    pub drop_height_method: Option<DropHeightMethod>,
    /// The box height the caller gave, m.
    pub box_height_m: Option<f64>,
    /// Take-off velocity of the rebound, m/s: by reverse integration when
    /// the athlete stood still after landing, else g·t_flight/2.
    pub takeoff_velocity_m_s: f64,
}

/// The trials of a drop-jump recording: one per drop onto the plate that
/// is followed by a flight within [`MAX_DROP_CONTACT_S`].
pub(crate) fn trials(ctx: &Context<'_>) -> Vec<Trial> {
    let mut out = Vec::new();
    for stretch in ctx.segments.stretches.iter().filter(|s| s.arrived) {
        let Some(&first) = stretch.flights.first() else {
            continue;
        };
        if first.takeoff - stretch.start > ctx.rate().samples(MAX_DROP_CONTACT_S) {
            continue;
        }
        out.push(analyze_one(ctx, stretch, first));
    }
    if out.is_empty() {
        out.push(Trial::blocked(
            0,
            ctx.signal.len(),
            Flag::new(
                FlagCode::PhaseDetectionFailed,
                "no drop: the athlete never came onto the plate from off it and left it again within 1 s",
            ),
        ));
    }
    out
}

fn analyze_one(ctx: &Context<'_>, stretch: &Stretch, first: Flight) -> Trial {
    let signal = &ctx.signal;
    let dt = ctx.rate().dt();
    let hi = stretch.flights.get(1).map_or(stretch.end, |f| f.takeoff);
    let touchdown = touchdown(signal, stretch.start);
    let flight = match refine_flight(signal, first, touchdown, hi) {
        Ok(f) => f,
        Err(flag) => return Trial::blocked(stretch.start, stretch.end, flag),
    };
    let contact = (flight.takeoff - touchdown) as f64 * dt;
    let flight_time = (flight.landing - flight.takeoff) as f64 * dt;
    let height = GRAVITY * flight_time * flight_time / 8.0;
    let (peak_index, peak) =
        max_at(&signal.total, touchdown..flight.takeoff).unwrap_or((touchdown, 0.0));
    let landing_peak = max_of(
        &signal.total,
        flight.landing..(flight.landing + ctx.rate().samples(0.5)).min(hi),
    );
    let mut flags = Vec::new();
    let drop = drop_estimate(ctx, touchdown, flight, hi, &mut flags);
    let bw = drop.as_ref().map(|d| d.weighing.mean);
    let m = DropJumpMetrics {
        contact_time_s: contact,
        flight_time_s: flight_time,
        jump_height_flight_m: height,
        rsi: if contact > 0.0 { height / contact } else { 0.0 },
        flight_contact_ratio: if contact > 0.0 {
            flight_time / contact
        } else {
            0.0
        },
        peak_force_n: peak,
        time_to_peak_force_s: (peak_index - touchdown) as f64 * dt,
        peak_force_bw: bw.map(|b| peak / b),
        landing_peak_force_n: landing_peak,
        body_mass_kg: bw.map(|b| b / GRAVITY),
        touchdown_velocity_m_s: drop.as_ref().map(|d| d.touchdown_velocity),
        drop_height_m: drop
            .as_ref()
            .map(|d| d.touchdown_velocity * d.touchdown_velocity / (2.0 * GRAVITY)),
        drop_height_method: drop.as_ref().map(|d| d.method),
        box_height_m: ctx.options.box_height_m,
        takeoff_velocity_m_s: drop
            .as_ref()
            .and_then(|d| d.takeoff_velocity)
            .unwrap_or(GRAVITY * flight_time / 2.0),
    };
    let mut trial = Trial::of(
        stretch.start,
        stretch.end,
        Ok((Metrics::DropJump(Box::new(m)), flags)),
    );
    trial.checked = Some((touchdown, hi));
    trial
}

/// The first of two samples at or above 5 SD of the unloaded plate in the
/// 100 ms before the segment's touchdown (at least 20 N).
pub(crate) fn touchdown(signal: &Signal<'_>, start: usize) -> usize {
    let margin = signal.rate.samples(0.1);
    let before = signal
        .total
        .get(start.saturating_sub(margin)..start)
        .unwrap_or_default();
    let threshold = (5.0 * mean_sd_shifted(before).1).max(MIN_UNLOADED_THRESHOLD_N);
    let f = &signal.total;
    let above = |i: usize| f.get(i).is_some_and(|&x| x >= threshold);
    (start.saturating_sub(margin)..start + margin)
        .find(|&i| above(i) && above(i + 1))
        .unwrap_or(start)
}

/// A drop's touchdown velocity, how it was found, and the body weight.
#[derive(Debug, Clone)]
pub(crate) struct DropEstimate {
    pub touchdown_velocity: f64,
    pub takeoff_velocity: Option<f64>,
    pub method: DropHeightMethod,
    pub weighing: Weighing,
}

/// The steadiest second after a landing, within `[from, to)`, if the
/// athlete stood still (steady, and no noisier than the recording's best).
pub(crate) fn still_after(ctx: &Context<'_>, from: usize, to: usize) -> Option<Weighing> {
    let noise_floor = ctx
        .recording_weighing
        .map_or(f64::INFINITY, |r| LOCAL_SD_FACTOR * r.sd + 0.5);
    steadiest(
        &ctx.signal,
        from,
        to,
        window_blocks(&ctx.signal),
        ctx.threshold,
    )
    .filter(|w| w.is_steady() && w.sd <= noise_floor)
}

/// Velocity at sample `to` integrating (F − BW)/m backwards from `from`,
/// where it is `v_from` (trapezoid rule).
pub(crate) fn integrate_back(
    signal: &Signal<'_>,
    bw: f64,
    from: usize,
    v_from: f64,
    to: usize,
) -> f64 {
    let c = 0.5 * signal.rate.dt() * GRAVITY / bw;
    let slice = signal.total.get(to..=from).unwrap_or_default();
    // Σ over steps of (a_k + a_{k+1}) = 2Σa − a_first − a_last.
    let (Some(&first), Some(&last)) = (slice.first(), slice.last()) else {
        return v_from;
    };
    let steps = slice.len().saturating_sub(1) as f64;
    let total = 2.0 * crate::signal::sum(slice) - first - last - 2.0 * bw * steps;
    v_from - c * total
}

fn drop_estimate(
    ctx: &Context<'_>,
    touchdown: usize,
    flight: Flight,
    hi: usize,
    flags: &mut Vec<Flag>,
) -> Option<DropEstimate> {
    let signal = &ctx.signal;
    let settle = flight.landing + signal.rate.samples(SETTLE_S);
    if let Some(w) = still_after(ctx, settle, hi) {
        let takeoff_velocity = integrate_back(signal, w.mean, w.start, 0.0, flight.takeoff);
        return Some(DropEstimate {
            touchdown_velocity: integrate_back(signal, w.mean, w.start, 0.0, touchdown),
            takeoff_velocity: Some(takeoff_velocity),
            method: DropHeightMethod::ReverseIntegration,
            weighing: w,
        });
    }
    let weighing = match ctx.recording_weighing {
        Some(w) => w,
        None => {
            let w = ctx.weigh_in?;
            flags.push(w.flag(
                "the athlete did not stand still after landing nor steadily anywhere in the recording",
            ));
            Weighing::weigh_in(w.kg, 0.01 * w.kg * GRAVITY, None)
        }
    };
    let flight_time = (flight.landing - flight.takeoff) as f64 * signal.rate.dt();
    let v_to = GRAVITY * flight_time / 2.0;
    flags.push(Flag::new(
        FlagCode::DropHeightFromFlightTime,
        "the athlete did not stand still after landing: drop height from the flight-time take-off velocity integrated back over the contact",
    ));
    Some(DropEstimate {
        touchdown_velocity: integrate_back(signal, weighing.mean, flight.takeoff, v_to, touchdown),
        takeoff_velocity: None,
        method: DropHeightMethod::FlightTime,
        weighing,
    })
}
