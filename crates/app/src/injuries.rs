//! Injuries and return to duty: recording an injury and a decision on it. The edges check the
//! fields' form (codes, dates, lengths); these functions hold the rules that need the record
//! (the subject exists, a decision is not dated before its injury), seal the free text with the
//! subject's key and write the change with its audit event in one transaction.

use mhp_domain::{CalendarDate, InjuryId, OrgScope, SubjectId};
use mhp_storage::Access;
use mhp_storage::repo::injuries::{self, Decision, Injury};
use mhp_storage::repo::subjects;

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

/// Records an injury; returns it as stored.
pub async fn record(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    new: NewInjury,
) -> Result<Injury, AppError> {
    let org = scope.org();
    let id = InjuryId::new();
    let row = id.to_string();
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    subjects::get(&mut tx, new.subject).await?;
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
    injuries::create(&mut tx, &injury).await?;
    caller
        .record(&mut tx, "injury.create", "injury", Some(row), now)
        .await?;
    tx.commit().await?;
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
    let org = scope.org();
    let now = app.now();
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let injury = injuries::get(&mut tx, new.injury).await?;
    if new.decided_on.to_string() < injury.occurred_on {
        return Err(AppError::invalid(
            crate::Code::InvalidDate,
            "decided_on is before the injury occurred",
        ));
    }
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
        id,
        injury: new.injury,
        stage: new.stage,
        decided_on: new.decided_on.to_string(),
        decided_by: caller.actor.clone(),
        created_at: now,
    };
    injuries::add_decision(&mut tx, &decision).await?;
    caller
        .record(
            &mut tx,
            "injury.decision",
            "injury",
            Some(new.injury.to_string()),
            now,
        )
        .await?;
    let injury = injuries::get(&mut tx, new.injury).await?;
    tx.commit().await?;
    Ok(injury)
}
