//! `GET /api/v1/me`: who the caller is.

use axum::Json;
use serde_json::{Value, json};

use super::Grant;
use crate::authn::Principal;

pub async fn get(grant: Grant) -> Json<Value> {
    match &grant.principal {
        Principal::ApiKey(k) => Json(json!({
            "kind": "api_key",
            "key_id": k.id,
            "org": k.org.to_string(),
            "role": k.role.as_str(),
            "expires_at_ms": k.expires_at.as_millis(),
        })),
        Principal::User { user, .. } => Json(json!({
            "kind": "user",
            "user_id": user.id.to_string(),
            "email": user.email.as_str(),
            "display_name": user.display_name.as_str(),
            "platform_role": user.platform_role.map(|r| r.as_str()),
        })),
    }
}
