//! The access policy: which organisation role may do what. This table is the one place where
//! roles turn into permissions; handlers state the permission they need and never compare roles
//! themselves. It follows the role table of DESIGN.md.

use crate::Role;

/// Something a request may want to do inside one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Organisation settings: SSO, MFA policy, retention.
    ManageOrganisation,
    /// Invite, remove and change the roles of members.
    ManageMembers,
    /// Create, rename and archive teams, assign staff.
    ManageTeams,
    /// Create, update and archive subjects (the roster).
    ManageSubjects,
    /// Read subjects' identifiers and clinical records (PHI).
    ReadClinical,
    /// Record assessments, injuries, return-to-duty decisions and notes.
    WriteClinical,
    /// Upload force-plate recordings.
    UploadAssessments,
    /// Readiness, risk bands and metric trends of teams (no diagnoses, no notes).
    ReadTeamReadiness,
    /// One's own record, and its export.
    ReadOwnRecord,
    /// De-identified datasets for modelling.
    ReadDeidentified,
    /// Define and run pipelines, train and promote models.
    RunPipelines,
    ApproveModels,
    /// The organisation's audit log.
    ReadAudit,
    /// Security alerts and compliance reports.
    ReadSecurityReports,
}

impl Permission {
    /// The permission's stable name, in snake case (`read_clinical`), as problem details name
    /// a missing one.
    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::ManageOrganisation => "manage_organisation",
            Permission::ManageMembers => "manage_members",
            Permission::ManageTeams => "manage_teams",
            Permission::ManageSubjects => "manage_subjects",
            Permission::ReadClinical => "read_clinical",
            Permission::WriteClinical => "write_clinical",
            Permission::UploadAssessments => "upload_assessments",
            Permission::ReadTeamReadiness => "read_team_readiness",
            Permission::ReadOwnRecord => "read_own_record",
            Permission::ReadDeidentified => "read_deidentified",
            Permission::RunPipelines => "run_pipelines",
            Permission::ApproveModels => "approve_models",
            Permission::ReadAudit => "read_audit",
            Permission::ReadSecurityReports => "read_security_reports",
        }
    }
}

/// How far a permission granted through a role reaches inside the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// The subject's own record only (athletes).
    OwnRecord,
    /// The teams the person is staff of (coaches, commanders).
    OwnTeams,
    /// The whole organisation.
    Organisation,
}

/// The reach a role's permissions have.
pub const fn reach_of(role: Role) -> Reach {
    match role {
        Role::Coach => Reach::OwnTeams,
        Role::Athlete => Reach::OwnRecord,
        _ => Reach::Organisation,
    }
}

/// The widest reach with which any of `roles` grants `permission`, or `None` when none does.
pub fn widest_reach(roles: &[Role], permission: Permission) -> Option<Reach> {
    roles
        .iter()
        .filter(|r| role_allows(**r, permission))
        .map(|r| reach_of(*r))
        .max()
}

/// Whether a role grants a permission. Deny by default: a pair not listed here is refused.
pub fn role_allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    match role {
        Role::OrgAdmin => !matches!(permission, P::ReadOwnRecord),
        Role::Clinician => matches!(
            permission,
            P::ManageSubjects
                | P::ReadClinical
                | P::WriteClinical
                | P::UploadAssessments
                | P::ReadTeamReadiness
        ),
        Role::Coach => matches!(permission, P::ReadTeamReadiness),
        Role::Athlete => matches!(permission, P::ReadOwnRecord),
        Role::DataScientist => matches!(permission, P::ReadDeidentified | P::RunPipelines),
        Role::Auditor => matches!(permission, P::ReadAudit | P::ReadSecurityReports),
        Role::Device => matches!(permission, P::UploadAssessments),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission as P;

    #[test]
    fn only_clinical_roles_read_phi() {
        let readers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| role_allows(*r, P::ReadClinical))
            .collect();
        assert_eq!(readers, vec![Role::OrgAdmin, Role::Clinician]);
    }

    #[test]
    fn devices_may_only_upload() {
        assert!(role_allows(Role::Device, P::UploadAssessments));
        for p in [
            P::ReadClinical,
            P::ReadTeamReadiness,
            P::ReadOwnRecord,
            P::ReadAudit,
        ] {
            assert!(!role_allows(Role::Device, p), "{p:?}");
        }
    }

    #[test]
    fn coaches_see_readiness_but_not_diagnoses() {
        assert!(role_allows(Role::Coach, P::ReadTeamReadiness));
        assert!(!role_allows(Role::Coach, P::ReadClinical));
    }

    #[test]
    fn data_scientists_never_see_identified_data() {
        assert!(role_allows(Role::DataScientist, P::ReadDeidentified));
        assert!(!role_allows(Role::DataScientist, P::ReadClinical));
        assert!(!role_allows(Role::DataScientist, P::ReadOwnRecord));
    }

    #[test]
    fn coaches_reach_their_teams_unless_another_role_reaches_further() {
        assert_eq!(
            widest_reach(&[Role::Coach], P::ReadTeamReadiness),
            Some(Reach::OwnTeams)
        );
        assert_eq!(
            widest_reach(&[Role::Coach, Role::Clinician], P::ReadTeamReadiness),
            Some(Reach::Organisation)
        );
        assert_eq!(
            widest_reach(&[Role::Athlete], P::ReadOwnRecord),
            Some(Reach::OwnRecord)
        );
        assert_eq!(widest_reach(&[Role::Coach], P::ManageTeams), None);
        assert_eq!(widest_reach(&[], P::ReadTeamReadiness), None);
    }

    #[test]
    fn auditors_read_the_log_not_phi() {
        assert!(role_allows(Role::Auditor, P::ReadAudit));
        assert!(!role_allows(Role::Auditor, P::ReadClinical));
    }
}
