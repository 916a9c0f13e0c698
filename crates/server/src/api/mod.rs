//! The versioned API, `/api/v1`. Every route is declared once, in [`ROUTES`], with the permission
//! it needs and its description: the router is built from that table, the authorization
//! middleware enforces it before any handler runs (so a handler cannot forget its check), and
//! the OpenAPI document is generated from it. The authorization-matrix test
//! reads the same table and fails when a route has no matrix entry.

pub(crate) mod analytics;
pub(crate) mod assessments;
pub(crate) mod audit_log;
pub(crate) mod auth;
pub(crate) mod authz;
pub(crate) mod changes;
pub(crate) mod compliance;
pub(crate) mod datasets;
pub(crate) mod export;
pub(crate) mod fhir_bulk;
pub(crate) mod imports;
pub(crate) mod injuries;
pub(crate) mod invite;
pub(crate) mod keys;
pub(crate) mod me;
pub(crate) mod members;
pub(crate) mod mfa;
pub(crate) mod monitoring;
pub(crate) mod orgs;
pub mod pipelines;
pub(crate) mod security_alerts;
pub(crate) mod sets;
pub(crate) mod sso;
pub(crate) mod subjects;
pub(crate) mod teams;
pub(crate) mod webhooks;

use axum::Router;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use mhp_domain::Permission;

pub use assessments::IDEMPOTENCY_KEY;
pub use authz::{CSRF_HEADER, Grant, GrantReach};
pub use invite::MailLimits;
pub(crate) use subjects::PageOut;

use crate::{ApiError, AppState};

/// Parses an id from the path; a malformed one names nothing that exists, so it is a 404.
pub(crate) fn path_id<T>(
    text: &str,
    what: &'static str,
    parse: fn(&str) -> Result<T, mhp_domain::IdError>,
) -> Result<T, ApiError> {
    parse(text).map_err(|_| ApiError::NotFound(what))
}

/// Parses an optional `YYYY-MM-DD` field.
pub(crate) fn date_field(
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<mhp_domain::CalendarDate>, ApiError> {
    text.map(|t| {
        mhp_domain::CalendarDate::parse(t).map_err(|e| ApiError::Invalid {
            code: mhp_app::Code::InvalidDate,
            detail: format!("{field} {e}"),
        })
    })
    .transpose()
}

/// `Some(None)` for an explicit JSON `null`, `None` for an absent field (PATCH semantics).
pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

/// What a route demands of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Anyone; the handler authenticates if it must (sign-in).
    Public,
    /// Any authenticated caller.
    Authenticated,
    /// A person signed in with a web session (not an API key), second factor done if due.
    Session,
    /// A person with a session, even one whose second factor is still due (verify, sign out).
    PendingSession,
    /// A permission in the organisation named by the path's `{org}`.
    InOrg(Permission),
    /// Any role in the organisation named by the path's `{org}` (pages every member has);
    /// the grant reaches nothing beyond the caller's own record.
    Member,
    /// A platform operator signed in as a person (never an API key): platform-wide views
    /// such as every security alert.
    PlatformOperator,
}

/// One API route.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// The HTTP method.
    pub method: &'static str,
    /// The path template.
    pub path: &'static str,
    /// What the caller needs.
    pub requirement: Requirement,
    handler: fn() -> MethodRouter<AppState>,
    /// What the OpenAPI document says of it: summary, query, body, success statuses and body.
    pub doc: Doc,
}

use crate::openapi::Reply::{BulkStatus, Csv, Empty, Fhir, FhirNdjson, Json, JsonLines};
use crate::openapi::{Body, Doc, doc, list, page, s, with_body, with_query};
use Permission as P;
use Requirement::{Authenticated, InOrg, PendingSession, PlatformOperator, Public, Session};

/// Every API route.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/login",
        requirement: Public,
        handler: || post(auth::login),
        doc: with_body(
            doc(
                "Sign in with e-mail and password",
                &[200],
                Json(s::<auth::SignedIn>),
            ),
            Body::Json(s::<auth::Login>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/auth/session",
        requirement: Session,
        handler: || get(auth::session),
        doc: doc(
            "The current web session",
            &[200],
            Json(s::<auth::SessionOut>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/logout",
        requirement: PendingSession,
        handler: || post(auth::logout),
        doc: doc("Sign out of this session", &[204], Empty),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/logout-all",
        requirement: Session,
        handler: || post(auth::logout_all),
        doc: doc("Sign out everywhere", &[204], Empty),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/token",
        requirement: Session,
        handler: || post(auth::issue_token),
        doc: doc(
            "Issue an access and a refresh token for this session",
            &[200],
            Json(s::<auth::TokenPair>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/token/refresh",
        requirement: Public,
        handler: || post(auth::refresh_token),
        doc: with_body(
            doc(
                "Exchange a refresh token (rotated on use)",
                &[200],
                Json(s::<auth::TokenPair>),
            ),
            Body::Json(s::<auth::Refresh>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/invitations/accept",
        requirement: Public,
        handler: || post(invite::accept),
        doc: with_body(
            doc("Accept an invitation", &[201], Json(s::<invite::Joined>)),
            Body::Json(s::<invite::Accept>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/password-reset",
        requirement: Public,
        handler: || post(invite::request_reset),
        doc: with_body(
            doc("Ask for a password reset (always accepted)", &[202], Empty),
            Body::Json(s::<invite::ResetRequest>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/password-reset/complete",
        requirement: Public,
        handler: || post(invite::complete_reset),
        doc: with_body(
            doc("Set a new password with a reset token", &[204], Empty),
            Body::Json(s::<invite::ResetComplete>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/invitations",
        requirement: InOrg(P::ManageMembers),
        handler: || post(invite::invite),
        doc: with_body(
            doc(
                "Invite a person to the organisation",
                &[201],
                Json(s::<invite::InvitationOut>),
            ),
            Body::Json(s::<invite::NewInvitation>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/mfa/verify",
        requirement: PendingSession,
        handler: || post(mfa::verify),
        doc: with_body(
            doc(
                "Verify the second factor of a sign-in",
                &[200],
                Json(s::<mfa::Verified>),
            ),
            Body::Json(s::<mfa::Code>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/mfa/totp",
        requirement: Session,
        handler: || post(mfa::begin),
        doc: doc(
            "Begin enrolling an authenticator app",
            &[200],
            Json(s::<mfa::TotpSecret>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/mfa/totp/confirm",
        requirement: Session,
        handler: || post(mfa::confirm),
        doc: with_body(
            doc(
                "Confirm the authenticator with its first code",
                &[200],
                Json(s::<mfa::RecoveryCodes>),
            ),
            Body::Json(s::<mfa::Code>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/mfa-policy",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(mfa::get_policy),
        doc: doc(
            "The organisation's MFA policy",
            &[200],
            Json(s::<mfa::PolicyOut>),
        ),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/mfa-policy",
        requirement: InOrg(P::ManageOrganisation),
        handler: || axum::routing::put(mfa::set_policy),
        doc: with_body(
            doc(
                "Set the organisation's MFA policy",
                &[200],
                Json(s::<mfa::PolicyOut>),
            ),
            Body::Json(s::<mfa::PolicyBody>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/me",
        requirement: Authenticated,
        handler: || get(me::get),
        doc: doc("Who is calling", &[200], Json(s::<me::Me>)),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/me",
        requirement: Authenticated,
        handler: || patch(me::update),
        doc: with_body(
            doc("Set the units you see values in", &[200], Json(s::<me::Me>)),
            Body::Json(s::<me::UnitsPatch>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/teams",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(teams::list),
        doc: with_query(
            doc("List teams", &[200], Json(list::<teams::TeamOut>)),
            s::<teams::ListQuery>,
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/teams",
        requirement: InOrg(P::ManageTeams),
        handler: || post(teams::create),
        doc: with_body(
            doc("Create a team", &[201], Json(s::<teams::TeamOut>)),
            Body::Json(s::<teams::NewTeam>),
        ),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/teams/{team}/staff/{user}",
        requirement: InOrg(P::ManageTeams),
        handler: || axum::routing::put(teams::add_staff),
        doc: doc("Make a member staff of a team", &[204], Empty),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/members",
        requirement: InOrg(P::ManageMembers),
        handler: || get(members::list),
        doc: doc(
            "List members and their roles",
            &[200],
            Json(list::<members::MemberOut>),
        ),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/members/{user}/roles",
        requirement: InOrg(P::ManageMembers),
        handler: || axum::routing::put(members::set_roles),
        doc: with_body(
            doc("Set a member's roles", &[204], Empty),
            Body::Json(s::<members::Roles>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/api-keys",
        requirement: InOrg(P::ManageMembers),
        handler: || get(keys::list),
        doc: doc("List API keys", &[200], Json(list::<keys::KeyOut>)),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/api-keys",
        requirement: InOrg(P::ManageMembers),
        handler: || post(keys::create),
        doc: with_body(
            doc(
                "Create an API key (its token is shown once)",
                &[201],
                Json(s::<keys::NewKeyOut>),
            ),
            Body::Json(s::<keys::NewKey>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/api-keys/{key}/rotate",
        requirement: InOrg(P::ManageMembers),
        handler: || post(keys::rotate),
        doc: with_body(
            doc(
                "Give an API key a new secret (shown once); the old one works for the overlap",
                &[200],
                Json(s::<keys::NewKeyOut>),
            ),
            Body::Json(s::<keys::RotateKey>),
        ),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/api-keys/{key}",
        requirement: InOrg(P::ManageMembers),
        handler: || delete(keys::revoke),
        doc: doc("Revoke an API key", &[204], Empty),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/fhir/Patient/$export",
        requirement: InOrg(P::ReadClinical),
        handler: || get(fhir_bulk::kick_off_patients),
        doc: with_query(
            doc(
                "FHIR Bulk Data export of the organisation's patients (202, Content-Location: \
                 the status URL)",
                &[202],
                Empty,
            ),
            s::<fhir_bulk::KickOff>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/fhir/Group/{team}/$export",
        requirement: InOrg(P::ReadClinical),
        handler: || get(fhir_bulk::kick_off_group),
        doc: with_query(
            doc(
                "FHIR Bulk Data export of a group's patients (a team; 202, Content-Location: \
                 the status URL)",
                &[202],
                Empty,
            ),
            s::<fhir_bulk::KickOff>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/fhir/bulk/{job}",
        requirement: InOrg(P::ReadClinical),
        handler: || get(fhir_bulk::status),
        doc: doc(
            "A bulk export's status: 202 while it runs, its manifest when done",
            &[200, 202],
            BulkStatus,
        ),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/fhir/bulk/{job}",
        requirement: InOrg(P::ReadClinical),
        handler: || delete(fhir_bulk::delete),
        doc: doc("Cancel a bulk export or delete its files", &[202], Empty),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/fhir/bulk/{job}/{file}",
        requirement: InOrg(P::ReadClinical),
        handler: || get(fhir_bulk::file),
        doc: doc(
            "One file of a bulk export (`Patient.ndjson`, `Observation.ndjson`) until it expires",
            &[200],
            FhirNdjson,
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/import/subjects",
        requirement: InOrg(P::ManageSubjects),
        handler: || post(imports::subjects),
        doc: with_body(
            doc(
                "Import subjects from CSV or NDJSON: all or none, every row that cannot be \
                 taken reported by number (422, `errors`)",
                &[201, 422],
                Json(s::<imports::ImportedOut>),
            ),
            Body::Rows,
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/import/loads",
        requirement: InOrg(P::WriteClinical),
        handler: || post(imports::loads),
        doc: with_body(
            doc(
                "Import training sessions (session-RPE) from CSV or NDJSON, each naming its subject by `subject` or `external_id`: all or none, every row that cannot be \
                 taken reported by number (422, `errors`)",
                &[201, 422],
                Json(s::<imports::ImportedOut>),
            ),
            Body::Rows,
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/import/injuries",
        requirement: InOrg(P::WriteClinical),
        handler: || post(imports::injuries),
        doc: with_body(
            doc(
                "Import injuries from CSV or NDJSON, each naming its subject by `subject` or `external_id`; the ids come back in row order: all or none, every row that cannot be \
                 taken reported by number (422, `errors`)",
                &[201, 422],
                Json(s::<imports::ImportedOut>),
            ),
            Body::Rows,
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/import/decisions",
        requirement: InOrg(P::WriteClinical),
        handler: || post(imports::decisions),
        doc: with_body(
            doc(
                "Import return-to-duty decisions from CSV or NDJSON, each naming its `injury`, in row order: all or none, every row that cannot be \
                 taken reported by number (422, `errors`)",
                &[201, 422],
                Json(s::<imports::ImportedOut>),
            ),
            Body::Rows,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/changes",
        requirement: InOrg(P::ReadClinical),
        handler: || get(changes::list),
        doc: with_query(
            doc(
                "What changed since a cursor, in commit order, erasures as tombstones (for \
                 mirrors: incremental sync)",
                &[200],
                Json(s::<changes::ChangesOut>),
            ),
            s::<changes::ChangesQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/webhooks",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(webhooks::list),
        doc: doc(
            "List the organisation's webhooks",
            &[200],
            Json(list::<webhooks::WebhookOut>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/webhooks",
        requirement: InOrg(P::ManageOrganisation),
        handler: || post(webhooks::create),
        doc: with_body(
            doc(
                "Create a webhook (its signing secret is shown once)",
                &[201, 422],
                Json(s::<webhooks::WebhookWithSecret>),
            ),
            Body::Json(s::<webhooks::NewWebhookIn>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/webhooks/{webhook}",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(webhooks::get),
        doc: doc("A webhook", &[200], Json(s::<webhooks::WebhookOut>)),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/orgs/{org}/webhooks/{webhook}",
        requirement: InOrg(P::ManageOrganisation),
        handler: || patch(webhooks::update),
        doc: with_body(
            doc(
                "Change a webhook (disabling it cancels its pending deliveries)",
                &[200, 422],
                Json(s::<webhooks::WebhookOut>),
            ),
            Body::Json(s::<webhooks::WebhookPatch>),
        ),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/webhooks/{webhook}",
        requirement: InOrg(P::ManageOrganisation),
        handler: || delete(webhooks::delete),
        doc: doc("Delete a webhook", &[204], Empty),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/webhooks/{webhook}/rotate-secret",
        requirement: InOrg(P::ManageOrganisation),
        handler: || post(webhooks::rotate_secret),
        doc: with_body(
            doc(
                "Give a webhook a new secret (shown once); the old one signs beside it for the \
                 overlap",
                &[200, 409],
                Json(s::<webhooks::WebhookWithSecret>),
            ),
            Body::Json(s::<webhooks::RotateIn>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/webhooks/{webhook}/deliveries",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(webhooks::deliveries),
        doc: with_query(
            doc(
                "A webhook's delivery log, newest first",
                &[200],
                Json(list::<webhooks::DeliveryOut>),
            ),
            s::<webhooks::DeliveriesQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/webhooks/{webhook}/deliveries/{delivery}",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(webhooks::delivery),
        doc: doc(
            "A delivery with its attempts",
            &[200],
            Json(s::<webhooks::DeliveryDetail>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/webhooks/{webhook}/deliveries/{delivery}/redeliver",
        requirement: InOrg(P::ManageOrganisation),
        handler: || post(webhooks::redeliver),
        doc: doc(
            "Send a delivery again now, with the same message id",
            &[202, 409],
            Json(s::<webhooks::DeliveryOut>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects",
        requirement: InOrg(P::ManageSubjects),
        handler: || post(subjects::create),
        doc: with_body(
            doc("Create a subject", &[201], Json(s::<subjects::SubjectOut>)),
            Body::Json(s::<subjects::NewSubjectIn>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects",
        requirement: InOrg(P::ReadClinical),
        handler: || get(subjects::list),
        doc: with_query(
            doc(
                "List and search subjects",
                &[200],
                Json(page::<subjects::SubjectOut>),
            ),
            s::<subjects::ListQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}",
        requirement: InOrg(P::ReadClinical),
        handler: || get(subjects::get),
        doc: doc("Read a subject", &[200], Json(s::<subjects::SubjectOut>)),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/orgs/{org}/subjects/{subject}",
        requirement: InOrg(P::ManageSubjects),
        handler: || patch(subjects::update),
        doc: with_body(
            doc(
                "Update a subject (null clears a field)",
                &[200],
                Json(s::<subjects::SubjectOut>),
            ),
            Body::Json(s::<subjects::SubjectPatch>),
        ),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/subjects/{subject}",
        requirement: InOrg(P::ManageSubjects),
        handler: || delete(subjects::archive),
        doc: doc("Archive a subject", &[204], Empty),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects/{subject}/erase",
        requirement: InOrg(P::ManageOrganisation),
        handler: || post(subjects::erase),
        doc: doc(
            "Erase a subject for good: its key is destroyed (crypto-shredding), so its \
             identifiers, notes and raw signals are unreadable everywhere, backups included",
            &[200],
            Json(s::<subjects::ErasureOut>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/teams/{team}/subjects",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(subjects::list_team),
        doc: with_query(
            doc(
                "A team's roster with availability",
                &[200],
                Json(page::<subjects::SubjectOut>),
            ),
            s::<subjects::ListQuery>,
        ),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/teams/{team}/subjects/{subject}",
        requirement: InOrg(P::ManageSubjects),
        handler: || put(subjects::add_to_team),
        doc: doc("Put a subject on a team's roster", &[204], Empty),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects/{subject}/assessments",
        requirement: InOrg(P::UploadAssessments),
        handler: || post(assessments::upload),
        doc: with_query(
            with_body(
                doc(
                    "Upload a force-plate recording (Idempotency-Key makes a retry count once)",
                    &[201, 200],
                    Json(s::<assessments::AssessmentOut>),
                ),
                Body::Upload,
            ),
            s::<assessments::UploadQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/assessments",
        requirement: InOrg(P::ReadClinical),
        handler: || get(assessments::list),
        doc: with_query(
            doc(
                "A subject's assessments, newest first",
                &[200],
                Json(page::<assessments::AssessmentOut>),
            ),
            s::<assessments::ListQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/assessments/{assessment}",
        requirement: InOrg(P::ReadClinical),
        handler: || get(assessments::get),
        doc: doc(
            "An assessment with its report and analysis versions",
            &[200],
            Json(s::<assessments::AssessmentOut>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects/{subject}/injuries",
        requirement: InOrg(P::WriteClinical),
        handler: || post(injuries::create),
        doc: with_body(
            doc("Record an injury", &[201], Json(s::<injuries::InjuryOut>)),
            Body::Json(s::<injuries::NewInjury>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/injuries",
        requirement: InOrg(P::ReadClinical),
        handler: || get(injuries::list),
        doc: doc(
            "A subject's injuries with their return-to-duty decisions",
            &[200],
            Json(list::<injuries::InjuryOut>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/injuries/{injury}/decisions",
        requirement: InOrg(P::WriteClinical),
        handler: || post(injuries::decide),
        doc: with_body(
            doc(
                "Record a return-to-duty decision",
                &[201],
                Json(s::<injuries::InjuryOut>),
            ),
            Body::Json(s::<injuries::NewDecision>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/export",
        requirement: InOrg(P::ReadClinical),
        handler: || get(export::record),
        doc: doc(
            "The subject's whole record (right of access)",
            &[200],
            Json(s::<export::RecordOut>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/me/record",
        requirement: InOrg(P::ReadOwnRecord),
        handler: || get(export::own_record),
        doc: doc(
            "The caller's own record (an athlete's right of access); 404 when none is linked",
            &[200],
            Json(s::<export::RecordOut>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/me/fhir",
        requirement: InOrg(P::ReadOwnRecord),
        handler: || get(export::own_fhir),
        doc: doc(
            "The caller's own jump metrics as a FHIR R4 Bundle; 404 when no record is linked",
            &[200],
            Fhir,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/fhir",
        requirement: InOrg(P::ReadClinical),
        handler: || get(export::fhir),
        doc: doc("Jump metrics as a FHIR R4 Bundle", &[200], Fhir),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects/{subject}/loads",
        requirement: InOrg(P::WriteClinical),
        handler: || post(monitoring::add_load),
        doc: with_body(
            doc(
                "Record a training session's load (session-RPE)",
                &[201],
                Json(s::<monitoring::LoadOut>),
            ),
            Body::Json(s::<monitoring::NewLoad>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/loads",
        requirement: InOrg(P::ReadClinical),
        handler: || get(monitoring::list_loads),
        doc: with_query(
            doc(
                "Training loads and the acute:chronic ratio",
                &[200],
                Json(s::<monitoring::LoadsOut>),
            ),
            s::<monitoring::LoadQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/norms",
        requirement: InOrg(P::ReadClinical),
        handler: || get(monitoring::norms),
        doc: with_query(
            doc(
                "Percentiles, T-scores and change from baseline of the key metrics",
                &[200],
                Json(s::<mhp_app::monitoring::Norms>),
            ),
            s::<monitoring::NormsQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/teams/{team}/metrics.csv",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(monitoring::team_csv),
        doc: doc("A team's metrics per assessment, as CSV", &[200], Csv),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/sso",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(sso::get),
        doc: doc(
            "The organisation's single sign-on provider (null when none)",
            &[200],
            Json(s::<Option<sso::SsoView>>),
        ),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/sso",
        requirement: InOrg(P::ManageOrganisation),
        handler: || put(sso::put),
        doc: with_body(
            doc(
                "Set the organisation's single sign-on provider",
                &[200],
                Json(s::<sso::SsoView>),
            ),
            Body::Json(s::<sso::SsoSettings>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/sso/domains/{domain}/verify",
        requirement: InOrg(P::ManageOrganisation),
        handler: || post(sso::verify_domain),
        doc: doc(
            "Check a domain's proof of ownership (its DNS TXT record) and record it when found",
            &[200, 422, 503],
            Json(s::<sso::DomainStatus>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/auth/sso/{org}/start",
        requirement: Public,
        handler: || get(sso::start),
        doc: doc(
            "Start single sign-on: redirects to the provider",
            &[303],
            Empty,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/auth/sso/callback",
        requirement: Public,
        handler: || get(sso::callback),
        doc: with_query(
            doc(
                "Finish single sign-on (the provider redirects here)",
                &[200],
                Json(s::<sso::SsoSignedIn>),
            ),
            s::<sso::CallbackQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/analytics/assessments",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(analytics::search),
        doc: with_query(
            doc(
                "Search assessments in the document index (pseudonyms only)",
                &[200],
                Json(list::<analytics::DocOut>),
            ),
            s::<analytics::SearchQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/analytics/weekly",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(analytics::weekly),
        doc: with_query(
            doc(
                "A metric's mean and percentiles per week",
                &[200],
                Json(list::<analytics::WeekOut>),
            ),
            s::<analytics::SearchQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(orgs::get),
        doc: doc("The organisation", &[200], Json(s::<orgs::OrgOut>)),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/orgs/{org}",
        requirement: InOrg(P::ManageOrganisation),
        handler: || patch(orgs::update),
        doc: with_body(
            doc(
                "Rename the organisation or set its time zone",
                &[200],
                Json(s::<orgs::OrgOut>),
            ),
            Body::Json(s::<orgs::OrgPatch>),
        ),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/orgs/{org}/teams/{team}",
        requirement: InOrg(P::ManageTeams),
        handler: || patch(teams::rename),
        doc: with_body(
            doc("Rename a team", &[200], Json(s::<teams::TeamOut>)),
            Body::Json(s::<teams::TeamPatch>),
        ),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/teams/{team}",
        requirement: InOrg(P::ManageTeams),
        handler: || delete(teams::archive),
        doc: doc("Archive a team", &[204], Empty),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/audit",
        requirement: InOrg(P::ReadAudit),
        handler: || get(audit_log::list),
        doc: with_query(
            doc(
                "The organisation's audit events, oldest first",
                &[200],
                Json(s::<audit_log::EventsOut>),
            ),
            s::<audit_log::AuditQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/audit/export",
        requirement: InOrg(P::ReadAudit),
        handler: || get(audit_log::export),
        doc: with_query(
            doc("The audit events as JSON lines", &[200], JsonLines),
            s::<audit_log::AuditQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/security/alerts",
        requirement: InOrg(P::ReadSecurityReports),
        handler: || get(security_alerts::list),
        doc: with_query(
            doc(
                "The organisation's security alerts, newest first",
                &[200],
                Json(s::<security_alerts::AlertsOut>),
            ),
            s::<security_alerts::AlertQuery>,
        ),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/orgs/{org}/security/alerts/{alert}",
        requirement: InOrg(P::ManageOrganisation),
        handler: || patch(security_alerts::set_status),
        doc: with_body(
            doc(
                "Acknowledge, resolve or reopen an alert (resolving needs a reason)",
                &[200, 404],
                Json(s::<security_alerts::AlertOut>),
            ),
            Body::Json(s::<security_alerts::StatusBody>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/compliance/report",
        requirement: InOrg(P::ReadSecurityReports),
        handler: || get(compliance::org),
        doc: with_query(
            doc(
                "The newest compliance self-check of the deployment (HIPAA, SOC 2) and its history",
                &[200, 404],
                Json(s::<compliance::ReportOut>),
            ),
            s::<compliance::ReportQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/compliance/report",
        requirement: PlatformOperator,
        handler: || get(compliance::platform),
        doc: with_query(
            doc(
                "The newest compliance self-check of the deployment and its history (platform operator)",
                &[200, 404],
                Json(s::<compliance::ReportOut>),
            ),
            s::<compliance::ReportQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/security/alerts",
        requirement: PlatformOperator,
        handler: || get(security_alerts::list_all),
        doc: with_query(
            doc(
                "Every security alert, the platform's and every organisation's (platform operator)",
                &[200],
                Json(s::<security_alerts::AlertsOut>),
            ),
            s::<security_alerts::AlertQuery>,
        ),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/security/alerts/{alert}",
        requirement: PlatformOperator,
        handler: || patch(security_alerts::set_status_any),
        doc: with_body(
            doc(
                "Acknowledge, resolve or reopen any alert (platform operator)",
                &[200, 404],
                Json(s::<security_alerts::AlertOut>),
            ),
            Body::Json(s::<security_alerts::StatusBody>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/pipelines",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::list),
        doc: doc(
            "The pipelines there are, with the organisation's schedules",
            &[200],
            Json(list::<pipelines::PipelineOut>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/pipelines/{pipeline}/runs",
        requirement: InOrg(P::RunPipelines),
        handler: || post(pipelines::start),
        doc: with_body(
            doc(
                "Start a run of a pipeline (workers pick it up)",
                &[202],
                Json(s::<pipelines::RunOut>),
            ),
            Body::Json(s::<pipelines::NewRunIn>),
        ),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/pipelines/{pipeline}/schedule",
        requirement: InOrg(P::RunPipelines),
        handler: || put(pipelines::put_schedule),
        doc: with_body(
            doc(
                "Schedule a pipeline with a cron expression in a time zone",
                &[200],
                Json(s::<pipelines::ScheduleOut>),
            ),
            Body::Json(s::<pipelines::ScheduleIn>),
        ),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/pipelines/{pipeline}/schedule",
        requirement: InOrg(P::RunPipelines),
        handler: || delete(pipelines::delete_schedule),
        doc: doc("Remove a pipeline's schedule", &[204], Empty),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/pipeline-runs",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::runs),
        doc: with_query(
            doc(
                "Pipeline runs, newest first",
                &[200],
                Json(list::<pipelines::RunOut>),
            ),
            s::<pipelines::RunsQuery>,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/pipeline-runs/{run}",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::run),
        doc: doc(
            "A run with its steps (attempts, outputs, errors) and log",
            &[200],
            Json(s::<pipelines::RunOut>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/pipeline-runs/{run}/cancel",
        requirement: InOrg(P::RunPipelines),
        handler: || post(pipelines::cancel),
        doc: doc(
            "Cancel a run (a running step stops at its next heartbeat)",
            &[200],
            Json(s::<pipelines::RunOut>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/datasets",
        requirement: InOrg(P::ReadDeidentified),
        handler: || get(datasets::list),
        doc: doc(
            "De-identified datasets the risk pipeline built, newest first",
            &[200],
            Json(s::<Vec<datasets::DatasetOut>>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/datasets/{run}/csv",
        requirement: InOrg(P::ReadDeidentified),
        handler: || get(datasets::csv),
        doc: doc(
            "A dataset's rows as CSV (pseudonyms only; the export is audited)",
            &[200],
            Csv,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/datasets/{run}/predictions.csv",
        requirement: InOrg(P::ReadDeidentified),
        handler: || get(datasets::predictions_csv),
        doc: doc(
            "The run's evaluation per test row (`subject,time,label,probability,band`, \
             pseudonyms and weeks as in the dataset CSV; the export is audited)",
            &[200],
            Csv,
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/models",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::models_list),
        doc: doc(
            "Models and their versions, with stages, lineage and metrics",
            &[200],
            Json(list::<pipelines::ModelOut>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/model-versions/{version}",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::version),
        doc: doc(
            "A model version: lineage, evaluation, stage",
            &[200],
            Json(s::<pipelines::VersionOut>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/model-versions/{version}/stage",
        requirement: InOrg(P::ApproveModels),
        handler: || post(pipelines::set_stage),
        doc: with_body(
            doc(
                "Move a version to staging, production (approval) or archived",
                &[200],
                Json(s::<pipelines::VersionOut>),
            ),
            Body::Json(s::<pipelines::StageIn>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/models/{model}/onnx",
        requirement: InOrg(P::RunPipelines),
        handler: || post(pipelines::import_onnx),
        doc: with_body(
            doc(
                "Import an ONNX model (checked against the feature schema and sample rows)",
                &[201],
                Json(s::<pipelines::VersionOut>),
            ),
            Body::Json(s::<pipelines::OnnxUpload>),
        ),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/models/{model}/rollback",
        requirement: InOrg(P::ApproveModels),
        handler: || post(pipelines::rollback),
        doc: doc(
            "Roll production back to the version before it",
            &[200],
            Json(s::<pipelines::VersionOut>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/risk",
        requirement: InOrg(P::ReadClinical),
        handler: || get(pipelines::latest),
        doc: doc(
            "Every subject's latest injury-risk score, highest first, with the bands",
            &[200],
            Json(s::<pipelines::RiskOut>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/risk/thresholds",
        requirement: InOrg(P::ReadClinical),
        handler: || get(pipelines::thresholds),
        doc: doc(
            "The organisation's risk-band thresholds",
            &[200],
            Json(s::<pipelines::ThresholdsOut>),
        ),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/risk/thresholds",
        requirement: InOrg(P::ManageOrganisation),
        handler: || put(pipelines::put_thresholds),
        doc: with_body(
            doc(
                "Set the risk-band thresholds",
                &[200],
                Json(s::<pipelines::ThresholdsOut>),
            ),
            Body::Json(s::<pipelines::ThresholdsOut>),
        ),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/risk",
        requirement: InOrg(P::ReadClinical),
        handler: || get(pipelines::subject_risk),
        doc: with_query(
            doc(
                "A subject's injury-risk scores with their model version and top contributions",
                &[200],
                Json(list::<pipelines::ScoreOut>),
            ),
            s::<pipelines::HistoryQuery>,
        ),
    },
];

/// The API router: every route of [`ROUTES`], behind the authorization middleware.
pub fn routes(state: AppState) -> Router<AppState> {
    let router = ROUTES.iter().fold(Router::new(), |r, spec| {
        r.route(spec.path, (spec.handler)())
    });
    router.route_layer(axum::middleware::from_fn_with_state(
        state,
        authz::authorize,
    ))
}
