//! Assessments: force-plate uploads. The main path: validate → analyse (nothing stored when the
//! file is unreadable) → raw file sealed into the object store → assessment, results and
//! metrics in SQL with the audit event, in one transaction. An `Idempotency-Key` makes a
//! retried upload count once.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mhp_biomech::{ANALYSIS_VERSION, Format, ParseOptions, TrialKind, analyze_bytes};
use mhp_domain::{AssessmentId, OrgId, SubjectId, Timestamp};
use mhp_storage::repo::assessments::{self, AnalysisResult, Assessment, Source, UploadOptions};
use mhp_storage::repo::{Page, audit, subjects};
use mhp_storage::{Access, ObjectKey, StorageError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::subjects::PageOut;
use super::{Grant, event, path_id};
use crate::authn::Principal;
use crate::{ApiError, AppState};

/// The header a client sets to make a retried upload count once.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Metrics summarised per assessment (mean over its valid trials): jump height and the
/// measures force-plate platforms lead with (braking RFD, mean concentric force, concentric
/// impulse).
pub const KEY_METRICS: &[&str] = &[
    "jump_height_impulse_m",
    "rsi_modified",
    "braking_rfd_n_s",
    "mean_propulsive_force_n_per_kg",
    "concentric_impulse_n_s",
    "peak_propulsive_power_w_per_kg",
    "asymmetry.propulsive_impulse_pct",
];

/// An assessment as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AssessmentOut {
    id: String,
    subject_id: String,
    kind: String,
    recorded_at_ms: i64,
    source: &'static str,
    analysis_version: String,
    trials: i64,
    blocked_trials: i64,
    summary: BTreeMap<String, f64>,
    raw: RawOut,
    created_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    versions: Option<Vec<VersionOut>>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct RawOut {
    format: String,
    bytes: i64,
    sha256: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct VersionOut {
    analysis_version: String,
    computed_at_ms: i64,
    trials: i64,
    blocked_trials: i64,
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::User => "user",
        Source::Device => "device",
    }
}

/// Mean of every metric over the trials that have it (the stored values are per trial).
pub(crate) fn metric_means(result: &AnalysisResult) -> BTreeMap<String, f64> {
    let mut sums: BTreeMap<&str, (f64, u32)> = BTreeMap::new();
    for (_, metric, value) in &result.metrics {
        let e = sums.entry(metric.as_str()).or_insert((0.0, 0));
        e.0 += value;
        e.1 += 1;
    }
    sums.into_iter()
        .map(|(k, (sum, n))| (k.to_owned(), sum / f64::from(n)))
        .collect()
}

/// The key metrics' means, rounded to 6 decimals.
pub(crate) fn summary(result: &AnalysisResult) -> BTreeMap<String, f64> {
    metric_means(result)
        .into_iter()
        .filter(|(k, _)| KEY_METRICS.contains(&k.as_str()))
        .map(|(k, v)| (k, (v * 1e6).round() / 1e6))
        .collect()
}

fn out(
    a: &Assessment,
    result: &AnalysisResult,
    full: bool,
    versions: Option<Vec<VersionOut>>,
) -> AssessmentOut {
    AssessmentOut {
        id: a.id.to_string(),
        subject_id: a.subject.to_string(),
        kind: a.kind.clone(),
        recorded_at_ms: a.recorded_at.as_millis(),
        source: source_name(a.source),
        analysis_version: a.analysis_version.clone(),
        trials: result.trials,
        blocked_trials: result.blocked_trials,
        summary: summary(result),
        raw: RawOut {
            format: a.format.clone(),
            bytes: a.raw_bytes,
            sha256: a.raw_sha256.clone(),
        },
        created_at_ms: a.created_at.as_millis(),
        report: full
            .then(|| serde_json::from_str(&result.report_json).ok())
            .flatten(),
        versions,
    }
}

/// The engine's report turned into what is stored: the report without the file name (which
/// may name a person), the kind, and every metric flattened (`asymmetry.x`).
pub(crate) fn result_of(report: &mhp_biomech::Report, now: Timestamp) -> (String, AnalysisResult) {
    let mut json = report.to_json();
    if let Some(obj) = json.as_object_mut() {
        obj.remove("file");
    }
    let mut kinds: Vec<&'static str> = report.trials.iter().map(|t| t.kind.code()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let kind = match kinds.as_slice() {
        [] => "none",
        [one] => one,
        _ => "mixed",
    };
    let mut metrics = Vec::new();
    let mut blocked = 0;
    if let Some(trials) = json.get("trials").and_then(Value::as_array) {
        for (i, trial) in trials.iter().enumerate() {
            match trial.get("metrics") {
                Some(Value::Object(m)) => {
                    flatten(i64::try_from(i).unwrap_or(i64::MAX), "", m, &mut metrics);
                }
                _ => blocked += 1,
            }
        }
    }
    let result = AnalysisResult {
        analysis_version: report.analysis_version.clone(),
        computed_at: now,
        trials: i64::try_from(report.trials.len()).unwrap_or(i64::MAX),
        blocked_trials: blocked,
        report_json: json.to_string(),
        metrics,
    };
    (kind.to_owned(), result)
}

fn flatten(
    trial: i64,
    prefix: &str,
    m: &serde_json::Map<String, Value>,
    out: &mut Vec<(i64, String, f64)>,
) {
    for (k, v) in m {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    out.push((trial, name, x));
                }
            }
            Value::Object(inner) => flatten(trial, &name, inner, out),
            _ => {}
        }
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    sample_rate_hz: Option<f64>,
    kind: Option<String>,
    recorded_at_ms: Option<i64>,
}

/// The engine's options for what an upload said about its file.
fn parse_options(options: &UploadOptions) -> Result<ParseOptions, ApiError> {
    let mut opts = ParseOptions::default();
    if let Some(hz) = options.sample_rate_hz {
        opts = opts.with_sample_rate(hz);
    }
    if let Some(kind) = options.kind.as_deref() {
        opts = opts
            .with_kind(TrialKind::parse(kind).ok_or_else(|| {
                ApiError::BadRequest("kind must be cmj, balance or plank".into())
            })?);
    }
    Ok(opts)
}

/// The file's format as the request declares it, or `None` to let the content decide.
fn declared_format(content_type: Option<&str>) -> Result<Option<Format>, ApiError> {
    let Some(ct) = content_type else {
        return Ok(None);
    };
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "text/csv" | "application/csv" | "text/plain" | "text/tab-separated-values" => {
            Ok(Some(Format::Csv))
        }
        "application/json" => Ok(Some(Format::Json)),
        "application/octet-stream" | "" => Ok(None),
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

async fn read_upload(state: &AppState, req: Request) -> Result<(Option<Format>, Bytes), ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let too_large = |status: StatusCode| {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest("the request body could not be read".into())
        }
    };
    if ct
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"))
    {
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|r| too_large(r.status()))?;
        while let Some(field) = form.next_field().await.map_err(|e| too_large(e.status()))? {
            if field.name() != Some("file") {
                continue;
            }
            let by_name = field.file_name().and_then(Format::from_name);
            let declared = declared_format(field.content_type())?.or(by_name);
            let bytes = field.bytes().await.map_err(|e| too_large(e.status()))?;
            return Ok((declared, bytes));
        }
        return Err(ApiError::BadRequest(
            "the multipart form has no field named file".into(),
        ));
    }
    let declared = declared_format(ct.as_deref())?;
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|r| too_large(r.status()))?;
    Ok((declared, bytes))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::BadRequest("Idempotency-Key must be 1 to 200 visible ASCII characters".into())
        })?;
    Ok(Some(key.to_owned()))
}

fn raw_key(org: OrgId, id: AssessmentId) -> Result<ObjectKey, ApiError> {
    ObjectKey::parse(&format!("orgs/{org}/raw/{id}.sealed"))
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

fn replay(a: &Assessment, result: &AnalysisResult) -> Response {
    let mut res = (StatusCode::OK, Json(out(a, result, true, None))).into_response();
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

/// A stored assessment under this key: the same upload again is answered with it; anything
/// else under the same key is refused.
async fn earlier(
    state: &AppState,
    grant: &Grant,
    key: &str,
    subject: SubjectId,
    sha: &str,
) -> Result<Option<Response>, ApiError> {
    let mut tx = state.db.tenant(&grant.org()?, Access::Read).await?;
    let Some(a) = assessments::find_by_idempotency_key(&mut tx, key).await? else {
        return Ok(None);
    };
    if a.subject != subject || a.raw_sha256 != sha {
        return Err(ApiError::Invalid {
            code: "idempotency-key-reused",
            detail: "this Idempotency-Key was used for another upload".into(),
        });
    }
    let result = assessments::current_result(&mut tx, &a).await?;
    Ok(Some(replay(&a, &result)))
}

/// Largest recording analysed (the HTTP body limit may be lower).
const MAX_RECORDING_BYTES: u64 = 64 * 1024 * 1024;

/// Runs the engine on a blocking thread; an unreadable file is the caller's `invalid-recording`.
async fn analyse(
    hint: &'static str,
    bytes: impl AsRef<[u8]> + Send + 'static,
    opts: ParseOptions,
) -> Result<mhp_biomech::Report, ApiError> {
    let opts = opts.with_max_input_bytes(MAX_RECORDING_BYTES);
    tokio::task::spawn_blocking(move || analyze_bytes(hint, bytes.as_ref(), &opts))
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?
        .map_err(|e| ApiError::Invalid {
            code: "invalid-recording",
            detail: e.to_string(),
        })
}

/// `POST /api/v1/orgs/{org}/subjects/{subject}/assessments`: the body is the file (CSV or
/// JSON; or a multipart form with a `file` field). Query: `sample_rate_hz` for files without
/// one, `kind` (`cmj`, `balance`, `plank`) when the file does not say, `recorded_at_ms`.
pub async fn upload(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let scope = grant.org()?;
    let org = scope.org();
    let now = state.clock.now();
    let options = UploadOptions {
        sample_rate_hz: q.sample_rate_hz,
        kind: q.kind.clone(),
    };
    let opts = parse_options(&options)?;
    let recorded_at = match q.recorded_at_ms {
        Some(ms) if ms < 946_684_800_000 || ms > now.as_millis() + 86_400_000 => {
            return Err(ApiError::BadRequest(
                "recorded_at_ms must lie between 2000 and tomorrow".into(),
            ));
        }
        Some(ms) => Timestamp::from_millis(ms),
        None => now,
    };
    let key = idempotency_key(&headers)?;
    let (declared, body) = read_upload(&state, req).await?;
    if body.is_empty() {
        return Err(ApiError::Invalid {
            code: "invalid-recording",
            detail: "the file is empty".into(),
        });
    }
    let sha = mhp_domain::to_hex(&Sha256::digest(&body));
    if let Some(k) = &key
        && let Some(res) = earlier(&state, &grant, k, subject, &sha).await?
    {
        return Ok(res);
    }
    {
        let mut tx = state.db.tenant(&scope, Access::Read).await?;
        subjects::get(&mut tx, subject).await?;
    }

    // The engine decides the format (a declared one, else by content: a BOM and blank space
    // before `{` still make JSON) and says which it read; that is what is stored.
    let opts = match declared {
        Some(format) => opts.with_format(format),
        None => opts,
    };
    let report = analyse("upload", body.clone(), opts).await?;
    let format = report.recording.format.map_or("csv", Format::as_str);
    let (kind, result) = result_of(&report, now);

    let id = AssessmentId::new();
    let object = raw_key(org, id)?;
    let sealed = state
        .phi
        .for_write(org, subject)
        .await?
        .seal_raw(org, &id.to_string(), &body)?;
    state.objects.put(&object, &sealed).await?;
    let assessment = Assessment {
        id,
        subject,
        kind,
        recorded_at,
        source: match grant.principal {
            Principal::ApiKey(_) => Source::Device,
            Principal::User { .. } => Source::User,
        },
        uploaded_by: grant.principal.actor().audit_name(),
        format: format.to_owned(),
        raw_object_key: object.as_str().to_owned(),
        raw_sha256: sha.clone(),
        raw_bytes: i64::try_from(body.len()).unwrap_or(i64::MAX),
        idempotency_key: key.clone(),
        analysis_version: result.analysis_version.clone(),
        created_at: now,
        options,
    };
    let stored = async {
        let mut tx = state.db.tenant(&scope, Access::Write).await?;
        assessments::create(&mut tx, &assessment, &result).await?;
        audit::append(
            &mut tx,
            &event(
                &grant,
                "assessment.create",
                "assessment",
                Some(id.to_string()),
            ),
            now,
        )
        .await?;
        let scoring = enqueue_scoring(&mut tx, &assessment, now).await?;
        tx.commit().await?;
        Ok::<_, StorageError>(scoring)
    }
    .await;
    if let Err(e) = stored {
        // Nothing refers to the sealed file now; a failed delete leaves an orphan that holds
        // only ciphertext.
        if let Err(del) = state.objects.delete(&object).await {
            tracing::warn!(error = %del, "could not remove the raw file of a failed upload");
        }
        if matches!(e, StorageError::Conflict { .. })
            && let Some(k) = &key
            && let Some(res) = earlier(&state, &grant, k, subject, &sha).await?
        {
            // Another request with the same key won the race.
            return Ok(res);
        }
        return Err(e.into());
    }
    if let Ok(true) = stored {
        state.pipeline_wakeup.notify_one();
    }
    crate::indexing::index_one(&state, &scope, &assessment, &result).await;
    Ok((
        StatusCode::CREATED,
        Json(out(&assessment, &result, true, None)),
    )
        .into_response())
}

/// A new jump test changes the subject's features: when the organisation has a model in
/// production, a `score-subject` run is enqueued in the upload's own transaction, so the event
/// is never lost (or recorded without the upload). Returns whether it was.
pub(crate) async fn enqueue_scoring(
    tx: &mut mhp_storage::TenantTx,
    assessment: &Assessment,
    now: Timestamp,
) -> Result<bool, StorageError> {
    use mhp_domain::pipeline::{self, Trigger};
    use mhp_storage::repo::{models, pipelines};
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
    pipelines::enqueue(
        tx,
        &pipelines::NewRun {
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

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/assessments`: newest first, with summaries.
pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Json<PageOut<AssessmentOut>>, ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let after = q
        .after
        .as_deref()
        .map(AssessmentId::parse)
        .transpose()
        .map_err(|_| ApiError::BadRequest("after is not an assessment id".into()))?;
    let page = Page {
        after,
        limit: q.limit.unwrap_or(50).clamp(1, 500),
    };
    let now = state.clock.now();
    let mut tx = state.db.tenant(&grant.org()?, Access::Write).await?;
    subjects::get_including_archived(&mut tx, subject).await?;
    let found = assessments::list_for_subject(&mut tx, subject, page).await?;
    let mut items = Vec::with_capacity(found.len());
    for a in &found {
        let result = assessments::current_result(&mut tx, a).await?;
        items.push(out(a, &result, false, None));
    }
    let next = (found.len() == page.limit as usize)
        .then(|| found.last().map(|a| a.id.to_string()))
        .flatten();
    audit::append(
        &mut tx,
        &event(
            &grant,
            "assessment.list",
            "subject",
            Some(subject.to_string()),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(PageOut { items, next }))
}

/// `GET /api/v1/orgs/{org}/assessments/{assessment}`: the current report and every analysis
/// version computed.
pub async fn get(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<AssessmentOut>, ApiError> {
    let id = path_id(&id, "assessment", AssessmentId::parse)?;
    let now = state.clock.now();
    let mut tx = state.db.tenant(&grant.org()?, Access::Write).await?;
    let a = assessments::get(&mut tx, id).await?;
    let results = assessments::results(&mut tx, id).await?;
    let current = results
        .iter()
        .find(|r| r.analysis_version == a.analysis_version)
        .ok_or_else(|| ApiError::Internal("assessment without its current result".into()))?;
    let versions = results
        .iter()
        .map(|r| VersionOut {
            analysis_version: r.analysis_version.clone(),
            computed_at_ms: r.computed_at.as_millis(),
            trials: r.trials,
            blocked_trials: r.blocked_trials,
        })
        .collect();
    let body = out(&a, current, true, Some(versions));
    audit::append(
        &mut tx,
        &event(
            &grant,
            "assessment.read",
            "assessment",
            Some(id.to_string()),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(body))
}

/// Re-analyses one stored assessment from its raw file with this build's engine, keeping the
/// earlier result. Returns whether a new result was stored (false: already current).
pub async fn reanalyze_one(
    state: &AppState,
    scope: &mhp_domain::OrgScope,
    a: &Assessment,
) -> Result<bool, ApiError> {
    if a.analysis_version == ANALYSIS_VERSION {
        return Ok(false);
    }
    let org = scope.org();
    let object =
        ObjectKey::parse(&a.raw_object_key).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let sealed = state.objects.get(&object).await?;
    let raw = state
        .phi
        .for_read(org, a.subject)
        .await?
        .open_raw(org, &a.id.to_string(), sealed)?;
    // Read as the upload was: its sampling rate and kind. The format is detected again, by the
    // same rule as at upload (a row stored as `csv` by an earlier version for a JSON file with
    // a byte-order mark is read right this time).
    let report = analyse("upload", raw, parse_options(&a.options)?).await?;
    let now = state.clock.now();
    let (_, result) = result_of(&report, now);
    let mut tx = state.db.tenant(scope, Access::Write).await?;
    assessments::add_result(&mut tx, a.id, &result).await?;
    audit::append(
        &mut tx,
        &mhp_storage::repo::audit::AuditEvent {
            actor: mhp_auth::events::Actor::Cli.audit_name(),
            action: "assessment.reanalyze",
            resource_type: "assessment",
            resource_id: Some(a.id.to_string()),
            outcome: mhp_storage::repo::audit::Outcome::Success,
            request_id: None,
            source_ip: None,
            user_agent: None,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    let mut current = a.clone();
    current
        .analysis_version
        .clone_from(&result.analysis_version);
    crate::indexing::index_one(state, scope, &current, &result).await;
    Ok(true)
}
