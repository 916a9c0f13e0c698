//! Authentication (who is calling) and the request facts that audit events carry.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, header, request::Parts};
use mhp_auth::api_key::PresentedKey;
use mhp_auth::events::{Actor, AuthEvent, AuthFailure};
use mhp_domain::OrgId;
use mhp_storage::Access;
use mhp_storage::repo::api_keys::{self, ApiKey};

use crate::{ApiError, AppState, RequestId, security};

/// Longest credential header considered; longer ones are refused unread.
const MAX_CREDENTIAL_LEN: usize = 512;

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A device or integration, through an API key bound to one organisation and one role.
    ApiKey(ApiKey),
}

impl Principal {
    /// The audit log's actor.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::ApiKey(k) => Actor::ApiKey(k.id.clone()),
        }
    }

    /// The organisation the principal belongs to, for attributing its events.
    pub fn home_org(&self) -> OrgId {
        match self {
            Principal::ApiKey(k) => k.org,
        }
    }
}

/// Facts about the request that audit events record.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The request id.
    pub request_id: Option<String>,
    /// The peer's address.
    pub source_ip: Option<String>,
    /// The user agent, truncated.
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// Reads the facts from a request's parts.
    pub fn from_parts(parts: &Parts) -> Self {
        Self {
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
            source_ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(256).collect()),
        }
    }
}

/// Authenticates the request's `Authorization: Bearer` credential. Every failure is the same
/// 401 to the caller; the reason goes to the security events.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    meta: &RequestMeta,
) -> Result<Principal, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .filter(|v| v.len() <= MAX_CREDENTIAL_LEN)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        return Err(ApiError::Unauthenticated);
    };
    let Some(presented) = PresentedKey::parse(token) else {
        refuse(state, meta, AuthFailure::Invalid, None).await;
        return Err(ApiError::Unauthenticated);
    };
    let now = state.clock.now();
    let mut tx = state.db.operator(Access::Read).await?;
    let found = api_keys::find_for_authentication(&mut tx, &presented.id).await?;
    drop(tx);
    let Some((key, stored_hash)) = found else {
        refuse(state, meta, AuthFailure::Invalid, None).await;
        return Err(ApiError::Unauthenticated);
    };
    if !presented.matches(&stored_hash) {
        refuse(state, meta, AuthFailure::Invalid, Some(&key)).await;
        return Err(ApiError::Unauthenticated);
    }
    if !key.is_active(now) {
        refuse(state, meta, AuthFailure::Expired, Some(&key)).await;
        return Err(ApiError::Unauthenticated);
    }
    let stale = key
        .last_used_at
        .is_none_or(|t| t.as_millis() < now.as_millis() - 60_000);
    if stale {
        let mut tx = state.db.operator(Access::Write).await?;
        api_keys::touch(&mut tx, &key.id, now).await?;
        tx.commit().await?;
    }
    Ok(Principal::ApiKey(key))
}

async fn refuse(state: &AppState, meta: &RequestMeta, failure: AuthFailure, key: Option<&ApiKey>) {
    let event = AuthEvent::AuthenticationFailed {
        failure,
        key_id: key.map(|k| k.id.clone()),
    };
    // A failure with a known key id is attributed to the key's organisation, so its auditors
    // see it; garbage credentials go to the security stream only, which cannot be flooded
    // into any organisation's audit log.
    security::record_standalone(state, &Actor::Anonymous, key.map(|k| k.org), &event, meta).await;
}
