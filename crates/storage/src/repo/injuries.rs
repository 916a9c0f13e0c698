//! Injuries and return-to-duty decisions. Coded fields (region, type, side, severity,
//! mechanism, dates, stage) are plain so they can be counted; free text (notes, restrictions)
//! arrives sealed. The latest decision of an injury is its state; a subject's availability is
//! derived from their courses by `mhp_domain::availability`.

use std::collections::HashMap;

use mhp_domain::availability::{DutyStage, InjuryCourse};
use mhp_domain::{CalendarDate, InjuryId, SealedBytes, SubjectId, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::teams::not_found_on_fk;
use super::{conflict_if_none, parse_id};
use rusqlite::types::Value;

use crate::direct::{Columns, DirectRead};
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

/// An injury's course as the availability rule reads it (`mhp_domain::availability`): when it
/// occurred, its recorded time loss and its decisions in the order they take effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRow {
    /// The injury.
    pub injury: InjuryId,
    /// Whose.
    pub subject: SubjectId,
    /// The day it happened, `YYYY-MM-DD`.
    pub occurred_on: String,
    /// Days lost, when known.
    pub time_loss_days: Option<i64>,
    /// `(decided_on, stage)` in the order they take effect (day, then recording time).
    pub decisions: Vec<(String, String)>,
}

impl CourseRow {
    /// The course in days, for [`mhp_domain::availability`]; `None` when the stored date is
    /// unreadable. Decisions with an unreadable date or an unknown stage are left out.
    pub fn course(&self) -> Option<InjuryCourse> {
        course_of(&self.occurred_on, self.time_loss_days, &self.decisions)
    }
}

/// The course of an injury from its stored fields (see [`CourseRow::course`]).
pub fn course_of(
    occurred_on: &str,
    time_loss_days: Option<i64>,
    decisions: &[(String, String)],
) -> Option<InjuryCourse> {
    let day = |d: &str| {
        CalendarDate::parse(d)
            .ok()
            .map(CalendarDate::days_since_epoch)
    };
    Some(InjuryCourse {
        occurred_day: day(occurred_on)?,
        time_loss_days,
        decisions: decisions
            .iter()
            .filter_map(|(d, stage)| Some((day(d)?, DutyStage::parse(stage)?)))
            .collect(),
    })
}

/// The decisions of the organisation's injuries (or one subject's) taking effect by `until`
/// (all when `None`), by injury in the order they take effect.
async fn decisions_by_injury(
    tx: &mut TenantTx,
    until: Option<&str>,
    only: Option<SubjectId>,
) -> Result<HashMap<String, Vec<(String, String)>>, StorageError> {
    let rows = sqlx::query(DECISIONS)
        .bind(tx.org_key())
        .bind(until)
        .bind(only.map(|s| s.to_string()))
        .fetch_all(tx.conn())
        .await?;
    Ok(group_decisions(
        rows.iter()
            .map(decision_of)
            .collect::<Result<Vec<_>, _>>()?,
    ))
}

const DECISIONS: &str = "SELECT r.injury_id, r.decided_on, r.stage FROM return_to_duty r \
     JOIN injuries i ON i.org_id = r.org_id AND i.id = r.injury_id \
     WHERE r.org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR r.decided_on <= $2) \
       AND (CAST($3 AS TEXT) IS NULL OR i.subject_id = $3) \
     ORDER BY r.injury_id, r.decided_on, r.created_at_ms, r.id";

const COURSES: &str = "SELECT id, subject_id, occurred_on, time_loss_days FROM injuries \
     WHERE org_id = $1 AND occurred_on <= $2";

/// A decision's injury, day and stage.
fn decision_of<R: Columns + ?Sized>(row: &R) -> Result<(String, String, String), StorageError> {
    Ok((
        row.text("injury_id")?,
        row.text("decided_on")?,
        row.text("stage")?,
    ))
}

/// Decisions by injury, in the order given.
fn group_decisions(
    decided: Vec<(String, String, String)>,
) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (injury, on, stage) in decided {
        out.entry(injury).or_default().push((on, stage));
    }
    out
}

fn course_of_row<R: Columns + ?Sized>(
    row: &R,
    decisions: &mut HashMap<String, Vec<(String, String)>>,
) -> Result<CourseRow, StorageError> {
    let id = row.text("id")?;
    let subject = row.text("subject_id")?;
    Ok(CourseRow {
        injury: parse_id(&id, "injury id", InjuryId::parse)?,
        subject: parse_id(&subject, "subject id", SubjectId::parse)?,
        occurred_on: row.text("occurred_on")?,
        time_loss_days: row.opt_int("time_loss_days")?,
        decisions: decisions.remove(&id).unwrap_or_default(),
    })
}

/// The courses of the organisation's injuries that occurred by `today` (`YYYY-MM-DD`), with
/// the decisions taking effect by then: what a subject's availability today is derived from.
pub async fn courses_on(tx: &mut TenantTx, today: &str) -> Result<Vec<CourseRow>, StorageError> {
    let rows = sqlx::query(COURSES)
        .bind(tx.org_key())
        .bind(today)
        .fetch_all(tx.conn())
        .await?;
    let mut decisions = decisions_by_injury(tx, Some(today), None).await?;
    rows.iter()
        .map(|row| course_of_row(row, &mut decisions))
        .collect()
}

/// [`courses_on`] in a one-hop read.
pub fn courses_on_direct(
    read: &mut DirectRead<'_>,
    today: &str,
) -> Result<Vec<CourseRow>, StorageError> {
    let org = Value::Text(read.org_key().to_owned());
    let day = Value::Text(today.to_owned());
    let decided = read.rows(DECISIONS, &[org.clone(), day.clone(), Value::Null], |row| {
        decision_of(row)
    })?;
    let mut decisions = group_decisions(decided);
    read.rows(COURSES, &[org, day], |row| {
        course_of_row(row, &mut decisions)
    })
}

/// An injury not (yet) cleared: its coded fields and its latest return-to-duty stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInjury {
    /// The injury.
    pub id: InjuryId,
    /// Whose.
    pub subject: SubjectId,
    /// Body region code.
    pub body_region: String,
    /// Injury type code.
    pub injury_type: String,
    /// Side.
    pub side: String,
    /// Severity by days lost.
    pub severity: String,
    /// The day it happened, `YYYY-MM-DD`.
    pub occurred_on: String,
    /// The latest decision's stage and day, when one was taken.
    pub stage: Option<(String, String)>,
}

/// The organisation's injuries whose latest return-to-duty decision is not `cleared` (or that
/// have none), newest first.
pub async fn open(tx: &mut TenantTx) -> Result<Vec<OpenInjury>, StorageError> {
    let rows = sqlx::query(
        "SELECT * FROM (SELECT i.id, i.subject_id, i.body_region, i.injury_type, i.side, \
         i.severity, i.occurred_on, \
         (SELECT r.stage FROM return_to_duty r WHERE r.org_id = i.org_id AND r.injury_id = i.id \
          ORDER BY r.decided_on DESC, r.created_at_ms DESC, r.id DESC LIMIT 1) AS stage, \
         (SELECT r.decided_on FROM return_to_duty r WHERE r.org_id = i.org_id \
          AND r.injury_id = i.id \
          ORDER BY r.decided_on DESC, r.created_at_ms DESC, r.id DESC LIMIT 1) AS stage_on \
         FROM injuries i WHERE i.org_id = $1) o \
         WHERE stage IS NULL OR stage <> 'cleared' ORDER BY occurred_on DESC, id",
    )
    .bind(tx.org_key())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let subject: String = row.try_get("subject_id")?;
            let stage: Option<String> = row.try_get("stage")?;
            let stage_on: Option<String> = row.try_get("stage_on")?;
            Ok(OpenInjury {
                id: parse_id(&id, "injury id", InjuryId::parse)?,
                subject: parse_id(&subject, "subject id", SubjectId::parse)?,
                body_region: row.try_get("body_region")?,
                injury_type: row.try_get("injury_type")?,
                side: row.try_get("side")?,
                severity: row.try_get("severity")?,
                occurred_on: row.try_get("occurred_on")?,
                stage: stage.zip(stage_on),
            })
        })
        .collect()
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
    /// `(decided_on, stage)` of every decision, in the order they take effect.
    pub decisions: Vec<(String, String)>,
}

impl InjuryLabel {
    /// The course in days (see [`CourseRow::course`]).
    pub fn course(&self) -> Option<InjuryCourse> {
        course_of(&self.occurred_on, self.time_loss_days, &self.decisions)
    }
}

/// Every injury of the organisation's subjects that are not erased, with its decisions, by
/// day: the labels of the pipelines' de-identified view.
pub async fn org_labels(
    tx: &mut TenantTx,
    only: Option<SubjectId>,
) -> Result<Vec<InjuryLabel>, StorageError> {
    let rows = sqlx::query(
        "SELECT i.id, i.subject_id, i.body_region, i.injury_type, i.severity, i.occurred_on, \
           i.time_loss_days \
         FROM injuries i JOIN subjects s ON s.org_id = i.org_id AND s.id = i.subject_id \
         WHERE i.org_id = $1 AND s.erased_at_ms IS NULL \
           AND (CAST($2 AS TEXT) IS NULL OR i.subject_id = $2) ORDER BY i.occurred_on, i.id",
    )
    .bind(tx.org_key())
    .bind(only.map(|s| s.to_string()))
    .fetch_all(tx.conn())
    .await?;
    let mut decisions = decisions_by_injury(tx, None, only).await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let subject: String = row.try_get("subject_id")?;
            Ok(InjuryLabel {
                subject: parse_id(&subject, "subject id", SubjectId::parse)?,
                body_region: row.try_get("body_region")?,
                injury_type: row.try_get("injury_type")?,
                severity: row.try_get("severity")?,
                occurred_on: row.try_get("occurred_on")?,
                time_loss_days: row.try_get("time_loss_days")?,
                decisions: decisions.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}
