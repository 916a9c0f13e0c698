//! Signing keys and refresh tokens (operator functions: tokens belong to sign-in).

use mhp_domain::{SealedBytes, Timestamp, UserId};
use sqlx::Row;

use super::parse_id;
use crate::{OperatorTx, StorageError};

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Its id, the JWT `kid`.
    pub kid: String,
    /// The sealed private seed.
    pub private: SealedBytes,
    /// The public key.
    pub public: Vec<u8>,
    /// When it was made.
    pub created_at: Timestamp,
}

/// Stores a new signing key.
pub async fn add_signing_key(tx: &mut OperatorTx, key: &SigningKey) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, private_sealed, public_key, created_at_ms) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(key.kid.as_str())
    .bind(key.private.as_bytes().to_vec())
    .bind(key.public.clone())
    .bind(key.created_at.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Keys not retired and made after `since`, newest first.
pub async fn signing_keys_since(
    tx: &mut OperatorTx,
    since: Timestamp,
) -> Result<Vec<SigningKey>, StorageError> {
    let rows = sqlx::query(
        "SELECT kid, private_sealed, public_key, created_at_ms FROM signing_keys \
         WHERE retired_at_ms IS NULL AND created_at_ms > $1 ORDER BY created_at_ms DESC, kid",
    )
    .bind(since.as_millis())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SigningKey {
                kid: r.try_get("kid")?,
                private: SealedBytes::from_ciphertext(r.try_get("private_sealed")?),
                public: r.try_get("public_key")?,
                created_at: Timestamp::from_millis(r.try_get("created_at_ms")?),
            })
        })
        .collect()
}

/// A refresh token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Hex SHA-256 of the token.
    pub id_sha256: String,
    /// Every token descended from one sign-in shares a family.
    pub family: String,
    /// Whose.
    pub user: UserId,
    /// The authentication methods of the sign-in (`pwd otp`).
    pub amr: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Set when exchanged.
    pub used_at: Option<Timestamp>,
    /// Set when its family was revoked.
    pub revoked_at: Option<Timestamp>,
}

/// Stores a refresh token.
pub async fn add_refresh(
    tx: &mut OperatorTx,
    token: &RefreshToken,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id_sha256, family, user_id, amr, created_at_ms, \
         expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token.id_sha256.as_str())
    .bind(token.family.as_str())
    .bind(token.user.to_string())
    .bind(token.amr.as_str())
    .bind(now.as_millis())
    .bind(token.expires_at.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A refresh token by its hash.
pub async fn find_refresh(
    tx: &mut OperatorTx,
    id_sha256: &str,
) -> Result<Option<RefreshToken>, StorageError> {
    let row = sqlx::query(
        "SELECT id_sha256, family, user_id, amr, expires_at_ms, used_at_ms, revoked_at_ms \
         FROM refresh_tokens WHERE id_sha256 = $1",
    )
    .bind(id_sha256)
    .fetch_optional(tx.conn())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let user: String = r.try_get("user_id")?;
    let ts = |c: &str| -> Result<Option<Timestamp>, StorageError> {
        Ok(r.try_get::<Option<i64>, _>(c)?.map(Timestamp::from_millis))
    };
    Ok(Some(RefreshToken {
        id_sha256: r.try_get("id_sha256")?,
        family: r.try_get("family")?,
        user: parse_id(&user, "user id", UserId::parse)?,
        amr: r.try_get("amr")?,
        expires_at: Timestamp::from_millis(r.try_get("expires_at_ms")?),
        used_at: ts("used_at_ms")?,
        revoked_at: ts("revoked_at_ms")?,
    }))
}

/// Marks a refresh token used; false when it was used already (a replay).
pub async fn use_refresh(
    tx: &mut OperatorTx,
    id_sha256: &str,
    now: Timestamp,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET used_at_ms = $1 WHERE id_sha256 = $2 AND used_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(id_sha256)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every token of a family (reuse detected).
pub async fn revoke_family(
    tx: &mut OperatorTx,
    family: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at_ms = $1 WHERE family = $2 AND revoked_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(family)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Revokes every refresh token of a user (sign-out everywhere).
pub async fn revoke_user_refresh(
    tx: &mut OperatorTx,
    user: UserId,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at_ms = $1 WHERE user_id = $2 AND revoked_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(user.to_string())
    .execute(tx.conn())
    .await?;
    Ok(())
}
