//! Injury-risk scores and each organisation's risk-band thresholds.

use mhp_domain::{ModelVersionId, RunId, SubjectId, Timestamp};
use sqlx::Row;

use super::parse_id;
use super::teams::not_found_on_fk;
use rusqlite::types::Value;

use crate::direct::{Columns, DirectRead};
use crate::{StorageError, TenantTx};

/// Where probabilities turn into bands: at or above `moderate` is moderate, at or above `high`
/// is high.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Lower edge of the moderate band, in (0, 1).
    pub moderate: f64,
    /// Lower edge of the high band, in (moderate, 1).
    pub high: f64,
}

impl Thresholds {
    /// The platform's defaults, for a 7-day time-loss injury probability: moderate from 3 %,
    /// high from 6 % (about 1.5× and 3× the base rate of a squad in season).
    pub const DEFAULT: Thresholds = Thresholds {
        moderate: 0.03,
        high: 0.06,
    };

    /// Whether both edges are in range and in order.
    pub fn is_valid(&self) -> bool {
        self.moderate > 0.0 && self.moderate < self.high && self.high < 1.0
    }

    /// The band of a probability.
    pub fn band(&self, probability: f64) -> &'static str {
        if probability >= self.high {
            "high"
        } else if probability >= self.moderate {
            "moderate"
        } else {
            "low"
        }
    }
}

/// The organisation's thresholds, or the defaults.
pub async fn thresholds(tx: &mut TenantTx) -> Result<Thresholds, StorageError> {
    let row = sqlx::query("SELECT moderate, high FROM risk_thresholds WHERE org_id = $1")
        .bind(tx.org_key())
        .fetch_optional(tx.conn())
        .await?;
    match row {
        Some(row) => Ok(Thresholds {
            moderate: row.try_get("moderate")?,
            high: row.try_get("high")?,
        }),
        None => Ok(Thresholds::DEFAULT),
    }
}

/// Sets the organisation's thresholds (the caller has validated them).
pub async fn set_thresholds(
    tx: &mut TenantTx,
    t: Thresholds,
    by: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO risk_thresholds (org_id, moderate, high, updated_by, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO UPDATE SET \
         moderate = excluded.moderate, high = excluded.high, updated_by = excluded.updated_by, \
         updated_at_ms = excluded.updated_at_ms",
    )
    .bind(tx.org_key())
    .bind(t.moderate)
    .bind(t.high)
    .bind(by)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A risk score.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Whose.
    pub subject: SubjectId,
    /// The day it is for, `YYYY-MM-DD`.
    pub as_of: String,
    /// The model version that made it.
    pub model_version: ModelVersionId,
    /// Probability of a time-loss injury within the model's horizon.
    pub probability: f64,
    /// `low`, `moderate` or `high`.
    pub band: String,
    /// Top contributing features (JSON array of `{feature, value, contribution}`).
    pub contributions_json: String,
    /// The run that made it.
    pub run: Option<RunId>,
    /// When it was made.
    pub scored_at: Timestamp,
}

fn from_row<R: Columns + ?Sized>(row: &R) -> Result<Score, StorageError> {
    let subject = row.text("subject_id")?;
    let version = row.text("model_version_id")?;
    let run = row.opt_text("run_id")?;
    Ok(Score {
        subject: parse_id(&subject, "subject id", SubjectId::parse)?,
        as_of: row.text("as_of")?,
        model_version: parse_id(&version, "model version id", ModelVersionId::parse)?,
        probability: row.real("probability")?,
        band: row.text("band")?,
        contributions_json: row.text("contributions_json")?,
        run: run
            .map(|r| parse_id(&r, "run id", RunId::parse))
            .transpose()?,
        scored_at: Timestamp::from_millis(row.int("scored_at_ms")?),
    })
}

const COLUMNS: &str = "subject_id, as_of, model_version_id, probability, band, \
     contributions_json, run_id, scored_at_ms";

/// Records a score; scoring the same subject, day and model version again replaces it.
pub async fn put(tx: &mut TenantTx, s: &Score) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO risk_scores (id, org_id, subject_id, as_of, model_version_id, probability, \
         band, contributions_json, run_id, scored_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (org_id, subject_id, as_of, model_version_id) DO UPDATE SET \
         probability = excluded.probability, band = excluded.band, \
         contributions_json = excluded.contributions_json, run_id = excluded.run_id, \
         scored_at_ms = excluded.scored_at_ms",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(tx.org_key())
    .bind(s.subject.to_string())
    .bind(s.as_of.as_str())
    .bind(s.model_version.to_string())
    .bind(s.probability)
    .bind(s.band.as_str())
    .bind(s.contributions_json.as_str())
    .bind(s.run.map(|r| r.to_string()))
    .bind(s.scored_at.as_millis())
    .execute(tx.conn())
    .await
    .map_err(not_found_on_fk("subject or model version"))?;
    Ok(())
}

/// A subject's scores, newest day first (at most `limit`).
pub async fn history(
    tx: &mut TenantTx,
    subject: SubjectId,
    limit: i64,
) -> Result<Vec<Score>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM risk_scores WHERE org_id = $1 AND subject_id = $2 \
         ORDER BY as_of DESC, scored_at_ms DESC LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(subject.to_string())
        .bind(limit.clamp(1, 1000))
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every subject's latest score (one per subject), highest probability first.
pub async fn latest(tx: &mut TenantTx) -> Result<Vec<Score>, StorageError> {
    latest_as_of(tx, "9999-12-31").await
}

/// Every subject's latest score for a day on or before `as_of` (`YYYY-MM-DD`), one per
/// subject, highest probability first: what the band was then.
pub async fn latest_as_of(tx: &mut TenantTx, as_of: &str) -> Result<Vec<Score>, StorageError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(latest_as_of_sql()))
        .bind(tx.org_key())
        .bind(as_of)
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The latest score of each of `subjects` that has one (highest probability first): what a
/// page of a roster shows as bands. One index probe per subject, however long their history;
/// [`latest`] reads every score of the organisation.
pub async fn latest_of(
    tx: &mut TenantTx,
    subjects: &[SubjectId],
) -> Result<Vec<Score>, StorageError> {
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    let sql = latest_of_sql(subjects.len());
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tx.org_key());
    for s in subjects {
        query = query.bind(s.to_string());
    }
    let rows = query.fetch_all(tx.conn()).await?;
    rows.iter().map(from_row).collect()
}

/// [`latest_of`] in a one-hop read.
pub fn latest_of_direct(
    read: &mut DirectRead<'_>,
    subjects: &[SubjectId],
) -> Result<Vec<Score>, StorageError> {
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    let mut binds = vec![Value::Text(read.org_key().to_owned())];
    binds.extend(subjects.iter().map(|s| Value::Text(s.to_string())));
    read.rows(&latest_of_sql(subjects.len()), &binds, |row| from_row(row))
}

/// For each subject of `$2…` (at most 500: a page), its newest score by day, scoring time and
/// id: one probe of the `(org_id, subject_id, as_of)` index per subject, then the score by its
/// key. (Written as `id IN (…)` instead, SQLite scanned the organisation's scores by day.)
fn latest_of_sql(subjects: usize) -> String {
    let ids: Vec<String> = (0..subjects).map(|i| format!("${}", i + 2)).collect();
    let columns = COLUMNS
        .split(',')
        .map(|c| format!("s.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {columns} FROM ( \
           SELECT (SELECT n.id FROM risk_scores n WHERE n.org_id = $1 AND n.subject_id = p.id \
                   ORDER BY n.as_of DESC, n.scored_at_ms DESC, n.id DESC LIMIT 1) AS score_id \
           FROM subjects p WHERE p.org_id = $1 AND p.id IN ({})) AS latest \
         JOIN risk_scores s ON s.id = latest.score_id \
         WHERE s.org_id = $1 ORDER BY s.probability DESC",
        ids.join(", ")
    )
}

fn latest_as_of_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM risk_scores s WHERE org_id = $1 AND as_of <= $2 AND NOT EXISTS ( \
           SELECT 1 FROM risk_scores n WHERE n.org_id = s.org_id AND n.subject_id = s.subject_id \
             AND n.as_of <= $2 \
             AND (n.as_of > s.as_of OR (n.as_of = s.as_of AND n.scored_at_ms > s.scored_at_ms) \
               OR (n.as_of = s.as_of AND n.scored_at_ms = s.scored_at_ms AND n.id > s.id))) \
         ORDER BY probability DESC LIMIT 5000"
    )
}
