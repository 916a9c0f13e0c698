//! Injuries and return-to-duty decisions. Coded fields (region, type, side, severity,
//! mechanism, dates, stage) are plain so they can be counted; free text (notes, restrictions)
//! arrives sealed. The latest decision of an injury is its state; a subject's availability is
//! derived from the states of their injuries.

use mhp_domain::{InjuryId, SealedBytes, SubjectId, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::teams::not_found_on_fk;
use super::{conflict_if_none, parse_id};
use crate::{StorageError, TenantTx};

/// An injury as stored. Values of the coded fields are checked by the caller and the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injury {
    /// Its id.
    pub id: InjuryId,
    /// Whose it is.
    pub subject: SubjectId,
    /// Body region code.
    pub body_region: String,
    /// Injury type code.
    pub injury_type: String,
    /// `left`, `right`, `bilateral` or `central`.
    pub side: String,
    /// `none`, `minimal`, `mild`, `moderate` or `severe` (by days lost).
    pub severity: String,
    /// `contact`, `non_contact`, `overuse` or `unknown`.
    pub mechanism: String,
    /// The day it happened, `YYYY-MM-DD`.
    pub occurred_on: String,
    /// Days of full participation lost, when known.
    pub time_loss_days: Option<i64>,
    /// Sealed clinical notes.
    pub notes: Option<SealedBytes>,
    /// Audit name of who recorded it.
    pub recorded_by: String,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A return-to-duty decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Its id (UUIDv7 text).
    pub id: String,
    /// The injury.
    pub injury: InjuryId,
    /// `rest`, `rehabilitation`, `modified_duty`, `full_training` or `cleared`.
    pub stage: String,
    /// Sealed restrictions (what the person may not do yet).
    pub restrictions: Option<SealedBytes>,
    /// The day it takes effect, `YYYY-MM-DD`.
    pub decided_on: String,
    /// Audit name of the clinician who decided.
    pub decided_by: String,
    /// When it was recorded.
    pub created_at: Timestamp,
}

const SELECT: &str = "SELECT id, subject_id, body_region, injury_type, side, severity, mechanism, \
                      occurred_on, time_loss_days, notes_sealed, recorded_by, created_at_ms, \
                      updated_at_ms FROM injuries";

fn from_row(row: &AnyRow) -> Result<Injury, StorageError> {
    let id: String = row.try_get("id")?;
    let subject: String = row.try_get("subject_id")?;
    let notes: Option<Vec<u8>> = row.try_get("notes_sealed")?;
    Ok(Injury {
        id: parse_id(&id, "injury id", InjuryId::parse)?,
        subject: parse_id(&subject, "subject id", SubjectId::parse)?,
        body_region: row.try_get("body_region")?,
        injury_type: row.try_get("injury_type")?,
        side: row.try_get("side")?,
        severity: row.try_get("severity")?,
        mechanism: row.try_get("mechanism")?,
        occurred_on: row.try_get("occurred_on")?,
        time_loss_days: row.try_get("time_loss_days")?,
        notes: notes.map(SealedBytes::from_ciphertext),
        recorded_by: row.try_get("recorded_by")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at_ms")?),
    })
}

/// Records an injury.
pub async fn create(tx: &mut TenantTx, injury: &Injury) -> Result<(), StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO injuries (id, org_id, subject_id, body_region, injury_type, side, severity, \
         mechanism, occurred_on, time_loss_days, notes_sealed, recorded_by, created_at_ms, \
         updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(injury.id.to_string())
    .bind(tx.org_key())
    .bind(injury.subject.to_string())
    .bind(injury.body_region.as_str())
    .bind(injury.injury_type.as_str())
    .bind(injury.side.as_str())
    .bind(injury.severity.as_str())
    .bind(injury.mechanism.as_str())
    .bind(injury.occurred_on.as_str())
    .bind(injury.time_loss_days)
    .bind(injury.notes.as_ref().map(|n| n.as_bytes().to_vec()))
    .bind(injury.recorded_by.as_str())
    .bind(injury.created_at.as_millis())
    .bind(injury.updated_at.as_millis())
    .fetch_optional(tx.conn())
    .await
    .map_err(not_found_on_fk("subject"))?;
    conflict_if_none(inserted, "injury")
}

/// One injury of the transaction's organisation.
pub async fn get(tx: &mut TenantTx, id: InjuryId) -> Result<Injury, StorageError> {
    let sql = format!("{SELECT} WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(id.to_string())
        .fetch_one(tx.conn())
        .await
        .map_err(StorageError::from_sqlx_as("injury"))?;
    from_row(&row)
}

/// A subject's injuries, most recent first.
pub async fn list_for_subject(
    tx: &mut TenantTx,
    subject: SubjectId,
) -> Result<Vec<Injury>, StorageError> {
    let sql = format!(
        "{SELECT} WHERE org_id = $1 AND subject_id = $2 ORDER BY occurred_on DESC, id DESC \
         LIMIT 1000"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(subject.to_string())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Records a return-to-duty decision and touches its injury.
pub async fn add_decision(tx: &mut TenantTx, decision: &Decision) -> Result<(), StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO return_to_duty (id, org_id, injury_id, stage, restrictions_sealed, \
         decided_on, decided_by, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(decision.id.as_str())
    .bind(tx.org_key())
    .bind(decision.injury.to_string())
    .bind(decision.stage.as_str())
    .bind(
        decision
            .restrictions
            .as_ref()
            .map(|n| n.as_bytes().to_vec()),
    )
    .bind(decision.decided_on.as_str())
    .bind(decision.decided_by.as_str())
    .bind(decision.created_at.as_millis())
    .fetch_optional(tx.conn())
    .await
    .map_err(not_found_on_fk("injury"))?;
    conflict_if_none(inserted, "decision")?;
    sqlx::query("UPDATE injuries SET updated_at_ms = $1 WHERE org_id = $2 AND id = $3")
        .bind(decision.created_at.as_millis())
        .bind(tx.org_key())
        .bind(decision.injury.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// An injury's decisions in the order they take effect (day, then recording time).
pub async fn decisions(tx: &mut TenantTx, injury: InjuryId) -> Result<Vec<Decision>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, injury_id, stage, restrictions_sealed, decided_on, decided_by, created_at_ms \
         FROM return_to_duty WHERE org_id = $1 AND injury_id = $2 \
         ORDER BY decided_on, created_at_ms, id",
    )
    .bind(tx.org_key())
    .bind(injury.to_string())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let injury: String = row.try_get("injury_id")?;
            let restrictions: Option<Vec<u8>> = row.try_get("restrictions_sealed")?;
            Ok(Decision {
                id: row.try_get("id")?,
                injury: parse_id(&injury, "injury id", InjuryId::parse)?,
                stage: row.try_get("stage")?,
                restrictions: restrictions.map(SealedBytes::from_ciphertext),
                decided_on: row.try_get("decided_on")?,
                decided_by: row.try_get("decided_by")?,
                created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
            })
        })
        .collect()
}

/// The organisation's injuries that are open on `today` (`YYYY-MM-DD`): occurred by then and
/// not cleared by their latest decision taking effect by then. Each with its subject and that
/// latest stage (`None`: no decision yet).
pub async fn open_states(
    tx: &mut TenantTx,
    today: &str,
) -> Result<Vec<(SubjectId, Option<String>)>, StorageError> {
    let rows = sqlx::query(
        "SELECT i.subject_id, \
           (SELECT r.stage FROM return_to_duty r \
             WHERE r.org_id = i.org_id AND r.injury_id = i.id AND r.decided_on <= $2 \
             ORDER BY r.decided_on DESC, r.created_at_ms DESC, r.id DESC LIMIT 1) AS stage \
         FROM injuries i WHERE i.org_id = $1 AND i.occurred_on <= $2",
    )
    .bind(tx.org_key())
    .bind(today)
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let stage: Option<String> = row.try_get("stage")?;
        if stage.as_deref() == Some("cleared") {
            continue;
        }
        let subject: String = row.try_get("subject_id")?;
        out.push((parse_id(&subject, "subject id", SubjectId::parse)?, stage));
    }
    Ok(out)
}

/// An injury as a label for the pipelines: coded fields and dates only, no notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjuryLabel {
    /// Whose.
    pub subject: SubjectId,
    /// Body region code.
    pub body_region: String,
    /// Injury type code.
    pub injury_type: String,
    /// Severity code.
    pub severity: String,
    /// The day it happened, `YYYY-MM-DD`.
    pub occurred_on: String,
    /// Days lost, when known.
    pub time_loss_days: Option<i64>,
    /// The day of the latest decision clearing the subject, if the latest decision clears.
    pub cleared_on: Option<String>,
}

/// Every injury of the organisation's subjects that are not erased, with the day they were
/// cleared, by day: the labels of the pipelines' de-identified view.
pub async fn org_labels(
    tx: &mut TenantTx,
    only: Option<SubjectId>,
) -> Result<Vec<InjuryLabel>, StorageError> {
    let rows = sqlx::query(
        "SELECT i.subject_id, i.body_region, i.injury_type, i.severity, i.occurred_on, \
           i.time_loss_days, \
           (SELECT r.stage FROM return_to_duty r WHERE r.org_id = i.org_id AND r.injury_id = i.id \
             ORDER BY r.decided_on DESC, r.created_at_ms DESC, r.id DESC LIMIT 1) AS stage, \
           (SELECT r.decided_on FROM return_to_duty r WHERE r.org_id = i.org_id \
             AND r.injury_id = i.id \
             ORDER BY r.decided_on DESC, r.created_at_ms DESC, r.id DESC LIMIT 1) AS decided_on \
         FROM injuries i JOIN subjects s ON s.org_id = i.org_id AND s.id = i.subject_id \
         WHERE i.org_id = $1 AND s.erased_at_ms IS NULL \
           AND (CAST($2 AS TEXT) IS NULL OR i.subject_id = $2) ORDER BY i.occurred_on, i.id",
    )
    .bind(tx.org_key())
    .bind(only.map(|s| s.to_string()))
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let subject: String = row.try_get("subject_id")?;
            let stage: Option<String> = row.try_get("stage")?;
            let decided_on: Option<String> = row.try_get("decided_on")?;
            Ok(InjuryLabel {
                subject: parse_id(&subject, "subject id", SubjectId::parse)?,
                body_region: row.try_get("body_region")?,
                injury_type: row.try_get("injury_type")?,
                severity: row.try_get("severity")?,
                occurred_on: row.try_get("occurred_on")?,
                time_loss_days: row.try_get("time_loss_days")?,
                cleared_on: decided_on.filter(|_| stage.as_deref() == Some("cleared")),
            })
        })
        .collect()
}
