//! The injury-risk steps: dataset → train → evaluate → register (with the promotion gate), and
//! scoring. Every output is keyed by (run, step) — artifacts at object keys named after the
//! run, registry rows unique per training run, scores unique per (subject, day, model
//! version) — so a step repeated after a lost lease rewrites the same result.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use mhp_app::{App, Caller, artifacts};
use mhp_domain::pipeline::RISK_MODEL;
use mhp_domain::{CalendarDate, ModelVersionId, OrgId, OrgScope, RunId, SubjectId};
use mhp_ml::features::{self, FeatureSpec};
use mhp_ml::search::{self, SearchSpace};
use mhp_ml::{Dataset, Evaluation, Model, ModelConfig, Predictions};
use mhp_storage::repo::models::{self, ModelVersion, NewVersion, Stage};
use mhp_storage::repo::risk::{self as scores, Score};
use mhp_storage::{Access, ObjectKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::deid::{self, DeidView, risk_feature_spec};
use crate::engine::{StepCtx, StepError};

/// Promotion tolerance: a candidate whose test AUC is at most this much below production's
/// on the same rows is promoted without a person.
pub const DEFAULT_TOLERANCE: f64 = 0.01;

/// Share of the weeks (oldest first) trained on; the rest are the test weeks.
pub const DEFAULT_TRAIN_FRACTION: f64 = 0.7;

/// Contributions kept with each score.
pub const TOP_CONTRIBUTIONS: usize = 3;

/// The pipeline's default: no fixed model, but the search of `mhp_ml::search` over the
/// platform's feature groups (logistic regression with its penalty, or slow and shallow
/// boosting, whichever validates better on the latest training weeks), calibrated.
pub fn default_search(seed: u64) -> SearchSpace {
    SearchSpace::standard(risk_feature_spec().groups(), seed)
}

/// Bootstrap resamples of the test AUC's interval (athletes drawn with replacement).
pub const AUC_RESAMPLES: usize = 1000;

/// Below this many injuries in the test weeks the evaluation warns that its figures are rough.
pub const FEW_POSITIVES: usize = 30;

pub use mhp_app::datasets::{DatasetFile, DatasetRow};

/// The rows of a dataset file as an `mhp_ml` dataset with `sex` and `sport` groups.
///
/// # Errors
/// When the file is inconsistent.
pub fn ml_dataset(file: &DatasetFile) -> Result<Dataset, StepError> {
    ml_dataset_with(file, &[])
}

/// As [`ml_dataset`], with `extra` features the file lacks as missing columns (a production
/// model may read a feature no row of this dataset has).
///
/// # Errors
/// When the file is inconsistent.
pub fn ml_dataset_with(file: &DatasetFile, extra: &[String]) -> Result<Dataset, StepError> {
    let extra: Vec<&String> = extra
        .iter()
        .filter(|f| !file.features.contains(f))
        .collect();
    let mut names = file.features.clone();
    names.extend(extra.iter().map(|f| (*f).clone()));
    let mut data = Dataset::new(names).map_err(ml_err)?;
    for r in &file.rows {
        let values: Vec<f64> = r
            .values
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .chain(extra.iter().map(|_| f64::NAN))
            .collect();
        data.push(
            &values,
            r.label,
            r.day,
            &[("sex", r.sex.as_str()), ("sport", r.sport.as_str())],
        )
        .map_err(ml_err)?;
    }
    Ok(data)
}

fn ml_err(e: mhp_ml::MlError) -> StepError {
    StepError::permanent(e.to_string())
}

fn artifact_key(org: OrgId, run: RunId, name: &str) -> Result<ObjectKey, StepError> {
    ObjectKey::parse(&format!("pipelines/{org}/{run}/{name}"))
        .map_err(|_| StepError::permanent("artifact key"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    mhp_domain::to_hex(&Sha256::digest(bytes))
}

/// Mondays of the weeks a subject is at risk in: from their first observation to the last
/// week whose label is known by `known_until`.
fn is_monday(day: i64) -> bool {
    // 1970-01-01 was a Thursday.
    (day + 3).rem_euclid(7) == 0
}

/// Builds the training rows of a view: every subject-week (Mondays) whose label is known by
/// the view's date and in which the subject was really followed (a test, a session or an
/// injury recorded within the label's window: a week with nothing recorded says nothing about
/// injuries), skipping weeks begun in time loss. A subject's weeks start at their first
/// assessment, or, when `season_start` is given, at the later of that day and their first
/// data of any kind (assessment or training load): weeks before a first jump test then count,
/// with their load features.
pub fn build_rows(
    spec: &FeatureSpec,
    view: &DeidView,
    season_start: Option<i64>,
) -> Vec<DatasetRow> {
    let known_until = view.as_of_day + 1;
    let mut rows = Vec::new();
    for s in &view.subjects {
        let first_test = s.history.observations.iter().map(|o| o.day).min();
        let first = match season_start {
            None => first_test,
            Some(start) => first_test
                .into_iter()
                .chain(s.history.loads.iter().map(|l| l.0))
                .min()
                .map(|d| d.max(start)),
        };
        let Some(first) = first else {
            continue;
        };
        let mut day = first;
        while !is_monday(day) {
            day += 1;
        }
        while day + spec.horizon_days <= known_until {
            if is_monitored(&s.history, day)
                && is_followed_in(&s.history, day, day + spec.horizon_days)
                && !features::in_time_loss(&s.history, day)
            {
                let row = features::build(spec, &s.history, day, known_until);
                if let Some(label) = row.label {
                    rows.push(DatasetRow {
                        subject: s.id.clone(),
                        day,
                        sex: s.sex.clone().unwrap_or_else(|| "unknown".into()),
                        sport: s.sport.clone().unwrap_or_else(|| "unknown".into()),
                        age_years: s.age_years,
                        values: row
                            .values
                            .iter()
                            .map(|v| if v.is_nan() { None } else { Some(*v) })
                            .collect(),
                        label,
                    });
                }
            }
            day += 7;
        }
    }
    sort_rows(&mut rows);
    rows
}

/// Puts rows in the dataset's canonical order: by day, then by content (feature values,
/// label, sex, sport, age), then by pseudonym. The order decides the model where training
/// draws at random (row subsampling) and where sums are rounded, so it must not follow the
/// organisation's pseudonym key: identical data gives identical rows in the identical order in
/// any organisation and instance (rows equal up to the pseudonym are interchangeable).
pub fn sort_rows(rows: &mut [DatasetRow]) {
    fn values_cmp(a: &[Option<f64>], b: &[Option<f64>]) -> std::cmp::Ordering {
        for (x, y) in a.iter().zip(b) {
            let o = match (x, y) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => x.total_cmp(y),
            };
            if o.is_ne() {
                return o;
            }
        }
        a.len().cmp(&b.len())
    }
    rows.sort_by(|a, b| {
        a.day
            .cmp(&b.day)
            .then_with(|| values_cmp(&a.values, &b.values))
            .then_with(|| a.label.cmp(&b.label))
            .then_with(|| a.sex.cmp(&b.sex))
            .then_with(|| a.sport.cmp(&b.sport))
            .then_with(|| a.age_years.cmp(&b.age_years))
            .then_with(|| a.subject.cmp(&b.subject))
    });
}

/// Whether anything of the subject was recorded in `[from, to)`: a jump test, a training
/// session or the onset of an injury. A training row needs it for its label's window, so that
/// "no injury" means an injury would have been seen, not that nobody was looking (with
/// `as_of` today, [`is_monitored`] alone keeps a subject "monitored" for four weeks after
/// their last test).
pub fn is_followed_in(h: &features::History, from: i64, to: i64) -> bool {
    let within = |d: i64| d >= from && d < to;
    h.observations.iter().any(|o| within(o.day))
        || h.loads.iter().any(|(d, _)| within(*d))
        || h.injuries.iter().any(|i| within(i.occurred_day))
}

/// Days after the last jump test during which a subject still counts as monitored.
pub const MONITORED_AFTER_TEST_DAYS: i64 = 28;
/// Days after the last training session during which a subject still counts as monitored.
pub const MONITORED_AFTER_LOAD_DAYS: i64 = 7;

/// Whether the subject is being followed on `day`: a jump test in the previous 28 days or a
/// training session in the previous 7. Weeks of subjects who left (or before they came) are
/// neither training rows (their "no injury" label would only mean "not recorded") nor scored.
pub fn is_monitored(h: &features::History, day: i64) -> bool {
    h.observations
        .iter()
        .any(|o| o.day <= day && day - o.day <= MONITORED_AFTER_TEST_DAYS)
        || h.loads
            .iter()
            .any(|(d, _)| *d < day && day - d <= MONITORED_AFTER_LOAD_DAYS)
}

fn as_of(ctx: &StepCtx) -> Result<CalendarDate, StepError> {
    match ctx.param_str("as_of") {
        Some(d) => CalendarDate::parse(d)
            .map_err(|_| StepError::permanent("parameter as_of must be a date YYYY-MM-DD")),
        None => Ok(CalendarDate::from_unix_millis(
            ctx.state.clock.now().as_millis(),
        )),
    }
}

async fn put_json<T: Serialize>(
    ctx: &StepCtx,
    name: &str,
    value: &T,
) -> Result<(ObjectKey, String), StepError> {
    let key = artifact_key(ctx.scope.org(), ctx.run, name)?;
    let bytes =
        serde_json::to_vec(value).map_err(|_| StepError::permanent("serialising an artifact"))?;
    let sha = sha256_hex(&bytes);
    let keys = ctx.state.phi.keys();
    artifacts::put(keys, &ctx.state.objects, ctx.scope.org(), &key, &bytes).await?;
    Ok((key, sha))
}

async fn get_json<T: for<'de> Deserialize<'de>>(
    state: &App,
    org: OrgId,
    key: &str,
) -> Result<T, StepError> {
    let key = ObjectKey::parse(key).map_err(|_| StepError::permanent("artifact key"))?;
    let bytes = artifacts::get(state.phi.keys(), &state.objects, org, &key).await?;
    serde_json::from_slice(&bytes).map_err(|_| StepError::permanent("an artifact is unreadable"))
}

/// Step `dataset`: the de-identified feature rows of the organisation, sealed into the object
/// store; its output carries the fingerprint (SHA-256 of the file) that lineage records.
pub async fn dataset(ctx: StepCtx) -> Result<Value, StepError> {
    let as_of = as_of(&ctx)?;
    let season_start = match ctx.param_str("season_start") {
        Some(d) => Some(
            CalendarDate::parse(d)
                .map_err(|_| StepError::permanent("parameter season_start must be a date"))?
                .days_since_epoch(),
        ),
        None => None,
    };
    let (view, _no_linker) = deid::load(&ctx.state, &ctx.scope, None, as_of).await?;
    let stale = view
        .subjects
        .iter()
        .flat_map(|s| &s.injuries)
        .filter(|i| i.stale)
        .count();
    if stale > 0 {
        ctx.log.warn(&format!(
            "{stale} injuries have been open more than {} days with neither a time loss nor a \
             return-to-duty decision: their subjects' later weeks count as time loss until a \
             clinician records one",
            mhp_domain::availability::STALE_AFTER_DAYS
        ));
    }
    let spec = risk_feature_spec();
    let rows = tokio::task::spawn_blocking({
        let spec = spec.clone();
        move || build_rows(&spec, &view, season_start)
    })
    .await
    .map_err(|_| StepError::transient("building rows stopped"))?;
    let positives = rows.iter().filter(|r| r.label).count();
    let subjects = rows
        .iter()
        .map(|r| r.subject.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let names = spec.names();
    let file = tokio::task::spawn_blocking(move || {
        DatasetFile::without_empty_columns(names, spec.horizon_days, rows)
    })
    .await
    .map_err(|_| StepError::transient("building rows stopped"))?;
    ctx.log.info(&format!(
        "{} rows of {} subjects, {} positive, as of {as_of}",
        file.rows.len(),
        subjects,
        positives
    ));
    if positives == 0 || positives == file.rows.len() {
        return Err(StepError::permanent(format!(
            "the dataset has {} rows and {positives} injuries: both outcomes are needed",
            file.rows.len()
        )));
    }
    let (key, fingerprint) = put_json(&ctx, "dataset.json", &file).await?;
    Ok(json!({
        "artifact": key.as_str(),
        "fingerprint": fingerprint,
        "rows": file.rows.len(),
        "positives": positives,
        "subjects": subjects,
        "stale_injuries": stale,
        "features": file.features,
        "as_of": as_of.to_string(),
    }))
}

fn train_fraction(ctx: &StepCtx) -> Result<f64, StepError> {
    match ctx.params.get("train_fraction") {
        None => Ok(DEFAULT_TRAIN_FRACTION),
        Some(v) => v
            .as_f64()
            .filter(|f| *f > 0.0 && *f < 1.0)
            .ok_or_else(|| StepError::permanent("parameter train_fraction must be in (0, 1)")),
    }
}

fn date_param(ctx: &StepCtx, name: &str) -> Result<Option<i64>, StepError> {
    match ctx.params.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(|d| CalendarDate::parse(d).ok())
            .map(|d| Some(d.days_since_epoch()))
            .ok_or_else(|| StepError::permanent(format!("parameter {name} must be a date"))),
    }
}

/// Where the test period begins: `test_from` (a date) or the `train_fraction` of the weeks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Split {
    From(i64),
    Fraction(f64),
}

fn split(ctx: &StepCtx) -> Result<Split, StepError> {
    match (
        date_param(ctx, "test_from")?,
        ctx.params.get("train_fraction").is_some(),
    ) {
        (Some(_), true) => Err(StepError::permanent(
            "give test_from or train_fraction, not both",
        )),
        (Some(day), false) => Ok(Split::From(day)),
        (None, _) => Ok(Split::Fraction(train_fraction(ctx)?)),
    }
}

/// The search space: the default search, or the run's `model` when one is given (scored and
/// calibrated on the same folds, not searched), with the run's `seed` when one is given.
/// Returns the seed the training uses (the given one, else a given boosting configuration's,
/// else 0).
fn search_space(ctx: &StepCtx) -> Result<(SearchSpace, u64), StepError> {
    let (config, seed) = model_config(ctx)?;
    let mut space = default_search(seed);
    space.fixed = config;
    Ok((space, seed))
}

fn model_config(ctx: &StepCtx) -> Result<(Option<ModelConfig>, u64), StepError> {
    let Some(v) = ctx.params.get("model") else {
        let seed = match ctx.params.get("seed") {
            None => 0,
            Some(v) => v.as_u64().ok_or_else(|| {
                StepError::permanent("parameter seed must be a whole number >= 0")
            })?,
        };
        return Ok((None, seed));
    };
    let mut config: ModelConfig = serde_json::from_value(v.clone()).map_err(|e| {
        StepError::permanent(format!("parameter model is not a model configuration: {e}"))
    })?;
    let given =
        match ctx.params.get("seed") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| {
                StepError::permanent("parameter seed must be a whole number >= 0")
            })?),
        };
    let seed = match &mut config {
        ModelConfig::GradientBoosting { seed, .. } => {
            if let Some(g) = given {
                *seed = g;
            }
            *seed
        }
        ModelConfig::Logistic { .. } | ModelConfig::SplineLogistic { .. } => given.unwrap_or(0),
    };
    config.validate().map_err(ml_err)?;
    Ok((Some(config), seed))
}

/// Step `train`: fits the configured model on the weeks before the cut-off.
pub async fn train(ctx: StepCtx) -> Result<Value, StepError> {
    let ds = ctx.output_of("dataset").await?;
    let key = ds["artifact"].as_str().unwrap_or_default().to_owned();
    let file: DatasetFile = get_json(&ctx.state, ctx.scope.org(), &key).await?;
    let (space, seed) = search_space(&ctx)?;
    let split = split(&ctx)?;
    let (found, cutoff, rows, positives, ms) = tokio::task::spawn_blocking({
        move || -> Result<_, StepError> {
            let data = ml_dataset(&file)?;
            let cutoff = match split {
                Split::Fraction(fraction) => data.time_cutoff(fraction).map_err(ml_err)?,
                Split::From(day) => day,
            };
            let (train, test) = data.split_by_time(cutoff);
            if let Split::From(day) = split {
                let date = CalendarDate::from_unix_millis(day * 86_400_000);
                if train.positives() == 0 || train.positives() == train.n_rows() {
                    return Err(StepError::permanent(format!(
                        "the weeks before test_from {date} hold {} rows and {} injuries: \
                         both outcomes are needed to train",
                        train.n_rows(),
                        train.positives()
                    )));
                }
                if test.n_rows() == 0 {
                    return Err(StepError::permanent(format!(
                        "no week from test_from {date} on: nothing to test the model on"
                    )));
                }
            }
            let started = Instant::now();
            let found = search::search(&space, &train).map_err(ml_err)?;
            let ms = started.elapsed().as_millis();
            Ok((found, cutoff, train.n_rows(), train.positives(), ms))
        }
    })
    .await
    .map_err(|_| StepError::transient("training stopped"))??;
    let record = &found.record;
    let chosen_auc = record
        .chosen
        .and_then(|i| record.candidates.get(i))
        .and_then(|c| c.auc);
    ctx.log.info(&format!(
        "trained on {rows} rows ({positives} positive) before day {cutoff} in {ms} ms: {} on \
         {} of {} feature groups ({}), validation AUC {} over {} blocks, {} candidates tried{}",
        found.model.kind(),
        record.groups.len(),
        record.groups.len() + record.no_data.len(),
        record.groups.join(", "),
        fmt_opt(chosen_auc),
        record.folds.len(),
        record.candidates.len(),
        if record.calibration.is_some() {
            ", calibrated"
        } else {
            ""
        },
    ));
    if let Some(reason) = &record.skipped {
        ctx.log.warn(&format!("no model search: {reason}"));
    }
    let (key, sha) = put_json(&ctx, "model.json", &found.model).await?;
    Ok(json!({
        "artifact": key.as_str(),
        "sha256": sha,
        "config": record.config,
        "model_features": record.features,
        "search": record,
        "seed": seed,
        "split": match split {
            Split::From(day) => json!({ "test_from": CalendarDate::from_unix_millis(day * 86_400_000).to_string() }),
            Split::Fraction(f) => json!({ "train_fraction": f }),
        },
        "cutoff_day": cutoff,
        "train_rows": rows,
        "train_positives": positives,
        "training_ms": ms,
    }))
}

/// A registered model ready to score: trained here, or imported as ONNX.
#[derive(Debug)]
pub enum Serving {
    /// An `mhp_ml` model (exact contributions).
    Native(Model),
    /// An imported ONNX model; contributions by substitution of the reference values, which
    /// also stand in for missing values when the model cannot take them.
    #[cfg(feature = "onnx")]
    Onnx {
        /// The model.
        model: mhp_ml::onnx::OnnxModel,
        /// Reference value of each feature.
        reference: Vec<f64>,
    },
}

impl Serving {
    /// The features it reads, in order.
    pub fn feature_names(&self) -> &[String] {
        match self {
            Self::Native(m) => m.feature_names(),
            #[cfg(feature = "onnx")]
            Self::Onnx { model, .. } => model.feature_names(),
        }
    }

    /// Probability of the outcome for each row.
    ///
    /// # Errors
    /// A permanent error when the model cannot score the rows.
    pub fn predict(&self, rows: &[&[f64]]) -> Result<Vec<f64>, StepError> {
        match self {
            Self::Native(m) => rows
                .iter()
                .map(|r| m.predict_proba(r).map_err(ml_err))
                .collect(),
            #[cfg(feature = "onnx")]
            Self::Onnx { model, reference } => {
                let filled = fill_missing(model, reference, rows);
                let views: Vec<&[f64]> = filled.iter().map(Vec::as_slice).collect();
                model.predict_proba(&views).map_err(ml_err)
            }
        }
    }

    /// The `k` features that moved this row's log-odds most, with their share.
    ///
    /// # Errors
    /// A permanent error when the model cannot score the row.
    pub fn top_contributions(&self, row: &[f64], k: usize) -> Result<Vec<(usize, f64)>, StepError> {
        match self {
            Self::Native(m) => m.top_contributions(row, k).map_err(ml_err),
            #[cfg(feature = "onnx")]
            Self::Onnx { model, reference } => {
                let filled = fill_missing(model, reference, &[row]);
                let mut c = model
                    .contributions_by_substitution(&filled[0], reference)
                    .map_err(ml_err)?;
                c.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
                c.truncate(k);
                Ok(c)
            }
        }
    }
}

#[cfg(feature = "onnx")]
fn fill_missing(
    model: &mhp_ml::onnx::OnnxModel,
    reference: &[f64],
    rows: &[&[f64]],
) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(reference)
                .map(|(v, fallback)| {
                    if v.is_nan() && !model.handles_missing_values() {
                        *fallback
                    } else {
                        *v
                    }
                })
                .collect()
        })
        .collect()
}

/// Loads a registered model for scoring.
async fn load_model(state: &App, org: OrgId, v: &ModelVersion) -> Result<Serving, StepError> {
    match v.kind.as_str() {
        "native" => Ok(Serving::Native(
            get_json(state, org, &v.artifact_key).await?,
        )),
        #[cfg(feature = "onnx")]
        "onnx" => {
            let key = ObjectKey::parse(&v.artifact_key)
                .map_err(|_| StepError::permanent("artifact key"))?;
            let bytes = artifacts::get(state.phi.keys(), &state.objects, org, &key).await?;
            let features: Vec<String> = serde_json::from_str(&v.features_json)
                .map_err(|_| StepError::permanent("the version's features are unreadable"))?;
            let lineage: Value = serde_json::from_str(&v.lineage_json).unwrap_or(Value::Null);
            let reference: Vec<f64> = serde_json::from_value(lineage["reference"].clone())
                .map_err(|_| StepError::permanent("the version has no reference values"))?;
            let model = tokio::task::spawn_blocking(move || {
                mhp_ml::onnx::OnnxModel::from_bytes(&bytes, features)
            })
            .await
            .map_err(|_| StepError::transient("loading the model stopped"))?
            .map_err(ml_err)?;
            Ok(Serving::Onnx { model, reference })
        }
        other => Err(StepError::permanent(format!(
            "model version {} is {other}, which this build cannot run",
            v.version
        ))),
    }
}

/// Fewest injuries among the comparison rows for the gate to compare production with a
/// candidate (parameter `gate_min_positives`): with fewer, an AUC difference is noise.
pub const DEFAULT_GATE_MIN_POSITIVES: u64 = 20;

/// Step `evaluate`: the candidate on its test weeks (ROC and PR AUC, Brier, calibration,
/// overall and per sex and sport), and, when a model is in production, the two compared on the
/// rows neither trained on: those from the later of the two training cut-offs on. The rows
/// used (first and last day, count, injuries) are recorded; with too few injuries among them,
/// or when production's cut-off is unknown (an imported model) or its features differ, the
/// comparison is refused with the reason and a person decides. Production is also scored on
/// the candidate's whole test period, for information only (it may have trained on part of it).
pub async fn evaluate(ctx: StepCtx) -> Result<Value, StepError> {
    let ds = ctx.output_of("dataset").await?;
    let tr = ctx.output_of("train").await?;
    let org = ctx.scope.org();
    let file: DatasetFile =
        get_json(&ctx.state, org, ds["artifact"].as_str().unwrap_or_default()).await?;
    let candidate: Model =
        get_json(&ctx.state, org, tr["artifact"].as_str().unwrap_or_default()).await?;
    let cutoff = tr["cutoff_day"]
        .as_i64()
        .ok_or_else(|| StepError::permanent("train left no cut-off"))?;
    let base_rate = match (tr["train_positives"].as_f64(), tr["train_rows"].as_f64()) {
        (Some(k), Some(n)) if n > 0.0 => k / n,
        _ => return Err(StepError::permanent("train left no base rate")),
    };
    let min_positives = match ctx.params.get("gate_min_positives") {
        None => DEFAULT_GATE_MIN_POSITIVES,
        Some(v) => v.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
            StepError::permanent("parameter gate_min_positives must be a whole number >= 1")
        })?,
    };
    let production = {
        let mut tx = ctx.state.db.tenant(&ctx.scope, Access::Read).await?;
        models::production(&mut tx, RISK_MODEL).await?
    };
    let platform = risk_feature_spec().names();
    // Production with the reason it cannot be compared, if it cannot.
    let production = match production {
        Some(v) => match load_model(&ctx.state, org, &v).await {
            Ok(m) if m.feature_names().iter().all(|f| platform.contains(f)) => {
                let lineage: Value = serde_json::from_str(&v.lineage_json).unwrap_or(Value::Null);
                match lineage["cutoff_day"].as_i64() {
                    Some(c) => Some((v, Some(m), Ok(c))),
                    None => Some((
                        v,
                        Some(m),
                        Err(
                            "production's training cut-off is unknown (an imported model): \
                             no rows are known to be unseen by it"
                                .to_owned(),
                        ),
                    )),
                }
            }
            Ok(_) => Some((
                v,
                None,
                Err("the production model reads features this dataset does not have".to_owned()),
            )),
            Err(e) => Some((
                v,
                None,
                Err(format!("the production model cannot be loaded: {e}")),
            )),
        },
        None => None,
    };
    let (cand_eval, interval, bands, predictions, prod_eval, comparison) =
        tokio::task::spawn_blocking(move || -> Result<_, StepError> {
            let extra: Vec<String> = production
                .as_ref()
                .and_then(|(_, m, _)| m.as_ref())
                .map(|m| m.feature_names().to_vec())
                .unwrap_or_default();
            let data = ml_dataset_with(&file, &extra)?;
            let (_, test) = data.split_by_time(cutoff);
            let on = |names: &[String]| test.select(names).map_err(ml_err);
            let cand_test = on(candidate.feature_names())?;
            let probabilities = candidate.predict_dataset(&cand_test).map_err(ml_err)?;
            let interval = auc_interval(&file, cutoff, test.labels(), &probabilities)?;
            let bands = risk_bands(base_rate, &probabilities, test.labels());
            // The test rows are the file's from the cut-off on, in its order.
            let predictions = mhp_app::datasets::PredictionsFile {
                cutoff_day: cutoff,
                moderate: bands["moderate"].as_f64().unwrap_or(f64::NAN),
                high: bands["high"].as_f64().unwrap_or(f64::NAN),
                rows: file
                    .rows
                    .iter()
                    .filter(|r| r.day >= cutoff)
                    .zip(&probabilities)
                    .map(|(r, p)| mhp_app::datasets::PredictionRow {
                        subject: r.subject.clone(),
                        day: r.day,
                        label: r.label,
                        probability: *p,
                    })
                    .collect(),
            };
            let cand = Evaluation::from_probabilities(&cand_test, probabilities).map_err(ml_err)?;
            let Some((v, model, prod_cutoff)) = production else {
                return Ok((cand, interval, bands, predictions, None, None));
            };
            let on_test = match &model {
                Some(m) => {
                    let prod_test = on(m.feature_names())?;
                    let rows: Vec<&[f64]> = prod_test.rows().collect();
                    Some(
                        Evaluation::from_probabilities(&prod_test, m.predict(&rows)?)
                            .map_err(ml_err)?,
                    )
                }
                None => None,
            };
            let comparison = match (model, prod_cutoff) {
                (Some(m), Ok(prod_cutoff)) => {
                    compare(&candidate, &m, &test, cutoff, prod_cutoff, min_positives)?
                }
                (_, Err(reason)) => json!({ "refused": reason }),
                (None, Ok(_)) => {
                    json!({ "refused": "the production model cannot score these rows" })
                }
            };
            Ok((
                cand,
                interval,
                bands,
                predictions,
                Some((v, on_test)),
                Some(comparison),
            ))
        })
        .await
        .map_err(|_| StepError::transient("evaluation stopped"))??;
    let warnings = evaluation_warnings(&cand_eval, interval.as_ref());
    for w in &warnings {
        ctx.log.warn(w);
    }
    if cand_eval.overall.roc_auc.is_none() {
        return Err(StepError::permanent(format!(
            "the test weeks hold {} rows and {} injuries: both outcomes are needed to judge \
             the model (more data, or a larger train_fraction share for the test)",
            cand_eval.overall.rows, cand_eval.overall.positives
        )));
    }
    ctx.log.info(&format!(
        "test: {} rows, {} positive, ROC AUC {} (95 % interval by athlete {}), PR AUC {}, \
         Brier {:.4}, calibration error {:.4}",
        cand_eval.overall.rows,
        cand_eval.overall.positives,
        fmt_opt(cand_eval.overall.roc_auc),
        interval
            .as_ref()
            .map_or_else(|| "n/a".into(), |i| format!("{:.3}–{:.3}", i.low, i.high)),
        fmt_opt(cand_eval.overall.pr_auc),
        cand_eval.overall.brier,
        cand_eval.overall.calibration_error,
    ));
    let production = prod_eval.map(
        |(v, e)| json!({ "version_id": v.id.to_string(), "version": v.version, "evaluation": e }),
    );
    if let Some(c) = &comparison {
        match c["refused"].as_str() {
            Some(reason) => ctx
                .log
                .warn(&format!("production and candidate not compared: {reason}")),
            None => ctx.log.info(&format!(
                "compared with production on {} rows ({} injuries) from {} to {}: candidate \
                 ROC AUC {}, production {}",
                c["rows"],
                c["positives"],
                c["first_day"].as_str().unwrap_or("?"),
                c["last_day"].as_str().unwrap_or("?"),
                fmt_opt(c["candidate_roc_auc"].as_f64()),
                fmt_opt(c["production_roc_auc"].as_f64()),
            )),
        }
    }
    // The per-row predictions, de-identified, for the data scientist (`…/predictions.csv`).
    let (predictions_key, _) = put_json(&ctx, "predictions.json", &predictions).await?;
    Ok(json!({
        "evaluation": cand_eval,
        "roc_auc_interval": interval,
        "predictions": { "artifact": predictions_key.as_str(), "rows": predictions.rows.len() },
        "bands": bands,
        "warnings": warnings,
        "production": production,
        "comparison": comparison,
    }))
}

/// Risk bands set from the calibrated model at promotion, relative to the training base rate:
/// moderate from the base rate (average risk or more), high from twice it. Checked on the test
/// rows: each band must hold rows and its observed injury rate must exceed the band below's;
/// otherwise `rising` is false and `reason` says why (the gate then waits for a person).
pub fn risk_bands(base_rate: f64, probabilities: &[f64], labels: &[bool]) -> Value {
    let moderate = base_rate.clamp(1e-6, 0.5);
    let high = (2.0 * base_rate).clamp(moderate * 1.000_001, 0.999);
    let mut counts = [(0usize, 0usize); 3];
    for (p, y) in probabilities.iter().zip(labels) {
        let b = if *p >= high {
            2
        } else if *p >= moderate {
            1
        } else {
            0
        };
        counts[b].0 += 1;
        counts[b].1 += usize::from(*y);
    }
    let names = ["low", "moderate", "high"];
    let rates: Vec<Option<f64>> = counts
        .iter()
        .map(|(n, k)| (*n > 0).then(|| *k as f64 / *n as f64))
        .collect();
    let reason = if let Some(i) = rates.iter().position(Option::is_none) {
        Some(format!("no test row falls in the {} band", names[i]))
    } else {
        (0..2).find_map(|i| match (rates[i], rates[i + 1]) {
            (Some(lo), Some(hi)) if hi <= lo => Some(format!(
                "the observed injury rate does not rise from the {} band ({:.1} %) to the {} \
                 band ({:.1} %) on the test rows",
                names[i],
                lo * 100.0,
                names[i + 1],
                hi * 100.0
            )),
            _ => None,
        })
    };
    json!({
        "method": "relative to the training base rate: moderate from 1×, high from 2×",
        "base_rate": base_rate,
        "moderate": moderate,
        "high": high,
        "test": names.iter().zip(counts).map(|(n, (rows, positives))| json!({
            "band": n, "rows": rows, "positives": positives,
            "rate": (rows > 0).then(|| positives as f64 / rows as f64),
        })).collect::<Vec<_>>(),
        "rising": reason.is_none(),
        "reason": reason,
    })
}

/// The test AUC's 95 % bootstrap interval, resampling athletes (the rows' pseudonyms), with a
/// fixed seed so that the figure is reproducible.
fn auc_interval(
    file: &DatasetFile,
    cutoff: i64,
    labels: &[bool],
    probabilities: &[f64],
) -> Result<Option<mhp_ml::AucInterval>, StepError> {
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let clusters: Vec<u32> = file
        .rows
        .iter()
        .filter(|r| r.day >= cutoff)
        .map(|r| {
            let next = ids.len() as u32;
            *ids.entry(r.subject.as_str()).or_insert(next)
        })
        .collect();
    let p = Predictions::new(labels.to_vec(), probabilities.to_vec()).map_err(ml_err)?;
    Ok(p.roc_auc_interval(&clusters, AUC_RESAMPLES, 0.95, 0))
}

/// What a reader of the evaluation must know before trusting its figures.
pub fn evaluation_warnings(
    evaluation: &Evaluation,
    interval: Option<&mhp_ml::AucInterval>,
) -> Vec<String> {
    let mut out = Vec::new();
    let positives = evaluation.overall.positives;
    if positives < FEW_POSITIVES {
        out.push(format!(
            "only {positives} injuries in the test weeks (fewer than {FEW_POSITIVES}): the \
             test AUC{} is a rough guide, not a measurement",
            interval.map_or_else(String::new, |i| format!(
                " could lie anywhere in {:.2}–{:.2}",
                i.low, i.high
            ))
        ));
    }
    out
}

fn iso(day: i64) -> String {
    CalendarDate::from_unix_millis(day * 86_400_000).to_string()
}

/// The gate's comparison: candidate and production on the test rows from the later of the two
/// training cut-offs on (rows neither model trained on), or the reason it is refused.
fn compare(
    candidate: &Model,
    production: &Serving,
    test: &Dataset,
    cutoff: i64,
    prod_cutoff: i64,
    min_positives: u64,
) -> Result<Value, StepError> {
    let from = cutoff.max(prod_cutoff);
    let (_, rows) = test.split_by_time(from);
    let n = rows.n_rows();
    let positives = rows.positives();
    let first = rows.times().iter().min().copied();
    let last = rows.times().iter().max().copied();
    let mut out = json!({
        "from_day": iso(from),
        "candidate_cutoff_day": iso(cutoff),
        "production_cutoff_day": iso(prod_cutoff),
        "rows": n,
        "positives": positives,
        "first_day": first.map(iso),
        "last_day": last.map(iso),
        "min_positives": min_positives,
    });
    if (positives as u64) < min_positives || positives == n {
        out["refused"] = json!(format!(
            "{n} rows and {positives} injuries remain after both models' training cut-offs \
             (from {}); at least {min_positives} injuries and some weeks without are needed",
            iso(from)
        ));
        return Ok(out);
    }
    let cand_rows = rows.select(candidate.feature_names()).map_err(ml_err)?;
    let cand = Evaluation::of(candidate, &cand_rows).map_err(ml_err)?;
    let prod_rows = rows.select(production.feature_names()).map_err(ml_err)?;
    let refs: Vec<&[f64]> = prod_rows.rows().collect();
    let prod =
        Evaluation::from_probabilities(&prod_rows, production.predict(&refs)?).map_err(ml_err)?;
    out["candidate_roc_auc"] = json!(cand.overall.roc_auc);
    out["production_roc_auc"] = json!(prod.overall.roc_auc);
    Ok(out)
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.3}"))
}

/// The gate's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// No model in production: the first candidate goes in (when better than chance).
    First,
    /// At least as good as production within the tolerance, on rows neither trained on.
    AsGood {
        /// Candidate's AUC on the comparison rows.
        candidate: f64,
        /// Production's AUC on the same rows.
        production: f64,
    },
    /// A person decides: the reason.
    NeedsApproval(String),
}

/// What the candidate is judged against.
#[derive(Debug, Clone, PartialEq)]
pub enum Against {
    /// No model in production.
    Nothing,
    /// Both models' AUC on the rows after both training cut-offs.
    Compared {
        /// The candidate's.
        candidate: Option<f64>,
        /// Production's.
        production: Option<f64>,
    },
    /// No fair comparison: the reason.
    Refused(String),
}

impl Against {
    /// Reads the evaluate step's `comparison` (`null` when nothing is in production).
    pub fn from_output(comparison: &Value) -> Self {
        if comparison.is_null() {
            return Self::Nothing;
        }
        if let Some(reason) = comparison["refused"].as_str() {
            return Self::Refused(reason.to_owned());
        }
        Self::Compared {
            candidate: comparison["candidate_roc_auc"].as_f64(),
            production: comparison["production_roc_auc"].as_f64(),
        }
    }
}

/// Decides whether a candidate may replace production without a person. `candidate_auc` is
/// its AUC on its own test weeks (a first model must beat chance there).
pub fn gate(candidate_auc: Option<f64>, against: &Against, tolerance: f64) -> Gate {
    let auc = |v: Option<f64>| fmt_opt(v);
    match against {
        Against::Nothing => match candidate_auc {
            // A first model goes in only if it ranks better than chance.
            Some(c) if c > 0.5 => Gate::First,
            c => Gate::NeedsApproval(format!("test AUC {} is no better than chance", auc(c))),
        },
        Against::Compared {
            candidate: Some(c),
            production: Some(p),
        } if *c >= p - tolerance => Gate::AsGood {
            candidate: *c,
            production: *p,
        },
        Against::Compared {
            candidate,
            production,
        } => Gate::NeedsApproval(format!(
            "AUC {} vs production's {} on the rows neither trained on: below it beyond the \
             tolerance {tolerance}",
            auc(*candidate),
            auc(*production)
        )),
        Against::Refused(reason) => Gate::NeedsApproval(format!("not compared: {reason}")),
    }
}

/// The audit name of the pipelines' own actions.
const PIPELINES_ACTOR: &str = "system:pipelines";

/// Step `register`: registers the candidate with its lineage and metrics, then applies the
/// promotion gate.
pub async fn register(ctx: StepCtx) -> Result<Value, StepError> {
    let ds = ctx.output_of("dataset").await?;
    let tr = ctx.output_of("train").await?;
    let ev = ctx.output_of("evaluate").await?;
    let tolerance = match ctx.params.get("tolerance") {
        None => DEFAULT_TOLERANCE,
        Some(v) => v
            .as_f64()
            .filter(|t| (0.0..=0.5).contains(t))
            .ok_or_else(|| StepError::permanent("parameter tolerance must be in [0, 0.5]"))?,
    };
    let lineage = json!({
        "dataset_fingerprint": ds["fingerprint"],
        "dataset_rows": ds["rows"],
        "dataset_as_of": ds["as_of"],
        "features": ds["features"],
        "code_version": ctx.state.build.version,
        "analysis_version": mhp_biomech::ANALYSIS_VERSION,
        "parameters": tr["config"],
        "model_features": tr["model_features"],
        "search": tr["search"],
        "seed": tr["seed"],
        "split": tr["split"],
        "cutoff_day": tr["cutoff_day"],
        "training_run": ctx.run.to_string(),
        "training_ms": tr["training_ms"],
        "bands": ev["bands"],
        "gate": {
            "comparison": ev["comparison"],
            "production_version": ev["production"]["version"],
            "tolerance": tolerance,
        },
    });
    // The evaluation on the test weeks, with the AUC's interval by athlete and the warnings
    // beside it (what `mhp model show` and the pages read back).
    let mut metrics = ev["evaluation"].clone();
    if let Some(m) = metrics.as_object_mut() {
        m.insert("roc_auc_interval".into(), ev["roc_auc_interval"].clone());
        m.insert("warnings".into(), ev["warnings"].clone());
    }
    let metrics = &metrics;
    let candidate_auc = metrics["overall"]["roc_auc"].as_f64();
    let against = Against::from_output(&ev["comparison"]);
    let verdict = match (gate(candidate_auc, &against, tolerance), &ev["bands"]) {
        (Gate::First | Gate::AsGood { .. }, bands) if bands["rising"] == false => {
            Gate::NeedsApproval(format!(
                "risk bands: {}",
                bands["reason"].as_str().unwrap_or("they do not rise")
            ))
        }
        (verdict, _) => verdict,
    };
    let now = ctx.state.clock.now();
    let mut tx = ctx.state.db.tenant(&ctx.scope, Access::Write).await?;
    let version = models::register(
        &mut tx,
        &NewVersion {
            id: ModelVersionId::new(),
            model: RISK_MODEL,
            kind: "native",
            artifact_key: tr["artifact"].as_str().unwrap_or_default(),
            artifact_sha256: tr["sha256"].as_str().unwrap_or_default(),
            features_json: &tr["model_features"].to_string(),
            lineage_json: &lineage.to_string(),
            metrics_json: &metrics.to_string(),
            training_run: Some(ctx.run),
            created_by: PIPELINES_ACTOR,
        },
        now,
    )
    .await?;
    let first_time = version.stage == Stage::Candidate && version.promoted_at.is_none();
    let caller = Caller::system(PIPELINES_ACTOR);
    if first_time {
        caller
            .record(
                &mut tx,
                "model.register",
                "model_version",
                Some(version.id.to_string()),
                now,
            )
            .await?;
    }
    let promoted = match &verdict {
        Gate::First | Gate::AsGood { .. } if version.stage == Stage::Candidate => {
            let change =
                mhp_app::scoring::set_stage(&mut tx, &caller, version.id, Stage::Production, now)
                    .await?;
            if change.nightly_scheduled {
                ctx.log.info("score-all scheduled nightly at 03:00 UTC");
            }
            if change.scoring_enqueued {
                ctx.log
                    .info("score-all enqueued: everyone is scored with the new model now");
            }
            true
        }
        _ => version.stage == Stage::Production,
    };
    tx.commit().await?;
    let decision = match &verdict {
        Gate::First => "promoted: no model was in production".to_owned(),
        Gate::AsGood {
            candidate,
            production,
        } => format!(
            "promoted: AUC {candidate:.3} vs production {production:.3} on the rows neither \
             trained on (tolerance {tolerance})"
        ),
        Gate::NeedsApproval(reason) => format!("awaiting approval: {reason}"),
    };
    ctx.log
        .info(&format!("version {}: {decision}", version.version));
    Ok(json!({
        "version_id": version.id.to_string(),
        "version": version.version,
        "promoted": promoted,
        "decision": decision,
    }))
}

/// A reason as stored with a score: for a native model a group of features
/// (`mhp_ml::explain`), for an imported one a feature. Scores stored before reasons carry the
/// first three fields only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Feature name (of a reason: the feature its words read).
    pub feature: String,
    /// The subject's value (`None`: missing).
    pub value: Option<f64>,
    /// Its share of the log-odds against the model's baseline (of a reason: its features'
    /// sum).
    pub contribution: f64,
    /// The reason's group, e.g. `load`, `jump_height_impulse_m:change`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The reason in plain words, e.g. "load this week 1.6 × the last month's".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What scoring did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScoreReport {
    /// Subjects scored.
    pub scored: usize,
    /// Subjects skipped: in time loss, or no assessment yet.
    pub skipped: usize,
}

/// Scores every active subject of the view (or one) with `model` as of the view's date, and
/// writes the scores (replacing those of the same day and model version).
pub async fn score_view(
    state: &App,
    scope: &OrgScope,
    version: &ModelVersion,
    model: &Serving,
    view: &DeidView,
    linker: &deid::Linker,
    run: Option<RunId>,
) -> Result<ScoreReport, StepError> {
    let spec = risk_feature_spec();
    let groups = spec.groups();
    let names = model.feature_names().to_vec();
    let built = spec.names();
    let columns: Vec<usize> = names
        .iter()
        .map(|n| built.iter().position(|b| b == n))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            StepError::permanent("the production model reads features this version does not build")
        })?;
    let day = view.as_of_day;
    let as_of = CalendarDate::from_unix_millis(day * 86_400_000).to_string();
    let mut pending: Vec<(SubjectId, f64, Vec<Contribution>)> = Vec::new();
    let mut skipped = 0;
    for s in view.subjects.iter().filter(|s| s.active) {
        if s.history.observations.is_empty()
            || !is_monitored(&s.history, day)
            || features::in_time_loss(&s.history, day)
        {
            skipped += 1;
            continue;
        }
        let Some(subject) = linker.subject(&s.id) else {
            skipped += 1;
            continue;
        };
        let full = features::build(&spec, &s.history, day, day + 1);
        let row = features::Row {
            values: columns.iter().map(|&j| full.values[j]).collect(),
            ..full
        };
        let p = model
            .predict(&[&row.values])?
            .first()
            .copied()
            .unwrap_or(f64::NAN);
        if !p.is_finite() {
            return Err(StepError::permanent("the model gave no probability"));
        }
        let top = match model {
            Serving::Native(m) => {
                mhp_ml::explain::reasons(m, &row.values, &groups, TOP_CONTRIBUTIONS)
                    .map_err(ml_err)?
                    .into_iter()
                    .map(|r| Contribution {
                        feature: r.feature,
                        value: r.value,
                        contribution: r.contribution,
                        group: Some(r.group),
                        reason: Some(r.text),
                    })
                    .collect()
            }
            #[allow(unreachable_patterns)]
            _ => model
                .top_contributions(&row.values, TOP_CONTRIBUTIONS)?
                .into_iter()
                .map(|(j, c)| Contribution {
                    feature: names[j].clone(),
                    value: row.values.get(j).copied().filter(|v| !v.is_nan()),
                    contribution: c,
                    group: None,
                    reason: None,
                })
                .collect(),
        };
        pending.push((subject, p, top));
    }
    let now = state.clock.now();
    let scored = pending.len();
    for chunk in pending.chunks(500) {
        let mut tx = state.db.tenant(scope, Access::Write).await?;
        let thresholds = match version_bands(version) {
            Some(t) => t,
            None => scores::thresholds(&mut tx).await?,
        };
        // Each subject's band before this scoring: a change is an event (webhooks tell of it).
        let before: HashMap<SubjectId, (String, String)> = scores::latest(&mut tx)
            .await?
            .into_iter()
            .map(|s| (s.subject, (s.as_of, s.band)))
            .collect();
        let caller = Caller::system(PIPELINES_ACTOR);
        for (subject, p, top) in chunk {
            let band = thresholds.band(*p);
            scores::put(
                &mut tx,
                &Score {
                    subject: *subject,
                    as_of: as_of.clone(),
                    model_version: version.id,
                    probability: p.clamp(0.0, 1.0),
                    band: band.to_owned(),
                    contributions_json: serde_json::to_string(top).unwrap_or_else(|_| "[]".into()),
                    run,
                    scored_at: now,
                },
            )
            .await?;
            if let Some((was_as_of, was)) = before.get(subject)
                && *was_as_of <= as_of
                && was != band
            {
                let event = caller
                    .event("risk.band_change", "subject", Some(subject.to_string()))
                    .with_detail(format!(
                        "from={was} to={band} model_version={} as_of={as_of}",
                        version.id
                    ));
                mhp_storage::repo::audit::append(&mut tx, &event, now).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(ScoreReport { scored, skipped })
}

/// The bands set at the version's promotion (its lineage's `bands`), when it has valid ones;
/// versions without (imported, older) use the organisation's thresholds.
fn version_bands(version: &ModelVersion) -> Option<scores::Thresholds> {
    let lineage: Value = serde_json::from_str(&version.lineage_json).ok()?;
    let t = scores::Thresholds {
        moderate: lineage["bands"]["moderate"].as_f64()?,
        high: lineage["bands"]["high"].as_f64()?,
    };
    t.is_valid().then_some(t)
}

/// Loaded models by version: artifacts never change, so a worker loads each once. Entries
/// expire after [`MODEL_CACHE_TTL`] (a destroyed organisation key stops them within it), and
/// the cache holds at most [`MODEL_CACHE_SIZE`] models.
type ModelCache = std::sync::Mutex<HashMap<ModelVersionId, (Instant, Arc<Serving>)>>;
static MODELS: std::sync::OnceLock<ModelCache> = std::sync::OnceLock::new();
/// How long a loaded model is kept.
pub const MODEL_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(600);
/// Most models kept loaded.
pub const MODEL_CACHE_SIZE: usize = 8;

async fn cached_model(
    state: &App,
    org: OrgId,
    v: &ModelVersion,
) -> Result<Arc<Serving>, StepError> {
    let cache = MODELS.get_or_init(Default::default);
    if let Ok(map) = cache.lock()
        && let Some((at, m)) = map.get(&v.id)
        && at.elapsed() < MODEL_CACHE_TTL
    {
        return Ok(m.clone());
    }
    let model = Arc::new(load_model(state, org, v).await?);
    if let Ok(mut map) = cache.lock() {
        map.retain(|_, (at, _)| at.elapsed() < MODEL_CACHE_TTL);
        if map.len() >= MODEL_CACHE_SIZE
            && let Some(oldest) = map.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(v.id, (Instant::now(), model.clone()));
    }
    Ok(model)
}

async fn production_model(
    ctx: &StepCtx,
) -> Result<Option<(ModelVersion, Arc<Serving>)>, StepError> {
    let version = {
        let mut tx = ctx.state.db.tenant(&ctx.scope, Access::Read).await?;
        models::production(&mut tx, RISK_MODEL).await?
    };
    match version {
        Some(v) => {
            let m = cached_model(&ctx.state, ctx.scope.org(), &v).await?;
            Ok(Some((v, m)))
        }
        None => Ok(None),
    }
}

/// Step `score` of `score-all`: every active subject, with the production model.
pub async fn score_all(ctx: StepCtx) -> Result<Value, StepError> {
    let Some((version, model)) = production_model(&ctx).await? else {
        ctx.log.info("no model in production; nothing scored");
        return Ok(json!({ "scored": 0, "skipped": 0, "model_version": null }));
    };
    let as_of = as_of(&ctx)?;
    let started = Instant::now();
    let (view, linker) = deid::load(&ctx.state, &ctx.scope, None, as_of).await?;
    let report = score_view(
        &ctx.state,
        &ctx.scope,
        &version,
        &model,
        &view,
        &linker,
        Some(ctx.run),
    )
    .await?;
    ctx.log.info(&format!(
        "scored {} subjects ({} skipped) with version {} in {} ms",
        report.scored,
        report.skipped,
        version.version,
        started.elapsed().as_millis()
    ));
    Ok(json!({
        "scored": report.scored,
        "skipped": report.skipped,
        "model_version": version.id.to_string(),
    }))
}

/// Step `score` of `score-subject`: one subject (parameter `subject`), after an assessment.
pub async fn score_subject(ctx: StepCtx) -> Result<Value, StepError> {
    let subject = ctx
        .param_str("subject")
        .and_then(|s| SubjectId::parse(s).ok())
        .ok_or_else(|| StepError::permanent("parameter subject must be a subject id"))?;
    let Some((version, model)) = production_model(&ctx).await? else {
        return Ok(json!({ "scored": 0, "skipped": 1, "model_version": null }));
    };
    let as_of = as_of(&ctx)?;
    let (view, linker) = match deid::load(&ctx.state, &ctx.scope, Some(subject), as_of).await {
        Err(e) if e.message.contains("not found") => {
            return Err(StepError::permanent(
                "the subject is not in this organisation",
            ));
        }
        other => other?,
    };
    let report = score_view(
        &ctx.state,
        &ctx.scope,
        &version,
        &model,
        &view,
        &linker,
        Some(ctx.run),
    )
    .await?;
    Ok(json!({
        "scored": report.scored,
        "skipped": report.skipped,
        "model_version": version.id.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_promotes_only_what_is_as_good() {
        let compared = |c: f64, p: f64| Against::Compared {
            candidate: Some(c),
            production: Some(p),
        };
        assert_eq!(gate(Some(0.7), &Against::Nothing, 0.01), Gate::First);
        assert!(matches!(
            gate(Some(0.5), &Against::Nothing, 0.01),
            Gate::NeedsApproval(r) if r.contains("no better than chance")
        ));
        assert!(matches!(
            gate(None, &Against::Nothing, 0.01),
            Gate::NeedsApproval(_)
        ));
        assert_eq!(
            gate(Some(0.5), &compared(0.695, 0.70), 0.01),
            Gate::AsGood {
                candidate: 0.695,
                production: 0.70
            }
        );
        assert!(matches!(
            gate(Some(0.9), &compared(0.68, 0.70), 0.01),
            Gate::NeedsApproval(r) if r.contains("beyond the tolerance")
        ));
        let missing = Against::Compared {
            candidate: Some(0.9),
            production: None,
        };
        assert!(matches!(
            gate(Some(0.9), &missing, 0.01),
            Gate::NeedsApproval(_)
        ));
        // Refused: a person decides, whatever the candidate's own figure.
        let refused = Against::from_output(&json!({ "refused": "3 injuries", "rows": 40 }));
        assert_eq!(refused, Against::Refused("3 injuries".into()));
        assert_eq!(
            gate(Some(0.99), &refused, 0.5),
            Gate::NeedsApproval("not compared: 3 injuries".into())
        );
        assert_eq!(Against::from_output(&Value::Null), Against::Nothing);
    }

    #[test]
    fn bands_are_relative_to_the_base_rate_and_must_rise_on_the_test_rows() {
        // Base rate 5 %: low below 5 %, moderate from 5 %, high from 10 %.
        let p = [0.01, 0.02, 0.06, 0.07, 0.2, 0.3];
        let rising = risk_bands(0.05, &p, &[false, false, false, true, true, true]);
        assert_eq!(rising["rising"], true, "{rising}");
        assert_eq!(rising["moderate"], 0.05);
        assert_eq!(rising["high"], 0.1);
        assert_eq!(rising["test"][2]["positives"], 2);
        let flat = risk_bands(0.05, &p, &[true, false, true, false, false, true]);
        assert_eq!(flat["rising"], false);
        assert!(
            flat["reason"]
                .as_str()
                .unwrap()
                .contains("does not rise from the low band (50.0 %) to the moderate band"),
            "{flat}"
        );
        let empty = risk_bands(0.05, &[0.01, 0.2], &[false, true]);
        assert_eq!(empty["reason"], "no test row falls in the moderate band");
        // A version's bands are what its scores use.
        let v = |lineage: Value| ModelVersion {
            lineage_json: lineage.to_string(),
            ..sample_version()
        };
        assert_eq!(
            version_bands(&v(json!({ "bands": rising }))),
            Some(scores::Thresholds {
                moderate: 0.05,
                high: 0.1
            })
        );
        assert_eq!(version_bands(&v(json!({}))), None);
    }

    fn sample_version() -> ModelVersion {
        let at = mhp_domain::Timestamp::from_millis(0);
        ModelVersion {
            id: ModelVersionId::new(),
            model: RISK_MODEL.into(),
            version: 1,
            kind: "native".into(),
            stage: Stage::Candidate,
            artifact_key: String::new(),
            artifact_sha256: String::new(),
            features_json: "[]".into(),
            lineage_json: "{}".into(),
            metrics_json: "{}".into(),
            training_run: None,
            created_by: String::new(),
            created_at: at,
            promoted_at: None,
            stage_changed_at: at,
        }
    }

    fn subject(id: &str, history: features::History) -> deid::DeidSubject {
        deid::DeidSubject {
            id: id.into(),
            age_years: None,
            sex: None,
            sport: None,
            active: true,
            history,
            injuries: Vec::new(),
        }
    }

    #[test]
    fn no_rows_for_weeks_in_which_nothing_was_recorded() {
        // Weekly tests on Mondays from day 4 (a Monday) to day 4 + 9 weeks, then nothing; the
        // view is as of 12 weeks later.
        let last_test = 4 + 63;
        let h = features::History {
            observations: (0..10)
                .map(|w| features::Observation {
                    day: 4 + 7 * w,
                    metrics: Default::default(),
                })
                .collect(),
            loads: Vec::new(),
            injuries: Vec::new(),
        };
        let view = DeidView {
            as_of_day: last_test + 84,
            subjects: vec![subject("a", h)],
        };
        let rows = build_rows(&FeatureSpec::injury_risk(), &view, None);
        let days: Vec<i64> = rows.iter().map(|r| r.day).collect();
        assert_eq!(days, (0..10).map(|w| 4 + 7 * w).collect::<Vec<_>>());
        // An injury recorded in a week without a test keeps that week: it was seen.
        let mut h = view.subjects[0].history.clone();
        h.injuries.push(features::InjurySpan {
            occurred_day: last_test + 9,
            cleared_day: Some(last_test + 12),
        });
        let view = DeidView {
            as_of_day: view.as_of_day,
            subjects: vec![subject("a", h)],
        };
        let rows = build_rows(&FeatureSpec::injury_risk(), &view, None);
        let last = rows.last().map(|r| (r.day, r.label));
        assert_eq!(last, Some((last_test + 7, true)));
        assert!(is_followed_in(&view.subjects[0].history, 4, 11));
        assert!(!is_followed_in(&view.subjects[0].history, 5, 11));
    }

    #[test]
    fn columns_without_a_value_are_left_out_and_read_as_missing() {
        let row = |day: i64, values: Vec<Option<f64>>, label: bool| DatasetRow {
            subject: "s".into(),
            day,
            sex: "unknown".into(),
            sport: "unknown".into(),
            age_years: None,
            values,
            label,
        };
        let names = vec!["a".to_owned(), "empty".to_owned(), "b".to_owned()];
        let file = DatasetFile::without_empty_columns(
            names,
            7,
            vec![
                row(0, vec![Some(1.0), None, None], false),
                row(7, vec![None, None, Some(2.0)], true),
            ],
        );
        assert_eq!(file.features, ["a", "b"]);
        assert_eq!(file.rows[1].values, [None, Some(2.0)]);
        let data = ml_dataset_with(&file, &["empty".to_owned(), "a".to_owned()]).unwrap();
        assert_eq!(data.feature_names(), ["a", "b", "empty"]);
        assert!(data.row(0).unwrap()[2].is_nan());
        assert_eq!(data.labels(), [false, true]);
    }

    #[test]
    fn monitoring_ends_four_weeks_after_the_last_test_without_training() {
        let h = features::History {
            observations: vec![features::Observation {
                day: 100,
                metrics: Default::default(),
            }],
            loads: vec![(150, 300.0)],
            injuries: Vec::new(),
        };
        assert!(!is_monitored(&h, 99));
        assert!(is_monitored(&h, 100));
        assert!(is_monitored(&h, 128));
        assert!(!is_monitored(&h, 129));
        assert!(is_monitored(&h, 151), "a session in the last week");
        assert!(!is_monitored(&h, 158));
    }
}
