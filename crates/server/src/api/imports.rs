//! Bulk imports (`/api/v1/orgs/{org}/import/…`): subjects, training loads, injuries and
//! return-to-duty decisions from CSV (a header line naming the columns) or NDJSON (one object a
//! line), as the `Content-Type` says. Each is all or none: every row that cannot be taken is
//! reported by number (422, `errors: [{row, error}]`, without the row's content), and nothing
//! is stored; otherwise every row is stored with its audit event in one transaction.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use mhp_app::import::{Format, RowError};
use serde::Serialize;

use super::Grant;
use crate::{ApiError, AppState};

/// What an import made.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImportedOut {
    /// How many records were made.
    imported: usize,
    /// Their ids, in the order of the rows.
    ids: Vec<String>,
}

fn format(headers: &HeaderMap) -> Result<Format, ApiError> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Format::of_media_type)
        .ok_or(ApiError::UnsupportedMediaType)
}

fn answer<T: ToString>(
    outcome: Result<Vec<T>, Vec<RowError>>,
) -> Result<(StatusCode, Json<ImportedOut>), ApiError> {
    match outcome {
        Ok(ids) => Ok((
            StatusCode::CREATED,
            Json(ImportedOut {
                imported: ids.len(),
                ids: ids.iter().map(ToString::to_string).collect(),
            }),
        )),
        Err(rows) => Err(ApiError::InvalidRows(rows)),
    }
}

/// `POST /api/v1/orgs/{org}/import/subjects`: columns `name`, `external_id`, `birth_date`,
/// `sex`, `sport`, `teams` (team ids separated by `;`; in NDJSON a list).
pub async fn subjects(
    State(state): State<AppState>,
    grant: Grant,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ImportedOut>), ApiError> {
    let format = format(&headers)?;
    answer(
        mhp_app::subjects::import(&state.app, &grant.org()?, &grant.caller(), format, &body)
            .await?,
    )
}

/// `POST /api/v1/orgs/{org}/import/loads`: columns `subject` (MHP's id) or `external_id`,
/// `session_date`, `session_type`, `duration_min`, `rpe`.
pub async fn loads(
    State(state): State<AppState>,
    grant: Grant,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ImportedOut>), ApiError> {
    let format = format(&headers)?;
    answer(mhp_app::loads::import(&state.app, &grant.org()?, &grant.caller(), format, &body).await?)
}

/// `POST /api/v1/orgs/{org}/import/injuries`: columns `subject` or `external_id`,
/// `body_region`, `injury_type`, `side`, `severity`, `mechanism`, `occurred_on`,
/// `time_loss_days`, `notes`.
pub async fn injuries(
    State(state): State<AppState>,
    grant: Grant,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ImportedOut>), ApiError> {
    let format = format(&headers)?;
    answer(
        mhp_app::injuries::import_injuries(
            &state.app,
            &grant.org()?,
            &grant.caller(),
            format,
            &body,
        )
        .await?,
    )
}

/// `POST /api/v1/orgs/{org}/import/decisions`: columns `injury` (an id an injuries import
/// returned), `stage`, `decided_on`, `restrictions`; in row order.
pub async fn decisions(
    State(state): State<AppState>,
    grant: Grant,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ImportedOut>), ApiError> {
    let format = format(&headers)?;
    answer(
        mhp_app::injuries::import_decisions(
            &state.app,
            &grant.org()?,
            &grant.caller(),
            format,
            &body,
        )
        .await?,
    )
}
