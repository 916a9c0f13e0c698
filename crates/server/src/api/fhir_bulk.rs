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
//! Every subject exported is an audited read (`subject.export_fhir`), attributed to whoever
//! asked, as one export of them by the per-subject endpoint would be.
//!
//! Jobs are rows (`fhir_exports`), written by one worker of the installation ([`run`], started
//! by `mhp serve`): the instance that holds the `fhir-exports` lease writes every export in
//! progress, oldest first, renewing the lease as it goes. An instance that stops (even killed)
//! leaves its exports in progress; whichever instance takes the lease next writes them again
//! from the start, so an export survives restarts and deploys. A transient fault (the database
//! busy or away) leaves the export for the next pass; any other fails it. The same worker
//! removes expired exports with their files in every organisation, and forgets one still not
//! written after [`STALE_MS`] (its status then answers 404; it may be asked again).

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
/// An export not written after this long is forgotten (the worker kept failing on it).
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
    // The worker writes it (this instance's at once; another's at its next pass).
    ASKED.notify_one();
    let mut res = StatusCode::ACCEPTED.into_response();
    let status_url = format!("{base}/api/v1/orgs/{org}/fhir/bulk/{job}");
    if let Ok(v) = HeaderValue::from_str(&status_url) {
        res.headers_mut().insert(header::CONTENT_LOCATION, v);
    }
    Ok(res)
}

/// The lease of the instance that writes exports.
const LEASE: &str = "fhir-exports";
/// How long the lease lasts without renewal; the worker renews it between subjects.
const LEASE_MS: i64 = 60_000;
/// Wakes this instance's worker when an export is asked for here (other instances' exports are
/// seen at the next pass).
static ASKED: std::sync::LazyLock<tokio::sync::Notify> =
    std::sync::LazyLock::new(tokio::sync::Notify::new);

/// The export worker of `mhp serve`: a pass at start, after every export asked for in this
/// instance, and every `every`, until `stop` resolves. Failures are logged and retried.
pub async fn run(state: AppState, every: std::time::Duration, stop: impl Future<Output = ()>) {
    let worker = Worker {
        holder: uuid::Uuid::now_v7().to_string(),
    };
    let work = async {
        loop {
            if let Err(e) = worker.pass(&state).await {
                tracing::warn!(target: "mhp::export", error = %e, "a pass of the FHIR export worker failed");
            }
            tokio::select! {
                () = ASKED.notified() => {}
                () = tokio::time::sleep(every) => {}
            }
        }
    };
    tokio::select! {
        () = work => {}
        () = stop => {}
    }
}

/// One instance's export worker, named in the lease.
struct Worker {
    holder: String,
}

impl Worker {
    /// Takes or renews the lease; whether this instance holds it.
    async fn hold(&self, state: &AppState) -> Result<bool, ApiError> {
        let now = state.app.clock.now();
        let mut tx = state.app.db.operator(Access::Write).await?;
        let leader = mhp_storage::repo::security::take_lease(
            &mut tx,
            LEASE,
            &self.holder,
            now,
            Timestamp::from_millis(now.as_millis() + LEASE_MS),
        )
        .await?;
        tx.commit().await?;
        Ok(leader)
    }

    /// If this instance holds the lease: forgets expired exports and writes those in
    /// progress, organisation by organisation.
    async fn pass(&self, state: &AppState) -> Result<(), ApiError> {
        if !self.hold(state).await? {
            return Ok(());
        }
        let now = state.app.clock.now();
        let stale = Timestamp::from_millis(now.as_millis() - STALE_MS);
        let orgs = {
            let mut tx = state.app.db.operator(Access::Read).await?;
            fhir_exports::orgs_with_work(&mut tx, now, stale).await?
        };
        for org in orgs {
            let scope = mhp_domain::OrgScope::for_operator(org, "FHIR bulk export worker");
            forget_expired(state, &scope).await?;
            let pending = {
                let mut tx = state.app.db.tenant(&scope, Access::Read).await?;
                fhir_exports::in_progress(&mut tx).await?
            };
            for export in pending {
                if !self.write(state, &scope, &export).await? {
                    // The lease went to another instance, which writes the rest.
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Writes one export and records its end; `false` when the lease was lost on the way
    /// (the export stays in progress for the new holder).
    async fn write(
        &self,
        state: &AppState,
        scope: &mhp_domain::OrgScope,
        export: &Export,
    ) -> Result<bool, ApiError> {
        // The reads are the requester's, as they would be by the per-subject endpoint.
        let caller = mhp_app::Caller {
            actor: export.requested_by.clone(),
            api_key: export.requested_by.starts_with("apikey:"),
            request_id: None,
            source_ip: None,
            user_agent: None,
        };
        let written = match write_files(state, scope, &caller, export, self).await {
            Ok(Some(outputs)) => Ok(outputs),
            Ok(None) => return Ok(false),
            // Left in progress: the next pass writes it again.
            Err(e @ ApiError::Unavailable) => return Err(e),
            Err(e) => Err(e),
        };
        let now = state.app.clock.now();
        let mut tx = state.app.db.tenant(scope, Access::Write).await?;
        match written {
            Ok(outputs) => {
                let expires = Timestamp::from_millis(now.as_millis() + FILES_FOR_MS);
                let recorded =
                    fhir_exports::complete(&mut tx, &export.id, &outputs, now, expires).await?;
                tx.commit().await?;
                if !recorded {
                    // Cancelled while it was written: its files go too.
                    let mut gone = export.clone();
                    gone.outputs = Some(outputs);
                    remove_files(state, &gone).await?;
                }
            }
            Err(e) => {
                tracing::warn!(target: "mhp::export", error = %e, "a FHIR bulk export failed");
                fhir_exports::fail(&mut tx, &export.id, "the export failed", now).await?;
                tx.commit().await?;
            }
        }
        Ok(true)
    }
}

/// Writes the export's files; returns its outputs as JSON, or `None` when `worker` lost its
/// lease meanwhile (nothing is recorded then; the new holder starts again).
async fn write_files(
    state: &AppState,
    scope: &mhp_domain::OrgScope,
    caller: &mhp_app::Caller,
    export: &Export,
    worker: &Worker,
) -> Result<Option<String>, ApiError> {
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
    let mut renewed = std::time::Instant::now();
    for id in ids {
        if renewed.elapsed() > std::time::Duration::from_millis((LEASE_MS / 3).unsigned_abs()) {
            if !worker.hold(state).await? {
                return Ok(None);
            }
            renewed = std::time::Instant::now();
        }
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
    Ok(Some(Value::Array(outputs).to_string()))
}

/// Deletes the organisation's exports whose files expired, with their files, and those that
/// never ended.
async fn forget_expired(state: &AppState, scope: &mhp_domain::OrgScope) -> Result<(), ApiError> {
    let now = state.app.clock.now();
    let stale = Timestamp::from_millis(now.as_millis() - STALE_MS);
    let mut tx = state.app.db.tenant(scope, Access::Write).await?;
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

/// The organisation's export `job`, unless its files expired or it went stale: a read only
/// (the worker removes such exports and their files; a poll writes nothing).
async fn current(state: &AppState, grant: &Grant, job: &str) -> Result<Export, ApiError> {
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    let e = match fhir_exports::get(&mut tx, job).await {
        Ok(e) => e,
        Err(mhp_storage::StorageError::NotFound { .. }) => {
            return Err(ApiError::NotFound("export"));
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.app.clock.now().as_millis();
    let expired = e.expires_at.is_some_and(|t| t.as_millis() < now);
    let stale = e.status != Status::Complete && e.created_at.as_millis() < now - STALE_MS;
    if expired || stale {
        return Err(ApiError::NotFound("export"));
    }
    Ok(e)
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
