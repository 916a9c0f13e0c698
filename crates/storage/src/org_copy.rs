//! One organisation's rows, moved between installations (`mhp org export`, `mhp org import`,
//! `mhp_app::org_move`): out of a database of either backend into a private SQLite file (the
//! transfer database), and from that file into another installation's database, of either
//! backend, in one transaction.
//!
//! Every table says whether its rows move with an organisation ([`rule`]): rows with the
//! organisation's `org_id` do unless the table is named below; tables without an `org_id`
//! column are named one by one (the organisation itself, its people, its audit chain), and a
//! new table without a rule stops an export until it has one. What stays is what belongs to
//! the installation (sessions, sign-in throttles, signing keys, security monitoring's state,
//! backup records) or to a moment (sign-ins in flight).
//!
//! The transfer database is the mover's to prepare (`mhp_app::org_move` re-seals what was
//! sealed with the source installation's root, recomputes blind indexes, links people who
//! already have an account on the target); the helpers below read and change it.

use std::collections::BTreeMap;
use std::path::Path;

use futures_util::TryStreamExt as _;
use mhp_domain::OrgId;
use sqlx::{AnyConnection, Row as _};

use crate::copy::{
    Copied, Table, Value, catalogue, finish, migration, parents_first, quoted, read_row,
};
use crate::db::Backend;
use crate::{Db, OperatorTx, StorageError};

/// Where a table's rows stand when an organisation moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// The rows whose `org_id` is the organisation's.
    Org,
    /// The rows this condition selects (`$1` is the organisation's id).
    Where(&'static str),
    /// None: the table belongs to the installation, for the reason given.
    Stays(&'static str),
}

/// The organisation's people: members, staff, linked identities and subjects with accounts.
macro_rules! people {
    () => {
        "SELECT user_id FROM memberships WHERE org_id = $1 \
         UNION SELECT user_id FROM team_staff WHERE org_id = $1 \
         UNION SELECT user_id FROM user_identities WHERE org_id = $1 \
         UNION SELECT user_id FROM subjects WHERE org_id = $1 AND user_id IS NOT NULL"
    };
}
/// Their accounts.
const USERS: &str = concat!("id IN (", people!(), ")");
/// Their recovery codes.
const RECOVERY_CODES: &str = concat!("user_id IN (", people!(), ")");

/// The rule of `table` (`has_org`: it has an `org_id` column), or `None` when it has none.
pub fn rule(table: &str, has_org: bool) -> Option<Rows> {
    Some(match table {
        "organizations" => Rows::Where("id = $1"),
        "users" => Rows::Where(USERS),
        "recovery_codes" => Rows::Where(RECOVERY_CODES),
        // The organisation's chain, its anchor, and the checkpoints that vouch for it (checked
        // on import, then replaced by the target's own).
        "audit_events" | "audit_anchors" | "audit_checkpoints" => Rows::Where("chain = $1"),
        "sso_pending" => Rows::Stays("a sign-in in flight ends where it began"),
        "sessions" | "refresh_tokens" | "password_resets" => {
            Rows::Stays("people sign in again on the new installation")
        }
        "sign_in_throttle" | "mail_counters" => Rows::Stays("counters of this installation"),
        "signing_keys" => Rows::Stays("each installation signs with its own keys"),
        "backup_runs" | "compliance_runs" => Rows::Stays("the installation's own records"),
        "security_signals"
        | "security_cursors"
        | "security_leases"
        | "security_rule_state"
        | "security_seen" => Rows::Stays("detected and delivered where they happened"),
        _ if has_org => Rows::Org,
        _ => return None,
    })
}

fn rule_of(table: &Table) -> Result<Rows, StorageError> {
    rule(&table.name, table.has_org()).ok_or(StorageError::Unsupported(
        "a table has no rule for moving an organisation (crates/storage/src/org_copy.rs)",
    ))
}

fn bind_row<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: Vec<Value>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for v in values {
        q = match v {
            Value::Int(x) => q.bind(x),
            Value::Real(x) => q.bind(x),
            Value::Text(x) => q.bind(x),
            Value::Bytes(x) => q.bind(x),
        };
    }
    q
}

/// Every column of the rows of `table` that `filter` selects, oldest first (by the first
/// column: UUIDv7 ids and sequence numbers).
fn select_sql(table: &Table, filter: &str) -> String {
    let columns: Vec<String> = table.columns.iter().map(|(c, _)| quoted(c)).collect();
    format!(
        "SELECT {} FROM {} WHERE {filter} ORDER BY {}",
        columns.join(", "),
        quoted(&table.name),
        quoted(&table.columns[0].0)
    )
}

fn insert_sql(table: &Table, overriding: bool) -> String {
    let columns: Vec<String> = table.columns.iter().map(|(c, _)| quoted(c)).collect();
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO {} ({}){} VALUES ({})",
        quoted(&table.name),
        columns.join(", "),
        if overriding {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        },
        placeholders.join(", ")
    )
}

async fn set_scope(conn: &mut AnyConnection, org: &str) -> Result<(), StorageError> {
    sqlx::query(
        "SELECT set_config('mhp.operator', 'on', true), set_config('mhp.org_id', $1, true)",
    )
    .bind(org)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the rows of `org` in `from` into a new private SQLite file at `path` (mode 0600,
/// never over an existing file), migrated to `from`'s migration; `from` is read in one
/// snapshot. On failure the file is removed.
pub async fn export_org(from: &Db, org: OrgId, path: &Path) -> Result<Copied, StorageError> {
    if !crate::migrate::status(from).await?.is_current() {
        return Err(StorageError::Unsupported(
            "the database is not at this version's migration: run `mhp migrate` first",
        ));
    }
    let text = crate::snapshot::create_private(path)?;
    let made = async {
        let to = Db::connect(
            &format!("sqlite://{text}"),
            &crate::DbOptions {
                max_connections: 1,
                ..crate::DbOptions::default()
            },
        )
        .await?;
        let copied = async {
            crate::migrate::run(&to).await?;
            export_rows(from, &to, org).await
        }
        .await;
        to.close().await;
        copied
    }
    .await;
    if made.is_err() {
        crate::snapshot::remove_sqlite(path);
    }
    made
}

async fn export_rows(from: &Db, to: &Db, org: OrgId) -> Result<Copied, StorageError> {
    let org = org.to_string();
    let mut src = from.pool().acquire().await?;
    let mut dst = to.pool().acquire().await?;
    let tables = parents_first(catalogue(&mut src, from.backend()).await?)?;
    for table in &tables {
        rule_of(table)?;
    }
    match from.backend() {
        Backend::Sqlite => sqlx::query("BEGIN").execute(&mut *src).await?,
        Backend::Postgres => {
            sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *src)
                .await?
        }
    };
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *dst).await?;
    let result = async {
        if from.backend() == Backend::Postgres {
            set_scope(&mut src, &org).await?;
        }
        let found: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations WHERE id = $1")
            .bind(org.as_str())
            .fetch_one(&mut *src)
            .await?;
        if found == 0 {
            return Err(StorageError::NotFound {
                entity: "organisation",
            });
        }
        let mut copied = Copied::default();
        for table in &tables {
            let filter = match rule_of(table)? {
                Rows::Stays(_) => continue,
                Rows::Org => "org_id = $1",
                Rows::Where(w) => w,
            };
            let select = select_sql(table, filter);
            let insert = insert_sql(table, false);
            let mut n = 0i64;
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(select))
                .bind(org.as_str())
                .fetch(&mut *src);
            while let Some(row) = rows.try_next().await? {
                let values = read_row(&row, &table.columns)?;
                bind_row(sqlx::query(sqlx::AssertSqlSafe(insert.as_str())), values)
                    .execute(&mut *dst)
                    .await?;
                n += 1;
            }
            copied.rows.insert(table.name.clone(), n);
        }
        Ok(copied)
    }
    .await;
    finish(&mut src, &mut dst, result).await
}

/// Writes every row of the transfer database `from` (one organisation's, prepared for this
/// installation) into `tx`, which the caller commits with its own audit event. Refused when
/// the organisation exists here already or the migrations differ.
///
/// The imported audit events keep their chain, indexes and hashes; they are numbered below
/// every event of this installation and carry transaction id 0, so the security monitor's
/// cursors (which read forward from where they are) never take them for new events: they
/// were analysed and delivered where they happened. The source's checkpoints are not copied:
/// the caller checks them and this installation signs its own.
pub async fn import_org(
    from: &Db,
    tx: &mut OperatorTx,
    org: OrgId,
) -> Result<Copied, StorageError> {
    let org = org.to_string();
    let backend = tx.backend();
    let mut src = from.pool().acquire().await?;
    let dst = tx.conn();
    if migration(&mut src).await? != migration(&mut *dst).await? {
        return Err(StorageError::Unsupported(
            "the export was made at another migration than this installation's: both must run \
             the same version of MHP",
        ));
    }
    if backend == Backend::Postgres {
        set_scope(&mut *dst, &org).await?;
    }
    let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations WHERE id = $1")
        .bind(org.as_str())
        .fetch_one(&mut *dst)
        .await?;
    if exists != 0 {
        return Err(StorageError::Conflict {
            entity: "organisation",
        });
    }
    let tables = parents_first(catalogue(&mut src, Backend::Sqlite).await?)?;
    let theirs: BTreeMap<String, Table> = catalogue(&mut *dst, backend)
        .await?
        .into_iter()
        .map(|t| (t.name.clone(), t))
        .collect();
    for table in &tables {
        if theirs.get(&table.name).map(Table::shape) != Some(table.shape()) {
            return Err(StorageError::Unsupported(
                "the export's tables differ from this installation's",
            ));
        }
    }
    // Whatever the file says, it writes into this one organisation only.
    for table in &tables {
        let outside = match table.name.as_str() {
            "organizations" => "id <> $1",
            "audit_events" => "chain IS NULL OR chain <> $1 OR org_id IS NULL OR org_id <> $1",
            "audit_anchors" | "audit_checkpoints" => "chain <> $1",
            _ if table.has_org() => "org_id IS NULL OR org_id <> $1",
            _ => continue,
        };
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {} WHERE {outside}",
            quoted(&table.name)
        )))
        .bind(org.as_str())
        .fetch_one(&mut *src)
        .await?;
        if n != 0 {
            return Err(StorageError::Corrupt {
                what: "the export holds rows of another organisation",
            });
        }
    }
    // Imported events go below every event here.
    let lowest: Option<i64> = sqlx::query_scalar("SELECT min(seq) FROM audit_events")
        .fetch_one(&mut *dst)
        .await?;
    let imported: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(&mut *src)
        .await?;
    let mut next_seq = lowest.unwrap_or(0).min(0) - imported - 1;

    sqlx::query("BEGIN").execute(&mut *src).await?;
    let result = async {
        let mut copied = Copied::default();
        for table in tables {
            if table.name == "audit_checkpoints" || matches!(rule_of(&table)?, Rows::Stays(_)) {
                continue;
            }
            let identity = &theirs[&table.name].identity;
            let insert = insert_sql(&table, backend == Backend::Postgres && !identity.is_empty());
            let seq_at = (table.name == "audit_events")
                .then(|| table.columns.iter().position(|(c, _)| c == "seq"))
                .flatten();
            let tx_at = (table.name == "audit_events")
                .then(|| table.columns.iter().position(|(c, _)| c == "tx_id"))
                .flatten();
            let select = select_sql(&table, "1 = 1");
            let mut n = 0i64;
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&mut *src);
            while let Some(row) = rows.try_next().await? {
                let mut values = read_row(&row, &table.columns)?;
                if table.name == "users" && user_exists(&mut *dst, &values).await? {
                    // A person with an account here keeps it (see [`merge_user`]).
                    continue;
                }
                if let Some(i) = seq_at {
                    next_seq += 1;
                    values[i] = Value::Int(Some(next_seq));
                }
                if let Some(i) = tx_at {
                    values[i] = Value::Int(Some(0));
                }
                bind_row(sqlx::query(sqlx::AssertSqlSafe(insert.as_str())), values)
                    .execute(&mut *dst)
                    .await?;
                n += 1;
            }
            copied.rows.insert(table.name.clone(), n);
        }
        Ok(copied)
    }
    .await;
    let _ = sqlx::query("ROLLBACK").execute(&mut *src).await;
    result
}

async fn user_exists(conn: &mut AnyConnection, values: &[Value]) -> Result<bool, StorageError> {
    let Some(Value::Text(Some(id))) = values.first() else {
        return Err(StorageError::Corrupt {
            what: "a user row without an id",
        });
    };
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE id = $1")
        .bind(id.as_str())
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// A person in a transfer database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedUser {
    /// Their id.
    pub id: String,
    /// Their e-mail address (as stored).
    pub email: String,
    /// Their authenticator's secret, sealed by the installation the row came from.
    pub totp_secret_sealed: Option<Vec<u8>>,
}

/// The people in a transfer database.
pub async fn moved_users(db: &Db) -> Result<Vec<MovedUser>, StorageError> {
    let rows = sqlx::query("SELECT id, email, totp_secret_sealed FROM users ORDER BY id")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(MovedUser {
                id: r.try_get(0)?,
                email: r.try_get(1)?,
                totp_secret_sealed: r.try_get(2)?,
            })
        })
        .collect()
}

/// Replaces a person's sealed authenticator secret in a transfer database.
pub async fn set_totp_secret(
    db: &Db,
    user: &str,
    sealed: Option<&[u8]>,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE users SET totp_secret_sealed = $1 WHERE id = $2")
        .bind(sealed)
        .bind(user)
        .execute(db.pool())
        .await?;
    db.credential_changes().committed();
    Ok(())
}

/// Takes away every platform role in a transfer database: operating one installation gives no
/// right over another.
pub async fn clear_platform_roles(db: &Db) -> Result<(), StorageError> {
    sqlx::query("UPDATE users SET platform_role = NULL")
        .execute(db.pool())
        .await?;
    db.credential_changes().committed();
    Ok(())
}

/// Points every reference to person `from` at `into`, who has an account on the target
/// installation already and keeps it (their row, password, authenticator and recovery codes
/// there), in one transaction. `from`'s own rows leave the transfer database; a row for
/// `into` stays in it for the references, and [`import_org`] skips it as it skips every
/// person who exists on the target.
pub async fn merge_user(db: &Db, from: &str, into: &str) -> Result<(), StorageError> {
    let mut conn = db.pool().acquire().await?;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let done = async {
        // The references need a row to point at: a stand-in for `into` when it is not `from`.
        if from != into {
            sqlx::query(
                "INSERT INTO users (id, email, display_name, created_at_ms) \
                 SELECT $1, 'moving:' || $1, '', created_at_ms FROM users WHERE id = $2",
            )
            .bind(into)
            .bind(from)
            .execute(&mut *conn)
            .await?;
            // An account here gains no sign-in path it did not have.
            sqlx::query("DELETE FROM user_identities WHERE user_id = $1")
                .bind(from)
                .execute(&mut *conn)
                .await?;
            for table in ["memberships", "team_staff", "subjects"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET user_id = $1 WHERE user_id = $2"
                )))
                .bind(into)
                .bind(from)
                .execute(&mut *conn)
                .await?;
            }
        }
        for id in [from, into] {
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        if from != into {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(from)
                .execute(&mut *conn)
                .await?;
        }
        Ok::<_, StorageError>(())
    }
    .await;
    match done {
        Ok(()) => {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            db.credential_changes().committed();
            Ok(())
        }
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(e)
        }
    }
}

/// A value sealed with a subject's key (or, before envelope encryption, with a key derived
/// from the installation root), as it lies in a transfer database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedField {
    /// Its table.
    pub table: &'static str,
    /// Its column, as sealing names it (the stored column without `_sealed`).
    pub column: &'static str,
    /// Its row's id.
    pub row: String,
    /// The subject it belongs to.
    pub subject: String,
    /// The sealed bytes.
    pub sealed: Vec<u8>,
}

/// Where subjects' sealed values lie: table, column as sealed, and the query of (row, subject,
/// value).
const SEALED_FIELDS: [(&str, &str, &str); 5] = [
    (
        "subjects",
        "name",
        "SELECT id, id, name_sealed FROM subjects",
    ),
    (
        "subjects",
        "birth_date",
        "SELECT id, id, birth_date_sealed FROM subjects WHERE birth_date_sealed IS NOT NULL",
    ),
    (
        "subjects",
        "external_id",
        "SELECT id, id, external_id_sealed FROM subjects WHERE external_id_sealed IS NOT NULL",
    ),
    (
        "injuries",
        "notes",
        "SELECT id, subject_id, notes_sealed FROM injuries WHERE notes_sealed IS NOT NULL",
    ),
    (
        "return_to_duty",
        "restrictions",
        "SELECT r.id, i.subject_id, r.restrictions_sealed FROM return_to_duty r \
         JOIN injuries i ON i.org_id = r.org_id AND i.id = r.injury_id \
         WHERE r.restrictions_sealed IS NOT NULL",
    ),
];

/// Every subject's sealed value in a transfer database.
pub async fn sealed_fields(db: &Db) -> Result<Vec<SealedField>, StorageError> {
    let mut out = Vec::new();
    for (table, column, query) in SEALED_FIELDS {
        for r in sqlx::query(query).fetch_all(db.pool()).await? {
            out.push(SealedField {
                table,
                column,
                row: r.try_get(0)?,
                subject: r.try_get(1)?,
                sealed: r.try_get(2)?,
            });
        }
    }
    Ok(out)
}

/// Replaces a sealed value in a transfer database (`None`: removes it; a subject's name, which
/// cannot be absent, becomes empty bytes that open under no key).
pub async fn replace_sealed(
    db: &Db,
    field: &SealedField,
    sealed: Option<&[u8]>,
) -> Result<(), StorageError> {
    let Some((table, column, _)) = SEALED_FIELDS
        .iter()
        .find(|(t, c, _)| *t == field.table && *c == field.column)
    else {
        return Err(StorageError::Unsupported("not a sealed field"));
    };
    let value = match (sealed, *column) {
        (None, "name") => Some(&[][..]),
        (s, _) => s,
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET {column}_sealed = $1 WHERE id = $2"
    )))
    .bind(value)
    .bind(field.row.as_str())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The person on the installation of `tx` who is `id`, or else has the address `email`
/// (disabled or not): the one a moved person becomes.
pub async fn existing_user(
    tx: &mut OperatorTx,
    id: &str,
    email: &str,
) -> Result<Option<String>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM users WHERE id = $1 OR email = $2 \
         ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1",
    )
    .bind(id)
    .bind(email)
    .fetch_optional(tx.conn())
    .await?)
}

/// The raw recordings of a transfer database: object key, assessment and subject.
pub async fn raw_objects(db: &Db) -> Result<Vec<(String, String, String)>, StorageError> {
    let rows = sqlx::query("SELECT raw_object_key, id, subject_id FROM assessments ORDER BY id")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// Whether the installation of `tx` holds organisation `org` (archived or not).
pub async fn org_exists(tx: &mut OperatorTx, org: OrgId) -> Result<bool, StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations WHERE id = $1")
        .bind(org.to_string())
        .fetch_one(tx.conn())
        .await?;
    Ok(n > 0)
}
