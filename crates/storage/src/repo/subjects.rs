//! Subjects: the athletes and service members whose movement is assessed. Their direct
//! identifiers arrive sealed (ciphertext) and leave sealed; this module never sees plaintext.

use mhp_domain::{SealedBytes, Sex, SubjectId, TeamId, Timestamp, UserId};
use rand::Rng as _;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::teams::not_found_on_fk;
use super::{Page, conflict_if_none, parse_id};
use rusqlite::types::Value;

use crate::direct::DirectRead;
use crate::{Backend, StorageError, TenantTx};

/// A subject as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Its id.
    pub id: SubjectId,
    /// A random, stable pseudonym for de-identified views.
    pub pseudonym: String,
    /// The sealed name.
    pub name: SealedBytes,
    /// The sealed birth date.
    pub birth_date: Option<SealedBytes>,
    /// The sealed external id (service number, club id).
    pub external_id: Option<SealedBytes>,
    /// Sex for reference norms.
    pub sex: Option<Sex>,
    /// Sport or unit type, for reference norms (not an identifier).
    pub sport: Option<String>,
    /// The subject's own account, if they sign in.
    pub user: Option<UserId>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When it was archived, if it was.
    pub archived_at: Option<Timestamp>,
    /// When it was erased (its key destroyed), if it was.
    pub erased_at: Option<Timestamp>,
}

/// Blind indexes of a subject's identifiers (see `mhp_crypto::blind`): opaque strings that
/// allow exact-match search without plaintext.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchKeys {
    /// Index of the external id.
    pub external_id: Option<String>,
    /// Index of the whole name.
    pub name: Option<String>,
    /// Index of each word of the name.
    pub name_words: Vec<String>,
}

/// What it takes to create a subject, or to replace its fields.
#[derive(Debug, Clone)]
pub struct NewSubject {
    /// The sealed name.
    pub name: SealedBytes,
    /// The sealed birth date.
    pub birth_date: Option<SealedBytes>,
    /// The sealed external id.
    pub external_id: Option<SealedBytes>,
    /// Sex for reference norms.
    pub sex: Option<Sex>,
    /// Sport or unit type.
    pub sport: Option<String>,
    /// The subject's own account, if any.
    pub user: Option<UserId>,
    /// Blind indexes of the identifiers.
    pub search: SearchKeys,
}

/// Which subjects a listing shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Archived {
    /// Only subjects in use (the default).
    #[default]
    Exclude,
    /// Only archived subjects.
    Only,
    /// Both.
    Include,
}

/// Filters of a subject listing; all given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Members of this team.
    pub team: Option<TeamId>,
    /// Blind index of a search term: matches the external id, the whole name or one word of it.
    pub term: Option<SearchKeys>,
    /// This sex.
    pub sex: Option<Sex>,
    /// This sport.
    pub sport: Option<String>,
    /// Archived or not.
    pub archived: Archived,
    /// Only these subjects (a listing of what changed since a cursor).
    pub ids: Option<Vec<SubjectId>>,
}

const SELECT: &str = "SELECT id, pseudonym, name_sealed, birth_date_sealed, external_id_sealed, \
                      sex, sport, user_id, created_at_ms, updated_at_ms, archived_at_ms, erased_at_ms \
                      FROM subjects";

fn from_row(row: &AnyRow) -> Result<Subject, StorageError> {
    let sealed = |col: &str| -> Result<Option<SealedBytes>, StorageError> {
        let b: Option<Vec<u8>> = row.try_get(col)?;
        Ok(b.map(SealedBytes::from_ciphertext))
    };
    subject_of(Stored {
        id: row.try_get("id")?,
        pseudonym: row.try_get("pseudonym")?,
        name: sealed("name_sealed")?,
        birth_date: sealed("birth_date_sealed")?,
        external_id: sealed("external_id_sealed")?,
        sex: row.try_get("sex")?,
        sport: row.try_get("sport")?,
        user: row.try_get("user_id")?,
        created: row.try_get("created_at_ms")?,
        updated: row.try_get("updated_at_ms")?,
        archived: row.try_get("archived_at_ms")?,
        erased: row.try_get("erased_at_ms")?,
    })
}

/// A subject's columns as stored, whichever way they were read.
struct Stored {
    id: String,
    pseudonym: String,
    name: Option<SealedBytes>,
    birth_date: Option<SealedBytes>,
    external_id: Option<SealedBytes>,
    sex: Option<String>,
    sport: Option<String>,
    user: Option<String>,
    created: i64,
    updated: i64,
    archived: Option<i64>,
    erased: Option<i64>,
}

fn subject_of(c: Stored) -> Result<Subject, StorageError> {
    Ok(Subject {
        id: parse_id(&c.id, "subject id", SubjectId::parse)?,
        pseudonym: c.pseudonym,
        name: c.name.ok_or(StorageError::Corrupt {
            what: "subject name",
        })?,
        birth_date: c.birth_date,
        external_id: c.external_id,
        sex: c
            .sex
            .map(|s| Sex::parse(&s).ok_or(StorageError::Corrupt { what: "sex" }))
            .transpose()?,
        sport: c.sport,
        user: c
            .user
            .map(|u| parse_id(&u, "user id", UserId::parse))
            .transpose()?,
        created_at: Timestamp::from_millis(c.created),
        updated_at: Timestamp::from_millis(c.updated),
        archived_at: c.archived.map(Timestamp::from_millis),
        erased_at: c.erased.map(Timestamp::from_millis),
    })
}

/// A fresh pseudonym: "S" and 12 characters of Crockford base32 (60 random bits).
fn new_pseudonym() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let mut s = String::with_capacity(13);
    s.push('S');
    for _ in 0..12 {
        s.push(char::from(ALPHABET[rng.random_range(0..32)]));
    }
    s
}

/// Creates a subject in the transaction's organisation. A taken external id is a conflict.
pub async fn create(
    tx: &mut TenantTx,
    new: NewSubject,
    now: Timestamp,
) -> Result<Subject, StorageError> {
    create_with_id(tx, SubjectId::new(), new, now).await
}

/// Creates a subject with an id chosen beforehand (sealed fields are bound to their row's id,
/// so the caller seals before it stores).
pub async fn create_with_id(
    tx: &mut TenantTx,
    id: SubjectId,
    new: NewSubject,
    now: Timestamp,
) -> Result<Subject, StorageError> {
    let subject = Subject {
        id,
        pseudonym: new_pseudonym(),
        name: new.name,
        birth_date: new.birth_date,
        external_id: new.external_id,
        sex: new.sex,
        sport: new.sport,
        user: new.user,
        created_at: now,
        updated_at: now,
        archived_at: None,
        erased_at: None,
    };
    let inserted = sqlx::query(
        "INSERT INTO subjects (id, org_id, pseudonym, name_sealed, birth_date_sealed, \
         external_id_sealed, sex, user_id, created_at_ms, updated_at_ms, external_id_bidx, \
         name_bidx, sport) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(subject.id.to_string())
    .bind(tx.org_key())
    .bind(subject.pseudonym.as_str())
    .bind(subject.name.as_bytes().to_vec())
    .bind(subject.birth_date.as_ref().map(|b| b.as_bytes().to_vec()))
    .bind(subject.external_id.as_ref().map(|b| b.as_bytes().to_vec()))
    .bind(subject.sex.map(Sex::as_str))
    .bind(subject.user.map(|u| u.to_string()))
    .bind(now.as_millis())
    .bind(now.as_millis())
    .bind(new.search.external_id.clone())
    .bind(new.search.name.clone())
    .bind(subject.sport.clone())
    .fetch_optional(tx.conn())
    .await?;
    conflict_if_none(inserted, "subject")?;
    write_words(tx, subject.id, &new.search.name_words).await?;
    Ok(subject)
}

/// Replaces a subject's fields (the caller merges a partial update and re-seals). Archived
/// subjects cannot change; a taken external id is a conflict.
pub async fn update(
    tx: &mut TenantTx,
    id: SubjectId,
    new: NewSubject,
    now: Timestamp,
) -> Result<Subject, StorageError> {
    let current = get(tx, id).await?;
    if let Some(ext) = &new.search.external_id {
        let taken = sqlx::query(
            "SELECT id FROM subjects WHERE org_id = $1 AND external_id_bidx = $2 AND id <> $3",
        )
        .bind(tx.org_key())
        .bind(ext.as_str())
        .bind(id.to_string())
        .fetch_optional(tx.conn())
        .await?;
        if taken.is_some() {
            return Err(StorageError::Conflict { entity: "subject" });
        }
    }
    sqlx::query(
        "UPDATE subjects SET name_sealed = $1, birth_date_sealed = $2, external_id_sealed = $3, \
         sex = $4, sport = $5, external_id_bidx = $6, name_bidx = $7, updated_at_ms = $8 \
         WHERE org_id = $9 AND id = $10 AND archived_at_ms IS NULL",
    )
    .bind(new.name.as_bytes().to_vec())
    .bind(new.birth_date.as_ref().map(|b| b.as_bytes().to_vec()))
    .bind(new.external_id.as_ref().map(|b| b.as_bytes().to_vec()))
    .bind(new.sex.map(Sex::as_str))
    .bind(new.sport.clone())
    .bind(new.search.external_id.clone())
    .bind(new.search.name.clone())
    .bind(now.as_millis())
    .bind(tx.org_key())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    replace_words(tx, id, &new.search.name_words).await?;
    Ok(Subject {
        name: new.name,
        birth_date: new.birth_date,
        external_id: new.external_id,
        sex: new.sex,
        sport: new.sport,
        updated_at: now,
        ..current
    })
}

/// Replaces a subject's blind indexes (after the key they are computed with changed), archived
/// or not.
pub async fn replace_search_keys(
    tx: &mut TenantTx,
    id: SubjectId,
    keys: &SearchKeys,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE subjects SET external_id_bidx = $1, name_bidx = $2 \
         WHERE org_id = $3 AND id = $4 AND erased_at_ms IS NULL",
    )
    .bind(keys.external_id.clone())
    .bind(keys.name.clone())
    .bind(tx.org_key())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    replace_words(tx, id, &keys.name_words).await
}

/// Replaces the blind indexes of a subject's name words.
async fn replace_words(
    tx: &mut TenantTx,
    id: SubjectId,
    words: &[String],
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM subject_name_words WHERE org_id = $1 AND subject_id = $2")
        .bind(tx.org_key())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    write_words(tx, id, words).await
}

async fn write_words(
    tx: &mut TenantTx,
    id: SubjectId,
    words: &[String],
) -> Result<(), StorageError> {
    for word in words {
        sqlx::query(
            "INSERT INTO subject_name_words (org_id, subject_id, word_bidx) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tx.org_key())
        .bind(id.to_string())
        .bind(word.as_str())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// A subject of the transaction's organisation that is not archived.
pub async fn get(tx: &mut TenantTx, id: SubjectId) -> Result<Subject, StorageError> {
    let sql = const_format_select("WHERE org_id = $1 AND id = $2 AND archived_at_ms IS NULL");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(id.to_string())
        .fetch_one(tx.conn())
        .await
        .map_err(StorageError::from_sqlx_as("subject"))?;
    from_row(&row)
}

/// The subject of the transaction's organisation whose external id has the blind index
/// `external_id_bidx`, archived or not; `None` when no subject has it (erased subjects have
/// none).
pub async fn id_by_external_index(
    tx: &mut TenantTx,
    external_id_bidx: &str,
) -> Result<Option<SubjectId>, StorageError> {
    let row = sqlx::query("SELECT id FROM subjects WHERE org_id = $1 AND external_id_bidx = $2")
        .bind(tx.org_key())
        .bind(external_id_bidx)
        .fetch_optional(tx.conn())
        .await?;
    row.map(|r| {
        let id: String = r.try_get("id")?;
        parse_id(&id, "subject id", SubjectId::parse)
    })
    .transpose()
}

/// A subject of the transaction's organisation, archived or not (history stays readable).
pub async fn get_including_archived(
    tx: &mut TenantTx,
    id: SubjectId,
) -> Result<Subject, StorageError> {
    let sql = const_format_select("WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(id.to_string())
        .fetch_one(tx.conn())
        .await
        .map_err(StorageError::from_sqlx_as("subject"))?;
    from_row(&row)
}

/// The organisation's subjects that are not archived, oldest first.
pub async fn list(tx: &mut TenantTx, page: Page<SubjectId>) -> Result<Vec<Subject>, StorageError> {
    search(tx, &Filter::default(), page, false).await
}

/// The organisation's subjects matching `filter`, by creation (newest first when
/// `newest_first`), a page at a time.
pub async fn search(
    tx: &mut TenantTx,
    filter: &Filter,
    page: Page<SubjectId>,
    newest_first: bool,
) -> Result<Vec<Subject>, StorageError> {
    let backend = tx.backend();
    let hex = |column: &str| match backend {
        Backend::Sqlite => format!("hex({column})"),
        Backend::Postgres => format!("encode({column}, 'hex')"),
    };
    let select = format!(
        "id, pseudonym, {} AS name, {} AS birth_date, {} AS external_id",
        hex("name_sealed"),
        hex("birth_date_sealed"),
        hex("external_id_sealed")
    );
    let (sql, binds) = search_sql(tx.org_key(), &select, filter, page, newest_first);
    // The page comes back as one row (a JSON array of the rows): each row of a result is a
    // hand-over from SQLite's connection thread to this one, which cost more than reading it.
    let columns = "id, pseudonym, name, birth_date, external_id, sex, sport, user_id, \
                   created_at_ms, updated_at_ms, archived_at_ms, erased_at_ms";
    let aggregate = match backend {
        Backend::Postgres => format!("CAST(json_agg(json_build_array({columns})) AS TEXT)"),
        Backend::Sqlite => format!("json_group_array(json_array({columns}))"),
    };
    let sql = format!("SELECT {aggregate} FROM ({sql}) AS page");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        query = query.bind(b);
    }
    let row = query.fetch_one(tx.conn()).await?;
    let Some(json) = row.try_get::<Option<String>, _>(0)? else {
        return Ok(Vec::new());
    };
    let rows: Vec<PageRow> =
        serde_json::from_str(&json).map_err(|_| StorageError::Corrupt { what: "subject" })?;
    let mut subjects = rows
        .into_iter()
        .map(page_row)
        .collect::<Result<Vec<_>, _>>()?;
    // The aggregate's order is the engine's to choose; the page's is by id.
    subjects.sort_unstable_by_key(|s| s.id);
    if newest_first {
        subjects.reverse();
    }
    Ok(subjects)
}

/// The statement of a subject search with `select` (the id, pseudonym and sealed fields'
/// columns) and its parameters.
fn search_sql(
    org_key: String,
    select: &str,
    filter: &Filter,
    page: Page<SubjectId>,
    newest_first: bool,
) -> (String, Vec<String>) {
    // Only the conditions a filter asks for are in the statement: a condition switched off by
    // a NULL parameter (`$2 IS NULL OR …`) makes SQLite plan the statement again for every
    // execution, as the parameter's value could change the best plan.
    let mut binds: Vec<String> = vec![org_key];
    let mut param = |value: String| {
        binds.push(value);
        format!("${}", binds.len())
    };
    let mut sql = format!(
        "SELECT {select}, sex, sport, user_id, created_at_ms, updated_at_ms, archived_at_ms, \
         erased_at_ms FROM subjects WHERE org_id = $1 AND erased_at_ms IS NULL"
    );
    if let Some(team) = filter.team {
        let p = param(team.to_string());
        sql.push_str(&format!(
            " AND id IN (SELECT subject_id FROM team_subjects WHERE org_id = $1 AND team_id = {p})"
        ));
    }
    if let Some(term) = &filter.term {
        // "-" (never an index, which is hex) stands for a term that has no external-id form.
        let external = param(term.external_id.clone().unwrap_or_else(|| "-".to_owned()));
        let name = param(term.name.clone().unwrap_or_default());
        let word = param(term.name_words.first().cloned().unwrap_or_default());
        sql.push_str(&format!(
            " AND (external_id_bidx = {external} OR name_bidx = {name} OR id IN \
             (SELECT subject_id FROM subject_name_words WHERE org_id = $1 AND word_bidx = {word}))"
        ));
    }
    if let Some(sex) = filter.sex {
        let p = param(sex.as_str().to_owned());
        sql.push_str(&format!(" AND sex = {p}"));
    }
    if let Some(sport) = &filter.sport {
        let p = param(sport.clone());
        sql.push_str(&format!(" AND sport = {p}"));
    }
    if let Some(ids) = &filter.ids {
        if ids.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            let list: Vec<String> = ids.iter().map(|id| param(id.to_string())).collect();
            sql.push_str(&format!(" AND id IN ({})", list.join(", ")));
        }
    }
    match filter.archived {
        Archived::Exclude => sql.push_str(" AND archived_at_ms IS NULL"),
        Archived::Only => sql.push_str(" AND archived_at_ms IS NOT NULL"),
        Archived::Include => {}
    }
    match (page.after, newest_first) {
        (Some(after), true) => {
            let p = param(after.to_string());
            sql.push_str(&format!(" AND id < {p}"));
        }
        (Some(after), false) => {
            let p = param(after.to_string());
            sql.push_str(&format!(" AND id > {p}"));
        }
        (None, _) => {}
    }
    sql.push_str(if newest_first {
        " ORDER BY id DESC"
    } else {
        " ORDER BY id"
    });
    sql.push_str(&format!(" LIMIT {}", page.capped_limit()));
    (sql, binds)
}

/// [`search`] in a one-hop read: the rows as they are, sealed fields as bytes.
pub fn search_direct(
    read: &mut DirectRead<'_>,
    filter: &Filter,
    page: Page<SubjectId>,
    newest_first: bool,
) -> Result<Vec<Subject>, StorageError> {
    let select = "id, pseudonym, name_sealed AS name, birth_date_sealed AS birth_date, \
                  external_id_sealed AS external_id";
    let (sql, binds) = search_sql(
        read.org_key().to_owned(),
        select,
        filter,
        page,
        newest_first,
    );
    let binds: Vec<Value> = binds.into_iter().map(Value::Text).collect();
    // Columns by position, as `search_sql` lists them: by name, each would be a scan of the
    // column names (a tenth of a roster's CPU).
    let sealed = |row: &rusqlite::Row<'_>, i: usize| -> Result<Option<SealedBytes>, StorageError> {
        Ok(row
            .get::<_, Option<Vec<u8>>>(i)?
            .map(SealedBytes::from_ciphertext))
    };
    read.rows(&sql, &binds, |row| {
        subject_of(Stored {
            id: row.get(0)?,
            pseudonym: row.get(1)?,
            name: sealed(row, 2)?,
            birth_date: sealed(row, 3)?,
            external_id: sealed(row, 4)?,
            sex: row.get(5)?,
            sport: row.get(6)?,
            user: row.get(7)?,
            created: row.get(8)?,
            updated: row.get(9)?,
            archived: row.get(10)?,
            erased: row.get(11)?,
        })
    })
}

/// A subject as a page of [`search`] carries it: sealed fields in hex (SQLite's `hex` of a
/// NULL is empty; PostgreSQL's `encode` of it is NULL).
type PageRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

fn page_row(row: PageRow) -> Result<Subject, StorageError> {
    let (
        id,
        pseudonym,
        name,
        birth_date,
        external_id,
        sex,
        sport,
        user,
        created,
        updated,
        archived,
        erased,
    ) = row;
    let sealed = |hex: Option<String>, what: &'static str| match hex.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => mhp_domain::from_hex(text)
            .map(|b| Some(SealedBytes::from_ciphertext(b)))
            .ok_or(StorageError::Corrupt { what }),
    };
    subject_of(Stored {
        id,
        pseudonym,
        name: sealed(name, "subject name")?,
        birth_date: sealed(birth_date, "subject birth date")?,
        external_id: sealed(external_id, "subject external id")?,
        sex,
        sport,
        user,
        created,
        updated,
        archived,
        erased,
    })
}

/// Erases a subject: archived, out of every listing and team, its blind indexes and account
/// link removed, the row kept as a tombstone (its sealed fields become unreadable when the
/// caller destroys the subject's key). Erasing twice is `NotFound`.
pub async fn erase(tx: &mut TenantTx, id: SubjectId, now: Timestamp) -> Result<(), StorageError> {
    let done = sqlx::query(
        "UPDATE subjects SET erased_at_ms = $1, archived_at_ms = COALESCE(archived_at_ms, $1), \
         updated_at_ms = $1, external_id_bidx = NULL, name_bidx = NULL, user_id = NULL \
         WHERE org_id = $2 AND id = $3 AND erased_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(tx.org_key())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "subject" });
    }
    for table in ["subject_name_words", "team_subjects"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE org_id = $1 AND subject_id = $2"
        )))
        .bind(tx.org_key())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Ids of the organisation's erased subjects (for the sweep that destroys any key an erasure
/// left behind).
pub async fn erased_ids(tx: &mut TenantTx) -> Result<Vec<SubjectId>, StorageError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM subjects WHERE org_id = $1 AND erased_at_ms IS NOT NULL ORDER BY id",
    )
    .bind(tx.org_key())
    .fetch_all(tx.conn())
    .await?;
    ids.iter()
        .map(|i| parse_id(i, "subject id", SubjectId::parse))
        .collect()
}

/// Archives a subject: gone from listings, history kept (erasure with crypto-shredding is
/// [`erase`]).
pub async fn archive(tx: &mut TenantTx, id: SubjectId, now: Timestamp) -> Result<(), StorageError> {
    let done = sqlx::query(
        "UPDATE subjects SET archived_at_ms = $1, updated_at_ms = $2 \
         WHERE org_id = $3 AND id = $4 AND archived_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(now.as_millis())
    .bind(tx.org_key())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "subject" });
    }
    Ok(())
}

/// Puts a subject in a team; both must belong to the transaction's organisation.
pub async fn add_to_team(
    tx: &mut TenantTx,
    team: TeamId,
    subject: SubjectId,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO team_subjects (org_id, team_id, subject_id, created_at_ms) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, team_id, subject_id) DO NOTHING",
    )
    .bind(tx.org_key())
    .bind(team.to_string())
    .bind(subject.to_string())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await
    .map_err(not_found_on_fk("team or subject"))?;
    Ok(())
}

/// The subjects of one team, oldest first.
pub async fn list_in_team(
    tx: &mut TenantTx,
    team: TeamId,
    page: Page<SubjectId>,
) -> Result<Vec<Subject>, StorageError> {
    let sql = const_format_select(
        "WHERE org_id = $1 AND archived_at_ms IS NULL AND id > $2 AND id IN \
         (SELECT subject_id FROM team_subjects WHERE org_id = $3 AND team_id = $4) \
         ORDER BY id LIMIT $5",
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(page.after.map(|a| a.to_string()).unwrap_or_default())
        .bind(tx.org_key())
        .bind(team.to_string())
        .bind(page.capped_limit())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

fn const_format_select(tail: &'static str) -> String {
    format!("{SELECT} {tail}")
}

/// The teams a subject is on.
pub async fn teams_of(tx: &mut TenantTx, subject: SubjectId) -> Result<Vec<TeamId>, StorageError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT team_id FROM team_subjects WHERE org_id = $1 AND subject_id = $2 ORDER BY team_id",
    )
    .bind(tx.org_key())
    .bind(subject.to_string())
    .fetch_all(tx.conn())
    .await?;
    ids.iter()
        .map(|t| parse_id(t, "team id", TeamId::parse))
        .collect()
}

/// Links a subject record to a person's account, so that they see their own record.
pub async fn link_user(
    tx: &mut TenantTx,
    subject: SubjectId,
    user: UserId,
    now: Timestamp,
) -> Result<(), StorageError> {
    let done = sqlx::query(
        "UPDATE subjects SET user_id = $1, updated_at_ms = $2 \
         WHERE org_id = $3 AND id = $4 AND erased_at_ms IS NULL",
    )
    .bind(user.to_string())
    .bind(now.as_millis())
    .bind(tx.org_key())
    .bind(subject.to_string())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "subject" });
    }
    Ok(())
}

/// The subject record linked to a person's account in this organisation, if any: an athlete's
/// own record.
pub async fn of_user(tx: &mut TenantTx, user: UserId) -> Result<Option<Subject>, StorageError> {
    let sql = format!(
        "{SELECT} WHERE org_id = $1 AND user_id = $2 AND erased_at_ms IS NULL ORDER BY id LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(user.to_string())
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every subject of the organisation that is not erased (archived ones included, for their
/// history), oldest first: the input of the pipelines' de-identified view.
pub async fn all_not_erased(tx: &mut TenantTx) -> Result<Vec<Subject>, StorageError> {
    let sql = format!("{SELECT} WHERE org_id = $1 AND erased_at_ms IS NULL ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}
