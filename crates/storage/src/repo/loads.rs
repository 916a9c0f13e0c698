//! Training load entries (session-RPE), the input of load ratios.

use mhp_domain::{SubjectId, TeamId, Timestamp};
use sqlx::Row;

use super::teams::not_found_on_fk;
use super::{conflict_if_none, parse_id};
use crate::{StorageError, TenantTx};

/// One training session's load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadEntry {
    /// Its id (UUIDv7 text).
    pub id: String,
    /// Whose it is.
    pub subject: SubjectId,
    /// The day, `YYYY-MM-DD`.
    pub session_date: String,
    /// A lowercase code: `training`, `match`, `conditioning`, `march`, ...
    pub session_type: String,
    /// Minutes, 1 to 600.
    pub duration_min: i64,
    /// Session rating of perceived exertion, 0 to 10 (CR-10).
    pub rpe: i64,
    /// duration × RPE, arbitrary units.
    pub load_au: i64,
    /// Audit name of who recorded it.
    pub recorded_by: String,
    /// When it was recorded.
    pub created_at: Timestamp,
}

/// Records a session.
pub async fn create(tx: &mut TenantTx, e: &LoadEntry) -> Result<(), StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO training_loads (id, org_id, subject_id, session_date, session_type, \
         duration_min, rpe, load_au, recorded_by, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(e.id.as_str())
    .bind(tx.org_key())
    .bind(e.subject.to_string())
    .bind(e.session_date.as_str())
    .bind(e.session_type.as_str())
    .bind(e.duration_min)
    .bind(e.rpe)
    .bind(e.load_au)
    .bind(e.recorded_by.as_str())
    .bind(e.created_at.as_millis())
    .fetch_optional(tx.conn())
    .await
    .map_err(not_found_on_fk("subject"))?;
    conflict_if_none(inserted, "training load entry")
}

/// The days of a subject's first and latest recorded sessions, `YYYY-MM-DD` (`None` without
/// any): where their load history begins (a ratio is given only once its chronic window is
/// covered) and where it ends (a listing without dates shows the latest sessions).
pub async fn session_span(
    tx: &mut TenantTx,
    subject: SubjectId,
) -> Result<Option<(String, String)>, StorageError> {
    let row = sqlx::query(
        "SELECT MIN(session_date) AS first, MAX(session_date) AS last FROM training_loads \
         WHERE org_id = $1 AND subject_id = $2",
    )
    .bind(tx.org_key())
    .bind(subject.to_string())
    .fetch_one(tx.conn())
    .await?;
    let first: Option<String> = row.try_get("first")?;
    let last: Option<String> = row.try_get("last")?;
    Ok(first.zip(last))
}

/// A subject's sessions from `from` to `to` (inclusive, `YYYY-MM-DD`), in date order.
pub async fn list_for_subject(
    tx: &mut TenantTx,
    subject: SubjectId,
    from: &str,
    to: &str,
) -> Result<Vec<LoadEntry>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, subject_id, session_date, session_type, duration_min, rpe, load_au, \
         recorded_by, created_at_ms FROM training_loads \
         WHERE org_id = $1 AND subject_id = $2 AND session_date >= $3 AND session_date <= $4 \
         ORDER BY session_date, id LIMIT 5000",
    )
    .bind(tx.org_key())
    .bind(subject.to_string())
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let subject: String = row.try_get("subject_id")?;
            Ok(LoadEntry {
                id: row.try_get("id")?,
                subject: parse_id(&subject, "subject id", SubjectId::parse)?,
                session_date: row.try_get("session_date")?,
                session_type: row.try_get("session_type")?,
                duration_min: row.try_get("duration_min")?,
                rpe: row.try_get("rpe")?,
                load_au: row.try_get("load_au")?,
                recorded_by: row.try_get("recorded_by")?,
                created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
            })
        })
        .collect()
}

/// Every session of the organisation's subjects that are not erased, as `(subject, day,
/// load)`, by day: the input of the pipelines' de-identified view.
pub async fn org_loads(
    tx: &mut TenantTx,
    only: Option<SubjectId>,
) -> Result<Vec<(SubjectId, String, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT l.subject_id, l.session_date, l.load_au FROM training_loads l \
         JOIN subjects s ON s.org_id = l.org_id AND s.id = l.subject_id \
         WHERE l.org_id = $1 AND s.erased_at_ms IS NULL \
           AND (CAST($2 AS TEXT) IS NULL OR l.subject_id = $2) ORDER BY l.session_date, l.id",
    )
    .bind(tx.org_key())
    .bind(only.map(|s| s.to_string()))
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let subject: String = row.try_get("subject_id")?;
            Ok((
                parse_id(&subject, "subject id", SubjectId::parse)?,
                row.try_get("session_date")?,
                row.try_get("load_au")?,
            ))
        })
        .collect()
}

/// A team's sessions from `from` to `to` (inclusive, `YYYY-MM-DD`) as `(subject, day, load)`,
/// by subject and day: the dashboard's weekly load and ratios.
pub async fn team_loads(
    tx: &mut TenantTx,
    team: TeamId,
    from: &str,
    to: &str,
) -> Result<Vec<(SubjectId, String, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT l.subject_id, l.session_date, l.load_au FROM training_loads l \
         JOIN team_subjects t ON t.org_id = l.org_id AND t.subject_id = l.subject_id \
         WHERE l.org_id = $1 AND t.team_id = $2 AND l.session_date >= $3 AND l.session_date <= $4 \
         ORDER BY l.subject_id, l.session_date",
    )
    .bind(tx.org_key())
    .bind(team.to_string())
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let subject: String = row.try_get("subject_id")?;
            Ok((
                parse_id(&subject, "subject id", SubjectId::parse)?,
                row.try_get("session_date")?,
                row.try_get("load_au")?,
            ))
        })
        .collect()
}

/// The days of each team member's first and latest recorded sessions (members without any are
/// left out): where each one's load history begins and ends.
pub async fn team_session_spans(
    tx: &mut TenantTx,
    team: TeamId,
) -> Result<Vec<(SubjectId, String, String)>, StorageError> {
    // Two index probes per member rather than a walk of the organisation's sessions.
    let rows = sqlx::query(
        "SELECT subject_id, first, last FROM (SELECT t.subject_id, \
         (SELECT MIN(l.session_date) FROM training_loads l \
          WHERE l.org_id = t.org_id AND l.subject_id = t.subject_id) AS first, \
         (SELECT MAX(l.session_date) FROM training_loads l \
          WHERE l.org_id = t.org_id AND l.subject_id = t.subject_id) AS last \
         FROM team_subjects t WHERE t.org_id = $1 AND t.team_id = $2) spans \
         WHERE first IS NOT NULL ORDER BY subject_id",
    )
    .bind(tx.org_key())
    .bind(team.to_string())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let subject: String = row.try_get("subject_id")?;
            Ok((
                parse_id(&subject, "subject id", SubjectId::parse)?,
                row.try_get("first")?,
                row.try_get("last")?,
            ))
        })
        .collect()
}
