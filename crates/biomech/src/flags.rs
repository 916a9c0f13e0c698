//! Quality flags: why a trial's numbers are doubtful or absent.
//!
//! A blocking flag means the trial yields no metrics, only the reason. A
//! warning keeps the metrics but says what to check. The codes are stable
//! (they are part of the report contract); messages may be reworded.

use serde::Serialize;

/// A stable reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagCode {
    /// Blocking: nobody on the plate in the whole recording.
    EmptyPlate,
    /// Blocking: a force sample is NaN or infinite.
    NonFiniteForce,
    /// Blocking: force well below zero (plate not zeroed, or miswired).
    NegativeForce,
    /// Blocking: timestamps are irregular (a dropped or repeated sample).
    IrregularSampling,
    /// Blocking: the signal sits at its maximum for several samples
    /// (amplifier saturation or clipping): peaks and impulse are wrong.
    Clipping,
    /// Blocking: no 1 s window of quiet standing steady enough to weigh.
    NoStableWeighing,
    /// Blocking: the subject moved before 1 s of quiet standing was recorded.
    MovementTooEarly,
    /// Blocking: no flight phase (a step-off or a failed jump).
    NoFlight,
    /// Blocking: the force-time curve lacks a countermovement or a braking
    /// phase, so the phases cannot be found (e.g. a squat jump).
    PhaseDetectionFailed,
    /// Blocking: a balance or plank trial without centre-of-pressure data.
    NoCentreOfPressure,
    /// Blocking: a balance or plank trial shorter than the minimum.
    TrialTooShort,
    /// Warning: the subject left the plate again soon after landing; landing
    /// metrics include the second contact.
    DoubleBounce,
    /// Warning: jump height by impulse and by flight time differ by more
    /// than 5 cm (tucked legs at landing, or a weighing error).
    HeightMethodsDisagree,
}

impl FlagCode {
    /// True when the trial yields no metrics.
    pub fn is_blocking(self) -> bool {
        !matches!(
            self,
            FlagCode::DoubleBounce | FlagCode::HeightMethodsDisagree
        )
    }

    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagCode::EmptyPlate => "empty_plate",
            FlagCode::NonFiniteForce => "non_finite_force",
            FlagCode::NegativeForce => "negative_force",
            FlagCode::IrregularSampling => "irregular_sampling",
            FlagCode::Clipping => "clipping",
            FlagCode::NoStableWeighing => "no_stable_weighing",
            FlagCode::MovementTooEarly => "movement_too_early",
            FlagCode::NoFlight => "no_flight",
            FlagCode::PhaseDetectionFailed => "phase_detection_failed",
            FlagCode::NoCentreOfPressure => "no_centre_of_pressure",
            FlagCode::TrialTooShort => "trial_too_short",
            FlagCode::DoubleBounce => "double_bounce",
            FlagCode::HeightMethodsDisagree => "height_methods_disagree",
        }
    }

    /// Every code, in a stable order (for documentation and tests).
    pub const ALL: [FlagCode; 13] = [
        FlagCode::EmptyPlate,
        FlagCode::NonFiniteForce,
        FlagCode::NegativeForce,
        FlagCode::IrregularSampling,
        FlagCode::Clipping,
        FlagCode::NoStableWeighing,
        FlagCode::MovementTooEarly,
        FlagCode::NoFlight,
        FlagCode::PhaseDetectionFailed,
        FlagCode::NoCentreOfPressure,
        FlagCode::TrialTooShort,
        FlagCode::DoubleBounce,
        FlagCode::HeightMethodsDisagree,
    ];
}

/// A flag on a trial: a code and a message for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// Stable code.
    pub code: FlagCode,
    /// True when the trial yields no metrics because of this flag.
    pub blocking: bool,
    /// Explanation for a person (never contains PHI or sample values).
    pub message: String,
}

impl Flag {
    /// A flag with its message.
    pub fn new(code: FlagCode, message: impl Into<String>) -> Self {
        Self {
            code,
            blocking: code.is_blocking(),
            message: message.into(),
        }
    }
}

/// True when any flag blocks metrics.
pub fn any_blocking(flags: &[Flag]) -> bool {
    flags.iter().any(|f| f.blocking)
}
