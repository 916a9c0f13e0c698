//! A parsed force-plate recording: the signal in SI units plus its metadata.

use std::fmt;

/// Standard gravity, m/s² (CGPM 1901). Used for body mass, acceleration and
/// every jump-height formula, so synthetic truth and analysis agree.
pub const GRAVITY: f64 = 9.806_65;

/// Newtons per kilogram-force (by definition, standard gravity).
pub const NEWTONS_PER_KGF: f64 = GRAVITY;

/// Newtons per pound-force (0.453 592 37 kg × standard gravity).
pub const NEWTONS_PER_LBF: f64 = 4.448_221_615_260_5;

/// Highest sample rate accepted, Hz. Force plates sample at 50 Hz to 10 kHz;
/// anything far above is a typo (ms read as s) rather than a plate.
pub const MAX_SAMPLE_RATE_HZ: f64 = 100_000.0;

/// Lowest sample rate accepted, Hz. Below this, flight time and impulse
/// cannot be resolved.
pub const MIN_SAMPLE_RATE_HZ: f64 = 50.0;

/// A sample rate in hertz, validated to be finite and within
/// [`MIN_SAMPLE_RATE_HZ`, `MAX_SAMPLE_RATE_HZ`].
///
/// A newtype so that a rate is never confused with a period, and never zero.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct SampleRate(f64);

impl SampleRate {
    /// Validates a rate in hertz; `None` when it is not finite or out of range.
    pub fn new(hz: f64) -> Option<Self> {
        if hz.is_finite() && (MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&hz) {
            Some(Self(hz))
        } else {
            None
        }
    }

    /// The rate in hertz.
    pub fn hz(self) -> f64 {
        self.0
    }

    /// The sample period in seconds.
    pub fn dt(self) -> f64 {
        1.0 / self.0
    }

    /// Number of whole samples in `seconds` (rounded to nearest).
    pub fn samples(self, seconds: f64) -> usize {
        // Callers pass small positive durations; negative or NaN become 0.
        let n = (seconds * self.0).round();
        if n.is_finite() && n > 0.0 {
            n as usize
        } else {
            0
        }
    }
}

/// Force unit a file declares. Everything is converted to newtons on parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForceUnit {
    /// Newtons (the default).
    Newton,
    /// Kilogram-force.
    KilogramForce,
    /// Pound-force.
    PoundForce,
}

impl ForceUnit {
    /// Newtons per one of this unit.
    pub fn to_newtons(self) -> f64 {
        match self {
            ForceUnit::Newton => 1.0,
            ForceUnit::KilogramForce => NEWTONS_PER_KGF,
            ForceUnit::PoundForce => NEWTONS_PER_LBF,
        }
    }

    /// Parses `N`, `kgf` or `lbf` (case-insensitive, a few common spellings).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "n" | "newton" | "newtons" => Some(ForceUnit::Newton),
            "kgf" | "kg" | "kp" | "kilogram-force" => Some(ForceUnit::KilogramForce),
            "lbf" | "lb" | "lbs" | "pound-force" => Some(ForceUnit::PoundForce),
            _ => None,
        }
    }

    /// The suffix MHP's CSV form uses in column names (`fz_n`, `fz_kgf`, `fz_lbf`).
    pub fn suffix(self) -> &'static str {
        match self {
            ForceUnit::Newton => "n",
            ForceUnit::KilogramForce => "kgf",
            ForceUnit::PoundForce => "lbf",
        }
    }
}

/// What a trial is: decides which analysis runs.
///
/// Serialised as its [`TrialKind::code`]. New kinds may be added; callers
/// that store the code keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialKind {
    /// Countermovement jump.
    Cmj,
    /// Quiet standing balance, single or double leg.
    Balance,
    /// A plank hold on the plate (forearms or feet on it).
    Plank,
    /// Squat jump: a push from a held squat, without a countermovement.
    SquatJump,
    /// Drop jump: a drop from a box onto the plate and an immediate rebound.
    DropJump,
    /// Countermovement jump with rebound, or repeated hops: one trial per
    /// ground contact between two flights.
    RepeatedHops,
    /// Countermovement jump on one leg.
    SingleLegCmj,
    /// Repeated hops on one leg: one trial per ground contact.
    SingleLegHop,
    /// Isometric mid-thigh pull.
    Imtp,
    /// Landing from a box without a rebound (stick landing).
    Landing,
}

impl TrialKind {
    /// Every kind, in a stable order (for documentation and tests).
    pub const ALL: [TrialKind; 10] = [
        TrialKind::Cmj,
        TrialKind::Balance,
        TrialKind::Plank,
        TrialKind::SquatJump,
        TrialKind::DropJump,
        TrialKind::RepeatedHops,
        TrialKind::SingleLegCmj,
        TrialKind::SingleLegHop,
        TrialKind::Imtp,
        TrialKind::Landing,
    ];

    /// Parses the `test` metadata value or a caller's kind: the codes of
    /// [`TrialKind::code`] and common spellings (`sj`, `dj`, `hops`,
    /// `cmj_rebound`, `sl_cmj`, `mid_thigh_pull`, `drop_landing`, …). A
    /// trailing side (`single_leg_cmj_left`, `sl_hop_r`) is accepted and
    /// ignored here; [`Side::from_test`] reads it.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let t = strip_side_suffix(&t);
        match t {
            "cmj" | "countermovement_jump" | "counter_movement_jump" | "jump" => {
                Some(TrialKind::Cmj)
            }
            "balance" | "balance_single_leg" | "balance_double_leg" | "single_leg_balance"
            | "double_leg_balance" | "sway" | "quiet_standing" => Some(TrialKind::Balance),
            "plank" | "plank_hold" => Some(TrialKind::Plank),
            "squat_jump" | "sj" | "static_jump" => Some(TrialKind::SquatJump),
            "drop_jump" | "dj" | "depth_jump" => Some(TrialKind::DropJump),
            "repeated_hops" | "hops" | "hop" | "rebound" | "rebound_jump" | "cmj_rebound"
            | "cmj_with_rebound" | "repeated_jumps" | "pogo" | "pogo_jumps" => {
                Some(TrialKind::RepeatedHops)
            }
            "single_leg_cmj" | "sl_cmj" | "slcmj" | "single_leg_jump" | "one_leg_cmj" => {
                Some(TrialKind::SingleLegCmj)
            }
            "single_leg_hop" | "single_leg_hops" | "sl_hop" | "sl_hops" | "slhop"
            | "one_leg_hop" => Some(TrialKind::SingleLegHop),
            "imtp" | "isometric_mid_thigh_pull" | "mid_thigh_pull" | "isometric_pull" => {
                Some(TrialKind::Imtp)
            }
            "landing" | "drop_landing" | "stick_landing" | "landing_test" => {
                Some(TrialKind::Landing)
            }
            _ => None,
        }
    }

    /// The stable snake_case code used in reports.
    pub fn code(self) -> &'static str {
        match self {
            TrialKind::Cmj => "cmj",
            TrialKind::Balance => "balance",
            TrialKind::Plank => "plank",
            TrialKind::SquatJump => "squat_jump",
            TrialKind::DropJump => "drop_jump",
            TrialKind::RepeatedHops => "repeated_hops",
            TrialKind::SingleLegCmj => "single_leg_cmj",
            TrialKind::SingleLegHop => "single_leg_hop",
            TrialKind::Imtp => "imtp",
            TrialKind::Landing => "landing",
        }
    }

    /// True for the kinds done on one leg.
    pub fn is_single_leg(self) -> bool {
        matches!(self, TrialKind::SingleLegCmj | TrialKind::SingleLegHop)
    }
}

/// `single_leg_cmj_left` → `single_leg_cmj`; a text without a side is
/// returned as it is.
fn strip_side_suffix(text: &str) -> &str {
    for suffix in ["_left", "_right", "_l", "_r", "_links", "_rechts"] {
        if let Some(stem) = text.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return stem;
        }
    }
    text
}

/// A body side: the plate under a foot, or the leg of a single-leg test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Left.
    Left,
    /// Right.
    Right,
}

impl Side {
    /// `"left"` or `"right"`.
    pub fn code(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }

    /// The side a `test` value names at its end (`single_leg_cmj_left`,
    /// `sl_hop_r`), if any.
    pub fn from_test(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        if ["_left", "_l", "_links"].iter().any(|s| t.ends_with(s)) {
            Some(Side::Left)
        } else if ["_right", "_r", "_rechts"].iter().any(|s| t.ends_with(s)) {
            Some(Side::Right)
        } else {
            None
        }
    }
}

/// The subject named in a file's header: protected health information.
///
/// Kept so the caller can match the recording to a person, but its `Debug`
/// never shows the name, and no error or report of this crate contains it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Subject(String);

impl Subject {
    /// Wraps a subject identifier read from a file.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The identifier itself. Callers must treat it as PHI.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subject(<redacted>)")
    }
}

/// Metadata read from header lines, and the format the file was read in.
/// All optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// The `subject` header (PHI, redacted in `Debug`).
    pub subject: Option<Subject>,
    /// The `test` header, when it named a known kind.
    pub test: Option<TrialKind>,
    /// The `device` header.
    pub device: Option<String>,
    /// The force unit the file declared (values are already in newtons).
    pub declared_unit: Option<ForceUnit>,
    /// The format the recording was parsed from (set by
    /// [`crate::parse_recording`]); `None` for a recording built in memory.
    pub format: Option<crate::parse::Format>,
    /// The leg of a single-leg test on a single plate, from the `test`
    /// value (`single_leg_cmj_left`). On two plates the loaded plate says.
    pub side: Option<Side>,
    /// Body mass the file states (a vendor export's `Body Weight (kg)`
    /// line), kg; used to weigh the athlete only when the recording has no
    /// steady second and the caller gave no weigh-in.
    pub body_mass_kg: Option<f64>,
}

/// Vertical force channels, in newtons.
#[derive(Debug, Clone, PartialEq)]
pub enum Plates {
    /// One plate: total vertical force.
    Single {
        /// Vertical force, N.
        fz: Vec<f64>,
    },
    /// Two plates, one under each foot.
    Dual {
        /// Left plate vertical force, N.
        left: Vec<f64>,
        /// Right plate vertical force, N.
        right: Vec<f64>,
    },
}

impl Plates {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Plates::Single { fz } => fz.len(),
            Plates::Dual { left, .. } => left.len(),
        }
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total vertical force (sum of plates), N.
    pub fn total(&self) -> Vec<f64> {
        match self {
            Plates::Single { fz } => fz.clone(),
            Plates::Dual { left, right } => left.iter().zip(right).map(|(l, r)| l + r).collect(),
        }
    }

    /// `"single"` or `"dual"`.
    pub fn code(&self) -> &'static str {
        match self {
            Plates::Single { .. } => "single",
            Plates::Dual { .. } => "dual",
        }
    }
}

/// Centre-of-pressure coordinates in metres: `x` medial-lateral, `y`
/// anterior-posterior (plate axes as exported).
#[derive(Debug, Clone, PartialEq)]
pub struct CentreOfPressure {
    /// Medial-lateral coordinate, m.
    pub x: Vec<f64>,
    /// Anterior-posterior coordinate, m.
    pub y: Vec<f64>,
}

/// Below this share of the plates' total force, a plate's own centre of
/// pressure is noise (an unloaded plate's moments over a near-zero force)
/// and does not count.
const MIN_PLATE_SHARE: f64 = 0.02;
/// Below this force a plate's centre of pressure is not defined (motion
/// capture systems use the same 20 N threshold).
pub const MIN_COP_FORCE_N: f64 = 20.0;

impl CentreOfPressure {
    /// The centre of pressure of two plates from each plate's own, in one
    /// frame (both plates' coordinates must share their origin and axes):
    /// see [`CentreOfPressure::of_plates`].
    pub fn combined(
        left_fz: &[f64],
        right_fz: &[f64],
        left: &CentreOfPressure,
        right: &CentreOfPressure,
    ) -> CentreOfPressure {
        Self::of_plates(&[(left_fz, left), (right_fz, right)])
    }

    /// The centre of pressure of one or more plates from each plate's own
    /// and its vertical force, all in one frame: the mean weighted by
    /// force. A plate counts where it carries at least 20 N and 2 % of the
    /// total. Where no plate counts the centre of pressure is undefined;
    /// those samples repeat the nearest defined one before them (the first
    /// defined one at the start, 0 when none is), so that a flight or a step
    /// off does not read as movement.
    pub fn of_plates(plates: &[(&[f64], &CentreOfPressure)]) -> CentreOfPressure {
        let n = plates
            .iter()
            .map(|(fz, c)| fz.len().min(c.x.len()).min(c.y.len()))
            .min()
            .unwrap_or(0);
        let mut x = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        let mut first_defined = None;
        let mut last: Option<(f64, f64)> = None;
        for i in 0..n {
            // A non-finite force counts as none here (the analysis flags the force itself);
            // a counted plate's non-finite coordinate makes the point non-finite, and flagged.
            let weight = |fz: &[f64]| fz[i].max(0.0);
            let total: f64 = plates.iter().map(|(fz, _)| weight(fz)).sum();
            let (mut w_sum, mut sx, mut sy) = (0.0, 0.0, 0.0);
            for (fz, c) in plates {
                let w = weight(fz);
                if w >= MIN_COP_FORCE_N && w >= MIN_PLATE_SHARE * total {
                    w_sum += w;
                    sx += w * c.x[i];
                    sy += w * c.y[i];
                }
            }
            let point = (w_sum > 0.0).then(|| (sx / w_sum, sy / w_sum));
            let (px, py) = point.or(last).unwrap_or((f64::NAN, f64::NAN));
            if first_defined.is_none() && point.is_some() {
                first_defined = Some(i);
            }
            x.push(px);
            y.push(py);
            if point.is_some() {
                last = point;
            }
        }
        let (fx, fy) = first_defined.map_or((0.0, 0.0), |first| (x[first], y[first]));
        let lead = first_defined.unwrap_or(n);
        x[..lead].fill(fx);
        y[..lead].fill(fy);
        CentreOfPressure { x, y }
    }
}

/// How regular the time column was, when the file had one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Smallest step between consecutive timestamps, s.
    pub min_step_s: f64,
    /// Largest step between consecutive timestamps, s.
    pub max_step_s: f64,
    /// Mean step, s.
    pub mean_step_s: f64,
}

impl Timing {
    /// True when some step is more than half a period away from the mean
    /// (a dropped or duplicated sample), which would bias flight time and
    /// impulse.
    pub fn is_irregular(&self) -> bool {
        let tolerance = 0.5 * self.mean_step_s;
        self.max_step_s - self.mean_step_s > tolerance
            || self.mean_step_s - self.min_step_s > tolerance
    }
}

/// A parsed recording. Forces are in newtons whatever the file declared.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Sample rate.
    pub sample_rate: SampleRate,
    /// Vertical force channels.
    pub plates: Plates,
    /// Centre of pressure, when the file had it.
    pub cop: Option<CentreOfPressure>,
    /// Timestamp regularity, when the file had a time column.
    pub timing: Option<Timing>,
    /// Header metadata.
    pub metadata: Metadata,
}

impl Recording {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.plates.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.plates.is_empty()
    }

    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.len() as f64 * self.sample_rate.dt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_debug_is_redacted() {
        let m = Metadata {
            subject: Some(Subject::new("Jane Roe")),
            ..Metadata::default()
        };
        let text = format!("{m:?}");
        assert!(!text.contains("Jane"), "{text}");
    }

    #[test]
    fn sample_rate_rejects_nonsense() {
        assert!(SampleRate::new(0.0).is_none());
        assert!(SampleRate::new(f64::NAN).is_none());
        assert!(SampleRate::new(1e9).is_none());
        assert!(SampleRate::new(1000.0).is_some());
    }

    #[test]
    fn timing_detects_a_dropped_sample() {
        let t = Timing {
            min_step_s: 0.001,
            max_step_s: 0.002,
            mean_step_s: 0.001,
        };
        assert!(t.is_irregular());
    }
}
