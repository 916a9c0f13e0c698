//! The compliance self-checks' newest report and history: the platform operator's view of the
//! deployment, and an organisation's auditors' (the same deployment-wide checks, whose
//! evidence holds counts and settings only). Every read is audited.

use axum::Json;
use axum::extract::{Path, Query, State};
use mhp_app::compliance::{self, Report, Summary};
use mhp_domain::OrgId;
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// How many runs of the history to list (1 to 400, default 30).
    history: Option<u32>,
}

/// One run of the history.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RunOut {
    /// When it ran (ms since the epoch).
    at_ms: i64,
    /// Counts by result.
    summary: Summary,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReportOut {
    /// The newest run's report.
    report: Report,
    /// The newest runs, newest first.
    history: Vec<RunOut>,
}

async fn read(
    state: &AppState,
    grant: &Grant,
    org: Option<OrgId>,
    q: &ReportQuery,
) -> Result<Json<ReportOut>, ApiError> {
    let (report, runs) = compliance::read(
        &state.app,
        &grant.caller(),
        org,
        i64::from(q.history.unwrap_or(30)),
    )
    .await?;
    Ok(Json(ReportOut {
        report,
        history: runs
            .into_iter()
            .map(|(at_ms, summary)| RunOut { at_ms, summary })
            .collect(),
    }))
}

/// `GET /api/v1/compliance/report` (platform operator)
pub async fn platform(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<ReportQuery>,
) -> Result<Json<ReportOut>, ApiError> {
    read(&state, &grant, None, &q).await
}

/// `GET /api/v1/orgs/{org}/compliance/report` (org admins, auditors)
pub async fn org(
    State(state): State<AppState>,
    grant: Grant,
    Path(_org): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Json<ReportOut>, ApiError> {
    let org = grant.org()?.org();
    read(&state, &grant, Some(org), &q).await
}
