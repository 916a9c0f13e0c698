//! The stored artifact and the explanations computed from it.

use mhp_ml::{MlError, Model, ModelConfig, synth};

use crate::boosting;

/// Both kinds of model trained on the same injury-like data (with missing values).
fn models() -> (Vec<Model>, mhp_ml::Dataset) {
    let sample = synth::injury_like(3_000, 8, 0.1, 12).unwrap();
    let models = vec![
        Model::fit(&ModelConfig::logistic(), &sample.data).unwrap(),
        Model::fit(&boosting(3, 0.8), &sample.data).unwrap(),
    ];
    (models, sample.data)
}

#[test]
fn json_round_trip_predicts_identically() {
    let (models, data) = models();
    for model in models {
        let json = model.to_json().unwrap();
        let back = Model::from_json(&json).unwrap();
        assert_eq!(back, model);
        assert_eq!(back.to_json().unwrap(), json);
        assert_eq!(back.feature_names(), data.feature_names());
        for row in data.rows().take(500) {
            let a = model.predict_proba(row).unwrap();
            let b = back.predict_proba(row).unwrap();
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }
}

#[test]
fn contributions_add_up_to_the_log_odds() {
    let (models, data) = models();
    let mut nan_rows = 0;
    for (kind, model) in models.iter().enumerate() {
        let baseline = model.baseline().unwrap();
        for row in data.rows().take(1_000) {
            nan_rows += usize::from(row.iter().any(|v| v.is_nan()));
            let contributions = model.contributions(row).unwrap();
            assert_eq!(contributions.len(), data.n_features());
            assert!(contributions.iter().enumerate().all(|(i, (j, _))| i == *j));
            let total = contributions.iter().fold(baseline, |acc, (_, c)| acc + c);
            let log_odds = model.predict_log_odds(row).unwrap();
            if kind == 0 {
                // Logistic: the same sum in the same order, so exactly equal.
                assert_eq!(total.to_bits(), log_odds.to_bits());
            } else {
                assert!((total - log_odds).abs() < 1e-9, "{total} vs {log_odds}");
            }
        }
    }
    assert!(nan_rows > 100, "the rows should include missing values");
}

#[test]
fn path_attribution_credits_only_the_features_on_the_path() {
    let (models, _) = models();
    let trees = &models[1];
    // Features x8.. do not exist; x4..x7 carry small effects, noise features none: with a
    // row of zeros the credited features are at most those the trees split on.
    let row = [0.0; 8];
    let c = trees.contributions(&row).unwrap();
    let total: f64 = c.iter().map(|(_, v)| v.abs()).sum();
    assert!(total > 0.0);
    // The strongest effect in the generator (x0, x1, x2·x3) dominates an extreme row.
    let extreme = [3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let top = trees.top_contributions(&extreme, 1).unwrap();
    assert_eq!(top[0].0, 0);
    assert!(top[0].1 > 0.0);
}

#[test]
fn top_contributions_are_the_largest_by_absolute_value() {
    let (models, data) = models();
    for model in &models {
        for row in data.rows().take(50) {
            let all = model.contributions(row).unwrap();
            let top = model.top_contributions(row, 3).unwrap();
            assert!(top.len() <= 3);
            assert!(top.windows(2).all(|w| w[0].1.abs() >= w[1].1.abs()));
            let smallest_kept = top.last().map_or(0.0, |t| t.1.abs());
            let kept: Vec<usize> = top.iter().map(|t| t.0).collect();
            for (j, v) in &all {
                if kept.contains(j) {
                    assert_eq!(all[*j].1, *v);
                } else {
                    assert!(v.abs() <= smallest_kept);
                }
            }
        }
        assert!(
            model
                .top_contributions(data.row(0).unwrap(), 0)
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn corrupted_artifacts_are_refused() {
    let (models, _) = models();
    let json = models[1].to_json().unwrap();
    assert!(matches!(
        Model::from_json(&json[..json.len() / 2]),
        Err(MlError::Artifact(_))
    ));
    assert!(matches!(
        Model::from_json(r#"{"kind": "random_forest"}"#),
        Err(MlError::Artifact(_))
    ));
    // A child link pointing far outside its tree.
    let broken = json.replacen("\"right\":", "\"right\":4000000,\"ignored\":", 1);
    assert!(Model::from_json(&broken).is_err());
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["trees"][0]["nodes"][0]["split"]["right"] = 4_000_000.into();
    assert!(matches!(
        Model::from_json(&value.to_string()),
        Err(MlError::MalformedModel(_))
    ));
    // A child link pointing back to the root (a cycle).
    value["trees"][0]["nodes"][0]["split"]["right"] = 0.into();
    assert!(matches!(
        Model::from_json(&value.to_string()),
        Err(MlError::MalformedModel(_))
    ));
    // A split on a feature the model does not have.
    value["trees"][0]["nodes"][0]["split"]["right"] = 2.into();
    value["trees"][0]["nodes"][0]["split"]["feature"] = 99.into();
    assert!(matches!(
        Model::from_json(&value.to_string()),
        Err(MlError::MalformedModel(_))
    ));

    let logistic = models[0].to_json().unwrap();
    let short = logistic.replacen("\"weights\":[", "\"weights\":[0.5,", 1);
    assert!(matches!(
        Model::from_json(&short),
        Err(MlError::MalformedModel(_))
    ));
}

#[test]
fn configs_read_from_settings_and_refuse_unknown_fields() {
    let json = r#"{"model": "gradient_boosting", "n_trees": 10, "learning_rate": 0.3,
        "max_depth": 2, "min_samples_leaf": 5, "subsample": 0.5, "n_bins": 16,
        "seed": 7, "l2": 0.0}"#;
    let config: ModelConfig = serde_json::from_str(json).unwrap();
    assert!(matches!(
        config,
        ModelConfig::GradientBoosting {
            n_trees: 10,
            seed: 7,
            ..
        }
    ));
    assert!(config.validate().is_ok());
    let typo = r#"{"model": "logistic", "l2": 1.0, "max_iter": 10, "tol": 1e-6, "C": 1}"#;
    assert!(serde_json::from_str::<ModelConfig>(typo).is_err());
    let back: ModelConfig =
        serde_json::from_str(&serde_json::to_string(&ModelConfig::gradient_boosting()).unwrap())
            .unwrap();
    assert_eq!(back, ModelConfig::gradient_boosting());
}
