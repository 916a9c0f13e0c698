//! Training load: 3–5 sessions a week by sport, with periodisation, spike weeks and the
//! changes an injury brings. Load is session-RPE (Foster et al. 2001): duration in minutes ×
//! the athlete's rating of perceived exertion (CR-10), in arbitrary units.

use crate::model::{SPIKE_MULTIPLIER, SPIKE_PROBABILITY};
use crate::random::Rng;
use crate::roster::Sport;

/// One planned session: day of the week (0 = Monday), type, minutes, RPE.
#[derive(Debug, Clone, Copy)]
struct Slot {
    weekday: i64,
    kind: &'static str,
    minutes: f64,
    rpe: f64,
}

const fn slot(weekday: i64, kind: &'static str, minutes: f64, rpe: f64) -> Slot {
    Slot {
        weekday,
        kind,
        minutes,
        rpe,
    }
}

/// What an athlete may do on a day, from the return-to-duty stage in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Availability {
    Full,
    Rest,
    Rehabilitation,
    ModifiedDuty,
    FullTraining,
}

/// A session as generated (the `LoadEntry` without its subject).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Session {
    pub day: i64,
    pub kind: &'static str,
    pub minutes: u32,
    pub rpe: u8,
}

impl Session {
    /// Session-RPE load, AU.
    pub(crate) fn load(&self) -> f64 {
        f64::from(self.minutes) * f64::from(self.rpe)
    }
}

/// Weights of 3, 4 and 5 sessions a week.
const fn sessions_per_week(sport: Sport) -> [f64; 3] {
    match sport {
        Sport::Rugby => [0.1, 0.4, 0.5],
        Sport::Military => [0.1, 0.3, 0.6],
        Sport::Football => [0.3, 0.5, 0.2],
    }
}

/// The week's plan for `count` sessions (3–5).
fn plan(sport: Sport, count: usize) -> &'static [Slot] {
    const RUGBY: [&[Slot]; 3] = [
        &[
            slot(0, "field", 80.0, 6.0),
            slot(2, "gym", 55.0, 7.0),
            slot(5, "match", 80.0, 9.0),
        ],
        &[
            slot(0, "recovery", 35.0, 3.0),
            slot(1, "field", 85.0, 6.0),
            slot(3, "gym", 55.0, 7.0),
            slot(5, "match", 80.0, 9.0),
        ],
        &[
            slot(0, "recovery", 35.0, 3.0),
            slot(1, "field", 85.0, 6.0),
            slot(2, "gym", 55.0, 7.0),
            slot(3, "field", 70.0, 5.0),
            slot(5, "match", 80.0, 9.0),
        ],
    ];
    const MILITARY: [&[Slot]; 3] = [
        &[
            slot(0, "physical_training", 60.0, 6.0),
            slot(2, "ruck_march", 150.0, 6.0),
            slot(4, "gym", 50.0, 6.0),
        ],
        &[
            slot(0, "physical_training", 60.0, 6.0),
            slot(1, "gym", 50.0, 6.0),
            slot(2, "ruck_march", 150.0, 6.0),
            slot(4, "field_training", 180.0, 5.0),
        ],
        &[
            slot(0, "physical_training", 60.0, 6.0),
            slot(1, "gym", 50.0, 6.0),
            slot(2, "ruck_march", 150.0, 6.0),
            slot(3, "physical_training", 45.0, 5.0),
            slot(4, "field_training", 180.0, 5.0),
        ],
    ];
    const FOOTBALL: [&[Slot]; 3] = [
        &[
            slot(1, "training", 80.0, 6.0),
            slot(3, "training", 75.0, 6.0),
            slot(5, "match", 95.0, 8.0),
        ],
        &[
            slot(0, "recovery", 30.0, 3.0),
            slot(1, "training", 85.0, 6.0),
            slot(3, "gym", 45.0, 6.0),
            slot(5, "match", 95.0, 8.0),
        ],
        &[
            slot(0, "recovery", 30.0, 3.0),
            slot(1, "training", 85.0, 6.0),
            slot(2, "gym", 45.0, 6.0),
            slot(3, "training", 70.0, 5.0),
            slot(5, "match", 95.0, 8.0),
        ],
    ];
    let plans = match sport {
        Sport::Rugby => &RUGBY,
        Sport::Military => &MILITARY,
        Sport::Football => &FOOTBALL,
    };
    plans[count.clamp(3, 5) - 3]
}

/// The team's multiplier on session durations in season week `week` (negative in the
/// pre-season run-in): a lighter run-in, a deload every fourth week, and for military teams
/// a field-exercise week every sixth week.
pub(crate) fn team_multiplier(sport: Sport, week: i64) -> f64 {
    if week < 0 {
        return 0.9;
    }
    if sport == Sport::Military && week % 6 == 4 {
        return FIELD_EXERCISE_MULTIPLIER;
    }
    if week % 4 == 3 {
        DELOAD_MULTIPLIER
    } else {
        1.0
    }
}

/// Duration multiplier of a deload week.
pub(crate) const DELOAD_MULTIPLIER: f64 = 0.7;
/// Duration multiplier of a military field-exercise week.
pub(crate) const FIELD_EXERCISE_MULTIPLIER: f64 = 1.5;
/// Duration multiplier of modified duty.
pub(crate) const MODIFIED_DUTY_MULTIPLIER: f64 = 0.6;

/// Generates one subject's sessions for the week starting on `week_start`.
/// `availability(day)` gives the return-to-duty stage in force on a day.
pub(crate) fn week_sessions(
    rng: &mut Rng,
    sport: Sport,
    week: i64,
    week_start: i64,
    availability: impl Fn(i64) -> Availability,
) -> Vec<Session> {
    let count = 3 + rng.weighted(&sessions_per_week(sport));
    let (spike, spike_rpe) = if week >= 0 && rng.chance(SPIKE_PROBABILITY) {
        (rng.uniform(SPIKE_MULTIPLIER.0, SPIKE_MULTIPLIER.1), 1.0)
    } else {
        (1.0, 0.0)
    };
    let team = team_multiplier(sport, week);
    let mut sessions = Vec::with_capacity(count);
    for s in plan(sport, count) {
        // Draw every number whatever the availability, so an injury does not shift the
        // stream for later weeks.
        let minutes_noise = (1.0 + 0.1 * rng.normal()).clamp(0.6, 1.5);
        let rpe_noise = 0.8 * rng.normal();
        let day = week_start + s.weekday;
        let minutes = s.minutes * team * spike * minutes_noise;
        let rpe = s.rpe + spike_rpe + rpe_noise;
        let session = match availability(day) {
            Availability::Full => Some((s.kind, minutes, rpe)),
            Availability::Rest => None,
            Availability::Rehabilitation => Some(("rehabilitation", 40.0 * minutes_noise, 3.0)),
            Availability::ModifiedDuty => Some((
                "modified_training",
                s.minutes * MODIFIED_DUTY_MULTIPLIER * minutes_noise,
                (s.rpe - 2.0 + rpe_noise).max(2.0),
            )),
            Availability::FullTraining => {
                let kind = if s.kind == "match" {
                    "training"
                } else {
                    s.kind
                };
                Some((kind, s.minutes * minutes_noise, s.rpe + rpe_noise))
            }
        };
        if let Some((kind, minutes, rpe)) = session {
            sessions.push(Session {
                day,
                kind,
                minutes: round_minutes(minutes),
                rpe: rpe.round().clamp(1.0, 10.0) as u8,
            });
        }
    }
    sessions
}

/// Minutes rounded to 5, between 10 and 300.
fn round_minutes(minutes: f64) -> u32 {
    ((minutes / 5.0).round() * 5.0).clamp(10.0, 300.0) as u32
}
