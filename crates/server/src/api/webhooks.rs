//! An organisation's webhooks: the handlers check URLs against the egress rules, call
//! [`mhp_app::webhooks`] and render. Secrets are shown once, when made or rotated.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mhp_app::webhooks::{self as app, NewWebhook, WebhookChanges};
use mhp_domain::{Role, Timestamp};
use mhp_storage::repo::webhooks::{Attempt, Delivery, Endpoint, Status};
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::{ApiError, ApiJson, AppState};

/// A webhook as the API shows it (never its secrets).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WebhookOut {
    id: String,
    url: String,
    #[schemars(schema_with = "super::sets::many::<super::sets::WebhookEventSet>")]
    events: Vec<String>,
    /// The role it receives events as: it is sent only what this role may read across the
    /// organisation.
    #[schemars(schema_with = "super::sets::one::<super::sets::RoleSet>")]
    role: &'static str,
    description: String,
    enabled: bool,
    /// The current secret's version (one more at each rotation).
    secret_version: i64,
    /// Until when the secret before the last rotation still signs beside the current one.
    previous_secret_expires_at_ms: Option<i64>,
    created_by: String,
    created_at_ms: i64,
    updated_at_ms: i64,
}

impl WebhookOut {
    fn of(e: Endpoint, now: Timestamp) -> Self {
        let previous = e
            .previous_signs_at(now)
            .then_some(e.previous_expires_at)
            .flatten();
        Self {
            id: e.id,
            url: e.url,
            events: e.events,
            role: e.role.as_str(),
            description: e.description,
            enabled: e.enabled,
            secret_version: e.secret_version,
            previous_secret_expires_at_ms: previous.map(Timestamp::as_millis),
            created_by: e.created_by,
            created_at_ms: e.created_at.as_millis(),
            updated_at_ms: e.updated_at.as_millis(),
        }
    }
}

/// A webhook with its signing secret, shown this once.
#[derive(Serialize, schemars::JsonSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    webhook: WebhookOut,
    /// `whsec_` and the base64 of 32 random bytes: verify `webhook-signature` with it (Standard
    /// Webhooks). Only its sealed form is kept.
    secret: String,
}

impl std::fmt::Debug for WebhookWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookWithSecret")
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookIn {
    /// An https URL MHP may reach (public addresses only, unless the operator allows more).
    url: String,
    #[schemars(schema_with = "super::sets::many::<super::sets::WebhookEventSet>")]
    events: Vec<String>,
    /// The role it receives events as (an org-wide role: a coach's reach ends at their teams).
    #[schemars(schema_with = "super::sets::one::<super::sets::RoleSet>")]
    role: String,
    description: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    url: Option<String>,
    #[schemars(schema_with = "super::sets::maybe_many::<super::sets::WebhookEventSet>")]
    events: Option<Vec<String>>,
    description: Option<String>,
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateIn {
    /// How long the replaced secret still signs beside the new one (hours, 0 to 168; 24 when
    /// not given).
    overlap_hours: Option<u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    #[schemars(schema_with = "super::sets::maybe::<super::sets::DeliveryStatusSet>")]
    status: Option<String>,
    /// The last id of the previous page (deliveries come newest first).
    before: Option<String>,
    /// At most this many (1 to 200, 50 when not given).
    limit: Option<u32>,
}

/// One delivery: the message (`id` is its `webhook-id`) and where it stands.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DeliveryOut {
    id: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::WebhookEventSet>")]
    event_type: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::DeliveryStatusSet>")]
    status: &'static str,
    attempts: i64,
    next_attempt_at_ms: Option<i64>,
    created_at_ms: i64,
    last_attempt_at_ms: Option<i64>,
    /// The last answer's HTTP status.
    last_status: Option<i64>,
    /// The last failure's code (`status_503`, `egress_timeout`, `egress_refused_private`, …).
    last_error: Option<String>,
    delivered_at_ms: Option<i64>,
    /// The body posted (ids and codes).
    payload: serde_json::Value,
}

impl From<Delivery> for DeliveryOut {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            event_type: d.event_type,
            status: d.status.as_str(),
            attempts: d.attempts,
            next_attempt_at_ms: d.next_attempt_at.map(Timestamp::as_millis),
            created_at_ms: d.created_at.as_millis(),
            last_attempt_at_ms: d.last_attempt_at.map(Timestamp::as_millis),
            last_status: d.last_status,
            last_error: d.last_error,
            delivered_at_ms: d.delivered_at.map(Timestamp::as_millis),
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AttemptOut {
    attempt: i64,
    at_ms: i64,
    duration_ms: i64,
    status: Option<i64>,
    error: Option<String>,
    /// Whether a person asked for it (a redelivery).
    manual: bool,
}

impl From<Attempt> for AttemptOut {
    fn from(a: Attempt) -> Self {
        Self {
            attempt: a.attempt,
            at_ms: a.at.as_millis(),
            duration_ms: a.duration_ms,
            status: a.status,
            error: a.error,
            manual: a.manual,
        }
    }
}

/// A delivery with every attempt.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    delivery: DeliveryOut,
    attempts_made: Vec<AttemptOut>,
}

/// Checks a URL a tenant gives against the egress rules (every connection is checked again).
async fn checked_url(state: &AppState, text: &str) -> Result<mhp_egress::Url, ApiError> {
    let url = mhp_egress::Url::parse(text).map_err(|_| ApiError::Invalid {
        code: mhp_app::Code::Invalid,
        detail: "url: not a URL".into(),
    })?;
    state
        .identity
        .egress
        .policy()
        .check_url_resolved(&url)
        .await
        .map_err(|e| ApiError::Invalid {
            code: mhp_app::Code::EgressRefused,
            detail: format!("url: {e}"),
        })?;
    Ok(url)
}

pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<Vec<WebhookOut>>, ApiError> {
    let now = state.app.now();
    let list = app::list(&state.app, &grant.org()?).await?;
    Ok(Json(
        list.into_iter().map(|e| WebhookOut::of(e, now)).collect(),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<NewWebhookIn>,
) -> Result<(StatusCode, Json<WebhookWithSecret>), ApiError> {
    let role = Role::parse(&body.role).map_err(|e| ApiError::BadRequest(format!("role: {e}")))?;
    let url = checked_url(&state, &body.url).await?;
    let (endpoint, secret) = app::create(
        &state.app,
        &grant.org()?,
        &grant.caller(),
        NewWebhook {
            url,
            events: body.events,
            role,
            description: body.description.unwrap_or_default(),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookWithSecret {
            webhook: WebhookOut::of(endpoint, state.app.now()),
            secret: secret.expose().clone(),
        }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<WebhookOut>, ApiError> {
    let endpoint = app::get(&state.app, &grant.org()?, &id).await?;
    Ok(Json(WebhookOut::of(endpoint, state.app.now())))
}

pub async fn update(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<WebhookPatch>,
) -> Result<Json<WebhookOut>, ApiError> {
    let url = match &body.url {
        Some(u) => Some(checked_url(&state, u).await?),
        None => None,
    };
    let endpoint = app::update(
        &state.app,
        &grant.org()?,
        &grant.caller(),
        &id,
        WebhookChanges {
            url,
            events: body.events,
            description: body.description,
            enabled: body.enabled,
        },
    )
    .await?;
    Ok(Json(WebhookOut::of(endpoint, state.app.now())))
}

pub async fn delete(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app::delete(&state.app, &grant.org()?, &grant.caller(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RotateIn>,
) -> Result<Json<WebhookWithSecret>, ApiError> {
    let (endpoint, secret) = app::rotate_secret(
        &state.app,
        &grant.org()?,
        &grant.caller(),
        &id,
        body.overlap_hours.unwrap_or(24),
    )
    .await?;
    Ok(Json(WebhookWithSecret {
        webhook: WebhookOut::of(endpoint, state.app.now()),
        secret: secret.expose().clone(),
    }))
}

pub async fn deliveries(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Vec<DeliveryOut>>, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                ApiError::BadRequest(
                    "status must be pending, delivered, failed or cancelled".into(),
                )
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 200".into(),
        ));
    }
    let list = app::deliveries(
        &state.app,
        &grant.org()?,
        &id,
        status,
        q.before.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(list.into_iter().map(DeliveryOut::from).collect()))
}

pub async fn delivery(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id, delivery)): Path<(String, String, String)>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    let (d, attempts) = app::delivery(&state.app, &grant.org()?, &id, &delivery).await?;
    Ok(Json(DeliveryDetail {
        delivery: d.into(),
        attempts_made: attempts.into_iter().map(AttemptOut::from).collect(),
    }))
}

pub async fn redeliver(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id, delivery)): Path<(String, String, String)>,
) -> Result<(StatusCode, Json<DeliveryOut>), ApiError> {
    let d = app::redeliver(&state.app, &grant.org()?, &grant.caller(), &id, &delivery).await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}
