//! De-identified datasets for data scientists: what each risk run's `dataset` step built
//! (counts and feature names) and the rows themselves as CSV, pseudonyms only, the export
//! audited (`mhp_app::datasets`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse as _, Response};
use mhp_app::datasets::DatasetSummary;
use mhp_domain::RunId;
use serde::Serialize;

use super::Grant;
use crate::{ApiError, AppState};

/// Datasets listed at most.
pub const LISTED: u32 = 200;

/// A dataset a run built.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DatasetOut {
    /// The run that built it (the dataset's id).
    run_id: String,
    pipeline: String,
    built_at_ms: i64,
    /// The day the rows were built as of.
    as_of: String,
    /// Subject-weeks.
    rows: u64,
    /// Distinct pseudonymous subjects.
    subjects: u64,
    /// Rows followed by a time-loss injury within the horizon.
    positives: u64,
    /// Injuries open too long without a time loss or a decision.
    stale_injuries: u64,
    /// The feature columns, in order.
    features: Vec<String>,
    /// SHA-256 of the file, as the lineage of the models trained on it records it.
    fingerprint: String,
}

impl From<DatasetSummary> for DatasetOut {
    fn from(d: DatasetSummary) -> Self {
        Self {
            run_id: d.run.to_string(),
            pipeline: d.pipeline,
            built_at_ms: d.built_at.as_millis(),
            as_of: d.as_of,
            rows: d.rows,
            subjects: d.subjects,
            positives: d.positives,
            stale_injuries: d.stale_injuries,
            features: d.features,
            fingerprint: d.fingerprint,
        }
    }
}

/// `GET /api/v1/orgs/{org}/datasets`: newest first.
pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<Vec<DatasetOut>>, ApiError> {
    let sets = mhp_app::datasets::list(&state.app, &grant.org()?, LISTED).await?;
    Ok(Json(sets.into_iter().map(DatasetOut::from).collect()))
}

/// `GET /api/v1/orgs/{org}/datasets/{run}/csv`: the rows, audited as `dataset.export`.
pub async fn csv(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, run)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let run = RunId::parse(&run).map_err(|_| ApiError::NotFound("dataset"))?;
    let (_, csv) =
        mhp_app::datasets::export_csv(&state.app, &grant.org()?, &grant.caller(), run).await?;
    let mut res = csv.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"dataset-{run}.csv\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// `GET /api/v1/orgs/{org}/datasets/{run}/predictions.csv`: the evaluated model's probability
/// for each test row, de-identified as the dataset is.
pub async fn predictions_csv(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, run)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let run = RunId::parse(&run).map_err(|_| ApiError::NotFound("predictions"))?;
    let csv =
        mhp_app::datasets::export_predictions_csv(&state.app, &grant.org()?, &grant.caller(), run)
            .await?;
    let mut res = csv.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"predictions-{run}.csv\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
