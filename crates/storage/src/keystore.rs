//! The key store: wrapped data keys of organisations and subjects, kept in a database of its
//! own (by default `keys.db` beside the SQLite file; on PostgreSQL a separate database), so
//! backups of the system of record never carry the keys. Destroying a subject's rows here
//! crypto-shreds everything sealed with its key, in the live database and in every backup.
//!
//! Rows hold only wrapped keys: a subject key is wrapped by a version of its organisation's
//! key, an organisation key by a version of the master key (see `mhp_crypto::envelope`).
//! Destruction is made physical: SQLite runs with `secure_delete` and its write-ahead log is
//! truncated after each destruction, so the deleted bytes do not linger in the file.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row as _};

use crate::{Backend, StorageError};

const SCHEMA_SQLITE: &str = "CREATE TABLE IF NOT EXISTS wrapped_keys (
    key_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    wrapped_by TEXT NOT NULL,
    wrapper_version INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    retired_at_ms INTEGER,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (key_id, version)
)";

const SCHEMA_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS wrapped_keys (
    key_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    wrapped_by TEXT NOT NULL,
    wrapper_version INTEGER NOT NULL,
    wrapped BYTEA NOT NULL,
    retired_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (key_id, version)
)";

/// One wrapped key version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedRow {
    /// The key's name: `org/{org}` or `subject/{subject}`.
    pub key_id: String,
    /// Its version (1, 2, ...).
    pub version: u32,
    /// Its organisation.
    pub org_id: String,
    /// What wrapped it: `master`, or the organisation key's name.
    pub wrapped_by: String,
    /// The wrapping key's version.
    pub wrapper_version: u32,
    /// The wrapped bytes.
    pub wrapped: Vec<u8>,
    /// When it stopped being used for new writes, if it did.
    pub retired_at_ms: Option<i64>,
    /// When it was made.
    pub created_at_ms: i64,
}

/// How many key versions each wrapping key version wraps, for `mhp keys status` and retiring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapperUse {
    /// `master` or an organisation key's name.
    pub wrapped_by: String,
    /// The wrapping version.
    pub wrapper_version: u32,
    /// How many key versions it wraps.
    pub keys: i64,
}

/// The key store.
#[derive(Debug, Clone)]
pub struct KeyStore {
    pool: AnyPool,
    backend: Backend,
}

fn version_of(v: i64) -> Result<u32, StorageError> {
    u32::try_from(v).map_err(|_| StorageError::Corrupt {
        what: "key version",
    })
}

fn row_of(row: &sqlx::any::AnyRow) -> Result<WrappedRow, StorageError> {
    Ok(WrappedRow {
        key_id: row.try_get("key_id")?,
        version: version_of(row.try_get::<i64, _>("version")?)?,
        org_id: row.try_get("org_id")?,
        wrapped_by: row.try_get("wrapped_by")?,
        wrapper_version: version_of(row.try_get::<i64, _>("wrapper_version")?)?,
        wrapped: row.try_get("wrapped")?,
        retired_at_ms: row.try_get("retired_at_ms")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

const COLUMNS: &str =
    "key_id, version, org_id, wrapped_by, wrapper_version, wrapped, retired_at_ms, created_at_ms";

impl KeyStore {
    /// Opens (and creates) the key store at `url` (`sqlite://…?mode=rwc` or `postgres://…`).
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            crate::db::private_sqlite_file(url)?;
        }
        let options: AnyConnectOptions = url.parse().map_err(StorageError::Database)?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::raw_sql(
                            "PRAGMA secure_delete = ON; PRAGMA busy_timeout = 5000; \
                             PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let schema = match backend {
            Backend::Sqlite => SCHEMA_SQLITE,
            Backend::Postgres => SCHEMA_POSTGRES,
        };
        sqlx::raw_sql(schema).execute(&pool).await?;
        Ok(Self { pool, backend })
    }

    /// The backend it is on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Checks that the store answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Stores a new key version. A version that exists already is a conflict (another process
    /// made it first), and nothing changes.
    pub async fn insert(&self, row: &WrappedRow) -> Result<(), StorageError> {
        let result = sqlx::query(
            "INSERT INTO wrapped_keys (key_id, version, org_id, wrapped_by, wrapper_version, \
             wrapped, retired_at_ms, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&row.key_id)
        .bind(i64::from(row.version))
        .bind(&row.org_id)
        .bind(&row.wrapped_by)
        .bind(i64::from(row.wrapper_version))
        .bind(row.wrapped.clone())
        .bind(row.retired_at_ms)
        .bind(row.created_at_ms)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StorageError::Conflict {
                    entity: "key version",
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One version of a key.
    pub async fn get(&self, key_id: &str, version: u32) -> Result<WrappedRow, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM wrapped_keys WHERE key_id = $1 AND version = $2"
        )))
        .bind(key_id)
        .bind(i64::from(version))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StorageError::NotFound { entity: "key" })?;
        row_of(&row)
    }

    /// The newest version of a key that is not retired, if any.
    pub async fn current(&self, key_id: &str) -> Result<Option<WrappedRow>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM wrapped_keys WHERE key_id = $1 AND retired_at_ms IS NULL \
             ORDER BY version DESC LIMIT 1"
        )))
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(row_of).transpose()
    }

    /// Every version of a key (retired or not), oldest first.
    pub async fn versions(&self, key_id: &str) -> Result<Vec<WrappedRow>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM wrapped_keys WHERE key_id = $1 ORDER BY version"
        )))
        .bind(key_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_of).collect()
    }

    /// The highest version a key ever had (retired or not), 0 for none.
    pub async fn highest_version(&self, key_id: &str) -> Result<u32, StorageError> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM wrapped_keys WHERE key_id = $1")
                .bind(key_id)
                .fetch_one(&self.pool)
                .await?;
        version_of(v.unwrap_or(0))
    }

    /// Up to `limit` key versions wrapped by `wrapped_by` at a version other than `current`:
    /// the re-wrap job's work list.
    pub async fn wrapped_by_other_than(
        &self,
        wrapped_by: &str,
        current: u32,
        limit: i64,
    ) -> Result<Vec<WrappedRow>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM wrapped_keys WHERE wrapped_by = $1 AND wrapper_version <> $2 \
             ORDER BY key_id, version LIMIT $3"
        )))
        .bind(wrapped_by)
        .bind(i64::from(current))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_of).collect()
    }

    /// Replaces the wrapping of one key version, if it is still wrapped as `expected_by`
    /// version `expected_version` (another re-wrapper may have been first). Returns whether it
    /// changed.
    pub async fn rewrap(
        &self,
        row: &WrappedRow,
        new_version: u32,
        new_wrapped: &[u8],
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE wrapped_keys SET wrapper_version = $1, wrapped = $2 \
             WHERE key_id = $3 AND version = $4 AND wrapped_by = $5 AND wrapper_version = $6",
        )
        .bind(i64::from(new_version))
        .bind(new_wrapped.to_vec())
        .bind(&row.key_id)
        .bind(i64::from(row.version))
        .bind(&row.wrapped_by)
        .bind(i64::from(row.wrapper_version))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks every version of `key_id` below `version` retired (no new writes use them).
    pub async fn retire_below(
        &self,
        key_id: &str,
        version: u32,
        now_ms: i64,
    ) -> Result<u64, StorageError> {
        let done = sqlx::query(
            "UPDATE wrapped_keys SET retired_at_ms = $1 \
             WHERE key_id = $2 AND version < $3 AND retired_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(key_id)
        .bind(i64::from(version))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// How many key versions each wrapping version wraps.
    pub async fn wrapper_use(&self) -> Result<Vec<WrapperUse>, StorageError> {
        let rows = sqlx::query(
            "SELECT wrapped_by, wrapper_version, COUNT(*) AS n FROM wrapped_keys \
             GROUP BY wrapped_by, wrapper_version ORDER BY wrapped_by, wrapper_version",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WrapperUse {
                    wrapped_by: r.try_get("wrapped_by")?,
                    wrapper_version: version_of(r.try_get::<i64, _>("wrapper_version")?)?,
                    keys: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// Every key version of one organisation (its own and its subjects'), organisation keys
    /// first.
    pub async fn of_org(&self, org_id: &str) -> Result<Vec<WrappedRow>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM wrapped_keys WHERE org_id = $1 \
             ORDER BY wrapped_by = 'master' DESC, key_id, version"
        )))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_of).collect()
    }

    /// Every version of the organisation keys (not subject keys).
    pub async fn org_keys(&self) -> Result<Vec<WrappedRow>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM wrapped_keys WHERE wrapped_by = 'master' \
             AND key_id LIKE 'org/%' ORDER BY key_id, version"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_of).collect()
    }

    /// Destroys every version of a key, and makes the deletion physical. Returns how many
    /// versions there were.
    pub async fn destroy(&self, key_id: &str) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM wrapped_keys WHERE key_id = $1")
            .bind(key_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() > 0 {
            self.scrub().await?;
        }
        Ok(done.rows_affected())
    }

    /// Destroys every key of an organisation (its own and its subjects'): the organisation's
    /// data is unreadable after, in every copy.
    pub async fn destroy_org(&self, org_id: &str) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM wrapped_keys WHERE org_id = $1")
            .bind(org_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() > 0 {
            self.scrub().await?;
        }
        Ok(done.rows_affected())
    }

    /// Pushes deleted rows out of the files: SQLite's log is checkpointed and truncated (pages
    /// were already zeroed by `secure_delete`); PostgreSQL's dead rows are vacuumed.
    async fn scrub(&self) -> Result<(), StorageError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&self.pool)
                    .await?;
            }
            Backend::Postgres => {
                sqlx::raw_sql("VACUUM wrapped_keys")
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
