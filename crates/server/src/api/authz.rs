//! The authorization gate: authenticates the caller, finds the route's requirement in the
//! route table, checks it against the access policy, and hands the handler a [`Grant`]. Callers
//! from another organisation get 404 (nothing there for them); members without the permission
//! get 403. Every refusal is a security event.

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use mhp_auth::events::AuthEvent;
use mhp_domain::{OrgId, OrgScope, Permission, Role, role_allows};

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
    /// The facts audit events record.
    pub meta: RequestMeta,
}

impl Grant {
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
            parts.extensions.insert(grant);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

async fn gate(state: &AppState, parts: &mut Parts) -> Result<Grant, ApiError> {
    let meta = RequestMeta::from_parts(parts);
    let path = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let method = parts.method.as_str();
    let Some(spec) = ROUTES.iter().find(|r| r.path == path && r.method == method) else {
        // Every route comes from ROUTES; reaching here means the table and router disagree.
        return Err(ApiError::Internal(
            "route missing from the route table".into(),
        ));
    };
    let principal = authn::authenticate(state, &parts.headers, &meta).await?;
    let permission = match spec.requirement {
        Requirement::Authenticated => {
            return Ok(Grant {
                principal,
                scope: None,
                meta,
            });
        }
        Requirement::InOrg(p) => p,
    };
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::NotFound("organisation"))?;
    let org = params
        .iter()
        .find(|(k, _)| *k == "org")
        .and_then(|(_, v)| OrgId::parse(v).ok())
        .ok_or(ApiError::NotFound("organisation"))?;
    match decide(&principal, org, permission) {
        Decision::Allow => Ok(Grant {
            principal,
            scope: Some(OrgScope::for_org(org)),
            meta,
        }),
        decision => {
            let event = AuthEvent::AccessDenied { org, permission };
            let home = principal.home_org();
            security::record_standalone(state, &principal.actor(), Some(home), &event, &meta).await;
            Err(if decision == Decision::OtherOrg {
                ApiError::NotFound("organisation")
            } else {
                ApiError::Forbidden
            })
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Allow,
    OtherOrg,
    NotPermitted,
}

fn decide(principal: &Principal, org: OrgId, permission: Permission) -> Decision {
    let roles: &[Role] = match principal {
        Principal::ApiKey(k) if k.org == org => std::slice::from_ref(&k.role),
        Principal::ApiKey(_) => return Decision::OtherOrg,
    };
    if roles.iter().any(|r| role_allows(*r, permission)) {
        Decision::Allow
    } else {
        Decision::NotPermitted
    }
}
