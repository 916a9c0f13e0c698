//! Sign-in with a password, the current session, sign-out and sign-out everywhere.
//!
//! Sign-in is throttled per (account, address), per address and per account across addresses
//! (see `mhp_auth::throttle`), answers an unknown e-mail exactly like a wrong password (same
//! status, same body, a dummy Argon2 run for the same time), always mints a fresh session id
//! (no fixation), and upgrades password hashes made with older parameters.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mhp_auth::events::{Actor, AuthEvent};
use mhp_auth::{password, session, throttle};
use mhp_domain::{Email, Secret, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::sessions::{self, NewSession};
use mhp_storage::repo::{mfa, tokens, users};
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::authn::{Principal, RequestMeta};
use crate::{ApiError, ApiJson, AppState, security};

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenPair { .. }")
    }
}

/// A person as sign-in answers name them.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UserRef {
    id: String,
    email: String,
    display_name: String,
}

impl UserRef {
    pub(super) fn of(user: &users::User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
        }
    }
}

/// The answer to a sign-in (the session cookie comes with it).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SignedIn {
    user: UserRef,
    /// Send it in `X-CSRF-Token` with every cookie-authenticated write.
    csrf_token: String,
    /// A second factor is due before the session reaches anything but `/auth/mfa/verify`.
    mfa_required: bool,
    /// The password must be changed.
    password_change_required: bool,
    expires_at_ms: i64,
}

/// The current web session.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SessionOut {
    user: UserRef,
    csrf_token: String,
    created_at_ms: i64,
    expires_at_ms: i64,
}

/// How an access token is presented.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub enum TokenType {
    /// `Authorization: Bearer <access_token>`.
    Bearer,
}

/// An access token (a JWT, verifiable with `/.well-known/jwks.json`) and a refresh token,
/// rotated on use.
#[derive(Serialize, schemars::JsonSchema)]
pub struct TokenPair {
    access_token: String,
    token_type: TokenType,
    /// Lifetime of the access token.
    expires_in: i64,
    refresh_token: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
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
    let now = state.app.clock.now();
    let secret = Secret::new(body.password);
    match sign_in_with_password(&state, &meta, &headers, &body.email, secret).await? {
        PasswordSignIn::SsoRequired => Ok(crate::Problem::new(
            StatusCode::FORBIDDEN,
            mhp_app::Code::SsoRequired,
            "Sign in through your organisation",
        )
        .with_detail("your organisation requires single sign-on: use /api/v1/auth/sso/{org}/start")
        .into_response()),
        PasswordSignIn::Started {
            user,
            started,
            totp_on,
        } => {
            let body = SignedIn {
                user: UserRef::of(&user),
                csrf_token: started.csrf_token.clone(),
                mfa_required: totp_on,
                password_change_required: user.password_change_required_at.is_some(),
                expires_at_ms: session::expires_at(now, now).as_millis(),
            };
            with_cookie((StatusCode::OK, Json(body)).into_response(), &started)
        }
    }
}

/// What a password sign-in came to, when the password was right.
pub(crate) enum PasswordSignIn {
    /// A session started; its second factor is due when `totp_on`.
    Started {
        /// Who signed in.
        user: users::User,
        /// The new session (its cookie and CSRF token).
        started: session::NewSession,
        /// Whether the person has an authenticator, so the session waits for its code.
        totp_on: bool,
    },
    /// The person's organisation requires single sign-on (recorded as a refused sign-in).
    SsoRequired,
}

/// The account a failed sign-in names: the user's id, or a keyed stand-in for an address that
/// matches nobody (so monitoring counts distinct accounts without the addresses).
fn attempted_account(state: &AppState, user: Option<mhp_domain::UserId>, email: &Email) -> String {
    user.map_or_else(
        || state.app.pseudonyms.unknown_account(email.as_str()),
        |u| u.to_string(),
    )
}

/// Signs a person in with their e-mail address and password: throttled per account, address
/// and account across addresses, verified outside any transaction, every outcome a security
/// event. A wrong address or password is [`ApiError::Unauthenticated`], alike for both. The
/// API's `login` and the sign-in page both call it.
pub(crate) async fn sign_in_with_password(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    email: &str,
    secret: Secret<String>,
) -> Result<PasswordSignIn, ApiError> {
    let Ok(email) = Email::parse(email) else {
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
    let account_wide_key = throttle::account_wide_key(email.as_str());
    let now = state.app.clock.now();

    // Read, then verify outside any transaction (Argon2 takes tens of milliseconds), then write.
    let mut tx = state.app.db.operator(Access::Read).await?;
    let locked = [&account_key, &address_key, &account_wide_key];
    let mut locked_until: Option<Timestamp> = None;
    for key in locked {
        if let Some(t) = sessions::locked_until(&mut tx, key, now).await? {
            locked_until = Some(locked_until.map_or(t, |u| u.max(t)));
        }
    }
    let found = users::find_by_email(&mut tx, &email).await?;
    drop(tx);
    if let Some(until) = locked_until {
        let mut tx = state.app.db.operator(Access::Write).await?;
        let event = AuthEvent::SignInFailed { throttled: true };
        let account = attempted_account(state, found.as_ref().map(|(u, _)| u.id), &email);
        security::record_account_event(
            &mut tx,
            &Actor::Anonymous,
            Some(account),
            &event,
            meta,
            now,
        )
        .await?;
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
            let mut tx = state.app.db.operator(Access::Write).await?;
            let mut account_locked_ms = None;
            for (key, free) in [
                (&account_key, throttle::FREE_FAILURES),
                (&address_key, throttle::FREE_FAILURES_PER_ADDRESS),
                (&account_wide_key, throttle::FREE_FAILURES_PER_ACCOUNT),
            ] {
                let failures =
                    sessions::record_failure(&mut tx, key, now, throttle::WINDOW_MS).await?;
                if let Some(ms) = throttle::lock_after(failures, free) {
                    sessions::lock(&mut tx, key, Timestamp::from_millis(now.as_millis() + ms))
                        .await?;
                    if key == &account_wide_key {
                        account_locked_ms = Some(ms);
                    }
                }
            }
            let event = AuthEvent::SignInFailed { throttled: false };
            let account = attempted_account(state, user, &email);
            security::record_account_event(
                &mut tx,
                &Actor::Anonymous,
                Some(account),
                &event,
                meta,
                now,
            )
            .await?;
            if let Some(ms) = account_locked_ms {
                // Unknown addresses are locked alike, but only an account's lock is an event.
                if user.is_some() {
                    let event = AuthEvent::AccountLocked {
                        seconds: u64::try_from(ms / 1000).unwrap_or(0),
                    };
                    security::record_user_event(
                        &mut tx,
                        &Actor::Anonymous,
                        user,
                        &event,
                        meta,
                        now,
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            return Err(ApiError::Unauthenticated);
        }
    };

    let rehash = if password::needs_rehash(&stored) {
        Some(password::hash(&secret).map_err(|e| ApiError::Internal(Box::new(e)))?)
    } else {
        None
    };
    let mut tx = state.app.db.operator(Access::Write).await?;
    sessions::clear(&mut tx, &account_key).await?;
    sessions::clear(&mut tx, &account_wide_key).await?;
    if mhp_storage::repo::sso::required_for_user(&mut tx, user.id).await? {
        // Checked after the password, so that the answer tells nothing to who lacks it.
        let actor = Actor::User(user.id.to_string());
        let event = AuthEvent::PasswordSignInRefused;
        security::record_user_event(&mut tx, &actor, Some(user.id), &event, meta, now).await?;
        tx.commit().await?;
        return Ok(PasswordSignIn::SsoRequired);
    }
    let totp_on = mfa::totp(&mut tx, user.id)
        .await?
        .is_some_and(|t| t.enabled_at.is_some());
    let previous = presented_session(headers);
    let started = start_session(
        &mut tx,
        &user,
        meta,
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
        meta,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(PasswordSignIn::Started {
        user,
        started,
        totp_on,
    })
}

/// The hash of the session cookie a request presents, if any.
pub(crate) fn presented_session(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(session::cookie_value)
        .and_then(session::presented_id_hash)
}

/// Starts a session with a fresh id, ending `previous` (no fixation: a session's id changes
/// whenever its privileges do).
pub(crate) async fn start_session(
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
pub(crate) fn with_cookie(
    mut res: Response,
    started: &session::NewSession,
) -> Result<Response, ApiError> {
    let cookie = session::set_cookie(&started.id);
    let value =
        HeaderValue::from_str(cookie.expose()).map_err(|e| ApiError::Internal(Box::new(e)))?;
    res.headers_mut().insert(header::SET_COOKIE, value);
    Ok(res)
}

pub async fn session(grant: Grant) -> Result<Json<SessionOut>, ApiError> {
    let (Principal::User { user, .. }, Some(s)) = (&grant.principal, grant.principal.session())
    else {
        return Err(ApiError::Forbidden);
    };
    Ok(Json(SessionOut {
        user: UserRef::of(user),
        csrf_token: s.csrf_token.clone(),
        created_at_ms: s.created_at.as_millis(),
        expires_at_ms: session::expires_at(s.created_at, s.last_seen_at).as_millis(),
    }))
}

pub async fn logout(State(state): State<AppState>, grant: Grant) -> Result<Response, ApiError> {
    sign_out(&state, &grant, false).await
}

pub async fn logout_all(State(state): State<AppState>, grant: Grant) -> Result<Response, ApiError> {
    sign_out(&state, &grant, true).await
}

async fn sign_out(state: &AppState, grant: &Grant, everywhere: bool) -> Result<Response, ApiError> {
    end_session(state, grant, everywhere).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&session::clear_cookie()) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// Ends the caller's web session, or every session and refresh token of theirs
/// (`everywhere`), recorded as a security event. The caller clears the cookie.
pub(crate) async fn end_session(
    state: &AppState,
    grant: &Grant,
    everywhere: bool,
) -> Result<(), ApiError> {
    let (Principal::User { user, .. }, Some(s)) = (&grant.principal, grant.principal.session())
    else {
        return Err(ApiError::Forbidden);
    };
    let now = state.app.clock.now();
    let mut tx = state.app.db.operator(Access::Write).await?;
    if everywhere {
        sessions::revoke_all(&mut tx, user.id, now).await?;
        tokens::revoke_user_refresh(&mut tx, user.id, now).await?;
    } else {
        sessions::revoke(&mut tx, &s.id_sha256, now).await?;
    }
    let event = AuthEvent::SignedOut { everywhere };
    let actor = grant.principal.actor();
    security::record_user_event(&mut tx, &actor, Some(user.id), &event, &grant.meta, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Refresh tokens live this long.
const REFRESH_TTL_MS: i64 = 30 * 86_400_000;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    refresh_token: String,
}

impl std::fmt::Debug for Refresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refresh { .. }")
    }
}

/// `POST /api/v1/auth/token`: an access token and a refresh token for the signed-in person.
pub async fn issue_token(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<TokenPair>, ApiError> {
    let (Principal::User { user, .. }, Some(s)) = (&grant.principal, grant.principal.session())
    else {
        return Err(ApiError::Forbidden);
    };
    let amr = if s.mfa_verified_at.is_some() {
        "pwd otp"
    } else {
        "pwd"
    };
    let now = state.app.clock.now();
    let family = mhp_auth::token::random_id();
    // The key first: making one needs a write transaction of its own.
    let key = state
        .identity
        .token_keys
        .signing_key(&state.app.db, now)
        .await?;
    let mut tx = state.app.db.operator(Access::Write).await?;
    let pair = issue_pair(&state, &mut tx, &key, user.id, amr, &family, now).await?;
    let event = AuthEvent::TokenIssued { refreshed: false };
    let actor = grant.principal.actor();
    security::record_user_event(&mut tx, &actor, Some(user.id), &event, &grant.meta, now).await?;
    tx.commit().await?;
    Ok(Json(pair))
}

/// `POST /api/v1/auth/token/refresh`: exchanges a refresh token for a new pair. A refresh token
/// works once; presenting it again revokes every token descended from the same sign-in (the
/// sign of a stolen token, RFC 6819 §5.2.2.3).
pub async fn refresh_token(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<Refresh>,
) -> Result<Json<TokenPair>, ApiError> {
    let now = state.app.clock.now();
    let Some(hash) = session::presented_id_hash(&body.refresh_token) else {
        return Err(ApiError::Unauthenticated);
    };
    let key = state
        .identity
        .token_keys
        .signing_key(&state.app.db, now)
        .await?;
    let mut tx = state.app.db.operator(Access::Write).await?;
    let Some(stored) = tokens::find_refresh(&mut tx, &hash).await? else {
        return Err(ApiError::Unauthenticated);
    };
    let actor = Actor::User(stored.user.to_string());
    if stored.revoked_at.is_some() || now >= stored.expires_at {
        return Err(ApiError::Unauthenticated);
    }
    if !tokens::use_refresh(&mut tx, &hash, now).await? {
        tokens::revoke_family(&mut tx, &stored.family, now).await?;
        let event = AuthEvent::TokenReuseDetected;
        security::record_user_event(&mut tx, &actor, Some(stored.user), &event, &meta, now).await?;
        tx.commit().await?;
        return Err(ApiError::Unauthenticated);
    }
    if users::get_as_operator(&mut tx, stored.user).await.is_err() {
        return Err(ApiError::Unauthenticated);
    }
    let pair = issue_pair(
        &state,
        &mut tx,
        &key,
        stored.user,
        &stored.amr,
        &stored.family,
        now,
    )
    .await?;
    let event = AuthEvent::TokenIssued { refreshed: true };
    security::record_user_event(&mut tx, &actor, Some(stored.user), &event, &meta, now).await?;
    tx.commit().await?;
    Ok(Json(pair))
}

async fn issue_pair(
    state: &AppState,
    tx: &mut mhp_storage::OperatorTx,
    (kid, seed): &(String, Secret<[u8; 32]>),
    user: mhp_domain::UserId,
    amr: &str,
    family: &str,
    now: Timestamp,
) -> Result<TokenPair, ApiError> {
    use mhp_auth::token::{self, Claims};
    let now_s = now.as_millis() / 1000;
    let claims = Claims {
        iss: state.identity.token_keys.issuer.clone(),
        aud: token::AUDIENCE.to_owned(),
        sub: user.to_string(),
        exp: now_s + token::ACCESS_TTL_S,
        nbf: now_s,
        iat: now_s,
        jti: token::random_id(),
        amr: amr.split(' ').map(str::to_owned).collect(),
    };
    let access =
        token::sign(&claims, kid, seed.expose()).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let (refresh, refresh_hash) = session::new_opaque();
    tokens::add_refresh(
        tx,
        &tokens::RefreshToken {
            id_sha256: refresh_hash,
            family: family.to_owned(),
            user,
            amr: amr.to_owned(),
            expires_at: Timestamp::from_millis(now.as_millis() + REFRESH_TTL_MS),
            used_at: None,
            revoked_at: None,
        },
        now,
    )
    .await?;
    Ok(TokenPair {
        access_token: access,
        token_type: TokenType::Bearer,
        expires_in: token::ACCESS_TTL_S,
        refresh_token: refresh.expose().clone(),
    })
}
