//! Injuries and return to duty: recording an injury and a decision on it. The edges check the
//! fields' form (codes, dates, lengths); these functions hold the rules that need the record
//! (the subject exists, a decision is not dated before its injury), seal the free text with the
//! subject's key and write the change with its audit event in one transaction.

use mhp_domain::{CalendarDate, InjuryId, OrgId, OrgScope, SubjectId, Timestamp};
use mhp_storage::repo::injuries::{self, Decision, Injury};
use mhp_storage::repo::subjects;
use mhp_storage::{Access, TenantTx};

use crate::import::{self, RowError, SubjectRef};
use crate::phi::FieldAt;
use crate::{App, AppError, Caller};

/// An injury to record, its fields checked by the edge.
#[derive(Debug, Clone)]
pub struct NewInjury {
    /// Whose injury it is.
    pub subject: SubjectId,
    /// A snake_case code (`knee`).
    pub body_region: String,
    /// A snake_case code (`ligament_sprain`).
    pub injury_type: String,
    /// `left`, `right`, `bilateral` or `central`.
    pub side: String,
    /// The severity band.
    pub severity: String,
    /// `contact`, `non_contact`, `overuse` or `unknown`.
    pub mechanism: String,
    /// When it happened (not in the future).
    pub occurred_on: CalendarDate,
    /// Days of time loss, when known.
    pub time_loss_days: Option<u32>,
    /// Free text, sealed with the subject's key.
    pub notes: Option<String>,
}

/// Sides an injury may have.
pub const SIDES: &[&str] = &["left", "right", "bilateral", "central"];
/// Severity bands by days lost.
pub const SEVERITIES: &[&str] = &["none", "minimal", "mild", "moderate", "severe"];
/// How an injury happened.
pub const MECHANISMS: &[&str] = &["contact", "non_contact", "overuse", "unknown"];
/// Return-to-duty stages, in order.
pub const STAGES: &[&str] = &[
    "rest",
    "rehabilitation",
    "modified_duty",
    "full_training",
    "cleared",
];
/// Longest free text (notes, restrictions), in characters.
pub const MAX_FREE_TEXT: usize = 4000;
/// Longest time loss, days.
pub const MAX_TIME_LOSS_DAYS: u32 = 3650;

/// Severity by days of time loss, in the bands of the IOC consensus statement on recording
/// injuries in sport (Bahr et al., Br J Sports Med 2020;54:372–389): 0, 1–3, 4–7, 8–28, >28.
pub fn severity_for_time_loss(days: u32) -> &'static str {
    match days {
        0 => "none",
        1..=3 => "minimal",
        4..=7 => "mild",
        8..=28 => "moderate",
        _ => "severe",
    }
}

fn one_of(field: &'static str, value: &str, allowed: &[&'static str]) -> Result<String, AppError> {
    allowed
        .iter()
        .find(|a| **a == value)
        .map(|a| (*a).to_owned())
        .ok_or_else(|| {
            AppError::malformed(format!("{field} must be one of {}", allowed.join(", ")))
        })
}

/// A lowercase snake_case code (`knee`, `ligament_sprain`), 1 to 40 characters.
pub(crate) fn code(field: &'static str, value: &str) -> Result<String, AppError> {
    let ok = (1..=40).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(AppError::malformed(format!(
            "{field} must be a lowercase snake_case code of at most 40 characters"
        )))
    }
}

fn free_text(field: &'static str, value: Option<String>) -> Result<Option<String>, AppError> {
    match value {
        Some(v) if v.chars().count() > MAX_FREE_TEXT => Err(AppError::malformed(format!(
            "{field} must be at most {MAX_FREE_TEXT} characters"
        ))),
        v => Ok(v),
    }
}

/// A day that is not in the future (`invalid-date` otherwise).
pub(crate) fn past_day(
    field: &'static str,
    text: &str,
    today: CalendarDate,
) -> Result<CalendarDate, AppError> {
    let day = CalendarDate::parse(text.trim())
        .map_err(|e| AppError::invalid(crate::Code::InvalidDate, format!("{field} {e}")))?;
    if day > today {
        return Err(AppError::invalid(
            crate::Code::InvalidDate,
            format!("{field} is in the future"),
        ));
    }
    Ok(day)
}

/// An injury as entered (an API body, a form), before its fields are checked.
#[derive(Debug, Clone, Default)]
pub struct InjuryDraft {
    /// A snake_case code.
    pub body_region: String,
    /// A snake_case code.
    pub injury_type: String,
    /// One of [`SIDES`].
    pub side: String,
    /// One of [`SEVERITIES`]; derived from the time loss when absent.
    pub severity: Option<String>,
    /// One of [`MECHANISMS`].
    pub mechanism: String,
    /// `YYYY-MM-DD`.
    pub occurred_on: String,
    /// Days of time loss, when known.
    pub time_loss_days: Option<u32>,
    /// Free text.
    pub notes: Option<String>,
}

impl NewInjury {
    /// Checks a draft for `subject`: codes, sets, a day not after `today`, a severity given or
    /// derived from the time loss, free text within its length. The one set of rules for
    /// every edge.
    pub fn check(
        subject: SubjectId,
        draft: InjuryDraft,
        today: CalendarDate,
    ) -> Result<Self, AppError> {
        let occurred_on = past_day("occurred_on", &draft.occurred_on, today)?;
        if draft.time_loss_days.is_some_and(|d| d > MAX_TIME_LOSS_DAYS) {
            return Err(AppError::malformed(format!(
                "time_loss_days must be at most {MAX_TIME_LOSS_DAYS}"
            )));
        }
        let severity = match (&draft.severity, draft.time_loss_days) {
            (Some(s), _) => one_of("severity", s, SEVERITIES)?,
            (None, Some(days)) => severity_for_time_loss(days).to_owned(),
            (None, None) => {
                return Err(AppError::malformed(
                    "give severity or time_loss_days (severity is then derived)",
                ));
            }
        };
        Ok(Self {
            subject,
            body_region: code("body_region", &draft.body_region)?,
            injury_type: code("injury_type", &draft.injury_type)?,
            side: one_of("side", &draft.side, SIDES)?,
            severity,
            mechanism: one_of("mechanism", &draft.mechanism, MECHANISMS)?,
            occurred_on,
            time_loss_days: draft.time_loss_days,
            notes: free_text("notes", draft.notes)?,
        })
    }
}

/// A decision as entered, before its fields are checked.
#[derive(Debug, Clone, Default)]
pub struct DecisionDraft {
    /// One of [`STAGES`].
    pub stage: String,
    /// `YYYY-MM-DD`.
    pub decided_on: String,
    /// Free text.
    pub restrictions: Option<String>,
}

impl NewDecision {
    /// Checks a draft for `injury`: a known stage, a day not after `today`, free text within
    /// its length.
    pub fn check(
        injury: InjuryId,
        draft: DecisionDraft,
        today: CalendarDate,
    ) -> Result<Self, AppError> {
        let stage = one_of("stage", &draft.stage, STAGES)?;
        Ok(Self {
            injury,
            stage,
            decided_on: past_day("decided_on", &draft.decided_on, today)?,
            restrictions: free_text("restrictions", draft.restrictions)?,
        })
    }
}

impl import::ForSubject for NewInjury {
    fn set_subject(&mut self, subject: SubjectId) {
        self.subject = subject;
    }
}

/// Records an injury; returns it as stored.
pub async fn record(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    new: NewInjury,
) -> Result<Injury, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    subjects::get(&mut tx, new.subject).await?;
    let injury = write_injury(app, &mut tx, scope.org(), caller, new, now).await?;
    tx.commit().await?;
    Ok(injury)
}

/// Stores one checked injury of an existing subject, its notes sealed with the subject's key,
/// and its audit event.
async fn write_injury(
    app: &App,
    tx: &mut TenantTx,
    org: OrgId,
    caller: &Caller,
    new: NewInjury,
    now: Timestamp,
) -> Result<Injury, AppError> {
    let id = InjuryId::new();
    let row = id.to_string();
    let sealer = app.phi.for_write(org, new.subject).await?;
    let notes = new
        .notes
        .as_deref()
        .map(|n| {
            sealer.seal(
                FieldAt {
                    org,
                    table: "injuries",
                    column: "notes",
                    row: &row,
                },
                n,
            )
        })
        .transpose()?;
    let injury = Injury {
        id,
        subject: new.subject,
        body_region: new.body_region,
        injury_type: new.injury_type,
        side: new.side,
        severity: new.severity,
        mechanism: new.mechanism,
        occurred_on: new.occurred_on.to_string(),
        time_loss_days: new.time_loss_days.map(i64::from),
        notes,
        recorded_by: caller.actor.clone(),
        created_at: now,
        updated_at: now,
    };
    injuries::create(tx, &injury).await?;
    caller
        .record(tx, "injury.create", "injury", Some(row), now)
        .await?;
    Ok(injury)
}

/// A return-to-duty decision to record, its fields checked by the edge.
#[derive(Debug, Clone)]
pub struct NewDecision {
    /// The injury it is about.
    pub injury: InjuryId,
    /// The return-to-duty stage (`cleared` ends the injury's time loss).
    pub stage: String,
    /// When it was decided (not in the future).
    pub decided_on: CalendarDate,
    /// Free text, sealed with the subject's key.
    pub restrictions: Option<String>,
}

/// Records a decision on an injury; returns the injury as it now stands. A decision dated
/// before the injury is refused (`invalid-date`) and nothing is written.
pub async fn decide(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    new: NewDecision,
) -> Result<Injury, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let injury = injuries::get(&mut tx, new.injury).await?;
    let injury_id = new.injury;
    write_decision(app, &mut tx, scope.org(), caller, &injury, new, now).await?;
    let injury = injuries::get(&mut tx, injury_id).await?;
    tx.commit().await?;
    Ok(injury)
}

/// Stores one checked decision on `injury` (refused when dated before it), its restrictions
/// sealed with the subject's key, and its audit event; returns the decision's id.
async fn write_decision(
    app: &App,
    tx: &mut TenantTx,
    org: OrgId,
    caller: &Caller,
    injury: &Injury,
    new: NewDecision,
    now: Timestamp,
) -> Result<String, AppError> {
    if new.decided_on.to_string() < injury.occurred_on {
        return Err(AppError::invalid(
            crate::Code::InvalidDate,
            "decided_on is before the injury occurred",
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let sealer = app.phi.for_write(org, injury.subject).await?;
    let restrictions = new
        .restrictions
        .as_deref()
        .map(|r| {
            sealer.seal(
                FieldAt {
                    org,
                    table: "return_to_duty",
                    column: "restrictions",
                    row: &id,
                },
                r,
            )
        })
        .transpose()?;
    let decision = Decision {
        restrictions,
        id: id.clone(),
        injury: new.injury,
        stage: new.stage,
        decided_on: new.decided_on.to_string(),
        decided_by: caller.actor.clone(),
        created_at: now,
    };
    injuries::add_decision(tx, &decision).await?;
    caller
        .record(
            tx,
            "injury.decision",
            "injury",
            Some(new.injury.to_string()),
            now,
        )
        .await?;
    Ok(id)
}

/// The columns of an injuries import: the subject (`subject`, MHP's id, or `external_id`)
/// and the injury's fields as the single-injury form has them.
pub const IMPORT_INJURY_COLUMNS: &[&str] = &[
    "subject",
    "external_id",
    "body_region",
    "injury_type",
    "side",
    "severity",
    "mechanism",
    "occurred_on",
    "time_loss_days",
    "notes",
];

/// Imports injuries (CSV or NDJSON, [`IMPORT_INJURY_COLUMNS`]): every row is checked as a
/// single injury is, and its subject must be one of the organisation's (not archived); when
/// any row cannot be taken, nothing is stored and every such row is reported by number;
/// otherwise all are stored with their audit events in one transaction. Returns the injuries'
/// ids in row order (a decisions import names them).
pub async fn import_injuries(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    format: import::Format,
    body: &[u8],
) -> Result<Result<Vec<InjuryId>, Vec<RowError>>, AppError> {
    let (rows, mut errors) = import::rows(format, body, IMPORT_INJURY_COLUMNS)?;
    let today = app.today();
    let mut checked = Vec::with_capacity(rows.len());
    for (row, mut f) in rows {
        let parsed =
            SubjectRef::of(&f).and_then(|s| Ok((s, import::whole_number(&f, "time_loss_days")?)));
        let (subject, time_loss_days) = match parsed {
            Ok(p) => p,
            Err(error) => {
                errors.push(RowError { row, error });
                continue;
            }
        };
        let mut take = |name: &str| f.remove(name).unwrap_or_default();
        let draft = InjuryDraft {
            body_region: take("body_region"),
            injury_type: take("injury_type"),
            side: take("side"),
            mechanism: take("mechanism"),
            occurred_on: take("occurred_on"),
            severity: f.remove("severity"),
            notes: f.remove("notes"),
            time_loss_days,
        };
        // The subject is resolved below; the fields are checked now.
        match NewInjury::check(SubjectId::new(), draft, today) {
            Ok(new) => checked.push((row, subject, new)),
            Err(e) => errors.push(import::row_error(row, e)?),
        }
    }
    let org = scope.org();
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let ready = import::resolve_subjects(&mut tx, &app.phi, org, checked, &mut errors).await?;
    if !errors.is_empty() {
        // Nothing is stored: the transaction is dropped unwritten.
        errors.sort_by_key(|e| e.row);
        return Ok(Err(errors));
    }
    let mut ids = Vec::with_capacity(ready.len());
    for new in ready {
        ids.push(write_injury(app, &mut tx, org, caller, new, now).await?.id);
    }
    tx.commit().await?;
    Ok(Ok(ids))
}

/// The columns of a decisions import: the injury's id (as an injuries import returned it)
/// and the decision's fields.
pub const IMPORT_DECISION_COLUMNS: &[&str] = &["injury", "stage", "decided_on", "restrictions"];

/// Imports return-to-duty decisions (CSV or NDJSON, [`IMPORT_DECISION_COLUMNS`]), in row
/// order: every row is checked as a single decision is, its injury must be the
/// organisation's and the decision not dated before it; all or none, every row that cannot be
/// taken reported by number. Returns the decisions' ids in row order.
pub async fn import_decisions(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    format: import::Format,
    body: &[u8],
) -> Result<Result<Vec<String>, Vec<RowError>>, AppError> {
    let (rows, mut errors) = import::rows(format, body, IMPORT_DECISION_COLUMNS)?;
    let today = app.today();
    let mut checked = Vec::with_capacity(rows.len());
    for (row, mut f) in rows {
        let Some(Ok(injury)) = f.get("injury").map(|i| InjuryId::parse(i)) else {
            errors.push(RowError {
                row,
                error: "injury must be an injury id".into(),
            });
            continue;
        };
        let draft = DecisionDraft {
            stage: f.remove("stage").unwrap_or_default(),
            decided_on: f.remove("decided_on").unwrap_or_default(),
            restrictions: f.remove("restrictions"),
        };
        match NewDecision::check(injury, draft, today) {
            Ok(new) => checked.push((row, new)),
            Err(e) => errors.push(import::row_error(row, e)?),
        }
    }
    let org = scope.org();
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let mut ready = Vec::with_capacity(checked.len());
    for (row, new) in checked {
        match injuries::get(&mut tx, new.injury).await {
            Ok(injury) if new.decided_on.to_string() < injury.occurred_on => {
                errors.push(RowError {
                    row,
                    error: "decided_on is before the injury occurred".into(),
                });
            }
            Ok(injury) => ready.push((injury, new)),
            Err(mhp_storage::StorageError::NotFound { .. }) => errors.push(RowError {
                row,
                error: "injury is not one of the organisation's".into(),
            }),
            Err(e) => return Err(e.into()),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Ok(Err(errors));
    }
    let mut ids = Vec::with_capacity(ready.len());
    for (injury, new) in ready {
        ids.push(write_decision(app, &mut tx, org, caller, &injury, new, now).await?);
    }
    tx.commit().await?;
    Ok(Ok(ids))
}

/// The organisation's injuries not yet cleared, newest first, with their latest stage: the
/// clinicians' list of who is still on the way back. Recorded as `injury.list`.
pub async fn open(
    app: &crate::App,
    scope: &mhp_domain::OrgScope,
    caller: &crate::Caller,
) -> Result<Vec<mhp_storage::repo::injuries::OpenInjury>, crate::AppError> {
    let now = app.now();
    let open = {
        let mut tx = app.db.tenant(scope, mhp_storage::Access::Read).await?;
        mhp_storage::repo::injuries::open(&mut tx).await?
    };
    caller
        .record_read(app, scope, "injury.list", "injury", None, now)
        .await?;
    Ok(open)
}
