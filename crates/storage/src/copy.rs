//! Logical copies of the system of record between databases of either backend: every row of
//! every table, read in one snapshot and written in one transaction, so that PostgreSQL can be
//! backed up into the same portable file as SQLite (`Db::snapshot_to`) and a backup restored
//! into either.
//!
//! Written here rather than with `pg_dump`: the copy must cross backends (PostgreSQL to SQLite
//! and back), pass PostgreSQL's row-level security as the application's own role (it reads and
//! writes each organisation's rows in that organisation's scope, the rest as the operator), and
//! need no client tools on the machine. Values are the four kinds the schema uses (integer,
//! real, text, bytes), typed by each side's catalogue, so a NULL is bound with its column's type.
//!
//! Both databases must be at the same migration; the target must hold nothing but its
//! migration records. Tables are written parents first (by their foreign keys), rows of a table
//! in the order of its first column (UUIDv7 ids and sequence numbers: oldest first), and
//! PostgreSQL's identity sequences are moved past the copied rows.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt as _;
use sqlx::{AnyConnection, Row as _};

use crate::db::Backend;
use crate::{Db, StorageError};

/// Tables a copy leaves alone: each database keeps its own migration records.
const SKIPPED: [&str; 2] = ["schema_migrations", "sqlite_sequence"];

/// Whether `table` is a database's own bookkeeping (migration records), which a copy leaves
/// alone.
pub fn is_bookkeeping(table: &str) -> bool {
    SKIPPED.contains(&table)
}

/// The kind of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Int,
    Real,
    Text,
    Bytes,
}

/// A table as a catalogue describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    pub(crate) name: String,
    pub(crate) columns: Vec<(String, Kind)>,
    /// Tables its foreign keys point to.
    parents: BTreeSet<String>,
    /// PostgreSQL identity columns (`GENERATED ALWAYS AS IDENTITY`) of the target.
    pub(crate) identity: Vec<String>,
}

impl Table {
    pub(crate) fn has_org(&self) -> bool {
        self.columns.iter().any(|(c, _)| c == "org_id")
    }

    /// The schema's shape, for comparing two databases: names and kinds.
    pub(crate) fn shape(&self) -> (String, Vec<(String, Kind)>) {
        (self.name.clone(), self.columns.clone())
    }
}

/// What a copy moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    /// Rows written per table.
    pub rows: BTreeMap<String, i64>,
}

/// One value read from a row.
pub(crate) enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

/// Copies every row of `from` into `to`, which must be at the same migration and hold nothing
/// else. `from` is read in one snapshot (on PostgreSQL a repeatable-read, read-only
/// transaction); `to` is written in one transaction: a failure leaves it as it was.
pub async fn copy_database(from: &Db, to: &Db) -> Result<Copied, StorageError> {
    let mut src = from.pool().acquire().await?;
    let mut dst = to.pool().acquire().await?;
    let (source_version, target_version) = (migration(&mut src).await?, migration(&mut dst).await?);
    if source_version != target_version {
        return Err(StorageError::Unsupported(
            "a copy needs both databases at the same migration",
        ));
    }
    let tables = catalogue(&mut src, from.backend()).await?;
    let theirs = catalogue(&mut dst, to.backend()).await?;
    let shapes = |t: &[Table]| t.iter().map(Table::shape).collect::<BTreeSet<_>>();
    if shapes(&tables) != shapes(&theirs) {
        return Err(StorageError::Unsupported(
            "the two databases' tables differ: a copy needs the same schema",
        ));
    }
    // Identity columns are the target's to override (PostgreSQL's), whatever the source.
    let identities: BTreeMap<String, Vec<String>> =
        theirs.into_iter().map(|t| (t.name, t.identity)).collect();
    let tables = tables
        .into_iter()
        .map(|mut t| {
            t.identity = identities.get(&t.name).cloned().unwrap_or_default();
            t
        })
        .collect();
    let tables = parents_first(tables)?;

    match from.backend() {
        Backend::Sqlite => sqlx::query("BEGIN").execute(&mut *src).await?,
        Backend::Postgres => {
            sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *src)
                .await?
        }
    };
    let begin = match to.backend() {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    };
    sqlx::query(begin).execute(&mut *dst).await?;
    let result = copy_tables(&mut src, from.backend(), &mut dst, to.backend(), &tables).await;
    finish(&mut src, &mut dst, result).await
}

/// Ends a copy: the source's read transaction is let go; the target's commits when the copy
/// succeeded, else rolls back.
pub(crate) async fn finish(
    src: &mut AnyConnection,
    dst: &mut AnyConnection,
    result: Result<Copied, StorageError>,
) -> Result<Copied, StorageError> {
    let _ = sqlx::query("ROLLBACK").execute(&mut *src).await;
    match result {
        Ok(copied) => {
            sqlx::query("COMMIT").execute(&mut *dst).await?;
            Ok(copied)
        }
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *dst).await;
            Err(e)
        }
    }
}

async fn copy_tables(
    src: &mut AnyConnection,
    src_backend: Backend,
    dst: &mut AnyConnection,
    dst_backend: Backend,
    tables: &[Table],
) -> Result<Copied, StorageError> {
    // Row-level security on PostgreSQL: the operator's scope for the tables that allow it,
    // each organisation's for its rows.
    for (conn, backend) in [(&mut *src, src_backend), (&mut *dst, dst_backend)] {
        if backend == Backend::Postgres {
            sqlx::query("SELECT set_config('mhp.operator', 'on', true)")
                .execute(&mut *conn)
                .await?;
        }
    }
    let orgs: Vec<String> = sqlx::query_scalar("SELECT id FROM organizations ORDER BY id")
        .fetch_all(&mut *src)
        .await?;
    let mut copied = Copied::default();
    for table in tables {
        let existing: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {}",
            quoted(&table.name)
        )))
        .fetch_one(&mut *dst)
        .await?;
        if existing != 0 {
            return Err(StorageError::Unsupported(
                "the target database holds data already: a copy goes into an empty one",
            ));
        }
        let columns: Vec<String> = table.columns.iter().map(|(c, _)| quoted(c)).collect();
        let list = columns.join(", ");
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let overriding = if dst_backend == Backend::Postgres && !table.identity.is_empty() {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };
        let insert = format!(
            "INSERT INTO {} ({list}){overriding} VALUES ({})",
            quoted(&table.name),
            placeholders.join(", ")
        );
        let order = quoted(&table.columns[0].0);
        let mut n = 0i64;
        // Each organisation's rows in its scope, then the rows of none.
        let scopes: Vec<Option<&String>> = if table.has_org() {
            orgs.iter().map(Some).chain([None]).collect()
        } else {
            vec![None]
        };
        for org in scopes {
            let org_key = org.map_or("", String::as_str);
            for (conn, backend) in [(&mut *src, src_backend), (&mut *dst, dst_backend)] {
                if backend == Backend::Postgres {
                    sqlx::query("SELECT set_config('mhp.org_id', $1, true)")
                        .bind(org_key)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            let filter = match (table.has_org(), org) {
                (false, _) => String::new(),
                (true, Some(_)) => " WHERE org_id = $1".to_owned(),
                (true, None) => " WHERE org_id IS NULL".to_owned(),
            };
            let select = format!(
                "SELECT {list} FROM {}{filter} ORDER BY {order}",
                quoted(&table.name)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(select));
            if let Some(org) = org {
                query = query.bind(org.as_str());
            }
            // Streamed: one row in memory at a time, whatever the table's size.
            let mut rows = query.fetch(&mut *src);
            while let Some(row) = rows.try_next().await? {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.as_str()));
                for v in read_row(&row, &table.columns)? {
                    q = match v {
                        Value::Int(x) => q.bind(x),
                        Value::Real(x) => q.bind(x),
                        Value::Text(x) => q.bind(x),
                        Value::Bytes(x) => q.bind(x),
                    };
                }
                q.execute(&mut *dst).await?;
                n += 1;
            }
        }
        if dst_backend == Backend::Postgres {
            for column in &table.identity {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), \
                     coalesce((SELECT max({}) FROM {}), 0) + 1, false)",
                    quoted(column),
                    quoted(&table.name)
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(table.name.as_str())
                    .bind(column.as_str())
                    .execute(&mut *dst)
                    .await?;
            }
        }
        copied.rows.insert(table.name.clone(), n);
    }
    Ok(copied)
}

pub(crate) fn read_row(
    row: &sqlx::any::AnyRow,
    columns: &[(String, Kind)],
) -> Result<Vec<Value>, StorageError> {
    columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| {
            Ok(match kind {
                Kind::Int => Value::Int(row.try_get(i)?),
                Kind::Real => Value::Real(row.try_get(i)?),
                Kind::Text => Value::Text(row.try_get(i)?),
                Kind::Bytes => Value::Bytes(row.try_get(i)?),
            })
        })
        .collect()
}

pub(crate) async fn migration(conn: &mut AnyConnection) -> Result<Option<i64>, StorageError> {
    Ok(
        sqlx::query_scalar("SELECT max(version) FROM schema_migrations")
            .fetch_one(conn)
            .await?,
    )
}

/// The tables of a database with their columns, foreign keys and identity columns.
pub(crate) async fn catalogue(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<Vec<Table>, StorageError> {
    let names: Vec<String> = match backend {
        Backend::Sqlite => {
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&mut *conn)
                .await?
        }
        Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
            )
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut tables = Vec::new();
    for name in names {
        // SQLite's own tables (`sqlite_sequence`, the planner's `sqlite_stat1`…) are the
        // engine's, not data.
        if SKIPPED.contains(&name.as_str()) || name.starts_with("sqlite_") {
            continue;
        }
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StorageError::Corrupt {
                what: "a table name outside [A-Za-z0-9_]",
            });
        }
        let (columns, parents, identity) = match backend {
            Backend::Sqlite => {
                let rows = sqlx::query("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                    .bind(name.as_str())
                    .fetch_all(&mut *conn)
                    .await?;
                let mut columns = Vec::new();
                for r in rows {
                    let ty: String = r.try_get(1)?;
                    columns.push((r.try_get::<String, _>(0)?, kind(&ty)?));
                }
                let parents: Vec<String> =
                    sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_list($1)")
                        .bind(name.as_str())
                        .fetch_all(&mut *conn)
                        .await?;
                (columns, parents, Vec::new())
            }
            Backend::Postgres => {
                let rows = sqlx::query(
                    "SELECT column_name::text, data_type::text, is_identity::text \
                     FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 \
                     ORDER BY ordinal_position",
                )
                .bind(name.as_str())
                .fetch_all(&mut *conn)
                .await?;
                let mut columns = Vec::new();
                let mut identity = Vec::new();
                for r in rows {
                    let column: String = r.try_get(0)?;
                    let ty: String = r.try_get(1)?;
                    if r.try_get::<String, _>(2)? == "YES" {
                        identity.push(column.clone());
                    }
                    columns.push((column, kind(&ty)?));
                }
                let parents: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT ccu.table_name::text \
                     FROM information_schema.table_constraints tc \
                     JOIN information_schema.constraint_column_usage ccu \
                       ON tc.constraint_name = ccu.constraint_name \
                      AND tc.constraint_schema = ccu.constraint_schema \
                     WHERE tc.constraint_type = 'FOREIGN KEY' \
                       AND tc.table_schema = current_schema() AND tc.table_name = $1",
                )
                .bind(name.as_str())
                .fetch_all(&mut *conn)
                .await?;
                (columns, parents, identity)
            }
        };
        if columns.is_empty() {
            return Err(StorageError::Corrupt {
                what: "a table without columns",
            });
        }
        for (column, _) in &columns {
            if !column
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(StorageError::Corrupt {
                    what: "a column name outside [A-Za-z0-9_]",
                });
            }
        }
        tables.push(Table {
            parents: parents.into_iter().filter(|p| *p != name).collect(),
            name,
            columns,
            identity,
        });
    }
    Ok(tables)
}

fn kind(declared: &str) -> Result<Kind, StorageError> {
    Ok(match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "smallint" => Kind::Int,
        "real" | "double precision" | "double" => Kind::Real,
        "text" | "character varying" => Kind::Text,
        "blob" | "bytea" => Kind::Bytes,
        _ => {
            return Err(StorageError::Unsupported(
                "a column of a type a copy does not know",
            ));
        }
    })
}

/// The tables ordered so that every table comes after the tables its foreign keys point to.
pub(crate) fn parents_first(tables: Vec<Table>) -> Result<Vec<Table>, StorageError> {
    let names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let mut remaining: BTreeMap<String, Table> = tables
        .into_iter()
        .map(|mut t| {
            t.parents.retain(|p| names.contains(p));
            (t.name.clone(), t)
        })
        .collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut ordered = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<String> = remaining
            .values()
            .filter(|t| t.parents.iter().all(|p| done.contains(p)))
            .map(|t| t.name.clone())
            .collect();
        if ready.is_empty() {
            return Err(StorageError::Unsupported(
                "foreign keys form a cycle between tables",
            ));
        }
        for name in ready {
            if let Some(t) = remaining.remove(&name) {
                done.insert(name);
                ordered.push(t);
            }
        }
    }
    Ok(ordered)
}

pub(crate) fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, parents: &[&str]) -> Table {
        Table {
            name: name.to_owned(),
            columns: vec![("id".to_owned(), Kind::Text)],
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            identity: Vec::new(),
        }
    }

    #[test]
    fn parents_come_before_their_children_and_cycles_are_refused() {
        let ordered = parents_first(vec![
            table("assessments", &["subjects", "organizations"]),
            table("subjects", &["organizations"]),
            table("organizations", &[]),
            table("orphan", &["elsewhere"]),
        ])
        .unwrap();
        let names: Vec<&str> = ordered.iter().map(|t| t.name.as_str()).collect();
        let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(at("organizations") < at("subjects"));
        assert!(at("subjects") < at("assessments"));
        assert_eq!(names.len(), 4);
        assert!(parents_first(vec![table("a", &["b"]), table("b", &["a"])]).is_err());
    }

    #[test]
    fn column_types_of_both_backends_map_to_the_four_kinds() {
        for (declared, expected) in [
            ("INTEGER", Kind::Int),
            ("bigint", Kind::Int),
            ("REAL", Kind::Real),
            ("double precision", Kind::Real),
            ("TEXT", Kind::Text),
            ("BLOB", Kind::Bytes),
            ("bytea", Kind::Bytes),
        ] {
            assert_eq!(kind(declared).unwrap(), expected, "{declared}");
        }
        assert!(kind("jsonb").is_err());
    }
}
