//! Limits on the messages MHP sends to people (password resets, invitations): counters per key
//! in fixed windows, in the system of record so that every instance counts together. Keys are
//! made by the caller and hold no e-mail in clear (a hash of the address, or an organisation
//! id). Operator functions: a password reset is asked for before any organisation is chosen.

use mhp_domain::Timestamp;
use sqlx::Row;

use crate::{OperatorTx, StorageError};

/// A key's count in its current window, this message included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Messages counted in the window, the one just counted included.
    pub sent: i64,
    /// When the window began; it ends `window_ms` later.
    pub window_start: Timestamp,
}

/// Counts one message for `key` in a window of `window_ms` that starts with the first message
/// after the previous window ended. Counters of ended windows are removed as it goes.
pub async fn count(
    tx: &mut OperatorTx,
    key: &str,
    now: Timestamp,
    window_ms: i64,
) -> Result<Counted, StorageError> {
    let expired = now.as_millis() - window_ms;
    sqlx::query("DELETE FROM mail_counters WHERE window_start_ms <= $1")
        .bind(expired)
        .execute(tx.conn())
        .await?;
    // Both CASEs read the row as it was before the update, on both backends.
    let row = sqlx::query(
        "INSERT INTO mail_counters (key, window_start_ms, sent) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           sent = CASE WHEN mail_counters.window_start_ms <= $3 THEN 1 \
                       ELSE mail_counters.sent + 1 END, \
           window_start_ms = CASE WHEN mail_counters.window_start_ms <= $4 THEN $5 \
                                  ELSE mail_counters.window_start_ms END \
         RETURNING sent, window_start_ms",
    )
    .bind(key)
    .bind(now.as_millis())
    .bind(expired)
    .bind(expired)
    .bind(now.as_millis())
    .fetch_one(tx.conn())
    .await?;
    Ok(Counted {
        sent: row.try_get("sent")?,
        window_start: Timestamp::from_millis(row.try_get("window_start_ms")?),
    })
}
