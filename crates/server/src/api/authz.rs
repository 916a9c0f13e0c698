//! The authorization gate: authenticates the caller, finds the route's requirement in the
//! route table, checks it against the access policy, and hands the handler a [`Grant`]. Callers
//! from another organisation get 404 (nothing there for them); members without the permission
//! get 403. Every refusal is a security event.

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use mhp_auth::events::AuthEvent;
use mhp_auth::session;
use mhp_domain::{OrgId, OrgScope, Permission, Reach, Role, SubjectId, TeamId, widest_reach};
use mhp_storage::Access;
use mhp_storage::repo::{mfa, subjects, teams, users};

use super::{ROUTES, Requirement};
use crate::authn::{self, Principal, RequestMeta};
use crate::{ApiError, AppState, security};

/// What the gate established for a request.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Who is calling.
    pub principal: Principal,
    /// The organisation the route acts in, when it names one.
    pub scope: Option<OrgScope>,
    /// How far inside the organisation the grant reaches (`Organisation` for routes without one).
    pub reach: GrantReach,
    /// The facts audit events record.
    pub meta: RequestMeta,
    /// The caller's roles in the organisation (empty for routes without one), for
    /// [`Grant::allows`].
    roles: Vec<Role>,
}

/// How far a grant reaches, resolved to ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantReach {
    /// Everything in the organisation.
    Organisation,
    /// These teams only.
    Teams(Vec<TeamId>),
    /// The caller's own record only.
    OwnRecord,
}

impl GrantReach {
    /// Whether the grant reaches a team: the whole organisation does, staff reach their own
    /// teams, a person's own record reaches none.
    pub fn reaches_team(&self, team: TeamId) -> bool {
        match self {
            GrantReach::Organisation => true,
            GrantReach::Teams(mine) => mine.contains(&team),
            GrantReach::OwnRecord => false,
        }
    }
}

impl Grant {
    /// Whether the caller's roles also grant `permission` (beyond the one the route needed), by
    /// the access policy: a roster shows birth dates and external ids only to callers who may
    /// read clinical records.
    pub fn allows(&self, permission: Permission) -> bool {
        widest_reach(&self.roles, permission).is_some()
    }

    /// The caller's roles in the organisation (empty for routes without one).
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Who acts, as use cases and the audit log name them.
    pub fn caller(&self) -> mhp_app::Caller {
        mhp_app::Caller::acting(
            &self.principal.actor(),
            self.meta.request_id.clone(),
            self.meta.source_ip.clone(),
            self.meta.user_agent.clone(),
        )
    }

    /// Appends the audit event of the caller's successful action in `tx`, the transaction of
    /// the change (or read) it describes.
    pub async fn record(
        &self,
        tx: &mut mhp_storage::TenantTx,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<String>,
        now: mhp_domain::Timestamp,
    ) -> Result<(), mhp_storage::StorageError> {
        self.caller()
            .record(tx, action, resource_type, resource_id, now)
            .await
    }

    /// Appends the audit event of the caller's read and returns once it has committed, beside
    /// concurrent reads' events ([`mhp_app::Caller::record_read`]); the read's transaction has
    /// ended.
    pub async fn record_read(
        &self,
        app: &mhp_app::App,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<String>,
        now: mhp_domain::Timestamp,
    ) -> Result<(), ApiError> {
        let scope = self.org()?;
        self.caller()
            .record_read(app, &scope, action, resource_type, resource_id, now)
            .await?;
        Ok(())
    }

    /// The organisation scope; routes with `{org}` always have one.
    pub fn org(&self) -> Result<OrgScope, ApiError> {
        self.scope
            .ok_or_else(|| ApiError::Internal("route has no organisation scope".into()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Grant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Grant>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("handler reached without the gate".into()))
    }
}

/// The middleware.
pub async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    match gate(&state, &mut parts).await {
        Ok(grant) => {
            // Who asked inside an organisation, and where, should the answer be "not found"
            // (the route template is shared, so keeping it costs a reference count).
            let asker = grant.as_ref().and_then(|g| {
                g.scope.as_ref().map(|s| {
                    (
                        s.org(),
                        g.principal.actor(),
                        g.meta.clone(),
                        parts.extensions.get::<MatchedPath>().cloned(),
                    )
                })
            });
            if let Some(grant) = grant {
                parts.extensions.insert(grant);
            }
            let response = next.run(Request::from_parts(parts, body)).await;
            if response.status() == axum::http::StatusCode::NOT_FOUND
                && let Some((org, actor, meta, route)) = asker
            {
                // Ids that are not the organisation's: what probing for other tenants' records
                // looks like (`cross_tenant_probing`). The route template names what was asked.
                let event = mhp_storage::repo::audit::AuditEvent {
                    actor: actor.audit_name(),
                    action: "http.not_found",
                    resource_type: "route",
                    resource_id: route.map(|r| r.as_str().to_owned()),
                    outcome: mhp_storage::repo::audit::Outcome::Failure,
                    request_id: meta.request_id,
                    source_ip: meta.source_ip,
                    user_agent: meta.user_agent,
                    detail: None,
                };
                mhp_app::siem::record_signal(&state.app, Some(org), &event).await;
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The header that carries the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The route template a request matched and its method as the route tables name it (axum
/// answers HEAD with the GET handler): the key of the API's and the pages' declarations.
pub(crate) fn route_key(parts: &Parts) -> (String, &str) {
    let path = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let method = match parts.method.as_str() {
        "HEAD" => "GET",
        m => m,
    };
    (path, method)
}

async fn gate(state: &AppState, parts: &mut Parts) -> Result<Option<Grant>, ApiError> {
    let meta = RequestMeta::from_parts(parts);
    let (path, method) = route_key(parts);
    let method = method.to_owned();
    let Some(spec) = ROUTES.iter().find(|r| r.path == path && r.method == method) else {
        if ROUTES.iter().any(|r| r.path == path) {
            // The path exists with other methods: the router would answer 405 after us.
            return Err(ApiError::MethodNotAllowed);
        }
        // Every route comes from ROUTES; reaching here means the table and router disagree.
        return Err(ApiError::Internal(
            "route missing from the route table".into(),
        ));
    };
    admit(state, parts, spec.requirement, meta, CsrfCheck::Header).await
}

/// How a cookie-authenticated write shows it came from MHP's own pages or scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CsrfCheck {
    /// The session's token in the `X-CSRF-Token` header (the API).
    Header,
    /// The caller checked the token already (the pages read it from the form they post).
    Done,
}

/// The gate after the route's requirement is known: authenticates the caller, checks the
/// requirement against the access policy and the grant's reach, and records every refusal.
/// The API's gate and the pages' gate both end here.
pub(crate) async fn admit(
    state: &AppState,
    parts: &mut Parts,
    requirement: Requirement,
    meta: RequestMeta,
    csrf: CsrfCheck,
) -> Result<Option<Grant>, ApiError> {
    if requirement == Requirement::Public {
        return Ok(None);
    }
    let principal = authn::authenticate(state, &parts.headers, &meta).await?;
    if csrf == CsrfCheck::Header {
        check_csrf(&principal, parts)?;
    }
    // A session whose second factor is due reaches only the routes that finish or end it.
    if let Some(s) = principal.session()
        && s.mfa_pending
        && requirement != Requirement::PendingSession
    {
        return Err(ApiError::MfaRequired);
    }
    let permission = match requirement {
        Requirement::Public => return Ok(None),
        Requirement::Authenticated => {
            return Ok(Some(Grant {
                principal,
                scope: None,
                reach: GrantReach::Organisation,
                meta,
                roles: Vec::new(),
            }));
        }
        Requirement::Session | Requirement::PendingSession => {
            if principal.session().is_none() {
                return Err(ApiError::Forbidden);
            }
            return Ok(Some(Grant {
                principal,
                scope: None,
                reach: GrantReach::Organisation,
                meta,
                roles: Vec::new(),
            }));
        }
        Requirement::PlatformOperator => {
            let operator = match &principal {
                crate::authn::Principal::User { user, .. } => {
                    user.platform_role == Some(mhp_domain::PlatformRole::Operator)
                }
                crate::authn::Principal::ApiKey(_) => false,
            };
            if !operator {
                return Err(ApiError::Forbidden);
            }
            return Ok(Some(Grant {
                principal,
                scope: None,
                reach: GrantReach::Organisation,
                meta,
                roles: Vec::new(),
            }));
        }
        Requirement::InOrg(p) => Some(p),
        Requirement::Member => None,
    };
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::NotFound("organisation"))?;
    let org = params
        .iter()
        .find(|(k, _)| *k == "org")
        .and_then(|(_, v)| OrgId::parse(v).ok())
        .ok_or(ApiError::NotFound("organisation"))?;
    let (decision, roles) = decide(state, &principal, org, permission).await?;
    if let Decision::Allow(_) = decision {
        check_mfa_policy(state, &principal, org, &roles).await?;
    }
    match decision {
        Decision::Allow(reach) => {
            let reach = resolve_reach(state, &principal, org, reach).await?;
            let named = named_ids(&params, parts.uri.query());
            if let Err(e) = check_reach(state, &principal, org, &reach, &named).await {
                if let Some(permission) = permission {
                    let event = AuthEvent::AccessDenied { org, permission };
                    security::record_standalone(
                        state,
                        &principal.actor(),
                        Some(org),
                        &event,
                        &meta,
                    )
                    .await;
                }
                return Err(e);
            }
            Ok(Some(Grant {
                reach,
                principal,
                scope: Some(OrgScope::for_gate(org)),
                meta,
                roles,
            }))
        }
        decision => {
            // Membership alone is asked of pages every role has; a refusal is for a permission.
            let permission = permission.unwrap_or(Permission::ReadOwnRecord);
            let event = AuthEvent::AccessDenied { org, permission };
            // Attributed to the caller's own organisation for keys; for people, to the one they
            // tried when they are a member there, else only to the security stream.
            let audit_org = principal
                .home_org()
                .or((decision == Decision::NotPermitted).then_some(org));
            security::record_standalone(state, &principal.actor(), audit_org, &event, &meta).await;
            Err(if decision == Decision::OtherOrg {
                ApiError::NotFound("organisation")
            } else {
                ApiError::MissingPermission(permission)
            })
        }
    }
}

/// The team and subject a request names, in its path (`{team}`, `{subject}`) or its query
/// (`?team=`, `?subject=`, as the analytics routes filter by them).
fn named_ids(params: &RawPathParams, query: Option<&str>) -> Vec<(&'static str, String)> {
    let mut named = Vec::new();
    for (k, v) in params.iter() {
        for name in ["team", "subject"] {
            if k == name {
                named.push((name, v.to_owned()));
            }
        }
    }
    for pair in query.unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        for name in ["team", "subject"] {
            if k == name {
                // Ids are plain ASCII; anything percent-encoded is not one and answers 404.
                named.push((name, v.to_owned()));
            }
        }
    }
    named
}

/// The teams and subjects a request names must lie within the grant's reach: a coach reaches
/// the teams they are staff of and the subjects on them, a person their own record. Anything
/// else answers 404, as if it did not exist, so no handler has to filter by hand and nothing
/// tells staff of one team what another holds.
async fn check_reach(
    state: &AppState,
    principal: &Principal,
    org: OrgId,
    reach: &GrantReach,
    named: &[(&'static str, String)],
) -> Result<(), ApiError> {
    if *reach == GrantReach::Organisation {
        return Ok(());
    }
    for (name, value) in named {
        match *name {
            "team" => check_team(reach, value)?,
            _ => check_subject(state, principal, org, reach, value).await?,
        }
    }
    Ok(())
}

fn check_team(reach: &GrantReach, team: &str) -> Result<(), ApiError> {
    let team = TeamId::parse(team).map_err(|_| ApiError::NotFound("team"))?;
    if reach.reaches_team(team) {
        Ok(())
    } else {
        Err(ApiError::NotFound("team"))
    }
}

async fn check_subject(
    state: &AppState,
    principal: &Principal,
    org: OrgId,
    reach: &GrantReach,
    subject: &str,
) -> Result<(), ApiError> {
    let subject = SubjectId::parse(subject).map_err(|_| ApiError::NotFound("subject"))?;
    let mut tx = state
        .app
        .db
        .tenant(&OrgScope::for_gate(org), Access::Read)
        .await?;
    let reached = match reach {
        GrantReach::Organisation => true,
        GrantReach::Teams(mine) => subjects::teams_of(&mut tx, subject)
            .await?
            .iter()
            .any(|t| mine.contains(t)),
        GrantReach::OwnRecord => match principal {
            Principal::User { user, .. } => {
                match subjects::get_including_archived(&mut tx, subject).await {
                    Ok(s) => s.user == Some(user.id),
                    Err(mhp_storage::StorageError::NotFound { .. }) => false,
                    Err(e) => return Err(e.into()),
                }
            }
            Principal::ApiKey(_) => false,
        },
    };
    if reached {
        Ok(())
    } else {
        Err(ApiError::NotFound("subject"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Allow(Reach),
    OtherOrg,
    NotPermitted,
}

/// Turns a reach into ids: a coach's teams are the ones they are staff of.
async fn resolve_reach(
    state: &AppState,
    principal: &Principal,
    org: OrgId,
    reach: Reach,
) -> Result<GrantReach, ApiError> {
    Ok(match (reach, principal) {
        (Reach::Organisation, _) => GrantReach::Organisation,
        (Reach::OwnRecord, _) => GrantReach::OwnRecord,
        (Reach::OwnTeams, Principal::User { user, .. }) => {
            let mut tx = state
                .app
                .db
                .tenant(&OrgScope::for_gate(org), Access::Read)
                .await?;
            GrantReach::Teams(teams::staffed_by(&mut tx, user.id).await?)
        }
        (Reach::OwnTeams, Principal::ApiKey(_)) => GrantReach::Teams(Vec::new()),
    })
}

async fn decide(
    state: &AppState,
    principal: &Principal,
    org: OrgId,
    permission: Option<Permission>,
) -> Result<(Decision, Vec<Role>), ApiError> {
    let roles: Vec<Role> = match principal {
        Principal::ApiKey(k) if k.org == org => vec![k.role],
        Principal::ApiKey(_) => return Ok((Decision::OtherOrg, Vec::new())),
        Principal::User { user, .. } => {
            let mut tx = state
                .app
                .db
                .tenant(&OrgScope::for_gate(org), Access::Read)
                .await?;
            users::roles(&mut tx, user.id).await?
        }
    };
    if roles.is_empty() {
        return Ok((Decision::OtherOrg, roles));
    }
    let decision = match permission {
        None => Decision::Allow(Reach::OwnRecord),
        Some(permission) => match widest_reach(&roles, permission) {
            Some(reach) => Decision::Allow(reach),
            None => Decision::NotPermitted,
        },
    };
    Ok((decision, roles))
}

/// A person whose organisation demands a second factor for their roles must have passed one in
/// this session. API keys are exempt: they are not people and carry no session.
async fn check_mfa_policy(
    state: &AppState,
    principal: &Principal,
    org: OrgId,
    roles: &[Role],
) -> Result<(), ApiError> {
    if !matches!(principal, Principal::User { .. }) || principal.passed_mfa() {
        return Ok(());
    }
    let mut tx = state
        .app
        .db
        .tenant(&OrgScope::for_gate(org), Access::Read)
        .await?;
    let policy = mfa::policy(&mut tx).await?;
    if policy.requires_mfa(roles) {
        return Err(ApiError::MfaRequired);
    }
    Ok(())
}

/// Cookies travel with cross-site requests; bearer tokens do not. So a state-changing request
/// authenticated by the session cookie must echo the session's CSRF token in a header that a
/// cross-site form cannot set.
fn check_csrf(principal: &Principal, parts: &Parts) -> Result<(), ApiError> {
    let Some(s) = principal.session() else {
        return Ok(());
    };
    if parts.method.is_safe() {
        return Ok(());
    }
    let presented = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if session::csrf_matches(presented, &s.csrf_token) {
        Ok(())
    } else {
        Err(ApiError::CsrfRejected)
    }
}
