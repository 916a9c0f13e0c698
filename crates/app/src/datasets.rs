//! De-identified datasets: the feature rows a risk pipeline's `dataset` step builds (keyed
//! pseudonyms, sex, sport, age, weekly features and whether a time-loss injury followed),
//! sealed in the object store, listed for data scientists and exported as CSV with the export
//! audited. The artifact's format is here so that the pipelines that write it and the edges
//! that export it share one definition.

use mhp_domain::{OrgScope, RunId, Timestamp};
use mhp_storage::repo::pipelines;
use mhp_storage::{Access, ObjectKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{App, AppError, Caller, artifacts};

/// One training row: a subject-week, de-identified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRow {
    /// Keyed pseudonym.
    pub subject: String,
    /// The week's Monday (days since 1970-01-01).
    pub day: i64,
    /// Sex, or `unknown`.
    pub sex: String,
    /// Sport or unit role, or `unknown`.
    pub sport: String,
    /// Age in whole years at the view's date (capped at 90), when known.
    pub age_years: Option<i64>,
    /// Feature values in the order of the dataset's names (`null` for missing).
    pub values: Vec<Option<f64>>,
    /// Whether a time-loss injury began within the horizon.
    pub label: bool,
}

/// The dataset artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetFile {
    /// Feature names, in order.
    pub features: Vec<String>,
    /// Days ahead the label looks.
    pub horizon_days: i64,
    /// The rows in canonical order ([`sort_rows`]: by day, then content).
    pub rows: Vec<DatasetRow>,
}

impl DatasetFile {
    /// The file of `rows` (values in the order of `features`) without the columns no row has a
    /// value in: most of the engine's metrics are absent from an organisation's assessments
    /// (a vendor's export, seeded data), and every step that reads the file would carry them.
    /// A model reading a dropped column sees it missing (`mhp_pipelines::risk::ml_dataset_with`).
    pub fn without_empty_columns(
        features: Vec<String>,
        horizon_days: i64,
        mut rows: Vec<DatasetRow>,
    ) -> Self {
        let keep: Vec<usize> = (0..features.len())
            .filter(|&j| {
                rows.iter()
                    .any(|r| r.values.get(j).is_some_and(Option::is_some))
            })
            .collect();
        if keep.len() < features.len() {
            for r in &mut rows {
                r.values = keep
                    .iter()
                    .map(|&j| r.values.get(j).copied().flatten())
                    .collect();
            }
        }
        Self {
            features: keep.iter().map(|&j| features[j].clone()).collect(),
            horizon_days,
            rows,
        }
    }

    /// The rows as CSV for tools outside MHP (`tools/ml/sklearn_compare.py`): `subject, time,
    /// sex, sport, label` and the features, empty cells for missing values. `time` is the week.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("subject,time,sex,sport,label");
        for f in &self.features {
            out.push(',');
            out.push_str(f);
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&format!(
                "{},{},{},{},{}",
                r.subject,
                r.day.div_euclid(7),
                csv_safe(&r.sex),
                csv_safe(&r.sport),
                u8::from(r.label)
            ));
            for v in &r.values {
                out.push(',');
                if let Some(v) = v {
                    out.push_str(&format!("{v}"));
                }
            }
            out.push('\n');
        }
        out
    }
}

/// One test row as the evaluated model scored it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRow {
    /// Keyed pseudonym (the dataset's).
    pub subject: String,
    /// The week's Monday (days since 1970-01-01).
    pub day: i64,
    /// Whether a time-loss injury began within the horizon.
    pub label: bool,
    /// The calibrated probability the model gave.
    pub probability: f64,
}

/// The evaluation's per-row predictions on the test weeks (de-identified: the dataset's
/// pseudonyms and weeks), with the bands set at evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionsFile {
    /// The first test day (days since 1970-01-01): the training cut-off.
    pub cutoff_day: i64,
    /// Probability from which a row is in the moderate band.
    pub moderate: f64,
    /// Probability from which a row is in the high band.
    pub high: f64,
    /// In the dataset's order.
    pub rows: Vec<PredictionRow>,
}

impl PredictionsFile {
    /// The CSV a data scientist loads beside the dataset's: `subject,time,label,probability,
    /// band`, `subject` and `time` as the dataset CSV has them (so the two join).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("subject,time,label,probability,band\n");
        for r in &self.rows {
            let band = if r.probability >= self.high {
                "high"
            } else if r.probability >= self.moderate {
                "moderate"
            } else {
                "low"
            };
            out.push_str(&format!(
                "{},{},{},{},{band}\n",
                r.subject,
                r.day.div_euclid(7),
                u8::from(r.label),
                r.probability
            ));
        }
        out
    }
}

/// The step whose output names the predictions artifact.
pub const EVALUATE_STEP: &str = "evaluate";

/// One run's per-row test predictions as CSV ([`PredictionsFile::to_csv`]), the export
/// audited (`predictions.export`) before the file is opened.
pub async fn export_predictions_csv(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    run: RunId,
) -> Result<String, AppError> {
    let key = {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        let step = pipelines::succeeded_step(&mut tx, run, EVALUATE_STEP)
            .await?
            .ok_or(AppError::NotFound("predictions"))?;
        let output: Value = serde_json::from_str(&step.output_json)
            .map_err(|_| AppError::internal("an evaluation's output is unreadable"))?;
        // Runs evaluated before predictions were kept have none.
        let key = output["predictions"]["artifact"]
            .as_str()
            .ok_or(AppError::NotFound("predictions"))?;
        ObjectKey::parse(key)
            .map_err(|_| AppError::internal("a predictions artifact key is malformed"))?
    };
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    caller
        .record(
            &mut tx,
            "predictions.export",
            "pipeline_run",
            Some(run.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    let bytes = artifacts::get(app.phi.keys(), &app.objects, scope.org(), &key).await?;
    let file: PredictionsFile = serde_json::from_slice(&bytes)
        .map_err(|_| AppError::internal("a predictions artifact is unreadable"))?;
    Ok(file.to_csv())
}

fn csv_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, ',' | '"' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The step of a risk pipeline that builds a dataset.
pub const DATASET_STEP: &str = "dataset";

/// A dataset a run built, as its step reported it: counts and feature names, nothing of a
/// person.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSummary {
    /// The run that built it.
    pub run: RunId,
    /// The run's pipeline.
    pub pipeline: String,
    /// When the step finished.
    pub built_at: Timestamp,
    /// The day the rows were built as of (`YYYY-MM-DD`).
    pub as_of: String,
    /// Subject-weeks.
    pub rows: u64,
    /// Distinct subjects (pseudonyms).
    pub subjects: u64,
    /// Rows followed by a time-loss injury.
    pub positives: u64,
    /// Injuries open too long without a time loss or decision (their weeks count as time
    /// loss until a clinician records one).
    pub stale_injuries: u64,
    /// The feature columns, in order.
    pub features: Vec<String>,
    /// SHA-256 of the sealed file's content, as model lineage records it.
    pub fingerprint: String,
    /// Where the file is.
    artifact: String,
}

impl DatasetSummary {
    fn from_step(run: RunId, pipeline: String, built_at: Timestamp, output: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(output).ok()?;
        let count = |k: &str| v.get(k).and_then(Value::as_u64);
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            run,
            pipeline,
            built_at,
            as_of: text("as_of")?,
            rows: count("rows")?,
            subjects: count("subjects")?,
            positives: count("positives")?,
            stale_injuries: count("stale_injuries").unwrap_or(0),
            features: v
                .get("features")?
                .as_array()?
                .iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect(),
            fingerprint: text("fingerprint")?,
            artifact: text("artifact")?,
        })
    }
}

/// The datasets the organisation's runs built, newest first (at most `limit`).
pub async fn list(
    app: &App,
    scope: &OrgScope,
    limit: u32,
) -> Result<Vec<DatasetSummary>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let done = pipelines::succeeded_steps(&mut tx, DATASET_STEP, i64::from(limit)).await?;
    Ok(done
        .into_iter()
        .filter_map(|d| DatasetSummary::from_step(d.run, d.pipeline, d.finished_at, &d.output_json))
        .collect())
}

/// One run's dataset, summary only.
pub async fn get(app: &App, scope: &OrgScope, run: RunId) -> Result<DatasetSummary, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let d = pipelines::succeeded_step(&mut tx, run, DATASET_STEP)
        .await?
        .ok_or(AppError::NotFound("dataset"))?;
    DatasetSummary::from_step(d.run, d.pipeline, d.finished_at, &d.output_json)
        .ok_or(AppError::NotFound("dataset"))
}

/// One run's dataset as CSV (`subject, time, sex, sport, label` and the features; pseudonyms
/// only), its export audited (`dataset.export`) before the file is opened: an export that
/// cannot be recorded does not happen.
pub async fn export_csv(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    run: RunId,
) -> Result<(DatasetSummary, String), AppError> {
    let summary = get(app, scope, run).await?;
    let key = ObjectKey::parse(&summary.artifact)
        .map_err(|_| AppError::internal("a dataset's artifact key is malformed"))?;
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    caller
        .record(
            &mut tx,
            "dataset.export",
            "dataset",
            Some(run.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    let bytes = artifacts::get(app.phi.keys(), &app.objects, scope.org(), &key).await?;
    let file: DatasetFile = serde_json::from_slice(&bytes)
        .map_err(|_| AppError::internal("a dataset artifact is unreadable"))?;
    Ok((summary, file.to_csv()))
}
