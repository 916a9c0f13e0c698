//! The authorization matrix: every API route × every role × both kinds of caller (API key,
//! signed-in user) × the caller's own organisation and another one, with the expected answer
//! written out by hand. Adding a route without a row here fails `the_matrix_covers_every_route`.

use std::collections::BTreeSet;

use mhp_auth::{api_key, session};
use mhp_domain::{DisplayName, Email, OrgName, OrgScope, Reach, Role, Timestamp, reach_of};
use mhp_server::api::ROUTES;
use mhp_storage::Access;
use mhp_storage::repo::api_keys::{self, NewApiKey};
use mhp_storage::repo::sessions::{self, NewSession};
use mhp_storage::repo::users::{self, NewUser};
use mhp_storage::repo::{Page, assessments, audit, injuries, orgs, subjects, teams};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{Server, quick, spawn};

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Allowed {
    /// Anyone, without credentials (tested on its own).
    Public,
    /// Every authenticated caller.
    Anyone,
    /// Signed-in people only, not API keys.
    People,
    /// These roles, in their own organisation only.
    Roles(&'static [Role]),
    /// People with these roles, about the record linked to their own account (an API key has
    /// none: 404).
    OwnRecord(&'static [Role]),
    /// Platform operators only (no organisation role reaches it; the operator's own pass is
    /// tested in `security.rs`).
    Operator,
}

use Allowed::{Anyone, Operator, OwnRecord, People, Public, Roles};

const MATRIX: &[(&str, &str, Allowed)] = &[
    ("POST", "/api/v1/auth/login", Public),
    ("POST", "/api/v1/auth/token/refresh", Public),
    ("POST", "/api/v1/auth/invitations/accept", Public),
    ("POST", "/api/v1/auth/password-reset", Public),
    ("POST", "/api/v1/auth/password-reset/complete", Public),
    ("GET", "/api/v1/auth/sso/{org}/start", Public),
    ("GET", "/api/v1/auth/sso/callback", Public),
    ("GET", "/api/v1/orgs/{org}/sso", Roles(&[Role::OrgAdmin])),
    (
        "GET",
        "/api/v1/orgs/{org}/analytics/assessments",
        Roles(&[Role::OrgAdmin, Role::Clinician, Role::Coach]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/analytics/weekly",
        Roles(&[Role::OrgAdmin, Role::Clinician, Role::Coach]),
    ),
    ("PUT", "/api/v1/orgs/{org}/sso", Roles(&[Role::OrgAdmin])),
    (
        "POST",
        "/api/v1/orgs/{org}/sso/domains/{domain}/verify",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/invitations",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/security/alerts",
        Roles(&[Role::OrgAdmin, Role::Auditor]),
    ),
    (
        "PATCH",
        "/api/v1/orgs/{org}/security/alerts/{alert}",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/compliance/report",
        Roles(&[Role::OrgAdmin, Role::Auditor]),
    ),
    ("GET", "/api/v1/compliance/report", Operator),
    ("GET", "/api/v1/security/alerts", Operator),
    ("PATCH", "/api/v1/security/alerts/{alert}", Operator),
    ("POST", "/api/v1/auth/token", People),
    ("GET", "/api/v1/auth/session", People),
    ("POST", "/api/v1/auth/logout", People),
    ("POST", "/api/v1/auth/logout-all", People),
    ("POST", "/api/v1/auth/mfa/verify", People),
    ("POST", "/api/v1/auth/mfa/totp", People),
    ("POST", "/api/v1/auth/mfa/totp/confirm", People),
    (
        "GET",
        "/api/v1/orgs/{org}/mfa-policy",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/mfa-policy",
        Roles(&[Role::OrgAdmin]),
    ),
    ("GET", "/api/v1/me", Anyone),
    (
        "GET",
        "/api/v1/orgs/{org}/datasets",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/datasets/{run}/csv",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/datasets/{run}/predictions.csv",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    ("PATCH", "/api/v1/me", Anyone),
    (
        "GET",
        "/api/v1/orgs/{org}/teams",
        Roles(&[Role::OrgAdmin, Role::Clinician, Role::Coach]),
    ),
    ("POST", "/api/v1/orgs/{org}/teams", Roles(&[Role::OrgAdmin])),
    (
        "PUT",
        "/api/v1/orgs/{org}/teams/{team}/staff/{user}",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/members",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/members/{user}/roles",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/api-keys",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/api-keys",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/api-keys/{key}/rotate",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/api-keys/{key}",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/fhir/Patient/$export",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/fhir/Group/{team}/$export",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/fhir/bulk/{job}",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/fhir/bulk/{job}",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/fhir/bulk/{job}/{file}",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/import/subjects",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/import/loads",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/import/injuries",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/import/decisions",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/changes",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/webhooks",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/webhooks",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/webhooks/{webhook}",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "PATCH",
        "/api/v1/orgs/{org}/webhooks/{webhook}",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/webhooks/{webhook}",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/webhooks/{webhook}/rotate-secret",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/webhooks/{webhook}/deliveries",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/webhooks/{webhook}/deliveries/{delivery}",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/webhooks/{webhook}/deliveries/{delivery}/redeliver",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "PATCH",
        "/api/v1/orgs/{org}/subjects/{subject}",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/subjects/{subject}",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects/{subject}/erase",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/teams/{team}/subjects",
        Roles(&[Role::OrgAdmin, Role::Clinician, Role::Coach]),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/teams/{team}/subjects/{subject}",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects/{subject}/assessments",
        Roles(&[Role::OrgAdmin, Role::Clinician, Role::Device]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/assessments",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/assessments/{assessment}",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects/{subject}/injuries",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/injuries",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/injuries/{injury}/decisions",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/export",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/me/record",
        OwnRecord(&[Role::Athlete]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/me/fhir",
        OwnRecord(&[Role::Athlete]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/fhir",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/subjects/{subject}/loads",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/loads",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/norms",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/teams/{team}/metrics.csv",
        Roles(&[Role::OrgAdmin, Role::Clinician, Role::Coach]),
    ),
    ("GET", "/api/v1/orgs/{org}", Roles(&[Role::OrgAdmin])),
    ("PATCH", "/api/v1/orgs/{org}", Roles(&[Role::OrgAdmin])),
    (
        "PATCH",
        "/api/v1/orgs/{org}/teams/{team}",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/teams/{team}",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/audit",
        Roles(&[Role::OrgAdmin, Role::Auditor]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/audit/export",
        Roles(&[Role::OrgAdmin, Role::Auditor]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/pipelines",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/pipelines/{pipeline}/runs",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/pipelines/{pipeline}/schedule",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/pipelines/{pipeline}/schedule",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/pipeline-runs",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/pipeline-runs/{run}",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/pipeline-runs/{run}/cancel",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/models",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/model-versions/{version}",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/model-versions/{version}/stage",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/models/{model}/onnx",
        Roles(&[Role::OrgAdmin, Role::DataScientist]),
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/models/{model}/rollback",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/risk",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/risk/thresholds",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
    (
        "PUT",
        "/api/v1/orgs/{org}/risk/thresholds",
        Roles(&[Role::OrgAdmin]),
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/subjects/{subject}/risk",
        Roles(&[Role::OrgAdmin, Role::Clinician]),
    ),
];

/// Teams the matrix made itself as path fixtures (not by the requests under test).
static FIXTURE_TEAMS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Routes outside the API that anyone may call.
const PUBLIC: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/.well-known/jwks.json",
    "/.well-known/openid-configuration",
    "/api/v1/openapi.json",
    "/api/v1/docs",
];

/// Routes that take the team they are about as `?team=`: the matrix runs them within and
/// outside the caller's teams like `{team}` routes.
const TEAM_QUERY: &[&str] = &[
    "/api/v1/orgs/{org}/analytics/assessments",
    "/api/v1/orgs/{org}/analytics/weekly",
];

/// Where the team or subject a route names lies for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TeamReach {
    /// On a team the caller is staff of.
    Within,
    /// On a team the caller has nothing to do with.
    Outside,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An API key.
    Key,
    /// A person with a session cookie.
    Person,
    /// A person with an access token.
    PersonToken,
}

/// Credentials for one request.
enum Credentials {
    Bearer(String),
    Cookie { id: String, csrf: String },
}

pub async fn key(
    s: &Server,
    org: &OrgScope,
    role: Role,
    expires_at: Timestamp,
) -> (String, String) {
    let minted = api_key::mint();
    let mut tx = s.state.app.db.tenant(org, Access::Write).await.unwrap();
    api_keys::create(
        &mut tx,
        &NewApiKey {
            id: &minted.id,
            name: "matrix",
            role,
            secret_sha256: &minted.secret_sha256,
            created_by: "test",
            expires_at,
        },
        s.state.app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (minted.id, minted.token.expose().clone())
}

/// A user holding `role` in `org`.
async fn person(s: &Server, org: &OrgScope, role: Role, n: usize) -> mhp_domain::UserId {
    let now = s.state.app.clock.now();
    let mut tx = s.state.app.db.operator(Access::Write).await.unwrap();
    let email = Email::parse(&format!(
        "person{n}-{}@example.org",
        uuid::Uuid::new_v4().simple()
    ))
    .unwrap();
    let user = users::create(
        &mut tx,
        &NewUser {
            email: &email,
            display_name: &DisplayName::parse("Person").unwrap(),
            password_hash: None,
            password_change_required: false,
            platform_role: None,
        },
        now,
    )
    .await
    .unwrap();
    users::grant_as_operator(&mut tx, org.org(), user.id, role, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    user.id
}

/// A fresh session for a user, stored directly (no password hashing in the matrix).
async fn signed_in(s: &Server, user: mhp_domain::UserId) -> Credentials {
    let minted = session::mint();
    let mut tx = s.state.app.db.operator(Access::Write).await.unwrap();
    sessions::create(
        &mut tx,
        &NewSession {
            id_sha256: &minted.id_sha256,
            user,
            csrf_token: &minted.csrf_token,
            source_ip: None,
            user_agent: None,
            mfa_pending: false,
            mfa_verified_at: None,
        },
        s.state.app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Credentials::Cookie {
        id: minted.id.expose().clone(),
        csrf: minted.csrf_token,
    }
}

pub fn far_future(s: &Server) -> Timestamp {
    Timestamp::from_millis(s.state.app.clock.now().as_millis() + 86_400_000)
}

async fn second_org(s: &Server) -> OrgScope {
    let mut tx = s.state.app.db.operator(Access::Write).await.unwrap();
    let org = orgs::create(
        &mut tx,
        &OrgName::parse("Other org").unwrap(),
        s.state.app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    OrgScope::for_operator(org.id, "test")
}

async fn call(
    s: &Server,
    method: &str,
    path: &str,
    creds: Option<&Credentials>,
    n: usize,
) -> reqwest::Response {
    let c = reqwest::Client::new();
    let mut req = c.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{}{path}", s.base),
    );
    match creds {
        Some(Credentials::Bearer(t)) => req = req.bearer_auth(t),
        Some(Credentials::Cookie { id, csrf }) => {
            req = req
                .header("cookie", format!("{}={id}", session::COOKIE))
                .header(mhp_server::api::CSRF_HEADER, csrf);
        }
        None => {}
    }
    if method == "PATCH" && path.contains("/subjects/") {
        req = req.json(&json!({ "sport": "rugby" }));
    } else if method == "PATCH" && path.contains("/security/alerts/") {
        req = req.json(&json!({ "status": "acknowledged" }));
    } else if method == "PATCH" && path.contains("/webhooks/") {
        req = req.json(&json!({ "description": format!("Renamed {n}") }));
    } else if method == "PATCH" && path == "/api/v1/me" {
        req = req.json(&json!({ "length_unit": "in" }));
    } else if method == "PATCH" {
        req =
            req.json(&json!({ "name": format!("Renamed {n} {}", uuid::Uuid::new_v4().simple()) }));
    } else if method == "PUT" && (path.contains("/staff/") || path.contains("/subjects/")) {
        // no body
    } else if method == "PUT" && path.ends_with("/sso") {
        req = req.json(&json!({ "issuer": "https://idp.invalid", "client_id": "x",
            "client_secret": "a-client-secret", "allowed_domains": ["example.org"] }));
    } else if method == "PUT" && path.contains("/members/") {
        req = req.json(&json!({ "roles": ["coach"] }));
    } else if method == "PUT" {
        req = req.json(&json!({ "policy": "optional" }));
    }
    if method == "POST" {
        let body = if path.ends_with("/teams") {
            json!({ "name": format!("Team {n}") })
        } else if path.ends_with("/invitations") {
            json!({ "email": format!("invitee{n}@example.org"), "role": "coach" })
        } else if path.ends_with("/subjects") {
            json!({ "name": format!("Subject {n}") })
        } else if path.ends_with("/webhooks") {
            json!({ "url": "https://93.184.216.34/hook", "events": ["assessment.created"],
                "role": "org_admin" })
        } else if path.ends_with("/api-keys") {
            json!({ "name": format!("Key {n}"), "role": "device" })
        } else if path.contains("/mfa/") && !path.ends_with("/totp") {
            json!({ "code": "000000" })
        } else {
            json!({})
        };
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

/// `template` with fixtures of `target` for its parameters. With `staff`, the team is one that
/// person is staff of, and the subject is on it.
async fn concrete(
    s: &Server,
    template: &str,
    target: &OrgScope,
    staff: Option<mhp_domain::UserId>,
) -> String {
    let mut path = template.replace("{org}", &target.org().to_string());
    let team_query = TEAM_QUERY.contains(&template);
    let team = if path.contains("{team}") || path.contains("{subject}") || team_query {
        let mut tx = s.state.app.db.tenant(target, Access::Write).await.unwrap();
        let name =
            mhp_domain::TeamName::parse(&format!("T{}", uuid::Uuid::new_v4().simple())).unwrap();
        let now = s.state.app.clock.now();
        let team = teams::create(&mut tx, &name, now).await.unwrap();
        if let Some(user) = staff {
            teams::add_staff(&mut tx, team.id, user, now).await.unwrap();
        }
        tx.commit().await.unwrap();
        FIXTURE_TEAMS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        path = path.replace("{team}", &team.id.to_string());
        if team_query {
            path.push_str(&format!("?team={}", team.id));
        }
        Some(team.id)
    } else {
        None
    };
    if path.contains("{subject}") {
        let subject = fixture_subject(s, target).await;
        if let Some(team) = team {
            let mut tx = s.state.app.db.tenant(target, Access::Write).await.unwrap();
            subjects::add_to_team(&mut tx, team, subject, s.state.app.clock.now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        path = path.replace("{subject}", &subject.to_string());
    }
    if path.contains("{domain}") {
        // A domain of the organisation's, already proven: the handler answers without DNS.
        let mut tx = s.state.app.db.tenant(target, Access::Write).await.unwrap();
        let now = s.state.app.clock.now();
        let domain = "fixture.example".to_owned();
        mhp_storage::repo::sso::keep_domains(
            &mut tx,
            std::slice::from_ref(&domain),
            |_| "t".into(),
            now,
        )
        .await
        .unwrap();
        mhp_storage::repo::sso::mark_proven(&mut tx, &domain, now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        path = path.replace("{domain}", &domain);
    }
    if path.contains("{assessment}") {
        let subject = fixture_subject(s, target).await;
        let id = fixture_assessment(s, target, subject).await;
        path = path.replace("{assessment}", &id.to_string());
    }
    if path.contains("{injury}") {
        let subject = fixture_subject(s, target).await;
        let id = fixture_injury(s, target, subject).await;
        path = path.replace("{injury}", &id.to_string());
    }
    if path.contains("{user}") {
        let member = person(s, target, Role::Athlete, 0).await;
        path = path.replace("{user}", &member.to_string());
    }
    if path.contains("{pipeline}") {
        path = path.replace("{pipeline}", mhp_domain::pipeline::SCORE_ALL);
    }
    if path.contains("{model}") {
        path = path.replace("{model}", mhp_domain::pipeline::RISK_MODEL);
    }
    if path.contains("/datasets/{run}") {
        let run = crate::fixture_dataset(s, target).await;
        path = path.replace("{run}", &run.to_string());
    }
    if path.contains("{run}") {
        let run = crate::fixture_run(s, target, mhp_domain::pipeline::SCORE_ALL).await;
        path = path.replace("{run}", &run.to_string());
    }
    if path.contains("{version}") {
        let v = fixture_model_version(s, target).await;
        path = path.replace("{version}", &v.to_string());
    }
    if path.contains("{webhook}") {
        // An endpoint and one message for it, made in storage (nothing sends them here).
        let mut tx = s.state.app.db.tenant(target, Access::Write).await.unwrap();
        let now = s.state.app.clock.now();
        let id = format!("whe_{}", uuid::Uuid::now_v7().simple());
        mhp_storage::repo::webhooks::create(
            &mut tx,
            &mhp_storage::repo::webhooks::NewEndpoint {
                id: &id,
                url: "https://93.184.216.34/hook",
                events: &["assessment.created".to_owned()],
                role: Role::OrgAdmin,
                description: "fixture",
                secret: &mhp_domain::SealedBytes::from_ciphertext(vec![1, 2, 3]),
                created_by: "test",
            },
            now,
        )
        .await
        .unwrap();
        let delivery = format!("msg_{}", uuid::Uuid::now_v7().simple());
        mhp_storage::repo::webhooks::enqueue(
            &mut tx,
            &mhp_storage::repo::webhooks::NewDelivery {
                id: &delivery,
                endpoint: &id,
                event_type: "assessment.created",
                event_id: &uuid::Uuid::now_v7().to_string(),
                payload: "{}",
            },
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        path = path
            .replace("{webhook}", &id)
            .replace("{delivery}", &delivery);
    }
    if path.contains("{job}") {
        // A complete bulk export with its Patient file, made in storage.
        let app = &s.state.app;
        let now = app.clock.now();
        let job = uuid::Uuid::now_v7().simple().to_string();
        let key = mhp_storage::ObjectKey::parse(&format!(
            "exports/{}/fhir/{job}/Patient.ndjson",
            target.org()
        ))
        .unwrap();
        mhp_app::artifacts::put(app.phi.keys(), &app.objects, target.org(), &key, b"{}\n")
            .await
            .unwrap();
        let mut tx = app.db.tenant(target, Access::Write).await.unwrap();
        let export = mhp_storage::repo::fhir_exports::Export {
            id: job.clone(),
            request_url: "http://mhp.test/fixture".into(),
            team: None,
            types: vec!["Patient".into()],
            since: None,
            status: mhp_storage::repo::fhir_exports::Status::InProgress,
            requested_by: "test".into(),
            created_at: now,
            completed_at: None,
            expires_at: None,
            outputs: None,
            error: None,
        };
        mhp_storage::repo::fhir_exports::create(&mut tx, &export)
            .await
            .unwrap();
        let outputs = format!(
            r#"[{{"type":"Patient","key":"{}","count":1}}]"#,
            key.as_str()
        );
        let expires = Timestamp::from_millis(far_future(s).as_millis());
        mhp_storage::repo::fhir_exports::complete(&mut tx, &job, &outputs, now, expires)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        path = path
            .replace("{job}", &job)
            .replace("{file}", "Patient.ndjson");
    }
    if path.contains("{key}") {
        let (id, _) = key(s, target, Role::Device, far_future(s)).await;
        path = path.replace("{key}", &id);
    }
    if path.ends_with("/compliance/report") {
        // A run of the checks kept, as `mhp compliance check` or the daily run keeps one.
        let app = &s.state.app;
        let observed = mhp_app::compliance::Observed {
            at_ms: app.clock.now().as_millis(),
            ..Default::default()
        };
        let report = mhp_app::compliance::report(
            app,
            &mhp_app::compliance::Deployment::default(),
            &observed,
        );
        mhp_app::compliance::record(app, &report).await.unwrap();
    }
    if path.contains("{alert}") {
        let mut tx = s.state.app.db.operator(Access::Write).await.unwrap();
        let org = target.org().to_string();
        let id = mhp_storage::repo::security::insert_alert(
            &mut tx,
            &mhp_storage::repo::security::NewAlert {
                rule_id: "brute_force_account",
                org: Some(&org),
                entity: &format!("user.uid={}", uuid::Uuid::new_v4()),
                severity: "high",
                technique: Some("T1110.001"),
                title: "Brute force against one account",
                first_at: s.state.app.clock.now(),
                event_count: 10,
            },
        )
        .await
        .unwrap()
        .unwrap();
        tx.commit().await.unwrap();
        path = path.replace("{alert}", &id);
    }
    path
}

/// A version of the injury-risk model (a candidate), registered directly in storage.
pub(crate) async fn fixture_model_version(
    s: &Server,
    org: &OrgScope,
) -> mhp_domain::ModelVersionId {
    let mut tx = s.state.app.db.tenant(org, Access::Write).await.unwrap();
    let v = mhp_storage::repo::models::register(
        &mut tx,
        &mhp_storage::repo::models::NewVersion {
            id: mhp_domain::ModelVersionId::new(),
            model: mhp_domain::pipeline::RISK_MODEL,
            kind: "native",
            artifact_key: "fixtures/model",
            artifact_sha256: "00",
            features_json: "[]",
            lineage_json: "{}",
            metrics_json: "{}",
            training_run: None,
            created_by: "test",
        },
        s.state.app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    v.id
}

/// A subject with a sealed name, made directly in storage.
async fn fixture_subject(s: &Server, org: &OrgScope) -> mhp_domain::SubjectId {
    fixture_subject_of(s, org, None).await
}

/// A subject with a sealed name, linked to `user`'s account when given (their own record).
async fn fixture_subject_of(
    s: &Server,
    org: &OrgScope,
    user: Option<mhp_domain::UserId>,
) -> mhp_domain::SubjectId {
    let id = mhp_domain::SubjectId::new();
    let row = id.to_string();
    let at = mhp_app::phi::FieldAt {
        org: org.org(),
        table: "subjects",
        column: "name",
        row: &row,
    };
    let new = subjects::NewSubject {
        name: s
            .state
            .app
            .phi
            .for_write(at.org, id)
            .await
            .unwrap()
            .seal(at, "Fixture Person")
            .unwrap(),
        birth_date: None,
        external_id: None,
        sex: None,
        sport: None,
        user,
        search: s
            .state
            .app
            .phi
            .subject_keys(org.org(), "Fixture Person", None),
    };
    let mut tx = s.state.app.db.tenant(org, Access::Write).await.unwrap();
    subjects::create_with_id(&mut tx, id, new, s.state.app.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn fixture_assessment(
    s: &Server,
    org: &OrgScope,
    subject: mhp_domain::SubjectId,
) -> mhp_domain::AssessmentId {
    let now = s.state.app.clock.now();
    let a = assessments::Assessment {
        id: mhp_domain::AssessmentId::new(),
        subject,
        kind: "cmj".into(),
        recorded_at: now,
        source: assessments::Source::Device,
        uploaded_by: "test".into(),
        format: "csv".into(),
        raw_object_key: "fixtures/none".into(),
        raw_sha256: "00".repeat(32),
        raw_bytes: 0,
        idempotency_key: None,
        analysis_version: "fixture".into(),
        created_at: now,
        options: Default::default(),
    };
    let result = assessments::AnalysisResult {
        analysis_version: "fixture".into(),
        computed_at: now,
        trials: 0,
        blocked_trials: 0,
        report_json: "{}".into(),
        metrics: Vec::new(),
    };
    let mut tx = s.state.app.db.tenant(org, Access::Write).await.unwrap();
    assessments::create(&mut tx, &a, &result).await.unwrap();
    tx.commit().await.unwrap();
    a.id
}

async fn fixture_injury(
    s: &Server,
    org: &OrgScope,
    subject: mhp_domain::SubjectId,
) -> mhp_domain::InjuryId {
    let now = s.state.app.clock.now();
    let injury = injuries::Injury {
        id: mhp_domain::InjuryId::new(),
        subject,
        body_region: "knee".into(),
        injury_type: "ligament_sprain".into(),
        side: "left".into(),
        severity: "mild".into(),
        mechanism: "contact".into(),
        occurred_on: "2020-01-01".into(),
        time_loss_days: Some(5),
        notes: None,
        recorded_by: "test".into(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = s.state.app.db.tenant(org, Access::Write).await.unwrap();
    injuries::create(&mut tx, &injury).await.unwrap();
    tx.commit().await.unwrap();
    injury.id
}

/// Staff who reach only some teams must name one of theirs on the team-filtered routes: without
/// a team, the organisation's figures are not theirs (404), while an organisation-wide role
/// gets them.
#[tokio::test]
async fn team_filtered_routes_need_a_team_from_staff() {
    let s = spawn(quick()).await;
    let own = s.org;
    for (n, template) in TEAM_QUERY.iter().enumerate() {
        let path = template.replace("{org}", &own.org().to_string());
        let coach = signed_in(&s, person(&s, &own, Role::Coach, 9000 + n).await).await;
        let status = call(&s, "GET", &path, Some(&coach), 9000 + n)
            .await
            .status();
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{template} as a coach without a team"
        );
        let admin = signed_in(&s, person(&s, &own, Role::OrgAdmin, 9100 + n).await).await;
        let status = call(&s, "GET", &path, Some(&admin), 9100 + n)
            .await
            .status();
        assert_eq!(
            status,
            StatusCode::OK,
            "{template} as an org admin without a team"
        );
        let bad = format!("{path}?team=not-a-team");
        let status = call(&s, "GET", &bad, Some(&coach), 9000 + n).await.status();
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{template} with a malformed team"
        );
    }
}

#[test]
fn the_matrix_covers_every_route() {
    let served: BTreeSet<(&str, &str)> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    let tested: BTreeSet<(&str, &str)> = MATRIX.iter().map(|(m, p, _)| (*m, *p)).collect();
    assert_eq!(served, tested, "every API route needs a row in MATRIX");
}

#[tokio::test]
async fn every_route_every_role_both_callers_own_and_other_organisation() {
    let s = spawn(quick()).await;
    let own = s.org;
    let other = second_org(&s).await;
    let mut n = 0;
    let mut team_creations = 0;
    let mut team_archives = 0;
    for (method, template, allowed) in MATRIX {
        if matches!(allowed, Public) {
            continue;
        }
        let org_route = template.contains("{org}");
        // Routes naming a team or a subject run twice: on one within the caller's teams and on
        // one outside them.
        let reaches: &[Option<TeamReach>] = if template.contains("{team}")
            || template.contains("{subject}")
            || TEAM_QUERY.contains(template)
        {
            &[Some(TeamReach::Within), Some(TeamReach::Outside)]
        } else {
            &[None]
        };
        for role in Role::ALL {
            for kind in [Kind::Key, Kind::Person, Kind::PersonToken] {
                for (caller_org, is_own) in [(own, true), (other, false)] {
                    for team_reach in reaches {
                        if !org_route && !is_own {
                            continue;
                        }
                        n += 1;
                        let (creds, user) = match kind {
                            Kind::Key => (
                                Credentials::Bearer(
                                    key(&s, &caller_org, role, far_future(&s)).await.1,
                                ),
                                None,
                            ),
                            Kind::Person => {
                                let user = person(&s, &caller_org, role, n).await;
                                (signed_in(&s, user).await, Some(user))
                            }
                            Kind::PersonToken => {
                                let user = person(&s, &caller_org, role, n).await;
                                let cookie = signed_in(&s, user).await;
                                let res =
                                    call(&s, "POST", "/api/v1/auth/token", Some(&cookie), n).await;
                                assert_eq!(res.status(), StatusCode::OK);
                                let pair: serde_json::Value = res.json().await.unwrap();
                                (
                                    Credentials::Bearer(
                                        pair["access_token"].as_str().unwrap().to_owned(),
                                    ),
                                    Some(user),
                                )
                            }
                        };
                        // Within: the caller is staff of the team (and the subject is on it).
                        let staff = match team_reach {
                            Some(TeamReach::Within) if is_own => user,
                            _ => None,
                        };
                        if (template.ends_with("/me/record") || template.ends_with("/me/fhir"))
                            && is_own
                            && let Some(user) = user
                        {
                            fixture_subject_of(&s, &own, Some(user)).await;
                        }
                        let path = concrete(&s, template, &own, staff).await;
                        let status = call(&s, method, &path, Some(&creds), n).await.status();
                        let case = format!(
                            "{method} {template} as {role} {kind:?} of {}{}",
                            if is_own { "own org" } else { "other org" },
                            match team_reach {
                                Some(TeamReach::Within) => ", within their teams",
                                Some(TeamReach::Outside) => ", outside their teams",
                                None => "",
                            }
                        );
                        // Staff reach their own teams only: anything else is not there for them.
                        let out_of_reach = team_reach.is_some()
                            && reach_of(role) == Reach::OwnTeams
                            && (team_reach == &Some(TeamReach::Outside) || user.is_none());
                        let expected = match allowed {
                            Public => unreachable!(),
                            Anyone => None,
                            People if kind == Kind::Person => None,
                            People if kind == Kind::PersonToken => Some(StatusCode::FORBIDDEN),
                            People => Some(StatusCode::FORBIDDEN),
                            Operator => Some(StatusCode::FORBIDDEN),
                            Roles(_) | OwnRecord(_) if !is_own => Some(StatusCode::NOT_FOUND),
                            OwnRecord(roles) if roles.contains(&role) && user.is_none() => {
                                Some(StatusCode::NOT_FOUND)
                            }
                            OwnRecord(roles) if roles.contains(&role) => None,
                            OwnRecord(_) => Some(StatusCode::FORBIDDEN),
                            Roles(roles) if roles.contains(&role) && out_of_reach => {
                                Some(StatusCode::NOT_FOUND)
                            }
                            Roles(roles) if roles.contains(&role) => None,
                            Roles(_) => Some(StatusCode::FORBIDDEN),
                        };
                        match expected {
                            None => {
                                // Allowed means the gate let it through; a handler may still turn
                                // the body down (a wrong MFA code is a 400 of its own).
                                assert!(
                                    !matches!(status.as_u16(), 401 | 403 | 404),
                                    "{case}: expected to pass the gate, got {status}"
                                );
                                if *method == "GET" {
                                    assert!(status.is_success(), "{case}: got {status}");
                                }
                                if *method == "POST" && template.ends_with("/teams") {
                                    team_creations += 1;
                                }
                                if *method == "DELETE" && template.ends_with("/teams/{team}") {
                                    team_archives += 1;
                                }
                            }
                            Some(want) => assert_eq!(status, want, "{case}"),
                        }
                    }
                }
            }
        }
        // No credentials, a forged key and a forged session are refused alike.
        let path = concrete(&s, template, &own, None).await;
        let res = call(&s, method, &path, None, 0).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {template} anonymous"
        );
        assert!(res.headers().contains_key("www-authenticate"));
        let (_, token) = key(&s, &own, Role::OrgAdmin, far_future(&s)).await;
        let forged = Credentials::Bearer(format!("{}AAAA", &token[..token.len() - 4]));
        let res = call(&s, method, &path, Some(&forged), 0).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {template} forged key"
        );
        let forged = Credentials::Cookie {
            id: "A".repeat(43),
            csrf: "x".into(),
        };
        let res = call(&s, method, &path, Some(&forged), 0).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {template} forged session"
        );
    }

    // Refused writes wrote nothing: only the allowed team creations exist.
    let mut tx = s.state.app.db.tenant(&own, Access::Read).await.unwrap();
    let fixtures = FIXTURE_TEAMS.load(std::sync::atomic::Ordering::SeqCst);
    let mut existing = 0;
    let mut page = Page::first(500);
    loop {
        let found = teams::list(&mut tx, page).await.unwrap();
        existing += found.len();
        match found.last() {
            Some(last) if found.len() == 500 => page.after = Some(last.id),
            _ => break,
        }
    }
    assert_eq!(existing, team_creations + fixtures - team_archives);
    drop(tx);
    let mut tx = s.state.app.db.tenant(&other, Access::Read).await.unwrap();
    assert!(
        teams::list(&mut tx, Page::first(500))
            .await
            .unwrap()
            .is_empty()
    );
    // Refusals were audited in the caller's organisation.
    assert!(audit::count(&mut tx).await.unwrap() > 0);

    for path in PUBLIC {
        let res = reqwest::get(format!("{}{path}", s.base)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_refusal_names_the_missing_permission() {
    let s = spawn(quick()).await;
    let (_, coach) = key(&s, &s.org, Role::Coach, far_future(&s)).await;
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/orgs/{}/subjects", s.base, s.org.org()))
        .bearer_auth(coach)
        .send()
        .await
        .unwrap();
    let body = crate::problem(res, StatusCode::FORBIDDEN).await;
    assert_eq!(
        body["detail"],
        "your roles in this organisation do not grant the permission read_clinical"
    );
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token() {
    let s = spawn(quick()).await;
    let user = person(&s, &s.org, Role::OrgAdmin, 1).await;
    let Credentials::Cookie { id, csrf } = signed_in(&s, user).await else {
        unreachable!()
    };
    let url = format!("{}/api/v1/orgs/{}/teams", s.base, s.org.org());
    let c = reqwest::Client::new();
    let cookie = format!("{}={id}", session::COOKIE);
    // Reads need no token; a write without it, or with another, is refused and writes nothing.
    let res = c.get(&url).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for token in [None, Some("wrong")] {
        let mut req = c
            .post(&url)
            .header("cookie", &cookie)
            .json(&json!({ "name": "T" }));
        if let Some(t) = token {
            req = req.header(mhp_server::api::CSRF_HEADER, t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "csrf");
    }
    let res = c
        .post(&url)
        .header("cookie", &cookie)
        .header(mhp_server::api::CSRF_HEADER, &csrf)
        .json(&json!({ "name": "T" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// `PATCH` of `path` with a JSON body.
async fn patch_json(
    s: &Server,
    path: &str,
    creds: &Credentials,
    body: serde_json::Value,
) -> reqwest::Response {
    let c = reqwest::Client::new();
    let req = c.patch(format!("{}{path}", s.base)).json(&body);
    match creds {
        Credentials::Bearer(t) => req.bearer_auth(t),
        Credentials::Cookie { id, csrf } => req
            .header("cookie", format!("{}={id}", session::COOKIE))
            .header(mhp_server::api::CSRF_HEADER, csrf),
    }
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn units_are_a_persons_own_and_the_time_zone_is_the_organisations() {
    let s = spawn(quick()).await;
    let user = person(&s, &s.org, Role::Coach, 1).await;
    let coach = signed_in(&s, user).await;
    let res = patch_json(
        &s,
        "/api/v1/me",
        &coach,
        json!({ "mass_unit": "lb", "force_unit": "n" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        me["units"],
        json!({ "length_unit": "cm", "mass_unit": "lb", "force_unit": "n" })
    );
    let res = patch_json(
        &s,
        "/api/v1/me",
        &coach,
        json!({ "length_unit": "furlong" }),
    )
    .await;
    let problem = crate::problem(res, StatusCode::BAD_REQUEST).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("length unit"),
        "{problem}"
    );
    let me: serde_json::Value = call(&s, "GET", "/api/v1/me", Some(&coach), 0)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["units"]["length_unit"], "cm",
        "a refused change changes nothing"
    );
    assert_eq!(me["units"]["mass_unit"], "lb");
    // A key is no person: it has no units.
    let (_, admin) = key(&s, &s.org, Role::OrgAdmin, far_future(&s)).await;
    let admin = Credentials::Bearer(admin);
    let res = patch_json(&s, "/api/v1/me", &admin, json!({ "length_unit": "in" })).await;
    crate::problem(res, StatusCode::BAD_REQUEST).await;

    let org = format!("/api/v1/orgs/{}", s.org.org());
    let before: serde_json::Value = call(&s, "GET", &org, Some(&admin), 0)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["time_zone"], "UTC");
    for bad in [
        json!({ "time_zone": "Europe/Atlantis" }),
        json!({}),
        json!({ "time_zone": "UTC", "name": " " }),
    ] {
        let res = patch_json(&s, &org, &admin, bad.clone()).await;
        crate::problem(res, StatusCode::BAD_REQUEST).await;
    }
    let after: serde_json::Value = call(&s, "GET", &org, Some(&admin), 0)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, before, "refused changes change nothing");
    let res = patch_json(&s, &org, &admin, json!({ "time_zone": "America/Chicago" })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: serde_json::Value = res.json().await.unwrap();
    assert_eq!(changed["time_zone"], "America/Chicago");
    assert_eq!(changed["name"], before["name"]);
    let mut tx = s.state.app.db.tenant(&s.org, Access::Read).await.unwrap();
    let events = mhp_storage::repo::audit::search(
        &mut tx,
        &mhp_storage::repo::audit::Filter {
            action: Some("organisation.time_zone".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(events.len(), 1, "one change, one event");
}

#[tokio::test]
async fn revoked_and_expired_keys_stop_working() {
    let s = spawn(quick()).await;
    let (admin_id, admin) = key(&s, &s.org, Role::OrgAdmin, far_future(&s)).await;
    let admin = Credentials::Bearer(admin);
    let me = call(&s, "GET", "/api/v1/me", Some(&admin), 0).await;
    assert_eq!(me.status(), StatusCode::OK);
    let body: serde_json::Value = me.json().await.unwrap();
    assert_eq!(body["role"], "org_admin");
    assert_eq!(body["key_id"], admin_id.as_str());

    // Issue a device key through the API: the token comes back once, then only metadata.
    let keys = format!("/api/v1/orgs/{}/api-keys", s.org.org());
    let res = call(&s, "POST", &keys, Some(&admin), 1).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let issued: serde_json::Value = res.json().await.unwrap();
    let device_token = issued["token"].as_str().unwrap().to_owned();
    let device_id = issued["id"].as_str().unwrap().to_owned();
    let listed = call(&s, "GET", &keys, Some(&admin), 0)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains(&device_id) && !listed.contains(&device_token),
        "{listed}"
    );
    let device = Credentials::Bearer(device_token);
    assert_eq!(
        call(&s, "GET", "/api/v1/me", Some(&device), 0)
            .await
            .status(),
        StatusCode::OK
    );

    let res = call(
        &s,
        "DELETE",
        &format!("{keys}/{device_id}"),
        Some(&admin),
        0,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = call(&s, "GET", "/api/v1/me", Some(&device), 0).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let past = Timestamp::from_millis(s.state.app.clock.now().as_millis() - 1);
    let (_, expired) = key(&s, &s.org, Role::OrgAdmin, past).await;
    let res = call(
        &s,
        "GET",
        "/api/v1/me",
        Some(&Credentials::Bearer(expired)),
        0,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Indistinguishable from an unknown key.
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("expired") && !body.contains("revoked"),
        "{body}"
    );
}
