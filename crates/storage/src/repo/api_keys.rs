//! API keys: metadata and the SHA-256 of each secret. Creation, listing and revocation are
//! tenant functions; the lookup at authentication time crosses organisations and is an operator
//! function, since the key itself says which organisation it belongs to.

use mhp_domain::{OrgId, Role, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{conflict_if_none, parse_id};
use crate::{OperatorTx, StorageError, TenantTx};

/// An API key's metadata (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The public id (prefix).
    pub id: String,
    /// The organisation it acts in.
    pub org: OrgId,
    /// What it is for ("Force plate, gym 2").
    pub name: String,
    /// The one role it acts with.
    pub role: Role,
    /// Who created it (audit actor form).
    pub created_by: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<Timestamp>,
    /// Until when the secret before its last rotation still authenticates.
    pub previous_expires_at: Option<Timestamp>,
}

impl ApiKey {
    /// Whether the key may authenticate at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// What it takes to store a new key.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    /// The public id.
    pub id: &'a str,
    /// What it is for.
    pub name: &'a str,
    /// Its role.
    pub role: Role,
    /// SHA-256 of the secret.
    pub secret_sha256: &'a [u8; 32],
    /// Who creates it.
    pub created_by: &'a str,
    /// When it stops working.
    pub expires_at: Timestamp,
}

const COLUMNS: &str = "id, org_id, name, role, created_by, created_at_ms, expires_at_ms, \
                       revoked_at_ms, last_used_at_ms, previous_expires_at_ms";

fn from_row(row: &AnyRow) -> Result<ApiKey, StorageError> {
    let org: String = row.try_get("org_id")?;
    let role: String = row.try_get("role")?;
    let opt_ts = |col: &str| -> Result<Option<Timestamp>, StorageError> {
        Ok(row
            .try_get::<Option<i64>, _>(col)?
            .map(Timestamp::from_millis))
    };
    Ok(ApiKey {
        id: row.try_get("id")?,
        org: parse_id(&org, "organisation id", OrgId::parse)?,
        name: row.try_get("name")?,
        role: Role::parse(&role).map_err(|_| StorageError::Corrupt { what: "role" })?,
        created_by: row.try_get("created_by")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        expires_at: Timestamp::from_millis(row.try_get("expires_at_ms")?),
        revoked_at: opt_ts("revoked_at_ms")?,
        last_used_at: opt_ts("last_used_at_ms")?,
        previous_expires_at: opt_ts("previous_expires_at_ms")?,
    })
}

/// Stores a new key for the transaction's organisation.
pub async fn create(
    tx: &mut TenantTx,
    new: &NewApiKey<'_>,
    now: Timestamp,
) -> Result<ApiKey, StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO api_keys (id, org_id, name, role, secret_sha256, created_by, \
         created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(new.id)
    .bind(tx.org_key())
    .bind(new.name)
    .bind(new.role.as_str())
    .bind(new.secret_sha256.to_vec())
    .bind(new.created_by)
    .bind(now.as_millis())
    .bind(new.expires_at.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    conflict_if_none(inserted, "api key")?;
    Ok(ApiKey {
        id: new.id.to_owned(),
        org: tx.org(),
        name: new.name.to_owned(),
        role: new.role,
        created_by: new.created_by.to_owned(),
        created_at: now,
        expires_at: new.expires_at,
        revoked_at: None,
        last_used_at: None,
        previous_expires_at: None,
    })
}

/// The organisation's keys, newest first.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<ApiKey>, StorageError> {
    let sql =
        format!("SELECT {COLUMNS} FROM api_keys WHERE org_id = $1 ORDER BY created_at_ms DESC, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Revokes a key of the transaction's organisation; revoking twice is not found.
pub async fn revoke(tx: &mut TenantTx, id: &str, now: Timestamp) -> Result<(), StorageError> {
    tx.credentials_changed();
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at_ms = $1 \
         WHERE org_id = $2 AND id = $3 AND revoked_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(tx.org_key())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "api key" });
    }
    Ok(())
}

/// Looks a key up by its public id for authentication, with its secret's hash (operator
/// function: the organisation is not known yet).
pub async fn find_for_authentication(
    tx: &mut OperatorTx,
    id: &str,
) -> Result<Option<(ApiKey, Vec<u8>)>, StorageError> {
    let sql = format!("SELECT {COLUMNS}, secret_sha256 FROM api_keys WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.map(|r| Ok((from_row(&r)?, r.try_get("secret_sha256")?)))
        .transpose()
}

/// The hash of a key's previous secret, while it still authenticates at `now` (after a
/// rotation, for the overlap).
pub async fn previous_secret(
    tx: &mut OperatorTx,
    id: &str,
    now: Timestamp,
) -> Result<Option<Vec<u8>>, StorageError> {
    let row = sqlx::query(
        "SELECT previous_secret_sha256 FROM api_keys \
         WHERE id = $1 AND previous_expires_at_ms > $2",
    )
    .bind(id)
    .bind(now.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    Ok(row
        .map(|r| r.try_get::<Option<Vec<u8>>, _>(0))
        .transpose()?
        .flatten())
}

/// Gives a key of the transaction's organisation a new secret (`secret_sha256`); the one it
/// replaces still authenticates until `previous_until` (a rotation during an overlap ends the
/// older secret at once). A revoked or expired key is not found.
pub async fn rotate(
    tx: &mut TenantTx,
    id: &str,
    secret_sha256: &[u8; 32],
    previous_until: Timestamp,
    now: Timestamp,
) -> Result<ApiKey, StorageError> {
    tx.credentials_changed();
    let done = sqlx::query(
        "UPDATE api_keys SET previous_secret_sha256 = secret_sha256, \
         previous_expires_at_ms = $1, secret_sha256 = $2 \
         WHERE org_id = $3 AND id = $4 AND revoked_at_ms IS NULL AND expires_at_ms > $5",
    )
    .bind(previous_until.as_millis())
    .bind(secret_sha256.to_vec())
    .bind(tx.org_key())
    .bind(id)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "api key" });
    }
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    from_row(&row)
}

/// Records use, at most once a minute per key so that busy devices do not write on every
/// request.
pub async fn touch(tx: &mut OperatorTx, id: &str, now: Timestamp) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at_ms = $1 \
         WHERE id = $2 AND (last_used_at_ms IS NULL OR last_used_at_ms < $3)",
    )
    .bind(now.as_millis())
    .bind(id)
    .bind(now.as_millis() - 60_000)
    .execute(tx.conn())
    .await?;
    Ok(())
}
