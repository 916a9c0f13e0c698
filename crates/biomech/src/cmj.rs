//! Countermovement-jump analysis of one trial.
//!
//! Method, step by step, with the publication each step follows:
//!
//! 1. **Body weight**: mean and SD of total force over the steadiest 1 s
//!    window of quiet standing before the jump (McMahon et al. 2018,
//!    Strength Cond J 40(4):96–106, "Understanding the key phases of the
//!    countermovement jump force-time curve": ≥ 1 s of quiet standing).
//! 2. **Onset of movement**: the first sample after the weighing window
//!    where force falls below body weight − 5 SD, moved back 30 ms (Owen et
//!    al. 2014, J Strength Cond Res 28(6):1552–1558, "Development of a
//!    criterion method to determine peak mechanical power output in a
//!    countermovement jump"). The 5 SD band has a 10 N floor so that a
//!    noise-free or coarsely quantised signal still has a finite band.
//! 3. **Take-off and landing**: the first of two consecutive samples below
//!    the unloaded threshold, and the first of two at or above it after
//!    take-off. The threshold is 5 SD of the unloaded plate during flight,
//!    at least 20 N (Street et al. 2001, J Appl Biomech 17(1):43–54;
//!    McMahon et al. 2018).
//! 4. **Kinematics**: acceleration (F − BW)/m integrated to velocity and
//!    displacement with the trapezoid rule from onset, where velocity and
//!    displacement are zero (Linthorne 2001, Am J Phys 69(11):1198–1204,
//!    "Analysis of standing vertical jumps using a force platform").
//! 5. **Phases** (McMahon et al. 2018): unweighting from onset to peak
//!    negative velocity; braking (eccentric) from there to zero velocity
//!    (lowest centre-of-mass position); propulsion (concentric) from zero
//!    velocity to take-off; flight from take-off to landing; landing from
//!    landing until velocity returns to zero.
//!
//! Metric definitions are on the fields of [`CmjMetrics`] and [`Asymmetry`].

use serde::Serialize;

use crate::flags::{Flag, FlagCode};
use crate::recording::{GRAVITY, SampleRate};
use crate::segment::{MIN_UNLOADED_THRESHOLD_N, Span};

/// Length of the weighing window, s (McMahon et al. 2018).
pub const WEIGHING_WINDOW_S: f64 = 1.0;
/// How far onset is moved back from the 5 SD crossing, s (Owen et al. 2014).
pub const ONSET_BACKTRACK_S: f64 = 0.030;
/// How far before take-off the weighing window is searched for, s.
pub const WEIGHING_SEARCH_S: f64 = 10.0;
/// SDs below body weight that mark movement onset (Owen et al. 2014).
pub const ONSET_SD: f64 = 5.0;
/// Floor of the onset band, N.
pub const ONSET_MIN_BAND_N: f64 = 10.0;
/// Weighing is unstable when its SD exceeds this fraction of body weight.
pub const MAX_WEIGHING_SD_FRACTION: f64 = 0.03;
/// Lightest body weight accepted, N (≈ 10 kg).
pub const MIN_BODY_WEIGHT_N: f64 = 100.0;
/// Shortest plausible movement from onset to take-off, s; the weighing
/// window must end at least this long before take-off.
pub const MIN_MOVEMENT_S: f64 = 0.3;
/// Impulse and flight-time heights further apart than this raise a
/// warning, m.
pub const HEIGHT_DISAGREEMENT_M: f64 = 0.05;

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
    /// Left/right asymmetry, dual plates only.
    pub asymmetry: Option<Asymmetry>,
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

/// The force channels of one trial.
pub(crate) struct CmjInput<'a> {
    pub total: &'a [f64],
    pub sides: Option<(&'a [f64], &'a [f64])>,
    pub span: Span,
    pub rate: SampleRate,
}

/// Analyses one jump trial: metrics, or the blocking flag that prevents
/// them, plus any warnings.
pub(crate) fn analyze_cmj(input: &CmjInput<'_>) -> Result<(CmjMetrics, Vec<Flag>), Flag> {
    let Some(flight) = input.span.flight else {
        return Err(Flag::new(
            FlagCode::NoFlight,
            "no flight phase: a step-off or a failed jump",
        ));
    };
    let weighing = weigh(input, flight.takeoff)?;
    let onset = find_onset(input, &weighing, flight.takeoff)?;
    let (takeoff, landing) = find_flight(input, onset, flight.landing)?;
    let kin = integrate(
        input.total,
        input.rate,
        weighing.mean,
        onset,
        input.span.end,
    );
    let phases = find_phases(&kin, onset, takeoff, landing)?;
    let metrics = compute_metrics(input, &weighing, &kin, &phases);
    let mut warnings = Vec::new();
    if (metrics.jump_height_impulse_m - metrics.jump_height_flight_m).abs() > HEIGHT_DISAGREEMENT_M
    {
        warnings.push(Flag::new(
            FlagCode::HeightMethodsDisagree,
            "jump height by impulse and by flight time differ by more than 5 cm",
        ));
    }
    Ok((metrics, warnings))
}

/// Body weight from quiet standing.
#[derive(Debug, Clone, Copy)]
struct Weighing {
    start: usize,
    end: usize,
    mean: f64,
    sd: f64,
}

/// Finds the steadiest 1 s window (in steps of 50 ms) between the trial
/// start, or [`WEIGHING_SEARCH_S`] before take-off if later, and
/// [`MIN_MOVEMENT_S`] before take-off.
fn weigh(input: &CmjInput<'_>, takeoff: usize) -> Result<Weighing, Flag> {
    let len = input.rate.samples(WEIGHING_WINDOW_S).max(2);
    let limit = takeoff.saturating_sub(input.rate.samples(MIN_MOVEMENT_S));
    // Searching only the last seconds before the jump bounds the cost on
    // long recordings; quiet standing long before the jump says little.
    let start = input
        .span
        .start
        .max(limit.saturating_sub(input.rate.samples(WEIGHING_SEARCH_S)));
    if start + len > limit {
        return Err(Flag::new(
            FlagCode::MovementTooEarly,
            "the movement started before 1 s of quiet standing was recorded",
        ));
    }
    let step = input.rate.samples(0.05).max(1);
    let mut best: Option<Weighing> = None;
    let mut w = start;
    while w + len <= limit {
        let window = input.total.get(w..w + len).unwrap_or(&[]);
        let (mean, sd) = mean_sd(window);
        if best.is_none_or(|b| sd < b.sd) {
            best = Some(Weighing {
                start: w,
                end: w + len,
                mean,
                sd,
            });
        }
        w += step;
    }
    let Some(best) = best else {
        return Err(Flag::new(
            FlagCode::MovementTooEarly,
            "the movement started before 1 s of quiet standing was recorded",
        ));
    };
    if best.mean < MIN_BODY_WEIGHT_N || best.sd > MAX_WEIGHING_SD_FRACTION * best.mean {
        return Err(Flag::new(
            FlagCode::NoStableWeighing,
            "no 1 s of steady quiet standing to weigh the subject (SD above 3 % of body weight)",
        ));
    }
    Ok(best)
}

/// Onset: 5 SD below body weight, moved back 30 ms (Owen et al. 2014).
fn find_onset(input: &CmjInput<'_>, w: &Weighing, takeoff: usize) -> Result<usize, Flag> {
    let band = (ONSET_SD * w.sd).max(ONSET_MIN_BAND_N);
    let threshold = w.mean - band;
    let crossing = (w.end..takeoff).find(|&i| input.total.get(i).is_some_and(|&f| f < threshold));
    let Some(crossing) = crossing else {
        return Err(Flag::new(
            FlagCode::PhaseDetectionFailed,
            "no unweighting before take-off: not a countermovement jump",
        ));
    };
    Ok(crossing
        .saturating_sub(input.rate.samples(ONSET_BACKTRACK_S))
        .max(w.start))
}

/// Take-off and landing by the unloaded threshold of this trial's flight.
fn find_flight(
    input: &CmjInput<'_>,
    onset: usize,
    segment_landing: usize,
) -> Result<(usize, usize), Flag> {
    let threshold = flight_threshold(input, onset, segment_landing);
    let f = input.total;
    let below = |i: usize| f.get(i).is_some_and(|&x| x < threshold);
    let above = |i: usize| f.get(i).is_some_and(|&x| x >= threshold);
    let end = input.span.end;
    let takeoff = (onset..end).find(|&i| below(i) && below(i + 1));
    let landing = takeoff.and_then(|t| (t + 1..end).find(|&i| above(i) && above(i + 1)));
    match (takeoff, landing) {
        (Some(t), Some(l)) => Ok((t, l)),
        _ => Err(Flag::new(
            FlagCode::NoFlight,
            "no complete flight phase (take-off and landing) in the trial",
        )),
    }
}

/// 5 SD of the unloaded plate in mid-flight, at least 20 N.
fn flight_threshold(input: &CmjInput<'_>, onset: usize, landing: usize) -> f64 {
    let margin = input.rate.samples(0.01).max(1);
    let flight_start = input.span.flight.map_or(onset, |f| f.takeoff);
    let a = flight_start + margin;
    let b = landing.saturating_sub(margin);
    let sd = if b > a + 2 {
        input.total.get(a..b).map_or(0.0, |w| mean_sd(w).1)
    } else {
        0.0
    };
    (5.0 * sd).max(MIN_UNLOADED_THRESHOLD_N)
}

/// Velocity and displacement from onset, trapezoid rule (Linthorne 2001).
struct Kinematics {
    onset: usize,
    velocity: Vec<f64>,
    displacement: Vec<f64>,
    mass: f64,
}

impl Kinematics {
    fn v(&self, i: usize) -> f64 {
        self.velocity.get(i - self.onset).copied().unwrap_or(0.0)
    }
}

fn integrate(f: &[f64], rate: SampleRate, bw: f64, onset: usize, end: usize) -> Kinematics {
    let mass = bw / GRAVITY;
    let dt = rate.dt();
    let slice = f.get(onset..end).unwrap_or(&[]);
    let mut velocity = Vec::with_capacity(slice.len());
    let mut displacement = Vec::with_capacity(slice.len());
    let (mut v, mut s) = (0.0, 0.0);
    velocity.push(v);
    displacement.push(s);
    for pair in slice.windows(2) {
        let (f0, f1) = (pair[0], pair[1]);
        let v_next = v + 0.5 * ((f0 - bw) + (f1 - bw)) / mass * dt;
        s += 0.5 * (v + v_next) * dt;
        v = v_next;
        velocity.push(v);
        displacement.push(s);
    }
    Kinematics {
        onset,
        velocity,
        displacement,
        mass,
    }
}

/// Phase boundaries, absolute sample indices.
struct Phases {
    onset: usize,
    peak_negative_velocity: usize,
    zero_velocity: usize,
    takeoff: usize,
    landing: usize,
    landing_end: usize,
}

fn find_phases(
    kin: &Kinematics,
    onset: usize,
    takeoff: usize,
    landing: usize,
) -> Result<Phases, Flag> {
    let failed = |why: &'static str| Flag::new(FlagCode::PhaseDetectionFailed, why);
    let last = onset + kin.velocity.len().saturating_sub(1);
    if takeoff > last || landing > last {
        return Err(failed("the trial ends before the landing"));
    }
    let peak_negative_velocity = (onset..=takeoff)
        .min_by(|&a, &b| kin.v(a).total_cmp(&kin.v(b)))
        .unwrap_or(onset);
    if kin.v(peak_negative_velocity) >= 0.0 {
        return Err(failed(
            "no downward movement before take-off: not a countermovement jump",
        ));
    }
    let zero_velocity = (peak_negative_velocity..=takeoff)
        .find(|&i| kin.v(i) >= 0.0)
        .ok_or_else(|| failed("the centre of mass never stops moving down before take-off"))?;
    if zero_velocity >= takeoff || kin.v(takeoff) <= 0.0 {
        return Err(failed(
            "no propulsion phase: take-off velocity is not upward",
        ));
    }
    // McMahon et al. 2018: landing ends when velocity returns to zero; when
    // the recording stops first, the trial's end bounds it.
    let landing_end = (landing + 1..=last)
        .find(|&i| kin.v(i) >= 0.0)
        .unwrap_or(last);
    Ok(Phases {
        onset,
        peak_negative_velocity,
        zero_velocity,
        takeoff,
        landing,
        landing_end,
    })
}

fn compute_metrics(input: &CmjInput<'_>, w: &Weighing, kin: &Kinematics, p: &Phases) -> CmjMetrics {
    let f = input.total;
    let dt = input.rate.dt();
    let mass = kin.mass;
    let bw = w.mean;
    let takeoff_velocity = kin.v(p.takeoff);
    let flight_time = (p.landing - p.takeoff) as f64 * dt;
    let jump_height_impulse = takeoff_velocity * takeoff_velocity / (2.0 * GRAVITY);
    let jump_height_flight = GRAVITY * flight_time * flight_time / 8.0;

    let propulsion = p.zero_velocity..p.takeoff;
    let peak_propulsive_force = max_of(f, propulsion.clone());
    let mean_propulsive_force = mean_of(f, propulsion.clone());
    let powers: Vec<f64> = propulsion
        .clone()
        .map(|i| f.get(i).copied().unwrap_or(0.0) * kin.v(i))
        .collect();
    let peak_power = powers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean_power = powers.iter().sum::<f64>() / powers.len().max(1) as f64;

    let (peak_braking_force, braking_rfd) = braking_peak_and_rfd(f, p, dt);
    let depth = (p.onset..=p.takeoff)
        .filter_map(|i| kin.displacement.get(i - kin.onset))
        .copied()
        .fold(0.0_f64, f64::min);
    let time_to_takeoff = (p.takeoff - p.onset) as f64 * dt;
    let landing_peak = max_of(f, p.landing..p.landing_end + 1);

    CmjMetrics {
        body_mass_kg: mass,
        body_weight_n: bw,
        body_weight_sd_n: w.sd,
        jump_height_impulse_m: jump_height_impulse,
        jump_height_flight_m: jump_height_flight,
        takeoff_velocity_m_s: takeoff_velocity,
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
        concentric_impulse_n_s: net_impulse(f, bw, p.zero_velocity, p.takeoff, dt),
        eccentric_impulse_n_s: net_impulse(f, bw, p.peak_negative_velocity, p.zero_velocity, dt),
        unweighting_impulse_n_s: net_impulse(f, bw, p.onset, p.peak_negative_velocity, dt),
        countermovement_depth_m: -depth,
        unweighting_duration_s: (p.peak_negative_velocity - p.onset) as f64 * dt,
        braking_duration_s: (p.zero_velocity - p.peak_negative_velocity) as f64 * dt,
        propulsion_duration_s: (p.takeoff - p.zero_velocity) as f64 * dt,
        landing_duration_s: (p.landing_end - p.landing) as f64 * dt,
        time_to_takeoff_s: time_to_takeoff,
        rsi_modified: jump_height_impulse / time_to_takeoff,
        landing_peak_force_n: landing_peak,
        landing_peak_force_bw: landing_peak / bw,
        asymmetry: input.sides.map(|(l, r)| asymmetry(l, r, w, p, dt)),
    }
}

/// Peak braking force and braking RFD (Chavda et al. 2018): force change
/// from the start of braking to its peak, over the time between.
fn braking_peak_and_rfd(f: &[f64], p: &Phases, dt: f64) -> (f64, f64) {
    let start = p.peak_negative_velocity;
    let peak_index = (start..=p.zero_velocity)
        .max_by(|&a, &b| value(f, a).total_cmp(&value(f, b)).then(b.cmp(&a)))
        .unwrap_or(start);
    let peak = value(f, peak_index);
    let rfd = if peak_index > start {
        (peak - value(f, start)) / ((peak_index - start) as f64 * dt)
    } else {
        0.0
    };
    (peak, rfd)
}

fn asymmetry(left: &[f64], right: &[f64], w: &Weighing, p: &Phases, dt: f64) -> Asymmetry {
    let share = |side: &[f64]| mean_of(side, w.start..w.end);
    let (bw_l, bw_r) = (share(left), share(right));
    let propulsion = p.zero_velocity..p.takeoff;
    let braking = p.peak_negative_velocity..p.zero_velocity + 1;
    let landing = p.landing..p.landing_end + 1;
    let ai = |m: &dyn Fn(&[f64]) -> f64| asymmetry_index(m(left), m(right));
    Asymmetry {
        body_weight_pct: asymmetry_index(bw_l, bw_r),
        peak_propulsive_force_pct: ai(&|s| max_of(s, propulsion.clone())),
        mean_propulsive_force_pct: ai(&|s| mean_of(s, propulsion.clone())),
        peak_braking_force_pct: ai(&|s| max_of(s, braking.clone())),
        landing_peak_force_pct: ai(&|s| max_of(s, landing.clone())),
        propulsive_impulse_pct: asymmetry_index(
            net_impulse(left, bw_l, p.zero_velocity, p.takeoff, dt),
            net_impulse(right, bw_r, p.zero_velocity, p.takeoff, dt),
        ),
        braking_impulse_pct: asymmetry_index(
            net_impulse(left, bw_l, p.peak_negative_velocity, p.zero_velocity, dt),
            net_impulse(right, bw_r, p.peak_negative_velocity, p.zero_velocity, dt),
        ),
    }
}

/// ∫(F − baseline)dt from sample `a` to sample `b`, trapezoid rule.
fn net_impulse(f: &[f64], baseline: f64, a: usize, b: usize, dt: f64) -> f64 {
    let slice = f.get(a..=b).unwrap_or(&[]);
    slice
        .windows(2)
        .map(|p| 0.5 * ((p[0] - baseline) + (p[1] - baseline)) * dt)
        .sum()
}

fn value(f: &[f64], i: usize) -> f64 {
    f.get(i).copied().unwrap_or(0.0)
}

fn max_of(f: &[f64], range: std::ops::Range<usize>) -> f64 {
    let m = f
        .get(range)
        .unwrap_or(&[])
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if m.is_finite() { m } else { 0.0 }
}

fn mean_of(f: &[f64], range: std::ops::Range<usize>) -> f64 {
    let slice = f.get(range).unwrap_or(&[]);
    if slice.is_empty() {
        return 0.0;
    }
    slice.iter().sum::<f64>() / slice.len() as f64
}

/// Mean and sample SD (n − 1).
pub(crate) fn mean_sd(x: &[f64]) -> (f64, f64) {
    if x.is_empty() {
        return (0.0, 0.0);
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (mean, 0.0);
    }
    let ss: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (ss / (n - 1.0)).sqrt())
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

    #[test]
    fn net_impulse_is_trapezoid() {
        let f = [10.0, 20.0, 30.0];
        assert_eq!(
            net_impulse(&f, 10.0, 0, 2, 0.5),
            0.5 * (0.0 + 10.0) * 0.5 + 0.5 * (10.0 + 20.0) * 0.5
        );
    }
}
