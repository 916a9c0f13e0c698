//! Pipelines, the model registry and risk scores over HTTP. The server only enqueues and
//! reads: workers (`mhp-pipelines`) run the steps.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mhp_domain::pipeline::{self, Trigger};
use mhp_domain::{ModelVersionId, RunId, SubjectId};
use mhp_storage::Access;
use mhp_storage::repo::models::{self, ModelVersion, Stage};
use mhp_storage::repo::pipelines::{Run, Schedule};
use mhp_storage::repo::risk::{self, Score, Thresholds};
use mhp_storage::repo::{Page, subjects};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Grant, path_id};
use crate::{ApiError, ApiJson, AppState};

fn known_pipeline(name: &str) -> Result<&'static pipeline::PipelineDef, ApiError> {
    pipeline::pipeline(name).ok_or(ApiError::NotFound("pipeline"))
}

/// A schedule as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ScheduleOut {
    cron: String,
    timezone: String,
    params: Value,
    enabled: bool,
    next_fire_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_fire_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_run_id: Option<String>,
}

impl From<Schedule> for ScheduleOut {
    fn from(s: Schedule) -> Self {
        Self {
            cron: s.cron,
            timezone: s.timezone,
            params: serde_json::from_str(&s.params_json).unwrap_or(Value::Null),
            enabled: s.enabled,
            next_fire_ms: s.next_fire.as_millis(),
            last_fire_ms: s.last_fire.map(|t| t.as_millis()),
            last_run_id: s.last_run,
        }
    }
}

/// A pipeline of the catalogue, with the organisation's schedule of it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PipelineOut {
    name: &'static str,
    description: &'static str,
    steps: Vec<StepOut>,
    priority: i32,
    max_concurrent: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<ScheduleOut>,
}

/// A step of a pipeline.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct StepOut {
    name: &'static str,
    needs: Vec<&'static str>,
    timeout_s: u32,
    max_attempts: u32,
}

/// `GET /api/v1/orgs/{org}/pipelines`: the catalogue and the organisation's schedules.
pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<Vec<PipelineOut>>, ApiError> {
    let mut schedules = mhp_app::runs::schedules(&state.app, &grant.org()?).await?;
    Ok(Json(
        pipeline::CATALOGUE
            .iter()
            .map(|p| PipelineOut {
                name: p.name,
                description: p.description,
                steps: p
                    .steps
                    .iter()
                    .map(|s| StepOut {
                        name: s.name,
                        needs: s.needs.to_vec(),
                        timeout_s: s.timeout_s,
                        max_attempts: s.max_attempts,
                    })
                    .collect(),
                priority: p.priority,
                max_concurrent: p.max_concurrent,
                schedule: schedules
                    .iter()
                    .position(|s| s.pipeline == p.name)
                    .map(|i| schedules.swap_remove(i).into()),
            })
            .collect(),
    ))
}

/// Parameters of a run.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRunIn {
    #[serde(default)]
    #[schemars(schema_with = "params_schema")]
    params: Option<serde_json::Map<String, Value>>,
}

/// The schema of a run's (or a schedule's) `params`, from the pipeline catalogue: every
/// parameter any pipeline declares, with its type and range, and in the description which
/// pipeline takes which (the pipeline is named by the path, so the body's schema cannot choose
/// among them; a parameter the named pipeline does not take is refused with 422
/// `invalid-params`).
pub(crate) fn params_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    use mhp_domain::pipeline::ParamKind;
    let mut properties = serde_json::Map::new();
    for def in pipeline::CATALOGUE {
        for p in def.params {
            let entry = properties.entry(p.name).or_insert_with(|| {
                let mut schema = match p.kind {
                    ParamKind::Date => serde_json::json!({"type": "string", "format": "date"}),
                    ParamKind::Number {
                        min,
                        max,
                        exclusive: true,
                    } => serde_json::json!({"type": "number", "exclusiveMinimum": min,
                        "exclusiveMaximum": max}),
                    ParamKind::Number { min, max, .. } => {
                        serde_json::json!({"type": "number", "minimum": min, "maximum": max})
                    }
                    ParamKind::Integer { min, max } => {
                        serde_json::json!({"type": "integer", "minimum": min, "maximum": max})
                    }
                    ParamKind::SubjectId => serde_json::json!({"type": "string", "format": "uuid"}),
                    ParamKind::ModelConfig => serde_json::json!({"type": "object"}),
                };
                schema["description"] = Value::String(p.description.to_owned());
                schema["x-pipelines"] = Value::Array(Vec::new());
                schema
            });
            if let Some(Value::Array(names)) = entry.get_mut("x-pipelines") {
                names.push(Value::String(def.name.to_owned()));
            }
        }
    }
    let per_pipeline: Vec<String> = pipeline::CATALOGUE
        .iter()
        .map(|def| {
            let required: Vec<&str> = def
                .params
                .iter()
                .filter(|p| p.required)
                .map(|p| p.name)
                .collect();
            let names: Vec<&str> = def.params.iter().map(|p| p.name).collect();
            if required.is_empty() {
                format!("`{}`: {}", def.name, names.join(", "))
            } else {
                format!(
                    "`{}`: {} (required: {})",
                    def.name,
                    names.join(", "),
                    required.join(", ")
                )
            }
        })
        .collect();
    let mut schema = serde_json::json!({
        "type": ["object", "null"],
        "description": format!(
            "The pipeline's parameters, a JSON object of at most 8 KiB. Each pipeline takes its \
             own (`x-pipelines` on each property names them): {}. Any other is refused (422 \
             `invalid-params`, naming the accepted ones).",
            per_pipeline.join("; ")
        ),
        "additionalProperties": false,
    });
    schema["properties"] = Value::Object(properties);
    schemars::Schema::try_from(schema).unwrap_or_default()
}

/// A run as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RunOut {
    id: String,
    pipeline: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::Trigger>")]
    trigger: &'static str,
    requested_by: String,
    params: Value,
    #[schemars(schema_with = "super::sets::one::<super::sets::RunStatus>")]
    status: &'static str,
    cancel_requested: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    created_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<Vec<JobOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logs: Option<Vec<LogOut>>,
}

impl From<Run> for RunOut {
    fn from(r: Run) -> Self {
        Self {
            id: r.id.to_string(),
            pipeline: r.pipeline,
            trigger: r.trigger.as_str(),
            requested_by: r.requested_by,
            params: serde_json::from_str(&r.params_json).unwrap_or(Value::Null),
            status: r.status.as_str(),
            cancel_requested: r.cancel_requested,
            error: r.error,
            created_at_ms: r.created_at.as_millis(),
            started_at_ms: r.started_at.map(|t| t.as_millis()),
            finished_at_ms: r.finished_at.map(|t| t.as_millis()),
            steps: None,
            logs: None,
        }
    }
}

/// A step of a run.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct JobOut {
    step: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::RunStatus>")]
    status: String,
    attempts: i64,
    max_attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at_ms: Option<i64>,
}

/// A log line of a run.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LogOut {
    step: String,
    attempt: i64,
    at_ms: i64,
    level: String,
    message: String,
}

/// `POST /api/v1/orgs/{org}/pipelines/{pipeline}/runs`: starts a run (workers pick it up).
pub async fn start(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<NewRunIn>,
) -> Result<(StatusCode, Json<RunOut>), ApiError> {
    let def = known_pipeline(&name)?;
    let params = body.params.unwrap_or_default();
    let run = mhp_app::runs::start(
        &state.app,
        &grant.org()?,
        &grant.caller(),
        def,
        &params,
        Trigger::Api,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// Paging of runs.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Only this pipeline's runs.
    pipeline: Option<String>,
    /// The last run id of the previous page.
    after: Option<String>,
    /// At most this many (1 to 500, default 50).
    limit: Option<u32>,
}

/// `GET /api/v1/orgs/{org}/pipeline-runs`: newest first.
pub async fn runs(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<RunsQuery>,
) -> Result<Json<Vec<RunOut>>, ApiError> {
    let after = q
        .after
        .as_deref()
        .map(|a| RunId::parse(a).map_err(|_| ApiError::BadRequest("after must be a run id".into())))
        .transpose()?;
    let runs = mhp_app::runs::list(
        &state.app,
        &grant.org()?,
        q.pipeline.as_deref(),
        Page {
            after,
            limit: q.limit.unwrap_or(50),
        },
    )
    .await?;
    Ok(Json(runs.into_iter().map(RunOut::from).collect()))
}

/// `GET /api/v1/orgs/{org}/pipeline-runs/{run}`: the run, its steps and its log.
pub async fn run(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, run)): Path<(String, String)>,
) -> Result<Json<RunOut>, ApiError> {
    let id = path_id(&run, "pipeline run", RunId::parse)?;
    let mhp_app::runs::RunDetail {
        run: r,
        steps: jobs,
        log: logs,
    } = mhp_app::runs::detail(&state.app, &grant.org()?, id, 1000).await?;
    let mut out = RunOut::from(r);
    out.steps = Some(
        jobs.into_iter()
            .map(|j| JobOut {
                step: j.step,
                status: j.status,
                attempts: j.attempts,
                max_attempts: j.max_attempts,
                output: j.output_json.and_then(|o| serde_json::from_str(&o).ok()),
                error: j.error,
                started_at_ms: j.started_at.map(|t| t.as_millis()),
                finished_at_ms: j.finished_at.map(|t| t.as_millis()),
            })
            .collect(),
    );
    out.logs = Some(
        logs.into_iter()
            .map(|l| LogOut {
                step: l.step,
                attempt: l.attempt,
                at_ms: l.at.as_millis(),
                level: l.level,
                message: l.message,
            })
            .collect(),
    );
    Ok(Json(out))
}

/// `POST /api/v1/orgs/{org}/pipeline-runs/{run}/cancel`: steps not started are cancelled at
/// once, a running one at its worker's next heartbeat.
pub async fn cancel(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, run)): Path<(String, String)>,
) -> Result<Json<RunOut>, ApiError> {
    let id = path_id(&run, "pipeline run", RunId::parse)?;
    let run = mhp_app::runs::cancel(&state.app, &grant.org()?, &grant.caller(), id).await?;
    Ok(Json(run.into()))
}

/// A schedule to set.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    /// Five fields: minute hour day-of-month month day-of-week (`0 3 * * *`: 03:00 daily).
    cron: String,
    /// IANA time zone the expression is read in (`Europe/Oslo`); default `UTC`.
    timezone: Option<String>,
    // Parameters of the runs it starts (described by the schema, as a run's).
    #[schemars(schema_with = "params_schema")]
    params: Option<serde_json::Map<String, Value>>,
    /// Whether it fires (default true).
    enabled: Option<bool>,
}

/// `PUT /api/v1/orgs/{org}/pipelines/{pipeline}/schedule`: creates or replaces the schedule.
pub async fn put_schedule(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<ScheduleIn>,
) -> Result<Json<ScheduleOut>, ApiError> {
    let def = known_pipeline(&name)?;
    let request = mhp_app::runs::ScheduleRequest {
        cron: body.cron,
        timezone: body.timezone.unwrap_or_else(|| "UTC".to_owned()),
        params: body.params.unwrap_or_default(),
        enabled: body.enabled.unwrap_or(true),
    };
    let saved =
        mhp_app::runs::put_schedule(&state.app, &grant.org()?, &grant.caller(), def, &request)
            .await?;
    Ok(Json(saved.into()))
}

/// `DELETE /api/v1/orgs/{org}/pipelines/{pipeline}/schedule`: removes it (no schedule is no
/// error).
pub async fn delete_schedule(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let def = known_pipeline(&name)?;
    mhp_app::runs::delete_schedule(&state.app, &grant.org()?, &grant.caller(), def).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A model version as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct VersionOut {
    id: String,
    model: String,
    version: i64,
    #[schemars(schema_with = "super::sets::one::<super::sets::ModelKind>")]
    kind: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::ModelStage>")]
    stage: &'static str,
    features: Value,
    lineage: Value,
    metrics: Value,
    artifact_sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    training_run_id: Option<String>,
    created_by: String,
    created_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    promoted_at_ms: Option<i64>,
    stage_changed_at_ms: i64,
}

impl From<ModelVersion> for VersionOut {
    fn from(v: ModelVersion) -> Self {
        let parse = |s: &str| serde_json::from_str(s).unwrap_or(Value::Null);
        Self {
            id: v.id.to_string(),
            model: v.model,
            version: v.version,
            kind: v.kind,
            stage: v.stage.as_str(),
            features: parse(&v.features_json),
            lineage: parse(&v.lineage_json),
            metrics: parse(&v.metrics_json),
            artifact_sha256: v.artifact_sha256,
            training_run_id: v.training_run,
            created_by: v.created_by,
            created_at_ms: v.created_at.as_millis(),
            promoted_at_ms: v.promoted_at.map(|t| t.as_millis()),
            stage_changed_at_ms: v.stage_changed_at.as_millis(),
        }
    }
}

/// A model and its versions.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ModelOut {
    name: String,
    versions: Vec<VersionOut>,
}

/// `GET /api/v1/orgs/{org}/models`: every model with its versions, newest first.
pub async fn models_list(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<Vec<ModelOut>>, ApiError> {
    let models = mhp_app::scoring::models(&state.app, &grant.org()?).await?;
    Ok(Json(
        models
            .into_iter()
            .map(|(name, versions)| ModelOut {
                name,
                versions: versions.into_iter().map(VersionOut::from).collect(),
            })
            .collect(),
    ))
}

/// `GET /api/v1/orgs/{org}/model-versions/{version}`.
pub async fn version(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, version)): Path<(String, String)>,
) -> Result<Json<VersionOut>, ApiError> {
    let id = path_id(&version, "model version", ModelVersionId::parse)?;
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    Ok(Json(models::get(&mut tx, id).await?.into()))
}

/// A stage to move a version to.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageIn {
    /// `staging`, `production` (the approval of a candidate the gate held back) or
    /// `archived`.
    #[schemars(schema_with = "super::sets::one::<super::sets::TargetStage>")]
    stage: String,
}

/// `POST /api/v1/orgs/{org}/model-versions/{version}/stage`: a person's decision; into
/// production, the current production version is archived.
pub async fn set_stage(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<StageIn>,
) -> Result<Json<VersionOut>, ApiError> {
    let id = path_id(&version, "model version", ModelVersionId::parse)?;
    let stage = Stage::parse(&body.stage)
        .filter(|s| *s != Stage::Candidate)
        .ok_or_else(|| {
            ApiError::BadRequest("stage must be staging, production or archived".into())
        })?;
    let change =
        mhp_app::scoring::decide_stage(&state.app, &grant.org()?, &grant.caller(), id, stage)
            .await?;
    Ok(Json(change.version.into()))
}

/// `POST /api/v1/orgs/{org}/models/{model}/rollback`: production goes back to the version
/// before it; the withdrawn one is archived and cannot be rolled back to.
pub async fn rollback(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, model)): Path<(String, String)>,
) -> Result<Json<VersionOut>, ApiError> {
    let restored =
        mhp_app::scoring::rollback(&state.app, &grant.org()?, &grant.caller(), &model).await?;
    Ok(Json(restored.into()))
}

/// A risk score as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ScoreOut {
    subject_id: String,
    as_of: String,
    probability: f64,
    #[schemars(schema_with = "super::sets::one::<super::sets::Band>")]
    band: String,
    model_version_id: String,
    /// The features that moved this score most: `{feature, value, contribution}` (log-odds).
    contributions: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<String>,
    scored_at_ms: i64,
}

impl From<Score> for ScoreOut {
    fn from(s: Score) -> Self {
        Self {
            subject_id: s.subject.to_string(),
            as_of: s.as_of,
            probability: s.probability,
            band: s.band,
            model_version_id: s.model_version.to_string(),
            contributions: serde_json::from_str(&s.contributions_json).unwrap_or(Value::Null),
            run_id: s.run.map(|r| r.to_string()),
            scored_at_ms: s.scored_at.as_millis(),
        }
    }
}

/// Paging of a score history.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// At most this many (1 to 1000, default 100).
    limit: Option<i64>,
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/risk`: the subject's scores, newest first.
pub async fn subject_risk(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Vec<ScoreOut>>, ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    let s = subjects::get(&mut tx, subject).await?;
    if s.erased_at.is_some() {
        return Err(ApiError::Gone("subject"));
    }
    let history = risk::history(&mut tx, subject, q.limit.unwrap_or(100)).await?;
    drop(tx);
    // Reading a subject's scores is a clinical read: audited before it is answered.
    grant
        .record_read(
            &state.app,
            "risk.read",
            "subject",
            Some(subject.to_string()),
            now,
        )
        .await?;
    Ok(Json(history.into_iter().map(ScoreOut::from).collect()))
}

/// The organisation's latest scores and its bands.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RiskOut {
    thresholds: ThresholdsOut,
    /// Every scored subject's latest score, highest first.
    scores: Vec<ScoreOut>,
}

/// `GET /api/v1/orgs/{org}/risk`: every subject's latest score, highest first.
pub async fn latest(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<RiskOut>, ApiError> {
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    let t = risk::thresholds(&mut tx).await?;
    let scores = risk::latest(&mut tx).await?;
    drop(tx);
    grant
        .record_read(&state.app, "risk.list", "organisation", None, now)
        .await?;
    Ok(Json(RiskOut {
        thresholds: t.into(),
        scores: scores.into_iter().map(ScoreOut::from).collect(),
    }))
}

/// Risk-band thresholds.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsOut {
    /// Probability from which a score is `moderate`.
    moderate: f64,
    /// Probability from which a score is `high`.
    high: f64,
}

impl From<Thresholds> for ThresholdsOut {
    fn from(t: Thresholds) -> Self {
        Self {
            moderate: t.moderate,
            high: t.high,
        }
    }
}

/// `GET /api/v1/orgs/{org}/risk/thresholds`.
pub async fn thresholds(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<ThresholdsOut>, ApiError> {
    Ok(Json(
        mhp_app::scoring::thresholds(&state.app, &grant.org()?)
            .await?
            .into(),
    ))
}

/// `PUT /api/v1/orgs/{org}/risk/thresholds`: new bands apply to scores made from now on.
pub async fn put_thresholds(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<ThresholdsOut>,
) -> Result<Json<ThresholdsOut>, ApiError> {
    let t = Thresholds {
        moderate: body.moderate,
        high: body.high,
    };
    mhp_app::scoring::set_thresholds(&state.app, &grant.org()?, &grant.caller(), t).await?;
    Ok(Json(t.into()))
}

/// An ONNX model trained elsewhere, with what MHP checks it against.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(feature = "onnx"), allow(dead_code))]
pub struct OnnxUpload {
    /// The ONNX file, base64. Export with `zipmap=False` (skl2onnx) so the probabilities are a
    /// tensor; two classes, class 1 the injury.
    onnx_base64: String,
    /// The feature schema: the names of the model's input columns, in order. They must be some
    /// of the platform's injury-risk features, in the platform's order, so the model can score.
    features: Vec<String>,
    /// Rows (1 to 1000) the model is run on before it is accepted; `null` for a missing value.
    samples: Vec<Vec<Option<f64>>>,
    /// The training library's own probabilities for `samples`: when given, MHP's answers must
    /// match them within `tolerance`.
    expected: Option<Vec<f64>>,
    /// Largest accepted difference from `expected` (default 1e-4).
    tolerance: Option<f64>,
    /// Reference values of the features (such as training medians) that explanations
    /// compare against and that stand in for missing values when the model cannot take them;
    /// default: the medians of `samples`.
    reference: Option<Vec<f64>>,
}

#[cfg(feature = "onnx")]
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Checks an upload and returns the sealed-artifact bytes, lineage facts and the reference.
#[cfg(feature = "onnx")]
async fn check_onnx(body: OnnxUpload) -> Result<(Vec<u8>, Vec<String>, Vec<f64>, Value), ApiError> {
    use base64::Engine as _;
    let invalid = |detail: String| ApiError::Invalid {
        code: mhp_app::Code::InvalidModel,
        detail,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.onnx_base64.as_bytes())
        .map_err(|_| ApiError::BadRequest("onnx_base64 is not base64".into()))?;
    // A model reads some of the platform's injury-risk features, in the platform's order
    // (scoring builds them all and gives the model its own).
    let platform = mhp_ml::features::FeatureSpec::injury_risk().names();
    let positions: Option<Vec<usize>> = body
        .features
        .iter()
        .map(|f| platform.iter().position(|p| p == f))
        .collect();
    let in_order = positions.is_some_and(|p| !p.is_empty() && p.windows(2).all(|w| w[0] < w[1]));
    if !in_order {
        return Err(invalid(format!(
            "features must be some of the platform's injury-risk features, each once, in this \
             order: {}",
            platform.join(", ")
        )));
    }
    let width = body.features.len();
    let body_features = body.features.clone();
    if body.samples.is_empty() || body.samples.len() > 1000 {
        return Err(ApiError::BadRequest(
            "samples must hold 1 to 1000 rows".into(),
        ));
    }
    if body.samples.iter().any(|r| r.len() != width) {
        return Err(ApiError::BadRequest(format!(
            "every sample row must have {width} values"
        )));
    }
    if let Some(e) = &body.expected
        && e.len() != body.samples.len()
    {
        return Err(ApiError::BadRequest(
            "expected must have one probability per sample row".into(),
        ));
    }
    let reference = match body.reference {
        Some(r) if r.len() == width && r.iter().all(|x| x.is_finite()) => r,
        Some(_) => {
            return Err(ApiError::BadRequest(format!(
                "reference must hold {width} finite values"
            )));
        }
        None => (0..width)
            .map(|j| median(body.samples.iter().filter_map(|r| r[j]).collect()))
            .map(|m| if m.is_finite() { m } else { 0.0 })
            .collect(),
    };
    let tolerance = body.tolerance.unwrap_or(1e-4);
    if !(tolerance > 0.0 && tolerance <= 0.1) {
        return Err(ApiError::BadRequest("tolerance must be in (0, 0.1]".into()));
    }
    let features = body.features.clone();
    let fallback = reference.clone();
    let (report, bytes) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let model = mhp_ml::onnx::OnnxModel::from_bytes(&bytes, features)
            .map_err(|e| invalid(e.to_string()))?;
        let rows: Vec<Vec<f64>> = body
            .samples
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(j, v)| match v {
                        Some(v) => *v,
                        None if model.handles_missing_values() => f64::NAN,
                        None => fallback[j],
                    })
                    .collect()
            })
            .collect();
        let views: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let probabilities = match &body.expected {
            Some(expected) => model.check_reference(&views, expected, tolerance),
            None => model.check_samples(&views),
        }
        .map_err(|e| invalid(e.to_string()))?;
        let report = serde_json::json!({
            "sample_rows": probabilities.len(),
            "checked_against_expected": body.expected.is_some(),
            "tolerance": tolerance,
            "handles_missing_values": model.handles_missing_values(),
            "rewrites": model.rewrites().iter().map(|r| format!("{r:?}")).collect::<Vec<_>>(),
        });
        Ok((report, bytes))
    })
    .await
    .map_err(|_| ApiError::Internal("the model check stopped".into()))??;
    Ok((bytes, body_features, reference, report))
}

/// `POST /api/v1/orgs/{org}/models/{model}/onnx`: imports an ONNX model. It is checked (inputs
/// against the schema, the platform's features, a run on the sample rows, the expected
/// probabilities when given), sealed into the object store and registered as a candidate;
/// a person moves it to production.
pub async fn import_onnx(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, model)): Path<(String, String)>,
    ApiJson(body): ApiJson<OnnxUpload>,
) -> Result<(StatusCode, Json<VersionOut>), ApiError> {
    if model.is_empty()
        || model.len() > 64
        || !model
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ApiError::BadRequest(
            "a model name is lowercase letters, digits and -".into(),
        ));
    }
    import(&state, &grant, &model, body).await
}

#[cfg(not(feature = "onnx"))]
async fn import(
    _: &AppState,
    _: &Grant,
    _: &str,
    body: OnnxUpload,
) -> Result<(StatusCode, Json<VersionOut>), ApiError> {
    drop(body);
    Err(ApiError::Invalid {
        code: mhp_app::Code::OnnxUnavailable,
        detail: "this build has no ONNX runtime (cargo feature onnx)".into(),
    })
}

#[cfg(feature = "onnx")]
async fn import(
    state: &AppState,
    grant: &Grant,
    model: &str,
    body: OnnxUpload,
) -> Result<(StatusCode, Json<VersionOut>), ApiError> {
    use sha2::Digest as _;
    let (bytes, features, reference, report) = check_onnx(body).await?;
    let scope = grant.org()?;
    let id = ModelVersionId::new();
    let key = mhp_storage::ObjectKey::parse(&format!("models/{}/{id}/model.onnx", scope.org()))?;
    mhp_app::artifacts::put(
        state.app.phi.keys(),
        &state.app.objects,
        scope.org(),
        &key,
        &bytes,
    )
    .await?;
    let sha = mhp_domain::to_hex(&sha2::Sha256::digest(&bytes));
    let by = grant.principal.actor().audit_name();
    let lineage = serde_json::json!({
        "source": "onnx-upload",
        "uploaded_by": by,
        "features": features,
        "reference": reference,
        "check": report,
        "code_version": state.app.build.version,
    });
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    let v = models::register(
        &mut tx,
        &models::NewVersion {
            id,
            model,
            kind: "onnx",
            artifact_key: key.as_str(),
            artifact_sha256: &sha,
            features_json: &Value::from(features.clone()).to_string(),
            lineage_json: &lineage.to_string(),
            metrics_json: "{}",
            training_run: None,
            created_by: &by,
        },
        now,
    )
    .await?;
    grant
        .record(
            &mut tx,
            "model.import",
            "model_version",
            Some(v.id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}
