//! Invitations into an organisation and password resets, through single-use tokens that expire
//! (7 days and 1 hour) and travel only in the message to the person.
//!
//! Asking for a reset answers the same, in the same time, whether the account exists or not:
//! the answer comes after work that does not depend on the account (parsing, the limit on mail
//! per address), and the lookup, the token and the message follow the answer in a task of their
//! own. Messages are limited per address and, for invitations, per organisation, per hour,
//! counted in the system of record so that every instance counts together; past the limit the
//! answer is 429 with `Retry-After`, for unknown addresses too.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mhp_auth::events::{Actor, AuthEvent};
use mhp_auth::{password, session, throttle};
use mhp_domain::{DisplayName, Email, OrgId, Role, Secret, Timestamp, UserId};
use mhp_storage::Access;
use mhp_storage::repo::users::NewUser;
use mhp_storage::repo::{invitations, mail, orgs, sessions, tokens, users};
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::authn::RequestMeta;
use crate::{ApiError, ApiJson, AppState, security};
use mhp_app::notify::Message;

const INVITATION_TTL_MS: i64 = 7 * 86_400_000;
const RESET_TTL_MS: i64 = 60 * 60 * 1000;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    email: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::RoleSet>")]
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

/// An invitation sent.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct InvitationOut {
    email: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::RoleSet>")]
    role: &'static str,
    expires_at_ms: i64,
}

/// An invitation accepted: the account and the membership it made.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Joined {
    user_id: String,
    org: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::RoleSet>")]
    role: &'static str,
}

/// How many messages MHP sends per hour (`auth.mail_per_address_per_hour`,
/// `auth.invitations_per_org_per_hour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    /// Password-reset and invitation messages to one address.
    pub per_address_per_hour: u32,
    /// Invitations sent by one organisation.
    pub invitations_per_org_per_hour: u32,
}

impl Default for MailLimits {
    fn default() -> Self {
        Self {
            per_address_per_hour: 5,
            invitations_per_org_per_hour: 100,
        }
    }
}

/// Counts a message against each `(key, limit)`; `TooManyAttempts` with the seconds until the
/// fullest window ends when any limit is passed. Counted in a transaction of its own, before
/// the change it guards, so a refused message changes nothing else.
async fn within_mail_limits(state: &AppState, limits: &[(String, u32)]) -> Result<(), ApiError> {
    let now = state.app.clock.now();
    let mut tx = state.app.db.operator(Access::Write).await?;
    let mut retry_after_ms = None;
    for (key, limit) in limits {
        let counted = mail::count(&mut tx, key, now, throttle::MAIL_WINDOW_MS).await?;
        if counted.sent > i64::from(*limit) {
            let ends = counted.window_start.as_millis() + throttle::MAIL_WINDOW_MS;
            let wait = (ends - now.as_millis()).max(1000);
            retry_after_ms = Some(retry_after_ms.map_or(wait, |w: i64| w.max(wait)));
        }
    }
    tx.commit().await?;
    match retry_after_ms {
        None => Ok(()),
        Some(ms) => {
            state.metrics.mail_limited();
            Err(ApiError::TooManyAttempts(
                u64::try_from((ms + 999) / 1000).unwrap_or(1),
            ))
        }
    }
}

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
) -> Result<(StatusCode, Json<InvitationOut>), ApiError> {
    let sent = send_invitation(&state, &grant, &body.email, &body.role).await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitationOut {
            email: sent.email.as_str().to_owned(),
            role: sent.role.as_str(),
            expires_at_ms: sent.expires_at.as_millis(),
        }),
    ))
}

/// An invitation sent.
#[derive(Debug, Clone)]
pub(crate) struct Invited {
    pub email: Email,
    pub role: Role,
    pub expires_at: Timestamp,
}

/// Invites a person into the grant's organisation: within the limits on mail, refused for an
/// address that looks like an existing member's, the message queued before the commit, with
/// its event. The API and the settings page call it.
pub(crate) async fn send_invitation(
    state: &AppState,
    grant: &Grant,
    email: &str,
    role: &str,
) -> Result<Invited, ApiError> {
    let email = Email::parse(email).map_err(|e| ApiError::BadRequest(format!("email {e}")))?;
    let role = Role::parse(role).map_err(|e| ApiError::BadRequest(format!("role: {e}")))?;
    if role == Role::Device {
        return Err(ApiError::BadRequest(
            "devices get API keys, not invitations".into(),
        ));
    }
    let org = grant.org()?;
    within_mail_limits(
        state,
        &[
            (
                throttle::mail_address_key(email.as_str()),
                state.identity.mail_limits.per_address_per_hour,
            ),
            (
                throttle::mail_org_key(&org.org().to_string()),
                state.identity.mail_limits.invitations_per_org_per_hour,
            ),
        ],
    )
    .await?;
    let now = state.app.clock.now();
    let expires_at = Timestamp::from_millis(now.as_millis() + INVITATION_TTL_MS);
    let (token, hash) = session::new_opaque();
    let actor = grant.principal.actor();
    let mut tx = state.app.db.tenant(&org, Access::Write).await?;
    let members = users::members(&mut tx).await?;
    if members
        .iter()
        .any(|m| email.is_confusable_with(&m.user.email))
    {
        return Err(ApiError::Invalid {
            code: mhp_app::Code::EmailConfusable,
            detail: "email looks like the address of an existing member (characters that \
                     look alike): check the address"
                .into(),
        });
    }
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
             Accept within 7 days by opening this link:\n{}/invitation?token={}\n\n\
             An application of your own can accept with this token instead \
             (POST /api/v1/auth/invitations/accept):\n{}\n",
            state.identity.public_url,
            token.expose(),
            token.expose()
        )),
    };
    state
        .app
        .notifier
        .send(&message)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    tx.commit().await?;
    Ok(Invited {
        email,
        role,
        expires_at,
    })
}

/// `POST /api/v1/auth/invitations/accept`: joins the organisation; creates the account (with
/// the given password) when the invited address has none.
pub async fn accept(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<Accept>,
) -> Result<(StatusCode, Json<Joined>), ApiError> {
    let joined = accept_invitation(
        &state,
        &meta,
        &body.token,
        &body.display_name,
        body.password,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Joined {
            user_id: joined.user.to_string(),
            org: joined.org.to_string(),
            role: joined.role.as_str(),
        }),
    ))
}

/// An invitation as its page shows it to the person holding its link.
#[derive(Debug, Clone)]
pub(crate) struct InvitationView {
    /// The organisation's name.
    pub org_name: String,
    /// The role offered.
    pub role: Role,
    /// The invited address.
    pub email: Email,
    /// Whether the address has an account already (no password is asked then).
    pub has_account: bool,
}

/// The invitation a token opens, while it can still be accepted; `None` for a token that is
/// invalid, used or expired (alike).
pub(crate) async fn invitation(
    state: &AppState,
    token: &str,
) -> Result<Option<InvitationView>, ApiError> {
    let Some(hash) = session::presented_id_hash(token) else {
        return Ok(None);
    };
    let now = state.app.clock.now();
    let mut tx = state.app.db.operator(Access::Read).await?;
    let Some(invitation) = invitations::find(&mut tx, &hash).await? else {
        return Ok(None);
    };
    if invitation.accepted_at.is_some() || now >= invitation.expires_at {
        return Ok(None);
    }
    let Some(org) = orgs::get_as_operator(&mut tx, invitation.org).await? else {
        return Ok(None);
    };
    let has_account = users::find_by_email(&mut tx, &invitation.email)
        .await?
        .is_some();
    Ok(Some(InvitationView {
        org_name: org.name.as_str().to_owned(),
        role: invitation.role,
        email: invitation.email,
        has_account,
    }))
}

/// An invitation accepted: who joined what, as which role.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Membership {
    pub user: UserId,
    pub org: OrgId,
    pub role: Role,
}

/// Accepts an invitation: joins the organisation, creating the account (with `password`) when
/// the invited address has none. The API's `accept` and the invitation page both call it.
pub(crate) async fn accept_invitation(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
    display_name: &str,
    password: Option<String>,
) -> Result<Membership, ApiError> {
    let hash = session::presented_id_hash(token).ok_or_else(bad_token)?;
    let display_name = DisplayName::parse(display_name)
        .map_err(|e| ApiError::BadRequest(format!("display_name {e}")))?;
    let password = password.map(new_password).transpose()?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.operator(Access::Write).await?;
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
        meta,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Membership {
        user: user.id,
        org: invitation.org,
        role: invitation.role,
    })
}

/// `POST /api/v1/auth/password-reset`: always 202 within the limit on mail, so the answer does
/// not tell whether the address has an account; the message is prepared after the answer.
pub async fn request_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    ask_reset(&state, meta, &body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Asks for a password reset: within the limit on mail, answers alike whether the address has
/// an account or not, and prepares the message after the answer. The API and the page call it.
pub(crate) async fn ask_reset(
    state: &AppState,
    meta: RequestMeta,
    email: &str,
) -> Result<(), ApiError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    within_mail_limits(
        state,
        &[(
            throttle::mail_address_key(email.as_str()),
            state.identity.mail_limits.per_address_per_hour,
        )],
    )
    .await?;
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send_reset(&state, &meta, email).await {
            tracing::error!(error = %e, "a password reset could not be prepared");
        }
        state.metrics.reset_processed();
    });
    Ok(())
}

/// The work of a reset request after its answer: the lookup, the token, the audit event and
/// the message, for an existing account with a password.
async fn send_reset(state: &AppState, meta: &RequestMeta, email: Email) -> Result<(), ApiError> {
    let now = state.app.clock.now();
    let mut tx = state.app.db.operator(Access::Write).await?;
    let Some((user, Some(_))) = users::find_by_email(&mut tx, &email).await? else {
        return Ok(());
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
        meta,
        now,
    )
    .await?;
    let message = Message {
        to: email,
        subject: "Reset your MHP password",
        body: Secret::new(format!(
            "Someone asked to reset your MHP password. If it was you, choose a new one within \
             one hour by opening this link:\n{}/password-reset/new?token={}\n\n\
             An application of your own can set it with this token instead \
             (POST /api/v1/auth/password-reset/complete):\n{}\n\n\
             If it was not you, ignore this message: your password stays as it is.\n",
            state.identity.public_url,
            token.expose(),
            token.expose()
        )),
    };
    state
        .app
        .notifier
        .send(&message)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    tx.commit().await?;
    Ok(())
}

/// `POST /api/v1/auth/password-reset/complete`: sets the new password and ends every session and
/// refresh token of the account.
pub async fn complete_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<ResetComplete>,
) -> Result<StatusCode, ApiError> {
    reset_password(&state, &meta, &body.token, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a new password with a reset link's token, and ends every session and refresh token of
/// the account. The API and the page call it.
pub(crate) async fn reset_password(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
    password: String,
) -> Result<(), ApiError> {
    let hash = session::presented_id_hash(token).ok_or_else(bad_token)?;
    let (_, password_hash) = new_password(password)?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.operator(Access::Write).await?;
    let user = invitations::use_reset(&mut tx, &hash, now)
        .await?
        .ok_or_else(bad_token)?;
    users::change_password(&mut tx, user, &password_hash).await?;
    // The owner proved control of the address: the account's sign-in locks end.
    let account = users::get_as_operator(&mut tx, user).await?;
    sessions::clear_account(&mut tx, &throttle::account_wide_key(account.email.as_str())).await?;
    sessions::revoke_all(&mut tx, user, now).await?;
    tokens::revoke_user_refresh(&mut tx, user, now).await?;
    let actor = Actor::User(user.to_string());
    security::record_user_event(
        &mut tx,
        &actor,
        Some(user),
        &AuthEvent::PasswordReset,
        meta,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
