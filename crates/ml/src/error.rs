//! The one error type of the crate.

use thiserror::Error;

/// What went wrong while building a dataset, training, predicting or evaluating.
///
/// Messages name positions and parameters, never feature values: a row may describe a person.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MlError {
    /// A dataset needs at least one feature.
    #[error("a dataset needs at least one feature")]
    NoFeatures,
    /// Two features share a name.
    #[error("feature name {0:?} appears more than once")]
    DuplicateFeature(String),

    /// A feature name the dataset does not have.
    #[error("the dataset has no feature {0:?}")]
    UnknownFeature(String),
    /// A row has a missing value and the model has no way to handle one.
    #[error("row {row}, feature {feature}: missing value, which this model cannot handle")]
    MissingValue {
        /// Index of the offending row.
        row: usize,
        /// Index of the offending feature.
        feature: usize,
    },
    /// A row has a different number of values than there are features.
    #[error("row {row} has {found} values, expected {expected}")]
    RaggedRow {
        /// Index of the offending row.
        row: usize,
        /// Number of features of the dataset.
        expected: usize,
        /// Number of values in the row.
        found: usize,
    },
    /// A feature value is infinite (missing values are `NaN`; infinities are refused).
    #[error("row {row}, feature {feature}: value is infinite")]
    InfiniteFeature {
        /// Index of the offending row.
        row: usize,
        /// Index of the offending feature.
        feature: usize,
    },
    /// A row carries the same group key twice.
    #[error("row {row} carries group key {key:?} twice")]
    DuplicateGroupKey {
        /// Index of the offending row.
        row: usize,
        /// The repeated key.
        key: String,
    },
    /// Parallel inputs (rows, labels, times, predictions) differ in length.
    #[error("{what}: expected {expected} entries, found {found}")]
    LengthMismatch {
        /// Which input is short or long.
        what: &'static str,
        /// The length it should have.
        expected: usize,
        /// The length it has.
        found: usize,
    },
    /// There are no rows to train or evaluate on.
    #[error("the dataset is empty")]
    EmptyDataset,
    /// Every training label is the same, so there is nothing to separate.
    #[error("every training label is {label}; a classifier needs both classes")]
    SingleClass {
        /// The one label present.
        label: bool,
    },
    /// A time split needs at least two distinct times.
    #[error("a time split needs at least two distinct times, found {0}")]
    TooFewTimes(usize),
    /// A fraction outside the open interval (0, 1).
    #[error("fraction must lie strictly between 0 and 1, got {0}")]
    InvalidFraction(f64),
    /// A model hyper-parameter is out of range.
    #[error("invalid model parameter {name}: {expected}")]
    InvalidParameter {
        /// The parameter's name as in [`crate::ModelConfig`].
        name: &'static str,
        /// What the parameter must be.
        expected: &'static str,
    },
    /// A row passed to a model has the wrong number of features.
    #[error("the model expects {expected} features, the row has {found}")]
    FeatureCountMismatch {
        /// Number of features the model was trained on.
        expected: usize,
        /// Number of values in the row.
        found: usize,
    },
    /// A dataset's feature names differ from the model's.
    #[error("the dataset's features differ from the model's at position {position}")]
    FeatureNamesMismatch {
        /// First position where the names differ (or where one list ends).
        position: usize,
    },
    /// A prediction is not a probability in [0, 1].
    #[error("prediction {index} is not a probability in [0, 1]")]
    InvalidProbability {
        /// Index of the offending prediction.
        index: usize,
    },
    /// A deserialised model is internally inconsistent (e.g. a tree points outside itself).
    #[error("malformed model: {0}")]
    MalformedModel(&'static str),
    /// The Newton system of the logistic fit could not be solved.
    #[error("logistic regression: the Newton system is numerically singular")]
    SingularSystem,
    /// A model artifact is not valid JSON for a [`crate::Model`].
    #[error("model artifact: {0}")]
    Artifact(String),
    /// An ONNX file was refused at import: unreadable, unsupported, or not matching its schema.
    /// The reason names counts, positions and operator types, never content of the file.
    #[error("ONNX model refused: {reason}")]
    InvalidOnnx {
        /// Why, for the person who uploaded it.
        reason: String,
    },
    /// The ONNX runtime failed while predicting.
    #[error("ONNX model failed to run: {reason}")]
    OnnxRuntime {
        /// What failed (never a row value).
        reason: String,
    },
    /// Predictions differ from the reference the training library gave for the same rows.
    #[error(
        "{rows} predictions differ from the reference beyond the tolerance, the first at row {first}"
    )]
    ReferenceMismatch {
        /// How many rows differ.
        rows: usize,
        /// Index of the first row that differs.
        first: usize,
    },
}
