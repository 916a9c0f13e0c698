//! The roles of DESIGN.md. Organisation roles are held through a membership in one
//! organisation; the platform operator role belongs to the deployment, not to any organisation.

use std::fmt;

/// A role someone holds inside one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Manages the organisation: users, teams, SSO, MFA policy, retention.
    OrgAdmin,
    /// Everything clinical in the organisation.
    Clinician,
    /// Coach or commander: readiness and risk bands of their own teams.
    Coach,
    /// Athlete or service member: their own data.
    Athlete,
    /// De-identified datasets, pipelines and models.
    DataScientist,
    /// Audit log, security alerts, compliance reports.
    Auditor,
    /// A device or integration that uploads assessments.
    Device,
}

/// A role of the deployment itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlatformRole {
    /// Runs, configures, backs up and watches the platform; never reads PHI.
    Operator,
}

/// A role name that MHP does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role (expected one of: {expected})")]
pub struct RoleError {
    expected: &'static str,
}

impl Role {
    /// Every organisation role, in a stable order.
    pub const ALL: [Role; 7] = [
        Role::OrgAdmin,
        Role::Clinician,
        Role::Coach,
        Role::Athlete,
        Role::DataScientist,
        Role::Auditor,
        Role::Device,
    ];

    /// The stable name stored in the database and used on the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::OrgAdmin => "org_admin",
            Role::Clinician => "clinician",
            Role::Coach => "coach",
            Role::Athlete => "athlete",
            Role::DataScientist => "data_scientist",
            Role::Auditor => "auditor",
            Role::Device => "device",
        }
    }

    /// Parses a stable role name.
    pub fn parse(s: &str) -> Result<Self, RoleError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(RoleError {
                expected: "org_admin, clinician, coach, athlete, data_scientist, auditor, device",
            })
    }
}

impl Role {
    /// Roles whose holders reach PHI or security data, for the "privileged" MFA policy.
    pub const fn is_privileged(self) -> bool {
        matches!(self, Role::OrgAdmin | Role::Clinician | Role::Auditor)
    }
}

/// An organisation's demand for a second factor, ordered from the weakest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MfaPolicy {
    /// Each user decides.
    Optional,
    /// Org admins, clinicians and auditors must use one.
    Privileged,
    /// Everyone must.
    Everyone,
}

impl MfaPolicy {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            MfaPolicy::Optional => "optional",
            MfaPolicy::Privileged => "privileged",
            MfaPolicy::Everyone => "everyone",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            MfaPolicy::Optional,
            MfaPolicy::Privileged,
            MfaPolicy::Everyone,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// Whether someone holding `roles` must have passed a second factor.
    pub fn requires_mfa(self, roles: &[Role]) -> bool {
        match self {
            MfaPolicy::Optional => false,
            MfaPolicy::Privileged => roles.iter().any(|r| r.is_privileged()),
            MfaPolicy::Everyone => true,
        }
    }
}

impl PlatformRole {
    /// The stable name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            PlatformRole::Operator => "operator",
        }
    }

    /// Parses a stable platform role name.
    pub fn parse(s: &str) -> Result<Self, RoleError> {
        match s {
            "operator" => Ok(PlatformRole::Operator),
            _ => Err(RoleError {
                expected: "operator",
            }),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(
            PlatformRole::parse(PlatformRole::Operator.as_str()),
            Ok(PlatformRole::Operator)
        );
    }

    #[test]
    fn mfa_policies() {
        assert!(!MfaPolicy::Optional.requires_mfa(&[Role::OrgAdmin]));
        assert!(MfaPolicy::Privileged.requires_mfa(&[Role::Coach, Role::Clinician]));
        assert!(!MfaPolicy::Privileged.requires_mfa(&[Role::Coach, Role::Athlete]));
        assert!(MfaPolicy::Everyone.requires_mfa(&[Role::Athlete]));
        for p in [
            MfaPolicy::Optional,
            MfaPolicy::Privileged,
            MfaPolicy::Everyone,
        ] {
            assert_eq!(MfaPolicy::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn unknown_roles_are_refused() {
        assert!(Role::parse("superuser").is_err());
        assert!(Role::parse("Clinician").is_err());
        assert!(PlatformRole::parse("root").is_err());
    }
}
