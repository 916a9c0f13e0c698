//! Second factors: TOTP state and recovery codes of users (operator functions: they belong to
//! sign-in), and organisations' MFA policies (tenant functions).

use mhp_domain::{MfaPolicy, SealedBytes, Timestamp, UserId};
use sqlx::Row;

use crate::{OperatorTx, StorageError, TenantTx};

/// A user's TOTP state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totp {
    /// The sealed secret.
    pub secret: SealedBytes,
    /// Set once the user confirmed a first code; until then enrolment is pending.
    pub enabled_at: Option<Timestamp>,
    /// The last step accepted, against replays.
    pub last_step: Option<i64>,
}

/// Starts (or restarts) enrolment with a new sealed secret; TOTP stays off until confirmed.
pub async fn begin_totp(
    tx: &mut OperatorTx,
    user: UserId,
    secret: &SealedBytes,
) -> Result<(), StorageError> {
    tx.credentials_changed();
    sqlx::query(
        "UPDATE users SET totp_secret_sealed = $1, totp_enabled_at_ms = NULL, \
         totp_last_step = NULL WHERE id = $2",
    )
    .bind(secret.as_bytes().to_vec())
    .bind(user.to_string())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The user's TOTP state, if they began enrolment.
pub async fn totp(tx: &mut OperatorTx, user: UserId) -> Result<Option<Totp>, StorageError> {
    let row = sqlx::query(
        "SELECT totp_secret_sealed, totp_enabled_at_ms, totp_last_step FROM users WHERE id = $1",
    )
    .bind(user.to_string())
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let secret: Option<Vec<u8>> = row.try_get("totp_secret_sealed")?;
    let Some(secret) = secret else {
        return Ok(None);
    };
    Ok(Some(Totp {
        secret: SealedBytes::from_ciphertext(secret),
        enabled_at: row
            .try_get::<Option<i64>, _>("totp_enabled_at_ms")?
            .map(Timestamp::from_millis),
        last_step: row.try_get("totp_last_step")?,
    }))
}

/// Records the step of an accepted code, enabling TOTP if it was pending. Returns false when a
/// code of that step or a later one was accepted already (a replay, or a concurrent use).
pub async fn accept_step(
    tx: &mut OperatorTx,
    user: UserId,
    step: i64,
    now: Timestamp,
) -> Result<bool, StorageError> {
    tx.credentials_changed();
    let done = sqlx::query(
        "UPDATE users SET totp_last_step = $1, \
         totp_enabled_at_ms = coalesce(totp_enabled_at_ms, $2) \
         WHERE id = $3 AND totp_secret_sealed IS NOT NULL \
         AND (totp_last_step IS NULL OR totp_last_step < $4)",
    )
    .bind(step)
    .bind(now.as_millis())
    .bind(user.to_string())
    .bind(step)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a user's recovery codes (hex SHA-256 of each).
pub async fn replace_recovery_codes(
    tx: &mut OperatorTx,
    user: UserId,
    hashes: &[String],
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user.to_string())
        .execute(tx.conn())
        .await?;
    for h in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_sha256) VALUES ($1, $2)")
            .bind(user.to_string())
            .bind(h.as_str())
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Uses up a recovery code; false when it is unknown or used.
pub async fn use_recovery_code(
    tx: &mut OperatorTx,
    user: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at_ms = $1 \
         WHERE user_id = $2 AND code_sha256 = $3 AND used_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(user.to_string())
    .bind(hash)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The unused recovery codes a user has left.
pub async fn recovery_codes_left(tx: &mut OperatorTx, user: UserId) -> Result<i64, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at_ms IS NULL",
    )
    .bind(user.to_string())
    .fetch_one(tx.conn())
    .await?)
}

/// The transaction's organisation's MFA policy.
pub async fn policy(tx: &mut TenantTx) -> Result<MfaPolicy, StorageError> {
    let name: String = sqlx::query_scalar("SELECT mfa_policy FROM organizations WHERE id = $1")
        .bind(tx.org_key())
        .fetch_one(tx.conn())
        .await
        .map_err(StorageError::from_sqlx_as("organisation"))?;
    MfaPolicy::parse(&name).ok_or(StorageError::Corrupt { what: "mfa policy" })
}

/// Sets the transaction's organisation's MFA policy.
pub async fn set_policy(tx: &mut TenantTx, policy: MfaPolicy) -> Result<(), StorageError> {
    sqlx::query("UPDATE organizations SET mfa_policy = $1 WHERE id = $2")
        .bind(policy.as_str())
        .bind(tx.org_key())
        .execute(tx.conn())
        .await?;
    Ok(())
}
