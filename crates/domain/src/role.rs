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
    fn unknown_roles_are_refused() {
        assert!(Role::parse("superuser").is_err());
        assert!(Role::parse("Clinician").is_err());
        assert!(PlatformRole::parse("root").is_err());
    }
}
