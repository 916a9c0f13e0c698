//! Injury-risk scoring as the rest of the platform sets it in motion: a new jump test enqueues
//! a `score-subject` run, a model moved into production schedules the nightly `score-all`, and
//! a person's or the promotion gate's decision moves a model version between stages (and a
//! version entering production enqueues `score-all` at once). Each runs
//! inside the caller's transaction, so the change and what it sets in motion commit together.

use mhp_biomech::TrialKind;
use mhp_domain::pipeline::{self, Trigger};
use mhp_domain::{ModelVersionId, Timestamp};
use mhp_storage::repo::assessments::Assessment;
use mhp_storage::repo::models::{self, ModelVersion, Stage};
use mhp_storage::repo::pipelines::{self as queue, Schedule};
use mhp_storage::{StorageError, TenantTx};

use crate::Caller;
use crate::schedule::CronSchedule;

/// The nightly batch that a model in production implies: 03:00 UTC.
pub const NIGHTLY_SCORING: &str = "0 3 * * *";

/// A new jump test changes the subject's features: when the organisation has a model in
/// production, a `score-subject` run is enqueued in the upload's own transaction, so the event
/// is never lost (or recorded without the upload). Returns whether it was.
pub async fn enqueue_for_assessment(
    tx: &mut TenantTx,
    assessment: &Assessment,
    now: Timestamp,
) -> Result<bool, StorageError> {
    if assessment.kind != TrialKind::Cmj.code()
        || models::production(tx, pipeline::RISK_MODEL)
            .await?
            .is_none()
    {
        return Ok(false);
    }
    let Some(def) = pipeline::pipeline(pipeline::SCORE_SUBJECT) else {
        return Ok(false);
    };
    let params = serde_json::json!({ "subject": assessment.subject.to_string() }).to_string();
    queue::enqueue(
        tx,
        &queue::NewRun {
            pipeline: def,
            trigger: Trigger::Event,
            requested_by: "event:assessment",
            params_json: &params,
            not_before: now,
        },
        now,
    )
    .await?;
    Ok(true)
}

/// Schedules `score-all` nightly when the organisation has no schedule of it yet (a schedule
/// someone set, or removed and re-set, is left alone). Called in the transaction that puts a
/// model into production. Returns whether it created one.
pub async fn ensure_nightly_scoring(
    tx: &mut TenantTx,
    now: Timestamp,
) -> Result<bool, StorageError> {
    if queue::schedules(tx)
        .await?
        .iter()
        .any(|s| s.pipeline == pipeline::SCORE_ALL)
    {
        return Ok(false);
    }
    let Some(next) = CronSchedule::parse(NIGHTLY_SCORING, "UTC")
        .ok()
        .and_then(|c| c.next_after(now))
    else {
        return Ok(false);
    };
    queue::put_schedule(
        tx,
        &Schedule {
            id: uuid::Uuid::now_v7().to_string(),
            org: tx.org(),
            pipeline: pipeline::SCORE_ALL.to_owned(),
            cron: NIGHTLY_SCORING.to_owned(),
            timezone: "UTC".to_owned(),
            params_json: "{}".to_owned(),
            enabled: true,
            next_fire: next,
            last_fire: None,
            last_run: None,
        },
        now,
    )
    .await?;
    Ok(true)
}

/// A model entering production (promotion, approval, rollback) changes everyone's score:
/// a `score-all` run is enqueued in the same transaction, so scores follow the new model at
/// once rather than at the next nightly run. Returns whether it was.
pub async fn enqueue_score_all(tx: &mut TenantTx, now: Timestamp) -> Result<bool, StorageError> {
    let Some(def) = pipeline::pipeline(pipeline::SCORE_ALL) else {
        return Ok(false);
    };
    queue::enqueue(
        tx,
        &queue::NewRun {
            pipeline: def,
            trigger: Trigger::Event,
            requested_by: "event:model-production",
            params_json: "{}",
            not_before: now,
        },
        now,
    )
    .await?;
    Ok(true)
}

/// What moving a version between stages did.
#[derive(Debug)]
pub struct StageChange {
    /// The version, in its new stage.
    pub version: ModelVersion,
    /// The production version it displaced (now archived), if any.
    pub displaced: Option<ModelVersion>,
    /// Whether the nightly `score-all` was scheduled because of it.
    pub nightly_scheduled: bool,
    /// Whether a `score-all` run was enqueued (a version entered production).
    pub scoring_enqueued: bool,
}

/// Moves a model version to `stage` (a person's decision, or the promotion gate's): into
/// production, the current production version is archived and the nightly scoring is
/// scheduled if the organisation has none. Every change is audited in `tx`, the displaced
/// version's archival too.
pub async fn set_stage(
    tx: &mut TenantTx,
    caller: &Caller,
    id: ModelVersionId,
    stage: Stage,
    now: Timestamp,
) -> Result<StageChange, StorageError> {
    let (version, displaced) = models::set_stage(tx, id, stage, now).await?;
    let nightly_scheduled = stage == Stage::Production && ensure_nightly_scoring(tx, now).await?;
    let scoring_enqueued = stage == Stage::Production && enqueue_score_all(tx, now).await?;
    let action = match stage {
        Stage::Production => "model.promote",
        Stage::Staging => "model.stage",
        _ => "model.archive",
    };
    caller
        .record(
            tx,
            action,
            "model_version",
            Some(version.id.to_string()),
            now,
        )
        .await?;
    if let Some(d) = &displaced {
        caller
            .record(
                tx,
                "model.archive",
                "model_version",
                Some(d.id.to_string()),
                now,
            )
            .await?;
    }
    Ok(StageChange {
        version,
        displaced,
        nightly_scheduled,
        scoring_enqueued,
    })
}

/// Every model of the organisation with its versions, newest first.
pub async fn models(
    app: &crate::App,
    scope: &mhp_domain::OrgScope,
) -> Result<Vec<(String, Vec<ModelVersion>)>, crate::AppError> {
    let mut tx = app.db.tenant(scope, mhp_storage::Access::Read).await?;
    let mut out = Vec::new();
    for name in models::names(&mut tx).await? {
        let versions = models::versions(&mut tx, &name).await?;
        out.push((name, versions));
    }
    Ok(out)
}

/// Moves a version between stages in a transaction of its own (a person's decision through
/// the API or a page); see [`set_stage`].
pub async fn decide_stage(
    app: &crate::App,
    scope: &mhp_domain::OrgScope,
    caller: &Caller,
    id: ModelVersionId,
    stage: Stage,
) -> Result<StageChange, crate::AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, mhp_storage::Access::Write).await?;
    let change = set_stage(&mut tx, caller, id, stage, now).await?;
    tx.commit().await?;
    Ok(change)
}

/// Rolls a model's production back to the version before it: the withdrawn one is archived
/// (and cannot be rolled back to), the restored one scores everyone at once, as a promotion
/// does; both changes are audited with it. A conflict when there is nothing to go back to.
pub async fn rollback(
    app: &crate::App,
    scope: &mhp_domain::OrgScope,
    caller: &Caller,
    model: &str,
) -> Result<ModelVersion, crate::AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, mhp_storage::Access::Write).await?;
    let (restored, withdrawn) = match models::rollback(&mut tx, model, now).await {
        Ok(pair) => pair,
        Err(StorageError::NotFound { .. }) => {
            return Err(crate::AppError::Conflict("nothing to roll back to"));
        }
        Err(e) => return Err(e.into()),
    };
    caller
        .record(
            &mut tx,
            "model.rollback",
            "model_version",
            Some(withdrawn.id.to_string()),
            now,
        )
        .await?;
    caller
        .record(
            &mut tx,
            "model.promote",
            "model_version",
            Some(restored.id.to_string()),
            now,
        )
        .await?;
    enqueue_score_all(&mut tx, now).await?;
    tx.commit().await?;
    Ok(restored)
}

/// The organisation's risk bands.
pub async fn thresholds(
    app: &crate::App,
    scope: &mhp_domain::OrgScope,
) -> Result<mhp_storage::repo::risk::Thresholds, crate::AppError> {
    let mut tx = app.db.tenant(scope, mhp_storage::Access::Read).await?;
    Ok(mhp_storage::repo::risk::thresholds(&mut tx).await?)
}

/// Sets the organisation's risk bands (for scores made from now on), audited with the change;
/// bands must satisfy 0 < moderate < high < 1.
pub async fn set_thresholds(
    app: &crate::App,
    scope: &mhp_domain::OrgScope,
    caller: &Caller,
    t: mhp_storage::repo::risk::Thresholds,
) -> Result<(), crate::AppError> {
    if !t.is_valid() {
        return Err(crate::AppError::malformed(
            "thresholds must satisfy 0 < moderate < high < 1",
        ));
    }
    let now = app.now();
    let mut tx = app.db.tenant(scope, mhp_storage::Access::Write).await?;
    mhp_storage::repo::risk::set_thresholds(&mut tx, t, &caller.actor, now).await?;
    caller
        .record(&mut tx, "risk.thresholds", "organisation", None, now)
        .await?;
    tx.commit().await?;
    Ok(())
}
