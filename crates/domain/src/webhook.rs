//! Webhooks of an organisation: the events they may carry, who may receive each, and when a
//! delivery that failed is tried again.

use crate::{Permission, Reach, Role, reach_of, role_allows};

/// An event an organisation's webhook may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    /// A recording was uploaded and analysed.
    AssessmentCreated,
    /// An uploaded recording's analysis carries quality flags.
    AssessmentFlagged,
    /// A subject's injury-risk band differs from their previous score's.
    RiskBandChanged,
    /// An injury was recorded.
    InjuryCreated,
    /// An injury's state changed (today: a return-to-duty decision moved it).
    InjuryUpdated,
    /// A return-to-duty decision was recorded.
    RtdDecision,
    /// A security alert was raised on the organisation.
    AlertRaised,
}

impl EventType {
    /// Every event type, in the order the documentation lists them.
    pub const ALL: [EventType; 7] = [
        EventType::AssessmentCreated,
        EventType::AssessmentFlagged,
        EventType::RiskBandChanged,
        EventType::InjuryCreated,
        EventType::InjuryUpdated,
        EventType::RtdDecision,
        EventType::AlertRaised,
    ];

    /// Its name on the wire (`assessment.created`).
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::AssessmentCreated => "assessment.created",
            EventType::AssessmentFlagged => "assessment.flagged",
            EventType::RiskBandChanged => "risk.band_changed",
            EventType::InjuryCreated => "injury.created",
            EventType::InjuryUpdated => "injury.updated",
            EventType::RtdDecision => "rtd.decision",
            EventType::AlertRaised => "alert.raised",
        }
    }

    /// The event type named `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// What a receiver must be allowed to read, across the whole organisation, to be sent it.
    pub const fn permission(self) -> Permission {
        match self {
            EventType::AssessmentCreated
            | EventType::AssessmentFlagged
            | EventType::RiskBandChanged => Permission::ReadTeamReadiness,
            EventType::InjuryCreated | EventType::InjuryUpdated | EventType::RtdDecision => {
                Permission::ReadClinical
            }
            EventType::AlertRaised => Permission::ReadSecurityReports,
        }
    }

    /// Whether an endpoint acting as `role` may be sent this event: the role grants its
    /// permission across the organisation (a coach's reach ends at their teams, and a webhook
    /// has no teams).
    pub fn allowed_for(self, role: Role) -> bool {
        role_allows(role, self.permission()) && reach_of(role) == Reach::Organisation
    }
}

/// How long a delivery is tried: three days after the event.
pub const DELIVERY_WINDOW_MS: i64 = 3 * 86_400_000;

/// The wait before each retry, by the number of attempts made: exponential from 5 seconds,
/// at most 12 hours apart.
pub const RETRY_DELAYS_MS: [i64; 10] = [
    5_000,      // after the 1st attempt
    30_000,     // 2nd
    120_000,    // 3rd
    600_000,    // 4th
    1_800_000,  // 5th
    3_600_000,  // 6th
    7_200_000,  // 7th
    14_400_000, // 8th
    28_800_000, // 9th
    43_200_000, // 10th and after
];

/// When a delivery first made at `created_ms` is tried next after `attempts` failed attempts,
/// the last at `now_ms`; `None` once the next try would fall outside the delivery window.
pub fn next_attempt_ms(created_ms: i64, attempts: u32, now_ms: i64) -> Option<i64> {
    let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
    let delay = RETRY_DELAYS_MS
        .get(index)
        .copied()
        .unwrap_or(RETRY_DELAYS_MS[RETRY_DELAYS_MS.len() - 1]);
    let next = now_ms.saturating_add(delay);
    (next <= created_ms.saturating_add(DELIVERY_WINDOW_MS)).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in EventType::ALL {
            assert_eq!(EventType::parse(e.as_str()), Some(e));
        }
        assert_eq!(EventType::parse("assessment.deleted"), None);
    }

    #[test]
    fn clinical_events_go_only_to_clinical_roles_across_the_organisation() {
        assert!(EventType::InjuryCreated.allowed_for(Role::Clinician));
        assert!(EventType::InjuryCreated.allowed_for(Role::OrgAdmin));
        assert!(!EventType::InjuryCreated.allowed_for(Role::Coach));
        assert!(!EventType::RtdDecision.allowed_for(Role::DataScientist));
        // A coach reads readiness, but only of their own teams.
        assert!(!EventType::RiskBandChanged.allowed_for(Role::Coach));
        assert!(EventType::RiskBandChanged.allowed_for(Role::Clinician));
        assert!(EventType::AlertRaised.allowed_for(Role::Auditor));
        assert!(!EventType::AlertRaised.allowed_for(Role::Clinician));
        assert!(!EventType::AssessmentCreated.allowed_for(Role::Device));
        assert!(!EventType::AssessmentCreated.allowed_for(Role::Athlete));
    }

    #[test]
    fn retries_back_off_and_stop_after_three_days() {
        let t0 = 1_000_000;
        assert_eq!(next_attempt_ms(t0, 1, t0), Some(t0 + 5_000));
        assert_eq!(next_attempt_ms(t0, 2, t0 + 5_000), Some(t0 + 35_000));
        let mut now = t0;
        let mut attempts = 1;
        let mut gaps = Vec::new();
        while let Some(next) = next_attempt_ms(t0, attempts, now) {
            gaps.push(next - now);
            now = next;
            attempts += 1;
        }
        assert!(gaps.windows(2).all(|w| w[0] <= w[1]), "{gaps:?}");
        assert!(now <= t0 + DELIVERY_WINDOW_MS);
        assert!(
            now + 43_200_000 > t0 + DELIVERY_WINDOW_MS,
            "tried until the end"
        );
        assert!(attempts > 10, "{attempts} attempts in three days");
    }
}
