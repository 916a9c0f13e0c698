//! One-hop reads on SQLite: the hot read pages (a roster) run their statements on the
//! request's own thread, on connections of this module's, instead of through sqlx.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every statement to it
//! over a channel: a statement is two thread switches, a row a message. A roster's read (begin,
//! the page, injuries, decisions, risk bands, end) cost ten context switches and about a third
//! of its CPU (docs/design/performance.md). Here a read opens a transaction on a connection kept
//! in this process, runs its statements where it is called and gives the connection back: no
//! hand-over at all. Running it on an async worker thread blocks that thread for as long as
//! SQLite reads the page, tens of microseconds: WAL readers do not wait for the writer, and a
//! page is bounded (500 rows at most).
//!
//! Only reads: the connections are `query_only`, and every statement is the same SQL text that
//! the sqlx path runs (each repository keeps one constant for both). Writes, and every read on
//! PostgreSQL or an in-memory database, go through [`crate::TenantTx`] as before.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mhp_domain::OrgScope;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

use crate::StorageError;

/// Idle connections kept for the next read; more are opened under a burst and closed after.
const IDLE_KEPT: usize = 8;

/// How long a direct read waits on a locked file (WAL recovery, a truncating checkpoint) before
/// it fails as a transient error. Readers of a WAL database otherwise never wait.
const BUSY_TIMEOUT_MS: u32 = 2000;

/// The direct readers of one SQLite file.
#[derive(Debug)]
pub struct DirectReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl DirectReads {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Result<Connection, StorageError> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        // Never creates the file: the pool's first connection (and the migrations) did.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.execute_batch(&format!(
            "PRAGMA query_only = ON; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; \
             PRAGMA temp_store = MEMORY;"
        ))?;
        Ok(conn)
    }

    /// Closes the idle connections (when the pool closes: the last connection to close a WAL
    /// database checkpoints it and removes its `-wal` file).
    pub(crate) fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_KEPT
        {
            idle.push(conn);
        }
    }

    /// Opens a read for one organisation: one snapshot for every statement until it is
    /// dropped.
    pub(crate) fn begin(&self, scope: &OrgScope) -> Result<DirectRead<'_>, StorageError> {
        let conn = self.take()?;
        conn.execute_batch("BEGIN")?;
        Ok(DirectRead {
            reads: self,
            conn: Some(conn),
            org: scope.org().to_string(),
        })
    }
}

/// A read transaction serving one organisation on a direct connection. Repositories filter by
/// [`DirectRead::org_key`] exactly as they do by a [`crate::TenantTx`]'s organisation.
#[derive(Debug)]
pub struct DirectRead<'a> {
    reads: &'a DirectReads,
    conn: Option<Connection>,
    org: String,
}

impl DirectRead<'_> {
    /// The organisation id as stored.
    pub(crate) fn org_key(&self) -> &str {
        &self.org
    }

    /// Runs `sql` (parameters `$1`, `$2`, … bound to `binds` in order) and maps every row.
    pub(crate) fn rows<T>(
        &mut self,
        sql: &str,
        binds: &[Value],
        mut map: impl FnMut(&rusqlite::Row<'_>) -> Result<T, StorageError>,
    ) -> Result<Vec<T>, StorageError> {
        let conn = self
            .conn
            .as_ref()
            .ok_or(StorageError::Unsupported("a finished direct read"))?;
        let mut statement = conn.prepare_cached(sql)?;
        // SQLite numbers `$N` parameters in the order they first appear, which is N in every
        // statement given here; checked, so that a statement written otherwise fails instead
        // of binding a value to the wrong parameter.
        if statement.parameter_count() != binds.len() {
            return Err(StorageError::Unsupported(
                "a statement with other parameters",
            ));
        }
        for (i, value) in binds.iter().enumerate() {
            let index = i + 1;
            let named = statement
                .parameter_name(index)
                .and_then(|n| n.strip_prefix('$'))
                .and_then(|n| n.parse::<usize>().ok());
            if named != Some(index) {
                return Err(StorageError::Unsupported("parameters out of order"));
            }
            statement.raw_bind_parameter(index, value)?;
        }
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(map(row)?);
        }
        Ok(out)
    }
}

impl Drop for DirectRead<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Ends the snapshot; a connection that cannot end it is not reused.
            if conn.execute_batch("ROLLBACK").is_ok() {
                self.reads.give_back(conn);
            }
        }
    }
}

/// A row's columns by name, read alike from sqlx's rows and from a direct read's, so that a
/// repository maps its rows once for both paths.
pub(crate) trait Columns {
    fn text(&self, name: &str) -> Result<String, StorageError>;
    fn opt_text(&self, name: &str) -> Result<Option<String>, StorageError>;
    fn int(&self, name: &str) -> Result<i64, StorageError>;
    fn opt_int(&self, name: &str) -> Result<Option<i64>, StorageError>;
    fn real(&self, name: &str) -> Result<f64, StorageError>;
}

impl Columns for sqlx::any::AnyRow {
    fn text(&self, name: &str) -> Result<String, StorageError> {
        Ok(sqlx::Row::try_get(self, name)?)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>, StorageError> {
        Ok(sqlx::Row::try_get(self, name)?)
    }
    fn int(&self, name: &str) -> Result<i64, StorageError> {
        Ok(sqlx::Row::try_get(self, name)?)
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>, StorageError> {
        Ok(sqlx::Row::try_get(self, name)?)
    }
    fn real(&self, name: &str) -> Result<f64, StorageError> {
        Ok(sqlx::Row::try_get(self, name)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, name: &str) -> Result<String, StorageError> {
        Ok(self.get(name)?)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>, StorageError> {
        Ok(self.get(name)?)
    }
    fn int(&self, name: &str) -> Result<i64, StorageError> {
        Ok(self.get(name)?)
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>, StorageError> {
        Ok(self.get(name)?)
    }
    fn real(&self, name: &str) -> Result<f64, StorageError> {
        Ok(self.get(name)?)
    }
}

#[cfg(test)]
mod tests {
    use mhp_domain::{OrgId, OrgScope};
    use rusqlite::types::Value;

    use super::DirectReads;
    use crate::StorageError;

    fn file() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (org_id TEXT, v INTEGER);")
            .unwrap();
        conn.execute("INSERT INTO t VALUES ('a', 1), ('a', 2), ('b', 3)", [])
            .unwrap();
        (dir, path)
    }

    #[test]
    fn reads_bind_in_order_refuse_writes_and_reuse_connections() {
        let (_dir, path) = file();
        let reads = DirectReads::new(&path);
        let scope = OrgScope::for_command_line(OrgId::new());
        let mut read = reads.begin(&scope).unwrap();
        let sum = |r: &rusqlite::Row<'_>| Ok(r.get::<_, i64>(0)?);
        let got = read
            .rows(
                "SELECT v FROM t WHERE org_id = $1 AND v > $2 ORDER BY v",
                &[Value::Text("a".into()), Value::Integer(0)],
                sum,
            )
            .unwrap();
        assert_eq!(got, vec![1, 2]);
        // A statement whose parameters are not $1, $2, … in order is refused, not misbound.
        assert!(matches!(
            read.rows(
                "SELECT v FROM t WHERE v > $2 AND org_id = $1",
                &[Value::Text("a".into()), Value::Integer(0)],
                sum,
            ),
            Err(StorageError::Unsupported(_))
        ));
        assert!(matches!(
            read.rows("SELECT v FROM t WHERE v > $1", &[], sum),
            Err(StorageError::Unsupported(_))
        ));
        // query_only: nothing is written through a direct read.
        let write = read.rows(
            "DELETE FROM t WHERE org_id = $1",
            &[Value::Text("a".into())],
            sum,
        );
        assert!(matches!(write, Err(StorageError::Sqlite(_))), "{write:?}");
        drop(read);
        assert_eq!(
            reads.idle.lock().unwrap().len(),
            1,
            "given back for the next read"
        );
        let still = rusqlite::Connection::open(&path).unwrap();
        let n: i64 = still
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn a_missing_file_is_an_error_not_a_new_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.sqlite");
        let reads = DirectReads::new(&path);
        assert!(
            reads
                .begin(&OrgScope::for_command_line(OrgId::new()))
                .is_err()
        );
        assert!(!path.exists());
    }
}
