//! `GET /api/v1/me`: who the caller is; `PATCH /api/v1/me`: the units a person sees.

use axum::Json;
use axum::extract::State;
use mhp_domain::display::DisplayUnits;
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::authn::Principal;
use crate::{ApiError, ApiJson, AppState};

pub async fn get(grant: Grant) -> Json<Me> {
    Json(me(&grant.principal, None))
}

/// The units a person sees values in on pages; each field optional.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitsPatch {
    /// `cm` or `in`.
    length_unit: Option<String>,
    /// `kg` or `lb`.
    mass_unit: Option<String>,
    /// `n` (newtons and watts) or `n_per_kg` (per kilogram of body mass).
    force_unit: Option<String>,
}

/// `PATCH /api/v1/me`: a person's own display units (API keys have none).
pub async fn update(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<UnitsPatch>,
) -> Result<Json<Me>, ApiError> {
    let Principal::User { user, .. } = &grant.principal else {
        return Err(ApiError::BadRequest(
            "an API key has no display units; sign in as a person".into(),
        ));
    };
    let change = mhp_app::preferences::UnitsChange {
        length: body.length_unit.as_deref(),
        mass: body.mass_unit.as_deref(),
        force: body.force_unit.as_deref(),
    };
    let units = mhp_app::preferences::set_units(&state.app, user.id, &change).await?;
    Ok(Json(me(&grant.principal, Some(units))))
}

fn me(principal: &Principal, units: Option<DisplayUnits>) -> Me {
    match principal {
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
            units: UnitsOut::from(units.unwrap_or(user.units)),
        },
    }
}

/// The units a person sees values in.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UnitsOut {
    /// `cm` or `in`.
    length_unit: &'static str,
    /// `kg` or `lb`.
    mass_unit: &'static str,
    /// `n` or `n_per_kg`.
    force_unit: &'static str,
}

impl From<DisplayUnits> for UnitsOut {
    fn from(u: DisplayUnits) -> Self {
        Self {
            length_unit: u.length.as_str(),
            mass_unit: u.mass.as_str(),
            force_unit: u.force.as_str(),
        }
    }
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
        /// The units pages show them.
        units: UnitsOut,
    },
}
