//! Teams of an organisation: the handlers parse, call [`mhp_app::teams`] and render.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mhp_app::teams::{self as app, TeamsShown};
use mhp_domain::{TeamId, TeamName};
use mhp_storage::repo::{Page, teams};
use serde::{Deserialize, Serialize};

use super::{Grant, GrantReach};
use crate::{ApiError, ApiJson, AppState};

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TeamOut {
    id: String,
    name: String,
    created_at_ms: i64,
}

impl From<teams::Team> for TeamOut {
    fn from(t: teams::Team) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.to_string(),
            created_at_ms: t.created_at.as_millis(),
        }
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    name: String,
}

pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<TeamOut>>, ApiError> {
    let after = q
        .after
        .as_deref()
        .map(TeamId::parse)
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("after: {e}")))?;
    let page = Page {
        after,
        limit: q.limit.unwrap_or(100),
    };
    let shown = match &grant.reach {
        GrantReach::Organisation => TeamsShown::All,
        GrantReach::Teams(ids) => TeamsShown::Only(ids),
        GrantReach::OwnRecord => TeamsShown::None,
    };
    let list = app::list(&state.app, &grant.org()?, shown, page).await?;
    Ok(Json(list.into_iter().map(TeamOut::from).collect()))
}

fn team_name(text: &str) -> Result<TeamName, ApiError> {
    TeamName::parse(text).map_err(|e| ApiError::BadRequest(format!("name {e}")))
}

pub async fn create(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<NewTeam>,
) -> Result<(StatusCode, Json<TeamOut>), ApiError> {
    let name = team_name(&body.name)?;
    let team = app::create(&state.app, &grant.org()?, &grant.caller(), &name).await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

/// `PUT /api/v1/orgs/{org}/teams/{team}/staff/{user}`: makes a member staff (coach, commander)
/// of a team. Idempotent.
pub async fn add_staff(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, team, user)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let team = TeamId::parse(&team).map_err(|_| ApiError::NotFound("team"))?;
    let user = mhp_domain::UserId::parse(&user).map_err(|_| ApiError::NotFound("member"))?;
    app::add_staff(&state.app, &grant.org()?, &grant.caller(), team, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    name: String,
}

/// `PATCH /api/v1/orgs/{org}/teams/{team}`: renames a team.
pub async fn rename(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, team)): Path<(String, String)>,
    ApiJson(body): ApiJson<TeamPatch>,
) -> Result<Json<TeamOut>, ApiError> {
    let team = super::path_id(&team, "team", TeamId::parse)?;
    let name = team_name(&body.name)?;
    let renamed = app::rename(&state.app, &grant.org()?, &grant.caller(), team, &name).await?;
    Ok(Json(renamed.into()))
}

/// `DELETE /api/v1/orgs/{org}/teams/{team}`: archives a team (its history stays).
pub async fn archive(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, team)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let team = super::path_id(&team, "team", TeamId::parse)?;
    app::archive(&state.app, &grant.org()?, &grant.caller(), team).await?;
    Ok(StatusCode::NO_CONTENT)
}
