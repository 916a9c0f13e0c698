//! Search and analytics over the document index: assessments filtered by team, subject, kind,
//! quality flag, dates and metric ranges; a metric's team mean and percentiles per week.
//! Staff of teams (coaches) see only the teams they name that are theirs (an empty answer
//! otherwise); documents carry pseudonyms only.

use axum::Json;
use axum::extract::{Query, State};
use mhp_domain::{SubjectId, TeamId};
use mhp_index::{AssessmentDoc, Query as IndexQuery, WeekBucket};
use serde::{Deserialize, Serialize};

use super::{Grant, GrantReach};
use crate::{ApiError, AppState};

/// The metric of `weekly` when none is named.
pub const DEFAULT_METRIC: &str = "jump_height_impulse_m";

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    team: Option<String>,
    subject: Option<String>,
    kind: Option<String>,
    flag: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    /// A metric to bound, with `min` and/or `max`.
    metric: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    limit: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DocOut {
    assessment_id: String,
    subject_id: String,
    pseudonym: String,
    team_ids: Vec<String>,
    recorded_at_ms: i64,
    kind: String,
    analysis_version: String,
    flags: Vec<String>,
    metrics: std::collections::BTreeMap<String, f64>,
}

impl From<AssessmentDoc> for DocOut {
    fn from(d: AssessmentDoc) -> Self {
        Self {
            assessment_id: d.id.to_string(),
            subject_id: d.subject.to_string(),
            pseudonym: d.pseudonym,
            team_ids: d.teams.iter().map(ToString::to_string).collect(),
            recorded_at_ms: d.recorded_at_ms,
            kind: d.kind,
            analysis_version: d.analysis_version,
            flags: d.flags,
            metrics: d.metrics,
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WeekOut {
    week_start_ms: i64,
    count: u64,
    mean: f64,
    p10: f64,
    p50: f64,
    p90: f64,
}

impl From<WeekBucket> for WeekOut {
    fn from(b: WeekBucket) -> Self {
        Self {
            week_start_ms: b.week_start_ms,
            count: b.count,
            mean: b.mean,
            p10: b.p10,
            p50: b.p50,
            p90: b.p90,
        }
    }
}

fn code(field: &'static str, v: &str) -> Result<String, ApiError> {
    let ok = (1..=80).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if ok {
        Ok(v.to_owned())
    } else {
        Err(ApiError::BadRequest(format!(
            "{field} must be a lowercase code"
        )))
    }
}

/// The index query of a request.
fn query(grant: &Grant, q: &SearchQuery, metric_needed: bool) -> Result<IndexQuery, ApiError> {
    let team = q
        .team
        .as_deref()
        .map(TeamId::parse)
        .transpose()
        .map_err(|_| ApiError::BadRequest("team is not a team id".into()))?;
    // The gate answered 404 for a team outside the caller's reach; staff who reach only some
    // teams must name one (the whole organisation's figures are not theirs).
    if team.is_none() && grant.reach != GrantReach::Organisation {
        return Err(ApiError::NotFound("team"));
    }
    let mut metric = q.metric.as_deref().map(|m| code("metric", m)).transpose()?;
    if metric_needed && metric.is_none() {
        metric = Some(DEFAULT_METRIC.to_owned());
    }
    let mut ranges = Vec::new();
    if let Some(m) = &metric
        && (q.min.is_some() || q.max.is_some())
    {
        if q.min.is_some_and(|v| !v.is_finite()) || q.max.is_some_and(|v| !v.is_finite()) {
            return Err(ApiError::BadRequest("min and max must be finite".into()));
        }
        ranges.push((m.clone(), q.min, q.max));
    }
    Ok(IndexQuery {
        team,
        subject: q
            .subject
            .as_deref()
            .map(SubjectId::parse)
            .transpose()
            .map_err(|_| ApiError::BadRequest("subject is not a subject id".into()))?,
        kind: q.kind.as_deref().map(|k| code("kind", k)).transpose()?,
        flag: q.flag.as_deref().map(|f| code("flag", f)).transpose()?,
        tag: None,
        from_ms: q.from_ms,
        to_ms: q.to_ms,
        metric_ranges: ranges,
        limit: q.limit.unwrap_or(100).clamp(1, 1000) as usize,
    })
}

fn index_error(e: mhp_index::IndexError) -> ApiError {
    match e {
        mhp_index::IndexError::InvalidQuery(what) => ApiError::BadRequest(what.to_owned()),
        mhp_index::IndexError::Unavailable { .. } | mhp_index::IndexError::NotReady(_) => {
            ApiError::Unavailable
        }
        e => ApiError::Internal(Box::new(e)),
    }
}

/// `GET /api/v1/orgs/{org}/analytics/assessments`: newest first.
pub async fn search(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<DocOut>>, ApiError> {
    let query = query(&grant, &q, false)?;
    let docs = state
        .app
        .index
        .search(grant.org()?.org(), &query)
        .await
        .map_err(index_error)?;
    Ok(Json(docs.into_iter().map(DocOut::from).collect()))
}

/// `GET /api/v1/orgs/{org}/analytics/weekly?metric=…`: mean and p10/p50/p90 per week (of jump
/// height by default).
pub async fn weekly(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<WeekOut>>, ApiError> {
    let query = query(&grant, &q, true)?;
    let metric = q
        .metric
        .clone()
        .unwrap_or_else(|| DEFAULT_METRIC.to_owned());
    let weeks = state
        .app
        .index
        .weekly(grant.org()?.org(), &query, &metric)
        .await
        .map_err(index_error)?;
    Ok(Json(weeks.into_iter().map(WeekOut::from).collect()))
}
