//! Physics-based synthetic force-plate recordings with known truth.
//!
//! [`cmj`] and [`balance`] make the classic single-test recordings;
//! [`session::session`] composes many events (reps with short or no pauses,
//! steps off and on, wobbles, squat jumps, drops, hops, pulls) into one.
//!
//! Deterministic for a seed (its own SplitMix64 generator and Box-Muller
//! normals, no external randomness), so tests, demos and benchmarks can
//! rebuild the same signal anywhere.
//!
//! A jump is built from body mass `m` and the wanted take-off velocity `v`:
//!
//! | phase | force | length |
//! | --- | --- | --- |
//! | quiet standing | BW | 2 s |
//! | unweighting | BW − D_u·sin²(πj/N_u), D_u = 0.45·BW | 0.35 s |
//! | braking + propulsion | BW + D_p·sin²(πj/N_p) | 0.55 s |
//! | end of push | BW falling linearly to 0.25·BW | 30 ms |
//! | flight | 0 | round(2v/g · fs) samples |
//! | landing | BW + D_l·sin²(πj/N_l), D_l = 2.1·m·v / 0.4 s | 0.4 s |
//! | quiet standing | BW | 2 s |
//!
//! Force is linear in D_p, so D_p is solved exactly for the discrete
//! trapezoid impulse from movement start to the take-off sample (the first
//! zero-force sample) to equal m·v: under the same integration the analysis
//! uses, the take-off velocity is exactly `v`, the true height is v²/2g,
//! and the true flight time is 2v/g. The last push sample stays at a
//! quarter of body weight so that no threshold between 0 and 25 % of body
//! weight can move the take-off sample. Noise (Gaussian, SD a fraction of
//! body weight) is added afterwards, split evenly between plates.

pub mod session;

use std::f64::consts::PI;

use crate::recording::{
    CentreOfPressure, GRAVITY, Metadata, Plates, Recording, SampleRate, TrialKind,
};

/// Quiet standing before each jump, s.
pub const QUIET_BEFORE_S: f64 = 2.0;
/// Quiet standing after each landing, s.
pub const QUIET_AFTER_S: f64 = 2.0;
const UNWEIGHTING_S: f64 = 0.35;
const UNWEIGHTING_DEPTH_BW: f64 = 0.45;
const PUSH_S: f64 = 0.55;
const PUSH_END_S: f64 = 0.03;
const PUSH_END_FORCE_BW: f64 = 0.25;
const LANDING_S: f64 = 0.4;
const LANDING_IMPULSE_MARGIN: f64 = 1.05;

/// Why a specification cannot be synthesised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SynthError {
    /// A parameter is out of its range.
    #[error("synthetic {field} is out of range ({range})")]
    OutOfRange {
        /// The parameter.
        field: &'static str,
        /// Its accepted range.
        range: &'static str,
    },
}

/// A countermovement-jump recording to synthesise.
#[derive(Debug, Clone, PartialEq)]
pub struct CmjSpec {
    /// Body mass, kg (20..=250).
    pub body_mass_kg: f64,
    /// Take-off velocity, m/s (0.5..=5).
    pub takeoff_velocity_m_s: f64,
    /// Sample rate, Hz (200..=10000).
    pub sample_rate_hz: f64,
    /// Noise SD as a fraction of body weight (0..=0.05).
    pub noise_fraction: f64,
    /// Left plate's share of the force for a dual plate (0.2..=0.8), or
    /// `None` for a single plate.
    pub left_share: Option<f64>,
    /// Number of jumps (1..=50).
    pub jumps: usize,
    /// Seed of the noise generator.
    pub seed: u64,
}

impl Default for CmjSpec {
    fn default() -> Self {
        Self {
            body_mass_kg: 80.0,
            takeoff_velocity_m_s: takeoff_velocity_for_height(0.35),
            sample_rate_hz: 1000.0,
            noise_fraction: 0.005,
            left_share: Some(0.5),
            jumps: 1,
            seed: 1,
        }
    }
}

/// The true values of one synthetic jump.
#[derive(Debug, Clone, PartialEq)]
pub struct JumpTruth {
    /// First sample of movement (force leaves body weight after it).
    pub movement_start: usize,
    /// First sample of zero force.
    pub takeoff: usize,
    /// First loaded sample after flight.
    pub landing: usize,
    /// Take-off velocity, m/s.
    pub takeoff_velocity_m_s: f64,
    /// v²/2g, m.
    pub jump_height_m: f64,
    /// 2v/g, s.
    pub flight_time_s: f64,
    /// Body weight, N.
    pub body_weight_n: f64,
    /// Peak propulsive force before noise, N.
    pub peak_force_n: f64,
    /// Expected left/right asymmetry index, % (dual plates).
    pub asymmetry_pct: Option<f64>,
}

/// A synthetic recording and its truth.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    /// The recording, as a parser would return it.
    pub recording: Recording,
    /// One entry per jump.
    pub truth: Vec<JumpTruth>,
}

/// √(2gh): the take-off velocity that reaches height `h`.
pub fn takeoff_velocity_for_height(height_m: f64) -> f64 {
    (2.0 * GRAVITY * height_m).sqrt()
}

/// The left share of force that gives a signed asymmetry index of `pct`
/// (positive: left larger), inverting (L − R)/max(L, R) × 100 with L + R = 1.
pub fn left_share_for_asymmetry(pct: f64) -> f64 {
    let a = pct / 100.0;
    if a >= 0.0 {
        1.0 / (2.0 - a)
    } else {
        (1.0 + a) / (2.0 + a)
    }
}

/// The signed asymmetry index a left share produces, %.
pub fn asymmetry_for_left_share(share: f64) -> f64 {
    crate::cmj::asymmetry_index(share, 1.0 - share)
}

/// Synthesises a countermovement-jump recording.
pub fn cmj(spec: &CmjSpec) -> Result<Synthetic, SynthError> {
    check(spec.body_mass_kg, 20.0, 250.0, "body_mass_kg", "20..=250")?;
    check(
        spec.takeoff_velocity_m_s,
        0.5,
        5.0,
        "takeoff_velocity_m_s",
        "0.5..=5",
    )?;
    check(
        spec.sample_rate_hz,
        200.0,
        10_000.0,
        "sample_rate_hz",
        "200..=10000",
    )?;
    check(spec.noise_fraction, 0.0, 0.05, "noise_fraction", "0..=0.05")?;
    if let Some(share) = spec.left_share {
        check(share, 0.2, 0.8, "left_share", "0.2..=0.8")?;
    }
    if !(1..=50).contains(&spec.jumps) {
        return Err(SynthError::OutOfRange {
            field: "jumps",
            range: "1..=50",
        });
    }
    let rate = SampleRate::new(spec.sample_rate_hz).ok_or(SynthError::OutOfRange {
        field: "sample_rate_hz",
        range: "200..=10000",
    })?;
    let bw = spec.body_mass_kg * GRAVITY;
    let mut force = Vec::new();
    let mut truth = Vec::with_capacity(spec.jumps);
    for _ in 0..spec.jumps {
        truth.push(append_jump(&mut force, spec, rate, bw)?);
    }
    let mut rng = SplitMix64::new(spec.seed);
    let plates = split_plates(&force, spec.left_share, spec.noise_fraction * bw, &mut rng);
    let asymmetry = spec.left_share.map(asymmetry_for_left_share);
    for t in &mut truth {
        t.asymmetry_pct = asymmetry;
    }
    Ok(Synthetic {
        recording: Recording {
            sample_rate: rate,
            plates,
            cop: None,
            timing: None,
            metadata: Metadata {
                test: Some(TrialKind::Cmj),
                device: Some("mhp-synth".to_owned()),
                ..Metadata::default()
            },
        },
        truth,
    })
}

/// A balance or plank recording to synthesise.
#[derive(Debug, Clone, PartialEq)]
pub struct BalanceSpec {
    /// Body mass, kg (or load on the plate for a plank).
    pub body_mass_kg: f64,
    /// Sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Duration, s.
    pub duration_s: f64,
    /// Stationary SD of medial-lateral CoP, m.
    pub sway_sd_ml_m: f64,
    /// Stationary SD of anterior-posterior CoP, m.
    pub sway_sd_ap_m: f64,
    /// Time constant of sway, s (CoP is a first-order autoregressive process).
    pub sway_time_constant_s: f64,
    /// Force noise SD as a fraction of body weight.
    pub noise_fraction: f64,
    /// `Balance` or `Plank`.
    pub kind: TrialKind,
    /// Seed.
    pub seed: u64,
}

impl Default for BalanceSpec {
    fn default() -> Self {
        Self {
            body_mass_kg: 70.0,
            sample_rate_hz: 100.0,
            duration_s: 30.0,
            sway_sd_ml_m: 0.004,
            sway_sd_ap_m: 0.006,
            sway_time_constant_s: 0.5,
            noise_fraction: 0.005,
            kind: TrialKind::Balance,
            seed: 1,
        }
    }
}

/// Synthesises a balance or plank recording on a single plate.
pub fn balance(spec: &BalanceSpec) -> Result<Recording, SynthError> {
    check(spec.body_mass_kg, 5.0, 250.0, "body_mass_kg", "5..=250")?;
    check(spec.duration_s, 1.0, 600.0, "duration_s", "1..=600")?;
    check(spec.sway_sd_ml_m, 0.0, 0.2, "sway_sd_ml_m", "0..=0.2")?;
    check(spec.sway_sd_ap_m, 0.0, 0.2, "sway_sd_ap_m", "0..=0.2")?;
    check(
        spec.sway_time_constant_s,
        0.01,
        10.0,
        "sway_time_constant_s",
        "0.01..=10",
    )?;
    check(spec.noise_fraction, 0.0, 0.05, "noise_fraction", "0..=0.05")?;
    let rate = SampleRate::new(spec.sample_rate_hz).ok_or(SynthError::OutOfRange {
        field: "sample_rate_hz",
        range: "50..=100000",
    })?;
    let n = rate.samples(spec.duration_s);
    let bw = spec.body_mass_kg * GRAVITY;
    let mut rng = SplitMix64::new(spec.seed);
    let phi = (-rate.dt() / spec.sway_time_constant_s).exp();
    let innovation = (1.0 - phi * phi).sqrt();
    let (mut x, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut cx, mut cy) = (
        rng.normal() * spec.sway_sd_ml_m,
        rng.normal() * spec.sway_sd_ap_m,
    );
    let mut fz = Vec::with_capacity(n);
    for _ in 0..n {
        x.push(cx);
        y.push(cy);
        fz.push(bw + rng.normal() * spec.noise_fraction * bw);
        cx = phi * cx + innovation * spec.sway_sd_ml_m * rng.normal();
        cy = phi * cy + innovation * spec.sway_sd_ap_m * rng.normal();
    }
    Ok(Recording {
        sample_rate: rate,
        plates: Plates::Single { fz },
        cop: Some(CentreOfPressure { x, y }),
        timing: None,
        metadata: Metadata {
            test: Some(spec.kind),
            device: Some("mhp-synth".to_owned()),
            ..Metadata::default()
        },
    })
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, well-mixed 64-bit
/// generator; plenty for noise, and the same on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
    spare: Option<f64>,
}

impl SplitMix64 {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so its logarithm is finite.
    pub fn next_f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal, Box-Muller (both values of a pair are used).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let r = (-2.0 * self.next_f64().ln()).sqrt();
        let theta = 2.0 * PI * self.next_f64();
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }
}

fn check(
    value: f64,
    lo: f64,
    hi: f64,
    field: &'static str,
    range: &'static str,
) -> Result<(), SynthError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(SynthError::OutOfRange { field, range })
    }
}

/// Appends quiet standing, one jump and quiet standing to `force`.
fn append_jump(
    force: &mut Vec<f64>,
    spec: &CmjSpec,
    rate: SampleRate,
    bw: f64,
) -> Result<JumpTruth, SynthError> {
    let m = spec.body_mass_kg;
    let v = spec.takeoff_velocity_m_s;
    let dt = rate.dt();
    force.extend(std::iter::repeat_n(bw, rate.samples(QUIET_BEFORE_S)));
    let movement_start = force.len();

    // Everything but the braking/propulsion hump, which is added below
    // once its amplitude is solved.
    let n_u = rate.samples(UNWEIGHTING_S);
    let n_p = rate.samples(PUSH_S);
    let n_e = rate.samples(PUSH_END_S).max(2);
    let mut base = Vec::with_capacity(n_u + n_p + n_e + 1);
    let mut hump = Vec::with_capacity(base.capacity());
    for j in 0..n_u {
        base.push(bw - UNWEIGHTING_DEPTH_BW * bw * sin2(j, n_u));
        hump.push(0.0);
    }
    for j in 0..n_p {
        base.push(bw);
        hump.push(sin2(j, n_p));
    }
    for j in 0..n_e {
        let fraction = j as f64 / (n_e - 1) as f64;
        base.push(bw * (1.0 - (1.0 - PUSH_END_FORCE_BW) * fraction));
        hump.push(0.0);
    }
    base.push(0.0); // the take-off sample
    hump.push(0.0);

    // Net impulse is J0 + D_p·JS under the trapezoid rule; solve for m·v.
    let j0 = trapezoid(base.iter().map(|f| f - bw), dt);
    let js = trapezoid(hump.iter().copied(), dt);
    let d_p = (m * v - j0) / js;
    if !(d_p > 0.0 && d_p < 6.0 * bw) {
        return Err(SynthError::OutOfRange {
            field: "takeoff_velocity_m_s",
            range: "reachable with a push below 7 body weights",
        });
    }
    let peak_force_n = bw + d_p;
    force.extend(base.iter().zip(&hump).map(|(b, h)| b + d_p * h));
    let takeoff = force.len() - 1;

    let flight_samples = rate.samples(2.0 * v / GRAVITY);
    force.extend(std::iter::repeat_n(0.0, flight_samples.saturating_sub(1)));
    let landing = force.len();
    let n_l = rate.samples(LANDING_S);
    let d_l = LANDING_IMPULSE_MARGIN * 2.0 * m * v / LANDING_S;
    force.extend((0..n_l).map(|j| bw + d_l * sin2(j, n_l)));
    force.extend(std::iter::repeat_n(bw, rate.samples(QUIET_AFTER_S)));
    Ok(JumpTruth {
        movement_start,
        takeoff,
        landing,
        takeoff_velocity_m_s: v,
        jump_height_m: v * v / (2.0 * GRAVITY),
        flight_time_s: 2.0 * v / GRAVITY,
        body_weight_n: bw,
        peak_force_n,
        asymmetry_pct: None,
    })
}

/// sin²(π j / n).
fn sin2(j: usize, n: usize) -> f64 {
    let s = (PI * j as f64 / n as f64).sin();
    s * s
}

/// Trapezoid integral of equally spaced samples.
fn trapezoid(values: impl Iterator<Item = f64>, dt: f64) -> f64 {
    let mut sum = 0.0;
    let mut prev: Option<f64> = None;
    for v in values {
        if let Some(p) = prev {
            sum += 0.5 * (p + v) * dt;
        }
        prev = Some(v);
    }
    sum
}

/// Splits total force between plates and adds noise.
fn split_plates(
    force: &[f64],
    left_share: Option<f64>,
    noise_sd: f64,
    rng: &mut SplitMix64,
) -> Plates {
    match left_share {
        None => Plates::Single {
            fz: force.iter().map(|f| f + noise_sd * rng.normal()).collect(),
        },
        Some(share) => {
            let side_sd = noise_sd / std::f64::consts::SQRT_2;
            let mut left = Vec::with_capacity(force.len());
            let mut right = Vec::with_capacity(force.len());
            for f in force {
                left.push(share * f + side_sd * rng.normal());
                right.push((1.0 - share) * f + side_sd * rng.normal());
            }
            Plates::Dual { left, right }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_signal() {
        let spec = CmjSpec::default();
        assert_eq!(cmj(&spec).unwrap(), cmj(&spec).unwrap());
        let other = CmjSpec {
            seed: 2,
            ..spec.clone()
        };
        assert_ne!(
            cmj(&spec).unwrap().recording,
            cmj(&other).unwrap().recording
        );
    }

    #[test]
    fn discrete_impulse_gives_exact_takeoff_velocity() {
        let spec = CmjSpec {
            noise_fraction: 0.0,
            left_share: None,
            ..CmjSpec::default()
        };
        let s = cmj(&spec).unwrap();
        let t = &s.truth[0];
        let f = s.recording.plates.total();
        let m = spec.body_mass_kg;
        let dt = s.recording.sample_rate.dt();
        let v = trapezoid(
            f[t.movement_start - 10..=t.takeoff]
                .iter()
                .map(|x| x - t.body_weight_n),
            dt,
        ) / m;
        assert!((v - spec.takeoff_velocity_m_s).abs() < 1e-9, "{v}");
        assert!(f[t.takeoff - 1] >= 0.25 * t.body_weight_n - 1e-9);
    }

    #[test]
    fn asymmetry_share_round_trip() {
        for pct in [-20.0, -5.0, 0.0, 7.5, 20.0] {
            let share = left_share_for_asymmetry(pct);
            assert!((asymmetry_for_left_share(share) - pct).abs() < 1e-9);
        }
    }

    #[test]
    fn normals_look_normal() {
        let mut rng = SplitMix64::new(42);
        let xs: Vec<f64> = (0..20_000).map(|_| rng.normal()).collect();
        let (mean, sd) = crate::signal::mean_sd(&xs);
        assert!(mean.abs() < 0.03 && (sd - 1.0).abs() < 0.03, "{mean} {sd}");
    }
}
