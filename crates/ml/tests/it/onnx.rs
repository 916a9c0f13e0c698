//! ONNX import: models exported from scikit-learn, LightGBM and XGBoost (fixtures written by
//! `tools/ml/make_onnx_fixtures.py`) against the training libraries' own predictions, and the
//! files MHP must refuse.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mhp_ml::MlError;
use mhp_ml::onnx::{InputType, MAX_ONNX_BYTES, OnnxModel, Rewrite};
use serde::Deserialize;

/// float32 inference against the libraries' float64 predictions.
const TOLERANCE: f64 = 1e-5;

#[derive(Deserialize)]
struct Reference {
    features: Vec<String>,
    training_medians: Vec<f64>,
    rows: Vec<Vec<f64>>,
    library: BTreeMap<String, Vec<f64>>,
    onnxruntime: BTreeMap<String, Vec<f64>>,
    rows_missing: Vec<Vec<Option<f64>>>,
    library_missing: BTreeMap<String, Vec<f64>>,
    logistic_raw: LogisticRaw,
}

#[derive(Deserialize)]
struct LogisticRaw {
    weights: Vec<f64>,
}

#[derive(Deserialize)]
struct Schema {
    features: Vec<String>,
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/onnx")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn reference() -> Reference {
    serde_json::from_slice(&fixture("reference.json")).unwrap()
}

fn schema() -> Vec<String> {
    let schema: Schema = serde_json::from_slice(&fixture("schema.json")).unwrap();
    schema.features
}

fn load(name: &str) -> Result<OnnxModel, MlError> {
    OnnxModel::from_bytes(&fixture(&format!("{name}.onnx")), schema())
}

fn rows(reference: &Reference) -> Vec<&[f64]> {
    reference.rows.iter().map(Vec::as_slice).collect()
}

fn refusal(result: Result<OnnxModel, MlError>) -> String {
    match result {
        Err(MlError::InvalidOnnx { reason }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The rows with missing values, `NaN` for JSON's null.
fn rows_missing(reference: &Reference) -> Vec<Vec<f64>> {
    reference
        .rows_missing
        .iter()
        .map(|row| row.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        .collect()
}

/// Largest absolute gap between the model's predictions and the library's.
fn largest_gap(name: &str) -> f64 {
    let reference = reference();
    gap(name, &rows(&reference), &reference.library[name])
}

/// Largest gap on the rows with missing values.
fn largest_gap_missing(name: &str) -> f64 {
    let reference = reference();
    let rows = rows_missing(&reference);
    let views: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
    assert!(views.iter().any(|r| r.iter().any(|v| v.is_nan())));
    gap(name, &views, &reference.library_missing[name])
}

fn gap(name: &str, rows: &[&[f64]], expected: &[f64]) -> f64 {
    let model = load(name).unwrap();
    let predicted = model.check_samples(rows).unwrap();
    assert_eq!(predicted.len(), expected.len());
    predicted
        .iter()
        .zip(expected)
        .map(|(p, e)| (p - e).abs())
        .fold(0.0, f64::max)
}

#[test]
fn schema_fixture_matches_the_reference() {
    assert_eq!(schema(), reference().features);
    assert_eq!(reference().rows.len(), 300);
}

#[test]
fn logistic_pipeline_matches_scikit_learn() {
    let gap = largest_gap("logistic");
    assert!(gap < TOLERANCE, "largest gap {gap:e}");
    let model = load("logistic").unwrap();
    assert_eq!(
        model.rewrites(),
        [Rewrite::Scaler, Rewrite::LinearClassifier]
    );
    assert_eq!(model.input_type(), InputType::F32);
    assert_eq!(model.feature_names(), schema());
    assert!(!model.handles_missing_values());
}

#[test]
fn logistic_with_imputer_matches_scikit_learn_with_and_without_missing_values() {
    let gap = largest_gap("logistic_imputed");
    assert!(gap < TOLERANCE, "largest gap {gap:e}");
    let gap = largest_gap_missing("logistic_imputed");
    assert!(gap < TOLERANCE, "largest gap with missing values {gap:e}");
    let model = load("logistic_imputed").unwrap();
    assert_eq!(
        model.rewrites(),
        [Rewrite::Scaler, Rewrite::Imputer, Rewrite::LinearClassifier]
    );
    assert!(model.handles_missing_values());
}

#[test]
fn gradient_boosting_matches_scikit_learn() {
    let gap = largest_gap("sklearn_gbc");
    assert!(gap < TOLERANCE, "largest gap {gap:e}");
    assert_eq!(
        load("sklearn_gbc").unwrap().rewrites(),
        [Rewrite::TreesInMhp]
    );
}

#[test]
fn trees_behind_a_scaler_run_in_tract_and_match_onnxruntime() {
    // A float32 Scaler before the trees moves a value across a threshold now and then, in any
    // ONNX runtime: onnxruntime differs from scikit-learn on one row of 300 by 0.04.
    let reference = reference();
    let rows = rows(&reference);
    let gap_to_ort = gap("scaled_gbc", &rows, &reference.onnxruntime["scaled_gbc"]);
    assert!(
        gap_to_ort < TOLERANCE,
        "largest gap to onnxruntime {gap_to_ort:e}"
    );
    let predicted = load("scaled_gbc").unwrap().predict_proba(&rows).unwrap();
    let differ = predicted
        .iter()
        .zip(&reference.library["scaled_gbc"])
        .filter(|(p, e)| (*p - *e).abs() > TOLERANCE)
        .count();
    assert!(differ <= 1, "{differ} rows differ from scikit-learn");
    // The ensemble reads the Scaler's output, not the input: tract evaluates it, with the
    // single base value widened for it.
    let model = load("scaled_gbc").unwrap();
    assert_eq!(model.rewrites(), [Rewrite::Scaler, Rewrite::TreeBaseValues]);
    assert!(model.handles_missing_values());
}

#[test]
fn lightgbm_matches_lightgbm() {
    let gap = largest_gap("lightgbm");
    assert!(gap < TOLERANCE, "largest gap {gap:e}");
    let gap = largest_gap_missing("lightgbm");
    assert!(gap < TOLERANCE, "largest gap with missing values {gap:e}");
    let model = load("lightgbm").unwrap();
    assert_eq!(model.rewrites(), [Rewrite::TreesInMhp]);
    assert!(model.handles_missing_values());
}

#[test]
fn xgboost_matches_xgboost() {
    let gap = largest_gap("xgboost");
    assert!(gap < TOLERANCE, "largest gap {gap:e}");
    let gap = largest_gap_missing("xgboost");
    assert!(gap < TOLERANCE, "largest gap with missing values {gap:e}");
    let model = load("xgboost").unwrap();
    assert_eq!(model.rewrites(), [Rewrite::TreesInMhp]);
    assert!(model.handles_missing_values());
}

#[test]
fn random_forest_probabilities_match_scikit_learn() {
    let gap = largest_gap("random_forest");
    assert!(gap < TOLERANCE, "largest gap {gap:e}");
    assert_eq!(
        load("random_forest").unwrap().rewrites(),
        [Rewrite::TreesInMhp]
    );
}

#[test]
fn check_reference_accepts_the_library_and_flags_a_change() {
    let reference = reference();
    let model = load("sklearn_gbc").unwrap();
    let rows = rows(&reference);
    let expected = &reference.library["sklearn_gbc"];
    assert!(model.check_reference(&rows, expected, TOLERANCE).is_ok());

    let mut shifted = expected.clone();
    shifted[7] += 0.01;
    shifted[9] -= 0.01;
    assert_eq!(
        model.check_reference(&rows, &shifted, TOLERANCE),
        Err(MlError::ReferenceMismatch { rows: 2, first: 7 })
    );
    assert!(matches!(
        model.check_reference(&rows, &expected[1..], TOLERANCE),
        Err(MlError::LengthMismatch { .. })
    ));
}

#[test]
fn batches_and_single_rows_agree() {
    let reference = reference();
    let model = load("lightgbm").unwrap();
    let batch = model.predict_proba(&rows(&reference)).unwrap();
    for (i, row) in reference.rows.iter().enumerate().take(20) {
        let one = model.predict_proba(&[row.as_slice()]).unwrap();
        assert_eq!(one, [batch[i]]);
    }
    assert_eq!(model.predict_proba(&[]).unwrap(), Vec::<f64>::new());
    assert_eq!(
        model.check_samples(&[]),
        Err(MlError::EmptyDataset),
        "an acceptance run needs rows"
    );
}

#[test]
fn rows_are_checked_before_they_run() {
    let model = load("logistic").unwrap();
    let short = [1.0, 2.0];
    assert_eq!(
        model.predict_proba(&[&short]),
        Err(MlError::FeatureCountMismatch {
            expected: 6,
            found: 2
        })
    );
    let huge = [38.0, 0.0, 1e300, 1.0, 12.0, 0.0];
    assert_eq!(
        model.predict_proba(&[&huge]),
        Err(MlError::InfiniteFeature { row: 0, feature: 2 })
    );
}

#[test]
fn a_model_without_a_way_to_handle_missing_values_is_refused_them() {
    // tract's sigmoid turns NaN into a probability near 0; the rows must not reach it.
    let complete = [38.0, 1.0, 4.0, 1.1, 12.0, 0.0];
    let missing = [38.0, f64::NAN, 4.0, 1.1, 12.0, 0.0];
    assert_eq!(
        load("logistic")
            .unwrap()
            .predict_proba(&[&complete, &missing]),
        Err(MlError::MissingValue { row: 1, feature: 1 })
    );
    // Trees read the input directly: a missing value takes the branch the export names.
    assert!(load("sklearn_gbc").unwrap().handles_missing_values());
}

#[test]
fn contributions_of_the_logistic_model_are_its_weights_times_the_change() {
    let reference = reference();
    let model = load("logistic").unwrap();
    let row = &reference.rows[3];
    let medians = &reference.training_medians;
    let terms = model.contributions_by_substitution(row, medians).unwrap();
    assert_eq!(terms.len(), 6);
    let mut features: Vec<usize> = terms.iter().map(|(j, _)| *j).collect();
    features.sort_unstable();
    assert_eq!(features, [0, 1, 2, 3, 4, 5]);
    assert!(
        terms.windows(2).all(|w| w[0].1.abs() >= w[1].1.abs()),
        "sorted by magnitude"
    );
    // Linear in log-odds: replacing x_j by m_j changes them by w_j (x_j − m_j) exactly.
    for (j, value) in terms {
        let expected = reference.logistic_raw.weights[j] * (row[j] - medians[j]);
        assert!(
            (value - expected).abs() < 1e-4,
            "feature {j}: {value} vs {expected}"
        );
    }
}

#[test]
fn contributions_have_the_sign_of_the_risk() {
    let reference = reference();
    let model = load("sklearn_gbc").unwrap();
    let medians = reference.training_medians.clone();
    let acwr = 3;
    let mut spiked = medians.clone();
    spiked[acwr] = 2.2;
    let terms = model
        .contributions_by_substitution(&spiked, &medians)
        .unwrap();
    let (top, value) = terms[0];
    assert_eq!(top, acwr, "{terms:?}");
    assert!(value > 0.0, "a load spike raises the risk: {terms:?}");
    assert!(terms[1..].iter().all(|(_, v)| *v == 0.0), "{terms:?}");

    let at_reference = model
        .contributions_by_substitution(&medians, &medians)
        .unwrap();
    assert!(at_reference.iter().all(|(_, v)| *v == 0.0));
    assert!(matches!(
        model.contributions_by_substitution(&medians, &medians[1..]),
        Err(MlError::FeatureCountMismatch { .. })
    ));
}

#[test]
fn the_model_is_shared_across_threads() {
    let reference = reference();
    let model = load("sklearn_gbc").unwrap();
    let expected = model.predict_proba(&rows(&reference)).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let model = model.clone();
            let reference = &reference;
            let expected = &expected;
            scope.spawn(move || {
                let again = model.predict_proba(&rows(reference)).unwrap();
                assert_eq!(&again, expected);
            });
        }
    });
}

#[test]
fn garbage_and_truncated_files_are_refused() {
    let reason = refusal(load("truncated"));
    assert!(reason.contains("not an ONNX model"), "{reason}");
    let reason = refusal(OnnxModel::from_bytes(b"hello, not a model", schema()));
    assert!(
        reason.contains("not an ONNX model") || reason.contains("no graph"),
        "{reason}"
    );
    let reason = refusal(OnnxModel::from_bytes(&[], schema()));
    assert!(reason.contains("no graph"), "{reason}");
    let reason = refusal(OnnxModel::from_bytes(
        &vec![0; MAX_ONNX_BYTES + 1],
        schema(),
    ));
    assert!(reason.contains("more than"), "{reason}");
}

#[test]
fn a_model_of_another_width_is_refused() {
    let reason = refusal(load("wrong_width"));
    assert_eq!(reason, "the model takes 5 features, the schema names 6");
}

#[test]
fn a_schema_of_another_length_is_refused() {
    let mut longer = schema();
    longer.push("extra_feature".into());
    let reason = refusal(OnnxModel::from_bytes(&fixture("lightgbm.onnx"), longer));
    assert_eq!(reason, "the model takes 6 features, the schema names 7");
    let shorter = schema()[..5].to_vec();
    let reason = refusal(OnnxModel::from_bytes(&fixture("logistic.onnx"), shorter));
    assert_eq!(reason, "the model takes 6 features, the schema names 5");
    assert_eq!(
        OnnxModel::from_bytes(&fixture("logistic.onnx"), vec![]).map(|_| ()),
        Err(MlError::NoFeatures)
    );
    let mut twice = schema();
    twice[5] = twice[0].clone();
    assert!(matches!(
        OnnxModel::from_bytes(&fixture("logistic.onnx"), twice),
        Err(MlError::DuplicateFeature(_))
    ));
}

#[test]
fn zipmap_is_refused_with_the_export_option_to_use() {
    let reason = refusal(load("zipmap"));
    assert!(reason.contains("zipmap=False"), "{reason}");
}

#[test]
fn three_classes_are_refused() {
    let reason = refusal(load("three_classes"));
    assert!(reason.contains("3 classes"), "{reason}");
}

#[test]
fn external_data_is_refused_without_reading_it() {
    let reason = refusal(load("external_data"));
    assert!(reason.contains("external data"), "{reason}");
    assert!(!reason.contains("Cargo.toml"), "{reason}");
}

#[test]
fn malformed_trees_are_refused_before_tract_walks_them() {
    let reason = refusal(load("tree_cycle"));
    assert!(reason.contains("not a tree"), "{reason}");
    let reason = refusal(load("tree_bad_class"));
    assert!(reason.contains("class outside the two"), "{reason}");
}

#[test]
fn errors_never_quote_the_file() {
    for name in [
        "truncated",
        "wrong_width",
        "zipmap",
        "three_classes",
        "external_data",
        "tree_cycle",
        "tree_bad_class",
    ] {
        let message = load(name).unwrap_err().to_string();
        for quoted in ["Cargo.toml", "proba_output", "variable", "label"] {
            assert!(!message.contains(quoted), "{name}: {message}");
        }
    }
}
