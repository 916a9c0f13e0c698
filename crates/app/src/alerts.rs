//! Security alerts for the people who deal with them: an organisation's administrators and
//! auditors see and handle their organisation's alerts; the platform operator sees every alert,
//! including the platform-wide ones (password spraying, forged tokens, a broken audit chain).
//! Every read and every change of status is recorded.

use mhp_domain::OrgScope;
use mhp_storage::Access;
use mhp_storage::repo::audit::{self, AuditEvent};
use mhp_storage::repo::security::{self as repo, Alert, AlertFilter, AlertStatus};

use crate::{App, AppError, Caller};

/// A change of an alert's status, as asked.
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// The new status.
    pub status: AlertStatus,
    /// Why (required to resolve: what was found, what was done).
    pub reason: Option<String>,
}

impl StatusChange {
    /// Checks a request: a known status, a reason of at most 1000 characters without control
    /// characters other than new lines, and a reason whenever an alert is resolved.
    pub fn parse(status: &str, reason: Option<String>) -> Result<Self, AppError> {
        let status = AlertStatus::parse(status)
            .ok_or_else(|| AppError::malformed("status must be open, acknowledged or resolved"))?;
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if let Some(r) = &reason
            && (r.chars().count() > 1000 || r.chars().any(|c| c.is_control() && c != '\n'))
        {
            return Err(AppError::malformed(
                "reason must be at most 1000 characters of text",
            ));
        }
        if status == AlertStatus::Resolved && reason.is_none() {
            return Err(AppError::malformed(
                "reason is required to resolve an alert",
            ));
        }
        Ok(Self { status, reason })
    }
}

/// The organisation's alerts, newest first (the read is recorded).
pub async fn list(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    filter: &AlertFilter,
    limit: u32,
) -> Result<Vec<Alert>, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let found = repo::org_alerts(&mut tx, filter, limit).await?;
    caller
        .record(&mut tx, "security.alert_list", "security_alert", None, now)
        .await?;
    tx.commit().await?;
    Ok(found)
}

/// Sets the status of one of the organisation's alerts, recorded with the change.
pub async fn set_status(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: &str,
    change: &StatusChange,
) -> Result<Alert, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    repo::set_org_alert_status(
        &mut tx,
        id,
        change.status,
        &caller.actor,
        change.reason.as_deref(),
        now,
    )
    .await?;
    let alert = repo::org_alert(&mut tx, id).await?;
    audit::append(
        &mut tx,
        &caller
            .event(
                "security.alert_status",
                "security_alert",
                Some(id.to_owned()),
            )
            .with_detail(change.status.as_str()),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(alert)
}

/// Every alert, the platform's and every organisation's, newest first (the platform operator;
/// the read is recorded in the platform's audit chain).
pub async fn list_all(
    app: &App,
    caller: &Caller,
    filter: &AlertFilter,
    limit: u32,
) -> Result<Vec<Alert>, AppError> {
    let now = app.now();
    let mut tx = app.db.operator(Access::Write).await?;
    let found = repo::all_alerts(&mut tx, filter, limit).await?;
    audit::append_as_operator(
        &mut tx,
        None,
        &caller.event("security.alert_list", "security_alert", None),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(found)
}

/// Sets the status of any alert (the platform operator), recorded in the platform's chain.
pub async fn set_status_any(
    app: &App,
    caller: &Caller,
    id: &str,
    change: &StatusChange,
) -> Result<Alert, AppError> {
    let now = app.now();
    let mut tx = app.db.operator(Access::Write).await?;
    let alert = repo::set_alert_status(
        &mut tx,
        id,
        change.status,
        &caller.actor,
        change.reason.as_deref(),
        now,
    )
    .await?;
    let event: AuditEvent = caller
        .event(
            "security.alert_status",
            "security_alert",
            Some(id.to_owned()),
        )
        .with_detail(change.status.as_str());
    audit::append_as_operator(&mut tx, None, &event, now).await?;
    tx.commit().await?;
    Ok(alert)
}
