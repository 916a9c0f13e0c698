//! The organisation itself: its name and time zone, read and changed by its administrators
//! (the rules and audit are `mhp_app::orgs`).

use axum::Json;
use axum::extract::State;
use mhp_storage::repo::orgs;
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::{ApiError, ApiJson, AppState};

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OrgOut {
    id: String,
    name: String,
    created_at_ms: i64,
    /// The IANA time zone its pages show dates in.
    time_zone: String,
}

impl From<orgs::Organization> for OrgOut {
    fn from(o: orgs::Organization) -> Self {
        Self {
            id: o.id.to_string(),
            name: o.name.to_string(),
            created_at_ms: o.created_at.as_millis(),
            time_zone: o.time_zone.name().to_owned(),
        }
    }
}

/// What to change; at least one field.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    name: Option<String>,
    /// An IANA time zone name such as `Europe/Oslo`.
    time_zone: Option<String>,
}

/// `GET /api/v1/orgs/{org}`
pub async fn get(State(state): State<AppState>, grant: Grant) -> Result<Json<OrgOut>, ApiError> {
    let org = mhp_app::orgs::current(&state.app, &grant.org()?).await?;
    Ok(Json(org.into()))
}

/// `PATCH /api/v1/orgs/{org}`: renames the organisation or sets its time zone.
pub async fn update(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<OrgPatch>,
) -> Result<Json<OrgOut>, ApiError> {
    let change = mhp_app::orgs::OrgChange {
        name: body.name.as_deref(),
        time_zone: body.time_zone.as_deref(),
    };
    let org = mhp_app::orgs::update(&state.app, &grant.org()?, &grant.caller(), &change).await?;
    Ok(Json(org.into()))
}
