//! FHIR Bulk Data exports of an organisation: the request, where it stands, and its files
//! (objects sealed with the organisation's key) until they expire.

use mhp_domain::{OrgId, TeamId, Timestamp};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::parse_id;
use crate::{OperatorTx, StorageError, TenantTx};

/// Where an export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Being written.
    InProgress,
    /// Its files are ready (until they expire).
    Complete,
    /// It stopped on an error.
    Failed,
}

impl Status {
    /// Its stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Complete => "complete",
            Status::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Status::InProgress, Status::Complete, Status::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// Its id.
    pub id: String,
    /// The kick-off request's URL, as the manifest repeats it.
    pub request_url: String,
    /// The group (a team) it is of, or the whole organisation.
    pub team: Option<TeamId>,
    /// The resource types asked for.
    pub types: Vec<String>,
    /// Only resources changed since then.
    pub since: Option<Timestamp>,
    /// Where it stands.
    pub status: Status,
    /// Who asked (audit actor form).
    pub requested_by: String,
    /// When it was asked for.
    pub created_at: Timestamp,
    /// When its files were ready.
    pub completed_at: Option<Timestamp>,
    /// When its files expire.
    pub expires_at: Option<Timestamp>,
    /// Its files, as JSON: `[{"type", "key", "count"}]`.
    pub outputs: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

const COLUMNS: &str = "id, request_url, team_id, types, since_ms, status, requested_by, \
     created_at_ms, completed_at_ms, expires_at_ms, outputs, error";

fn from_row(row: &AnyRow) -> Result<Export, StorageError> {
    let team: Option<String> = row.try_get("team_id")?;
    let status: String = row.try_get("status")?;
    let types: String = row.try_get("types")?;
    let at = |name: &str| -> Result<Option<Timestamp>, StorageError> {
        Ok(row
            .try_get::<Option<i64>, _>(name)?
            .map(Timestamp::from_millis))
    };
    Ok(Export {
        id: row.try_get("id")?,
        request_url: row.try_get("request_url")?,
        team: team
            .map(|t| parse_id(&t, "team id", TeamId::parse))
            .transpose()?,
        types: types.split(',').map(str::to_owned).collect(),
        since: at("since_ms")?,
        status: Status::parse(&status).ok_or(StorageError::Corrupt {
            what: "export status",
        })?,
        requested_by: row.try_get("requested_by")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        completed_at: at("completed_at_ms")?,
        expires_at: at("expires_at_ms")?,
        outputs: row.try_get("outputs")?,
        error: row.try_get("error")?,
    })
}

/// Records an export asked for, in progress.
pub async fn create(tx: &mut TenantTx, e: &Export) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO fhir_exports (id, org_id, request_url, team_id, types, since_ms, status, \
         requested_by, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, 'in_progress', $7, $8)",
    )
    .bind(e.id.as_str())
    .bind(tx.org_key())
    .bind(e.request_url.as_str())
    .bind(e.team.map(|t| t.to_string()))
    .bind(e.types.join(","))
    .bind(e.since.map(Timestamp::as_millis))
    .bind(e.requested_by.as_str())
    .bind(e.created_at.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One export of the organisation.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Export, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM fhir_exports WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StorageError::NotFound { entity: "export" })?;
    from_row(&row)
}

/// Marks an export in progress complete with its files; `false` when it was no longer in
/// progress (deleted meanwhile).
pub async fn complete(
    tx: &mut TenantTx,
    id: &str,
    outputs: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE fhir_exports SET status = 'complete', outputs = $3, completed_at_ms = $4, \
         expires_at_ms = $5 WHERE org_id = $1 AND id = $2 AND status = 'in_progress'",
    )
    .bind(tx.org_key())
    .bind(id)
    .bind(outputs)
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks an export in progress failed, saying why (no PHI: a code or a sentence of ours).
pub async fn fail(
    tx: &mut TenantTx,
    id: &str,
    error: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE fhir_exports SET status = 'failed', error = $3, completed_at_ms = $4 \
         WHERE org_id = $1 AND id = $2 AND status = 'in_progress'",
    )
    .bind(tx.org_key())
    .bind(id)
    .bind(error)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Forgets an export (its files are the caller's to delete first).
pub async fn delete(tx: &mut TenantTx, id: &str) -> Result<(), StorageError> {
    let done = sqlx::query("DELETE FROM fhir_exports WHERE org_id = $1 AND id = $2")
        .bind(tx.org_key())
        .bind(id)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "export" });
    }
    Ok(())
}

/// The organisation's exports whose files expired before `now`, or that were asked for
/// before `stale_before` and never ended.
pub async fn expired(
    tx: &mut TenantTx,
    now: Timestamp,
    stale_before: Timestamp,
) -> Result<Vec<Export>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM fhir_exports WHERE org_id = $1 AND \
         (expires_at_ms < $2 OR (status <> 'complete' AND created_at_ms < $3))"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(now.as_millis())
        .bind(stale_before.as_millis())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The organisation's exports in progress, oldest first (the worker writes them in turn).
pub async fn in_progress(tx: &mut TenantTx) -> Result<Vec<Export>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM fhir_exports WHERE org_id = $1 AND status = 'in_progress' \
         ORDER BY created_at_ms, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The organisations with exports to write (in progress) or to forget (files expired before
/// `now`, or asked for before `stale_before` and never ended): the worker's round.
pub async fn orgs_with_work(
    tx: &mut OperatorTx,
    now: Timestamp,
    stale_before: Timestamp,
) -> Result<Vec<OrgId>, StorageError> {
    let rows = sqlx::query(
        "SELECT DISTINCT org_id FROM fhir_exports WHERE status = 'in_progress' \
         OR expires_at_ms < $1 OR (status <> 'complete' AND created_at_ms < $2)",
    )
    .bind(now.as_millis())
    .bind(stale_before.as_millis())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            let org: String = r.try_get(0)?;
            parse_id(&org, "organisation id", OrgId::parse)
        })
        .collect()
}
