//! Monitoring: training load (session-RPE and the acute:chronic workload ratio), norms (a
//! subject's percentile and T-score in a reference population, change from their own baseline
//! against the smallest worthwhile change) and a team's metrics as CSV.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mhp_domain::{CalendarDate, SubjectId, TeamId};
use mhp_storage::Access;
use mhp_storage::repo::assessments;
use mhp_storage::repo::loads::LoadEntry;
use mhp_storage::repo::{subjects, teams};
use serde::{Deserialize, Serialize};

use super::{Grant, date_field, path_id};
use crate::{ApiError, ApiJson, AppState};
use mhp_app::assessments::KEY_METRICS;
use mhp_app::monitoring::{self, Acwr, Norms, Population};
use mhp_app::phi::FieldAt;

fn today(state: &AppState) -> CalendarDate {
    CalendarDate::from_unix_millis(state.app.clock.now().as_millis())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLoad {
    session_date: String,
    session_type: String,
    duration_min: u32,
    rpe: u8,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LoadOut {
    id: String,
    session_date: String,
    session_type: String,
    duration_min: i64,
    rpe: i64,
    load_au: i64,
}

impl From<LoadEntry> for LoadOut {
    fn from(e: LoadEntry) -> Self {
        Self {
            id: e.id,
            session_date: e.session_date,
            session_type: e.session_type,
            duration_min: e.duration_min,
            rpe: e.rpe,
            load_au: e.load_au,
        }
    }
}

/// `POST /api/v1/orgs/{org}/subjects/{subject}/loads`: one session's load (Foster's
/// session-RPE: duration in minutes × CR-10 rating).
pub async fn add_load(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    ApiJson(body): ApiJson<NewLoad>,
) -> Result<(StatusCode, Json<LoadOut>), ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let new = mhp_app::loads::NewLoad::check(
        subject,
        mhp_app::loads::LoadDraft {
            session_date: body.session_date,
            session_type: body.session_type,
            duration_min: body.duration_min,
            rpe: u32::from(body.rpe),
        },
        today(&state),
    )?;
    let entry = mhp_app::loads::record(&state.app, &grant.org()?, &grant.caller(), new).await?;
    Ok((StatusCode::CREATED, Json(entry.into())))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadQuery {
    from: Option<String>,
    to: Option<String>,
    /// A cursor of the change feed or of an earlier listing's `next_since` (`0.0`: from the
    /// beginning): only the sessions recorded since (the ratio is today's as always).
    updated_since: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LoadsOut {
    entries: Vec<LoadOut>,
    acwr: Acwr,
    /// With `updated_since`: the cursor to pass next time.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_since: Option<String>,
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/loads?from=&to=`: sessions and the ratio on
/// `to` (`mhp_app::monitoring::subject_loads`).
pub async fn list_loads(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    Query(q): Query<LoadQuery>,
) -> Result<Json<LoadsOut>, ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let to = date_field("to", q.to.as_deref())?;
    let from = date_field("from", q.from.as_deref())?;
    let scope = grant.org()?;
    let loads = monitoring::subject_loads(
        &state.app,
        &scope,
        subject,
        (from, to),
        monitoring::CHRONIC_DAYS,
    )
    .await?;
    let Some(cursor) = q.updated_since.as_deref() else {
        return Ok(Json(LoadsOut {
            entries: loads.entries.into_iter().map(LoadOut::from).collect(),
            acwr: loads.acwr,
            next_since: None,
        }));
    };
    if from.is_some() || to.is_some() {
        return Err(ApiError::BadRequest(
            "give from and to (days) or updated_since (changes), not both".into(),
        ));
    }
    let since =
        super::subjects::changes_since(&state, &grant, cursor, "subject_loads", 1000, false)
            .await?;
    let entries = match since.first_changed_ms.get(&subject.to_string()) {
        Some(first) => {
            monitoring::loads_recorded_since(&state.app, &scope, subject, *first).await?
        }
        None => Vec::new(),
    };
    Ok(Json(LoadsOut {
        entries: entries.into_iter().map(LoadOut::from).collect(),
        acwr: loads.acwr,
        next_since: Some(since.next),
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NormsQuery {
    population: Option<String>,
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/norms?population=organisation|sex|sport`: the
/// key metrics of the subject's latest assessment against the population and their own
/// baseline (`mhp_app::monitoring::norms`).
pub async fn norms(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    Query(q): Query<NormsQuery>,
) -> Result<Json<Norms>, ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let population = match q.population.as_deref() {
        None => Population::default(),
        Some(p) => Population::parse(p)?,
    };
    Ok(Json(
        monitoring::norms(&state.app, &grant.org()?, subject, population, KEY_METRICS).await?,
    ))
}

/// Quotes a CSV field, and defuses values a spreadsheet would run as a formula.
fn csv_field(text: &str) -> String {
    let safe = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// `GET /api/v1/orgs/{org}/teams/{team}/metrics.csv`: one row per assessment of the team's
/// subjects with the key metrics (means over trials), for spreadsheets.
pub async fn team_csv(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, team)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    // The gate answered 404 for a team outside the caller's reach.
    let team = path_id(&team, "team", TeamId::parse)?;
    let scope = grant.org()?;
    let org = scope.org();
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    teams::get(&mut tx, team).await?;
    let values = assessments::team_metric_values(&mut tx, team).await?;
    let mut rows: BTreeMap<(i64, String), (SubjectId, BTreeMap<String, f64>)> = BTreeMap::new();
    for v in values {
        if KEY_METRICS.contains(&v.metric.as_str()) {
            rows.entry((v.recorded_at.as_millis(), v.assessment.to_string()))
                .or_insert_with(|| (v.subject, BTreeMap::new()))
                .1
                .insert(v.metric, v.value);
        }
    }
    let mut names: BTreeMap<SubjectId, Option<(String, String)>> = BTreeMap::new();
    let mut csv = String::from("subject_id,pseudonym,name,assessment_id,recorded_at");
    for m in KEY_METRICS {
        csv.push(',');
        csv.push_str(m);
    }
    csv.push('\n');
    for ((at, assessment), (subject, metrics)) in rows {
        if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(subject) {
            let s = subjects::get_including_archived(&mut tx, subject).await?;
            if s.erased_at.is_some() {
                slot.insert(None);
                continue;
            }
            let row = subject.to_string();
            let name = state.app.phi.for_read(org, subject).await?.open(
                FieldAt {
                    org,
                    table: "subjects",
                    column: "name",
                    row: &row,
                },
                &s.name,
            )?;
            slot.insert(Some((s.pseudonym, name)));
        }
        // Erased subjects leave the export with their key.
        let Some((pseudonym, name)) = names.get(&subject).cloned().flatten() else {
            continue;
        };
        let day = CalendarDate::from_unix_millis(at);
        let mut line = format!(
            "{subject},{pseudonym},{},{assessment},{day}",
            csv_field(&name)
        );
        for m in KEY_METRICS {
            line.push(',');
            if let Some(v) = metrics.get(*m) {
                line.push_str(&format!("{}", (v * 1e6).round() / 1e6));
            }
        }
        csv.push_str(&line);
        csv.push('\n');
    }
    grant
        .record(
            &mut tx,
            "team.export_metrics",
            "team",
            Some(team.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    let mut res = csv.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"team-metrics.csv\""),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("Smith, Jo"), "\"Smith, Jo\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("Ann"), "Ann");
    }
}
