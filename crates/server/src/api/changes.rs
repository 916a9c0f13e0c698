//! `GET /api/v1/orgs/{org}/changes`: the organisation's change feed ([`mhp_app::changes`]).

use axum::Json;
use axum::extract::{Query, State};
use mhp_app::changes;
use serde::{Deserialize, Serialize};

use super::Grant;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// The `next` of the previous page (none: from the beginning).
    after: Option<String>,
    /// Resource kinds, comma-separated (`subject,injury`; all when not given).
    kinds: Option<String>,
    /// At most this many (1 to 1000, 500 when not given).
    limit: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ChangeOut {
    /// Where this change stands in the feed.
    cursor: String,
    #[schemars(schema_with = "super::sets::one::<super::sets::ChangeKindSet>")]
    kind: &'static str,
    /// The resource's id (for `subject_loads`, the subject's): fetch it to mirror it.
    id: String,
    /// `erased` is a tombstone: the resource and everything recorded of it are gone.
    #[schemars(schema_with = "super::sets::one::<super::sets::ChangeSet>")]
    change: &'static str,
    at_ms: i64,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ChangesOut {
    /// In commit order.
    items: Vec<ChangeOut>,
    /// Pass it as `after` to read on (the same cursor always gives the same next changes);
    /// when `items` is empty, poll again later with it.
    next: String,
}

pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<ChangesQuery>,
) -> Result<Json<ChangesOut>, ApiError> {
    let limit = q.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let after = changes::parse_cursor(q.after.as_deref())?;
    let kinds: Vec<String> = q
        .kinds
        .as_deref()
        .map(|k| {
            k.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let (items, next) = changes::feed(&state.app, &grant.org()?, after, &kinds, limit).await?;
    Ok(Json(ChangesOut {
        items: items
            .into_iter()
            .map(|c| ChangeOut {
                cursor: c.cursor,
                kind: c.kind,
                id: c.id,
                change: c.change.as_str(),
                at_ms: c.at_ms,
            })
            .collect(),
        next,
    }))
}
