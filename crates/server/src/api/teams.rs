//! Teams of an organisation.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use mhp_domain::{TeamId, TeamName};
use mhp_storage::Access;
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
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    let list = match &grant.reach {
        GrantReach::Organisation => teams::list(&mut tx, page).await?,
        // A coach sees the teams they coach (a handful), paged here by id like the full list.
        GrantReach::Teams(ids) => {
            let mut ids: Vec<TeamId> = ids
                .iter()
                .copied()
                .filter(|id| page.after.is_none_or(|a| *id > a))
                .collect();
            ids.sort();
            let mut out = Vec::new();
            for id in ids.into_iter().take(page.limit.clamp(1, 500) as usize) {
                match teams::get(&mut tx, id).await {
                    Ok(t) => out.push(t),
                    Err(mhp_storage::StorageError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            out
        }
        GrantReach::OwnRecord => Vec::new(),
    };
    Ok(Json(list.into_iter().map(TeamOut::from).collect()))
}

pub async fn create(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<NewTeam>,
) -> Result<(StatusCode, Json<TeamOut>), ApiError> {
    let name =
        TeamName::parse(&body.name).map_err(|e| ApiError::BadRequest(format!("name {e}")))?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    let team = teams::create(&mut tx, &name, now).await?;
    grant
        .record(
            &mut tx,
            "team.create",
            "team",
            Some(team.id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

/// `PUT /api/v1/orgs/{org}/teams/{team}/staff/{user}`: makes a member staff (coach, commander)
/// of a team. Idempotent.
pub async fn add_staff(
    State(state): State<AppState>,
    grant: Grant,
    axum::extract::Path((_, team, user)): axum::extract::Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let team = TeamId::parse(&team).map_err(|_| ApiError::NotFound("team"))?;
    let user = mhp_domain::UserId::parse(&user).map_err(|_| ApiError::NotFound("member"))?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    if mhp_storage::repo::users::roles(&mut tx, user)
        .await?
        .is_empty()
    {
        return Err(ApiError::NotFound("member"));
    }
    teams::get(&mut tx, team).await?;
    teams::add_staff(&mut tx, team, user, now).await?;
    grant
        .record(
            &mut tx,
            "team.staff_add",
            "team",
            Some(team.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
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
    axum::extract::Path((_, team)): axum::extract::Path<(String, String)>,
    ApiJson(body): ApiJson<TeamPatch>,
) -> Result<Json<TeamOut>, ApiError> {
    let team = super::path_id(&team, "team", TeamId::parse)?;
    let name =
        TeamName::parse(&body.name).map_err(|e| ApiError::BadRequest(format!("name {e}")))?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    let renamed = teams::rename(&mut tx, team, &name).await?;
    grant
        .record(&mut tx, "team.rename", "team", Some(team.to_string()), now)
        .await?;
    tx.commit().await?;
    Ok(Json(renamed.into()))
}

/// `DELETE /api/v1/orgs/{org}/teams/{team}`: archives a team (its history stays).
pub async fn archive(
    State(state): State<AppState>,
    grant: Grant,
    axum::extract::Path((_, team)): axum::extract::Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let team = super::path_id(&team, "team", TeamId::parse)?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    teams::archive(&mut tx, team, now).await?;
    grant
        .record(&mut tx, "team.archive", "team", Some(team.to_string()), now)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
