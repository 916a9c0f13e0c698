use std::time::{Duration, Instant};

use mhp_domain::OrgScope;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection as _};

use crate::credentials::CredentialChanges;
use crate::direct::{DirectRead, DirectReads};
use crate::error::{StorageError, is_transient_sqlx};
use crate::tx::{Access, OperatorTx, TenantTx};

/// Which database holds the system of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file: the embedded default.
    Sqlite,
    /// PostgreSQL 15 or later: several instances, row-level security.
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StorageError::UnsupportedUrl)
        }
    }

    /// A stable lower-case name for logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Pool and start-up settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long a request waits for a free connection.
    pub acquire_timeout: Duration,
    /// How long start-up keeps retrying an unreachable database.
    pub startup_timeout: Duration,
    /// Longest a single statement may run (PostgreSQL `statement_timeout`).
    pub statement_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            startup_timeout: Duration::from_secs(30),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// Connection pool figures, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The pool's limit.
    pub max: u32,
}

/// The system of record: a pool over SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    max_connections: u32,
    /// SQLite has one writer: writes of this process queue here, in order, instead of
    /// polling the file lock (whose back-off sleeps made long latency tails under load).
    writer: std::sync::Arc<tokio::sync::Semaphore>,
    /// Where committed credential changes are announced ([`crate::credentials`]).
    credentials: std::sync::Arc<CredentialChanges>,
    /// One-hop reads of a SQLite file ([`crate::direct`]); none on PostgreSQL or in memory.
    direct: Option<std::sync::Arc<DirectReads>>,
}

impl Db {
    /// Connects, retrying with exponential back-off (250 ms doubling to 5 s) while the database
    /// is unreachable, for at most `options.startup_timeout`.
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let file = match backend {
            Backend::Sqlite => private_sqlite_file(url)?,
            Backend::Postgres => None,
        };
        let credentials = std::sync::Arc::new(match (backend, &file) {
            (Backend::Sqlite, Some(path)) => CredentialChanges::sqlite_file(path),
            (Backend::Sqlite, None) => CredentialChanges::in_process(),
            (Backend::Postgres, _) => CredentialChanges::postgres(),
        });
        let direct = file.map(|path| std::sync::Arc::new(DirectReads::new(&path)));
        let connect_options: AnyConnectOptions = url.parse().map_err(StorageError::Database)?;
        let statement_timeout_ms = options.statement_timeout.as_millis();
        let max_connections = match backend {
            // SQLite allows one writer at a time; a handful of readers is plenty.
            Backend::Sqlite => options.max_connections.min(8),
            Backend::Postgres => options.max_connections,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(options.acquire_timeout)
            // A connection to a local SQLite file cannot go stale: pinging it before every
            // use (a round trip to its worker thread) bought nothing. A PostgreSQL connection
            // can be cut by the network, so it is still checked.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            sqlx::raw_sql(
                                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                                 PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;",
                            )
                            .execute(&mut *conn)
                            .await?;
                        }
                        Backend::Postgres => {
                            sqlx::query("SELECT set_config('statement_timeout', $1, false)")
                                .bind(format!("{statement_timeout_ms}ms"))
                                .execute(&mut *conn)
                                .await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_lazy_with(connect_options.clone());
        let db = Db {
            pool,
            backend,
            max_connections,
            writer: std::sync::Arc::new(tokio::sync::Semaphore::new(1)),
            credentials,
            direct,
        };
        db.wait_until_reachable(&connect_options, options.startup_timeout)
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the writer; the mode is stored in the file.
            sqlx::raw_sql("PRAGMA journal_mode = WAL")
                .execute(&db.pool)
                .await?;
        }
        Ok(db)
    }

    /// Probes with one direct connection (not the pool, whose own time-out would hide the
    /// cause) until the database answers.
    async fn wait_until_reachable(
        &self,
        options: &AnyConnectOptions,
        limit: Duration,
    ) -> Result<(), StorageError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(250);
        loop {
            let attempt = async {
                let conn = sqlx::AnyConnection::connect_with(options).await?;
                conn.close().await
            };
            match attempt.await {
                Ok(()) => return Ok(()),
                Err(e) if is_transient_sqlx(&e) && started.elapsed() + delay < limit => {
                    tracing::warn!(
                        backend = self.backend.as_str(),
                        retry_in_ms = delay.as_millis() as u64,
                        error = %e,
                        "database not reachable yet"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Err(e) if is_transient_sqlx(&e) => {
                    return Err(StorageError::Unreachable {
                        waited_s: started.elapsed().as_secs(),
                        last_error: e.to_string(),
                    });
                }
                Err(e) => return Err(StorageError::Database(e)),
            }
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that a connection answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        let mut conn = self.pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }

    /// The pool's current figures.
    pub fn pool_stats(&self) -> PoolStats {
        let size = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle())
            .unwrap_or(u32::MAX)
            .min(size);
        PoolStats {
            size,
            idle,
            max: self.max_connections,
        }
    }

    /// Opens a transaction that serves one organisation. Every tenant query runs in one.
    pub async fn tenant(&self, scope: &OrgScope, access: Access) -> Result<TenantTx, StorageError> {
        let permit = self.write_permit(access).await?;
        TenantTx::begin(&self.pool, self.backend, *scope, access, permit)
            .await
            .map(|tx| tx.announcing(&self.credentials))
    }

    /// Opens a one-hop read for one organisation on a SQLite file ([`crate::direct`]): its
    /// statements run on the caller's thread. `None` on PostgreSQL and in memory, where the
    /// caller reads through [`Db::tenant`] instead.
    pub fn direct_read(&self, scope: &OrgScope) -> Result<Option<DirectRead<'_>>, StorageError> {
        self.direct.as_deref().map(|d| d.begin(scope)).transpose()
    }

    /// On SQLite, a write waits its turn here before it takes a connection. The wait is bounded
    /// like SQLite's own busy timeout, so a write opened while holding another fails (as a
    /// transient error) instead of waiting forever.
    async fn write_permit(
        &self,
        access: Access,
    ) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, StorageError> {
        if self.backend != Backend::Sqlite || access != Access::Write {
            return Ok(None);
        }
        match tokio::time::timeout(Duration::from_secs(5), self.writer.clone().acquire_owned())
            .await
        {
            Ok(Ok(permit)) => Ok(Some(permit)),
            Ok(Err(_)) | Err(_) => Err(StorageError::Database(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Opens a read for a named cross-organisation operator function that runs one statement
    /// (a credential lookup on every request). The caller must not run a second statement
    /// that expects the first one's snapshot: use [`Db::operator`] for that.
    pub async fn operator_lookup(&self) -> Result<OperatorTx, StorageError> {
        OperatorTx::single_read(&self.pool, self.backend).await
    }

    /// Opens a transaction for a named cross-organisation operator function (bootstrap,
    /// organisation listing). It never reaches subject data.
    pub async fn operator(&self, access: Access) -> Result<OperatorTx, StorageError> {
        let permit = self.write_permit(access).await?;
        OperatorTx::begin(&self.pool, self.backend, access, permit)
            .await
            .map(|tx| tx.announcing(&self.credentials))
    }

    /// Where committed credential changes are announced: the authentication cache stamps its
    /// entries with it.
    pub fn credential_changes(&self) -> &std::sync::Arc<CredentialChanges> {
        &self.credentials
    }

    /// Runs `work` and runs it again, with back-off, while it fails with a transient error
    /// (at most 5 attempts). `work` must own what it captures and be safe to repeat: it
    /// should open and commit its own transaction.
    pub async fn retry<T, F, Fut>(&self, mut work: F) -> Result<T, StorageError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StorageError>>,
    {
        let mut delay = Duration::from_millis(20);
        let mut attempt = 1;
        loop {
            match work().await {
                Err(e) if e.is_transient() && attempt < 5 => {
                    tracing::debug!(attempt, error = %e, "transient storage error, retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Refreshes the query planner's statistics. On SQLite this is `ANALYZE` over a sample of
    /// each index (`analysis_limit` 1000 rows: tens of milliseconds on a season of data):
    /// without statistics the planner drives one subject's metrics from the organisation-wide
    /// metric index and reads every metric row of the organisation (half a second for 150
    /// athletes instead of a few milliseconds). PostgreSQL's autovacuum keeps its own
    /// statistics; nothing is done there.
    pub async fn refresh_statistics(&self) -> Result<(), StorageError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let _permit = self.write_permit(Access::Write).await?;
        let mut conn = self.pool.acquire().await?;
        sqlx::query("PRAGMA analysis_limit = 1000")
            .execute(&mut *conn)
            .await?;
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
        Ok(())
    }

    /// Closes the pool, waiting up to 10 s for connections in use to come back (a transaction
    /// still held by the caller would otherwise keep it waiting forever).
    pub async fn close(&self) {
        if let Some(direct) = &self.direct {
            direct.close();
        }
        if tokio::time::timeout(Duration::from_secs(10), self.pool.close())
            .await
            .is_err()
        {
            tracing::warn!("database pool closed with connections still in use");
        }
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Creates the SQLite file of `url` readable and writable by its owner only (0600) before
/// SQLite opens it, and tightens an existing one to 0600. SQLite creates the `-wal` and `-shm`
/// files with the database file's permissions, so they follow. In-memory databases are left
/// alone. Answers the file's path (`None` in memory).
pub(crate) fn private_sqlite_file(url: &str) -> Result<Option<std::path::PathBuf>, StorageError> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    use std::str::FromStr as _;
    let options =
        sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(StorageError::Database)?;
    let path = options.get_filename();
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" || url.contains("mode=memory")
    {
        return Ok(None);
    }
    let io = StorageError::DatabaseFile;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(Some(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::metadata(path).map_err(io)?;
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(io)?;
            }
            Ok(Some(path.to_path_buf()))
        }
        // A directory that does not exist: SQLite reports it as it always did.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some(path.to_path_buf())),
        Err(e) => Err(io(e)),
    }
}
