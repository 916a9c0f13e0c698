use std::io;

/// What went wrong in storage. Messages name the entity or the step, never the data.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The database was still unreachable when the start-up retries ran out.
    #[error("database unreachable after {waited_s} s: {last_error}")]
    Unreachable {
        /// How long we tried.
        waited_s: u64,
        /// The last error, without the URL.
        last_error: String,
    },
    /// A statement failed earlier in the transaction, so nothing of it can be committed.
    #[error("transaction aborted by an earlier error; nothing was saved")]
    Aborted(#[source] sqlx::Error),
    /// The URL names a database MHP cannot use.
    #[error("unsupported database URL scheme (expected sqlite: or postgres:)")]
    UnsupportedUrl,
    /// No row with that id in the current scope.
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for.
        entity: &'static str,
    },
    /// A unique value is taken.
    #[error("{entity} already exists")]
    Conflict {
        /// What collided.
        entity: &'static str,
    },
    /// A migration applied to this database differs from the one built into this binary.
    #[error("migration {version} ({name}) was changed after it was applied to this database")]
    MigrationChanged {
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
    },
    /// The database holds a migration this binary does not know.
    #[error(
        "the database has migration {version}, unknown to this binary: is a newer MHP using it?"
    )]
    UnknownMigration {
        /// Its version.
        version: i64,
    },
    /// A stored value does not parse (a corrupted or hand-edited row).
    #[error("stored {what} is invalid")]
    Corrupt {
        /// Which value.
        what: &'static str,
    },
    /// The object store failed.
    #[error("object store: {0}")]
    ObjectStore(#[source] io::Error),
    /// The SQLite database file could not be created or made private.
    #[error("database file: {0}")]
    DatabaseFile(#[source] io::Error),
    /// An object key that breaks the key rules.
    #[error("invalid object key")]
    InvalidObjectKey,
    /// A direct read of the SQLite file ([`crate::direct`]) failed.
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// What was asked is not done on this backend.
    #[error("not supported: {0}")]
    Unsupported(&'static str),
}

impl StorageError {
    /// Whether retrying the same work may succeed: lost connections, pool exhaustion,
    /// serialization failures and deadlocks on PostgreSQL, a busy or locked SQLite file.
    pub fn is_transient(&self) -> bool {
        match self {
            StorageError::Database(e) => is_transient_sqlx(e),
            StorageError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            _ => false,
        }
    }

    pub(crate) fn from_sqlx_as(entity: &'static str) -> impl Fn(sqlx::Error) -> StorageError {
        move |e| match &e {
            sqlx::Error::RowNotFound => StorageError::NotFound { entity },
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StorageError::Conflict { entity }
            }
            _ => StorageError::Database(e),
        }
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError::Sqlite(e)
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        StorageError::Database(e)
    }
}

pub(crate) fn is_transient_sqlx(e: &sqlx::Error) -> bool {
    match e {
        // TLS failures are configuration problems (sslmode, certificates): fail fast.
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else { return false };
            // PostgreSQL SQLSTATE: serialization failure, deadlock, connection exceptions,
            // too many connections, shutting down.
            if matches!(
                code.as_ref(),
                "40001" | "40P01" | "53300" | "57P01" | "57P03"
            ) || code.starts_with("08")
            {
                return true;
            }
            // SQLite result codes (primary code in the low byte): BUSY and LOCKED.
            code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
        }
        _ => false,
    }
}
