//! Training load entries (session-RPE), the input of load ratios.

use mhp_domain::{CalendarDate, SubjectId, TeamId, Timestamp};
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
    conflict_if_none(inserted, "training load entry")?;
    // The week's sum, in the same transaction (loads are never changed or removed).
    let day = CalendarDate::parse(&e.session_date).map_err(|_| StorageError::Corrupt {
        what: "a session's day",
    })?;
    let monday = day.week_start();
    sqlx::query(
        "INSERT INTO training_load_weeks (org_id, subject_id, week_start, load_au) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, subject_id, week_start) \
         DO UPDATE SET load_au = training_load_weeks.load_au + excluded.load_au",
    )
    .bind(tx.org_key())
    .bind(e.subject.to_string())
    .bind(monday.to_string())
    .bind(e.load_au)
    .execute(tx.conn())
    .await?;
    Ok(())
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

/// The subject's sessions recorded at or after `since_ms`, in the order they were recorded
/// (a listing of what changed since a cursor).
pub async fn recorded_since(
    tx: &mut TenantTx,
    subject: SubjectId,
    since_ms: i64,
) -> Result<Vec<LoadEntry>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, subject_id, session_date, session_type, duration_min, rpe, load_au, \
         recorded_by, created_at_ms FROM training_loads \
         WHERE org_id = $1 AND subject_id = $2 AND created_at_ms >= $3 \
         ORDER BY created_at_ms, id",
    )
    .bind(tx.org_key())
    .bind(subject.to_string())
    .bind(since_ms)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
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
    rows.iter().map(from_row).collect()
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<LoadEntry, StorageError> {
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

/// The latest session day of a team's members on or before `until` (`None` without any).
pub async fn team_latest_day(
    tx: &mut TenantTx,
    team: TeamId,
    until: &str,
) -> Result<Option<String>, StorageError> {
    // One index probe per member rather than a walk of the organisation's sessions.
    let row = sqlx::query(
        "SELECT MAX(last) AS last FROM (SELECT (SELECT MAX(l.session_date) \
         FROM training_loads l WHERE l.org_id = t.org_id AND l.subject_id = t.subject_id \
         AND l.session_date <= $3) AS last \
         FROM team_subjects t WHERE t.org_id = $1 AND t.team_id = $2) lasts",
    )
    .bind(tx.org_key())
    .bind(team.to_string())
    .bind(until)
    .fetch_one(tx.conn())
    .await?;
    Ok(row.try_get("last")?)
}

/// What the dashboard needs of a team's load, as of a day.
#[derive(Debug, Clone, Copy)]
pub struct LoadDays<'a> {
    /// The last day counted.
    pub as_of: &'a str,
    /// The first day of the acute window (as of − 6).
    pub acute_from: &'a str,
    /// The first day of the chronic window (as of − 27).
    pub chronic_from: &'a str,
    /// A member whose history reaches back to this day (as of − 21) has a covered chronic
    /// window.
    pub covered_by: &'a str,
    /// The Monday of each week summed, oldest first (the last week ends on `as_of`).
    pub weeks: &'a [String],
}

/// One member's load as of a day: acute and chronic sums, whether their history covers the
/// chronic window, and each week's sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLoad {
    /// Who.
    pub subject: SubjectId,
    /// Load of the acute window, AU.
    pub acute_au: i64,
    /// Load of the chronic window, AU.
    pub chronic_au: i64,
    /// Whether a session lies on or before `covered_by`.
    pub covered: bool,
    /// The sum of each week of `weeks`, AU.
    pub weeks_au: Vec<i64>,
}

/// Each team member's load as of `days.as_of` (members without a session in the weeks are
/// left out): the windows summed from the sessions of the last 28 days, the weeks read from
/// the weekly read model; one row per member each.
pub async fn team_load_summary(
    tx: &mut TenantTx,
    team: TeamId,
    days: &LoadDays<'_>,
) -> Result<Vec<MemberLoad>, StorageError> {
    let (Some(first_week), Some(last_week)) = (days.weeks.first(), days.weeks.last()) else {
        return Ok(Vec::new());
    };
    let windows = sqlx::query(
        "SELECT t.subject_id, \
         CAST(SUM(CASE WHEN l.session_date >= $4 THEN l.load_au ELSE 0 END) AS BIGINT) AS acute, \
         CAST(SUM(l.load_au) AS BIGINT) AS chronic, \
         CASE WHEN EXISTS (SELECT 1 FROM training_loads x WHERE x.org_id = t.org_id \
           AND x.subject_id = t.subject_id AND x.session_date <= $6) THEN 1 ELSE 0 END AS covered \
         FROM team_subjects t JOIN training_loads l ON l.org_id = t.org_id \
         AND l.subject_id = t.subject_id AND l.session_date >= $5 AND l.session_date <= $3 \
         WHERE t.org_id = $1 AND t.team_id = $2 GROUP BY t.org_id, t.subject_id",
    )
    .bind(tx.org_key())
    .bind(team.to_string())
    .bind(days.as_of)
    .bind(days.acute_from)
    .bind(days.chronic_from)
    .bind(days.covered_by)
    .fetch_all(tx.conn())
    .await?;
    let weekly = sqlx::query(
        "SELECT w.subject_id, string_agg(w.week_start || ':' || CAST(w.load_au AS TEXT), ',') \
         AS weeks FROM team_subjects t JOIN training_load_weeks w ON w.org_id = t.org_id \
         AND w.subject_id = t.subject_id AND w.week_start >= $3 AND w.week_start <= $4 \
         WHERE t.org_id = $1 AND t.team_id = $2 GROUP BY w.subject_id",
    )
    .bind(tx.org_key())
    .bind(team.to_string())
    .bind(first_week.as_str())
    .bind(last_week.as_str())
    .fetch_all(tx.conn())
    .await?;
    let mut members: std::collections::BTreeMap<SubjectId, MemberLoad> =
        std::collections::BTreeMap::new();
    let blank = |subject| MemberLoad {
        subject,
        acute_au: 0,
        chronic_au: 0,
        covered: false,
        weeks_au: vec![0; days.weeks.len()],
    };
    for row in &windows {
        let subject: String = row.try_get("subject_id")?;
        let subject = parse_id(&subject, "subject id", SubjectId::parse)?;
        let covered: i64 = row.try_get("covered")?;
        let m = members.entry(subject).or_insert_with(|| blank(subject));
        m.acute_au = row.try_get("acute")?;
        m.chronic_au = row.try_get("chronic")?;
        m.covered = covered != 0;
    }
    for row in &weekly {
        let subject: String = row.try_get("subject_id")?;
        let subject = parse_id(&subject, "subject id", SubjectId::parse)?;
        let text: String = row.try_get("weeks")?;
        let m = members.entry(subject).or_insert_with(|| blank(subject));
        for part in text.split(',') {
            let parsed = part
                .split_once(':')
                .and_then(|(w, au)| Some((w, au.parse::<i64>().ok()?)));
            let (week, au) = parsed.ok_or(StorageError::Corrupt {
                what: "a week's load",
            })?;
            if let Some(k) = days.weeks.iter().position(|w| w == week) {
                m.weeks_au[k] = au;
            }
        }
    }
    Ok(members.into_values().collect())
}
