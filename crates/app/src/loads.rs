//! Training load: one session's session-RPE load (Foster: duration in minutes × CR-10 rating),
//! recorded one at a time or imported in bulk.

use mhp_domain::{CalendarDate, OrgScope, SubjectId, Timestamp};
use mhp_storage::repo::loads::{self, LoadEntry};
use mhp_storage::repo::subjects;
use mhp_storage::{Access, TenantTx};

use crate::import::{self, RowError, SubjectRef};
use crate::{App, AppError, Caller};

/// Longest session, minutes.
pub const MAX_DURATION_MIN: u32 = 600;
/// Highest rating of the CR-10 scale.
pub const MAX_RPE: u32 = 10;

/// A session to record, its fields checked ([`NewLoad::check`]).
#[derive(Debug, Clone)]
pub struct NewLoad {
    /// Whose session it was.
    pub subject: SubjectId,
    /// The day (not in the future).
    pub session_date: CalendarDate,
    /// A snake_case code (`training`, `match`, `march`).
    pub session_type: String,
    /// Minutes, 1 to 600.
    pub duration_min: u32,
    /// The CR-10 rating, 0 to 10.
    pub rpe: u32,
}

/// A session as entered (an API body, an import row), before its fields are checked.
#[derive(Debug, Clone, Default)]
pub struct LoadDraft {
    /// `YYYY-MM-DD`.
    pub session_date: String,
    /// A snake_case code.
    pub session_type: String,
    /// Minutes.
    pub duration_min: u32,
    /// The CR-10 rating.
    pub rpe: u32,
}

impl NewLoad {
    /// Checks a draft for `subject`: a day not after `today`, a snake_case type, a duration of
    /// 1 to 600 minutes and a rating of 0 to 10. The one set of rules for every edge.
    pub fn check(
        subject: SubjectId,
        draft: LoadDraft,
        today: CalendarDate,
    ) -> Result<Self, AppError> {
        let session_date = crate::injuries::past_day("session_date", &draft.session_date, today)?;
        let session_type = crate::injuries::code("session_type", &draft.session_type)?;
        if !(1..=MAX_DURATION_MIN).contains(&draft.duration_min) {
            return Err(AppError::malformed(format!(
                "duration_min must be 1 to {MAX_DURATION_MIN}"
            )));
        }
        if draft.rpe > MAX_RPE {
            return Err(AppError::malformed("rpe must be 0 to 10 (CR-10 scale)"));
        }
        Ok(Self {
            subject,
            session_date,
            session_type,
            duration_min: draft.duration_min,
            rpe: draft.rpe,
        })
    }
}

impl import::ForSubject for NewLoad {
    fn set_subject(&mut self, subject: SubjectId) {
        self.subject = subject;
    }
}

/// Records a session's load (duration × RPE) with its audit event; returns it as stored.
pub async fn record(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    new: NewLoad,
) -> Result<LoadEntry, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    subjects::get(&mut tx, new.subject).await?;
    let entry = write(&mut tx, caller, new, now).await?;
    tx.commit().await?;
    Ok(entry)
}

/// Stores one checked session of an existing subject and its audit event.
async fn write(
    tx: &mut TenantTx,
    caller: &Caller,
    new: NewLoad,
    now: Timestamp,
) -> Result<LoadEntry, AppError> {
    let entry = LoadEntry {
        id: uuid::Uuid::now_v7().to_string(),
        subject: new.subject,
        session_date: new.session_date.to_string(),
        session_type: new.session_type,
        duration_min: i64::from(new.duration_min),
        rpe: i64::from(new.rpe),
        load_au: i64::from(new.duration_min) * i64::from(new.rpe),
        recorded_by: caller.actor.clone(),
        created_at: now,
    };
    loads::create(tx, &entry).await?;
    caller
        .record(
            tx,
            "load.create",
            "subject",
            Some(new.subject.to_string()),
            now,
        )
        .await?;
    Ok(entry)
}

/// The columns of a loads import: the subject (`subject`, MHP's id, or `external_id`) and the
/// session's fields as the single-session form has them.
pub const IMPORT_COLUMNS: &[&str] = &[
    "subject",
    "external_id",
    "session_date",
    "session_type",
    "duration_min",
    "rpe",
];

/// Imports sessions (CSV or NDJSON, [`IMPORT_COLUMNS`]): every row is checked as a single
/// session is, and its subject must be one of the organisation's (not archived); when any row
/// cannot be taken, nothing is stored and every such row is reported by number; otherwise all
/// are stored with their audit events in one transaction. Returns the sessions' ids in row
/// order.
pub async fn import(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    format: import::Format,
    body: &[u8],
) -> Result<Result<Vec<String>, Vec<RowError>>, AppError> {
    let (rows, mut errors) = import::rows(format, body, IMPORT_COLUMNS)?;
    let today = app.today();
    let mut checked = Vec::with_capacity(rows.len());
    for (row, f) in rows {
        let parsed = (|| {
            let subject = SubjectRef::of(&f)?;
            let duration_min =
                import::whole_number(&f, "duration_min")?.ok_or("duration_min is required")?;
            let rpe = import::whole_number(&f, "rpe")?.ok_or("rpe is required")?;
            Ok::<_, String>((subject, duration_min, rpe))
        })();
        let (subject, duration_min, rpe) = match parsed {
            Ok(p) => p,
            Err(error) => {
                errors.push(RowError { row, error });
                continue;
            }
        };
        let draft = LoadDraft {
            session_date: f.get("session_date").cloned().unwrap_or_default(),
            session_type: f.get("session_type").cloned().unwrap_or_default(),
            duration_min,
            rpe,
        };
        // The subject is resolved below; the fields are checked now, against any id.
        match NewLoad::check(SubjectId::new(), draft, today) {
            Ok(new) => checked.push((row, subject, new)),
            Err(e) => errors.push(import::row_error(row, e)?),
        }
    }
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let ready =
        import::resolve_subjects(&mut tx, &app.phi, scope.org(), checked, &mut errors).await?;
    if !errors.is_empty() {
        // Nothing is stored: the transaction is dropped unwritten.
        errors.sort_by_key(|e| e.row);
        return Ok(Err(errors));
    }
    let mut ids = Vec::with_capacity(ready.len());
    for new in ready {
        ids.push(write(&mut tx, caller, new, now).await?.id);
    }
    tx.commit().await?;
    Ok(Ok(ids))
}
