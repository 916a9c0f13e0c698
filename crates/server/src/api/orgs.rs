//! The organisation itself: its name, read and changed by its administrators.

use axum::Json;
use axum::extract::State;
use mhp_domain::OrgName;
use mhp_storage::Access;
use mhp_storage::repo::orgs;
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::{ApiError, ApiJson, AppState};

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OrgOut {
    id: String,
    name: String,
    created_at_ms: i64,
}

impl From<orgs::Organization> for OrgOut {
    fn from(o: orgs::Organization) -> Self {
        Self {
            id: o.id.to_string(),
            name: o.name.to_string(),
            created_at_ms: o.created_at.as_millis(),
        }
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    name: String,
}

/// `GET /api/v1/orgs/{org}`
pub async fn get(State(state): State<AppState>, grant: Grant) -> Result<Json<OrgOut>, ApiError> {
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    Ok(Json(orgs::current(&mut tx).await?.into()))
}

/// `PATCH /api/v1/orgs/{org}`: renames the organisation.
pub async fn rename(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<OrgPatch>,
) -> Result<Json<OrgOut>, ApiError> {
    let name = OrgName::parse(&body.name).map_err(|e| ApiError::BadRequest(format!("name {e}")))?;
    let now = state.app.clock.now();
    let scope = grant.org()?;
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    let renamed = orgs::rename(&mut tx, &name).await?;
    grant
        .record(
            &mut tx,
            "organisation.rename",
            "organisation",
            Some(scope.org().to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(Json(renamed.into()))
}
