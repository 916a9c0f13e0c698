//! API keys of an organisation: issue (the token is shown once), list, revoke.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mhp_auth::api_key;
use mhp_auth::events::AuthEvent;
use mhp_domain::{KeyName, Role, Secret, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::api_keys::{self, ApiKey, NewApiKey};
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::{ApiError, ApiJson, AppState, security};

/// Longest lifetime a key may be given.
const MAX_DAYS: u32 = 730;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct KeyOut {
    id: String,
    name: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::RoleSet>")]
    role: &'static str,
    created_by: String,
    created_at_ms: i64,
    expires_at_ms: i64,
    revoked_at_ms: Option<i64>,
    last_used_at_ms: Option<i64>,
    /// Until when the secret before the last rotation still authenticates.
    previous_secret_expires_at_ms: Option<i64>,
}

impl From<ApiKey> for KeyOut {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            role: k.role.as_str(),
            created_by: k.created_by,
            created_at_ms: k.created_at.as_millis(),
            expires_at_ms: k.expires_at.as_millis(),
            revoked_at_ms: k.revoked_at.map(Timestamp::as_millis),
            last_used_at_ms: k.last_used_at.map(Timestamp::as_millis),
            previous_secret_expires_at_ms: k.previous_expires_at.map(Timestamp::as_millis),
        }
    }
}

/// A key just made: its description and its token, shown this once.
#[derive(Serialize, schemars::JsonSchema)]
pub struct NewKeyOut {
    #[serde(flatten)]
    key: KeyOut,
    /// `Authorization: Bearer <token>`; only its hash is kept.
    token: String,
}

impl std::fmt::Debug for NewKeyOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKeyOut")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::RoleSet>")]
    role: String,
    expires_in_days: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<Vec<KeyOut>>, ApiError> {
    let keys = keys(&state, &grant).await?;
    Ok(Json(keys.into_iter().map(KeyOut::from).collect()))
}

/// The organisation's API keys (never their secrets).
pub(crate) async fn keys(state: &AppState, grant: &Grant) -> Result<Vec<ApiKey>, ApiError> {
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    Ok(api_keys::list(&mut tx).await?)
}

pub async fn create(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<NewKeyOut>), ApiError> {
    let (key, token) = issue(&state, &grant, &body.name, &body.role, body.expires_in_days).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewKeyOut {
            key: KeyOut::from(key),
            token: token.expose().clone(),
        }),
    ))
}

/// Issues an API key (90 days unless told), with its event; the token is returned once and
/// only its hash is kept. The API and the settings page call it.
pub(crate) async fn issue(
    state: &AppState,
    grant: &Grant,
    name: &str,
    role: &str,
    expires_in_days: Option<u32>,
) -> Result<(ApiKey, Secret<String>), ApiError> {
    let name = KeyName::parse(name).map_err(|e| ApiError::BadRequest(format!("name {e}")))?;
    let role = Role::parse(role).map_err(|e| ApiError::BadRequest(format!("role: {e}")))?;
    let days = expires_in_days.unwrap_or(90);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "expires_in_days must be between 1 and {MAX_DAYS}"
        )));
    }
    let now = state.app.clock.now();
    let expires_at = Timestamp::from_millis(now.as_millis() + i64::from(days) * 86_400_000);
    let minted = api_key::mint();
    let actor = grant.principal.actor();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    let key = api_keys::create(
        &mut tx,
        &NewApiKey {
            id: &minted.id,
            name: name.as_str(),
            role,
            secret_sha256: &minted.secret_sha256,
            created_by: &actor.audit_name(),
            expires_at,
        },
        now,
    )
    .await?;
    let event = AuthEvent::ApiKeyIssued {
        key_id: key.id.clone(),
        role,
    };
    security::record_in(&mut tx, &actor, &event, &grant.meta, now).await?;
    tx.commit().await?;
    Ok((key, minted.token))
}

pub async fn revoke(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, key_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    revoke_key(&state, &grant, key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes an API key, with its event. The API and the settings page call it.
pub(crate) async fn revoke_key(
    state: &AppState,
    grant: &Grant,
    key_id: String,
) -> Result<(), ApiError> {
    let now = state.app.clock.now();
    let actor = grant.principal.actor();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    api_keys::revoke(&mut tx, &key_id, now).await?;
    let event = AuthEvent::ApiKeyRevoked { key_id };
    security::record_in(&mut tx, &actor, &event, &grant.meta, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Longest overlap a rotated key's previous secret may be given.
const MAX_OVERLAP_HOURS: u32 = 7 * 24;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// How long the replaced secret still authenticates beside the new one (hours, 0 to 168;
    /// 24 when not given). A rotation during an overlap ends the older secret at once.
    overlap_hours: Option<u32>,
}

/// `POST /api/v1/orgs/{org}/api-keys/{key}/rotate`: a new secret for the key (the same id,
/// role and expiry), shown once; the old one works for the overlap.
pub async fn rotate(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, key_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RotateKey>,
) -> Result<Json<NewKeyOut>, ApiError> {
    let hours = body.overlap_hours.unwrap_or(24);
    if hours > MAX_OVERLAP_HOURS {
        return Err(ApiError::BadRequest(format!(
            "overlap_hours must be between 0 and {MAX_OVERLAP_HOURS}"
        )));
    }
    let now = state.app.clock.now();
    let until = Timestamp::from_millis(now.as_millis() + i64::from(hours) * 3_600_000);
    let minted = api_key::mint_secret(key_id.clone());
    let actor = grant.principal.actor();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    let key = api_keys::rotate(&mut tx, &key_id, &minted.secret_sha256, until, now).await?;
    let event = AuthEvent::ApiKeyRotated { key_id };
    security::record_in(&mut tx, &actor, &event, &grant.meta, now).await?;
    tx.commit().await?;
    Ok(Json(NewKeyOut {
        key: KeyOut::from(key),
        token: minted.token.expose().clone(),
    }))
}
