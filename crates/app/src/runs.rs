//! Pipeline parameters, checked where a run is asked for (the API, a schedule, the command
//! line) against what the pipeline declares (`mhp_domain::pipeline::ParamDef`): an unknown
//! name, a value of the wrong type or out of range, or a missing required one is refused with
//! a message naming the accepted parameters, instead of being ignored by the steps.

use mhp_domain::pipeline::{ParamKind, PipelineDef, Trigger};
use mhp_domain::{CalendarDate, OrgScope, RunId, SubjectId};
use mhp_storage::Access;
use mhp_storage::repo::pipelines::{self as queue, NewRun, Run, Schedule};
use serde_json::{Map, Value};

use crate::schedule::CronSchedule;
use crate::{App, AppError, Caller};

/// Largest parameter object a run or schedule takes, as JSON text.
pub const MAX_PARAMS_BYTES: usize = 8192;

/// Checks a run's parameters and returns them as stored (JSON text).
pub fn params_text(def: &PipelineDef, params: &Map<String, Value>) -> Result<String, AppError> {
    let text = Value::Object(params.clone()).to_string();
    if text.len() > MAX_PARAMS_BYTES {
        return Err(AppError::malformed("params must be at most 8 KiB"));
    }
    check_params(def, params)?;
    Ok(text)
}

/// Starts a run of `def` with `params` (checked) for the scope's organisation: the run and its
/// audit event commit together, then this process's workers are woken. Answers the run as
/// queued.
pub async fn start(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    def: &PipelineDef,
    params: &Map<String, Value>,
    trigger: Trigger,
) -> Result<Run, AppError> {
    let params = params_text(def, params)?;
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let id = queue::enqueue(
        &mut tx,
        &NewRun {
            pipeline: def,
            trigger,
            requested_by: &caller.actor,
            params_json: &params,
            not_before: now,
        },
        now,
    )
    .await?;
    caller
        .record(
            &mut tx,
            "pipeline.run",
            "pipeline_run",
            Some(id.to_string()),
            now,
        )
        .await?;
    let run = queue::get(&mut tx, id).await?;
    tx.commit().await?;
    app.pipeline_wakeup.notify_one();
    Ok(run)
}

/// Cancels a run: steps not started at once, a running one at its worker's next heartbeat.
pub async fn cancel(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: RunId,
) -> Result<Run, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    queue::cancel(&mut tx, id, now).await?;
    caller
        .record(
            &mut tx,
            "pipeline.cancel",
            "pipeline_run",
            Some(id.to_string()),
            now,
        )
        .await?;
    let run = queue::get(&mut tx, id).await?;
    tx.commit().await?;
    Ok(run)
}

/// A schedule as asked for.
#[derive(Debug, Clone)]
pub struct ScheduleRequest {
    /// Five fields: minute hour day-of-month month day-of-week.
    pub cron: String,
    /// IANA time zone the expression is read in.
    pub timezone: String,
    /// Parameters of the runs it starts.
    pub params: Map<String, Value>,
    /// Whether it fires.
    pub enabled: bool,
}

/// Creates or replaces the schedule of `def` for the scope's organisation.
pub async fn put_schedule(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    def: &PipelineDef,
    request: &ScheduleRequest,
) -> Result<Schedule, AppError> {
    let cron = CronSchedule::parse(&request.cron, &request.timezone)
        .map_err(|detail| AppError::invalid(crate::Code::InvalidSchedule, detail))?;
    let now = app.now();
    let next = cron.next_after(now).ok_or_else(|| {
        AppError::invalid(
            crate::Code::InvalidSchedule,
            "the cron expression never fires",
        )
    })?;
    let params = params_text(def, &request.params)?;
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let saved = queue::put_schedule(
        &mut tx,
        &Schedule {
            id: uuid::Uuid::now_v7().to_string(),
            org: scope.org(),
            pipeline: def.name.to_owned(),
            cron: request
                .cron
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            timezone: request.timezone.clone(),
            params_json: params,
            enabled: request.enabled,
            next_fire: next,
            last_fire: None,
            last_run: None,
        },
        now,
    )
    .await?;
    caller
        .record(
            &mut tx,
            "pipeline.schedule",
            "pipeline",
            Some(def.name.to_owned()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(saved)
}

/// Removes the schedule of `def`; none is no error.
pub async fn delete_schedule(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    def: &PipelineDef,
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    match queue::delete_schedule(&mut tx, def.name).await {
        Ok(()) => {
            caller
                .record(
                    &mut tx,
                    "pipeline.unschedule",
                    "pipeline",
                    Some(def.name.to_owned()),
                    now,
                )
                .await?;
            tx.commit().await?;
            Ok(())
        }
        Err(mhp_storage::StorageError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Checks a run's parameters against its pipeline's declaration.
///
/// # Errors
/// [`AppError::Invalid`] (`invalid-params`) naming the parameter and what the pipeline
/// accepts; the refused value is never echoed.
pub fn check_params(def: &PipelineDef, params: &Map<String, Value>) -> Result<(), AppError> {
    let refuse = |why: String| {
        AppError::invalid(
            crate::Code::InvalidParams,
            format!("{why}; {} accepts: {}", def.name, def.accepted_params()),
        )
    };
    for (name, value) in params {
        let Some(p) = def.param(name) else {
            // Names are shown only when they look like parameter names (no content echoed).
            let shown = if name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                format!("unknown parameter {name}")
            } else {
                "an unknown parameter".to_owned()
            };
            return Err(refuse(shown));
        };
        if !value_fits(p.kind, value) {
            return Err(refuse(format!(
                "parameter {name} must be {}",
                p.kind.describe()
            )));
        }
    }
    if let Some(p) = def
        .params
        .iter()
        .find(|p| p.required && !params.contains_key(p.name))
    {
        return Err(refuse(format!("parameter {} is required", p.name)));
    }
    Ok(())
}

fn value_fits(kind: ParamKind, value: &Value) -> bool {
    match kind {
        ParamKind::Date => value
            .as_str()
            .is_some_and(|s| CalendarDate::parse(s).is_ok()),
        ParamKind::SubjectId => value.as_str().is_some_and(|s| SubjectId::parse(s).is_ok()),
        ParamKind::Number { .. } | ParamKind::Integer { .. } => {
            value.as_f64().is_some_and(|x| kind.number_in_range(x))
        }
        ParamKind::ModelConfig => {
            value.is_object()
                && serde_json::from_value::<mhp_ml::ModelConfig>(value.clone())
                    .is_ok_and(|c| c.validate().is_ok())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use mhp_domain::pipeline::{SCORE_SUBJECT, TRAIN, pipeline};
    use serde_json::json;

    fn check(name: &str, v: Value) -> Result<(), String> {
        let def = pipeline(name).unwrap();
        check_params(def, v.as_object().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn declared_parameters_pass_and_others_are_refused_naming_the_accepted() {
        check(
            TRAIN,
            json!({
                "as_of": "2026-03-01", "season_start": "2025-09-01", "train_fraction": 0.6,
                "test_from": "2026-01-05", "seed": 7, "tolerance": 0.02,
                "gate_min_positives": 5,
                "model": { "model": "logistic", "l2": 1.0, "max_iter": 100, "tol": 1e-8 },
            }),
        )
        .unwrap();
        let e = check(TRAIN, json!({ "test_form": "2026-01-05" })).unwrap_err();
        assert!(e.contains("unknown parameter test_form"), "{e}");
        assert!(e.contains("test_from (a date YYYY-MM-DD)"), "{e}");
        assert!(e.contains("train_fraction (a number in (0, 1))"), "{e}");
        for (bad, why) in [
            (
                json!({ "train_fraction": 1.0 }),
                "train_fraction must be a number in (0, 1)",
            ),
            (json!({ "train_fraction": "0.5" }), "train_fraction must be"),
            (json!({ "as_of": "2026-02-30" }), "as_of must be a date"),
            (json!({ "seed": 1.5 }), "seed must be a whole number"),
            (json!({ "seed": -1 }), "seed must be a whole number"),
            (
                json!({ "tolerance": 0.6 }),
                "tolerance must be a number in [0, 0.5]",
            ),
            (
                json!({ "model": "logistic" }),
                "model must be a model configuration",
            ),
            (json!({ "model": { "model": "forest" } }), "model must be"),
            (json!({ "Bad Name!": 1 }), "an unknown parameter;"),
        ] {
            let e = check(TRAIN, bad).unwrap_err();
            assert!(e.contains(why), "{e} lacks {why}");
            assert!(e.starts_with("invalid-params"), "{e}");
        }
        let e = check(SCORE_SUBJECT, json!({})).unwrap_err();
        assert!(e.contains("parameter subject is required"), "{e}");
        check(
            SCORE_SUBJECT,
            json!({ "subject": mhp_domain::SubjectId::new().to_string() }),
        )
        .unwrap();
    }
}

/// A run with its steps and its log, as the run's page and the API show it.
#[derive(Debug)]
pub struct RunDetail {
    /// The run.
    pub run: Run,
    /// Its steps (jobs), in order.
    pub steps: Vec<queue::Job>,
    /// Its log lines, oldest first (at most `log_limit`).
    pub log: Vec<queue::StoredLogLine>,
}

/// The organisation's runs, newest first (of one pipeline when named).
pub async fn list(
    app: &App,
    scope: &OrgScope,
    pipeline: Option<&str>,
    page: mhp_storage::repo::Page<RunId>,
) -> Result<Vec<Run>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    Ok(queue::list(&mut tx, pipeline, page).await?)
}

/// One run of the organisation with its steps and log.
pub async fn detail(
    app: &App,
    scope: &OrgScope,
    id: RunId,
    log_limit: i64,
) -> Result<RunDetail, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let run = queue::get(&mut tx, id).await?;
    let steps = queue::jobs(&mut tx, id).await?;
    let log = queue::logs(&mut tx, id, log_limit).await?;
    Ok(RunDetail { run, steps, log })
}

/// The organisation's schedules.
pub async fn schedules(app: &App, scope: &OrgScope) -> Result<Vec<Schedule>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    Ok(queue::schedules(&mut tx).await?)
}
