//! Recordings of many events with known truth: reps with short or no
//! pauses, steps off and on, wobbles, squat jumps, drops, hops and pulls.
//!
//! Every movement is built so that its discrete trapezoid impulse (the
//! integration the analysis uses) gives exactly the velocities asked for:
//! the push of a jump is solved for the take-off velocity, each rebound
//! contact for the next take-off velocity, and the last landing for the
//! athlete to stand still at its end (velocity exactly zero), so that the
//! standing that follows is physically consistent and can weigh the
//! athlete. Flight and contact times are whole numbers of samples; the
//! truth reports them as such.
//!
//! ```
//! use mhp_biomech::synth::session::{CmjRep, Event, SessionSpec, session};
//!
//! let spec = SessionSpec {
//!     events: vec![
//!         Event::Quiet { seconds: 1.5 },
//!         Event::Cmj(CmjRep::for_height(0.30)),
//!         Event::Quiet { seconds: 0.4 },
//!         Event::Cmj(CmjRep::for_height(0.25)),
//!         Event::Quiet { seconds: 1.0 },
//!     ],
//!     ..SessionSpec::default()
//! };
//! let s = session(&spec)?;
//! assert_eq!(s.events.len(), 2);
//! # Ok::<(), mhp_biomech::synth::SynthError>(())
//! ```

use std::f64::consts::PI;

use super::{SplitMix64, SynthError, check, sin2, takeoff_velocity_for_height, trapezoid};
use crate::recording::{GRAVITY, Metadata, Plates, Recording, SampleRate, TrialKind};

/// A session to synthesise: who, how it is recorded, and what happens.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSpec {
    /// Body mass, kg (20..=250).
    pub body_mass_kg: f64,
    /// Sample rate, Hz (200..=10000).
    pub sample_rate_hz: f64,
    /// Noise SD as a fraction of body weight (0..=0.05).
    pub noise_fraction: f64,
    /// One plate, or two with the left plate's initial share of the force
    /// (0..=1; [`Event::Stance`] changes it).
    pub plates: PlateSetup,
    /// The athlete starts off the plate (on a box, for a drop), instead of
    /// standing on it.
    pub start_off_plate: bool,
    /// The `test` metadata to write, or `None` to let the analysis detect
    /// the kind.
    pub test: Option<TrialKind>,
    /// Seed of the noise generator.
    pub seed: u64,
    /// What happens, in order.
    pub events: Vec<Event>,
}

impl Default for SessionSpec {
    fn default() -> Self {
        Self {
            body_mass_kg: 80.0,
            sample_rate_hz: 1000.0,
            noise_fraction: 0.005,
            plates: PlateSetup::Dual { left_share: 0.5 },
            start_off_plate: false,
            test: None,
            seed: 1,
            events: Vec::new(),
        }
    }
}

impl SessionSpec {
    /// Two countermovement jumps (0.30 m, then 0.28 m) on one plate, with sway before each and
    /// short pauses: no steady second anywhere, so the recording alone cannot weigh the
    /// athlete (80 kg).
    pub fn jumps_without_a_steady_second() -> Self {
        let sway = || Event::Wobble {
            seconds: 1.6,
            amplitude_fraction: 0.15,
        };
        Self {
            test: Some(TrialKind::Cmj),
            plates: PlateSetup::Single,
            events: vec![
                sway(),
                Event::Quiet { seconds: 0.4 },
                Event::Cmj(CmjRep::for_height(0.3)),
                Event::Quiet { seconds: 0.4 },
                sway(),
                Event::Quiet { seconds: 0.4 },
                Event::Cmj(CmjRep::for_height(0.28)),
                Event::Quiet { seconds: 0.4 },
            ],
            ..Self::default()
        }
    }
}

/// How the force is recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlateSetup {
    /// One plate.
    Single,
    /// Two plates; the left one carries `left_share` of the force.
    Dual {
        /// The left plate's share, 0..=1.
        left_share: f64,
    },
}

/// One thing that happens in a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Standing still, s.
    Quiet {
        /// Duration, s.
        seconds: f64,
    },
    /// A countermovement jump (with rebounds, for a hop test).
    Cmj(CmjRep),
    /// A squat jump: descent into a squat, a hold, a push.
    SquatJump(SquatJumpRep),
    /// From off the plate (a box): a drop onto it, then rebounds (a drop
    /// jump) or none (a landing).
    Drop(DropRep),
    /// An isometric pull against a fixed bar.
    Pull(PullRep),
    /// Stepping off the plate, one foot then the other, and back on.
    StepOffOn {
        /// Time with nobody on the plate, s.
        off_seconds: f64,
    },
    /// Stepping off the plate and staying off.
    Off {
        /// Time off, s.
        seconds: f64,
    },
    /// Stepping back onto the plate.
    On,
    /// Swaying: force oscillating around body weight (0.8 s period, whole
    /// periods).
    Wobble {
        /// Duration, s.
        seconds: f64,
        /// Amplitude as a fraction of body weight.
        amplitude_fraction: f64,
    },
    /// A new split between the plates from here on (0 = all on the right
    /// plate, 1 = all on the left: a single-leg stance).
    Stance {
        /// The left plate's share.
        left_share: f64,
    },
}

/// A countermovement jump.
#[derive(Debug, Clone, PartialEq)]
pub struct CmjRep {
    /// Take-off velocity, m/s (0.5..=5).
    pub takeoff_velocity_m_s: f64,
    /// Depth of the unweighting dip as a fraction of body weight
    /// (0.2..=0.8): deeper dips are deeper countermovements.
    pub depth_fraction: f64,
    /// Time scale of the movement (0.6..=1.6; 1 is 0.35 s of unweighting
    /// and 0.55 s of braking and propulsion).
    pub tempo: f64,
    /// Contacts and flights after the first landing (a CMJ with rebound,
    /// or repeated hops); empty for a single jump.
    pub rebounds: Vec<Rebound>,
}

impl CmjRep {
    /// A plain jump reaching `height_m`.
    pub fn for_height(height_m: f64) -> Self {
        Self {
            takeoff_velocity_m_s: takeoff_velocity_for_height(height_m),
            depth_fraction: 0.45,
            tempo: 1.0,
            rebounds: Vec::new(),
        }
    }
}

/// One ground contact after a landing and the flight that follows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rebound {
    /// Ground contact time, s (0.08..=1).
    pub contact_s: f64,
    /// Take-off velocity of the next flight, m/s (0.3..=5).
    pub takeoff_velocity_m_s: f64,
}

/// A squat jump.
#[derive(Debug, Clone, PartialEq)]
pub struct SquatJumpRep {
    /// Take-off velocity, m/s.
    pub takeoff_velocity_m_s: f64,
    /// How long the squat is held before the push, s (0.2..=5).
    pub hold_s: f64,
    /// Depth of a dip just before the push (a countermovement, which a
    /// squat jump should not have) as a fraction of body weight; 0 for none.
    pub dip_fraction: f64,
}

/// A drop from a box onto the plate.
#[derive(Debug, Clone, PartialEq)]
pub struct DropRep {
    /// Drop height of the centre of mass, m (0.05..=1.5).
    pub drop_height_m: f64,
    /// Contact time of a landing without rebound (how long the landing
    /// takes to stop the fall), s; ignored with rebounds.
    pub landing_s: f64,
    /// Rebounds: one for a drop jump, none for a landing.
    pub rebounds: Vec<Rebound>,
}

/// An isometric pull.
#[derive(Debug, Clone, PartialEq)]
pub struct PullRep {
    /// Largest force above body weight, as a multiple of body weight
    /// (0.2..=6).
    pub peak_net_force_bw: f64,
    /// Time constant of the rise, s (0.02..=1).
    pub rise_time_constant_s: f64,
    /// Duration of the pull, s (0.5..=10).
    pub hold_s: f64,
}

/// A synthetic session and its truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSynthetic {
    /// The recording, as a parser would return it.
    pub recording: Recording,
    /// Total force before noise, N.
    pub clean_total: Vec<f64>,
    /// One entry per jump, drop or pull, in time order.
    pub events: Vec<EventTruth>,
}

/// What one jump, drop or pull truly was.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTruth {
    /// The test the event is.
    pub kind: TrialKind,
    /// First sample of the movement (the first that leaves body weight),
    /// of a drop's touchdown, or of a pull.
    pub start: usize,
    /// Flights in order (the first is the jump's, the others the
    /// rebounds').
    pub flights: Vec<FlightTruth>,
    /// Ground contacts between flights (and a drop's first contact).
    pub contacts: Vec<ContactTruth>,
    /// Body weight, N.
    pub body_weight_n: f64,
    /// The left plate's share of the force during the event (dual plates).
    pub left_share: Option<f64>,
    /// Largest force of the push (or pull) before noise, N.
    pub peak_force_n: f64,
    /// The last landing's first sample and the first sample after it at
    /// which the athlete stands still again.
    pub landing: Option<(usize, usize)>,
    /// A drop's velocity at its first loaded sample (negative: down), m/s.
    pub touchdown_velocity_m_s: Option<f64>,
    /// A squat jump pushed from a dip.
    pub countermovement: bool,
}

/// One flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlightTruth {
    /// First unloaded sample.
    pub takeoff: usize,
    /// First loaded sample after it.
    pub landing: usize,
    /// Velocity at take-off, m/s.
    pub takeoff_velocity_m_s: f64,
    /// v²/2g, m.
    pub height_m: f64,
    /// (landing − take-off) samples, s.
    pub flight_time_s: f64,
}

/// One ground contact between flights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContactTruth {
    /// First loaded sample.
    pub landing: usize,
    /// First unloaded sample after it.
    pub takeoff: usize,
    /// (take-off − landing) samples, s.
    pub contact_time_s: f64,
    /// Largest force of the contact before noise, N.
    pub peak_force_n: f64,
}

impl ContactTruth {
    /// Reactive strength index of this contact with the flight after it:
    /// g·t_f²/8 over contact time, m/s.
    pub fn rsi(&self, flight: &FlightTruth) -> f64 {
        GRAVITY * flight.flight_time_s * flight.flight_time_s / 8.0 / self.contact_time_s
    }
}

/// Synthesises a session.
pub fn session(spec: &SessionSpec) -> Result<SessionSynthetic, SynthError> {
    check(spec.body_mass_kg, 20.0, 250.0, "body_mass_kg", "20..=250")?;
    check(
        spec.sample_rate_hz,
        200.0,
        10_000.0,
        "sample_rate_hz",
        "200..=10000",
    )?;
    check(spec.noise_fraction, 0.0, 0.05, "noise_fraction", "0..=0.05")?;
    let rate = SampleRate::new(spec.sample_rate_hz).ok_or(SynthError::OutOfRange {
        field: "sample_rate_hz",
        range: "200..=10000",
    })?;
    let share = match spec.plates {
        PlateSetup::Single => None,
        PlateSetup::Dual { left_share } => {
            check(left_share, 0.0, 1.0, "left_share", "0..=1")?;
            Some(left_share)
        }
    };
    let mut t = Trace {
        force: Vec::new(),
        shares: Vec::new(),
        share: share.unwrap_or(0.5),
        rate,
        mass: spec.body_mass_kg,
        bw: spec.body_mass_kg * GRAVITY,
        on_plate: !spec.start_off_plate,
        truth: Vec::new(),
        dual: share.is_some(),
    };
    if spec.start_off_plate {
        t.push_n(0.0, rate.samples(0.5));
    }
    for event in &spec.events {
        t.event(event)?;
    }
    let mut rng = SplitMix64::new(spec.seed);
    let noise = spec.noise_fraction * t.bw;
    let plates = if share.is_some() {
        let side_sd = noise / std::f64::consts::SQRT_2;
        let mut left = Vec::with_capacity(t.force.len());
        let mut right = Vec::with_capacity(t.force.len());
        for (f, s) in t.force.iter().zip(&t.shares) {
            left.push(s * f + side_sd * rng.normal());
            right.push((1.0 - s) * f + side_sd * rng.normal());
        }
        Plates::Dual { left, right }
    } else {
        Plates::Single {
            fz: t.force.iter().map(|f| f + noise * rng.normal()).collect(),
        }
    };
    Ok(SessionSynthetic {
        recording: Recording {
            sample_rate: rate,
            plates,
            cop: None,
            timing: None,
            metadata: Metadata {
                test: spec.test,
                device: Some("mhp-synth".to_owned()),
                ..Metadata::default()
            },
        },
        clean_total: t.force,
        events: t.truth,
    })
}

/// The trace being built.
struct Trace {
    force: Vec<f64>,
    shares: Vec<f64>,
    share: f64,
    rate: SampleRate,
    mass: f64,
    bw: f64,
    on_plate: bool,
    truth: Vec<EventTruth>,
    dual: bool,
}

const UNWEIGHTING_S: f64 = 0.35;
const PUSH_S: f64 = 0.55;
const PUSH_END_S: f64 = 0.03;
const PUSH_END_FORCE_BW: f64 = 0.25;
const LANDING_S: f64 = 0.4;
const STEP_RAMP_S: f64 = 0.15;
const ONE_FOOT_S: f64 = 0.25;
const WOBBLE_PERIOD_S: f64 = 0.8;

fn out_of_range(field: &'static str, range: &'static str) -> SynthError {
    SynthError::OutOfRange { field, range }
}

impl Trace {
    fn push(&mut self, f: f64) {
        self.force.push(f);
        self.shares.push(self.share);
    }

    fn push_n(&mut self, f: f64, n: usize) {
        for _ in 0..n {
            self.push(f);
        }
    }

    fn dt(&self) -> f64 {
        self.rate.dt()
    }

    fn need(&self, on: bool, what: &'static str) -> Result<(), SynthError> {
        if self.on_plate == on {
            Ok(())
        } else if on {
            Err(out_of_range(what, "needs the athlete on the plate"))
        } else {
            Err(out_of_range(what, "needs the athlete off the plate"))
        }
    }

    fn event(&mut self, event: &Event) -> Result<(), SynthError> {
        match event {
            Event::Quiet { seconds } => {
                check(*seconds, 0.0, 600.0, "quiet seconds", "0..=600")?;
                self.need(true, "quiet")?;
                self.push_n(self.bw, self.rate.samples(*seconds));
            }
            Event::Cmj(rep) => self.cmj(rep)?,
            Event::SquatJump(rep) => self.squat_jump(rep)?,
            Event::Drop(rep) => self.drop(rep)?,
            Event::Pull(rep) => self.pull(rep)?,
            Event::StepOffOn { off_seconds } => {
                check(*off_seconds, 0.0, 600.0, "off_seconds", "0..=600")?;
                self.need(true, "step off")?;
                self.step(true);
                self.push_n(0.0, self.rate.samples(*off_seconds));
                self.step(false);
            }
            Event::Off { seconds } => {
                check(*seconds, 0.0, 600.0, "off seconds", "0..=600")?;
                self.need(true, "off")?;
                self.step(true);
                self.push_n(0.0, self.rate.samples(*seconds));
                self.on_plate = false;
            }
            Event::On => {
                self.need(false, "on")?;
                self.step(false);
                self.on_plate = true;
            }
            Event::Wobble {
                seconds,
                amplitude_fraction,
            } => {
                check(*seconds, 0.0, 60.0, "wobble seconds", "0..=60")?;
                check(
                    *amplitude_fraction,
                    0.0,
                    0.5,
                    "amplitude_fraction",
                    "0..=0.5",
                )?;
                self.need(true, "wobble")?;
                let period = self.rate.samples(WOBBLE_PERIOD_S).max(2);
                let n = (self.rate.samples(*seconds) / period) * period;
                for j in 0..n {
                    let phase = 2.0 * PI * j as f64 / period as f64;
                    self.push(self.bw * (1.0 + amplitude_fraction * phase.sin()));
                }
            }
            Event::Stance { left_share } => {
                check(*left_share, 0.0, 1.0, "left_share", "0..=1")?;
                self.share = *left_share;
            }
        }
        Ok(())
    }

    /// Stepping off (`off`) or on: one foot, then the other.
    fn step(&mut self, off: bool) {
        let ramp = self.rate.samples(STEP_RAMP_S).max(1);
        let hold = self.rate.samples(ONE_FOOT_S);
        let bw = self.bw;
        let level = |x: f64| if off { bw * (1.0 - x) } else { bw * x };
        for j in 0..ramp {
            self.push(level(0.5 * j as f64 / ramp as f64));
        }
        self.push_n(level(0.5), hold);
        for j in 0..ramp {
            self.push(level(0.5 + 0.5 * j as f64 / ramp as f64));
        }
        self.push(level(1.0));
    }

    /// Velocity change, m/s, over the trapezoid of `force` (from its first
    /// sample to its last).
    fn delta_v(&self, force: &[f64]) -> f64 {
        trapezoid(force.iter().map(|f| f - self.bw), self.dt()) / self.mass
    }

    /// Appends `base + d·hump` with `d` solved so that the velocity change
    /// over the trapezoid from `from` (a sample already in the trace) to the
    /// end of the appended samples is `dv`. Returns `d`.
    fn solved(
        &mut self,
        from: usize,
        base: &[f64],
        hump: &[f64],
        dv: f64,
    ) -> Result<f64, SynthError> {
        let head: Vec<f64> = self.force.get(from..).unwrap_or_default().to_vec();
        let with_base: Vec<f64> = head.iter().chain(base).copied().collect();
        let v0 = self.delta_v(&with_base);
        // The hump is zero over the head; only the appended samples count.
        let unit = trapezoid(
            std::iter::repeat_n(0.0, head.len()).chain(hump.iter().copied()),
            self.dt(),
        ) / self.mass;
        if unit.is_nan() || unit == 0.0 {
            return Err(out_of_range("synthetic movement", "too short to solve"));
        }
        let d = (dv - v0) / unit;
        if !d.is_finite() {
            return Err(out_of_range("synthetic movement", "not solvable"));
        }
        for (b, h) in base.iter().zip(hump) {
            self.push(b + d * h);
        }
        Ok(d)
    }

    /// A push from standing (or a held squat) solved for `v` at the first
    /// zero sample, which it appends; `pre` is appended first (the
    /// unweighting or dip). Returns (movement start, take-off, peak force).
    fn push_off(
        &mut self,
        pre: &[f64],
        push_s: f64,
        v: f64,
    ) -> Result<(usize, usize, f64), SynthError> {
        let start = self.force.len();
        for &f in pre {
            self.push(f);
        }
        let n_p = self.rate.samples(push_s).max(4);
        let n_e = self.rate.samples(PUSH_END_S).max(2);
        let mut base = Vec::with_capacity(n_p + n_e + 1);
        let mut hump = Vec::with_capacity(n_p + n_e + 1);
        for j in 0..n_p {
            base.push(self.bw);
            hump.push(sin2(j, n_p));
        }
        for j in 0..n_e {
            let fraction = j as f64 / (n_e - 1) as f64;
            base.push(self.bw * (1.0 - (1.0 - PUSH_END_FORCE_BW) * fraction));
            hump.push(0.0);
        }
        base.push(0.0);
        hump.push(0.0);
        // From the last standing sample, where velocity is zero.
        let from = start.saturating_sub(1);
        let d = self.solved(from, &base, &hump, v)?;
        if !(d > 0.0 && d < 6.0 * self.bw) {
            return Err(out_of_range(
                "takeoff_velocity_m_s",
                "reachable with a push below 7 body weights",
            ));
        }
        Ok((start, self.force.len() - 1, self.bw + d))
    }

    /// Flight zeros after the take-off sample already appended; returns
    /// the flight.
    fn flight(&mut self, takeoff: usize, v: f64) -> FlightTruth {
        let samples = self.rate.samples(2.0 * v / GRAVITY).max(2);
        self.push_n(0.0, samples - 1);
        let landing = self.force.len();
        FlightTruth {
            takeoff,
            landing,
            takeoff_velocity_m_s: v,
            height_m: v * v / (2.0 * GRAVITY),
            flight_time_s: (landing - takeoff) as f64 * self.dt(),
        }
    }

    /// A contact from `from` (a sample whose velocity is `v_from`) to a
    /// take-off at velocity `v_out`; appends the contact and the take-off
    /// sample.
    fn rebound(
        &mut self,
        from: usize,
        v_from: f64,
        r: &Rebound,
    ) -> Result<ContactTruth, SynthError> {
        check(r.contact_s, 0.08, 1.0, "contact_s", "0.08..=1")?;
        check(
            r.takeoff_velocity_m_s,
            0.3,
            5.0,
            "rebound takeoff_velocity_m_s",
            "0.3..=5",
        )?;
        let n = self.rate.samples(r.contact_s).max(4);
        let landing = self.force.len();
        let mut base = vec![self.bw; n];
        let mut hump: Vec<f64> = (0..n)
            .map(|j| {
                let s = (PI * (j as f64 + 0.5) / n as f64).sin();
                s * s
            })
            .collect();
        base.push(0.0);
        hump.push(0.0);
        let d = self.solved(from, &base, &hump, r.takeoff_velocity_m_s - v_from)?;
        if d.is_nan() || d <= 0.0 {
            return Err(out_of_range("contact_s", "too long for this rebound"));
        }
        let takeoff = self.force.len() - 1;
        let peak = self
            .force
            .get(landing..takeoff)
            .unwrap_or_default()
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        Ok(ContactTruth {
            landing,
            takeoff,
            contact_time_s: (takeoff - landing) as f64 * self.dt(),
            peak_force_n: peak,
        })
    }

    /// A landing hump from `from` (velocity `v_from`, negative) that stops
    /// the athlete at its end; returns (landing, first still sample).
    fn land(
        &mut self,
        from: usize,
        v_from: f64,
        seconds: f64,
    ) -> Result<(usize, usize), SynthError> {
        let landing = self.force.len();
        let n = self.rate.samples(seconds).max(4);
        let base = vec![self.bw; n + 1];
        let mut hump: Vec<f64> = (0..n).map(|j| sin2(j, n)).collect();
        hump.push(0.0);
        self.solved(from, &base, &hump, -v_from)?;
        Ok((landing, self.force.len() - 1))
    }

    /// Flights and rebounds after a take-off, then the last landing.
    fn flights_and_landing(
        &mut self,
        takeoff: usize,
        v: f64,
        rebounds: &[Rebound],
        truth: &mut EventTruth,
    ) -> Result<(), SynthError> {
        let mut flight = self.flight(takeoff, v);
        truth.flights.push(flight);
        for r in rebounds {
            // The velocity at the take-off sample is `v`: integrate from it.
            let contact = self.rebound(flight.takeoff, flight.takeoff_velocity_m_s, r)?;
            truth.contacts.push(contact);
            flight = self.flight(contact.takeoff, r.takeoff_velocity_m_s);
            truth.flights.push(flight);
        }
        truth.landing = Some(self.land(flight.takeoff, flight.takeoff_velocity_m_s, LANDING_S)?);
        Ok(())
    }

    fn new_truth(&self, kind: TrialKind, start: usize) -> EventTruth {
        EventTruth {
            kind,
            start,
            flights: Vec::new(),
            contacts: Vec::new(),
            body_weight_n: self.bw,
            left_share: self.dual.then_some(self.share),
            peak_force_n: 0.0,
            landing: None,
            touchdown_velocity_m_s: None,
            countermovement: false,
        }
    }

    fn cmj(&mut self, rep: &CmjRep) -> Result<(), SynthError> {
        self.need(true, "cmj")?;
        check(
            rep.takeoff_velocity_m_s,
            0.5,
            5.0,
            "takeoff_velocity_m_s",
            "0.5..=5",
        )?;
        check(rep.depth_fraction, 0.2, 0.8, "depth_fraction", "0.2..=0.8")?;
        check(rep.tempo, 0.6, 1.6, "tempo", "0.6..=1.6")?;
        let n_u = self.rate.samples(UNWEIGHTING_S * rep.tempo).max(4);
        let pre: Vec<f64> = (0..n_u)
            .map(|j| self.bw - rep.depth_fraction * self.bw * sin2(j, n_u))
            .collect();
        let (start, takeoff, peak) =
            self.push_off(&pre, PUSH_S * rep.tempo, rep.takeoff_velocity_m_s)?;
        let kind = if rep.rebounds.is_empty() {
            TrialKind::Cmj
        } else {
            TrialKind::RepeatedHops
        };
        let mut truth = self.new_truth(kind, start);
        truth.peak_force_n = peak;
        self.flights_and_landing(takeoff, rep.takeoff_velocity_m_s, &rep.rebounds, &mut truth)?;
        self.truth.push(truth);
        Ok(())
    }

    fn squat_jump(&mut self, rep: &SquatJumpRep) -> Result<(), SynthError> {
        self.need(true, "squat jump")?;
        check(
            rep.takeoff_velocity_m_s,
            0.5,
            5.0,
            "takeoff_velocity_m_s",
            "0.5..=5",
        )?;
        check(rep.hold_s, 0.2, 5.0, "hold_s", "0.2..=5")?;
        check(rep.dip_fraction, 0.0, 0.6, "dip_fraction", "0..=0.6")?;
        // Descent into the squat: one sine period below then above body
        // weight, no net impulse, so the athlete is still in the hold.
        let n_d = self.rate.samples(0.8).max(4);
        for j in 0..n_d {
            let phase = 2.0 * PI * j as f64 / n_d as f64;
            self.push(self.bw * (1.0 - 0.3 * phase.sin()));
        }
        self.push_n(self.bw, self.rate.samples(rep.hold_s));
        let n_dip = self.rate.samples(0.15).max(4);
        let pre: Vec<f64> = if rep.dip_fraction > 0.0 {
            (0..n_dip)
                .map(|j| self.bw * (1.0 - rep.dip_fraction * sin2(j, n_dip)))
                .collect()
        } else {
            Vec::new()
        };
        let (start, takeoff, peak) = self.push_off(&pre, 0.45, rep.takeoff_velocity_m_s)?;
        let mut truth = self.new_truth(TrialKind::SquatJump, start);
        truth.peak_force_n = peak;
        truth.countermovement = rep.dip_fraction > 0.0;
        self.flights_and_landing(takeoff, rep.takeoff_velocity_m_s, &[], &mut truth)?;
        self.truth.push(truth);
        Ok(())
    }

    fn drop(&mut self, rep: &DropRep) -> Result<(), SynthError> {
        self.need(false, "drop")?;
        check(rep.drop_height_m, 0.05, 1.5, "drop_height_m", "0.05..=1.5")?;
        check(rep.landing_s, 0.2, 3.0, "landing_s", "0.2..=3")?;
        // Falling at the last unloaded sample.
        let v_in = -(2.0 * GRAVITY * rep.drop_height_m).sqrt();
        let from = self.force.len().saturating_sub(1);
        let start = self.force.len();
        let kind = if rep.rebounds.is_empty() {
            TrialKind::Landing
        } else {
            TrialKind::DropJump
        };
        let mut truth = self.new_truth(kind, start);
        self.on_plate = true;
        match rep.rebounds.split_first() {
            None => {
                truth.landing = Some(self.stick_landing(from, v_in, rep.landing_s)?);
            }
            Some((first, rest)) => {
                let contact = self.rebound(from, v_in, first)?;
                truth.contacts.push(contact);
                truth.peak_force_n = contact.peak_force_n;
                self.flights_and_landing(
                    contact.takeoff,
                    first.takeoff_velocity_m_s,
                    rest,
                    &mut truth,
                )?;
            }
        }
        // The velocity at the first loaded sample, by the same trapezoid.
        let head = [0.0, self.force.get(start).copied().unwrap_or(self.bw)];
        truth.touchdown_velocity_m_s = Some(v_in + self.delta_v(&head));
        self.truth.push(truth);
        Ok(())
    }

    /// A landing without rebound: an impact hump then a damped oscillation
    /// around body weight, solved to stop the fall; returns (landing, first
    /// still sample).
    fn stick_landing(
        &mut self,
        from: usize,
        v_in: f64,
        seconds: f64,
    ) -> Result<(usize, usize), SynthError> {
        let landing = self.force.len();
        let n = self.rate.samples(seconds).max(8);
        let n_imp = self.rate.samples(0.08).max(3);
        let dt = self.dt();
        let base: Vec<f64> = (0..=n)
            .map(|j| {
                if j == n {
                    return self.bw;
                }
                let t = j as f64 * dt;
                let ring = 0.15 * self.bw * (-t / 0.15).exp() * (2.0 * PI * t / 0.25).sin();
                // Fade the ring to nothing at the end so velocity stays zero.
                let fade = 1.0 - (j as f64 / n as f64).powi(8);
                self.bw + ring * fade
            })
            .collect();
        let hump: Vec<f64> = (0..=n)
            .map(|j| if j < n_imp { sin2(j, n_imp) } else { 0.0 })
            .collect();
        let d = self.solved(from, &base, &hump, -v_in)?;
        if d.is_nan() || d <= 0.0 {
            return Err(out_of_range("drop_height_m", "too small to land"));
        }
        Ok((landing, self.force.len() - 1))
    }

    fn pull(&mut self, rep: &PullRep) -> Result<(), SynthError> {
        self.need(true, "pull")?;
        check(
            rep.peak_net_force_bw,
            0.2,
            6.0,
            "peak_net_force_bw",
            "0.2..=6",
        )?;
        check(
            rep.rise_time_constant_s,
            0.02,
            1.0,
            "rise_time_constant_s",
            "0.02..=1",
        )?;
        check(rep.hold_s, 0.5, 10.0, "hold_s", "0.5..=10")?;
        let start = self.force.len();
        let a = rep.peak_net_force_bw * self.bw;
        let n = self.rate.samples(rep.hold_s);
        let dt = self.dt();
        let mut peak = self.bw;
        for j in 0..n {
            let f = self.bw + a * (1.0 - (-(j as f64) * dt / rep.rise_time_constant_s).exp());
            peak = peak.max(f);
            self.push(f);
        }
        let n_r = self.rate.samples(0.3).max(2);
        for j in 1..=n_r {
            self.push(peak + (self.bw - peak) * j as f64 / n_r as f64);
        }
        let mut truth = self.new_truth(TrialKind::Imtp, start);
        truth.peak_force_n = peak;
        self.truth.push(truth);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trapezoid velocity from a still start: `v[k]` at sample `k`.
    fn velocity(force: &[f64], bw: f64, mass: f64, dt: f64, from: usize) -> Vec<f64> {
        let mut v = vec![0.0; force.len()];
        for k in from + 1..force.len() {
            v[k] = v[k - 1] + 0.5 * ((force[k - 1] - bw) + (force[k] - bw)) / mass * dt;
        }
        v
    }

    #[test]
    fn reps_take_off_at_their_velocity_and_stand_still_after() {
        let spec = SessionSpec {
            noise_fraction: 0.0,
            events: vec![
                Event::Quiet { seconds: 1.0 },
                Event::Cmj(CmjRep {
                    rebounds: vec![Rebound {
                        contact_s: 0.2,
                        takeoff_velocity_m_s: 1.5,
                    }],
                    ..CmjRep::for_height(0.3)
                }),
                Event::Cmj(CmjRep {
                    depth_fraction: 0.7,
                    tempo: 0.7,
                    ..CmjRep::for_height(0.2)
                }),
                Event::Quiet { seconds: 0.5 },
            ],
            ..SessionSpec::default()
        };
        let s = session(&spec).unwrap();
        let bw = 80.0 * GRAVITY;
        let v = velocity(&s.clean_total, bw, 80.0, 0.001, 0);
        let first = &s.events[0];
        assert!((v[first.flights[0].takeoff] - takeoff_velocity_for_height(0.3)).abs() < 1e-9);
        assert!((v[first.flights[1].takeoff] - 1.5).abs() < 1e-9);
        let (_, still) = first.landing.unwrap();
        assert!(v[still].abs() < 1e-9, "{}", v[still]);
        let second = &s.events[1];
        assert!((v[second.flights[0].takeoff] - takeoff_velocity_for_height(0.2)).abs() < 1e-9);
        assert!(v.last().unwrap().abs() < 1e-9);
        assert_eq!(first.contacts[0].contact_time_s, 0.2);
    }

    #[test]
    fn a_drop_lands_with_its_velocity() {
        let spec = SessionSpec {
            noise_fraction: 0.0,
            start_off_plate: true,
            events: vec![
                Event::Drop(DropRep {
                    drop_height_m: 0.4,
                    landing_s: 1.0,
                    rebounds: vec![Rebound {
                        contact_s: 0.25,
                        takeoff_velocity_m_s: 2.0,
                    }],
                }),
                Event::Quiet { seconds: 1.5 },
            ],
            ..SessionSpec::default()
        };
        let s = session(&spec).unwrap();
        let d = &s.events[0];
        // Backwards from standing still at the end.
        let f = &s.clean_total;
        let bw = 80.0 * GRAVITY;
        let mut v = 0.0;
        for k in (d.start..f.len() - 1).rev() {
            v -= 0.5 * ((f[k] - bw) + (f[k + 1] - bw)) / 80.0 * 0.001;
        }
        let td = d.touchdown_velocity_m_s.unwrap();
        assert!((v - td).abs() < 1e-9, "{v} {td}");
        assert!((td + (2.0 * GRAVITY * 0.4_f64).sqrt()).abs() < 0.01);
    }
}
