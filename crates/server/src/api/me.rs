//! `GET /api/v1/me`: who the caller is.

use axum::Json;
use serde::Serialize;

use super::Grant;
use crate::authn::Principal;

pub async fn get(grant: Grant) -> Json<Me> {
    Json(match &grant.principal {
        Principal::ApiKey(k) => Me::ApiKey {
            key_id: k.id.clone(),
            org: k.org.to_string(),
            role: k.role.as_str(),
            expires_at_ms: k.expires_at.as_millis(),
        },
        Principal::User { user, .. } => Me::User {
            user_id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            platform_role: user.platform_role.map(|r| r.as_str()),
        },
    })
}

/// Who the caller is: an API key of one organisation, or a person.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Me {
    /// An organisation's API key.
    ApiKey {
        /// The key's public id.
        key_id: String,
        /// Its organisation.
        org: String,
        /// Its role there.
        #[schemars(schema_with = "super::sets::one::<super::sets::RoleSet>")]
        role: &'static str,
        expires_at_ms: i64,
    },
    /// A person signed in (session or access token).
    User {
        user_id: String,
        email: String,
        display_name: String,
        /// `operator` for the platform's operators.
        platform_role: Option<&'static str>,
    },
}
