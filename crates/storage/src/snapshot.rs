//! Online, consistent copies of the SQLite databases for backups, and what a backup records of
//! a database to check a restore against: the rows of every table and the heads of the audit
//! chains.
//!
//! A copy is made with `VACUUM INTO` while the database serves: SQLite writes the file from one
//! read transaction, so it is the database as of one instant, with no page of a later write;
//! writers go on meanwhile (WAL mode). The copy is created 0600, like the database.

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::Row as _;

use crate::db::Backend;
use crate::keystore::KeyStore;
use crate::{Db, StorageError};

/// What a backup records of a database, and a restore must find again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    /// Rows of every table (migration bookkeeping included).
    pub rows: BTreeMap<String, i64>,
    /// The last link of every audit chain: chain, index and hash (hex). A restore whose heads
    /// differ lost or gained audit events.
    pub audit_heads: Vec<(String, i64, String)>,
    /// When the newest audit event was written (ms since the epoch): the age of the newest
    /// write a restore brings back.
    pub newest_write_ms: Option<i64>,
}

impl Db {
    /// Writes a consistent copy of this database to `path` (which must not exist) as a SQLite
    /// file: SQLite's own online copy, or for PostgreSQL a logical copy of every row read in one
    /// snapshot ([`crate::copy::copy_database`]) into a new file at the same migration, so a
    /// backup of either backend has one portable form and restores into either.
    pub async fn snapshot_to(&self, path: &Path) -> Result<(), StorageError> {
        match self.backend() {
            Backend::Sqlite => vacuum_into(self.backend(), self.pool(), path).await,
            Backend::Postgres => {
                let made = logical_copy(self, path).await;
                if made.is_err() {
                    remove_sqlite(path);
                }
                made
            }
        }
    }

    /// The rows of every table, the audit chains' heads and the newest write.
    pub async fn inventory(&self) -> Result<Inventory, StorageError> {
        let mut conn = self.pool().acquire().await?;
        let tables: Vec<String> = match self.backend() {
            Backend::Sqlite => {
                sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                )
                .fetch_all(&mut *conn)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                     ORDER BY 1",
                )
                .fetch_all(&mut *conn)
                .await?
            }
        };
        let mut rows = BTreeMap::new();
        for table in tables {
            // Names come from the catalogue; quoting keeps an odd one a name, not SQL.
            if !table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(StorageError::Corrupt {
                    what: "a table name outside [A-Za-z0-9_]",
                });
            }
            let sql = format!("SELECT count(*) FROM \"{table}\"");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut *conn)
                .await?;
            rows.insert(table, n);
        }
        let mut audit_heads = Vec::new();
        for row in sqlx::query(
            "SELECT e.chain, e.chain_index, e.hash FROM audit_events e \
             JOIN (SELECT chain, max(chain_index) AS last FROM audit_events \
                   WHERE hash IS NOT NULL GROUP BY chain) h \
               ON e.chain = h.chain AND e.chain_index = h.last \
             ORDER BY e.chain",
        )
        .fetch_all(&mut *conn)
        .await?
        {
            let hash: Vec<u8> = row.try_get(2)?;
            audit_heads.push((row.try_get(0)?, row.try_get(1)?, mhp_domain::to_hex(&hash)));
        }
        let newest_write_ms: Option<i64> =
            sqlx::query_scalar("SELECT max(at_ms) FROM audit_events")
                .fetch_one(&mut *conn)
                .await?;
        Ok(Inventory {
            rows,
            audit_heads,
            newest_write_ms,
        })
    }
}

impl KeyStore {
    /// Writes a consistent copy of this SQLite key store to `path` (which must not exist).
    pub async fn snapshot_to(&self, path: &Path) -> Result<(), StorageError> {
        vacuum_into(self.backend(), self.pool(), path).await
    }

    /// The wrapped keys it holds (rows of its one table).
    pub async fn inventory(&self) -> Result<Inventory, StorageError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM wrapped_keys")
            .fetch_one(self.pool())
            .await?;
        Ok(Inventory {
            rows: BTreeMap::from([("wrapped_keys".to_owned(), n)]),
            ..Inventory::default()
        })
    }
}

/// A new SQLite file at `path`, migrated to `db`'s migration, holding every row of `db`.
async fn logical_copy(db: &Db, path: &Path) -> Result<(), StorageError> {
    let text = create_private(path)?;
    let copy = Db::connect(
        &format!("sqlite://{text}"),
        &crate::DbOptions {
            max_connections: 2,
            ..crate::DbOptions::default()
        },
    )
    .await?;
    let done = async {
        if !crate::migrate::status(db).await?.is_current() {
            return Err(StorageError::Unsupported(
                "the database is not at this version's migration: run `mhp migrate` first",
            ));
        }
        crate::migrate::run(&copy).await?;
        crate::copy::copy_database(db, &copy).await?;
        Ok(())
    }
    .await;
    copy.close().await;
    done
}

async fn vacuum_into(
    backend: Backend,
    pool: &sqlx::AnyPool,
    path: &Path,
) -> Result<(), StorageError> {
    if backend != Backend::Sqlite {
        return Err(StorageError::Unsupported(
            "an online copy through VACUUM INTO is for SQLite only",
        ));
    }
    let mut conn = pool.acquire().await?;
    // VACUUM INTO accepts an existing empty file.
    let text = create_private(path)?;
    sqlx::query("VACUUM INTO $1")
        .bind(text)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Creates `path` empty with mode 0600 (never over an existing file) and returns it as text
/// for a SQLite URL or statement: SQLite would create it with the process's umask, and a copy
/// must be private from its first byte.
pub(crate) fn create_private(path: &Path) -> Result<&str, StorageError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let text = path
        .to_str()
        .ok_or(StorageError::Unsupported("a snapshot path must be UTF-8"))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(StorageError::DatabaseFile)?;
    Ok(text)
}

/// Removes a SQLite file and its write-ahead log, as far as they exist (a copy that failed, a
/// scratch file done with).
pub fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}
