//! Test support: a fresh database per test on SQLite and PostgreSQL, and helpers to run the
//! real `mhp` binary.
//!
//! PostgreSQL tests need `MHP_TEST_PG_URL` (set by `scripts/with-postgres.sh`): the URL of a
//! role allowed to create databases. Without it they fail when `MHP_TEST_REQUIRE_PG` is set (as
//! the test script does) and are reported as skipped otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use sqlx::Connection as _;

/// A fresh SQLite database in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct SqliteDb {
    /// The directory holding the file.
    pub dir: tempfile::TempDir,
    /// Its URL (creates the file on first connect).
    pub url: String,
}

/// A fresh SQLite database.
pub fn fresh_sqlite() -> SqliteDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path: PathBuf = dir.path().join("mhp.sqlite");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    SqliteDb { dir, url }
}

/// The admin URL of the test cluster, or `None` (after saying so) when there is none and none is
/// required.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("MHP_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("MHP_TEST_REQUIRE_PG").is_some() => {
            panic!("MHP_TEST_PG_URL is not set: run the tests through scripts/test.sh")
        }
        _ => {
            eprintln!("skipped: no PostgreSQL (MHP_TEST_PG_URL unset; scripts/test.sh sets it)");
            None
        }
    }
}

/// Creates a fresh, empty PostgreSQL database owned by the test role and returns its URL.
/// The cluster is thrown away after the run, so databases are not dropped one by one.
pub async fn fresh_postgres() -> Option<String> {
    let admin = postgres_admin_url()?;
    let name = format!("mhp_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL cluster");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let _ = conn.close().await;
    Some(replace_database(&admin, &name))
}

/// The same URL with another database name.
pub fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let cut = base.rfind('/').map_or(base.len(), |i| i);
    let mut out = format!("{}/{}", &base[..cut], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
