//! What an injury allows on a day: the one rule behind a subject's availability in the API,
//! the injury-risk features (which days are spent in time loss) and the pipelines'
//! de-identified view.
//!
//! An injury is open from the day it occurs until it ends. It ends
//! - on the day a `cleared` return-to-duty decision takes effect, or
//! - without such a decision, on its expected return, `occurred_on + time_loss_days`, when the
//!   time loss is recorded. A decision dated before the expected return describes a stage
//!   *within* the time loss and does not extend it; a decision (other than `cleared`) dated on
//!   or after the expected return overrides it: the person is still out, at that stage.
//!
//! While open, the latest decision in effect gives the availability (`rest` and
//! `rehabilitation`: unavailable; `modified_duty`; `full_training`), and before any decision
//! the person is unavailable. An open injury with neither a recorded time loss nor a decision,
//! older than [`STALE_AFTER_DAYS`], is *stale*: it still makes the person unavailable (no end
//! is guessed), and it is flagged so that a clinician records the decision or the time loss.
//!
//! A step back after the injury ended (cleared, then `rest` again) reopens it from the day of
//! that decision; [`InjuryCourse::return_day`] gives the first end, which the risk features
//! use (a recurrence is best recorded as an injury of its own).
//!
//! Days are counted from 1970-01-01 ([`crate::CalendarDate::days_since_epoch`]).

use std::fmt;

/// Days after which an open injury with neither a time loss nor a decision is flagged stale:
/// four weeks, the upper bound of a "moderate" injury in the IOC consensus bands (8–28 days);
/// by then a clinician has usually decided something.
pub const STALE_AFTER_DAYS: i64 = 28;

/// What a person may do, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Availability {
    /// No open injury restricts them.
    Available,
    /// Full training, not yet cleared for competition or duty.
    FullTraining,
    /// Modified duty.
    ModifiedDuty,
    /// Out: rest, rehabilitation, or an injury without a decision yet.
    Unavailable,
}

impl Availability {
    /// The API's code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::FullTraining => "full_training",
            Self::ModifiedDuty => "modified_duty",
            Self::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for Availability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A return-to-duty stage, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DutyStage {
    /// Rest.
    Rest,
    /// Rehabilitation.
    Rehabilitation,
    /// Modified duty.
    ModifiedDuty,
    /// Full training.
    FullTraining,
    /// Cleared: the injury has ended.
    Cleared,
}

impl DutyStage {
    /// Every stage, in order.
    pub const ALL: [Self; 5] = [
        Self::Rest,
        Self::Rehabilitation,
        Self::ModifiedDuty,
        Self::FullTraining,
        Self::Cleared,
    ];

    /// As stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rest => "rest",
            Self::Rehabilitation => "rehabilitation",
            Self::ModifiedDuty => "modified_duty",
            Self::FullTraining => "full_training",
            Self::Cleared => "cleared",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// What an open injury at this stage allows.
    pub const fn availability(self) -> Availability {
        match self {
            Self::Rest | Self::Rehabilitation => Availability::Unavailable,
            Self::ModifiedDuty => Availability::ModifiedDuty,
            Self::FullTraining => Availability::FullTraining,
            Self::Cleared => Availability::Available,
        }
    }
}

/// One injury with its decisions, as the rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjuryCourse {
    /// The day it occurred.
    pub occurred_day: i64,
    /// Days of full participation lost, when recorded.
    pub time_loss_days: Option<i64>,
    /// `(day it takes effect, stage)` in the order they take effect (day, then recording
    /// time); decisions with an unknown stage are left out by the caller.
    pub decisions: Vec<(i64, DutyStage)>,
}

/// Why an open injury is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenBecause {
    /// A decision in effect says so.
    Decision(DutyStage),
    /// The expected return (`occurred + time_loss_days`, this day) is still ahead.
    ExpectedReturn(i64),
    /// Nothing says when it ends: no decision and no time loss.
    Unknown {
        /// Older than [`STALE_AFTER_DAYS`]: a clinician should record what happened.
        stale: bool,
    },
}

/// An injury's state on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjuryState {
    /// It has not occurred yet.
    NotYet,
    /// It restricts the person.
    Open {
        /// What it allows.
        availability: Availability,
        /// Why it is still open.
        because: OpenBecause,
    },
    /// It has ended.
    Ended,
}

impl InjuryState {
    /// Whether the injury restricts the person (they are in time loss).
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Open { .. })
    }

    /// What it allows (available when not open).
    pub const fn availability(self) -> Availability {
        match self {
            Self::Open { availability, .. } => availability,
            _ => Availability::Available,
        }
    }

    /// Whether it is open with nothing recorded to end it, for longer than
    /// [`STALE_AFTER_DAYS`].
    pub const fn is_stale(self) -> bool {
        matches!(
            self,
            Self::Open {
                because: OpenBecause::Unknown { stale: true },
                ..
            }
        )
    }
}

impl InjuryCourse {
    /// The expected return, when the time loss is recorded.
    pub fn expected_return(&self) -> Option<i64> {
        self.time_loss_days
            .filter(|d| *d >= 0)
            .map(|d| self.occurred_day + d)
    }

    /// The injury's state on `day`: decisions taking effect on or before it count.
    pub fn state_on(&self, day: i64) -> InjuryState {
        if day < self.occurred_day {
            return InjuryState::NotYet;
        }
        let expected = self.expected_return();
        let latest = self
            .decisions
            .iter()
            .rev()
            .find(|(d, _)| *d <= day)
            .copied();
        match latest {
            Some((_, DutyStage::Cleared)) => InjuryState::Ended,
            // A decision within the time loss does not outlast it.
            Some((decided, _)) if expected.is_some_and(|r| decided < r && day >= r) => {
                InjuryState::Ended
            }
            Some((_, stage)) => InjuryState::Open {
                availability: stage.availability(),
                because: OpenBecause::Decision(stage),
            },
            None => match expected {
                Some(r) if day >= r => InjuryState::Ended,
                Some(r) => InjuryState::Open {
                    availability: Availability::Unavailable,
                    because: OpenBecause::ExpectedReturn(r),
                },
                None => InjuryState::Open {
                    availability: Availability::Unavailable,
                    because: OpenBecause::Unknown {
                        stale: day - self.occurred_day > STALE_AFTER_DAYS,
                    },
                },
            },
        }
    }

    /// The first day after it occurred on which the injury has ended, if that day is at most
    /// `until` (what is known by then).
    pub fn return_day(&self, until: i64) -> Option<i64> {
        // The state changes only on a decision's day or the expected return.
        let mut days: Vec<i64> = self
            .decisions
            .iter()
            .map(|(d, _)| *d)
            .chain(self.expected_return())
            .filter(|d| *d > self.occurred_day && *d <= until)
            .collect();
        days.sort_unstable();
        days.dedup();
        days.into_iter()
            .find(|d| self.state_on(*d) == InjuryState::Ended)
    }
}

/// A person's availability on a day: the worst of what their injuries allow.
pub fn availability_on<'a>(
    injuries: impl IntoIterator<Item = &'a InjuryCourse>,
    day: i64,
) -> Availability {
    injuries
        .into_iter()
        .map(|i| i.state_on(day).availability())
        .max()
        .unwrap_or(Availability::Available)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course(time_loss: Option<i64>, decisions: &[(i64, DutyStage)]) -> InjuryCourse {
        InjuryCourse {
            occurred_day: 100,
            time_loss_days: time_loss,
            decisions: decisions.to_vec(),
        }
    }

    #[test]
    fn time_loss_ends_on_the_expected_return_without_a_decision() {
        let c = course(Some(10), &[]);
        assert_eq!(c.state_on(99), InjuryState::NotYet);
        assert_eq!(
            c.state_on(100),
            InjuryState::Open {
                availability: Availability::Unavailable,
                because: OpenBecause::ExpectedReturn(110)
            }
        );
        assert!(c.state_on(109).is_open());
        assert_eq!(c.state_on(110), InjuryState::Ended);
        assert_eq!(c.state_on(400), InjuryState::Ended);
        assert_eq!(c.return_day(1000), Some(110));
        assert_eq!(c.return_day(109), None, "not known yet");
    }

    #[test]
    fn decisions_override_the_expected_return() {
        use DutyStage::*;
        // Cleared early.
        let early = course(Some(30), &[(100, Rest), (112, Cleared)]);
        assert_eq!(early.state_on(112), InjuryState::Ended);
        assert_eq!(early.return_day(1000), Some(112));
        // Stages within the time loss do not outlast it.
        let within = course(Some(20), &[(100, Rest), (110, ModifiedDuty)]);
        assert_eq!(
            within.state_on(115).availability(),
            Availability::ModifiedDuty
        );
        assert_eq!(within.state_on(120), InjuryState::Ended);
        assert_eq!(within.return_day(1000), Some(120));
        // A decision after the expected return: a setback, still out.
        let setback = course(Some(10), &[(100, Rest), (115, Rehabilitation)]);
        assert_eq!(setback.state_on(112), InjuryState::Ended);
        assert!(setback.state_on(115).is_open());
        assert_eq!(setback.return_day(1000), Some(110));
    }

    #[test]
    fn without_time_loss_or_decision_it_stays_open_and_turns_stale() {
        let c = course(None, &[]);
        assert!(c.state_on(100 + STALE_AFTER_DAYS).is_open());
        assert!(!c.state_on(100 + STALE_AFTER_DAYS).is_stale());
        let later = c.state_on(101 + STALE_AFTER_DAYS);
        assert!(later.is_open() && later.is_stale());
        assert_eq!(later.availability(), Availability::Unavailable);
        assert_eq!(c.return_day(10_000), None);
        // A decision is not stale, whatever its age.
        let decided = course(None, &[(100, DutyStage::ModifiedDuty)]);
        assert!(!decided.state_on(1000).is_stale());
    }

    #[test]
    fn the_worst_injury_sets_availability() {
        let a = course(Some(10), &[(100, DutyStage::FullTraining)]);
        let b = course(None, &[(100, DutyStage::ModifiedDuty)]);
        assert_eq!(availability_on([&a, &b], 105), Availability::ModifiedDuty);
        assert_eq!(availability_on([&a], 200), Availability::Available);
        assert_eq!(availability_on([], 200), Availability::Available);
        assert_eq!(DutyStage::parse("cleared"), Some(DutyStage::Cleared));
        assert_eq!(DutyStage::parse("nope"), None);
    }
}
