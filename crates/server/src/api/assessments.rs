//! Assessments: force-plate uploads. The main path: validate → analyse (nothing stored when the
//! file is unreadable) → raw file sealed into the object store → assessment, results and
//! metrics in SQL with the audit in one transaction. An `Idempotency-Key` makes a
//! retried upload count once.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mhp_app::assessments::{Upload, ingest, parse_options, summary};
use mhp_biomech::Format;
use mhp_domain::{AssessmentId, SubjectId, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::assessments::{self, AnalysisResult, Assessment, Source, UploadOptions};
use mhp_storage::repo::{Page, subjects};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::subjects::PageOut;
use super::{Grant, path_id};
use crate::{ApiError, AppState};

/// The header a client sets to make a retried upload count once.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// An assessment as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AssessmentOut {
    id: String,
    subject_id: String,
    kind: String,
    recorded_at_ms: i64,
    #[schemars(schema_with = "super::sets::one::<super::sets::Source>")]
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
    #[schemars(schema_with = "super::sets::one::<super::sets::RecordingFormat>")]
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

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    sample_rate_hz: Option<f64>,
    #[serde(default)]
    #[schemars(schema_with = "super::sets::maybe::<super::sets::UploadKind>")]
    kind: Option<String>,
    recorded_at_ms: Option<i64>,
    /// A recent weigh-in, used when the recording has no quiet standing to weigh the athlete
    /// (10 to 400 kg; the result is flagged).
    body_mass_kg: Option<f64>,
    /// The box height of drop jumps (0 to 3 m).
    box_height_m: Option<f64>,
    /// The columns of a CSV file whose header MHP does not recognise, by position, first
    /// column first: `time_s,force`, `time_ms,left,right,cop_x,cop_y` (roles: time_s, time_ms,
    /// force, left, right, cop_x, cop_y, cell1-cell4, left_cell1-left_cell4,
    /// right_cell1-right_cell4, ignore). The header's names are then not read.
    columns: Option<String>,
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
    let now = state.app.now();
    // The body is read (within the body limit) before the query is checked: a client still
    // sending its file when a 400 came back would see its connection reset instead of the
    // answer that says what to fix.
    let (declared, body) = read_upload(&state, req).await?;
    let options = UploadOptions {
        sample_rate_hz: q.sample_rate_hz,
        kind: q.kind.clone(),
        body_mass_kg: q.body_mass_kg,
        box_height_m: q.box_height_m,
        columns: q.columns.clone(),
        earlier_body_mass_kg: None,
    };
    parse_options(&options).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if options
        .body_mass_kg
        .is_some_and(|kg| !(10.0..=400.0).contains(&kg))
    {
        return Err(ApiError::BadRequest(
            "body_mass_kg must be 10 to 400".into(),
        ));
    }
    if options
        .box_height_m
        .is_some_and(|m| !(0.0..=3.0).contains(&m))
    {
        return Err(ApiError::BadRequest("box_height_m must be 0 to 3".into()));
    }
    let recorded_at = match q.recorded_at_ms {
        Some(ms) if ms < 946_684_800_000 || ms > now.as_millis() + 86_400_000 => {
            return Err(ApiError::BadRequest(
                "recorded_at_ms must lie between 2000 and tomorrow".into(),
            ));
        }
        Some(ms) => Timestamp::from_millis(ms),
        None => now,
    };
    let idempotency_key = idempotency_key(&headers)?;
    let done = ingest(
        &state.app,
        &scope,
        &grant.caller(),
        Upload {
            subject,
            body,
            declared,
            options,
            recorded_at,
            idempotency_key,
        },
    )
    .await?;
    let body = Json(out(&done.assessment, &done.result, true, None));
    if done.replayed {
        let mut res = (StatusCode::OK, body).into_response();
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        Ok(res)
    } else {
        Ok((StatusCode::CREATED, body).into_response())
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
    /// A cursor of the change feed or of an earlier listing's `next_since` (`0.0`: from the
    /// beginning): only the subject's assessments made or reanalysed since.
    updated_since: Option<String>,
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/assessments`: newest first, with summaries; or
/// with `updated_since`, those made or reanalysed since the cursor.
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
    let now = state.app.clock.now();
    let since = match q.updated_since.as_deref() {
        Some(cursor) => Some(
            super::subjects::changes_since(
                &state,
                &grant,
                cursor,
                "assessment",
                page.limit,
                after.is_some(),
            )
            .await?,
        ),
        None => None,
    };
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    subjects::get_including_archived(&mut tx, subject).await?;
    let found = match &since {
        None => assessments::list_for_subject(&mut tx, subject, page).await?,
        Some(since) => {
            // The organisation's changed assessments, of this subject.
            let mut found = Vec::new();
            for id in since
                .changed
                .iter()
                .filter_map(|i| AssessmentId::parse(i).ok())
            {
                match assessments::get(&mut tx, id).await {
                    Ok(a) if a.subject == subject => found.push(a),
                    Ok(_) | Err(mhp_storage::StorageError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            found
        }
    };
    let mut items = Vec::with_capacity(found.len());
    for a in &found {
        let result = assessments::current_result(&mut tx, a).await?;
        items.push(out(a, &result, false, None));
    }
    let next = (found.len() == page.limit as usize)
        .then(|| found.last().map(|a| a.id.to_string()))
        .flatten();
    drop(tx);
    grant
        .record_read(
            &state.app,
            "assessment.list",
            "subject",
            Some(subject.to_string()),
            now,
        )
        .await?;
    Ok(Json(match since {
        // An assessment goes only with its subject, whose erasure the subjects listing
        // reports: the feed has no erasure of one, so the tombstones here stay empty.
        Some(since) => PageOut::changes(items, since),
        None => PageOut::page(items, next),
    }))
}

/// `GET /api/v1/orgs/{org}/assessments/{assessment}`: the current report and every analysis
/// version computed.
pub async fn get(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<AssessmentOut>, ApiError> {
    let id = path_id(&id, "assessment", AssessmentId::parse)?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
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
    drop(tx);
    grant
        .record_read(
            &state.app,
            "assessment.read",
            "assessment",
            Some(id.to_string()),
            now,
        )
        .await?;
    Ok(Json(body))
}
