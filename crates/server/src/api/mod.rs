//! The versioned API, `/api/v1`. Every route is declared in [`ROUTES`] with the permission it
//! needs; the router is built from that table and the authorization middleware enforces it
//! before any handler runs, so a handler cannot forget its check. The authorization-matrix test
//! reads the same table and fails when a route has no matrix entry.

pub(crate) mod analytics;
pub(crate) mod assessments;
pub(crate) mod audit_log;
pub(crate) mod auth;
pub(crate) mod authz;
pub(crate) mod export;
pub(crate) mod injuries;
pub(crate) mod invite;
pub(crate) mod keys;
pub(crate) mod me;
pub(crate) mod members;
pub(crate) mod mfa;
pub(crate) mod monitoring;
pub(crate) mod orgs;
pub mod pipelines;
pub(crate) mod sso;
pub(crate) mod subjects;
pub(crate) mod teams;

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
            code: "invalid-date",
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
}

use Permission as P;
use Requirement::{Authenticated, InOrg, PendingSession, Public, Session};

/// Every API route.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/login",
        requirement: Public,
        handler: || post(auth::login),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/auth/session",
        requirement: Session,
        handler: || get(auth::session),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/logout",
        requirement: PendingSession,
        handler: || post(auth::logout),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/logout-all",
        requirement: Session,
        handler: || post(auth::logout_all),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/token",
        requirement: Session,
        handler: || post(auth::issue_token),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/token/refresh",
        requirement: Public,
        handler: || post(auth::refresh_token),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/invitations/accept",
        requirement: Public,
        handler: || post(invite::accept),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/password-reset",
        requirement: Public,
        handler: || post(invite::request_reset),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/password-reset/complete",
        requirement: Public,
        handler: || post(invite::complete_reset),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/invitations",
        requirement: InOrg(P::ManageMembers),
        handler: || post(invite::invite),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/mfa/verify",
        requirement: PendingSession,
        handler: || post(mfa::verify),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/mfa/totp",
        requirement: Session,
        handler: || post(mfa::begin),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/mfa/totp/confirm",
        requirement: Session,
        handler: || post(mfa::confirm),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/mfa-policy",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(mfa::get_policy),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/mfa-policy",
        requirement: InOrg(P::ManageOrganisation),
        handler: || axum::routing::put(mfa::set_policy),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/me",
        requirement: Authenticated,
        handler: || get(me::get),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/teams",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(teams::list),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/teams",
        requirement: InOrg(P::ManageTeams),
        handler: || post(teams::create),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/teams/{team}/staff/{user}",
        requirement: InOrg(P::ManageTeams),
        handler: || axum::routing::put(teams::add_staff),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/members",
        requirement: InOrg(P::ManageMembers),
        handler: || get(members::list),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/members/{user}/roles",
        requirement: InOrg(P::ManageMembers),
        handler: || axum::routing::put(members::set_roles),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/api-keys",
        requirement: InOrg(P::ManageMembers),
        handler: || get(keys::list),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/api-keys",
        requirement: InOrg(P::ManageMembers),
        handler: || post(keys::create),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/api-keys/{key}",
        requirement: InOrg(P::ManageMembers),
        handler: || delete(keys::revoke),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects",
        requirement: InOrg(P::ManageSubjects),
        handler: || post(subjects::create),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects",
        requirement: InOrg(P::ReadClinical),
        handler: || get(subjects::list),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}",
        requirement: InOrg(P::ReadClinical),
        handler: || get(subjects::get),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/orgs/{org}/subjects/{subject}",
        requirement: InOrg(P::ManageSubjects),
        handler: || patch(subjects::update),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/subjects/{subject}",
        requirement: InOrg(P::ManageSubjects),
        handler: || delete(subjects::archive),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects/{subject}/erase",
        requirement: InOrg(P::ManageOrganisation),
        handler: || post(subjects::erase),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/teams/{team}/subjects",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(subjects::list_team),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/teams/{team}/subjects/{subject}",
        requirement: InOrg(P::ManageSubjects),
        handler: || put(subjects::add_to_team),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects/{subject}/assessments",
        requirement: InOrg(P::UploadAssessments),
        handler: || post(assessments::upload),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/assessments",
        requirement: InOrg(P::ReadClinical),
        handler: || get(assessments::list),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/assessments/{assessment}",
        requirement: InOrg(P::ReadClinical),
        handler: || get(assessments::get),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects/{subject}/injuries",
        requirement: InOrg(P::WriteClinical),
        handler: || post(injuries::create),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/injuries",
        requirement: InOrg(P::ReadClinical),
        handler: || get(injuries::list),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/injuries/{injury}/decisions",
        requirement: InOrg(P::WriteClinical),
        handler: || post(injuries::decide),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/export",
        requirement: InOrg(P::ReadClinical),
        handler: || get(export::record),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/me/record",
        requirement: InOrg(P::ReadOwnRecord),
        handler: || get(export::own_record),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/fhir",
        requirement: InOrg(P::ReadClinical),
        handler: || get(export::fhir),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/subjects/{subject}/loads",
        requirement: InOrg(P::WriteClinical),
        handler: || post(monitoring::add_load),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/loads",
        requirement: InOrg(P::ReadClinical),
        handler: || get(monitoring::list_loads),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/norms",
        requirement: InOrg(P::ReadClinical),
        handler: || get(monitoring::norms),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/teams/{team}/metrics.csv",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(monitoring::team_csv),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/sso",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(sso::get),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/sso",
        requirement: InOrg(P::ManageOrganisation),
        handler: || put(sso::put),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/auth/sso/{org}/start",
        requirement: Public,
        handler: || get(sso::start),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/auth/sso/callback",
        requirement: Public,
        handler: || get(sso::callback),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/analytics/assessments",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(analytics::search),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/analytics/weekly",
        requirement: InOrg(P::ReadTeamReadiness),
        handler: || get(analytics::weekly),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}",
        requirement: InOrg(P::ManageOrganisation),
        handler: || get(orgs::get),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/orgs/{org}",
        requirement: InOrg(P::ManageOrganisation),
        handler: || patch(orgs::rename),
    },
    RouteSpec {
        method: "PATCH",
        path: "/api/v1/orgs/{org}/teams/{team}",
        requirement: InOrg(P::ManageTeams),
        handler: || patch(teams::rename),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/teams/{team}",
        requirement: InOrg(P::ManageTeams),
        handler: || delete(teams::archive),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/audit",
        requirement: InOrg(P::ReadAudit),
        handler: || get(audit_log::list),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/audit/export",
        requirement: InOrg(P::ReadAudit),
        handler: || get(audit_log::export),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/pipelines",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::list),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/pipelines/{pipeline}/runs",
        requirement: InOrg(P::RunPipelines),
        handler: || post(pipelines::start),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/pipelines/{pipeline}/schedule",
        requirement: InOrg(P::RunPipelines),
        handler: || put(pipelines::put_schedule),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/orgs/{org}/pipelines/{pipeline}/schedule",
        requirement: InOrg(P::RunPipelines),
        handler: || delete(pipelines::delete_schedule),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/pipeline-runs",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::runs),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/pipeline-runs/{run}",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::run),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/pipeline-runs/{run}/cancel",
        requirement: InOrg(P::RunPipelines),
        handler: || post(pipelines::cancel),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/models",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::models_list),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/model-versions/{version}",
        requirement: InOrg(P::RunPipelines),
        handler: || get(pipelines::version),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/model-versions/{version}/stage",
        requirement: InOrg(P::ApproveModels),
        handler: || post(pipelines::set_stage),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/models/{model}/onnx",
        requirement: InOrg(P::RunPipelines),
        handler: || post(pipelines::import_onnx),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/orgs/{org}/models/{model}/rollback",
        requirement: InOrg(P::ApproveModels),
        handler: || post(pipelines::rollback),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/risk",
        requirement: InOrg(P::ReadClinical),
        handler: || get(pipelines::latest),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/risk/thresholds",
        requirement: InOrg(P::ReadClinical),
        handler: || get(pipelines::thresholds),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/orgs/{org}/risk/thresholds",
        requirement: InOrg(P::ManageOrganisation),
        handler: || put(pipelines::put_thresholds),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orgs/{org}/subjects/{subject}/risk",
        requirement: InOrg(P::ReadClinical),
        handler: || get(pipelines::subject_risk),
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
