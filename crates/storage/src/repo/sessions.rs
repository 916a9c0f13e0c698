//! Web sessions and sign-in throttling (operator functions: sign-in happens before any
//! organisation is chosen).

use mhp_domain::{Timestamp, UserId};
use sqlx::Row;

use super::parse_id;
use crate::{OperatorTx, StorageError};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Hex SHA-256 of the cookie value.
    pub id_sha256: String,
    /// Whose session.
    pub user: UserId,
    /// The CSRF synchronizer token.
    pub csrf_token: String,
    /// Sign-in time.
    pub created_at: Timestamp,
    /// Last request.
    pub last_seen_at: Timestamp,
    /// Set when signed out.
    pub revoked_at: Option<Timestamp>,
    /// The password was checked; the second factor is still due.
    pub mfa_pending: bool,
    /// When the second factor was checked in this session.
    pub mfa_verified_at: Option<Timestamp>,
}

/// What it takes to store a session.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// Hex SHA-256 of the cookie value.
    pub id_sha256: &'a str,
    /// Whose session.
    pub user: UserId,
    /// The CSRF token.
    pub csrf_token: &'a str,
    /// The client's address.
    pub source_ip: Option<&'a str>,
    /// The client's user agent.
    pub user_agent: Option<&'a str>,
    /// Whether the second factor is still due.
    pub mfa_pending: bool,
    /// When the second factor was checked (a session carried over after verification).
    pub mfa_verified_at: Option<Timestamp>,
}

/// Stores a new session.
pub async fn create(
    tx: &mut OperatorTx,
    new: &NewSession<'_>,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO sessions (id_sha256, user_id, csrf_token, created_at_ms, last_seen_at_ms, \
         source_ip, user_agent, mfa_pending, mfa_verified_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new.id_sha256)
    .bind(new.user.to_string())
    .bind(new.csrf_token)
    .bind(now.as_millis())
    .bind(now.as_millis())
    .bind(new.source_ip)
    .bind(
        new.user_agent
            .map(|ua| ua.chars().take(256).collect::<String>()),
    )
    .bind(i64::from(new.mfa_pending))
    .bind(new.mfa_verified_at.map(Timestamp::as_millis))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A session by its id's hash, revoked or not.
pub async fn find(tx: &mut OperatorTx, id_sha256: &str) -> Result<Option<Session>, StorageError> {
    let row = sqlx::query(
        "SELECT id_sha256, user_id, csrf_token, created_at_ms, last_seen_at_ms, revoked_at_ms, \
         mfa_pending, mfa_verified_at_ms FROM sessions WHERE id_sha256 = $1",
    )
    .bind(id_sha256)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user: String = row.try_get("user_id")?;
    Ok(Some(Session {
        id_sha256: row.try_get("id_sha256")?,
        user: parse_id(&user, "user id", UserId::parse)?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        last_seen_at: Timestamp::from_millis(row.try_get("last_seen_at_ms")?),
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at_ms")?
            .map(Timestamp::from_millis),
        mfa_pending: row.try_get::<i64, _>("mfa_pending")? != 0,
        mfa_verified_at: row
            .try_get::<Option<i64>, _>("mfa_verified_at_ms")?
            .map(Timestamp::from_millis),
    }))
}

/// Records activity (the caller does so at most once a minute).
pub async fn touch(
    tx: &mut OperatorTx,
    id_sha256: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE sessions SET last_seen_at_ms = $1 WHERE id_sha256 = $2")
        .bind(now.as_millis())
        .bind(id_sha256)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Ends one session.
pub async fn revoke(
    tx: &mut OperatorTx,
    id_sha256: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    tx.credentials_changed();
    sqlx::query(
        "UPDATE sessions SET revoked_at_ms = $1 WHERE id_sha256 = $2 AND revoked_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(id_sha256)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Ends every session of a user ("sign out everywhere"); returns how many were open.
pub async fn revoke_all(
    tx: &mut OperatorTx,
    user: UserId,
    now: Timestamp,
) -> Result<u64, StorageError> {
    tx.credentials_changed();
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at_ms = $1 WHERE user_id = $2 AND revoked_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(user.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Until when a throttle key is locked, if it is at `now`.
pub async fn locked_until(
    tx: &mut OperatorTx,
    key: &str,
    now: Timestamp,
) -> Result<Option<Timestamp>, StorageError> {
    let until: Option<Option<i64>> =
        sqlx::query_scalar("SELECT locked_until_ms FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(tx.conn())
            .await?;
    Ok(until
        .flatten()
        .filter(|t| *t > now.as_millis())
        .map(Timestamp::from_millis))
}

/// Counts a failure for a key and returns the new count. Failures older than `window_ms` are
/// forgotten first.
pub async fn record_failure(
    tx: &mut OperatorTx,
    key: &str,
    now: Timestamp,
    window_ms: i64,
) -> Result<i64, StorageError> {
    let failures: i64 = sqlx::query_scalar(
        "INSERT INTO sign_in_throttle (key, failures, last_failure_at_ms) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN sign_in_throttle.last_failure_at_ms < $3 THEN 1 \
                           ELSE sign_in_throttle.failures + 1 END, \
           last_failure_at_ms = $4 \
         RETURNING failures",
    )
    .bind(key)
    .bind(now.as_millis())
    .bind(now.as_millis() - window_ms)
    .bind(now.as_millis())
    .fetch_one(tx.conn())
    .await?;
    Ok(failures)
}

/// Locks a key until a time.
pub async fn lock(tx: &mut OperatorTx, key: &str, until: Timestamp) -> Result<(), StorageError> {
    sqlx::query("UPDATE sign_in_throttle SET locked_until_ms = $1 WHERE key = $2")
        .bind(until.as_millis())
        .bind(key)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Forgets an account's failures and locks from every address: the account-wide key and the
/// keys made of it and an address (`{key}@{address}`), after a password reset.
pub async fn clear_account(tx: &mut OperatorTx, account_key: &str) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1 OR key LIKE $2")
        .bind(account_key)
        .bind(format!("{account_key}@%"))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Forgets a key's failures (after a success).
pub async fn clear(tx: &mut OperatorTx, key: &str) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1")
        .bind(key)
        .execute(tx.conn())
        .await?;
    Ok(())
}
