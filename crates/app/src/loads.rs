//! Training load: one session's session-RPE load (Foster: duration in minutes × CR-10 rating).

use mhp_domain::{CalendarDate, OrgScope, SubjectId};
use mhp_storage::Access;
use mhp_storage::repo::loads::{self, LoadEntry};
use mhp_storage::repo::subjects;

use crate::{App, AppError, Caller};

/// A session to record, its fields checked by the edge.
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

/// Records a session's load (duration × RPE) with its audit event; returns it as stored.
pub async fn record(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    new: NewLoad,
) -> Result<LoadEntry, AppError> {
    let now = app.now();
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
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    subjects::get(&mut tx, new.subject).await?;
    loads::create(&mut tx, &entry).await?;
    caller
        .record(
            &mut tx,
            "load.create",
            "subject",
            Some(new.subject.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(entry)
}
