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
    /// Blocking: the phases the test needs cannot be found: a CMJ without a
    /// countermovement or braking phase (e.g. a squat jump), a squat jump
    /// without a push, an isometric pull without a pull, a drop jump or
    /// landing without the drop's touchdown.
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
    /// Warning: no steady second before this rep; body weight is the
    /// steadiest second elsewhere in the recording.
    BodyWeightFromRecording,
    /// Warning: no steady second anywhere in the recording; body weight is
    /// the weigh-in the caller gave (or the file stated).
    BodyWeightFromWeighIn,
    /// Warning: no steady second anywhere in the recording and no weigh-in
    /// given; body weight is the athlete's latest earlier assessment that
    /// weighed them (the caller looks it up, within a few weeks).
    BodyWeightFromEarlierAssessment,
    /// Warning: the test kind was detected from the signal and another kind
    /// fits almost as well; pass the kind to be sure.
    KindUncertain,
    /// Warning: a squat jump began with a dip (a countermovement).
    Countermovement,
    /// Warning: the drop height comes from the rebound's flight time, because
    /// the athlete did not stand still after the landing.
    DropHeightFromFlightTime,
    /// Warning: after a landing the force did not settle within ±5 % of body
    /// weight for 1 s before the trial ended: no time to stabilisation.
    NotStabilised,
    /// Warning: a single-leg test on one plate without the side in the file
    /// (`test: single_leg_cmj_left`): the limb symmetry index needs it.
    SideUnknown,
}

impl FlagCode {
    /// True when the trial yields no metrics.
    pub fn is_blocking(self) -> bool {
        !matches!(
            self,
            FlagCode::DoubleBounce
                | FlagCode::HeightMethodsDisagree
                | FlagCode::BodyWeightFromRecording
                | FlagCode::BodyWeightFromWeighIn
                | FlagCode::BodyWeightFromEarlierAssessment
                | FlagCode::KindUncertain
                | FlagCode::Countermovement
                | FlagCode::DropHeightFromFlightTime
                | FlagCode::NotStabilised
                | FlagCode::SideUnknown
        )
    }

    /// True for a warning about the metrics themselves (dropped with them
    /// when a blocking flag removes the metrics), false for blocking flags
    /// and warnings about the trial.
    pub fn describes_metrics(self) -> bool {
        matches!(
            self,
            FlagCode::HeightMethodsDisagree
                | FlagCode::BodyWeightFromRecording
                | FlagCode::BodyWeightFromWeighIn
                | FlagCode::BodyWeightFromEarlierAssessment
                | FlagCode::Countermovement
                | FlagCode::DropHeightFromFlightTime
                | FlagCode::NotStabilised
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
            FlagCode::BodyWeightFromRecording => "body_weight_from_recording",
            FlagCode::BodyWeightFromWeighIn => "body_weight_from_weigh_in",
            FlagCode::BodyWeightFromEarlierAssessment => "body_weight_from_earlier_assessment",
            FlagCode::KindUncertain => "kind_uncertain",
            FlagCode::Countermovement => "countermovement",
            FlagCode::DropHeightFromFlightTime => "drop_height_from_flight_time",
            FlagCode::NotStabilised => "not_stabilised",
            FlagCode::SideUnknown => "side_unknown",
        }
    }

    /// Every code, in a stable order (for documentation and tests).
    pub const ALL: [FlagCode; 21] = [
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
        FlagCode::BodyWeightFromRecording,
        FlagCode::BodyWeightFromWeighIn,
        FlagCode::BodyWeightFromEarlierAssessment,
        FlagCode::KindUncertain,
        FlagCode::Countermovement,
        FlagCode::DropHeightFromFlightTime,
        FlagCode::NotStabilised,
        FlagCode::SideUnknown,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_serialise_as_their_text() {
        let mut seen = std::collections::BTreeSet::new();
        for code in FlagCode::ALL {
            assert!(seen.insert(code.as_str()), "{code:?}");
            assert_eq!(
                serde_json::to_value(code).ok(),
                Some(serde_json::Value::from(code.as_str()))
            );
        }
    }
}
