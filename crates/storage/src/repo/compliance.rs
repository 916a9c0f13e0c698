//! What the compliance self-checks observe in the system of record (`mhp_app::compliance`), and
//! the history of their runs. Every figure is a count or an age across the installation:
//! evidence names no person, subject or secret.

use sqlx::Row as _;

use crate::db::Backend;
use crate::{OperatorTx, StorageError};

/// Organisations and how they ask for a second factor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organisations {
    /// Organisations in use (not archived).
    pub total: i64,
    /// Those whose MFA policy is `optional` (privileged roles may sign in without one).
    pub mfa_optional: i64,
    /// Org admins (enabled accounts) of each organisation in use.
    pub admins: Vec<i64>,
}

/// The organisations in use, their MFA policies and their admins.
pub async fn organisations(tx: &mut OperatorTx) -> Result<Organisations, StorageError> {
    let row = sqlx::query(
        "SELECT count(*), coalesce(sum(CASE WHEN mfa_policy = 'optional' THEN 1 ELSE 0 END), 0) \
         FROM organizations WHERE archived_at_ms IS NULL",
    )
    .fetch_one(tx.conn())
    .await?;
    let admins: Vec<i64> = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id \
                 WHERE m.org_id = o.id AND m.role = 'org_admin' AND u.disabled_at_ms IS NULL) \
         FROM organizations o WHERE o.archived_at_ms IS NULL ORDER BY o.id",
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(Organisations {
        total: row.try_get(0)?,
        mfa_optional: row.try_get(1)?,
        admins,
    })
}

/// People's accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    /// Enabled platform operators.
    pub operators: i64,
    /// Of them, those with an authenticator.
    pub operators_with_mfa: i64,
    /// Enabled accounts.
    pub enabled: i64,
    /// Enabled accounts without a session since `dormant_before` (nor made since).
    pub dormant: i64,
}

/// Counts of accounts; dormant: no session began or was used since `dormant_before` (ms).
pub async fn accounts(tx: &mut OperatorTx, dormant_before: i64) -> Result<Accounts, StorageError> {
    let row = sqlx::query(
        "SELECT \
           coalesce(sum(CASE WHEN platform_role = 'operator' THEN 1 ELSE 0 END), 0), \
           coalesce(sum(CASE WHEN platform_role = 'operator' AND totp_enabled_at_ms IS NOT NULL \
                        THEN 1 ELSE 0 END), 0), \
           count(*), \
           coalesce(sum(CASE WHEN created_at_ms < $1 AND NOT EXISTS (SELECT 1 FROM sessions s \
                 WHERE s.user_id = users.id AND coalesce(s.last_seen_at_ms, s.created_at_ms) >= $1) \
               THEN 1 ELSE 0 END), 0) \
         FROM users WHERE disabled_at_ms IS NULL",
    )
    .bind(dormant_before)
    .fetch_one(tx.conn())
    .await?;
    Ok(Accounts {
        operators: row.try_get(0)?,
        operators_with_mfa: row.try_get(1)?,
        enabled: row.try_get(2)?,
        dormant: row.try_get(3)?,
    })
}

/// API keys in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeys {
    /// Keys neither revoked nor expired.
    pub active: i64,
    /// Of them, those that never expire or live longer than the limit.
    pub long_lived: i64,
    /// Of them, those not used since `unused_before` (nor made since).
    pub unused: i64,
}

/// Counts of the API keys in force at `now`: `max_life_ms` is the longest life allowed,
/// `unused_before` the instant before which an unused key counts as unused.
pub async fn api_keys(
    tx: &mut OperatorTx,
    now: i64,
    max_life_ms: i64,
    unused_before: i64,
) -> Result<ApiKeys, StorageError> {
    let row = sqlx::query(
        "SELECT count(*), \
           coalesce(sum(CASE WHEN expires_at_ms IS NULL OR expires_at_ms - created_at_ms > $2 \
                        THEN 1 ELSE 0 END), 0), \
           coalesce(sum(CASE WHEN coalesce(last_used_at_ms, created_at_ms) < $3 \
                        THEN 1 ELSE 0 END), 0) \
         FROM api_keys WHERE revoked_at_ms IS NULL \
           AND (expires_at_ms IS NULL OR expires_at_ms > $1)",
    )
    .bind(now)
    .bind(max_life_ms)
    .bind(unused_before)
    .fetch_one(tx.conn())
    .await?;
    Ok(ApiKeys {
        active: row.try_get(0)?,
        long_lived: row.try_get(1)?,
        unused: row.try_get(2)?,
    })
}

/// Every organisation's id (archived ones too), for the reads below that go organisation by
/// organisation.
pub async fn org_ids(tx: &mut OperatorTx) -> Result<Vec<String>, StorageError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM organizations ORDER BY id")
            .fetch_all(tx.conn())
            .await?,
    )
}

/// Enters organisation `org`'s rows for the rest of the transaction (PostgreSQL's row-level
/// security admits an operator to subjects and assessments only in an organisation's scope).
async fn enter(tx: &mut OperatorTx, org: &str) -> Result<(), StorageError> {
    if tx.backend() == Backend::Postgres {
        sqlx::query("SELECT set_config('mhp.org_id', $1, true)")
            .bind(org)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// The sealed identifiers of up to `limit` subjects (not erased, newest first) of organisation
/// `org`: their format byte says how they were sealed.
pub async fn sealed_sample(
    tx: &mut OperatorTx,
    org: &str,
    limit: i64,
) -> Result<Vec<Vec<u8>>, StorageError> {
    enter(tx, org).await?;
    let rows = sqlx::query(
        "SELECT name_sealed, birth_date_sealed, external_id_sealed FROM subjects \
         WHERE org_id = $1 AND erased_at_ms IS NULL ORDER BY id DESC LIMIT $2",
    )
    .bind(org)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        for i in 0..3 {
            if let Some(v) = r.try_get::<Option<Vec<u8>>, _>(i)? {
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// The object keys of up to `limit` raw recordings (of subjects not erased, newest first) of
/// organisation `org`.
pub async fn raw_sample(
    tx: &mut OperatorTx,
    org: &str,
    limit: i64,
) -> Result<Vec<String>, StorageError> {
    enter(tx, org).await?;
    Ok(sqlx::query_scalar(
        "SELECT a.raw_object_key FROM assessments a JOIN subjects s \
           ON s.org_id = a.org_id AND s.id = a.subject_id \
         WHERE a.org_id = $1 AND s.erased_at_ms IS NULL ORDER BY a.id DESC LIMIT $2",
    )
    .bind(org)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// When the newest audit checkpoint was signed (ms), if any was.
pub async fn last_checkpoint(tx: &mut OperatorTx) -> Result<Option<i64>, StorageError> {
    Ok(
        sqlx::query_scalar("SELECT max(signed_at_ms) FROM audit_checkpoints")
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Row-level security of the tables that hold organisations' rows (PostgreSQL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowSecurity {
    /// Tables with an `org_id` column.
    pub tenant_tables: i64,
    /// Those without row-level security enabled and forced.
    pub unforced: Vec<String>,
    /// Whether the connected role is a superuser or bypasses row-level security.
    pub role_bypasses: bool,
    /// The connected role's name.
    pub role: String,
}

/// Row-level security as PostgreSQL's catalogue states it, or `None` on SQLite (one process
/// owns the file; tenancy is enforced by the storage layer's scoped transactions alone).
pub async fn row_security(tx: &mut OperatorTx) -> Result<Option<RowSecurity>, StorageError> {
    if tx.backend() != Backend::Postgres {
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' AND EXISTS ( \
           SELECT 1 FROM information_schema.columns k WHERE k.table_schema = n.nspname \
             AND k.table_name = c.relname AND k.column_name = 'org_id') \
         ORDER BY 1",
    )
    .fetch_all(tx.conn())
    .await?;
    let mut out = RowSecurity::default();
    for r in rows {
        out.tenant_tables += 1;
        let (enabled, forced): (bool, bool) = (r.try_get(1)?, r.try_get(2)?);
        if !(enabled && forced) {
            out.unforced.push(r.try_get(0)?);
        }
    }
    let role = sqlx::query(
        "SELECT rolname::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(tx.conn())
    .await?;
    out.role = role.try_get(0)?;
    out.role_bypasses = role.try_get(1)?;
    Ok(Some(out))
}

/// How PostgreSQL's connection is protected: whether it runs over TLS (`None` on SQLite).
pub async fn connection_tls(tx: &mut OperatorTx) -> Result<Option<bool>, StorageError> {
    if tx.backend() != Backend::Postgres {
        return Ok(None);
    }
    let ssl: Option<bool> =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_optional(tx.conn())
            .await?;
    Ok(Some(ssl.unwrap_or(false)))
}

/// Alerts of severity high or critical still open and first raised before `before` (ms).
pub async fn stale_alerts(tx: &mut OperatorTx, before: i64) -> Result<i64, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM security_alerts WHERE status = 'open' \
         AND severity IN ('high', 'critical') AND first_at_ms < $1",
    )
    .bind(before)
    .fetch_one(tx.conn())
    .await?)
}

/// The subjects of organisation `org` erased before `before` (ms), whose keys must be gone.
pub async fn erased_before(
    tx: &mut OperatorTx,
    org: &str,
    before: i64,
) -> Result<Vec<String>, StorageError> {
    enter(tx, org).await?;
    Ok(sqlx::query_scalar(
        "SELECT id FROM subjects WHERE org_id = $1 AND erased_at_ms IS NOT NULL \
         AND erased_at_ms < $2 ORDER BY id",
    )
    .bind(org)
    .bind(before)
    .fetch_all(tx.conn())
    .await?)
}

/// One run of the checks, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Its id.
    pub id: String,
    /// When it ran (ms).
    pub at_ms: i64,
    /// Checks passed.
    pub passed: i64,
    /// Checks failed.
    pub failed: i64,
    /// Checks that did not apply.
    pub not_applicable: i64,
    /// The report (JSON).
    pub report: String,
}

/// Keeps a run.
pub async fn record(tx: &mut OperatorTx, run: &Run) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO compliance_runs (id, at_ms, passed, failed, not_applicable, report) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&run.id)
    .bind(run.at_ms)
    .bind(run.passed)
    .bind(run.failed)
    .bind(run.not_applicable)
    .bind(&run.report)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The newest `limit` runs, newest first.
pub async fn runs(tx: &mut OperatorTx, limit: i64) -> Result<Vec<Run>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, at_ms, passed, failed, not_applicable, report FROM compliance_runs \
         ORDER BY at_ms DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Run {
                id: r.try_get(0)?,
                at_ms: r.try_get(1)?,
                passed: r.try_get(2)?,
                failed: r.try_get(3)?,
                not_applicable: r.try_get(4)?,
                report: r.try_get(5)?,
            })
        })
        .collect()
}
