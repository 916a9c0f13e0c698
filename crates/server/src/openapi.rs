//! The OpenAPI 3.1 document of `/api/v1`, generated from the code: paths, methods, path
//! parameters and security from [`api::ROUTES`](crate::api::ROUTES), request and response
//! schemas derived (schemars, JSON Schema 2020-12) from the types the handlers read and write.
//! A test fails when a route has no entry in [`DOCS`]; schemathesis, run against the live
//! server by the test script, checks that answers keep to the document.

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use crate::api::{self, Requirement};

/// Makes a schema in a generator.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

fn page<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<api::PageOut<T>>()
}

fn list<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<Vec<T>>()
}

/// What a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// Nothing.
    None,
    /// A JSON object of this schema.
    Json(SchemaFn),
    /// A force-plate file: CSV or JSON as the body, or a multipart form with a `file` field.
    Upload,
}

/// What a successful answer carries.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// No body.
    Empty,
    /// JSON of this schema.
    Json(SchemaFn),
    /// CSV text.
    Csv,
    /// JSON lines.
    JsonLines,
    /// A FHIR R4 resource.
    Fhir,
}

/// One route's description.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    /// One line.
    pub summary: &'static str,
    /// The query parameters, as the fields of a struct.
    pub query: Option<SchemaFn>,
    /// The body.
    pub body: Body,
    /// The success statuses.
    pub ok: &'static [u16],
    /// The success body.
    pub reply: Reply,
}

const fn doc(summary: &'static str, ok: &'static [u16], reply: Reply) -> Doc {
    Doc {
        summary,
        query: None,
        body: Body::None,
        ok,
        reply,
    }
}

const fn with_body(mut d: Doc, body: Body) -> Doc {
    d.body = body;
    d
}

const fn with_query(mut d: Doc, q: SchemaFn) -> Doc {
    d.query = Some(q);
    d
}

fn user_ref(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["id", "email", "display_name"],
        "properties": {
            "id": {"type": "string"}, "email": {"type": "string"}, "display_name": {"type": "string"}
        }
    })
}

fn signed_in(g: &mut SchemaGenerator) -> Schema {
    let user = user_ref(g);
    json_schema!({
        "type": "object",
        "required": ["user", "csrf_token", "mfa_required", "password_change_required"],
        "properties": {
            "user": user, "csrf_token": {"type": "string"},
            "mfa_required": {"type": "boolean"}, "password_change_required": {"type": "boolean"}
        }
    })
}

fn session(g: &mut SchemaGenerator) -> Schema {
    let user = user_ref(g);
    json_schema!({
        "type": "object",
        "required": ["user", "csrf_token", "created_at_ms", "expires_at_ms"],
        "properties": {
            "user": user, "csrf_token": {"type": "string"},
            "created_at_ms": {"type": "integer"}, "expires_at_ms": {"type": "integer"}
        }
    })
}

fn token_pair(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "refresh_token"],
        "properties": {
            "access_token": {"type": "string"}, "token_type": {"const": "Bearer"},
            "expires_in": {"type": "integer"}, "refresh_token": {"type": "string"}
        }
    })
}

fn me(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {"enum": ["api_key", "user"]},
            "key_id": {"type": "string"}, "org": {"type": "string"}, "role": {"type": "string"},
            "expires_at_ms": {"type": "integer"}, "user_id": {"type": "string"},
            "email": {"type": "string"}, "display_name": {"type": "string"},
            "platform_role": {"type": ["string", "null"]}
        }
    })
}

fn totp_secret(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["secret_base32", "otpauth_uri"],
        "properties": {"secret_base32": {"type": "string"}, "otpauth_uri": {"type": "string"}}
    })
}

fn recovery_codes(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["recovery_codes", "csrf_token"],
        "properties": {
            "recovery_codes": {"type": "array", "items": {"type": "string"}},
            "csrf_token": {"type": "string"}
        }
    })
}

fn verified(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["csrf_token", "recovery_codes_left"],
        "properties": {"csrf_token": {"type": "string"}, "recovery_codes_left": {"type": ["integer", "null"]}}
    })
}

fn policy(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["policy"],
        "properties": {"policy": {"enum": ["optional", "privileged", "everyone"]}}
    })
}

fn invitation(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["email", "role", "expires_at_ms"],
        "properties": {
            "email": {"type": "string"}, "role": {"type": "string"}, "expires_at_ms": {"type": "integer"}
        }
    })
}

fn joined(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["user_id", "org", "role"],
        "properties": {"user_id": {"type": "string"}, "org": {"type": "string"}, "role": {"type": "string"}}
    })
}

fn new_key(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["id", "token"],
        "properties": {"id": {"type": "string"}, "token": {"type": "string"}}
    })
}

use Reply::{Csv, Empty, Fhir, Json, JsonLines};

/// The description of every API route, by method and path template.
pub const DOCS: &[(&str, &str, Doc)] = &[
    (
        "POST",
        "/api/v1/auth/login",
        with_body(
            doc("Sign in with e-mail and password", &[200], Json(signed_in)),
            Body::Json(s::<api::auth::Login>),
        ),
    ),
    (
        "GET",
        "/api/v1/auth/session",
        doc("The current web session", &[200], Json(session)),
    ),
    (
        "POST",
        "/api/v1/auth/logout",
        doc("Sign out of this session", &[204], Empty),
    ),
    (
        "POST",
        "/api/v1/auth/logout-all",
        doc("Sign out everywhere", &[204], Empty),
    ),
    (
        "POST",
        "/api/v1/auth/token",
        doc(
            "Issue an access and a refresh token for this session",
            &[200],
            Json(token_pair),
        ),
    ),
    (
        "POST",
        "/api/v1/auth/token/refresh",
        with_body(
            doc(
                "Exchange a refresh token (rotated on use)",
                &[200],
                Json(token_pair),
            ),
            Body::Json(s::<api::auth::Refresh>),
        ),
    ),
    (
        "POST",
        "/api/v1/auth/invitations/accept",
        with_body(
            doc("Accept an invitation", &[201], Json(joined)),
            Body::Json(s::<api::invite::Accept>),
        ),
    ),
    (
        "POST",
        "/api/v1/auth/password-reset",
        with_body(
            doc("Ask for a password reset (always accepted)", &[202], Empty),
            Body::Json(s::<api::invite::ResetRequest>),
        ),
    ),
    (
        "POST",
        "/api/v1/auth/password-reset/complete",
        with_body(
            doc("Set a new password with a reset token", &[204], Empty),
            Body::Json(s::<api::invite::ResetComplete>),
        ),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/invitations",
        with_body(
            doc(
                "Invite a person to the organisation",
                &[201],
                Json(invitation),
            ),
            Body::Json(s::<api::invite::NewInvitation>),
        ),
    ),
    (
        "POST",
        "/api/v1/auth/mfa/verify",
        with_body(
            doc(
                "Verify the second factor of a sign-in",
                &[200],
                Json(verified),
            ),
            Body::Json(s::<api::mfa::Code>),
        ),
    ),
    (
        "POST",
        "/api/v1/auth/mfa/totp",
        doc(
            "Begin enrolling an authenticator app",
            &[200],
            Json(totp_secret),
        ),
    ),
    (
        "POST",
        "/api/v1/auth/mfa/totp/confirm",
        with_body(
            doc(
                "Confirm the authenticator with its first code",
                &[200],
                Json(recovery_codes),
            ),
            Body::Json(s::<api::mfa::Code>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/mfa-policy",
        doc("The organisation's MFA policy", &[200], Json(policy)),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/mfa-policy",
        with_body(
            doc("Set the organisation's MFA policy", &[200], Json(policy)),
            Body::Json(s::<api::mfa::PolicyBody>),
        ),
    ),
    ("GET", "/api/v1/me", doc("Who is calling", &[200], Json(me))),
    (
        "GET",
        "/api/v1/orgs/{org}/teams",
        with_query(
            doc("List teams", &[200], Json(list::<api::teams::TeamOut>)),
            s::<api::teams::ListQuery>,
        ),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/teams",
        with_body(
            doc("Create a team", &[201], Json(s::<api::teams::TeamOut>)),
            Body::Json(s::<api::teams::NewTeam>),
        ),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/teams/{team}/staff/{user}",
        doc("Make a member staff of a team", &[204], Empty),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/members",
        doc(
            "List members and their roles",
            &[200],
            Json(list::<api::members::MemberOut>),
        ),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/members/{user}/roles",
        with_body(
            doc("Set a member's roles", &[204], Empty),
            Body::Json(s::<api::members::Roles>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/api-keys",
        doc("List API keys", &[200], Json(list::<api::keys::KeyOut>)),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/api-keys",
        with_body(
            doc(
                "Create an API key (its token is shown once)",
                &[201],
                Json(new_key),
            ),
            Body::Json(s::<api::keys::NewKey>),
        ),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/api-keys/{key}",
        doc("Revoke an API key", &[204], Empty),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects",
        with_body(
            doc(
                "Create a subject",
                &[201],
                Json(s::<api::subjects::SubjectOut>),
            ),
            Body::Json(s::<api::subjects::NewSubjectIn>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects",
        with_query(
            doc(
                "List and search subjects",
                &[200],
                Json(page::<api::subjects::SubjectOut>),
            ),
            s::<api::subjects::ListQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}",
        doc(
            "Read a subject",
            &[200],
            Json(s::<api::subjects::SubjectOut>),
        ),
    ),
    (
        "PATCH",
        "/api/v1/orgs/{org}/subjects/{subject}",
        with_body(
            doc(
                "Update a subject (null clears a field)",
                &[200],
                Json(s::<api::subjects::SubjectOut>),
            ),
            Body::Json(s::<api::subjects::SubjectPatch>),
        ),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/subjects/{subject}",
        doc("Archive a subject", &[204], Empty),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects/{subject}/erase",
        doc(
            "Erase a subject for good: its key is destroyed (crypto-shredding), so its \
             identifiers, notes and raw signals are unreadable everywhere, backups included",
            &[200],
            Json(s::<api::subjects::ErasureOut>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/teams/{team}/subjects",
        with_query(
            doc(
                "A team's roster with availability",
                &[200],
                Json(page::<api::subjects::SubjectOut>),
            ),
            s::<api::subjects::ListQuery>,
        ),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/teams/{team}/subjects/{subject}",
        doc("Put a subject on a team's roster", &[204], Empty),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects/{subject}/assessments",
        with_query(
            with_body(
                doc(
                    "Upload a force-plate recording (Idempotency-Key makes a retry count once)",
                    &[201, 200],
                    Json(s::<api::assessments::AssessmentOut>),
                ),
                Body::Upload,
            ),
            s::<api::assessments::UploadQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/assessments",
        with_query(
            doc(
                "A subject's assessments, newest first",
                &[200],
                Json(page::<api::assessments::AssessmentOut>),
            ),
            s::<api::assessments::ListQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/assessments/{assessment}",
        doc(
            "An assessment with its report and analysis versions",
            &[200],
            Json(s::<api::assessments::AssessmentOut>),
        ),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects/{subject}/injuries",
        with_body(
            doc(
                "Record an injury",
                &[201],
                Json(s::<api::injuries::InjuryOut>),
            ),
            Body::Json(s::<api::injuries::NewInjury>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/injuries",
        doc(
            "A subject's injuries with their return-to-duty decisions",
            &[200],
            Json(list::<api::injuries::InjuryOut>),
        ),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/injuries/{injury}/decisions",
        with_body(
            doc(
                "Record a return-to-duty decision",
                &[201],
                Json(s::<api::injuries::InjuryOut>),
            ),
            Body::Json(s::<api::injuries::NewDecision>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/export",
        doc(
            "The subject's whole record (right of access)",
            &[200],
            Json(any),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/me/record",
        doc(
            "The caller's own record (an athlete's right of access); 404 when none is linked",
            &[200],
            Json(any),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/fhir",
        doc("Jump metrics as a FHIR R4 Bundle", &[200], Fhir),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects/{subject}/loads",
        with_body(
            doc(
                "Record a training session's load (session-RPE)",
                &[201],
                Json(s::<api::monitoring::LoadOut>),
            ),
            Body::Json(s::<api::monitoring::NewLoad>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/loads",
        with_query(
            doc(
                "Training loads and the acute:chronic ratio",
                &[200],
                Json(s::<api::monitoring::LoadsOut>),
            ),
            s::<api::monitoring::LoadQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/norms",
        with_query(
            doc(
                "Percentiles, T-scores and change from baseline of the key metrics",
                &[200],
                Json(s::<api::monitoring::NormsOut>),
            ),
            s::<api::monitoring::NormsQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/teams/{team}/metrics.csv",
        doc("A team's metrics per assessment, as CSV", &[200], Csv),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/sso",
        doc(
            "The organisation's single sign-on provider (null when none)",
            &[200],
            Json(s::<Option<api::sso::SsoView>>),
        ),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/sso",
        with_body(
            doc(
                "Set the organisation's single sign-on provider",
                &[200],
                Json(s::<api::sso::SsoView>),
            ),
            Body::Json(s::<api::sso::SsoSettings>),
        ),
    ),
    (
        "GET",
        "/api/v1/auth/sso/{org}/start",
        doc(
            "Start single sign-on: redirects to the provider",
            &[303],
            Empty,
        ),
    ),
    (
        "GET",
        "/api/v1/auth/sso/callback",
        with_query(
            doc(
                "Finish single sign-on (the provider redirects here)",
                &[200],
                Json(signed_in),
            ),
            s::<api::sso::CallbackQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/analytics/assessments",
        with_query(
            doc(
                "Search assessments in the document index (pseudonyms only)",
                &[200],
                Json(list::<api::analytics::DocOut>),
            ),
            s::<api::analytics::SearchQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/analytics/weekly",
        with_query(
            doc(
                "A metric's mean and percentiles per week",
                &[200],
                Json(list::<api::analytics::WeekOut>),
            ),
            s::<api::analytics::SearchQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}",
        doc("The organisation", &[200], Json(s::<api::orgs::OrgOut>)),
    ),
    (
        "PATCH",
        "/api/v1/orgs/{org}",
        with_body(
            doc(
                "Rename the organisation",
                &[200],
                Json(s::<api::orgs::OrgOut>),
            ),
            Body::Json(s::<api::orgs::OrgPatch>),
        ),
    ),
    (
        "PATCH",
        "/api/v1/orgs/{org}/teams/{team}",
        with_body(
            doc("Rename a team", &[200], Json(s::<api::teams::TeamOut>)),
            Body::Json(s::<api::teams::TeamPatch>),
        ),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/teams/{team}",
        doc("Archive a team", &[204], Empty),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/audit",
        with_query(
            doc(
                "The organisation's audit events, oldest first",
                &[200],
                Json(s::<api::audit_log::EventsOut>),
            ),
            s::<api::audit_log::AuditQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/audit/export",
        with_query(
            doc("The audit events as JSON lines", &[200], JsonLines),
            s::<api::audit_log::AuditQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/pipelines",
        doc(
            "The pipelines there are, with the organisation's schedules",
            &[200],
            Json(list::<api::pipelines::PipelineOut>),
        ),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/pipelines/{pipeline}/runs",
        with_body(
            doc(
                "Start a run of a pipeline (workers pick it up)",
                &[202],
                Json(s::<api::pipelines::RunOut>),
            ),
            Body::Json(s::<api::pipelines::NewRunIn>),
        ),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/pipelines/{pipeline}/schedule",
        with_body(
            doc(
                "Schedule a pipeline with a cron expression in a time zone",
                &[200],
                Json(s::<api::pipelines::ScheduleOut>),
            ),
            Body::Json(s::<api::pipelines::ScheduleIn>),
        ),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/pipelines/{pipeline}/schedule",
        doc("Remove a pipeline's schedule", &[204], Empty),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/pipeline-runs",
        with_query(
            doc(
                "Pipeline runs, newest first",
                &[200],
                Json(list::<api::pipelines::RunOut>),
            ),
            s::<api::pipelines::RunsQuery>,
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/pipeline-runs/{run}",
        doc(
            "A run with its steps (attempts, outputs, errors) and log",
            &[200],
            Json(s::<api::pipelines::RunOut>),
        ),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/pipeline-runs/{run}/cancel",
        doc(
            "Cancel a run (a running step stops at its next heartbeat)",
            &[200],
            Json(s::<api::pipelines::RunOut>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/models",
        doc(
            "Models and their versions, with stages, lineage and metrics",
            &[200],
            Json(list::<api::pipelines::ModelOut>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/model-versions/{version}",
        doc(
            "A model version: lineage, evaluation, stage",
            &[200],
            Json(s::<api::pipelines::VersionOut>),
        ),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/model-versions/{version}/stage",
        with_body(
            doc(
                "Move a version to staging, production (approval) or archived",
                &[200],
                Json(s::<api::pipelines::VersionOut>),
            ),
            Body::Json(s::<api::pipelines::StageIn>),
        ),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/models/{model}/onnx",
        with_body(
            doc(
                "Import an ONNX model (checked against the feature schema and sample rows)",
                &[201],
                Json(s::<api::pipelines::VersionOut>),
            ),
            Body::Json(s::<api::pipelines::OnnxUpload>),
        ),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/models/{model}/rollback",
        doc(
            "Roll production back to the version before it",
            &[200],
            Json(s::<api::pipelines::VersionOut>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/risk",
        doc(
            "Every subject's latest injury-risk score, highest first, with the bands",
            &[200],
            Json(s::<api::pipelines::RiskOut>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/risk/thresholds",
        doc(
            "The organisation's risk-band thresholds",
            &[200],
            Json(s::<api::pipelines::ThresholdsOut>),
        ),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/risk/thresholds",
        with_body(
            doc(
                "Set the risk-band thresholds",
                &[200],
                Json(s::<api::pipelines::ThresholdsOut>),
            ),
            Body::Json(s::<api::pipelines::ThresholdsOut>),
        ),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/risk",
        with_query(
            doc(
                "A subject's injury-risk scores with their model version and top contributions",
                &[200],
                Json(list::<api::pipelines::ScoreOut>),
            ),
            s::<api::pipelines::HistoryQuery>,
        ),
    ),
];

fn any(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "object"})
}

fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "code": {"type": "string"},
            "request_id": {"type": "string"}, "checks": {"type": "object"}
        }
    })
}

const ERRORS: &[(&str, &str)] = &[
    ("400", "The request is malformed"),
    ("401", "Authentication is required"),
    ("403", "Not allowed (role, CSRF token or second factor)"),
    ("404", "Not found in the caller's scope"),
    ("405", "The path does not take this method"),
    ("408", "The request took too long"),
    ("409", "Conflict"),
    (
        "410",
        "Erased: the subject's key was destroyed and its data can no longer be read",
    ),
    ("413", "The body is too large"),
    ("415", "Unsupported media type"),
    ("422", "The content cannot be accepted"),
    ("429", "Too many attempts"),
    ("503", "A dependency is unavailable"),
];

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for part in path.trim_start_matches("/api/v1/").split('/') {
        let part = part.trim_matches(|c| c == '{' || c == '}');
        id.push('_');
        id.extend(
            part.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}

fn generator(contract: Contract, inline: bool) -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "#/components/schemas/".into();
    settings.contract = contract;
    settings.inline_subschemas = inline;
    settings.meta_schema = None;
    settings.into_generator()
}

fn query_parameters(q: SchemaFn) -> Vec<Value> {
    let mut g = generator(Contract::Deserialize, true);
    let schema = q(&mut g).to_value();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, s)| {
            // A query value is one value: drop the null alternative of an optional field.
            let mut s = s.clone();
            if let Some(types) = s.get("type").and_then(Value::as_array) {
                let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if kept.len() == 1 {
                    s["type"] = kept[0].clone();
                }
            }
            json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": s})
        })
        .collect()
}

fn build(version: &str) -> Value {
    let mut outg = generator(Contract::Serialize, false);
    let mut ing = generator(Contract::Deserialize, false);
    let mut paths = Map::new();
    for route in api::ROUTES {
        let Some((_, _, d)) = DOCS
            .iter()
            .find(|(m, p, _)| *m == route.method && *p == route.path)
        else {
            continue;
        };
        let mut params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if let Some(q) = d.query {
            params.extend(query_parameters(q));
        }
        if matches!(d.body, Body::Upload) {
            params.push(
                json!({"name": "Idempotency-Key", "in": "header", "required": false,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200}}),
            );
        }
        let mut responses = Map::new();
        for code in d.ok {
            let content = match d.reply {
                Reply::Empty => None,
                Reply::Json(f) => {
                    Some(json!({"application/json": {"schema": f(&mut outg).to_value()}}))
                }
                Reply::Csv => Some(json!({"text/csv": {"schema": {"type": "string"}}})),
                Reply::JsonLines => {
                    Some(json!({"application/x-ndjson": {"schema": {"type": "string"}}}))
                }
                Reply::Fhir => Some(
                    json!({"application/fhir+json": {"schema": {"type": "object",
                    "required": ["resourceType"], "properties": {"resourceType": {"const": "Bundle"}}}}}),
                ),
            };
            let mut r = json!({"description": "Success"});
            if let Some(c) = content {
                r["content"] = c;
            }
            responses.insert(code.to_string(), r);
        }
        for (code, what) in ERRORS {
            responses.insert(
                (*code).to_owned(),
                json!({"description": what, "content": {"application/problem+json":
                    {"schema": {"$ref": "#/components/schemas/Problem"}}}}),
            );
        }
        let mut op = json!({
            "operationId": operation_id(route.method, route.path),
            "summary": d.summary,
            "parameters": params,
            "responses": responses,
        });
        op["security"] = match route.requirement {
            Requirement::Public => json!([]),
            Requirement::Session | Requirement::PendingSession => json!([{"session": []}]),
            _ => json!([{"bearer": []}, {"session": []}]),
        };
        match d.body {
            Body::None => {}
            Body::Json(f) => {
                op["requestBody"] = json!({"required": true, "content":
                    {"application/json": {"schema": f(&mut ing).to_value()}}});
            }
            Body::Upload => {
                op["requestBody"] = json!({"required": true, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"type": "object"}},
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}}}},
                }});
            }
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = op;
    }
    let mut schemas = outg.take_definitions(true);
    schemas.extend(ing.take_definitions(true));
    schemas.insert("Problem".into(), problem_schema());
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "MHP — Movement Health Platform API",
            "version": version,
            "description": "Force-plate assessments, biomechanics, injuries and return to duty. \
                Errors are RFC 9457 problem details. Authenticate with `Authorization: Bearer` \
                (an API key `mhp_…` or an access token) or the session cookie (writes then need \
                the `X-CSRF-Token` header).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": mhp_auth::session::COOKIE},
            },
        },
    })
}

/// The document, built once.
pub fn document(version: &str) -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| build(version))
}

/// `GET /api/v1/openapi.json`
pub async fn serve_document(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
) -> Response {
    let mut res = axum::Json(document(state.app.build.version)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `GET /api/v1/docs`: a self-contained page (no third-party script) that lists the
/// operations of the document. Its inline style and script are allowed by hash only.
pub async fn docs_page() -> Response {
    static PAGE: OnceLock<(String, String)> = OnceLock::new();
    let (page, csp) = PAGE.get_or_init(|| {
        use base64::Engine as _;
        use sha2::{Digest as _, Sha256};
        let hash = |text: &str| {
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
        };
        let csp = format!(
            "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            hash(DOCS_STYLE),
            hash(DOCS_SCRIPT)
        );
        let page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MHP API</title>\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <style>{DOCS_STYLE}</style></head><body>\n<h1>MHP API <small id=\"v\"></small></h1>\n\
             <p>The machine-readable document is at <a href=\"/api/v1/openapi.json\"><code>/api/v1/openapi.json</code></a> \
             (OpenAPI 3.1).</p>\n<div id=\"ops\">Loading…</div>\n<script>{DOCS_SCRIPT}</script></body></html>\n"
        );
        (page, csp)
    });
    let mut res = Html(page.clone()).into_response();
    if let Ok(v) = HeaderValue::from_str(csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

const DOCS_STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;\
padding:0 1rem;color:#1b1f24}h1{font-size:1.5rem}code{background:#f2f4f7;padding:0 .25rem;\
border-radius:3px}.op{border:1px solid #d8dde3;border-radius:6px;margin:.5rem 0;padding:.5rem .75rem}\
.m{display:inline-block;min-width:4.5rem;font-weight:600}.GET{color:#0a6}.POST{color:#06c}\
.PUT,.PATCH{color:#a60}.DELETE{color:#c22}details pre{background:#f7f8fa;padding:.5rem;\
overflow:auto;font-size:12px}";

const DOCS_SCRIPT: &str = "fetch('/api/v1/openapi.json').then(r=>r.json()).then(doc=>{\
document.getElementById('v').textContent=doc.info.version;\
const ops=document.getElementById('ops');ops.textContent='';\
for(const [path,item] of Object.entries(doc.paths)){for(const [method,op] of Object.entries(item)){\
const d=document.createElement('details');d.className='op';\
const s=document.createElement('summary');const m=document.createElement('span');\
m.className='m '+method.toUpperCase();m.textContent=method.toUpperCase();\
const c=document.createElement('code');c.textContent=path;\
s.append(m,c,document.createTextNode(' \\u2014 '+op.summary));d.append(s);\
const pre=document.createElement('pre');pre.textContent=JSON.stringify(op,null,2);d.append(pre);\
ops.append(d);}}}).catch(()=>{document.getElementById('ops').textContent='The document could not be loaded.'});";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described_once() {
        for r in api::ROUTES {
            let n = DOCS
                .iter()
                .filter(|(m, p, _)| *m == r.method && *p == r.path)
                .count();
            assert_eq!(n, 1, "{} {} needs one entry in DOCS", r.method, r.path);
        }
        assert_eq!(
            DOCS.len(),
            api::ROUTES.len(),
            "DOCS describes a route that does not exist"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_with_resolvable_references() {
        let doc = build("test");
        assert_eq!(doc["openapi"], "3.1.0");
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"]
            .as_object()
            .unwrap_or_else(|| unreachable!());
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap_or_default();
            assert!(schemas.contains_key(name), "dangling reference to {name}");
        }
        let upload = &doc["paths"]["/api/v1/orgs/{org}/subjects/{subject}/assessments"]["post"];
        assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object());
        assert_eq!(upload["security"][0]["bearer"], json!([]));
        let login = &doc["paths"]["/api/v1/auth/login"]["post"];
        assert_eq!(login["security"], json!([]));
    }

    /// The whole document, as a client generator reads it. A change to the API shows up here
    /// as a diff to review; `UPDATE_EXPECT=1 cargo test -p mhp-server openapi` accepts it.
    #[test]
    fn the_document_matches_its_snapshot() {
        let doc = build("snapshot");
        let text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| unreachable!());
        expect_test::expect_file!["../tests/snapshots/openapi.json"].assert_eq(&(text + "\n"));
    }
}
