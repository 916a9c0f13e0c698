//! Members of an organisation and their roles.

use axum::Json;
use axum::extract::State;
use mhp_storage::Access;
use mhp_storage::repo::users;
use serde::Serialize;

use super::Grant;
use crate::{ApiError, AppState};

#[derive(Debug, Serialize)]
pub struct MemberOut {
    id: String,
    email: String,
    display_name: String,
    roles: Vec<&'static str>,
}

pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<Vec<MemberOut>>, ApiError> {
    let mut tx = state.db.tenant(&grant.org()?, Access::Read).await?;
    let members = users::members(&mut tx).await?;
    Ok(Json(
        members
            .into_iter()
            .map(|m| MemberOut {
                id: m.user.id.to_string(),
                email: m.user.email.to_string(),
                display_name: m.user.display_name.to_string(),
                roles: m.roles.iter().map(|r| r.as_str()).collect(),
            })
            .collect(),
    ))
}
