//! Sign-in with a password, the current session, sign-out and sign-out everywhere.
//!
//! Sign-in is throttled per (account, address) and per address (see `mhp_auth::throttle`),
//! answers an unknown e-mail exactly like a wrong password (same status, same body, a dummy
//! Argon2 run for the same time), always mints a fresh session id (no fixation), and upgrades
//! password hashes made with older parameters.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mhp_auth::events::{Actor, AuthEvent};
use mhp_auth::{password, session, throttle};
use mhp_domain::{Email, Secret, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::sessions::{self, NewSession};
use mhp_storage::repo::{mfa, users};
use serde::Deserialize;
use serde_json::json;

use super::Grant;
use crate::authn::{Principal, RequestMeta};
use crate::{ApiError, ApiJson, AppState, security};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Login { .. }")
    }
}

pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let secret = Secret::new(body.password);
    let Ok(email) = Email::parse(&body.email) else {
        return Err(ApiError::Unauthenticated);
    };
    if secret.expose().chars().count() > password::MAX_LEN {
        return Err(ApiError::Unauthenticated);
    }
    let source = meta
        .source_ip
        .clone()
        .unwrap_or_else(|| "unknown".to_owned());
    let account_key = throttle::account_key(email.as_str(), &source);
    let address_key = throttle::address_key(&source);
    let now = state.clock.now();

    // Read, then verify outside any transaction (Argon2 takes tens of milliseconds), then write.
    let mut tx = state.db.operator(Access::Read).await?;
    let locked = [&account_key, &address_key];
    let mut locked_until: Option<Timestamp> = None;
    for key in locked {
        if let Some(t) = sessions::locked_until(&mut tx, key, now).await? {
            locked_until = Some(locked_until.map_or(t, |u| u.max(t)));
        }
    }
    let found = users::find_by_email(&mut tx, &email).await?;
    drop(tx);
    if let Some(until) = locked_until {
        let mut tx = state.db.operator(Access::Write).await?;
        let event = AuthEvent::SignInFailed { throttled: true };
        let user = found.as_ref().map(|(u, _)| u.id);
        security::record_user_event(&mut tx, &Actor::Anonymous, user, &event, &meta, now).await?;
        tx.commit().await?;
        let secs = ((until.as_millis() - now.as_millis() + 999) / 1000).max(1);
        return Err(ApiError::TooManyAttempts(u64::try_from(secs).unwrap_or(1)));
    }

    let stored = found
        .as_ref()
        .and_then(|(_, h)| h.clone())
        .unwrap_or_else(|| password::dummy_hash().to_owned());
    let verified = {
        let stored = stored.clone();
        let candidate = secret.clone();
        tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
            .await
            .map_err(|e| ApiError::Internal(Box::new(e)))?
    };
    let user = match (found, verified) {
        (Some((user, Some(_))), true) => user,
        (found, _) => {
            let user = found.map(|(u, _)| u.id);
            let mut tx = state.db.operator(Access::Write).await?;
            for (key, free) in [
                (&account_key, throttle::FREE_FAILURES),
                (&address_key, throttle::FREE_FAILURES_PER_ADDRESS),
            ] {
                let failures =
                    sessions::record_failure(&mut tx, key, now, throttle::WINDOW_MS).await?;
                if let Some(ms) = throttle::lock_after(failures, free) {
                    sessions::lock(&mut tx, key, Timestamp::from_millis(now.as_millis() + ms))
                        .await?;
                }
            }
            let event = AuthEvent::SignInFailed { throttled: false };
            security::record_user_event(&mut tx, &Actor::Anonymous, user, &event, &meta, now)
                .await?;
            tx.commit().await?;
            return Err(ApiError::Unauthenticated);
        }
    };

    let rehash = if password::needs_rehash(&stored) {
        Some(password::hash(&secret).map_err(|e| ApiError::Internal(Box::new(e)))?)
    } else {
        None
    };
    let mut tx = state.db.operator(Access::Write).await?;
    sessions::clear(&mut tx, &account_key).await?;
    let totp_on = mfa::totp(&mut tx, user.id)
        .await?
        .is_some_and(|t| t.enabled_at.is_some());
    let previous = presented_session(&headers);
    let started = start_session(
        &mut tx,
        &user,
        &meta,
        totp_on,
        None,
        previous.as_deref(),
        now,
    )
    .await?;
    if let Some(hash) = rehash {
        users::set_password_hash(&mut tx, user.id, &hash).await?;
    }
    let actor = Actor::User(user.id.to_string());
    security::record_user_event(
        &mut tx,
        &actor,
        Some(user.id),
        &AuthEvent::SignInSucceeded,
        &meta,
        now,
    )
    .await?;
    tx.commit().await?;

    let body = json!({
        "user": {
            "id": user.id.to_string(),
            "email": user.email.as_str(),
            "display_name": user.display_name.as_str(),
        },
        "csrf_token": started.csrf_token,
        "mfa_required": totp_on,
        "password_change_required": user.password_change_required_at.is_some(),
        "expires_at_ms": session::expires_at(now, now).as_millis(),
    });
    with_cookie((StatusCode::OK, Json(body)).into_response(), &started)
}

/// The hash of the session cookie a request presents, if any.
pub(super) fn presented_session(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(session::cookie_value)
        .and_then(session::presented_id_hash)
}

/// Starts a session with a fresh id, ending `previous` (no fixation: a session's id changes
/// whenever its privileges do).
pub(super) async fn start_session(
    tx: &mut mhp_storage::OperatorTx,
    user: &users::User,
    meta: &RequestMeta,
    mfa_pending: bool,
    mfa_verified_at: Option<Timestamp>,
    previous: Option<&str>,
    now: Timestamp,
) -> Result<session::NewSession, ApiError> {
    if let Some(old) = previous {
        sessions::revoke(tx, old, now).await?;
    }
    let minted = session::mint();
    sessions::create(
        tx,
        &NewSession {
            id_sha256: &minted.id_sha256,
            user: user.id,
            csrf_token: &minted.csrf_token,
            source_ip: meta.source_ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
            mfa_pending,
            mfa_verified_at,
        },
        now,
    )
    .await?;
    Ok(minted)
}

/// Adds the session cookie to a response.
pub(super) fn with_cookie(
    mut res: Response,
    started: &session::NewSession,
) -> Result<Response, ApiError> {
    let cookie = session::set_cookie(&started.id);
    let value =
        HeaderValue::from_str(cookie.expose()).map_err(|e| ApiError::Internal(Box::new(e)))?;
    res.headers_mut().insert(header::SET_COOKIE, value);
    Ok(res)
}

pub async fn session(grant: Grant) -> Result<Json<serde_json::Value>, ApiError> {
    let Principal::User { user, session: s } = &grant.principal else {
        return Err(ApiError::Forbidden);
    };
    Ok(Json(json!({
        "user": {
            "id": user.id.to_string(),
            "email": user.email.as_str(),
            "display_name": user.display_name.as_str(),
        },
        "csrf_token": s.csrf_token,
        "created_at_ms": s.created_at.as_millis(),
        "expires_at_ms": session::expires_at(s.created_at, s.last_seen_at).as_millis(),
    })))
}

pub async fn logout(State(state): State<AppState>, grant: Grant) -> Result<Response, ApiError> {
    sign_out(&state, &grant, false).await
}

pub async fn logout_all(State(state): State<AppState>, grant: Grant) -> Result<Response, ApiError> {
    sign_out(&state, &grant, true).await
}

async fn sign_out(state: &AppState, grant: &Grant, everywhere: bool) -> Result<Response, ApiError> {
    let Principal::User { user, session: s } = &grant.principal else {
        return Err(ApiError::Forbidden);
    };
    let now = state.clock.now();
    let mut tx = state.db.operator(Access::Write).await?;
    if everywhere {
        sessions::revoke_all(&mut tx, user.id, now).await?;
    } else {
        sessions::revoke(&mut tx, &s.id_sha256, now).await?;
    }
    let event = AuthEvent::SignedOut { everywhere };
    let actor = grant.principal.actor();
    security::record_user_event(&mut tx, &actor, Some(user.id), &event, &grant.meta, now).await?;
    tx.commit().await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&session::clear_cookie()) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}
