//! FHIR Bulk Data export (the HL7 Bulk Data Access IG, R4): an organisation's patients, or a
//! group's (a team's), as NDJSON files per resource type, the same resources as the
//! per-subject FHIR export (`export::subject_fhir`, the same stable Observation ids).
//!
//! - Kick-off: `GET …/fhir/Patient/$export` or `…/fhir/Group/{team}/$export` (`_type`,
//!   `_since`, `_outputFormat`) answers 202 with `Content-Location`, the status URL.
//! - Status: 202 with `X-Progress` and `Retry-After` while it is written; 200 with the manifest
//!   (`transactionTime`, `request`, `requiresAccessToken`, `output[]`, `error[]`) when done; 500
//!   when it failed. `DELETE` cancels or removes it. Errors on these routes (the handlers',
//!   the gate's and the router's) are OperationOutcomes, as the IG asks, rendered from the
//!   problem details every other route answers (`middleware::problem_details`).
//! - Files: `…/fhir/bulk/{job}/{Type}.ndjson`, `application/fhir+ndjson`, for the same callers
//!   (a token is required), sealed with the organisation's key in the object store, and gone
//!   an hour after the export completed (the download links expire).
//!
//! Every subject exported is an audited read (`subject.export_fhir`), as one export of them
//! by the per-subject endpoint would be. Jobs run in the process that was asked; one that did
//! not end within [`STALE_MS`] (its process stopped) is reported failed and may be asked again.

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mhp_domain::{SubjectId, TeamId, Timestamp};
use mhp_storage::repo::Page;
use mhp_storage::repo::fhir_exports::{self, Export, Status};
use mhp_storage::repo::subjects::{self, Archived, Filter};
use mhp_storage::{Access, ObjectKey};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Grant, path_id};
use crate::{ApiError, AppState};

/// How long files stay after an export completed.
pub const FILES_FOR_MS: i64 = 3_600_000;
/// An export not ended after this long is reported failed (its process stopped).
pub const STALE_MS: i64 = 3_600_000;
/// The resource types an export may hold.
const TYPES: [&str; 2] = ["Patient", "Observation"];

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KickOff {
    /// Resource types, comma-separated (`Patient,Observation`, the default).
    #[serde(rename = "_type")]
    types: Option<String>,
    /// Only resources changed from this FHIR instant on (`2026-11-01T00:00:00Z`).
    #[serde(rename = "_since")]
    since: Option<String>,
    /// `application/fhir+ndjson` (the default; `application/ndjson` and `ndjson` are the same).
    #[serde(rename = "_outputFormat")]
    output_format: Option<String>,
}

/// A FHIR instant (`YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`) as a time.
fn instant(text: &str) -> Option<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| Timestamp::from_millis(t.timestamp_millis()))
}

fn object_key(org: mhp_domain::OrgId, job: &str, kind: &str) -> Result<ObjectKey, ApiError> {
    ObjectKey::parse(&format!("exports/{org}/fhir/{job}/{kind}.ndjson"))
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

/// `GET /api/v1/orgs/{org}/fhir/Patient/$export`
pub async fn kick_off_patients(
    State(state): State<AppState>,
    grant: Grant,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<KickOff>,
) -> Result<Response, ApiError> {
    kick_off(state, grant, uri, q, None).await
}

/// `GET /api/v1/orgs/{org}/fhir/Group/{team}/$export`
pub async fn kick_off_group(
    State(state): State<AppState>,
    grant: Grant,
    OriginalUri(uri): OriginalUri,
    Path((_, team)): Path<(String, String)>,
    Query(q): Query<KickOff>,
) -> Result<Response, ApiError> {
    let team = path_id(&team, "group", TeamId::parse)?;
    // The group must be one of the organisation's teams.
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    mhp_storage::repo::teams::get(&mut tx, team)
        .await
        .map_err(|_| ApiError::NotFound("group"))?;
    drop(tx);
    kick_off(state, grant, uri, q, Some(team)).await
}

async fn kick_off(
    state: AppState,
    grant: Grant,
    uri: axum::http::Uri,
    q: KickOff,
    team: Option<TeamId>,
) -> Result<Response, ApiError> {
    if let Some(f) = q.output_format.as_deref()
        && !matches!(
            f,
            "application/fhir+ndjson" | "application/ndjson" | "ndjson"
        )
    {
        return Err(ApiError::BadRequest(
            "_outputFormat: only application/fhir+ndjson is written".into(),
        ));
    }
    let types: Vec<String> = match q.types.as_deref() {
        None => TYPES.iter().map(|t| (*t).to_owned()).collect(),
        Some(list) => {
            let asked: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect();
            if asked.is_empty() || asked.iter().any(|t| !TYPES.contains(&t.as_str())) {
                return Err(ApiError::BadRequest(
                    "_type: the types exported are Patient and Observation".into(),
                ));
            }
            asked
        }
    };
    let since = match q.since.as_deref() {
        None => None,
        Some(text) => match instant(text) {
            Some(t) => Some(t),
            None => {
                return Err(ApiError::BadRequest(
                    "_since must be a FHIR instant (2026-11-01T00:00:00Z)".into(),
                ));
            }
        },
    };
    let scope = grant.org()?;
    let org = scope.org();
    let now = state.app.clock.now();
    forget_expired(&state, &grant).await?;
    let job = uuid::Uuid::now_v7().simple().to_string();
    let base = state.identity.public_url.trim_end_matches('/');
    let export = Export {
        id: job.clone(),
        request_url: format!("{base}{uri}"),
        team,
        types,
        since,
        status: Status::InProgress,
        requested_by: grant.caller().actor,
        created_at: now,
        completed_at: None,
        expires_at: None,
        outputs: None,
        error: None,
    };
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    fhir_exports::create(&mut tx, &export).await?;
    grant
        .record(
            &mut tx,
            "fhir.bulk_export",
            "fhir_export",
            Some(job.clone()),
            now,
        )
        .await?;
    tx.commit().await?;
    let caller = grant.caller();
    let worker_state = state.clone();
    let worker_export = export.clone();
    tokio::spawn(async move {
        let written = write_files(&worker_state, &scope, &caller, &worker_export).await;
        let now = worker_state.app.clock.now();
        let end = async {
            let mut tx = worker_state.app.db.tenant(&scope, Access::Write).await?;
            match &written {
                Ok(outputs) => {
                    let expires = Timestamp::from_millis(now.as_millis() + FILES_FOR_MS);
                    fhir_exports::complete(&mut tx, &worker_export.id, outputs, now, expires)
                        .await?;
                }
                Err(e) => {
                    tracing::warn!(target: "mhp::export", error = %e, "a FHIR bulk export failed");
                    fhir_exports::fail(&mut tx, &worker_export.id, "the export failed", now)
                        .await?;
                }
            }
            tx.commit().await
        };
        if let Err(e) = end.await {
            tracing::error!(target: "mhp::export", error = %e, "could not record a FHIR export's end");
        }
    });
    let mut res = StatusCode::ACCEPTED.into_response();
    let status_url = format!("{base}/api/v1/orgs/{org}/fhir/bulk/{job}");
    if let Ok(v) = HeaderValue::from_str(&status_url) {
        res.headers_mut().insert(header::CONTENT_LOCATION, v);
    }
    Ok(res)
}

/// Writes the export's files; returns its outputs as JSON.
async fn write_files(
    state: &AppState,
    scope: &mhp_domain::OrgScope,
    caller: &mhp_app::Caller,
    export: &Export,
) -> Result<String, ApiError> {
    let org = scope.org();
    // Every subject in scope (archived ones too; erased ones are gone), a page at a time.
    let mut ids: Vec<SubjectId> = Vec::new();
    let mut after = None;
    loop {
        let mut tx = state.app.db.tenant(scope, Access::Read).await?;
        let filter = Filter {
            team: export.team,
            archived: Archived::Include,
            ..Filter::default()
        };
        let page = subjects::search(&mut tx, &filter, Page { after, limit: 500 }, false).await?;
        drop(tx);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let full = page.len() == 500;
        ids.extend(page.iter().map(|s| s.id));
        if !full {
            break;
        }
    }
    let wants = |t: &str| export.types.iter().any(|x| x == t);
    let mut patients = String::new();
    let (mut patient_count, mut observation_count) = (0_u64, 0_u64);
    let mut observations = String::new();
    for id in ids {
        let now = state.app.clock.now();
        let mut tx = state.app.db.tenant(scope, Access::Write).await?;
        let s = match subjects::get_including_archived(&mut tx, id).await {
            Ok(s) => s,
            // Erased (or gone) since it was listed: not exported.
            Err(_) => continue,
        };
        let reference = format!("Patient/{id}");
        let fhir =
            super::export::subject_fhir(state, &mut tx, &s, &reference, export.since).await?;
        let patient_changed = export.since.is_none_or(|t| s.updated_at >= t);
        if wants("Patient") && patient_changed {
            patients.push_str(&fhir.patient.to_string());
            patients.push('\n');
            patient_count += 1;
        }
        if wants("Observation") {
            for (_, o) in &fhir.observations {
                observations.push_str(&o.to_string());
                observations.push('\n');
                observation_count += 1;
            }
        }
        caller
            .record(
                &mut tx,
                "subject.export_fhir",
                "subject",
                Some(id.to_string()),
                now,
            )
            .await?;
        tx.commit().await?;
    }
    let mut outputs = Vec::new();
    for (kind, text, count) in [
        ("Patient", patients, patient_count),
        ("Observation", observations, observation_count),
    ] {
        if !wants(kind) {
            continue;
        }
        // A type with nothing to export has no file (the IG's manifest lists files written).
        if count == 0 {
            continue;
        }
        let key = object_key(org, &export.id, kind)?;
        mhp_app::artifacts::put(
            state.app.phi.keys(),
            &state.app.objects,
            org,
            &key,
            text.as_bytes(),
        )
        .await?;
        outputs.push(json!({"type": kind, "key": key.as_str(), "count": count}));
    }
    Ok(Value::Array(outputs).to_string())
}

/// Deletes the organisation's exports whose files expired, with their files, and those that
/// never ended.
async fn forget_expired(state: &AppState, grant: &Grant) -> Result<(), ApiError> {
    let scope = grant.org()?;
    let now = state.app.clock.now();
    let stale = Timestamp::from_millis(now.as_millis() - STALE_MS);
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    for e in fhir_exports::expired(&mut tx, now, stale).await? {
        remove_files(state, &e).await?;
        fhir_exports::delete(&mut tx, &e.id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An export's files as recorded: `[{"type", "key", "count"}]`.
fn outputs_of(e: &Export) -> Vec<Value> {
    e.outputs
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default()
}

async fn remove_files(state: &AppState, e: &Export) -> Result<(), ApiError> {
    let outputs = outputs_of(e);
    for o in outputs {
        if let Some(key) = o["key"].as_str().and_then(|k| ObjectKey::parse(k).ok()) {
            state.app.objects.delete(&key).await?;
        }
    }
    Ok(())
}

/// The organisation's export `job`, unless its files expired.
async fn current(state: &AppState, grant: &Grant, job: &str) -> Result<Export, ApiError> {
    forget_expired(state, grant).await?;
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    match fhir_exports::get(&mut tx, job).await {
        Ok(e) => Ok(e),
        Err(mhp_storage::StorageError::NotFound { .. }) => Err(ApiError::NotFound("export")),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/v1/orgs/{org}/fhir/bulk/{job}`
pub async fn status(
    State(state): State<AppState>,
    grant: Grant,
    Path((org, job)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let e = current(&state, &grant, &job).await?;
    match e.status {
        Status::InProgress => {
            let mut res = StatusCode::ACCEPTED.into_response();
            res.headers_mut()
                .insert("x-progress", HeaderValue::from_static("in progress"));
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Ok(res)
        }
        // The export's own failure (its cause is in the log); asking again starts another.
        Status::Failed => Err(ApiError::Internal("a FHIR bulk export failed".into())),
        Status::Complete => {
            let base = state.identity.public_url.trim_end_matches('/');
            let outputs = outputs_of(&e);
            let output: Vec<Value> = outputs
                .iter()
                .map(|o| {
                    let kind = o["type"].as_str().unwrap_or_default();
                    json!({
                        "type": kind,
                        "url": format!("{base}/api/v1/orgs/{org}/fhir/bulk/{job}/{kind}.ndjson"),
                        "count": o["count"],
                    })
                })
                .collect();
            let transaction_time = super::export::iso_instant(e.created_at);
            let mut res = Json(json!({
                "transactionTime": transaction_time,
                "request": e.request_url,
                "requiresAccessToken": true,
                "output": output,
                "error": [],
            }))
            .into_response();
            if let Some(expires) = e.expires_at
                && let Some(at) = chrono::DateTime::from_timestamp_millis(expires.as_millis())
                && let Ok(v) = HeaderValue::from_str(&at.to_rfc2822().replace("+0000", "GMT"))
            {
                res.headers_mut().insert(header::EXPIRES, v);
            }
            Ok(res)
        }
    }
}

/// `DELETE /api/v1/orgs/{org}/fhir/bulk/{job}`: cancels an export or removes its files.
pub async fn delete(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, job)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let e = current(&state, &grant, &job).await?;
    remove_files(&state, &e).await?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    fhir_exports::delete(&mut tx, &job).await?;
    grant
        .record(&mut tx, "fhir.bulk_delete", "fhir_export", Some(job), now)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /api/v1/orgs/{org}/fhir/bulk/{job}/{file}`: one NDJSON file of a complete export.
pub async fn file(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, job, file)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let e = current(&state, &grant, &job).await?;
    let kind = file
        .strip_suffix(".ndjson")
        .filter(|k| TYPES.contains(k))
        .ok_or(ApiError::NotFound("file"))?;
    let outputs = outputs_of(&e);
    if e.status != Status::Complete || !outputs.iter().any(|o| o["type"] == kind) {
        return Err(ApiError::NotFound("file"));
    }
    let org = grant.org()?.org();
    let key = object_key(org, &job, kind)?;
    let bytes =
        mhp_app::artifacts::get(state.app.phi.keys(), &state.app.objects, org, &key).await?;
    let now = state.app.clock.now();
    grant
        .record_read(
            &state.app,
            "fhir.bulk_download",
            "fhir_export",
            Some(job),
            now,
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/fhir+ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}
