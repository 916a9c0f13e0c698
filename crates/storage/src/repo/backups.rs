//! Backups and restore drills as they happened (`backup_runs`): written by `mhp backup` with
//! its audit event, read by `/metrics` and the compliance checks.

use sqlx::Row as _;

use crate::{OperatorTx, StorageError};

/// One backup, key-store backup or drill, good or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRun {
    /// `data`, `key-store` or `drill`.
    pub kind: &'static str,
    /// The backup made, or drilled.
    pub backup_id: Option<String>,
    /// Where (a directory or `s3://bucket/prefix/`; never a credential).
    pub destination: String,
    /// When it ended (ms since the epoch).
    pub at_ms: i64,
    /// Whether it succeeded.
    pub ok: bool,
    /// Bytes written (backups).
    pub bytes: Option<i64>,
    /// Seconds from the drill's start to a restored server ready, in ms.
    pub rto_ms: Option<i64>,
    /// Age of the newest restored write at the drill, in ms.
    pub rpo_ms: Option<i64>,
    /// A summary, or the error (no content of the backup).
    pub detail: String,
}

impl BackupRun {
    /// A good run with nothing but a summary (a restore, a pruning).
    pub fn done(
        kind: &'static str,
        backup_id: Option<String>,
        destination: String,
        at_ms: i64,
        detail: String,
    ) -> Self {
        Self {
            kind,
            backup_id,
            destination,
            at_ms,
            ok: true,
            bytes: None,
            rto_ms: None,
            rpo_ms: None,
            detail,
        }
    }
}

/// Records `run`.
pub async fn record(tx: &mut OperatorTx, run: &BackupRun) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO backup_runs (id, kind, backup_id, destination, at_ms, ok, bytes, rto_ms, \
         rpo_ms, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(run.kind)
    .bind(run.backup_id.as_deref())
    .bind(&run.destination)
    .bind(run.at_ms)
    .bind(i32::from(run.ok))
    .bind(run.bytes)
    .bind(run.rto_ms)
    .bind(run.rpo_ms)
    .bind(&run.detail)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The newest good run of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestGood {
    /// `data`, `key-store` or `drill`.
    pub kind: String,
    /// When it ended (ms since the epoch).
    pub at_ms: i64,
    /// A drill's RTO, ms.
    pub rto_ms: Option<i64>,
    /// A drill's RPO, ms.
    pub rpo_ms: Option<i64>,
}

/// The newest good run of each kind.
pub async fn latest_good(tx: &mut OperatorTx) -> Result<Vec<LatestGood>, StorageError> {
    let rows = sqlx::query(
        "SELECT r.kind, r.at_ms, r.rto_ms, r.rpo_ms FROM backup_runs r \
         JOIN (SELECT kind, max(at_ms) AS at_ms FROM backup_runs WHERE ok = 1 GROUP BY kind) n \
           ON r.kind = n.kind AND r.at_ms = n.at_ms WHERE r.ok = 1 ORDER BY r.kind",
    )
    .fetch_all(tx.conn())
    .await?;
    let mut out: Vec<LatestGood> = Vec::new();
    for row in rows {
        let kind: String = row.try_get(0)?;
        if out.last().is_some_and(|l| l.kind == kind) {
            continue;
        }
        out.push(LatestGood {
            kind,
            at_ms: row.try_get(1)?,
            rto_ms: row.try_get(2)?,
            rpo_ms: row.try_get(3)?,
        });
    }
    Ok(out)
}
