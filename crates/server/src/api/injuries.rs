//! Injuries and return to duty. Coded fields are validated here and by the schema; free text
//! (notes, restrictions) is sealed. What an injury allows follows `mhp_domain::availability`:
//! its decisions, else its expected return (occurred + time loss).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mhp_domain::{CalendarDate, InjuryId, OrgId, SubjectId};
use mhp_storage::repo::injuries::{self, Injury};
use mhp_storage::repo::subjects;
use mhp_storage::{Access, TenantTx};
use serde::{Deserialize, Serialize};

use super::{Grant, path_id};
use crate::{ApiError, ApiJson, AppState};
use mhp_app::phi::{FieldAt, Phi};

pub(crate) use mhp_app::injuries::{MECHANISMS, SEVERITIES, SIDES, STAGES};

fn today(state: &AppState) -> CalendarDate {
    CalendarDate::from_unix_millis(state.app.clock.now().as_millis())
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DecisionOut {
    id: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::DecisionStage>")]
    stage: String,
    decided_on: String,
    restrictions: Option<String>,
    decided_by: String,
    created_at_ms: i64,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct InjuryOut {
    id: String,
    subject_id: String,
    body_region: String,
    injury_type: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::Side>")]
    side: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::Severity>")]
    severity: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::Mechanism>")]
    mechanism: String,
    occurred_on: String,
    time_loss_days: Option<i64>,
    notes: Option<String>,
    /// The latest stage in effect today, or `reported` before any decision.
    #[schemars(schema_with = "super::sets::one::<super::sets::InjuryStage>")]
    stage: String,
    /// What the injury allows today.
    #[schemars(schema_with = "super::sets::one::<super::sets::Availability>")]
    availability: &'static str,
    /// Open for more than 28 days with neither a time loss nor a decision: still counted as
    /// time loss (no end is guessed), and waiting for a clinician to record one or the other.
    stale: bool,
    decisions: Vec<DecisionOut>,
    created_at_ms: i64,
    updated_at_ms: i64,
}

pub(crate) async fn load(
    tx: &mut TenantTx,
    phi: &Phi,
    org: OrgId,
    injury: &Injury,
    today: CalendarDate,
) -> Result<InjuryOut, ApiError> {
    let decisions = injuries::decisions(tx, injury.id).await?;
    let phi = phi.for_read(org, injury.subject).await?;
    let today_day = today.days_since_epoch();
    let today = today.to_string();
    let current = decisions
        .iter()
        .rfind(|d| d.decided_on <= today)
        .map(|d| d.stage.clone());
    let state = injuries::course_of(
        &injury.occurred_on,
        injury.time_loss_days,
        &decisions
            .iter()
            .map(|d| (d.decided_on.clone(), d.stage.clone()))
            .collect::<Vec<_>>(),
    )
    .map(|c| c.state_on(today_day));
    let row = injury.id.to_string();
    let mut out_decisions = Vec::with_capacity(decisions.len());
    for d in decisions {
        out_decisions.push(DecisionOut {
            restrictions: phi.open_opt(
                FieldAt {
                    org,
                    table: "return_to_duty",
                    column: "restrictions",
                    row: &d.id,
                },
                d.restrictions.as_ref(),
            )?,
            id: d.id,
            stage: d.stage,
            decided_on: d.decided_on,
            decided_by: d.decided_by,
            created_at_ms: d.created_at.as_millis(),
        });
    }
    Ok(InjuryOut {
        id: row.clone(),
        subject_id: injury.subject.to_string(),
        body_region: injury.body_region.clone(),
        injury_type: injury.injury_type.clone(),
        side: injury.side.clone(),
        severity: injury.severity.clone(),
        mechanism: injury.mechanism.clone(),
        occurred_on: injury.occurred_on.clone(),
        time_loss_days: injury.time_loss_days,
        notes: phi.open_opt(
            FieldAt {
                org,
                table: "injuries",
                column: "notes",
                row: &row,
            },
            injury.notes.as_ref(),
        )?,
        availability: state.map_or("available", |s| s.availability().as_str()),
        stale: state.is_some_and(|s| s.is_stale()),
        stage: current.unwrap_or_else(|| "reported".to_owned()),
        decisions: out_decisions,
        created_at_ms: injury.created_at.as_millis(),
        updated_at_ms: injury.updated_at.as_millis(),
    })
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInjury {
    body_region: String,
    injury_type: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::Side>")]
    side: String,
    #[serde(default)]
    #[schemars(schema_with = "super::sets::maybe::<super::sets::Severity>")]
    severity: Option<String>,
    #[schemars(schema_with = "super::sets::one::<super::sets::Mechanism>")]
    mechanism: String,
    occurred_on: String,
    time_loss_days: Option<u32>,
    notes: Option<String>,
}

/// `POST /api/v1/orgs/{org}/subjects/{subject}/injuries`
pub async fn create(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    ApiJson(body): ApiJson<NewInjury>,
) -> Result<(StatusCode, Json<InjuryOut>), ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let today = today(&state);
    let new = mhp_app::injuries::NewInjury::check(
        subject,
        mhp_app::injuries::InjuryDraft {
            body_region: body.body_region,
            injury_type: body.injury_type,
            side: body.side,
            severity: body.severity,
            mechanism: body.mechanism,
            occurred_on: body.occurred_on,
            time_loss_days: body.time_loss_days,
            notes: body.notes,
        },
        today,
    )?;
    let scope = grant.org()?;
    let injury = mhp_app::injuries::record(&state.app, &scope, &grant.caller(), new).await?;
    let mut tx = state.app.db.tenant(&scope, Access::Read).await?;
    let out = load(&mut tx, &state.app.phi, scope.org(), &injury, today).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// A cursor of the change feed or of an earlier listing (`0.0`: from the beginning): only
    /// the subject's injuries recorded or decided on since; the cursor for next time is in the
    /// `Link` header (`rel="next"`).
    updated_since: Option<String>,
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/injuries`: most recent first, with decisions;
/// or with `updated_since`, those recorded or decided on since the cursor.
pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject_text)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let subject = path_id(&subject_text, "subject", SubjectId::parse)?;
    let scope = grant.org()?;
    let now = state.app.clock.now();
    let since = match q.updated_since.as_deref() {
        Some(cursor) => Some(
            super::subjects::changes_since(&state, &grant, cursor, "injury", 1000, false).await?,
        ),
        None => None,
    };
    let mut tx = state.app.db.tenant(&scope, Access::Read).await?;
    subjects::get_including_archived(&mut tx, subject).await?;
    let mut out = list_for(&mut tx, &state, scope.org(), subject).await?;
    drop(tx);
    if let Some(since) = &since {
        out.retain(|i| since.changed.contains(&i.id));
    }
    grant
        .record_read(
            &state.app,
            "injury.list",
            "subject",
            Some(subject.to_string()),
            now,
        )
        .await?;
    let mut res = Json(out).into_response();
    if let Some(since) = since {
        let link = format!(
            "</api/v1/orgs/{}/subjects/{subject}/injuries?updated_since={}>; rel=\"next\"",
            scope.org(),
            since.next
        );
        if let Ok(v) = axum::http::HeaderValue::from_str(&link) {
            res.headers_mut().insert(axum::http::header::LINK, v);
        }
    }
    Ok(res)
}

pub(crate) async fn list_for(
    tx: &mut TenantTx,
    state: &AppState,
    org: OrgId,
    subject: SubjectId,
) -> Result<Vec<InjuryOut>, ApiError> {
    let today = today(state);
    let mut out = Vec::new();
    for injury in injuries::list_for_subject(tx, subject).await? {
        out.push(load(tx, &state.app.phi, org, &injury, today).await?);
    }
    Ok(out)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDecision {
    #[schemars(schema_with = "super::sets::one::<super::sets::DecisionStage>")]
    stage: String,
    decided_on: String,
    restrictions: Option<String>,
}

/// `POST /api/v1/orgs/{org}/injuries/{injury}/decisions`: a return-to-duty decision
/// (`cleared` ends the injury's time loss).
pub async fn decide(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, injury)): Path<(String, String)>,
    ApiJson(body): ApiJson<NewDecision>,
) -> Result<(StatusCode, Json<InjuryOut>), ApiError> {
    let injury_id = path_id(&injury, "injury", InjuryId::parse)?;
    let today = today(&state);
    let new = mhp_app::injuries::NewDecision::check(
        injury_id,
        mhp_app::injuries::DecisionDraft {
            stage: body.stage,
            decided_on: body.decided_on,
            restrictions: body.restrictions,
        },
        today,
    )?;
    let scope = grant.org()?;
    let injury = mhp_app::injuries::decide(&state.app, &scope, &grant.caller(), new).await?;
    let mut tx = state.app.db.tenant(&scope, Access::Read).await?;
    let out = load(&mut tx, &state.app.phi, scope.org(), &injury, today).await?;
    Ok((StatusCode::CREATED, Json(out)))
}
