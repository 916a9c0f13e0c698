//! The audit log for auditors: a query API with filters and an export as JSON lines. Reading
//! the log is itself recorded.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use mhp_storage::Access;
use mhp_storage::repo::audit::{self, Filter, StoredEvent};
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::{ApiError, AppState};

/// Most events one export holds; narrow the time range for more.
pub const EXPORT_MAX: usize = 100_000;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    actor: Option<String>,
    /// An action (`subject.read`) or a family ending with a dot (`subject.`).
    action: Option<String>,
    resource_type: Option<String>,
    resource_id: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    after: Option<i64>,
    limit: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EventOut {
    seq: i64,
    id: String,
    at_ms: i64,
    actor: String,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    #[schemars(schema_with = "super::sets::one::<super::sets::Outcome>")]
    outcome: String,
    request_id: Option<String>,
    source_ip: Option<String>,
    user_agent: Option<String>,
    /// A short code beyond the action (a failure's reason, a policy, roles given).
    detail: Option<String>,
    chain_index: Option<i64>,
    hash: Option<String>,
}

impl From<StoredEvent> for EventOut {
    fn from(e: StoredEvent) -> Self {
        Self {
            seq: e.seq,
            id: e.id,
            at_ms: e.at_ms,
            actor: e.actor,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            outcome: e.outcome,
            request_id: e.request_id,
            source_ip: e.source_ip,
            user_agent: e.user_agent,
            detail: e.detail,
            chain_index: e.chain_index,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EventsOut {
    items: Vec<EventOut>,
    /// The `after` of the next page, when there may be one.
    next: Option<i64>,
}

fn filter(q: &AuditQuery) -> Result<Filter, ApiError> {
    Ok(mhp_app::audit_log::check(Filter {
        actor: q.actor.clone(),
        action: q.action.clone(),
        resource_type: q.resource_type.clone(),
        resource_id: q.resource_id.clone(),
        from_ms: q.from_ms,
        to_ms: q.to_ms,
    })?)
}

/// `GET /api/v1/orgs/{org}/audit`: the organisation's events, oldest first, a page at a time.
pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<AuditQuery>,
) -> Result<Json<EventsOut>, ApiError> {
    let f = filter(&q)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let found = mhp_app::audit_log::read(
        &state.app,
        &grant.org()?,
        &grant.caller(),
        &f,
        q.after,
        limit,
    )
    .await?;
    let next = (found.len() == limit as usize)
        .then(|| found.last().map(|e| e.seq))
        .flatten();
    Ok(Json(EventsOut {
        items: found.into_iter().map(EventOut::from).collect(),
        next,
    }))
}

/// `GET /api/v1/orgs/{org}/audit/export`: the matching events as JSON lines
/// (`application/x-ndjson`), oldest first, at most [`EXPORT_MAX`].
pub async fn export(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let f = filter(&q)?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    let mut out = String::new();
    let mut after = q.after;
    let mut n = 0usize;
    while n < EXPORT_MAX {
        let page = audit::search(&mut tx, &f, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        let done = page.len() < 1000;
        for e in page.into_iter().take(EXPORT_MAX - n) {
            let line = serde_json::to_string(&EventOut::from(e))
                .map_err(|e| ApiError::Internal(Box::new(e)))?;
            out.push_str(&line);
            out.push('\n');
            n += 1;
        }
        if done {
            break;
        }
    }
    grant
        .record(&mut tx, "audit.export", "audit_log", None, now)
        .await?;
    tx.commit().await?;
    let mut res = out.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit.jsonl\""),
    );
    Ok(res)
}
