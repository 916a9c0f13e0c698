//! Members of an organisation and their roles.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mhp_auth::events::AuthEvent;
use mhp_domain::{Role, UserId};
use mhp_storage::Access;
use mhp_storage::repo::{sessions, tokens, users};
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::{ApiError, ApiJson, AppState, security};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    #[schemars(schema_with = "super::sets::many::<super::sets::RoleSet>")]
    roles: Vec<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct MemberOut {
    id: String,
    email: String,
    display_name: String,
    #[schemars(schema_with = "super::sets::many::<super::sets::RoleSet>")]
    roles: Vec<&'static str>,
}

pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<Vec<MemberOut>>, ApiError> {
    let members = members(&state, &grant).await?;
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

/// The organisation's members with their roles.
pub(crate) async fn members(
    state: &AppState,
    grant: &Grant,
) -> Result<Vec<users::Member>, ApiError> {
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    Ok(users::members(&mut tx).await?)
}

/// `PUT /api/v1/orgs/{org}/members/{user}/roles`: replaces a member's roles (an empty list removes
/// the member). The member's sessions and refresh tokens end, so the privileges they sign in
/// with next are the new ones, under new session ids.
pub async fn set_roles(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, user)): Path<(String, String)>,
    ApiJson(body): ApiJson<Roles>,
) -> Result<StatusCode, ApiError> {
    let user = UserId::parse(&user).map_err(|_| ApiError::NotFound("member"))?;
    change_roles(&state, &grant, user, &body.roles).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a member's roles (none removes the member) and ends their sessions and refresh
/// tokens, with the event. The API and the settings page call it.
pub(crate) async fn change_roles(
    state: &AppState,
    grant: &Grant,
    user: UserId,
    roles: &[String],
) -> Result<(), ApiError> {
    let mut roles = roles
        .iter()
        .map(|r| Role::parse(r).map_err(|e| ApiError::BadRequest(format!("roles: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    if roles.contains(&Role::Device) {
        return Err(ApiError::BadRequest(
            "devices get API keys, not roles".into(),
        ));
    }
    let now = state.app.clock.now();
    // Two transactions, one after the other (never nested: SQLite has one writer). Sessions end
    // first; should the role change then fail, the member only has to sign in again.
    let scope = grant.org()?;
    let mut check = state.app.db.tenant(&scope, Access::Read).await?;
    let before = users::roles(&mut check, user).await?;
    if before.is_empty() {
        return Err(ApiError::NotFound("member"));
    }
    drop(check);
    let mut op = state.app.db.operator(Access::Write).await?;
    sessions::revoke_all(&mut op, user, now).await?;
    tokens::revoke_user_refresh(&mut op, user, now).await?;
    op.commit().await?;
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    users::set_roles(&mut tx, user, &roles, now).await?;
    let event = AuthEvent::RolesChanged {
        user: user.to_string(),
        added: roles
            .iter()
            .filter(|r| !before.contains(r))
            .copied()
            .collect(),
        removed: before
            .iter()
            .filter(|r| !roles.contains(r))
            .copied()
            .collect(),
    };
    security::record_in(&mut tx, &grant.principal.actor(), &event, &grant.meta, now).await?;
    tx.commit().await?;
    Ok(())
}
