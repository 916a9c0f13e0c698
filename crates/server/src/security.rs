//! The one interface for authentication and authorization events: each goes to the log (target
//! `mhp::security`) and to the audit log, or, when no organisation is concerned, to the
//! security signals; monitoring (`mhp_app::siem`) ships both to the SIEM and runs its rules.

use mhp_auth::events::{Actor, AuthEvent};
use mhp_domain::OrgId;
use mhp_storage::repo::audit::{self, AuditEvent, Outcome};
use mhp_storage::{Access, OperatorTx, StorageError, TenantTx};

use crate::AppState;
use crate::authn::RequestMeta;

/// The audit record of an event.
pub fn audit_event(actor: &Actor, event: &AuthEvent, meta: &RequestMeta) -> AuditEvent {
    let (resource_type, resource_id) = match event {
        AuthEvent::AuthenticationFailed { key_id, .. } => ("api_key", key_id.clone()),
        AuthEvent::AccessDenied { org, .. } => ("organisation", Some(org.to_string())),
        AuthEvent::ApiKeyIssued { key_id, .. }
        | AuthEvent::ApiKeyRevoked { key_id }
        | AuthEvent::ApiKeyRotated { key_id }
        | AuthEvent::ClientTokenIssued { key_id } => ("api_key", Some(key_id.clone())),
        AuthEvent::SignInSucceeded
        | AuthEvent::SignInFailed { .. }
        | AuthEvent::AccountLocked { .. }
        | AuthEvent::SignedOut { .. }
        | AuthEvent::MfaEnrolled
        | AuthEvent::MfaChecked { .. }
        | AuthEvent::TokenIssued { .. }
        | AuthEvent::TokenReuseDetected
        | AuthEvent::InvitationSent { .. }
        | AuthEvent::InvitationAccepted
        | AuthEvent::PasswordResetRequested
        | AuthEvent::PasswordReset
        | AuthEvent::SsoSignInSucceeded { .. }
        | AuthEvent::SsoSignInFailed { .. }
        | AuthEvent::PasswordSignInRefused => ("user", None),
        AuthEvent::MfaPolicyChanged { .. } | AuthEvent::SsoConfigured { .. } => {
            ("organisation", None)
        }
        AuthEvent::RolesChanged { user, .. } => ("user", Some(user.clone())),
    };
    AuditEvent {
        actor: actor.audit_name(),
        action: event.action(),
        resource_type,
        resource_id,
        outcome: if event.is_refusal() {
            Outcome::Denied
        } else {
            Outcome::Success
        },
        request_id: meta.request_id.clone(),
        source_ip: meta.source_ip.clone(),
        user_agent: meta.user_agent.clone(),
        detail: event.detail(),
    }
}

/// Logs the event and counts it in `/metrics` (the recording functions do it too).
pub(crate) fn emit(actor: &Actor, org: Option<OrgId>, event: &AuthEvent, meta: &RequestMeta) {
    crate::metrics::AUTH.count(event);
    let detail = event.detail().unwrap_or_default();
    let org = org.map(|o| o.to_string()).unwrap_or_default();
    let request_id = meta.request_id.as_deref().unwrap_or_default();
    let source_ip = meta.source_ip.as_deref().unwrap_or_default();
    let actor = actor.audit_name();
    // Refusals are what monitoring alerts on; the rest is the record of normal use.
    if event.is_refusal() {
        tracing::warn!(target: "mhp::security", action = event.action(), actor, org, detail,
            request_id, source_ip, outcome = "denied", "security event");
    } else {
        tracing::info!(target: "mhp::security", action = event.action(), actor, org, detail,
            request_id, source_ip, outcome = "success", "security event");
    }
}

/// Records an event that accompanies a change, in the change's transaction: if the audit write
/// fails, the change fails with it.
pub async fn record_in(
    tx: &mut TenantTx,
    actor: &Actor,
    event: &AuthEvent,
    meta: &RequestMeta,
    now: mhp_domain::Timestamp,
) -> Result<(), StorageError> {
    audit::append(tx, &audit_event(actor, event, meta), now).await?;
    emit(actor, Some(tx.org()), event, meta);
    Ok(())
}

/// Records a platform-level event of a user (sign-in, sign-out) in an operator transaction,
/// with the user as the resource.
pub async fn record_user_event(
    tx: &mut OperatorTx,
    actor: &Actor,
    user: Option<mhp_domain::UserId>,
    event: &AuthEvent,
    meta: &RequestMeta,
    now: mhp_domain::Timestamp,
) -> Result<(), StorageError> {
    record_account_event(tx, actor, user.map(|u| u.to_string()), event, meta, now).await
}

/// [`record_user_event`] with the account named by a string: a user id, or the stand-in for a
/// name that matches no account (`Pseudonymizer::unknown_account`).
pub async fn record_account_event(
    tx: &mut OperatorTx,
    actor: &Actor,
    account: Option<String>,
    event: &AuthEvent,
    meta: &RequestMeta,
    now: mhp_domain::Timestamp,
) -> Result<(), StorageError> {
    let mut record = audit_event(actor, event, meta);
    record.resource_id = account;
    audit::append_as_operator(tx, None, &record, now).await?;
    emit(actor, None, event, meta);
    Ok(())
}

/// Records an event that changes nothing else (a refusal) in a transaction of its own. A failed
/// audit write is logged; the request is refused either way.
pub async fn record_standalone(
    state: &AppState,
    actor: &Actor,
    org: Option<OrgId>,
    event: &AuthEvent,
    meta: &RequestMeta,
) {
    emit(actor, org, event, meta);
    let Some(org) = org else {
        // No organisation to attribute it to: a signal for monitoring, outside every audit log.
        mhp_app::siem::record_signal(&state.app, None, &audit_event(actor, event, meta)).await;
        return;
    };
    let now = state.app.clock.now();
    let write = async {
        let mut tx: OperatorTx = state.app.db.operator(Access::Write).await?;
        audit::append_as_operator(&mut tx, Some(org), &audit_event(actor, event, meta), now)
            .await?;
        tx.commit().await
    };
    if let Err(e) = write.await {
        tracing::error!(target: "mhp::security", error = %e, "could not audit a security event");
    }
}
