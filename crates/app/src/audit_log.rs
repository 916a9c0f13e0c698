//! Reading the organisation's audit log (auditors, administrators): the filters' rules and
//! the read itself, which is recorded (`audit.read`) in the transaction that makes it. The API
//! and the audit log page both call these.

use mhp_domain::OrgScope;
use mhp_storage::Access;
use mhp_storage::repo::audit::{self, Filter, StoredEvent};

use crate::{App, AppError, Caller};

fn text(field: &'static str, v: Option<String>) -> Result<Option<String>, AppError> {
    match v {
        Some(t) if t.is_empty() || t.len() > 200 || t.chars().any(char::is_control) => Err(
            AppError::malformed(format!("{field} must be 1 to 200 characters")),
        ),
        other => Ok(other),
    }
}

/// Checks filters as given: each text 1 to 200 characters without control characters.
pub fn check(filter: Filter) -> Result<Filter, AppError> {
    Ok(Filter {
        actor: text("actor", filter.actor)?,
        action: text("action", filter.action)?,
        resource_type: text("resource_type", filter.resource_type)?,
        resource_id: text("resource_id", filter.resource_id)?,
        ..filter
    })
}

/// The events matching `filter`, oldest first, after the event `after`, at most `limit`
/// (1 to 1000); the read is recorded.
pub async fn read(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    filter: &Filter,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<StoredEvent>, AppError> {
    let now = app.now();
    let found = {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        audit::search(&mut tx, filter, after, limit.clamp(1, 1000)).await?
    };
    caller
        .record_read(app, scope, "audit.read", "audit_log", None, now)
        .await?;
    Ok(found)
}

/// Recomputes the organisation's hash chain and checks its signed checkpoints (the check an
/// auditor runs from the audit log page; `mhp audit verify` checks every chain). The check is
/// recorded (`audit.verify`) after it.
pub async fn verify(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
) -> Result<audit::Report, AppError> {
    let report = {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        audit::verify_own_chain(&mut tx, &app.audit_public_keys).await?
    };
    let now = app.now();
    caller
        .record_read(app, scope, "audit.verify", "audit_log", None, now)
        .await?;
    Ok(report)
}
