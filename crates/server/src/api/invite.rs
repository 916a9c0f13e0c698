//! Invitations into an organisation and password resets, through single-use tokens that expire
//! (7 days and 1 hour) and travel only in the message to the person. Asking for a reset answers
//! the same whether the account exists or not.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mhp_auth::events::{Actor, AuthEvent};
use mhp_auth::{password, session};
use mhp_domain::{DisplayName, Email, Role, Secret, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::users::NewUser;
use mhp_storage::repo::{invitations, sessions, tokens, users};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Grant;
use crate::authn::RequestMeta;
use crate::notify::Message;
use crate::{ApiError, ApiJson, AppState, security};

const INVITATION_TTL_MS: i64 = 7 * 86_400_000;
const RESET_TTL_MS: i64 = 60 * 60 * 1000;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    email: String,
    role: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    token: String,
    display_name: String,
    password: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    email: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetComplete {
    token: String,
    password: String,
}

macro_rules! redacted_debug {
    ($t:ty) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { .. }"))
            }
        }
    };
}
redacted_debug!(Accept);
redacted_debug!(ResetComplete);

fn bad_token() -> ApiError {
    ApiError::BadRequest("the link is invalid, used or expired".into())
}

fn new_password(text: String) -> Result<(Secret<String>, String), ApiError> {
    let secret = Secret::new(text);
    password::check_policy(secret.expose()).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let hash = password::hash(&secret).map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok((secret, hash))
}

/// `POST /api/v1/orgs/{org}/invitations`
pub async fn invite(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<NewInvitation>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let email =
        Email::parse(&body.email).map_err(|e| ApiError::BadRequest(format!("email {e}")))?;
    let role = Role::parse(&body.role).map_err(|e| ApiError::BadRequest(format!("role: {e}")))?;
    if role == Role::Device {
        return Err(ApiError::BadRequest(
            "devices get API keys, not invitations".into(),
        ));
    }
    let now = state.clock.now();
    let expires_at = Timestamp::from_millis(now.as_millis() + INVITATION_TTL_MS);
    let (token, hash) = session::new_opaque();
    let actor = grant.principal.actor();
    let mut tx = state.db.tenant(&grant.org()?, Access::Write).await?;
    invitations::invite(
        &mut tx,
        &hash,
        &email,
        role,
        &actor.audit_name(),
        expires_at,
        now,
    )
    .await?;
    security::record_in(
        &mut tx,
        &actor,
        &AuthEvent::InvitationSent { role },
        &grant.meta,
        now,
    )
    .await?;
    // The message goes out before the commit: if it cannot be queued, nothing is stored.
    let message = Message {
        to: email.clone(),
        subject: "You are invited to MHP",
        body: Secret::new(format!(
            "You are invited to join an organisation on MHP as {role}.\n\
             Accept within 7 days: POST /api/v1/auth/invitations/accept with this token:\n{}\n",
            token.expose()
        )),
    };
    state
        .notifier
        .send(&message)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "email": email.as_str(), "role": role.as_str(), "expires_at_ms": expires_at.as_millis() }),
        ),
    ))
}

/// `POST /api/v1/auth/invitations/accept`: joins the organisation; creates the account (with
/// the given password) when the invited address has none.
pub async fn accept(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<Accept>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let hash = session::presented_id_hash(&body.token).ok_or_else(bad_token)?;
    let display_name = DisplayName::parse(&body.display_name)
        .map_err(|e| ApiError::BadRequest(format!("display_name {e}")))?;
    let password = body.password.map(new_password).transpose()?;
    let now = state.clock.now();
    let mut tx = state.db.operator(Access::Write).await?;
    let invitation = invitations::find(&mut tx, &hash)
        .await?
        .ok_or_else(bad_token)?;
    if invitation.accepted_at.is_some() || now >= invitation.expires_at {
        return Err(bad_token());
    }
    if !invitations::accept(&mut tx, &hash, now).await? {
        return Err(bad_token());
    }
    let user = match users::find_by_email(&mut tx, &invitation.email).await? {
        Some((user, _)) => user,
        None => {
            let Some((_, hash)) = &password else {
                return Err(ApiError::BadRequest(
                    "a password is required for a new account".into(),
                ));
            };
            users::create(
                &mut tx,
                &NewUser {
                    email: &invitation.email,
                    display_name: &display_name,
                    password_hash: Some(hash),
                    password_change_required: false,
                    platform_role: None,
                },
                now,
            )
            .await?
        }
    };
    users::grant_as_operator(&mut tx, invitation.org, user.id, invitation.role, now).await?;
    let actor = Actor::User(user.id.to_string());
    security::record_user_event(
        &mut tx,
        &actor,
        Some(user.id),
        &AuthEvent::InvitationAccepted,
        &meta,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "user_id": user.id.to_string(),
            "org": invitation.org.to_string(),
            "role": invitation.role.as_str(),
        })),
    ))
}

/// `POST /api/v1/auth/password-reset`: always 202, so the answer does not tell whether the
/// address has an account.
pub async fn request_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    let Ok(email) = Email::parse(&body.email) else {
        return Ok(StatusCode::ACCEPTED);
    };
    let now = state.clock.now();
    let mut tx = state.db.operator(Access::Write).await?;
    let Some((user, Some(_))) = users::find_by_email(&mut tx, &email).await? else {
        return Ok(StatusCode::ACCEPTED);
    };
    let (token, hash) = session::new_opaque();
    let expires_at = Timestamp::from_millis(now.as_millis() + RESET_TTL_MS);
    invitations::add_reset(&mut tx, &hash, user.id, expires_at, now).await?;
    let actor = Actor::Anonymous;
    security::record_user_event(
        &mut tx,
        &actor,
        Some(user.id),
        &AuthEvent::PasswordResetRequested,
        &meta,
        now,
    )
    .await?;
    let message = Message {
        to: email,
        subject: "Reset your MHP password",
        body: Secret::new(format!(
            "Someone asked to reset your MHP password. If it was you, within one hour POST \
             /api/v1/auth/password-reset/complete with this token:\n{}\n\
             If it was not you, ignore this message.\n",
            token.expose()
        )),
    };
    state
        .notifier
        .send(&message)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/v1/auth/password-reset/complete`: sets the new password and ends every session and
/// refresh token of the account.
pub async fn complete_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<ResetComplete>,
) -> Result<StatusCode, ApiError> {
    let hash = session::presented_id_hash(&body.token).ok_or_else(bad_token)?;
    let (_, password_hash) = new_password(body.password)?;
    let now = state.clock.now();
    let mut tx = state.db.operator(Access::Write).await?;
    let user = invitations::use_reset(&mut tx, &hash, now)
        .await?
        .ok_or_else(bad_token)?;
    users::change_password(&mut tx, user, &password_hash).await?;
    sessions::revoke_all(&mut tx, user, now).await?;
    tokens::revoke_user_refresh(&mut tx, user, now).await?;
    let actor = Actor::User(user.to_string());
    security::record_user_event(
        &mut tx,
        &actor,
        Some(user),
        &AuthEvent::PasswordReset,
        &meta,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
