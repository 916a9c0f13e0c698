//! The embedded backend: the index in its own SQLite file (e.g. `<data_dir>/index.sqlite`).
//!
//! Layout: `docs` holds one row per document, keyed by an integer `doc` and unique by
//! `(org, id)`, with the columns the filters need and the rest of the document as JSON
//! (`body`); side tables hold what a document has many of:
//!
//! - `doc_teams(org, team, doc)` and `doc_labels(org, label, value, doc)` (`label` is `flag` or
//!   `tag`), keyed org first for their filters;
//! - `doc_metrics(doc, metric, value)`, keyed `(doc, metric)` with metric names interned in
//!   `metric_names`: about 20 bytes a value, read by a key lookup per document for metric
//!   ranges and the weekly aggregation; the only copy of the metrics, read back bit for bit.
//!
//! Every statement starts from `docs` filtered on `org` (or from an org-first key), so it is
//! confined to one organisation's rows. Side rows reference their document `ON DELETE
//! CASCADE`, so replacing or deleting a document replaces or deletes them.
//! Writes run in `BEGIN IMMEDIATE` transactions: a batch is all or nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use mhp_domain::{AssessmentId, OrgId};
use sqlx::query_builder::Separated;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::doc::{Body, validate_docs, validate_metric, validate_query};
use crate::stats::weekly_buckets;
use crate::{AssessmentDoc, IndexError, Query, WeekBucket};

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r"
CREATE TABLE docs (
    doc            INTEGER PRIMARY KEY,
    org            TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    recorded_at_ms INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    UNIQUE (org, id)
);
CREATE INDEX docs_by_time ON docs (org, recorded_at_ms, id);
CREATE INDEX docs_by_subject ON docs (org, subject, recorded_at_ms);

CREATE TABLE doc_teams (
    org  TEXT    NOT NULL,
    team TEXT    NOT NULL,
    doc  INTEGER NOT NULL REFERENCES docs (doc) ON DELETE CASCADE,
    PRIMARY KEY (org, team, doc)
) WITHOUT ROWID;
CREATE INDEX doc_teams_by_doc ON doc_teams (doc);

CREATE TABLE doc_labels (
    org   TEXT    NOT NULL,
    label TEXT    NOT NULL CHECK (label IN ('flag', 'tag')),
    value TEXT    NOT NULL,
    doc   INTEGER NOT NULL REFERENCES docs (doc) ON DELETE CASCADE,
    PRIMARY KEY (org, label, value, doc)
) WITHOUT ROWID;
CREATE INDEX doc_labels_by_doc ON doc_labels (doc);

CREATE TABLE metric_names (
    metric INTEGER PRIMARY KEY,
    name   TEXT NOT NULL UNIQUE
);

CREATE TABLE doc_metrics (
    doc    INTEGER NOT NULL REFERENCES docs (doc) ON DELETE CASCADE,
    metric INTEGER NOT NULL,
    value  REAL    NOT NULL,
    PRIMARY KEY (doc, metric)
) WITHOUT ROWID;

PRAGMA user_version = 1;
";

/// How many ids one `DELETE … IN (…)` binds.
const DELETE_CHUNK: usize = 500;
/// Documents per group of multi-row statements in an upsert.
const WRITE_CHUNK: usize = 200;
/// Rows per multi-row `INSERT` into a side table.
const SIDE_ROWS: usize = 2000;

/// The index in a SQLite file of its own.
#[derive(Debug, Clone)]
pub struct EmbeddedIndex {
    pool: SqlitePool,
}

impl EmbeddedIndex {
    /// Opens the index file, creating it (readable by its owner only) and its schema when
    /// missing. The directory must exist.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, IndexError> {
        let path = path.as_ref();
        create_private_file(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            // The index can be rebuilt from the system of record, so it trades the last
            // transactions before a power cut for faster commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db_error("open"))?;
        let index = Self { pool };
        index.migrate().await?;
        Ok(index)
    }

    async fn migrate(&self) -> Result<(), IndexError> {
        let mut tx = self.write_tx("migrate").await?;
        let found: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error("migrate"))?;
        if found > SCHEMA_VERSION {
            return Err(IndexError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found == 0 {
            sqlx::raw_sql(SCHEMA)
                .execute(&mut *tx)
                .await
                .map_err(db_error("migrate"))?;
        }
        tx.commit().await.map_err(db_error("migrate"))
    }

    /// See [`crate::DocumentIndex::upsert`].
    pub async fn upsert(&self, docs: &[AssessmentDoc]) -> Result<(), IndexError> {
        validate_docs(docs)?;
        let docs = last_per_key(docs);
        if docs.is_empty() {
            return Ok(());
        }
        let rows = docs
            .into_iter()
            .map(|(position, doc)| DocRow::new(position, doc))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.write_tx("upsert").await?;
        for chunk in rows.chunks(WRITE_CHUNK) {
            write_chunk(&mut tx, chunk)
                .await
                .map_err(db_error("upsert"))?;
        }
        tx.commit().await.map_err(db_error("upsert"))
    }

    /// See [`crate::DocumentIndex::delete`].
    pub async fn delete(&self, org: OrgId, ids: &[AssessmentId]) -> Result<(), IndexError> {
        if ids.is_empty() {
            return Ok(());
        }
        let org = org.to_string();
        let mut tx = self.write_tx("delete").await?;
        for chunk in ids.chunks(DELETE_CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new("DELETE FROM docs WHERE org = ");
            qb.push_bind(org.clone()).push(" AND id IN (");
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            qb.push(")");
            qb.build()
                .execute(&mut *tx)
                .await
                .map_err(db_error("delete"))?;
        }
        tx.commit().await.map_err(db_error("delete"))
    }

    /// See [`crate::DocumentIndex::clear_org`].
    pub async fn clear_org(&self, org: OrgId) -> Result<(), IndexError> {
        let org = org.to_string();
        let mut tx = self.write_tx("clear").await?;
        // Children first, in bulk, so that deleting the documents has nothing left to cascade
        // to.
        for sql in [
            "DELETE FROM doc_metrics WHERE doc IN (SELECT doc FROM docs WHERE org = ?)",
            "DELETE FROM doc_labels WHERE org = ?",
            "DELETE FROM doc_teams WHERE org = ?",
            "DELETE FROM docs WHERE org = ?",
        ] {
            sqlx::query(sql)
                .bind(org.clone())
                .execute(&mut *tx)
                .await
                .map_err(db_error("clear"))?;
        }
        tx.commit().await.map_err(db_error("clear"))
    }

    /// See [`crate::DocumentIndex::search`].
    pub async fn search(&self, org: OrgId, q: &Query) -> Result<Vec<AssessmentDoc>, IndexError> {
        validate_query(q)?;
        let limit = q.effective_limit();
        if limit == 0 {
            return Ok(Vec::new());
        }
        // One read transaction, so that documents and their metrics come from one snapshot.
        let mut tx = self.pool.begin().await.map_err(db_error("search"))?;
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT d.doc, d.body FROM docs d WHERE ");
        push_filters(&mut qb, org, q);
        qb.push(" ORDER BY d.recorded_at_ms DESC, d.id DESC LIMIT ");
        // At most MAX_LIMIT, so the conversion is exact.
        qb.push_bind(limit as i64);
        let rows: Vec<(i64, String)> = qb
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error("search"))?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }

        // Metrics come from `doc_metrics`, stored as binary doubles, so that they come back
        // bit for bit (a JSON round trip can be off by one unit in the last place).
        // The keys come from the organisation's documents just read.
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT m.doc, n.name, m.value FROM doc_metrics m \
             JOIN metric_names n ON n.metric = m.metric WHERE m.doc IN (",
        );
        let mut list = qb.separated(", ");
        for (doc, _) in &rows {
            list.push_bind(*doc);
        }
        qb.push(")");
        let metric_rows: Vec<(i64, String, f64)> = qb
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error("search"))?;
        tx.commit().await.map_err(db_error("search"))?;

        let mut metrics: HashMap<i64, BTreeMap<String, f64>> = HashMap::new();
        for (doc, metric, value) in metric_rows {
            metrics.entry(doc).or_default().insert(metric, value);
        }
        rows.into_iter()
            .map(|(doc, body)| {
                let mut body: Body =
                    serde_json::from_str(&body).map_err(|_| IndexError::Corrupt)?;
                body.metrics = metrics.remove(&doc).unwrap_or_default();
                body.into_doc(org)
            })
            .collect()
    }

    /// See [`crate::DocumentIndex::weekly`].
    pub async fn weekly(
        &self,
        org: OrgId,
        q: &Query,
        metric: &str,
    ) -> Result<Vec<WeekBucket>, IndexError> {
        validate_query(q)?;
        validate_metric(metric)?;
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT d.recorded_at_ms, m.value FROM docs d JOIN doc_metrics m ON m.doc = d.doc \
             AND m.metric = (SELECT n.metric FROM metric_names n WHERE n.name = ",
        );
        qb.push_bind(metric.to_owned()).push(") WHERE ");
        push_filters(&mut qb, org, q);
        let points: Vec<(i64, f64)> = qb
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db_error("weekly"))?;
        Ok(weekly_buckets(points))
    }

    /// See [`crate::DocumentIndex::count`].
    pub async fn count(&self, org: OrgId) -> Result<u64, IndexError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM docs WHERE org = ?")
            .bind(org.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(db_error("count"))?;
        u64::try_from(n).map_err(|_| IndexError::Corrupt)
    }

    /// See [`crate::DocumentIndex::check`].
    pub async fn check(&self) -> Result<(), IndexError> {
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error("check"))?;
        if version == SCHEMA_VERSION {
            Ok(())
        } else {
            Err(IndexError::NotReady(
                "the index file has another schema version",
            ))
        }
    }

    /// Closes the pool, waiting for connections to finish (tests reopen the file after it).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn write_tx(
        &self,
        operation: &'static str,
    ) -> Result<sqlx::Transaction<'static, Sqlite>, IndexError> {
        // Take SQLite's write lock up front so two writers queue instead of deadlocking on an
        // upgrade from a read lock.
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error(operation))
    }
}

/// A document with its keys and body rendered once.
struct DocRow<'a> {
    org: String,
    id: String,
    body: String,
    doc: &'a AssessmentDoc,
}

impl<'a> DocRow<'a> {
    fn new(position: usize, doc: &'a AssessmentDoc) -> Result<Self, IndexError> {
        // The body leaves the metrics to `doc_metrics`, their one home in this backend.
        let mut body = Body::from_doc(doc);
        body.metrics.clear();
        let body = serde_json::to_string(&body).map_err(|_| IndexError::InvalidDocument {
            position,
            problem: "it cannot be written as JSON",
        })?;
        Ok(Self {
            org: doc.org.to_string(),
            id: doc.id.to_string(),
            body,
            doc,
        })
    }
}

/// The batch without earlier duplicates of an `(org, id)`: the last one wins, as if the
/// documents had been upserted one after the other.
fn last_per_key(docs: &[AssessmentDoc]) -> Vec<(usize, &AssessmentDoc)> {
    let mut seen = HashSet::new();
    let mut kept: Vec<(usize, &AssessmentDoc)> = docs
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, d)| seen.insert((d.org, d.id)))
        .collect();
    kept.reverse();
    kept
}

/// Replaces a chunk of documents and their side rows, a few multi-row statements per chunk
/// instead of several statements per document.
async fn write_chunk(
    tx: &mut sqlx::Transaction<'static, Sqlite>,
    chunk: &[DocRow<'_>],
) -> Result<(), sqlx::Error> {
    // Deleting the old documents cascades to their side rows. One statement per organisation
    // (usually one): `org = ? AND id IN (…)` is a search of the unique index, where a row-value
    // `(org, id) IN (VALUES …)` would scan the table.
    let mut by_org: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in chunk {
        by_org.entry(&r.org).or_default().push(&r.id);
    }
    for (org, ids) in by_org {
        let mut qb = QueryBuilder::<Sqlite>::new("DELETE FROM docs WHERE org = ");
        qb.push_bind(org.to_owned()).push(" AND id IN (");
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(id.to_owned());
        }
        qb.push(")");
        qb.build().execute(&mut **tx).await?;
    }

    let mut qb = QueryBuilder::<Sqlite>::new(
        "INSERT INTO docs (org, id, subject, recorded_at_ms, kind, body) ",
    );
    qb.push_values(chunk, |mut row, r| {
        row.push_bind(r.org.clone())
            .push_bind(r.id.clone())
            .push_bind(r.doc.subject.to_string())
            .push_bind(r.doc.recorded_at_ms)
            .push_bind(r.doc.kind.clone())
            .push_bind(r.body.clone());
    });
    // RETURNING does not promise the order of VALUES, so keys are matched by (org, id).
    qb.push(" RETURNING doc, org, id");
    let returned: Vec<(i64, String, String)> = qb.build_query_as().fetch_all(&mut **tx).await?;
    let keys: HashMap<(String, String), i64> = returned
        .into_iter()
        .map(|(doc, org, id)| ((org, id), doc))
        .collect();
    let key = |r: &DocRow<'_>| {
        keys.get(&(r.org.clone(), r.id.clone()))
            .copied()
            .ok_or(sqlx::Error::RowNotFound)
    };
    let keyed: Vec<(i64, &DocRow<'_>)> = chunk
        .iter()
        .map(|r| Ok((key(r)?, r)))
        .collect::<Result<_, sqlx::Error>>()?;

    let teams: Vec<(i64, &str, String)> = keyed
        .iter()
        .flat_map(|(doc, r)| {
            r.doc
                .teams
                .iter()
                .map(move |t| (*doc, r.org.as_str(), t.to_string()))
        })
        .collect();
    // OR IGNORE: a list that names a team, flag or tag twice stores it once.
    insert_side_rows(
        tx,
        "INSERT OR IGNORE INTO doc_teams (org, team, doc) ",
        &teams,
        |mut row, (doc, org, team)| {
            row.push_bind((*org).to_owned())
                .push_bind(team.clone())
                .push_bind(*doc);
        },
    )
    .await?;

    let labels: Vec<(i64, &str, &'static str, &String)> = keyed
        .iter()
        .flat_map(|(doc, r)| {
            let org = r.org.as_str();
            let flags = r.doc.flags.iter().map(move |f| (*doc, org, "flag", f));
            let tags = r.doc.tags.iter().map(move |t| (*doc, org, "tag", t));
            flags.chain(tags)
        })
        .collect();
    insert_side_rows(
        tx,
        "INSERT OR IGNORE INTO doc_labels (org, label, value, doc) ",
        &labels,
        |mut row, (doc, org, label, value)| {
            row.push_bind((*org).to_owned())
                .push_bind(*label)
                .push_bind((*value).clone())
                .push_bind(*doc);
        },
    )
    .await?;

    let names = metric_keys(tx, chunk).await?;
    let mut metrics: Vec<(i64, i64, f64)> = Vec::new();
    for (doc, r) in &keyed {
        for (name, value) in &r.doc.metrics {
            let metric = names
                .get(name.as_str())
                .copied()
                .ok_or(sqlx::Error::RowNotFound)?;
            metrics.push((*doc, metric, *value));
        }
    }
    insert_side_rows(
        tx,
        "INSERT INTO doc_metrics (doc, metric, value) ",
        &metrics,
        |mut row, (doc, metric, value)| {
            row.push_bind(*doc).push_bind(*metric).push_bind(*value);
        },
    )
    .await
}

/// The interned keys of the chunk's metric names, adding the names not seen before.
async fn metric_keys(
    tx: &mut sqlx::Transaction<'static, Sqlite>,
    chunk: &[DocRow<'_>],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let names: BTreeSet<&String> = chunk.iter().flat_map(|r| r.doc.metrics.keys()).collect();
    let names: Vec<&String> = names.into_iter().collect();
    let mut keys = HashMap::new();
    for part in names.chunks(SIDE_ROWS) {
        let mut qb = QueryBuilder::<Sqlite>::new("INSERT OR IGNORE INTO metric_names (name) ");
        qb.push_values(part, |mut row, name| {
            row.push_bind((*name).clone());
        });
        qb.build().execute(&mut **tx).await?;

        let mut qb =
            QueryBuilder::<Sqlite>::new("SELECT name, metric FROM metric_names WHERE name IN (");
        let mut list = qb.separated(", ");
        for name in part {
            list.push_bind((*name).clone());
        }
        qb.push(")");
        let found: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        keys.extend(found);
    }
    Ok(keys)
}

/// Inserts rows with multi-row `INSERT … VALUES`, [`SIDE_ROWS`] at a time (at most four binds
/// a row, far below SQLite's limit of 32,766).
async fn insert_side_rows<T>(
    tx: &mut sqlx::Transaction<'static, Sqlite>,
    head: &'static str,
    rows: &[T],
    mut bind: impl FnMut(Separated<'_, Sqlite, &'static str>, &T),
) -> Result<(), sqlx::Error> {
    for part in rows.chunks(SIDE_ROWS) {
        let mut qb = QueryBuilder::<Sqlite>::new(head);
        qb.push_values(part, &mut bind);
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// The `WHERE` conditions of a query on `docs d`, starting with the organisation. Teams and
/// labels are reached through an `IN (SELECT …)` on their org-first keys, bound to the same
/// organisation again; metric ranges by a key lookup per candidate document.
fn push_filters(qb: &mut QueryBuilder<Sqlite>, org: OrgId, q: &Query) {
    let org = org.to_string();
    qb.push("d.org = ").push_bind(org.clone());
    if let Some(subject) = q.subject {
        qb.push(" AND d.subject = ").push_bind(subject.to_string());
    }
    if let Some(kind) = &q.kind {
        qb.push(" AND d.kind = ").push_bind(kind.clone());
    }
    if let Some(from) = q.from_ms {
        qb.push(" AND d.recorded_at_ms >= ").push_bind(from);
    }
    if let Some(to) = q.to_ms {
        qb.push(" AND d.recorded_at_ms <= ").push_bind(to);
    }
    if let Some(team) = q.team {
        qb.push(" AND d.doc IN (SELECT t.doc FROM doc_teams t WHERE t.org = ")
            .push_bind(org.clone())
            .push(" AND t.team = ")
            .push_bind(team.to_string())
            .push(")");
    }
    for (label, value) in [("flag", &q.flag), ("tag", &q.tag)] {
        if let Some(value) = value {
            qb.push(" AND d.doc IN (SELECT l.doc FROM doc_labels l WHERE l.org = ")
                .push_bind(org.clone())
                .push(" AND l.label = ")
                .push_bind(label)
                .push(" AND l.value = ")
                .push_bind(value.clone())
                .push(")");
        }
    }
    for (metric, min, max) in &q.metric_ranges {
        qb.push(
            " AND EXISTS (SELECT 1 FROM doc_metrics m WHERE m.doc = d.doc \
             AND m.metric = (SELECT n.metric FROM metric_names n WHERE n.name = ",
        )
        .push_bind(metric.clone())
        .push(")");
        if let Some(min) = min {
            qb.push(" AND m.value >= ").push_bind(*min);
        }
        if let Some(max) = max {
            qb.push(" AND m.value <= ").push_bind(*max);
        }
        qb.push(")");
    }
}

/// Creates the file with mode 0600 before SQLite does (SQLite would use the umask; its `-wal`
/// and `-shm` files copy the main file's mode).
fn create_private_file(path: &Path) -> Result<(), IndexError> {
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(drop)
        .map_err(|e| IndexError::Database {
            operation: "create the index file",
            source: sqlx::Error::Io(e),
        })
}

fn db_error(operation: &'static str) -> impl Fn(sqlx::Error) -> IndexError {
    move |source| IndexError::Database { operation, source }
}
