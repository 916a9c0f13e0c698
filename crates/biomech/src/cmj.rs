//! Countermovement-jump analysis of one rep.
//!
//! Method, step by step, with the publication each step follows:
//!
//! 1. **Body weight**: mean and SD of total force over the steadiest 1 s
//!    of quiet standing before the movement (McMahon et al. 2018, Strength
//!    Cond J 40(4):96–106, "Understanding the key phases of the
//!    countermovement jump force-time curve"), else the fallbacks of
//!    [`crate::weighing`].
//! 2. **Take-off and landing**: the first of two consecutive samples below
//!    the unloaded threshold, and the first of two at or above it after
//!    take-off. The threshold is 5 SD of the unloaded plate during flight,
//!    at least 20 N (Street et al. 2001, J Appl Biomech 17(1):43–54;
//!    McMahon et al. 2018).
//! 3. **Onset of movement**: the first sample of the unweighting that
//!    precedes the push, where force falls below body weight − 5 SD, moved
//!    back 30 ms (Owen et al. 2014, J Strength Cond Res 28(6):1552–1558,
//!    "Development of a criterion method to determine peak mechanical power
//!    output in a countermovement jump"). The 5 SD band has a 10 N floor so
//!    that a noise-free or coarsely quantised signal still has a finite
//!    band. The unweighting is found walking back from take-off (through
//!    the push, whose force stays above the band, to the dip before it), so
//!    that a wobble or the previous rep's landing earlier in the recording
//!    is not taken for it; gaps of up to 10 ms above the band inside the dip
//!    are noise.
//! 4. **Kinematics**: acceleration (F − BW)/m integrated to velocity and
//!    displacement with the trapezoid rule from onset, where velocity and
//!    displacement are zero (Linthorne 2001, Am J Phys 69(11):1198–1204,
//!    "Analysis of standing vertical jumps using a force platform"), in one
//!    pass that also finds the phases. Net impulses are m·Δv between phase
//!    boundaries, which equals the trapezoid integral of F − BW exactly.
//! 5. **Phases** (McMahon et al. 2018): unweighting from onset to peak
//!    negative velocity; braking (eccentric) from there to zero velocity
//!    (lowest centre-of-mass position); propulsion (concentric) from zero
//!    velocity to take-off; flight from take-off to landing; landing from
//!    landing until velocity returns to zero.
//!
//! Metric definitions are on the fields of [`CmjMetrics`] and [`Asymmetry`].

use serde::Serialize;

use crate::analysis::{Context, Trial, loaded_side};
use crate::flags::{Flag, FlagCode};
use crate::recording::{GRAVITY, Side};
use crate::report::Metrics;
use crate::segment::{DOUBLE_BOUNCE_GAP_S, Flight, MIN_UNLOADED_THRESHOLD_N, group_reps};
use crate::signal::{Signal, max_at, max_of, mean_of, mean_sd_shifted, sum, sum_min_max};
use crate::weighing::{Weighing, steadiest_reusing, window_blocks};

pub use crate::weighing::{MAX_WEIGHING_SD_FRACTION, MIN_BODY_WEIGHT_N, WEIGHING_WINDOW_S};

/// How far onset is moved back from the 5 SD crossing, s (Owen et al. 2014).
pub const ONSET_BACKTRACK_S: f64 = 0.030;
/// How far before take-off the weighing window is searched for, s.
pub const WEIGHING_SEARCH_S: f64 = 10.0;
/// SDs below body weight that mark movement onset (Owen et al. 2014).
pub const ONSET_SD: f64 = 5.0;
/// Floor of the onset band, N.
pub const ONSET_MIN_BAND_N: f64 = 10.0;
/// Shortest plausible movement from onset to take-off, s; the weighing
/// window must end at least this long before take-off.
pub const MIN_MOVEMENT_S: f64 = 0.3;
/// Longest braking plus propulsion phase, s: walking back from take-off
/// further than this without meeting the unweighting means there is none.
pub const MAX_PUSH_S: f64 = 1.5;
/// Impulse and flight-time heights further apart than this raise a
/// warning, m.
pub const HEIGHT_DISAGREEMENT_M: f64 = 0.05;
/// Longest landing phase, s: a landing that has not stopped the athlete
/// by then ends there.
pub const MAX_LANDING_S: f64 = 1.0;
/// Velocity counted as standing still at the end of a landing, m/s.
pub const STILL_M_S: f64 = 0.005;
/// A rep's own weighing window is trusted only when its SD is at most this
/// many times the recording's steadiest second (plus 0.5 N): a window that
/// caught part of a wobble or a landing can pass the 3 % test and still be
/// noisier than standing, with a biased mean. (The SD of 1 s of noise
/// varies by a few per cent between windows.)
pub const LOCAL_SD_FACTOR: f64 = 1.5;
/// Gaps above the onset band inside the unweighting that are noise, s.
const DIP_BRIDGE_S: f64 = 0.010;

/// Metrics of one countermovement jump, SI units. `_per_kg` divides by body
/// mass; `_bw` by body weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CmjMetrics {
    /// Body weight / g, kg.
    pub body_mass_kg: f64,
    /// Mean force over the weighing window, N.
    pub body_weight_n: f64,
    /// SD of force over the weighing window, N.
    pub body_weight_sd_n: f64,
    /// v_to² / 2g (impulse-momentum method; Linthorne 2001).
    pub jump_height_impulse_m: f64,
    /// g·t_flight² / 8 (flight-time method; Linthorne 2001, after Bosco et
    /// al. 1983).
    pub jump_height_flight_m: f64,
    /// Centre-of-mass velocity at take-off, net impulse from onset / mass
    /// (Linthorne 2001).
    pub takeoff_velocity_m_s: f64,
    /// Take-off to landing, s.
    pub flight_time_s: f64,
    /// Largest force in the propulsion phase, N (McMahon et al. 2018).
    pub peak_propulsive_force_n: f64,
    /// `peak_propulsive_force_n` / body mass, N/kg.
    pub peak_propulsive_force_n_per_kg: f64,
    /// Mean force over the propulsion (concentric) phase, N; this is also
    /// the "mean concentric force" (McMahon et al. 2018).
    pub mean_propulsive_force_n: f64,
    /// `mean_propulsive_force_n` / body mass, N/kg.
    pub mean_propulsive_force_n_per_kg: f64,
    /// Largest force × velocity in the propulsion phase, W (Owen et al. 2014).
    pub peak_propulsive_power_w: f64,
    /// `peak_propulsive_power_w` / body mass, W/kg.
    pub peak_propulsive_power_w_per_kg: f64,
    /// Mean force × velocity over the propulsion phase, W.
    pub mean_propulsive_power_w: f64,
    /// `mean_propulsive_power_w` / body mass, W/kg.
    pub mean_propulsive_power_w_per_kg: f64,
    /// Largest force in the braking phase, N.
    pub peak_braking_force_n: f64,
    /// (peak braking force − force at the start of braking) / time between
    /// them, N/s (Chavda et al. 2018, Strength Cond J 40(2):67–77, "Force-time
    /// characteristics of the countermovement jump: analyzing the curve in
    /// Excel"; McMahon et al. 2018).
    pub braking_rfd_n_s: f64,
    /// Net impulse ∫(F − BW)dt over the propulsion phase, N·s.
    pub concentric_impulse_n_s: f64,
    /// Net impulse ∫(F − BW)dt over the braking phase, N·s.
    pub eccentric_impulse_n_s: f64,
    /// Net impulse over the unweighting phase (negative), N·s.
    pub unweighting_impulse_n_s: f64,
    /// Lowest centre-of-mass displacement below standing, as a positive
    /// depth, m (McMahon et al. 2018).
    pub countermovement_depth_m: f64,
    /// Onset to peak negative velocity, s.
    pub unweighting_duration_s: f64,
    /// Peak negative velocity to zero velocity, s.
    pub braking_duration_s: f64,
    /// Zero velocity to take-off, s.
    pub propulsion_duration_s: f64,
    /// Landing to zero velocity after landing, s.
    pub landing_duration_s: f64,
    /// Onset to take-off, s (McMahon et al. 2018).
    pub time_to_takeoff_s: f64,
    /// `jump_height_impulse_m` / `time_to_takeoff_s`, m/s (Ebben & Petushek
    /// 2010, J Strength Cond Res 24(8):1983–1987; McMahon et al. 2018).
    pub rsi_modified: f64,
    /// Largest force in the landing phase, N.
    pub landing_peak_force_n: f64,
    /// `landing_peak_force_n` / body weight.
    pub landing_peak_force_bw: f64,
    /// Left/right asymmetry, dual plates only (not for a single-leg jump).
    pub asymmetry: Option<Asymmetry>,
    /// The leg of a single-leg jump; absent for a jump on both legs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
}

/// Left/right asymmetry indices, %. Signed, positive when the left side is
/// larger: (L − R) / max(|L|, |R|) × 100, the signed form of the index of
/// Impellizzeri et al. 2007 (Med Sci Sports Exerc 39(11):2044–2050, "A
/// vertical jump force test for assessing bilateral strength asymmetry in
/// athletes"). Force indices use each side's raw force; impulse indices use
/// each side's net impulse, ∫(F_side − BW_side)dt, where BW_side is the
/// side's mean force over the weighing window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asymmetry {
    /// Weight bearing in quiet standing.
    pub body_weight_pct: f64,
    /// Peak propulsive force.
    pub peak_propulsive_force_pct: f64,
    /// Mean propulsive force.
    pub mean_propulsive_force_pct: f64,
    /// Peak braking force.
    pub peak_braking_force_pct: f64,
    /// Landing peak force.
    pub landing_peak_force_pct: f64,
    /// Net propulsive (concentric) impulse.
    pub propulsive_impulse_pct: f64,
    /// Net braking (eccentric) impulse.
    pub braking_impulse_pct: f64,
}

/// The signed asymmetry index (L − R) / max(|L|, |R|) × 100; 0 when both
/// are 0.
pub fn asymmetry_index(left: f64, right: f64) -> f64 {
    let larger = left.abs().max(right.abs());
    if larger > 0.0 {
        (left - right) / larger * 100.0
    } else {
        0.0
    }
}

/// One CMJ rep to analyse: where it may look, and its body weight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rep<'a> {
    /// The prepared signal.
    pub signal: &'a Signal<'a>,
    /// The rep's first flight (as segmentation found it).
    pub flight: Flight,
    /// Earliest sample the movement may start at: the previous rep's
    /// landing end, or the start of the stretch.
    pub lo: usize,
    /// One past the last sample the rep may use (the next rep's take-off,
    /// or the end of the stretch).
    pub hi: usize,
    /// Body weight and where it came from.
    pub weighing: Weighing,
    /// Onset band (5 SD of the quiet force, at least 10 N), N.
    pub band: f64,
    /// The leg, for a single-leg jump (no asymmetry then).
    pub side: Option<Side>,
}

/// What a rep's analysis found.
#[derive(Debug, Clone)]
pub(crate) struct RepOutcome {
    /// Metrics and warnings, or the blocking flag.
    pub result: Result<(CmjMetrics, Vec<Flag>), Flag>,
    /// Onset of movement, when found.
    pub onset: Option<usize>,
    /// End of the landing phase (velocity back to zero), when found.
    pub landing_end: Option<usize>,
    /// Every phase boundary, when the integration found them.
    pub phases: Option<crate::report::PhaseIndices>,
}

/// Take-off and landing of a rep, refined with this flight's own
/// unloaded threshold.
pub(crate) fn refine_flight(
    signal: &Signal<'_>,
    flight: Flight,
    lo: usize,
    hi: usize,
) -> Result<Flight, Flag> {
    let threshold = flight_threshold(signal, flight);
    let f = &signal.total;
    let below = |i: usize| f.get(i).is_some_and(|&x| x < threshold);
    let above = |i: usize| f.get(i).is_some_and(|&x| x >= threshold);
    let margin = signal.rate.samples(0.1);
    let from = flight.takeoff.saturating_sub(margin).max(lo);
    let takeoff = (from..hi).find(|&i| below(i) && below(i + 1));
    let landing = takeoff.and_then(|t| {
        let from = flight.landing.saturating_sub(margin).max(t + 1);
        (from..hi).find(|&i| above(i) && above(i + 1))
    });
    match (takeoff, landing) {
        (Some(takeoff), Some(landing)) => Ok(Flight { takeoff, landing }),
        _ => Err(Flag::new(
            FlagCode::NoFlight,
            "no complete flight phase (take-off and landing) in the trial",
        )),
    }
}

/// 5 SD of the unloaded plate in mid-flight (the middle 100 ms, or all of
/// it but 10 ms at each end when shorter), at least 20 N.
fn flight_threshold(signal: &Signal<'_>, flight: Flight) -> f64 {
    let margin = signal.rate.samples(0.01).max(1);
    let mut a = flight.takeoff + margin;
    let mut b = flight.landing.saturating_sub(margin);
    let middle = signal.rate.samples(0.1).max(3);
    if b > a + middle {
        a += (b - a - middle) / 2;
        b = a + middle;
    }
    let sd = if b > a + 2 {
        mean_sd_shifted(signal.total.get(a..b).unwrap_or_default()).1
    } else {
        0.0
    };
    (5.0 * sd).max(MIN_UNLOADED_THRESHOLD_N)
}

/// The onset band for a weighing: 5 SD, at least 10 N (Owen et al. 2014).
pub(crate) fn onset_band(sd: f64) -> f64 {
    (ONSET_SD * sd).max(ONSET_MIN_BAND_N)
}

/// The first sample of the unweighting before the push that ends at
/// `takeoff`: walking back from take-off over the end of the push (force
/// below `bw − band`), the push itself (at or above it), to a substantial
/// dip below it (lasting 50 ms or reaching `bw − 2·band`), and back to its
/// start, bridging noise of up to 10 ms. `Err` with the reason when the
/// push is longer than [`MAX_PUSH_S`] (no countermovement) or the dip runs
/// back to `lo` (the movement began before the athlete stood still).
pub(crate) fn unweighting_start(
    signal: &Signal<'_>,
    bw: f64,
    band: f64,
    lo: usize,
    takeoff: usize,
) -> Result<usize, Flag> {
    let rate = signal.rate;
    let threshold = bw - band;
    let deep = bw - 2.0 * band;
    let bridge = rate.samples(DIP_BRIDGE_S).max(1);
    let min_dip = rate.samples(0.05).max(1);
    let max_push = rate.samples(MAX_PUSH_S);
    let no_countermovement = || {
        Flag::new(
            FlagCode::PhaseDetectionFailed,
            "no unweighting before take-off: not a countermovement jump",
        )
    };
    // `f[k]` is sample `lo + k`; every index below is one past a sample.
    let f = signal
        .total
        .get(lo..takeoff.min(signal.len()))
        .unwrap_or_default();
    let low = |x: &f64| *x < threshold;
    let end = f.len();
    // Back over the end of the push (below the band), then the push.
    let mut i = f.iter().rposition(|x| !low(x)).map_or(0, |k| k + 1);
    let push_end = i;
    loop {
        let high_from = f
            .get(..i)
            .unwrap_or_default()
            .iter()
            .rposition(low)
            .map_or(0, |k| k + 1);
        if push_end - high_from > max_push {
            return Err(no_countermovement());
        }
        i = high_from;
        if i == 0 {
            return Err(no_countermovement());
        }
        // `i` is one past a dip sample: back to the dip's start, across
        // gaps of up to 10 ms above the band.
        let dip_end = i;
        let mut lowest = f64::INFINITY;
        loop {
            let start = f
                .get(..i)
                .unwrap_or_default()
                .iter()
                .rposition(|x| !low(x))
                .map_or(0, |k| k + 1);
            for &x in f.get(start..i).unwrap_or_default() {
                lowest = if x < lowest { x } else { lowest };
            }
            i = start;
            let gap = f.get(i.saturating_sub(bridge)..i).unwrap_or_default();
            match gap.iter().rposition(low) {
                Some(k) => i = i.saturating_sub(bridge) + k + 1,
                None => break,
            }
        }
        if i == 0 {
            return Err(Flag::new(
                FlagCode::MovementTooEarly,
                "the movement started before the athlete stood still on the plate",
            ));
        }
        if dip_end - i >= min_dip || lowest <= deep {
            debug_assert!(i <= end);
            return Ok(lo + i);
        }
        if push_end - i > max_push {
            return Err(no_countermovement());
        }
    }
}

/// Analyses one CMJ rep; `crossing` is the unweighting start when it was
/// already found with this rep's weighing and band.
pub(crate) fn analyze_rep(rep: &Rep<'_>, crossing: Option<Result<usize, Flag>>) -> RepOutcome {
    let mut outcome = RepOutcome {
        result: Err(Flag::new(FlagCode::NoFlight, "no flight")),
        onset: None,
        landing_end: None,
        phases: None,
    };
    let flight = match refine_flight(rep.signal, rep.flight, rep.lo, rep.hi) {
        Ok(f) => f,
        Err(flag) => {
            outcome.result = Err(flag);
            return outcome;
        }
    };
    let w = &rep.weighing;
    let crossing = crossing
        .unwrap_or_else(|| unweighting_start(rep.signal, w.mean, rep.band, rep.lo, flight.takeoff));
    let crossing = match crossing {
        Ok(c) => c,
        Err(flag) => {
            outcome.result = Err(flag);
            return outcome;
        }
    };
    let backtrack = rep.signal.rate.samples(ONSET_BACKTRACK_S);
    let onset = crossing.saturating_sub(backtrack).max(rep.lo);
    outcome.onset = Some(onset);
    let pass = match integrate(rep, onset, flight) {
        Ok(p) => p,
        Err(flag) => {
            outcome.result = Err(flag);
            return outcome;
        }
    };
    outcome.landing_end = Some(pass.landing_end);
    outcome.phases = Some(crate::report::PhaseIndices {
        onset: pass.onset,
        braking: pass.peak_negative_velocity,
        propulsion: pass.zero_velocity,
        takeoff: pass.takeoff,
        landing: pass.landing,
        landing_end: pass.landing_end,
    });
    let metrics = compute_metrics(rep, &pass);
    let mut warnings = Vec::new();
    if (metrics.jump_height_impulse_m - metrics.jump_height_flight_m).abs() > HEIGHT_DISAGREEMENT_M
    {
        warnings.push(Flag::new(
            FlagCode::HeightMethodsDisagree,
            "jump height by impulse and by flight time differ by more than 5 cm",
        ));
    }
    outcome.result = Ok((metrics, warnings));
    outcome
}

/// Phase boundaries (absolute sample indices) and the velocities there.
#[derive(Debug, Clone, Copy)]
struct Pass {
    onset: usize,
    peak_negative_velocity: usize,
    zero_velocity: usize,
    takeoff: usize,
    landing: usize,
    landing_end: usize,
    v_peak_negative: f64,
    v_zero: f64,
    v_takeoff: f64,
    lowest_displacement: f64,
    mass: f64,
    /// Peak and mean force × velocity over the propulsion phase, W.
    peak_power: f64,
    mean_power: f64,
}

/// Integrates (F − BW)/m from onset (trapezoid rule, v = s = 0 at onset)
/// through take-off to the end of the landing, finding the phases on the
/// way.
fn integrate(rep: &Rep<'_>, onset: usize, flight: Flight) -> Result<Pass, Flag> {
    let failed = |why: &'static str| Flag::new(FlagCode::PhaseDetectionFailed, why);
    let f = &rep.signal.total;
    let bw = rep.weighing.mean;
    let mass = bw / GRAVITY;
    let dt = rep.signal.rate.dt();
    let c = 0.5 * dt / mass;
    let last = rep.hi.min(f.len()).saturating_sub(1);
    let (takeoff, landing) = (flight.takeoff, flight.landing);
    if takeoff > last || landing > last || onset >= takeoff {
        return Err(failed("the trial ends before the landing"));
    }
    let movement = f.get(onset..=takeoff).unwrap_or_default();
    let (mut v, mut s) = (0.0_f64, 0.0_f64);
    let mut a_prev = movement.first().map_or(0.0, |x| x - bw);
    let (mut v_min, mut i_min) = (0.0_f64, onset);
    let mut zero: Option<(usize, f64)> = None;
    let mut s_min = 0.0_f64;
    // Force × velocity from the current zero-velocity candidate to
    // take-off: the propulsive power, without integrating again.
    let (mut power_peak, mut power_sum) = (f64::NEG_INFINITY, 0.0_f64);
    let h = 0.5 * dt;
    let mut track = |i: usize, x: f64, v: f64, s: f64| {
        s_min = if s < s_min { s } else { s_min };
        if v < v_min {
            v_min = v;
            i_min = i;
            zero = None;
        } else if zero.is_none() {
            if v >= 0.0 {
                zero = Some((i, v));
                power_peak = x * v;
                power_sum = x * v;
            }
        } else if i < takeoff {
            let power = x * v;
            power_peak = if power > power_peak {
                power
            } else {
                power_peak
            };
            power_sum += power;
        }
    };
    // Two samples per step: v₂ = v₀ + c(a₀ + 2a₁ + a₂) depends on v₀ only,
    // which halves the chain of dependent additions (the same trapezoid
    // rule, summed in another order).
    let body = movement.get(1..).unwrap_or_default();
    let pairs = body.chunks_exact(2);
    let odd = pairs.remainder();
    let mut i = onset;
    for pair in pairs {
        let (Some(&x1), Some(&x2)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let (a1, a2) = (x1 - bw, x2 - bw);
        let v1 = v + c * (a_prev + a1);
        let v2 = v + c * ((a_prev + a1) + (a1 + a2));
        let s1 = s + h * (v + v1);
        s = s1 + h * (v1 + v2);
        track(i + 1, x1, v1, s1);
        track(i + 2, x2, v2, s);
        v = v2;
        a_prev = a2;
        i += 2;
    }
    for &x in odd {
        let a = x - bw;
        let v_next = v + c * (a_prev + a);
        s += h * (v + v_next);
        v = v_next;
        a_prev = a;
        i += 1;
        track(i, x, v, s);
    }
    let v_takeoff = v;
    let propulsion_samples = zero.map_or(0, |(z, _)| takeoff.saturating_sub(z));
    let peak_power = if propulsion_samples > 0 && power_peak.is_finite() {
        power_peak
    } else {
        0.0
    };
    let mean_power = if propulsion_samples > 0 {
        power_sum / propulsion_samples as f64
    } else {
        0.0
    };
    if v_min >= 0.0 {
        return Err(failed(
            "no downward movement before take-off: not a countermovement jump",
        ));
    }
    let Some((zero_velocity, v_zero)) = zero else {
        return Err(failed(
            "the centre of mass never stops moving down before take-off",
        ));
    };
    if zero_velocity >= takeoff || v_takeoff <= 0.0 {
        return Err(failed(
            "no propulsion phase: take-off velocity is not upward",
        ));
    }
    // Through the flight at once: the velocity change is the trapezoid sum
    // of the (nearly zero) flight force.
    let flight_samples = f.get(takeoff..=landing).unwrap_or_default();
    let (first, edge) = (
        flight_samples.first().copied().unwrap_or(0.0),
        flight_samples.last().copied().unwrap_or(0.0),
    );
    let steps = flight_samples.len().saturating_sub(1) as f64;
    v += c * (2.0 * sum(flight_samples) - first - edge - 2.0 * bw * steps);
    // McMahon et al. 2018: landing ends when velocity returns to zero. A
    // landing that stops the athlete exactly, integrated with a body weight
    // a hair off, may level out a few mm/s short of zero: then it ends
    // where velocity comes within 5 mm/s of the highest it reaches in the
    // [`MAX_LANDING_S`] after landing. The trial's end bounds it.
    let cap = (landing + rep.signal.rate.samples(MAX_LANDING_S)).min(last);
    let after = f.get(landing + 1..=cap).unwrap_or_default();
    let v_landing = v;
    let first_at = |floor: f64| {
        let (mut v, mut a_prev) = (v_landing, edge - bw);
        let mut highest = f64::NEG_INFINITY;
        for (k, &x) in after.iter().enumerate() {
            let a = x - bw;
            v += c * (a_prev + a);
            a_prev = a;
            if v >= floor {
                return (Some(landing + 1 + k), highest);
            }
            highest = if v > highest { v } else { highest };
        }
        (None, highest)
    };
    let landing_end = match first_at(-STILL_M_S) {
        (Some(i), _) => i,
        (None, highest) if highest.is_finite() => first_at(highest - STILL_M_S).0.unwrap_or(cap),
        (None, _) => cap,
    };
    Ok(Pass {
        onset,
        peak_negative_velocity: i_min,
        zero_velocity,
        takeoff,
        landing,
        landing_end,
        v_peak_negative: v_min,
        v_zero,
        v_takeoff,
        lowest_displacement: s_min,
        mass,
        peak_power,
        mean_power,
    })
}

fn compute_metrics(rep: &Rep<'_>, p: &Pass) -> CmjMetrics {
    let f = &rep.signal.total;
    let dt = rep.signal.rate.dt();
    let mass = p.mass;
    let bw = rep.weighing.mean;
    let flight_time = (p.landing - p.takeoff) as f64 * dt;
    let jump_height_impulse = p.v_takeoff * p.v_takeoff / (2.0 * GRAVITY);
    let jump_height_flight = GRAVITY * flight_time * flight_time / 8.0;
    let propulsion = f.get(p.zero_velocity..p.takeoff).unwrap_or_default();
    let (propulsive_sum, _, peak_propulsive_force) = sum_min_max(propulsion);
    let peak_propulsive_force = if propulsion.is_empty() {
        0.0
    } else {
        peak_propulsive_force
    };
    let mean_propulsive_force = propulsive_sum / propulsion.len().max(1) as f64;
    let (peak_power, mean_power) = (p.peak_power, p.mean_power);
    let (peak_braking_force, braking_rfd) = braking_peak_and_rfd(f, p, dt);
    let time_to_takeoff = (p.takeoff - p.onset) as f64 * dt;
    let landing_peak = max_of(f, p.landing..p.landing_end + 1);
    let asymmetry = match (rep.signal.sides, rep.side) {
        (Some((l, r)), None) => Some(asymmetry(l, r, &rep.weighing, p, dt)),
        _ => None,
    };
    CmjMetrics {
        body_mass_kg: mass,
        body_weight_n: bw,
        body_weight_sd_n: rep.weighing.sd,
        jump_height_impulse_m: jump_height_impulse,
        jump_height_flight_m: jump_height_flight,
        takeoff_velocity_m_s: p.v_takeoff,
        flight_time_s: flight_time,
        peak_propulsive_force_n: peak_propulsive_force,
        peak_propulsive_force_n_per_kg: peak_propulsive_force / mass,
        mean_propulsive_force_n: mean_propulsive_force,
        mean_propulsive_force_n_per_kg: mean_propulsive_force / mass,
        peak_propulsive_power_w: peak_power,
        peak_propulsive_power_w_per_kg: peak_power / mass,
        mean_propulsive_power_w: mean_power,
        mean_propulsive_power_w_per_kg: mean_power / mass,
        peak_braking_force_n: peak_braking_force,
        braking_rfd_n_s: braking_rfd,
        // Net impulses are m·Δv: the trapezoid integral of F − BW.
        concentric_impulse_n_s: mass * (p.v_takeoff - p.v_zero),
        eccentric_impulse_n_s: mass * (p.v_zero - p.v_peak_negative),
        unweighting_impulse_n_s: mass * p.v_peak_negative,
        countermovement_depth_m: -p.lowest_displacement,
        unweighting_duration_s: (p.peak_negative_velocity - p.onset) as f64 * dt,
        braking_duration_s: (p.zero_velocity - p.peak_negative_velocity) as f64 * dt,
        propulsion_duration_s: (p.takeoff - p.zero_velocity) as f64 * dt,
        landing_duration_s: (p.landing_end - p.landing) as f64 * dt,
        time_to_takeoff_s: time_to_takeoff,
        rsi_modified: jump_height_impulse / time_to_takeoff,
        landing_peak_force_n: landing_peak,
        landing_peak_force_bw: landing_peak / bw,
        asymmetry,
        side: rep.side,
    }
}

/// Peak braking force and braking RFD (Chavda et al. 2018): force change
/// from the start of braking to its peak, over the time between.
fn braking_peak_and_rfd(f: &[f64], p: &Pass, dt: f64) -> (f64, f64) {
    let start = p.peak_negative_velocity;
    let Some((peak_index, peak)) = max_at(f, start..p.zero_velocity + 1) else {
        return (0.0, 0.0);
    };
    let rfd = if peak_index > start {
        (peak - f.get(start).copied().unwrap_or(0.0)) / ((peak_index - start) as f64 * dt)
    } else {
        0.0
    };
    (peak, rfd)
}

fn asymmetry(left: &[f64], right: &[f64], w: &Weighing, p: &Pass, dt: f64) -> Asymmetry {
    // A weigh-in has no window: each side's standing share is then taken
    // from the 100 ms before onset. The right side's share is the rest of
    // the total's.
    let (quiet, total_mean) = if w.end > w.start {
        (w.start..w.end, w.mean)
    } else {
        let q = p.onset.saturating_sub((0.1 / dt).round() as usize)..p.onset.max(1);
        let l = mean_of(left, q.clone());
        let r = mean_of(right, q.clone());
        (q, l + r)
    };
    let bw_l = mean_of(left, quiet);
    let bw_r = total_mean - bw_l;
    let side = |x: &[f64], bw: f64| SidePhases::of(x, bw, p, dt);
    let (l, r) = (side(left, bw_l), side(right, bw_r));
    Asymmetry {
        body_weight_pct: asymmetry_index(bw_l, bw_r),
        peak_propulsive_force_pct: asymmetry_index(l.peak_propulsive, r.peak_propulsive),
        mean_propulsive_force_pct: asymmetry_index(l.mean_propulsive, r.mean_propulsive),
        peak_braking_force_pct: asymmetry_index(l.peak_braking, r.peak_braking),
        landing_peak_force_pct: asymmetry_index(l.landing_peak, r.landing_peak),
        propulsive_impulse_pct: asymmetry_index(l.propulsive_impulse, r.propulsive_impulse),
        braking_impulse_pct: asymmetry_index(l.braking_impulse, r.braking_impulse),
    }
}

/// One side's figures over the phases, one pass per phase.
struct SidePhases {
    peak_propulsive: f64,
    mean_propulsive: f64,
    propulsive_impulse: f64,
    peak_braking: f64,
    braking_impulse: f64,
    landing_peak: f64,
}

impl SidePhases {
    fn of(x: &[f64], bw: f64, p: &Pass, dt: f64) -> Self {
        // Propulsion is [zero velocity, take-off) for peak and mean force;
        // the net impulse integrates the closed range to take-off.
        let (prop_sum, _, prop_max) =
            sum_min_max(x.get(p.zero_velocity..p.takeoff).unwrap_or_default());
        let prop_n = p.takeoff.saturating_sub(p.zero_velocity);
        let at = |i: usize| x.get(i).copied().unwrap_or(0.0);
        let trapezoid = |a: usize, b: usize, inner_sum: f64| {
            // Σ over [a, b) plus the last sample, less half of each end.
            (inner_sum + 0.5 * (at(b) - at(a)) - bw * b.saturating_sub(a) as f64) * dt
        };
        let (brake_sum, _, brake_max) = sum_min_max(
            x.get(p.peak_negative_velocity..p.zero_velocity + 1)
                .unwrap_or_default(),
        );
        let brake_inner = brake_sum - at(p.zero_velocity);
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        Self {
            peak_propulsive: finite(prop_max),
            mean_propulsive: prop_sum / prop_n.max(1) as f64,
            propulsive_impulse: trapezoid(p.zero_velocity, p.takeoff, prop_sum),
            peak_braking: finite(brake_max),
            braking_impulse: trapezoid(p.peak_negative_velocity, p.zero_velocity, brake_inner),
            landing_peak: max_of(x, p.landing..p.landing_end + 1),
        }
    }
}

/// The trials of a CMJ (or single-leg CMJ) recording: one per rep, each
/// with its own onset and body weight.
///
/// A stretch without a flight (a failed jump, or standing after stepping
/// back on) is a trial flagged `no_flight` only when the recording holds no
/// flight at all, so that stepping off and on between reps invents no rep.
pub(crate) fn trials(ctx: &Context<'_>, single_leg: bool) -> Vec<Trial> {
    let signal = &ctx.signal;
    let rate = signal.rate;
    let any_flight = ctx.segments.any_flight();
    let bounce_gap = rate.samples(DOUBLE_BOUNCE_GAP_S);
    let mut out = Vec::new();
    for stretch in &ctx.segments.stretches {
        if stretch.flights.is_empty() {
            if !any_flight && stretch.end - stretch.start >= rate.samples(1.0) {
                out.push(Trial::blocked(
                    stretch.start,
                    stretch.end,
                    Flag::new(
                        FlagCode::NoFlight,
                        "no flight phase: a step-off or a failed jump",
                    ),
                ));
            }
            continue;
        }
        let reps = group_reps(signal, &stretch.flights, ctx.level);
        // The earliest sample a rep's movement may start at: the stretch
        // start, then the previous rep's last landing (the walk back from
        // take-off stops at the landing's force, so nothing of it is taken
        // for the next unweighting).
        let mut lo = stretch.start;
        let mut analysed: Vec<(Trial, Option<usize>, usize)> = Vec::with_capacity(reps.len());
        for (i, flights) in reps.iter().enumerate() {
            let (Some(&first), Some(&last)) = (flights.first(), flights.last()) else {
                continue;
            };
            let next = reps.get(i + 1).and_then(|r| r.first()).map(|f| f.takeoff);
            let hi = next.unwrap_or(stretch.end);
            let mut flags = Vec::new();
            if flights.len() > 1
                || ctx
                    .segments
                    .left_again(last.landing, next.unwrap_or(usize::MAX), bounce_gap)
            {
                flags.push(Flag::new(
                    FlagCode::DoubleBounce,
                    "the subject left the plate again within 1 s of landing; landing metrics include it",
                ));
            }
            let side = if single_leg {
                match leg(ctx, lo..first.takeoff) {
                    Ok(side) => Some(side),
                    Err(flag) => {
                        flags.push(flag);
                        None
                    }
                }
            } else {
                None
            };
            let (outcome, onset, landing_end, phases) = match weigh_rep(ctx, lo, first) {
                Err(flag) => (Err(flag), None, None, None),
                Ok(found) => {
                    flags.extend(found.flag);
                    let rep = Rep {
                        signal,
                        flight: first,
                        lo,
                        hi,
                        weighing: found.weighing,
                        band: found.weighing.band(),
                        side,
                    };
                    let outcome = analyze_rep(&rep, found.crossing);
                    (
                        outcome.result,
                        outcome.onset,
                        outcome.landing_end,
                        outcome.phases,
                    )
                }
            };
            let settle = (last.landing + rate.samples(0.3)).min(hi);
            let end = landing_end.unwrap_or(settle).clamp(last.landing, hi);
            let mut trial = Trial::of(0, end, outcome.map(|(m, w)| (Metrics::Cmj(Box::new(m)), w)));
            trial.flags.extend(flags);
            trial.phases = phases;
            if let (Some(a), Some(b)) = (onset, landing_end) {
                trial.checked = Some((a, b + 1));
            }
            analysed.push((trial, onset, last.landing));
            lo = last.landing;
        }
        // Trials tile the stretch: each ends where the next rep's movement
        // begins if its landing had not ended by then, and the last one at
        // the end of the stretch.
        let mut start = stretch.start;
        let count = analysed.len();
        for i in 0..count {
            let next_onset = analysed.get(i + 1).and_then(|(_, onset, _)| *onset);
            let Some((trial, _, landing)) = analysed.get_mut(i) else {
                continue;
            };
            trial.start = start;
            if i + 1 == count {
                trial.end = stretch.end;
            } else if let Some(onset) = next_onset {
                trial.end = trial.end.min(onset.max(*landing));
            }
            trial.end = trial.end.max(start);
            start = trial.end;
        }
        out.extend(analysed.into_iter().map(|(trial, _, _)| trial));
    }
    out
}

/// The leg of a single-leg jump: on two plates the loaded one; on one
/// plate the side the file names.
fn leg(ctx: &Context<'_>, range: std::ops::Range<usize>) -> Result<Side, Flag> {
    if ctx.signal.sides.is_some() {
        return loaded_side(&ctx.signal, range).ok_or_else(|| {
            Flag::new(
                FlagCode::SideUnknown,
                "both plates carried load before this jump: not on one leg, or standing across the plates",
            )
        });
    }
    ctx.recording.metadata.side.ok_or_else(|| {
        Flag::new(
            FlagCode::SideUnknown,
            "one plate and no side in the file (test: single_leg_cmj_left or _right): no limb symmetry",
        )
    })
}

/// The body weight of a rep: the steadiest second of standing that ends
/// before its onset, searched within 10 s before take-off; else a
/// fallback ([`Context::fallback_weighing`]) with its flag.
pub(crate) fn weigh_rep(ctx: &Context<'_>, lo: usize, flight: Flight) -> Result<RepWeighing, Flag> {
    let backtrack = ctx.rate().samples(ONSET_BACKTRACK_S);
    weigh_before(ctx, lo, flight.takeoff, |w| {
        unweighting_start(&ctx.signal, w.mean, w.band(), lo, flight.takeoff)
            .map(|c| (c.saturating_sub(backtrack), c))
    })
}

/// A rep's body weight, the flag that says where it came from (for a
/// fallback), and the movement already found with it.
#[derive(Debug, Clone)]
pub(crate) struct Weighed<T> {
    pub weighing: Weighing,
    pub flag: Option<Flag>,
    /// What `movement` returned for this weighing, when it was called with
    /// it (the caller otherwise calls it again).
    pub crossing: Option<Result<T, Flag>>,
}

/// A CMJ rep's weighing, with the unweighting crossing.
pub(crate) type RepWeighing = Weighed<usize>;

/// The body weight for a movement that takes off at `takeoff`: the
/// steadiest second of standing in the 10 s before it (ending at least
/// [`MIN_MOVEMENT_S`] before take-off, and before the movement itself:
/// `movement(w)` gives the movement's first sample and a value to keep, for
/// weighing `w`), no noisier than 1.5 × the recording's steadiest second;
/// else a fallback ([`Context::fallback_weighing`]) with its flag.
pub(crate) fn weigh_before<T: Clone>(
    ctx: &Context<'_>,
    lo: usize,
    takeoff: usize,
    movement: impl Fn(&Weighing) -> Result<(usize, T), Flag>,
) -> Result<Weighed<T>, Flag> {
    let signal = &ctx.signal;
    let rate = signal.rate;
    let limit = takeoff.saturating_sub(rate.samples(MIN_MOVEMENT_S));
    let search_lo = lo.max(limit.saturating_sub(rate.samples(WEIGHING_SEARCH_S)));
    let len = window_blocks(signal);
    let noise_floor = ctx
        .recording_weighing
        .map_or(f64::INFINITY, |r| LOCAL_SD_FACTOR * r.sd + 0.5);
    let known = ctx.recording_weighing.as_ref();
    let steady = |hi: usize| {
        steadiest_reusing(signal, (search_lo, hi), len, ctx.threshold, known)
            .filter(|w| w.is_steady() && w.sd <= noise_floor)
    };
    if let Some(w) = steady(limit) {
        match movement(&w) {
            // The window must not reach into the movement it weighs for.
            Ok((start, _)) if w.end > start => {
                if let Some(w) = steady(start) {
                    return Ok(Weighed {
                        weighing: w,
                        flag: None,
                        crossing: None,
                    });
                }
            }
            found => {
                return Ok(Weighed {
                    weighing: w,
                    flag: None,
                    crossing: Some(found.map(|(_, t)| t)),
                });
            }
        }
    }
    ctx.fallback_weighing(search_lo, limit)
        .map(|(weighing, flag)| Weighed {
            weighing,
            flag: Some(flag),
            crossing: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asymmetry_index_is_signed() {
        assert_eq!(asymmetry_index(110.0, 100.0), 100.0 * 10.0 / 110.0);
        assert_eq!(asymmetry_index(100.0, 110.0), -100.0 * 10.0 / 110.0);
        assert_eq!(asymmetry_index(0.0, 0.0), 0.0);
    }
}
