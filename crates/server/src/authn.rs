//! Authentication (who is calling) and the request facts that audit events carry.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, header, request::Parts};
use mhp_auth::api_key::PresentedKey;
use mhp_auth::events::{Actor, AuthEvent, AuthFailure};
use mhp_auth::session;
use mhp_domain::{OrgId, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::api_keys::{self, ApiKey};
use mhp_storage::repo::sessions::{self, Session};
use mhp_storage::repo::users::{self, User};

use crate::{ApiError, AppState, RequestId, security};

/// Longest credential header considered; longer ones are refused unread.
const MAX_CREDENTIAL_LEN: usize = 512;

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A device or integration, through an API key bound to one organisation and one role.
    ApiKey(ApiKey),
    /// A person. Their roles depend on the organisation.
    User {
        /// The account.
        user: User,
        /// How they authenticated this request.
        auth: UserAuth,
    },
}

/// How a person authenticated a request.
#[derive(Debug, Clone)]
pub enum UserAuth {
    /// A web session cookie.
    Session(Session),
    /// An access token.
    Token {
        /// Whether the sign-in behind the token passed a second factor.
        mfa: bool,
    },
}

impl Principal {
    /// The web session behind the request, if that is how it authenticated.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Principal::User {
                auth: UserAuth::Session(s),
                ..
            } => Some(s),
            _ => None,
        }
    }

    /// Whether the request's authentication included a second factor.
    pub fn passed_mfa(&self) -> bool {
        match self {
            Principal::User {
                auth: UserAuth::Session(s),
                ..
            } => s.mfa_verified_at.is_some(),
            Principal::User {
                auth: UserAuth::Token { mfa },
                ..
            } => *mfa,
            Principal::ApiKey(_) => false,
        }
    }
}

impl Principal {
    /// The audit log's actor.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::ApiKey(k) => Actor::ApiKey(k.id.clone()),
            Principal::User { user, .. } => Actor::User(user.id.to_string()),
        }
    }

    /// The organisation the principal belongs to, for attributing its events; people may
    /// belong to several, so theirs go to the organisation they acted in.
    pub fn home_org(&self) -> Option<OrgId> {
        match self {
            Principal::ApiKey(k) => Some(k.org),
            Principal::User { .. } => None,
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
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.to_string()),
            source_ip: parts
                .extensions
                .get::<crate::middleware::ClientIp>()
                .map(|c| c.0)
                .or_else(|| {
                    parts
                        .extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|c| c.0.ip())
                })
                .map(|ip| ip.to_string()),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(256).collect()),
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

/// Authenticates the request: an `Authorization: Bearer` API key, or else the session cookie.
/// Every failure is the same 401 to the caller; the reason goes to the security events.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    meta: &RequestMeta,
) -> Result<Principal, ApiError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = Some(auth)
            .filter(|v| v.len() <= MAX_CREDENTIAL_LEN)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        return match token {
            Some(token) if token.starts_with("mhp_") => api_key_principal(state, token, meta).await,
            Some(token) => access_token_principal(state, token, meta).await,
            None => {
                refuse(state, meta, AuthFailure::Invalid, None).await;
                Err(ApiError::Unauthenticated)
            }
        };
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter(|v| v.len() <= 4096)
        .filter_map(|v| v.to_str().ok())
        .find_map(session::cookie_value);
    match cookie {
        Some(value) => session_principal(state, value, meta).await,
        None => Err(ApiError::Unauthenticated),
    }
}

async fn api_key_principal(
    state: &AppState,
    token: &str,
    meta: &RequestMeta,
) -> Result<Principal, ApiError> {
    let Some(presented) = PresentedKey::parse(token) else {
        refuse(state, meta, AuthFailure::Invalid, None).await;
        return Err(ApiError::Unauthenticated);
    };
    let now = state.app.clock.now();
    let cache = &state.identity.credentials;
    // From memory only to accept: any other answer is looked up again below.
    if let Some((key, hash)) = cache.key(&presented.id)
        && presented.matches(&hash)
        && key.is_active(now)
    {
        return Ok(Principal::ApiKey(note_key_use(state, key, now).await?));
    }
    let stamp = cache.stamp();
    let mut tx = state.app.db.operator_lookup().await?;
    let found = api_keys::find_for_authentication(&mut tx, &presented.id).await?;
    let Some((key, stored_hash)) = found else {
        drop(tx);
        refuse(state, meta, AuthFailure::Invalid, None).await;
        return Err(ApiError::Unauthenticated);
    };
    // After a rotation the previous secret works until its overlap ends.
    let current = presented.matches(&stored_hash);
    let matches = current
        || (key.previous_expires_at.is_some_and(|t| now < t)
            && api_keys::previous_secret(&mut tx, &key.id, now)
                .await?
                .is_some_and(|h| presented.matches(&h)));
    drop(tx);
    if !matches {
        refuse(state, meta, AuthFailure::Invalid, Some(&key)).await;
        return Err(ApiError::Unauthenticated);
    }
    if !key.is_active(now) {
        refuse(state, meta, AuthFailure::Expired, Some(&key)).await;
        return Err(ApiError::Unauthenticated);
    }
    if current {
        cache.put_key(stamp, &key, &stored_hash);
    }
    Ok(Principal::ApiKey(note_key_use(state, key, now).await?))
}

/// Records a key's use when the last record is over a minute old.
async fn note_key_use(
    state: &AppState,
    mut key: ApiKey,
    now: Timestamp,
) -> Result<ApiKey, ApiError> {
    let stale = key
        .last_used_at
        .is_none_or(|t| t.as_millis() < now.as_millis() - 60_000);
    if stale {
        let mut tx = state.app.db.operator(Access::Write).await?;
        api_keys::touch(&mut tx, &key.id, now).await?;
        tx.commit().await?;
        state.identity.credentials.key_used(&key.id, now);
        key.last_used_at = Some(now);
    }
    Ok(key)
}

async fn access_token_principal(
    state: &AppState,
    token: &str,
    meta: &RequestMeta,
) -> Result<Principal, ApiError> {
    let now = state.app.clock.now();
    let refused_for = |failure: AuthFailure| async move {
        refuse(state, meta, failure, None).await;
        Err(ApiError::Unauthenticated)
    };
    let refused = || refused_for(AuthFailure::Invalid);
    // A forged token (unsigned, another algorithm, a signature that fails) is told apart for
    // monitoring; the caller gets the same answer as for any other.
    let failure_of = |e: mhp_auth::token::TokenError| {
        e.forgery()
            .map_or(AuthFailure::Invalid, AuthFailure::Forged)
    };
    let kid = match mhp_auth::token::key_id(token) {
        Ok(kid) => kid,
        Err(e) => return refused_for(failure_of(e)).await,
    };
    let Some(public) = state
        .identity
        .token_keys
        .public_key(&state.app.db, &kid, now)
        .await?
    else {
        return refused().await;
    };
    let issuer = &state.identity.token_keys.issuer;
    let claims = match mhp_auth::token::verify(token, &public, issuer, now.as_millis() / 1000) {
        Ok(c) => c,
        Err(e) => return refused_for(failure_of(e)).await,
    };
    let cache = &state.identity.credentials;
    if let Some(key_id) = claims.sub.strip_prefix("apikey:") {
        // A client's token (the client credentials grant): the key as it stands now.
        if let Some((key, _)) = cache.key(key_id)
            && key.is_active(now)
        {
            return Ok(Principal::ApiKey(key));
        }
        let stamp = cache.stamp();
        let mut tx = state.app.db.operator_lookup().await?;
        let found = api_keys::find_for_authentication(&mut tx, key_id).await?;
        drop(tx);
        if let Some((key, hash)) = &found
            && key.is_active(now)
        {
            cache.put_key(stamp, key, hash);
        }
        return match found {
            Some((key, _)) if key.is_active(now) => Ok(Principal::ApiKey(key)),
            Some((key, _)) => {
                refuse(state, meta, AuthFailure::Expired, Some(&key)).await;
                Err(ApiError::Unauthenticated)
            }
            None => refused().await,
        };
    }
    let Ok(user_id) = mhp_domain::UserId::parse(&claims.sub) else {
        return refused().await;
    };
    let user = match cache.user(user_id) {
        Some(user) => user,
        None => {
            let stamp = cache.stamp();
            let mut tx = state.app.db.operator_lookup().await?;
            let user = match users::get_as_operator(&mut tx, user_id).await {
                Ok(u) => u,
                Err(mhp_storage::StorageError::NotFound { .. }) => return refused().await,
                Err(e) => return Err(e.into()),
            };
            cache.put_user(stamp, &user);
            user
        }
    };
    Ok(Principal::User {
        user,
        auth: UserAuth::Token {
            mfa: claims.amr.iter().any(|m| m == "otp"),
        },
    })
}

async fn session_principal(
    state: &AppState,
    cookie: &str,
    meta: &RequestMeta,
) -> Result<Principal, ApiError> {
    let Some(id_sha256) = session::presented_id_hash(cookie) else {
        refuse(state, meta, AuthFailure::Invalid, None).await;
        return Err(ApiError::Unauthenticated);
    };
    let now = state.app.clock.now();
    let cache = &state.identity.credentials;
    let live = |s: &Session| {
        s.revoked_at.is_none() && now < session::expires_at(s.created_at, s.last_seen_at)
    };
    // From memory only to accept: a session that looks over is looked up again (another
    // instance may have kept it alive).
    if let Some((found, user)) = cache.session(&id_sha256)
        && live(&found)
    {
        return session_in_use(state, found, user, now).await;
    }
    let stamp = cache.stamp();
    // Two lookups, each of the current state: the session, then its user. They need no
    // common snapshot (a revocation between them is the same as one just after).
    let mut tx = state.app.db.operator_lookup().await?;
    let found = sessions::find(&mut tx, &id_sha256).await?;
    let Some(found) = found else {
        drop(tx);
        refuse(state, meta, AuthFailure::Invalid, None).await;
        return Err(ApiError::Unauthenticated);
    };
    if !live(&found) {
        drop(tx);
        refuse(state, meta, AuthFailure::Expired, None).await;
        return Err(ApiError::Unauthenticated);
    }
    let user = match users::get_as_operator(&mut tx, found.user).await {
        Ok(u) => u,
        Err(mhp_storage::StorageError::NotFound { .. }) => {
            drop(tx);
            refuse(state, meta, AuthFailure::Expired, None).await;
            return Err(ApiError::Unauthenticated);
        }
        Err(e) => return Err(e.into()),
    };
    drop(tx);
    cache.put_session(stamp, &found, &user);
    session_in_use(state, found, user, now).await
}

/// Records a session's last request when the last record is over a minute old.
async fn session_in_use(
    state: &AppState,
    mut found: Session,
    user: User,
    now: Timestamp,
) -> Result<Principal, ApiError> {
    if now.as_millis() - found.last_seen_at.as_millis() > 60_000 {
        let mut tx = state.app.db.operator(Access::Write).await?;
        sessions::touch(&mut tx, &found.id_sha256, now).await?;
        tx.commit().await?;
        state
            .identity
            .credentials
            .session_seen(&found.id_sha256, now);
        found.last_seen_at = now;
    }
    Ok(Principal::User {
        user,
        auth: UserAuth::Session(found),
    })
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
