//! Invitations to join an organisation and password resets: single-use, expiring, stored as the
//! SHA-256 of the token that was sent.

use mhp_domain::{Email, OrgId, Role, Timestamp, UserId};
use sqlx::Row;

use super::parse_id;
use crate::{OperatorTx, StorageError, TenantTx};

/// An invitation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Hex SHA-256 of the token.
    pub id_sha256: String,
    /// The organisation to join.
    pub org: OrgId,
    /// Who is invited.
    pub email: Email,
    /// The role they will hold.
    pub role: Role,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Set when used.
    pub accepted_at: Option<Timestamp>,
}

/// Stores an invitation in the transaction's organisation.
pub async fn invite(
    tx: &mut TenantTx,
    id_sha256: &str,
    email: &Email,
    role: Role,
    invited_by: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO invitations (id_sha256, org_id, email, role, invited_by, created_at_ms, \
         expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id_sha256)
    .bind(tx.org_key())
    .bind(email.as_str())
    .bind(role.as_str())
    .bind(invited_by)
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An invitation by its token's hash (operator function: accepting happens before sign-in).
pub async fn find(
    tx: &mut OperatorTx,
    id_sha256: &str,
) -> Result<Option<Invitation>, StorageError> {
    let row = sqlx::query(
        "SELECT id_sha256, org_id, email, role, expires_at_ms, accepted_at_ms \
         FROM invitations WHERE id_sha256 = $1",
    )
    .bind(id_sha256)
    .fetch_optional(tx.conn())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let org: String = r.try_get("org_id")?;
    let email: String = r.try_get("email")?;
    let role: String = r.try_get("role")?;
    Ok(Some(Invitation {
        id_sha256: r.try_get("id_sha256")?,
        org: parse_id(&org, "organisation id", OrgId::parse)?,
        email: Email::from_stored(email),
        role: Role::parse(&role).map_err(|_| StorageError::Corrupt { what: "role" })?,
        expires_at: Timestamp::from_millis(r.try_get("expires_at_ms")?),
        accepted_at: r
            .try_get::<Option<i64>, _>("accepted_at_ms")?
            .map(Timestamp::from_millis),
    }))
}

/// Uses up an invitation; false when it was used already.
pub async fn accept(
    tx: &mut OperatorTx,
    id_sha256: &str,
    now: Timestamp,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE invitations SET accepted_at_ms = $1 WHERE id_sha256 = $2 AND accepted_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(id_sha256)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores a password-reset token.
pub async fn add_reset(
    tx: &mut OperatorTx,
    id_sha256: &str,
    user: UserId,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO password_resets (id_sha256, user_id, created_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id_sha256)
    .bind(user.to_string())
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Uses up a reset token that is still valid at `now`; returns whose it was.
pub async fn use_reset(
    tx: &mut OperatorTx,
    id_sha256: &str,
    now: Timestamp,
) -> Result<Option<UserId>, StorageError> {
    let user: Option<String> = sqlx::query_scalar(
        "UPDATE password_resets SET used_at_ms = $1 \
         WHERE id_sha256 = $2 AND used_at_ms IS NULL AND expires_at_ms > $3 RETURNING user_id",
    )
    .bind(now.as_millis())
    .bind(id_sha256)
    .bind(now.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    user.map(|u| parse_id(&u, "user id", UserId::parse))
        .transpose()
}
