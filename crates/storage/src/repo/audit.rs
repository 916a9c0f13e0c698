//! Audit events, written in the same transaction as the change they describe, so that a change
//! without its audit record cannot be committed. The table is append-only (database triggers).
//! Hash chaining and signed checkpoints build on this table.

use mhp_domain::{OrgId, Timestamp};
use uuid::Uuid;

use crate::{OperatorTx, StorageError, TenantTx};

/// How the audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It was done.
    Success,
    /// It was tried and failed.
    Failure,
    /// It was refused by access control.
    Denied,
}

impl Outcome {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// One audited action. Fields hold ids and codes only, never PHI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Who acted: `user:<id>`, `apikey:<prefix>`, `cli`, `system`.
    pub actor: String,
    /// What was done, dotted: `subject.create`, `platform.bootstrap`.
    pub action: &'static str,
    /// The kind of resource touched.
    pub resource_type: &'static str,
    /// Its id, when there is one.
    pub resource_id: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The request that did it.
    pub request_id: Option<String>,
    /// The client's address.
    pub source_ip: Option<String>,
    /// The client's user agent (truncated).
    pub user_agent: Option<String>,
}

/// Appends an event for the transaction's organisation.
pub async fn append(
    tx: &mut TenantTx,
    event: &AuditEvent,
    now: Timestamp,
) -> Result<(), StorageError> {
    let org = Some(tx.org());
    insert(tx.conn(), org, event, now).await
}

/// Appends an event from an operator function, for one organisation or for the platform.
pub async fn append_as_operator(
    tx: &mut OperatorTx,
    org: Option<OrgId>,
    event: &AuditEvent,
    now: Timestamp,
) -> Result<(), StorageError> {
    insert(tx.conn(), org, event, now).await
}

/// The number of audit events visible to the transaction (its organisation's).
pub async fn count(tx: &mut TenantTx) -> Result<i64, StorageError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE org_id = $1")
            .bind(tx.org_key())
            .fetch_one(tx.conn())
            .await?,
    )
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    org: Option<OrgId>,
    event: &AuditEvent,
    now: Timestamp,
) -> Result<(), StorageError> {
    let user_agent = event
        .user_agent
        .as_deref()
        .map(|ua| ua.chars().take(256).collect::<String>());
    sqlx::query(
        "INSERT INTO audit_events (id, at_ms, org_id, actor, action, resource_type, \
         resource_id, outcome, request_id, source_ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(now.as_millis())
    .bind(org.map(|o| o.to_string()))
    .bind(event.actor.as_str())
    .bind(event.action)
    .bind(event.resource_type)
    .bind(event.resource_id.as_deref())
    .bind(event.outcome.as_str())
    .bind(event.request_id.as_deref())
    .bind(event.source_ip.as_deref())
    .bind(user_agent)
    .execute(conn)
    .await?;
    Ok(())
}
