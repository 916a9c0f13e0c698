//! Second factors: TOTP enrolment and confirmation, verification at sign-in (with a TOTP code
//! or a recovery code), and the organisation's MFA policy.
//!
//! Passing the second factor rotates the session id, as any gain of privilege does. Wrong codes
//! are throttled per user like passwords (the attacker has the password already).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use mhp_auth::events::AuthEvent;
use mhp_auth::{session, throttle, totp};
use mhp_crypto::seal::Place;
use mhp_domain::{MfaPolicy, Secret, Timestamp, UserId};
use mhp_storage::Access;
use mhp_storage::repo::{mfa, sessions, users};
use serde::{Deserialize, Serialize};

use super::Grant;
use super::auth::{presented_session, start_session, with_cookie};
use crate::authn::Principal;
use crate::{ApiError, ApiJson, AppState, security};

const ISSUER: &str = "MHP";

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Code {
    code: Option<String>,
    recovery_code: Option<String>,
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code { .. }")
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    #[schemars(schema_with = "super::sets::one::<super::sets::MfaPolicySet>")]
    policy: String,
}

/// A new TOTP secret, to enter into an authenticator app (shown once).
#[derive(Serialize, schemars::JsonSchema)]
pub struct TotpSecret {
    secret_base32: String,
    otpauth_uri: String,
}

/// Recovery codes, shown once, and the new session's CSRF token.
#[derive(Serialize, schemars::JsonSchema)]
pub struct RecoveryCodes {
    recovery_codes: Vec<String>,
    csrf_token: String,
}

/// A second factor verified: the new session's CSRF token and how many recovery codes are
/// left.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Verified {
    csrf_token: String,
    recovery_codes_left: i64,
}

/// An organisation's second-factor policy.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PolicyOut {
    #[schemars(schema_with = "super::sets::one::<super::sets::MfaPolicySet>")]
    policy: &'static str,
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret { .. }")
    }
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCodes { .. }")
    }
}

fn place(user: &str) -> Place<'_> {
    mhp_app::org_move::totp_place(user)
}

/// Opens a user's sealed TOTP secret.
fn open_secret(
    state: &AppState,
    user: mhp_domain::UserId,
    t: &mfa::Totp,
) -> Result<mhp_domain::Secret<Vec<u8>>, ApiError> {
    let id = user.to_string();
    state
        .identity
        .totp_sealer
        .open(&t.secret, &place(&id))
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

fn person(
    grant: &Grant,
) -> Result<(&mhp_storage::repo::users::User, &sessions::Session), ApiError> {
    match (&grant.principal, grant.principal.session()) {
        (Principal::User { user, .. }, Some(session)) => Ok((user, session)),
        _ => Err(ApiError::Forbidden),
    }
}

/// `POST /api/v1/auth/mfa/totp`: a new secret, pending until a first code confirms it.
pub async fn begin(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<TotpSecret>, ApiError> {
    let new = begin_totp(&state, &grant).await?;
    Ok(Json(TotpSecret {
        secret_base32: new.secret_base32.expose().clone(),
        otpauth_uri: new.otpauth_uri.expose().clone(),
    }))
}

/// A new authenticator's key, to enter into the app (shown once, and again while pending).
pub(crate) struct NewAuthenticator {
    /// The key in base32, as apps take it typed.
    pub secret_base32: Secret<String>,
    /// The `otpauth://` URI, as apps take it scanned.
    pub otpauth_uri: Secret<String>,
}

impl NewAuthenticator {
    fn of(secret: &[u8], user: &users::User) -> Self {
        Self {
            secret_base32: Secret::new(totp::base32(secret)),
            otpauth_uri: Secret::new(totp::otpauth_uri(secret, ISSUER, user.email.as_str())),
        }
    }
}

/// Begins enrolling an authenticator: a new secret, sealed and pending until a first code
/// confirms it. A person who has one already gets a conflict. The API and the account page call
/// it.
pub(crate) async fn begin_totp(
    state: &AppState,
    grant: &Grant,
) -> Result<NewAuthenticator, ApiError> {
    let (user, _) = person(grant)?;
    let id = user.id.to_string();
    let mut tx = state.app.db.operator(Access::Write).await?;
    if mfa::totp(&mut tx, user.id)
        .await?
        .is_some_and(|t| t.enabled_at.is_some())
    {
        return Err(ApiError::Conflict("an authenticator"));
    }
    let secret = totp::new_secret();
    let sealed = state
        .identity
        .totp_sealer
        .seal(secret.expose(), &place(&id))
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    mfa::begin_totp(&mut tx, user.id, &sealed).await?;
    tx.commit().await?;
    Ok(NewAuthenticator::of(secret.expose(), user))
}

/// The key of an enrolment begun and not yet confirmed, to show again after a wrong code.
pub(crate) async fn pending_totp(
    state: &AppState,
    user: &users::User,
) -> Result<Option<NewAuthenticator>, ApiError> {
    let mut tx = state.app.db.operator(Access::Read).await?;
    let Some(t) = mfa::totp(&mut tx, user.id).await? else {
        return Ok(None);
    };
    if t.enabled_at.is_some() {
        return Ok(None);
    }
    let secret = open_secret(state, user.id, &t)?;
    Ok(Some(NewAuthenticator::of(secret.expose(), user)))
}

/// Whether a person's authenticator is on, and how many recovery codes they have left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Status {
    /// When the authenticator was confirmed; `None` when there is none (or it is pending).
    pub enabled_at: Option<Timestamp>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
}

/// A person's second-factor status.
pub(crate) async fn status(state: &AppState, user: UserId) -> Result<Status, ApiError> {
    let mut tx = state.app.db.operator(Access::Read).await?;
    let enabled_at = mfa::totp(&mut tx, user).await?.and_then(|t| t.enabled_at);
    let recovery_codes_left = mfa::recovery_codes_left(&mut tx, user).await?;
    Ok(Status {
        enabled_at,
        recovery_codes_left,
    })
}

/// `POST /api/v1/auth/mfa/totp/confirm`: the first code turns TOTP on, issues recovery codes
/// (shown once) and lifts this session to second-factor strength under a new id.
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    grant: Grant,
    ApiJson(body): ApiJson<Code>,
) -> Result<Response, ApiError> {
    let code = body
        .code
        .ok_or_else(|| ApiError::BadRequest("code is required".into()))?;
    let (started, codes) = confirm_totp(&state, &headers, &grant, &code).await?;
    let body = RecoveryCodes {
        recovery_codes: codes.iter().map(|c| c.expose().clone()).collect(),
        csrf_token: started.csrf_token.clone(),
    };
    with_cookie((StatusCode::OK, Json(body)).into_response(), &started)
}

/// Confirms an enrolment with its first code: turns the authenticator on, issues recovery codes
/// (to show once) and starts the session again at second-factor strength under a new id (the
/// caller sets its cookie). The API and the account page call it.
pub(crate) async fn confirm_totp(
    state: &AppState,
    headers: &HeaderMap,
    grant: &Grant,
    code: &str,
) -> Result<(session::NewSession, Vec<Secret<String>>), ApiError> {
    let (user, _) = person(grant)?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.operator(Access::Write).await?;
    let Some(t) = mfa::totp(&mut tx, user.id).await? else {
        return Err(ApiError::BadRequest("begin enrolment first".into()));
    };
    if t.enabled_at.is_some() {
        return Err(ApiError::Conflict("an authenticator"));
    }
    let secret = open_secret(state, user.id, &t)?;
    let step = totp::verify(secret.expose(), code, now, t.last_step).ok_or_else(|| {
        ApiError::BadRequest("the code does not match; check the device's clock".into())
    })?;
    if !mfa::accept_step(&mut tx, user.id, step, now).await? {
        return Err(ApiError::BadRequest("that code was used already".into()));
    }
    let codes = totp::recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| totp::recovery_code_hash(c.expose()))
        .collect();
    mfa::replace_recovery_codes(&mut tx, user.id, &hashes).await?;
    let started = start_session(
        &mut tx,
        user,
        &grant.meta,
        false,
        Some(now),
        presented_session(headers).as_deref(),
        now,
    )
    .await?;
    record(&mut tx, grant, user.id, AuthEvent::MfaEnrolled, now).await?;
    tx.commit().await?;
    Ok((started, codes))
}

/// `POST /api/v1/auth/mfa/verify`: finishes a sign-in whose second factor is due, with a TOTP
/// code or a recovery code.
pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    grant: Grant,
    ApiJson(body): ApiJson<Code>,
) -> Result<Response, ApiError> {
    let factor = match (body.code, body.recovery_code) {
        (Some(code), None) => SecondFactor::Code(code),
        (None, Some(recovery)) => SecondFactor::Recovery(recovery),
        _ => {
            return Err(ApiError::BadRequest(
                "send either code or recovery_code".into(),
            ));
        }
    };
    let (started, left) = finish_second_factor(&state, &headers, &grant, factor).await?;
    let body = Verified {
        csrf_token: started.csrf_token.clone(),
        recovery_codes_left: left,
    };
    with_cookie((StatusCode::OK, Json(body)).into_response(), &started)
}

/// What a person offers as their second factor.
pub(crate) enum SecondFactor {
    /// A code from their authenticator app.
    Code(String),
    /// One of their recovery codes.
    Recovery(String),
}

/// Finishes a sign-in whose second factor is due: checks the factor (throttled, each attempt
/// a security event) and on success starts a fresh session with the factor done. Answers the
/// session and how many recovery codes are left. The API's `verify` and the sign-in page's
/// code form both call it.
pub(crate) async fn finish_second_factor(
    state: &AppState,
    headers: &HeaderMap,
    grant: &Grant,
    factor: SecondFactor,
) -> Result<(mhp_auth::session::NewSession, i64), ApiError> {
    let (user, session) = person(grant)?;
    if !session.mfa_pending {
        return Err(ApiError::BadRequest(
            "no second factor is due in this session".into(),
        ));
    }
    let now = state.app.clock.now();
    let key = format!("mfa:{}", user.id);
    let mut tx = state.app.db.operator(Access::Write).await?;
    if let Some(until) = sessions::locked_until(&mut tx, &key, now).await? {
        // Refused unchecked, and still an attempt monitoring counts (`mfa_failure_burst`).
        record(
            &mut tx,
            grant,
            user.id,
            AuthEvent::MfaChecked { passed: false },
            now,
        )
        .await?;
        tx.commit().await?;
        let secs = ((until.as_millis() - now.as_millis() + 999) / 1000).max(1);
        return Err(ApiError::TooManyAttempts(u64::try_from(secs).unwrap_or(1)));
    }
    let accepted = match factor {
        SecondFactor::Code(code) => match mfa::totp(&mut tx, user.id).await? {
            Some(t) if t.enabled_at.is_some() => {
                let secret = open_secret(state, user.id, &t)?;
                match totp::verify(secret.expose(), &code, now, t.last_step) {
                    Some(step) => mfa::accept_step(&mut tx, user.id, step, now).await?,
                    None => false,
                }
            }
            _ => false,
        },
        SecondFactor::Recovery(recovery) => match totp::recovery_code_hash(&recovery) {
            Some(h) => mfa::use_recovery_code(&mut tx, user.id, &h, now).await?,
            None => false,
        },
    };
    if !accepted {
        let failures = sessions::record_failure(&mut tx, &key, now, throttle::WINDOW_MS).await?;
        if let Some(ms) = throttle::lock_after(failures, throttle::FREE_FAILURES) {
            sessions::lock(&mut tx, &key, Timestamp::from_millis(now.as_millis() + ms)).await?;
        }
        record(
            &mut tx,
            grant,
            user.id,
            AuthEvent::MfaChecked { passed: false },
            now,
        )
        .await?;
        tx.commit().await?;
        return Err(ApiError::Unauthenticated);
    }
    sessions::clear(&mut tx, &key).await?;
    let started = start_session(
        &mut tx,
        user,
        &grant.meta,
        false,
        Some(now),
        presented_session(headers).as_deref(),
        now,
    )
    .await?;
    record(
        &mut tx,
        grant,
        user.id,
        AuthEvent::MfaChecked { passed: true },
        now,
    )
    .await?;
    tx.commit().await?;
    let left = {
        let mut tx = state.app.db.operator(Access::Read).await?;
        mfa::recovery_codes_left(&mut tx, user.id).await?
    };
    Ok((started, left))
}

async fn record(
    tx: &mut mhp_storage::OperatorTx,
    grant: &Grant,
    user: mhp_domain::UserId,
    event: AuthEvent,
    now: Timestamp,
) -> Result<(), ApiError> {
    let actor = grant.principal.actor();
    security::record_user_event(tx, &actor, Some(user), &event, &grant.meta, now).await?;
    Ok(())
}

/// `GET /api/v1/orgs/{org}/mfa-policy`
pub async fn get_policy(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<PolicyOut>, ApiError> {
    let policy = org_policy(&state, &grant).await?;
    Ok(Json(PolicyOut {
        policy: policy.as_str(),
    }))
}

/// The organisation's second-factor policy.
pub(crate) async fn org_policy(state: &AppState, grant: &Grant) -> Result<MfaPolicy, ApiError> {
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    Ok(mfa::policy(&mut tx).await?)
}

/// `PUT /api/v1/orgs/{org}/mfa-policy`
pub async fn set_policy(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<Json<PolicyOut>, ApiError> {
    let policy = set_org_policy(&state, &grant, &body.policy).await?;
    Ok(Json(PolicyOut {
        policy: policy.as_str(),
    }))
}

/// Sets the organisation's second-factor policy, with its event. The API and the settings page
/// call it.
pub(crate) async fn set_org_policy(
    state: &AppState,
    grant: &Grant,
    policy: &str,
) -> Result<MfaPolicy, ApiError> {
    let policy = MfaPolicy::parse(policy).ok_or_else(|| {
        ApiError::BadRequest("policy must be optional, privileged or everyone".into())
    })?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    let before = mfa::policy(&mut tx).await?;
    mfa::set_policy(&mut tx, policy).await?;
    let event = AuthEvent::MfaPolicyChanged {
        policy: policy.as_str(),
        weakened: policy < before,
    };
    security::record_in(&mut tx, &grant.principal.actor(), &event, &grant.meta, now).await?;
    tx.commit().await?;
    Ok(policy)
}
