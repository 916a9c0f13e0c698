//! Reading the organisation's audit log (auditors, administrators): the filters' rules and
//! the read itself, which is recorded (`audit.read`) in the transaction that makes it. The API
//! and the audit log page both call these.

use mhp_domain::OrgScope;
use mhp_storage::Access;
use mhp_storage::repo::audit::{self, Filter, StoredEvent};

use crate::{App, AppError, Caller};

/// Filters as given, before they are checked.
#[derive(Debug, Clone, Default)]
pub struct FilterDraft {
    /// The actor, exactly.
    pub actor: Option<String>,
    /// An action, or a family ending with a dot.
    pub action: Option<String>,
    /// The kind of resource.
    pub resource_type: Option<String>,
    /// The resource's id.
    pub resource_id: Option<String>,
    /// From (inclusive), ms since the epoch.
    pub from_ms: Option<i64>,
    /// Before (exclusive), ms since the epoch.
    pub to_ms: Option<i64>,
}

fn text(field: &'static str, v: Option<String>) -> Result<Option<String>, AppError> {
    match v {
        Some(t) if t.is_empty() || t.len() > 200 || t.chars().any(char::is_control) => Err(
            AppError::malformed(format!("{field} must be 1 to 200 characters")),
        ),
        other => Ok(other),
    }
}

impl FilterDraft {
    /// Checks the filters: each text 1 to 200 characters without control characters.
    pub fn check(self) -> Result<Filter, AppError> {
        Ok(Filter {
            actor: text("actor", self.actor)?,
            action: text("action", self.action)?,
            resource_type: text("resource_type", self.resource_type)?,
            resource_id: text("resource_id", self.resource_id)?,
            from_ms: self.from_ms,
            to_ms: self.to_ms,
        })
    }
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
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let found = audit::search(&mut tx, filter, after, limit.clamp(1, 1000)).await?;
    caller
        .record(&mut tx, "audit.read", "audit_log", None, now)
        .await?;
    tx.commit().await?;
    Ok(found)
}
