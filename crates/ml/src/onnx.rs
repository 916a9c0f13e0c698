//! Models trained elsewhere, imported as ONNX and run by tract (pure Rust), behind the cargo
//! feature `onnx`.
//!
//! Data scientists export two-class models from scikit-learn (skl2onnx) or gradient-boosting
//! libraries (onnxmltools: LightGBM, XGBoost) with `zipmap=False`, and upload them with the
//! ordered feature names they were trained on. [`OnnxModel::from_bytes`] checks the bytes
//! against that schema and prepares them (the caller reads them, and may refuse a file over
//! [`MAX_ONNX_BYTES`] before reading it whole); [`OnnxModel::check_samples`] is the acceptance
//! run on sample rows, and [`OnnxModel::check_reference`] compares with the training library's
//! own predictions when the uploader supplies them.
//!
//! ```
//! use mhp_ml::onnx::OnnxModel;
//!
//! let bytes = include_bytes!(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/tests/fixtures/onnx/lightgbm.onnx"
//! ));
//! let schema = [
//!     "jump_height_cm_latest", "jump_height_change_pct", "asymmetry_pct_latest",
//!     "acwr", "sessions_last_28d", "injuries_last_365d",
//! ];
//! let model = OnnxModel::from_bytes(bytes, schema.map(String::from).to_vec())?;
//!
//! let row = [36.5, f64::NAN, 9.0, 1.6, 14.0, 1.0];
//! let medians = [38.0, 0.0, 4.7, 1.0, 12.0, 0.0];
//! let p = model.check_samples(&[&row, &medians])?;
//! assert!(p[0] > p[1]);
//!
//! let why = model.contributions_by_substitution(&row, &medians)?;
//! assert_eq!(why.len(), 6);
//! # Ok::<(), mhp_ml::MlError>(())
//! ```
//!
//! # What is accepted
//!
//! * One input, float32 or float64, shape `[batch, features]` with `features` equal to the
//!   schema's length (the batch dimension may be symbolic or fixed; it is made symbolic).
//! * One float output of shape `[batch, 2]`: the class probabilities. Class 1's column is the
//!   prediction. Other outputs (the predicted label) are cut away, with whatever computes only
//!   them.
//! * Default-domain operators from a fixed list, and the ONNX-ML operators
//!   `TreeEnsembleClassifier`, `LinearClassifier`, `Scaler` and `Imputer`.
//!
//! # What tract needs (checked against the libraries' own predictions in the tests)
//!
//! * scikit-learn `StandardScaler`, `SimpleImputer`, `LogisticRegression`: tract has no
//!   `Scaler`, `Imputer` or `LinearClassifier`; each is rewritten into standard operators.
//! * Tree ensembles (scikit-learn's gradient boosting and random forests, LightGBM, XGBoost):
//!   tract walks them without bounds checks and looks leaves up in time proportional to all the
//!   leaves before them (a row of a 640-tree LightGBM took 6 ms). Their structure is checked
//!   first; an ensemble that reads the input directly (every export seen) is then evaluated by
//!   mhp-ml with onnxruntime's semantics (the same model: 4 µs a row in a batch) and tract runs
//!   only what follows it. An ensemble behind other operators stays in tract, whose two-class
//!   layout needs one base value per class: scikit-learn's and XGBoost's single base value is
//!   widened to `[b, 0]`. tract's label output for these layouts is wrong (by its source, it
//!   takes the arg-max before its two-class fix-up); it is never read, only the probabilities.
//!
//! See [`OnnxModel::rewrites`] for what was done to a given model.
//!
//! # What is refused, with a reason
//!
//! Anything that is not a protobuf ONNX model, data stored outside the file (tract would read
//! it from the server's disk), subgraphs, `ZipMap` outputs, more than two classes, an input
//! width different from the schema, tree ensembles whose structure tract would index out of
//! bounds or walk forever (tract does not check), and layouts not verified to match
//! onnxruntime. Reasons never quote the file: they name counts, positions and operator types.
//!
//! # Missing values
//!
//! Rows carry `NaN` for a missing value. A model whose every path from the input reaches a tree
//! ensemble (which sends it along the branch the export names) or an `Imputer` gets them as
//! they are; any other model is refused such rows ([`MlError::MissingValue`]), since tract's
//! kernels do not all propagate `NaN` (its sigmoid turns one into a probability near 0).

mod graph;
mod rewrite;
mod trees;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use tract_onnx::data_resolver::ModelDataResolver;
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::{
    DatumType, Framework, InferenceFact, InferenceModelExt, Tensor, ToDim, TractError, TractResult,
    TypedFact, TypedModel, TypedRunnableModel, tvec,
};

pub use rewrite::Rewrite;

use crate::MlError;

/// The largest ONNX file accepted, in bytes (64 MiB).
pub const MAX_ONNX_BYTES: usize = 64 * 1024 * 1024;

/// How far the two probability columns may be from summing to one (float32 rounding) in
/// [`OnnxModel::check_samples`].
pub const PROBABILITY_SUM_TOLERANCE: f64 = 1e-4;

/// Probabilities are kept this far from 0 and 1 before taking log-odds, so that a saturated
/// float32 output gives a large finite value rather than an infinity.
const LOG_ODDS_CLAMP: f64 = 1e-12;

/// An imported ONNX two-class model, ready to predict; cheap to clone and shared across
/// threads (the prepared plan is immutable; each call gets its own scratch state).
#[derive(Clone)]
pub struct OnnxModel {
    feature_names: Vec<String>,
    input: InputType,
    handles_missing: bool,
    rewrites: Vec<Rewrite>,
    /// A tree ensemble on the input, evaluated by mhp-ml; the plan then takes its `[N, 2]`
    /// probabilities.
    trees: Option<Arc<trees::TreeEnsemble>>,
    /// tract's plan; `None` when the trees' probabilities are the output.
    plan: Option<Arc<TypedRunnableModel<TypedModel>>>,
}

/// The element type the model's input takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// 32-bit floats: rows are rounded to `f32`.
    F32,
    /// 64-bit floats.
    F64,
}

impl fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnnxModel")
            .field("features", &self.feature_names.len())
            .field("input", &self.input)
            .field("handles_missing", &self.handles_missing)
            .field("rewrites", &self.rewrites)
            .finish_non_exhaustive()
    }
}

const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<OnnxModel>();
};

impl OnnxModel {
    /// Parses and checks an ONNX file against its schema (the ordered feature names), and
    /// prepares it to run. Nothing is read from disk; data the file says is stored elsewhere
    /// is refused.
    ///
    /// # Errors
    /// [`MlError::NoFeatures`], [`MlError::DuplicateFeature`] for a bad schema;
    /// [`MlError::InvalidOnnx`] with the reason for a file that is refused.
    pub fn from_bytes(bytes: &[u8], feature_names: Vec<String>) -> Result<Self, MlError> {
        check_schema(&feature_names)?;
        if bytes.len() > MAX_ONNX_BYTES {
            return Err(refuse(format!(
                "the file has {} bytes, more than the {MAX_ONNX_BYTES} accepted",
                bytes.len()
            )));
        }
        let width = feature_names.len();
        let mut proto = decode(bytes)?;
        let interface = graph::check_and_prune(&mut proto, width)?;
        let Some(graph) = proto.graph.as_mut() else {
            return Err(refuse("the file holds no graph"));
        };
        let applied = rewrite::apply(graph, &interface.input_name, width)?;
        let trees_are_output = graph.node.is_empty()
            && graph.output.len() == 1
            && graph
                .input
                .iter()
                .any(|i| graph.output.iter().any(|o| o.name == i.name));
        let input = if interface.input_elem == graph::ELEM_DOUBLE {
            InputType::F64
        } else {
            InputType::F32
        };
        let plan = match (&applied.trees, trees_are_output) {
            (Some(_), true) => None,
            (Some(_), false) => Some(prepare(&proto, InputType::F32, 2)?),
            (None, _) => Some(prepare(&proto, input, width)?),
        };
        Ok(Self {
            feature_names,
            input,
            handles_missing: interface.handles_missing,
            rewrites: applied.rewrites,
            trees: applied.trees.map(Arc::new),
            plan: plan.map(Arc::new),
        })
    }

    /// The schema: feature names in the order the model reads them.
    #[must_use]
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The element type of the model's input.
    #[must_use]
    pub fn input_type(&self) -> InputType {
        self.input
    }

    /// Whether rows may have missing values (`NaN`): true when every path from the input
    /// reaches a tree ensemble or an imputer, which give a missing value its meaning; a model
    /// that would compute with the `NaN` itself is refused such rows
    /// ([`MlError::MissingValue`]).
    #[must_use]
    pub fn handles_missing_values(&self) -> bool {
        self.handles_missing
    }

    /// The changes made to the graph so that tract runs it as onnxruntime would.
    #[must_use]
    pub fn rewrites(&self) -> &[Rewrite] {
        &self.rewrites
    }

    /// The probability of class 1 for each row (`NaN` = missing).
    ///
    /// # Errors
    /// [`MlError::FeatureCountMismatch`] for a row of the wrong length,
    /// [`MlError::InfiniteFeature`] for an infinite value (or one beyond `f32` for a float32
    /// model), [`MlError::MissingValue`] for a missing value the model has no way to handle
    /// ([`OnnxModel::handles_missing_values`]), [`MlError::OnnxRuntime`] when the runtime
    /// fails, and [`MlError::InvalidProbability`] when an output is not a probability.
    pub fn predict_proba(&self, rows: &[&[f64]]) -> Result<Vec<f64>, MlError> {
        Ok(self.run(rows)?.into_iter().map(|[_, p]| p).collect())
    }

    /// The acceptance run on sample rows: as [`OnnxModel::predict_proba`], and also refuses an
    /// empty sample and rows whose two probabilities do not sum to one (an output that is not
    /// a probability distribution, e.g. raw scores).
    ///
    /// # Errors
    /// As [`OnnxModel::predict_proba`]; [`MlError::EmptyDataset`] without rows;
    /// [`MlError::InvalidProbability`] for the first row whose columns do not sum to one.
    pub fn check_samples(&self, rows: &[&[f64]]) -> Result<Vec<f64>, MlError> {
        if rows.is_empty() {
            return Err(MlError::EmptyDataset);
        }
        let pairs = self.run(rows)?;
        if let Some(index) = pairs
            .iter()
            .position(|[p0, p1]| (p0 + p1 - 1.0).abs() > PROBABILITY_SUM_TOLERANCE)
        {
            return Err(MlError::InvalidProbability { index });
        }
        Ok(pairs.into_iter().map(|[_, p]| p).collect())
    }

    /// [`OnnxModel::check_samples`], then compares with `expected`, the class-1 probabilities
    /// the training library gave for the same rows; refuses when any differs by more than
    /// `tolerance` (1e-5 suits float32 models).
    ///
    /// # Errors
    /// As [`OnnxModel::check_samples`]; [`MlError::LengthMismatch`] when `expected` is not one
    /// per row; [`MlError::ReferenceMismatch`] naming how many rows differ and the first.
    pub fn check_reference(
        &self,
        rows: &[&[f64]],
        expected: &[f64],
        tolerance: f64,
    ) -> Result<Vec<f64>, MlError> {
        if expected.len() != rows.len() {
            return Err(MlError::LengthMismatch {
                what: "expected probabilities",
                expected: rows.len(),
                found: expected.len(),
            });
        }
        let predicted = self.check_samples(rows)?;
        let differ: Vec<usize> = predicted
            .iter()
            .zip(expected)
            .enumerate()
            .filter(|(_, (p, e))| {
                let gap = (*p - *e).abs();
                gap.is_nan() || gap > tolerance
            })
            .map(|(i, _)| i)
            .collect();
        match differ.first() {
            None => Ok(predicted),
            Some(&first) => Err(MlError::ReferenceMismatch {
                rows: differ.len(),
                first,
            }),
        }
    }

    /// Explains one prediction without an exact attribution: for each feature, the change in
    /// log-odds when it alone is replaced by its reference value (e.g. the training median),
    /// `logit p(row) − logit p(row with feature j := reference[j])`. Positive values push the
    /// risk up compared with the reference. Sorted by decreasing magnitude (ties by index).
    ///
    /// One batch of `features + 1` rows; the terms need not add up to anything (interactions
    /// are counted in each feature they involve).
    ///
    /// # Errors
    /// [`MlError::FeatureCountMismatch`] when `row` or `reference` has the wrong length; as
    /// [`OnnxModel::predict_proba`].
    pub fn contributions_by_substitution(
        &self,
        row: &[f64],
        reference: &[f64],
    ) -> Result<Vec<(usize, f64)>, MlError> {
        let width = self.feature_names.len();
        for found in [row.len(), reference.len()] {
            if found != width {
                return Err(MlError::FeatureCountMismatch {
                    expected: width,
                    found,
                });
            }
        }
        let mut batch: Vec<Vec<f64>> = Vec::with_capacity(width + 1);
        batch.push(row.to_vec());
        for (j, &value) in reference.iter().enumerate() {
            let mut substituted = row.to_vec();
            substituted[j] = value;
            batch.push(substituted);
        }
        let views: Vec<&[f64]> = batch.iter().map(Vec::as_slice).collect();
        let p = self.predict_proba(&views)?;
        let actual = log_odds(p[0]);
        let mut terms: Vec<(usize, f64)> = p[1..]
            .iter()
            .enumerate()
            .map(|(j, &q)| (j, actual - log_odds(q)))
            .collect();
        terms.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        Ok(terms)
    }

    /// Both probability columns per row, checked to be probabilities.
    fn run(&self, rows: &[&[f64]]) -> Result<Vec<[f64; 2]>, MlError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        self.check_rows(rows)?;
        let (input, plan) = match (&self.trees, &self.plan) {
            (Some(trees), plan) => {
                let pairs = self.tree_probabilities(trees, rows)?;
                match plan {
                    None => return check_pairs(pairs),
                    Some(plan) => {
                        let flat: Vec<f32> = pairs.iter().flatten().map(|&p| p as f32).collect();
                        (tensor(&[rows.len(), 2], &flat)?, plan)
                    }
                }
            }
            (None, Some(plan)) => (self.input_tensor(rows)?, plan),
            (None, None) => {
                return Err(MlError::OnnxRuntime {
                    reason: "the model has nothing to run".into(),
                });
            }
        };
        let output = catch_unwind(AssertUnwindSafe(|| -> TractResult<Vec<f64>> {
            let outputs = plan.run(tvec![input.into()])?;
            let first = outputs
                .first()
                .ok_or_else(|| TractError::msg("no output"))?;
            Ok(first.cast_to::<f64>()?.as_slice::<f64>()?.to_vec())
        }));
        let Ok(Ok(output)) = output else {
            return Err(MlError::OnnxRuntime {
                reason: "the runtime failed on this batch".into(),
            });
        };
        if output.len() != 2 * rows.len() {
            return Err(MlError::OnnxRuntime {
                reason: format!(
                    "expected {} probabilities, the model returned {}",
                    2 * rows.len(),
                    output.len()
                ),
            });
        }
        check_pairs(output.chunks_exact(2).map(|c| [c[0], c[1]]).collect())
    }

    /// The probabilities of the tree ensemble evaluated by mhp-ml.
    fn tree_probabilities(
        &self,
        trees: &trees::TreeEnsemble,
        rows: &[&[f64]],
    ) -> Result<Vec<[f64; 2]>, MlError> {
        let f32_input = self.input == InputType::F32;
        rows.iter()
            .map(|row| {
                trees
                    .predict(row, f32_input)
                    .ok_or_else(|| MlError::OnnxRuntime {
                        reason: "a tree walk left the ensemble".into(),
                    })
            })
            .collect()
    }

    /// Every row has the schema's width, no infinity (nor a value beyond `f32` for a float32
    /// model), and no missing value unless the model handles them.
    fn check_rows(&self, rows: &[&[f64]]) -> Result<(), MlError> {
        let width = self.feature_names.len();
        for (r, row) in rows.iter().enumerate() {
            if row.len() != width {
                return Err(MlError::FeatureCountMismatch {
                    expected: width,
                    found: row.len(),
                });
            }
            let limit = match self.input {
                InputType::F32 => f64::from(f32::MAX),
                InputType::F64 => f64::MAX,
            };
            if let Some(feature) = row.iter().position(|v| v.abs() > limit) {
                return Err(MlError::InfiniteFeature { row: r, feature });
            }
            let missing = if self.handles_missing {
                None
            } else {
                row.iter().position(|v| v.is_nan())
            };
            if let Some(feature) = missing {
                return Err(MlError::MissingValue { row: r, feature });
            }
        }
        Ok(())
    }

    /// The rows (checked) as the model's input tensor, `[rows, features]`.
    fn input_tensor(&self, rows: &[&[f64]]) -> Result<Tensor, MlError> {
        let shape = [rows.len(), self.feature_names.len()];
        match self.input {
            InputType::F64 => {
                let values: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
                tensor(&shape, &values)
            }
            InputType::F32 => {
                let values: Vec<f32> = rows
                    .iter()
                    .flat_map(|r| r.iter().map(|&v| v as f32))
                    .collect();
                tensor(&shape, &values)
            }
        }
    }
}

fn tensor<T: tract_onnx::prelude::Datum + Copy>(
    shape: &[usize],
    values: &[T],
) -> Result<Tensor, MlError> {
    Tensor::from_shape(shape, values).map_err(|_| MlError::OnnxRuntime {
        reason: "could not build the input tensor".into(),
    })
}

/// Both columns of every row must be probabilities.
fn check_pairs(pairs: Vec<[f64; 2]>) -> Result<Vec<[f64; 2]>, MlError> {
    let probability = |v: f64| (0.0..=1.0).contains(&v);
    match pairs
        .iter()
        .position(|[p0, p1]| !(probability(*p0) && probability(*p1)))
    {
        Some(index) => Err(MlError::InvalidProbability { index }),
        None => Ok(pairs),
    }
}

/// The error for a refused file.
fn refuse(reason: impl Into<String>) -> MlError {
    MlError::InvalidOnnx {
        reason: reason.into(),
    }
}

fn check_schema(feature_names: &[String]) -> Result<(), MlError> {
    if feature_names.is_empty() {
        return Err(MlError::NoFeatures);
    }
    let mut seen = std::collections::BTreeSet::new();
    for name in feature_names {
        if !seen.insert(name.as_str()) {
            return Err(MlError::DuplicateFeature(name.clone()));
        }
    }
    Ok(())
}

fn decode(bytes: &[u8]) -> Result<ModelProto, MlError> {
    let mut reader = bytes;
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut reader)
        .map_err(|_| refuse("the file is not an ONNX model (protobuf decoding failed)"))?;
    Ok(proto)
}

/// Runs a tract call, turning its error, or a panic inside it, into a refusal with `reason`.
/// tract is written for trusted models; the checks before it should leave nothing to panic on,
/// and this keeps a missed case from taking a server thread down. tract's own messages are not
/// passed on: they quote node names from the file.
fn guarded<T>(reason: &'static str, f: impl FnOnce() -> TractResult<T>) -> Result<T, MlError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) | Err(_) => Err(refuse(reason)),
    }
}

/// Builds tract's plan: the input made `[N, width]` with a symbolic batch, types and shapes
/// inferred, the graph optimised; the output checked to be `[N, 2]` floats.
fn prepare(
    proto: &ModelProto,
    input: InputType,
    width: usize,
) -> Result<TypedRunnableModel<TypedModel>, MlError> {
    let model = guarded("the runtime could not read the graph", || {
        let mut onnx = tract_onnx::onnx();
        onnx.provider = Arc::new(NoExternalData);
        onnx.model_for_proto_model(proto)
    })?;
    let typed = guarded(
        "the runtime could not infer types and shapes for a [batch, features] input",
        || {
            let batch = model.sym("N");
            let datum = match input {
                InputType::F32 => DatumType::F32,
                InputType::F64 => DatumType::F64,
            };
            let fact = InferenceFact::dt_shape(datum, tvec![batch.to_dim(), width.to_dim()]);
            model
                .with_input_fact(0, fact)?
                .with_output_fact(0, InferenceFact::default())?
                .into_typed()
        },
    )?;
    check_output(typed.output_fact(0).ok())?;
    let optimised = guarded("the runtime could not optimise the graph", || {
        typed.into_optimized()
    })?;
    guarded("the runtime could not plan the graph", || {
        optimised.into_runnable()
    })
}

fn check_output(fact: Option<&TypedFact>) -> Result<(), MlError> {
    let Some(fact) = fact else {
        return Err(refuse("the graph has no output"));
    };
    let float = matches!(fact.datum_type, DatumType::F32 | DatumType::F64);
    let two = fact.rank() == 2 && fact.shape[1] == 2.to_dim();
    if float && two {
        Ok(())
    } else {
        Err(refuse("the probability output is not [batch, 2] floats"))
    }
}

/// Refuses every read of data outside the file. The graph checks already refuse such
/// references; this keeps tract from reading the server's disk if one slipped through.
struct NoExternalData;

impl ModelDataResolver for NoExternalData {
    fn read_bytes_from_path(
        &self,
        _buf: &mut Vec<u8>,
        _path: &Path,
        _offset: usize,
        _length: Option<usize>,
    ) -> TractResult<()> {
        Err(TractError::msg("external data is not read"))
    }
}

fn log_odds(p: f64) -> f64 {
    let p = p.clamp(LOG_ODDS_CLAMP, 1.0 - LOG_ODDS_CLAMP);
    (p / (1.0 - p)).ln()
}
