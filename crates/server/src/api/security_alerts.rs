//! Security alerts: an organisation's (administrators and auditors read them, administrators
//! acknowledge and resolve them) and every alert for the platform operator.

use axum::Json;
use axum::extract::{Path, Query, State};
use mhp_app::alerts::{self, StatusChange};
use mhp_domain::Timestamp;
use mhp_storage::repo::security::{Alert, AlertFilter, AlertStatus};
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::{ApiError, ApiJson, AppState};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// `open`, `acknowledged` or `resolved`.
    status: Option<String>,
    /// A rule id (`brute_force_account`).
    rule: Option<String>,
    /// Alerts whose first event is at or after this time (ms since the epoch).
    since_ms: Option<i64>,
    /// At most this many (1 to 1000, default 100).
    limit: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AlertOut {
    id: String,
    /// The rule that raised it.
    rule_id: String,
    /// Its organisation; none for platform-wide alerts.
    org_id: Option<String>,
    /// What it is about, as `field=value` pairs (an account id, an address).
    entity: String,
    severity: String,
    /// The MITRE ATT&CK technique.
    technique: Option<String>,
    title: String,
    first_at_ms: i64,
    last_at_ms: i64,
    event_count: i64,
    status: String,
    status_by: Option<String>,
    status_at_ms: Option<i64>,
    status_reason: Option<String>,
}

impl From<Alert> for AlertOut {
    fn from(a: Alert) -> Self {
        Self {
            id: a.id,
            rule_id: a.rule_id,
            org_id: a.org,
            entity: a.entity,
            severity: a.severity,
            technique: a.technique,
            title: a.title,
            first_at_ms: a.first_at.as_millis(),
            last_at_ms: a.last_at.as_millis(),
            event_count: a.event_count,
            status: a.status.as_str().to_owned(),
            status_by: a.status_by,
            status_at_ms: a.status_at.map(Timestamp::as_millis),
            status_reason: a.status_reason,
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AlertsOut {
    items: Vec<AlertOut>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `open`, `acknowledged` or `resolved`.
    status: String,
    /// Why; required to resolve.
    reason: Option<String>,
}

fn filter(q: &AlertQuery) -> Result<AlertFilter, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(AlertStatus::parse(s).ok_or_else(|| {
            ApiError::BadRequest("status must be open, acknowledged or resolved".into())
        })?),
    };
    if let Some(rule) = &q.rule
        && (rule.is_empty()
            || rule.len() > 100
            || !rule
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    {
        return Err(ApiError::BadRequest(
            "rule must be a rule id (lower-case letters, digits and _)".into(),
        ));
    }
    Ok(AlertFilter {
        status,
        rule_id: q.rule.clone(),
        since: q.since_ms.map(Timestamp::from_millis),
    })
}

fn alert_id(id: &str) -> Result<&str, ApiError> {
    uuid::Uuid::parse_str(id)
        .map(|_| id)
        .map_err(|_| ApiError::NotFound("alert"))
}

/// `GET /api/v1/orgs/{org}/security/alerts`
pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<AlertQuery>,
) -> Result<Json<AlertsOut>, ApiError> {
    let f = filter(&q)?;
    let found = alerts::list(
        &state.app,
        &grant.org()?,
        &grant.caller(),
        &f,
        q.limit.unwrap_or(100),
    )
    .await?;
    Ok(Json(AlertsOut {
        items: found.into_iter().map(AlertOut::from).collect(),
    }))
}

/// `PATCH /api/v1/orgs/{org}/security/alerts/{alert}`
pub async fn set_status(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<AlertOut>, ApiError> {
    let id = alert_id(&id)?;
    let change = StatusChange::parse(&body.status, body.reason)?;
    let alert = alerts::set_status(&state.app, &grant.org()?, &grant.caller(), id, &change).await?;
    Ok(Json(alert.into()))
}

/// `GET /api/v1/security/alerts` (platform operator)
pub async fn list_all(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<AlertQuery>,
) -> Result<Json<AlertsOut>, ApiError> {
    let f = filter(&q)?;
    let found = alerts::list_all(&state.app, &grant.caller(), &f, q.limit.unwrap_or(100)).await?;
    Ok(Json(AlertsOut {
        items: found.into_iter().map(AlertOut::from).collect(),
    }))
}

/// `PATCH /api/v1/security/alerts/{alert}` (platform operator)
pub async fn set_status_any(
    State(state): State<AppState>,
    grant: Grant,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<AlertOut>, ApiError> {
    let id = alert_id(&id)?;
    let change = StatusChange::parse(&body.status, body.reason)?;
    let alert = alerts::set_status_any(&state.app, &grant.caller(), id, &change).await?;
    Ok(Json(alert.into()))
}
