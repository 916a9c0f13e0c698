//! Subjects: the athletes and service members whose movement is assessed. Their direct
//! identifiers arrive sealed (ciphertext) and leave sealed; this module never sees plaintext.

use mhp_domain::{SealedBytes, Sex, SubjectId, TeamId, Timestamp, UserId};
use rand::Rng as _;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::teams::not_found_on_fk;
use super::{Page, conflict_if_none, parse_id};
use crate::{StorageError, TenantTx};

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
    /// The subject's own account, if they sign in.
    pub user: Option<UserId>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// What it takes to create a subject.
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
    /// The subject's own account, if any.
    pub user: Option<UserId>,
}

const SELECT: &str = "SELECT id, pseudonym, name_sealed, birth_date_sealed, external_id_sealed, \
                      sex, user_id, created_at_ms, updated_at_ms FROM subjects";

fn from_row(row: &AnyRow) -> Result<Subject, StorageError> {
    let id: String = row.try_get("id")?;
    let sex: Option<String> = row.try_get("sex")?;
    let user: Option<String> = row.try_get("user_id")?;
    let sealed = |col: &str| -> Result<Option<SealedBytes>, StorageError> {
        let b: Option<Vec<u8>> = row.try_get(col)?;
        Ok(b.map(SealedBytes::from_ciphertext))
    };
    Ok(Subject {
        id: parse_id(&id, "subject id", SubjectId::parse)?,
        pseudonym: row.try_get("pseudonym")?,
        name: sealed("name_sealed")?.ok_or(StorageError::Corrupt {
            what: "subject name",
        })?,
        birth_date: sealed("birth_date_sealed")?,
        external_id: sealed("external_id_sealed")?,
        sex: sex
            .map(|s| Sex::parse(&s).ok_or(StorageError::Corrupt { what: "sex" }))
            .transpose()?,
        user: user
            .map(|u| parse_id(&u, "user id", UserId::parse))
            .transpose()?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at_ms")?),
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

/// Creates a subject in the transaction's organisation.
pub async fn create(
    tx: &mut TenantTx,
    new: NewSubject,
    now: Timestamp,
) -> Result<Subject, StorageError> {
    let subject = Subject {
        id: SubjectId::new(),
        pseudonym: new_pseudonym(),
        name: new.name,
        birth_date: new.birth_date,
        external_id: new.external_id,
        sex: new.sex,
        user: new.user,
        created_at: now,
        updated_at: now,
    };
    let inserted = sqlx::query(
        "INSERT INTO subjects (id, org_id, pseudonym, name_sealed, birth_date_sealed, \
         external_id_sealed, sex, user_id, created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id",
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
    .fetch_optional(tx.conn())
    .await?;
    conflict_if_none(inserted, "subject")?;
    Ok(subject)
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

/// The organisation's subjects that are not archived, oldest first.
pub async fn list(tx: &mut TenantTx, page: Page<SubjectId>) -> Result<Vec<Subject>, StorageError> {
    let sql = const_format_select(
        "WHERE org_id = $1 AND archived_at_ms IS NULL AND id > $2 ORDER BY id LIMIT $3",
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(page.after.map(|a| a.to_string()).unwrap_or_default())
        .bind(page.capped_limit())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Archives a subject: gone from listings, history kept (deletion with crypto-shredding is a
/// separate, audited operation).
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
